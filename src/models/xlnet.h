// XLNet (xlnet-base-cased, xlnet-large-cased): transformers' XLNetModel / XLNetForSequenceClassification,
// content stream only (no two-stream query attention, memory, permutation mask or target mapping).
// Relative attention with sinusoidal relative positions and relative segment encoding; no position
// table and no embedding LayerNorm. Inputs are left-padded, and the head reads the last position.
// Weights live under "transformer." (base), "sequence_summary." and "logits_proj." (head).
#pragma once

#include <torch/torch.h>

#include "io/hf_config.h"
#include "models/family.h"
#include "models/model.h"

namespace stilts::models {

// XLNet's config.json (XLNetModel / XLNetForSequenceClassification). Defaults are transformers'
// XLNetConfig. stilts runs the content stream only (no memory, no permutation mask, no target mapping), so
// mem_len, reuse_len, use_mems_*, same_length (causal attention only), untie_r (transformers'
// PyTorch model always has per-layer biases) and start/end_n_top are carried but do not change the
// forward pass.
struct XLNetConfig {
  io::CommonConfig common;
  int64_t vocab_size = 32000;
  int64_t d_model = 1024;
  int64_t n_layer = 24;
  int64_t n_head = 16;
  int64_t d_head = 64;  // always d_model / n_head; a file's d_head must agree
  int64_t d_inner = 4096;
  std::string ff_activation = "gelu";
  bool untie_r = true;
  std::string attn_type = "bi";  // only "bi" is supported ("uni" is the causal LM setting)
  double initializer_range = 0.02;
  double layer_norm_eps = 1e-12;
  double dropout = 0.1;
  std::optional<int64_t> mem_len = 512;  // null in the file is nullopt
  std::optional<int64_t> reuse_len;
  bool use_mems_eval = true;
  bool use_mems_train = false;
  bool bi_data = false;  // true (pretraining's bidirectional data pipeline) is not supported
  int64_t clamp_len = -1;  // relative distances are clamped to [-clamp_len, clamp_len] when > 0
  bool same_length = false;
  std::string summary_type = "last";  // "last" | "first" | "mean" | "cls_index" (= last: no index is passed)
  bool summary_use_proj = true;
  std::optional<std::string> summary_activation = "tanh";  // null in the file: no activation
  double summary_last_dropout = 0.1;
  std::optional<double> summary_first_dropout;  // not in XLNetConfig, but honoured by transformers if present
  int64_t start_n_top = 5;
  int64_t end_n_top = 5;

  // `source` names the file in errors.
  static XLNetConfig from_json(const nlohmann::json& j, const std::string& source);
  void validate(const std::string& source) const;
  // Merges the typed fields over `raw` (the file as read, or {}).
  nlohmann::json to_json(const nlohmann::json& raw) const;
};

// The XLNet family ("xlnet"): its descriptor for models/registry.cpp. No masked-LM model (XLNet is
// pretrained by permutation language modelling).
const Family& xlnet_family();

// XLNetRelativeAttention (content stream) + its post-attention LayerNorm.
struct XLNetRelativeAttentionImpl : torch::nn::Module {
  explicit XLNetRelativeAttentionImpl(const XLNetConfig& config);
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
  explicit XLNetFeedForwardImpl(const XLNetConfig& config);
  torch::Tensor forward(const torch::Tensor& hidden);  // [B, T, H] -> [B, T, H]

  torch::nn::LayerNorm layer_norm{nullptr};
  torch::nn::Linear layer_1{nullptr};  // [H] -> [I]
  torch::nn::Linear layer_2{nullptr};  // [I] -> [H]
  std::string ff_activation_;
  double dropout_;
};
TORCH_MODULE(XLNetFeedForward);

struct XLNetLayerImpl : torch::nn::Module {
  explicit XLNetLayerImpl(const XLNetConfig& config);
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& pos_emb, const torch::Tensor& seg_diff,
                        const torch::Tensor& masked);

  XLNetRelativeAttention rel_attn{nullptr};
  XLNetFeedForward ff{nullptr};
};
TORCH_MODULE(XLNetLayer);

// XLNetModel: word_embedding, mask_emb (used only by two-stream pretraining; kept so checkpoints
// round-trip), layer.*.
struct XLNetCoreImpl : torch::nn::Module {
  explicit XLNetCoreImpl(const XLNetConfig& config);
  // With `num_layers` >= 0 only the first num_layers layers run (0: the embeddings alone), and
  // last_hidden_state is the last of them without the final dropout (as hidden_states hold them).
  Outputs forward(const Inputs& inputs, bool output_hidden_states, int64_t num_layers = -1);
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
  XLNetEncoderModel(XLNetConfig config, nlohmann::json raw_config, BuildOptions options);

  Outputs forward(const Inputs& inputs, bool output_hidden_states = false) override;
  torch::Tensor hidden_state(const Inputs& inputs, int64_t layer) override;
  int64_t num_layers() const override { return config_.n_layer; }
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
  torch::Tensor word_embeddings() const override { return transformer_->word_embedding->weight; }

  static constexpr int64_t kMaxPositions = int64_t{1} << 20;

 private:
  void build_head();
  // transformers' SequenceSummary: [B, T, H] -> [B, H]
  torch::Tensor summary(const torch::Tensor& last_hidden_state);

  XLNetConfig config_;
  nlohmann::json raw_config_;
  BuildOptions options_;
  XLNetCore transformer_{nullptr};
  std::shared_ptr<torch::nn::Module> sequence_summary_;  // sequence_summary.summary (when summary_use_proj)
  torch::nn::Linear summary_{nullptr};                   // [H] -> [H]
  torch::nn::Linear logits_proj_{nullptr};               // the head's final linear: [H] -> [C] | 2 | 1
};

}  // namespace stilts::models
