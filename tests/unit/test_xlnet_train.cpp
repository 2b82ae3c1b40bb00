// XLNet through the fine-tuning path: a tiny XLNet with a SentencePiece model trained by the real
// trainer, fine-tuned by run_training on pairs; its left-padded batches (XLNet pads on the left, segment
// 3 for padding) give the same outputs as the examples one by one, and the loss goes down.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <random>
#include <set>

#include "common/files.h"
#include "models/pretrained.h"
#include "pipeline/experiment_config.h"
#include "pipeline/results_store.h"
#include "pipeline/runner.h"
#include "models/registry.h"
#include "tasks/batch.h"
#include "tasks/datasets/dataset.h"
#include "tasks/features.h"
#include "tasks/kind.h"
#include "text/auto.h"
#include "text/spm_runtime.h"
#include "train/evaluate.h"
#include "train/trainer.h"
#include "support/fixtures.h"

namespace stilts {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kWords = {"red", "blue", "green", "cat", "dog", "bird", "runs", "sleeps",
                                         "eats", "big", "small", "old"};

std::string sentence(std::mt19937& rng, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += (i ? " " : "") + kWords[rng() % kWords.size()];
  return out;
}

// Pairs labelled 1 when the second sentence holds "yes", 0 when it holds "no"; lengths vary so batches pad.
std::string pair_tsv(int rows, unsigned seed) {
  std::mt19937 rng(seed);
  std::string tsv = "sentence1\tsentence2\tlabel\n";
  for (int i = 0; i < rows; ++i) {
    const bool positive = rng() % 2;
    const std::string b = sentence(rng, 1 + rng() % 4) + (positive ? " yes " : " no ") + sentence(rng, 1 + rng() % 4);
    tsv += sentence(rng, 1 + rng() % 6) + "\t" + b + "\t" + (positive ? "1" : "0") + "\n";
  }
  return tsv;
}

// A tiny XLNet (random weights) with a spiece.model trained on the task's words, ids laid out as
// XLNet's are (<unk> 0, <s> 1, </s> 2, then control symbols <cls> <sep> <pad> <mask> <eod> <eop>).
fs::path make_tiny_xlnet(const fs::path& dir) {
  std::mt19937 rng(5);
  std::string corpus;
  for (int i = 0; i < 400; ++i) corpus += sentence(rng, 3 + rng() % 6) + (i % 2 ? " yes" : " no") + "\n";
  const std::string model = text::spm_train({{"model_type", "unigram"},
                                             {"vocab_size", "60"},
                                             {"hard_vocab_limit", "false"},
                                             {"control_symbols", "<cls>,<sep>,<pad>,<mask>,<eod>,<eop>"},
                                             {"num_threads", "1"},
                                             {"minloglevel", "1"}},
                                            corpus);
  fs::create_directories(dir);
  write_file_atomic(dir / "spiece.model", model);
  write_file_atomic(dir / "tokenizer_config.json", R"({"tokenizer_class": "XLNetTokenizer", "model_max_length": 64})");
  const auto tokenizer = text::load_tokenizer(dir);
  nlohmann::json config = read_json_file(testing::repo_dir() / "tests/data/hf-golden/xlnet/config.json");
  config.erase("architectures");
  config["vocab_size"] = tokenizer->vocab_size();
  config["pad_token_id"] = tokenizer->token_to_id("<pad>").value();
  torch::manual_seed(0);
  models::BuildOptions build;
  build.head = models::HeadKind::kNone;
  auto xlnet = models::create_model(config, "tiny xlnet", build);
  models::save_pretrained(*xlnet, dir);
  return dir;
}

TEST(XLNetTraining, LeftPaddedBatchesMatchSingleExamplesAndTheLossGoesDown) {
  const fs::path root = testing::make_temp_dir();
  const fs::path model_dir = make_tiny_xlnet(root / "model");
  write_file_atomic(root / "train.tsv", pair_tsv(192, 1));
  write_file_atomic(root / "dev.tsv", pair_tsv(48, 2));

  train::TrainConfig c;
  c.model = model_dir.string();
  c.task = "pair-classification";
  c.format = "tsv";
  c.train = (root / "train.tsv").string();
  c.dev = {(root / "dev.tsv").string()};
  c.out = (root / "run").string();
  c.cache_dir = (root / "cache").string();
  c.epochs = 4;
  c.batch_size = 16;
  c.lr = 2e-3;
  c.max_length = 32;
  c.eval_every = 12;
  c.seed = 3;
  std::ostringstream log;
  train::TrainOptions options;
  options.log = &log;
  const train::TrainOutcome outcome = train::run_training(c, options);
  ASSERT_EQ(outcome.steps, 4 * 12) << log.str();
  const auto& evals = outcome.metrics.at("evaluations");
  ASSERT_EQ(evals.size(), 4u);
  const double first_loss = evals.front().at("train_loss").get<double>();
  const double last_loss = evals.back().at("train_loss").get<double>();
  std::cout << "train loss " << first_loss << " -> " << last_loss << ", dev accuracy "
            << evals.back().at("dev").begin()->at("all").at("accuracy") << "\n";
  EXPECT_LT(last_loss, 0.8 * first_loss) << log.str();

  // The fine-tuned model: outputs of left-padded batches equal those of each example alone.
  models::LoadOptions load;
  load.head = models::HeadPolicy::kWith;
  auto loaded = models::load_pretrained(root / "run", load);
  EXPECT_EQ(loaded.model->model_type(), "xlnet");
  const auto tokenizer = text::load_tokenizer(root / "run");
  tasks::ReadOptions read;
  read.text_a_column = "sentence1";
  read.text_b_column = "sentence2";
  read.label_column = "label";
  const tasks::Dataset dev = tasks::read_dataset(root / "dev.tsv", "tsv", read);
  const tasks::TaskKind& kind = tasks::task_kind("pair-classification");
  const tasks::Features features = kind.featurize(dev, *tokenizer, 32);
  ASSERT_TRUE(features.left_padding);
  const auto batched = train::predict(*loaded.model, kind, dev, features, *tokenizer, 16, train::Precision::kFp32, true);
  const auto single = train::predict(*loaded.model, kind, dev, features, *tokenizer, 1, train::Precision::kFp32, true);
  double max_diff = 0;
  for (size_t i = 0; i < features.size(); ++i) {
    for (size_t k = 0; k < batched.probabilities[i].size(); ++k) {
      max_diff = std::max(max_diff, static_cast<double>(std::abs(batched.probabilities[i][k] - single.probabilities[i][k])));
    }
  }
  std::cout << "max |p(batched) - p(single)| = " << max_diff << " (tolerance 1e-5)\n";
  EXPECT_LT(max_diff, 1e-5);
  // Padding is on the left with segment 3, the template's <cls> last.
  std::vector<size_t> rows(features.size());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  const tasks::Batch batch = kind.collate(features, rows, torch::kCPU);
  const auto lengths = batch.inputs.attention_mask.sum(1);
  const int64_t t = batch.inputs.input_ids.size(1);
  int64_t shortest = 0;
  for (int64_t r = 0; r < lengths.size(0); ++r) {
    if (lengths[r].item<int64_t>() < lengths[shortest].item<int64_t>()) shortest = r;
  }
  ASSERT_LT(lengths[shortest].item<int64_t>(), t);
  EXPECT_EQ(batch.inputs.attention_mask[shortest][0].item<int64_t>(), 0);
  EXPECT_EQ(batch.inputs.token_type_ids[shortest][0].item<int64_t>(), 3);
  EXPECT_EQ(batch.inputs.input_ids[shortest][t - 1].item<int64_t>(), tokenizer->token_to_id("<cls>").value());
}

// A study with an XLNet base model: the shared intermediate stage, the target evaluated in two
// languages, the arms benchmarked.
TEST(XLNetTraining, AStudyRunsWithAnXLNetBaseModel) {
  const fs::path root = testing::make_temp_dir();
  const fs::path model_dir = make_tiny_xlnet(root / "model");
  for (const std::string language : {"en", "de"}) {
    fs::create_directories(root / language);
    write_file_atomic(root / language / "train.tsv", pair_tsv(64, language == "en" ? 1 : 2));
    write_file_atomic(root / language / "dev.tsv", pair_tsv(24, language == "en" ? 3 : 4));
  }
  const nlohmann::json stage = {{"max_steps", 6}, {"batch_size", 8}, {"lr", 2e-3}, {"max_length", 32},
                                {"cache_dir", (root / "cache").string()}};
  nlohmann::json j = {
      {"experiment", {{"name", "xlnet"}, {"seeds", {1}}, {"languages", {"en", "de"}}, {"train_language", "en"}}},
      {"model", {{"path", model_dir.string()}}},
      {"tasks",
       {{"pairs",
         {{"kind", "pair-classification"},
          {"format", "tsv"},
          {"train", (root / "{lang}" / "train.tsv").string()},
          {"dev", (root / "{lang}" / "dev.tsv").string()},
          {"text_a_column", "sentence1"},
          {"text_b_column", "sentence2"},
          {"label_column", "label"}}}}},
      {"stages", {{"intermediate", stage}, {"target", stage}}},
      {"arms", {{"direct", {"target"}}, {"intermediate", {"intermediate", "target"}}}},
      {"bench", {{"batch_sizes", {1, 4}}, {"max_examples", 8}, {"min_time_s", 0.01}, {"min_repetitions", 3}}}};
  j["stages"]["intermediate"]["task"] = "pairs";
  j["stages"]["target"]["task"] = "pairs";
  j["stages"]["target"]["head"] = "reinit";
  const pipeline::ExperimentConfig config = pipeline::parse_experiment(j, "xlnet study");
  std::ostringstream log;
  pipeline::RunOptions options;
  options.out = root / "run";
  options.log = &log;
  const pipeline::RunSummary summary = pipeline::run_experiment(config, options);
  EXPECT_EQ(summary.stages, 3u) << log.str();
  const auto store = pipeline::ResultsStore::open_existing(root / "run" / "results.sqlite");
  std::set<std::string> languages;
  for (const auto& r : store->results()) {
    languages.insert(r.language);
    EXPECT_TRUE(std::isfinite(r.value)) << r.arm << " " << r.language << " " << r.metric;
  }
  EXPECT_EQ(languages, (std::set<std::string>{"en", "de"}));
  std::set<std::string> measured;
  for (const auto& e : store->efficiency()) {
    if (e.metric == "latency_ms_p50") measured.insert(e.arm);
  }
  EXPECT_EQ(measured, (std::set<std::string>{"direct", "intermediate"}));
  for (const auto& st : store->stages()) EXPECT_GT(st.flops, 0.0) << st.name;  // XLNet's analytic FLOPs
}

}  // namespace
}  // namespace stilts
