// BERT (bert-base-*, mBERT) and the BERT-architecture core RoBERTa / XLM-R reuse.
// Module and parameter names are transformers' (BertModel / BertForSequenceClassification).
#pragma once

#include <torch/torch.h>

#include "io/hf_config.h"
#include "models/family.h"
#include "models/model.h"

namespace stilts::models {

// config.json of BERT, RoBERTa and XLM-RoBERTa (the latter two are BERT's architecture with other
// conventions), its fields spelled as transformers' BertConfig spells them.
struct BertConfig {
  io::CommonConfig common;
  int64_t vocab_size = 30522;
  int64_t hidden_size = 768;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t intermediate_size = 3072;
  std::string hidden_act = "gelu";
  double hidden_dropout_prob = 0.1;
  double attention_probs_dropout_prob = 0.1;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;
  double initializer_range = 0.02;
  double layer_norm_eps = 1e-12;
  std::string position_embedding_type = "absolute";
  std::optional<double> classifier_dropout;

  // `source` names the file in errors.
  static BertConfig from_json(const nlohmann::json& j, const std::string& source);
  void validate(const std::string& source) const;
  // Merges the typed fields over `raw` (the file as read, or {}).
  nlohmann::json to_json(const nlohmann::json& raw) const;
};

// The BERT family ("bert"): its descriptor for models/registry.cpp.
const Family& bert_family();

// What RoBERTa's descriptor shares with BERT's (the same architecture):
// the embeddings, encoder and pooler (when `pooler`) parameter counts; head 0.
ParameterCounts bert_base_parameters(const BertConfig& config, bool pooler);
// Family::forward_flops of the BERT architecture.
double bert_forward_flops(const nlohmann::json& config, int64_t seq_len, bool with_head, const std::string& source);
// The MaskedLMHead sizes and settings a BertConfig gives; the family fills in the names.
MaskedLMHead bert_masked_lm_head_sizes(const BertConfig& config);

// An empty module registered as `name` in `parent`, to nest parameters under transformers' dotted
// names (torch module names cannot contain dots).
std::shared_ptr<torch::nn::Module> add_holder(torch::nn::Module& parent, const std::string& name);

// How position ids are made: BERT counts 0..T-1; RoBERTa counts real tokens from pad_token_id + 1
// (cumsum over input_ids != pad) and gives padding pad_token_id.
enum class PositionScheme { kAbsolute, kRobertaPadOffset };

struct BertEmbeddingsImpl : torch::nn::Module {
  BertEmbeddingsImpl(const BertConfig& config, PositionScheme scheme);
  // [B, T] ids -> [B, T, H]
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids);

  torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr}, token_type_embeddings{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};
  PositionScheme scheme_;
  int64_t pad_token_id_;
  double dropout_;
};
TORCH_MODULE(BertEmbeddings);

struct BertLayerImpl : torch::nn::Module {
  explicit BertLayerImpl(const BertConfig& config);
  // [B, T, H], additive mask [B, 1, 1, T] -> [B, T, H]. With `query_positions` = Q > 0, only the first
  // Q positions are computed (queries, attention output, feed-forward; keys and values still come from
  // every position): [B, Q, H], equal to the first Q rows of the full output up to rounding.
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& additive_mask, int64_t query_positions = 0);

  // Registered under attention.self.{query,key,value}, attention.output.{dense,LayerNorm},
  // intermediate.dense, output.{dense,LayerNorm} (nested holder modules), as transformers names them.
  torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr};
  torch::nn::Linear attention_output_dense{nullptr};
  torch::nn::LayerNorm attention_output_LayerNorm{nullptr};
  torch::nn::Linear intermediate_dense{nullptr};
  torch::nn::Linear output_dense{nullptr};
  torch::nn::LayerNorm output_LayerNorm{nullptr};
  int64_t num_heads_, head_dim_;
  double hidden_dropout_, attention_dropout_;
  std::string hidden_act_;
};
TORCH_MODULE(BertLayer);

