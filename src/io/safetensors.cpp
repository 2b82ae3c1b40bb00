#include "io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>

#include <caffe2/serialize/inline_container.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "common/error.h"
#include "common/files.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors data is little-endian; zero-copy reading assumes a little-endian host");

namespace stilts::io {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct DtypeSpec {
  const char* name;
  uint64_t size;                         // bytes per element
  int rank;                              // position in the reference implementation's Dtype enum
  std::optional<at::ScalarType> scalar;  // none: libtorch 1.13 has no such type
};

// Every dtype of the reference implementation with a whole-byte element; the writer orders tensors
// by descending rank (widest first), which keeps every tensor aligned. Sub-byte types (F4, F6_*)
// are rejected as unknown.
// clang-format off
const DtypeSpec kDtypes[] = {
    {"BOOL", 1, 0, at::kBool},          {"U8", 1, 4, at::kByte},
    {"I8", 1, 5, at::kChar},            {"F8_E5M2", 1, 6, std::nullopt},
    {"F8_E4M3", 1, 7, std::nullopt},    {"F8_E8M0", 1, 8, std::nullopt},
    {"F8_E4M3FNUZ", 1, 9, std::nullopt}, {"F8_E5M2FNUZ", 1, 10, std::nullopt},
    {"I16", 2, 11, at::kShort},         {"U16", 2, 12, std::nullopt},
    {"F16", 2, 13, at::kHalf},          {"BF16", 2, 14, at::kBFloat16},
    {"I32", 4, 15, at::kInt},           {"U32", 4, 16, std::nullopt},
    {"F32", 4, 17, at::kFloat},         {"C64", 8, 18, at::kComplexFloat},
    {"F64", 8, 19, at::kDouble},        {"I64", 8, 20, at::kLong},
    {"U64", 8, 21, std::nullopt},
};
// clang-format on

const DtypeSpec* find_dtype(std::string_view name) {
  for (const DtypeSpec& d : kDtypes) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

const DtypeSpec* find_dtype(at::ScalarType scalar) {
  for (const DtypeSpec& d : kDtypes) {
    if (d.scalar == scalar) return &d;
  }
  return nullptr;
}

std::string torch_dtype_names() {
  std::string out;
  for (const DtypeSpec& d : kDtypes) {
    if (!d.scalar) continue;
    if (!out.empty()) out += ", ";
    out += d.name;
  }
  return out;
}

template <typename Dims>
std::string shape_string(const Dims& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

std::string range_string(uint64_t begin, uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + "]";
}

// Closes a file descriptor on every path out of a scope.
struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
};

// Tracks the keys of every open JSON object while parsing, to find the duplicates that
// nlohmann::json would otherwise silently collapse (last one wins).
struct DuplicateKeyFinder {
  std::vector<std::set<std::string>> open_objects;
  std::string current_tensor;  // the latest top-level key
  std::string duplicate;       // first duplicate key found
  std::string duplicate_in;    // the tensor whose entry repeats a key; empty at top level

  bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      if (!open_objects.empty()) open_objects.pop_back();
    } else if (event == json::parse_event_t::key && !open_objects.empty()) {
      std::string key = parsed.get<std::string>();
      const bool top = open_objects.size() == 1;
      if (top) current_tensor = key;
      if (!open_objects.back().insert(key).second && duplicate.empty()) {
        duplicate = std::move(key);
        duplicate_in = top ? "" : current_tensor;
      }
    }
    return true;
  }
};

// A header value for an error message: short, and no deep recursion on hostile nesting.
std::string brief(const json& value) {
  const auto shallow = [](const json& v) {
    return v.is_primitive() && !(v.is_string() && v.get_ref<const std::string&>().size() > 64);
  };
  if (shallow(value)) return value.dump();
  if (value.is_array() && value.size() <= 16 && std::all_of(value.begin(), value.end(), shallow)) return value.dump();
  if (value.is_string()) return "a string of " + std::to_string(value.get_ref<const std::string&>().size()) + " bytes";
  return std::string(value.type_name()) + " of " + std::to_string(value.size()) + " elements";
}

