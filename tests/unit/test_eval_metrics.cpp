// Metrics, bootstrap intervals, paired tests and Student t intervals.
// scipy/sklearn are not installed here: expected values are worked by hand (shown) or with plain
// python3 (formulas in the comments; t quantiles by Simpson integration of the t density, agreeing
// with scipy.stats.t.ppf to 1e-9).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "common/error.h"
#include "eval/metrics.h"

namespace stilts::eval {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(Metrics, IsDefined) {
  EXPECT_TRUE(is_defined(0.5));
  EXPECT_FALSE(is_defined(kNaN));
  EXPECT_FALSE(is_defined(std::numeric_limits<double>::infinity()));
}

TEST(Metrics, AccuracyAndMacroF1ByHand) {
  const Labels gold = {0, 0, 1, 1, 2, 2};
  const Labels pred = {0, 1, 1, 1, 2, 0};
  EXPECT_DOUBLE_EQ(accuracy(pred, gold), 4.0 / 6.0);
  // F1 = 2tp/(2tp+fp+fn): class 0 tp1 fp1 fn1 -> 1/2; class 1 tp2 fp1 -> 4/5; class 2 tp1 fn1 -> 2/3.
  EXPECT_DOUBLE_EQ(macro_f1(pred, gold), (0.5 + 0.8 + 2.0 / 3.0) / 3.0);
}

TEST(Metrics, MacroF1AveragesOverGoldUnionPredictionsLikeSklearn) {
  const Labels gold = {0, 0, 1, 1};
  const Labels pred = {0, 3, 1, 1};
  // class 0: tp1 fn1 -> 2/3; class 1: tp2 -> 1; class 3 (predicted only): fp1 -> 0. Class 2 is absent.
  EXPECT_DOUBLE_EQ(macro_f1(pred, gold), (2.0 / 3.0 + 1.0 + 0.0) / 3.0);
  // labels=range(5): classes 2 and 4 are in neither vector and score 0 (zero_division=0).
  EXPECT_DOUBLE_EQ(macro_f1(pred, gold, /*num_labels=*/5), (2.0 / 3.0 + 1.0) / 5.0);
  EXPECT_THROW(macro_f1(pred, gold, /*num_labels=*/3), InputError);  // label 3 out of range
  // All correct on a single class: sklearn gives 1.0.
  EXPECT_DOUBLE_EQ(macro_f1(Labels{1, 1}, Labels{1, 1}), 1.0);
}

TEST(Metrics, PearsonSpearmanMse) {
  // Deviations x: -2..2, y: -2,0,1,0,1: r = Sxy / sqrt(Sxx Syy) = 6 / sqrt(10 * 6) = sqrt(0.6).
  EXPECT_NEAR(pearson({1, 2, 3, 4, 5}, {2, 4, 5, 4, 5}), std::sqrt(0.6), 1e-15);
  // Gold ranks with ties averaged: {1, 2.5, 4.5, 2.5, 4.5}; rho = pearson of ranks (python3).
  EXPECT_NEAR(spearman({1, 2, 3, 4, 5}, {2, 4, 5, 4, 5}), 0.7378647873726218, 1e-14);
  const Scores x = {0.5, 2.5, 1.0, 4.0, 3.0, 3.0};
  const Scores y = {1.2, 2.0, 0.7, 3.9, 3.9, 2.2};
  EXPECT_NEAR(pearson(x, y), 0.8716312087132684, 1e-14);
  EXPECT_NEAR(spearman(x, y), 0.8970588235294118, 1e-14);  // ties in both vectors
  EXPECT_NEAR(mean_squared_error(x, y), 0.3816666666666666, 1e-15);
  EXPECT_EQ(average_ranks(x), (std::vector<double>{1, 3, 2, 6, 4.5, 4.5}));
  EXPECT_NEAR(pearson({1, 2, 3}, {3, 2, 1}), -1.0, 1e-15);
}

TEST(Metrics, ConstantOrNaNInputsGiveUndefinedCorrelation) {
  // 0.1 three times: a mean computed in floating point need not equal 0.1; still NaN, not noise.
  EXPECT_FALSE(is_defined(pearson({0.1, 0.1, 0.1}, {1, 2, 3})));
  EXPECT_FALSE(is_defined(spearman({1, 2, 3}, {5, 5, 5})));
  EXPECT_FALSE(is_defined(pearson({1.0}, {2.0})));
  EXPECT_FALSE(is_defined(spearman({1, kNaN, 3}, {1, 2, 3})));
  EXPECT_FALSE(is_defined(pearson({1, 2, 3}, {1, kNaN, 3})));
}

TEST(Metrics, EmptyAndMismatchedInputsThrow) {
  EXPECT_THROW(accuracy({}, {}), InputError);
  EXPECT_THROW(macro_f1({}, {}), InputError);
  EXPECT_THROW(pearson({}, {}), InputError);
  EXPECT_THROW(spearman({1, 2}, {1, 2, 3}), InputError);
  try {
    accuracy({1, 2}, {1, 2, 3});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("2 predictions but 3 gold"), std::string::npos) << e.what();
  }
}

