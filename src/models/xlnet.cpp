// Shape letters (see model.h): B batch, T tokens, H d_model, N n_head, D d_head, I d_inner, C num_labels,
// P = 2T relative distances.
//
// transformers' XLNet code works time-major ([T, B, ...]) with einsum; this file is batch-major with
// matmul. Each step keeps transformers' order of operations (the scores are (ac + bd + ef) * scale,
// then 1e30 * mask is subtracted), so results agree to float rounding.
#include "models/xlnet.h"

#include <cmath>

#include "common/error.h"
#include "models/bert.h"

namespace stilts::models {

namespace config_fields = io::config_fields;
using nlohmann::json;

// ---- config.json ----

XLNetConfig XLNetConfig::from_json(const json& j, const std::string& source) {
  using config_fields::read;
  XLNetConfig c;
  c.common = config_fields::read_common(j, source);
  if (!j.contains("vocab_size")) input_error(source, ": field 'vocab_size' is missing");
  read(j, "vocab_size", c.vocab_size, source);
  read(j, "d_model", c.d_model, source);
  read(j, "n_layer", c.n_layer, source);
  read(j, "n_head", c.n_head, source);
  c.d_head = c.n_head > 0 ? c.d_model / c.n_head : 0;
  read(j, "d_head", c.d_head, source);
  read(j, "d_inner", c.d_inner, source);
  read(j, "ff_activation", c.ff_activation, source);
  read(j, "untie_r", c.untie_r, source);
  read(j, "attn_type", c.attn_type, source);
  read(j, "initializer_range", c.initializer_range, source);
  read(j, "layer_norm_eps", c.layer_norm_eps, source);
  read(j, "dropout", c.dropout, source);
  config_fields::read_nullable(j, "mem_len", c.mem_len, source);
  config_fields::read_nullable(j, "reuse_len", c.reuse_len, source);
  read(j, "use_mems_eval", c.use_mems_eval, source);
  read(j, "use_mems_train", c.use_mems_train, source);
  read(j, "bi_data", c.bi_data, source);
  read(j, "clamp_len", c.clamp_len, source);
  read(j, "same_length", c.same_length, source);
  read(j, "summary_type", c.summary_type, source);
  read(j, "summary_use_proj", c.summary_use_proj, source);
  config_fields::read_nullable(j, "summary_activation", c.summary_activation, source);
  read(j, "summary_last_dropout", c.summary_last_dropout, source);
  read(j, "summary_first_dropout", c.summary_first_dropout, source);
  read(j, "start_n_top", c.start_n_top, source);
  read(j, "end_n_top", c.end_n_top, source);
  // Not an XLNetConfig field; when true transformers projects the summary straight to the labels,
  // which no XLNetForSequenceClassification checkpoint does (logits_proj expects d_model inputs).
  bool summary_proj_to_labels = false;
  read(j, "summary_proj_to_labels", summary_proj_to_labels, source);
  if (summary_proj_to_labels) {
    input_error(source, ": summary_proj_to_labels true is not supported (XLNetForSequenceClassification "
                        "projects the summary to d_model, then logits_proj to the labels)");
  }
  c.validate(source);
  return c;
}

void XLNetConfig::validate(const std::string& source) const {
  auto positive = [&](const char* name, int64_t v) {
    if (v <= 0) input_error(source, ": field '", name, "' must be positive, got ", v);
  };
  positive("vocab_size", vocab_size);
  positive("d_model", d_model);
  positive("n_layer", n_layer);
  positive("n_head", n_head);
  positive("d_inner", d_inner);
  if (d_model % n_head != 0) input_error(source, ": d_model ", d_model, " is not a multiple of n_head ", n_head);
  if (d_head != d_model / n_head) {
    input_error(source, ": d_head ", d_head, " must equal d_model / n_head = ", d_model / n_head);
  }
  if (attn_type != "bi") {
    input_error(source, ": attn_type '", attn_type,
                "' is not supported (supported: bi; 'uni' is XLNet's causal language-model setting)");
  }
  if (bi_data) {
    input_error(source, ": bi_data true is not supported (it is XLNet's pretraining data pipeline; "
                        "fine-tuning checkpoints use false)");
  }
  if (summary_type != "last" && summary_type != "first" && summary_type != "mean" && summary_type != "cls_index") {
    input_error(source, ": summary_type '", summary_type,
                "' is not supported (supported: last, first, mean, cls_index)");
  }
  auto probability = [&](const char* name, double p) {
    if (p < 0.0 || p >= 1.0) input_error(source, ": field '", name, "' must be in [0, 1), got ", p);
  };
  probability("dropout", dropout);
  probability("summary_last_dropout", summary_last_dropout);
  if (summary_first_dropout) probability("summary_first_dropout", *summary_first_dropout);
  if (layer_norm_eps <= 0) input_error(source, ": field 'layer_norm_eps' must be positive");
  if (mem_len && *mem_len < 0) input_error(source, ": field 'mem_len' must be >= 0 or null, got ", *mem_len);
  if (reuse_len && *reuse_len < 0) input_error(source, ": field 'reuse_len' must be >= 0 or null, got ", *reuse_len);
}

json XLNetConfig::to_json(const json& raw) const {
  json j = raw.is_object() ? raw : json::object();
  config_fields::write_common(common, j);
  j["vocab_size"] = vocab_size;
  j["d_model"] = d_model;
  j["n_layer"] = n_layer;
  j["n_head"] = n_head;
  j["d_head"] = d_head;
  j["d_inner"] = d_inner;
  j["ff_activation"] = ff_activation;
  j["untie_r"] = untie_r;
  j["attn_type"] = attn_type;
  j["initializer_range"] = initializer_range;
  j["layer_norm_eps"] = layer_norm_eps;
  j["dropout"] = dropout;
  j["mem_len"] = mem_len ? json(*mem_len) : json(nullptr);
  j["reuse_len"] = reuse_len ? json(*reuse_len) : json(nullptr);
  j["use_mems_eval"] = use_mems_eval;
  j["use_mems_train"] = use_mems_train;
  j["bi_data"] = bi_data;
  j["clamp_len"] = clamp_len;
  j["same_length"] = same_length;
  j["summary_type"] = summary_type;
  j["summary_use_proj"] = summary_use_proj;
  j["summary_activation"] = summary_activation ? json(*summary_activation) : json(nullptr);
  j["summary_last_dropout"] = summary_last_dropout;
  if (summary_first_dropout) j["summary_first_dropout"] = *summary_first_dropout;
  j["start_n_top"] = start_n_top;
  j["end_n_top"] = end_n_top;
  return j;
}

namespace {

torch::nn::LayerNorm make_layer_norm(const XLNetConfig& c) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.d_model}).eps(c.layer_norm_eps));
}

