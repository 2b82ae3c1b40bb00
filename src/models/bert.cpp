#include "models/bert.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/error.h"
#include "models/linear_hook.h"

namespace stilts::models {

namespace F = torch::nn::functional;
namespace config_fields = io::config_fields;
using nlohmann::json;

// ---- config.json ----

BertConfig BertConfig::from_json(const json& j, const std::string& source) {
  using config_fields::read;
  BertConfig c;
  c.common = config_fields::read_common(j, source);
  if (!j.contains("vocab_size")) input_error(source, ": field 'vocab_size' is missing");
  read(j, "vocab_size", c.vocab_size, source);
  read(j, "hidden_size", c.hidden_size, source);
  read(j, "num_hidden_layers", c.num_hidden_layers, source);
  read(j, "num_attention_heads", c.num_attention_heads, source);
  read(j, "intermediate_size", c.intermediate_size, source);
  read(j, "hidden_act", c.hidden_act, source);
  read(j, "hidden_dropout_prob", c.hidden_dropout_prob, source);
  read(j, "attention_probs_dropout_prob", c.attention_probs_dropout_prob, source);
  read(j, "max_position_embeddings", c.max_position_embeddings, source);
  read(j, "type_vocab_size", c.type_vocab_size, source);
  read(j, "initializer_range", c.initializer_range, source);
  read(j, "layer_norm_eps", c.layer_norm_eps, source);
  read(j, "position_embedding_type", c.position_embedding_type, source);
  read(j, "classifier_dropout", c.classifier_dropout, source);
  c.validate(source);
  return c;
}

void BertConfig::validate(const std::string& source) const {
  auto positive = [&](const char* name, int64_t v) {
    if (v <= 0) input_error(source, ": field '", name, "' must be positive, got ", v);
  };
  positive("vocab_size", vocab_size);
  positive("hidden_size", hidden_size);
  positive("num_hidden_layers", num_hidden_layers);
  positive("num_attention_heads", num_attention_heads);
  positive("intermediate_size", intermediate_size);
  positive("max_position_embeddings", max_position_embeddings);
  positive("type_vocab_size", type_vocab_size);
  if (hidden_size % num_attention_heads != 0) {
    input_error(source, ": hidden_size ", hidden_size, " is not a multiple of num_attention_heads ",
                num_attention_heads);
  }
  if (position_embedding_type != "absolute") {
    input_error(source, ": position_embedding_type '", position_embedding_type,
                "' is not supported (supported: absolute)");
  }
  auto probability = [&](const char* name, double p) {
    if (p < 0.0 || p >= 1.0) input_error(source, ": field '", name, "' must be in [0, 1), got ", p);
  };
  probability("hidden_dropout_prob", hidden_dropout_prob);
  probability("attention_probs_dropout_prob", attention_probs_dropout_prob);
  if (classifier_dropout) probability("classifier_dropout", *classifier_dropout);
  if (layer_norm_eps <= 0) input_error(source, ": field 'layer_norm_eps' must be positive");
}

json BertConfig::to_json(const json& raw) const {
  json j = raw.is_object() ? raw : json::object();
  config_fields::write_common(common, j);
  j["vocab_size"] = vocab_size;
  j["hidden_size"] = hidden_size;
  j["num_hidden_layers"] = num_hidden_layers;
  j["num_attention_heads"] = num_attention_heads;
  j["intermediate_size"] = intermediate_size;
  j["hidden_act"] = hidden_act;
  j["hidden_dropout_prob"] = hidden_dropout_prob;
  j["attention_probs_dropout_prob"] = attention_probs_dropout_prob;
  j["max_position_embeddings"] = max_position_embeddings;
  j["type_vocab_size"] = type_vocab_size;
  j["initializer_range"] = initializer_range;
  j["layer_norm_eps"] = layer_norm_eps;
  j["position_embedding_type"] = position_embedding_type;
  j["classifier_dropout"] = classifier_dropout ? json(*classifier_dropout) : json(nullptr);
  return j;
}

std::shared_ptr<torch::nn::Module> add_holder(torch::nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

namespace {
const char* const kActivations = "gelu, gelu_new, gelu_pytorch_tanh, relu, silu, swish, tanh";

torch::nn::LayerNorm make_layer_norm(const BertConfig& c) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps));
}
}  // namespace

