// RoBERTa and XLM-RoBERTa: BERT's architecture with RoBERTa's position ids (counted from
// pad_token_id + 1), a single token-type row, and a classification head on token 0
// (dense -> tanh -> out_proj) instead of the pooler. Weights live under "roberta.". Heads:
//   sequence classification  (no pooler) classifier.dense -> tanh -> classifier.out_proj on <s>
//   token classification     (no pooler) dropout -> classifier [H] -> [C] on every position
//   question answering       (no pooler) qa_outputs [H] -> 2 on every position
//   multiple choice          roberta.pooler -> dropout -> classifier [H] -> 1 per choice row
#pragma once

#include "models/bert.h"

namespace stilts::models {

// The RoBERTa family ("roberta", "xlm-roberta"): its descriptor for models/registry.cpp.
const Family& roberta_family();

class RobertaEncoderModel : public EncoderModel {
 public:
  // `model_type` is "roberta" or "xlm-roberta" (they differ only in the architecture names written out).
  RobertaEncoderModel(BertConfig config, nlohmann::json raw_config, BuildOptions options);

  Outputs forward(const Inputs& inputs, bool output_hidden_states = false) override;
  // Sequence classification and multiple choice read the first position: the last layer computes it alone.
  torch::Tensor logits(const Inputs& inputs) override;
  torch::Tensor hidden_state(const Inputs& inputs, int64_t layer) override;
  int64_t num_layers() const override { return config_.num_hidden_layers; }
  std::string model_type() const override { return config_.common.model_type; }
  std::string base_model_prefix() const override { return "roberta"; }
  HeadKind head_kind() const override { return options_.head; }
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
  torch::Tensor word_embeddings() const override { return roberta_->embeddings->word_embeddings->weight; }

  // Whether the model built with `options` has the pooler (only the multiple-choice head reads it).
  static bool builds_pooler(const BuildOptions& options);

 private:
  void apply_head(Outputs& out, int64_t choices);  // `choices` = K for multiple choice
  void build_head();

  BertConfig config_;
  nlohmann::json raw_config_;
  BuildOptions options_;
  BertCore roberta_{nullptr};
  std::shared_ptr<torch::nn::Module> head_;         // what "classifier" / "qa_outputs" registers
  torch::nn::Linear classifier_dense_{nullptr};     // sequence classification: classifier.dense [H] -> [H]
  torch::nn::Linear classifier_out_proj_{nullptr};  // the head's final linear: [H] -> [C] | 2 | 1
};

}  // namespace stilts::models
