#include "models/roberta.h"

#include "common/error.h"

namespace stilts::models {

namespace {
// RoBERTa's multiple-choice and retrieval heads read the pooler; its sequence-classification head has its
// own dense.
bool reads_first_position(HeadKind head) {
  return head == HeadKind::kSequenceClassification || head == HeadKind::kMultipleChoice ||
         head == HeadKind::kRetrieval;
}

// transformers' class names: RobertaFor..., XLMRobertaFor...
std::string class_prefix(const std::string& model_type) {
  return model_type == "xlm-roberta" ? "XLMRoberta" : "Roberta";
}
}  // namespace

bool RobertaEncoderModel::builds_pooler(const BuildOptions& options) {
  return options.head == HeadKind::kNone
             ? options.add_pooling_layer
             : options.head == HeadKind::kMultipleChoice || options.head == HeadKind::kRetrieval;
}

RobertaEncoderModel::RobertaEncoderModel(BertConfig config, nlohmann::json raw_config, BuildOptions options)
    : config_(std::move(config)), raw_config_(std::move(raw_config)), options_(options) {
  check_activation_name(config_.hidden_act, "config.json");
  check_family_head(options_.head, "config.json");
  if (!config_.common.pad_token_id) config_.common.pad_token_id = 1;
  if (config_.max_position_embeddings <= pad_token_id() + 1) {
    input_error("config.json: max_position_embeddings ", config_.max_position_embeddings,
                " leaves no positions after pad_token_id ", pad_token_id(), " (RoBERTa counts from pad + 1)");
  }
  options_.add_pooling_layer = builds_pooler(options_);
  if (options_.head == HeadKind::kQuestionAnswering) config_.common.set_labels(2);
  roberta_ = register_module("roberta",
                             BertCore(config_, PositionScheme::kRobertaPadOffset, options_.add_pooling_layer));
  build_head();
  init_weights();
}

void RobertaEncoderModel::build_head() {
  if (options_.head == HeadKind::kNone) return;
  if (options_.head == HeadKind::kRetrieval) {
    build_logit_scale(*this);
    return;
  }
  const auto H = config_.hidden_size;
  const int64_t outputs = head_outputs(options_.head, num_labels());
  std::string name = "classifier";
  classifier_dense_ = nullptr;
  if (options_.head == HeadKind::kSequenceClassification) {
    head_ = std::make_shared<torch::nn::Module>();
    classifier_dense_ = head_->register_module("dense", torch::nn::Linear(H, H));
    classifier_out_proj_ = head_->register_module("out_proj", torch::nn::Linear(H, outputs));
  } else {
    if (options_.head == HeadKind::kQuestionAnswering) name = "qa_outputs";
    classifier_out_proj_ = torch::nn::Linear(H, outputs);
    head_ = classifier_out_proj_.ptr();
  }
  if (named_children().contains(name)) {
    replace_module(name, head_);
  } else {
    register_module(name, head_);
  }
}

void RobertaEncoderModel::apply_head(Outputs& out, int64_t choices) {
  const auto& proj = classifier_out_proj_;
  switch (options_.head) {
    case HeadKind::kNone:
    case HeadKind::kMaskedLM: return;
    case HeadKind::kSequenceClassification: {
      const double p = config_.classifier_dropout.value_or(config_.hidden_dropout_prob);
      auto x = out.last_hidden_state.select(/*dim=*/1, /*index=*/0);  // [B, H] (<s>)
      x = torch::dropout(x, p, is_training());
      x = torch::tanh(torch::linear(x, classifier_dense_->weight, classifier_dense_->bias));
      x = torch::dropout(x, p, is_training());
      out.logits = torch::linear(x, proj->weight, proj->bias);  // [B, C]
      return;
    }
    case HeadKind::kTokenClassification: {
      const double p = config_.classifier_dropout.value_or(config_.hidden_dropout_prob);
      const auto x = torch::dropout(out.last_hidden_state, p, is_training());  // [B, T, H]
      out.logits = torch::linear(x, proj->weight, proj->bias);                 // [B, T, C]
      return;
    }
    case HeadKind::kQuestionAnswering:
      split_span_logits(torch::linear(out.last_hidden_state, proj->weight, proj->bias), out);
      return;
    case HeadKind::kMultipleChoice: {
      // transformers' RobertaForMultipleChoice drops out with hidden_dropout_prob (not classifier_dropout).
      const auto pooled = torch::dropout(out.pooler_output, config_.hidden_dropout_prob, is_training());  // [B·K, H]
      out.logits = torch::linear(pooled, proj->weight, proj->bias).view({-1, choices});                // [B, K]
      return;
    }
    case HeadKind::kRetrieval: out.logits = retrieval_embedding(out.pooler_output); return;  // [B, H]
  }
}

Outputs RobertaEncoderModel::forward(const Inputs& inputs, bool output_hidden_states) {
  const int64_t choices = options_.head == HeadKind::kMultipleChoice ? num_choices(inputs) : 0;
  Outputs out = roberta_->forward(choices ? flatten_choices(inputs) : inputs, output_hidden_states);
  apply_head(out, choices);
  return out;
}

torch::Tensor RobertaEncoderModel::logits(const Inputs& inputs) {
  if (!reads_first_position(options_.head)) return EncoderModel::logits(inputs);
  const int64_t choices = options_.head == HeadKind::kMultipleChoice ? num_choices(inputs) : 0;
  Outputs out = roberta_->forward(choices ? flatten_choices(inputs) : inputs, /*output_hidden_states=*/false,
                                  /*first_position_only=*/true);
  apply_head(out, choices);
  return out.logits;
}

torch::Tensor RobertaEncoderModel::hidden_state(const Inputs& inputs, int64_t layer) {
  check_hidden_layer(layer, num_layers());
  return roberta_->forward(inputs, /*output_hidden_states=*/false, /*first_position_only=*/false, layer).last_hidden_state;
}

ParamGroup RobertaEncoderModel::param_group(const std::string& name) const {
  if (name.rfind("roberta.embeddings.", 0) == 0) return ParamGroup::kEmbeddings;
  if (name.rfind("roberta.encoder.", 0) == 0) return ParamGroup::kEncoder;
  if (name.rfind("roberta.pooler.", 0) == 0) return ParamGroup::kPooler;
  return ParamGroup::kHead;
}

nlohmann::json RobertaEncoderModel::config_json() const {
  BertConfig c = config_;
  c.common.architectures = {class_prefix(model_type()) + head_class_suffix(options_.head)};
  return c.to_json(raw_config_);
}

void RobertaEncoderModel::init_weights() {
  init_bert_weights(*this, config_.initializer_range);
  torch::NoGradGuard no_grad;
  roberta_->embeddings->word_embeddings->weight[pad_token_id()].zero_();
  // RoBERTa's position table has padding_idx = pad_token_id as well.
  roberta_->embeddings->position_embeddings->weight[pad_token_id()].zero_();
}

void RobertaEncoderModel::reset_head(int64_t num_labels) {
  STILTS_CHECK(has_head(), "reset_head on a model built without a head");
  if (options_.head != HeadKind::kQuestionAnswering) config_.common.set_labels(num_labels);
  build_head();
  if (head_) init_bert_weights(*head_, config_.initializer_range);
}

// ---- the family ----

namespace {

ParameterCounts count_roberta_parameters(const nlohmann::json& config, const BuildOptions& options,
                                         const std::string& source) {
  check_family_head(options.head, source);
  const BertConfig c = BertConfig::from_json(config, source);
  ParameterCounts counts = bert_base_parameters(c, RobertaEncoderModel::builds_pooler(options));
  const int64_t H = c.hidden_size;
  if (options.head == HeadKind::kSequenceClassification) counts.head = H * H + H;  // classifier.dense
  if (options.head == HeadKind::kRetrieval) {
    counts.head = 1;  // logit_scale
  } else if (options.head != HeadKind::kNone) {
    const int64_t outputs = head_outputs(options.head, c.common.num_labels());
    counts.head += H * outputs + outputs;  // classifier(.out_proj) | qa_outputs
  }
  return counts;
}

// RobertaForMaskedLM / XLMRobertaForMaskedLM: lm_head.{dense,layer_norm,bias}, exact gelu.
MaskedLMHead roberta_masked_lm_head(const nlohmann::json& config, const std::string& source) {
  const BertConfig c = BertConfig::from_json(config, source);
  MaskedLMHead head = bert_masked_lm_head_sizes(c);
  head.architecture = class_prefix(c.common.model_type) + "ForMaskedLM";
  head.root = "lm_head";
  head.transform = "lm_head";
  head.layer_norm = "layer_norm";
  head.activation = "gelu";  // RobertaLMHead applies exact gelu whatever hidden_act says
  return head;
}

}  // namespace

const Family& roberta_family() {
  // The same architecture as BERT: the same FLOPs (the sequence head's dense costs what BERT's pooler does).
  static const Family family{/*name=*/"RoBERTa/XLM-R",
                             /*model_types=*/{{"roberta", "byte-level-bpe"}, {"xlm-roberta", "sentencepiece-xlmr"}},
                             build_model<RobertaEncoderModel, BertConfig>, count_roberta_parameters,
                             bert_forward_flops, roberta_masked_lm_head,
                             /*head_weight_prefixes=*/{"classifier.", "qa_outputs.", kLogitScaleName}};
  return family;
}

}  // namespace stilts::models
