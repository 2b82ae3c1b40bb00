// The tagging, multiple-choice and extractive-QA kinds end to end through the CLI, on real data from
// ../shared: stilts train on UD English (XTREME's tagging files), on COPA and on TyDiQA English, stilts
// eval --predictions in XTREME's submission format, and stilts score on those files giving eval's own
// figures; transformers' QA pipeline answers reproduced; studies with these targets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <random>
#include <map>
#include <set>
#include <tuple>
#include <sstream>

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "pipeline/results_store.h"
#include "support/fixtures.h"
#include "support/run.h"
#include "support/torch/tiny_models.h"

namespace stilts {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::run_stilts;


// The first `sentences` sentences of an XTREME tagging file.
std::string head_sentences(const fs::path& file, int sentences) {
  std::istringstream in(read_file(file));
  std::string line, out;
  int seen = 0;
  while (seen < sentences && std::getline(in, line)) {
    out += line + "\n";
    if (line.empty()) ++seen;
  }
  return out;
}

// The `n` most frequent lower-cased tokens of tagging files, for a tiny WordPiece vocabulary.
std::vector<std::string> frequent_words(const std::string& text, size_t n) {
  std::map<std::string, int> counts;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::string word = line.substr(0, line.find('\t'));
    std::transform(word.begin(), word.end(), word.begin(), [](unsigned char c) { return std::tolower(c); });
    ++counts[word];
  }
  std::vector<std::pair<int, std::string>> ranked;
  for (const auto& [w, c] : counts) ranked.push_back({-c, w});
  std::sort(ranked.begin(), ranked.end());
  std::vector<std::string> out;
  for (size_t i = 0; i < ranked.size() && out.size() < n; ++i) out.push_back(ranked[i].second);
  return out;
}

// XTREME's gold labels file for a tagging file: its tags alone, a blank line between sentences (what
// evaluate.py and stilts score read as gold).
std::string tags_only(const std::string& text) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) out += (line.empty() ? "" : line.substr(line.find('\t') + 1)) + "\n";
  return out;
}

// The share of the most frequent tag among a tagging file's words.
double majority_share(const std::string& text) {
  std::map<std::string, int> counts;
  int total = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    ++counts[line.substr(line.find('\t') + 1)];
    ++total;
  }
  int best = 0;
  for (const auto& [tag, c] : counts) best = std::max(best, c);
  return static_cast<double>(best) / total;
}

// Every lower-cased run of letters in `text`, once, plus punctuation.
std::vector<std::string> letter_words(const std::string& text) {
  std::set<std::string> words = {".", ",", "?", "'", "-"};
  std::string word;
  for (char c : text) {
    if (std::isalpha(static_cast<unsigned char>(c))) {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!word.empty()) {
      words.insert(word);
      word.clear();
    }
  }
  return {words.begin(), words.end()};
}

// A tiny BERT over `words` in root/tiny, trained by `stilts train` with `args` (task, format, data,
// schedule) into root/run, which it returns.
fs::path train_tiny(const fs::path& root, const std::vector<std::string>& words, std::vector<std::string> args) {
  testing::TinyBert spec;
  spec.words = words;
  testing::make_tiny_bert(root / "tiny", spec);
  const fs::path out = root / "run";
  std::vector<std::string> all = {"train", "--model", (root / "tiny").string(), "--out", out.string(), "--batch-size",
                                  "16", "--max-length", "64", "--set", "cache_dir=" + (root / "cache").string()};
  all.insert(all.end(), args.begin(), args.end());
  const auto t = run_stilts(all);
  EXPECT_EQ(t.exit_code, 0) << t.err;
  return out;
}