// A safetensors header entry's non-negative integer; nullopt if `value` is not one.
std::optional<uint64_t> as_unsigned(const json& value) {
  if (!value.is_number_unsigned()) return std::nullopt;
  return value.get<uint64_t>();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Reading

struct SafetensorsFile::Mapping {
  void* addr = nullptr;
  size_t size = 0;
  Mapping(void* a, size_t s) : addr(a), size(s) {}
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() { ::munmap(addr, size); }
  const uint8_t* bytes() const { return static_cast<const uint8_t*>(addr); }
};

SafetensorsFile SafetensorsFile::open(const fs::path& path) {
  const std::string where = path.string();
  SafetensorsFile file;
  file.path_ = path;

  const FdGuard fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (fd.fd < 0) input_error(where, ": cannot open (", std::strerror(errno), ")");
  struct stat st {};
  if (::fstat(fd.fd, &st) != 0) input_error(where, ": cannot stat (", std::strerror(errno), ")");
  if (!S_ISREG(st.st_mode)) input_error(where, ": not a regular file");
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < 8) {
    input_error(where, ": ", size == 0 ? "empty file" : "only " + std::to_string(size) + " bytes",
                "; a safetensors file starts with an 8-byte header length");
  }
  // Private and writable: tensors may be modified in place (copy-on-write), the file never is.
  void* addr = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd.fd, 0);
  if (addr == MAP_FAILED) input_error(where, ": cannot memory-map (", std::strerror(errno), ")");
  file.mapping_ = std::make_shared<Mapping>(addr, size);
  const uint8_t* bytes = file.mapping_->bytes();

  uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i) header_len |= static_cast<uint64_t>(bytes[i]) << (8 * i);
  if (header_len > size - 8) {
    input_error(where, ": header length ", header_len, " exceeds the ", size - 8,
                " bytes after the length field (truncated, or not a safetensors file)");
  }
  file.data_start_ = 8 + header_len;
  const uint64_t data_size = size - file.data_start_;

  const char* header_text = reinterpret_cast<const char*>(bytes + 8);
  DuplicateKeyFinder finder;
  json header;
  try {
    header = json::parse(header_text, header_text + header_len, std::ref(finder));
  } catch (const json::exception& e) {
    std::string what = e.what();
    input_error(where, ": header is not valid JSON (not a safetensors file?):\n  ", what.substr(what.find(']') + 2));
  }
  if (!header.is_object()) {
    input_error(where, ": header is JSON but not an object (not a safetensors file?)");
  }
  if (!finder.duplicate.empty()) {
    if (finder.duplicate_in.empty()) input_error(where, ": duplicate tensor name '", finder.duplicate, "'");
    input_error(where, ": tensor '", finder.duplicate_in, "': duplicate key '", finder.duplicate, "'");
  }

  for (const auto& item : header.items()) {
    const std::string& name = item.key();
    const json& entry = item.value();
    if (name == "__metadata__") {
      if (!entry.is_object()) input_error(where, ": \"__metadata__\" must be an object of strings");
      for (const auto& m : entry.items()) {
        if (!m.value().is_string()) {
          input_error(where, ": \"__metadata__\" value for '", m.key(), "' is ", m.value().type_name(),
                      ", expected a string");
        }
        file.metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const auto bad = [&](auto&&... parts) {
      input_error(where, ": tensor '", name, "': ", std::forward<decltype(parts)>(parts)...);
    };
    if (!entry.is_object()) bad("entry is ", entry.type_name(), ", expected an object");
    for (const char* key : {"dtype", "shape", "data_offsets"}) {
      if (!entry.contains(key)) bad("missing \"", key, "\"");
    }

    TensorInfo info;
    const json& dtype = entry.at("dtype");
    if (!dtype.is_string()) bad("\"dtype\" is ", dtype.type_name(), ", expected a string");
    info.dtype = dtype.get<std::string>();
    const DtypeSpec* spec = find_dtype(info.dtype);
    if (!spec) bad("unknown or unsupported dtype '", info.dtype, "' (supported: ", torch_dtype_names(), ")");

    const json& shape = entry.at("shape");
    if (!shape.is_array()) bad("\"shape\" is ", shape.type_name(), ", expected an array of integers");
    // Overflow check over the non-zero dims, so that torch's strides fit in int64 even when
    // another dim is 0.
    constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    uint64_t product = spec->size;  // bytes of the non-zero dims
    bool has_zero = false;
    for (const json& dim : shape) {
      const std::optional<uint64_t> d = as_unsigned(dim);
      if (!d) {
        if (dim.is_number_integer()) bad("negative dimension ", brief(dim), " in shape ", brief(shape));
        bad("dimension ", brief(dim), " in shape ", brief(shape), " is not a non-negative integer");
      }
      if (*d == 0) {
        has_zero = true;
      } else if (*d > kMax || __builtin_mul_overflow(product, *d, &product) || product > kMax) {
        bad("shape ", brief(shape), " of ", info.dtype, " overflows 64-bit sizes");
      }
      info.shape.push_back(static_cast<int64_t>(*d));
    }
    const uint64_t expected_bytes = has_zero ? 0 : product;

    const json& offsets = entry.at("data_offsets");
    std::optional<uint64_t> begin, end;
    if (offsets.is_array() && offsets.size() == 2) {
      begin = as_unsigned(offsets[0]);
      end = as_unsigned(offsets[1]);
    }
    if (!begin || !end) bad("\"data_offsets\" is ", brief(offsets), ", expected [begin, end] (non-negative integers)");
    if (*end < *begin) bad("data_offsets ", range_string(*begin, *end), " end before they begin");
    if (*end > data_size) {
      bad("data_offsets ", range_string(*begin, *end), " reach past the data area (", data_size,
          " bytes; file truncated?)");
    }
    if (*end - *begin != expected_bytes) {
      bad("data_offsets ", range_string(*begin, *end), " hold ", *end - *begin, " bytes but shape ", brief(shape),
          " of ", info.dtype, " needs ", expected_bytes);
    }
    info.data_begin = *begin;
    info.data_end = *end;
    file.tensors_.emplace(name, std::move(info));
  }

  // The tensors must tile the data area exactly: no overlaps, no gaps, nothing after the last.
  std::vector<const std::pair<const std::string, TensorInfo>*> by_offset;
  for (const auto& t : file.tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](const auto* a, const auto* b) {
    return std::tie(a->second.data_begin, a->second.data_end) < std::tie(b->second.data_begin, b->second.data_end);
  });
  uint64_t covered = 0;
  const std::pair<const std::string, TensorInfo>* previous = nullptr;
  for (const auto* t : by_offset) {
    const TensorInfo& info = t->second;
    if (info.data_begin < covered) {
      input_error(where, ": tensors '", previous->first, "' ",
                  range_string(previous->second.data_begin, previous->second.data_end), " and '", t->first, "' ",
                  range_string(info.data_begin, info.data_end), " overlap");
    }
    if (info.data_begin > covered) {
      input_error(where, ": bytes ", range_string(covered, info.data_begin),
                  " of the data area belong to no tensor (gap before '", t->first, "')");
    }
    covered = info.data_end;
    previous = t;
  }
  if (covered != data_size) {
    input_error(where, ": bytes ", range_string(covered, data_size),
                " at the end of the data area belong to no tensor");
  }
  return file;
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  out.reserve(tensors_.size());
  for (const auto& t : tensors_) out.push_back(t.first);
  return out;
}

