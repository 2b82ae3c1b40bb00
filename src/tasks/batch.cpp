// collate: rows of Features into padded model inputs. Letters: B batch rows, T the batch's longest row.
#include "tasks/batch.h"

#include <algorithm>

#include "common/error.h"

namespace stilts::tasks {

Batch collate(const Features& features, const std::vector<size_t>& indices, torch::Device device) {
  STILTS_CHECK(!indices.empty(), "collate of an empty batch");
  const bool has_types = !features.token_type_ids.empty();
  STILTS_CHECK(!has_types || features.token_type_ids.size() == features.size(), "token types for ",
               features.token_type_ids.size(), " of ", features.size(), " examples");
  STILTS_CHECK((features.regression ? features.scores.size() : features.labels.size()) == features.size(),
               "targets for ", (features.regression ? features.scores.size() : features.labels.size()), " of ",
               features.size(), " examples");

  Batch batch;
  batch.indices = indices;
  size_t longest = 0;
  for (size_t index : indices) {
    STILTS_CHECK(index < features.size(), "row ", index, " of ", features.size());
    longest = std::max(longest, features.input_ids[index].size());
  }
  const auto rows = static_cast<int64_t>(indices.size());
  const auto length = static_cast<int64_t>(longest);

  torch::Tensor ids = torch::full({rows, length}, features.pad_id, torch::kLong);  // [B, T]
  torch::Tensor mask = torch::zeros({rows, length}, torch::kLong);                // [B, T]
  torch::Tensor types;                                                             // [B, T] or undefined
  if (has_types) types = torch::full({rows, length}, features.pad_type_id, torch::kLong);
  // Freshly made contiguous tensors: row r starts at r * T.
  int64_t* ids_p = ids.data_ptr<int64_t>();
  int64_t* mask_p = mask.data_ptr<int64_t>();
  int64_t* types_p = has_types ? types.data_ptr<int64_t>() : nullptr;
  for (int64_t r = 0; r < rows; ++r) {
    const size_t index = indices[static_cast<size_t>(r)];
    const auto& row = features.input_ids[index];
    const auto n = static_cast<int64_t>(row.size());
    const int64_t start = r * length + (features.left_padding ? length - n : 0);
    std::copy(row.begin(), row.end(), ids_p + start);
    std::fill(mask_p + start, mask_p + start + n, 1);
    if (has_types) {
      const auto& type_row = features.token_type_ids[index];
      STILTS_CHECK(type_row.size() == row.size(), "row ", index, ": ", type_row.size(), " token types for ",
                   row.size(), " ids");
      std::copy(type_row.begin(), type_row.end(), types_p + start);
    }
    batch.real_tokens += n;
  }

  torch::Tensor labels;  // [B]
  if (features.regression) {
    labels = torch::empty({rows}, torch::kFloat);
    auto a = labels.accessor<float, 1>();
    for (int64_t r = 0; r < rows; ++r) a[r] = features.scores[indices[static_cast<size_t>(r)]];
  } else {
    labels = torch::empty({rows}, torch::kLong);
    auto a = labels.accessor<int64_t, 1>();
    for (int64_t r = 0; r < rows; ++r) a[r] = features.labels[indices[static_cast<size_t>(r)]];
  }

  batch.inputs.input_ids = ids.to(device);
  batch.inputs.attention_mask = mask.to(device);
  if (has_types) batch.inputs.token_type_ids = types.to(device);
  batch.labels = labels.to(device);
  return batch;
}

}  // namespace stilts::tasks