namespace {
thread_local const LinearHook* linear_hook = nullptr;
}  // namespace

ScopedLinearHook::ScopedLinearHook(const LinearHook* hook) : previous_(linear_hook) { linear_hook = hook; }
ScopedLinearHook::~ScopedLinearHook() { linear_hook = previous_; }
const LinearHook* current_linear_hook() { return linear_hook; }

torch::Tensor linear(const torch::Tensor& x, const torch::nn::Linear& layer) {
  if (linear_hook) {
    auto y = (*linear_hook)(x, *layer);
    if (y.defined()) return y;
  }
  return torch::linear(x, layer->weight, layer->bias);
}

torch::Tensor layer_norm(const torch::Tensor& x, const torch::nn::LayerNorm& ln) {
  return torch::layer_norm(x, {x.size(-1)}, ln->weight, ln->bias, ln->options.eps());
}

torch::Tensor activation(const torch::Tensor& x, const std::string& name) {
  if (name == "gelu") return torch::gelu(x);
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return torch::gelu(x, "tanh");
  if (name == "relu") return torch::relu(x);
  if (name == "silu" || name == "swish") return torch::silu(x);
  if (name == "tanh") return torch::tanh(x);
  input_error("hidden_act '", name, "' is not supported (supported: ", kActivations, ")");
}

void check_activation_name(const std::string& name, const std::string& source) {
  for (const char* known : {"gelu", "gelu_new", "gelu_pytorch_tanh", "relu", "silu", "swish", "tanh"}) {
    if (name == known) return;
  }
  input_error(source, ": hidden_act '", name, "' is not supported (supported: ", kActivations, ")");
}

// ---- embeddings ----

BertEmbeddingsImpl::BertEmbeddingsImpl(const BertConfig& c, PositionScheme scheme)
    : scheme_(scheme), pad_token_id_(c.common.pad_token_id.value_or(0)), dropout_(c.hidden_dropout_prob) {
  word_embeddings = register_module("word_embeddings", torch::nn::Embedding(c.vocab_size, c.hidden_size));
  position_embeddings =
      register_module("position_embeddings", torch::nn::Embedding(c.max_position_embeddings, c.hidden_size));
  token_type_embeddings =
      register_module("token_type_embeddings", torch::nn::Embedding(c.type_vocab_size, c.hidden_size));
  LayerNorm = register_module("LayerNorm", make_layer_norm(c));
}

torch::Tensor BertEmbeddingsImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids) {
  const auto T = input_ids.size(1);
  torch::Tensor position_ids;  // [B, T] or [1, T]
  if (scheme_ == PositionScheme::kAbsolute) {
    position_ids = torch::arange(T, input_ids.options()).unsqueeze(0);
  } else {
    const auto real = input_ids.ne(pad_token_id_).to(torch::kLong);     // [B, T]
    position_ids = torch::cumsum(real, /*dim=*/1) * real + pad_token_id_;  // real tokens from pad + 1
  }
  torch::Tensor types = token_type_ids.defined() ? token_type_ids : torch::zeros_like(input_ids);
  auto x = torch::embedding(word_embeddings->weight, input_ids);        // [B, T, H]
  x = x + torch::embedding(token_type_embeddings->weight, types);       // [B, T, H]
  x = x + torch::embedding(position_embeddings->weight, position_ids);  // [B, T, H]
  x = layer_norm(x, LayerNorm);
  return torch::dropout(x, dropout_, is_training());
}

// ---- one encoder layer ----

