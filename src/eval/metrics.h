// Evaluation metrics, bootstrap confidence intervals and significance tests on plain vectors (no torch).
//
// Conventions:
// - Every metric takes (predictions, gold): the reverse of sklearn's (y_true, y_pred). Empty inputs
//   and size mismatches throw InputError.
// - A metric that is mathematically undefined on its input (a correlation of a constant vector, as
//   early in training) returns NaN, as scipy does, rather than throwing: check with is_defined()
//   before writing JSON (JSON has no NaN; write null).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace stilts::eval {

using Labels = std::vector<int64_t>;
using Scores = std::vector<double>;
using MetricMap = std::map<std::string, double>;  // metric name -> value

// False for NaN and infinities: the values JSON cannot hold and a report should show as "n/a".
bool is_defined(double value);
// The arithmetic mean; NaN for no values.
double mean_of(const Scores& values);

// ---- metrics ----

double accuracy(const Labels& predictions, const Labels& gold);

// Macro-F1 as sklearn's f1_score(average="macro", zero_division=0): per-class F1 averaged over the
// classes present in gold ∪ predictions (a class absent from both does not count).
double macro_f1(const Labels& predictions, const Labels& gold);
// Macro-F1 over the fixed classes 0..num_labels-1, as sklearn with labels=range(num_labels): a class
// absent from both gold and predictions scores 0 (zero_division=0) and so lowers the average.
// Labels outside [0, num_labels) throw InputError.
double macro_f1(const Labels& predictions, const Labels& gold, int64_t num_labels);

// Pearson's r. NaN when either vector is constant (or has one element) or holds a NaN.
double pearson(const Scores& predictions, const Scores& gold);
// Spearman's rho: Pearson's r of average ranks (ties get the mean of their ranks, as
// scipy.stats.spearmanr). NaN when either vector's ranks are constant or it holds a NaN.
double spearman(const Scores& predictions, const Scores& gold);
double mean_squared_error(const Scores& predictions, const Scores& gold);

// 1-based ranks, ties averaged (scipy.stats.rankdata(method="average")). Values must not be NaN.
std::vector<double> average_ranks(const Scores& values);

// ---- named metrics ----

// What a metric means when it is compared and shown: declared here once for every metric stilts
// reports, never guessed from its name elsewhere.
struct MetricInfo {
  std::string_view name;
  bool higher_is_better = true;
  bool fraction = false;  // a value in [0, 1], shown as a percentage (differences in percentage points)
};
// accuracy, macro_f1, f1, precision, recall, exact_match, map@20 (fractions, higher is better); pearson,
// spearman (higher is better); mse, loss, perplexity (lower is better); score (a benchmark score of
// pipeline/task_scores.h: a mean of higher-is-better task metrics on the 0..1 scale, shown in points like
// the fractions it averages). An unknown name throws InputError listing them.
const MetricInfo& metric_info(std::string_view name);

// Average precision of a ranking cut at `k` (0 = uncut), as xtreme's utils_lareqa.average_precision_at_k:
// the precision at each rank holding a relevant id not seen earlier, summed, over min(|relevant|, k) (over
// |relevant| when uncut). 0 when nothing is relevant. With one relevant id it is the reciprocal rank (Mewsli-X).
double average_precision_at_k(const std::vector<std::string>& ranked, const std::vector<std::string>& relevant,
                              int64_t k);

// A metric on score vectors (the plain-vector bootstrap overloads take one). Per-task-kind metric
// choices live with the kinds (tasks/kind.h), not here.
using Metric = std::function<double(const Scores& predictions, const Scores& gold)>;

// Label ids held in doubles (as an argmax writes them) to Labels; a non-integer throws InputError
// naming `what` and the row.
Labels to_labels(const Scores& values, std::string_view what);

// ---- bootstrap ----

struct BootstrapOptions {
  int resamples = 1000;  // B
  double level = 0.95;   // two-sided coverage of the interval, in (0, 1)
  uint64_t seed = 0;     // std::mt19937_64 seed: equal seeds give equal intervals on every platform
  void validate() const;
};

// A metric of a resample: called with n example indices drawn with replacement (repeats included).
using IndexedMetric = std::function<double(const std::vector<std::size_t>& indices)>;

