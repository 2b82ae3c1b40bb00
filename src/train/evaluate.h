// Running a model with a head over a dataset's features: predictions, losses, metrics per language.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/metrics.h"
#include "models/model.h"
#include "tasks/features.h"

namespace stilts::train {

enum class Precision { kFp32, kBf16 };
// "fp32" | "bf16".
Precision parse_precision(const std::string& name);

// CPU autocast to bfloat16 for the scope (nothing for fp32), as torch.autocast("cpu") does.
class AutocastScope {
 public:
  explicit AutocastScope(Precision precision);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  bool previous_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kBFloat16;
};

// The intra-op thread count for a precision when the user sets none: fp32 products run in OpenBLAS's
// own pool (more torch threads oversubscribe), bf16 ones in oneDNN, which scales with torch threads.
int default_threads(Precision precision);

// Hugging Face's losses: cross-entropy over [B, C] logits and int64 labels; MSE between the [B, 1]
// outputs and float targets (num_labels == 1). Computed in fp32 whatever the logits' dtype.
torch::Tensor task_loss(const torch::Tensor& logits, const torch::Tensor& labels, bool regression);

struct Predictions {
  std::vector<double> predicted;                // label id (argmax) or score, per example in feature order
  std::vector<double> gold;                     // label id or target score
  std::vector<std::vector<float>> probabilities;  // classification, when asked for: softmax per example
};

// Inference over every example (length-sorted batches of `batch_size`, dynamic padding). Restores the
// model's training mode afterwards.
Predictions predict(models::EncoderModel& model, const tasks::Features& features, int64_t batch_size,
                    Precision precision, bool keep_probabilities = false);

using GroupMetrics = std::map<std::string, eval::MetricMap>;  // "all" and each language -> metrics

// compute_metrics_by_group over the examples' languages when any is known, else just "all".
// Regression adds "mse" to pearson and spearman.
GroupMetrics metrics_by_language(bool regression, const Predictions& predictions,
                                 const std::vector<std::string>& languages);

// {"all": {"accuracy": 0.9, ...}, "en": {...}}, undefined values (NaN) as null.
nlohmann::json metrics_json(const GroupMetrics& metrics);

}  // namespace stilts::train
