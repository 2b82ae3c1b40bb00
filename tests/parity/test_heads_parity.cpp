// Parity of the token-classification, question-answering and multiple-choice heads with transformers
// (v4.30) on tests/data/hf-golden-heads (copied from ../shared/fixtures/hf-golden-heads), through the
// library and through `stilts forward`: every output within 1e-5 absolute at real positions.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "io/safetensors.h"
#include "models/inputs_json.h"
#include "models/pretrained.h"
#include "support/fixtures.h"
#include "common/files.h"
#include "support/run.h"

namespace stilts {
namespace {

namespace fs = std::filesystem;
constexpr double kTolerance = 1e-5;

// Max |a - b| where mask == 1; `mask` has a's leading dimensions ([B, T] for [B, T] or [B, T, X]).
double masked_max_diff(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& mask) {
  auto keep = mask.to(torch::kBool);
  while (keep.dim() < a.dim()) keep = keep.unsqueeze(-1);
  return (a - b).abs().masked_select(keep.expand_as(a)).max().item<double>();
}

// Compares every tensor of `expected` that `actual` should hold; `rows_mask` [rows, T] is the
// attention mask with choices flattened.
void expect_matches(const std::map<std::string, torch::Tensor>& actual,
                    const std::map<std::string, torch::Tensor>& expected, const torch::Tensor& rows_mask,
                    const std::string& what) {
  for (const auto& [name, want] : expected) {
    ASSERT_TRUE(actual.count(name)) << what << ": no " << name;
    const auto& got = actual.at(name);
    ASSERT_EQ(got.sizes(), want.sizes()) << what << ": " << name;
    // Per-token tensors ([rows, T] or [rows, T, X]) are compared at real positions; multiple-choice
    // logits [B, K] have no token axis.
    const bool per_token = got.dim() >= 2 && got.size(0) == rows_mask.size(0) && got.size(1) == rows_mask.size(1);
    const double d = per_token ? masked_max_diff(got, want, rows_mask) : (got - want).abs().max().item<double>();
    std::cout << what << ": " << name << " max abs diff " << d << " (tolerance " << kTolerance << ")\n";
    EXPECT_LE(d, kTolerance) << what << ": " << name;
  }
}

class HeadParity : public ::testing::TestWithParam<std::string> {};

TEST_P(HeadParity, LibraryMatchesTransformers) {
  const auto dir = testing::test_data_dir() / "hf-golden-heads" / GetParam();
  auto loaded = models::load_pretrained(dir);
  const auto inputs = models::read_inputs_json(dir / "inputs.json");
  const auto expected = io::load_safetensors(dir / "expected.safetensors");
  const auto config = read_json_file(dir / "config.json");
  EXPECT_EQ(loaded.model->config_json()["architectures"][0], config["architectures"][0]);
  models::validate_inputs(*loaded.model, inputs, "inputs.json");

  torch::NoGradGuard no_grad;
  const auto out = loaded.model->forward(inputs, /*output_hidden_states=*/true);
  std::map<std::string, torch::Tensor> actual = {{"last_hidden_state", out.last_hidden_state}};
  if (out.logits.defined()) actual["logits"] = out.logits;
  if (out.start_logits.defined()) actual["start_logits"] = out.start_logits;
  if (out.end_logits.defined()) actual["end_logits"] = out.end_logits;
  for (size_t i = 0; i < out.hidden_states.size(); ++i) actual["hidden_states." + std::to_string(i)] = out.hidden_states[i];
  const auto rows_mask = inputs.attention_mask.reshape({-1, inputs.attention_mask.size(-1)});
  expect_matches(actual, expected, rows_mask, GetParam());

  // logits() (the fast path training and the benchmark use) agrees with the full forward.
  const auto fast = loaded.model->logits(inputs);
  const auto full = out.logits.defined() ? out.logits : torch::stack({out.start_logits, out.end_logits}, -1);
  EXPECT_LE((fast - full).abs().max().item<double>(), kTolerance);
}

// A saved model reloads as the same head, and `stilts forward` writes what transformers computes.
TEST_P(HeadParity, ForwardCommandAndRoundTrip) {
  const auto dir = testing::test_data_dir() / "hf-golden-heads" / GetParam();
  const fs::path tmp = testing::make_temp_dir();
  {
    auto loaded = models::load_pretrained(dir);
    models::save_pretrained(*loaded.model, tmp / "saved");
  }
  fs::copy_file(dir / "inputs.json", tmp / "inputs.json");
  const auto result = testing::run_stilts({"forward", (tmp / "saved").string(), "--input", (tmp / "inputs.json").string(),
                                           "--output", (tmp / "out.safetensors").string(), "--hidden-states"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto actual = io::load_safetensors(tmp / "out.safetensors");
  const auto expected = io::load_safetensors(dir / "expected.safetensors");
  const auto inputs = models::read_inputs_json(dir / "inputs.json");
  const auto rows_mask = inputs.attention_mask.reshape({-1, inputs.attention_mask.size(-1)});
  expect_matches(actual, expected, rows_mask, GetParam() + " (stilts forward)");
  EXPECT_EQ(read_json_file(tmp / "saved" / "config.json")["architectures"], read_json_file(dir / "config.json")["architectures"]);
}

INSTANTIATE_TEST_SUITE_P(HfGoldenHeads, HeadParity,
                         ::testing::Values("bert-token", "bert-qa", "bert-mc", "xlm-roberta-token", "xlm-roberta-qa",
                                           "xlm-roberta-mc", "xlnet-token", "xlnet-qa", "xlnet-mc"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) if (c == '-') c = '_';
                           return n;
                         });

}  // namespace
}  // namespace stilts
