#include "eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <unordered_set>

#include "common/error.h"

namespace stilts::eval {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void check_aligned(std::string_view metric, std::size_t num_predictions, std::size_t num_gold) {
  if (num_predictions != num_gold) {
    input_error(metric, ": ", num_predictions, " predictions but ", num_gold,
                " gold values; they must align one to one");
  }
  if (num_gold == 0) input_error(metric, ": no examples (predictions and gold are empty)");
}

bool has_nan(const Scores& values) {
  return std::any_of(values.begin(), values.end(), [](double v) { return std::isnan(v); });
}

bool is_constant(const Scores& values) {
  return std::all_of(values.begin(), values.end(), [&](double v) { return v == values.front(); });
}

// Sample variance (n - 1 in the denominator), two-pass.
double sample_variance(const Scores& values) {
  const double mean = mean_of(values);
  double sum = 0;
  for (double v : values) sum += (v - mean) * (v - mean);
  return sum / static_cast<double>(values.size() - 1);
}

// numpy.quantile(sorted, q) with the default linear interpolation between order statistics.
double quantile_sorted(const Scores& sorted, double q) {
  STILTS_CHECK(!sorted.empty(), "quantile of no values");
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  if (lo + 1 >= sorted.size()) return sorted.back();
  const double frac = pos - static_cast<double>(lo);
  return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

// Uniform index in [0, n) by rejection: std::uniform_int_distribution's algorithm differs between
// standard libraries, and the bootstrap must give the same resamples everywhere for a seed.
std::size_t draw_index(std::mt19937_64& rng, std::size_t n) {
  const uint64_t range = n;
  const uint64_t threshold = (0 - range) % range;  // 2^64 mod n: rejecting below it removes bias
  while (true) {
    const uint64_t x = rng();
    if (x >= threshold) return static_cast<std::size_t>(x % range);
  }
}

void draw_indices(std::mt19937_64& rng, std::vector<std::size_t>& indices) {
  for (auto& i : indices) i = draw_index(rng, indices.size());
}

std::vector<std::size_t> identity_indices(std::size_t n) {
  std::vector<std::size_t> indices(n);
  std::iota(indices.begin(), indices.end(), std::size_t{0});
  return indices;
}

Scores gather(const Scores& values, const std::vector<std::size_t>& indices) {
  Scores out(indices.size());
  for (std::size_t i = 0; i < indices.size(); ++i) out[i] = values[indices[i]];
  return out;
}

// Sorted defined values of `replicates`; the count of undefined ones goes to *undefined.
Scores defined_sorted(const Scores& replicates, int* undefined) {
  Scores kept;
  kept.reserve(replicates.size());
  for (double v : replicates) {
    if (is_defined(v)) kept.push_back(v);
  }
  *undefined = static_cast<int>(replicates.size() - kept.size());
  std::sort(kept.begin(), kept.end());
  return kept;
}

void check_level(std::string_view what, double level) {
  if (!(level > 0 && level < 1)) input_error(what, ": level must be in (0, 1), got ", level);
}

// Continued fraction for I_x(a, b) by the modified Lentz method (Numerical Recipes 6.4, betacf).
double beta_continued_fraction(double a, double b, double x) {
  constexpr int kMaxIterations = 1000;
  constexpr double kEpsilon = 1e-15;
  constexpr double kTiny = 1e-300;
  const double qab = a + b;
  const double qap = a + 1;
  const double qam = a - 1;
  double c = 1;
  double d = 1 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= kMaxIterations; ++m) {
    const int m2 = 2 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1) < kEpsilon) return h;
  }
  STILTS_CHECK(false, "incomplete beta continued fraction did not converge for a=", a, " b=", b,
               " x=", x);
  return h;
}

// P(T > t) for t >= 0: the upper tail, computed directly so quantiles near 1 keep their precision.
double student_t_upper_tail(double t, double dof) {
  return 0.5 * regularized_incomplete_beta(dof / 2, 0.5, dof / (dof + t * t));
}

}  // namespace

