// The trainer's parts against their references: schedules vs transformers' formulas, AdamW's
// parameter groups and decoupled step, optimizer state round trips, configs (TOML, JSON, --set,
// validation), head transfer rules; then whole runs of a tiny BERT: a pair task to >= 95% training
// accuracy and a similarity regression to Pearson > 0.9.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cmath>
#include <random>
#include <sstream>

#include "common/error.h"
#include "common/files.h"
#include "models/pretrained.h"
#include "models/registry.h"
#include "support/fixtures.h"
#include "support/torch/tiny_models.h"
#include "train/checkpoint.h"
#include "train/config.h"
#include "train/head.h"
#include "train/optimizer.h"
#include "train/schedule.h"
#include "train/trainer.h"

namespace stilts::train {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// ---- a tiny BERT and synthetic data ----

const std::vector<std::string> kWords = {"red", "blue", "green", "cat", "dog", "bird", "runs", "sits",
                                         "big", "small", "old", "new", "yes", "no", "and", "the"};

nlohmann::json tiny_bert_config(int64_t vocab_size) {
  return {{"model_type", "bert"},       {"architectures", {"BertModel"}}, {"vocab_size", vocab_size},
          {"hidden_size", 32},          {"num_hidden_layers", 2},         {"num_attention_heads", 2},
          {"intermediate_size", 64},    {"max_position_embeddings", 64},  {"type_vocab_size", 2},
          {"pad_token_id", 0},          {"hidden_dropout_prob", 0.1},     {"attention_probs_dropout_prob", 0.1}};
}

std::string words(std::mt19937& rng, int n, size_t pool = 12) {
  std::string out;
  for (int i = 0; i < n; ++i) out += (i ? " " : "") + kWords[rng() % pool];
  return out;
}

TrainConfig tiny_run(const fs::path& root, const std::string& task, const fs::path& data) {
  TrainConfig c;
  c.model = (root / "model").string();
  c.task = task;
  c.train = data.string();
  c.dev = {data.string()};  // dev = train: the metrics are training metrics
  c.out = (root / "run").string();
  c.cache_dir = (root / "cache").string();
  c.batch_size = 16;
  c.lr = 1e-3;
  c.warmup_ratio = 0.1;
  c.max_length = 32;
  c.log_every = 1000;
  c.seed = 1;
  return c;
}

// ---- schedules ----

TEST(Schedule, LinearMatchesTransformers) {
  // get_linear_schedule_with_warmup(num_warmup_steps=10, num_training_steps=100)
  EXPECT_DOUBLE_EQ(lr_factor(LrSchedule::kLinear, 0, 10, 100), 0.0);
  EXPECT_DOUBLE_EQ(lr_factor(LrSchedule::kLinear, 5, 10, 100), 0.5);
  EXPECT_DOUBLE_EQ(lr_factor(LrSchedule::kLinear, 10, 10, 100), 1.0);
  EXPECT_DOUBLE_EQ(lr_factor(LrSchedule::kLinear, 55, 10, 100), 0.5);
  EXPECT_DOUBLE_EQ(lr_factor(LrSchedule::kLinear, 99, 10, 100), 1.0 / 90.0);
  EXPECT_DOUBLE_EQ(lr_factor(LrSchedule::kLinear, 100, 10, 100), 0.0);
  EXPECT_DOUBLE_EQ(lr_factor(LrSchedule::kLinear, 120, 10, 100), 0.0);
  EXPECT_DOUBLE_EQ(lr_factor(LrSchedule::kLinear, 0, 0, 100), 1.0);  // no warm-up: full lr at once
}

TEST(Schedule, CosineMatchesTransformers) {
  // get_cosine_schedule_with_warmup(10, 100): max(0, 0.5 * (1 + cos(pi * 2 * 0.5 * progress)))
  EXPECT_DOUBLE_EQ(lr_factor(LrSchedule::kCosine, 3, 10, 100), 0.3);
  EXPECT_DOUBLE_EQ(lr_factor(LrSchedule::kCosine, 10, 10, 100), 1.0);
  EXPECT_NEAR(lr_factor(LrSchedule::kCosine, 55, 10, 100), 0.5, 1e-15);
  EXPECT_DOUBLE_EQ(lr_factor(LrSchedule::kCosine, 32, 10, 100), 0.5 * (1 + std::cos(M_PI * 22.0 / 90.0)));
  EXPECT_NEAR(lr_factor(LrSchedule::kCosine, 100, 10, 100), 0.0, 1e-15);
  EXPECT_DOUBLE_EQ(lr_factor(LrSchedule::kConstant, 4, 8, 100), 0.5);
  EXPECT_DOUBLE_EQ(lr_factor(LrSchedule::kConstant, 80, 8, 100), 1.0);
}

TEST(Schedule, WarmupStepsAsTransformersResolvesThem) {
  EXPECT_EQ(resolve_warmup_steps(0, 0.1, 95), 10);  // ceil(9.5)
  EXPECT_EQ(resolve_warmup_steps(7, 0.1, 95), 7);   // warmup_steps wins
  EXPECT_EQ(resolve_warmup_steps(0, 0.0, 95), 0);
  EXPECT_THROW(parse_lr_schedule("polynomial"), InputError);
}

// ---- AdamW ----

std::shared_ptr<models::EncoderModel> tiny_model_with_head(int64_t labels) {
  torch::manual_seed(0);
  auto config = tiny_bert_config(21);
  config["id2label"] = nlohmann::json::object();
  for (int64_t i = 0; i < labels; ++i) config["id2label"][std::to_string(i)] = "LABEL_" + std::to_string(i);
  return models::create_model(config, "tiny", models::BuildOptions{});
}

TEST(AdamW, NoWeightDecayOnBiasesAndLayerNorm) {
  auto model = tiny_model_with_head(2);
  const ParameterSplit split = split_for_weight_decay(*model);
  for (const auto& name : split.decay) {
    EXPECT_EQ(name.find("bias"), std::string::npos) << name;
    EXPECT_EQ(name.find("LayerNorm"), std::string::npos) << name;
  }
  int layer_norm_weights = 0, biases = 0;
  for (const auto& name : split.no_decay) {
    const bool ok = name.find("bias") != std::string::npos || name.find("LayerNorm.weight") != std::string::npos;
    EXPECT_TRUE(ok) << name;
    layer_norm_weights += name.find("LayerNorm.weight") != std::string::npos;
    biases += name.find("bias") != std::string::npos;
  }
  EXPECT_EQ(layer_norm_weights, 1 + 2 * 2);  // embeddings + 2 per layer
  EXPECT_GT(biases, 10);
  EXPECT_THAT(split.decay, ::testing::Contains("bert.embeddings.word_embeddings.weight"));
  EXPECT_THAT(split.decay, ::testing::Contains("classifier.weight"));
  EXPECT_THAT(split.decay, ::testing::Contains("bert.encoder.layer.0.attention.self.query.weight"));
  EXPECT_EQ(split.decay.size() + split.no_decay.size(), model->parameters().size());

  const auto optimizer = make_adamw(*model, AdamWSettings{1e-3, 0.1});
  ASSERT_EQ(optimizer->param_groups().size(), 2u);
  auto wd = [&](size_t g) {
    return static_cast<torch::optim::AdamWOptions&>(optimizer->param_groups()[g].options()).weight_decay();
  };
  EXPECT_EQ(wd(0), 0.1);
  EXPECT_EQ(wd(1), 0.0);
  EXPECT_EQ(optimizer->param_groups()[0].params().size(), split.decay.size());
}

TEST(AdamW, DecoupledStepAsTorchOptimAdamW) {
  // One step on one weight: p1 = p0 * (1 - lr * wd) - lr * g / (|g| + eps) (bias-corrected moments of
  // one step are g and g^2).
  torch::nn::Linear linear(3, 2);
  const auto p0 = linear->weight.detach().clone();
  const double lr = 0.01, wd = 0.1;
  const auto optimizer = make_adamw(*linear, AdamWSettings{lr, wd});
  linear->weight.mutable_grad() = torch::full_like(linear->weight, 0.5);
  linear->bias.mutable_grad() = torch::full_like(linear->bias, -2.0);
  const auto b0 = linear->bias.detach().clone();
  optimizer->step();
  const auto expected_w = p0 * (1 - lr * wd) - lr * 0.5 / (0.5 + 1e-8);
  const auto expected_b = b0 + lr * 2.0 / (2.0 + 1e-8);  // the bias is not decayed
  EXPECT_TRUE(torch::allclose(linear->weight, expected_w, 1e-6, 1e-7));
  EXPECT_TRUE(torch::allclose(linear->bias, expected_b, 1e-6, 1e-7));
}

TEST(AdamW, StateRoundTripsByName) {
  auto a = tiny_model_with_head(2);
  auto b = tiny_model_with_head(2);  // same seed: same weights
  const auto opt_a = make_adamw(*a, AdamWSettings{1e-2});
  const auto opt_b = make_adamw(*b, AdamWSettings{1e-2});
  models::Inputs inputs;
  inputs.input_ids = torch::tensor({{2, 5, 6, 7, 3}, {2, 8, 9, 3, 0}}, torch::kInt64);
  inputs.attention_mask = (inputs.input_ids != 0).to(torch::kInt64);
  a->eval();
  b->eval();
  auto step = [&](models::EncoderModel& m, torch::optim::AdamW& o) {
    o.zero_grad();
    m.forward(inputs).logits.pow(2).sum().backward();
    o.step();
  };
  step(*a, *opt_a);
  step(*a, *opt_a);
  // b gets a's weights and optimizer state through the by-name tensors, then both take a step.
  {
    torch::NoGradGuard no_grad;
    for (const auto& p : a->named_parameters()) b->named_parameters()[p.key()].copy_(p.value());
  }
  std::map<std::string, at::Tensor> saved;
  for (const auto& [name, t] : adamw_state_tensors(*opt_a, *a)) saved[name] = t.clone();
  EXPECT_TRUE(saved.count("exp_avg/classifier.weight"));
  EXPECT_EQ(saved.at("step/classifier.weight").item<int64_t>(), 2);
  load_adamw_state(*opt_b, *b, saved, "saved");
  step(*a, *opt_a);
  step(*b, *opt_b);
  for (const auto& p : a->named_parameters()) {
    EXPECT_TRUE(torch::equal(p.value(), b->named_parameters()[p.key()])) << p.key();
  }
  saved.erase("exp_avg_sq/classifier.weight");
  EXPECT_THROW(load_adamw_state(*opt_b, *b, saved, "saved"), InputError);
}

// ---- configs ----

TEST(Config, TomlFileThenSettingsOverDefaults) {
  const auto dir = testing::make_temp_dir();
  write_file_atomic(dir / "run.toml",
                    "model = \"m\"\ntrain = \"data/train.tsv\"\ndev = [\"data/dev.tsv\"]\nout = \"/abs/out\"\n"
                    "task = \"regression\"\nlr = 3e-5\nepochs = 2\nheader = true\nlabel_names = []\n");
  TrainConfig c;
  load_config_file(dir / "run.toml", c);
  EXPECT_EQ(c.task, "regression");
  EXPECT_EQ(c.lr, 3e-5);
  EXPECT_EQ(c.epochs, 2);
  EXPECT_EQ(c.train, (dir / "data/train.tsv").string());  // relative to the file
  EXPECT_EQ(c.out, "/abs/out");
  ASSERT_EQ(c.dev.size(), 1u);
  EXPECT_EQ(c.batch_size, 32);  // default kept
  c.apply_setting("batch_size=8");
  c.apply_setting("lr_schedule=cosine");
  c.apply_setting("dev=[\"a.tsv\",\"b.tsv\"]");
  EXPECT_EQ(c.batch_size, 8);
  EXPECT_EQ(c.lr_schedule, "cosine");
  EXPECT_EQ(c.dev.size(), 2u);
  EXPECT_EQ(c.resolved_metric_for_best(), "pearson");
  c.validate();

  // The resolved config reads back to the same config.
  TrainConfig back;
  back.apply_json(c.to_json(), "resolved");
  EXPECT_EQ(back.to_json(), c.to_json());
}

TEST(Config, ErrorsNameTheKey) {
  const auto dir = testing::make_temp_dir();
  write_file_atomic(dir / "bad.toml", "model = \"m\"\nlearning_rate = 1e-5\n");
  TrainConfig c;
  try {
    load_config_file(dir / "bad.toml", c);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown key 'learning_rate'"));
    EXPECT_THAT(e.what(), HasSubstr("bad.toml"));
  }
  write_file_atomic(dir / "syntax.toml", "model = \"m\"\nlr = \n");
  EXPECT_THROW(load_config_file(dir / "syntax.toml", c), InputError);
  write_file_atomic(dir / "type.json", R"({"epochs": "three"})");
  try {
    load_config_file(dir / "type.json", c);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("'epochs' must be an integer"));
  }
  TrainConfig v;
  v.model = "m";
  v.train = "t";
  v.out = "o";
  v.dev = {"d"};
  v.validate();
  v.precision = "fp16";
  EXPECT_THROW(v.validate(), InputError);
  v.precision = "bf16";
  v.metric_for_best = "pearson";  // not a classification metric
  EXPECT_THROW(v.validate(), InputError);
  v.metric_for_best = "";
  v.dev.clear();  // best needs a dev set
  EXPECT_THROW(v.validate(), InputError);
  v.final_model = "last";
  v.validate();
  EXPECT_THROW(v.apply_setting("nope=1"), InputError);
}