// BertModel: embeddings, encoder.layer.*, optional pooler.dense.
struct BertCoreImpl : torch::nn::Module {
  BertCoreImpl(const BertConfig& config, PositionScheme scheme, bool add_pooling_layer);
  // With `first_position_only`, the last layer computes position 0 alone (what the pooler and the
  // classification heads read): last_hidden_state is then [B, 1, H] and hidden_states are not kept.
  // With `num_layers` >= 0 only the first num_layers layers run (0: the embeddings alone) and
  // last_hidden_state is the last of them; the pooler then does not run.
  Outputs forward(const Inputs& inputs, bool output_hidden_states, bool first_position_only = false,
                  int64_t num_layers = -1);

  BertEmbeddings embeddings{nullptr};
  torch::nn::ModuleList layers{nullptr};
  torch::nn::Linear pooler_dense{nullptr};
  bool add_pooling_layer_;
};
TORCH_MODULE(BertCore);

// A Linear / LayerNorm module applied through aten directly: nn::Linear's forward in libtorch 1.13
// goes through the old F::linear (addmm on a transposed view + a separate bias add, and a weight
// re-cast per call under autocast); aten::linear does not.
torch::Tensor linear(const torch::Tensor& x, const torch::nn::Linear& layer);
torch::Tensor layer_norm(const torch::Tensor& x, const torch::nn::LayerNorm& ln);

// transformers' activation by config name: gelu (exact erf), gelu_new / gelu_pytorch_tanh (tanh
// approximation), relu, silu / swish, tanh. InputError for anything else, listing these.
torch::Tensor activation(const torch::Tensor& x, const std::string& name);
void check_activation_name(const std::string& name, const std::string& source);

// transformers' _init_weights for BERT-family modules.
void init_bert_weights(torch::nn::Module& module, double initializer_range);

// BertModel with any head (BuildOptions::head), under transformers' names:
//   sequence classification  bert.pooler -> dropout -> classifier [H] -> [C]
//   token classification     (no pooler) dropout -> classifier [H] -> [C] on every position
//   question answering       (no pooler) qa_outputs [H] -> 2 on every position
//   multiple choice          bert.pooler -> dropout -> classifier [H] -> 1 per choice row
class BertEncoderModel : public EncoderModel {
 public:
  BertEncoderModel(BertConfig config, nlohmann::json raw_config, BuildOptions options);

  Outputs forward(const Inputs& inputs, bool output_hidden_states = false) override;
  // Sequence classification and multiple choice read the pooled first position: the last layer
  // computes position 0 only.
  torch::Tensor logits(const Inputs& inputs) override;
  torch::Tensor hidden_state(const Inputs& inputs, int64_t layer) override;
  int64_t num_layers() const override { return config_.num_hidden_layers; }
  std::string model_type() const override { return config_.common.model_type; }
  std::string base_model_prefix() const override { return "bert"; }
  HeadKind head_kind() const override { return options_.head; }
  bool has_pooler() const override { return options_.add_pooling_layer; }
  int64_t num_labels() const override { return config_.common.num_labels(); }
  bool uses_token_type_ids() const override { return true; }
  int64_t pad_token_id() const override { return config_.common.pad_token_id.value_or(0); }
  int64_t vocab_size() const override { return config_.vocab_size; }
  int64_t max_positions() const override { return config_.max_position_embeddings; }
  int64_t type_vocab_size() const override { return config_.type_vocab_size; }
  ParamGroup param_group(const std::string& name) const override;
  nlohmann::json config_json() const override;
  void init_weights() override;
  void reset_head(int64_t num_labels) override;
  torch::Tensor word_embeddings() const override { return bert_->embeddings->word_embeddings->weight; }

  // Whether the model built with `options` has BERT's pooler (its sequence-classification and
  // multiple-choice heads read it; token and span heads have none).
  static bool builds_pooler(const BuildOptions& options);

 private:
  void build_head();
  // The head on the encoder's output; `choices` = K for multiple choice.
  void apply_head(Outputs& out, int64_t choices);
  BertConfig config_;
  nlohmann::json raw_config_;
  BuildOptions options_;
  BertCore bert_{nullptr};
  torch::nn::Linear classifier_{nullptr};  // classifier or qa_outputs: [H] -> [C] | 2 | 1
};

}  // namespace stilts::models
