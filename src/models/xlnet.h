// XLNet (xlnet-base-cased, xlnet-large-cased): transformers' XLNetModel / XLNetForSequenceClassification,
// content stream only (no two-stream query attention, memory, permutation mask or target mapping).
// Relative attention with sinusoidal relative positions and relative segment encoding; no position
// table and no embedding LayerNorm. Inputs are left-padded, and the head reads the last position.
// Weights live under "transformer." (base), "sequence_summary." and "logits_proj." (head).
#pragma once

#include <torch/torch.h>

#include "io/hf_config.h"
#include "models/model.h"

namespace stilts::models {

// XLNetRelativeAttention (content stream) + its post-attention LayerNorm.
struct XLNetRelativeAttentionImpl : torch::nn::Module {
  explicit XLNetRelativeAttentionImpl(const io::XLNetConfig& config);
  // hidden [B, T, H]; pos_emb [2T, H] (relative distances T .. -T+1); seg_diff [B, T, T] bool
  // ("token types differ") or undefined (no segment term); masked [B, T, T] (1 = not attended).
  // Returns [B, T, H].
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& pos_emb, const torch::Tensor& seg_diff,
                        const torch::Tensor& masked);

  // Parameters as transformers names them: projections [H, N, D], biases [N, D], seg_embed [2, N, D].
  torch::Tensor q, k, v, o, r, r_r_bias, r_s_bias, r_w_bias, seg_embed;
  torch::nn::LayerNorm layer_norm{nullptr};
  int64_t n_head_, d_head_;
  double dropout_;
};
TORCH_MODULE(XLNetRelativeAttention);

// XLNetFeedForward: layer_1 -> activation -> layer_2, residual, layer_norm.
struct XLNetFeedForwardImpl : torch::nn::Module {
  explicit XLNetFeedForwardImpl(const io::XLNetConfig& config);
  torch::Tensor forward(const torch::Tensor& hidden);  // [B, T, H] -> [B, T, H]

  torch::nn::LayerNorm layer_norm{nullptr};
  torch::nn::Linear layer_1{nullptr};  // [H] -> [I]
  torch::nn::Linear layer_2{nullptr};  // [I] -> [H]
  std::string ff_activation_;
  double dropout_;
};
TORCH_MODULE(XLNetFeedForward);

struct XLNetLayerImpl : torch::nn::Module {
  explicit XLNetLayerImpl(const io::XLNetConfig& config);
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& pos_emb, const torch::Tensor& seg_diff,
                        const torch::Tensor& masked);

  XLNetRelativeAttention rel_attn{nullptr};
  XLNetFeedForward ff{nullptr};
};
TORCH_MODULE(XLNetLayer);

// XLNetModel: word_embedding, mask_emb (used only by two-stream pretraining; kept so checkpoints
// round-trip), layer.*.
struct XLNetCoreImpl : torch::nn::Module {
  explicit XLNetCoreImpl(const io::XLNetConfig& config);
  Outputs forward(const Inputs& inputs, bool output_hidden_states);
  // transformers' relative_positional_encoding for attn_type "bi": [2T, H] float32 sinusoids for the
  // distances T, T-1, ..., -T+1 (clamped to clamp_len when > 0).
  torch::Tensor relative_positional_encoding(int64_t T, const torch::Device& device) const;

  torch::nn::Embedding word_embedding{nullptr};
  torch::Tensor mask_emb;  // [1, 1, H]
  torch::nn::ModuleList layer{nullptr};
  int64_t d_model_, clamp_len_;
  double dropout_;
};
TORCH_MODULE(XLNetCore);

// transformers' _init_weights for XLNet modules (Linear/Embedding/LayerNorm as BERT, plus the
// relative-attention tensors and mask_emb drawn from normal(0, initializer_range)).
void init_xlnet_weights(torch::nn::Module& module, double initializer_range);

// XLNetModel with any head (BuildOptions::head), under transformers' names:
//   sequence classification  sequence_summary -> logits_proj [H] -> [C]
//   token classification     classifier [H] -> [C] on every position (no dropout, as transformers)
//   question answering       qa_outputs [H] -> 2 (XLNetForQuestionAnsweringSimple)
//   multiple choice          sequence_summary -> logits_proj [H] -> 1 per choice row
class XLNetEncoderModel : public EncoderModel {
 public:
  XLNetEncoderModel(io::XLNetConfig config, nlohmann::json raw_config, BuildOptions options);

  Outputs forward(const Inputs& inputs, bool output_hidden_states = false) override;
  std::string model_type() const override { return config_.common.model_type; }
  std::string base_model_prefix() const override { return "transformer"; }
  HeadKind head_kind() const override { return options_.head; }
  bool has_pooler() const override { return false; }
  int64_t num_labels() const override { return config_.common.num_labels(); }
  bool uses_token_type_ids() const override { return true; }
  int64_t pad_token_id() const override { return config_.common.pad_token_id.value_or(5); }
  int64_t vocab_size() const override { return config_.vocab_size; }
  // XLNet has no position table (transformers reports no limit); attention memory is the real bound.
  int64_t max_positions() const override { return kMaxPositions; }
  // Types 0 = A, 1 = B, 2 = <cls>, 3 = padding; the model only uses whether two types differ.
  int64_t type_vocab_size() const override { return 4; }
  ParamGroup param_group(const std::string& name) const override;
  nlohmann::json config_json() const override;
  void init_weights() override;
  void reset_head(int64_t num_labels) override;

  static constexpr int64_t kMaxPositions = int64_t{1} << 20;

 private:
  void build_head();
  // transformers' SequenceSummary: [B, T, H] -> [B, H]
  torch::Tensor summary(const torch::Tensor& last_hidden_state);

  io::XLNetConfig config_;
  nlohmann::json raw_config_;
  BuildOptions options_;
  XLNetCore transformer_{nullptr};
  std::shared_ptr<torch::nn::Module> sequence_summary_;  // sequence_summary.summary (when summary_use_proj)
  torch::nn::Linear summary_{nullptr};                   // [H] -> [H]
  torch::nn::Linear logits_proj_{nullptr};               // the head's final linear: [H] -> [C] | 2 | 1
};

}  // namespace stilts::models
