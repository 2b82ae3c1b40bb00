// What several task kinds share: the feature layout of one text (pair) per row, label conversion of
// Values, softmax and argmax of per-feature outputs. Only the kinds' files include this.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tasks/kind.h"
#include "text/tokenizer.h"

namespace stilts::tasks::kinds {

// The template's fields of `features` (pad ids, padding side) for `tokenizer`.
void start_features(Features& features, const Dataset& dataset, const text::Tokenizer& tokenizer);

// Appends one row: `first` (and `second`) tokenized, longest_first truncation to `max_length`, the
// template around it. Returns whether tokens were cut. `context` names the example in errors.
bool add_text_row(Features& features, const text::Tokenizer& tokenizer, const std::string& first,
                  const std::optional<std::string>& second, int64_t max_length, const std::string& context);

// Appends an Encoding's ids and token types as one row.
void add_encoded_row(Features& features, const text::Encoding& encoding, bool has_types);

// `max_length` minus the specials the template adds (InputError naming `source` when nothing is left).
int64_t text_budget(const text::Tokenizer& tokenizer, bool pair, int64_t max_length, const std::string& source);

// The example's source and id, for errors.
std::string example_context(const Dataset& dataset, const Example& example);
std::string source_of(const Dataset& dataset);

// Values as label ids (numbers holding integers) / scores; InputError naming `what` and the row otherwise.
eval::Labels value_labels(const std::vector<Value>& values, const char* what);
eval::Scores value_scores(const std::vector<Value>& values, const char* what);

// The entries of `all` at `indices` (every entry when `indices` is empty).
template <typename T>
std::vector<T> pick(const std::vector<T>& all, const std::vector<size_t>& indices) {
  std::vector<T> out;
  out.reserve(indices.size());
  for (size_t i : indices) out.push_back(all[i]);
  return out;
}

// An IndexedMetric of `fn(predicted[indices], gold[indices])`.
template <typename T, typename Fn>
eval::IndexedMetric indexed(std::vector<T> predicted, std::vector<T> gold, Fn fn) {
  return [predicted = std::move(predicted), gold = std::move(gold), fn](const std::vector<size_t>& indices) {
    return fn(pick(predicted, indices), pick(gold, indices));
  };
}

// Index of the largest value (the first on ties, as torch.argmax).
int64_t argmax(const std::vector<float>& values);
// Softmax in double, rounded to float.
std::vector<float> softmax(const std::vector<float>& logits);

// Predictions sized for `dataset`'s examples, after checking there is one feature (and one output) per
// example.
Predictions one_per_example(const Dataset& dataset, const Features& features,
                            const std::vector<std::vector<float>>& outputs);

// One feature per example, decoded by argmax: the prediction is the index of the largest output (a class
// or a choice), gold the example's label (null when it has none), probabilities the softmax when asked.
Predictions decode_argmax(const Dataset& dataset, const Features& features,
                          const std::vector<std::vector<float>>& outputs, bool keep_probabilities);

// logits [B, C] (fp32 on the CPU) as one vector of C per row.
std::vector<std::vector<float>> rows_of(const torch::Tensor& logits);

// InputError: `kind` does not report `metric`.
[[noreturn]] void unknown_metric(const std::string& kind, const std::string& metric,
                                 const std::vector<std::string>& known);

}  // namespace stilts::tasks::kinds
