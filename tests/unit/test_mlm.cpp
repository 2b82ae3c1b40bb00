// Masked-LM models and training: the head against the same equations written out with torch ops,
// the encoder against transformers' outputs (hf-golden), HF-layout save/load (tied weights, encoder-only
// and from-scratch starts), masking statistics and invariants, the corpus reader's errors, a learnable
// corpus whose dev perplexity falls by a large factor, bf16, XLM-R with a SentencePiece tokenizer, and
// pretrain -> fine-tune.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cmath>
#include <random>
#include <sstream>

#include "common/error.h"
#include "common/files.h"
#include "io/safetensors.h"
#include "models/inputs_json.h"
#include "models/mlm.h"
#include "models/pretrained.h"
#include "support/fixtures.h"
#include "text/auto.h"
#include "train/checkpoint.h"
#include "train/mlm.h"
#include "train/trainer.h"

namespace stilts {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::vector<std::string> kWords = {"red", "blue", "green", "cat", "dog", "bird", "runs", "sits",
                                         "big", "small", "old", "new", "yes", "no", "and", "the"};
const std::vector<std::string> kSpecials = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};

nlohmann::json tiny_config(const std::string& type, int64_t vocab) {
  nlohmann::json c = {{"model_type", type},          {"vocab_size", vocab},
                      {"hidden_size", 32},           {"num_hidden_layers", 2},
                      {"num_attention_heads", 2},    {"intermediate_size", 64},
                      {"max_position_embeddings", 66}, {"type_vocab_size", type == "bert" ? 2 : 1},
                      {"pad_token_id", type == "bert" ? 0 : 1}, {"layer_norm_eps", 1e-12}};
  return c;
}

// config.json + vocab.txt, no weights: a from-scratch BERT.
fs::path make_scratch_bert(const fs::path& dir) {
  fs::create_directories(dir);
  std::string vocab;
  for (const auto& v : kSpecials) vocab += v + "\n";
  for (const auto& w : kWords) vocab += w + "\n";
  write_file_atomic(dir / "vocab.txt", vocab);
  write_file_atomic(dir / "config.json", tiny_config("bert", 21).dump(2));
  return dir;
}

// Perturbs every parameter so no LayerNorm is identity and no bias zero (a head bug cannot hide).
void perturb(torch::nn::Module& m, uint64_t seed) {
  torch::manual_seed(seed);
  torch::NoGradGuard no_grad;
  for (auto& p : m.parameters()) p.add_(torch::randn_like(p) * 0.1);
}

// LayerNorm(act(x W^T + b)) E^T + bias, written out.
torch::Tensor reference_head(const torch::Tensor& h, const std::map<std::string, torch::Tensor>& w,
                             const std::string& prefix, const std::string& ln, const std::string& act, double eps,
                             const torch::Tensor& embeddings) {
  auto x = torch::matmul(h, w.at(prefix + "dense.weight").t()) + w.at(prefix + "dense.bias");
  if (act == "gelu") x = 0.5 * x * (1.0 + torch::erf(x / std::sqrt(2.0)));
  if (act == "relu") x = torch::clamp_min(x, 0.0);
  const auto mean = x.mean(-1, /*keepdim=*/true);
  const auto var = (x - mean).pow(2).mean(-1, /*keepdim=*/true);
  x = (x - mean) / torch::sqrt(var + eps) * w.at(prefix + ln + ".weight") + w.at(prefix + ln + ".bias");
  const std::string bias = prefix == "lm_head." ? "lm_head.bias" : "cls.predictions.bias";
  return torch::matmul(x, embeddings.t()) + w.at(bias);
}

std::map<std::string, torch::Tensor> params_of(const torch::nn::Module& m) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : m.named_parameters()) out[p.key()] = p.value().detach().clone();
  return out;
}

// ---- the head's equations ----

