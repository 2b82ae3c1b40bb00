// pipeline::choose_headline: the one rule `stilts results` and the report read a study's answer by.
#include <gtest/gtest.h>

#include <tuple>

#include "common/error.h"
#include "pipeline/headline.h"

namespace stilts::pipeline {
namespace {

ResultRow result(const std::string& arm, const std::string& stage, const std::string& task, const std::string& language,
                 const std::string& split, const std::string& metric, double value = 0.5, int64_t seed = 1) {
  return {arm, seed, stage, task, language, split, metric, value};
}

TEST(HeadlineMetric, DeclaredThenAccuracyThenFirstName) {
  const std::set<std::string> tagging = {"accuracy", "f1", "precision", "recall"};
  EXPECT_EQ(headline_metric(tagging, "f1"), "f1");
  EXPECT_EQ(headline_metric(tagging), "accuracy");
  EXPECT_EQ(headline_metric(tagging, "exact_match"), "accuracy");  // declared but not in the results
  EXPECT_EQ(headline_metric({"f1", "precision", "recall"}), "f1");
  EXPECT_EQ(headline_metric({"spearman", "pearson"}), "pearson");
  EXPECT_EQ(headline_metric({}), "");
  EXPECT_EQ(headline_metric({}, "f1"), "");
}

// Two arms: direct = [target], intermediate = [intermediate (mnli), target]; the target task evaluated in
// two languages on test and dev, the intermediate stage on mnli in one language.
std::vector<ResultRow> study_results(const std::vector<std::string>& target_metrics) {
  std::vector<ResultRow> rows;
  for (const std::string arm : {"direct", "intermediate"}) {
    for (const std::string language : {"de", "en"}) {
      for (const std::string split : {"dev", "test"}) {
        for (const auto& m : target_metrics) rows.push_back(result(arm, "target", "udpos", language, split, m));
      }
    }
  }
  rows.push_back(result("intermediate", "intermediate", "mnli", "en", "test", "accuracy"));
  return rows;
}

const std::vector<ArmStageRow> kChains = {{"direct", 1, 0, "target", "h1", ""},
                                          {"intermediate", 1, 0, "intermediate", "h2", ""},
                                          {"intermediate", 1, 1, "target", "h3", ""}};

TEST(Headline, FinalStageTestSplitTaskAndDeclaredMetric) {
  const auto rows = study_results({"accuracy", "f1", "precision", "recall"});
  const Headline h = choose_headline(rows, kChains, {{"udpos", "f1"}});
  EXPECT_EQ(h.final_stage("direct"), "target");
  EXPECT_EQ(h.final_stage("intermediate"), "target");
  EXPECT_EQ(h.final_stage("nope"), "");
  EXPECT_EQ(h.split, "test");
  EXPECT_EQ(h.task, "udpos");
  EXPECT_EQ(h.metric, "f1");
  EXPECT_TRUE(h.higher_is_better);
  EXPECT_TRUE(h.fraction);
  EXPECT_TRUE(h.holds(result("intermediate", "target", "udpos", "de", "test", "f1")));
  EXPECT_FALSE(h.holds(result("intermediate", "target", "udpos", "de", "dev", "f1")));
  EXPECT_FALSE(h.holds(result("intermediate", "target", "udpos", "de", "test", "accuracy")));
  EXPECT_FALSE(h.holds(result("intermediate", "intermediate", "udpos", "de", "test", "f1")));

  // Nothing declared: accuracy; the intermediate stage's own accuracy (mnli) is still not the headline.
  const Headline plain = choose_headline(rows, kChains);
  EXPECT_EQ(plain.task, "udpos");
  EXPECT_EQ(plain.metric, "accuracy");
  EXPECT_FALSE(plain.holds(result("intermediate", "intermediate", "mnli", "en", "test", "accuracy")));
}

// Direction and display scale come from eval::metric_info, never from the name.
TEST(Headline, DirectionAndScaleAreTheMetricsDeclared) {
  const Headline regression = choose_headline(study_results({"pearson", "spearman"}), kChains);
  EXPECT_EQ(regression.metric, "pearson");
  EXPECT_TRUE(regression.higher_is_better);
  EXPECT_FALSE(regression.fraction);
  const Headline error = choose_headline(study_results({"mse"}), kChains);
  EXPECT_EQ(error.metric, "mse");
  EXPECT_FALSE(error.higher_is_better);
  EXPECT_FALSE(error.fraction);
  EXPECT_THROW(choose_headline(study_results({"bleu"}), kChains), InputError);
}

TEST(Headline, DevWhenNoTestAndTheTaskWithTheMostResults) {
  std::vector<ResultRow> rows;
  for (const std::string language : {"de", "en", "fr"})
    rows.push_back(result("direct", "target", "xnli", language, "dev", "accuracy"));
  rows.push_back(result("direct", "target", "pawsx", "en", "dev", "accuracy"));
  rows.push_back(result("direct", "target", "pawsx", "en", "train", "accuracy"));
  const Headline h = choose_headline(rows, {{"direct", 1, 0, "target", "h", ""}});
  EXPECT_EQ(h.split, "dev");
  EXPECT_EQ(h.task, "xnli");
}

// Without chains (a database without arm_stages rows): the stage evaluated in the most languages.
TEST(Headline, WithoutChainsTheStageEvaluatedInTheMostLanguages) {
  const Headline h = choose_headline(study_results({"accuracy"}), {});
  EXPECT_EQ(h.final_stage("intermediate"), "target");
  EXPECT_EQ(h.final_stage("direct"), "target");
  // A chain whose last stage has no results yet (still running) falls back the same way.
  const Headline running = choose_headline(study_results({"accuracy"}), {{"intermediate", 1, 2, "third", "h4", ""}});
  EXPECT_EQ(running.final_stage("intermediate"), "target");
}

// A difference intermediate − direct on udpos test, as pipeline::arm_differences names it.
DifferenceRow difference(const std::string& stage, const std::string& metric) {
  DifferenceRow d;
  std::tie(d.arm_a, d.arm_b, d.stage, d.task, d.language, d.split, d.metric) =
      std::make_tuple("intermediate", "direct", stage, "udpos", "en", "test", metric);
  return d;
}

TEST(Headline, DifferencesOfTheFinalStages) {
  const Headline h = choose_headline(study_results({"accuracy", "f1"}), kChains);
  EXPECT_TRUE(h.holds(difference("target", "accuracy")));
  EXPECT_FALSE(h.holds(difference("target", "f1")));
  EXPECT_TRUE(h.at_final_stages(difference("target", "f1")));
  EXPECT_FALSE(h.at_final_stages(difference("intermediate", "accuracy")));
  // Final stages named differently in the two arms: arm_differences calls the pair "a|b".
  std::vector<ResultRow> renamed = study_results({"accuracy"});
  for (auto& r : renamed) {
    if (r.arm == "direct") r.stage = "finetune";
  }
  const Headline hr = choose_headline(renamed, {{"direct", 1, 0, "finetune", "h1", ""},
                                                {"intermediate", 1, 0, "intermediate", "h2", ""},
                                                {"intermediate", 1, 1, "target", "h3", ""}});
  EXPECT_TRUE(hr.holds(difference("target|finetune", "accuracy")));
  EXPECT_FALSE(hr.at_final_stages(difference("target", "accuracy")));
}

// A benchmark: each arm has two chains, ending in "xnli" (classification, three languages) and
// "probe" (an evaluation after mnli, one language); the intermediate arm's mnli stage is not a target.
TEST(Headline, ArmsWithSeveralTargetsHaveAFinalStagePerTask) {
  std::vector<ResultRow> rows;
  for (const std::string arm : {"direct", "intermediate"}) {
    for (const std::string language : {"de", "en", "fr"}) rows.push_back(result(arm, "xnli", "xnli", language, "test", "accuracy"));
    rows.push_back(result(arm, "probe", "tatoeba", "de", "test", "accuracy"));
  }
  rows.push_back(result("intermediate", "mnli", "mnli", "en", "dev", "accuracy"));
  const std::vector<ArmStageRow> chains = {{"direct", 1, 0, "xnli", "d1", "", "xnli"},
                                           {"direct", 1, 0, "mnli", "d2", "", "probe"},
                                           {"direct", 1, 1, "probe", "d3", "", "probe"},
                                           {"intermediate", 1, 0, "mnli", "i1", "", "xnli"},
                                           {"intermediate", 1, 1, "xnli", "i2", "", "xnli"},
                                           {"intermediate", 1, 0, "mnli", "i1", "", "probe"},
                                           {"intermediate", 1, 1, "probe", "i3", "", "probe"}};
  const Headline h = choose_headline(rows, chains);
  EXPECT_EQ(h.task, "xnli");  // the most final-stage results in the test split
  EXPECT_EQ(h.final_stage("intermediate"), "xnli");
  EXPECT_EQ(h.final_stage("intermediate", "tatoeba"), "probe");
  EXPECT_EQ(h.final_stage("intermediate", "mnli"), "");
  EXPECT_TRUE(h.is_final("direct", "probe"));
  EXPECT_TRUE(h.is_final("intermediate", "xnli"));
  EXPECT_FALSE(h.is_final("intermediate", "mnli"));
  DifferenceRow probe;
  probe.arm_a = "intermediate";
  probe.arm_b = "direct";
  probe.stage = "probe";
  probe.task = "tatoeba";
  EXPECT_TRUE(h.at_final_stages(probe));
  probe.task = "xnli";  // xnli's final stage is "xnli"
  EXPECT_FALSE(h.at_final_stages(probe));
}

}  // namespace
}  // namespace stilts::pipeline