// ---- heads ----

TEST(Head, ReuseNeedsTheSameLabelSpace) {
  LabelSpace nli{false, {"entailment", "neutral", "contradiction"}};
  LabelSpace binary{false, {"0", "1"}};
  LabelSpace generic{false, {"LABEL_0", "LABEL_1"}};
  LabelSpace score{true, {}};
  std::string why;
  EXPECT_FALSE(label_spaces_match(nli, binary, &why));
  EXPECT_THAT(why, HasSubstr("3 labels (entailment, neutral, contradiction)"));
  EXPECT_TRUE(label_spaces_match(generic, binary));  // transformers' default names match any two labels
  EXPECT_FALSE(label_spaces_match(score, binary, &why));
  EXPECT_TRUE(label_spaces_match(score, score));

  auto model = tiny_model_with_head(3);
  try {
    attach_head(*model, HeadTransfer::kReuse, binary, "qqp-model");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot reuse the head"));
    EXPECT_THAT(e.what(), HasSubstr("qqp-model"));
  }
  EXPECT_EQ(model->num_labels(), 3);
  EXPECT_EQ(attach_head(*model, HeadTransfer::kAuto, binary, "m"), HeadTransfer::kReinit);
  EXPECT_EQ(model->num_labels(), 2);
  const auto before = model->named_parameters()["classifier.weight"].clone();
  EXPECT_EQ(attach_head(*model, HeadTransfer::kAuto, binary, "m"), HeadTransfer::kReuse);
  EXPECT_TRUE(torch::equal(before, model->named_parameters()["classifier.weight"]));
  EXPECT_EQ(attach_head(*model, HeadTransfer::kReinit, binary, "m"), HeadTransfer::kReinit);
  EXPECT_FALSE(torch::equal(before, model->named_parameters()["classifier.weight"]));
}

