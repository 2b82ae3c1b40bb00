// LAReQA's map@20 (stilts' own scorer: evaluate.py has none) against xtreme's utils_lareqa.py
// mean_avg_prec_at_k(k=20), worked by hand. Per question AP@20 = sum over ranks r <= 20 holding a
// relevant candidate not seen above of (hits so far) / r, divided by min(20, #relevant); map@20 is
// the mean over the gold questions, times 100.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "eval/xtreme_score.h"
#include "support/fixtures.h"

namespace stilts::eval {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

void write(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// {"q": [...]} JSON for a list of ids.
std::string ids(const std::vector<std::string>& list) {
  std::string out = "[";
  for (size_t i = 0; i < list.size(); ++i) out += (i > 0 ? ", \"" : "\"") + list[i] + "\"";
  return out + "]";
}

std::vector<std::string> numbered(const std::string& prefix, int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i <= to; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// map@20 of gold {question: relevant} against predictions {question: ranked}.
double map20(const std::string& gold, const std::string& predictions) {
  const fs::path dir = testing::make_temp_dir();
  write(dir / "gold.json", gold);
  write(dir / "pred.json", predictions);
  const NamedValues v = score_task_files("lareqa", dir / "gold.json", dir / "pred.json", "en");
  EXPECT_EQ(v.size(), 1u);
  EXPECT_EQ(v.at(0).first, "map@20");
  return v.at(0).second;
}

std::string error_of(const std::string& gold, const std::string& predictions) {
  try {
    map20(gold, predictions);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

TEST(LareqaMap20, SeveralRelevantAtRanksOneThreeFive) {
  // Hits at ranks 1, 3, 5: (1/1 + 2/3 + 3/5) / min(20, 3).
  EXPECT_DOUBLE_EQ(map20(R"({"q": ["a", "b", "c"]})", R"({"q": ["a", "x", "b", "y", "c", "z"]})"),
                   (1.0 + 2.0 / 3 + 3.0 / 5) / 3 * 100);
}

TEST(LareqaMap20, RanksBeyondTwentyDoNotCount) {
  // a at rank 1, b at rank 21: only a counts, and the divisor is still min(20, 2) = 2.
  const std::string ranked = ids(concat(concat({"a"}, numbered("x", 1, 19)), {"b"}));
  EXPECT_DOUBLE_EQ(map20(R"({"q": ["a", "b"]})", R"({"q": )" + ranked + "}"), 1.0 / 2 * 100);
  // b at rank 20 counts: (1/1 + 2/20) / 2.
  const std::string ranked20 = ids(concat(concat({"a"}, numbered("x", 1, 18)), {"b"}));
  EXPECT_DOUBLE_EQ(map20(R"({"q": ["a", "b"]})", R"({"q": )" + ranked20 + "}"), (1.0 + 2.0 / 20) / 2 * 100);
}

TEST(LareqaMap20, DividesByMinOfTwentyAndRelevant) {
  // 25 relevant, all 25 ranked first: 20 hits at precision 1 within the top 20 -> 20 / min(20, 25)
  // = 1 (dividing by #relevant would give 0.8).
  const std::vector<std::string> relevant = numbered("r", 1, 25);
  EXPECT_DOUBLE_EQ(map20(R"({"q": )" + ids(relevant) + "}", R"({"q": )" + ids(relevant) + "}"), 100.0);
  // 25 relevant, 5 of them at ranks 1..5, then noise: 5 / 20.
  const std::string ranked = ids(concat(numbered("r", 1, 5), numbered("x", 1, 30)));
  EXPECT_DOUBLE_EQ(map20(R"({"q": )" + ids(relevant) + "}", R"({"q": )" + ranked + "}"), 5.0 / 20 * 100);
}

TEST(LareqaMap20, NoneRetrievedScoresZero) {
  EXPECT_DOUBLE_EQ(map20(R"({"q": ["a"]})", R"({"q": ["x", "y"]})"), 0.0);
  EXPECT_DOUBLE_EQ(map20(R"({"q": ["a"]})", R"({"q": []})"), 0.0);
}

TEST(LareqaMap20, RepeatsCountOnceButTakeARank) {
  // a, a, b: hit at rank 1; the repeated a is skipped but rank 3 is b's: (1/1 + 2/3) / 2.
  EXPECT_DOUBLE_EQ(map20(R"({"q": ["a", "b"]})", R"({"q": ["a", "a", "b"]})"), (1.0 + 2.0 / 3) / 2 * 100);
  // A repeated gold id is one relevant candidate (utils_lareqa takes a set): (1/2) / 1.
  EXPECT_DOUBLE_EQ(map20(R"({"q": ["a", "a"]})", R"({"q": ["x", "a"]})"), 1.0 / 2 * 100);
}

TEST(LareqaMap20, MissingQuestionScoresZeroAndExtraIdsAreIgnored) {
  // q1 rank 2 -> 1/2; q2 unpredicted -> 0 (still counts); q3 rank 1 -> 1; "extra" is not gold.
  // Mean over the 3 gold questions: 1.5 / 3.
  EXPECT_DOUBLE_EQ(map20(R"({"q1": ["a"], "q2": ["b"], "q3": ["c"]})",
                         R"({"q1": ["x", "a"], "q3": ["c"], "extra": ["a", "b", "c"]})"),
                   1.5 / 3 * 100);
}

TEST(LareqaMap20, ScoredThroughTheBenchmarkAsAnUnofficialTask) {
  const XtremeTask& task = xtreme_task("lareqa");
  EXPECT_EQ(task.extension, "json");
  EXPECT_FALSE(task.official);
  EXPECT_TRUE(xtreme_task("mewslix").official);
  const XtremeBenchmark& bm = xtreme_benchmark("xtreme-r");
  const auto it = std::find_if(bm.task_languages.begin(), bm.task_languages.end(),
                               [](const auto& t) { return t.first == "lareqa"; });
  ASSERT_NE(it, bm.task_languages.end());
  EXPECT_THAT(it->second, ::testing::ElementsAre("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh"));
}

TEST(LareqaMap20, MalformedInputsAreInputErrors) {
  EXPECT_THAT(error_of(R"({"q": []})", R"({"q": ["a"]})"), HasSubstr("\"q\": no relevant candidate"));
  EXPECT_THAT(error_of(R"({})", R"({})"), HasSubstr("gold.json: no questions to score"));
  EXPECT_THAT(error_of(R"(["a"])", R"({})"), HasSubstr("{question uid: [relevant candidate uids]}"));
  EXPECT_THAT(error_of(R"({"q": ["a"]})", R"([])"), HasSubstr("{question uid: [candidate uids, best first]}"));
  EXPECT_THAT(error_of(R"({"q": "a"})", R"({})"), HasSubstr("gold.json: \"q\": expected a list of relevant"));
  EXPECT_THAT(error_of(R"({"q": ["a"]})", R"({"q": ["a", 3]})"),
              HasSubstr("pred.json: \"q\": expected a list of candidate uids, found 3"));
  EXPECT_THAT(error_of(R"({"q": ["a"]})", R"({"q": [)"), HasSubstr("pred.json:1:"));
}

}  // namespace
}  // namespace stilts::eval