BertLayerImpl::BertLayerImpl(const BertConfig& c)
    : num_heads_(c.num_attention_heads),
      head_dim_(c.hidden_size / c.num_attention_heads),
      hidden_dropout_(c.hidden_dropout_prob),
      attention_dropout_(c.attention_probs_dropout_prob),
      hidden_act_(c.hidden_act) {
  const auto H = c.hidden_size;
  auto attention = add_holder(*this, "attention");
  auto self = add_holder(*attention, "self");
  query = self->register_module("query", torch::nn::Linear(H, H));
  key = self->register_module("key", torch::nn::Linear(H, H));
  value = self->register_module("value", torch::nn::Linear(H, H));
  auto attention_output = add_holder(*attention, "output");
  attention_output_dense = attention_output->register_module("dense", torch::nn::Linear(H, H));
  attention_output_LayerNorm = attention_output->register_module("LayerNorm", make_layer_norm(c));
  auto intermediate = add_holder(*this, "intermediate");
  intermediate_dense = intermediate->register_module("dense", torch::nn::Linear(H, c.intermediate_size));
  auto output = add_holder(*this, "output");
  output_dense = output->register_module("dense", torch::nn::Linear(c.intermediate_size, H));
  output_LayerNorm = output->register_module("LayerNorm", make_layer_norm(c));
}

torch::Tensor BertLayerImpl::forward(const torch::Tensor& hidden, const torch::Tensor& additive_mask,
                                     int64_t query_positions) {
  const auto B = hidden.size(0);
  const auto T = hidden.size(1);
  const auto H = hidden.size(2);
  const auto Q = query_positions > 0 ? std::min(query_positions, T) : T;
  // The positions whose output is computed: all of them, or the first Q.
  const auto queried = Q == T ? hidden : hidden.narrow(1, 0, Q);  // [B, Q, H]
  auto heads = [&](const torch::Tensor& x, int64_t rows) {  // [B, rows, H] -> [B, N, rows, D]
    return x.view({B, rows, num_heads_, head_dim_}).transpose(1, 2);
  };
  const auto q = heads(linear(queried, query), Q);
  const auto k = heads(linear(hidden, key), T);
  const auto v = heads(linear(hidden, value), T);
  // Same order of operations as transformers: (q k^T) / sqrt(D) + mask.
  auto scores = torch::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(head_dim_));  // [B, N, Q, T]
  scores = scores + additive_mask;
  auto probs = torch::softmax(scores, /*dim=*/-1);
  probs = torch::dropout(probs, attention_dropout_, is_training());
  auto context = torch::matmul(probs, v).transpose(1, 2).reshape({B, Q, H});  // [B, Q, H]

  auto attended = torch::dropout(linear(context, attention_output_dense), hidden_dropout_, is_training());
  attended = layer_norm(attended + queried, attention_output_LayerNorm);  // [B, Q, H]

  auto inner = activation(linear(attended, intermediate_dense), hidden_act_);  // [B, Q, I]
  auto out = torch::dropout(linear(inner, output_dense), hidden_dropout_, is_training());
  return layer_norm(out + attended, output_LayerNorm);  // [B, Q, H]
}

// ---- BertModel ----

BertCoreImpl::BertCoreImpl(const BertConfig& c, PositionScheme scheme, bool add_pooling_layer)
    : add_pooling_layer_(add_pooling_layer) {
  embeddings = register_module("embeddings", BertEmbeddings(c, scheme));
  auto encoder = add_holder(*this, "encoder");
  layers = encoder->register_module("layer", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) layers->push_back(BertLayer(c));
  if (add_pooling_layer) {
    auto pooler = add_holder(*this, "pooler");
    pooler_dense = pooler->register_module("dense", torch::nn::Linear(c.hidden_size, c.hidden_size));
  }
}

