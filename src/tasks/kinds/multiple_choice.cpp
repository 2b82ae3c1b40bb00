// Multiple choice (XCOPA, COPA, Social IQa), as XTREME's XCOPA code builds it: one (text_a, choice) pair
// a row, longest_first truncation, the K rows of an example side by side as [K, T]; the family's
// *ForMultipleChoice head scores each row and cross-entropy runs over the K scores; the prediction is
// the index of the best choice.
#include <torch/torch.h>

#include "common/error.h"
#include "tasks/batch.h"
#include "tasks/kinds/common.h"
#include "tasks/kinds/kinds.h"

namespace stilts::tasks::kinds {

namespace {

class MultipleChoiceKind final : public TaskKind {
 public:
  std::string name() const override { return "multiple-choice"; }
  models::HeadKind head() const override { return models::HeadKind::kMultipleChoice; }
  int64_t head_labels(const Dataset&) const override { return 1; }

  void check(const Dataset& dataset, bool need_gold) const override {
    const std::string source = source_of(dataset);
    if (!dataset.multiple_choice) {
      input_error(source, ": task kind 'multiple-choice' needs examples with choices (formats xcopa, copa, siqa), ",
                  "but the '", dataset.format, "' data holds ", dataset.tagging ? "tagged words" : "no choices");
    }
    if (need_gold && !dataset.labelled) {
      input_error(source, ": the file has no answers, which training and evaluation need");
    }
    size_t choices = 0;
    for (const Example& ex : dataset.examples) {
      if (ex.choices.size() < 2) input_error(example_context(dataset, ex), ": ", ex.choices.size(), " choices, expected 2 or more");
      if (choices != 0 && ex.choices.size() != choices) {
        input_error(example_context(dataset, ex), ": ", ex.choices.size(), " choices, but earlier examples have ",
                    choices, " (a dataset's examples need the same number)");
      }
      choices = ex.choices.size();
    }
  }

  Features featurize(const Dataset& dataset, const text::Tokenizer& tokenizer, int64_t max_length) const override {
    check(dataset, false);
    text_budget(tokenizer, true, max_length, source_of(dataset));
    Features f;
    start_features(f, dataset, tokenizer);
    f.rows_per_feature = dataset.examples.empty() ? 1 : static_cast<int64_t>(dataset.examples.front().choices.size());
    for (size_t e = 0; e < dataset.examples.size(); ++e) {
      const Example& ex = dataset.examples[e];
      const std::string context = example_context(dataset, ex);
      bool cut = false;
      for (const std::string& choice : ex.choices) {
        cut = add_text_row(f, tokenizer, ex.text_a, choice, max_length, context) || cut;
      }
      if (cut) ++f.truncated;
      if (ex.label < -1 || ex.label >= static_cast<int64_t>(ex.choices.size()) || (dataset.labelled && ex.label < 0)) {
        input_error(context, ": answer ", ex.label, " is not one of its ", ex.choices.size(), " choices");
      }
      f.example.push_back(static_cast<int64_t>(e));
      f.labels.push_back(ex.label);
      f.languages.push_back(ex.language);
    }
    return f;
  }

  Batch collate(const Features& features, const std::vector<size_t>& rows, torch::Device device) const override {
    const auto k = static_cast<size_t>(features.rows_per_feature);
    std::vector<size_t> choice_rows;
    choice_rows.reserve(rows.size() * k);
    for (size_t f : rows) {
      for (size_t c = 0; c < k; ++c) choice_rows.push_back(f * k + c);
    }
    Batch batch;
    batch.indices = rows;
    batch.inputs = pad_rows(features, choice_rows, device, &batch.real_tokens);  // [B·K, T]
    const auto b = static_cast<int64_t>(rows.size()), kk = static_cast<int64_t>(k);
    auto to_choices = [&](const torch::Tensor& t) { return t.defined() ? t.view({b, kk, t.size(1)}) : t; };
    batch.inputs.input_ids = to_choices(batch.inputs.input_ids);  // [B, K, T]
    batch.inputs.attention_mask = to_choices(batch.inputs.attention_mask);
    batch.inputs.token_type_ids = to_choices(batch.inputs.token_type_ids);
    torch::Tensor labels = torch::empty({b}, torch::kLong);  // [B]
    auto a = labels.accessor<int64_t, 1>();
    for (int64_t r = 0; r < b; ++r) a[r] = features.labels.at(rows[static_cast<size_t>(r)]);
    batch.labels = labels.to(device);
    return batch;
  }

  torch::Tensor loss(const torch::Tensor& logits, const Batch& batch) const override {
    return torch::cross_entropy_loss(logits.to(torch::kFloat), batch.labels);  // [B, K] vs [B]
  }

  std::vector<std::vector<float>> feature_outputs(const torch::Tensor& logits, const Batch&) const override {
    return rows_of(logits);  // [B, K]
  }

  Predictions decode(const Dataset& dataset, const Features& features, const std::vector<std::vector<float>>& outputs,
                     const text::Tokenizer&, bool keep_probabilities) const override {
    return decode_argmax(dataset, features, outputs, keep_probabilities);  // the best choice
  }

  std::vector<std::string> metrics() const override { return {"accuracy"}; }

  eval::IndexedMetric scorer(const std::string& metric, const std::vector<Value>& predicted,
                             const std::vector<Value>& gold) const override {
    if (metric != "accuracy") unknown_metric(name(), metric, metrics());
    return indexed(value_labels(predicted, "predicted choices"), value_labels(gold, "gold choices"), eval::accuracy);
  }

  // XTREME's XCOPA files: a JSON object with the chosen index as "label" a line.
  std::string submission(const Dataset&, const Predictions& predictions) const override {
    std::string out;
    for (const Value& v : predictions.predicted) out += nlohmann::json{{"label", v}}.dump() + "\n";
    return out;
  }
  std::string submission_extension() const override { return "jsonl"; }
};

}  // namespace

std::unique_ptr<TaskKind> multiple_choice(const KindSettings&) { return std::make_unique<MultipleChoiceKind>(); }

}  // namespace stilts::tasks::kinds