TensorInfo SafetensorsFile::info(const std::string& name) const {
  const auto it = tensors_.find(name);
  if (it == tensors_.end()) {
    input_error(path_.string(), ": no tensor '", name, "' (the file has ", tensors_.size(), ")");
  }
  return it->second;
}

at::Tensor SafetensorsFile::tensor(const std::string& name) const {
  const TensorInfo info = this->info(name);
  const DtypeSpec* spec = find_dtype(info.dtype);
  STILTS_CHECK(spec != nullptr, "dtype ", info.dtype, " passed validation");
  if (!spec->scalar) {
    input_error(path_.string(), ": tensor '", name, "': dtype ", info.dtype,
                " is not supported by libtorch 1.13 (supported: ", torch_dtype_names(), ")");
  }
  const auto options = at::TensorOptions().dtype(*spec->scalar).device(at::kCPU);
  uint8_t* data = const_cast<uint8_t*>(mapping_->bytes()) + data_start_ + info.data_begin;
  if (info.nbytes() == 0) return at::empty(info.shape, options);
  if (*spec->scalar == at::kBool) {
    // Other byte values make an invalid torch bool tensor.
    for (uint64_t i = 0; i < info.nbytes(); ++i) {
      if (data[i] > 1) {
        input_error(path_.string(), ": tensor '", name, "': BOOL element ", i, " is byte ", int{data[i]},
                    ", expected 0 or 1");
      }
    }
  }
  if (reinterpret_cast<uintptr_t>(data) % spec->size == 0) {
    const auto keep_mapping = [mapping = mapping_](void*) {};
    return torch::from_blob(data, info.shape, keep_mapping, options);
  }
  at::Tensor copy = at::empty(info.shape, options);
  std::memcpy(copy.data_ptr(), data, info.nbytes());
  return copy;
}