double mean_of(const Scores& values) {
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

bool is_defined(double value) { return std::isfinite(value); }

// ---- metrics ----

double accuracy(const Labels& predictions, const Labels& gold) {
  check_aligned("accuracy", predictions.size(), gold.size());
  std::size_t correct = 0;
  for (std::size_t i = 0; i < gold.size(); ++i) correct += predictions[i] == gold[i];
  return static_cast<double>(correct) / static_cast<double>(gold.size());
}

namespace {
struct ClassCounts {
  int64_t true_positives = 0;
  int64_t false_positives = 0;
  int64_t false_negatives = 0;
  // 2PR/(P+R) rewritten; 0 when the class is in neither vector (sklearn's zero_division=0).
  double f1() const {
    const int64_t denominator = 2 * true_positives + false_positives + false_negatives;
    return denominator == 0 ? 0.0 : 2.0 * static_cast<double>(true_positives) / denominator;
  }
};

std::map<int64_t, ClassCounts> count_classes(const Labels& predictions, const Labels& gold) {
  std::map<int64_t, ClassCounts> counts;
  for (std::size_t i = 0; i < gold.size(); ++i) {
    if (predictions[i] == gold[i]) {
      ++counts[gold[i]].true_positives;
    } else {
      ++counts[predictions[i]].false_positives;
      ++counts[gold[i]].false_negatives;
    }
  }
  return counts;
}
}  // namespace

double macro_f1(const Labels& predictions, const Labels& gold) {
  check_aligned("macro_f1", predictions.size(), gold.size());
  const auto counts = count_classes(predictions, gold);
  double sum = 0;
  for (const auto& [label, c] : counts) sum += c.f1();
  return sum / static_cast<double>(counts.size());
}

double macro_f1(const Labels& predictions, const Labels& gold, int64_t num_labels) {
  check_aligned("macro_f1", predictions.size(), gold.size());
  if (num_labels < 1) input_error("macro_f1: num_labels must be >= 1, got ", num_labels);
  auto check_range = [&](const Labels& labels, const char* what) {
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (labels[i] < 0 || labels[i] >= num_labels) {
        input_error("macro_f1: ", what, " label ", labels[i], " at row ", i, " is outside [0, ",
                    num_labels, ")");
      }
    }
  };
  check_range(predictions, "predicted");
  check_range(gold, "gold");
  const auto counts = count_classes(predictions, gold);
  double sum = 0;
  for (const auto& [label, c] : counts) sum += c.f1();  // classes absent from both add 0
  return sum / static_cast<double>(num_labels);
}

double pearson(const Scores& predictions, const Scores& gold) {
  check_aligned("pearson", predictions.size(), gold.size());
  // Constancy is tested on the values, not on a computed variance: the mean of equal values need not
  // equal them in floating point, which would leave a tiny spurious variance.
  if (has_nan(predictions) || has_nan(gold) || is_constant(predictions) || is_constant(gold)) {
    return kNaN;
  }
  const double mean_p = mean_of(predictions);
  const double mean_g = mean_of(gold);
  double spp = 0;
  double sgg = 0;
  double spg = 0;
  for (std::size_t i = 0; i < gold.size(); ++i) {
    const double dp = predictions[i] - mean_p;
    const double dg = gold[i] - mean_g;
    spp += dp * dp;
    sgg += dg * dg;
    spg += dp * dg;
  }
  const double r = spg / std::sqrt(spp * sgg);
  return std::clamp(r, -1.0, 1.0);
}

std::vector<double> average_ranks(const Scores& values) {
  STILTS_CHECK(!has_nan(values), "average_ranks of values holding NaN");
  std::vector<std::size_t> order = identity_indices(values.size());
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  for (std::size_t start = 0; start < order.size();) {
    std::size_t end = start + 1;
    while (end < order.size() && values[order[end]] == values[order[start]]) ++end;
    // Positions start..end-1 hold rank start+1..end; each gets their mean.
    const double rank = 0.5 * static_cast<double>(start + 1 + end);
    for (std::size_t k = start; k < end; ++k) ranks[order[k]] = rank;
    start = end;
  }
  return ranks;
}