TEST(MaskedLMHead, BertUsesHiddenActRobertaExactGelu) {
  struct Case {
    std::string type, act, prefix, ln, expected_act;
  };
  // RobertaLMHead applies gelu whatever hidden_act is; BERT's transform uses hidden_act.
  for (const Case& c : {Case{"bert", "relu", "cls.predictions.transform.", "LayerNorm", "relu"},
                        Case{"bert", "gelu", "cls.predictions.transform.", "LayerNorm", "gelu"},
                        Case{"roberta", "relu", "lm_head.", "layer_norm", "gelu"},
                        Case{"xlm-roberta", "gelu", "lm_head.", "layer_norm", "gelu"}}) {
    SCOPED_TRACE(c.type + "/" + c.act);
    auto config = tiny_config(c.type, 40);
    config["hidden_act"] = c.act;
    config["layer_norm_eps"] = 1e-5;
    torch::manual_seed(1);
    models::MaskedLMModel model(config, "test");
    perturb(model, 2);
    model.eval();
    models::Inputs in;
    in.input_ids = torch::tensor({{2, 5, 6, 7, 3}, {2, 8, 9, 3, c.type == "bert" ? 0 : 1}}, torch::kLong);
    in.attention_mask = torch::tensor({{1, 1, 1, 1, 1}, {1, 1, 1, 1, 0}}, torch::kLong);
    torch::NoGradGuard no_grad;
    const auto out = model.forward(in);
    ASSERT_EQ(out.logits.sizes(), (std::vector<int64_t>{2, 5, 40}));
    const auto w = params_of(model);
    const std::string base = model.base_model_prefix();
    const auto expected = reference_head(out.last_hidden_state, w, c.prefix, c.ln, c.expected_act, 1e-5,
                                         w.at(base + ".embeddings.word_embeddings.weight"));
    const double diff = (out.logits - expected).abs().max().item<double>();
    std::cout << c.type << " (" << c.act << "): head max abs diff " << diff << " (tolerance 1e-5)\n";
    EXPECT_LT(diff, 1e-5);

    // The loss over labelled positions only equals cross-entropy over all logits with ignore_index -100.
    const auto labels = torch::tensor({{-100, 9, -100, 30, -100}, {-100, -100, 11, -100, -100}}, torch::kLong);
    int64_t count = 0;
    const double loss = model.masked_lm_loss(in, labels, &count).item<double>();
    const double full = torch::nn::functional::cross_entropy(
                            out.logits.reshape({-1, 40}), labels.reshape({-1}),
                            torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100))
                            .item<double>();
    EXPECT_EQ(count, 3);
    EXPECT_NEAR(loss, full, 1e-5);
  }
}

// The encoder of a masked-LM model is transformers' encoder: the hf-golden fixtures' hidden states.
TEST(MaskedLMHead, EncoderMatchesTransformersOnGoldenCheckpoints) {
  for (const char* name : {"bert", "roberta", "xlm-roberta"}) {
    SCOPED_TRACE(name);
    const fs::path dir = testing::test_data_dir() / "hf-golden" / name;
    torch::manual_seed(0);
    const auto loaded = models::load_masked_lm(dir);
    EXPECT_EQ(loaded.origin, "encoder");  // a classification checkpoint: new LM head
    const auto expected = io::load_safetensors(dir / "expected.safetensors");
    const auto inputs = models::read_inputs_json(dir / "inputs.json");
    torch::NoGradGuard no_grad;
    const auto out = loaded.model->forward(inputs);
    const auto mask = inputs.attention_mask.unsqueeze(-1).to(torch::kFloat);
    const double diff = ((out.last_hidden_state - expected.at("last_hidden_state")) * mask).abs().max().item<double>();
    std::cout << name << ": last_hidden_state max abs diff " << diff << " (tolerance 1e-5)\n";
    EXPECT_LT(diff, 1e-5);
    EXPECT_THAT(loaded.ignored, ::testing::Contains(::testing::StartsWith("classifier.")));
    EXPECT_THAT(loaded.initialized, ::testing::UnorderedElementsAreArray(loaded.model->lm_head_parameter_names()));
    EXPECT_THAT(loaded.describe(), HasSubstr("NEW, freshly initialised LM head"));
  }
}

// ---- HF layout ----

