// The XTREME scorer against google-research/xtreme's evaluate.py on its own mock submission
// (../shared/fixtures/xtreme-score/peer: labels/, predictions/ and expected.json, what evaluate.py with
// seqeval 1.2.2 computes on them). Skipped when the shared fixtures are absent.
//
// Hand-made submissions in temp folders cover what the mock data lacks (XCOPA, missing files) and
// the error cases; their expected values are worked by hand in the comments.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "eval/xtreme_score.h"
#include "support/fixtures.h"

namespace stilts::eval {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr double kTolerance = 1e-9;
constexpr const char* kFixture = "xtreme-score/peer";

fs::path peer() { return testing::fixtures_dir() / kFixture; }
Json expected() { return Json::parse(read_file(peer() / "expected.json")); }

// Same keys in the same order and numbers within kTolerance, recursively; tracks the largest
// difference and how many numbers were compared.
struct Comparison {
  double max_abs_diff = 0;
  int numbers = 0;
  std::vector<std::string> not_identical;  // where the bits differ (within the tolerance)
};

void expect_same(const Json& want, const Json& got, const std::string& where, Comparison& c) {
  if (want.is_number()) {
    ASSERT_TRUE(got.is_number()) << where << ": expected a number, got " << got.dump();
    const double diff = std::abs(want.get<double>() - got.get<double>());
    c.max_abs_diff = std::max(c.max_abs_diff, diff);
    ++c.numbers;
    if (want.get<double>() != got.get<double>()) c.not_identical.push_back(where);
    EXPECT_LE(diff, kTolerance) << where << ": expected " << want.dump() << ", got " << got.dump();
    return;
  }
  ASSERT_TRUE(want.is_object()) << where;
  ASSERT_TRUE(got.is_object()) << where << ": expected an object, got " << got.dump();
  std::vector<std::string> want_keys;
  std::vector<std::string> got_keys;
  for (const auto& [key, _] : want.items()) want_keys.push_back(key);
  for (const auto& [key, _] : got.items()) got_keys.push_back(key);
  ASSERT_EQ(want_keys, got_keys) << where << ": keys (in order) differ";
  for (const auto& [key, value] : want.items()) expect_same(value, got.at(key), where + "." + key, c);
}

void report(const std::string& what, const Comparison& c) {
  std::cout << what << ": " << c.numbers << " numbers, " << c.numbers - c.not_identical.size()
            << " bit-identical, max abs diff " << c.max_abs_diff << " (tolerance " << kTolerance << ")\n";
}

TEST(XtremeScoreParity, XtremeDocumentMatchesEvaluatePy) {
  STILTS_REQUIRE_SHARED(kFixture);
  const Json all = expected();
  const Json& full = all.at("evaluate_full").at("xtreme");
  ASSERT_EQ(full.at("status"), "ok");
  // evaluate.py --output_file writes the overall scores, then the detailed scores, in one object.
  Json want = full.at("overall_scores");
  for (const auto& [task, scores] : full.at("detailed_scores").items()) want[task] = scores;

  const BenchmarkResult result = score_benchmark("xtreme", peer() / "labels", peer() / "predictions");
  Comparison c;
  expect_same(want, to_evaluate_json(result), "xtreme", c);
  report("evaluate_full.xtreme", c);
  EXPECT_EQ(c.numbers, 375);  // every number of the document (counted in expected.json)
  // Only all_task may differ in its last bits: evaluate.py sums it over a Python set of task names,
  // whose order changes with the interpreter's string hashing; stilts sums in the table's order.
  for (const std::string& where : c.not_identical) EXPECT_EQ(where, "xtreme.all_task");
  EXPECT_TRUE(result.complete());
  EXPECT_TRUE(missing_report(result).empty());
  ASSERT_TRUE(result.all_task.has_value());
  EXPECT_NEAR(*result.all_task, 62.1932649076773, kTolerance);
}

TEST(XtremeScoreParity, EveryTaskFileByFileMatchesEvaluateOneTask) {
  STILTS_REQUIRE_SHARED(kFixture);
  const Json all = expected();
  Comparison c;
  for (const std::string version : {"xtreme", "xtreme-r"}) {
    for (const auto& [task, entry] : all.at("per_task").at(version).items()) {
      if (!entry.contains("scores")) continue;
      const std::string extension = xtreme_task(task).extension;
      for (const std::string& language : entry.at("languages_scored").get<std::vector<std::string>>()) {
        const std::string file = "test-" + language + "." + extension;
        const NamedValues got = score_task_files(task, peer() / "labels" / task / file,
                                                 peer() / "predictions" / task / file, language);
        Json want = Json::object();
        for (const auto& [metric, by_language] : entry.at("scores").items()) {
          if (metric.rfind("avg_", 0) != 0) want[metric] = by_language.at(language);
        }
        expect_same(want, to_json(got), version + "." + task + "." + language, c);
      }
    }
  }
  report("per_task, file by file", c);
  EXPECT_EQ(c.numbers, 678);  // every per-language number in per_task (counted in expected.json)
  EXPECT_TRUE(c.not_identical.empty()) << c.not_identical.front();
}

TEST(XtremeScoreParity, XtremeRScoresWhatIsPresentAndNamesWhatIsMissing) {
  STILTS_REQUIRE_SHARED(kFixture);
  const Json want = expected();
  // The official run raises on the first missing file; there is no overall document to compare.
  ASSERT_EQ(want.at("evaluate_full").at("xtreme-r").at("status"), "error");
  const BenchmarkResult result = score_benchmark("xtreme-r", peer() / "labels", peer() / "predictions");
  const Json doc = to_evaluate_json(result);
  Comparison c;
  for (const auto& [task, entry] : want.at("per_task").at("xtreme-r").items()) {
    SCOPED_TRACE(task);
    const auto it = std::find_if(result.tasks.begin(), result.tasks.end(),
                                 [&, &task = task](const TaskResult& t) { return t.task == task; });
    ASSERT_NE(it, result.tasks.end());
    if (!entry.contains("scores")) {  // lareqa: evaluate.py has no reader or metric for it
      // stilts scores it (unofficially), but the mock data has no LAReQA files.
      EXPECT_FALSE(it->official);
      EXPECT_EQ(it->missing_languages.size(), 11u);
      EXPECT_FALSE(it->complete());
      EXPECT_FALSE(doc.contains(task));
      continue;
    }
    std::vector<std::string> missing;
    for (const fs::path& p : it->missing_files) missing.push_back(fs::relative(p, peer()).string());
    EXPECT_EQ(missing, entry.at("missing").get<std::vector<std::string>>());
    EXPECT_EQ(it->complete(), entry.at("complete").get<bool>());
    if (entry.at("scores").empty()) {  // xcopa: no mock files at all
      EXPECT_TRUE(it->languages.empty());
      EXPECT_FALSE(doc.contains(task));
      continue;
    }
    expect_same(entry.at("scores"), doc.at(task), "xtreme-r." + task, c);
  }
  report("per_task.xtreme-r (partial tasks averaged over present languages)", c);
  EXPECT_EQ(c.numbers, 358);
  EXPECT_TRUE(c.not_identical.empty()) << c.not_identical.front();
  // No group has all its tasks complete, so neither group scores nor all_task are given.
  EXPECT_FALSE(result.all_task.has_value());
  for (const GroupResult& g : result.groups) EXPECT_FALSE(g.score.has_value()) << g.name;
  EXPECT_FALSE(doc.contains("all_task"));
  EXPECT_FALSE(doc.contains("classification"));
  const std::vector<std::string> notes = missing_report(result);
  EXPECT_THAT(notes, ::testing::Contains(HasSubstr("xquad: 1 of 12 languages missing (ro)")));
  EXPECT_THAT(notes, ::testing::Contains(HasSubstr("lareqa: 11 of 11 languages missing (ar de el en es hi ru th tr vi zh)")));
  EXPECT_FALSE(doc.contains("stilts_own_scorers"));  // nothing unofficial was scored
}

// ---- hand-made submissions ----

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
}

