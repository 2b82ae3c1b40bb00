// stilts train / stilts eval as processes: a run SIGKILLed twice and resumed ends bit-identical to an
// uninterrupted one; a diverging run stops with a clear message and its last checkpoint intact; bad
// data is an error naming file and row; TOML configs, bf16, and eval's per-language metrics with
// bootstrap intervals and predictions; int8 evaluation, and training refusing it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "common/files.h"
#include "io/safetensors.h"
#include "models/pretrained.h"
#include "models/registry.h"
#include "support/fixtures.h"
#include "support/run.h"
#include "support/torch/tiny_models.h"
#include "train/checkpoint.h"


namespace stilts {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::run_stilts;

const std::vector<std::string> kWords = {"red", "blue", "green", "cat", "dog", "bird", "runs", "sits",
                                         "big", "small", "old", "new", "yes", "no", "and", "the"};

// Pairs labelled 1 when the second sentence holds "yes", 0 when it holds "no"; a language column.
std::string pair_tsv(int rows, unsigned seed) {
  std::mt19937 rng(seed);
  auto words = [&](int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += (i ? " " : "") + kWords[rng() % 12];
    return out;
  };
  std::string tsv = "sentence1\tsentence2\tlabel\tlang\n";
  for (int i = 0; i < rows; ++i) {
    const bool positive = rng() % 2;
    const std::string b = words(1 + rng() % 3) + (positive ? " yes " : " no ") + words(1 + rng() % 3);
    tsv += words(2 + rng() % 4) + "\t" + b + "\t" + (positive ? "1" : "0") + "\t" + (i % 3 ? "en" : "de") + "\n";
  }
  return tsv;
}

struct Fixture {
  fs::path root, model, train, dev;
};

Fixture make_fixture() {
  Fixture f;
  f.root = testing::make_temp_dir();
  f.model = testing::make_tiny_bert(f.root / "model", {kWords});
  f.train = f.root / "train.tsv";
  f.dev = f.root / "dev.tsv";
  write_file_atomic(f.train, pair_tsv(320, 1));
  write_file_atomic(f.dev, pair_tsv(60, 2));
  return f;
}

std::vector<std::string> train_args(const Fixture& f, const fs::path& out, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"train", "--model", f.model.string(), "--task", "pair-classification",
                                   "--train", f.train.string(), "--dev", f.dev.string(), "--out", out.string(),
                                   "--epochs", "2", "--batch-size", "8", "--lr", "1e-3", "--seed", "7",
                                   "--max-length", "32", "--eval-every", "10", "--checkpoint-every", "3",
                                   "--set", "warmup_ratio=0.1", "--set", "language_column=lang",
                                   "--set", "cache_dir=" + (f.root / "cache").string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}


TEST(TrainCli, KilledTwiceAndResumedIsBitIdentical) {
  const Fixture f = make_fixture();
  const fs::path a = f.root / "uninterrupted", b = f.root / "killed";
  const auto ra = run_stilts(train_args(f, a));
  ASSERT_EQ(ra.exit_code, 0) << ra.err;
  const auto metrics_a = read_json_file(a / "metrics.json");
  ASSERT_EQ(metrics_a.at("steps"), 80);

  const fs::path log = f.root / "killed.log";
  const int64_t first = testing::kill_after_checkpoint(testing::spawn_stilts(train_args(f, b), log), b, 9);
  ASSERT_GE(first, 9) << read_file(log);
  ASSERT_FALSE(fs::exists(b / "model.safetensors"));
  const int64_t second =
      testing::kill_after_checkpoint(testing::spawn_stilts(train_args(f, b, {"--resume"}), log), b, first + 30);
  ASSERT_GT(second, first) << read_file(log);
  std::cout << "killed after checkpoints at steps " << first << " and " << second << " of 80\n";
  const auto rb = run_stilts(train_args(f, b, {"--resume"}));
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  EXPECT_THAT(rb.err, HasSubstr("resuming from"));
  EXPECT_THAT(read_file(log), HasSubstr("resuming from"));

  // Bit-identical weights, identical metrics.
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
  auto metrics_b = read_json_file(b / "metrics.json");
  // The cost counts the work the result rests on: the same examples, tokens and batch shapes through
  // the kills (times differ, so they are compared apart).
  auto cost_a = metrics_a.at("cost"), cost_b = metrics_b.at("cost");
  EXPECT_EQ(cost_a.at("examples"), 2 * 320) << cost_a.dump();  // 2 epochs of the 320 training rows
  EXPECT_GT(cost_b.at("wall_s").get<double>(), 0.0);
  EXPECT_GT(cost_b.at("cpu_s").get<double>(), 0.0);
  for (auto* c : {&cost_a, &cost_b}) {
    c->erase("wall_s");
    c->erase("cpu_s");
  }
  EXPECT_EQ(cost_a, cost_b);
  auto without_cost = [](nlohmann::json m) {
    m.erase("cost");
    return m;
  };
  EXPECT_EQ(without_cost(metrics_a), without_cost(metrics_b));
  EXPECT_EQ(metrics_b.at("evaluations").size(), 8u);
  EXPECT_TRUE(metrics_b.at("finished").get<bool>());
  EXPECT_TRUE(metrics_b.at("evaluations")[0].at("dev").at(f.dev.string()).contains("de"));  // per language
  EXPECT_EQ(read_file(a / "config.json"), read_file(b / "config.json"));
  EXPECT_EQ(train::list_checkpoints(b / "checkpoints", "last").size(), 1u);
  EXPECT_EQ(train::list_checkpoints(b / "checkpoints", "best").size(), 1u);

  // A finished run: refused without --resume, done with it.
  const auto again = run_stilts(train_args(f, b));
  EXPECT_EQ(again.exit_code, 1) << again.err;
  EXPECT_THAT(again.err, HasSubstr("finished run"));
  const auto done = run_stilts(train_args(f, b, {"--resume"}));
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_THAT(done.err, HasSubstr("nothing to do"));
  // Resuming with other hyper-parameters is refused.
  const fs::path c = f.root / "changed";
  ASSERT_EQ(testing::kill_after_checkpoint(testing::spawn_stilts(train_args(f, c), log), c, 3) >= 3, true);
  const auto changed = run_stilts(train_args(f, c, {"--resume", "--lr", "2e-3"}));
  EXPECT_EQ(changed.exit_code, 1);
  EXPECT_THAT(changed.err, HasSubstr("lr (was 0.001, now 0.002)"));
}

TEST(TrainCli, DivergenceStopsWithTheLastCheckpointIntact) {
  const Fixture f = make_fixture();
  const fs::path out = f.root / "run";
  const auto r = run_stilts(train_args(f, out, {"--lr", "1e30", "--checkpoint-every", "1", "--set", "warmup_ratio=0"}));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("training diverged"));
  EXPECT_THAT(r.err, ::testing::ContainsRegex("at step [0-9]+"));
  EXPECT_THAT(r.err, HasSubstr("last good checkpoint"));
  EXPECT_EQ(r.err.find("frame #"), std::string::npos);
  std::cout << r.err;
  const auto last = train::latest_checkpoint(out / "checkpoints", "last");
  ASSERT_TRUE(last.has_value());
  // The failing step is the one after the last checkpoint, and that checkpoint is complete and loads.
  EXPECT_THAT(r.err, HasSubstr("at step " + std::to_string(last->step + 1) + " "));
  EXPECT_EQ(read_json_file(last->dir / "trainer_state.json").at("step"), last->step);
  auto loaded = models::load_pretrained(last->dir);
  EXPECT_EQ(loaded.model->num_labels(), 2);
  EXPECT_FALSE(fs::exists(out / "model.safetensors"));
  if (fs::exists(out / "metrics.json")) {
    EXPECT_FALSE(read_json_file(out / "metrics.json").at("finished").get<bool>());
  }
}