TEST(MaskedLMLoad, SavesWithoutTiedCopiesAndLoadsStrictly) {
  const auto root = testing::make_temp_dir();
  torch::manual_seed(3);
  models::MaskedLMModel model(tiny_config("bert", 21), "test");
  perturb(model, 4);
  models::save_pretrained(model, root / "m");
  const auto saved = io::load_safetensors(root / "m" / "model.safetensors");
  EXPECT_TRUE(saved.count("cls.predictions.bias"));
  EXPECT_TRUE(saved.count("cls.predictions.transform.dense.weight"));
  EXPECT_TRUE(saved.count("cls.predictions.transform.LayerNorm.weight"));
  EXPECT_FALSE(saved.count("cls.predictions.decoder.weight"));  // tied: transformers leaves it out too
  EXPECT_FALSE(saved.count("bert.pooler.dense.weight"));
  EXPECT_EQ(read_json_file(root / "m" / "config.json").at("architectures")[0], "BertForMaskedLM");

  auto check_same = [&](const models::MaskedLMModel& other) {
    const auto a = params_of(model), b = params_of(other);
    ASSERT_EQ(a.size(), b.size());
    for (const auto& [n, t] : a) EXPECT_TRUE(torch::equal(t, b.at(n))) << n;
  };
  torch::manual_seed(99);
  auto back = models::load_masked_lm(root / "m");
  EXPECT_EQ(back.origin, "checkpoint");
  EXPECT_TRUE(back.initialized.empty());
  check_same(*back.model);

  // A checkpoint as older transformers (or torch.save) writes it: the tied copies and a pooler are there.
  auto with_extras = saved;
  with_extras["cls.predictions.decoder.weight"] = saved.at("bert.embeddings.word_embeddings.weight");
  with_extras["cls.predictions.decoder.bias"] = saved.at("cls.predictions.bias");
  with_extras["bert.pooler.dense.weight"] = torch::zeros({32, 32});
  with_extras["cls.seq_relationship.weight"] = torch::zeros({2, 32});
  std::vector<std::pair<std::string, at::Tensor>> list(with_extras.begin(), with_extras.end());
  fs::create_directories(root / "extras");
  io::save_safetensors(root / "extras" / "model.safetensors", list);
  write_file_atomic(root / "extras" / "config.json", read_file(root / "m" / "config.json"));
  auto extras = models::load_masked_lm(root / "extras");
  EXPECT_EQ(extras.origin, "checkpoint");
  check_same(*extras.model);
  EXPECT_THAT(extras.ignored, ::testing::UnorderedElementsAre("bert.pooler.dense.weight", "cls.seq_relationship.weight"));

  // Strict: a missing or unknown tensor of an MLM checkpoint is an error naming the file and tensor.
  auto missing = saved;
  missing.erase("cls.predictions.transform.dense.bias");
  std::vector<std::pair<std::string, at::Tensor>> missing_list(missing.begin(), missing.end());
  io::save_safetensors(root / "extras" / "model.safetensors", missing_list);
  try {
    models::load_masked_lm(root / "extras");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("cls.predictions.transform.dense.bias"));
    EXPECT_THAT(e.what(), HasSubstr("model.safetensors"));
  }
  auto unknown = saved;
  unknown["cls.predictions.extra"] = torch::zeros({3});
  std::vector<std::pair<std::string, at::Tensor>> unknown_list(unknown.begin(), unknown.end());
  io::save_safetensors(root / "extras" / "model.safetensors", unknown_list);
  EXPECT_THROW(models::load_masked_lm(root / "extras"), InputError);

  // init = pretrained without weights; an unsupported family.
  make_scratch_bert(root / "scratch");
  EXPECT_THROW(models::load_masked_lm(root / "scratch", models::MaskedLMInit::kPretrained), InputError);
  auto xlnet = tiny_config("bert", 21);
  xlnet["model_type"] = "xlnet";
  EXPECT_THROW(models::MaskedLMModel(xlnet, "x.json"), InputError);
}

