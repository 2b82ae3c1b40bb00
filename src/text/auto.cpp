#include "text/auto.h"

#include <cctype>
#include <map>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "text/bpe.h"
#include "text/sentencepiece.h"
#include "text/wordpiece.h"

namespace stilts::text {

namespace fs = std::filesystem;

namespace {

// transformers' slow and fast class names (the "Fast" suffix is stripped before look-up).
const std::map<std::string, std::string>& kind_by_class() {
  static const std::map<std::string, std::string> m = {
      {"BertTokenizer", "wordpiece"},           {"DistilBertTokenizer", "wordpiece"},
      {"ElectraTokenizer", "wordpiece"},        {"RobertaTokenizer", "byte-level-bpe"},
      {"GPT2Tokenizer", "byte-level-bpe"},      {"XLMRobertaTokenizer", "sentencepiece-xlmr"},
      {"XLNetTokenizer", "sentencepiece-xlnet"},
  };
  return m;
}

// Lower case without '-' and '_': "xlm-roberta" and "XLMRoberta" both become "xlmroberta".
std::string squashed(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c != '-' && c != '_') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string supported_classes() {
  std::string out;
  for (const auto& [name, _] : kind_by_class()) out += (out.empty() ? "" : ", ") + name;
  return out;
}

std::string string_field(const fs::path& file, const char* key) {
  if (!fs::exists(file)) return "";
  const nlohmann::json j = read_json_file(file);
  if (!j.is_object() || !j.contains(key) || j.at(key).is_null()) return "";
  if (!j.at(key).is_string()) input_error(file.string(), ": field '", key, "' must be a string");
  return j.at(key).get<std::string>();
}

}  // namespace

const std::vector<std::string>& tokenizer_file_names() {
  static const std::vector<std::string> names = {
      "vocab.txt",   "vocab.json",    "merges.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
      "sentencepiece.bpe.model", "spiece.model", "added_tokens.json"};
  return names;
}

std::optional<std::string> tokenizer_kind_of_model_type(const std::string& model_type) {
  const std::string key = squashed(model_type);
  static const std::string kSuffix = "Tokenizer";
  for (const auto& [cls, kind] : kind_by_class()) {
    if (squashed(cls.substr(0, cls.size() - kSuffix.size())) == key) return kind;
  }
  return std::nullopt;
}

std::string detect_tokenizer_kind(const fs::path& dir) {
  require_directory(dir, "a tokenizer directory");
  std::string cls = string_field(dir / "tokenizer_config.json", "tokenizer_class");
  if (!cls.empty()) {
    if (cls.size() > 4 && cls.compare(cls.size() - 4, 4, "Fast") == 0) cls.resize(cls.size() - 4);
    const auto it = kind_by_class().find(cls);
    if (it == kind_by_class().end()) {
      input_error((dir / "tokenizer_config.json").string(), ": tokenizer_class '", cls,
                  "' is not supported (supported: ", supported_classes(), ")");
    }
    return it->second;
  }
  const std::string model_type = string_field(dir / "config.json", "model_type");
  if (!model_type.empty()) {
    if (auto kind = tokenizer_kind_of_model_type(model_type)) return *kind;
  }
  if (fs::exists(dir / "vocab.txt")) return "wordpiece";
  if (fs::exists(dir / "vocab.json") && fs::exists(dir / "merges.txt")) return "byte-level-bpe";
  if (fs::exists(dir / kXlmrModelFile)) return "sentencepiece-xlmr";
  if (fs::exists(dir / kXlnetModelFile)) return "sentencepiece-xlnet";
  if (fs::exists(dir / "tokenizer.json")) {
    const nlohmann::json j = read_json_file(dir / "tokenizer.json");
    const std::string type = j.is_object() && j.contains("model") && j["model"].is_object() &&
                                     j["model"].contains("type") && j["model"]["type"].is_string()
                                 ? j["model"]["type"].get<std::string>()
                                 : "";
    if (type == "WordPiece") return "wordpiece";
    if (type == "BPE") return "byte-level-bpe";
    input_error((dir / "tokenizer.json").string(), ": model type '", type,
                "' is not supported (supported: WordPiece, BPE)");
  }
  input_error(dir.string(), ": no tokenizer found (looked for tokenizer_config.json's tokenizer_class, vocab.txt, "
                            "vocab.json + merges.txt, sentencepiece.bpe.model, spiece.model, tokenizer.json)");
}

std::unique_ptr<Tokenizer> load_tokenizer(const fs::path& dir) {
  const std::string kind = detect_tokenizer_kind(dir);
  if (kind == "wordpiece") return load_wordpiece_tokenizer(dir);
  if (kind == "byte-level-bpe") return load_bpe_tokenizer(dir);
  if (kind == "sentencepiece-xlmr") return load_xlmr_tokenizer(dir);
  return load_xlnet_tokenizer(dir);
}

}  // namespace stilts::text