Outputs BertCoreImpl::forward(const Inputs& in, bool output_hidden_states, bool first_position_only,
                              int64_t num_layers) {
  Outputs out;
  auto hidden = embeddings->forward(in.input_ids, in.token_type_ids);  // [B, T, H]
  // transformers' extended mask: 0 where attended, the dtype's lowest value where masked.
  const auto dtype = hidden.scalar_type();
  const double lowest = dtype == torch::kDouble ? std::numeric_limits<double>::lowest()
                                                : static_cast<double>(std::numeric_limits<float>::lowest());
  const auto additive_mask =
      (1.0 - in.attention_mask.to(dtype)).mul(lowest).unsqueeze(1).unsqueeze(2);  // [B, 1, 1, T]
  output_hidden_states = output_hidden_states && !first_position_only;
  if (output_hidden_states) out.hidden_states.push_back(hidden);
  const size_t run = num_layers < 0 ? layers->size() : std::min(layers->size(), static_cast<size_t>(num_layers));
  const size_t last = layers->size() - 1;
  for (size_t i = 0; i < run; ++i) {
    const int64_t query_positions = first_position_only && i == last ? 1 : 0;
    hidden = layers[i]->as<BertLayer>()->forward(hidden, additive_mask, query_positions);
    if (output_hidden_states) out.hidden_states.push_back(hidden);
  }
  out.last_hidden_state = hidden;
  if (add_pooling_layer_ && run == layers->size()) {
    const auto first = hidden.select(/*dim=*/1, /*index=*/0);  // [B, H]
    out.pooler_output = torch::tanh(linear(first, pooler_dense));
  }
  return out;
}

// ---- weights ----

void init_bert_weights(torch::nn::Module& module, double initializer_range) {
  torch::NoGradGuard no_grad;
  auto init = [&](torch::nn::Module& m) {
    if (auto* lin = m.as<torch::nn::Linear>()) {
      lin->weight.normal_(0.0, initializer_range);
      if (lin->bias.defined()) lin->bias.zero_();
    } else if (auto* emb = m.as<torch::nn::Embedding>()) {
      emb->weight.normal_(0.0, initializer_range);
    } else if (auto* ln = m.as<torch::nn::LayerNorm>()) {
      ln->weight.fill_(1.0);
      ln->bias.zero_();
    }
  };
  // modules(include_self=true) needs the top module to be held by a shared_ptr, which it is not
  // while its constructor runs.
  init(module);
  for (auto& m : module.modules(/*include_self=*/false)) init(*m);
}

// ---- BertModel with a head ----

namespace {
// BERT's sequence-classification, multiple-choice and retrieval heads read the pooled first position.
bool reads_pooler(HeadKind head) {
  return head == HeadKind::kSequenceClassification || head == HeadKind::kMultipleChoice ||
         head == HeadKind::kRetrieval;
}
}  // namespace

bool BertEncoderModel::builds_pooler(const BuildOptions& options) {
  return options.head == HeadKind::kNone ? options.add_pooling_layer : reads_pooler(options.head);
}

BertEncoderModel::BertEncoderModel(BertConfig config, nlohmann::json raw_config, BuildOptions options)
    : config_(std::move(config)), raw_config_(std::move(raw_config)), options_(options) {
  check_activation_name(config_.hidden_act, "config.json");
  check_family_head(options_.head, "config.json");
  options_.add_pooling_layer = builds_pooler(options_);
  if (options_.head == HeadKind::kQuestionAnswering) config_.common.set_labels(2);
  bert_ = register_module("bert", BertCore(config_, PositionScheme::kAbsolute, options_.add_pooling_layer));
  build_head();
  init_weights();
}

void BertEncoderModel::build_head() {
  if (options_.head == HeadKind::kNone) return;
  if (options_.head == HeadKind::kRetrieval) {
    build_logit_scale(*this);
    return;
  }
  const std::string name = options_.head == HeadKind::kQuestionAnswering ? "qa_outputs" : "classifier";
  auto layer = torch::nn::Linear(config_.hidden_size, head_outputs(options_.head, num_labels()));
  classifier_ = named_children().contains(name) ? replace_module(name, layer) : register_module(name, layer);
}