TEST(MaskedLMLoad, XlmRobertaLayoutRoundTrips) {
  const auto root = testing::make_temp_dir();
  torch::manual_seed(3);
  models::MaskedLMModel model(tiny_config("xlm-roberta", 30), "test");
  perturb(model, 4);
  models::save_pretrained(model, root / "m");
  const auto saved = io::load_safetensors(root / "m" / "model.safetensors");
  for (const char* name : {"lm_head.bias", "lm_head.dense.weight", "lm_head.layer_norm.weight",
                           "roberta.embeddings.word_embeddings.weight"}) {
    EXPECT_TRUE(saved.count(name)) << name;
  }
  EXPECT_FALSE(saved.count("lm_head.decoder.weight"));
  EXPECT_FALSE(saved.count("lm_head.decoder.bias"));
  EXPECT_EQ(read_json_file(root / "m" / "config.json").at("architectures")[0], "XLMRobertaForMaskedLM");
  const auto back = models::load_masked_lm(root / "m");
  EXPECT_EQ(back.origin, "checkpoint");
  for (const auto& [n, t] : params_of(model)) EXPECT_TRUE(torch::equal(t, params_of(*back.model).at(n))) << n;
  // Stilts' fine-tuning reads it as an encoder with a new classification head.
  models::LoadOptions options;
  options.mode = models::LoadMode::kEncoderOnly;
  options.head = models::HeadPolicy::kWith;
  options.num_labels = 3;
  const auto classifier = models::load_pretrained(root / "m", options);
  EXPECT_EQ(classifier.model->num_labels(), 3);
  EXPECT_THAT(classifier.report.ignored, ::testing::Contains("lm_head.bias"));
  EXPECT_TRUE(torch::equal(classifier.model->named_parameters()["roberta.embeddings.word_embeddings.weight"],
                           saved.at("roberta.embeddings.word_embeddings.weight")));
}

TEST(MaskedLMLoad, FromScratchIsAFunctionOfTheSeed) {
  const auto dir = make_scratch_bert(testing::make_temp_dir() / "m");
  torch::manual_seed(5);
  const auto a = models::load_masked_lm(dir);
  torch::manual_seed(5);
  const auto b = models::load_masked_lm(dir);
  torch::manual_seed(6);
  const auto c = models::load_masked_lm(dir);
  EXPECT_EQ(a.origin, "scratch");
  const auto pa = params_of(*a.model), pb = params_of(*b.model), pc = params_of(*c.model);
  const std::string e = "bert.embeddings.word_embeddings.weight";
  EXPECT_TRUE(torch::equal(pa.at(e), pb.at(e)));
  EXPECT_FALSE(torch::equal(pa.at(e), pc.at(e)));
  EXPECT_EQ(pa.at(e)[0].abs().sum().item<double>(), 0.0);  // padding row zero, as transformers initialises
  EXPECT_NEAR(pa.at(e).std().item<double>(), 0.02, 0.004);  // initializer_range
}

// ---- masking ----

train::MaskingSpec synthetic_spec(int64_t vocab, double p) {
  train::MaskingSpec spec;
  spec.mlm_probability = p;
  spec.mask_token_id = 4;
  spec.is_special.assign(static_cast<size_t>(vocab), false);
  for (int i = 0; i < 5; ++i) spec.is_special[static_cast<size_t>(i)] = true;
  for (int64_t i = 5; i < vocab; ++i) spec.random_tokens.push_back(static_cast<int32_t>(i));
  return spec;
}

TEST(Masking, RatesAndInvariantsOnALargeSample) {
  const auto spec = synthetic_spec(1000, 0.15);
  std::mt19937 rng(1);
  int64_t candidates = 0, selected = 0, masked = 0, random = 0, kept = 0, specials_touched = 0;
  for (uint64_t example = 0; example < 4000; ++example) {
    std::vector<int32_t> ids = {2};  // [CLS]
    const int n = 10 + static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) ids.push_back(static_cast<int32_t>(i % 17 == 0 ? 1 : 5 + rng() % 995));  // some [UNK]
    ids.push_back(3);  // [SEP]
    const auto m = train::mask_example(ids, spec, /*seed=*/7, /*epoch=*/0, example);
    ASSERT_EQ(m.input_ids.size(), ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      if (spec.is_special[static_cast<size_t>(ids[i])]) {
        specials_touched += m.labels[i] != -100 || m.input_ids[i] != ids[i];
        continue;
      }
      ++candidates;
      if (m.labels[i] == -100) {
        EXPECT_EQ(m.input_ids[i], ids[i]);
        continue;
      }
      ++selected;
      EXPECT_EQ(m.labels[i], ids[i]);
      if (m.input_ids[i] == 4) {
        ++masked;
      } else if (m.input_ids[i] != ids[i]) {
        ++random;
        EXPECT_FALSE(spec.is_special[static_cast<size_t>(m.input_ids[i])]);
      } else {
        ++kept;  // includes the 1-in-995 random draw of the same token
      }
    }
  }
  const double rate = static_cast<double>(selected) / static_cast<double>(candidates);
  const double fm = static_cast<double>(masked) / static_cast<double>(selected);
  const double fr = static_cast<double>(random) / static_cast<double>(selected);
  const double fk = static_cast<double>(kept) / static_cast<double>(selected);
  std::cout << candidates << " candidate tokens: selected " << rate << " (0.15), of those mask " << fm << " (0.8), random "
            << fr << " (0.1), kept " << fk << " (0.1)\n";
  EXPECT_EQ(specials_touched, 0);
  EXPECT_NEAR(rate, 0.15, 0.004);  // ~100k candidates: sd 0.0011
  EXPECT_NEAR(fm, 0.8, 0.01);      // ~15k selected: sd 0.0033
  EXPECT_NEAR(fr, 0.1, 0.008);
  EXPECT_NEAR(fk, 0.1, 0.008);
}