// check_activation_name, but naming the XLNet field in the error.
void check_activation_field(const std::string& name, const char* field, const std::string& source) {
  try {
    check_activation_name(name, source);
  } catch (const InputError&) {
    input_error(source, ": ", field, " '", name,
                "' is not supported (supported: gelu, gelu_new, gelu_pytorch_tanh, relu, silu, swish, tanh)");
  }
}

// [B, N, T, P] scores against the distances T .. -T+1 -> [B, N, T, T] scores against key j, i.e. the
// column for distance i - j (transformers' rel_shift_bnij).
torch::Tensor rel_shift_bnij(const torch::Tensor& x, int64_t klen) {
  const auto B = x.size(0), N = x.size(1), T = x.size(2), P = x.size(3);
  return x.reshape({B, N, P, T}).slice(/*dim=*/2, /*start=*/1).reshape({B, N, T, P - 1}).slice(/*dim=*/3, 0, klen);
}

}  // namespace

// ---- relative attention ----

XLNetRelativeAttentionImpl::XLNetRelativeAttentionImpl(const XLNetConfig& c)
    : n_head_(c.n_head), d_head_(c.d_head), dropout_(c.dropout) {
  const auto H = c.d_model, N = c.n_head, D = c.d_head;
  q = register_parameter("q", torch::empty({H, N, D}));
  k = register_parameter("k", torch::empty({H, N, D}));
  v = register_parameter("v", torch::empty({H, N, D}));
  o = register_parameter("o", torch::empty({H, N, D}));
  r = register_parameter("r", torch::empty({H, N, D}));
  r_r_bias = register_parameter("r_r_bias", torch::empty({N, D}));
  r_s_bias = register_parameter("r_s_bias", torch::empty({N, D}));
  r_w_bias = register_parameter("r_w_bias", torch::empty({N, D}));
  seg_embed = register_parameter("seg_embed", torch::empty({2, N, D}));
  layer_norm = register_module("layer_norm", make_layer_norm(c));
}

