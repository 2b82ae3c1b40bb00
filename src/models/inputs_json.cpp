#include "models/inputs_json.h"

#include "common/error.h"
#include "common/files.h"

namespace stilts::models {

namespace {

// A rectangular [rows, cols] integer matrix from a list of lists.
torch::Tensor read_matrix(const nlohmann::json& doc, const char* field, const std::string& source,
                          int64_t expected_rows, int64_t expected_cols) {
  const nlohmann::json& rows = doc.at(field);
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

}  // namespace

Inputs inputs_from_json(const nlohmann::json& doc, const std::string& source) {
  if (!doc.is_object()) input_error(source, ": expected a JSON object with 'input_ids' and 'attention_mask'");
  if (!doc.contains("input_ids")) input_error(source, ": field 'input_ids' is missing");
  Inputs in;
  in.input_ids = read_matrix(doc, "input_ids", source, -1, -1);
  const int64_t B = in.input_ids.size(0);
  const int64_t T = in.input_ids.size(1);
  if (doc.contains("attention_mask") && !doc.at("attention_mask").is_null()) {
    in.attention_mask = read_matrix(doc, "attention_mask", source, B, T);
  } else {
    in.attention_mask = torch::ones({B, T}, torch::kLong);
  }
  if (doc.contains("token_type_ids") && !doc.at("token_type_ids").is_null()) {
    in.token_type_ids = read_matrix(doc, "token_type_ids", source, B, T);
  }
  return in;
}

Inputs read_inputs_json(const std::filesystem::path& path) {
  return inputs_from_json(read_json_file(path), path.string());
}

}  // namespace stilts::models
