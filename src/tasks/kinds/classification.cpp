// Sequence classification of single sentences or sentence pairs, and regression: one row per example,
// the family's *ForSequenceClassification head, cross-entropy (or MSE with one output), a label id (or
// a score) per example.
#include <torch/torch.h>

#include "common/error.h"
#include "tasks/batch.h"
#include "tasks/kinds/common.h"
#include "tasks/kinds/kinds.h"

namespace stilts::tasks::kinds {

namespace {

enum class Shape { kSingle, kPair, kScore };

class SequenceKind final : public TaskKind {
 public:
  explicit SequenceKind(Shape shape) : shape_(shape) {}

  std::string name() const override {
    return shape_ == Shape::kSingle ? "classification" : shape_ == Shape::kPair ? "pair-classification" : "regression";
  }
  models::HeadKind head() const override { return models::HeadKind::kSequenceClassification; }
  int64_t head_labels(const Dataset& dataset) const override {
    return regression() ? 1 : static_cast<int64_t>(dataset.label_names.size());
  }

  void check(const Dataset& dataset, bool need_gold) const override {
    const std::string source = source_of(dataset);
    if (dataset.tagging || dataset.multiple_choice) {
      input_error(source, ": the '", dataset.format, "' data holds ", dataset.tagging ? "tagged words" : "choices",
                  ", which task kind '", name(), "' cannot use; use kind '",
                  dataset.tagging ? "tagging" : "multiple-choice", "'");
    }
    if (need_gold && !dataset.labelled) {
      input_error(source, ": the file has no gold labels, which training and evaluation need");
    }
    if (regression()) {
      if (!dataset.regression) {
        input_error(source, ": task kind 'regression' needs a dataset read with regression targets, but this one ",
                    "has class labels {", dataset.label_names.size(), " classes}; use '",
                    dataset.pairs ? "pair-classification" : "classification", "' or read it as a regression");
      }
      return;
    }
    if (dataset.regression) {
      input_error(source, ": the dataset has regression targets but the task kind is '", name(),
                  "'; use task kind 'regression'");
    }
    if (dataset.label_names.empty()) {
      input_error(source, ": the dataset has no label set, which task kind '", name(), "' needs");
    }
    if (shape_ == Shape::kPair && !dataset.pairs) {
      input_error(source, ": the dataset has single sentences but the task kind is 'pair-classification'; ",
                  "use 'classification' (or read the second sentence column, e.g. text_b_column)");
    }
    if (shape_ == Shape::kSingle && dataset.pairs) {
      input_error(source, ": the dataset has sentence pairs but the task kind is 'classification' (single ",
                  "sentences); use 'pair-classification'");
    }
  }

  Features featurize(const Dataset& dataset, const text::Tokenizer& tokenizer, int64_t max_length) const override {
    check(dataset, false);
    const std::string source = source_of(dataset);
    text_budget(tokenizer, dataset.pairs, max_length, source);
    Features f;
    start_features(f, dataset, tokenizer);
    const auto num_labels = static_cast<int64_t>(dataset.label_names.size());
    for (size_t i = 0; i < dataset.examples.size(); ++i) {
      const Example& ex = dataset.examples[i];
      const std::string context = example_context(dataset, ex);
      if (dataset.pairs && !ex.text_b) {
        input_error(context, ": the dataset has sentence pairs but this example has no second sentence");
      }
      if (add_text_row(f, tokenizer, ex.text_a, dataset.pairs ? ex.text_b : std::nullopt, max_length, context)) {
        ++f.truncated;
      }
      f.example.push_back(static_cast<int64_t>(i));
      if (regression()) {
        f.scores.push_back(static_cast<float>(ex.score));
      } else {
        const bool unlabelled = !dataset.labelled && ex.label == -1;
        if (!unlabelled && (ex.label < 0 || ex.label >= num_labels)) {
          input_error(context, ": label id ", ex.label, " is outside the label set of ", num_labels, " classes");
        }
        f.labels.push_back(ex.label);
      }
      f.languages.push_back(ex.language);
    }
    return f;
  }

