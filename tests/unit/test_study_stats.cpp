// Study statistics against numbers worked out by hand. With dof = 2 the t distribution has closed
// forms: t_{0.975, 2} = 4.302652729911275 and the two-sided p of t is 1 − t / sqrt(2 + t²).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "common/error.h"
#include "eval/metrics.h"
#include "pipeline/study_stats.h"

namespace stilts::pipeline {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kT975Dof2 = 4.302652729911275;
constexpr double kT975Dof1 = 12.706204736174707;

ResultRow row(const std::string& arm, int64_t seed, const std::string& language, double value,
              const std::string& stage = "target") {
  return {arm, seed, stage, "pawsx", language, "test", "accuracy", value};
}

std::vector<ResultRow> study() {
  return {
      row("direct", 1, "en", 0.80), row("direct", 2, "en", 0.82), row("direct", 3, "en", 0.84),
      row("intermediate", 1, "en", 0.83), row("intermediate", 2, "en", 0.86), row("intermediate", 3, "en", 0.86),
      row("direct", 1, "de", 0.70), row("direct", 2, "de", 0.72), row("direct", 3, "de", 0.74),
      row("intermediate", 1, "de", 0.73), row("intermediate", 2, "de", 0.70), row("intermediate", 3, "de", 0.74),
      row("direct", 1, "fr", kNaN), row("direct", 2, "fr", 0.5), row("direct", 3, "fr", 0.7),
      row("intermediate", 1, "ja", 0.6),
  };
}

const SummaryRow& find(const std::vector<SummaryRow>& rows, const std::string& arm, const std::string& language) {
  for (const auto& r : rows) {
    if (r.arm == arm && r.language == language) return r;
  }
  throw std::runtime_error("no summary row " + arm + "/" + language);
}

TEST(StudyStats, SummaryMeanStdAndTInterval) {
  const auto summary = summarize(study());
  ASSERT_EQ(summary.size(), 6u);
  // Sorted by task, split, metric, language, arm.
  EXPECT_EQ(summary[0].language, "de");
  EXPECT_EQ(summary[0].arm, "direct");
  EXPECT_EQ(summary[1].arm, "intermediate");
  EXPECT_EQ(summary[5].language, "ja");

  // direct/en: 0.80, 0.82, 0.84 -> mean 0.82, std 0.02, half-width 4.3027 * 0.02 / sqrt(3) = 0.049683.
  const auto& en = find(summary, "direct", "en");
  EXPECT_EQ(en.n, 3);
  EXPECT_EQ(en.undefined, 0);
  EXPECT_EQ(en.seeds, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_NEAR(en.mean, 0.82, 1e-12);
  EXPECT_NEAR(en.std, 0.02, 1e-12);
  EXPECT_NEAR(en.ci_lower, 0.82 - 0.04968275423687506, 1e-9);
  EXPECT_NEAR(en.ci_upper, 0.82 + 0.04968275423687506, 1e-9);
  EXPECT_EQ(en.stage, "target");
  EXPECT_EQ(en.task, "pawsx");

  // direct/fr: seed 1 undefined -> 0.5, 0.7: mean 0.6, std sqrt(0.02), se 0.1, t_{.975,1} = 12.7062.
  const auto& fr = find(summary, "direct", "fr");
  EXPECT_EQ(fr.n, 2);
  EXPECT_EQ(fr.undefined, 1);
  EXPECT_EQ(fr.seeds, (std::vector<int64_t>{2, 3}));
  EXPECT_NEAR(fr.mean, 0.6, 1e-12);
  EXPECT_NEAR(fr.std, std::sqrt(0.02), 1e-12);
  EXPECT_NEAR(fr.ci_lower, 0.6 - kT975Dof1 * 0.1, 1e-8);
  EXPECT_NEAR(fr.ci_upper, 0.6 + kT975Dof1 * 0.1, 1e-8);

  // One seed: a mean, no spread.
  const auto& ja = find(summary, "intermediate", "ja");
  EXPECT_EQ(ja.n, 1);
  EXPECT_NEAR(ja.mean, 0.6, 1e-12);
  EXPECT_TRUE(std::isnan(ja.std));
  EXPECT_TRUE(std::isnan(ja.ci_lower));
  EXPECT_TRUE(std::isnan(ja.ci_upper));
}

TEST(StudyStats, PairedDifferencesOverSeeds) {
  const auto diffs = arm_differences(study(), "intermediate", "direct");
  // fr is direct-only and ja intermediate-only: differences for de and en.
  ASSERT_EQ(diffs.size(), 2u);
  const auto& de = diffs[0];
  const auto& en = diffs[1];
  EXPECT_EQ(de.language, "de");
  EXPECT_EQ(en.language, "en");

  // en: per-seed differences 0.03, 0.04, 0.02 -> mean 0.03, std 0.01, se 0.01/sqrt(3),
  // half-width 0.024841, t = 5.19615, p = 1 - t/sqrt(2+t²) = 0.035099: significant.
  EXPECT_EQ(en.arm_a, "intermediate");
  EXPECT_EQ(en.arm_b, "direct");
  EXPECT_EQ(en.method, "paired-t");
  EXPECT_EQ(en.n, 3);
  EXPECT_NEAR(en.mean_a, 0.85, 1e-12);
  EXPECT_NEAR(en.mean_b, 0.82, 1e-12);
  EXPECT_NEAR(en.difference, 0.03, 1e-12);
  EXPECT_NEAR(en.ci_lower, 0.03 - 0.02484137711843753, 1e-9);
  EXPECT_NEAR(en.ci_upper, 0.03 + 0.02484137711843753, 1e-9);
  EXPECT_NEAR(en.p_value, 0.03509871864598468, 1e-8);
  EXPECT_TRUE(en.significant);

  // de: differences 0.03, -0.02, 0.00 -> mean 0.003333, std 0.025166, interval [-0.059183, 0.065849],
  // p = 0.83987: not significant.
  EXPECT_EQ(de.method, "paired-t");
  EXPECT_NEAR(de.difference, 0.0033333333333333327, 1e-12);
  EXPECT_NEAR(de.ci_lower, -0.059182761462775506, 1e-9);
  EXPECT_NEAR(de.ci_upper, 0.06584942812944217, 1e-9);
  EXPECT_NEAR(de.p_value, 0.8398718461949128, 1e-8);
  EXPECT_FALSE(de.significant);

  // Reversed arms: the sign flips, the p-value stays.
  const auto back = arm_differences(study(), "direct", "intermediate");
  EXPECT_NEAR(back[1].difference, -0.03, 1e-12);
  EXPECT_NEAR(back[1].ci_upper, -(0.03 - 0.02484137711843753), 1e-9);
  EXPECT_NEAR(back[1].p_value, en.p_value, 1e-12);
  EXPECT_TRUE(back[1].significant);
}

TEST(StudyStats, PairingUsesOnlySeedsDefinedInBothArms) {
  // Seed 1 is NaN in b, seed 4 exists only in a: pairs are seeds 2 and 3 (differences 0.1, 0.3).
  const std::vector<ResultRow> rows = {row("a", 1, "en", 0.5), row("a", 2, "en", 0.6), row("a", 3, "en", 0.8),
                                       row("a", 4, "en", 0.9), row("b", 1, "en", kNaN), row("b", 2, "en", 0.5),
                                       row("b", 3, "en", 0.5)};
  const auto d = arm_differences(rows, "a", "b");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].method, "paired-t");
  EXPECT_EQ(d[0].n, 2);
  EXPECT_NEAR(d[0].mean_a, 0.7, 1e-12);
  EXPECT_NEAR(d[0].mean_b, 0.5, 1e-12);
  EXPECT_NEAR(d[0].difference, 0.2, 1e-12);
  // std of {0.1, 0.3} = sqrt(0.02), se = 0.1, dof 1.
  EXPECT_NEAR(d[0].ci_lower, 0.2 - kT975Dof1 * 0.1, 1e-8);
  // p = 2 * (1 - F(2; 1)) = 1 - (2/pi) * atan(2) for the Cauchy distribution.
  EXPECT_NEAR(d[0].p_value, 1 - 2 / M_PI * std::atan(2.0), 1e-8);
  EXPECT_FALSE(d[0].significant);
}

