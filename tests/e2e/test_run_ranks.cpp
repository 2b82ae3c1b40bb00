// stilts run launched as 2 ranks (stilts launch --nproc 2 -- stilts run ...): the ranks act as one
// worker, each stage trained once, data-parallel, and the study's results, stage list and final weights
// are a one-process run's within the tolerance the data-parallel train tests use, a masked-LM stage's
// too; --workers under WORLD_SIZE > 1 is an error, a dry run under ranks is printed once (by rank 0),
// and a rank killed mid-stage ends the job with an error; run again, the stage resumes and the study
// ends the same.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <thread>
#include <tuple>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "io/safetensors.h"
#include "pipeline/results_store.h"
#include "support/fixtures.h"
#include "support/run.h"
#include "support/torch/ranks.h"
#include "support/torch/tiny_models.h"
#include "support/torch/tiny_study.h"

namespace stilts {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::run_stilts;
using testing::launched;
using testing::max_weight_diff;

using Study = testing::TinyStudy;
// Dropout off: with it, N ranks draw the same numbers for different rows (README: Not yet).
Study make_study() { return testing::make_tiny_study("tiny-ranks", /*dropout=*/false); }
std::vector<std::string> run_args(const Study& s, const fs::path& out, std::vector<std::string> extra = {}) {
  return testing::tiny_study_run_args(s, out, std::move(extra));
}
using testing::results_of;

// The stages table as (hash, name, arm, seed, status), sorted.
std::set<std::tuple<std::string, std::string, std::string, int64_t, std::string>> stages_of(const fs::path& run_dir) {
  std::set<std::tuple<std::string, std::string, std::string, int64_t, std::string>> out;
  for (const auto& st : pipeline::ResultsStore::open(run_dir / "results.sqlite")->stages()) {
    out.insert({st.hash, st.name, st.arm, st.seed, st.status});
  }
  return out;
}

// How many times each stage (by short key) started training or resuming in `log`.
std::map<std::string, int> training_starts(const std::string& log) {
  std::map<std::string, int> out;
  const std::regex re(R"(\] \w+ \(task \w+, seed \d+, arms [^)]*\) (\w{12}): (training|resuming)\n)");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), re); it != std::sregex_iterator(); ++it) {
    ++out[(*it)[1]];
  }
  return out;
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(RunRanks, TwoRanksGiveOneProcessResultsAndTrainEachStageOnce) {
  const Study s = make_study();
  const fs::path one = s.root / "one-process", two = s.root / "two-ranks";
  const auto r1 = run_stilts(run_args(s, one));
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  const auto r2 = run_stilts(launched(2, run_args(s, two)));
  ASSERT_EQ(r2.exit_code, 0) << r2.err;

  // Rank 0 alone walked the graph: each of the 4 stages started once, and the other rank printed
  // nothing of the study.
  const auto starts = training_starts(r2.err);
  EXPECT_EQ(starts.size(), 4u) << r2.err;
  for (const auto& [key, n] : starts) EXPECT_EQ(n, 1) << key << "\n" << r2.err;
  EXPECT_EQ(count_of(r2.err, "stilts run: tiny-ranks: 4 stages, 4 to run"), 1u) << r2.err;
  EXPECT_EQ(count_of(r2.err, "result rows in"), 1u) << r2.err;

  // (The weights of every stage, within 1e-5 as the train tests' tolerance, are checked below.)
  // The same stages (hashes, names, arms, seeds, all done) and the same result rows. Tolerance 1e-5 on
  // every figure: the two runs' weights differ only by the order of float sums (gradients summed over
  // the ranks), below 1e-5 as in the data-parallel train tests; that moves no prediction of these tiny
  // dev/test files, so accuracy and F1 agree up to their own rounding.
  EXPECT_EQ(stages_of(one), stages_of(two));
  const auto a = results_of(one), b = results_of(two);
  ASSERT_EQ(a.size(), 3u * 2 * 2 * 2);  // arms x languages x splits x {accuracy, macro_f1}
  ASSERT_EQ(b.size(), a.size());
  double worst_metric = 0;
  for (const auto& [row, value] : a) {
    ASSERT_TRUE(b.count(row)) << std::get<0>(row) << " " << std::get<6>(row);
    worst_metric = std::max(worst_metric, std::abs(b.at(row) - value));
    EXPECT_NEAR(b.at(row), value, 1e-5) << std::get<0>(row) << " " << std::get<4>(row) << " " << std::get<6>(row);
  }
  double worst_weight = 0;
  std::set<int64_t> pids;
  for (const auto& e : fs::directory_iterator(one / "stages")) {
    const fs::path other = two / "stages" / e.path().filename();
    ASSERT_TRUE(fs::exists(other / "stage.json")) << other;
    const double diff = max_weight_diff(e.path(), other);
    std::cout << "stage " << e.path().filename().string().substr(0, 12) << ": max abs weight diff " << diff << "\n";
    worst_weight = std::max(worst_weight, diff);
    pids.insert(read_json_file(other / "stage.json").at("worker").at("pid").get<int64_t>());
  }
  EXPECT_EQ(pids.size(), 1u) << "rank 0 alone marks the stages done";
  std::cout << "2 ranks vs 1 process: max abs weight diff " << worst_weight << ", max abs metric diff "
            << worst_metric << " (tolerance 1e-5)\n";
  EXPECT_LT(worst_weight, 1e-5);
  EXPECT_TRUE(fs::is_empty(two / "claims")) << "no claim is left behind";

  // Run again: everything is cached, nothing trains.
  const auto again = run_stilts(launched(2, run_args(s, two)));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(training_starts(again.err).empty()) << again.err;
  EXPECT_THAT(again.err, HasSubstr("0 to run, 4 cached"));
  EXPECT_EQ(results_of(two), b);
}