double spearman(const Scores& predictions, const Scores& gold) {
  check_aligned("spearman", predictions.size(), gold.size());
  if (has_nan(predictions) || has_nan(gold)) return kNaN;
  return pearson(average_ranks(predictions), average_ranks(gold));
}

double mean_squared_error(const Scores& predictions, const Scores& gold) {
  check_aligned("mse", predictions.size(), gold.size());
  double sum = 0;
  for (std::size_t i = 0; i < gold.size(); ++i) {
    sum += (predictions[i] - gold[i]) * (predictions[i] - gold[i]);
  }
  return sum / static_cast<double>(gold.size());
}

// ---- named metrics and task kinds ----

Labels to_labels(const Scores& values, std::string_view what) {
  constexpr double kMaxExact = 9007199254740992.0;  // 2^53: beyond it doubles skip integers
  Labels labels(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    if (!std::isfinite(v) || v != std::floor(v) || std::fabs(v) > kMaxExact) {
      input_error(what, ": row ", i, " holds ", v,
                  ", not a label id; classification metrics need integer class ids");
    }
    labels[i] = static_cast<int64_t>(v);
  }
  return labels;
}

double average_precision_at_k(const std::vector<std::string>& ranked, const std::vector<std::string>& relevant,
                              int64_t k) {
  const size_t cut = k > 0 ? std::min(ranked.size(), static_cast<size_t>(k)) : ranked.size();
  const std::unordered_set<std::string> targets(relevant.begin(), relevant.end());
  std::unordered_set<std::string> seen;
  double score = 0, hits = 0;
  for (size_t i = 0; i < cut; ++i) {
    if (!seen.insert(ranked[i]).second) continue;  // a repeated id counts once, at its first rank
    if (targets.count(ranked[i])) {
      hits += 1;
      score += hits / static_cast<double>(i + 1);
    }
  }
  const size_t n = targets.size();
  const double divisor = static_cast<double>(k > 0 ? std::min(n, static_cast<size_t>(k)) : n);
  return divisor > 0 ? score / divisor : 0.0;
}

const MetricInfo& metric_info(std::string_view name) {
  static const MetricInfo kMetrics[] = {
      {"accuracy", true, true},  {"macro_f1", true, true}, {"f1", true, true},       {"precision", true, true},
      {"recall", true, true},    {"exact_match", true, true}, {"pearson", true, false}, {"spearman", true, false},
      {"mse", false, false},     {"loss", false, false},  {"perplexity", false, false},
      {"map@20", true, true},
      {"score", true, true},  // a benchmark score (pipeline/task_scores.h): a mean of the above on their scale
  };
  std::string known;
  for (const MetricInfo& m : kMetrics) {
    if (m.name == name) return m;
    known += (known.empty() ? "" : ", ") + std::string(m.name);
  }
  input_error("unknown metric '", name, "'; known: ", known);
}

// ---- bootstrap ----

void BootstrapOptions::validate() const {
  if (resamples < 1) input_error("bootstrap: resamples must be >= 1, got ", resamples);
  check_level("bootstrap", level);
}

Interval bootstrap_ci(std::size_t num_examples, const IndexedMetric& metric,
                      const BootstrapOptions& options) {
  options.validate();
  if (num_examples == 0) input_error("bootstrap_ci: no examples");
  Interval out;
  out.value = metric(identity_indices(num_examples));
  out.level = options.level;
  out.resamples = options.resamples;

  std::mt19937_64 rng(options.seed);
  std::vector<std::size_t> indices(num_examples);
  Scores replicates(options.resamples);
  for (auto& r : replicates) {
    draw_indices(rng, indices);
    r = metric(indices);
  }
  const Scores kept = defined_sorted(replicates, &out.undefined_resamples);
  if (kept.empty()) {
    out.lower = out.upper = kNaN;
  } else {
    out.lower = quantile_sorted(kept, (1 - options.level) / 2);
    out.upper = quantile_sorted(kept, (1 + options.level) / 2);
  }
  return out;
}

Interval bootstrap_ci(const Metric& metric, const Scores& predictions, const Scores& gold,
                      const BootstrapOptions& options) {
  check_aligned("bootstrap_ci", predictions.size(), gold.size());
  return bootstrap_ci(
      gold.size(),
      [&](const std::vector<std::size_t>& idx) {
        return metric(gather(predictions, idx), gather(gold, idx));
      },
      options);
}