TEST(Masking, APureFunctionOfSeedEpochAndExample) {
  const auto spec = synthetic_spec(100, 0.3);
  std::vector<int32_t> ids = {2};
  for (int i = 0; i < 200; ++i) ids.push_back(5 + i % 95);
  ids.push_back(3);
  const auto a = train::mask_example(ids, spec, 1, 0, 5);
  EXPECT_EQ(a.labels, train::mask_example(ids, spec, 1, 0, 5).labels);
  EXPECT_EQ(a.input_ids, train::mask_example(ids, spec, 1, 0, 5).input_ids);
  EXPECT_NE(a.labels, train::mask_example(ids, spec, 2, 0, 5).labels);  // seed
  EXPECT_NE(a.labels, train::mask_example(ids, spec, 1, 1, 5).labels);  // epoch: dynamic masking
  EXPECT_NE(a.labels, train::mask_example(ids, spec, 1, 0, 6).labels);  // example
  // A position's outcome does not depend on the length after it.
  std::vector<int32_t> prefix(ids.begin(), ids.begin() + 50);
  const auto p = train::mask_example(prefix, spec, 1, 0, 5);
  EXPECT_TRUE(std::equal(p.labels.begin(), p.labels.end(), a.labels.begin()));
}

TEST(Masking, SpecFromAWordPieceTokenizer) {
  const auto dir = make_scratch_bert(testing::make_temp_dir() / "m");
  const auto tokenizer = text::load_tokenizer(dir);
  const auto spec = train::masking_spec(*tokenizer, 21, 0.15, dir.string());
  EXPECT_EQ(spec.mask_token_id, 4);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(spec.is_special[static_cast<size_t>(i)]) << kSpecials[static_cast<size_t>(i)];
  EXPECT_EQ(spec.random_tokens.size(), kWords.size());
  EXPECT_EQ(spec.random_tokens.front(), 5);
  // No mask token: an error naming the directory.
  write_file_atomic(dir / "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nred\n");
  try {
    train::masking_spec(*text::load_tokenizer(dir), 21, 0.15, dir.string());
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("[MASK]"));  // the tokenizer itself insists on it
  }
}

// ---- the corpus ----

TEST(TextCorpus, LinesTruncationAndErrorsNamingFileAndLine) {
  const auto root = testing::make_temp_dir();
  const auto dir = make_scratch_bert(root / "m");
  const auto tokenizer = text::load_tokenizer(dir);
  write_file_atomic(root / "a.txt", "red cat\n\n   \r\nthe big dog runs and sits\r\nblue");
  const auto corpus = train::read_text_corpus(root / "a.txt", *tokenizer, 5);
  ASSERT_EQ(corpus.input_ids.size(), 3u);  // blank lines skipped
  EXPECT_EQ(corpus.input_ids[0], (std::vector<int32_t>{2, 5, 8, 3}));
  EXPECT_EQ(corpus.input_ids[1].size(), 5u);  // truncated to max_length
  EXPECT_EQ(corpus.input_ids[1].back(), 3);
  EXPECT_EQ(corpus.truncated, 1);

  struct Case {
    std::string name, bytes;
    std::vector<std::string> needles;
  };
  for (const Case& c : {Case{"utf8.txt", "red\nblue \xff cat\n", {"utf8.txt:2", "UTF-8"}},
                        Case{"empty.txt", "", {"empty.txt", "empty file"}},
                        Case{"blank.txt", "\n  \n\n", {"blank.txt", "only blank lines"}}}) {
    write_file_atomic(root / c.name, c.bytes);
    try {
      train::read_text_corpus(root / c.name, *tokenizer, 32);
      ADD_FAILURE() << c.name;
    } catch (const InputError& e) {
      for (const auto& n : c.needles) EXPECT_THAT(e.what(), HasSubstr(n)) << c.name;
    }
  }
  EXPECT_THROW(train::read_text_corpus(root / "missing.txt", *tokenizer, 32), InputError);
}