// An arm that adapts the encoder with masked-LM training before its target (domain adaptation) runs
// under 2 ranks as one process runs it: every stage, the MLM one included, within 1e-5.
TEST(RunRanks, AMaskedLmStageTrainsDataParallelToo) {
  const Study s = make_study();
  std::mt19937 rng(5);
  std::string text;
  for (int i = 0; i < 60; ++i) text += testing::tiny_words(rng, 3 + static_cast<int>(rng() % 5)) + "\n";
  write_file_atomic(s.root / "data" / "text.txt", text);
  std::string config = read_file(s.config);
  const std::string arms = "[arms]\n";
  ASSERT_NE(config.find(arms), std::string::npos);
  config.replace(config.find(arms), arms.size(), R"([tasks.text]
kind = "mlm"
format = "text"
train = "data/text.txt"

[stages.adapt]
task = "text"
max_steps = 8
lr = 1e-3
batch_size = 7
max_length = 24
threads = 1

[arms]
adapted = ["adapt", "target"]
)");
  write_file_atomic(s.config, config);
  const fs::path one = s.root / "one-process", two = s.root / "two-ranks";
  const auto r1 = run_stilts(run_args(s, one));
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  const auto r2 = run_stilts(launched(2, run_args(s, two)));
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_EQ(count_of(r2.err, "6 stages, 6 to run"), 1u) << r2.err;
  EXPECT_EQ(stages_of(one), stages_of(two));
  double worst = 0;
  for (const auto& e : fs::directory_iterator(one / "stages")) {
    worst = std::max(worst, max_weight_diff(e.path(), two / "stages" / e.path().filename()));
  }
  std::cout << "a study with an MLM stage, 2 ranks vs 1 process: max abs weight diff " << worst << "\n";
  EXPECT_LT(worst, 1e-5);
  const auto a = results_of(one), b = results_of(two);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [row, value] : a) {
    ASSERT_TRUE(b.count(row)) << std::get<0>(row);
    EXPECT_NEAR(b.at(row), value, 1e-5) << std::get<0>(row) << " " << std::get<6>(row);
  }
}