TEST(StudyStats, WelchWhenTheSeedsDiffer) {
  // a on seeds 4, 5 (0.90, 0.94); b on seeds 1-3 (0.80, 0.82, 0.84): no common seed.
  const std::vector<ResultRow> rows = {row("a", 4, "en", 0.90), row("a", 5, "en", 0.94), row("b", 1, "en", 0.80),
                                       row("b", 2, "en", 0.82), row("b", 3, "en", 0.84)};
  const auto d = arm_differences(rows, "a", "b");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].method, "welch-t");
  EXPECT_EQ(d[0].n, 5);
  EXPECT_NEAR(d[0].difference, 0.10, 1e-12);
  // se² = 0.0008/2 + 0.0004/3; dof = se⁴ / (0.0004²/1 + 0.000133…²/2) = 1.684211.
  const double va = 0.0004, vb = 0.0004 / 3, se = std::sqrt(va + vb);
  const double dof = (va + vb) * (va + vb) / (va * va / 1 + vb * vb / 2);
  EXPECT_NEAR(dof, 1.6842105263157894, 1e-12);
  const double q = eval::student_t_quantile(0.975, dof);
  EXPECT_NEAR(d[0].ci_lower, 0.10 - q * se, 1e-9);
  EXPECT_NEAR(d[0].ci_upper, 0.10 + q * se, 1e-9);
  EXPECT_NEAR(d[0].p_value, 2 * (1 - eval::student_t_cdf(0.10 / se, dof)), 1e-12);
  EXPECT_EQ(d[0].significant, d[0].ci_lower > 0);
}

