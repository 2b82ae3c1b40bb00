// stilts score: the XTREME scorer from the command line on xtreme's mock submission (skipped when
// ../shared/fixtures is absent): evaluate.py's document with --json, one file with --task, usage
// errors exit 2 and bad input exits 1. The numbers themselves are checked by
// tests/parity/test_eval_xtreme_score.cpp; here, that the CLI passes them through.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "support/fixtures.h"
#include "support/run.h"

namespace stilts {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::run_stilts;

fs::path peer() { return testing::fixtures_dir() / "xtreme-score" / "peer"; }

TEST(ScoreCli, BenchmarkJsonIsEvaluatePysDocument) {
  STILTS_REQUIRE_SHARED("xtreme-score/peer");
  const auto r = run_stilts({"score", "--benchmark", "xtreme", "--labels", (peer() / "labels").string(),
                             "--predictions", (peer() / "predictions").string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto doc = nlohmann::ordered_json::parse(r.out);
  EXPECT_EQ(doc.begin().key(), "all_task");
  EXPECT_NEAR(doc.at("all_task").get<double>(), 62.1932649076773, 1e-9);
  EXPECT_NEAR(doc.at("udpos").at("avg_f1").get<double>(), 70.39805810699043, 1e-9);
  EXPECT_EQ(r.err, "");  // nothing missing

  const auto table = run_stilts({"score", "--benchmark", "xtreme", "--labels", (peer() / "labels").string(),
                                 "--predictions", (peer() / "predictions").string()});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("all_task: 62.19"));
  EXPECT_THAT(table.out, HasSubstr("====== mlqa ======"));
}

TEST(ScoreCli, XtremeRNamesMissingLanguagesOnStderr) {
  STILTS_REQUIRE_SHARED("xtreme-score/peer");
  const auto r = run_stilts({"score", "--benchmark", "xtreme-r", "--labels", (peer() / "labels").string(),
                             "--predictions", (peer() / "predictions").string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("xquad: 1 of 12 languages missing (ro)"));
  const auto doc = nlohmann::json::parse(r.out);
  EXPECT_FALSE(doc.contains("all_task"));
  EXPECT_NEAR(doc.at("mewslix").at("avg_map@20").get<double>(), 14.39025156130419, 1e-9);
}

TEST(ScoreCli, OneTaskFile) {
  STILTS_REQUIRE_SHARED("xtreme-score/peer");
  const auto r = run_stilts({"score", "--task", "mlqa", "--gold", (peer() / "labels/mlqa/test-de.json").string(),
                             "--predictions", (peer() / "predictions/mlqa/test-de.json").string(), "--language",
                             "de", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto values = nlohmann::json::parse(r.out);
  EXPECT_EQ(values.at("exact_match").get<double>(), 0.0);
  EXPECT_NEAR(values.at("f1").get<double>(), 85.71428571428571, 1e-9);
}

TEST(ScoreCli, LareqaIsListedAndScoredAsStiltsOwn) {
  const auto help = run_stilts({"score", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("lareqa (stilts' own scorer)"));
  // q1's 2 relevant at ranks 1 and 3: (1/1 + 2/3) / 2; q2 unpredicted: 0. map@20 = 100 * (5/6) / 2.
  const fs::path tmp = testing::make_temp_dir();
  std::ofstream(tmp / "gold.json") << R"({"q1": ["a", "b"], "q2": ["c"]})";
  std::ofstream(tmp / "pred.json") << R"({"q1": ["a", "x", "b"]})";
  const auto r = run_stilts({"score", "--task", "lareqa", "--gold", (tmp / "gold.json").string(), "--predictions",
                             (tmp / "pred.json").string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NEAR(nlohmann::json::parse(r.out).at("map@20").get<double>(), 100.0 * 5 / 6 / 2, 1e-9);
  fs::remove_all(tmp);
}

TEST(ScoreCli, UsageAndInputErrors) {
  EXPECT_EQ(run_stilts({"score", "--predictions", "p"}).exit_code, 2);  // neither --benchmark nor --task
  EXPECT_EQ(run_stilts({"score", "--benchmark", "xtreme", "--task", "xnli", "--predictions", "p"}).exit_code, 2);
  EXPECT_EQ(run_stilts({"score", "--benchmark", "xtreme-s", "--labels", "l", "--predictions", "p"}).exit_code, 2);
  EXPECT_EQ(run_stilts({"score", "--task", "xnli", "--labels", "l", "--predictions", "p"}).exit_code, 2);
  const fs::path tmp = testing::make_temp_dir();
  const auto missing = run_stilts({"score", "--task", "xnli", "--gold", (tmp / "gold.tsv").string(), "--predictions",
                                   (tmp / "pred.tsv").string()});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("pred.tsv"));
  const auto no_dir = run_stilts({"score", "--benchmark", "xtreme", "--labels", (tmp / "none").string(),
                                  "--predictions", tmp.string()});
  EXPECT_EQ(no_dir.exit_code, 1);
  EXPECT_THAT(no_dir.err, HasSubstr("none"));
  fs::remove_all(tmp);
}

}  // namespace
}  // namespace stilts
