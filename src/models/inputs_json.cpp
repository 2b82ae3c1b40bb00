#include "models/inputs_json.h"

#include "common/error.h"
#include "common/files.h"

namespace stilts::models {

namespace {

// A rectangular [rows, cols] integer matrix from a list of lists.
torch::Tensor read_matrix(const nlohmann::json& rows, const std::string& field, const std::string& source,
                          int64_t expected_rows, int64_t expected_cols) {
  if (!rows.is_array()) input_error(source, ": '", field, "' must be a list of rows (lists of integers)");
  if (rows.empty()) input_error(source, ": '", field, "' is empty");
  const auto n_rows = static_cast<int64_t>(rows.size());
  if (expected_rows >= 0 && n_rows != expected_rows) {
    input_error(source, ": '", field, "' has ", n_rows, " rows, 'input_ids' has ", expected_rows);
  }
  std::vector<int64_t> flat;
  int64_t cols = expected_cols;
  for (int64_t r = 0; r < n_rows; ++r) {
    const auto& row = rows[static_cast<size_t>(r)];
    if (!row.is_array()) input_error(source, ": '", field, "' row ", r, " is not a list of integers");
    const auto n = static_cast<int64_t>(row.size());
    if (n == 0) input_error(source, ": '", field, "' row ", r, " is empty");
    if (cols < 0) cols = n;
    if (n != cols) {
      input_error(source, ": '", field, "' row ", r, " has ", n, " values, expected ", cols,
                  " (rows must be padded to one length)");
    }
    for (int64_t c = 0; c < n; ++c) {
      const auto& v = row[static_cast<size_t>(c)];
      if (!v.is_number_integer()) {
        input_error(source, ": '", field, "' row ", r, " position ", c, ": ", v.dump(), " is not an integer");
      }
      flat.push_back(v.get<int64_t>());
    }
  }
  return torch::tensor(flat, torch::kLong).view({n_rows, cols});
}

// [B, T] from a list of rows, or [B, K, T] from a list of examples of K rows each (multiple choice).
// `shape` is input_ids' shape (empty when reading input_ids itself).
torch::Tensor read_array(const nlohmann::json& doc, const char* field, const std::string& source,
                         const std::vector<int64_t>& shape) {
  const nlohmann::json& value = doc.at(field);
  const bool nested = value.is_array() && !value.empty() && value[0].is_array() && !value[0].empty() &&
                      value[0][0].is_array();
  if (!shape.empty() && nested != (shape.size() == 3)) {
    input_error(source, ": '", field, "' must have input_ids' ", shape.size(), " dimensions");
  }
  if (!nested) {
    return read_matrix(value, field, source, shape.empty() ? -1 : shape[0], shape.empty() ? -1 : shape[1]);
  }
  if (!shape.empty() && static_cast<int64_t>(value.size()) != shape[0]) {
    input_error(source, ": '", field, "' has ", value.size(), " examples, 'input_ids' has ", shape[0]);
  }
  std::vector<torch::Tensor> examples;
  int64_t K = shape.empty() ? -1 : shape[1], T = shape.empty() ? -1 : shape[2];
  for (size_t b = 0; b < value.size(); ++b) {
    const std::string name = std::string(field) + "[" + std::to_string(b) + "]";
    examples.push_back(read_matrix(value[b], name, source, K, T));  // [K, T]
    K = examples.back().size(0);
    T = examples.back().size(1);
  }
  return torch::stack(examples);  // [B, K, T]
}

}  // namespace

Inputs inputs_from_json(const nlohmann::json& doc, const std::string& source) {
  if (!doc.is_object()) input_error(source, ": expected a JSON object with 'input_ids' and 'attention_mask'");
  if (!doc.contains("input_ids")) input_error(source, ": field 'input_ids' is missing");
  Inputs in;
  in.input_ids = read_array(doc, "input_ids", source, {});
  const std::vector<int64_t> shape = in.input_ids.sizes().vec();
  if (doc.contains("attention_mask") && !doc.at("attention_mask").is_null()) {
    in.attention_mask = read_array(doc, "attention_mask", source, shape);
  } else {
    in.attention_mask = torch::ones(shape, torch::kLong);
  }
  if (doc.contains("token_type_ids") && !doc.at("token_type_ids").is_null()) {
    in.token_type_ids = read_array(doc, "token_type_ids", source, shape);
  }
  return in;
}

Inputs read_inputs_json(const std::filesystem::path& path) {
  return inputs_from_json(read_json_file(path), path.string());
}

}  // namespace stilts::models