void BertEncoderModel::apply_head(Outputs& out, int64_t choices) {
  const double p = config_.classifier_dropout.value_or(config_.hidden_dropout_prob);
  switch (options_.head) {
    case HeadKind::kNone:
    case HeadKind::kMaskedLM: return;
    case HeadKind::kSequenceClassification:
    case HeadKind::kMultipleChoice: {
      const auto pooled = torch::dropout(out.pooler_output, p, is_training());    // [B, H] | [B·K, H]
      out.logits = torch::linear(pooled, classifier_->weight, classifier_->bias);  // [B, C] | [B·K, 1]
      if (choices > 0) out.logits = out.logits.view({-1, choices});                // [B, K]
      return;
    }
    case HeadKind::kTokenClassification: {
      const auto x = torch::dropout(out.last_hidden_state, p, is_training());  // [B, T, H]
      out.logits = torch::linear(x, classifier_->weight, classifier_->bias);   // [B, T, C]
      return;
    }
    case HeadKind::kQuestionAnswering:
      split_span_logits(torch::linear(out.last_hidden_state, classifier_->weight, classifier_->bias), out);
      return;
    case HeadKind::kRetrieval: out.logits = retrieval_embedding(out.pooler_output); return;  // [B, H]
  }
}

Outputs BertEncoderModel::forward(const Inputs& inputs, bool output_hidden_states) {
  const int64_t choices = options_.head == HeadKind::kMultipleChoice ? num_choices(inputs) : 0;
  Outputs out = bert_->forward(choices ? flatten_choices(inputs) : inputs, output_hidden_states);
  apply_head(out, choices);
  return out;
}

torch::Tensor BertEncoderModel::logits(const Inputs& inputs) {
  if (!reads_pooler(options_.head)) return EncoderModel::logits(inputs);
  const int64_t choices = options_.head == HeadKind::kMultipleChoice ? num_choices(inputs) : 0;
  Outputs out = bert_->forward(choices ? flatten_choices(inputs) : inputs, /*output_hidden_states=*/false,
                               /*first_position_only=*/true);
  apply_head(out, choices);
  return out.logits;
}

torch::Tensor BertEncoderModel::hidden_state(const Inputs& inputs, int64_t layer) {
  check_hidden_layer(layer, num_layers());
  return bert_->forward(inputs, /*output_hidden_states=*/false, /*first_position_only=*/false, layer).last_hidden_state;
}

ParamGroup BertEncoderModel::param_group(const std::string& name) const {
  if (name.rfind("bert.embeddings.", 0) == 0) return ParamGroup::kEmbeddings;
  if (name.rfind("bert.encoder.", 0) == 0) return ParamGroup::kEncoder;
  if (name.rfind("bert.pooler.", 0) == 0) return ParamGroup::kPooler;
  return ParamGroup::kHead;
}

nlohmann::json BertEncoderModel::config_json() const {
  BertConfig c = config_;
  c.common.architectures = {"Bert" + head_class_suffix(options_.head)};
  return c.to_json(raw_config_);
}

void BertEncoderModel::init_weights() {
  init_bert_weights(*this, config_.initializer_range);
  // transformers zeroes the padding row of the word embeddings (padding_idx).
  torch::NoGradGuard no_grad;
  bert_->embeddings->word_embeddings->weight[pad_token_id()].zero_();
}

void BertEncoderModel::reset_head(int64_t num_labels) {
  STILTS_CHECK(has_head(), "reset_head on a model built without a head");
  if (options_.head != HeadKind::kQuestionAnswering) config_.common.set_labels(num_labels);
  build_head();
  if (classifier_) init_bert_weights(*classifier_, config_.initializer_range);
}

// ---- the family ----