  Batch collate(const Features& features, const std::vector<size_t>& rows, torch::Device device) const override {
    Batch batch;
    batch.indices = rows;
    batch.inputs = pad_rows(features, rows, device, &batch.real_tokens);
    const auto count = static_cast<int64_t>(rows.size());
    torch::Tensor labels;  // [B]
    if (regression()) {
      STILTS_CHECK(features.scores.size() == features.size(), "scores for ", features.scores.size(), " of ",
                   features.size(), " features");
      labels = torch::empty({count}, torch::kFloat);
      auto a = labels.accessor<float, 1>();
      for (int64_t r = 0; r < count; ++r) a[r] = features.scores[rows[static_cast<size_t>(r)]];
    } else {
      STILTS_CHECK(features.labels.size() == features.size(), "labels for ", features.labels.size(), " of ",
                   features.size(), " features");
      labels = torch::empty({count}, torch::kLong);
      auto a = labels.accessor<int64_t, 1>();
      for (int64_t r = 0; r < count; ++r) a[r] = features.labels[rows[static_cast<size_t>(r)]];
    }
    batch.labels = labels.to(device);
    return batch;
  }

  torch::Tensor loss(const torch::Tensor& logits, const Batch& batch) const override {
    const auto z = logits.to(torch::kFloat);  // [B, C]
    if (regression()) return torch::mse_loss(z.squeeze(-1), batch.labels.to(torch::kFloat));  // [B] vs [B]
    return torch::cross_entropy_loss(z, batch.labels);
  }

  std::vector<std::vector<float>> feature_outputs(const torch::Tensor& logits, const Batch&) const override {
    return rows_of(logits);  // [B, C]
  }

  Predictions decode(const Dataset& dataset, const Features& features, const std::vector<std::vector<float>>& outputs,
                     const text::Tokenizer&, bool keep_probabilities) const override {
    if (!regression()) return decode_argmax(dataset, features, outputs, keep_probabilities);
    Predictions p = one_per_example(dataset, features, outputs);
    for (size_t i = 0; i < p.predicted.size(); ++i) {
      const auto e = static_cast<size_t>(features.example[i]);
      p.predicted[e] = static_cast<double>(outputs[i].at(0));
      p.gold[e] = dataset.examples[e].score;
    }
    return p;
  }

  std::vector<std::string> metrics() const override {
    if (regression()) return {"pearson", "spearman", "mse"};
    return {"accuracy", "macro_f1"};
  }

  eval::IndexedMetric scorer(const std::string& metric, const std::vector<Value>& predicted,
                             const std::vector<Value>& gold) const override {
    if (regression()) {
      eval::Scores p = value_scores(predicted, "predicted scores"), g = value_scores(gold, "gold scores");
      if (metric == "pearson") return indexed(std::move(p), std::move(g), eval::pearson);
      if (metric == "spearman") return indexed(std::move(p), std::move(g), eval::spearman);
      if (metric == "mse") return indexed(std::move(p), std::move(g), eval::mean_squared_error);
    } else {
      eval::Labels p = value_labels(predicted, "predicted labels"), g = value_labels(gold, "gold labels");
      if (metric == "accuracy") return indexed(std::move(p), std::move(g), eval::accuracy);
      if (metric == "macro_f1") {
        return indexed(std::move(p), std::move(g),
                       [](const eval::Labels& a, const eval::Labels& b) { return eval::macro_f1(a, b); });
      }
    }
    unknown_metric(name(), metric, metrics());
  }

  // XTREME's classification files (pawsx, xnli): one label name a line; regression: one score a line.
  std::string submission(const Dataset& dataset, const Predictions& predictions) const override {
    std::string out;
    for (const Value& v : predictions.predicted) {
      if (regression()) {
        out += v.dump() + "\n";
      } else {
        out += dataset.label_names.at(static_cast<size_t>(v.get<int64_t>())) + "\n";
      }
    }
    return out;
  }
  std::string submission_extension() const override { return "tsv"; }

 private:
  bool regression() const { return shape_ == Shape::kScore; }
  Shape shape_;
};

}  // namespace

std::unique_ptr<TaskKind> classification(const KindSettings&) { return std::make_unique<SequenceKind>(Shape::kSingle); }
std::unique_ptr<TaskKind> pair_classification(const KindSettings&) { return std::make_unique<SequenceKind>(Shape::kPair); }
std::unique_ptr<TaskKind> regression(const KindSettings&) { return std::make_unique<SequenceKind>(Shape::kScore); }

}  // namespace stilts::tasks::kinds