// ---- bootstrap ----

Scores gold_zeros(std::size_t n) { return Scores(n, 0.0); }
Scores predictions_wrong_every(std::size_t n, std::size_t period, std::size_t offset) {
  Scores p(n, 0.0);
  for (std::size_t i = offset; i < n; i += period) p[i] = 1.0;
  return p;
}

// The plain-vector bootstrap's metrics: accuracy over label ids held in doubles, and Pearson's r.
double accuracy_of(const Scores& p, const Scores& g) { return accuracy(to_labels(p, "predictions"), to_labels(g, "gold")); }
double pearson_of(const Scores& p, const Scores& g) { return pearson(p, g); }

TEST(Bootstrap, PercentilesInterpolateBetweenOrderStatistics) {
  // The first call is the full-data value; replicates then return 1, 2, ..., 11.
  int calls = 0;
  const IndexedMetric counter = [&](const std::vector<std::size_t>&) {
    return calls++ == 0 ? 42.0 : static_cast<double>(calls - 1);
  };
  BootstrapOptions o;
  o.resamples = 11;
  const Interval ci = bootstrap_ci(/*num_examples=*/5, counter, o);
  EXPECT_EQ(ci.value, 42.0);
  // numpy.quantile(1..11, 0.025) = 1 + 0.25 = 1.25; 0.975 -> 10.75.
  EXPECT_DOUBLE_EQ(ci.lower, 1.25);
  EXPECT_DOUBLE_EQ(ci.upper, 10.75);
  EXPECT_EQ(ci.undefined_resamples, 0);
}

TEST(Bootstrap, UndefinedReplicatesAreLeftOutAndCounted) {
  int calls = 0;
  const IndexedMetric sometimes_nan = [&](const std::vector<std::size_t>&) {
    ++calls;
    return calls % 3 == 0 ? kNaN : 1.0;
  };
  BootstrapOptions o;
  o.resamples = 9;  // calls 2..10: NaN at 3, 6, 9
  const Interval ci = bootstrap_ci(/*num_examples=*/4, sometimes_nan, o);
  EXPECT_EQ(ci.undefined_resamples, 3);
  EXPECT_EQ(ci.lower, 1.0);
  EXPECT_EQ(ci.upper, 1.0);

  // Pearson on 3 points: some resamples are constant (e.g. one point drawn three times).
  const Interval r = bootstrap_ci(Metric(pearson_of), {1, 2, 3}, {1, 3, 2}, {});
  EXPECT_GT(r.undefined_resamples, 0);
  EXPECT_LE(r.lower, r.upper);
}