std::map<std::string, at::Tensor> load_safetensors(const fs::path& path) {
  const SafetensorsFile file = SafetensorsFile::open(path);
  std::map<std::string, at::Tensor> out;
  for (const std::string& name : file.names()) out.emplace(name, file.tensor(name));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Sharded checkpoints

SafetensorsCheckpoint SafetensorsCheckpoint::open(const fs::path& path) {
  std::error_code ec;
  fs::path file = path;
  if (fs::is_directory(path, ec)) {
    if (fs::exists(path / "model.safetensors", ec)) {
      file = path / "model.safetensors";
    } else if (fs::exists(path / "model.safetensors.index.json", ec)) {
      file = path / "model.safetensors.index.json";
    } else {
      const bool has_bin = fs::exists(path / "pytorch_model.bin", ec);
      input_error(path.string(), ": no model.safetensors or model.safetensors.index.json",
                  has_bin ? "\n  (it has pytorch_model.bin: convert it with transformers' "
                            "model.save_pretrained(dir, safe_serialization=True))"
                          : "");
    }
  } else if (!fs::exists(path, ec)) {
    input_error(path.string(), ": no such file or directory");
  }

  SafetensorsCheckpoint ckpt;
  ckpt.path_ = file;
  const std::string name = file.filename().string();
  const std::string index_suffix = ".index.json";
  if (name.size() < index_suffix.size() ||
      name.compare(name.size() - index_suffix.size(), index_suffix.size(), index_suffix) != 0) {
    ckpt.shards_.push_back(SafetensorsFile::open(file));
    for (const std::string& tensor : ckpt.shards_[0].names()) ckpt.shard_of_.emplace(tensor, 0);
    return ckpt;
  }

  const std::string where = file.string();
  const fs::path dir = file.parent_path();
  const json index = read_json_file(file);
  if (!index.is_object() || !index.contains("weight_map") || !index.at("weight_map").is_object()) {
    input_error(where, ": expected an object with a \"weight_map\" object {tensor name: shard file}");
  }
  std::map<std::string, size_t> shard_number;  // shard file name -> index in shards_
  for (const auto& item : index.at("weight_map").items()) {
    const std::string& tensor = item.key();
    if (!item.value().is_string()) {
      input_error(where, ": weight_map['", tensor, "'] is ", item.value().type_name(), ", expected a shard file name");
    }
    const std::string shard = item.value().get<std::string>();
    const fs::path relative(shard);
    const bool escapes = std::any_of(relative.begin(), relative.end(), [](const fs::path& p) { return p == ".."; });
    if (shard.empty() || relative.is_absolute() || escapes) {
      input_error(where, ": weight_map['", tensor, "'] = '", shard, "' is not a file inside ", dir.string());
    }
    auto it = shard_number.find(shard);
    if (it == shard_number.end()) {
      const fs::path shard_path = dir / relative;
      if (!fs::is_regular_file(shard_path, ec)) {
        input_error(where, ": shard '", shard, "' (holding '", tensor, "') is missing: no file ", shard_path.string());
      }
      ckpt.shards_.push_back(SafetensorsFile::open(shard_path));
      it = shard_number.emplace(shard, ckpt.shards_.size() - 1).first;
    }
    if (!ckpt.shards_[it->second].contains(tensor)) {
      input_error(where, ": the index puts tensor '", tensor, "' in ", shard, ", which has no such tensor");
    }
    ckpt.shard_of_.emplace(tensor, it->second);
  }
  for (size_t i = 0; i < ckpt.shards_.size(); ++i) {
    for (const std::string& tensor : ckpt.shards_[i].names()) {
      const auto it = ckpt.shard_of_.find(tensor);
      if (it == ckpt.shard_of_.end()) {
        input_error(ckpt.shards_[i].path().string(), ": tensor '", tensor, "' is not in the index ", where);
      }
      if (it->second != i) {
        input_error(ckpt.shards_[i].path().string(), ": tensor '", tensor, "' is also here, but the index ", where,
                    " puts it in ", ckpt.shards_[it->second].path().filename().string());
      }
    }
  }
  return ckpt;
}

std::vector<std::string> SafetensorsCheckpoint::names() const {
  std::vector<std::string> out;
  out.reserve(shard_of_.size());
  for (const auto& t : shard_of_) out.push_back(t.first);
  return out;
}

const SafetensorsFile& SafetensorsCheckpoint::shard_for(const std::string& name) const {
  const auto it = shard_of_.find(name);
  if (it == shard_of_.end()) {
    input_error(path_.string(), ": no tensor '", name, "' (the checkpoint has ", shard_of_.size(), ")");
  }
  return shards_[it->second];
}

TensorInfo SafetensorsCheckpoint::info(const std::string& name) const { return shard_for(name).info(name); }

at::Tensor SafetensorsCheckpoint::tensor(const std::string& name) const { return shard_for(name).tensor(name); }

std::map<std::string, at::Tensor> SafetensorsCheckpoint::load_all() const {
  std::map<std::string, at::Tensor> out;
  for (const auto& [name, shard] : shard_of_) out.emplace(name, shards_[shard].tensor(name));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writing

namespace {

void fsync_directory(const fs::path& dir) {
  const FdGuard fd{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (fd.fd >= 0) ::fsync(fd.fd);
}

// write_file_atomic's protocol (temp file beside the target, fsync, rename, fsync of the folder),
// streamed so a model is never held twice in memory. An uncommitted temp file is removed.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(fs::path path) : path_(std::move(path)) {
    static std::atomic<int> counter{0};
    tmp_ = path_.string() + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) input_error(tmp_.string(), ": cannot create (", std::strerror(errno), ")");
  }
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  ~AtomicFileWriter() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) {
      std::error_code ec;
      fs::remove(tmp_, ec);
    }
  }

  void write(const void* data, size_t n) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      const ssize_t written = ::write(fd_, p, std::min<size_t>(n, size_t{1} << 30));
      if (written < 0) {
        if (errno == EINTR) continue;
        input_error(tmp_.string(), ": write failed (", std::strerror(errno), ")");
      }
      p += written;
      n -= static_cast<size_t>(written);
    }
  }

  void commit() {
    if (::fsync(fd_) != 0) input_error(tmp_.string(), ": fsync failed (", std::strerror(errno), ")");
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) input_error(tmp_.string(), ": close failed (", std::strerror(errno), ")");
    std::error_code ec;
    fs::rename(tmp_, path_, ec);
    if (ec) input_error(path_.string(), ": cannot rename temp file into place (", ec.message(), ")");
    committed_ = true;
    fsync_directory(path_.has_parent_path() ? path_.parent_path() : fs::path("."));
  }

 private:
  fs::path path_;
  fs::path tmp_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace

void save_safetensors(const fs::path& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  const std::string where = path.string();
  struct Item {
    const std::string* name;
    const at::Tensor* tensor;
    const DtypeSpec* spec;
    uint64_t nbytes;
  };
  std::vector<Item> items;
  items.reserve(tensors.size());
  std::set<std::string_view> seen;
  for (const auto& [name, t] : tensors) {
    if (name == "__metadata__") input_error(where, ": \"__metadata__\" is reserved and cannot name a tensor");
    if (!seen.insert(name).second) input_error(where, ": tensor '", name, "' is given twice");
    if (!t.defined()) input_error(where, ": tensor '", name, "' is undefined");
    if (t.layout() != at::kStrided) input_error(where, ": tensor '", name, "' is not dense (layout ", t.layout(), ")");
    const DtypeSpec* spec = find_dtype(t.scalar_type());
    if (!spec) {
      input_error(where, ": tensor '", name, "': dtype ", t.scalar_type(),
                  " has no safetensors equivalent (supported: ", torch_dtype_names(), ")");
    }
    items.push_back({&name, &t, spec, static_cast<uint64_t>(t.numel()) * spec->size});
  }
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    if (a.spec->rank != b.spec->rank) return a.spec->rank > b.spec->rank;
    return *a.name < *b.name;
  });

  // Built piece by piece: a single ordered_json object would make insertion quadratic in the tensor count.
  std::string header = "{";
  try {
    if (!metadata.empty()) header += "\"__metadata__\":" + json(metadata).dump();
    uint64_t offset = 0;
    for (const Item& item : items) {
      // Key order as the reference implementation writes it.
      const nlohmann::ordered_json entry = {{"dtype", item.spec->name},
                                            {"shape", item.tensor->sizes().vec()},
                                            {"data_offsets", {offset, offset + item.nbytes}}};
      if (header.size() > 1) header += ",";
      header += json(*item.name).dump() + ":" + entry.dump();
      offset += item.nbytes;
    }
  } catch (const json::type_error& e) {
    input_error(where, ": a tensor name or metadata string is not valid UTF-8 (", e.what(), ")");
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');

  AtomicFileWriter out(path);
  uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<uint8_t>(static_cast<uint64_t>(header.size()) >> (8 * i));
  out.write(length, sizeof length);
  out.write(header.data(), header.size());
  for (const Item& item : items) {
    if (item.nbytes == 0) continue;
    const at::Tensor cpu = item.tensor->detach().to(at::kCPU).resolve_conj().resolve_neg().contiguous();
    out.write(cpu.data_ptr(), item.nbytes);
  }
  out.commit();
}

// ---------------------------------------------------------------------------------------------
// pytorch_model.bin
//
// libtorch 1.13's torch::pickle_load cannot read what torch.save(model.state_dict()) writes (the
// OrderedDict is unpickled as None: pytorch/pytorch#100741), so this is a small pickle reader of
// its own. It knows only the opcodes and globals a state dict uses (dicts, tuples, scalars,
// collections.OrderedDict, torch._utils._rebuild_tensor_v2 / _rebuild_parameter, torch.*Storage,
// and torch.jit._pickle.restore_type_tag from torch::pickle_save) and calls nothing: a file naming
// any other global is rejected, not executed.

namespace {

struct PickleValue;
using PickleRef = std::shared_ptr<PickleValue>;

struct PickleValue {
  enum class Kind { kNone, kBool, kInt, kFloat, kString, kTuple, kList, kDict, kGlobal, kStorage, kTensor };
  Kind kind = Kind::kNone;
  int64_t integer = 0;                                // kBool, kInt
  double real = 0;                                    // kFloat
  std::string text;                                   // kString; kGlobal: "module.name"
  std::vector<PickleRef> items;                       // kTuple, kList
  std::vector<std::pair<PickleRef, PickleRef>> dict;  // kDict, in insertion order
  at::Tensor tensor;                                  // kStorage: 1-D over the record; kTensor
  PickleValue() = default;
  PickleValue(const PickleValue&) = delete;
  PickleValue& operator=(const PickleValue&) = delete;
  ~PickleValue();
};

PickleValue::~PickleValue() {
  // Children are released iteratively: a hostile pickle can nest a million tuples, and the
  // default recursive destruction would overflow the stack.
  std::vector<PickleRef> pending;
  const auto take_children = [&pending](PickleValue& v) {
    for (PickleRef& item : v.items) pending.push_back(std::move(item));
    for (auto& [key, value] : v.dict) {
      pending.push_back(std::move(key));
      pending.push_back(std::move(value));
    }
    v.items.clear();
    v.dict.clear();
  };
  take_children(*this);
  while (!pending.empty()) {
    PickleRef next = std::move(pending.back());
    pending.pop_back();
    if (next && next.use_count() == 1) take_children(*next);
  }
}

PickleRef make(PickleValue::Kind kind) {
  auto obj = std::make_shared<PickleValue>();
  obj->kind = kind;
  return obj;
}

const char* kind_name(PickleValue::Kind kind) {
  switch (kind) {
    case PickleValue::Kind::kNone:
      return "None";
    case PickleValue::Kind::kBool:
      return "bool";
    case PickleValue::Kind::kInt:
      return "int";
    case PickleValue::Kind::kFloat:
      return "float";
    case PickleValue::Kind::kString:
      return "str";
    case PickleValue::Kind::kTuple:
      return "tuple";
    case PickleValue::Kind::kList:
      return "list";
    case PickleValue::Kind::kDict:
      return "dict";
    case PickleValue::Kind::kGlobal:
      return "global";
    case PickleValue::Kind::kStorage:
      return "storage";
    case PickleValue::Kind::kTensor:
      return "tensor";
  }
  return "?";
}

std::optional<at::ScalarType> storage_dtype(const std::string& global) {
  static const std::map<std::string, at::ScalarType> kStorages = {
      {"torch.DoubleStorage", at::kDouble},
      {"torch.FloatStorage", at::kFloat},
      {"torch.HalfStorage", at::kHalf},
      {"torch.BFloat16Storage", at::kBFloat16},
      {"torch.LongStorage", at::kLong},
      {"torch.IntStorage", at::kInt},
      {"torch.ShortStorage", at::kShort},
      {"torch.CharStorage", at::kChar},
      {"torch.ByteStorage", at::kByte},
      {"torch.BoolStorage", at::kBool},
      {"torch.ComplexFloatStorage", at::kComplexFloat},
      {"torch.ComplexDoubleStorage", at::kComplexDouble},
  };
  const auto it = kStorages.find(global);
  if (it == kStorages.end()) return std::nullopt;
  return it->second;
}

// Failures inside the reader; load_pytorch_bin turns them into the conversion hint.
struct PickleError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <typename... Parts>
[[noreturn]] void pickle_error(Parts&&... parts) {
  throw PickleError(detail::concat(std::forward<Parts>(parts)...));
}

class StateDictUnpickler {
 public:
  StateDictUnpickler(const std::string& pickle, caffe2::serialize::PyTorchStreamReader& archive)
      : in_(pickle), archive_(archive) {}