TEST(MlmConfig, ValidationNamesTheKey) {
  train::TrainConfig c;
  c.model = "m";
  c.train = "t";
  c.out = "o";
  c.task = "mlm";
  c.final_model = "last";
  try {
    c.validate();  // format is still tsv
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("'format'"));
  }
  c.format = "text";
  c.validate();
  EXPECT_EQ(c.resolved_metric_for_best(), "loss");
  c.mlm_probability = 1.5;
  EXPECT_THROW(c.validate(), InputError);
  c.mlm_probability = 0.2;
  c.init = "random";
  EXPECT_THROW(c.validate(), InputError);
  c.init = "scratch";
  c.final_model = "best";
  EXPECT_THROW(c.validate(), InputError);
  c.final_model = "last";
  c.apply_setting("mlm_probability=0.3");
  EXPECT_EQ(c.mlm_probability, 0.3);
  train::TrainConfig back;
  back.apply_json(c.to_json(), "resolved");
  EXPECT_EQ(back.to_json(), c.to_json());
}

// ---- training ----

// A learnable corpus: each line one word repeated, so a masked word is given by any other in its line
// (the best possible perplexity is close to 1).
std::string repetitive_corpus(int lines, unsigned seed) {
  std::mt19937 rng(seed);
  std::string text;
  for (int i = 0; i < lines; ++i) {
    const std::string& word = kWords[rng() % kWords.size()];
    const int n = 5 + static_cast<int>(rng() % 8);
    for (int k = 0; k < n; ++k) text += (k ? " " : "") + word;
    text += "\n";
  }
  return text;
}

train::TrainConfig mlm_run(const fs::path& root) {
  train::TrainConfig c;
  c.task = "mlm";
  c.format = "text";
  c.final_model = "last";
  c.model = (root / "model").string();
  c.train = (root / "train.txt").string();
  c.dev = {(root / "dev.txt").string()};
  c.out = (root / "run").string();
  c.batch_size = 32;
  c.lr = 2e-3;
  c.warmup_ratio = 0.06;
  c.max_length = 32;
  c.log_every = 1000;
  c.seed = 3;
  c.mlm_probability = 0.3;
  return c;
}