TEST(Bootstrap, DeterministicGivenSeedAndContainsEstimate) {
  const std::size_t n = 400;
  const Scores gold = gold_zeros(n);
  Scores pred = predictions_wrong_every(n, /*period=*/10, /*offset=*/0);  // 40 wrong
  for (std::size_t i = 1; i < n; i += 5) pred[i] = 1.0;                  // 80 more: 280/400 right
  const Metric acc = Metric(accuracy_of);
  BootstrapOptions o;
  o.seed = 7;
  const Interval a = bootstrap_ci(acc, pred, gold, o);
  const Interval b = bootstrap_ci(acc, pred, gold, o);
  EXPECT_EQ(a.lower, b.lower);
  EXPECT_EQ(a.upper, b.upper);
  EXPECT_DOUBLE_EQ(a.value, 0.7);
  EXPECT_LT(a.lower, a.value);
  EXPECT_GT(a.upper, a.value);
  EXPECT_EQ(a.resamples, 1000);
  EXPECT_EQ(a.level, 0.95);

  o.seed = 8;
  const Interval c = bootstrap_ci(acc, pred, gold, o);
  EXPECT_TRUE(c.lower != a.lower || c.upper != a.upper);

  // Width near the normal approximation 2 * 1.96 * sqrt(0.7 * 0.3 / 400) = 0.0898.
  const double normal_width = 2 * 1.959964 * std::sqrt(0.7 * 0.3 / 400);
  EXPECT_NEAR(a.upper - a.lower, normal_width, 0.15 * normal_width);

  // A higher level gives a wider interval containing the narrower one (same seed, same replicates).
  o.seed = 7;
  o.level = 0.80;
  const Interval narrow = bootstrap_ci(acc, pred, gold, o);
  o.level = 0.99;
  const Interval wide = bootstrap_ci(acc, pred, gold, o);
  EXPECT_LE(wide.lower, a.lower);
  EXPECT_LE(a.lower, narrow.lower);
  EXPECT_GE(wide.upper, a.upper);
  EXPECT_GE(a.upper, narrow.upper);
  EXPECT_GT(wide.upper - wide.lower, narrow.upper - narrow.lower);
}

TEST(Bootstrap, PerfectPredictionsGiveDegenerateInterval) {
  const Interval ci = bootstrap_ci(Metric(accuracy_of), {1, 0, 1}, {1, 0, 1}, {});
  EXPECT_EQ(ci.value, 1.0);
  EXPECT_EQ(ci.lower, 1.0);
  EXPECT_EQ(ci.upper, 1.0);
}

TEST(Bootstrap, BadOptionsAndInputsThrow) {
  const Metric acc = Metric(accuracy_of);
  BootstrapOptions o;
  o.level = 1.0;
  EXPECT_THROW(bootstrap_ci(acc, {1}, {1}, o), InputError);
  o.level = 0.95;
  o.resamples = 0;
  EXPECT_THROW(bootstrap_ci(acc, {1}, {1}, o), InputError);
  EXPECT_THROW(bootstrap_ci(acc, {}, {}, {}), InputError);
  EXPECT_THROW(paired_bootstrap(acc, {1, 0}, {1}, {1, 0}, {}), InputError);
}

TEST(PairedBootstrap, DetectsAClearDifference) {
  const std::size_t n = 500;
  const Scores gold = gold_zeros(n);
  const Scores a = predictions_wrong_every(n, /*period=*/5, /*offset=*/0);  // 80% right
  Scores b = predictions_wrong_every(n, /*period=*/5, /*offset=*/1);        // + 20% more wrong
  for (std::size_t i = 2; i < n; i += 5) b[i] = 1.0;                        // 60% right
  BootstrapOptions o;
  o.seed = 3;
  const PairedInterval d = paired_bootstrap(Metric(accuracy_of), a, b, gold, o);
  EXPECT_DOUBLE_EQ(d.value_a, 0.8);
  EXPECT_DOUBLE_EQ(d.value_b, 0.6);
  EXPECT_NEAR(d.difference, 0.2, 1e-12);
  EXPECT_GT(d.lower, 0.0);
  EXPECT_LT(d.p_value, 0.01);
  EXPECT_LE(d.lower, d.difference);
  EXPECT_GE(d.upper, d.difference);
  // Swapping the systems mirrors the difference and keeps the p-value (same draws).
  const PairedInterval s = paired_bootstrap(Metric(accuracy_of), b, a, gold, o);
  EXPECT_NEAR(s.difference, -0.2, 1e-12);
  EXPECT_NEAR(s.lower, -d.upper, 1e-12);
  EXPECT_EQ(s.p_value, d.p_value);
}

