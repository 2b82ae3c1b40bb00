// The one file that includes c10d (compiled with USE_C10D_GLOO and USE_DISTRIBUTED; see CMakeLists.txt).
#include "train/distributed.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/torch.h>

#include <charconv>
#include <cstdlib>
#include <optional>

namespace stilts::train {

namespace {

// The whole of `text` as an integer, or false.
bool parse_int(const std::string& text, int64_t& value) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc() && ptr == end;
}

std::string first_line(const std::string& text) {
  const size_t end = text.find('\n');
  return end == std::string::npos ? text : text.substr(0, end);
}

bool is_loopback(const std::string& addr) {
  return addr == "localhost" || addr == "::1" || addr.rfind("127.", 0) == 0;
}

}  // namespace

RankContext rank_context_from(const std::function<const char*(const char*)>& get) {
  auto var = [&](const char* name) -> std::optional<std::string> {
    const char* v = get(name);
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
  auto integer = [&](const char* name, const std::string& text, const std::string& expected) {
    int64_t value = 0;
    if (!parse_int(text, value)) input_error(name, "='", text, "': expected ", expected);
    return value;
  };
  const auto rank_text = var("RANK"), world_text = var("WORLD_SIZE");
  RankContext c;
  if (!rank_text && !world_text) return c;
  const char* hint = " (set by torchrun or stilts launch: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT)";
  if (!world_text) input_error("RANK is set but WORLD_SIZE is not: expected both", hint);
  if (!rank_text) input_error("WORLD_SIZE is set but RANK is not: expected both", hint);
  const int64_t world = integer("WORLD_SIZE", *world_text, "an integer >= 1 (the number of ranks)");
  if (world < 1 || world > 65536) input_error("WORLD_SIZE='", *world_text, "': expected an integer >= 1 (the number of ranks)");
  const int64_t rank = integer("RANK", *rank_text, "an integer in [0, WORLD_SIZE)");
  if (rank < 0 || rank >= world) {
    input_error("RANK='", *rank_text, "': expected an integer in [0, WORLD_SIZE) = [0, ", world, ")");
  }
  c.world_size = static_cast<int>(world);
  c.rank = static_cast<int>(rank);
  c.local_rank = c.rank;
  if (const auto local = var("LOCAL_RANK")) {
    const int64_t l = integer("LOCAL_RANK", *local, "an integer >= 0 (this rank's index on its machine)");
    if (l < 0 || l >= world) input_error("LOCAL_RANK='", *local, "': expected an integer in [0, WORLD_SIZE) = [0, ", world, ")");
    c.local_rank = static_cast<int>(l);
  }
  if (c.world_size == 1) return c;
  const auto addr = var("MASTER_ADDR");
  if (!addr || addr->empty()) {
    input_error("MASTER_ADDR is not set: expected the host name or address of rank 0's rendezvous", hint);
  }
  c.master_addr = *addr;
  const auto port = var("MASTER_PORT");
  if (!port) input_error("MASTER_PORT is not set: expected the TCP port of rank 0's rendezvous (1..65535)", hint);
  const int64_t p = integer("MASTER_PORT", *port, "a TCP port number in 1..65535");
  if (p < 1 || p > 65535) input_error("MASTER_PORT='", *port, "': expected a TCP port number in 1..65535");
  c.master_port = static_cast<int>(p);
  return c;
}

RankContext rank_context_from_environment() {
  return rank_context_from([](const char* name) { return std::getenv(name); });
}

std::chrono::milliseconds distributed_timeout_from_environment() {
  const char* v = std::getenv("STILTS_DIST_TIMEOUT");
  if (v == nullptr) return std::chrono::minutes(30);
  char* end = nullptr;
  const double seconds = std::strtod(v, &end);
  if (end == v || *end != '\0' || !(seconds > 0)) {
    input_error("STILTS_DIST_TIMEOUT='", v, "': expected a number of seconds > 0");
  }
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

struct ProcessGroup::Impl {
  int rank = 0, world_size = 1, local_rank = 0;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;

  // Runs a c10d call; its failure becomes a DistributedError naming this rank and `what`.
  template <typename F>
  void guarded(const std::string& what, F&& f) {
    std::string message;
    try {
      f();
      return;
    } catch (const c10::Error& e) {
      message = e.what_without_backtrace();
    } catch (const std::exception& e) {
      message = e.what();
    }
    throw DistributedError(detail::concat(
        "rank ", rank, " of ", world_size, ": ", what, " failed: ", first_line(message),
        ". Another rank probably exited (see its own message) or stopped responding within the timeout "
        "(STILTS_DIST_TIMEOUT); the job cannot continue: rerun it with --resume"));
  }

  void wait_all(const std::string& what, std::vector<c10::intrusive_ptr<c10d::Work>>& works) {
    guarded(what, [&] {
      for (auto& w : works) w->wait();
    });
  }
};

ProcessGroup::ProcessGroup(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProcessGroup::~ProcessGroup() = default;

std::shared_ptr<ProcessGroup> ProcessGroup::connect(const RankContext& context, std::chrono::milliseconds timeout) {
  STILTS_CHECK(context.distributed(), "a process group needs world_size > 1, got ", context.world_size);
  auto impl = std::make_unique<Impl>();
  impl->rank = context.rank;
  impl->world_size = context.world_size;
  impl->local_rank = context.local_rank;
  const std::string where = context.master_addr + ":" + std::to_string(context.master_port);
  impl->guarded("the rendezvous at " + where + " (TCPStore)", [&] {
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(context.master_port);
    options.isServer = context.rank == 0;
    options.numWorkers = static_cast<size_t>(context.world_size);
    options.waitWorkers = true;
    options.timeout = timeout;
    impl->store = c10::make_intrusive<c10d::TCPStore>(context.master_addr, options);
  });
  impl->guarded("joining the Gloo process group via " + where, [&] {
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname != nullptr && *ifname != '\0') {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else if (is_loopback(context.master_addr)) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
      options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    options->threads = 2;
    impl->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, context.rank, context.world_size, options);
  });
  return std::shared_ptr<ProcessGroup>(new ProcessGroup(std::move(impl)));
}

int ProcessGroup::rank() const { return impl_->rank; }
int ProcessGroup::world_size() const { return impl_->world_size; }

int ProcessGroup::local_rank() const { return impl_->local_rank; }

namespace {

// Gloo's collectives run on host memory: each tensor itself when it is on the CPU, else a CPU copy of it
// (a GPU's), which write_back() copies into the original once the collective has finished.
class OnHost {
 public:
  explicit OnHost(std::vector<torch::Tensor>& tensors) : originals_(tensors) {
    for (const auto& t : tensors) host_.push_back(t.is_cpu() ? t : t.to(torch::kCPU));
  }
  std::vector<at::Tensor> one(size_t i) const { return {host_[i]}; }
  size_t size() const { return host_.size(); }
  void write_back() {
    for (size_t i = 0; i < host_.size(); ++i) {
      if (!originals_[i].is_cpu()) originals_[i].copy_(host_[i]);
    }
  }

 private:
  std::vector<torch::Tensor>& originals_;
  std::vector<torch::Tensor> host_;
};

}  // namespace

void ProcessGroup::all_reduce_sum(std::vector<torch::Tensor>& tensors) {
  OnHost host(tensors);
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  impl_->guarded("all-reduce", [&] {
    for (size_t i = 0; i < host.size(); ++i) {
      auto one = host.one(i);
      works.push_back(impl_->gloo->allreduce(one));
    }
  });
  impl_->wait_all("all-reduce", works);
  host.write_back();
}

void ProcessGroup::broadcast(std::vector<torch::Tensor>& tensors, int root) {
  OnHost host(tensors);
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  impl_->guarded("broadcast", [&] {
    c10d::BroadcastOptions options;
    options.rootRank = root;
    for (size_t i = 0; i < host.size(); ++i) {
      auto one = host.one(i);
      works.push_back(impl_->gloo->broadcast(one, options));
    }
  });
  impl_->wait_all("broadcast", works);
  host.write_back();
}

void ProcessGroup::barrier() {
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  impl_->guarded("barrier", [&] { works.push_back(impl_->gloo->barrier()); });
  impl_->wait_all("barrier", works);
}

namespace {

// Parameters grouped into buckets of about `bucket_bytes` each, in order, by dtype.
std::vector<std::vector<torch::Tensor>> buckets_of(const std::vector<torch::Tensor>& parameters, int64_t bucket_bytes) {
  std::vector<std::vector<torch::Tensor>> buckets;
  int64_t bytes = 0;
  for (const auto& p : parameters) {
    const int64_t size = p.numel() * static_cast<int64_t>(p.element_size());
    if (buckets.empty() || bytes + size > bucket_bytes || buckets.back().front().scalar_type() != p.scalar_type()) {
      buckets.emplace_back();
      bytes = 0;
    }
    buckets.back().push_back(p);
    bytes += size;
  }
  return buckets;
}

}  // namespace

void all_reduce_gradients(ProcessGroup& group, const std::vector<torch::Tensor>& parameters, int64_t bucket_bytes) {
  torch::NoGradGuard no_grad;
  // Which parameters have a gradient on some rank: one none has keeps none (the optimizer skips it, as
  // it would in one process, where a zero gradient would still move AdamW's moments and decay).
  std::vector<torch::Tensor> has = {torch::zeros({static_cast<int64_t>(parameters.size())}, torch::kInt)};
  int* mark = has[0].data_ptr<int>();
  for (size_t i = 0; i < parameters.size(); ++i) mark[i] = parameters[i].grad().defined() ? 1 : 0;
  group.all_reduce_sum(has);
  std::vector<torch::Tensor> with_gradient;
  const int* h = has[0].data_ptr<int>();
  for (size_t i = 0; i < parameters.size(); ++i) {
    if (h[i] > 0) with_gradient.push_back(parameters[i]);
  }
  const auto buckets = buckets_of(with_gradient, bucket_bytes);
  std::vector<torch::Tensor> flat;
  flat.reserve(buckets.size());
  for (const auto& bucket : buckets) {
    std::vector<torch::Tensor> pieces;
    for (const auto& p : bucket) {
      pieces.push_back(p.grad().defined() ? p.grad().reshape({-1}) : torch::zeros({p.numel()}, p.options()));
    }
    flat.push_back(torch::cat(pieces));  // [sum of the bucket's numel]
  }
  group.all_reduce_sum(flat);
  for (size_t b = 0; b < buckets.size(); ++b) {
    int64_t offset = 0;
    for (const auto& p : buckets[b]) {
      const auto summed = flat[b].narrow(0, offset, p.numel()).view(p.sizes());
      if (p.grad().defined()) {
        p.mutable_grad().copy_(summed);
      } else {
        p.mutable_grad() = summed.clone();
      }
      offset += p.numel();
    }
  }
}

void all_gather_rows(ProcessGroup& group, std::vector<std::vector<float>>& rows) {
  const auto n = static_cast<int64_t>(rows.size());
  std::vector<torch::Tensor> lengths = {torch::zeros({n}, torch::kLong)};
  int64_t* length = lengths[0].data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) length[i] = static_cast<int64_t>(rows[static_cast<size_t>(i)].size());
  group.all_reduce_sum(lengths);
  length = lengths[0].data_ptr<int64_t>();
  std::vector<int64_t> offset(static_cast<size_t>(n) + 1, 0);
  for (int64_t i = 0; i < n; ++i) offset[static_cast<size_t>(i) + 1] = offset[static_cast<size_t>(i)] + length[i];
  std::vector<torch::Tensor> values = {torch::zeros({offset.back()}, torch::kFloat)};
  float* v = values[0].data_ptr<float>();
  for (size_t i = 0; i < rows.size(); ++i) std::copy(rows[i].begin(), rows[i].end(), v + offset[i]);
  if (offset.back() > 0) group.all_reduce_sum(values);
  v = values[0].data_ptr<float>();
  for (size_t i = 0; i < rows.size(); ++i) rows[i].assign(v + offset[i], v + offset[i + 1]);
}

GroupRankRows::GroupRankRows(ProcessGroup& group, int64_t rows, int64_t begin, int64_t end)
    : group_(group), rows_(rows), begin_(begin), end_(end) {
  STILTS_CHECK(0 <= begin && begin <= end && end <= rows, "shard [", begin, ", ", end, ") of ", rows, " rows");
}

torch::Tensor GroupRankRows::all_rows(const torch::Tensor& local, int64_t sides) {
  const int64_t b = end_ - begin_;
  const bool has_rows = local.defined() && b > 0;
  if (has_rows) {
    STILTS_CHECK(local.dim() == 2 && local.size(0) == sides * b && local.is_floating_point(), "all_rows: expected [",
                 sides, "·", b, ", H] floating-point rows, got ", local.sizes(), " ", local.scalar_type());
  }
  // [ranks with rows, their S, their H, their dtype] summed: every rank learns them.
  std::vector<torch::Tensor> header = {torch::zeros({4}, torch::kLong)};
  if (has_rows) {
    int64_t* h = header[0].data_ptr<int64_t>();
    h[0] = 1;
    h[1] = sides;
    h[2] = local.size(1);
    h[3] = static_cast<int64_t>(local.scalar_type());
  }
  group_.all_reduce_sum(header);
  const int64_t* h = header[0].data_ptr<int64_t>();
  const bool agree = h[0] > 0 && h[1] % h[0] == 0 && h[2] % h[0] == 0 && h[3] % h[0] == 0;
  const int64_t s = agree ? h[1] / h[0] : 0, width = agree ? h[2] / h[0] : 0;
  const auto dtype = static_cast<torch::ScalarType>(agree ? h[3] / h[0] : 0);
  STILTS_CHECK(agree && (!has_rows || (s == sides && width == local.size(1) && dtype == local.scalar_type())),
               "all_rows: the ranks' rows disagree in shape or type");

  // [S·rows, H], this rank's rows in place, summed over the ranks.
  std::vector<torch::Tensor> buffer = {torch::zeros({s * rows_, width}, dtype)};
  if (has_rows) {
    const torch::Tensor mine = local.detach().to(torch::kCPU);
    for (int64_t side = 0; side < s; ++side) {
      buffer[0].narrow(0, side * rows_ + begin_, b).copy_(mine.narrow(0, side * b, b));
    }
  }
  group_.all_reduce_sum(buffer);
  if (!has_rows) return buffer[0];

  // Each side: the rows before this rank's, this rank's own `local` rows, the rows after.
  const torch::Tensor others = buffer[0].to(local.device());
  std::vector<torch::Tensor> pieces;
  for (int64_t side = 0; side < s; ++side) {
    if (begin_ > 0) pieces.push_back(others.narrow(0, side * rows_, begin_));
    pieces.push_back(local.narrow(0, side * b, b));
    if (end_ < rows_) pieces.push_back(others.narrow(0, side * rows_ + end_, rows_ - end_));
  }
  return torch::cat(pieces, 0);  // [S·rows, H]
}

torch::Tensor GroupRankRows::shared(const torch::Tensor& t) const {
  return group_.rank() == group_.world_size() - 1 ? t : t.detach();
}

void GroupRankRows::join() {
  STILTS_CHECK(end_ == begin_, "join() is for a rank whose shard is empty");
  all_rows(torch::Tensor(), 0);
}

void broadcast_parameters(ProcessGroup& group, const std::vector<torch::Tensor>& parameters) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> values;
  for (const auto& p : parameters) values.push_back(p.detach());
  // Each tensor is its own broadcast (in flight together); parameters are contiguous.
  group.broadcast(values, 0);
}

}  // namespace stilts::train
