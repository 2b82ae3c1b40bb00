#include "pipeline/headline.h"

#include <algorithm>
#include <tuple>

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

std::string Headline::final_stage(const std::string& arm) const { return final_stage(arm, task); }

std::string Headline::final_stage(const std::string& arm, const std::string& t) const {
  const auto it = final_stages.find(arm);
  if (it == final_stages.end()) return "";
  const auto stage = it->second.find(t);
  return stage == it->second.end() ? "" : stage->second;
}

bool Headline::is_final(const std::string& arm, const std::string& stage) const {
  const auto it = final_stages.find(arm);
  if (it == final_stages.end()) return false;
  for (const auto& [t, s] : it->second) {
    if (s == stage) return true;
  }
  return false;
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
  const std::string a = final_stage(d.arm_a, d.task), b = final_stage(d.arm_b, d.task);
  if (a.empty() || b.empty()) return false;
  return d.stage == a ? a == b : d.stage == a + "|" + b;
}

bool Headline::holds(const DifferenceRow& d) const {
  return is_headline(d.task, d.split, d.metric) && at_final_stages(d);
}

Headline choose_headline(const std::vector<ResultRow>& results, const std::vector<ArmStageRow>& chains,
                         const HeadlineMetrics& declared) {
  Headline h;
  // arm -> stage -> task -> languages with results
  std::map<std::string, std::map<std::string, std::map<std::string, std::set<std::string>>>> held;
  for (const auto& r : results) held[r.arm][r.stage][r.task].insert(r.language);
  // The chains' targets per arm: named by the row, or the last stage of a chain without a name.
  std::map<std::string, std::set<std::string>> targets;
  std::map<std::tuple<std::string, int64_t, std::string>, std::pair<int64_t, std::string>> unnamed_last;
  for (const auto& c : chains) {
    if (!c.target.empty()) {
      targets[c.arm].insert(c.target);
      continue;
    }
    auto& last = unnamed_last[{c.arm, c.seed, c.language}];
    if (last.second.empty() || c.position > last.first) last = {c.position, c.stage};
  }
  for (const auto& [chain, last] : unnamed_last) targets[std::get<0>(chain)].insert(last.second);
  for (const auto& [arm, stages] : held) {
    auto& finals = h.final_stages[arm];
    for (const auto& target : targets[arm]) {  // by name: the first target of a task wins
      const auto it = stages.find(target);
      if (it == stages.end()) continue;
      for (const auto& [task, langs] : it->second) finals.emplace(task, target);
    }
    if (!finals.empty()) continue;
    size_t most = 0;
    std::string best;
    for (const auto& [stage, tasks] : stages) {
      size_t n = 0;
      for (const auto& [task, langs] : tasks) n = std::max(n, langs.size());
      if (n > most) most = n, best = stage;
    }
    for (const auto& [task, langs] : stages.at(best)) finals.emplace(task, best);
  }

  std::set<std::string> splits;
  for (const auto& r : results) {
    if (r.stage == h.final_stage(r.arm, r.task)) splits.insert(r.split);
  }
  h.split = splits.count("test") ? "test" : splits.count("dev") ? "dev" : (splits.empty() ? "" : *splits.begin());
  std::map<std::string, int> rows;                       // task -> final-stage results in the split
  std::map<std::string, std::set<std::string>> metrics;  // task -> their metrics
  for (const auto& r : results) {
    if (r.stage != h.final_stage(r.arm, r.task) || r.split != h.split) continue;
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
