// Task kinds: each kind of task is one unit that owns its whole meaning, from a dataset's examples to
// scored and written predictions (../shared/DESIGN.md, "Tasks and heads"):
//
//   examples → featurize (1..n features per example) → collate → [model] → loss
//                                                          outputs → decode (one prediction per example) → metrics
//
// Kinds: classification, pair-classification, regression (kinds/classification.cpp), tagging
// (kinds/tagging.cpp), multiple-choice (kinds/multiple_choice.cpp), extractive-qa (kinds/extractive_qa.cpp),
// retrieval and sentence-retrieval (kinds/retrieval.cpp). Each kind's file defines its class and
// kind.cpp lists it in one registry line. Callers (the trainer, `stilts eval`, the study runner, the
// benchmark, the study statistics) go through this interface and never switch on the kind.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/metrics.h"
#include "models/model.h"
#include "tasks/features.h"

namespace stilts::text {
class Tokenizer;
}
namespace stilts::models {
class EncoderModel;
}

namespace stilts::tasks {

struct Batch;

// One example's gold or prediction, as predictions files and results.sqlite hold it: a number (a class
// or choice index, a regression score) or an array of label names (tagging: one tag per word).
using Value = nlohmann::json;

// One prediction per example, in the dataset's order.
struct Predictions {
  std::vector<Value> predicted;
  std::vector<Value> gold;                        // null where the data has no gold
  std::vector<std::vector<float>> probabilities;  // one-label kinds, when asked for: softmax per example
};

// Settings of the kinds that cut an example into windows and search answer spans in them (extractive QA,
// with the names and defaults of transformers' SQuAD pipeline and XTREME's run_squad.py); the other
// kinds take none.
struct KindSettings {
  int64_t doc_stride = 128;        // context tokens between the starts of consecutive windows
  int64_t max_query_length = 64;   // question tokens kept (the rest cut)
  int64_t max_answer_length = 30;  // the longest answer span, in tokens
  int64_t n_best = 20;             // start and end candidates per window
  // Sentence retrieval: the hidden state whose mean is a sentence's embedding, as transformers numbers
  // hidden_states (0 = the embeddings, L = the last layer; XTREME's mBERT setting, its "layer 7", is 8);
  // -1 = the last layer.
  int64_t layer = -1;
};

class TaskKind {
 public:
  virtual ~TaskKind() = default;
  virtual std::string name() const = 0;
  // The head the kind trains and predicts with (kNone: the kind reads hidden states and trains nothing).
  virtual models::HeadKind head() const = 0;
  // Whether a model with `head` can be evaluated by the kind: head() itself, or any for a kind that reads
  // hidden states only.
  virtual bool accepts_head(models::HeadKind model_head) const { return model_head == head(); }
  // Whether examples may be featurized, run and decoded a piece at a time (evaluate_file's bounded memory);
  // false when decoding needs every feature at once (retrieval ranks each query against the whole pool).
  virtual bool decodes_in_pieces() const { return true; }
  // Outputs the head needs for `dataset` (classes, tags; 1 for regression and multiple choice).
  virtual int64_t head_labels(const Dataset& dataset) const = 0;
  // Whether `dataset` is data of this kind; InputError naming its source and what to use otherwise.
  // Gold is required unless `need_gold` is false (a file read for prediction only).
  virtual void check(const Dataset& dataset, bool need_gold) const = 0;

  // The settings featurize depends on, as text for the features cache key ("" for none).
  virtual std::string settings_key() const { return ""; }

  // Tokenized features (see features.h); InputError naming the source and example.
  virtual Features featurize(const Dataset& dataset, const text::Tokenizer& tokenizer, int64_t max_length) const = 0;
  // Features `rows` (feature indices) as model inputs and training targets on `device`.
  virtual Batch collate(const Features& features, const std::vector<size_t>& rows, torch::Device device) const = 0;
  // What the model computes for a batch, the `logits` loss and feature_outputs take: the head's logits
  // (EncoderModel::logits) unless the kind says otherwise (retrieval: embeddings, and for a training batch
  // of pairs the scaled query-positive similarities).
  virtual torch::Tensor forward(models::EncoderModel& model, const Batch& batch) const;
  // Hugging Face's loss for the head's logits (as forward gives them), in fp32.
  virtual torch::Tensor loss(const torch::Tensor& logits, const Batch& batch) const = 0;
  // How many terms `loss` averages over for `batch` (its rows unless the kind's loss averages over
  // something else): data-parallel training weighs each rank's shard by it, so that the shards' losses
  // combine into the loss of the whole batch.
  virtual double loss_weight(const Batch& batch) const;
  // Whether the loss of a training batch of `features` couples its rows (retrieval's in-batch negatives),
  // so that a rank's shard alone cannot compute its part: under data-parallel ranks forward then sees the
  // whole global batch through batch.rank_rows, and loss is the whole batch's on every rank.
  virtual bool couples_rows(const Features&) const { return false; }
  // What decode needs of each batch row, copied off the device (class logits, argmax tags, ...).
  virtual std::vector<std::vector<float>> feature_outputs(const torch::Tensor& logits, const Batch& batch) const = 0;
  // Per-feature outputs (indexed like `features`) into one prediction per example of `dataset`;
  // `tokenizer` (the one that made the features) turns predicted tokens back into text.
  virtual Predictions decode(const Dataset& dataset, const Features& features,
                             const std::vector<std::vector<float>>& outputs, const text::Tokenizer& tokenizer,
                             bool keep_probabilities) const = 0;

  // The metrics the kind reports, the headline (what "best" and the study's tables use) first. Their
  // direction and display scale are eval::metric_info's.
  virtual std::vector<std::string> metrics() const = 0;
  // `metric` of the examples a resample draws (indices into predicted/gold, repeats allowed): the
  // values are converted once, so the paired bootstrap is cheap. InputError for a metric the kind does
  // not report or values of the wrong shape.
  virtual eval::IndexedMetric scorer(const std::string& metric, const std::vector<Value>& predicted,
                                     const std::vector<Value>& gold) const = 0;

  // Predictions in XTREME's submission format (what evaluate.py reads for tasks of this kind), one
  // example after another in dataset order.
  // Label ids index dataset.label_names.
  virtual std::string submission(const Dataset& dataset, const Predictions& predictions) const = 0;
  // The submission file's extension when XTREME's task table names none ("tsv", "jsonl").
  virtual std::string submission_extension() const = 0;
};

// The kind named `name` with the default settings; InputError listing the kinds otherwise.
const TaskKind& task_kind(std::string_view name);
// The kind named `name` with `settings` (InputError for a setting below 1).
std::unique_ptr<TaskKind> make_task_kind(std::string_view name, const KindSettings& settings);
// The first kind (in registry order) whose check accepts `dataset` without gold: for callers that only
// need inputs (the benchmark). InputError naming the source when no kind takes it.
// With `head`, only kinds that train that head are considered.
const TaskKind& kind_for_data(const Dataset& dataset, std::optional<models::HeadKind> head = std::nullopt);
// Every kind's name, in registry order.
std::vector<std::string> task_kind_names();

}  // namespace stilts::tasks