  PickleRef load() {
    while (true) {
      const uint8_t op = byte();
      switch (op) {
        case 0x80:
          byte();
          break;  // PROTO
        case 0x95:
          bytes(8);
          break;  // FRAME
        case '.':
          return pop();  // STOP
        case '(':
          marks_.push_back(stack_.size());
          break;
        case '0':
          pop();
          break;  // POP
        case 'N':
          push(make(PickleValue::Kind::kNone));
          break;
        case 0x88:
          push_bool(true);
          break;
        case 0x89:
          push_bool(false);
          break;
        case 'J':
          push_int(static_cast<int32_t>(little_endian(4)));
          break;
        case 'K':
          push_int(static_cast<int64_t>(little_endian(1)));
          break;
        case 'M':
          push_int(static_cast<int64_t>(little_endian(2)));
          break;
        case 0x8a:
          push_long(byte());
          break;  // LONG1
        case 'G':
          push_float();
          break;
        case 'X':
          push_string(little_endian(4));
          break;  // BINUNICODE
        case 0x8c:
          push_string(byte());
          break;  // SHORT_BINUNICODE
        case 0x8d:
          push_string(little_endian(8));
          break;  // BINUNICODE8
        case ')':
          push(make(PickleValue::Kind::kTuple));
          break;
        case 't':
          push_tuple(pop_mark());
          break;
        case 0x85:
          push_tuple(pop_n(1));
          break;
        case 0x86:
          push_tuple(pop_n(2));
          break;
        case 0x87:
          push_tuple(pop_n(3));
          break;
        case ']':
          push(make(PickleValue::Kind::kList));
          break;
        case 'a':
          append(pop_n(1));
          break;
        case 'e':
          append(pop_mark());
          break;
        case '}':
          push(make(PickleValue::Kind::kDict));
          break;
        case 's':
          set_items(pop_n(2));
          break;
        case 'u':
          set_items(pop_mark());
          break;
        case 'c': {  // GLOBAL: "module\nname\n"
          std::string module = line();
          push_global(module + "." + line());
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          const PickleRef name = pop();
          const PickleRef module = pop();
          if (module->kind != PickleValue::Kind::kString || name->kind != PickleValue::Kind::kString) {
            pickle_error("STACK_GLOBAL of non-strings");
          }
          push_global(module->text + "." + name->text);
          break;
        }
        case 'q':
          memo_[little_endian(1)] = top();
          break;  // BINPUT
        case 'r':
          memo_[little_endian(4)] = top();
          break;  // LONG_BINPUT
        case 0x94:
          memo_[memo_.size()] = top();
          break;  // MEMOIZE
        case 'h':
          push(memo(little_endian(1)));
          break;  // BINGET
        case 'j':
          push(memo(little_endian(4)));
          break;  // LONG_BINGET
        case 'Q':
          push(persistent_load(pop()));
          break;     // BINPERSID
        case 'R': {  // REDUCE
          const PickleRef args = pop();
          push(call(pop(), args));
          break;
        }
        case 'b': {  // BUILD: only the state an OrderedDict carries (_metadata), which is dropped
          pop();
          if (top()->kind != PickleValue::Kind::kDict && top()->kind != PickleValue::Kind::kTensor) {
            pickle_error("BUILD on a ", kind_name(top()->kind));
          }
          break;
        }
        default:
          pickle_error("unsupported pickle opcode 0x", std::hex, int{op}, std::dec, " at byte ", pos_ - 1);
      }
    }
  }

 private:
  uint8_t byte() {
    if (pos_ >= in_.size()) pickle_error("data.pkl ends early");
    return static_cast<uint8_t>(in_[pos_++]);
  }
  std::string_view bytes(uint64_t n) {
    if (n > in_.size() - pos_) pickle_error("data.pkl ends early");
    const std::string_view out(in_.data() + pos_, n);
    pos_ += n;
    return out;
  }
  uint64_t little_endian(int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(byte()) << (8 * i);
    return v;
  }
  std::string line() {
    const size_t end = in_.find('\n', pos_);
    if (end == std::string::npos) pickle_error("data.pkl ends early");
    std::string out = in_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return out;
  }

