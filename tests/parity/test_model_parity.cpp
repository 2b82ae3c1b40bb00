// Parity with the transformers library on the hf-golden fixtures (tests/data/hf-golden, copied from
// ../shared/fixtures/hf-golden): last_hidden_state, every hidden state, pooler_output and logits
// within 1e-5 absolute at real (attention_mask == 1) positions, padded batches included.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <map>

#include "common/error.h"
#include "io/safetensors.h"
#include "models/inputs_json.h"
#include "models/pretrained.h"
#include "support/fixtures.h"

namespace stilts {
namespace {

constexpr double kTolerance = 1e-5;

// Max |a - b| over rows/positions where mask == 1 ([B, T, H] tensors, mask [B, T]).
double masked_max_diff(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& mask) {
  const auto keep = mask.to(torch::kBool).unsqueeze(-1).expand_as(a);
  return (a - b).abs().masked_select(keep).max().item<double>();
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

class ModelParity : public ::testing::TestWithParam<std::string> {};

TEST_P(ModelParity, MatchesTransformers) {
  const auto dir = testing::test_data_dir() / "hf-golden" / GetParam();
  auto loaded = models::load_pretrained(dir);
  ASSERT_TRUE(loaded.model->has_head());
  const auto inputs = models::read_inputs_json(dir / "inputs.json");
  const auto expected = io::load_safetensors(dir / "expected.safetensors");

  torch::NoGradGuard no_grad;
  const auto out = loaded.model->forward(inputs, /*output_hidden_states=*/true);

  const double d_last = masked_max_diff(out.last_hidden_state, expected.at("last_hidden_state"), inputs.attention_mask);
  std::cout << GetParam() << ": last_hidden_state max abs diff " << d_last << " (tolerance " << kTolerance << ")\n";
  EXPECT_LE(d_last, kTolerance);

  ASSERT_EQ(out.hidden_states.size() + 0, expected.size() - (expected.count("pooler_output") ? 3 : 2));
  for (size_t i = 0; i < out.hidden_states.size(); ++i) {
    const double d = masked_max_diff(out.hidden_states[i], expected.at("hidden_states." + std::to_string(i)),
                                     inputs.attention_mask);
    EXPECT_LE(d, kTolerance) << "hidden_states." << i;
  }

  const double d_logits = max_diff(out.logits, expected.at("logits"));
  std::cout << GetParam() << ": logits max abs diff " << d_logits << " (tolerance " << kTolerance << ")\n";
  EXPECT_EQ(out.logits.sizes(), expected.at("logits").sizes());
  EXPECT_LE(d_logits, kTolerance);

  if (expected.count("pooler_output")) {
    ASSERT_TRUE(out.pooler_output.defined());
    const double d_pool = max_diff(out.pooler_output, expected.at("pooler_output"));
    std::cout << GetParam() << ": pooler_output max abs diff " << d_pool << " (tolerance " << kTolerance << ")\n";
    EXPECT_LE(d_pool, kTolerance);
  }
}

// logits() (the last layer at the position the head reads, for BERT and RoBERTa/XLM-R) gives
// transformers' logits within the same tolerance, and the same gradients as the full forward.
TEST_P(ModelParity, LogitsAloneMatchTransformersAndTheFullForward) {
  const auto dir = testing::test_data_dir() / "hf-golden" / GetParam();
  auto model = models::load_pretrained(dir).model;
  const auto inputs = models::read_inputs_json(dir / "inputs.json");
  const auto expected = io::load_safetensors(dir / "expected.safetensors");
  model->eval();  // no dropout: both paths compute the same function
  {
    torch::NoGradGuard no_grad;
    const auto logits = model->logits(inputs);
    const double d = max_diff(logits, expected.at("logits"));
    std::cout << GetParam() << ": logits() max abs diff " << d << " (tolerance " << kTolerance << ")\n";
    EXPECT_EQ(logits.sizes(), expected.at("logits").sizes());
    EXPECT_LE(d, kTolerance);
  }
  auto gradients = [&](bool alone) {
    model->zero_grad();
    const auto logits = alone ? model->logits(inputs) : model->forward(inputs).logits;
    logits.pow(2).sum().backward();
    std::map<std::string, torch::Tensor> g;
    for (const auto& p : model->named_parameters()) {
      if (p.value().grad().defined()) g[p.key()] = p.value().grad().clone();
    }
    return g;
  };
  const auto full = gradients(false);
  const auto alone = gradients(true);
  ASSERT_EQ(full.size(), alone.size());
  double worst = 0;
  for (const auto& [name, g] : full) {
    const double scale = std::max(1.0, g.abs().max().item<double>());
    worst = std::max(worst, max_diff(g, alone.at(name)) / scale);
  }
  EXPECT_LE(worst, 1e-5) << "largest gradient difference, relative to the gradient's magnitude";
}

// hidden_state(inputs, k), the encoder run up to layer k alone: transformers' hidden_states.k within the
// tolerance, and bit for bit the tensor the full forward keeps; a layer outside 0..L is an error.
TEST_P(ModelParity, HiddenStateAloneMatchesTransformersAndTheFullForward) {
  const auto dir = testing::test_data_dir() / "hf-golden" / GetParam();
  auto model = models::load_pretrained(dir).model;
  const auto inputs = models::read_inputs_json(dir / "inputs.json");
  const auto expected = io::load_safetensors(dir / "expected.safetensors");
  torch::NoGradGuard no_grad;
  const auto full = model->forward(inputs, /*output_hidden_states=*/true);
  const int64_t layers = model->num_layers();
  ASSERT_EQ(full.hidden_states.size(), static_cast<size_t>(layers + 1));
  for (int64_t k = 0; k <= layers; ++k) {
    const auto alone = model->hidden_state(inputs, k);
    EXPECT_TRUE(torch::equal(alone, full.hidden_states[static_cast<size_t>(k)])) << "layer " << k;
    EXPECT_LE(masked_max_diff(alone, expected.at("hidden_states." + std::to_string(k)), inputs.attention_mask),
              kTolerance)
        << "layer " << k;
  }
  EXPECT_THROW(model->hidden_state(inputs, layers + 1), InputError);
  EXPECT_THROW(model->hidden_state(inputs, -1), InputError);
}

TEST_P(ModelParity, EachRowAloneMatchesThePaddedBatch) {
  const auto dir = testing::test_data_dir() / "hf-golden" / GetParam();
  auto model = models::load_pretrained(dir).model;
  const auto inputs = models::read_inputs_json(dir / "inputs.json");
  const auto expected = io::load_safetensors(dir / "expected.safetensors");
  torch::NoGradGuard no_grad;
  for (int64_t r = 0; r < inputs.input_ids.size(0); ++r) {
    const int64_t len = inputs.attention_mask[r].sum().item<int64_t>();
    models::Inputs one;
    one.input_ids = inputs.input_ids.slice(0, r, r + 1).slice(1, 0, len);
    one.attention_mask = inputs.attention_mask.slice(0, r, r + 1).slice(1, 0, len);
    if (inputs.token_type_ids.defined()) one.token_type_ids = inputs.token_type_ids.slice(0, r, r + 1).slice(1, 0, len);
    const auto out = model->forward(one);
    EXPECT_LE(max_diff(out.logits[0], expected.at("logits")[r]), kTolerance) << "row " << r;
    EXPECT_LE(max_diff(out.last_hidden_state[0], expected.at("last_hidden_state")[r].slice(0, 0, len)), kTolerance)
        << "row " << r;
  }
}

INSTANTIATE_TEST_SUITE_P(HfGolden, ModelParity, ::testing::Values("bert", "bert-nl3", "roberta", "xlm-roberta"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) if (c == '-') c = '_';
                           return n;
                         });

}  // namespace
}  // namespace stilts