TEST(MlmTraining, DevPerplexityFallsOnALearnableCorpus) {
  const auto root = testing::make_temp_dir();
  make_scratch_bert(root / "model");
  write_file_atomic(root / "train.txt", repetitive_corpus(800, 1));
  write_file_atomic(root / "dev.txt", repetitive_corpus(100, 2));
  train::TrainConfig c = mlm_run(root);
  c.max_steps = 200;
  c.eval_every = 40;
  c.lr = 5e-3;
  std::ostringstream log;
  const auto outcome = train::run_mlm_training(c, train::TrainOptions{false, &log, 0});
  const auto& m = outcome.metrics;
  ASSERT_TRUE(m.at("finished").get<bool>());
  const auto& evals = m.at("evaluations");
  ASSERT_EQ(evals.size(), 5u);
  const double first = evals.front().at("dev_perplexity").get<double>();
  const double last = evals.back().at("dev_perplexity").get<double>();
  std::cout << log.str() << "dev perplexity " << first << " at step 40 -> " << last
            << " at step 200 (vocabulary 21; needs < 1.5 and a 4x drop)\n";
  EXPECT_LT(last, 1.5);  // an untrained model is near the vocabulary size
  EXPECT_GT(first / last, 4.0);
  EXPECT_EQ(m.at("init"), "scratch");
  EXPECT_EQ(m.at("cost").at("examples"), 200 * 32);
  EXPECT_GT(m.at("cost").at("tokens").get<int64_t>(), 200 * 32 * 7);
  EXPECT_GT(m.at("cost").at("wall_s").get<double>(), 0.0);
  EXPECT_GT(m.at("cost").at("cpu_s").get<double>(), 0.0);
  EXPECT_THAT(evals.back().at("dev").at(c.dev[0]).at("masked_tokens").get<int64_t>(), ::testing::Gt(150));
  // The run directory: HF layout with the tokenizer, resolved config, one last checkpoint.
  const fs::path out = c.out;
  EXPECT_EQ(read_json_file(out / "config.json").at("architectures")[0], "BertForMaskedLM");
  EXPECT_TRUE(fs::exists(out / "vocab.txt"));
  EXPECT_EQ(read_json_file(out / "config.resolved.json").at("task"), "mlm");
  EXPECT_EQ(train::list_checkpoints(out / "checkpoints", "last").size(), 1u);
  EXPECT_EQ(models::load_masked_lm(out).origin, "checkpoint");
  EXPECT_THROW(train::run_mlm_training(c, train::TrainOptions{false, &log, 0}), InputError);
  EXPECT_TRUE(train::run_mlm_training(c, train::TrainOptions{true, &log, 0}).already_finished);

  // Continued pretraining of the result: the MLM checkpoint loads with its head.
  train::TrainConfig again = c;
  again.model = out.string();
  again.out = (root / "continued").string();
  again.max_steps = 10;
  again.eval_every = 10;
  std::ostringstream log2;
  const auto continued = train::run_mlm_training(again, train::TrainOptions{false, &log2, 0});
  EXPECT_EQ(continued.metrics.at("init"), "checkpoint");
  // The head came along: a fresh one would start over from perplexity ~21.
  EXPECT_LT(continued.metrics.at("final").at("dev_perplexity").get<double>(), 2 * last);
}

// XLM-R end to end with a real SentencePiece tokenizer (the shared fixture's): <mask> is the last id,
// positions count from pad + 1, the output is an XLMRobertaForMaskedLM directory.
TEST(MlmTraining, XlmRobertaWithSentencePiece) {
  STILTS_REQUIRE_SHARED("tokenize/xlmr-spm");
  const auto root = testing::make_temp_dir();
  const fs::path spm = testing::fixtures_dir() / "tokenize" / "xlmr-spm";
  fs::create_directories(root / "model");
  for (const char* f : {"sentencepiece.bpe.model", "special_tokens_map.json", "tokenizer_config.json"}) {
    fs::copy_file(spm / f, root / "model" / f);
  }
  const auto tokenizer = text::load_tokenizer(root / "model");
  auto config = tiny_config("xlm-roberta", tokenizer->vocab_size());
  write_file_atomic(root / "model" / "config.json", config.dump());
  const auto spec = train::masking_spec(*tokenizer, tokenizer->vocab_size(), 0.15, "xlmr");
  EXPECT_EQ(spec.mask_token_id, *tokenizer->token_to_id("<mask>"));
  EXPECT_EQ(spec.mask_token_id, tokenizer->vocab_size() - 1);
  for (const char* special : {"<s>", "</s>", "<pad>", "<unk>", "<mask>"}) {
    EXPECT_TRUE(spec.is_special[static_cast<size_t>(*tokenizer->token_to_id(special))]) << special;
  }
  write_file_atomic(root / "train.txt", "Der Hund läuft über die Straße.\nLa casa es grande.\n\nThe cat sits.\n");
  write_file_atomic(root / "dev.txt", "Die Katze sitzt.\n");
  train::TrainConfig c = mlm_run(root);
  c.batch_size = 2;
  c.max_steps = 4;
  std::ostringstream log;
  const auto m = train::run_mlm_training(c, train::TrainOptions{false, &log, 0}).metrics;
  EXPECT_TRUE(m.at("finished").get<bool>());
  EXPECT_EQ(m.at("cost").at("examples"), 6);  // 4 steps = two epochs of 3 lines (batches of 2 and 1)
  EXPECT_EQ(read_json_file(fs::path(c.out) / "config.json").at("architectures")[0], "XLMRobertaForMaskedLM");
  EXPECT_TRUE(fs::exists(fs::path(c.out) / "sentencepiece.bpe.model"));
}

