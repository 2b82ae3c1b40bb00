// XLNet parity with transformers (v4.30 XLNetForSequenceClassification) on tests/data/hf-golden/xlnet:
// last_hidden_state, hidden_states.0..2 and logits within 1e-5 absolute at real (attention_mask == 1)
// positions of a left-padded batch, and each row alone (unpadded) against the batch.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "common/error.h"
#include "io/safetensors.h"
#include "models/inputs_json.h"
#include "models/pretrained.h"
#include "support/fixtures.h"

namespace stilts {
namespace {

constexpr double kTolerance = 1e-5;

std::filesystem::path fixture_dir() { return testing::test_data_dir() / "hf-golden" / "xlnet"; }

// Max |a - b| over positions where mask == 1 ([B, T, H] tensors, mask [B, T]).
double masked_max_diff(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& mask) {
  const auto keep = mask.to(torch::kBool).unsqueeze(-1).expand_as(a);
  return (a - b).abs().masked_select(keep).max().item<double>();
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

TEST(XLNetParity, PaddedBatchMatchesTransformers) {
  auto loaded = models::load_pretrained(fixture_dir());
  ASSERT_TRUE(loaded.model->has_head());
  EXPECT_EQ(loaded.model->model_type(), "xlnet");
  const auto inputs = models::read_inputs_json(fixture_dir() / "inputs.json");
  ASSERT_TRUE(inputs.token_type_ids.defined());
  const auto expected = io::load_safetensors(fixture_dir() / "expected.safetensors");

  torch::NoGradGuard no_grad;
  const auto out = loaded.model->forward(inputs, /*output_hidden_states=*/true);

  const double d_last = masked_max_diff(out.last_hidden_state, expected.at("last_hidden_state"), inputs.attention_mask);
  std::cout << "xlnet: last_hidden_state max abs diff " << d_last << " (tolerance " << kTolerance << ")\n";
  EXPECT_LE(d_last, kTolerance);
  // Padded positions are not compared, but they follow transformers too (a padded query attends to
  // the real keys and to itself).
  std::cout << "xlnet: last_hidden_state incl. padded positions max abs diff "
            << max_diff(out.last_hidden_state, expected.at("last_hidden_state")) << " (informational)\n";

  ASSERT_EQ(out.hidden_states.size(), 3u);  // word embeddings + 2 layers
  for (size_t i = 0; i < out.hidden_states.size(); ++i) {
    const double d = masked_max_diff(out.hidden_states[i], expected.at("hidden_states." + std::to_string(i)),
                                     inputs.attention_mask);
    std::cout << "xlnet: hidden_states." << i << " max abs diff " << d << " (tolerance " << kTolerance << ")\n";
    EXPECT_LE(d, kTolerance) << "hidden_states." << i;
  }

  ASSERT_TRUE(out.logits.defined());
  EXPECT_EQ(out.logits.sizes(), expected.at("logits").sizes());
  const double d_logits = max_diff(out.logits, expected.at("logits"));
  std::cout << "xlnet: logits max abs diff " << d_logits << " (tolerance " << kTolerance << ")\n";
  EXPECT_LE(d_logits, kTolerance);
  EXPECT_FALSE(out.pooler_output.defined());
}

// hidden_state(inputs, k), the encoder run up to layer k alone: transformers' hidden_states.k within the
// tolerance and bit for bit the full forward's (the last without the final dropout, as there).
TEST(XLNetParity, HiddenStateAloneMatchesTransformersAndTheFullForward) {
  auto model = models::load_pretrained(fixture_dir()).model;
  const auto inputs = models::read_inputs_json(fixture_dir() / "inputs.json");
  const auto expected = io::load_safetensors(fixture_dir() / "expected.safetensors");
  torch::NoGradGuard no_grad;
  const auto full = model->forward(inputs, /*output_hidden_states=*/true);
  ASSERT_EQ(model->num_layers(), 2);
  for (int64_t k = 0; k <= 2; ++k) {
    const auto alone = model->hidden_state(inputs, k);
    EXPECT_TRUE(torch::equal(alone, full.hidden_states[static_cast<size_t>(k)])) << "layer " << k;
    EXPECT_LE(masked_max_diff(alone, expected.at("hidden_states." + std::to_string(k)), inputs.attention_mask),
              kTolerance)
        << "layer " << k;
  }
  EXPECT_THROW(model->hidden_state(inputs, 3), InputError);
}

TEST(XLNetParity, EachRowAloneMatchesThePaddedBatch) {
  auto model = models::load_pretrained(fixture_dir()).model;
  const auto inputs = models::read_inputs_json(fixture_dir() / "inputs.json");
  const auto expected = io::load_safetensors(fixture_dir() / "expected.safetensors");
  torch::NoGradGuard no_grad;
  const int64_t T = inputs.input_ids.size(1);
  double worst = 0;
  for (int64_t row = 0; row < inputs.input_ids.size(0); ++row) {
    const int64_t len = inputs.attention_mask[row].sum().item<int64_t>();
    const int64_t start = T - len;  // left padding: the real tokens are the last `len`
    ASSERT_EQ(inputs.attention_mask[row].slice(0, start).sum().item<int64_t>(), len) << "row " << row;
    models::Inputs one;
    one.input_ids = inputs.input_ids.slice(0, row, row + 1).slice(1, start);
    one.attention_mask = inputs.attention_mask.slice(0, row, row + 1).slice(1, start);
    one.token_type_ids = inputs.token_type_ids.slice(0, row, row + 1).slice(1, start);
    const auto out = model->forward(one);
    const double d_logits = max_diff(out.logits[0], expected.at("logits")[row]);
    const double d_last = max_diff(out.last_hidden_state[0], expected.at("last_hidden_state")[row].slice(0, start));
    worst = std::max({worst, d_logits, d_last});
    EXPECT_LE(d_logits, kTolerance) << "row " << row;
    EXPECT_LE(d_last, kTolerance) << "row " << row;
  }
  std::cout << "xlnet: rows alone vs batch, max abs diff " << worst << " (tolerance " << kTolerance << ")\n";
}

}  // namespace
}  // namespace stilts
