// stilts demo at its smallest (small world, 2 languages, 1 seed, 1 pretraining epoch): the whole
// chain runs through the real commands' code and leaves an ordinary run directory behind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "pipeline/results_store.h"
#include "support/fixtures.h"
#include "support/run.h"

namespace stilts {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

TEST(DemoCli, RunsTheWholeStudyOnTheSyntheticWorld) {
  const fs::path out = testing::make_temp_dir() / "demo";
  const auto r = testing::run_stilts({"demo", "--out", out.string(), "--size", "small", "--languages", "2", "--seeds",
                                      "1", "--pretrain-epochs", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("intermediate − direct"));
  EXPECT_THAT(r.out, HasSubstr("report: "));
  EXPECT_THAT(r.err, HasSubstr("demo [2/3] masked-LM pretraining"));
  EXPECT_TRUE(fs::exists(out / "world" / "world.json"));
  EXPECT_TRUE(fs::exists(out / "pretrained" / "model.safetensors"));
  EXPECT_EQ(read_json_file(out / "pretrained" / "config.json").at("architectures")[0], "XLMRobertaForMaskedLM");
  EXPECT_TRUE(fs::exists(out / "report" / "report.html"));
  // Predictions are stored, so the report's accuracy differences are the paired bootstrap.
  EXPECT_THAT(read_file(out / "report" / "report.md"), HasSubstr("paired bootstrap interval over test examples and seeds"));
  const auto store = pipeline::ResultsStore::open_existing(out / "results.sqlite");
  std::set<std::string> arms, languages;
  for (const auto& row : store->results()) {
    arms.insert(row.arm);
    languages.insert(row.language);
  }
  EXPECT_EQ(arms, (std::set<std::string>{"direct", "intermediate"}));
  EXPECT_EQ(languages, (std::set<std::string>{"en", "xa"}));
  EXPECT_FALSE(store->efficiency().empty());
  EXPECT_FALSE(store->predictions().empty());

  // Again: everything cached, nothing retrained.
  const auto again = testing::run_stilts({"demo", "--out", out.string(), "--size", "small", "--languages", "2",
                                          "--seeds", "1", "--pretrain-epochs", "1"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.err, HasSubstr("demo [1/3] reused"));
  EXPECT_THAT(again.err, HasSubstr("pretrained before"));
  EXPECT_THAT(again.err, HasSubstr("0 to run"));

  const auto bad = testing::run_stilts({"demo", "--out", out.string(), "--size", "huge"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("--size 'huge'"));
}

// The xtreme-r suite at its smallest: a target of every task kind in both arms, shared stages trained
// once, the evaluation-only Tatoeba-style task on the encoder its chain made, benchmark scores per
// task, group and overall in the output and the report.
TEST(DemoCli, XtremeRSuiteRunsEveryTaskKind) {
  const fs::path out = testing::make_temp_dir() / "demo-xtreme-r";
  const std::vector<std::string> args = {"demo", "--suite", "xtreme-r", "--out", out.string(), "--size", "small",
                                         "--languages", "2", "--seeds", "1", "--pretrain-epochs", "1"};
  const auto r = testing::run_stilts(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("benchmark scores"));
  EXPECT_THAT(r.out, HasSubstr("group: question answering"));
  EXPECT_THAT(r.out, HasSubstr("overall"));
  EXPECT_THAT(read_file(out / "report" / "report.md"), HasSubstr("## Benchmark scores"));
  const auto store = pipeline::ResultsStore::open_existing(out / "results.sqlite");
  std::map<std::string, std::set<std::string>> tasks;          // arm -> tasks with results
  std::map<std::string, std::set<std::string>> tatoeba_langs;  // arm -> languages
  for (const auto& row : store->results()) {
    tasks[row.arm].insert(row.task);
    if (row.task == "tatoeba") tatoeba_langs[row.arm].insert(row.language);
  }
  const std::set<std::string> all = {"nli", "choice", "pos", "ner", "qa", "retrieval", "tatoeba"};
  EXPECT_EQ(tasks["direct"], all);
  EXPECT_EQ(tasks["intermediate"], all);
  EXPECT_EQ(tatoeba_langs["direct"], (std::set<std::string>{"xa"}));  // every language but the trained one
  // Per seed: 6 trainings and the Tatoeba evaluation in the direct arm; the intermediate arm adds
  // sentiment, its own nli, choice, pos, ner and retrieval stages and the Tatoeba evaluation of the
  // QA model (qa itself is the direct arm's stage).
  EXPECT_EQ(store->stages().size(), 14u);
  std::map<std::string, std::set<std::string>> hashes;  // stage name -> keys
  for (const auto& c : store->arm_stages()) hashes[c.stage].insert(c.hash);
  EXPECT_EQ(hashes["qa"].size(), 1u);
  EXPECT_EQ(hashes["sentiment"].size(), 1u);
  EXPECT_EQ(hashes["tatoeba"].size(), 2u);
  EXPECT_TRUE(fs::exists(out / "submissions" / "direct" / "seed-1" / "tatoeba" / "test-xa.tsv"));

  const auto again = testing::run_stilts(args);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.err, HasSubstr("0 to run"));
  const auto bad = testing::run_stilts({"demo", "--suite", "glue", "--out", out.string()});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("--suite 'glue'"));
}

}  // namespace
}  // namespace stilts