// The p-value rule shared by the paired bootstraps (see PairedInterval).
static void paired_interval_from(const Scores& differences, PairedInterval& out, double level) {
  const Scores kept = defined_sorted(differences, &out.undefined_resamples);
  if (kept.empty()) {
    out.lower = out.upper = out.p_value = kNaN;
    return;
  }
  out.lower = quantile_sorted(kept, (1 - level) / 2);
  out.upper = quantile_sorted(kept, (1 + level) / 2);
  if (!is_defined(out.difference)) {
    out.p_value = kNaN;
  } else if (out.difference == 0) {
    out.p_value = 1;
  } else {
    const auto crossing = std::count_if(kept.begin(), kept.end(), [&](double d) {
      return out.difference > 0 ? d <= 0 : d >= 0;
    });
    out.p_value = std::min(1.0, 2.0 * static_cast<double>(crossing) / kept.size());
  }
}

PairedInterval paired_bootstrap(std::size_t num_examples, const IndexedMetric& metric_a,
                                const IndexedMetric& metric_b, const BootstrapOptions& options) {
  options.validate();
  if (num_examples == 0) input_error("paired_bootstrap: no examples");
  PairedInterval out;
  const auto all = identity_indices(num_examples);
  out.value_a = metric_a(all);
  out.value_b = metric_b(all);
  out.difference = out.value_a - out.value_b;
  out.level = options.level;
  out.resamples = options.resamples;

  std::mt19937_64 rng(options.seed);
  std::vector<std::size_t> indices(num_examples);
  Scores differences(options.resamples);
  for (auto& d : differences) {
    draw_indices(rng, indices);  // one draw, both systems
    d = metric_a(indices) - metric_b(indices);
  }
  paired_interval_from(differences, out, options.level);
  return out;
}

PairedInterval paired_bootstrap_over_seeds(std::size_t num_seeds, std::size_t num_examples,
                                           const SeededIndexedMetric& metric_a, const SeededIndexedMetric& metric_b,
                                           const BootstrapOptions& options) {
  options.validate();
  if (num_seeds == 0) input_error("paired_bootstrap_over_seeds: no seeds");
  if (num_examples == 0) input_error("paired_bootstrap_over_seeds: no examples");
  PairedInterval out;
  const auto all = identity_indices(num_examples);
  for (std::size_t s = 0; s < num_seeds; ++s) {
    out.value_a += metric_a(s, all) / static_cast<double>(num_seeds);
    out.value_b += metric_b(s, all) / static_cast<double>(num_seeds);
  }
  out.difference = out.value_a - out.value_b;
  out.level = options.level;
  out.resamples = options.resamples;

  std::mt19937_64 rng(options.seed);
  std::vector<std::size_t> seeds(num_seeds), indices(num_examples);
  Scores differences(options.resamples);
  for (auto& d : differences) {
    draw_indices(rng, seeds);  // seeds with replacement
    draw_indices(rng, indices);  // one draw of examples, shared by both systems and every seed
    d = 0;
    for (const std::size_t s : seeds) d += metric_a(s, indices) - metric_b(s, indices);
    d /= static_cast<double>(num_seeds);
  }
  paired_interval_from(differences, out, options.level);
  return out;
}

PairedInterval paired_bootstrap(const Metric& metric, const Scores& predictions_a,
                                const Scores& predictions_b, const Scores& gold,
                                const BootstrapOptions& options) {
  check_aligned("paired_bootstrap (system a)", predictions_a.size(), gold.size());
  check_aligned("paired_bootstrap (system b)", predictions_b.size(), gold.size());
  return paired_bootstrap(
      gold.size(),
      [&](const std::vector<std::size_t>& idx) {
        return metric(gather(predictions_a, idx), gather(gold, idx));
      },
      [&](const std::vector<std::size_t>& idx) {
        return metric(gather(predictions_b, idx), gather(gold, idx));
      },
      options);
}

// ---- across seeds ----

