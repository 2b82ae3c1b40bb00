// Benchmark-style scores of a study whose arms have several target tasks (XTREME-R: xnli, xcopa,
// udpos, panx, xquad, mlqa, tydiqa, tatoeba, mewslix, lareqa): one score per task, per group of tasks
// and overall, per (arm, seed), as results rows, so that pipeline::summarize gives their means and t
// intervals over seeds and pipeline::arm_differences their paired differences between arms (one
// mechanism for every interval in the study). No torch, no SQLite.
//
// A task's score for (arm, seed): the unweighted mean over the task's languages of its score metric,
// from the results at the arm's final stages only (the caller's `at_final_stage`), as XTREME's
// evaluate.py averages a task (eval/xtreme_score.h):
// - split: "test" when the task has test results at the arm's final stages (any seed), else "dev";
// - score metric: for kind "extractive-qa" (exact_match + f1) / 2 per language, which averaged over
//   languages equals evaluate.py's (avg_exact_match + avg_f1) / 2 (a language lacking either counts as
//   missing); otherwise the metric the kind declares (StudyTasks::metrics, headline.h's
//   declared_headlines), falling back to headline_metric over the task's metrics there;
// - languages: every language the task has results in at that split and metric in any arm and seed
//   (the row language "" is one language); a seed lacking one of them has no score for the task (its
//   mean would be over other languages than the other seeds'), nor does a seed with an undefined
//   (NaN) value in one: both are listed in BenchmarkScores::left_out.
// A task whose score metric is lower-is-better (mse, loss: eval::metric_info) has no score and is
// listed in BenchmarkScores::unscored: averaging it with accuracies would mean nothing.
//
// Groups by task kind, as the XTREME-R paper names them (Ruder et al. 2021, table 1):
//   classification          classification, pair-classification, multiple-choice
//   structured prediction   tagging
//   question answering      extractive-qa
//   retrieval               retrieval, sentence-retrieval
// Other kinds (regression) and tasks whose kind the experiment does not give are in no group but count
// in the overall score. (evaluate.py's own table differs for LAReQA, which it puts in no group; the
// paper counts it in retrieval, as here.) A group's score for (arm, seed) is the mean of its tasks'
// scores, the overall score the mean of every scored task's, both only for seeds where every one of
// those tasks (those scored in any arm) has a score: other seeds are left out of the group or the
// overall score (and listed in left_out), never averaged over fewer tasks.
//
// Score rows: arm, seed; stage ""; task = the task's name, "group:<group>" or "overall"; language "";
// split = the split used (a group or the overall score of tasks scored at different splits: "mixed");
// metric "score" (eval::metric_info: higher is better, on the 0..1 scale, shown in points like the
// fractions it averages; a correlation counts as GLUE counts it, r on the same scale). Arms compare
// only at equal splits (arm_differences matches the split).
//
// Efficiency per task: each efficiency row's model (a final stage's hash) -> the stage's name (the
// stages table) -> its task (the experiment's stages.NAME.task) -> the task's kind. Per (task, arm), as
// pipeline::summarize_arms does per arm: at one benchmark setting (choose_efficiency_setting over all
// rows), the median latency (latency_ms_p50) at its smallest batch size and throughput
// (throughput_seq_s) at its largest, each a mean over languages per seed, peak memory (peak_rss_mb) the
// per-seed maximum over the setting's rows, and params_total; each then a mean over seeds.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/arm_summary.h"
#include "pipeline/headline.h"
#include "pipeline/results_store.h"

namespace stilts::pipeline {

// The metric name of every score row.
inline constexpr const char* kScoreMetric = "score";
// Row task names of the group scores ("group:" + group) and of the overall score.
inline constexpr const char* kGroupPrefix = "group:";
inline constexpr const char* kOverallScore = "overall";

// What a study's resolved experiment config (results.sqlite's meta "experiment", JSON) says of its tasks.
struct StudyTasks {
  std::map<std::string, std::string> kinds;        // task -> kind ("extractive-qa", ...)
  HeadlineMetrics metrics;                         // task -> its kind's declared metric (declared_headlines)
  std::map<std::string, std::string> stage_tasks;  // stage name -> the task it trains or evaluates
};
// Empty maps without a config (or with one that is not a JSON object).
StudyTasks study_tasks(const std::optional<std::string>& experiment_json);

// The XTREME-R group of a task kind ("classification", "structured prediction", "question answering",
// "retrieval"); "" for a kind in no group.
std::string benchmark_group(const std::string& kind);
// The groups in the paper's order.
const std::vector<std::string>& benchmark_groups();

// Which results count: true for a result at its arm's final stage(s). A predicate rather than a map
// arm -> stage because an arm may end in several stages (one per target task).
using FinalStagePredicate = std::function<bool(const ResultRow&)>;

// One score of the table: a task, a group or the overall score.
struct ScoreInfo {
  std::string name;    // the rows' task: a task name, kGroupPrefix + group, or kOverallScore
  std::string label;   // for display: the task name, the group name, or "overall"
  enum Kind { kTask, kGroup, kOverall } kind = kTask;
  std::string task_kind;               // kTask: its kind ("" when the experiment does not give it)
  std::string group;                   // kTask: its group ("" for none); kGroup: the group
  std::string metric;                  // kTask: the metric averaged ("exact_match+f1" for QA)
  std::vector<std::string> languages;  // kTask: the languages averaged (over every split used)
  std::vector<std::string> tasks;      // kGroup, kOverall: the tasks averaged
};

// A (arm, seed) without a score, and why.
struct LeftOutScore {
  std::string arm;
  int64_t seed = 0;
  std::string name;    // ScoreInfo::name
  std::string reason;  // "no results for fr", "undefined value in de", "no score for panx", ...
};

struct BenchmarkScores {
  std::vector<ScoreInfo> scores;  // tasks by name, then the groups with a task in the paper's order, then overall
  std::vector<ResultRow> rows;    // the score rows, in the order of `scores`, then arm, seed
  std::vector<LeftOutScore> left_out;
  std::vector<std::string> unscored;  // tasks with results but a lower-is-better score metric

  // Tasks scored (ScoreInfo::kTask entries).
  size_t num_tasks() const;
  const ScoreInfo* find(const std::string& name) const;
};

// Two results of one (arm, seed, task, language, split, metric) at final stages (two final stages
// evaluating the same task) are an InputError naming them.
BenchmarkScores benchmark_scores(const std::vector<ResultRow>& results, const FinalStagePredicate& at_final_stage,
                                 const StudyTasks& tasks);

// The number of distinct tasks with results at final stages.
size_t final_task_count(const std::vector<ResultRow>& results, const FinalStagePredicate& at_final_stage);

struct TaskEfficiency {
  std::string task, kind;  // kind "" when the experiment does not give it
  std::string arm;
  int seeds = 0;                                   // seeds with a latency figure
  int64_t latency_batch = 0, throughput_batch = 0;  // the setting's smallest and largest batch sizes
  double latency_p50_ms = 0;                        // NaN when not measured
  double throughput_seq_s = 0;
  double peak_rss_mb = 0;
  double params_total = 0;
};

struct TaskEfficiencyTable {
  EfficiencySetting setting;
  std::vector<TaskEfficiency> rows;  // by task, then arm
  // Models (stage hashes) whose rows were left out: not in the stages table, or a stage name the
  // experiment maps to no task.
  std::vector<std::string> unmapped_models;
};

TaskEfficiencyTable task_efficiency(const std::vector<EfficiencyRow>& efficiency, const std::vector<StageRow>& stages,
                                    const StudyTasks& tasks);

}  // namespace stilts::pipeline
