// RoBERTa and XLM-RoBERTa: BERT's architecture with RoBERTa's position ids (counted from
// pad_token_id + 1), a single token-type row, and a classification head on token 0
// (dense -> tanh -> out_proj) instead of the pooler. Weights live under "roberta.".
#pragma once

#include "models/bert.h"

namespace stilts::models {

class RobertaForSequenceClassification : public EncoderModel {
 public:
  // `model_type` is "roberta" or "xlm-roberta" (they differ only in the architecture names written out).
  RobertaForSequenceClassification(io::BertConfig config, nlohmann::json raw_config, BuildOptions options);

  Outputs forward(const Inputs& inputs, bool output_hidden_states = false) override;
  torch::Tensor logits(const Inputs& inputs) override;  // last layer at the first position only
  std::string model_type() const override { return config_.common.model_type; }
  std::string base_model_prefix() const override { return "roberta"; }
  bool has_head() const override { return options_.with_head; }
  bool has_pooler() const override { return options_.add_pooling_layer; }
  int64_t num_labels() const override { return config_.common.num_labels(); }
  bool uses_token_type_ids() const override { return false; }
  int64_t pad_token_id() const override { return config_.common.pad_token_id.value_or(1); }
  int64_t vocab_size() const override { return config_.vocab_size; }
  int64_t max_positions() const override { return config_.max_position_embeddings - pad_token_id() - 1; }
  int64_t type_vocab_size() const override { return config_.type_vocab_size; }
  ParamGroup param_group(const std::string& name) const override;
  nlohmann::json config_json() const override;
  void init_weights() override;
  void reset_head(int64_t num_labels) override;

 private:
  // dropout, dense, tanh, dropout, out_proj on the first position: [B, T, H] -> [B, C]
  torch::Tensor head(const torch::Tensor& last_hidden_state);
  void build_head(int64_t num_labels);

  io::BertConfig config_;
  nlohmann::json raw_config_;
  BuildOptions options_;
  BertCore roberta_{nullptr};
  std::shared_ptr<torch::nn::Module> classifier_;  // classifier.{dense, out_proj}
  torch::nn::Linear classifier_dense_{nullptr};     // [H] -> [H]
  torch::nn::Linear classifier_out_proj_{nullptr};  // [H] -> [C]
};

}  // namespace stilts::models