namespace {
void check_seed_values(std::string_view what, const std::vector<double>& values) {
  if (values.size() < 2) {
    input_error(what, ": needs at least 2 values (seeds) for a t interval, got ", values.size());
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!is_defined(values[i])) {
      input_error(what, ": value ", i, " is ", values[i],
                  "; drop runs whose metric is undefined before comparing seeds");
    }
  }
}

TInterval t_interval(double mean, double std_error, double dof, double level, int n) {
  TInterval out;
  out.mean = mean;
  out.std_error = std_error;
  out.dof = dof;
  out.level = level;
  out.n = n;
  const double half_width = std_error == 0 ? 0 : student_t_quantile((1 + level) / 2, dof) * std_error;
  out.lower = mean - half_width;
  out.upper = mean + half_width;
  return out;
}
}  // namespace

TInterval mean_ci(const std::vector<double>& values, double level) {
  check_level("mean_ci", level);
  check_seed_values("mean_ci", values);
  const double n = static_cast<double>(values.size());
  return t_interval(mean_of(values), std::sqrt(sample_variance(values) / n), n - 1, level,
                    static_cast<int>(values.size()));
}

TInterval welch_difference_ci(const std::vector<double>& a, const std::vector<double>& b,
                              double level) {
  check_level("welch_difference_ci", level);
  check_seed_values("welch_difference_ci (arm a)", a);
  check_seed_values("welch_difference_ci (arm b)", b);
  const double na = static_cast<double>(a.size());
  const double nb = static_cast<double>(b.size());
  const double va = sample_variance(a) / na;  // squared standard error of each arm's mean
  const double vb = sample_variance(b) / nb;
  const double se = std::sqrt(va + vb);
  // Welch–Satterthwaite; undefined (0/0) when both variances vanish, where the interval collapses.
  const double dof = se == 0 ? na + nb - 2
                             : (va + vb) * (va + vb) / (va * va / (na - 1) + vb * vb / (nb - 1));
  return t_interval(mean_of(a) - mean_of(b), se, dof, level, static_cast<int>(a.size() + b.size()));
}

double regularized_incomplete_beta(double a, double b, double x) {
  if (!(a > 0 && b > 0)) input_error("regularized_incomplete_beta: a and b must be > 0");
  if (!(x >= 0 && x <= 1)) input_error("regularized_incomplete_beta: x must be in [0, 1], got ", x);
  if (x == 0 || x == 1) return x;
  const double log_front = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) +
                           b * std::log1p(-x);
  const double front = std::exp(log_front);
  // The continued fraction converges fast for x < (a+1)/(a+b+2); otherwise use the symmetry
  // I_x(a, b) = 1 - I_{1-x}(b, a).
  if (x < (a + 1) / (a + b + 2)) return front * beta_continued_fraction(a, b, x) / a;
  return 1 - front * beta_continued_fraction(b, a, 1 - x) / b;
}

double student_t_cdf(double t, double dof) {
  if (!(dof > 0)) input_error("student_t_cdf: dof must be > 0, got ", dof);
  if (std::isnan(t)) return kNaN;
  const double tail = student_t_upper_tail(std::fabs(t), dof);
  return t >= 0 ? 1 - tail : tail;
}

double student_t_quantile(double p, double dof) {
  if (!(dof > 0)) input_error("student_t_quantile: dof must be > 0, got ", dof);
  if (!(p > 0 && p < 1)) input_error("student_t_quantile: p must be in (0, 1), got ", p);
  if (p == 0.5) return 0;
  if (p < 0.5) return -student_t_quantile(1 - p, dof);
  const double tail = 1 - p;  // find t >= 0 with upper tail = 1 - p; the tail falls as t grows
  double lo = 0;
  double hi = 1;
  while (student_t_upper_tail(hi, dof) > tail) {
    lo = hi;
    hi *= 2;
    STILTS_CHECK(hi < 1e300, "student_t_quantile bracket diverged for p=", p, " dof=", dof);
  }
  for (int i = 0; i < 200 && hi - lo > 1e-13 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (student_t_upper_tail(mid, dof) > tail) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return 0.5 * (lo + hi);
}

}  // namespace stilts::eval