void copy_task(const fs::path& to, const std::string& task) {
  for (const char* side : {"labels", "predictions"}) {
    fs::create_directories(to / side);
    fs::copy(peer() / side / task, to / side / task, fs::copy_options::recursive);
  }
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

TEST(XtremeScore, XcopaCountsInClassificationAndMultipleChoice) {
  STILTS_REQUIRE_SHARED(kFixture);
  const fs::path dir = testing::make_temp_dir();
  copy_task(dir, "xnli");
  // Gold 0 1 0 1 everywhere. et, ht, id predict all four right (et as JSON booleans, which Python
  // compares equal to 0 and 1); the other 8 languages get two right: avg = (3 * 100 + 8 * 50) / 11.
  const std::vector<std::string> languages = {"et", "ht", "id", "it", "qu", "sw", "ta", "th", "tr", "vi", "zh"};
  for (const std::string& language : languages) {
    const std::string file = "xcopa/test-" + language + ".jsonl";
    write(dir / "labels" / file, "{\"label\": 0}\n{\"label\": 1}\n{\"label\": 0}\n{\"label\": 1}\n");
    std::string pred = "{\"label\": 0}\n{\"label\": 1}\n{\"label\": 1}\n{\"label\": 0}\n";
    if (language == "et") pred = "{\"label\": false}\n{\"label\": true}\n{\"label\": false}\n{\"label\": true}\n";
    if (language == "ht" || language == "id") pred = "{\"label\": 0}\n{\"label\": 1}\n{\"label\": 0}\n{\"label\": 1}";
    write(dir / "predictions" / file, pred);
  }
  const BenchmarkResult result = score_benchmark("xtreme-r", dir / "labels", dir / "predictions");
  const double xcopa = (3 * 100.0 + 8 * 50.0) / 11;
  const double xnli = 30.666666666666668;  // expected.json's avg_accuracy for the mock XNLI files
  const Json doc = to_evaluate_json(result);
  EXPECT_NEAR(doc.at("xcopa").at("avg_accuracy").get<double>(), xcopa, kTolerance);
  EXPECT_EQ(doc.at("xcopa").at("accuracy").at("et").get<double>(), 100.0);
  EXPECT_EQ(doc.at("xcopa").at("accuracy").at("zh").get<double>(), 50.0);
  EXPECT_NEAR(doc.at("classification").get<double>(), (xnli + xcopa) / 2, kTolerance);
  EXPECT_NEAR(doc.at("multi_choice").get<double>(), xcopa, kTolerance);
  EXPECT_FALSE(doc.contains("all_task"));
  EXPECT_FALSE(doc.contains("tagging"));
  // Key order as evaluate.py: groups (in its order) first, then tasks in its order.
  std::vector<std::string> keys;
  for (const auto& [key, _] : doc.items()) keys.push_back(key);
  EXPECT_THAT(keys, ElementsAre("classification", "multi_choice", "xnli", "xcopa"));
}

// Mean over the languages present in the mock data (expected.json, i.e. evaluate.py's numbers) and
// `added` languages written here, each scoring `added_value`.
double mean_with(const Json& by_language, int added, double added_value) {
  double sum = 0;
  for (const auto& [language, value] : by_language.items()) sum += value.get<double>();
  return (sum + added * added_value) / static_cast<double>(by_language.size() + added);
}

// A whole XTREME-R submission: the mock files where they exist, hand-written files for the languages
// XTREME-R added and for XCOPA and LAReQA (no mock data). Per-task scores are worked out here from
// expected.json and the written files; groups and all_task from those, as evaluate.py's table says.
TEST(XtremeScore, CompleteXtremeRSubmissionHasGroupsAndAllTask) {
  STILTS_REQUIRE_SHARED(kFixture);
  const Json all = expected();
  const Json& mock = all.at("per_task").at("xtreme-r");
  const fs::path dir = testing::make_temp_dir();
  for (const char* task : {"xnli", "panx", "udpos", "tatoeba", "mewslix", "xquad", "mlqa", "tydiqa"}) {
    copy_task(dir, task);
  }
  const auto both = [&](const std::string& file, const std::string& gold, const std::string& pred) {
    write(dir / "labels" / file, gold);
    write(dir / "predictions" / file, pred);
  };
  // Tagging: predictions equal to the gold -> f1 100.
  for (const char* language : {"qu", "pl", "uk", "az", "lt", "pa", "gu", "ro"}) {
    both(std::string("panx/test-") + language + ".tsv", "B-PER\nI-PER\nO\n\nB-LOC\n", "B-PER\nI-PER\nO\n\nB-LOC\n");
  }
  for (const char* language : {"lt", "pl", "uk", "wo", "ro"}) {
    both(std::string("udpos/test-") + language + ".tsv", "NOUN\nVERB\n\nDET\nNOUN\n", "NOUN\nVERB\n\nDET\nNOUN\n");
  }
  // Tatoeba: 2 of 4 indices right -> 50.
  for (const char* language : {"az", "lt", "pl", "uk", "ro"}) {
    both(std::string("tatoeba/test-") + language + ".tsv", "1\n2\n3\n4\n", "1\n2\n9\n9\n");
  }
  // XQuAD ro: one exact answer, one with no common token -> EM 50, F1 50.
  both("xquad/test-ro.json",
       R"({"data": [{"paragraphs": [{"qas": [{"id": "q1", "answers": [{"text": "Bucharest"}]},)"
       R"( {"id": "q2", "answers": [{"text": "Danube"}]}]}]}]})",
       R"({"q1": "Bucharest", "q2": "Prut"})");
  // XCOPA: gold 0 1 0 1; et all right (100), the other 10 languages two right (50).
  for (const char* language : {"et", "ht", "id", "it", "qu", "sw", "ta", "th", "tr", "vi", "zh"}) {
    const std::string pred = std::string(language) == "et" ? "{\"label\": 0}\n{\"label\": 1}\n{\"label\": 0}\n{\"label\": 1}\n"
                                                           : "{\"label\": 0}\n{\"label\": 1}\n{\"label\": 1}\n{\"label\": 0}\n";
    both(std::string("xcopa/test-") + language + ".jsonl",
         "{\"label\": 0}\n{\"label\": 1}\n{\"label\": 0}\n{\"label\": 1}\n", pred);
  }
  // LAReQA: en q1's 2 relevant at ranks 1 and 3 -> (1 + 2/3) / 2, q2's at rank 2 -> 1/2; in the other
  // 10 languages q1's 2 relevant at ranks 1 and 2 -> 1, q2 unpredicted -> 0, so 50.
  for (const char* l : {"ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh"}) {
    const std::string language = l;
    const std::string q1 = "\"q1_" + language + "\"";
    const std::string q2 = "\"q2_" + language + "\"";
    const std::string gold = "{" + q1 + ": [\"a\", \"a_" + language + "\"], " + q2 + ": [\"b\"]}";
    const std::string pred = language == "en" ? "{" + q1 + ": [\"a\", \"x\", \"a_en\"], " + q2 + ": [\"y\", \"b\"]}"
                                              : "{" + q1 + ": [\"a_" + language + "\", \"a\"]}";
    both("lareqa/test-" + language + ".json", gold, pred);
  }

  const auto avg = [&](const char* task, const char* metric) { return mock.at(task).at("scores").at(metric); };
  const double xnli = avg("xnli", "avg_metric").get<double>();
  const double panx = mean_with(avg("panx", "f1"), 8, 100.0);
  const double udpos = mean_with(avg("udpos", "f1"), 5, 100.0);
  const double tatoeba = mean_with(avg("tatoeba", "accuracy"), 5, 50.0);
  const double xcopa = (100.0 + 10 * 50.0) / 11;
  const double lareqa = (((1 + 2.0 / 3) / 2 + 0.5) / 2 * 100 + 10 * 50.0) / 11;
  const double mewslix = avg("mewslix", "avg_metric").get<double>();
  const double xquad = (mean_with(avg("xquad", "exact_match"), 1, 50.0) + mean_with(avg("xquad", "f1"), 1, 50.0)) / 2;
  const double mlqa = avg("mlqa", "avg_metric").get<double>();
  const double tydiqa = avg("tydiqa", "avg_metric").get<double>();

  const BenchmarkResult result = score_benchmark("xtreme-r", dir / "labels", dir / "predictions");
  EXPECT_TRUE(missing_report(result).empty()) << missing_report(result).front();
  const Json doc = to_evaluate_json(result);
  const std::vector<std::pair<const char*, double>> tasks = {
      {"xnli", xnli},       {"panx", panx},       {"udpos", udpos}, {"tatoeba", tatoeba}, {"xcopa", xcopa},
      {"lareqa", lareqa},   {"mewslix", mewslix}, {"xquad", xquad}, {"mlqa", mlqa},       {"tydiqa", tydiqa}};
  for (const auto& [task, value] : tasks) {
    EXPECT_NEAR(doc.at(task).at("avg_metric").get<double>(), value, kTolerance) << task;
  }
  EXPECT_NEAR(doc.at("lareqa").at("map@20").at("en").get<double>(), ((1 + 2.0 / 3) / 2 + 0.5) / 2 * 100, kTolerance);
  EXPECT_DOUBLE_EQ(doc.at("lareqa").at("map@20").at("zh").get<double>(), 50.0);

  // evaluate.py's XTREME_R_GROUP2TASK: lareqa is in no group; xcopa is in two.
  double sum = 0;
  for (const auto& [task, value] : tasks) sum += value;
  ASSERT_TRUE(result.all_task.has_value());
  EXPECT_NEAR(*result.all_task, sum / 10, kTolerance);
  EXPECT_NEAR(doc.at("all_task").get<double>(), sum / 10, kTolerance);
  EXPECT_NEAR(doc.at("classification").get<double>(), (xnli + xcopa) / 2, kTolerance);
  EXPECT_NEAR(doc.at("tagging").get<double>(), (udpos + panx) / 2, kTolerance);
  EXPECT_NEAR(doc.at("qa").get<double>(), (xquad + mlqa + tydiqa) / 3, kTolerance);
  EXPECT_NEAR(doc.at("retrieval").get<double>(), (tatoeba + mewslix) / 2, kTolerance);
  EXPECT_NEAR(doc.at("multi_choice").get<double>(), xcopa, kTolerance);
  std::cout << "complete xtreme-r: all_task " << *result.all_task << ", by hand " << sum / 10 << ", abs diff "
            << std::abs(*result.all_task - sum / 10) << " (tolerance " << kTolerance << ")\n";

  // Key order: evaluate.py's (overall, groups, tasks), then the note that lareqa is stilts' own.
  std::vector<std::string> keys;
  for (const auto& [key, _] : doc.items()) keys.push_back(key);
  EXPECT_THAT(keys, ElementsAre("all_task", "classification", "tagging", "qa", "retrieval", "multi_choice", "xnli",
                                "panx", "udpos", "tatoeba", "xcopa", "lareqa", "mewslix", "xquad", "mlqa", "tydiqa",
                                "stilts_own_scorers"));
  EXPECT_THAT(doc.at("stilts_own_scorers").at("lareqa").get<std::string>(), HasSubstr("utils_lareqa.py"));
  EXPECT_THAT(result.unofficial_tasks(), ElementsAre("lareqa"));
  const std::string table = format_benchmark(result);
  EXPECT_THAT(table, HasSubstr("(includes lareqa, scored by stilts, not evaluate.py)"));
  EXPECT_THAT(table, HasSubstr("====== lareqa ======\n(map@20 computed by stilts"));
  // The retrieval group (tatoeba, mewslix) does not include lareqa, so its line is not marked.
  const size_t retrieval = table.find("\nretrieval: ");
  ASSERT_NE(retrieval, std::string::npos);
  EXPECT_EQ(table.substr(retrieval + 1, table.find('\n', retrieval + 1) - retrieval - 1).find("includes"),
            std::string::npos);
}

TEST(XtremeScore, MissingLanguageIsNamedAndTheRestScored) {
  STILTS_REQUIRE_SHARED(kFixture);
  const fs::path dir = testing::make_temp_dir();
  copy_task(dir, "pawsx");
  fs::remove(dir / "predictions" / "pawsx" / "test-ko.tsv");
  const BenchmarkResult result = score_benchmark("xtreme", dir / "labels", dir / "predictions");
  const TaskResult& pawsx = result.tasks.front();
  ASSERT_EQ(pawsx.task, "pawsx");
  EXPECT_THAT(pawsx.missing_languages, ElementsAre("ko"));
  EXPECT_THAT(pawsx.missing_files, ElementsAre(dir / "predictions" / "pawsx" / "test-ko.tsv"));
  EXPECT_FALSE(pawsx.complete());
  // de 50, en 40, es 50, fr 60, ja 60, zh 40 (expected.json) -> 300 / 6.
  ASSERT_TRUE(pawsx.avg_metric.has_value());
  EXPECT_DOUBLE_EQ(*pawsx.avg_metric, 50.0);
  const Json doc = to_evaluate_json(result);
  EXPECT_FALSE(doc.contains("classification"));
  EXPECT_FALSE(doc.at("pawsx").at("accuracy").contains("ko"));
  EXPECT_THAT(missing_report(result), ::testing::Contains(HasSubstr("pawsx: 1 of 7 languages missing (ko)")));
  // Every other task is absent altogether and named too.
  EXPECT_THAT(missing_report(result), ::testing::Contains(HasSubstr("xnli: 15 of 15 languages missing")));
}

TEST(XtremeScore, LineCountMismatchNamesBothFiles) {
  STILTS_REQUIRE_SHARED(kFixture);
  const fs::path dir = testing::make_temp_dir();
  const fs::path gold = peer() / "labels" / "pawsx" / "test-de.tsv";
  const fs::path pred = dir / "test-de.tsv";
  std::string text = read_file(peer() / "predictions" / "pawsx" / "test-de.tsv");
  text = text.substr(0, text.rfind('\n', text.size() - 2) + 1);  // drop the 10th line
  write(pred, text);
  const std::string message = error_of([&] { score_task_files("pawsx", gold, pred); });
  EXPECT_THAT(message, HasSubstr(pred.string() + ": 9 lines but " + gold.string() + " has 10"));
  EXPECT_THAT(message, HasSubstr("line 10 has no counterpart"));
}

TEST(XtremeScore, TaggingSentenceMismatchNamesFileAndLine) {
  const fs::path dir = testing::make_temp_dir();
  write(dir / "gold.tsv", "B-PER\nI-PER\n\nO\nB-LOC\nO\n");
  write(dir / "pred.tsv", "B-PER\nI-PER\n\nO\nB-LOC\n");
  EXPECT_THAT(error_of([&] { score_task_files("panx", dir / "gold.tsv", dir / "pred.tsv"); }),
              HasSubstr("pred.tsv:4: sentence 2 has 2 tags but in " + (dir / "gold.tsv").string() + ":4 it has 3"));
  write(dir / "pred.tsv", "B-PER\nI-PER\n\n\nO\nB-LOC\nO\n");  // an extra blank line: an extra empty sentence
  EXPECT_THAT(error_of([&] { score_task_files("panx", dir / "gold.tsv", dir / "pred.tsv"); }),
              HasSubstr("3 sentences (blank-line separated) but"));
  // gold PER(0,1) | LOC(4,4); predicted PER(0,1) | LOC(3,4) (I-LOC after O starts a chunk):
  // p = r = 1/2.
  write(dir / "pred.tsv", "B-PER\nI-PER\n\nI-LOC\nI-LOC\nO\n");
  const NamedValues s = score_task_files("panx", dir / "gold.tsv", dir / "pred.tsv");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].first, "f1");
  EXPECT_DOUBLE_EQ(s[0].second, 50.0);
  EXPECT_DOUBLE_EQ(s[1].second, 50.0);
  EXPECT_DOUBLE_EQ(s[2].second, 50.0);
}

