// Letters: V vocabulary, H hidden, T tokens, I intermediate, N heads, D head dim, C classes,
// P positions (max_position_embeddings), S token types.
#include "bench/params.h"

#include <torch/torch.h>

#include <map>

#include "common/error.h"
#include "io/hf_config.h"
#include "models/bert.h"
#include "models/pretrained.h"
#include "models/xlnet.h"

namespace stilts::bench {

namespace fs = std::filesystem;

namespace {

bool is_bert_style(const std::string& type) { return type == "bert" || type == "roberta" || type == "xlm-roberta"; }

std::string type_of(const nlohmann::json& config, const std::string& source) {
  const std::string type = io::model_type_of(config, source);
  if (!is_bert_style(type) && type != "xlnet") {
    input_error(source, ": model_type '", type,
                "' has no analytic parameter/FLOP count (supported: bert, roberta, xlm-roberta, xlnet)");
  }
  return type;
}

}  // namespace

models::ParameterCounts analytic_parameters(const nlohmann::json& config, const models::BuildOptions& options,
                                            const std::string& source) {
  const std::string type = type_of(config, source);
  models::ParameterCounts c;
  if (is_bert_style(type)) {
    const auto b = models::BertConfig::from_json(config, source);
    b.validate(source);
    const int64_t H = b.hidden_size, I = b.intermediate_size, C = b.common.num_labels();
    const int64_t layer_norm = 2 * H;
    c.embeddings = (b.vocab_size + b.max_position_embeddings + b.type_vocab_size) * H + layer_norm;
    const int64_t attention = 4 * (H * H + H) + layer_norm;  // query, key, value, output dense + LayerNorm
    const int64_t feed_forward = (H * I + I) + (I * H + H) + layer_norm;
    c.encoder = b.num_hidden_layers * (attention + feed_forward);
    const bool roberta = type != "bert";
    // As the models build it: BERT's sequence head classifies the pooled [CLS]; RoBERTa's has its own
    // dense; both multiple-choice heads score the pooled first position; token and span heads read
    // every position and have no pooler.
    using models::HeadKind;
    bool pooler = options.add_pooling_layer;
    switch (options.head) {
      case HeadKind::kNone: break;
      case HeadKind::kSequenceClassification:
        pooler = !roberta;
        c.head = (roberta ? H * H + H : 0) + H * C + C;
        break;
      case HeadKind::kMultipleChoice:
        pooler = true;
        c.head = H + 1;
        break;
      default:
        pooler = false;
        c.head = H * models::head_outputs(options.head, C) + models::head_outputs(options.head, C);
    }
    c.pooler = pooler ? H * H + H : 0;
  } else {
    const auto x = models::XLNetConfig::from_json(config, source);
    x.validate(source);
    const int64_t H = x.d_model, N = x.n_head, D = x.d_head, I = x.d_inner, C = x.common.num_labels();
    c.embeddings = x.vocab_size * H + H;  // word_embedding + mask_emb
    const int64_t attention = 5 * H * N * D   // q, k, v, o, r
                              + 3 * N * D     // r_w_bias, r_r_bias, r_s_bias
                              + 2 * N * D     // seg_embed
                              + 2 * H;        // layer_norm
    const int64_t feed_forward = (H * I + I) + (I * H + H) + 2 * H;
    c.encoder = x.n_layer * (attention + feed_forward);
    const int64_t outputs = models::head_outputs(options.head, C);
    const bool summary = options.head == models::HeadKind::kSequenceClassification ||
                         options.head == models::HeadKind::kMultipleChoice;
    if (options.head != models::HeadKind::kNone) c.head = (summary && x.summary_use_proj ? H * H + H : 0) + H * outputs + outputs;
  }
  c.total = c.embeddings + c.encoder + c.pooler + c.head;
  c.trainable = c.total;
  return c;
}

double forward_flops(const nlohmann::json& config, int64_t seq_len, bool with_head, const std::string& source) {
  if (seq_len < 1) input_error(source, ": FLOPs need a sequence length >= 1, got ", seq_len);
  const std::string type = type_of(config, source);
  const double T = static_cast<double>(seq_len);
  double macs = 0;  // multiply-adds
  if (is_bert_style(type)) {
    const auto b = models::BertConfig::from_json(config, source);
    const double H = static_cast<double>(b.hidden_size), I = static_cast<double>(b.intermediate_size);
    const double C = static_cast<double>(b.common.num_labels());
    const double layer = 4 * T * H * H   // Q, K, V and output projections
                         + 2 * T * T * H  // scores q k^T [T, T] per head, and probs v
                         + 2 * T * H * I;  // feed-forward
    macs = static_cast<double>(b.num_hidden_layers) * layer;
    if (with_head && b.num_hidden_layers > 0) {
      // EncoderModel::logits computes the last layer at the [CLS] position only: keys and values of every
      // position, the query, scores, output projection and feed-forward of one.
      const double last = 2 * T * H * H + 2 * H * H + 2 * T * H + 2 * H * I;
      macs += last - layer;
    }
    if (with_head) macs += H * H + H * C;  // BERT: pooler + classifier; RoBERTa: dense + out_proj ([CLS] only)
  } else {
    const auto x = models::XLNetConfig::from_json(config, source);
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
    macs = static_cast<double>(x.n_layer) * layer;
    if (with_head) macs += (x.summary_use_proj ? H * H : 0) + H * C;
  }
  return 2 * macs;
}

ParameterReport parameter_report(const fs::path& dir, const fs::path& base) {
  const auto loaded = models::load_pretrained(dir);
  return parameter_report(*loaded.model, dir, base);
}

ParameterReport parameter_report(const models::EncoderModel& model, const fs::path& dir, const fs::path& base) {
  ParameterReport r;
  r.model_type = model.model_type();
  r.has_head = model.has_head();
  r.counts = models::count_parameters(model);
  r.bytes_on_disk = models::bytes_on_disk(dir);
  if (!base.empty()) {
    const auto base_loaded = models::load_pretrained(base);
    if (base_loaded.model->model_type() != r.model_type) {
      input_error(base.string(), ": the base model is '", base_loaded.model->model_type(), "', ", dir.string(),
                  " is '", r.model_type, "'");
    }
    std::map<std::string, torch::Tensor> base_params;
    for (const auto& p : base_loaded.model->named_parameters(/*recurse=*/true)) base_params[p.key()] = p.value();
    r.params_differing = 0;
    r.tensors_differing = 0;
    torch::NoGradGuard no_grad;
    for (const auto& p : model.named_parameters(/*recurse=*/true)) {
      const auto it = base_params.find(p.key());
      const bool same = it != base_params.end() && it->second.sizes() == p.value().sizes() &&
                        torch::equal(it->second, p.value());
      if (!same) {
        r.params_differing += p.value().numel();
        ++r.tensors_differing;
      }
    }
  }
  return r;
}

nlohmann::ordered_json to_json(const models::ParameterCounts& c) {
  return {{"total", c.total},   {"embeddings", c.embeddings}, {"encoder", c.encoder},
          {"pooler", c.pooler}, {"head", c.head},             {"trainable", c.trainable}};
}

nlohmann::ordered_json to_json(const ParameterReport& r) {
  auto null_if_negative = [](int64_t v) { return v < 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(v); };
  return {{"model_type", r.model_type},
          {"has_head", r.has_head},
          {"parameters", to_json(r.counts)},
          {"params_differing", null_if_negative(r.params_differing)},
          {"tensors_differing", null_if_negative(r.tensors_differing)},
          {"bytes_on_disk", r.bytes_on_disk},
          {"disk_mb", static_cast<double>(r.bytes_on_disk) / (1024.0 * 1024.0)}};
}

}  // namespace stilts::bench
