// Running a model with a head over a dataset's features: predictions, losses, metrics per language.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/precision.h"
#include "eval/metrics.h"
#include "models/model.h"
#include "models/pretrained.h"
#include "tasks/datasets/dataset.h"
#include "tasks/features.h"
#include "tasks/kind.h"
#include "train/config.h"
#include "train/head.h"

namespace stilts::text {
class Tokenizer;
}

namespace stilts::train {

class ProcessGroup;  // train/distributed.h

using ::stilts::parse_precision;
using ::stilts::Precision;

// Autocast for the scope on `device`'s type (nothing for fp32 and int8), as torch.autocast(device_type,
// dtype) does: on the CPU to bfloat16 (libtorch 1.13's CPU autocast has no float16: fp16 there is an
// InputError), on CUDA to bfloat16 or float16.
class AutocastScope {
 public:
  explicit AutocastScope(Precision precision, torch::Device device = torch::kCPU);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  bool cuda_ = false;
  bool previous_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kBFloat16;
};

using GroupMetrics = std::map<std::string, eval::MetricMap>;  // "all" and each language -> metrics

// Inference over every feature (length-sorted batches of `batch_size`, dynamic padding), decoded by
// `kind` into one prediction per example of `dataset` (`tokenizer`: the one that made the features).
// Restores the model's training mode afterwards. With a process group (`group`: every rank calls it
// alike), rank r runs batches r, r + N, ... and the outputs are gathered, so every rank decodes the
// same predictions as one process would. Precision int8 runs the model's nn::Linear layers dynamically
// quantized (models::Int8Linears, packed for the call; CPU only, InputError elsewhere).
tasks::Predictions predict(models::EncoderModel& model, const tasks::TaskKind& kind, const tasks::Dataset& dataset,
                           const tasks::Features& features, const text::Tokenizer& tokenizer, int64_t batch_size,
                           Precision precision, bool keep_probabilities = false, ProcessGroup* group = nullptr);

// The task kind a config trains, with its settings (extractive QA's windows and spans).
std::unique_ptr<tasks::TaskKind> task_kind_of(const TrainConfig& config);

// The kind's metrics over every example ("all") and, when any example's language is known, per
// language ("unknown" for the others).
GroupMetrics metrics_by_language(const tasks::TaskKind& kind, const tasks::Predictions& predictions,
                                 const tasks::Dataset& dataset);

// The longest row a model can embed: `requested` clamped to its position table (the one place this is
// decided; a note goes to `log` when it clamps).
int64_t effective_max_length(const models::EncoderModel& model, int64_t requested, std::ostream* log = nullptr);

// ---- evaluating a model on a data file: `stilts eval`, the study runner and the benchmark ----

// A model directory loaded with its head for inference, its tokenizer and what the head predicts (head
// kNone for a base model, which only kinds that read hidden states take: read_for_model says so).
struct EvalModel {
  std::filesystem::path dir;
  models::LoadedModel loaded;
  std::shared_ptr<text::Tokenizer> tokenizer;
  LabelSpace head;
};
// `loaded`: the directory's model already in memory
// (the benchmark's), used instead of loading it again.
EvalModel load_eval_model(const std::filesystem::path& dir, std::shared_ptr<models::EncoderModel> loaded = nullptr);

// Where and how a data file is read and tokenized for a model.
struct DataFile {
  std::filesystem::path path;
  std::string format;
  tasks::ReadOptions read;
  int64_t max_length = 128;        // clamped to the model's positions
  int64_t max_examples = 0;        // > 0: the first this many examples only (the benchmark)
  std::filesystem::path cache_dir;  // features cache; "" = none
};

// A data file of a training config's task: its format, read options (`language` when not empty),
// max_length and features cache.
DataFile data_file_of(const TrainConfig& config, const std::string& path, const std::string& language = "");

// The file read and tokenized as the model sees it: gold labels (classes, tags) mapped into the head's
// label space by name (by position when the head's names are transformers' LABEL_0.. defaults).
// InputError naming the file for data the kind or the head cannot take.
struct PreparedData {
  tasks::Dataset data;
  tasks::Features features;
};
PreparedData prepare_data(const EvalModel& model, const tasks::TaskKind& kind, const DataFile& file);

// The file as the model reads it (prepare_data without the features): read_data, then fit_for_kind.
tasks::Dataset read_for_model(const EvalModel& model, const tasks::TaskKind& kind, const DataFile& file);

// The file as the model reads it before a task kind is chosen (labels in the head's order, the first
// max_examples): what `stilts eval --task auto` picks the kind from (kind_for_data) and then evaluates.
tasks::Dataset read_data(const EvalModel& model, const DataFile& file);
// `data` (read_data's, of `file`) checked for `kind` and its gold mapped into the head's label space.
tasks::Dataset fit_for_kind(const EvalModel& model, const tasks::TaskKind& kind, const DataFile& file,
                            tasks::Dataset data);

// evaluate_file featurizes kFeaturizeExamples examples at a time (each piece its own features-cache
// entry), runs the model and decodes once it holds kEvalWindows features or more, and keeps only the
// predictions: a file of any size, with contexts cut into any number of windows, is evaluated in memory
// bounded by those two. A file of fewer features is run in one go.
inline constexpr size_t kFeaturizeExamples = 256;
inline constexpr size_t kEvalWindows = 8192;

struct FileEvaluation {
  tasks::Dataset data;  // as read_for_model reads it
  tasks::Predictions predictions;
  GroupMetrics metrics;  // empty when the file has no gold
  std::vector<std::string> notes;  // the features' notes (Features::notes), for the caller's log
};
// How evaluate_file runs the model.
struct EvalSettings {
  int64_t batch_size = 32;
  Precision precision = Precision::kFp32;
  bool keep_probabilities = false;
  // With ranks (every rank calls evaluate_file alike): each runs its share of the batches and every
  // rank gets the gathered predictions and metrics (predict).
  ProcessGroup* group = nullptr;
};
FileEvaluation evaluate_file(EvalModel& model, const tasks::TaskKind& kind, const DataFile& file,
                             const EvalSettings& settings);
// evaluate_file on `data`, the file as read_data read it (not read again).
FileEvaluation evaluate_data(EvalModel& model, const tasks::TaskKind& kind, const DataFile& file, tasks::Dataset data,
                             const EvalSettings& settings);

// {"all": {"accuracy": 0.9, ...}, "en": {...}}, undefined values (NaN) as null.
nlohmann::json metrics_json(const GroupMetrics& metrics);

}  // namespace stilts::train