TEST(RunRanks, WorkersUnderRanksIsAnErrorAndADryRunPrintsOnce) {
  const Study s = make_study();
  const fs::path out = s.root / "bad";
  std::vector<std::string> env = {"RANK=0", "WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1", "MASTER_PORT=29517",
                                  testing::cli_path().string()};
  const auto run = run_args(s, out, {"--workers", "2"});
  env.insert(env.end(), run.begin(), run.end());
  const auto r = testing::run_command("env", env);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--workers 2 under WORLD_SIZE=2"));
  EXPECT_THAT(r.err, HasSubstr("act as one worker"));
  EXPECT_FALSE(fs::exists(out)) << "nothing ran";

  const auto dry = run_stilts(launched(2, run_args(s, out, {"--dry-run"})));
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_EQ(count_of(dry.out, "4 of 4 stages to run"), 1u) << dry.out;
  EXPECT_FALSE(fs::exists(out / "stages")) << "a dry run writes nothing";
}

// Waits up to `seconds` for `pid` to end: its wait status, or -1 (then it is killed).
int wait_for(pid_t pid, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return -1;
}

TEST(RunRanks, AKilledRankEndsTheJobWithAnErrorAndARerunResumes) {
  const Study s = make_study();
  const fs::path one = s.root / "one-process", two = s.root / "killed-rank";
  const auto r1 = run_stilts(run_args(s, one));
  ASSERT_EQ(r1.exit_code, 0) << r1.err;

  // Two ranks started the torchrun way (no launcher: the test kills rank 1, rank 0 must end alone).
  const std::string port = std::to_string(testing::free_loopback_port());
  auto env = [&](int rank) {
    return std::vector<std::string>{"RANK=" + std::to_string(rank), "LOCAL_RANK=" + std::to_string(rank),
                                    "WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + port,
                                    "OPENBLAS_NUM_THREADS=1", "STILTS_DIST_TIMEOUT=120"};
  };
  const fs::path log0 = s.root / "rank0.log", log1 = s.root / "rank1.log";
  const pid_t rank0 = testing::spawn_stilts(run_args(s, two), log0, env(0));
  const pid_t rank1 = testing::spawn_stilts(run_args(s, two), log1, env(1));
  const int64_t killed_after = testing::kill_after_downstream_checkpoint(rank1, two, 4);
  ASSERT_GE(killed_after, 4) << read_file(log0) << read_file(log1);
  const int status = wait_for(rank0, 60);
  ASSERT_NE(status, -1) << "rank 0 hung after rank 1 was killed\n" << read_file(log0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
  const std::string err = read_file(log0);
  EXPECT_THAT(err, HasSubstr("stilts: error: rank 0 of 2")) << err;
  EXPECT_THAT(err, HasSubstr("Another rank probably exited")) << err;

  // Run again as 2 ranks: the finished stages are cached, the killed one resumes from its checkpoint,
  // and the study ends as one process's (tolerance 1e-5, as above).
  const auto again = run_stilts(launched(2, run_args(s, two)));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.err, HasSubstr("resuming from"));
  const auto a = results_of(one), b = results_of(two);
  ASSERT_EQ(b.size(), a.size());
  for (const auto& [row, value] : a) {
    ASSERT_TRUE(b.count(row));
    EXPECT_NEAR(b.at(row), value, 1e-5) << std::get<0>(row) << " " << std::get<4>(row) << " " << std::get<6>(row);
  }
  EXPECT_EQ(stages_of(one), stages_of(two));
  double worst = 0;
  for (const auto& e : fs::directory_iterator(one / "stages")) {
    worst = std::max(worst, max_weight_diff(e.path(), two / "stages" / e.path().filename()));
  }
  std::cout << "killed at step " << killed_after << ", rerun at 2 ranks: max abs weight diff vs 1 process " << worst
            << " (tolerance 1e-5)\n";
  EXPECT_LT(worst, 1e-5);
}

}  // namespace
}  // namespace stilts