torch::Tensor XLNetRelativeAttentionImpl::forward(const torch::Tensor& hidden, const torch::Tensor& pos_emb,
                                                  const torch::Tensor& seg_diff, const torch::Tensor& masked) {
  const auto T = hidden.size(1);
  const auto H = hidden.size(2);
  const auto ND = n_head_ * d_head_;
  auto project = [&](const torch::Tensor& x, const torch::Tensor& w) {  // [..., H] -> [..., N, D]
    auto sizes = x.sizes().vec();
    sizes.back() = n_head_;
    sizes.push_back(d_head_);
    return torch::matmul(x, w.view({H, ND})).view(sizes);
  };
  const auto q_head = project(hidden, q);                           // [B, T, N, D]
  const auto k_head = project(hidden, k).permute({0, 2, 3, 1});     // [B, N, D, T]
  const auto v_head = project(hidden, v).transpose(1, 2);           // [B, N, T, D]
  const auto k_head_r = project(pos_emb.to(r.scalar_type()), r).permute({1, 2, 0});  // [N, D, P]

  // content score, position score (shifted so column j is distance i - j), segment score
  const auto ac = torch::matmul((q_head + r_w_bias).transpose(1, 2), k_head);  // [B, N, T, T]
  auto bd = torch::matmul((q_head + r_r_bias).transpose(1, 2), k_head_r);      // [B, N, T, P]
  bd = rel_shift_bnij(bd, T);                                                  // [B, N, T, T]
  auto score = ac + bd;
  if (seg_diff.defined()) {
    // transformers contracts a one-hot [same, differ] with both seg_embed rows; picking the row is exact.
    const auto ef = torch::einsum("bind,snd->bnis", {q_head + r_s_bias, seg_embed});  // [B, N, T, 2]
    score = score + torch::where(seg_diff.unsqueeze(1), ef.select(-1, 1).unsqueeze(-1),
                                 ef.select(-1, 0).unsqueeze(-1));  // [B, N, T, T]
  }
  score = score * (1.0 / std::pow(static_cast<double>(d_head_), 0.5));
  if (masked.defined()) {
    const double big = score.scalar_type() == torch::kHalf ? 65500.0 : 1e30;
    score = score - masked.unsqueeze(1) * big;  // [B, N, T, T]
  }
  auto prob = torch::softmax(score, /*dim=*/3);
  prob = torch::dropout(prob, dropout_, is_training());
  const auto attn_vec = torch::matmul(prob, v_head).transpose(1, 2).reshape({hidden.size(0), T, ND});  // [B, T, N*D]

  auto attn_out = torch::matmul(attn_vec, o.view({H, ND}).t());  // [B, T, H]
  attn_out = torch::dropout(attn_out, dropout_, is_training());
  return models::layer_norm(attn_out + hidden, layer_norm);
}

// ---- feed-forward and layer ----

XLNetFeedForwardImpl::XLNetFeedForwardImpl(const XLNetConfig& c)
    : ff_activation_(c.ff_activation), dropout_(c.dropout) {
  layer_norm = register_module("layer_norm", make_layer_norm(c));
  layer_1 = register_module("layer_1", torch::nn::Linear(c.d_model, c.d_inner));
  layer_2 = register_module("layer_2", torch::nn::Linear(c.d_inner, c.d_model));
}

torch::Tensor XLNetFeedForwardImpl::forward(const torch::Tensor& hidden) {
  auto x = activation(linear(hidden, layer_1), ff_activation_);  // [B, T, I]
  x = torch::dropout(x, dropout_, is_training());
  x = torch::dropout(linear(x, layer_2), dropout_, is_training());  // [B, T, H]
  return models::layer_norm(x + hidden, layer_norm);
}

XLNetLayerImpl::XLNetLayerImpl(const XLNetConfig& c) {
  rel_attn = register_module("rel_attn", XLNetRelativeAttention(c));
  ff = register_module("ff", XLNetFeedForward(c));
}

torch::Tensor XLNetLayerImpl::forward(const torch::Tensor& hidden, const torch::Tensor& pos_emb,
                                      const torch::Tensor& seg_diff, const torch::Tensor& masked) {
  return ff->forward(rel_attn->forward(hidden, pos_emb, seg_diff, masked));
}

// ---- XLNetModel ----