  void push(PickleRef obj) { stack_.push_back(std::move(obj)); }
  const PickleRef& top() const {
    if (stack_.empty()) pickle_error("pickle stack underflow");
    return stack_.back();
  }
  PickleRef pop() {
    PickleRef out = top();
    stack_.pop_back();
    return out;
  }
  std::vector<PickleRef> pop_n(size_t n) {
    if (stack_.size() < n || (!marks_.empty() && stack_.size() - n < marks_.back()))
      pickle_error("pickle stack underflow");
    std::vector<PickleRef> out(stack_.end() - static_cast<ptrdiff_t>(n), stack_.end());
    stack_.resize(stack_.size() - n);
    return out;
  }
  std::vector<PickleRef> pop_mark() {
    if (marks_.empty()) pickle_error("MARK missing");
    const size_t mark = marks_.back();
    marks_.pop_back();
    if (mark > stack_.size()) pickle_error("pickle stack underflow");
    std::vector<PickleRef> out(stack_.begin() + static_cast<ptrdiff_t>(mark), stack_.end());
    stack_.resize(mark);
    return out;
  }
  PickleRef memo(uint64_t key) const {
    const auto it = memo_.find(key);
    if (it == memo_.end()) pickle_error("memo key ", key, " is unset");
    return it->second;
  }

  void push_bool(bool v) {
    PickleRef obj = make(PickleValue::Kind::kBool);
    obj->integer = v;
    push(obj);
  }
  void push_int(int64_t v) {
    PickleRef obj = make(PickleValue::Kind::kInt);
    obj->integer = v;
    push(obj);
  }
  void push_long(uint8_t n) {  // little-endian two's complement
    if (n > 8) pickle_error("integer of ", int{n}, " bytes");
    uint64_t v = little_endian(n);
    if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t{0} << (8 * n);
    push_int(static_cast<int64_t>(v));
  }
  void push_float() {
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits = (bits << 8) | byte();  // big-endian
    PickleRef obj = make(PickleValue::Kind::kFloat);
    std::memcpy(&obj->real, &bits, sizeof bits);
    push(obj);
  }
  void push_string(uint64_t n) {
    PickleRef obj = make(PickleValue::Kind::kString);
    obj->text = std::string(bytes(n));
    push(obj);
  }
  void push_tuple(std::vector<PickleRef> items) {
    PickleRef obj = make(PickleValue::Kind::kTuple);
    obj->items = std::move(items);
    push(obj);
  }
  void push_global(std::string name) {
    const bool known = name == "collections.OrderedDict" || name == "torch._utils._rebuild_tensor_v2" ||
                       name == "torch._utils._rebuild_parameter" || name == "torch.jit._pickle.restore_type_tag" ||
                       storage_dtype(name).has_value();
    if (!known) pickle_error("it refers to '", name, "', which this reader does not rebuild");
    PickleRef obj = make(PickleValue::Kind::kGlobal);
    obj->text = std::move(name);
    push(obj);
  }
  void append(std::vector<PickleRef> items) {
    if (top()->kind != PickleValue::Kind::kList) pickle_error("APPEND to a ", kind_name(top()->kind));
    for (PickleRef& item : items) top()->items.push_back(std::move(item));
  }
  void set_items(std::vector<PickleRef> items) {
    if (top()->kind != PickleValue::Kind::kDict) pickle_error("SETITEM on a ", kind_name(top()->kind));
    if (items.size() % 2 != 0) pickle_error("SETITEMS with an odd count");
    for (size_t i = 0; i < items.size(); i += 2) top()->dict.emplace_back(items[i], items[i + 1]);
  }

  static int64_t as_int(const PickleRef& obj, const char* what) {
    if (obj->kind != PickleValue::Kind::kInt && obj->kind != PickleValue::Kind::kBool)
      pickle_error(what, " is not an int");
    return obj->integer;
  }
  static std::vector<int64_t> as_ints(const PickleRef& obj, const char* what) {
    if (obj->kind != PickleValue::Kind::kTuple && obj->kind != PickleValue::Kind::kList)
      pickle_error(what, " is not a tuple");
    std::vector<int64_t> out;
    for (const PickleRef& item : obj->items) out.push_back(as_int(item, what));
    return out;
  }

  // ('storage', torch.FloatStorage, key, location, numel): the record data/<key>, loaded once.
  PickleRef persistent_load(const PickleRef& pid) {
    const auto& f = pid->items;
    if (pid->kind != PickleValue::Kind::kTuple || f.size() != 5 || f[0]->kind != PickleValue::Kind::kString ||
        f[0]->text != "storage" || f[1]->kind != PickleValue::Kind::kGlobal ||
        f[2]->kind != PickleValue::Kind::kString) {
      pickle_error("unsupported persistent id");
    }
    const std::optional<at::ScalarType> dtype = storage_dtype(f[1]->text);
    if (!dtype) pickle_error("'", f[1]->text, "' is not a storage type");
    const int64_t numel = as_int(f[4], "storage size");
    const auto cached = storages_.find(f[2]->text);
    if (cached != storages_.end()) return cached->second;

    const std::string record = "data/" + f[2]->text;
    if (!archive_.hasRecord(record)) pickle_error("the archive has no record ", record);
    auto [data, size] = archive_.getRecord(record);
    const uint64_t element = c10::elementSize(*dtype);
    uint64_t need = 0;
    if (numel < 0 || __builtin_mul_overflow(static_cast<uint64_t>(numel), element, &need) || need > size) {
      pickle_error("storage ", f[2]->text, " of ", numel, " elements exceeds its record (", size, " bytes)");
    }
    auto owner = std::make_shared<at::DataPtr>(std::move(data));
    PickleRef obj = make(PickleValue::Kind::kStorage);
    const auto keep_record = [owner](void*) {};
    obj->tensor = numel == 0 ? at::empty({0}, at::TensorOptions().dtype(*dtype))
                             : torch::from_blob(owner->get(), {numel}, keep_record, at::TensorOptions().dtype(*dtype));
    storages_.emplace(f[2]->text, obj);
    return obj;
  }

