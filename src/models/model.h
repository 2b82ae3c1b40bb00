// The interface every encoder family implements, and the inputs/outputs it works on.
//
// Letters used in shape comments across src/models: B batch, T tokens, H hidden, N heads,
// D head dim (H / N), I intermediate (feed-forward) size, V vocabulary, C classes (num_labels).
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace stilts::models {

// Multiple-choice models take [B, K, T] (K choices per example, each a (context, choice) row) and
// run the encoder on the [B·K, T] rows, as transformers flattens them.
struct Inputs {
  torch::Tensor input_ids;       // [B, T] int64 ([B, K, T] for a multiple-choice head)
  torch::Tensor attention_mask;  // [B, T] int64 (1 = real token, 0 = padding)
  torch::Tensor token_type_ids;  // [B, T] int64, or undefined (the family's default: all zeros)
};

struct Outputs {
  torch::Tensor last_hidden_state;           // [B, T, H] ([B·K, T, H] for multiple choice)
  torch::Tensor pooler_output;               // [B, H], undefined when the model has no pooler
  // The head's output, undefined without one: sequence classification [B, C], token classification
  // [B, T, C], multiple choice [B, K], masked LM [B, T, V], retrieval the unit-length embedding [B, H];
  // question answering leaves it undefined
  // and sets start_logits / end_logits [B, T].
  torch::Tensor logits;
  torch::Tensor start_logits, end_logits;
  std::vector<torch::Tensor> hidden_states;  // embedding output + each layer's, when asked for
};

// The task heads, as transformers names its classes: <Family>For<Head>. Each family builds every one
// with transformers' weight names (see the family's file).
enum class HeadKind {
  kNone,                    // the bare encoder (<Family>Model)
  kSequenceClassification,  // *ForSequenceClassification: [B, C]
  kTokenClassification,     // *ForTokenClassification: classifier on every position, [B, T, C]
  kQuestionAnswering,       // *ForQuestionAnswering (XLNet: *ForQuestionAnsweringSimple): qa_outputs [H] -> 2
  kMultipleChoice,          // *ForMultipleChoice: one score per choice, [B, K]
  kMaskedLM,                // *ForMaskedLM (models/mlm.h)
  // *ForRetrieval, xtreme's dual encoder (its third_party/bert.py, used for LAReQA and Mewsli-X): the pooled
  // first position L2-normalised as the embedding [B, H], and a learnable `logit_scale` [1] (100 at start)
  // that multiplies query-candidate cosines in the in-batch softmax. BERT and RoBERTa/XLM-R only.
  kRetrieval,
};
// "none", "sequence-classification", "token-classification", "question-answering", "multiple-choice",
// "masked-lm".
const char* head_kind_name(HeadKind head);
// The inverse of head_kind_name; InputError listing the names otherwise.
HeadKind parse_head_kind(const std::string& name);
// The class-name suffix transformers uses ("ForTokenClassification", "Model" for kNone); a family
// spelling one otherwise says so in its own file (XLNet: ForQuestionAnsweringSimple).
std::string head_class_suffix(HeadKind head);
// The head a config.json "architectures" entry names ("XLMRobertaForTokenClassification" ->
// kTokenClassification, "BertModel" -> kNone); nullopt for a name with no known suffix.
std::optional<HeadKind> head_kind_of_architecture(const std::string& architecture);

// Parameter groups for counting and for what a task must store.
enum class ParamGroup { kEmbeddings, kEncoder, kPooler, kHead };
const char* param_group_name(ParamGroup group);

// What a model is built with besides its config.json.
struct BuildOptions {
  HeadKind head = HeadKind::kSequenceClassification;
  bool add_pooling_layer = true;  // families whose head does not use a pooler ignore this with a head
};

// An encoder, optionally with a task head (HeadKind). Parameters are registered under
// Hugging Face's state-dict names (e.g. "bert.encoder.layer.0.attention.self.query.weight"), so
// loading and saving are a name-for-name copy.
class EncoderModel : public torch::nn::Module {
 public:
  virtual Outputs forward(const Inputs& inputs, bool output_hidden_states = false) = 0;
  // The head's logits [B, C] alone (what training, evaluation and the benchmark need), equal to
  // forward(inputs).logits up to rounding. A family may skip work the head never reads: BERT and
  // RoBERTa/XLM-R compute their last layer for the first position only, the one their head reads
  // (about 1/14 of a 12-layer forward at 128 tokens); gradients are unchanged, since the other
  // positions of the last layer never reach the loss. Requires has_head().
  // Other heads give forward(inputs).logits; question answering gives [B, T, 2] (start, end).
  virtual torch::Tensor logits(const Inputs& inputs);
  // hidden_states[layer] alone, [B, T, H] for inputs [B, T]: the encoder run up to that layer and no
  // further (no later layer, pooler or head), 0 = the embeddings' output, num_layers() = the last
  // layer's. The same tensor forward(inputs, true).hidden_states[layer] holds; what sentence retrieval
  // reads (XTREME's Tatoeba at layer 8 of mBERT's 12 skips a third of the forward). InputError for a
  // layer outside 0..num_layers().
  virtual torch::Tensor hidden_state(const Inputs& inputs, int64_t layer) = 0;
  // Transformer layers (config.json's num_hidden_layers; XLNet's n_layer).
  virtual int64_t num_layers() const = 0;

  virtual std::string model_type() const = 0;
  // The attribute transformers gives the base model inside *ForSequenceClassification ("bert", "roberta").
  virtual std::string base_model_prefix() const = 0;
  virtual HeadKind head_kind() const = 0;
  bool has_head() const { return head_kind() != HeadKind::kNone; }
  virtual bool has_pooler() const = 0;
  virtual int64_t num_labels() const = 0;
  // Whether the family feeds token_type_ids to the model (BERT yes; RoBERTa's single type row is implicit).
  virtual bool uses_token_type_ids() const = 0;
  virtual int64_t pad_token_id() const = 0;
  virtual int64_t vocab_size() const = 0;
  // Longest row the position table allows.
  virtual int64_t max_positions() const = 0;
  virtual int64_t type_vocab_size() const = 0;
  virtual ParamGroup param_group(const std::string& name) const = 0;
  // config.json as transformers reads it, for this model with or without its head.
  virtual nlohmann::json config_json() const = 0;
  // transformers' _init_weights on every parameter (normal(0, initializer_range), zero biases, unit
  // LayerNorm), from torch's global generator: seed it first for reproducible weights.
  virtual void init_weights() = 0;
  // Re-creates the head with `num_labels` outputs (classification heads; question answering and
  // multiple choice ignore it), freshly initialised.
  virtual void reset_head(int64_t num_labels) = 0;
  // The input word-embedding table [V, H] (transformers' get_input_embeddings; a masked-LM decoder ties to it).
  virtual torch::Tensor word_embeddings() const = 0;
};

// ---- what every family's heads share ----

// InputError unless 0 <= layer <= layers (hidden_state's layer argument).
void check_hidden_layer(int64_t layer, int64_t layers);
// InputError for a head this family class does not build (masked LM lives in models/mlm.h).
void check_family_head(HeadKind head, const std::string& source);
// Outputs of the head's final linear: classification num_labels, question answering 2 (start, end),
// multiple choice 1 (a score per choice row).
int64_t head_outputs(HeadKind head, int64_t num_labels);
// K of multiple-choice inputs [B, K, T] (InputError naming the shape otherwise).
int64_t num_choices(const Inputs& inputs);
// [B, K, T] -> [B·K, T] for every defined tensor, as transformers' *ForMultipleChoice does.
Inputs flatten_choices(const Inputs& inputs);
// qa_outputs' [B, T, 2] into out.start_logits and out.end_logits [B, T].
void split_span_logits(const torch::Tensor& logits, Outputs& out);
// The retrieval head: its parameter's name and starting value, and the embedding of a pooled row.
inline constexpr const char* kLogitScaleName = "logit_scale";
inline constexpr double kLogitScaleInit = 100.0;
torch::Tensor retrieval_embedding(const torch::Tensor& pooled);  // [B, H] -> [B, H], unit L2 norm
// Registers (or resets) `model`'s logit_scale at kLogitScaleInit: the retrieval head of BERT and RoBERTa.
void build_logit_scale(torch::nn::Module& model);
// The model's logit_scale [1]; InputError naming `source` for a model without a retrieval head.
torch::Tensor logit_scale_of(const EncoderModel& model, const std::string& source);

struct ParameterCounts {
  int64_t total = 0, embeddings = 0, encoder = 0, pooler = 0, head = 0, trainable = 0;
};
ParameterCounts count_parameters(const EncoderModel& model);

// Checks an Inputs batch against a model: int64 2-D tensors of one shape, mask of 0/1, ids within the
// vocabulary, length within the position table. `source` names the input in errors.
void validate_inputs(const EncoderModel& model, const Inputs& inputs, const std::string& source);

}  // namespace stilts::models
