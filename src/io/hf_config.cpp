#include "io/hf_config.h"

#include "common/error.h"
#include "common/files.h"

namespace stilts::io {

namespace fs = std::filesystem;
using nlohmann::json;

void CommonConfig::set_labels(int64_t n, const std::vector<std::string>& names) {
  id2label.clear();
  for (int64_t i = 0; i < n; ++i) {
    id2label[i] = i < static_cast<int64_t>(names.size()) ? names[static_cast<size_t>(i)]
                                                          : "LABEL_" + std::to_string(i);
  }
}

namespace config_fields {

namespace {
[[noreturn]] void wrong_type(const json& j, const char* key, const char* expected, const std::string& source) {
  std::string value = j.at(key).dump();
  if (value.size() > 60) value = value.substr(0, 57) + "...";
  input_error(source, ": field '", key, "' must be ", expected, ", got ", value);
}
bool present(const json& j, const char* key) { return j.contains(key) && !j.at(key).is_null(); }
}  // namespace

void read(const json& j, const char* key, int64_t& out, const std::string& source) {
  if (!present(j, key)) return;
  const json& v = j.at(key);
  if (!v.is_number_integer()) wrong_type(j, key, "an integer", source);
  out = v.get<int64_t>();
}

void read(const json& j, const char* key, double& out, const std::string& source) {
  if (!present(j, key)) return;
  const json& v = j.at(key);
  if (!v.is_number()) wrong_type(j, key, "a number", source);
  out = v.get<double>();
}

void read(const json& j, const char* key, bool& out, const std::string& source) {
  if (!present(j, key)) return;
  const json& v = j.at(key);
  if (!v.is_boolean()) wrong_type(j, key, "true or false", source);
  out = v.get<bool>();
}

void read(const json& j, const char* key, std::string& out, const std::string& source) {
  if (!present(j, key)) return;
  const json& v = j.at(key);
  if (!v.is_string()) wrong_type(j, key, "a string", source);
  out = v.get<std::string>();
}

void read(const json& j, const char* key, std::optional<int64_t>& out, const std::string& source) {
  if (!present(j, key)) return;
  int64_t v = 0;
  read(j, key, v, source);
  out = v;
}

void read(const json& j, const char* key, std::optional<double>& out, const std::string& source) {
  if (!present(j, key)) return;
  double v = 0;
  read(j, key, v, source);
  out = v;
}

void read(const json& j, const char* key, std::optional<std::string>& out, const std::string& source) {
  if (!present(j, key)) return;
  std::string v;
  read(j, key, v, source);
  out = v;
}

CommonConfig read_common(const json& j, const std::string& source) {
  CommonConfig c;
  c.model_type = model_type_of(j, source);
  if (present(j, "architectures")) {
    const json& a = j.at("architectures");
    if (!a.is_array()) wrong_type(j, "architectures", "a list of strings", source);
    for (const auto& e : a) {
      if (!e.is_string()) wrong_type(j, "architectures", "a list of strings", source);
      c.architectures.push_back(e.get<std::string>());
    }
  }
  if (present(j, "id2label")) {
    const json& m = j.at("id2label");
    if (!m.is_object()) wrong_type(j, "id2label", "an object {\"0\": \"label\", ...}", source);
    for (const auto& [k, v] : m.items()) {
      size_t used = 0;
      int64_t id = -1;
      try {
        id = std::stoll(k, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != k.size() || id < 0 || !v.is_string()) {
        input_error(source, ": field 'id2label' must map label ids \"0\", \"1\", ... to names; got \"", k,
                    "\": ", v.dump());
      }
      c.id2label[id] = v.get<std::string>();
    }
    for (int64_t i = 0; i < static_cast<int64_t>(c.id2label.size()); ++i) {
      if (!c.id2label.count(i)) {
        input_error(source, ": field 'id2label' must have ids 0..", c.id2label.size() - 1, "; ", i, " is missing");
      }
    }
  } else if (present(j, "num_labels")) {
    int64_t n = 2;
    read(j, "num_labels", n, source);
    if (n < 1) input_error(source, ": field 'num_labels' must be >= 1, got ", n);
    c.set_labels(n);
  }
  read(j, "problem_type", c.problem_type, source);
  read(j, "torch_dtype", c.torch_dtype, source);
  read(j, "pad_token_id", c.pad_token_id, source);
  read(j, "bos_token_id", c.bos_token_id, source);
  read(j, "eos_token_id", c.eos_token_id, source);
  return c;
}

void write_common(const CommonConfig& c, json& j) {
  j["model_type"] = c.model_type;
  if (!c.architectures.empty()) j["architectures"] = c.architectures;
  if (!c.id2label.empty()) {
    json id2label = json::object();
    json label2id = json::object();
    for (const auto& [id, name] : c.id2label) {
      id2label[std::to_string(id)] = name;
      label2id[name] = id;
    }
    j["id2label"] = id2label;
    j["label2id"] = label2id;
  }
  j.erase("num_labels");  // transformers derives it from id2label
  if (c.problem_type) j["problem_type"] = *c.problem_type;
  if (c.torch_dtype) j["torch_dtype"] = *c.torch_dtype;
  if (c.pad_token_id) j["pad_token_id"] = *c.pad_token_id;
  if (c.bos_token_id) j["bos_token_id"] = *c.bos_token_id;
  if (c.eos_token_id) j["eos_token_id"] = *c.eos_token_id;
}

}  // namespace config_fields

json read_config_json(const fs::path& dir) {
  require_directory(dir, "a model directory with config.json");
  const fs::path path = dir / "config.json";
  std::error_code ec;
  if (!fs::exists(path, ec)) input_error(path.string(), ": missing (a Hugging Face model directory has config.json)");
  json j = read_json_file(path);
  if (!j.is_object()) input_error(path.string(), ": expected a JSON object, got ", j.type_name());
  return j;
}

std::string model_type_of(const json& j, const std::string& source) {
  if (!j.contains("model_type")) input_error(source, ": field 'model_type' is missing");
  if (!j.at("model_type").is_string()) {
    input_error(source, ": field 'model_type' must be a string, got ", j.at("model_type").dump());
  }
  return j.at("model_type").get<std::string>();
}

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

// ---- XLNet ----

namespace {
// Fields transformers lets be null (None) where the default is not: null clears the value.
template <typename T>
void read_nullable(const json& j, const char* key, std::optional<T>& out, const std::string& source) {
  if (j.contains(key) && j.at(key).is_null()) {
    out.reset();
    return;
  }
  config_fields::read(j, key, out, source);
}
}  // namespace

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
  read_nullable(j, "mem_len", c.mem_len, source);
  read_nullable(j, "reuse_len", c.reuse_len, source);
  read(j, "use_mems_eval", c.use_mems_eval, source);
  read(j, "use_mems_train", c.use_mems_train, source);
  read(j, "bi_data", c.bi_data, source);
  read(j, "clamp_len", c.clamp_len, source);
  read(j, "same_length", c.same_length, source);
  read(j, "summary_type", c.summary_type, source);
  read(j, "summary_use_proj", c.summary_use_proj, source);
  read_nullable(j, "summary_activation", c.summary_activation, source);
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

}  // namespace stilts::io