TEST(TasksCli, TaggingOnUdEnglishBeatsTheMajorityTagAndEvalAgreesWithScore) {
  const fs::path udpos = testing::xtreme_r_dir() / "udpos" / "xtreme_processed_2020";
  if (!fs::exists(udpos / "dev-en.tsv")) GTEST_SKIP() << "no ../shared fixtures";
  const fs::path root = testing::make_temp_dir();
  // XTREME's English dev file to train on, the first 300 sentences of its test file to evaluate.
  const std::string train = read_file(udpos / "dev-en.tsv");
  write_file_atomic(root / "train-en.tsv", train);  // named as XTREME names them: the language comes from the name
  const std::string test = head_sentences(udpos / "test-en.tsv", 300);
  write_file_atomic(root / "test-en.tsv", test);
  const fs::path out =
      train_tiny(root, frequent_words(train, 4000),
                 {"--task", "tagging", "--format", "xtreme-tagging", "--train", (root / "train-en.tsv").string(),
                  "--dev", (root / "test-en.tsv").string(), "--max-steps", "500", "--lr", "1e-3"});
  if (::testing::Test::HasFailure()) return;
  // The saved model is transformers' BertForTokenClassification with UD-POS's 17 tags.
  const auto config = read_json_file(out / "config.json");
  EXPECT_EQ(config.at("architectures"), nlohmann::json({"BertForTokenClassification"}));
  EXPECT_EQ(config.at("id2label").size(), 17u);

  const fs::path predictions = root / "predictions" / "test-en.tsv";
  fs::create_directories(predictions.parent_path());
  const auto e = run_stilts({"eval", "--model", out.string(), "--data", (root / "test-en.tsv").string(), "--format",
                             "xtreme-tagging", "--json", "--predictions", predictions.string()});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const auto result = nlohmann::json::parse(e.out);
  EXPECT_EQ(result.at("task"), "tagging");
  const auto& all = result.at("metrics").at("all");
  const double accuracy = all.at("accuracy").at("value").get<double>();
  const double f1 = all.at("f1").at("value").get<double>();
  const double majority = majority_share(test);
  std::cout << "UD-POS en (300 test sentences): token accuracy " << accuracy << ", seqeval f1 " << f1
            << ", majority tag " << majority << "\n";
  EXPECT_GT(accuracy, 2 * majority);

  // stilts score reads the written submission file exactly as xtreme's evaluate.py would.
  write_file_atomic(root / "gold-en.tsv", tags_only(test));
  const auto s = run_stilts({"score", "--task", "udpos", "--gold", (root / "gold-en.tsv").string(), "--predictions",
                             predictions.string(), "--json"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  const auto scored = nlohmann::json::parse(s.out);
  EXPECT_NEAR(scored.at("f1").get<double>(), 100 * f1, 1e-9);
  EXPECT_NEAR(scored.at("precision").get<double>(), 100 * all.at("precision").at("value").get<double>(), 1e-9);
  EXPECT_NEAR(scored.at("recall").get<double>(), 100 * all.at("recall").at("value").get<double>(), 1e-9);

  // A test file without tags (as XTREME distributes them) is predicted, not scored.
  std::string stripped;
  std::istringstream in(test);
  std::string line;
  while (std::getline(in, line)) stripped += line.substr(0, line.find('\t')) + "\n";
  fs::create_directories(root / "stripped");
  write_file_atomic(root / "stripped" / "test-en.tsv", stripped);
  const fs::path blind = root / "blind.tsv";
  const auto b = run_stilts({"eval", "--model", out.string(), "--data", (root / "stripped" / "test-en.tsv").string(), "--format",
                             "xtreme-tagging", "--predictions", blind.string()});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_THAT(b.out, ::testing::HasSubstr("no gold"));
  EXPECT_EQ(read_file(blind), read_file(predictions));
}

TEST(TasksCli, MultipleChoiceOnCopaEvalAgreesWithScore) {
  const fs::path copa = testing::xtreme_r_dir() / "xcopa" / "xtreme_copa_en";
  if (!fs::exists(copa / "train-en.jsonl")) GTEST_SKIP() << "no ../shared fixtures";
  const fs::path root = testing::make_temp_dir();
  std::string text;
  for (const char* f : {"train-en.jsonl", "val-en.jsonl"}) text += read_file(copa / f);
  const fs::path out =
      train_tiny(root, letter_words(text),
                 {"--task", "multiple-choice", "--format", "copa", "--train", (copa / "train-en.jsonl").string(),
                  "--dev", (copa / "val-en.jsonl").string(), "--epochs", "2", "--lr", "1e-4"});
  if (::testing::Test::HasFailure()) return;
  EXPECT_EQ(read_json_file(out / "config.json").at("architectures"), nlohmann::json({"BertForMultipleChoice"}));

  const fs::path predictions = root / "test-en.jsonl";
  const auto e = run_stilts({"eval", "--model", out.string(), "--data", (copa / "val-en.jsonl").string(), "--format",
                             "copa", "--json", "--predictions", predictions.string()});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const auto result = nlohmann::json::parse(e.out);
  EXPECT_EQ(result.at("task"), "multiple-choice");
  EXPECT_EQ(result.at("examples"), 100);
  const double accuracy = result.at("metrics").at("all").at("accuracy").at("value").get<double>();
  // The run's final dev evaluation is the same model on the same file.
  const auto metrics = read_json_file(out / "metrics.json");
  const auto& dev = metrics.at("best").at("dev");
  ASSERT_EQ(dev.size(), 1u);
  EXPECT_NEAR(dev.begin().value().at("all").at("accuracy").get<double>(), accuracy, 1e-12);
  const auto s = run_stilts({"score", "--task", "xcopa", "--gold", (copa / "val-en.jsonl").string(), "--predictions",
                             predictions.string(), "--json"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_NEAR(nlohmann::json::parse(s.out).at("accuracy").get<double>(), 100 * accuracy, 1e-9);
}

// The first `n` lines of a file.
std::string head_lines(const fs::path& file, int n) {
  std::istringstream in(read_file(file));
  std::string line, out;
  for (int i = 0; i < n && std::getline(in, line); ++i) out += line + "\n";
  return out;
}

using PredictionKey = std::tuple<std::string, int64_t, std::string, std::string, std::string, int64_t>;
std::map<PredictionKey, std::pair<std::string, std::string>> predictions_of(const fs::path& run_dir) {
  const auto store = pipeline::ResultsStore::open(run_dir / "results.sqlite");
  std::map<PredictionKey, std::pair<std::string, std::string>> out;
  for (const auto& p : store->predictions()) {
    out[{p.arm, p.seed, p.task, p.language, p.split, p.example}] = {p.gold, p.prediction};
  }
  return out;
}

// A study with a tagging target (UD-POS, zero-shot en -> fr) and a multiple-choice target (COPA, directly
// and after Social IQa, whose 3-choice head carries over to COPA's 2), killed while the COPA stage after
// Social IQa is between checkpoints and rerun: the same results, predictions and submission files as an
// uninterrupted run.
TEST(TasksCli, StudyWithTaggingAndChoiceTargetsSurvivesAKill) {
  const fs::path xr = testing::xtreme_r_dir();
  if (!fs::exists(xr / "udpos" / "xtreme_processed_2020" / "dev-en.tsv")) GTEST_SKIP() << "no ../shared fixtures";
  const fs::path root = testing::make_temp_dir();
  // Files named as their distributions name them (the readers tell languages from the names).
  const fs::path data = root / "data";
  for (const char* d : {"udpos", "copa", "siqa"}) fs::create_directories(data / d);
  const fs::path udpos = xr / "udpos" / "xtreme_processed_2020";
  write_file_atomic(data / "udpos" / "train-en.tsv", head_sentences(udpos / "dev-en.tsv", 200));
  for (const std::string lang : {"en", "fr"}) {
    write_file_atomic(data / "udpos" / ("test-" + lang + ".tsv"), head_sentences(udpos / ("test-" + lang + ".tsv"), 40));
  }
  const fs::path copa = xr / "xcopa" / "xtreme_copa_en";
  write_file_atomic(data / "copa" / "train.jsonl", head_lines(copa / "train-en.jsonl", 120));
  write_file_atomic(data / "copa" / "val.jsonl", head_lines(copa / "val-en.jsonl", 40));
  write_file_atomic(data / "siqa" / "socialIQa_v1.4_trn.jsonl", head_lines(xr / "siqa" / "socialIQa_v1.4_dev.jsonl", 120));
  std::string all_text;
  for (const char* f : {"udpos/train-en.tsv", "udpos/test-en.tsv", "udpos/test-fr.tsv", "copa/train.jsonl",
                        "copa/val.jsonl", "siqa/socialIQa_v1.4_trn.jsonl"}) {
    all_text += read_file(data / f);
  }
  testing::TinyBert spec;
  spec.words = letter_words(all_text);
  testing::make_tiny_bert(root / "tiny", spec);

  write_file_atomic(root / "study.toml", R"(
[experiment]
name = "tasks"
seeds = [1]
languages = ["en", "fr"]
train_language = "en"

[model]
path = "tiny"

[tasks.udpos]
kind = "tagging"
format = "xtreme-tagging"
train = "data/udpos/train-{lang}.tsv"
dev = "data/udpos/test-{lang}.tsv"
test = "data/udpos/test-{lang}.tsv"

[tasks.siqa]
kind = "multiple-choice"
format = "siqa"
train = "data/siqa/socialIQa_v1.4_trn.jsonl"

[tasks.copa]
kind = "multiple-choice"
format = "copa"
train = "data/copa/train.jsonl"
dev = "data/copa/val.jsonl"
test = "data/copa/val.jsonl"

[stages.pos]
task = "udpos"
max_steps = 30
batch_size = 8
lr = 1e-3
max_length = 64
checkpoint_every = 5

[stages.siqa]
task = "siqa"
max_steps = 15
batch_size = 8
lr = 1e-4
max_length = 64

[stages.copa]
task = "copa"
max_steps = 40
batch_size = 8
lr = 1e-4
max_length = 64
checkpoint_every = 2

[arms]
pos = ["pos"]
copa = ["copa"]
stilts = ["siqa", "copa"]

[bench]
enabled = false
)");
  auto args = [&](const fs::path& out) {
    std::vector<std::string> a = {"run", (root / "study.toml").string(), "--out", out.string()};
    for (const char* stage : {"pos", "siqa", "copa"}) {
      a.push_back("--set");
      a.push_back(std::string("stages.") + stage + ".cache_dir=" + (root / "cache").string());
    }
    return a;
  };
  const fs::path a = root / "uninterrupted", b = root / "killed";
  const auto ra = run_stilts(args(a));
  ASSERT_EQ(ra.exit_code, 0) << ra.err;
  const auto store = pipeline::ResultsStore::open(a / "results.sqlite");
  std::map<std::tuple<std::string, std::string, std::string, std::string>, double> results;
  for (const auto& r : store->results()) results[{r.arm, r.language, r.split, r.metric}] = r.value;
  // The tagging target reports xtreme's tagging metrics per language, the choice targets accuracy.
  for (const char* lang : {"en", "fr"}) {
    for (const char* metric : {"f1", "precision", "recall", "accuracy"}) {
      EXPECT_TRUE(results.count({"pos", lang, "test", metric})) << lang << " " << metric;
    }
  }
  EXPECT_TRUE(results.count({"copa", "en", "test", "accuracy"}));
  EXPECT_TRUE(results.count({"stilts", "en", "test", "accuracy"}));
  EXPECT_THAT(ra.err, HasSubstr("head: reused"));  // Social IQa's choice head carried over to COPA

  // The submission files: XTREME's layout, scored by stilts score as the study scored them.
  const fs::path pos_en = a / "submissions" / "pos" / "seed-1" / "udpos" / "test-en.tsv";
  ASSERT_TRUE(fs::exists(pos_en));
  write_file_atomic(root / "gold-en.tsv", tags_only(read_file(data / "udpos" / "test-en.tsv")));
  const auto s = run_stilts({"score", "--task", "udpos", "--gold", (root / "gold-en.tsv").string(),
                             "--predictions", pos_en.string(), "--json"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_NEAR(nlohmann::json::parse(s.out).at("f1").get<double>(), 100 * results.at({"pos", "en", "test", "f1"}), 1e-9);
  EXPECT_TRUE(fs::exists(a / "submissions" / "stilts" / "seed-1" / "copa" / "test-en.jsonl"));

  // Killed while COPA trains after Social IQa, then rerun: the same figures and predictions.
  const fs::path log = root / "killed.log";
  const pid_t pid = testing::spawn_stilts(args(b), log);
  const int64_t killed_at = testing::kill_after_downstream_checkpoint(pid, b, 4, 300);
  ASSERT_GE(killed_at, 4) << "the run ended before it could be killed in the COPA stage\n" << read_file(log);
  const auto rb = run_stilts(args(b));
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  EXPECT_THAT(rb.err, HasSubstr("resuming from"));
  std::map<std::tuple<std::string, std::string, std::string, std::string>, double> resumed;
  for (const auto& r : pipeline::ResultsStore::open(b / "results.sqlite")->results()) {
    resumed[{r.arm, r.language, r.split, r.metric}] = r.value;
  }
  EXPECT_EQ(resumed, results);
  EXPECT_EQ(predictions_of(b), predictions_of(a));
  EXPECT_EQ(read_file(b / "submissions" / "stilts" / "seed-1" / "copa" / "test-en.jsonl"),
            read_file(a / "submissions" / "stilts" / "seed-1" / "copa" / "test-en.jsonl"));
}

// ---- extractive QA ----

// The first `questions` questions of a SQuAD-format file, in its structure (articles and paragraphs
// that keep none are dropped).
nlohmann::json first_questions(const fs::path& file, size_t questions) {
  const nlohmann::json in = read_json_file(file);
  nlohmann::json out = {{"version", "1.1"}, {"data", nlohmann::json::array()}};
  size_t kept = 0;
  for (const auto& article : in.at("data")) {
    nlohmann::json a = {{"title", article.value("title", "")}, {"paragraphs", nlohmann::json::array()}};
    for (const auto& paragraph : article.at("paragraphs")) {
      nlohmann::json p = {{"context", paragraph.at("context")}, {"qas", nlohmann::json::array()}};
      for (const auto& qa : paragraph.at("qas")) {
        if (kept == questions) break;
        p["qas"].push_back(qa);
        ++kept;
      }
      if (!p["qas"].empty()) a["paragraphs"].push_back(p);
    }
    if (!a["paragraphs"].empty()) out["data"].push_back(a);
  }
  return out;
}

TEST(TasksCli, ExtractiveQaAnswersAreTransformersPipelinesOwn) {
  const fs::path fixture = testing::fixtures_dir() / "qa-pipeline";
  if (!fs::exists(fixture / "model")) GTEST_SKIP() << "no ../shared fixtures";
  const fs::path root = testing::make_temp_dir();
  // The settings the fixture's README gives.
  for (const auto& entry : fs::directory_iterator(fixture / "data")) {
    const std::string name = entry.path().filename().string();
    const fs::path written = root / name;
    const auto e = run_stilts({"eval", "--model", (fixture / "model").string(), "--data", entry.path().string(),
                               "--format", "squad", "--task", "extractive-qa", "--max-length", "128", "--doc-stride",
                               "48", "--max-query-length", "32", "--max-answer-length", "30", "--n-best", "20",
                               "--predictions", written.string(), "--json"});
    ASSERT_EQ(e.exit_code, 0) << name << ": " << e.err;
    const nlohmann::json expected = read_json_file(fixture / "expected" / name);
    const nlohmann::json got = read_json_file(written);
    ASSERT_EQ(got.size(), expected.size()) << name;
    size_t same = 0;
    for (const auto& [qid, answer] : expected.items()) {
      ASSERT_TRUE(got.contains(qid)) << name << ": no answer for " << qid;
      if (got.at(qid) == answer) {
        ++same;
      } else {
        ADD_FAILURE() << name << " " << qid << ": expected " << answer << ", got " << got.at(qid);
      }
    }
    std::cout << name << ": " << same << " of " << expected.size() << " answers as transformers gives them\n";
  }
}

TEST(TasksCli, ExtractiveQaOnTydiEnglishBeatsRandomSpansAndEvalAgreesWithScore) {
  const fs::path xr = testing::xtreme_r_dir();
  const fs::path tydi = xr / "tydiqa" / "xtreme_processed" / "tydiqa.goldp.en.train.json";
  if (!fs::exists(tydi)) GTEST_SKIP() << "no ../shared fixtures";
  const fs::path root = testing::make_temp_dir();
  fs::create_directories(root / "labels" / "xquad");
  write_file_atomic(root / "tydiqa.goldp.en.train.json", first_questions(tydi, 2000).dump());
  // XQuAD in three languages, the first 150 questions each, named as XQuAD names them.
  const std::vector<std::string> languages = {"en", "es", "de"};
  std::string all_text = read_file(root / "tydiqa.goldp.en.train.json");
  for (const auto& lang : languages) {
    const std::string file = "xquad." + lang + ".json";
    write_file_atomic(root / "labels" / "xquad" / file, first_questions(xr / "xquad" / file, 150).dump());
    all_text += read_file(root / "labels" / "xquad" / file);
  }
  const fs::path out = train_tiny(
      root, letter_words(all_text),
      {"--task", "extractive-qa", "--format", "squad", "--train", (root / "tydiqa.goldp.en.train.json").string(),
       "--max-steps", "600", "--lr", "2e-3", "--max-query-length", "24", "--doc-stride", "24", "--final-model",
       "last"});
  if (::testing::Test::HasFailure()) return;
  EXPECT_EQ(read_json_file(out / "config.json").at("architectures"), nlohmann::json({"BertForQuestionAnswering"}));

  for (const auto& lang : languages) {
    const std::string file = "xquad." + lang + ".json";
    const fs::path gold = root / "labels" / "xquad" / file;
    const fs::path predictions = root / "predictions" / "xquad" / ("test-" + lang + ".json");
    fs::create_directories(predictions.parent_path());
    // The run's settings (max_query_length, doc_stride) come from its config.resolved.json.
    const auto e = run_stilts({"eval", "--model", out.string(), "--data", gold.string(), "--format", "squad", "--json",
                               "--predictions", predictions.string()});
    ASSERT_EQ(e.exit_code, 0) << e.err;
    const auto result = nlohmann::json::parse(e.out);
    EXPECT_EQ(result.at("task"), "extractive-qa");
    const auto& metrics = result.at("metrics").at(lang);
    const double f1 = metrics.at("f1").at("value").get<double>();
    const double em = metrics.at("exact_match").at("value").get<double>();

    // stilts score on the submission file gives eval's figures (as percentages).
    const auto s = run_stilts({"score", "--task", "xquad", "--gold", gold.string(), "--predictions",
                               predictions.string(), "--json"});
    ASSERT_EQ(s.exit_code, 0) << s.err;
    const auto scored = nlohmann::json::parse(s.out);
    EXPECT_NEAR(scored.at("f1").get<double>(), 100 * f1, 1e-9) << lang;
    EXPECT_NEAR(scored.at("exact_match").get<double>(), 100 * em, 1e-9) << lang;

    // A random-span baseline: for every question, 1 to 3 consecutive context words at a random place.
    std::mt19937 rng(7);
    nlohmann::json random = nlohmann::json::object();
    const nlohmann::json gold_json = read_json_file(gold);
    for (const auto& article : gold_json.at("data")) {
      for (const auto& paragraph : article.at("paragraphs")) {
        std::istringstream words_in(paragraph.at("context").get<std::string>());
        std::vector<std::string> words{std::istream_iterator<std::string>(words_in), {}};
        for (const auto& qa : paragraph.at("qas")) {
          const size_t start = std::uniform_int_distribution<size_t>(0, words.size() - 1)(rng);
          const size_t length = std::uniform_int_distribution<size_t>(1, 3)(rng);
          std::string answer;
          for (size_t w = start; w < std::min(words.size(), start + length); ++w) answer += (answer.empty() ? "" : " ") + words[w];
          random[qa.at("id").get<std::string>()] = answer;
        }
      }
    }
    write_file_atomic(root / ("random-" + lang + ".json"), random.dump());
    const auto r = run_stilts({"score", "--task", "xquad", "--gold", gold.string(), "--predictions",
                               (root / ("random-" + lang + ".json")).string(), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const double random_f1 = nlohmann::json::parse(r.out).at("f1").get<double>();
    std::cout << "XQuAD " << lang << " (150 questions): F1 " << 100 * f1 << ", EM " << 100 * em
              << "; random spans F1 " << random_f1 << "\n";
    EXPECT_GT(random_f1, 0) << "the baseline answered nothing";
    if (lang == "en") EXPECT_GT(100 * f1, 2 * random_f1) << "English, the language trained on";
  }
}

TEST(TasksCli, StudyWithAnExtractiveQaTargetReportsF1AndExactMatchPerLanguage) {
  const fs::path xr = testing::xtreme_r_dir();
  const fs::path tydi = xr / "tydiqa" / "xtreme_processed" / "tydiqa.goldp.en.train.json";
  if (!fs::exists(tydi)) GTEST_SKIP() << "no ../shared fixtures";
  const fs::path root = testing::make_temp_dir();
  const fs::path data = root / "data";
  for (const char* d : {"tydiqa", "xquad", "udpos"}) fs::create_directories(data / d);
  write_file_atomic(data / "tydiqa" / "tydiqa.goldp.en.train.json", first_questions(tydi, 300).dump());
  std::string all_text = read_file(data / "tydiqa" / "tydiqa.goldp.en.train.json");
  for (const std::string lang : {"en", "es"}) {
    const std::string file = "xquad." + lang + ".json";
    write_file_atomic(data / "xquad" / file, first_questions(xr / "xquad" / file, 40).dump());
    all_text += read_file(data / "xquad" / file);
  }
  const fs::path udpos = xr / "udpos" / "xtreme_processed_2020";
  write_file_atomic(data / "udpos" / "train-en.tsv", head_sentences(udpos / "dev-en.tsv", 150));
  all_text += read_file(data / "udpos" / "train-en.tsv");
  testing::TinyBert spec;
  spec.words = letter_words(all_text);
  testing::make_tiny_bert(root / "tiny", spec);
  write_file_atomic(root / "study.toml", R"(
[experiment]
name = "qa"
seeds = [1, 2]
languages = ["en", "es"]
train_language = "en"

[model]
path = "tiny"

[tasks.udpos]
kind = "tagging"
format = "xtreme-tagging"
train = "data/udpos/train-{lang}.tsv"

[tasks.xquad]
kind = "extractive-qa"
format = "squad"
train = "data/tydiqa/tydiqa.goldp.en.train.json"
test = "data/xquad/xquad.{lang}.json"

[stages.pos]
task = "udpos"
max_steps = 20
batch_size = 8
lr = 1e-3
max_length = 64
final_model = "last"

[stages.qa]
task = "xquad"
max_steps = 40
batch_size = 8
lr = 1e-3
max_length = 64
max_query_length = 24
doc_stride = 24
final_model = "last"

[arms]
direct = ["qa"]
pos = ["pos", "qa"]

[bench]
enabled = false
)");
  const fs::path run = root / "run";
  const auto r = run_stilts({"run", (root / "study.toml").string(), "--out", run.string(), "--set",
                             "stages.qa.cache_dir=" + (root / "cache").string(), "--set",
                             "stages.pos.cache_dir=" + (root / "cache").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<std::tuple<std::string, std::string, std::string>> seen;
  for (const auto& row : pipeline::ResultsStore::open(run / "results.sqlite")->results()) {
    seen.insert({row.arm, row.language, row.metric});
  }
  for (const char* arm : {"direct", "pos"}) {
    for (const char* lang : {"en", "es"}) {
      for (const char* metric : {"f1", "exact_match"}) EXPECT_TRUE(seen.count({arm, lang, metric})) << arm << lang << metric;
    }
  }
  // XTREME's submission layout: {question id: answer}.
  const auto submission = read_json_file(run / "submissions" / "direct" / "seed-1" / "xquad" / "test-es.json");
  EXPECT_EQ(submission.size(), 40u);

  const auto report = run_stilts({"report", run.string(), "--no-png"});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  const std::string md = read_file(run / "report" / "report.md");
  EXPECT_THAT(md, HasSubstr("exact_match"));
  EXPECT_THAT(md, HasSubstr("pos"));
  EXPECT_THAT(md, HasSubstr(" es"));
}

}  // namespace
}  // namespace stilts