TEST(PairedBootstrap, DoesNotFlagANullDifference) {
  const std::size_t n = 500;
  const Scores gold = gold_zeros(n);
  const Scores a = predictions_wrong_every(n, /*period=*/5, /*offset=*/0);  // 100 wrong
  Scores b = predictions_wrong_every(n, /*period=*/5, /*offset=*/1);        // 100 wrong, elsewhere
  b[2] = b[7] = 1.0;                                                        // 102 wrong
  BootstrapOptions o;
  o.seed = 11;
  const PairedInterval d = paired_bootstrap(Metric(accuracy_of), a, b, gold, o);
  EXPECT_NEAR(d.difference, 0.004, 1e-12);
  EXPECT_LT(d.lower, 0.0);
  EXPECT_GT(d.upper, 0.0);
  EXPECT_GT(d.p_value, 0.5);
  EXPECT_LE(d.p_value, 1.0);

  // Identical systems: difference 0, p = 1 by definition.
  const PairedInterval same = paired_bootstrap(Metric(accuracy_of), a, a, gold, o);
  EXPECT_EQ(same.difference, 0.0);
  EXPECT_EQ(same.p_value, 1.0);
}

TEST(PairedBootstrap, PValueCountsReplicatesCrossingZero) {
  // a returns 1 always; b returns 0 on the full data (d = +1), then 0, 2, 0, 2, ... on the
  // replicates: differences +1, -1, +1, ...
  int calls_b = 0;
  const IndexedMetric a = [](const std::vector<std::size_t>&) { return 1.0; };
  const IndexedMetric b = [&](const std::vector<std::size_t>&) {
    const int k = calls_b++;
    return k == 0 ? 0.0 : ((k % 2 == 1) ? 0.0 : 2.0);
  };
  BootstrapOptions o;
  o.resamples = 10;  // 5 at +1, 5 at -1: 5 cross, p = min(1, 2 * 5/10) = 1
  EXPECT_EQ(paired_bootstrap(/*num_examples=*/3, a, b, o).p_value, 1.0);
  int calls_c = 0;
  const IndexedMetric c = [&](const std::vector<std::size_t>&) {  // 1 of 10 replicates crosses
    const int k = calls_c++;
    return k == 4 ? 2.0 : 0.0;
  };
  const PairedInterval p = paired_bootstrap(/*num_examples=*/3, a, c, o);
  EXPECT_DOUBLE_EQ(p.p_value, 0.2);  // 2 * 1/10
}

// ---- Student t ----

