// The training output directory shared by stilts train and stilts pretrain (train/run_dir.h): fresh,
// locked, resumed with the same or a changed configuration, finished, or not a directory at all.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "common/error.h"
#include "common/files.h"
#include "support/fixtures.h"
#include "train/run_dir.h"

namespace {

namespace fs = std::filesystem;
using stilts::train::open_run_directory;
using stilts::train::TrainConfig;
using ::testing::HasSubstr;

TrainConfig config_in(const fs::path& out) {
  TrainConfig c;
  c.model = "model";
  c.train = "train.tsv";
  c.dev = {"dev.tsv"};
  c.out = out.string();
  return stilts::train::with_absolute_paths(c);
}

std::string error_of(const TrainConfig& c, bool resume) {
  try {
    open_run_directory(c, resume, "busy here");
  } catch (const stilts::InputError& e) {
    return e.what();
  }
  return "";
}

TEST(RunDirectory, PathsBecomeAbsolute) {
  const TrainConfig c = config_in("relative/out");
  EXPECT_TRUE(fs::path(c.model).is_absolute());
  EXPECT_TRUE(fs::path(c.train).is_absolute());
  EXPECT_TRUE(fs::path(c.dev.at(0)).is_absolute());
  EXPECT_TRUE(fs::path(c.out).is_absolute());
  EXPECT_TRUE(fs::path(c.cache_dir).is_absolute());
}

TEST(RunDirectory, FreshLockedResumedAndChanged) {
  const fs::path out = stilts::testing::make_temp_dir() / "run";
  TrainConfig c = config_in(out);
  {
    const auto run = open_run_directory(c, /*resume=*/false, "busy here");
    EXPECT_FALSE(run.finished);
    EXPECT_EQ(run.checkpoints, out / "checkpoints");
    EXPECT_EQ(run.metrics, out / "metrics.json");
    EXPECT_EQ(stilts::read_json_file(out / "config.resolved.json"), c.to_json());
    // Held: a second opener (this process too: flock is per open file) is refused with the message.
    EXPECT_THAT(error_of(c, /*resume=*/true), HasSubstr("busy here"));
  }
  // Not empty: only --resume continues it.
  EXPECT_THAT(error_of(c, /*resume=*/false), HasSubstr("holds an unfinished run"));
  { const auto again = open_run_directory(c, /*resume=*/true, "busy here"); }
  // A setting that changes results is refused on resume, naming the key with both values ...
  TrainConfig changed = c;
  changed.lr = c.lr * 2;
  EXPECT_THAT(error_of(changed, /*resume=*/true), HasSubstr("--resume with a different configuration"));
  EXPECT_THAT(error_of(changed, /*resume=*/true), HasSubstr("lr (was "));
  // ... one that does not (log_every) is accepted and recorded.
  TrainConfig logging = c;
  logging.log_every = c.log_every + 7;
  { const auto again = open_run_directory(logging, /*resume=*/true, "busy here"); }
  EXPECT_EQ(stilts::read_json_file(out / "config.resolved.json").at("log_every"), logging.log_every);
}

TEST(RunDirectory, FinishedRunAndNotADirectory) {
  const fs::path dir = stilts::testing::make_temp_dir();
  const fs::path out = dir / "done";
  fs::create_directories(out);
  stilts::write_file_atomic(out / "metrics.json", R"({"finished": true, "steps": 42})");
  const TrainConfig c = config_in(out);
  EXPECT_THAT(error_of(c, /*resume=*/false), HasSubstr("holds a finished run"));
  const auto run = open_run_directory(c, /*resume=*/true, "busy here");
  ASSERT_TRUE(run.finished);
  EXPECT_FALSE(run.lock);  // nothing locked or written for a finished run
  EXPECT_FALSE(fs::exists(out / "config.resolved.json"));
  const auto outcome = stilts::train::finished_outcome(run);
  EXPECT_TRUE(outcome.already_finished);
  EXPECT_EQ(outcome.steps, 42);
  EXPECT_EQ(outcome.out, out);

  const fs::path file = dir / "a-file";
  std::ofstream(file) << "x";
  EXPECT_THAT(error_of(config_in(file), /*resume=*/true), HasSubstr("exists and is not a directory"));
}

TEST(RunDirectory, DivergedErrorSaysWhatWhereAndWhatToTry) {
  const fs::path none = stilts::testing::make_temp_dir() / "checkpoints";
  const std::string nan =
      stilts::train::diverged_error("the loss", std::nan(""), 5, 1, 3, 0.001, none, /*bf16=*/true).what();
  EXPECT_THAT(nan, HasSubstr("training diverged: the loss is NaN at step 5 (epoch 1, batch 3, lr 0.001)"));
  EXPECT_THAT(nan, HasSubstr("No checkpoint had been written yet."));
  EXPECT_THAT(nan, HasSubstr("Try a lower --lr or more warm-up, or fp32."));
  const std::string inf =
      stilts::train::diverged_error("the gradient norm", -INFINITY, 2, 0, 0, 1.0, none, /*bf16=*/false).what();
  EXPECT_THAT(inf, HasSubstr("the gradient norm is -inf at step 2"));
  EXPECT_THAT(inf, ::testing::EndsWith("more warm-up."));
}

}  // namespace
