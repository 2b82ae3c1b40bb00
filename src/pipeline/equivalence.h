// One rule for whether an arm's measurement (latency, throughput, memory) differs from the baseline's
// or equals it within a margin: `stilts results` (pipeline::summarize_arms) and the report both ask it,
// so they give one verdict on the same measurements.
//
// The unit is the seed: a study benchmarks one seed's arms in interleaved rounds (pipeline/study_bench),
// so seed s of arm a and seed s of arm b share a session and their ratio cancels its drift. The relative
// difference is the mean over common seeds of (a_s − b_s) / b_s, with the paired Student t interval of
// that mean over those seeds (eval::mean_ci). Verdicts:
//   kEquivalent    the interval lies within ±margin
//   kHigher/kLower it lies above / below 0 (and not within the margin)
//   kInconclusive  it holds 0 but reaches beyond the margin: no significant difference, not shown equivalent
//   kNoInterval    fewer than two common seeds: no claim either way
#pragma once

#include <cstdint>
#include <map>

namespace stilts::pipeline {

// Relative: "equivalent within ±5%".
constexpr double kEquivalenceMargin = 0.05;

enum class Verdict { kEquivalent, kHigher, kLower, kInconclusive, kNoInterval };

// "equivalent", "higher", "lower", "no significant difference", "n/a" (the words `stilts results --json`
// writes).
const char* verdict_name(Verdict verdict);

struct Relative {
  int n = 0;          // common seeds with a finite value in both arms and a positive baseline value
  double mean_a = 0;  // means over those seeds; NaN when n = 0
  double mean_b = 0;
  double difference = 0;  // mean over those seeds of (a_s − b_s) / b_s; NaN when n = 0
  double ci_lower = 0;    // the interval of `difference` at `level`; NaN with kNoInterval
  double ci_upper = 0;
  double level = 0.95;
  double margin = kEquivalenceMargin;
  Verdict verdict = Verdict::kNoInterval;
};

// a against b (seed -> measurement, e.g. the seed's median latency); level in (0, 1), margin > 0.
Relative compare_relative(const std::map<int64_t, double>& a, const std::map<int64_t, double>& b, double level = 0.95,
                          double margin = kEquivalenceMargin);

}  // namespace stilts::pipeline
