// A batch of features as model inputs: rows padded to the batch's longest row. The kinds' collate
// (kind.h) builds on pad_rows.
#pragma once

#include <vector>

#include "models/model.h"
#include "tasks/features.h"

namespace stilts::tasks {

class RankRows;  // tasks/rank_rows.h

struct Batch {
  models::Inputs inputs;        // [B, T] each ([B, K, T] for multiple choice), on the device
  torch::Tensor labels;         // the kind's targets: [B] int64 or float, [B, T] int64 for tagging
  std::vector<size_t> indices;  // features in batch order
  int64_t real_tokens = 0;      // non-pad tokens in the batch
  // Training under data-parallel ranks, for a kind whose loss couples the batch's rows (couples_rows): the
  // rest of the global batch this shard belongs to. nullptr otherwise.
  RankRows* rank_rows = nullptr;
};

// Rows `rows` of `features` padded to their longest (at least features.pad_to) on the template's padding side: input_ids,
// attention_mask and (when the features have them) token_type_ids [R, T] on `device`, and the non-pad
// token count.
models::Inputs pad_rows(const Features& features, const std::vector<size_t>& rows, torch::Device device,
                        int64_t* real_tokens);

// A per-token int32 field of `features` (word_ids, token_labels) for `rows`, laid out as pad_rows lays
// out the ids and filled with `fill` at the padding: [R, T] int64 on `device`.
torch::Tensor pad_token_field(const Features& features, const std::vector<std::vector<int32_t>>& field,
                              const std::vector<size_t>& rows, int64_t fill, torch::Device device);

}  // namespace stilts::tasks