TEST(XtremeScore, UnreadableInputsAreInputErrors) {
  const fs::path dir = testing::make_temp_dir();
  write(dir / "gold.tsv", "a\nb\n");
  EXPECT_THAT(error_of([&] { score_task_files("xnli", dir / "gold.tsv", dir / "absent.tsv"); }),
              HasSubstr("absent.tsv"));
  write(dir / "gold.json", "{\"data\": [\n  {\"paragraphs\": [}\n]}\n");
  write(dir / "pred.json", "{}");
  EXPECT_THAT(error_of([&] { score_task_files("xquad", dir / "gold.json", dir / "pred.json"); }),
              HasSubstr("gold.json:2:"));
  write(dir / "gold.json", "{\"data\": [{\"paragraphs\": [{\"qas\": [{\"id\": \"q\"}]}]}]}");
  EXPECT_THAT(error_of([&] { score_task_files("xquad", dir / "gold.json", dir / "pred.json"); }),
              HasSubstr("data[0].paragraphs[0].qas[0]: expected an \"answers\" list"));
  write(dir / "gold.jsonl", "{\"label\": 1}\n\n");
  write(dir / "pred.jsonl", "{\"label\": 1}\n{\"label\": 0}\n");
  EXPECT_THAT(error_of([&] { score_task_files("xcopa", dir / "gold.jsonl", dir / "pred.jsonl"); }),
              HasSubstr("gold.jsonl:2: not valid JSON"));
  EXPECT_THAT(error_of([&] { score_task_files("mlqa", dir / "gold.json", dir / "pred.json"); }),
              HasSubstr("--language"));
  EXPECT_THAT(error_of([&] { score_task_files("nope", dir / "gold.tsv", dir / "gold.tsv"); }),
              HasSubstr("unknown XTREME task 'nope'"));
  EXPECT_THAT(error_of([&] { score_task_files("lareqa", dir / "gold.json", dir / "pred.json"); }),
              HasSubstr("gold.json: \"data\": expected a list of relevant candidate uids"));
  EXPECT_THAT(error_of([&] { score_benchmark("xtreme", dir / "no-labels", dir); }), HasSubstr("no-labels"));
  EXPECT_THAT(error_of([&] { score_benchmark("xtreme-s", dir, dir); }), HasSubstr("xtreme or xtreme-r"));
}

