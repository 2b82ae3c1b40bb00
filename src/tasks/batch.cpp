// Padding rows of Features into tensors. Letters: R rows, T the longest of them.
#include "tasks/batch.h"

#include <algorithm>

#include "common/error.h"

namespace stilts::tasks {

namespace {

// The batch's padded length: its longest row, at least features.pad_to.
size_t longest_row(const Features& features, const std::vector<size_t>& rows) {
  STILTS_CHECK(!rows.empty(), "collate of an empty batch");
  size_t longest = static_cast<size_t>(std::max<int64_t>(features.pad_to, 0));
  for (size_t row : rows) {
    STILTS_CHECK(row < features.input_ids.size(), "row ", row, " of ", features.input_ids.size());
    longest = std::max(longest, features.input_ids[row].size());
  }
  return longest;
}

// Where row r's first token goes in an [R, T] buffer.
int64_t row_start(const Features& features, int64_t r, int64_t length, size_t tokens) {
  return r * length + (features.left_padding ? length - static_cast<int64_t>(tokens) : 0);
}

}  // namespace

models::Inputs pad_rows(const Features& features, const std::vector<size_t>& rows, torch::Device device,
                        int64_t* real_tokens) {
  const bool has_types = !features.token_type_ids.empty();
  STILTS_CHECK(!has_types || features.token_type_ids.size() == features.input_ids.size(), "token types for ",
               features.token_type_ids.size(), " of ", features.input_ids.size(), " rows");
  const auto length = static_cast<int64_t>(longest_row(features, rows));
  const auto count = static_cast<int64_t>(rows.size());

  torch::Tensor ids = torch::full({count, length}, features.pad_id, torch::kLong);  // [R, T]
  torch::Tensor mask = torch::zeros({count, length}, torch::kLong);                 // [R, T]
  torch::Tensor types;                                                              // [R, T] or undefined
  if (has_types) types = torch::full({count, length}, features.pad_type_id, torch::kLong);
  // Freshly made contiguous tensors: row r starts at r * T.
  int64_t* ids_p = ids.data_ptr<int64_t>();
  int64_t* mask_p = mask.data_ptr<int64_t>();
  int64_t* types_p = has_types ? types.data_ptr<int64_t>() : nullptr;
  int64_t tokens = 0;
  for (int64_t r = 0; r < count; ++r) {
    const size_t index = rows[static_cast<size_t>(r)];
    const auto& row = features.input_ids[index];
    const int64_t start = row_start(features, r, length, row.size());
    std::copy(row.begin(), row.end(), ids_p + start);
    std::fill(mask_p + start, mask_p + start + static_cast<int64_t>(row.size()), 1);
    if (has_types) {
      const auto& type_row = features.token_type_ids[index];
      STILTS_CHECK(type_row.size() == row.size(), "row ", index, ": ", type_row.size(), " token types for ",
                   row.size(), " ids");
      std::copy(type_row.begin(), type_row.end(), types_p + start);
    }
    tokens += static_cast<int64_t>(row.size());
  }
  if (real_tokens) *real_tokens = tokens;
  models::Inputs inputs;
  inputs.input_ids = ids.to(device);
  inputs.attention_mask = mask.to(device);
  if (has_types) inputs.token_type_ids = types.to(device);
  return inputs;
}

torch::Tensor pad_token_field(const Features& features, const std::vector<std::vector<int32_t>>& field,
                              const std::vector<size_t>& rows, int64_t fill, torch::Device device) {
  STILTS_CHECK(field.size() == features.input_ids.size(), "a token field for ", field.size(), " of ",
               features.input_ids.size(), " rows");
  const auto length = static_cast<int64_t>(longest_row(features, rows));
  const auto count = static_cast<int64_t>(rows.size());
  torch::Tensor out = torch::full({count, length}, fill, torch::kLong);  // [R, T]
  int64_t* p = out.data_ptr<int64_t>();
  for (int64_t r = 0; r < count; ++r) {
    const size_t index = rows[static_cast<size_t>(r)];
    const auto& values = field[index];
    STILTS_CHECK(values.size() == features.input_ids[index].size(), "row ", index, ": ", values.size(),
                 " token values for ", features.input_ids[index].size(), " ids");
    std::copy(values.begin(), values.end(), p + row_start(features, r, length, values.size()));
  }
  return out.to(device);
}

}  // namespace stilts::tasks