  PickleRef call(const PickleRef& callable, const PickleRef& args) {
    if (callable->kind != PickleValue::Kind::kGlobal || args->kind != PickleValue::Kind::kTuple) {
      pickle_error("REDUCE of a ", kind_name(callable->kind));
    }
    const std::string& name = callable->text;
    const auto& a = args->items;
    if (name == "collections.OrderedDict") {
      if (!a.empty()) pickle_error("OrderedDict with arguments");
      return make(PickleValue::Kind::kDict);
    }
    if (name == "torch.jit._pickle.restore_type_tag") {  // (value, type string): libtorch's own writer
      if (a.empty()) pickle_error("restore_type_tag without a value");
      return a[0];
    }
    if (name == "torch._utils._rebuild_parameter") {  // (data, requires_grad, backward_hooks)
      if (a.empty() || a[0]->kind != PickleValue::Kind::kTensor) pickle_error("_rebuild_parameter without a tensor");
      return a[0];
    }
    if (name == "torch._utils._rebuild_tensor_v2") {
      // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
      if (a.size() < 4 || a[0]->kind != PickleValue::Kind::kStorage) pickle_error("_rebuild_tensor_v2 arguments");
      const at::Tensor& storage = a[0]->tensor;
      const int64_t offset = as_int(a[1], "storage offset");
      const std::vector<int64_t> size = as_ints(a[2], "tensor size");
      const std::vector<int64_t> stride = as_ints(a[3], "tensor stride");
      if (size.size() != stride.size()) pickle_error("size and stride differ in length");
      // The furthest element must lie inside the storage (as_strided would read past it otherwise).
      bool empty = false;
      int64_t last = offset;
      bool ok = offset >= 0;
      for (size_t i = 0; i < size.size(); ++i) {
        ok = ok && size[i] >= 0 && stride[i] >= 0;
        if (size[i] == 0) empty = true;
      }
      for (size_t i = 0; ok && !empty && i < size.size(); ++i) {
        int64_t span = 0;
        ok = !__builtin_mul_overflow(size[i] - 1, stride[i], &span) && !__builtin_add_overflow(last, span, &last);
      }
      if (!ok || (!empty && last >= storage.numel())) {
        pickle_error("tensor of size ", shape_string(size), " and stride ", shape_string(stride), " at offset ", offset,
                     " reaches past its storage of ", storage.numel(), " elements");
      }
      PickleRef obj = make(PickleValue::Kind::kTensor);
      obj->tensor = empty ? at::empty(size, storage.options()) : storage.as_strided(size, stride, offset);
      return obj;
    }
    pickle_error("'", name, "' is not callable here");
  }

  const std::string& in_;
  size_t pos_ = 0;
  caffe2::serialize::PyTorchStreamReader& archive_;
  std::vector<PickleRef> stack_;
  std::vector<size_t> marks_;
  std::map<uint64_t, PickleRef> memo_;
  std::map<std::string, PickleRef> storages_;
};

}  // namespace

std::map<std::string, at::Tensor> load_pytorch_bin(const fs::path& path) {
  const std::string where = path.string();
  const auto cannot = [&](const std::string& why) {
    input_error(where,
                ": cannot read pytorch_model.bin here; convert it to model.safetensors "
                "(e.g. with transformers: model.save_pretrained(dir, safe_serialization=True))\n  (",
                why, ")");
  };
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) input_error(where, ": no such file");
  {
    char magic[4] = {};
    std::ifstream in(path, std::ios::binary);
    if (!in) input_error(where, ": cannot open (", std::strerror(errno), ")");
    if (!in.read(magic, 4) || std::memcmp(magic, "PK\x03\x04", 4) != 0) {
      cannot("not a zip-format torch.save file: the legacy format, or not a PyTorch checkpoint");
    }
  }

  std::map<std::string, at::Tensor> out;
  try {
    caffe2::serialize::PyTorchStreamReader archive(where);
    if (archive.hasRecord("byteorder")) {
      auto [data, size] = archive.getRecord("byteorder");
      if (std::string(static_cast<const char*>(data.get()), size) != "little") cannot("big-endian checkpoint");
    }
    if (!archive.hasRecord("data.pkl")) cannot("the archive has no data.pkl");
    auto [data, size] = archive.getRecord("data.pkl");
    const std::string pickle(static_cast<const char*>(data.get()), size);
    const PickleRef root = StateDictUnpickler(pickle, archive).load();
    if (root->kind != PickleValue::Kind::kDict)
      cannot(std::string("it holds a ") + kind_name(root->kind) + ", not a state dict");
    for (const auto& [key, value] : root->dict) {
      if (key->kind != PickleValue::Kind::kString || value->kind != PickleValue::Kind::kTensor) {
        cannot(std::string("it holds a dict entry ") + kind_name(key->kind) + " -> " + kind_name(value->kind) +
               ", not a flat {name: tensor} state dict");
      }
      if (!out.emplace(key->text, value->tensor).second) cannot("tensor '" + key->text + "' appears twice");
    }
  } catch (const PickleError& e) {
    cannot(e.what());
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    cannot("libtorch: " + what.substr(0, what.find('\n')));
  }
  return out;
}

}  // namespace stilts::io