TEST(XtremeScore, BuccAndMewslixByHand) {
  const fs::path dir = testing::make_temp_dir();
  // 3 gold pairs, 4 predicted lines of which 2 distinct gold pairs (one repeated): p 2/3 of the
  // 3 distinct predictions, r 2/3 -> F1 2/3.
  write(dir / "gold.tsv", "de-1\ten-1\nde-2\ten-2\nde-3\ten-3\n");
  write(dir / "pred.tsv", "de-1\ten-1\nde-2\ten-2\nde-2\ten-2\nde-3\ten-9\n");
  const NamedValues bucc = score_task_files("bucc2018", dir / "gold.tsv", dir / "pred.tsv");
  EXPECT_DOUBLE_EQ(bucc[0].second, 100.0 * 2 / 3);
  EXPECT_DOUBLE_EQ(bucc[1].second, 100.0 * 2 / 3);
  // Mewsli-X: m1's gold at rank 2 -> 1/2; m2 unpredicted -> 0; m3's gold at rank 21 (beyond the top
  // 20) -> 0; m4 rank 1 (gold id stripped) -> 1. MRR = 1.5 / 4.
  std::string ranked = "[";
  for (int i = 1; i <= 20; ++i) ranked += "\"Q" + std::to_string(i) + "\", ";
  ranked += "\"G3\"]";
  write(dir / "gold.json", "{\"m1\": [\"G1\"], \"m2\": [\"G2\"], \"m3\": [\"G3\"], \"m4\": [\" G4 \"]}");
  write(dir / "pred.json", "{\"m1\": [\"X\", \"G1\"], \"m3\": " + ranked + ", \"m4\": [\"G4\"], \"extra\": [\"G1\"]}");
  const NamedValues mewslix = score_task_files("mewslix", dir / "gold.json", dir / "pred.json");
  ASSERT_EQ(mewslix.size(), 1u);
  EXPECT_EQ(mewslix[0].first, "map@20");
  EXPECT_DOUBLE_EQ(mewslix[0].second, 1.5 / 4 * 100);
}

}  // namespace
}  // namespace stilts::eval
