// Data-parallel training over libtorch's c10d: the rank context torchrun (or stilts launch) gives a
// process through its environment, and a Gloo process group joined through c10d's TCPStore.
//
// This header names no c10d type: distributed.cpp is the one file compiled with USE_C10D_GLOO and
// USE_DISTRIBUTED and including c10d's headers (which need Debian's libgloo-dev), so the precompiled
// header and every other file build as before.
//
// Failures: every c10d error (a peer rank that died and closed its sockets, a collective or a
// rendezvous that timed out) is rethrown as DistributedError naming this rank and the operation, so a
// dead rank ends the others with a message, never a hang (the timeout bounds a rank that hangs).
#pragma once

#include <torch/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "tasks/rank_rows.h"

namespace stilts::train {

// A collective failed: a peer rank exited or hung past the timeout, or the rendezvous failed.
class DistributedError : public Error {
 public:
  using Error::Error;
};

// Where this process stands in a job launched the torchrun way.
struct RankContext {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr;  // the rendezvous (rank 0's TCPStore): set when world_size > 1
  int master_port = 0;
  bool distributed() const { return world_size > 1; }
  // Only rank 0 writes checkpoints, models, logs and results.
  bool writes() const { return rank == 0; }
};

// Reads RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT through `get` (nullptr: unset).
// Neither RANK nor WORLD_SIZE set: a single process (rank 0 of 1). Otherwise InputError naming the
// variable and what was expected: both RANK and WORLD_SIZE, integers with 0 <= RANK < WORLD_SIZE,
// LOCAL_RANK (optional) an integer >= 0, and with WORLD_SIZE > 1 a MASTER_ADDR and a MASTER_PORT in
// 1..65535.
RankContext rank_context_from(const std::function<const char*(const char*)>& get);
// rank_context_from(getenv).
RankContext rank_context_from_environment();

// How long a rendezvous or a collective may wait for the other ranks before failing: STILTS_DIST_TIMEOUT
// (seconds, > 0) when set, else 30 minutes (PyTorch's default; the others wait in the next collective
// while rank 0 writes a checkpoint). A rank that exits is noticed at once (its sockets close), not after it.
std::chrono::milliseconds distributed_timeout_from_environment();

// A Gloo process group. Collectives act in place; every rank must call the same
// collectives in the same order.
class ProcessGroup {
 public:
  // Joins the group `context` describes (context.distributed()): rank 0 serves the TCPStore at
  // MASTER_ADDR:MASTER_PORT, the others connect to it. The Gloo transport binds to the interface named
  // by GLOO_SOCKET_IFNAME when set, to 127.0.0.1 when MASTER_ADDR is a loopback address, else to this
  // host's name. DistributedError when the others do not arrive within `timeout`.
  static std::shared_ptr<ProcessGroup> connect(const RankContext& context, std::chrono::milliseconds timeout);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const;
  int world_size() const;
  // This rank's index on its machine (LOCAL_RANK): which GPU "cuda" means for it.
  int local_rank() const;
  // Sums each tensor over the ranks (all issued, then all waited for). Contiguous tensors; Gloo works on
  // host memory, so tensors on another device (a GPU) go through a CPU copy and are written back.
  void all_reduce_sum(std::vector<torch::Tensor>& tensors);
  // Copies `root`'s tensors into everyone's (through a CPU copy as all_reduce_sum).
  void broadcast(std::vector<torch::Tensor>& tensors, int root = 0);
  void barrier();

 private:
  struct Impl;
  explicit ProcessGroup(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Sums the gradients of `parameters` over the ranks in place: flattened into buckets of about
// `bucket_bytes` (one all-reduce each, all in flight together) and copied back. A parameter without a
// gradient here (this rank's shard was empty) contributes zeros and gets the sum; one without a gradient
// on every rank keeps none.
void all_reduce_gradients(ProcessGroup& group, const std::vector<torch::Tensor>& parameters,
                          int64_t bucket_bytes = int64_t{25} << 20);

// Rows each filled on one rank (empty on the others) made complete on every rank: their lengths, then
// their values, summed over the ranks (exact: every value is added to zeros).
void all_gather_rows(ProcessGroup& group, std::vector<std::vector<float>>& rows);

// tasks::RankRows over `group` for one micro-batch of `rows` rows of which this rank holds [begin, end)
// (every rank's shard is contiguous and in rank order; the last rank's is never empty). all_rows sums
// zero-filled [S·rows, H] buffers, each rank's rows in place, over the ranks (exact: every value is added
// to zeros); it first sums a small header (S and H from the ranks with rows), so an empty shard's rank
// takes part through join() without knowing them. shared() keeps the gradient on the last rank.
class GroupRankRows final : public tasks::RankRows {
 public:
  GroupRankRows(ProcessGroup& group, int64_t rows, int64_t begin, int64_t end);
  torch::Tensor all_rows(const torch::Tensor& local, int64_t sides) override;
  torch::Tensor shared(const torch::Tensor& t) const override;
  // This rank's part in the others' all_rows when its shard is empty (it runs no forward).
  void join();

 private:
  ProcessGroup& group_;
  int64_t rows_, begin_, end_;
};

// Copies rank 0's values of `parameters` into every rank's (so every rank starts from the same weights).
void broadcast_parameters(ProcessGroup& group, const std::vector<torch::Tensor>& parameters);

}  // namespace stilts::train
