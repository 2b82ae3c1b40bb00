// config.json: reading it, the fields every Hugging Face config has, and the typed field readers the
// families' own configs (models/<family>.h) are parsed with, spelled as Hugging Face spells them.
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
// For fields transformers lets be null (None) where the default is not: null clears `out`.
void read_nullable(const nlohmann::json& j, const char* key, std::optional<int64_t>& out, const std::string& source);
void read_nullable(const nlohmann::json& j, const char* key, std::optional<std::string>& out,
                   const std::string& source);
CommonConfig read_common(const nlohmann::json& j, const std::string& source);
void write_common(const CommonConfig& c, nlohmann::json& j);
}  // namespace config_fields

}  // namespace stilts::io
