// stilts pretrain as a process: a run SIGKILLed twice and resumed ends bit-identical to an
// uninterrupted one (weights, metrics apart from wall/CPU seconds, cost counts); bad input is an
// error naming the file and line or the key; 2 data-parallel ranks end with one process's weights.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <torch/torch.h>

#include <chrono>
#include <random>
#include <thread>

#include "common/files.h"
#include "io/safetensors.h"
#include "support/fixtures.h"
#include "support/run.h"
#include "support/torch/ranks.h"
#include "support/torch/tiny_models.h"
#include "train/checkpoint.h"

namespace stilts {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::run_stilts;

const std::vector<std::string> kWords = {"red", "blue", "green", "cat", "dog", "bird", "runs", "sits",
                                         "big", "small", "old", "new", "yes", "no", "and", "the"};

struct Fixture {
  fs::path root, model, train, dev;
};

// A from-scratch BERT (config.json + vocab.txt) and a cyclic-word corpus.
Fixture make_fixture() {
  Fixture f;
  f.root = testing::make_temp_dir();
  f.model = f.root / "model";
  fs::create_directories(f.model);
  std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
  for (const auto& w : kWords) vocab += w + "\n";
  write_file_atomic(f.model / "vocab.txt", vocab);
  const nlohmann::json config = {{"model_type", "bert"},          {"vocab_size", 21},
                                 {"hidden_size", 32},             {"num_hidden_layers", 2},
                                 {"num_attention_heads", 2},      {"intermediate_size", 64},
                                 {"max_position_embeddings", 64}, {"type_vocab_size", 2},
                                 {"pad_token_id", 0}};
  write_file_atomic(f.model / "config.json", config.dump(2));
  auto corpus = [](int lines, unsigned seed) {
    std::mt19937 rng(seed);
    std::string text;
    for (int i = 0; i < lines; ++i) {
      const size_t start = rng() % kWords.size();
      const int n = 4 + static_cast<int>(rng() % 10);
      for (int k = 0; k < n; ++k) text += (k ? " " : "") + kWords[(start + static_cast<size_t>(k)) % kWords.size()];
      text += "\n";
    }
    return text;
  };
  f.train = f.root / "train.txt";
  f.dev = f.root / "dev.txt";
  write_file_atomic(f.train, corpus(320, 1));
  write_file_atomic(f.dev, corpus(40, 2));
  return f;
}

std::vector<std::string> pretrain_args(const Fixture& f, const fs::path& out, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"pretrain", "--model", f.model.string(), "--train", f.train.string(),
                                   "--dev", f.dev.string(), "--out", out.string(), "--epochs", "2",
                                   "--batch-size", "8", "--lr", "1e-3", "--seed", "7", "--max-length", "32",
                                   "--eval-every", "10", "--checkpoint-every", "3", "--set", "warmup_ratio=0.1"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

nlohmann::json without_times(nlohmann::json metrics) {
  metrics["cost"].erase("wall_s");
  metrics["cost"].erase("cpu_s");
  return metrics;
}

TEST(PretrainCli, KilledTwiceAndResumedIsBitIdentical) {
  const Fixture f = make_fixture();
  const fs::path a = f.root / "uninterrupted", b = f.root / "killed";
  const auto ra = run_stilts(pretrain_args(f, a));
  ASSERT_EQ(ra.exit_code, 0) << ra.err;
  EXPECT_THAT(ra.err, HasSubstr("initialised from scratch"));
  const auto metrics_a = read_json_file(a / "metrics.json");
  ASSERT_EQ(metrics_a.at("steps"), 80);

  const fs::path log = f.root / "killed.log";
  const int64_t first = testing::kill_after_checkpoint(testing::spawn_stilts(pretrain_args(f, b), log), b, 9);
  ASSERT_GE(first, 9) << read_file(log);
  ASSERT_FALSE(fs::exists(b / "model.safetensors"));
  const int64_t second =
      testing::kill_after_checkpoint(testing::spawn_stilts(pretrain_args(f, b, {"--resume"}), log), b, first + 30);
  ASSERT_GT(second, first) << read_file(log);
  std::cout << "killed after checkpoints at steps " << first << " and " << second << " of 80\n";
  const auto rb = run_stilts(pretrain_args(f, b, {"--resume"}));
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  EXPECT_THAT(rb.err, HasSubstr("resuming from"));

  const auto wa = io::load_safetensors(a / "model.safetensors");
  const auto wb = io::load_safetensors(b / "model.safetensors");
  ASSERT_EQ(wa.size(), wb.size());
  double max_diff = 0;
  for (const auto& [name, t] : wa) {
    ASSERT_TRUE(wb.count(name)) << name;
    EXPECT_TRUE(torch::equal(t, wb.at(name))) << name;
    max_diff = std::max(max_diff, (t - wb.at(name)).abs().max().item<double>());
  }
  std::cout << wa.size() << " tensors, max abs diff " << max_diff << " (must be 0)\n";
  const auto metrics_b = read_json_file(b / "metrics.json");
  EXPECT_EQ(without_times(metrics_a), without_times(metrics_b));
  EXPECT_EQ(metrics_b.at("cost").at("examples"), 320 * 2);
  EXPECT_GT(metrics_b.at("cost").at("wall_s").get<double>(), 0.0);
  EXPECT_EQ(metrics_b.at("evaluations").size(), 8u);
  EXPECT_TRUE(metrics_b.at("finished").get<bool>());
  EXPECT_EQ(read_file(a / "config.json"), read_file(b / "config.json"));
  EXPECT_EQ(read_json_file(b / "config.json").at("architectures")[0], "BertForMaskedLM");
  EXPECT_TRUE(fs::exists(b / "vocab.txt"));

  // A finished run: refused without --resume, done with it; other hyper-parameters are refused.
  const auto again = run_stilts(pretrain_args(f, b));
  EXPECT_EQ(again.exit_code, 1) << again.err;
  EXPECT_THAT(again.err, HasSubstr("finished run"));
  const auto done = run_stilts(pretrain_args(f, b, {"--resume"}));
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_THAT(done.err, HasSubstr("nothing to do"));
  const fs::path c = f.root / "changed";
  ASSERT_GE(testing::kill_after_checkpoint(testing::spawn_stilts(pretrain_args(f, c), log), c, 3), 3);
  const auto changed = run_stilts(pretrain_args(f, c, {"--resume", "--mlm-probability", "0.2"}));
  EXPECT_EQ(changed.exit_code, 1);
  EXPECT_THAT(changed.err, HasSubstr("mlm_probability (was 0.15, now 0.2)"));
}

TEST(PretrainCli, BadInputNamesFileLineOrKey) {
  const Fixture f = make_fixture();
  write_file_atomic(f.root / "bad.txt", "red cat\nblue \xfe dog\n");
  struct Case {
    std::string name;
    std::vector<std::string> args, needles;
  };
  const std::string out = (f.root / "out").string();
  const std::vector<Case> cases = {
      {"invalid-utf8",
       {"pretrain", "--model", f.model.string(), "--train", (f.root / "bad.txt").string(), "--out", out + "1"},
       {"bad.txt:2", "UTF-8"}},
      {"missing-train",
       {"pretrain", "--model", f.model.string(), "--train", (f.root / "nope.txt").string(), "--out", out + "2"},
       {"nope.txt"}},
      {"probability", pretrain_args(f, f.root / "o2", {"--mlm-probability", "1.2"}), {"mlm_probability"}},
      {"no-model", {"pretrain", "--train", f.train.string(), "--out", out}, {"'model'"}},
      {"unknown-key", pretrain_args(f, f.root / "o3", {"--set", "mask_rate=0.2"}), {"unknown key 'mask_rate'"}},
      {"pretrained-without-weights", pretrain_args(f, f.root / "o4", {"--init", "pretrained"}), {"no weights found"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto r = run_stilts(c.args);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    for (const auto& n : c.needles) EXPECT_THAT(r.err, HasSubstr(n));
    EXPECT_EQ(r.err.find("frame #"), std::string::npos) << r.err;
    std::cout << c.name << ": " << r.err;
  }
}

// Launched as 2 ranks at the same global batch (7: shards of 3 and 4, a smaller last batch), with
// dropout off: each rank masks its rows as one process does and weighs its shard by its masked tokens,
// so the weights and the dev loss end as one process's.
TEST(PretrainCli, TwoRanksEqualOneProcessAtTheSameGlobalBatch) {
  const Fixture f = make_fixture();
  nlohmann::json config = read_json_file(f.model / "config.json");
  config["hidden_dropout_prob"] = 0.0;
  config["attention_probs_dropout_prob"] = 0.0;
  write_file_atomic(f.model / "config.json", config.dump(2));
  const fs::path one = f.root / "one", two = f.root / "two";
  const std::vector<std::string> extra = {"--epochs", "1", "--batch-size", "7"};
  const auto r1 = run_stilts(pretrain_args(f, one, extra));
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  const auto r2 = run_stilts(testing::launched(2, pretrain_args(f, two, extra)));
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  const double diff = testing::max_weight_diff(one, two);
  std::cout << "masked LM, 2 ranks vs 1 process: max abs weight diff " << diff << " (tolerance 1e-5)\n";
  EXPECT_LT(diff, 1e-5);
  const auto m1 = read_json_file(one / "metrics.json"), m2 = read_json_file(two / "metrics.json");
  EXPECT_EQ(m2.at("steps"), m1.at("steps"));
  EXPECT_NEAR(m2.at("final").at("dev_loss").get<double>(), m1.at("final").at("dev_loss").get<double>(), 1e-5);
  EXPECT_NEAR(m2.at("final").at("train_loss").get<double>(), m1.at("final").at("train_loss").get<double>(), 1e-5);
}

}  // namespace
}  // namespace stilts
