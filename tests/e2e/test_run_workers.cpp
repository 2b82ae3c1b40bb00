// stilts run with several workers in one run directory: `--workers 2` on a study whose intermediate
// stage two arms share gives exactly one worker's results, with every stage trained once; a worker
// SIGKILLed while it holds a stage's claim leaves the stage to the other, which resumes it, and the
// study still ends with one worker's results; bad --workers values are errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <regex>
#include <set>
#include <thread>
#include <tuple>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "pipeline/results_store.h"
#include "support/fixtures.h"
#include "support/run.h"
#include "support/torch/tiny_models.h"
#include "support/torch/tiny_study.h"

namespace stilts {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::run_stilts;

using Study = testing::TinyStudy;
Study make_study() { return testing::make_tiny_study("tiny-workers"); }
std::vector<std::string> run_args(const Study& s, const fs::path& out, std::vector<std::string> extra = {}) {
  return testing::tiny_study_run_args(s, out, std::move(extra));
}
using testing::results_of;

// Per stage key: the figures of its eval.json ("dev" and "test") or "" for a stage not evaluated, and
// the bytes of its final model.
std::map<std::string, std::pair<std::string, std::string>> stage_outputs(const fs::path& run_dir) {
  std::map<std::string, std::pair<std::string, std::string>> out;
  for (const auto& e : fs::directory_iterator(run_dir / "stages")) {
    std::string figures;
    if (fs::exists(e.path() / "eval.json")) {
      const auto eval = read_json_file(e.path() / "eval.json");
      figures = eval.at("dev").dump() + eval.at("test").dump();
    }
    out[e.path().filename().string()] = {figures, read_file(e.path() / "model.safetensors")};
  }
  return out;
}

// The study run by one worker, once per test program.
const std::pair<Study, fs::path>& one_worker_run() {
  static const std::pair<Study, fs::path> run = [] {
    Study s = make_study();
    const fs::path out = s.root / "one-worker";
    const auto r = run_stilts(run_args(s, out));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return std::make_pair(s, out);
  }();
  return run;
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

void expect_same_study(const fs::path& a, const fs::path& b) {
  const auto results_a = results_of(a), results_b = results_of(b);
  EXPECT_EQ(results_a.size(), 3u * 2 * 2 * 2);  // arms x languages x splits x {accuracy, macro_f1}
  EXPECT_EQ(results_a, results_b);
  const auto outputs_a = stage_outputs(a), outputs_b = stage_outputs(b);
  ASSERT_EQ(outputs_a.size(), 4u);
  ASSERT_EQ(outputs_b.size(), 4u);
  for (const auto& [key, output] : outputs_a) {
    ASSERT_TRUE(outputs_b.count(key)) << key;
    EXPECT_EQ(output.first, outputs_b.at(key).first) << "eval.json figures of " << key;
    EXPECT_TRUE(output.second == outputs_b.at(key).second) << "final weights of " << key;
  }
  const auto stages = pipeline::ResultsStore::open(b / "results.sqlite")->stages();
  EXPECT_EQ(stages.size(), 4u);
  for (const auto& st : stages) EXPECT_EQ(st.status, "done") << st.name;
  // No claim is left behind.
  EXPECT_TRUE(fs::is_empty(b / "claims"));
}

TEST(RunWorkers, TwoWorkersGiveOneWorkersResultsAndTrainEachStageOnce) {
  const auto& [s, one] = one_worker_run();
  ASSERT_TRUE(fs::exists(one / "results.sqlite"));
  const fs::path two = s.root / "two-workers";
  const auto r = run_stilts(run_args(s, two, {"--workers", "2"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_same_study(one, two);

  // Every stage started once across both workers (the shared intermediate stage included), and the
  // parent found all of them done.
  const auto starts = training_starts(r.err);
  EXPECT_EQ(starts.size(), 4u) << r.err;
  for (const auto& [key, n] : starts) EXPECT_EQ(n, 1) << key << "\n" << r.err;
  EXPECT_THAT(r.err, HasSubstr("worker 1 of 2 is pid"));
  EXPECT_THAT(r.err, HasSubstr("worker 2 of 2 is pid"));
  EXPECT_THAT(r.err, HasSubstr("0 to run, 4 cached"));  // the parent, after its workers
  std::set<int64_t> pids;
  for (const auto& e : fs::directory_iterator(two / "stages")) {
    pids.insert(read_json_file(e.path() / "stage.json").at("worker").at("pid").get<int64_t>());
  }
  std::cout << "stages trained by " << pids.size() << " distinct worker(s)\n";
  EXPECT_EQ(pids.size(), 2u) << "two stages are ready from the start: each worker takes one";
}

TEST(RunWorkers, TwoIndependentRunsShareARunDirectoryAsAJobArrayWould) {
  const auto& [s, one] = one_worker_run();
  const fs::path out = s.root / "job-array";
  const fs::path log_a = s.root / "task-0.log", log_b = s.root / "task-1.log";
  const pid_t a = testing::spawn_stilts(run_args(s, out), log_a);
  const pid_t b = testing::spawn_stilts(run_args(s, out), log_b);
  int status_a = 0, status_b = 0;
  ASSERT_EQ(waitpid(a, &status_a, 0), a);
  ASSERT_EQ(waitpid(b, &status_b, 0), b);
  const std::string text_a = read_file(log_a), text_b = read_file(log_b);
  ASSERT_TRUE(WIFEXITED(status_a) && WEXITSTATUS(status_a) == 0) << text_a;
  ASSERT_TRUE(WIFEXITED(status_b) && WEXITSTATUS(status_b) == 0) << text_b;
  const auto starts = training_starts(text_a + text_b);
  EXPECT_EQ(starts.size(), 4u) << text_a << text_b;
  for (const auto& [key, n] : starts) EXPECT_EQ(n, 1) << key;
  // At least one of them wrote the results (the other either found it doing so, or wrote the same rows
  // again after it).
  EXPECT_TRUE(text_a.find("result rows in") != std::string::npos || text_b.find("result rows in") != std::string::npos)
      << text_a << text_b;
  expect_same_study(one, out);
}

TEST(RunWorkers, AWorkerKilledHoldingAClaimLeavesItsStageToTheOther) {
  const auto& [s, one] = one_worker_run();
  const fs::path out = s.root / "killed-worker";
  const fs::path log = s.root / "killed-worker.log";
  const pid_t parent = testing::spawn_stilts(run_args(s, out, {"--workers", "2"}), log);

  // SIGKILL the worker holding a target stage's claim once that stage has a checkpoint.
  pid_t killed = -1;
  std::string killed_key;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (killed < 0 && std::chrono::steady_clock::now() < deadline) {
    if (waitpid(parent, nullptr, WNOHANG) == parent) break;
    if (fs::exists(out / "claims")) {
      try {
        for (const auto& e : fs::directory_iterator(out / "claims")) {
          const std::string key = e.path().filename().string();
          if (key[0] == '.' || testing::latest_last_step(out / "stages" / key) < 4) continue;
          const auto claim = read_json_file(e.path());
          killed = static_cast<pid_t>(claim.at("pid").get<int64_t>());
          ASSERT_NE(killed, parent);
          ASSERT_EQ(kill(killed, SIGKILL), 0);
          killed_key = key;
          break;
        }
      } catch (const std::exception&) {
        // a claim released or written while looking
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_GT(killed, 0) << "no worker could be killed holding a claim\n" << read_file(log);

  int status = 0;
  ASSERT_EQ(waitpid(parent, &status, 0), parent);
  const std::string text = read_file(log);
  ASSERT_TRUE(WIFEXITED(status)) << text;
  ASSERT_EQ(WEXITSTATUS(status), 0) << text;
  EXPECT_THAT(text, HasSubstr("pid " + std::to_string(killed) + ") was killed by signal 9"));
  EXPECT_THAT(text, HasSubstr("taking over the stage of a dead worker, pid " + std::to_string(killed)));
  EXPECT_THAT(text, HasSubstr("resuming from"));
  const auto starts = training_starts(text);
  EXPECT_EQ(starts.at(killed_key.substr(0, 12)), 2) << "trained by the killed worker, resumed by another";
  for (const auto& [key, n] : starts) {
    if (key != killed_key.substr(0, 12)) {
      EXPECT_EQ(n, 1) << key;
    }
  }
  expect_same_study(one, out);
}

TEST(RunWorkers, ADryRunShowsWhichWorkerHoldsAStage) {
  const auto& [s, one] = one_worker_run();
  const fs::path out = s.root / "claimed";
  std::string target_key;
  for (const auto& e : fs::directory_iterator(one / "stages")) {
    if (read_json_file(e.path() / "stage.json").at("name") == "target_slow") target_key = e.path().filename().string();
  }
  ASSERT_FALSE(target_key.empty());
  // This test process holds the claim, as a worker on this machine would.
  const nlohmann::json holder = {{"host", ""}, {"boot_id", ""}, {"pid", getpid()}, {"pid_start", 0},
                                 {"started", 0}, {"token", "test"}};
  fs::create_directories(out / "claims");
  write_file_atomic(out / "claims" / target_key, holder.dump());
  const auto dry = run_stilts(run_args(s, out, {"--dry-run"}));
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  // Another host's claim (this one names no host) is alive while its heartbeat is fresh.
  EXPECT_THAT(dry.out, HasSubstr("  running\t" + target_key.substr(0, 12)));
  EXPECT_THAT(dry.out, HasSubstr("(pid " + std::to_string(getpid()) + " on )"));
  EXPECT_THAT(dry.out, HasSubstr("4 of 4 stages to run"));
  // With a heartbeat older than --claim-timeout, the claim is dead: listed as to run again.
  const auto stale = run_stilts(run_args(s, out, {"--dry-run", "--claim-timeout", "0.001"}));
  ASSERT_EQ(stale.exit_code, 0) << stale.err;
  EXPECT_THAT(stale.out, ::testing::Not(HasSubstr("running\t"))) << stale.out;
}

TEST(RunWorkers, AFailingStageStopsItsWorkersWithTheErrorAndKeepsWhatFinished) {
  const Study s = make_study();
  // A label the task does not know, in the target's training file: its stages fail when they read it.
  std::string train = read_file(s.root / "data" / "en" / "train.tsv");
  train.replace(train.rfind('\t') + 1, 1, "maybe");
  write_file_atomic(s.root / "data" / "en" / "train.tsv", train);
  const fs::path out = s.root / "failing";
  const auto r = run_stilts(run_args(s, out, {"--workers", "2"}));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("train.tsv"));
  EXPECT_THAT(r.err, HasSubstr("exited with code 1 (the error is above); finished stages are kept"));
  ASSERT_TRUE(fs::exists(out / "results.sqlite")) << r.err;
  std::set<std::string> failed;
  for (const auto& st : pipeline::ResultsStore::open(out / "results.sqlite")->stages()) {
    if (st.status == "failed") failed.insert(st.name);
  }
  EXPECT_TRUE(failed.count("target")) << r.err;
  EXPECT_TRUE(fs::is_empty(out / "claims")) << "a failed worker releases its claim";
  // Whatever finished stays finished: every stage.json written is for a stage that does not read the
  // broken file (the intermediate one), and a rerun lists it as cached.
  for (const auto& e : fs::directory_iterator(out / "stages")) {
    if (fs::exists(e.path() / "stage.json")) {
      EXPECT_EQ(read_json_file(e.path() / "stage.json").at("name"), "intermediate");
    }
  }
}

TEST(RunWorkers, BadWorkerCountsAndTimeoutsAreErrors) {
  const auto& [s, one] = one_worker_run();
  for (const std::string bad : {"0", "-2", "two"}) {
    const auto r = run_stilts(run_args(s, s.root / "bad", {"--workers", bad}));
    EXPECT_EQ(r.exit_code, 2) << bad << "\n" << r.err;
    EXPECT_THAT(r.err, HasSubstr("--workers")) << bad;
  }
  const auto r = run_stilts(run_args(s, s.root / "bad", {"--claim-timeout", "0"}));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--claim-timeout"));
  const auto both = run_stilts(run_args(s, s.root / "bad", {"--workers", "2", "--worker-only"}));
  EXPECT_EQ(both.exit_code, 1) << both.err;
  EXPECT_THAT(both.err, HasSubstr("a worker does not start workers"));
  EXPECT_FALSE(fs::exists(s.root / "bad" / "stages")) << "nothing ran";
}

}  // namespace
}  // namespace stilts
