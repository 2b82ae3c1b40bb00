// How a task kind whose loss couples the rows of a batch (retrieval's in-batch negatives) sees the rest of
// the global batch when data-parallel ranks each hold a shard of it (train/distributed.h implements it over
// the process group). Through it every rank computes one process's loss of the whole batch, with gradients
// reaching only its own rows: the ranks' gradients, summed, are one process's.
#pragma once

#include <torch/types.h>

#include <cstdint>

namespace stilts::tasks {

class RankRows {
 public:
  virtual ~RankRows() = default;
  // `local` [S·b, H] (floating point): this rank's b rows of each of S sides, side after side (a pairs batch: its b
  // queries, then their b positives). Returns [S·n, H]: the whole batch's n rows of each side, side after
  // side, in batch order; this rank's rows are `local` itself (gradients reach them through it), the other
  // ranks' are constants. Every rank calls it once per micro-batch; a rank whose shard is empty takes part
  // through the implementation.
  virtual torch::Tensor all_rows(const torch::Tensor& local, int64_t sides) = 0;
  // `t`, computed alike on every rank from shared parameters (retrieval's logit scale): the same value,
  // with a gradient on one rank only, so that the ranks' gradients of it sum to one process's.
  virtual torch::Tensor shared(const torch::Tensor& t) const = 0;
};

}  // namespace stilts::tasks
