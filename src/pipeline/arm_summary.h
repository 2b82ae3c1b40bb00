// One line per arm: what the study answers at a glance. The headline figure (pipeline::choose_headline:
// each arm's final stage, one task, split and metric; averaged over languages, then over seeds), inference
// efficiency (latency p50/p99 at the smallest benchmarked batch size, throughput at the largest, peak
// memory), parameters, and training cost (wall time and FLOPs summed over the arm's chain, a shared
// stage counting in every arm that uses it), with each non-baseline arm's differences from the
// baseline: the headline in points and latency, throughput and memory as relative differences with a
// paired t interval over seeds, read as "equivalent" when the interval lies within ±margin, a finding
// only when it excludes 0, and "no significant difference" otherwise. Cost per accuracy point: the
// extra training time per point gained over the baseline.
#pragma once

#include <string>
#include <vector>

#include "pipeline/headline.h"
#include "pipeline/results_store.h"

namespace stilts::pipeline {

struct Relative {
  double difference = 0;  // (arm − baseline) / baseline, mean over common seeds
  double ci_lower = 0, ci_upper = 0;
  int n = 0;
  std::string verdict;  // "equivalent" | "higher" | "lower" | "no significant difference" | "n/a"
};

struct ArmLine {
  std::string arm;
  std::string task, split, metric;  // the headline (the same in every line)
  int seeds = 0;
  double accuracy = 0;     // the headline figure: mean over languages and seeds
  double latency_p50_ms = 0, latency_p99_ms = 0;  // smallest batch size, mean over languages and seeds
  double throughput_seq_s = 0;                    // largest batch size
  double peak_rss_mb = 0;
  int64_t latency_batch = 0, throughput_batch = 0;
  double params_total = 0, params_differing = 0;
  double train_wall_s = 0, train_flops = 0;       // mean over seeds of the chain's sums
  // vs the baseline (empty verdicts for the baseline itself)
  double accuracy_points = 0;                     // difference in points (x100 for a fraction metric)
  Relative latency, throughput, memory;
  double seconds_per_point = 0;                   // extra training seconds per point gained (NaN: no gain)
  bool efficiency_measured = false;
};

struct ArmSummaryOptions {
  std::string baseline;     // default: default_baseline(arms)
  double margin = 0.05;     // equivalence margin (relative)
  double level = 0.95;
  HeadlineMetrics headline_metrics;  // task -> its declared headline metric
};

std::vector<ArmLine> summarize_arms(const std::vector<ResultRow>& results, const std::vector<StageRow>& stages,
                                    const std::vector<ArmStageRow>& chains, const std::vector<EfficiencyRow>& efficiency,
                                    const ArmSummaryOptions& options = {});

}  // namespace stilts::pipeline
