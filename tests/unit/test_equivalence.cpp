// pipeline::compare_relative: the one equivalence rule for latency, throughput and memory. Intervals
// are checked against Student t quantiles from scipy (t.ppf(0.975, 2) = 4.302652729749464).
#include <gtest/gtest.h>

#include <cmath>

#include "common/error.h"
#include "pipeline/equivalence.h"

namespace stilts::pipeline {
namespace {

// The half-width of the 95% t interval of a mean of 3 values with sample std 0.01.
constexpr double kHalfWidth = 4.302652729749464 * 0.01 / 1.7320508075688772;

TEST(Equivalence, VerdictsOfThePairedIntervalAgainstTheMargin) {
  // Per-seed ratios +1%, -1%, 0: mean 0, std 0.01.
  Relative r = compare_relative({{1, 10.1}, {2, 9.9}, {3, 10.0}}, {{1, 10.0}, {2, 10.0}, {3, 10.0}});
  EXPECT_EQ(r.n, 3);
  EXPECT_NEAR(r.difference, 0.0, 1e-12);
  EXPECT_NEAR(r.ci_lower, -kHalfWidth, 1e-9);
  EXPECT_NEAR(r.ci_upper, kHalfWidth, 1e-9);
  EXPECT_NEAR(r.mean_a, 10.0, 1e-12);
  EXPECT_DOUBLE_EQ(r.mean_b, 10.0);
  EXPECT_DOUBLE_EQ(r.margin, 0.05);  // the one default
  EXPECT_EQ(r.verdict, Verdict::kEquivalent);
  // The same interval (±2.5%) against a 2% margin: holds 0, reaches beyond the margin.
  EXPECT_EQ(compare_relative({{1, 10.1}, {2, 9.9}, {3, 10.0}}, {{1, 10.0}, {2, 10.0}, {3, 10.0}}, 0.95, 0.02).verdict,
            Verdict::kInconclusive);
  // Ratios +30%, +32%, +28%: mean 0.30, std 0.02.
  r = compare_relative({{1, 13.0}, {2, 13.2}, {3, 12.8}}, {{1, 10.0}, {2, 10.0}, {3, 10.0}});
  EXPECT_EQ(r.verdict, Verdict::kHigher);
  EXPECT_NEAR(r.difference, 0.30, 1e-12);
  EXPECT_NEAR(r.ci_lower, 0.30 - 2 * kHalfWidth, 1e-9);
  r = compare_relative({{1, 7.0}, {2, 6.8}, {3, 7.2}}, {{1, 10.0}, {2, 10.0}, {3, 10.0}});
  EXPECT_EQ(r.verdict, Verdict::kLower);
  EXPECT_NEAR(r.difference, -0.30, 1e-12);
}

// Seeds are paired: seed-to-seed drift (here 10, 20, 40 ms) cancels in the ratio, which is 1.1 in every
// seed; unpaired, the spread between seeds would swamp the 10%.
TEST(Equivalence, PairedBySeed) {
  const Relative r = compare_relative({{1, 11.0}, {2, 22.0}, {3, 44.0}}, {{1, 10.0}, {2, 20.0}, {3, 40.0}});
  EXPECT_EQ(r.verdict, Verdict::kHigher);
  EXPECT_NEAR(r.ci_lower, 0.1, 1e-12);
  EXPECT_NEAR(r.ci_upper, 0.1, 1e-12);
  // Seeds measured in one arm only, undefined values and a zero baseline are left out.
  const Relative partial = compare_relative({{1, 11.0}, {2, 22.0}, {3, NAN}, {4, 5.0}, {5, 1.0}},
                                            {{1, 10.0}, {2, 20.0}, {3, 40.0}, {5, 0.0}});
  EXPECT_EQ(partial.n, 2);
  EXPECT_NEAR(partial.mean_a, 16.5, 1e-12);
  EXPECT_NEAR(partial.mean_b, 15.0, 1e-12);
}

TEST(Equivalence, NoIntervalBelowTwoSeeds) {
  Relative r = compare_relative({{1, 12.0}}, {{1, 10.0}});
  EXPECT_EQ(r.n, 1);
  EXPECT_NEAR(r.difference, 0.2, 1e-12);
  EXPECT_TRUE(std::isnan(r.ci_lower));
  EXPECT_EQ(r.verdict, Verdict::kNoInterval);
  r = compare_relative({}, {{1, 10.0}});
  EXPECT_EQ(r.n, 0);
  EXPECT_TRUE(std::isnan(r.difference));
  EXPECT_TRUE(std::isnan(r.mean_a));
  EXPECT_EQ(r.verdict, Verdict::kNoInterval);
}

TEST(Equivalence, VocabularyAndBadOptions) {
  EXPECT_STREQ(verdict_name(Verdict::kEquivalent), "equivalent");
  EXPECT_STREQ(verdict_name(Verdict::kHigher), "higher");
  EXPECT_STREQ(verdict_name(Verdict::kLower), "lower");
  EXPECT_STREQ(verdict_name(Verdict::kInconclusive), "no significant difference");
  EXPECT_STREQ(verdict_name(Verdict::kNoInterval), "n/a");
  EXPECT_THROW(compare_relative({}, {}, 1.5), InputError);
  EXPECT_THROW(compare_relative({}, {}, 0.95, 0.0), InputError);
}

}  // namespace
}  // namespace stilts::pipeline
