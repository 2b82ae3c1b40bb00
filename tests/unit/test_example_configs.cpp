// The example studies in experiments/ parse and validate (their models and data are the user's to
// download, so only the config is checked here).
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "common/files.h"
#include "pipeline/experiment_config.h"
#include "pipeline/runner.h"
#include "support/fixtures.h"

namespace stilts {
namespace {

TEST(ExampleConfigs, EveryExampleParsesAndValidates) {
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(testing::repo_dir() / "experiments")) {
    if (entry.path().extension() != ".toml") continue;
    ++seen;
    SCOPED_TRACE(entry.path().string());
    const auto config = pipeline::load_experiment(entry.path());
    EXPECT_FALSE(config.arms.empty());
    EXPECT_EQ(config.seeds.size(), 3u);
    for (const auto& arm : config.arms) {
      for (const auto& chain : arm.chains) {
        for (const auto& stage : chain) EXPECT_TRUE(config.stages.count(stage)) << arm.name << ": " << stage;
      }
    }
  }
  EXPECT_GE(seen, 4);
}

TEST(ExampleConfigs, PawsxStudyExpandsLanguagesForEvaluation) {
  const auto config = pipeline::load_experiment(testing::repo_dir() / "experiments" / "pawsx-mbert.toml");
  const auto files = config.eval_files(config.tasks.at("pawsx"), "test");
  ASSERT_EQ(files.size(), 7u);
  EXPECT_EQ(files[1].first, "de");
  EXPECT_NE(files[1].second.find("x-final/de/test_2k.tsv"), std::string::npos) << files[1].second;
}

// experiments/xtreme-r.toml with stand-in files at every path it names: the dry run lists the whole
// graph, each shared stage once. Per seed: the direct arm's 13 stages (xnli, xcopa, udpos, panx, squad
// and the xquad, mlqa and tatoeba evaluations of its model, tydiqa, the two dual encoders and their
// evaluations) and 14 more for the intermediate arm (xnli's chain is the direct arm's; mnli once for
// six chains; siqa, xcopa; udpos, panx; squad after mnli with xquad and mlqa; tydiqa after the direct
// arm's squad; tatoeba after mnli; the two dual encoders after mnli and their evaluations).
TEST(ExampleConfigs, XtremeRDryRunShowsTheWholeGraphWithSharedStagesOnce) {
  namespace fs = std::filesystem;
  const fs::path root = testing::make_temp_dir();
  const fs::path config_file = root / "xtreme-r.toml";
  fs::copy_file(testing::repo_dir() / "experiments" / "xtreme-r.toml", config_file);
  fs::create_directories(root / "model");
  write_file_atomic(root / "model" / "config.json", "{}\n");
  const std::vector<std::string> settings = {"model.path=" + (root / "model").string()};
  const auto config = pipeline::load_experiment(config_file, settings);
  auto touch = [](const std::string& path) {
    const fs::path p = path.back() == '/' ? fs::path(path) / "stand-in.txt" : fs::path(path);
    fs::create_directories(p.parent_path());
    if (!fs::exists(p)) write_file_atomic(p, p.string() + "\n");
  };
  for (const auto& [name, stage] : config.stages) {
    if (config.evaluation_only(name)) {
      for (const std::string split : {"dev", "test"}) {
        for (const auto& [language, file] : config.eval_files(config.tasks.at(stage.task), split)) touch(file);
      }
      continue;
    }
    const auto c = config.stage_config(name, 1);
    touch(c.train);
    for (const auto& d : c.dev) touch(d);
  }
  std::ostringstream listing, log;
  pipeline::RunOptions options;
  options.out = root / "run";
  options.dry_run = true;
  options.listing = &listing;
  options.log = &log;
  const auto summary = pipeline::run_experiment(config, options);
  const std::string out = listing.str();
  EXPECT_EQ(summary.stages, 81u) << out;
  EXPECT_NE(out.find("60 chains (2 arms with 20 chains x 3 seeds), 81 distinct stages"), std::string::npos) << out;
  EXPECT_NE(out.find("81 of 81 stages to run, 0 cached"), std::string::npos) << out;
  // Every stage line names a distinct key; per seed, squad twice (from the base model, after mnli),
  // mnli once, tatoeba twice (after squad, after mnli), each marked evaluation only.
  const std::regex stage_line(R"(\n  run\t(\w+)  (\w+)  seed (\d+)  task (\w+)  ([^\n]*))");
  std::set<std::string> keys;
  std::map<std::pair<std::string, std::string>, int> per_seed;  // (stage, seed) -> stages
  int evaluation_only = 0;
  for (auto it = std::sregex_iterator(out.begin(), out.end(), stage_line); it != std::sregex_iterator(); ++it) {
    EXPECT_TRUE(keys.insert((*it)[1]).second) << (*it)[0];
    ++per_seed[{(*it)[2], (*it)[3]}];
    if ((*it)[5].str().rfind("evaluation only", 0) == 0) ++evaluation_only;
  }
  EXPECT_EQ(keys.size(), 81u) << out;
  for (const std::string seed : {"1", "2", "3"}) {
    EXPECT_EQ((per_seed[{"squad", seed}]), 2) << seed;
    EXPECT_EQ((per_seed[{"mnli", seed}]), 1) << seed;
    EXPECT_EQ((per_seed[{"xnli", seed}]), 1) << seed;
    EXPECT_EQ((per_seed[{"tatoeba", seed}]), 2) << seed;
    EXPECT_EQ((per_seed[{"lareqa", seed}]), 2) << seed;
  }
  EXPECT_EQ(evaluation_only, 3 * 10);  // xquad, mlqa, tatoeba, lareqa, mewslix in each arm
  // Both arms' XNLI chain is one stage.
  EXPECT_NE(out.find("arm direct seed 1: xnli["), std::string::npos);
  const std::regex xnli_chain(R"(arm (direct|intermediate) seed 1: xnli\[(\w+)\])");
  std::set<std::string> xnli_keys;
  for (auto it = std::sregex_iterator(out.begin(), out.end(), xnli_chain); it != std::sregex_iterator(); ++it) {
    xnli_keys.insert((*it)[2]);
  }
  EXPECT_EQ(xnli_keys.size(), 1u) << out;
}

}  // namespace
}  // namespace stilts
