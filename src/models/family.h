// What stilts knows about an encoder family, in one place: each family's file defines its descriptor
// (bert_family() in bert.cpp, ...) and models/registry.cpp lists the descriptors, one line each. The rest
// of stilts asks the registry (models/registry.h) and never switches on model_type.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/model.h"

namespace stilts::models {

// A transformers LM head over a family's encoder (BertLMPredictionHead, RobertaLMHead):
// logits = LayerNorm(act(dense(h))) E^T + bias, E the encoder's word embeddings (the decoder is tied to
// them). What differs between families is where the weights sit and the activation.
struct MaskedLMHead {
  std::string architecture;  // config.json "architectures": "BertForMaskedLM", "XLMRobertaForMaskedLM"
  std::string root;          // holds `bias` and the tied `decoder`: "cls.predictions" | "lm_head"
  std::string transform;     // holds `dense` and the LayerNorm: "cls.predictions.transform" | "lm_head"
  std::string layer_norm;    // the LayerNorm's name there: "LayerNorm" | "layer_norm"
  std::string activation;    // after dense (BERT: hidden_act; RoBERTa: "gelu" whatever hidden_act says)
  int64_t hidden_size = 0;   // H
  int64_t vocab_size = 0;    // V
  double layer_norm_eps = 1e-12;
  double initializer_range = 0.02;
  // Checkpoint weights *ForMaskedLM accepts and does not use besides the tied decoder copies and the
  // pooler (BERT: the next-sentence head "cls.seq_relationship." of BertForPreTraining checkpoints).
  std::vector<std::string> ignored_prefixes;

  // dense [H, H] + bias, LayerNorm, bias [V]: the tied decoder adds none.
  int64_t parameter_count() const { return hidden_size * hidden_size + hidden_size + 2 * hidden_size + vocab_size; }
};

// Family::build for a model class made from (its config struct, config.json as read, BuildOptions),
// the config struct read by its from_json(config, source).
template <typename Model, typename Config>
std::shared_ptr<EncoderModel> build_model(const nlohmann::json& config, const std::string& source,
                                          BuildOptions options) {
  return std::make_shared<Model>(Config::from_json(config, source), config, options);
}

struct Family {
  // A config.json model_type the family reads, and the tokenizer kind it comes with
  // (text::detect_tokenizer_kind's kinds). text finds that kind from model_type by transformers'
  // class naming alone (text/auto.h) and knows no family; this declaration is what tests hold it to.
  struct ModelType {
    std::string name;            // "xlm-roberta"
    std::string tokenizer_kind;  // "sentencepiece-xlmr"
  };

  std::string name;  // for messages: "RoBERTa/XLM-R"
  std::vector<ModelType> model_types;

  // The model for BuildOptions (head, pooler), weights initialised as transformers' _init_weights from
  // torch's global generator. `config` is config.json as read; errors name `source`.
  std::shared_ptr<EncoderModel> (*build)(const nlohmann::json& config, const std::string& source,
                                         BuildOptions options) = nullptr;
  // The parameter counts of what `build` makes, from the config alone (nothing allocated): every head
  // but the masked LM, which is the base model without pooler + MaskedLMHead::parameter_count().
  ParameterCounts (*count_parameters)(const nlohmann::json& config, const BuildOptions& options,
                                      const std::string& source) = nullptr;
  // Analytic forward FLOPs of one example of `seq_len` tokens, as bench::forward_flops documents.
  double (*forward_flops)(const nlohmann::json& config, int64_t seq_len, bool with_head,
                          const std::string& source) = nullptr;
  // The LM head of the family's *ForMaskedLM for `config` (models/mlm.h builds the model: the family's
  // base model without pooler + this head); null when the family has no masked-LM model here.
  MaskedLMHead (*masked_lm_head)(const nlohmann::json& config, const std::string& source) = nullptr;
  // Name prefixes of the family's task-head weights in a checkpoint ("classifier.", "qa_outputs.").
  std::vector<std::string> head_weight_prefixes;
};

}  // namespace stilts::models