TEST(StudyStats, TooFewSeedsAndZeroVariance) {
  const std::vector<ResultRow> one = {row("a", 1, "en", 0.9), row("b", 1, "en", 0.8)};
  const auto d = arm_differences(one, "a", "b");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].method, "none");
  EXPECT_NEAR(d[0].difference, 0.1, 1e-12);
  EXPECT_TRUE(std::isnan(d[0].ci_lower));
  EXPECT_TRUE(std::isnan(d[0].p_value));
  EXPECT_FALSE(d[0].significant);

  // Every seed differs by exactly 0.25 (binary-exact values): a point interval, p = 0, significant.
  const std::vector<ResultRow> same = {row("a", 1, "en", 0.75), row("a", 2, "en", 0.5), row("b", 1, "en", 0.5),
                                       row("b", 2, "en", 0.25)};
  const auto z = arm_differences(same, "a", "b");
  EXPECT_EQ(z[0].ci_lower, 0.25);
  EXPECT_EQ(z[0].ci_upper, 0.25);
  EXPECT_EQ(z[0].p_value, 0.0);
  EXPECT_TRUE(z[0].significant);
  const auto zero = arm_differences(same, "a", "a");
  EXPECT_EQ(zero[0].difference, 0.0);
  EXPECT_EQ(zero[0].p_value, 1.0);
  EXPECT_FALSE(zero[0].significant);
}

TEST(StudyStats, StagesPairByNameOrByTheOnlyStageOfEachArm) {
  std::vector<ResultRow> rows = {row("a", 1, "en", 0.9, "target_a"), row("a", 2, "en", 0.8, "target_a"),
                                 row("b", 1, "en", 0.7, "target"), row("b", 2, "en", 0.7, "target")};
  auto d = arm_differences(rows, "a", "b");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].stage, "target_a|target");
  EXPECT_NEAR(d[0].difference, 0.15, 1e-12);
  // Intermediate-stage figures of one arm only do not produce differences.
  rows.push_back(row("a", 1, "de", 0.5, "intermediate"));
  EXPECT_EQ(arm_differences(rows, "a", "b").size(), 1u);
}

TEST(StudyStats, ArmsBaselineAndErrors) {
  EXPECT_EQ(arm_names(study()), (std::vector<std::string>{"direct", "intermediate"}));
  EXPECT_EQ(default_baseline({"intermediate", "direct"}), "direct");
  EXPECT_EQ(default_baseline({"zeta", "alpha"}), "alpha");
  EXPECT_EQ(default_baseline({}), "");
  EXPECT_THROW(arm_differences(study(), "intermediate", "nope"), InputError);
  auto rows = study();
  rows.push_back(row("direct", 1, "en", 0.1));
  EXPECT_THROW(summarize(rows), InputError);
  EXPECT_TRUE(summarize({}).empty());
  EXPECT_EQ(t_test_p_value(0.0, 0.0, 2), 1.0);
  EXPECT_NEAR(t_test_p_value(0.03, 0.01 / std::sqrt(3.0), 2), 0.03509871864598468, 1e-8);
}

