#include "pipeline/headline.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "tasks/kind.h"

#include "eval/metrics.h"

namespace stilts::pipeline {

HeadlineMetrics declared_headlines(const std::optional<std::string>& experiment_json) {
  HeadlineMetrics out;
  if (!experiment_json) return out;
  const nlohmann::json experiment = nlohmann::json::parse(*experiment_json, nullptr, /*allow_exceptions=*/false);
  if (!experiment.is_object() || !experiment.contains("tasks") || !experiment.at("tasks").is_object()) return out;
  const std::vector<std::string> kinds = tasks::task_kind_names();
  for (const auto& [task, spec] : experiment.at("tasks").items()) {
    const std::string kind = spec.is_object() ? spec.value("kind", std::string()) : std::string();
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) continue;  // mlm, or not a kind this build has
    out[task] = tasks::task_kind(kind).metrics().front();
  }
  return out;
}

std::string headline_metric(const std::set<std::string>& metrics, const std::string& declared) {
  if (!declared.empty() && metrics.count(declared)) return declared;
  if (metrics.count("accuracy")) return "accuracy";
  return metrics.empty() ? "" : *metrics.begin();
}

std::string Headline::final_stage(const std::string& arm) const {
  const auto it = final_stages.find(arm);
  return it == final_stages.end() ? "" : it->second;
}

bool Headline::is_headline(const std::string& t, const std::string& s, const std::string& m) const {
  return t == task && s == split && m == metric;
}

bool Headline::holds(const ResultRow& r) const {
  return is_headline(r.task, r.split, r.metric) && r.stage == final_stage(r.arm);
}

bool Headline::holds(const SummaryRow& s) const {
  return is_headline(s.task, s.split, s.metric) && s.stage == final_stage(s.arm);
}

// arm_differences names a pair compared across stage names "stage_a|stage_b".
bool Headline::at_final_stages(const DifferenceRow& d) const {
  const std::string a = final_stage(d.arm_a), b = final_stage(d.arm_b);
  return d.stage == a ? a == b : d.stage == a + "|" + b;
}

bool Headline::holds(const DifferenceRow& d) const {
  return is_headline(d.task, d.split, d.metric) && at_final_stages(d);
}

Headline choose_headline(const std::vector<ResultRow>& results, const std::vector<ArmStageRow>& chains,
                         const HeadlineMetrics& declared) {
  Headline h;
  std::map<std::string, std::map<std::string, std::set<std::string>>> languages;  // arm -> stage -> languages
  for (const auto& r : results) languages[r.arm][r.stage].insert(r.language);
  std::map<std::string, int64_t> last_position;
  std::map<std::string, std::string> last_stage;
  for (const auto& c : chains) {
    const auto it = last_position.find(c.arm);
    if (it == last_position.end() || c.position > it->second)
      last_position[c.arm] = c.position, last_stage[c.arm] = c.stage;
  }
  for (const auto& [arm, stages] : languages) {
    const auto chained = last_stage.find(arm);
    if (chained != last_stage.end() && stages.count(chained->second)) {
      h.final_stages[arm] = chained->second;
      continue;
    }
    size_t most = 0;
    for (const auto& [stage, langs] : stages) {
      if (langs.size() > most) most = langs.size(), h.final_stages[arm] = stage;
    }
  }

  std::set<std::string> splits;
  for (const auto& r : results) {
    if (r.stage == h.final_stage(r.arm)) splits.insert(r.split);
  }
  h.split = splits.count("test") ? "test" : splits.count("dev") ? "dev" : (splits.empty() ? "" : *splits.begin());
  std::map<std::string, int> rows;                       // task -> final-stage results in the split
  std::map<std::string, std::set<std::string>> metrics;  // task -> their metrics
  for (const auto& r : results) {
    if (r.stage != h.final_stage(r.arm) || r.split != h.split) continue;
    ++rows[r.task];
    metrics[r.task].insert(r.metric);
  }
  int most = 0;
  for (const auto& [task, n] : rows) {
    if (n > most) most = n, h.task = task;
  }
  const auto d = declared.find(h.task);
  h.metric = headline_metric(metrics[h.task], d == declared.end() ? "" : d->second);
  if (!h.metric.empty()) {
    const auto& info = eval::metric_info(h.metric);
    h.higher_is_better = info.higher_is_better;
    h.fraction = info.fraction;
  }
  return h;
}

}  // namespace stilts::pipeline