TEST(TrainCli, BadDataNamesFileAndRow) {
  const Fixture f = make_fixture();
  struct Case {
    std::string name, train, dev;
    std::vector<std::string> needles;  // besides the file name
  };
  const std::string good = "sentence1\tsentence2\tlabel\nthe cat\tyes dog\t1\nthe dog\tno cat\t0\n";
  const std::vector<Case> cases = {
      {"missing-column", "sentence1\tlabel\nthe cat\t1\nthe dog\t0\n", good, {"sentence2"}},
      {"label-outside-set", good, "sentence1\tsentence2\tlabel\nthe cat\tyes\t1\nthe dog\tno\t7\n", {":3", "7"}},
      {"empty-file", "", good, {"empty"}},
      {"invalid-utf8", "sentence1\tsentence2\tlabel\nthe cat\tyes\t1\nthe \xff dog\tno\t0\n", good, {":3", "UTF-8"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path train = f.root / (c.name + "-train.tsv"), dev = f.root / (c.name + "-dev.tsv");
    write_file_atomic(train, c.train);
    write_file_atomic(dev, c.dev);
    const auto r = run_stilts({"train", "--model", f.model.string(), "--task", "pair-classification", "--train",
                               train.string(), "--dev", dev.string(), "--out", (f.root / ("out-" + c.name)).string()});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    const fs::path& culprit = c.name == "label-outside-set" ? dev : train;
    EXPECT_THAT(r.err, HasSubstr(culprit.filename().string()));
    for (const auto& n : c.needles) EXPECT_THAT(r.err, HasSubstr(n));
    EXPECT_EQ(r.err.find("frame #"), std::string::npos) << r.err;
    std::cout << c.name << ": " << r.err;
  }
}

// Layering: the defaults, then the --config file, then the options given (the last of a repeated one),
// then each --set.
TEST(TrainCli, DefaultsThenFileThenOptionsThenSets) {
  const Fixture f = make_fixture();
  write_file_atomic(f.root / "layers.toml",
                    "model = \"model\"\ntrain = \"train.tsv\"\ndev = [\"dev.tsv\"]\nout = \"layers\"\n"
                    "task = \"pair-classification\"\nmax_steps = 30\nbatch_size = 16\nlr = 1e-3\nmax_length = 32\n"
                    "language_column = \"lang\"\ncache_dir = \"cache\"\n");
  const auto r = run_stilts({"train", "--config", (f.root / "layers.toml").string(), "--max-steps", "4", "--max-steps",
                             "3", "--batch-size", "4", "--set", "batch_size=8", "--lr-schedule", "constant"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto resolved = read_json_file(f.root / "layers" / "config.resolved.json");
  EXPECT_EQ(resolved.at("max_steps"), 3);        // the option over the file, the last repetition
  EXPECT_EQ(resolved.at("batch_size"), 8);       // --set over the option and the file
  EXPECT_EQ(resolved.at("lr"), 1e-3);            // the file over the default
  EXPECT_EQ(resolved.at("lr_schedule"), "constant");
  EXPECT_EQ(resolved.at("epochs"), 3);           // the default
  EXPECT_EQ(read_json_file(f.root / "layers" / "metrics.json").at("steps"), 3);
}

TEST(TrainCli, TomlConfigBf16ThenEvalPerLanguage) {
  const Fixture f = make_fixture();
  const fs::path out = f.root / "run";
  write_file_atomic(f.root / "run.toml",
                    "model = \"model\"\ntrain = \"train.tsv\"\ndev = [\"dev.tsv\"]\nout = \"run\"\n"
                    "task = \"pair-classification\"\nprecision = \"bf16\"\nmax_steps = 30\nbatch_size = 16\n"
                    "lr = 1e-3\nmax_length = 32\neval_every = 10\nlanguage_column = \"lang\"\n"
                    "final_model = \"last\"\ncache_dir = \"cache\"\n");
  const auto r = run_stilts({"train", "--config", (f.root / "run.toml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // bf16's default threads: OMP_NUM_THREADS when set, else every core (common/threads.h).
  const char* omp = std::getenv("OMP_NUM_THREADS");
  const std::string threads = omp != nullptr ? std::string(omp).substr(0, std::string(omp).find(','))
                                             : std::to_string(std::max(1u, std::thread::hardware_concurrency()));
  EXPECT_THAT(r.err, HasSubstr("bf16, " + threads + " thread(s)"));
  EXPECT_THAT(r.err, HasSubstr("step 30/30"));  // plain log lines: stderr is not a terminal
  const auto resolved = read_json_file(out / "config.resolved.json");
  EXPECT_EQ(resolved.at("precision"), "bf16");
  EXPECT_EQ(resolved.at("model"), f.model.string());  // relative to the config file
  const auto metrics = read_json_file(out / "metrics.json");
  EXPECT_EQ(metrics.at("saved_step"), 30);
  EXPECT_EQ(metrics.at("evaluations").size(), 3u);

  const fs::path predictions = f.root / "predictions.jsonl";
  const auto e = run_stilts({"eval", "--model", out.string(), "--data", f.dev.string(), "--language-column", "lang",
                             "--precision", "bf16", "--json", "--outputs", predictions.string()});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const auto result = nlohmann::json::parse(e.out);
  EXPECT_EQ(result.at("examples"), 60);
  for (const char* group : {"all", "en", "de"}) {
    const auto& acc = result.at("metrics").at(group).at("accuracy");
    EXPECT_LE(acc.at("lower").get<double>(), acc.at("value").get<double>()) << group;
    EXPECT_GE(acc.at("upper").get<double>(), acc.at("value").get<double>()) << group;
    EXPECT_TRUE(result.at("metrics").at(group).contains("macro_f1"));
  }
  EXPECT_EQ(result["metrics"]["en"]["examples"].get<int>() + result["metrics"]["de"]["examples"].get<int>(), 60);
  // Same model, same data: eval agrees with the run's last evaluation.
  const auto& last_eval = metrics.at("final").at("dev").at(f.dev.string());
  EXPECT_NEAR(result["metrics"]["all"]["accuracy"]["value"].get<double>(),
              last_eval.at("all").at("accuracy").get<double>(), 1e-12);
  const std::string lines = read_file(predictions);
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 60);
  const auto first = nlohmann::json::parse(lines.substr(0, lines.find('\n')));
  EXPECT_TRUE(first.contains("prediction") && first.contains("gold") && first.contains("probabilities"));
  EXPECT_EQ(first.at("probabilities").size(), 2u);

  const auto text = run_stilts({"eval", "--model", out.string(), "--data", f.dev.string()});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("accuracy"));
  std::cout << text.out;
}

// int8 is an inference precision: stilts eval runs the linear layers dynamically quantized (outputs
// near fp32's, not equal to them); stilts train refuses it, naming the setting.
TEST(TrainCli, EvalInt8IsNearFp32AndTrainingRefusesIt) {
  const Fixture f = make_fixture();
  const fs::path out = f.root / "run";
  const auto r = run_stilts(train_args(f, out, {"--epochs", "1"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::vector<nlohmann::json>> outputs;
  for (const std::string precision : {"fp32", "int8"}) {
    const fs::path file = f.root / (precision + ".jsonl");
    const auto e = run_stilts({"eval", "--model", out.string(), "--data", f.dev.string(), "--precision", precision,
                               "--json", "--outputs", file.string()});
    ASSERT_EQ(e.exit_code, 0) << e.err;
    std::istringstream lines(read_file(file));
    for (std::string line; std::getline(lines, line);) outputs[precision].push_back(nlohmann::json::parse(line));
  }
  ASSERT_EQ(outputs["int8"].size(), 60u);
  ASSERT_EQ(outputs["fp32"].size(), 60u);
  double worst = 0;
  for (size_t i = 0; i < 60; ++i) {
    for (size_t c = 0; c < 2; ++c) {
      worst = std::max(worst, std::abs(outputs["int8"][i].at("probabilities").at(c).get<double>() -
                                       outputs["fp32"][i].at("probabilities").at(c).get<double>()));
    }
  }
  std::cout << "int8 vs fp32: max abs probability difference " << worst << "\n";
  EXPECT_GT(worst, 0.0);  // the quantized linears really ran
  // 8-bit weights and activations move a logit by about 1% of its size (6e-5 in probability seen).
  EXPECT_LT(worst, 5e-3);

  const auto refused = run_stilts(train_args(f, f.root / "int8-run", {"--precision", "int8"}));
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_THAT(refused.err, HasSubstr("'precision'"));
  EXPECT_THAT(refused.err, HasSubstr("int8 (dynamic quantization) is for inference only"));
}

// `stilts eval --task auto` reads the data file once: the dataset it picks the kind from is the one it
// evaluates. The file is a FIFO that gives its bytes to the first reader only; a second read finds it
// empty ("no examples").
TEST(TrainCli, EvalTaskAutoReadsTheDataOnce) {
  const Fixture f = make_fixture();
  const fs::path out = f.root / "run";
  const auto r = run_stilts({"train", "--model", f.model.string(), "--task", "pair-classification", "--train",
                             f.train.string(), "--out", out.string(), "--max-steps", "2", "--batch-size", "8",
                             "--max-length", "32", "--set", "final_model=last"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path fifo = f.root / "dev.fifo";
  fs::remove(fifo);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string bytes = read_file(f.dev);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    bool written = false;
    while (!done) {
      // Opens for writing only while a reader has the FIFO open (no blocking when stilts never opens it).
      const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
      if (fd >= 0) {
        if (!written) {
          ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
          for (size_t at = 0; at < bytes.size();) {
            const ssize_t n = ::write(fd, bytes.data() + at, bytes.size() - at);
            if (n <= 0) break;
            at += static_cast<size_t>(n);
          }
          written = true;
        }
        ::close(fd);  // a later reader: end of file at once
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  const auto e = run_stilts({"eval", "--model", out.string(), "--data", fifo.string(), "--json"});
  done = true;
  writer.join();
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const auto result = nlohmann::json::parse(e.out);
  EXPECT_EQ(result.at("task"), "pair-classification");
  EXPECT_EQ(result.at("examples"), 60);
  // The same numbers as the regular file gives.
  const auto file = run_stilts({"eval", "--model", out.string(), "--data", f.dev.string(), "--json"});
  ASSERT_EQ(file.exit_code, 0) << file.err;
  EXPECT_EQ(nlohmann::json::parse(file.out).at("metrics"), result.at("metrics"));
}

}  // namespace
}  // namespace stilts
