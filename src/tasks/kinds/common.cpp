#include "tasks/kinds/common.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/error.h"

namespace stilts::tasks::kinds {

std::string source_of(const Dataset& dataset) { return dataset.source.empty() ? "dataset" : dataset.source; }

std::string example_context(const Dataset& dataset, const Example& example) {
  return source_of(dataset) + " (example " + example.id + ")";
}

void start_features(Features& features, const Dataset& dataset, const text::Tokenizer& tokenizer) {
  const text::Template& tmpl = tokenizer.special_template();
  features.label_names = dataset.label_names;
  features.pad_id = tmpl.pad_id;
  features.pad_type_id = tmpl.pad_type_id;
  features.left_padding = tmpl.padding_side == text::Side::kLeft;
}

int64_t text_budget(const text::Tokenizer& tokenizer, bool pair, int64_t max_length, const std::string& source) {
  const int64_t specials = tokenizer.special_template().num_special_tokens(pair);
  if (max_length <= specials) {
    input_error(source, ": max_length ", max_length, " leaves no room for text (the ", tokenizer.kind(),
                " template adds ", specials, " special tokens to each ", pair ? "pair" : "sentence", ")");
  }
  return max_length - specials;
}

void add_encoded_row(Features& features, const text::Encoding& enc, bool has_types) {
  auto& ids = features.input_ids.emplace_back(enc.input_ids.size());
  for (size_t t = 0; t < ids.size(); ++t) {
    STILTS_CHECK(enc.input_ids[t] >= 0 && enc.input_ids[t] <= std::numeric_limits<int32_t>::max(), "token id ",
                 enc.input_ids[t], " does not fit int32");
    ids[t] = static_cast<int32_t>(enc.input_ids[t]);
  }
  if (!has_types) return;
  STILTS_CHECK(enc.token_type_ids.size() == ids.size(), "token types ", enc.token_type_ids.size(), " vs ids ",
               ids.size());
  auto& types = features.token_type_ids.emplace_back(enc.token_type_ids.size());
  for (size_t t = 0; t < types.size(); ++t) {
    STILTS_CHECK(enc.token_type_ids[t] >= 0 && enc.token_type_ids[t] <= 127, "token type ", enc.token_type_ids[t],
                 " does not fit int8");
    types[t] = static_cast<int8_t>(enc.token_type_ids[t]);
  }
}

bool add_text_row(Features& features, const text::Tokenizer& tokenizer, const std::string& first,
                  const std::optional<std::string>& second, int64_t max_length, const std::string& context) {
  const text::Template& tmpl = tokenizer.special_template();
  std::vector<int64_t> a = tokenizer.tokenize(first, context);
  std::optional<std::vector<int64_t>> b;
  if (second) b = tokenizer.tokenize(*second, context);
  const auto untruncated =
      static_cast<int64_t>(a.size() + (b ? b->size() : 0)) + tmpl.num_special_tokens(b.has_value());
  text::EncodeOptions options;
  options.truncation = text::Truncation::kLongestFirst;
  options.max_length = max_length;
  const text::Encoding enc = tokenizer.build(std::move(a), std::move(b), options);
  add_encoded_row(features, enc, tmpl.returns_token_type_ids);
  return static_cast<int64_t>(enc.input_ids.size()) < untruncated;
}

eval::Scores value_scores(const std::vector<Value>& values, const char* what) {
  eval::Scores out(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    if (!values[i].is_number()) input_error(what, " row ", i + 1, ": expected a number, got ", values[i].dump());
    out[i] = values[i].get<double>();
  }
  return out;
}

eval::Labels value_labels(const std::vector<Value>& values, const char* what) {
  return eval::to_labels(value_scores(values, what), what);
}

int64_t argmax(const std::vector<float>& values) {
  STILTS_CHECK(!values.empty(), "argmax of nothing");
  return std::max_element(values.begin(), values.end()) - values.begin();
}

std::vector<float> softmax(const std::vector<float>& logits) {
  const double top = logits[static_cast<size_t>(argmax(logits))];
  double sum = 0;
  for (float z : logits) sum += std::exp(static_cast<double>(z) - top);
  std::vector<float> out;
  out.reserve(logits.size());
  for (float z : logits) out.push_back(static_cast<float>(std::exp(static_cast<double>(z) - top) / sum));
  return out;
}

Predictions one_per_example(const Dataset& dataset, const Features& features,
                            const std::vector<std::vector<float>>& outputs) {
  const size_t n = dataset.examples.size();
  STILTS_CHECK(features.size() == n && outputs.size() == n, "one feature per example: ", features.size(), ", ",
               outputs.size(), " for ", n);
  Predictions p;
  p.predicted.resize(n);
  p.gold.resize(n);
  return p;
}

Predictions decode_argmax(const Dataset& dataset, const Features& features,
                          const std::vector<std::vector<float>>& outputs, bool keep_probabilities) {
  Predictions p = one_per_example(dataset, features, outputs);
  if (keep_probabilities) p.probabilities.resize(p.predicted.size());
  for (size_t i = 0; i < p.predicted.size(); ++i) {
    const auto e = static_cast<size_t>(features.example[i]);
    p.predicted[e] = argmax(outputs[i]);
    const int64_t label = dataset.examples[e].label;
    p.gold[e] = label >= 0 ? Value(label) : Value();
    if (keep_probabilities) p.probabilities[e] = softmax(outputs[i]);
  }
  return p;
}

std::vector<std::vector<float>> rows_of(const torch::Tensor& logits) {
  const auto z = logits.to(torch::kFloat).contiguous().cpu();  // [B, C]
  const int64_t rows = z.size(0), cols = z.size(1);
  const float* p = z.data_ptr<float>();
  std::vector<std::vector<float>> out(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) out[static_cast<size_t>(r)].assign(p + r * cols, p + (r + 1) * cols);
  return out;
}

void unknown_metric(const std::string& kind, const std::string& metric, const std::vector<std::string>& known) {
  std::string list;
  for (const auto& m : known) list += (list.empty() ? "" : ", ") + m;
  input_error("task kind '", kind, "' does not report metric '", metric, "' (it reports ", list, ")");
}

}  // namespace stilts::tasks::kinds
