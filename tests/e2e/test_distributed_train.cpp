// stilts train as a data-parallel job over Gloo on loopback: 2 ranks (stilts launch) at a global batch
// end with the weights of 1 process at that batch (dropout off, same data order; batches that do not
// split evenly, a last batch smaller than the others, a rank whose shard is empty; tagging's token-weighted
// shards; retrieval's in-batch negatives across the ranks); a SIGKILLed rank ends the other with a clear
// error, and --resume (at 2 ranks) finishes with the same weights; stilts launch stops the other ranks
// and names the one that failed; bad torchrun variables are clear errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <torch/torch.h>

#include <chrono>
#include <fstream>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "io/safetensors.h"
#include "support/fixtures.h"
#include "support/run.h"
#include "support/torch/ranks.h"
#include "support/torch/tiny_models.h"

namespace stilts {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::run_stilts;
using testing::launched;
using testing::max_weight_diff;

const std::vector<std::string> kWords = {"red", "blue", "green", "cat", "dog", "bird", "runs", "sits",
                                         "big", "small", "old", "new", "yes", "no", "and", "the"};

std::string pair_tsv(int rows, unsigned seed) {
  std::mt19937 rng(seed);
  auto words = [&](int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += (i ? " " : "") + kWords[rng() % 12];
    return out;
  };
  std::string tsv = "sentence1\tsentence2\tlabel\n";
  for (int i = 0; i < rows; ++i) {
    const bool positive = rng() % 2;
    tsv += words(2 + rng() % 4) + "\t" + words(1 + rng() % 3) + (positive ? " yes " : " no ") + words(1 + rng() % 3) +
           "\t" + (positive ? "1" : "0") + "\n";
  }
  return tsv;
}

struct Fixture {
  fs::path root, model, train, dev;
};

// A tiny BERT without dropout; 200 training pairs (batches of 7 split 3 + 4 over 2 ranks, and a smaller
// last batch), 30 dev pairs.
Fixture make_fixture() {
  Fixture f;
  f.root = testing::make_temp_dir();
  f.model = testing::make_tiny_bert(f.root / "model", {kWords});
  nlohmann::json config = read_json_file(f.model / "config.json");
  config["hidden_dropout_prob"] = 0.0;
  config["attention_probs_dropout_prob"] = 0.0;
  write_file_atomic(f.model / "config.json", config.dump(2));
  f.train = f.root / "train.tsv";
  f.dev = f.root / "dev.tsv";
  write_file_atomic(f.train, pair_tsv(200, 1));
  write_file_atomic(f.dev, pair_tsv(30, 2));
  return f;
}

std::vector<std::string> train_args(const Fixture& f, const fs::path& out, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"train", "--model", f.model.string(), "--task", "pair-classification",
                                   "--train", f.train.string(), "--dev", f.dev.string(), "--out", out.string(),
                                   "--epochs", "2", "--batch-size", "7", "--lr", "5e-4", "--seed", "7",
                                   "--max-length", "32", "--eval-every", "10", "--checkpoint-every", "3",
                                   "--set", "cache_dir=" + (f.root / "cache").string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// Waits up to `seconds` for `pid` to end; its wait status, or -1 (then it is killed).
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

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(DistributedTrain, TwoRanksEqualOneProcessAtTheSameGlobalBatch) {
  const Fixture f = make_fixture();
  const fs::path one = f.root / "one", two = f.root / "two";
  const auto r1 = run_stilts(train_args(f, one));
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  const auto r2 = run_stilts(launched(2, train_args(f, two)));
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_THAT(r2.err, HasSubstr("stilts launch: rank 1 of 2"));
  const double diff = max_weight_diff(one, two);
  std::cout << "max abs weight diff, 2 ranks vs 1 process: " << diff << " (tolerance 1e-5)\n";
  EXPECT_LT(diff, 1e-5);
  // Rank 0 alone logs and writes: one "done" line, the same number of steps and examples trained on.
  size_t dones = 0;
  for (size_t at = r2.err.find("done: "); at != std::string::npos; at = r2.err.find("done: ", at + 1)) ++dones;
  EXPECT_EQ(dones, 1u) << r2.err;
  const nlohmann::json m1 = read_json_file(one / "metrics.json");
  const nlohmann::json m2 = read_json_file(two / "metrics.json");
  EXPECT_EQ(m2.at("steps"), m1.at("steps"));
  EXPECT_TRUE(m2.at("finished").get<bool>());
  EXPECT_EQ(m2.at("cost").at("examples"), m1.at("cost").at("examples"));
  EXPECT_EQ(m2.at("cost").at("tokens"), m1.at("cost").at("tokens"));
  EXPECT_NEAR(m2.at("final").at("train_loss").get<double>(), m1.at("final").at("train_loss").get<double>(), 1e-5);
  // The dev set is evaluated in shards and gathered: the same figures as one process's.
  ASSERT_EQ(m2.at("evaluations").size(), m1.at("evaluations").size());
  for (size_t i = 0; i < m1.at("evaluations").size(); ++i) {
    EXPECT_NEAR(m2["evaluations"][i].at("score").get<double>(), m1["evaluations"][i].at("score").get<double>(), 1e-9);
  }
}

TEST(DistributedTrain, EmptyShardsStillMatchOneProcess) {
  // Batches of 1 over 2 ranks: rank 0's shard is always empty (it still takes part in every all-reduce).
  const Fixture f = make_fixture();
  const fs::path one = f.root / "one", two = f.root / "two";
  const std::vector<std::string> small = {"--batch-size", "1", "--max-steps", "12"};
  const auto r1 = run_stilts(train_args(f, one, small));
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  const auto r2 = run_stilts(launched(2, train_args(f, two, small)));
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  const double diff = max_weight_diff(one, two);
  std::cout << "batch 1 over 2 ranks: max abs weight diff vs 1 process " << diff << " (tolerance 1e-5)\n";
  EXPECT_LT(diff, 1e-5);
}

// Sentences of 1 to 9 words tagged by word class, in XTREME's tagging format.
std::string tagging_tsv(int sentences, unsigned seed) {
  std::mt19937 rng(seed);
  const char* tags[] = {"ADJ", "ADJ", "ADJ", "NOUN", "NOUN", "NOUN", "VERB", "VERB", "ADJ", "ADJ", "ADJ", "ADJ",
                        "INTJ", "INTJ", "CCONJ", "DET"};
  std::string tsv;
  for (int s = 0; s < sentences; ++s) {
    const int n = 1 + static_cast<int>(rng() % 9);
    for (int i = 0; i < n; ++i) {
      const size_t w = rng() % kWords.size();
      tsv += kWords[w] + "\t" + tags[w] + "\n";
    }
    tsv += "\n";
  }
  return tsv;
}

TEST(DistributedTrain, TaggingShardsWeighTheirLabelledTokens) {
  // Tagging's loss averages over labelled tokens, which differ between the shards of a batch: 2 ranks
  // match one process only when each shard is weighted by its token count.
  const Fixture f = make_fixture();
  write_file_atomic(f.root / "train-en.tsv", tagging_tsv(90, 3));
  write_file_atomic(f.root / "dev-en.tsv", tagging_tsv(20, 4));
  auto args = [&](const fs::path& out) {
    return std::vector<std::string>{"train", "--model", f.model.string(), "--task", "tagging", "--format",
                                    "xtreme-tagging", "--train", (f.root / "train-en.tsv").string(), "--dev",
                                    (f.root / "dev-en.tsv").string(), "--out", out.string(), "--epochs", "1",
                                    "--batch-size", "5", "--lr", "1e-3", "--seed", "3", "--max-length", "32",
                                    "--final-model", "last", "--set", "cache_dir=" + (f.root / "cache").string()};
  };
  const fs::path one = f.root / "one", two = f.root / "two";
  const auto r1 = run_stilts(args(one));
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  const auto r2 = run_stilts(launched(2, args(two)));
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  const double diff = max_weight_diff(one, two);
  std::cout << "tagging, 2 ranks vs 1 process: max abs weight diff " << diff << " (tolerance 1e-5)\n";
  EXPECT_LT(diff, 1e-5);
}

// Retrieval pairs in stilts' retrieval-json: a query of 2 to 5 words, its positive the same words reversed
// with one more; with `pool`, a dev pool of every positive, each query relevant to its own.
std::string retrieval_json(int queries, unsigned seed, bool pool) {
  std::mt19937 rng(seed);
  nlohmann::json document = {{"queries", nlohmann::json::array()}};
  nlohmann::json candidates = nlohmann::json::array();
  for (int i = 0; i < queries; ++i) {
    std::vector<std::string> words;
    for (int w = 0, n = 2 + static_cast<int>(rng() % 4); w < n; ++w) words.push_back(kWords[rng() % kWords.size()]);
    std::string query, positive = kWords[rng() % kWords.size()];
    for (size_t w = 0; w < words.size(); ++w) query += (w ? " " : "") + words[w];
    for (auto w = words.rbegin(); w != words.rend(); ++w) positive += " " + *w;
    const std::string id = "q" + std::to_string(i);
    if (pool) {
      document["queries"].push_back({{"id", id}, {"text", query}, {"relevant", {"c" + std::to_string(i)}}});
      candidates.push_back({{"id", "c" + std::to_string(i)}, {"text", positive}});
    } else {
      document["queries"].push_back({{"id", id}, {"text", query}, {"positive", positive}});
    }
  }
  if (pool) document["candidates"] = candidates;
  return document.dump(1);
}

TEST(DistributedTrain, RetrievalInBatchNegativesSpanTheRanks) {
  // Retrieval's loss scores every query of a batch against every positive of it: a rank's shard alone
  // would see only its own rows as negatives (measured: weights 6.9e-4 apart from one process's here).
  // 2 ranks match one process only when each rank's loss is the whole batch's. 50 pairs at batch 7 leave
  // a last batch of 1, where rank 0's shard is empty.
  // The comparison starts from a model one process trained 40 steps: from the collapsed start of random
  // weights (every embedding alike) the batch gradient is a sum of nearly cancelling rows, and the ranks'
  // split of that sum alone moves it by 5e-4 relative (2e-4 in the weights after 16 steps at lr 1e-3).
  const Fixture f = make_fixture();
  write_file_atomic(f.root / "pairs.json", retrieval_json(50, 5, false));
  write_file_atomic(f.root / "pool.json", retrieval_json(20, 6, true));
  auto args = [&](const fs::path& model, const fs::path& out, const std::string& lr) {
    return std::vector<std::string>{"train", "--model", model.string(), "--task", "retrieval", "--format",
                                    "retrieval-json", "--train", (f.root / "pairs.json").string(), "--dev",
                                    (f.root / "pool.json").string(), "--out", out.string(), "--epochs", "1",
                                    "--batch-size", "7", "--lr", lr, "--seed", "4", "--max-length", "16",
                                    "--final-model", "last", "--set", "cache_dir=" + (f.root / "cache").string()};
  };
  const fs::path warm = f.root / "warm", one = f.root / "one", two = f.root / "two";
  auto warm_args = args(f.model, warm, "1e-3");
  warm_args.insert(warm_args.end(), {"--max-steps", "40"});
  const auto r0 = run_stilts(warm_args);
  ASSERT_EQ(r0.exit_code, 0) << r0.err;
  const auto r1 = run_stilts(args(warm, one, "1e-4"));
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  const auto r2 = run_stilts(launched(2, args(warm, two, "1e-4")));
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  const double diff = max_weight_diff(one, two);
  std::cout << "retrieval, 2 ranks vs 1 process: max abs weight diff " << diff << " (tolerance 1e-5)\n";
  EXPECT_LT(diff, 1e-5);
  EXPECT_GT(max_weight_diff(warm, one), 1e-4);  // the epoch trained
  const nlohmann::json m1 = read_json_file(one / "metrics.json");
  const nlohmann::json m2 = read_json_file(two / "metrics.json");
  EXPECT_NEAR(m2.at("final").at("train_loss").get<double>(), m1.at("final").at("train_loss").get<double>(), 1e-5);
  ASSERT_EQ(m2.at("evaluations").size(), m1.at("evaluations").size());
  ASSERT_GE(m1.at("evaluations").size(), 1u);
  for (size_t i = 0; i < m1.at("evaluations").size(); ++i) {
    EXPECT_NEAR(m2["evaluations"][i].at("score").get<double>(), m1["evaluations"][i].at("score").get<double>(), 1e-6);
  }
}

TEST(DistributedTrain, AKilledRankEndsTheOtherWithAnErrorThenResumeFinishes) {
  const Fixture f = make_fixture();
  const fs::path one = f.root / "one", two = f.root / "two";
  const auto r1 = run_stilts(train_args(f, one));
  ASSERT_EQ(r1.exit_code, 0) << r1.err;

  // Two ranks started the torchrun way (no launcher: rank 1 is killed by the test, rank 0 must end alone).
  const std::string port = std::to_string(testing::free_loopback_port());
  auto env = [&](int rank) {
    return std::vector<std::string>{"RANK=" + std::to_string(rank), "LOCAL_RANK=" + std::to_string(rank),
                                    "WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + port,
                                    "OPENBLAS_NUM_THREADS=1", "STILTS_DIST_TIMEOUT=120"};
  };
  const fs::path log0 = f.root / "rank0.log", log1 = f.root / "rank1.log";
  const pid_t rank0 = testing::spawn_stilts(train_args(f, two), log0, env(0));
  const pid_t rank1 = testing::spawn_stilts(train_args(f, two), log1, env(1));
  const auto start = std::chrono::steady_clock::now();
  const int64_t killed_after = testing::kill_after_checkpoint(rank1, two, 6);
  ASSERT_GE(killed_after, 6) << slurp(log0) << slurp(log1);
  // Rank 0 ends on its own, well within the 120 s collective timeout: the closed connection is the signal.
  const int status = wait_for(rank0, 60);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_NE(status, -1) << "rank 0 hung after rank 1 was killed\n" << slurp(log0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
  EXPECT_LT(seconds, 60.0);
  const std::string err = slurp(log0);
  EXPECT_THAT(err, AllOf(HasSubstr("stilts: error: rank 0 of 2"), HasSubstr("failed"), HasSubstr("--resume")));
  EXPECT_FALSE(fs::exists(two / "model.safetensors"));

  const auto resumed = run_stilts(launched(2, train_args(f, two, {"--resume"})));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_THAT(resumed.err, HasSubstr("resuming from"));
  const double diff = max_weight_diff(one, two);
  std::cout << "killed at step " << killed_after << ", resumed at 2 ranks: max abs weight diff vs 1 process " << diff
            << " (tolerance 1e-5)\n";
  EXPECT_LT(diff, 1e-5);
}

TEST(DistributedTrain, ResumesAtAnotherWorldSize) {
  // Killed as one process, finished as 2 ranks: the checkpoint holds no world size.
  const Fixture f = make_fixture();
  const fs::path one = f.root / "one", two = f.root / "two";
  const auto r1 = run_stilts(train_args(f, one));
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  const int64_t killed_after =
      testing::kill_after_checkpoint(testing::spawn_stilts(train_args(f, two), f.root / "log"), two, 9);
  ASSERT_GE(killed_after, 9);
  const auto resumed = run_stilts(launched(2, train_args(f, two, {"--resume"})));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const double diff = max_weight_diff(one, two);
  std::cout << "killed at step " << killed_after << " (1 process), resumed at 2 ranks: max abs weight diff " << diff
            << "\n";
  EXPECT_LT(diff, 1e-5);
}

TEST(DistributedLaunch, AFailingRankStopsTheOthersAndIsNamed) {
  const auto start = std::chrono::steady_clock::now();
  const auto r = run_stilts({"launch", "--nproc", "3", "--", "sh", "-c",
                             "if [ \"$RANK\" = 1 ]; then exit 3; fi; sleep 60"});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_THAT(r.err, AllOf(HasSubstr("rank 1 (pid"), HasSubstr("exited with status 3"),
                           HasSubstr("stopping the other ranks"), HasSubstr("failed: rank 1")));
  EXPECT_LT(seconds, 20.0);
  const auto ok = run_stilts({"launch", "--nproc", "2", "--", "sh", "-c",
                              "test \"$WORLD_SIZE\" = 2 && test -n \"$MASTER_PORT\" && echo rank=$RANK"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_THAT(ok.out, AllOf(HasSubstr("rank=0"), HasSubstr("rank=1")));
}

TEST(DistributedTrain, BadTorchrunVariablesAreClearErrors) {
  const Fixture f = make_fixture();
  auto with_env = [&](const std::vector<std::string>& env) {
    std::vector<std::string> args = env;
    args.push_back(testing::cli_path().string());
    const auto train = train_args(f, f.root / "out");
    args.insert(args.end(), train.begin(), train.end());
    return testing::run_command("env", args);
  };
  const auto bad_rank = with_env({"RANK=2", "WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1", "MASTER_PORT=29500"});
  EXPECT_EQ(bad_rank.exit_code, 1);
  EXPECT_THAT(bad_rank.err, AllOf(HasSubstr("RANK='2'"), HasSubstr("[0, 2)")));
  const auto no_port = with_env({"RANK=0", "WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1"});
  EXPECT_EQ(no_port.exit_code, 1);
  EXPECT_THAT(no_port.err, HasSubstr("MASTER_PORT is not set"));
  const auto no_world = with_env({"RANK=0"});
  EXPECT_EQ(no_world.exit_code, 1);
  EXPECT_THAT(no_world.err, HasSubstr("WORLD_SIZE is not"));
  EXPECT_FALSE(fs::exists(f.root / "out"));
}

}  // namespace
}  // namespace stilts
