// The example studies in experiments/ parse and validate (their models and data are the user's to
// download, so only the config is checked here).
#include <gtest/gtest.h>

#include "pipeline/experiment_config.h"
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
    for (const auto& [arm, stages] : config.arms) {
      for (const auto& stage : stages) EXPECT_TRUE(config.stages.count(stage)) << arm << ": " << stage;
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

}  // namespace
}  // namespace stilts
