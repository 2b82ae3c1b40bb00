// Masked-language models with Hugging Face's weight names and equations: a family's base model (no
// pooler) and the LM head its descriptor places (Family::masked_lm_head, in the family's file):
//
//   BertForMaskedLM:       bert.* (no pooler)
//                          cls.predictions.transform.dense   [H] -> [H], then ACT2FN[hidden_act]
//                          cls.predictions.transform.LayerNorm
//                          cls.predictions.decoder.weight    tied to bert.embeddings.word_embeddings.weight
//                          cls.predictions.bias              [V] (= cls.predictions.decoder.bias)
//   RobertaForMaskedLM /   roberta.* (no pooler)
//   XLMRobertaForMaskedLM: lm_head.dense [H] -> [H], then exact gelu (whatever hidden_act says)
//                          lm_head.layer_norm
//                          lm_head.decoder.weight            tied to roberta.embeddings.word_embeddings.weight
//                          lm_head.bias                      [V] (= lm_head.decoder.bias)
//
// logits = LayerNorm(act(dense(h))) E^T + bias, E the word-embedding table [V, H].
// The tied decoder weight and bias are not separate parameters here: a checkpoint's copies of them
// are accepted and dropped on load, and saving leaves them out, as transformers' safetensors saving
// does (its _tied_weights_keys); from_pretrained ties them back.
//
// Letters: B batch, T tokens, H hidden, V vocabulary, M masked positions.
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "models/family.h"
#include "models/model.h"

namespace stilts::models {

struct MaskedLMParts;  // the module tree, in mlm.cpp

// The LM head config.json's family places (Family::masked_lm_head); InputError naming `source` for an
// unknown model_type or a family without a masked-LM model here.
MaskedLMHead masked_lm_head_of(const nlohmann::json& config, const std::string& source);

// A masked-LM model of any family that has one (supports_masked_lm: BERT, RoBERTa/XLM-R). forward() gives
// Outputs.logits [B, T, V] over every position; masked_lm_loss applies the head only where labels
// are set, which is what training needs (the head is most of the compute for small encoders).
class MaskedLMModel : public EncoderModel {
 public:
  // `config` is config.json as read; `source` names it in errors. Weights are initialised as
  // transformers' _init_weights does, from torch's global generator (seed it first).
  MaskedLMModel(const nlohmann::json& config, const std::string& source);
  ~MaskedLMModel() override;

  Outputs forward(const Inputs& inputs, bool output_hidden_states = false) override;
  torch::Tensor hidden_state(const Inputs& inputs, int64_t layer) override;  // the encoder's
  int64_t num_layers() const override;
  void train(bool on = true) override;
  // Mean cross-entropy over positions whose label is not -100 (transformers' MaskedLM loss), the
  // head applied to those positions only. `labels` [B, T] int64. Returns a 0-dim fp32 tensor; with
  // no labelled position it is 0 (and `count` 0). `count`, when given, receives the positions.
  torch::Tensor masked_lm_loss(const Inputs& inputs, const torch::Tensor& labels, int64_t* count = nullptr);
  // The head on hidden states: [..., H] -> [..., V].
  torch::Tensor lm_logits(const torch::Tensor& hidden);

  std::string model_type() const override;
  std::string base_model_prefix() const override;  // the family's: "bert" | "roberta"
  HeadKind head_kind() const override { return HeadKind::kMaskedLM; }
  bool has_pooler() const override { return false; }
  int64_t num_labels() const override { return 0; }
  bool uses_token_type_ids() const override;
  int64_t pad_token_id() const override;
  int64_t vocab_size() const override;
  int64_t max_positions() const override;
  int64_t type_vocab_size() const override;
  ParamGroup param_group(const std::string& name) const override;
  // architectures ["BertForMaskedLM"] | ["RobertaForMaskedLM"] | ["XLMRobertaForMaskedLM"].
  nlohmann::json config_json() const override;
  void init_weights() override;
  // A masked-LM model has no classification head: an InternalError.
  void reset_head(int64_t num_labels) override;

  // Re-initialises the LM head only (continued pretraining of a checkpoint that has none).
  void init_lm_head();
  // Names of the LM head's parameters ("cls.predictions.transform.dense.weight", ...).
  std::vector<std::string> lm_head_parameter_names() const;
  torch::Tensor word_embeddings() const override;  // [V, H], the decoder weight
  // Where the head's weights sit and how it computes.
  const MaskedLMHead& lm_head() const;

 private:
  std::unique_ptr<MaskedLMParts> parts_;
};

// Whether `model_type` has a masked-LM model here.
bool supports_masked_lm(const std::string& model_type);

enum class MaskedLMInit {
  kAuto,        // the weights when the directory has some, else from scratch
  kPretrained,  // the directory's weights (an error without them)
  kScratch,     // config.json only; weights from the seed
};
// "auto" | "pretrained" | "scratch".
MaskedLMInit parse_masked_lm_init(const std::string& name);

struct LoadedMaskedLM {
  std::shared_ptr<MaskedLMModel> model;
  // How the weights came about: "checkpoint" (an MLM checkpoint, loaded strictly), "encoder" (an
  // encoder-only or classification checkpoint; the LM head is new), "scratch".
  std::string origin;
  std::vector<std::string> initialized;  // parameters not from the checkpoint
  std::vector<std::string> ignored;      // checkpoint tensors left behind (pooler, old heads, NSP head)
  std::filesystem::path weights_path;    // empty from scratch
  std::string describe() const;          // one line for the log
};

// Loads `dir` as a masked-LM model. A checkpoint with an LM head (cls.predictions.* / lm_head.*) loads
// strictly (its tied decoder copies and a pooler are accepted and dropped, as transformers does);
// one without gets a fresh LM head over its encoder (old classification / NSP heads left behind);
// a directory with config.json and no weights starts from scratch. The weights that get initialised
// come from torch's global generator: seed it first. Errors name the directory or file.
LoadedMaskedLM load_masked_lm(const std::filesystem::path& dir, MaskedLMInit init = MaskedLMInit::kAuto);

}  // namespace stilts::models