ParameterCounts bert_base_parameters(const BertConfig& c, bool pooler) {
  const int64_t H = c.hidden_size, I = c.intermediate_size;
  const int64_t layer_norm = 2 * H;
  ParameterCounts counts;
  counts.embeddings = (c.vocab_size + c.max_position_embeddings + c.type_vocab_size) * H + layer_norm;
  const int64_t attention = 4 * (H * H + H) + layer_norm;  // query, key, value, output dense + LayerNorm
  const int64_t feed_forward = (H * I + I) + (I * H + H) + layer_norm;
  counts.encoder = c.num_hidden_layers * (attention + feed_forward);
  counts.pooler = pooler ? H * H + H : 0;
  return counts;
}

double bert_forward_flops(const json& config, int64_t seq_len, bool with_head, const std::string& source) {
  const auto b = BertConfig::from_json(config, source);
  const double T = static_cast<double>(seq_len);
  const double H = static_cast<double>(b.hidden_size), I = static_cast<double>(b.intermediate_size);
  const double C = static_cast<double>(b.common.num_labels());
  const double layer = 4 * T * H * H    // Q, K, V and output projections
                       + 2 * T * T * H  // scores q k^T [T, T] per head, and probs v
                       + 2 * T * H * I;  // feed-forward
  double macs = static_cast<double>(b.num_hidden_layers) * layer;  // multiply-adds
  if (with_head && b.num_hidden_layers > 0) {
    // EncoderModel::logits computes the last layer at the [CLS] position only: keys and values of every
    // position, the query, scores, output projection and feed-forward of one.
    const double last = 2 * T * H * H + 2 * H * H + 2 * T * H + 2 * H * I;
    macs += last - layer;
  }
  if (with_head) macs += H * H + H * C;  // BERT: pooler + classifier; RoBERTa: dense + out_proj ([CLS] only)
  return 2 * macs;
}

MaskedLMHead bert_masked_lm_head_sizes(const BertConfig& c) {
  MaskedLMHead head;
  head.hidden_size = c.hidden_size;
  head.vocab_size = c.vocab_size;
  head.layer_norm_eps = c.layer_norm_eps;
  head.initializer_range = c.initializer_range;
  return head;
}

namespace {

ParameterCounts count_bert_parameters(const json& config, const BuildOptions& options, const std::string& source) {
  check_family_head(options.head, source);
  const BertConfig c = BertConfig::from_json(config, source);
  ParameterCounts counts = bert_base_parameters(c, BertEncoderModel::builds_pooler(options));
  if (options.head == HeadKind::kRetrieval) {
    counts.head = 1;  // logit_scale
  } else if (options.head != HeadKind::kNone) {
    const int64_t outputs = head_outputs(options.head, c.common.num_labels());
    counts.head = c.hidden_size * outputs + outputs;  // classifier | qa_outputs
  }
  return counts;
}

// BertForMaskedLM: cls.predictions.transform.{dense,LayerNorm} with hidden_act, cls.predictions.bias.
MaskedLMHead bert_masked_lm_head(const json& config, const std::string& source) {
  const BertConfig c = BertConfig::from_json(config, source);
  MaskedLMHead head = bert_masked_lm_head_sizes(c);
  head.architecture = "BertForMaskedLM";
  head.root = "cls.predictions";
  head.transform = "cls.predictions.transform";
  head.layer_norm = "LayerNorm";
  head.activation = c.hidden_act;
  head.ignored_prefixes = {"cls.seq_relationship."};  // BertForPreTraining's next-sentence head
  return head;
}

}  // namespace

const Family& bert_family() {
  static const Family family{/*name=*/"BERT", /*model_types=*/{{"bert", "wordpiece"}},
                             build_model<BertEncoderModel, BertConfig>,
                             count_bert_parameters, bert_forward_flops, bert_masked_lm_head,
                             /*head_weight_prefixes=*/{"classifier.", "qa_outputs.", kLogitScaleName}};
  return family;
}

}  // namespace stilts::models