XLNetCoreImpl::XLNetCoreImpl(const XLNetConfig& c)
    : d_model_(c.d_model), clamp_len_(c.clamp_len), dropout_(c.dropout) {
  word_embedding = register_module("word_embedding", torch::nn::Embedding(c.vocab_size, c.d_model));
  mask_emb = register_parameter("mask_emb", torch::empty({1, 1, c.d_model}));
  layer = register_module("layer", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.n_layer; ++i) layer->push_back(XLNetLayer(c));
}

torch::Tensor XLNetCoreImpl::relative_positional_encoding(int64_t T, const torch::Device& device) const {
  const auto opts = torch::TensorOptions().dtype(torch::kFloat).device(device);
  const auto freq_seq = torch::arange(0, d_model_, 2, opts);                       // [H/2]
  const auto inv_freq = torch::reciprocal(torch::pow(10000, freq_seq / d_model_));  // [H/2]
  auto pos_seq = torch::arange(T, -T, -1, opts);  // [P]: T, T-1, ..., -T+1 (attn_type "bi", no memory)
  if (clamp_len_ > 0) pos_seq = pos_seq.clamp(-clamp_len_, clamp_len_);
  const auto sinusoid = pos_seq.unsqueeze(1) * inv_freq.unsqueeze(0);  // [P, H/2]
  return torch::cat({torch::sin(sinusoid), torch::cos(sinusoid)}, /*dim=*/-1);  // [P, H]
}

Outputs XLNetCoreImpl::forward(const Inputs& in, bool output_hidden_states, int64_t num_layers) {
  Outputs out;
  const auto T = in.input_ids.size(1);
  auto hidden = torch::embedding(word_embedding->weight, in.input_ids);  // [B, T, H]
  hidden = torch::dropout(hidden, dropout_, is_training());
  const auto dtype = hidden.scalar_type();

  // transformers' non_tgt_mask for attn_type "bi": a padded key (input_mask = 1 - attention_mask) is
  // masked, except that every position attends to itself (so padded queries stay finite).
  torch::Tensor masked;  // [B, T, T], 1 = not attended
  if (in.attention_mask.defined()) {
    const auto input_mask = (1 - in.attention_mask).to(dtype);         // [B, T]
    const auto eye = torch::eye(T, hidden.options());                  // [T, T]
    masked = ((input_mask.unsqueeze(1) - eye) > 0).to(dtype);          // [B, T, T]
  }
  // Relative segment encoding: only whether two tokens' types differ matters. Without token types
  // transformers drops the segment term altogether (not the same as all types equal).
  torch::Tensor seg_diff;  // [B, T, T] bool
  if (in.token_type_ids.defined()) seg_diff = in.token_type_ids.unsqueeze(2) != in.token_type_ids.unsqueeze(1);

  auto pos_emb = relative_positional_encoding(T, hidden.device());  // [P, H] float32
  pos_emb = torch::dropout(pos_emb, dropout_, is_training());

  const size_t run = num_layers < 0 ? layer->size() : std::min(layer->size(), static_cast<size_t>(num_layers));
  for (size_t i = 0; i < run; ++i) {
    if (output_hidden_states) out.hidden_states.push_back(hidden);
    hidden = layer[i]->as<XLNetLayer>()->forward(hidden, pos_emb, seg_diff, masked);
  }
  if (output_hidden_states) out.hidden_states.push_back(hidden);
  out.last_hidden_state = num_layers < 0 ? torch::dropout(hidden, dropout_, is_training()) : hidden;
  return out;
}

// ---- weights ----

void init_xlnet_weights(torch::nn::Module& module, double initializer_range) {
  init_bert_weights(module, initializer_range);
  torch::NoGradGuard no_grad;
  auto init = [&](torch::nn::Module& m) {
    if (auto* attn = m.as<XLNetRelativeAttention>()) {
      for (auto* t : {&attn->q, &attn->k, &attn->v, &attn->o, &attn->r, &attn->r_r_bias, &attn->r_s_bias,
                      &attn->r_w_bias, &attn->seg_embed}) {
        t->normal_(0.0, initializer_range);
      }
    } else if (auto* core = m.as<XLNetCore>()) {
      core->mask_emb.normal_(0.0, initializer_range);
    }
  };
  // As in init_bert_weights: the top module may not be held by a shared_ptr yet.
  init(module);
  for (auto& m : module.modules(/*include_self=*/false)) init(*m);
}

// ---- XLNetForSequenceClassification ----