// Percentile bootstrap interval: `value` is the metric on all examples; lower/upper are the
// (1-level)/2 and (1+level)/2 quantiles of the B replicate values, linearly interpolated between order
// statistics (numpy.quantile's default). Replicates whose metric is undefined (NaN, e.g. a constant
// resample for a correlation) are left out and counted in `undefined_resamples`; lower/upper are NaN
// when every replicate is undefined.
struct Interval {
  double value = 0;
  double lower = 0;
  double upper = 0;
  double level = 0;
  int resamples = 0;
  int undefined_resamples = 0;
};

Interval bootstrap_ci(std::size_t num_examples, const IndexedMetric& metric,
                      const BootstrapOptions& options = {});
Interval bootstrap_ci(const Metric& metric, const Scores& predictions, const Scores& gold,
                      const BootstrapOptions& options = {});

// Paired bootstrap of metric(a) - metric(b) on the same examples: each replicate draws one set of
// indices and evaluates both systems on it, so example difficulty cancels.
//
// p_value estimates the two-sided p of H0 "difference = 0": with d the observed difference and d*_i
// the defined replicate differences, p = min(1, 2 * #{d*_i <= 0} / B') when d > 0,
// p = min(1, 2 * #{d*_i >= 0} / B') when d < 0, and p = 1 when d = 0 (B' = defined replicates).
// It is the fraction of replicates that cross zero against the observed sign, doubled. Its resolution
// is 2/B': p = 0 means "below 2/B'", and should be reported as such.
struct PairedInterval {
  double value_a = 0;
  double value_b = 0;
  double difference = 0;  // value_a - value_b
  double lower = 0;
  double upper = 0;
  double level = 0;
  double p_value = 1;
  int resamples = 0;
  int undefined_resamples = 0;
};

PairedInterval paired_bootstrap(std::size_t num_examples, const IndexedMetric& metric_a,
                                const IndexedMetric& metric_b, const BootstrapOptions& options = {});
PairedInterval paired_bootstrap(const Metric& metric, const Scores& predictions_a,
                                const Scores& predictions_b, const Scores& gold,
                                const BootstrapOptions& options = {});

// Paired bootstrap over examples and seeds (a two-level, hierarchical bootstrap) of the mean over
// seeds of metric_a(s) - metric_b(s), where both systems were trained with each of `num_seeds` seeds
// and evaluated on the same `num_examples` examples. Each replicate draws num_seeds seeds with
// replacement and, once, num_examples example indices with replacement, and averages
// metric_a(s, indices) - metric_b(s, indices) over the drawn seeds: the interval covers both the
// seed-to-seed variation of training and the sampling of the test set. Interval and p_value as
// paired_bootstrap's; value_a/value_b are the means over seeds on all examples.
using SeededIndexedMetric = std::function<double(std::size_t seed_index, const std::vector<std::size_t>& indices)>;
PairedInterval paired_bootstrap_over_seeds(std::size_t num_seeds, std::size_t num_examples,
                                           const SeededIndexedMetric& metric_a, const SeededIndexedMetric& metric_b,
                                           const BootstrapOptions& options = {});

// ---- across seeds: Student t intervals ----

// mean ± t_{(1+level)/2, dof} * std_error.
struct TInterval {
  double mean = 0;
  double lower = 0;
  double upper = 0;
  double level = 0;
  double std_error = 0;
  double dof = 0;  // degrees of freedom (not an integer for Welch)
  int n = 0;       // values (mean_ci) or values per arm summed (welch_difference_ci)
};

// One-sample t interval of the mean of `values` (n >= 2). For arms run with the same seeds, pass the
// per-seed differences a_i - b_i: the paired t interval.
TInterval mean_ci(const std::vector<double>& values, double level = 0.95);
// Mean of a minus mean of b for arms whose seeds are unrelated: Welch's t interval (unequal
// variances, Welch–Satterthwaite dof). Each arm needs n >= 2. When both arms have zero variance the
// interval collapses to the difference.
TInterval welch_difference_ci(const std::vector<double>& a, const std::vector<double>& b,
                              double level = 0.95);

// I_x(a, b), the regularized incomplete beta function (continued fraction, Numerical Recipes 6.4),
// accurate to ~1e-12 relative.
double regularized_incomplete_beta(double a, double b, double x);
// Student t distribution with dof > 0 (real) degrees of freedom.
double student_t_cdf(double t, double dof);
// The t with student_t_cdf(t, dof) = p, for p in (0, 1) (bisection on the cdf to ~1e-12).
double student_t_quantile(double p, double dof);

}  // namespace stilts::eval