// With per-example predictions stored, differences come from the paired bootstrap over examples and
// seeds; its observed difference is the mean over seeds of the per-seed metric differences, i.e. the
// same figure as the results rows give.
TEST(StudyStats, PredictionsGiveThePairedBootstrapOverExamplesAndSeeds) {
  std::vector<ResultRow> rows;
  std::vector<PredictionRow> predictions;
  const int n = 200;
  for (const int64_t seed : {1, 2, 3}) {
    for (const std::string arm : {"direct", "intermediate"}) {
      // direct right on 60% + seed%, intermediate on 80%: a clear gain.
      const int right = arm == "direct" ? 120 + static_cast<int>(seed) : 160;
      for (int i = 0; i < n; ++i) {
        const int gold = i % 2;
        predictions.push_back({arm, seed, "target", "pawsx", "pair-classification", "en", "test", i,
                               std::to_string(gold), std::to_string(i < right ? gold : 1 - gold)});
      }
      rows.push_back(row(arm, seed, "en", static_cast<double>(right) / n));
      // a language with results but no predictions: paired t
      rows.push_back(row(arm, seed, "de", arm == "direct" ? 0.5 + 0.01 * seed : 0.55 + 0.02 * seed));
    }
  }
  const auto d = arm_differences(rows, "intermediate", "direct", {}, predictions);
  ASSERT_EQ(d.size(), 2u);
  const auto& de = d[0].language == "de" ? d[0] : d[1];
  const auto& en = d[0].language == "en" ? d[0] : d[1];
  EXPECT_EQ(de.method, "paired-t");
  EXPECT_EQ(en.method, "paired-bootstrap");
  EXPECT_EQ(en.n, 3);
  EXPECT_NEAR(en.difference, 0.8 - (0.6 + 0.005 * 2), 1e-12);
  EXPECT_NEAR(en.mean_b, 0.61, 1e-12);
  EXPECT_TRUE(en.significant);
  EXPECT_LT(en.ci_lower, en.difference);
  EXPECT_GT(en.ci_upper, en.difference);
  EXPECT_GT(en.ci_lower, 0.1);
  EXPECT_LT(en.p_value, 0.01);

  // Predictions of other examples in one arm (a different test file): no bootstrap, the t test instead.
  for (auto& p : predictions) {
    if (p.arm == "direct" && p.example == 0) p.gold = "5";
  }
  const auto fallback = arm_differences(rows, "intermediate", "direct", {}, predictions);
  for (const auto& x : fallback) EXPECT_EQ(x.method, "paired-t") << x.language;
}

// Tagging predictions (a tag per word) bootstrap with seqeval's F1 over resampled sentences, through the
// tagging kind's scorer: the observed difference is the per-seed F1 difference.
TEST(StudyStats, TagSequencesBootstrapWithEntityF1) {
  std::vector<ResultRow> rows;
  std::vector<PredictionRow> predictions;
  const int n = 60;
  const std::string gold = R"(["B-PER","I-PER","O","B-LOC"])";
  for (const int64_t seed : {1, 2}) {
    for (const std::string arm : {"direct", "intermediate"}) {
      // intermediate gets every sentence right; direct misses the location in half of them.
      for (int i = 0; i < n; ++i) {
        const std::string predicted = arm == "direct" && i % 2 == 0 ? R"(["B-PER","I-PER","O","O"])" : gold;
        predictions.push_back({arm, seed, "target", "panx", "tagging", "en", "test", i, gold, predicted});
      }
      // direct: 2n gold entities, 1.5n predicted, all correct: p = 1, r = 0.75, f1 = 6/7.
      ResultRow r = row(arm, seed, "en", arm == "direct" ? 6.0 / 7.0 : 1.0);
      r.task = "panx";
      r.metric = "f1";
      rows.push_back(r);
    }
  }
  const auto d = arm_differences(rows, "intermediate", "direct", {}, predictions);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].method, "paired-bootstrap");
  EXPECT_NEAR(d[0].mean_b, 6.0 / 7.0, 1e-12);
  EXPECT_NEAR(d[0].difference, 1.0 / 7.0, 1e-12);
  EXPECT_GT(d[0].ci_lower, 0.0);
}

}  // namespace
}  // namespace stilts::pipeline
