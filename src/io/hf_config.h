// config.json -> typed configs whose fields are spelled as Hugging Face spells them.
//
// Parsing is strict about the fields stilts uses (a wrong type is an error naming the file and the
// field) and keeps every other field of the file in `raw`, so a config written back by stilts still
// carries what transformers put there.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace stilts::io {

// What every HF config has besides its family's architecture fields.
struct CommonConfig {
  std::string model_type;
  std::vector<std::string> architectures;
  std::map<int64_t, std::string> id2label;  // empty means transformers' default of 2 labels
  std::optional<std::string> problem_type;  // "single_label_classification" | "regression" | ...
  std::optional<std::string> torch_dtype;
  std::optional<int64_t> pad_token_id, bos_token_id, eos_token_id;

  int64_t num_labels() const { return id2label.empty() ? 2 : static_cast<int64_t>(id2label.size()); }
  // Sets id2label to LABEL_0..LABEL_{n-1} (or the given names).
  void set_labels(int64_t n, const std::vector<std::string>& names = {});
};

// BERT, RoBERTa and XLM-RoBERTa (the latter two are BERT's architecture with other conventions).
struct BertConfig {
  CommonConfig common;
  int64_t vocab_size = 30522;
  int64_t hidden_size = 768;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t intermediate_size = 3072;
  std::string hidden_act = "gelu";
  double hidden_dropout_prob = 0.1;
  double attention_probs_dropout_prob = 0.1;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;
  double initializer_range = 0.02;
  double layer_norm_eps = 1e-12;
  std::string position_embedding_type = "absolute";
  std::optional<double> classifier_dropout;

  // `source` names the file in errors.
  static BertConfig from_json(const nlohmann::json& j, const std::string& source);
  void validate(const std::string& source) const;
  // Merges the typed fields over `raw` (the file as read, or {}).
  nlohmann::json to_json(const nlohmann::json& raw) const;
};

// Reads `dir/config.json`: InputError if the directory or file is missing or not a JSON object.
nlohmann::json read_config_json(const std::filesystem::path& dir);

// The "model_type" of a parsed config.json; InputError naming `source` if absent or not a string.
std::string model_type_of(const nlohmann::json& j, const std::string& source);

// Typed field readers shared by the family configs: a present field of the wrong type is an
// InputError "<source>: field '<key>' must be <type>, got <value>".
namespace config_fields {
void read(const nlohmann::json& j, const char* key, int64_t& out, const std::string& source);
void read(const nlohmann::json& j, const char* key, double& out, const std::string& source);
void read(const nlohmann::json& j, const char* key, bool& out, const std::string& source);
void read(const nlohmann::json& j, const char* key, std::string& out, const std::string& source);
void read(const nlohmann::json& j, const char* key, std::optional<int64_t>& out, const std::string& source);
void read(const nlohmann::json& j, const char* key, std::optional<double>& out, const std::string& source);
void read(const nlohmann::json& j, const char* key, std::optional<std::string>& out, const std::string& source);
CommonConfig read_common(const nlohmann::json& j, const std::string& source);
void write_common(const CommonConfig& c, nlohmann::json& j);
}  // namespace config_fields

// XLNet (XLNetModel / XLNetForSequenceClassification). Defaults are transformers' XLNetConfig.
// stilts runs the content stream only (no memory, no permutation mask, no target mapping), so
// mem_len, reuse_len, use_mems_*, same_length (causal attention only), untie_r (transformers'
// PyTorch model always has per-layer biases) and start/end_n_top are carried but do not change the
// forward pass.
struct XLNetConfig {
  CommonConfig common;
  int64_t vocab_size = 32000;
  int64_t d_model = 1024;
  int64_t n_layer = 24;
  int64_t n_head = 16;
  int64_t d_head = 64;  // always d_model / n_head; a file's d_head must agree
  int64_t d_inner = 4096;
  std::string ff_activation = "gelu";
  bool untie_r = true;
  std::string attn_type = "bi";  // only "bi" is supported ("uni" is the causal LM setting)
  double initializer_range = 0.02;
  double layer_norm_eps = 1e-12;
  double dropout = 0.1;
  std::optional<int64_t> mem_len = 512;  // null in the file is nullopt
  std::optional<int64_t> reuse_len;
  bool use_mems_eval = true;
  bool use_mems_train = false;
  bool bi_data = false;  // true (pretraining's bidirectional data pipeline) is not supported
  int64_t clamp_len = -1;  // relative distances are clamped to [-clamp_len, clamp_len] when > 0
  bool same_length = false;
  std::string summary_type = "last";  // "last" | "first" | "mean" | "cls_index" (= last: no index is passed)
  bool summary_use_proj = true;
  std::optional<std::string> summary_activation = "tanh";  // null in the file: no activation
  double summary_last_dropout = 0.1;
  std::optional<double> summary_first_dropout;  // not in XLNetConfig, but honoured by transformers if present
  int64_t start_n_top = 5;
  int64_t end_n_top = 5;

  // `source` names the file in errors.
  static XLNetConfig from_json(const nlohmann::json& j, const std::string& source);
  void validate(const std::string& source) const;
  // Merges the typed fields over `raw` (the file as read, or {}).
  nlohmann::json to_json(const nlohmann::json& raw) const;
};

}  // namespace stilts::io
