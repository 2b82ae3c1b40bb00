// Statistics of a study from its results rows (no torch, no SQLite).
//
// Summary: one row per arm × stage × task × language × split × metric: mean and sample std (n-1) over
// the seeds, n, and the Student t interval of the mean (eval::mean_ci). Undefined values (NaN, e.g. a
// correlation of a constant prediction) are left out and counted in `undefined`. With n < 2 the std
// and the interval are NaN.
//
// Differences between two arms a and b (a − b, e.g. intermediate − direct), per stage × task ×
// language × split × metric present in both arms:
// - "paired-t" when at least two seeds have a defined value in both arms: the one-sample t interval
//   (eval::mean_ci) of the per-seed differences a_s − b_s over those common seeds (seeds in one arm
//   only are left out), with the two-sided p-value of the paired t test (dof = n − 1).
// - "welch-t" otherwise, when each arm has n >= 2: Welch's interval (eval::welch_difference_ci) and
//   the two-sided p of Welch's t test.
// - "none" otherwise (too few seeds): interval and p are NaN.
// - "paired-bootstrap" instead, when per-example predictions of both arms are given for the figure
//   (the same examples for every common seed, a metric computable from predictions: accuracy,
//   macro_f1, pearson, spearman, mse): eval::paired_bootstrap_over_seeds, resampling the seeds and the
//   examples, so the interval covers training noise and test-set sampling. With one common seed it
//   is the paired bootstrap over examples for that seed. n is the number of common seeds.
// `significant` means the interval excludes 0 (equivalent to p < 1 − level). A zero-variance
// difference collapses the interval to a point: significant iff it is not 0 (p = 0 or 1).
// Arms are compared at the same stage name (the final stage is named alike in every arm, e.g.
// "target"); when a (task, language, split, metric) has different stage names in the two arms but
// exactly one in each, those are compared and `stage` reads "stage_a|stage_b".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/results_store.h"

namespace stilts::pipeline {

struct SummaryRow {
  std::string arm, stage, task, language, split, metric;
  int n = 0;          // seeds with a defined value
  int undefined = 0;  // seeds whose value is NaN (left out)
  double mean = 0;
  double std = 0;       // sample standard deviation; NaN when n < 2
  double ci_lower = 0;  // t interval of the mean at `level`; NaN when n < 2
  double ci_upper = 0;
  double level = 0.95;
  std::vector<int64_t> seeds;  // the seeds counted in n, ascending
};

struct DifferenceRow {
  std::string arm_a, arm_b;  // difference = a − b
  std::string stage, task, language, split, metric;
  std::string method;  // "paired-bootstrap" | "paired-t" | "welch-t" | "none"
  int n = 0;           // paired: common seeds; welch/none: n_a + n_b
  double mean_a = 0;   // paired: over the common seeds; otherwise over each arm's seeds
  double mean_b = 0;
  double difference = 0;
  double ci_lower = 0;
  double ci_upper = 0;
  double p_value = 1;  // two-sided; NaN with method "none"
  double level = 0.95;
  bool significant = false;
};

struct StatsOptions {
  double level = 0.95;
  int resamples = 1000;  // paired-bootstrap replicates
  uint64_t seed = 0;     // the bootstrap's generator seed (results are reproducible)
};

// Sorted by task, split, metric, language, arm, stage. Two rows with the same
// (arm, seed, stage, task, language, split, metric) are an InputError.
std::vector<SummaryRow> summarize(const std::vector<ResultRow>& rows, const StatsOptions& options = {});

// a − b per common (stage, task, language, split, metric), sorted by task, split, metric, language, stage.
std::vector<DifferenceRow> arm_differences(const std::vector<ResultRow>& rows, const std::string& arm_a,
                                           const std::string& arm_b, const StatsOptions& options = {},
                                           const std::vector<PredictionRow>& predictions = {});

// The arms present in `rows`, sorted.
std::vector<std::string> arm_names(const std::vector<ResultRow>& rows);
// "direct" if present, else the first arm (sorted); "" when there are none.
std::string default_baseline(const std::vector<std::string>& arms);

// Two-sided p of a t statistic: 2 * (1 − F(|t|; dof)). With std_error 0: 1 if mean is 0, else 0.
double t_test_p_value(double mean, double std_error, double dof);

}  // namespace stilts::pipeline