TEST(StudentT, QuantilesMatchTables) {
  // scipy.stats.t.ppf values (t tables: 12.706, 4.303, 2.776, 2.228, 2.042, 2.015, 5.841).
  EXPECT_NEAR(student_t_quantile(0.975, 1), 12.706204736174698, 1e-9);
  EXPECT_NEAR(student_t_quantile(0.975, 2), 4.302652729749464, 1e-9);
  EXPECT_NEAR(student_t_quantile(0.975, 4), 2.7764451051977987, 1e-9);
  EXPECT_NEAR(student_t_quantile(0.975, 10), 2.2281388519649385, 1e-9);
  EXPECT_NEAR(student_t_quantile(0.975, 30), 2.0422724563012373, 1e-9);
  EXPECT_NEAR(student_t_quantile(0.95, 5), 2.015048372669157, 1e-9);
  EXPECT_NEAR(student_t_quantile(0.995, 3), 5.840909309733355, 1e-9);
  EXPECT_NEAR(student_t_quantile(0.025, 4), -2.7764451051977987, 1e-9);
  // Non-integer dof (Welch): Simpson integration in python3.
  EXPECT_NEAR(student_t_quantile(0.975, 3.7), 2.8675207071911446, 1e-8);
  // dof = 1 is Cauchy: cdf = 1/2 + atan(t)/pi; dof = 2: cdf = 1/2 + t / (2 sqrt(2 + t^2)).
  EXPECT_NEAR(student_t_cdf(3.0, 1), 0.5 + std::atan(3.0) / std::acos(-1.0), 1e-13);
  EXPECT_NEAR(student_t_cdf(-1.5, 2), 0.5 - 1.5 / (2 * std::sqrt(2 + 2.25)), 1e-13);
  EXPECT_NEAR(student_t_cdf(1.5, 7), 0.9113507565050174, 1e-10);
  EXPECT_EQ(student_t_quantile(0.5, 3), 0.0);
  EXPECT_THROW(student_t_quantile(1.0, 3), InputError);
  EXPECT_THROW(student_t_cdf(1.0, 0), InputError);
}

TEST(StudentT, IncompleteBetaKnownValues) {
  EXPECT_NEAR(regularized_incomplete_beta(1, 1, 0.3), 0.3, 1e-14);            // uniform
  // Beta(2, 3) cdf = P(Binomial(4, x) >= 2) = 1 - 0.6^4 - 4 * 0.4 * 0.6^3.
  EXPECT_NEAR(regularized_incomplete_beta(2, 3, 0.4), 0.5248, 1e-13);
  // Arcsine law: I_x(1/2, 1/2) = (2/pi) asin(sqrt(x)) = 1/3 at x = 1/4.
  EXPECT_NEAR(regularized_incomplete_beta(0.5, 0.5, 0.25), 1.0 / 3.0, 1e-13);
  EXPECT_EQ(regularized_incomplete_beta(2, 3, 0.0), 0.0);
  EXPECT_EQ(regularized_incomplete_beta(2, 3, 1.0), 1.0);
}

TEST(SeedIntervals, PairedMeanCi) {
  // Per-seed differences; mean 0.03, sd/sqrt(4) = 0.009128709291752768, t(0.975, 3) = 3.182446305284263.
  const TInterval ci = mean_ci({0.02, 0.05, 0.01, 0.04});
  EXPECT_NEAR(ci.mean, 0.03, 1e-15);
  EXPECT_NEAR(ci.std_error, 0.009128709291752768, 1e-15);
  EXPECT_EQ(ci.dof, 3.0);
  EXPECT_EQ(ci.n, 4);
  EXPECT_NEAR(ci.lower, 0.0009483728424523365, 1e-10);
  EXPECT_NEAR(ci.upper, 0.059051627157547665, 1e-10);
  EXPECT_THROW(mean_ci({0.1}), InputError);
  EXPECT_THROW(mean_ci({0.1, kNaN}), InputError);
}

TEST(SeedIntervals, WelchDifferenceCi) {
  // python3: va = var(a)/4, vb = var(b)/3, dof = (va+vb)^2 / (va^2/3 + vb^2/2).
  const TInterval ci = welch_difference_ci({0.80, 0.82, 0.81, 0.84}, {0.75, 0.78, 0.76});
  EXPECT_NEAR(ci.mean, 0.054166666666666696, 1e-14);
  EXPECT_NEAR(ci.std_error, 0.012275766552213522, 1e-14);
  EXPECT_NEAR(ci.dof, 4.733990147783244, 1e-12);
  EXPECT_NEAR(ci.lower, 0.022069942668998366, 1e-9);
  EXPECT_NEAR(ci.upper, 0.08626339066433503, 1e-9);
  // No variance in either arm: the interval collapses to the difference.
  const TInterval flat = welch_difference_ci({0.5, 0.5}, {0.4, 0.4});
  EXPECT_NEAR(flat.lower, 0.1, 1e-15);
  EXPECT_NEAR(flat.upper, 0.1, 1e-15);
  EXPECT_THROW(welch_difference_ci({0.5, 0.6}, {0.4}), InputError);
}