XLNetEncoderModel::XLNetEncoderModel(XLNetConfig config, nlohmann::json raw_config, BuildOptions options)
    : config_(std::move(config)), raw_config_(std::move(raw_config)), options_(options) {
  check_activation_field(config_.ff_activation, "ff_activation", "config.json");
  if (config_.summary_activation) {
    check_activation_field(*config_.summary_activation, "summary_activation", "config.json");
  }
  if (config_.d_model % 2 != 0) {
    input_error("config.json: d_model ", config_.d_model, " must be even (sin/cos halves of the relative encoding)");
  }
  check_family_head(options_.head, "config.json");
  if (options_.head == HeadKind::kRetrieval) {
    input_error("config.json: XLNet has no retrieval head (xtreme's dual encoder is BERT's and XLM-R's); ",
                "use sentence-retrieval, which pools a hidden layer of any model");
  }
  options_.add_pooling_layer = false;  // XLNet has no pooler
  if (options_.head == HeadKind::kQuestionAnswering) config_.common.set_labels(2);
  transformer_ = register_module("transformer", XLNetCore(config_));
  build_head();
  init_weights();
}

void XLNetEncoderModel::build_head() {
  const auto H = config_.d_model;
  auto put = [&](const std::string& name, std::shared_ptr<torch::nn::Module> module) {
    if (named_children().contains(name)) {
      replace_module(name, module);
    } else {
      register_module(name, module);
    }
  };
  summary_ = nullptr;
  sequence_summary_ = nullptr;
  switch (options_.head) {
    case HeadKind::kNone:
    case HeadKind::kMaskedLM:
    case HeadKind::kRetrieval: return;  // refused by the constructor
    case HeadKind::kSequenceClassification:
    case HeadKind::kMultipleChoice:
      sequence_summary_ = std::make_shared<torch::nn::Module>();
      if (config_.summary_use_proj) summary_ = sequence_summary_->register_module("summary", torch::nn::Linear(H, H));
      put("sequence_summary", sequence_summary_);
      logits_proj_ = torch::nn::Linear(H, head_outputs(options_.head, num_labels()));
      put("logits_proj", logits_proj_.ptr());
      return;
    case HeadKind::kTokenClassification:
      logits_proj_ = torch::nn::Linear(H, num_labels());
      put("classifier", logits_proj_.ptr());
      return;
    case HeadKind::kQuestionAnswering:
      logits_proj_ = torch::nn::Linear(H, 2);
      put("qa_outputs", logits_proj_.ptr());
      return;
  }
}

torch::Tensor XLNetEncoderModel::summary(const torch::Tensor& h) {
  torch::Tensor x;  // [B, H]
  if (config_.summary_type == "first") {
    x = h.select(/*dim=*/1, /*index=*/0);
  } else if (config_.summary_type == "mean") {
    x = h.mean(/*dim=*/1);  // over every position, padding included, as transformers does
  } else {
    x = h.select(/*dim=*/1, /*index=*/-1);  // "last" (and "cls_index" without an index): <cls> under left padding
  }
  if (config_.summary_first_dropout) x = torch::dropout(x, *config_.summary_first_dropout, is_training());
  if (summary_) x = linear(x, summary_);
  if (config_.summary_activation) x = activation(x, *config_.summary_activation);
  return torch::dropout(x, config_.summary_last_dropout, is_training());
}

torch::Tensor XLNetEncoderModel::hidden_state(const Inputs& inputs, int64_t layer) {
  check_hidden_layer(layer, num_layers());
  return transformer_->forward(inputs, /*output_hidden_states=*/false, layer).last_hidden_state;
}

Outputs XLNetEncoderModel::forward(const Inputs& inputs, bool output_hidden_states) {
  const int64_t choices = options_.head == HeadKind::kMultipleChoice ? num_choices(inputs) : 0;
  Outputs out = transformer_->forward(choices ? flatten_choices(inputs) : inputs, output_hidden_states);
  const auto& h = out.last_hidden_state;  // [B, T, H]
  switch (options_.head) {
    case HeadKind::kNone:
    case HeadKind::kMaskedLM:
    case HeadKind::kRetrieval: break;
    case HeadKind::kSequenceClassification: out.logits = linear(summary(h), logits_proj_); break;  // [B, C]
    case HeadKind::kMultipleChoice:
      out.logits = linear(summary(h), logits_proj_).view({-1, choices});  // [B, K]
      break;
    case HeadKind::kTokenClassification: out.logits = linear(h, logits_proj_); break;  // [B, T, C]
    case HeadKind::kQuestionAnswering: split_span_logits(linear(h, logits_proj_), out); break;
  }
  return out;
}

