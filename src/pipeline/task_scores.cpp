#include "pipeline/task_scores.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "eval/metrics.h"

namespace stilts::pipeline {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kQaKind = "extractive-qa";
constexpr const char* kQaMetrics[] = {"exact_match", "f1"};

std::string join(const std::vector<std::string>& items, const std::string& separator = ", ") {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : separator) + s;
  return out;
}

std::string language_name(const std::string& l) { return l.empty() ? "(no language)" : l; }

std::string joined_split(const std::set<std::string>& splits) {
  return splits.size() == 1 ? *splits.begin() : "mixed";
}

// The results of one task at final stages: arm -> seed -> split -> language -> metric -> value.
using TaskResults =
    std::map<std::string, std::map<int64_t, std::map<std::string, std::map<std::string, std::map<std::string, double>>>>>;

// The metrics a task's score averages.
std::vector<std::string> score_metrics(const std::string& task, const std::string& kind,
                                       const std::set<std::string>& present, const HeadlineMetrics& declared) {
  if (kind == kQaKind) return {kQaMetrics[0], kQaMetrics[1]};
  const auto d = declared.find(task);
  return {headline_metric(present, d == declared.end() ? "" : d->second)};
}

}  // namespace

StudyTasks study_tasks(const std::optional<std::string>& experiment_json) {
  StudyTasks out;
  if (!experiment_json) return out;
  const nlohmann::json j = nlohmann::json::parse(*experiment_json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return out;
  out.metrics = declared_headlines(experiment_json);
  if (j.contains("tasks") && j.at("tasks").is_object()) {
    for (const auto& [task, spec] : j.at("tasks").items()) {
      if (spec.is_object() && spec.contains("kind") && spec.at("kind").is_string()) {
        out.kinds[task] = spec.at("kind").get<std::string>();
      }
    }
  }
  if (j.contains("stages") && j.at("stages").is_object()) {
    for (const auto& [stage, spec] : j.at("stages").items()) {
      if (spec.is_object() && spec.contains("task") && spec.at("task").is_string()) {
        out.stage_tasks[stage] = spec.at("task").get<std::string>();
      }
    }
  }
  return out;
}

const std::vector<std::string>& benchmark_groups() {
  static const std::vector<std::string> groups = {"classification", "structured prediction", "question answering",
                                                  "retrieval"};
  return groups;
}

std::string benchmark_group(const std::string& kind) {
  static const std::map<std::string, std::string> by_kind = {
      {"classification", "classification"},   {"pair-classification", "classification"},
      {"multiple-choice", "classification"},  {"tagging", "structured prediction"},
      {"extractive-qa", "question answering"}, {"retrieval", "retrieval"},
      {"sentence-retrieval", "retrieval"},
  };
  const auto it = by_kind.find(kind);
  return it == by_kind.end() ? "" : it->second;
}

size_t BenchmarkScores::num_tasks() const {
  return static_cast<size_t>(
      std::count_if(scores.begin(), scores.end(), [](const ScoreInfo& s) { return s.kind == ScoreInfo::kTask; }));
}

const ScoreInfo* BenchmarkScores::find(const std::string& name) const {
  for (const auto& s : scores) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

size_t final_task_count(const std::vector<ResultRow>& results, const FinalStagePredicate& at_final_stage) {
  std::set<std::string> tasks;
  for (const auto& r : results) {
    if (at_final_stage(r)) tasks.insert(r.task);
  }
  return tasks.size();
}

BenchmarkScores benchmark_scores(const std::vector<ResultRow>& results, const FinalStagePredicate& at_final_stage,
                                 const StudyTasks& study) {
  std::map<std::string, TaskResults> by_task;
  std::map<std::string, std::set<std::string>> metrics_of;  // task -> metrics with results
  std::map<std::string, std::set<int64_t>> arm_seeds;       // arm -> seeds with any final-stage result
  std::map<std::tuple<std::string, int64_t, std::string, std::string, std::string, std::string>, std::string> stage_of;
  for (const auto& r : results) {
    if (!at_final_stage(r)) continue;
    const auto [it, fresh] = stage_of.emplace(std::make_tuple(r.arm, r.seed, r.task, r.language, r.split, r.metric), r.stage);
    if (!fresh) {
      input_error("benchmark scores: two final-stage results of arm ", r.arm, " seed ", r.seed, " task ", r.task,
                  " language '", r.language, "' ", r.split, " ", r.metric, " (stages ", it->second, " and ", r.stage,
                  "): a task is scored from one final stage per arm");
    }
    by_task[r.task][r.arm][r.seed][r.split][r.language][r.metric] = r.value;
    metrics_of[r.task].insert(r.metric);
    arm_seeds[r.arm].insert(r.seed);
  }

  BenchmarkScores out;
  // (name, arm, seed) -> score and the split it was read at.
  std::map<std::string, std::map<std::string, std::map<int64_t, std::pair<double, std::string>>>> score;
  auto leave_out = [&](const std::string& arm, int64_t seed, const std::string& name, const std::string& reason) {
    out.left_out.push_back({arm, seed, name, reason});
  };

  for (const auto& [task, arms] : by_task) {
    const auto k = study.kinds.find(task);
    ScoreInfo info;
    info.name = info.label = task;
    info.kind = ScoreInfo::kTask;
    info.task_kind = k == study.kinds.end() ? "" : k->second;
    info.group = benchmark_group(info.task_kind);
    const std::vector<std::string> metrics = score_metrics(task, info.task_kind, metrics_of[task], study.metrics);
    if (metrics.size() == 1 && !eval::metric_info(metrics.front()).higher_is_better) {
      out.unscored.push_back(task);
      continue;
    }
    info.metric = join(metrics, "+");
    auto relevant = [&](const std::string& metric) {
      return std::find(metrics.begin(), metrics.end(), metric) != metrics.end();
    };

    // Per arm: "test" when it has test results of the score metric, else "dev".
    std::map<std::string, std::string> split_of;
    std::map<std::string, std::set<std::string>> languages;  // split -> languages in any arm and seed
    for (const auto& [arm, seeds] : arms) {
      std::set<std::string> splits;
      for (const auto& [seed, by_split] : seeds) {
        for (const auto& [split, by_language] : by_split) {
          for (const auto& [language, values] : by_language) {
            for (const auto& [metric, value] : values) {
              if (relevant(metric)) splits.insert(split), languages[split].insert(language);
            }
          }
        }
      }
      if (splits.count("test")) split_of[arm] = "test";
      else if (splits.count("dev")) split_of[arm] = "dev";
    }
    std::set<std::string> all_languages;
    for (const auto& [arm, split] : split_of) all_languages.insert(languages[split].begin(), languages[split].end());
    info.languages.assign(all_languages.begin(), all_languages.end());

    for (const auto& [arm, seeds] : arm_seeds) {
      const auto split = split_of.find(arm);
      for (const int64_t seed : seeds) {
        if (split == split_of.end()) {
          leave_out(arm, seed, task, "no " + info.metric + " results at a final stage");
          continue;
        }
        // language -> metric -> value at the arm's split; null when the seed has none
        const std::map<std::string, std::map<std::string, double>>* at_split = nullptr;
        if (const auto s = arms.at(arm).find(seed); s != arms.at(arm).end()) {
          if (const auto at = s->second.find(split->second); at != s->second.end()) at_split = &at->second;
        }
        std::vector<std::string> missing, undefined;
        std::vector<double> values;
        for (const auto& language : languages[split->second]) {
          double sum = 0;
          const std::map<std::string, double>* here = nullptr;  // metric -> value
          if (at_split) {
            if (const auto h = at_split->find(language); h != at_split->end()) here = &h->second;
          }
          bool complete = here != nullptr;
          for (size_t m = 0; complete && m < metrics.size(); ++m) {
            const auto v = here->find(metrics[m]);
            if (v == here->end()) complete = false;
            else sum += v->second;
          }
          if (!complete) {
            missing.push_back(language_name(language));
            continue;
          }
          const double value = sum / static_cast<double>(metrics.size());
          if (std::isnan(value)) undefined.push_back(language_name(language));
          values.push_back(value);
        }
        if (!missing.empty()) {
          leave_out(arm, seed, task, "no " + split->second + " " + info.metric + " in " + join(missing));
        } else if (!undefined.empty()) {
          leave_out(arm, seed, task, "undefined " + split->second + " " + info.metric + " in " + join(undefined));
        } else {
          score[task][arm][seed] = {eval::mean_of(values), split->second};
        }
      }
    }
    out.scores.push_back(std::move(info));
  }

  // Groups and the overall score: means over their tasks, for seeds where every task has a score.
  std::vector<ScoreInfo> combined;
  for (const auto& group : benchmark_groups()) {
    ScoreInfo info;
    info.name = kGroupPrefix + group;
    info.label = group;
    info.kind = ScoreInfo::kGroup;
    info.group = group;
    for (const auto& t : out.scores) {
      if (t.group == group) info.tasks.push_back(t.name);
    }
    if (!info.tasks.empty()) combined.push_back(std::move(info));
  }
  if (!out.scores.empty()) {
    ScoreInfo info;
    info.name = info.label = kOverallScore;
    info.kind = ScoreInfo::kOverall;
    for (const auto& t : out.scores) info.tasks.push_back(t.name);
    combined.push_back(std::move(info));
  }
  for (const auto& info : combined) {
    for (const auto& [arm, seeds] : arm_seeds) {
      for (const int64_t seed : seeds) {
        std::vector<double> values;
        std::vector<std::string> lacking;
        std::set<std::string> splits;
        for (const auto& task : info.tasks) {
          const auto& by_arm = score[task];
          const auto a = by_arm.find(arm);
          if (a == by_arm.end() || !a->second.count(seed)) {
            lacking.push_back(task);
            continue;
          }
          values.push_back(a->second.at(seed).first);
          splits.insert(a->second.at(seed).second);
        }
        if (!lacking.empty()) {
          leave_out(arm, seed, info.name, "no score for " + join(lacking));
        } else {
          score[info.name][arm][seed] = {eval::mean_of(values), joined_split(splits)};
        }
      }
    }
  }
  out.scores.insert(out.scores.end(), combined.begin(), combined.end());

  for (const auto& info : out.scores) {
    for (const auto& [arm, seeds] : score[info.name]) {
      for (const auto& [seed, value] : seeds) {
        ResultRow r;
        r.arm = arm;
        r.seed = seed;
        r.task = info.name;
        r.split = value.second;
        r.metric = kScoreMetric;
        r.value = value.first;
        out.rows.push_back(std::move(r));
      }
    }
  }
  return out;
}

namespace {

using PerSeed = std::map<int64_t, std::vector<double>>;  // seed -> values (languages)

double mean_over_seeds(const PerSeed& values, bool maximum = false) {
  std::vector<double> per_seed;
  for (const auto& [seed, v] : values) {
    per_seed.push_back(maximum ? *std::max_element(v.begin(), v.end()) : eval::mean_of(v));
  }
  return eval::mean_of(per_seed);
}

}  // namespace

TaskEfficiencyTable task_efficiency(const std::vector<EfficiencyRow>& efficiency, const std::vector<StageRow>& stages,
                                    const StudyTasks& study) {
  TaskEfficiencyTable out;
  out.setting = choose_efficiency_setting(efficiency);
  const EfficiencySetting& setting = out.setting;
  const int64_t small = setting.batch_sizes.empty() ? 0 : setting.batch_sizes.front();
  const int64_t large = setting.batch_sizes.empty() ? 0 : setting.batch_sizes.back();
  std::map<std::string, std::string> stage_name;  // hash -> name
  for (const auto& s : stages) stage_name[s.hash] = s.name;

  struct Cells {
    PerSeed p50, throughput, memory, params;
  };
  std::map<std::pair<std::string, std::string>, Cells> cells;  // (task, arm)
  std::set<std::string> unmapped;
  for (const auto& e : efficiency) {
    const auto name = stage_name.find(e.model);
    const auto task = name == stage_name.end() ? study.stage_tasks.end() : study.stage_tasks.find(name->second);
    if (task == study.stage_tasks.end()) {
      unmapped.insert(e.model);
      continue;
    }
    if (std::isnan(e.value)) continue;
    Cells& c = cells[{task->second, e.arm}];
    if (e.metric == "params_total") c.params[e.seed].push_back(e.value);
    if (!setting.matches(e.mode, e.threads, e.seq_len)) continue;
    if (e.batch_size == small && e.metric == "latency_ms_p50") c.p50[e.seed].push_back(e.value);
    if (e.batch_size == large && e.metric == "throughput_seq_s") c.throughput[e.seed].push_back(e.value);
    if (e.metric == "peak_rss_mb") c.memory[e.seed].push_back(e.value);
  }
  out.unmapped_models.assign(unmapped.begin(), unmapped.end());
  for (const auto& [key, c] : cells) {
    TaskEfficiency row;
    row.task = key.first;
    row.arm = key.second;
    const auto k = study.kinds.find(row.task);
    row.kind = k == study.kinds.end() ? "" : k->second;
    row.seeds = static_cast<int>(c.p50.size());
    row.latency_batch = small;
    row.throughput_batch = large;
    row.latency_p50_ms = c.p50.empty() ? kNaN : mean_over_seeds(c.p50);
    row.throughput_seq_s = c.throughput.empty() ? kNaN : mean_over_seeds(c.throughput);
    row.peak_rss_mb = c.memory.empty() ? kNaN : mean_over_seeds(c.memory, /*maximum=*/true);
    row.params_total = c.params.empty() ? kNaN : mean_over_seeds(c.params);
    out.rows.push_back(std::move(row));
  }
  return out;
}

}  // namespace stilts::pipeline