// The two-level bootstrap: identical systems give a point at 0; a clear gap is significant; and the
// seed level matters: seeds that disagree in sign widen the interval to cover 0, which resampling the
// examples of one seed alone cannot show.
TEST(Metrics, PairedBootstrapOverSeedsAndExamples) {
  const size_t n = 400;
  // gold all 1; system correctness patterns per seed.
  auto correct_fraction = [&](const std::vector<std::vector<int>>& correct) {
    return [correct](std::size_t s, const std::vector<std::size_t>& idx) {
      double sum = 0;
      for (const auto i : idx) sum += correct[s][i];
      return sum / static_cast<double>(idx.size());
    };
  };
  std::vector<std::vector<int>> half(2, std::vector<int>(n)), all(2, std::vector<int>(n, 1));
  for (size_t i = 0; i < n; ++i) half[0][i] = half[1][i] = i % 2;
  BootstrapOptions options;
  options.resamples = 500;
  options.seed = 3;

  const auto same = paired_bootstrap_over_seeds(2, n, correct_fraction(half), correct_fraction(half), options);
  EXPECT_EQ(same.difference, 0.0);
  EXPECT_EQ(same.lower, 0.0);
  EXPECT_EQ(same.upper, 0.0);
  EXPECT_EQ(same.p_value, 1.0);

  const auto gap = paired_bootstrap_over_seeds(2, n, correct_fraction(all), correct_fraction(half), options);
  EXPECT_DOUBLE_EQ(gap.value_a, 1.0);
  EXPECT_DOUBLE_EQ(gap.value_b, 0.5);
  EXPECT_DOUBLE_EQ(gap.difference, 0.5);
  EXPECT_GT(gap.lower, 0.4);
  EXPECT_LT(gap.upper, 0.6);
  EXPECT_EQ(gap.p_value, 0.0);
  // Same options, same interval.
  const auto again = paired_bootstrap_over_seeds(2, n, correct_fraction(all), correct_fraction(half), options);
  EXPECT_EQ(again.lower, gap.lower);
  EXPECT_EQ(again.upper, gap.upper);

  // Seed 0: a beats b by 0.5; seed 1: b beats a by 0.5. Mean difference 0, and the interval must span
  // both signs (a draw of {0, 0} gives +0.5, {1, 1} gives -0.5).
  std::vector<std::vector<int>> a = {all[0], half[1]}, b = {half[0], all[1]};
  const auto mixed = paired_bootstrap_over_seeds(2, n, correct_fraction(a), correct_fraction(b), options);
  EXPECT_DOUBLE_EQ(mixed.difference, 0.0);
  EXPECT_LT(mixed.lower, -0.3);
  EXPECT_GT(mixed.upper, 0.3);
  // Per seed, the example-level bootstrap alone is confidently positive: seeds are what make it uncertain.
  const auto seed0 = paired_bootstrap_over_seeds(1, n, correct_fraction({a[0]}), correct_fraction({b[0]}), options);
  EXPECT_GT(seed0.lower, 0.4);

  EXPECT_THROW(paired_bootstrap_over_seeds(0, n, correct_fraction(a), correct_fraction(b), options), InputError);
  EXPECT_THROW(paired_bootstrap_over_seeds(2, 0, correct_fraction(a), correct_fraction(b), options), InputError);
}

}  // namespace
}  // namespace stilts::eval
