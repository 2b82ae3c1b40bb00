// XLNet: config.json parsing and its errors, parameter names and groups, save/reload round trips,
// head reset, and the input conventions (token types only matter as "same or different", padding
// never reaches real positions).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "common/error.h"
#include "io/hf_config.h"
#include "io/safetensors.h"
#include "models/inputs_json.h"
#include "models/pretrained.h"
#include "models/registry.h"
#include "models/xlnet.h"
#include "support/fixtures.h"

namespace stilts {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using nlohmann::json;

fs::path fixture_dir() { return testing::test_data_dir() / "hf-golden" / "xlnet"; }
json fixture_config() { return io::read_config_json(fixture_dir()); }

std::string input_error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected InputError, got: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected InputError, nothing thrown";
  return "";
}

std::string config_error(const std::string& key, const json& value) {
  json j = fixture_config();
  j[key] = value;
  return input_error_of([&] { models::XLNetConfig::from_json(j, "xlnet/config.json"); });
}

std::vector<std::string> names_of(torch::nn::Module& m) {
  std::vector<std::string> out;
  for (const auto& p : m.named_parameters(/*recurse=*/true)) out.push_back(p.key());
  return out;
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

// ---- config ----

TEST(XLNetConfig, ReadsTheFixture) {
  const auto c = models::XLNetConfig::from_json(fixture_config(), "config.json");
  EXPECT_EQ(c.common.model_type, "xlnet");
  EXPECT_EQ(c.vocab_size, 130);
  EXPECT_EQ(c.d_model, 32);
  EXPECT_EQ(c.n_layer, 2);
  EXPECT_EQ(c.n_head, 4);
  EXPECT_EQ(c.d_head, 8);
  EXPECT_EQ(c.d_inner, 64);
  EXPECT_EQ(c.attn_type, "bi");
  EXPECT_EQ(c.clamp_len, -1);
  EXPECT_FALSE(c.mem_len.has_value());  // null in the file
  EXPECT_EQ(c.summary_activation.value_or(""), "tanh");
  EXPECT_EQ(c.common.pad_token_id.value_or(-1), 5);
  EXPECT_DOUBLE_EQ(c.initializer_range, 0.2);
}

TEST(XLNetConfig, DefaultsAreTransformers) {
  const auto c = models::XLNetConfig::from_json(json{{"model_type", "xlnet"}, {"vocab_size", 32000}}, "config.json");
  EXPECT_EQ(c.d_model, 1024);
  EXPECT_EQ(c.n_layer, 24);
  EXPECT_EQ(c.d_head, 64);
  EXPECT_EQ(c.mem_len.value_or(-1), 512);
  EXPECT_EQ(c.summary_type, "last");
  EXPECT_TRUE(c.summary_use_proj);
}

TEST(XLNetConfig, JsonRoundTripKeepsNullsAndUnknownFields) {
  const json raw = fixture_config();
  const auto c = models::XLNetConfig::from_json(raw, "config.json");
  const json back = c.to_json(raw);
  EXPECT_TRUE(back.at("mem_len").is_null());
  EXPECT_TRUE(back.at("reuse_len").is_null());
  EXPECT_EQ(back.at("d_head"), 8);
  EXPECT_EQ(back.at("start_n_top"), 5);
  EXPECT_EQ(back.at("transformers_version"), raw.at("transformers_version"));
  const auto again = models::XLNetConfig::from_json(back, "config.json");
  EXPECT_EQ(again.to_json(raw), back);
}

TEST(XLNetConfig, WrongTypesAreErrorsNamingFileAndField) {
  EXPECT_THAT(config_error("d_model", "32"), HasSubstr("xlnet/config.json: field 'd_model' must be an integer"));
  EXPECT_THAT(config_error("untie_r", 1), HasSubstr("field 'untie_r' must be true or false"));
  EXPECT_THAT(config_error("dropout", "0.1"), HasSubstr("field 'dropout' must be a number"));
  EXPECT_THAT(config_error("attn_type", 3), HasSubstr("field 'attn_type' must be a string"));
  EXPECT_THAT(config_error("mem_len", 1.5), HasSubstr("field 'mem_len' must be an integer"));
}

TEST(XLNetConfig, UnsupportedSettingsAreErrors) {
  const std::string uni = config_error("attn_type", "uni");
  EXPECT_THAT(uni, HasSubstr("attn_type 'uni' is not supported"));
  EXPECT_THAT(uni, HasSubstr("supported: bi"));
  EXPECT_THAT(config_error("bi_data", true), HasSubstr("bi_data true is not supported"));
  EXPECT_THAT(config_error("summary_type", "attn"), HasSubstr("summary_type 'attn' is not supported"));
  EXPECT_THAT(config_error("d_head", 16), HasSubstr("d_head 16 must equal d_model / n_head = 8"));
  EXPECT_THAT(config_error("n_head", 5), HasSubstr("d_model 32 is not a multiple of n_head 5"));
  EXPECT_THAT(config_error("dropout", 1.0), HasSubstr("field 'dropout' must be in [0, 1)"));
  EXPECT_THAT(config_error("summary_proj_to_labels", true), HasSubstr("summary_proj_to_labels true is not supported"));
}

TEST(XLNetConfig, UnknownActivationIsAnErrorNamingTheField) {
  json j = fixture_config();
  j["ff_activation"] = "gelu_fast";
  EXPECT_THAT(input_error_of([&] { models::create_model(j, "config.json", {}); }),
              HasSubstr("ff_activation 'gelu_fast' is not supported"));
  j = fixture_config();
  j["summary_activation"] = "softmax";
  EXPECT_THAT(input_error_of([&] { models::create_model(j, "config.json", {}); }),
              HasSubstr("summary_activation 'softmax' is not supported"));
}

// ---- model structure ----

TEST(XLNetModel, ParameterNamesAreTheCheckpoints) {
  auto model = models::create_model(fixture_config(), "config.json", {});
  auto names = names_of(*model);
  std::vector<std::string> expected;
  for (const auto& [name, _] : io::load_safetensors(fixture_dir() / "model.safetensors")) expected.push_back(name);
  std::sort(names.begin(), names.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(names, expected);
}

TEST(XLNetModel, ParamGroupsAndInterface) {
  auto model = models::create_model(fixture_config(), "config.json", {});
  EXPECT_EQ(model->base_model_prefix(), "transformer");
  EXPECT_FALSE(model->has_pooler());
  EXPECT_TRUE(model->uses_token_type_ids());
  EXPECT_EQ(model->type_vocab_size(), 4);
  EXPECT_EQ(model->pad_token_id(), 5);
  EXPECT_GE(model->max_positions(), 1 << 20);
  using models::ParamGroup;
  EXPECT_EQ(model->param_group("transformer.word_embedding.weight"), ParamGroup::kEmbeddings);
  EXPECT_EQ(model->param_group("transformer.mask_emb"), ParamGroup::kEmbeddings);
  EXPECT_EQ(model->param_group("transformer.layer.1.rel_attn.r_w_bias"), ParamGroup::kEncoder);
  EXPECT_EQ(model->param_group("transformer.layer.0.ff.layer_2.weight"), ParamGroup::kEncoder);
  EXPECT_EQ(model->param_group("sequence_summary.summary.weight"), ParamGroup::kHead);
  EXPECT_EQ(model->param_group("logits_proj.bias"), ParamGroup::kHead);
}

TEST(XLNetModel, InitWeightsDrawsEveryTensor) {
  torch::manual_seed(7);
  auto a = models::create_model(fixture_config(), "config.json", {});
  torch::manual_seed(7);
  auto b = models::create_model(fixture_config(), "config.json", {});
  const auto pa = a->named_parameters(), pb = b->named_parameters();
  for (const auto& p : pa) {
    const auto& t = p.value();
    EXPECT_TRUE(torch::isfinite(t).all().item<bool>()) << p.key();
    EXPECT_TRUE(torch::equal(t, pb[p.key()])) << p.key() << " not reproducible under one seed";
    const bool ln_weight = p.key().find("layer_norm.weight") != std::string::npos;
    const bool bias = p.key().size() > 5 && p.key().compare(p.key().size() - 5, 5, ".bias") == 0;
    if (!ln_weight && !bias) {
      // normal(0, 0.2) for projections, biases of rel_attn, seg_embed, mask_emb, embeddings
      EXPECT_NEAR(t.std().item<double>(), 0.2, 0.2) << p.key();
      EXPECT_GT(t.abs().max().item<double>(), 0.0) << p.key();
    }
  }
  EXPECT_TRUE(pa["transformer.layer.0.ff.layer_norm.weight"].eq(1).all().item<bool>());
  EXPECT_TRUE(pa["logits_proj.bias"].eq(0).all().item<bool>());
}

// ---- save / load ----

TEST(XLNetModel, SaveReloadGivesIdenticalOutputs) {
  auto loaded = models::load_pretrained(fixture_dir());
  const auto inputs = models::read_inputs_json(fixture_dir() / "inputs.json");
  const auto dir = testing::make_temp_dir() / "xlnet";
  models::save_pretrained(*loaded.model, dir);

  const json config = io::read_config_json(dir);
  EXPECT_EQ(config.at("architectures"), json::array({"XLNetForSequenceClassification"}));
  EXPECT_EQ(config.at("model_type"), "xlnet");
  EXPECT_TRUE(config.at("mem_len").is_null());

  auto reloaded = models::load_pretrained(dir);
  ASSERT_TRUE(reloaded.model->has_head());
  torch::NoGradGuard no_grad;
  const auto a = loaded.model->forward(inputs, /*output_hidden_states=*/true);
  const auto b = reloaded.model->forward(inputs, /*output_hidden_states=*/true);
  EXPECT_TRUE(torch::equal(a.logits, b.logits));
  EXPECT_TRUE(torch::equal(a.last_hidden_state, b.last_hidden_state));
  ASSERT_EQ(a.hidden_states.size(), b.hidden_states.size());
  for (size_t i = 0; i < a.hidden_states.size(); ++i) EXPECT_TRUE(torch::equal(a.hidden_states[i], b.hidden_states[i]));
}

TEST(XLNetModel, BaseModelSavesWithoutPrefixAndReloads) {
  models::LoadOptions options;
  options.mode = models::LoadMode::kEncoderOnly;
  options.head = models::HeadPolicy::kWithout;
  auto base = models::load_pretrained(fixture_dir(), options);
  ASSERT_FALSE(base.model->has_head());
  const auto dir = testing::make_temp_dir() / "xlnet-base";
  models::save_pretrained(*base.model, dir);
  EXPECT_EQ(io::read_config_json(dir).at("architectures"), json::array({"XLNetModel"}));
  const auto saved = io::load_safetensors(dir / "model.safetensors");
  EXPECT_TRUE(saved.count("word_embedding.weight"));
  EXPECT_TRUE(saved.count("mask_emb"));
  EXPECT_FALSE(saved.count("logits_proj.weight"));

  auto reloaded = models::load_pretrained(dir);  // auto: no head in the checkpoint
  EXPECT_FALSE(reloaded.model->has_head());
  const auto inputs = models::read_inputs_json(fixture_dir() / "inputs.json");
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(base.model->forward(inputs).last_hidden_state,
                           reloaded.model->forward(inputs).last_hidden_state));
  EXPECT_FALSE(reloaded.model->forward(inputs).logits.defined());
}

TEST(XLNetModel, StrictLoadOfAMismatchedCheckpointNamesTheTensors) {
  auto weights = io::load_safetensors(fixture_dir() / "model.safetensors");
  weights.erase("transformer.layer.1.rel_attn.seg_embed");
  auto model = models::create_model(fixture_config(), "config.json", {});
  const std::string message =
      input_error_of([&] { models::load_weights(*model, weights, models::LoadMode::kStrict, "model.safetensors"); });
  EXPECT_THAT(message, HasSubstr("missing (1): transformer.layer.1.rel_attn.seg_embed"));
}

TEST(XLNetModel, ResetHeadKeepsTheEncoder) {
  auto loaded = models::load_pretrained(fixture_dir());
  const auto inputs = models::read_inputs_json(fixture_dir() / "inputs.json");
  torch::NoGradGuard no_grad;
  const auto before = loaded.model->forward(inputs);
  loaded.model->reset_head(3);
  const auto after = loaded.model->forward(inputs);
  EXPECT_EQ(after.logits.sizes(), (std::vector<int64_t>{3, 3}));
  EXPECT_TRUE(torch::equal(before.last_hidden_state, after.last_hidden_state));
  EXPECT_EQ(loaded.model->num_labels(), 3);
  EXPECT_EQ(loaded.model->config_json().at("id2label").size(), 3u);
  EXPECT_TRUE(loaded.model->named_parameters()["logits_proj.bias"].eq(0).all().item<bool>());
}

// ---- input conventions ----

TEST(XLNetModel, OnlyWhetherTokenTypesDifferMatters) {
  auto model = models::load_pretrained(fixture_dir()).model;
  auto inputs = models::read_inputs_json(fixture_dir() / "inputs.json");
  torch::NoGradGuard no_grad;
  const auto a = model->forward(inputs);
  auto relabelled = inputs;
  relabelled.token_type_ids = (inputs.token_type_ids + 1).remainder(4);  // a bijection of 0..3
  const auto b = model->forward(relabelled);
  EXPECT_LE(max_diff(a.logits, b.logits), 0.0);
  // Without token types transformers drops the segment term; with all types equal the term is one
  // constant per query, which softmax cancels: the two agree to rounding.
  auto no_types = inputs;
  no_types.token_type_ids = torch::Tensor();
  auto zero_types = inputs;
  zero_types.token_type_ids = torch::zeros_like(inputs.input_ids);
  const auto none = model->forward(no_types).logits;
  EXPECT_LE(max_diff(none, model->forward(zero_types).logits), 1e-5);
  // The fixture's A/B/<cls> split does change the result.
  EXPECT_GT(max_diff(none, a.logits), 1e-3);
}

TEST(XLNetModel, PaddingContentDoesNotReachRealPositions) {
  auto model = models::load_pretrained(fixture_dir()).model;
  auto inputs = models::read_inputs_json(fixture_dir() / "inputs.json");
  torch::NoGradGuard no_grad;
  const auto a = model->forward(inputs);
  auto changed = inputs;
  const auto pad = inputs.attention_mask.eq(0);
  changed.input_ids = inputs.input_ids.masked_fill(pad, 42);
  changed.token_type_ids = inputs.token_type_ids.masked_fill(pad, 0);
  const auto b = model->forward(changed);
  EXPECT_LE(max_diff(a.logits, b.logits), 1e-6);
  const auto real = inputs.attention_mask.to(torch::kBool).unsqueeze(-1).expand_as(a.last_hidden_state);
  EXPECT_LE((a.last_hidden_state - b.last_hidden_state).abs().masked_select(real).max().item<double>(), 1e-6);
}

TEST(XLNetModel, ValidateInputsAcceptsTheFourTokenTypes) {
  auto model = models::load_pretrained(fixture_dir()).model;
  auto inputs = models::read_inputs_json(fixture_dir() / "inputs.json");
  EXPECT_NO_THROW(models::validate_inputs(*model, inputs, "inputs.json"));
  inputs.token_type_ids[0][0] = 4;
  EXPECT_THAT(input_error_of([&] { models::validate_inputs(*model, inputs, "inputs.json"); }),
              HasSubstr("token_type_ids row 0 holds 4"));
}

}  // namespace
}  // namespace stilts
