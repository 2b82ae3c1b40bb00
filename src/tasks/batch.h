// A batch of features as model inputs: rows padded to the batch's longest row.
#pragma once


#include <vector>

#include "models/model.h"
#include "tasks/features.h"

namespace stilts::tasks {

struct Batch {
  models::Inputs inputs;       // [B, T] each, on the device
  torch::Tensor labels;        // [B] int64 (classification) or float (regression)
  std::vector<size_t> indices; // rows of the Features, in batch order
  int64_t real_tokens = 0;     // non-pad tokens in the batch
};

Batch collate(const Features& features, const std::vector<size_t>& indices, torch::Device device);

}  // namespace stilts::tasks
