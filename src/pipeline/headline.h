// The study's headline: the figure its answer is read from (each arm's final stage; one task, split and
// metric). One rule, asked by `stilts results` (pipeline::summarize_arms) and the report alike.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pipeline/results_store.h"
#include "pipeline/study_stats.h"

namespace stilts::pipeline {

// task name -> the metric the task's kind declares as its headline (tagging "f1", classification
// "accuracy"). A task not in the map, or whose declared metric has no results, falls back to the rule.
using HeadlineMetrics = std::map<std::string, std::string>;

// Each task's declared headline in a study's resolved experiment config (results.sqlite's meta
// "experiment", JSON): the first metric its kind reports (tasks::TaskKind::metrics). Empty without one;
// a masked-LM task declares none.
HeadlineMetrics declared_headlines(const std::optional<std::string>& experiment_json);

// One task's headline among `metrics` (the names it has results for): `declared` when given and
// present, else "accuracy" when present, else the first name; "" when there are none.
std::string headline_metric(const std::set<std::string>& metrics, const std::string& declared = "");

struct Headline {
  // arm -> task -> the stage whose results are the arm's answer for the task (an arm has one final
  // stage per target; a study with one target has one task per arm)
  std::map<std::string, std::map<std::string, std::string>> final_stages;
  std::string task, split, metric;                  // "" when there are no results
  bool higher_is_better = true;                     // eval::metric_info(metric), when there is one
  bool fraction = false;

  // The arm's final stage for the headline task (for `task`); "" for an arm without results there.
  std::string final_stage(const std::string& arm) const;
  std::string final_stage(const std::string& arm, const std::string& task) const;
  // Whether `stage` is one of the arm's final stages (for any task).
  bool is_final(const std::string& arm, const std::string& stage) const;
  bool is_headline(const std::string& task, const std::string& split, const std::string& metric) const;
  // A difference a − b (pipeline::arm_differences) between the two arms' final stages, of any figure.
  bool at_final_stages(const DifferenceRow& d) const;
  // A result, summary or difference a − b of the arms' final stages in the headline task, split and metric.
  bool holds(const ResultRow& r) const;
  bool holds(const SummaryRow& s) const;
  bool holds(const DifferenceRow& d) const;
};

// - final stages of an arm: its chains' targets (ArmStageRow::target; for rows without one, the
//   stage at the highest position) that have results, per task they hold results for (two targets
//   of one task: the first by name); an arm with results at none of them: the stage evaluated in the
//   most languages (ties: the first by name);
// - split: "test" when a final-stage result has it, else "dev", else the first by name;
// - task: the one with the most final-stage results in that split (ties: the first by name);
// - metric: headline_metric over that task's metrics there, declared by `declared[task]`.
// A headline metric eval::metric_info does not know is an InputError (its direction is never guessed).
Headline choose_headline(const std::vector<ResultRow>& results, const std::vector<ArmStageRow>& chains,
                         const HeadlineMetrics& declared = {});

}  // namespace stilts::pipeline