TEST(Head, LoadForTaskOnABaseModelAttachesANewHead) {
  const auto dir = testing::make_tiny_bert(testing::make_temp_dir() / "model", {kWords});
  LabelSpace binary{false, {"0", "1"}};
  const TaskModel m = load_for_task(dir, HeadTransfer::kAuto, binary);
  EXPECT_EQ(m.applied, HeadTransfer::kReinit);
  EXPECT_EQ(m.loaded.model->num_labels(), 2);
  try {
    load_for_task(dir, HeadTransfer::kReuse, binary);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("no task head"));
  }
  const auto config = config_with_labels(m.loaded.model->config_json(), binary);
  EXPECT_EQ(config["id2label"]["1"], "1");
  EXPECT_EQ(config["problem_type"], "single_label_classification");
}

// ---- whole runs ----

// A pair task: label 1 when the second sentence contains "yes", 0 when it contains "no" instead.
TEST(Trainer, FitsASmallPairTask) {
  const auto root = testing::make_temp_dir();
  testing::make_tiny_bert(root / "model", {kWords});
  std::mt19937 rng(3);
  std::string tsv = "sentence1\tsentence2\tlabel\n";
  for (int i = 0; i < 160; ++i) {
    const bool positive = rng() % 2;
    std::string b = words(rng, 1 + rng() % 3) + (positive ? " yes " : " no ") + words(rng, 1 + rng() % 3);
    tsv += words(rng, 2 + rng() % 4) + "\t" + b + "\t" + (positive ? "1" : "0") + "\n";
  }
  write_file_atomic(root / "train.tsv", tsv);
  TrainConfig c = tiny_run(root, "pair-classification", root / "train.tsv");
  c.epochs = 8;
  std::ostringstream log;
  const TrainOutcome outcome = run_training(c, TrainOptions{false, &log, 0});
  std::cout << log.str();
  const auto& m = outcome.metrics;
  ASSERT_TRUE(m.at("finished").get<bool>());
  const double accuracy = m.at("best").at("dev").at(c.dev[0]).at("all").at("accuracy").get<double>();
  std::cout << "training accuracy " << accuracy << " after " << outcome.steps << " steps (needs >= 0.95)\n";
  EXPECT_GE(accuracy, 0.95);
  EXPECT_EQ(m.at("evaluations").size(), 8u);  // every epoch
  EXPECT_EQ(m.at("saved_model"), "best");

  // The run directory: an HF model with the dataset's labels and the tokenizer, best and last checkpoints.
  const auto config = read_json_file(fs::path(c.out) / "config.json");
  EXPECT_EQ(config["id2label"]["0"], "0");
  EXPECT_EQ(config["architectures"][0], "BertForSequenceClassification");
  EXPECT_TRUE(fs::exists(fs::path(c.out) / "vocab.txt"));
  EXPECT_TRUE(fs::exists(fs::path(c.out) / "config.resolved.json"));
  EXPECT_EQ(list_checkpoints(fs::path(c.out) / "checkpoints", "last").size(), 1u);
  EXPECT_EQ(list_checkpoints(fs::path(c.out) / "checkpoints", "best").size(), 1u);
  auto reloaded = models::load_pretrained(c.out);
  EXPECT_EQ(reloaded.model->num_labels(), 2);

  // A finished run is not overwritten; with resume it is done already.
  EXPECT_THROW(run_training(c, TrainOptions{false, &log, 0}), InputError);
  EXPECT_TRUE(run_training(c, TrainOptions{true, &log, 0}).already_finished);
}

