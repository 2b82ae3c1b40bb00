#include "models/roberta.h"

#include "common/error.h"

namespace stilts::models {

RobertaForSequenceClassification::RobertaForSequenceClassification(io::BertConfig config,
                                                                   nlohmann::json raw_config,
                                                                   BuildOptions options)
    : config_(std::move(config)), raw_config_(std::move(raw_config)), options_(options) {
  check_activation_name(config_.hidden_act, "config.json");
  if (!config_.common.pad_token_id) config_.common.pad_token_id = 1;
  if (config_.max_position_embeddings <= pad_token_id() + 1) {
    input_error("config.json: max_position_embeddings ", config_.max_position_embeddings,
                " leaves no positions after pad_token_id ", pad_token_id(), " (RoBERTa counts from pad + 1)");
  }
  // RobertaForSequenceClassification builds its base model without the pooler.
  if (options_.with_head) options_.add_pooling_layer = false;
  roberta_ = register_module("roberta",
                             BertCore(config_, PositionScheme::kRobertaPadOffset, options_.add_pooling_layer));
  if (options_.with_head) build_head(num_labels());
  init_weights();
}

void RobertaForSequenceClassification::build_head(int64_t num_labels) {
  classifier_ = std::make_shared<torch::nn::Module>();
  classifier_dense_ =
      classifier_->register_module("dense", torch::nn::Linear(config_.hidden_size, config_.hidden_size));
  classifier_out_proj_ = classifier_->register_module("out_proj", torch::nn::Linear(config_.hidden_size, num_labels));
  if (named_children().contains("classifier")) {
    replace_module("classifier", classifier_);
  } else {
    register_module("classifier", classifier_);
  }
}

Outputs RobertaForSequenceClassification::forward(const Inputs& inputs, bool output_hidden_states) {
  Outputs out = roberta_->forward(inputs, output_hidden_states);
  if (options_.with_head) out.logits = head(out.last_hidden_state);
  return out;
}

torch::Tensor RobertaForSequenceClassification::logits(const Inputs& inputs) {
  STILTS_CHECK(options_.with_head, "logits() on a model built without a head");
  return head(roberta_->forward(inputs, /*output_hidden_states=*/false, /*first_position_only=*/true).last_hidden_state);
}

torch::Tensor RobertaForSequenceClassification::head(const torch::Tensor& last_hidden_state) {
  const double p = config_.classifier_dropout.value_or(config_.hidden_dropout_prob);
  auto x = last_hidden_state.select(/*dim=*/1, /*index=*/0);  // [B, H] (<s>)
  x = torch::dropout(x, p, is_training());
  x = torch::tanh(torch::linear(x, classifier_dense_->weight, classifier_dense_->bias));
  x = torch::dropout(x, p, is_training());
  return torch::linear(x, classifier_out_proj_->weight, classifier_out_proj_->bias);  // [B, C]
}

ParamGroup RobertaForSequenceClassification::param_group(const std::string& name) const {
  if (name.rfind("roberta.embeddings.", 0) == 0) return ParamGroup::kEmbeddings;
  if (name.rfind("roberta.encoder.", 0) == 0) return ParamGroup::kEncoder;
  if (name.rfind("roberta.pooler.", 0) == 0) return ParamGroup::kPooler;
  return ParamGroup::kHead;
}

nlohmann::json RobertaForSequenceClassification::config_json() const {
  io::BertConfig c = config_;
  const std::string family = config_.common.model_type == "xlm-roberta" ? "XLMRoberta" : "Roberta";
  c.common.architectures = {family + (options_.with_head ? "ForSequenceClassification" : "Model")};
  return c.to_json(raw_config_);
}

void RobertaForSequenceClassification::init_weights() {
  init_bert_weights(*this, config_.initializer_range);
  torch::NoGradGuard no_grad;
  roberta_->embeddings->word_embeddings->weight[pad_token_id()].zero_();
  // RoBERTa's position table has padding_idx = pad_token_id as well.
  roberta_->embeddings->position_embeddings->weight[pad_token_id()].zero_();
}

void RobertaForSequenceClassification::reset_head(int64_t num_labels) {
  STILTS_CHECK(options_.with_head, "reset_head on a model built without a head");
  config_.common.set_labels(num_labels);
  build_head(num_labels);
  init_bert_weights(*classifier_, config_.initializer_range);
}

}  // namespace stilts::models
