// One line per arm: what the study answers at a glance. The headline figure (pipeline::choose_headline:
// each arm's final stage, one task, split and metric; averaged over languages, then over seeds),
// inference efficiency (median latency at the smallest benchmarked batch size, throughput at the
// largest, peak memory, at one benchmark setting: choose_efficiency_setting), parameters, and training
// cost (wall time and FLOPs summed over the arm's chain, a shared stage counting in every arm that uses
// it), with each non-baseline arm's differences from the baseline: the headline in points and latency,
// throughput and memory by the one equivalence rule (pipeline::compare_relative: paired over seeds,
// "equivalent" within ±margin). Cost per point: the extra training time per point gained over the
// baseline. The report reads the same lines, so both say the same.
#pragma once

#include <string>
#include <vector>

#include "pipeline/equivalence.h"
#include "pipeline/headline.h"
#include "pipeline/results_store.h"

namespace stilts::pipeline {

// Where arms' inference is compared: one benchmark setting (everything but the batch size and the
// language; its languages pooled), the one measured for the most arms, preferring the data's own
// lengths (seq_len 0), then the most threads, then the mode by name.
struct EfficiencySetting {
  std::string mode;
  int64_t threads = 0;
  int64_t seq_len = 0;               // 0: the evaluation data's own lengths
  std::vector<int64_t> batch_sizes;  // measured at this setting for each of its arms, ascending
  bool found = false;                // false: no latency figures at all
  bool matches(const std::string& mode, int64_t threads, int64_t seq_len) const;
};

EfficiencySetting choose_efficiency_setting(const std::vector<EfficiencyRow>& efficiency);

struct ArmLine {
  std::string arm;
  std::string task, split, metric;  // the headline (the same in every line)
  int seeds = 0;
  double accuracy = 0;     // the headline figure: mean over languages and seeds
  double latency_p50_ms = 0, latency_p99_ms = 0;  // smallest batch size, mean over languages and seeds
  double throughput_seq_s = 0;                    // largest batch size
  double peak_rss_mb = 0;                         // per seed the maximum over the setting's rows
  int64_t latency_batch = 0, throughput_batch = 0;
  double params_total = 0, params_differing = 0;
  double train_wall_s = 0, train_flops = 0;       // mean over seeds of the chain's sums
  // vs the baseline (kNoInterval verdicts, n = 0, for the baseline itself)
  double accuracy_points = 0;  // difference in points (x100 for a fraction metric)
  Relative latency, throughput, memory;
  double seconds_per_point = 0;  // extra training seconds per point gained (NaN: no gain)
  bool efficiency_measured = false;
};

struct ArmSummaryOptions {
  std::string baseline;                // default: default_baseline(arms)
  double margin = kEquivalenceMargin;  // equivalence margin (relative)
  double level = 0.95;
  HeadlineMetrics headline_metrics;    // task -> its declared headline metric
};

// Baseline first, then the other arms by name.
std::vector<ArmLine> summarize_arms(const std::vector<ResultRow>& results, const std::vector<StageRow>& stages,
                                    const std::vector<ArmStageRow>& chains, const std::vector<EfficiencyRow>& efficiency,
                                    const ArmSummaryOptions& options = {});

}  // namespace stilts::pipeline