TEST(Trainer, EarlyStoppingAfterPatienceEvaluations) {
  const auto root = testing::make_temp_dir();
  testing::make_tiny_bert(root / "model", {kWords});
  std::mt19937 rng(4);
  std::string tsv = "sentence1\tsentence2\tlabel\n";
  for (int i = 0; i < 64; ++i) tsv += words(rng, 3) + "\t" + words(rng, 3) + "\t" + std::to_string(i % 2) + "\n";
  write_file_atomic(root / "train.tsv", tsv);
  TrainConfig c = tiny_run(root, "pair-classification", root / "train.tsv");
  c.lr = 1e-12;  // nothing changes: no evaluation improves on the first
  c.max_steps = 40;
  c.eval_every = 2;
  c.early_stopping_patience = 2;
  std::ostringstream log;
  const TrainOutcome outcome = run_training(c, TrainOptions{false, &log, 0});
  EXPECT_EQ(outcome.steps, 6);
  EXPECT_TRUE(outcome.metrics.at("stopped_early").get<bool>());
  EXPECT_EQ(outcome.metrics.at("best").at("step"), 2);
  EXPECT_EQ(outcome.metrics.at("saved_step"), 2);
  EXPECT_THAT(log.str(), HasSubstr("early stopping"));
}

// Similarity: the second sentence repeats the first with k of its 4 words replaced; score 5 * (4 - k) / 4.
TEST(Trainer, RegressionHeadFitsASimilarityTask) {
  const auto root = testing::make_temp_dir();
  testing::make_tiny_bert(root / "model", {kWords});
  std::mt19937 rng(5);
  std::string tsv = "sentence1\tsentence2\tlabel\n";
  for (int i = 0; i < 160; ++i) {
    std::vector<std::string> a, b;
    for (int w = 0; w < 4; ++w) a.push_back(kWords[rng() % 12]);
    b = a;
    const int k = static_cast<int>(rng() % 5);
    for (int w = 0; w < k; ++w) b[static_cast<size_t>(w)] = kWords[12 + rng() % 4];  // words never in sentence 1
    std::shuffle(b.begin(), b.end(), rng);
    auto join = [](const std::vector<std::string>& v) {
      std::string s;
      for (const auto& x : v) s += (s.empty() ? "" : " ") + x;
      return s;
    };
    tsv += join(a) + "\t" + join(b) + "\t" + std::to_string(5.0 * (4 - k) / 4) + "\n";
  }
  write_file_atomic(root / "train.tsv", tsv);
  TrainConfig c = tiny_run(root, "regression", root / "train.tsv");
  c.text_b_column = "sentence2";
  c.epochs = 15;
  c.lr = 3e-3;
  c.eval_every = 50;
  std::ostringstream log;
  const TrainOutcome outcome = run_training(c, TrainOptions{false, &log, 0});
  std::cout << log.str();
  const auto& all = outcome.metrics.at("best").at("dev").at(c.dev[0]).at("all");
  std::cout << "training pearson " << all.at("pearson") << ", spearman " << all.at("spearman") << ", mse "
            << all.at("mse") << " (needs pearson > 0.9)\n";
  EXPECT_GT(all.at("pearson").get<double>(), 0.9);
  const auto config = read_json_file(fs::path(c.out) / "config.json");
  EXPECT_EQ(config["problem_type"], "regression");
  EXPECT_EQ(config["id2label"].size(), 1u);
}

}  // namespace
}  // namespace stilts::train