ParamGroup XLNetEncoderModel::param_group(const std::string& name) const {
  if (name.rfind("transformer.word_embedding.", 0) == 0 || name == "transformer.mask_emb") {
    return ParamGroup::kEmbeddings;
  }
  if (name.rfind("transformer.layer.", 0) == 0) return ParamGroup::kEncoder;
  return ParamGroup::kHead;
}

nlohmann::json XLNetEncoderModel::config_json() const {
  XLNetConfig c = config_;
  // XLNet's span head without beam search is transformers' XLNetForQuestionAnsweringSimple.
  const bool simple_span_head = options_.head == HeadKind::kQuestionAnswering;
  c.common.architectures = {"XLNet" + head_class_suffix(options_.head) + (simple_span_head ? "Simple" : "")};
  return c.to_json(raw_config_);
}

void XLNetEncoderModel::init_weights() { init_xlnet_weights(*this, config_.initializer_range); }

void XLNetEncoderModel::reset_head(int64_t num_labels) {
  STILTS_CHECK(has_head(), "reset_head on a model built without a head");
  if (options_.head != HeadKind::kQuestionAnswering) config_.common.set_labels(num_labels);
  build_head();
  if (sequence_summary_) init_xlnet_weights(*sequence_summary_, config_.initializer_range);
  init_xlnet_weights(*logits_proj_, config_.initializer_range);
}

// ---- the family ----

namespace {

ParameterCounts count_xlnet_parameters(const json& config, const BuildOptions& options, const std::string& source) {
  check_family_head(options.head, source);
  const auto x = XLNetConfig::from_json(config, source);
  const int64_t H = x.d_model, N = x.n_head, D = x.d_head, I = x.d_inner;
  ParameterCounts counts;
  counts.embeddings = x.vocab_size * H + H;  // word_embedding + mask_emb
  const int64_t attention = 5 * H * N * D   // q, k, v, o, r
                            + 3 * N * D     // r_w_bias, r_r_bias, r_s_bias
                            + 2 * N * D     // seg_embed
                            + 2 * H;        // layer_norm
  const int64_t feed_forward = (H * I + I) + (I * H + H) + 2 * H;
  counts.encoder = x.n_layer * (attention + feed_forward);
  // No pooler. The sequence-level heads summarise (sequence_summary, H x H when summary_use_proj), then
  // project (logits_proj); the token and span heads project every position.
  if (options.head != HeadKind::kNone) {
    const bool summary = options.head == HeadKind::kSequenceClassification || options.head == HeadKind::kMultipleChoice;
    const int64_t outputs = head_outputs(options.head, x.common.num_labels());
    counts.head = (summary && x.summary_use_proj ? H * H + H : 0) + H * outputs + outputs;
  }
  return counts;
}

// P = 2T relative distances.
double xlnet_forward_flops(const json& config, int64_t seq_len, bool with_head, const std::string& source) {
  const auto x = XLNetConfig::from_json(config, source);
  const double T = static_cast<double>(seq_len);
  const double H = static_cast<double>(x.d_model), ND = static_cast<double>(x.n_head * x.d_head);
  const double I = static_cast<double>(x.d_inner), C = static_cast<double>(x.common.num_labels());
  const double P = 2 * T;                 // relative distances
  const double layer = 3 * T * H * ND     // q, k, v
                       + P * H * ND       // r: the relative position encodings projected
                       + T * T * ND       // ac: content scores
                       + T * P * ND       // bd: position scores (before the shift)
                       + T * 2 * ND       // ef: segment scores against the 2 seg_embed rows
                       + T * T * ND       // probs v
                       + T * ND * H       // o
                       + 2 * T * H * I;   // feed-forward
  double macs = static_cast<double>(x.n_layer) * layer;  // multiply-adds
  if (with_head) macs += (x.summary_use_proj ? H * H : 0) + H * C;
  return 2 * macs;
}

}  // namespace

const Family& xlnet_family() {
  static const Family family{/*name=*/"XLNet", /*model_types=*/{{"xlnet", "sentencepiece-xlnet"}},
                             build_model<XLNetEncoderModel, XLNetConfig>,
                             count_xlnet_parameters, xlnet_forward_flops, /*masked_lm_head=*/nullptr,
                             /*head_weight_prefixes=*/
                             {"sequence_summary.", "logits_proj.", "classifier.", "qa_outputs."}};
  return family;
}

}  // namespace stilts::models
