#include "train/evaluate.h"

#include <ATen/autocast_mode.h>

#include "common/error.h"
#include "tasks/batch.h"

namespace stilts::train {

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::kFp32;
  if (name == "bf16") return Precision::kBf16;
  input_error("unknown precision '", name, "' (expected fp32 or bf16)");
}

AutocastScope::AutocastScope(Precision precision) : active_(precision == Precision::kBf16) {
  if (!active_) return;
  previous_enabled_ = at::autocast::is_cpu_enabled();
  previous_dtype_ = at::autocast::get_autocast_cpu_dtype();
  at::autocast::set_cpu_enabled(true);
  at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_cpu_enabled(previous_enabled_);
  at::autocast::set_autocast_cpu_dtype(previous_dtype_);
}

int default_threads(Precision precision) { return precision == Precision::kBf16 ? 2 : 1; }

torch::Tensor task_loss(const torch::Tensor& logits, const torch::Tensor& labels, bool regression) {
  const auto z = logits.to(torch::kFloat);  // [B, C]
  if (regression) return torch::mse_loss(z.squeeze(-1), labels.to(torch::kFloat));  // [B] vs [B]
  return torch::cross_entropy_loss(z, labels);
}

Predictions predict(models::EncoderModel& model, const tasks::Features& features, int64_t batch_size,
                    Precision precision, bool keep_probabilities) {
  STILTS_CHECK(model.has_head(), "predict needs a model with a head");
  const bool was_training = model.is_training();
  model.eval();
  Predictions out;
  const size_t n = features.size();
  out.predicted.assign(n, 0.0);
  out.gold.assign(n, 0.0);
  if (keep_probabilities && !features.regression) out.probabilities.assign(n, {});
  {
    torch::NoGradGuard no_grad;
    AutocastScope autocast(precision);
    for (const auto& indices : tasks::bucketed_batches(features, batch_size, /*seed=*/0, /*epoch=*/0,
                                                       /*shuffle=*/false)) {
      const tasks::Batch batch = tasks::collate(features, indices, torch::kCPU);
      const auto logits = model.logits(batch.inputs).to(torch::kFloat).contiguous();  // [B, C]
      if (features.regression) {
        const auto scores = logits.squeeze(-1);  // [B]
        const float* s = scores.data_ptr<float>();
        for (size_t i = 0; i < indices.size(); ++i) out.predicted[indices[i]] = s[i];
      } else {
        const auto argmax = logits.argmax(-1);  // [B]
        const int64_t* a = argmax.data_ptr<int64_t>();
        for (size_t i = 0; i < indices.size(); ++i) out.predicted[indices[i]] = static_cast<double>(a[i]);
        if (keep_probabilities) {
          const auto probs = torch::softmax(logits, -1).contiguous();  // [B, C]
          const int64_t c = probs.size(1);
          const float* p = probs.data_ptr<float>();
          for (size_t i = 0; i < indices.size(); ++i) {
            out.probabilities[indices[i]].assign(p + static_cast<int64_t>(i) * c, p + (static_cast<int64_t>(i) + 1) * c);
          }
        }
      }
    }
  }
  for (size_t i = 0; i < n; ++i) {
    out.gold[i] = features.regression ? static_cast<double>(features.scores[i]) : static_cast<double>(features.labels[i]);
  }
  if (was_training) model.train();
  return out;
}

GroupMetrics metrics_by_language(bool regression, const Predictions& predictions,
                                 const std::vector<std::string>& languages) {
  const auto kind = regression ? eval::TaskKind::kRegression : eval::TaskKind::kClassification;
  bool any_language = false;
  for (const auto& l : languages) any_language = any_language || !l.empty();
  GroupMetrics out;
  if (any_language && languages.size() == predictions.predicted.size()) {
    std::vector<std::string> groups = languages;
    for (auto& g : groups) {
      if (g.empty()) g = "unknown";
    }
    out = eval::compute_metrics_by_group(kind, predictions.predicted, predictions.gold, groups);
  } else {
    out["all"] = eval::compute_metrics(kind, predictions.predicted, predictions.gold);
  }
  if (regression) {
    const auto mse = eval::metric_by_name("mse");
    std::map<std::string, std::pair<eval::Scores, eval::Scores>> split;
    auto add = [&](const std::string& group, size_t i) {
      split[group].first.push_back(predictions.predicted[i]);
      split[group].second.push_back(predictions.gold[i]);
    };
    for (size_t i = 0; i < predictions.predicted.size(); ++i) {
      add("all", i);
      if (any_language) add(languages[i].empty() ? "unknown" : languages[i], i);
    }
    for (auto& [group, metrics] : out) {
      if (split.count(group)) metrics["mse"] = mse(split[group].first, split[group].second);
    }
  }
  return out;
}

nlohmann::json metrics_json(const GroupMetrics& metrics) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [group, values] : metrics) {
    nlohmann::json g = nlohmann::json::object();
    for (const auto& [name, value] : values) g[name] = eval::is_defined(value) ? nlohmann::json(value) : nlohmann::json();
    out[group] = g;
  }
  return out;
}

}  // namespace stilts::train