// bf16 autocast through the head (the head's LayerNorm gets a bf16 input there).
TEST(MlmTraining, Bf16Trains) {
  const auto root = testing::make_temp_dir();
  make_scratch_bert(root / "model");
  write_file_atomic(root / "train.txt", repetitive_corpus(400, 1));
  write_file_atomic(root / "dev.txt", repetitive_corpus(50, 2));
  train::TrainConfig c = mlm_run(root);
  c.precision = "bf16";
  c.threads = 1;
  c.lr = 5e-3;
  c.max_steps = 120;
  c.eval_every = 40;
  std::ostringstream log;
  const auto m = train::run_mlm_training(c, train::TrainOptions{false, &log, 0}).metrics;
  const double first = m.at("evaluations")[0].at("dev_perplexity").get<double>();
  const double last = m.at("final").at("dev_perplexity").get<double>();
  std::cout << "bf16: dev perplexity " << first << " at step 40 -> " << last << " at step 120\n";
  EXPECT_LT(last, first);
  EXPECT_LT(last, 5.0);
}

// What the demo does: pretrain, then fine-tune the result with a new classification head.
TEST(MlmTraining, PretrainedModelFineTunesWithANewHead) {
  const auto root = testing::make_temp_dir();
  make_scratch_bert(root / "model");
  write_file_atomic(root / "train.txt", repetitive_corpus(200, 1));
  write_file_atomic(root / "dev.txt", repetitive_corpus(20, 2));
  train::TrainConfig c = mlm_run(root);
  c.max_steps = 12;
  std::ostringstream log;
  train::run_mlm_training(c, train::TrainOptions{false, &log, 0});

  std::mt19937 rng(3);
  std::string tsv = "sentence\tlabel\n";
  for (int i = 0; i < 96; ++i) {
    const bool positive = rng() % 2;
    tsv += kWords[rng() % 8] + " " + (positive ? "yes" : "no") + " " + kWords[rng() % 8] + "\t" +
           (positive ? "1" : "0") + "\n";
  }
  write_file_atomic(root / "cls.tsv", tsv);
  train::TrainConfig f;
  f.model = c.out;
  f.task = "classification";
  f.text_a_column = "sentence";
  f.train = (root / "cls.tsv").string();
  f.dev = {f.train};
  f.out = (root / "finetuned").string();
  f.cache_dir = (root / "cache").string();
  f.epochs = 10;
  f.batch_size = 16;
  f.lr = 2e-3;
  f.log_every = 1000;
  const auto outcome = train::run_training(f, train::TrainOptions{false, &log, 0});
  const double accuracy = outcome.metrics.at("best").at("dev").at(f.dev[0]).at("all").at("accuracy").get<double>();
  std::cout << "fine-tuned accuracy " << accuracy << " (needs >= 0.9)\n";
  EXPECT_GE(accuracy, 0.9);
  const auto config = read_json_file(fs::path(f.out) / "config.json");
  EXPECT_EQ(config.at("architectures")[0], "BertForSequenceClassification");
  // The fine-tuned encoder started from the pretrained one: embedding rows of words the classification
  // data never holds (big small old new and the) get no gradient, only AdamW's decay (1 - lr * wd)^steps.
  const auto pre = io::load_safetensors(fs::path(c.out) / "model.safetensors");
  const auto fine = io::load_safetensors(fs::path(f.out) / "model.safetensors");
  const std::string e = "bert.embeddings.word_embeddings.weight";
  const auto unseen = torch::tensor({13, 14, 15, 16, 19, 20}, torch::kLong);
  const auto a = pre.at(e).index_select(0, unseen), b = fine.at(e).index_select(0, unseen);
  const double diff = (a - b).abs().max().item<double>();
  std::cout << "unseen words' embeddings: max abs change in fine-tuning " << diff << " (scale " << a.abs().max().item<double>()
            << ")\n";
  EXPECT_LT(diff, 1e-3 * a.abs().max().item<double>());
}

}  // namespace
}  // namespace stilts
