// The computations behind the report's sentences that are not in pipeline/study_stats: relative
// comparisons of measurements with an equivalence margin, and each arm's training cost.
#pragma once

#include <string>
#include <vector>

#include "report/run_data.h"

namespace stilts::report {

enum class Verdict {
  kHigher,        // the interval of a − b lies above 0 and not inside the margin
  kLower,         // ... below 0
  kEquivalent,    // the interval of the relative difference lies inside ±margin
  kInconclusive,  // the interval holds 0 but reaches beyond the margin
  kNoInterval,    // fewer than two measurements in an arm: no claim either way
};

// Arm a against arm b on one measurement (latency, throughput, memory...), from independent
// measurements of each (Welch's interval of the difference of means, divided by b's mean: the
// denominator's own uncertainty is neglected).
struct Comparison {
  int n_a = 0, n_b = 0;
  double mean_a = 0, mean_b = 0;
  double relative = 0;                            // (mean_a − mean_b) / mean_b
  double relative_lower = 0, relative_upper = 0;  // NaN with kNoInterval
  double level = 0.95;
  double margin = 0.05;
  Verdict verdict = Verdict::kNoInterval;
};

// Empty inputs give kNoInterval with NaN means.
Comparison compare_measurements(const std::vector<double>& a, const std::vector<double>& b, double level,
                                double margin);

// "latency equivalent within ±5% (12.1 vs 12.0 ms; +0.8% [-1.2%, +2.8%])" and the like: `what` names
// the measurement, `digits` the decimals of the means.
std::string describe_comparison(const Comparison& c, const std::string& what, const std::string& unit, int digits);

// An arm's training cost per seed: the sum over its chain in arm_stages (a shared stage counts in
// every arm that uses it). Without arm_stages rows for the arm, the stages whose `arm` is it.
struct ArmCost {
  std::string arm;
  std::vector<std::string> chain;  // stage names, position order (of the first seed)
  int seeds = 0;
  // Means over seeds; NaN when no stage has the figure.
  double wall_s = 0, cpu_s = 0, flops = 0, examples = 0, tokens = 0;
  bool all_done = true;  // every stage of the chain is in `stages` with status done
};

std::vector<ArmCost> arm_costs(const RunData& data, const std::vector<std::string>& arms);

}  // namespace stilts::report
