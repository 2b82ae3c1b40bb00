// Analytic parameter counts and FLOPs (stilts::bench), against published figures and against counting
// the parameters of real (tiny) models built from the same configs.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "bench/params.h"
#include "common/error.h"
#include "common/files.h"
#include "models/mlm.h"
#include "models/pretrained.h"
#include "models/registry.h"
#include "support/fixtures.h"

namespace {

using stilts::bench::analytic_parameters;
using stilts::bench::forward_flops;
using stilts::models::BuildOptions;

// bert-base-uncased's config.json (architecture fields).
nlohmann::json bert_base_uncased() {
  return {{"model_type", "bert"},         {"vocab_size", 30522},          {"hidden_size", 768},
          {"num_hidden_layers", 12},      {"num_attention_heads", 12},    {"intermediate_size", 3072},
          {"max_position_embeddings", 512}, {"type_vocab_size", 2},       {"hidden_act", "gelu"},
          {"layer_norm_eps", 1e-12},      {"pad_token_id", 0}};
}

// xlm-roberta-base's config.json (architecture fields).
nlohmann::json xlm_roberta_base() {
  return {{"model_type", "xlm-roberta"}, {"vocab_size", 250002},       {"hidden_size", 768},
          {"num_hidden_layers", 12},     {"num_attention_heads", 12},  {"intermediate_size", 3072},
          {"max_position_embeddings", 514}, {"type_vocab_size", 1},    {"hidden_act", "gelu"},
          {"layer_norm_eps", 1e-5},      {"pad_token_id", 1},          {"bos_token_id", 0},
          {"eos_token_id", 2}};
}

BuildOptions with_head(bool head) {
  BuildOptions o;
  o.head = head ? stilts::models::HeadKind::kSequenceClassification : stilts::models::HeadKind::kNone;
  return o;
}

TEST(BenchParams, BertBaseMatchesPublishedCounts) {
  const auto base = analytic_parameters(bert_base_uncased(), with_head(false));
  EXPECT_EQ(base.total, 109482240);  // BertModel: 109.5M
  EXPECT_EQ(base.embeddings, 23837184);  // 23.8M
  EXPECT_EQ(base.encoder, 85054464);
  EXPECT_EQ(base.pooler, 590592);
  EXPECT_EQ(base.head, 0);
  EXPECT_EQ(base.trainable, base.total);
  const auto head = analytic_parameters(bert_base_uncased(), with_head(true));
  EXPECT_EQ(head.head, 768 * 2 + 2);  // classifier, 2 labels by default
  EXPECT_EQ(head.total, 109482240 + 1538);
}

TEST(BenchParams, XlmRobertaBaseMatchesPublishedCounts) {
  const auto base = analytic_parameters(xlm_roberta_base(), with_head(false));
  EXPECT_EQ(base.total, 278043648);  // XLMRobertaModel: 278M
  EXPECT_EQ(base.embeddings, 192398592);
  const auto head = analytic_parameters(xlm_roberta_base(), with_head(true));
  // The classification head replaces the pooler with its own dense layer and out_proj.
  EXPECT_EQ(head.pooler, 0);
  EXPECT_EQ(head.head, 768 * 768 + 768 + 768 * 2 + 2);
  EXPECT_EQ(head.total, 278043648 + 768 * 2 + 2);
}

TEST(BenchParams, BertBaseMaskedLMMatchesPublishedCount) {
  BuildOptions o;
  o.head = stilts::models::HeadKind::kMaskedLM;
  const auto mlm = analytic_parameters(bert_base_uncased(), o);
  EXPECT_EQ(mlm.total, 109514298);  // BertForMaskedLM: no pooler; transform + bias, decoder tied
  EXPECT_EQ(mlm.pooler, 0);
  EXPECT_EQ(mlm.head, 768 * 768 + 768 + 2 * 768 + 30522);
}

TEST(BenchParams, NumLabelsFromId2label) {
  auto config = bert_base_uncased();
  config["id2label"] = {{"0", "a"}, {"1", "b"}, {"2", "c"}};
  EXPECT_EQ(analytic_parameters(config, with_head(true)).head, 768 * 3 + 3);
}

class BenchParamsFamily : public ::testing::TestWithParam<std::string> {};

// Analytic == counting a real model built from the same config, for every family and every head (with
// and without the pooler asked for): the masked LM is models::MaskedLMModel, which XLNet has not.
TEST_P(BenchParamsFamily, AnalyticEqualsBuiltModel) {
  using stilts::models::HeadKind;
  const auto dir = stilts::testing::test_data_dir() / "hf-golden" / GetParam();
  const nlohmann::json config = stilts::read_json_file(dir / "config.json");
  for (const HeadKind head : {HeadKind::kNone, HeadKind::kSequenceClassification, HeadKind::kTokenClassification,
                              HeadKind::kQuestionAnswering, HeadKind::kMultipleChoice, HeadKind::kMaskedLM}) {
    for (const bool pooler : {true, false}) {
      BuildOptions o;
      o.head = head;
      o.add_pooling_layer = pooler;
      SCOPED_TRACE(GetParam() + " " + stilts::models::head_kind_name(head) + (pooler ? ", pooler" : ", no pooler"));
      std::shared_ptr<stilts::models::EncoderModel> model;
      if (head != HeadKind::kMaskedLM) {
        model = stilts::models::create_model(config, GetParam(), o);
      } else if (stilts::models::supports_masked_lm(config.at("model_type").get<std::string>())) {
        model = std::make_shared<stilts::models::MaskedLMModel>(config, GetParam());
      } else {
        EXPECT_THROW(stilts::models::MaskedLMModel(config, GetParam()), stilts::InputError);
        EXPECT_THROW(analytic_parameters(config, o, GetParam()), stilts::InputError);
        continue;
      }
      const auto counted = stilts::models::count_parameters(*model);
      const auto analytic = analytic_parameters(config, o, GetParam());
      EXPECT_EQ(analytic.total, counted.total);
      EXPECT_EQ(analytic.embeddings, counted.embeddings);
      EXPECT_EQ(analytic.encoder, counted.encoder);
      EXPECT_EQ(analytic.pooler, counted.pooler);
      EXPECT_EQ(analytic.head, counted.head);
      EXPECT_EQ(analytic.trainable, counted.trainable);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Families, BenchParamsFamily,
                         ::testing::Values("bert", "bert-nl3", "roberta", "xlm-roberta", "xlnet"));

TEST(BenchParams, UnknownModelTypeIsAnInputError) {
  nlohmann::json config = {{"model_type", "gpt2"}};
  EXPECT_THROW(analytic_parameters(config, with_head(true), "x/config.json"), stilts::InputError);
  EXPECT_THROW(forward_flops(config, 128, true, "x/config.json"), stilts::InputError);
}

TEST(BenchFlops, BertBaseAt128) {
  // Per layer: 4 T H^2 + 2 T^2 H + 2 T H I multiply-adds; 12 layers; pooler and classifier on [CLS].
  const double T = 128, H = 768, I = 3072;
  const double encoder = 2 * 12 * (4 * T * H * H + 2 * T * T * H + 2 * T * H * I);
  EXPECT_DOUBLE_EQ(forward_flops(bert_base_uncased(), 128, /*with_head=*/false), encoder);
  EXPECT_NEAR(encoder / 1e9, 22.35, 0.01);
  // With the head, the last layer as logits() computes it: K and V of every position, the rest at [CLS].
  const double last_full = 4 * T * H * H + 2 * T * T * H + 2 * T * H * I;
  const double last_cls = 2 * T * H * H + 2 * H * H + 2 * T * H + 2 * H * I;
  const double with_head = encoder - 2 * (last_full - last_cls) + 2 * (H * H + H * 2);
  EXPECT_DOUBLE_EQ(forward_flops(bert_base_uncased(), 128, /*with_head=*/true), with_head);
  EXPECT_NEAR(with_head / 1e9, 20.80, 0.01);
  EXPECT_DOUBLE_EQ(stilts::bench::training_flops(encoder), 3 * encoder);
  EXPECT_THROW(forward_flops(bert_base_uncased(), 0), stilts::InputError);
}

TEST(BenchFlops, XlnetCountsRelativeAttention) {
  const nlohmann::json config =
      stilts::read_json_file(stilts::testing::test_data_dir() / "hf-golden" / "xlnet" / "config.json");
  // d_model 32, n_head 4, d_head 8, d_inner 64, 2 layers, 2 labels.
  const double T = 10, H = 32, ND = 32, I = 64, P = 20;
  const double layer = 3 * T * H * ND + P * H * ND + T * T * ND + T * P * ND + T * 2 * ND + T * T * ND +
                       T * ND * H + 2 * T * H * I;
  EXPECT_DOUBLE_EQ(forward_flops(config, 10, /*with_head=*/false), 2 * 2 * layer);
  EXPECT_DOUBLE_EQ(forward_flops(config, 10, /*with_head=*/true), 2 * (2 * layer + H * H + H * 2));
}

TEST(BenchParams, ReportCountsDifferingTensorsAgainstABase) {
  const auto golden = stilts::testing::test_data_dir() / "hf-golden" / "bert";
  const auto tmp = stilts::testing::make_temp_dir();
  // A "fine-tuned" copy: the same weights but one encoder tensor changed.
  auto loaded = stilts::models::load_pretrained(golden);
  {
    torch::NoGradGuard no_grad;
    loaded.model->named_parameters()["bert.encoder.layer.0.output.dense.bias"].add_(1.0);
  }
  stilts::models::save_pretrained(*loaded.model, tmp / "tuned");
  const auto same = stilts::bench::parameter_report(golden, golden);
  EXPECT_EQ(same.params_differing, 0);
  const auto tuned = stilts::bench::parameter_report(tmp / "tuned", golden);
  const int64_t bias = loaded.model->named_parameters()["bert.encoder.layer.0.output.dense.bias"].numel();
  EXPECT_EQ(tuned.params_differing, bias);
  EXPECT_EQ(tuned.tensors_differing, 1);
  EXPECT_EQ(tuned.counts.total, stilts::models::count_parameters(*loaded.model).total);
  EXPECT_GT(tuned.bytes_on_disk, 0u);
  const auto no_base = stilts::bench::parameter_report(golden);
  EXPECT_EQ(no_base.params_differing, -1);
  EXPECT_TRUE(stilts::bench::to_json(no_base)["params_differing"].is_null());
  EXPECT_THROW(stilts::bench::parameter_report(tmp / "missing"), stilts::InputError);
}

TEST(BenchParams, ReportRejectsABaseOfAnotherFamily) {
  const auto data = stilts::testing::test_data_dir() / "hf-golden";
  EXPECT_THROW(stilts::bench::parameter_report(data / "bert", data / "xlnet"), stilts::InputError);
}

}  // namespace
