#include "text/sentencepiece.h"

#include "text/spm_runtime.h"
#include <utf8proc.h>

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "text/basic.h"
#include "text/unicode.h"

namespace stilts::text {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

enum class Family { kXlmr, kXlnet };

// SentencePiece's word-start marker "▁".
constexpr char32_t kSpieceUnderline = U'\u2581';
constexpr int64_t kUnbounded = std::numeric_limits<int64_t>::max();

// A special token as the slow tokenizer holds it. An AddedToken object strips the whitespace next to it
// only on the sides its lstrip / rstrip name; a plain string strips both sides.
struct SpecialToken {
  std::string content;
  bool added_token = false;
  bool lstrip = false;
  bool rstrip = false;
};

// transformers' SPECIAL_TOKENS_ATTRIBUTES order (additional_special_tokens come after): it decides the
// order of all_special_tokens_extended and so the ids of special tokens missing from the vocabulary.
constexpr const char* kSpecialAttributes[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                              "pad_token", "cls_token", "mask_token"};

// ---- Python string semantics the slow tokenizers rely on ----

// str.isspace(): what str.strip() and str.split() remove.
bool is_py_space(char32_t c) {
  switch (c) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D:
    case 0x1C: case 0x1D: case 0x1E: case 0x1F: case 0x20:
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
    case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

// str.isdigit(): Numeric_Type Decimal (= category Nd) or Digit. The Digit ones outside Nd are listed
// (superscripts, circled digits, ...; Python 3.11 / Unicode 14).
bool is_py_digit(char32_t c) {
  if (utf8proc_category(static_cast<utf8proc_int32_t>(c)) == UTF8PROC_CATEGORY_ND) return true;
  static constexpr std::pair<char32_t, char32_t> kDigitNotNd[] = {
      {0xB2, 0xB3},       {0xB9, 0xB9},       {0x1369, 0x1371},   {0x19DA, 0x19DA},   {0x2070, 0x2070},
      {0x2074, 0x2079},   {0x2080, 0x2089},   {0x2460, 0x2468},   {0x2474, 0x247C},   {0x2488, 0x2490},
      {0x24EA, 0x24EA},   {0x24F5, 0x24FD},   {0x24FF, 0x24FF},   {0x2776, 0x277E},   {0x2780, 0x2788},
      {0x278A, 0x2792},   {0x10A40, 0x10A43}, {0x10E60, 0x10E68}, {0x11052, 0x1105A}, {0x1F100, 0x1F10A}};
  for (const auto& [lo, hi] : kDigitNotNd) {
    if (c >= lo && c <= hi) return true;
  }
  return false;
}

// str.lower() of one character: the simple mapping, except U+0130 whose full lowercase is two characters.
void append_py_lower(std::u32string& out, char32_t c) {
  if (c == 0x130) {
    out += U'i';
    out += U'\u0307';
    return;
  }
  out += static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
}

std::u32string py_lstrip(const std::u32string& s) {
  size_t b = 0;
  while (b < s.size() && is_py_space(s[b])) ++b;
  return s.substr(b);
}

std::u32string py_rstrip(const std::u32string& s) {
  size_t e = s.size();
  while (e > 0 && is_py_space(s[e - 1])) --e;
  return s.substr(0, e);
}

// " ".join(s.split())
std::u32string py_collapse_spaces(const std::u32string& s) {
  std::u32string out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_py_space(s[i])) ++i;
    if (i == s.size()) break;
    if (!out.empty()) out += U' ';
    while (i < s.size() && !is_py_space(s[i])) out += s[i++];
  }
  return out;
}

// str.replace(from, to): left to right, non-overlapping.
std::u32string py_replace(const std::u32string& s, std::u32string_view from, std::u32string_view to) {
  std::u32string out;
  size_t i = 0;
  while (i < s.size()) {
    if (s.compare(i, from.size(), from.data(), from.size()) == 0) {
      out += to;
      i += from.size();
    } else {
      out += s[i++];
    }
  }
  return out;
}

// unicodedata.normalize("NFKD", s) without the characters whose combining class is not 0. Dropping
// every combining mark makes canonical reordering irrelevant, so decomposing one character at a time
// gives the same result.
std::u32string nfkd_without_marks(const std::u32string& s) {
  std::u32string out;
  out.reserve(s.size());
  utf8proc_int32_t buf[32];
  for (char32_t c : s) {
    int boundclass = 0;
    const utf8proc_ssize_t n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), buf, 32,
                                                       static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT),
                                                       &boundclass);
    STILTS_CHECK(n >= 0 && n <= 32, "utf8proc_decompose_char(", static_cast<uint32_t>(c), ") returned ", n);
    for (utf8proc_ssize_t i = 0; i < n; ++i) {
      if (utf8proc_get_property(buf[i])->combining_class == 0) out += static_cast<char32_t>(buf[i]);
    }
  }
  return out;
}

size_t utf8_length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// ---- tokenizer files ----

bool json_bool(const json& obj, const char* key, bool fallback, const fs::path& file) {
  if (!obj.contains(key) || obj[key].is_null()) return fallback;
  if (!obj[key].is_boolean()) input_error(file.string(), ": '", key, "' must be true or false, got ", obj[key].dump());
  return obj[key].get<bool>();
}

// A special-token value: "<mask>", {"content": "<mask>", "lstrip": true, ...} (with or without
// "__type": "AddedToken") or null (the attribute is None).
std::optional<SpecialToken> parse_special(const json& value, const fs::path& file, const std::string& key) {
  if (value.is_null()) return std::nullopt;
  SpecialToken t;
  if (value.is_string()) {
    t.content = value.get<std::string>();
  } else if (value.is_object() && value.contains("content") && value["content"].is_string()) {
    t.content = value["content"].get<std::string>();
    t.added_token = true;
    t.lstrip = json_bool(value, "lstrip", false, file);
    t.rstrip = json_bool(value, "rstrip", false, file);
  } else {
    input_error(file.string(), ": '", key, "' must be a string or an AddedToken object with a string 'content', got ",
                value.dump());
  }
  if (!is_valid_utf8(t.content)) input_error(file.string(), ": '", key, "' is not valid UTF-8");
  return t;
}

std::vector<SpecialToken> parse_special_list(const json& value, const fs::path& file, const std::string& key) {
  if (value.is_null()) return {};
  if (!value.is_array()) input_error(file.string(), ": '", key, "' must be a list, got ", value.dump());
  std::vector<SpecialToken> out;
  for (size_t i = 0; i < value.size(); ++i) {
    auto t = parse_special(value[i], file, key + "[" + std::to_string(i) + "]");
    if (t) out.push_back(*t);
  }
  return out;
}

json read_optional_json_object(const fs::path& file) {
  if (!fs::exists(file)) return json::object();
  json j = read_json_file(file);
  if (!j.is_object()) input_error(file.string(), ": expected a JSON object at the top level");
  return j;
}

// What the tokenizer directory configures beyond the model file.
struct Settings {
  std::map<std::string, std::optional<SpecialToken>> specials;  // attribute -> token (nullopt: None)
  std::vector<SpecialToken> additional;
  int64_t model_max_length = kUnbounded;
  Side padding_side = Side::kRight;
  // XLNet preprocessing.
  bool do_lower_case = false;
  bool remove_space = true;
  bool keep_accents = false;
};

Settings read_settings(Family family, const fs::path& dir) {
  Settings s;
  const bool xlnet = family == Family::kXlnet;
  // The classes' __init__ defaults. A string mask_token is turned into AddedToken(lstrip=True) by __init__.
  auto plain = [](const char* content) { return SpecialToken{content, false, false, false}; };
  const SpecialToken mask{"<mask>", true, true, false};
  s.specials = {{"bos_token", plain("<s>")},
                {"eos_token", plain("</s>")},
                {"unk_token", plain("<unk>")},
                {"sep_token", plain(xlnet ? "<sep>" : "</s>")},
                {"pad_token", plain("<pad>")},
                {"cls_token", plain(xlnet ? "<cls>" : "<s>")},
                {"mask_token", mask}};
  if (xlnet) s.additional = {plain("<eop>"), plain("<eod>")};
  s.padding_side = xlnet ? Side::kLeft : Side::kRight;

  const fs::path config_path = dir / "tokenizer_config.json";
  const json config = read_optional_json_object(config_path);
  for (const char* attr : kSpecialAttributes) {
    if (!config.contains(attr)) continue;
    auto t = parse_special(config[attr], config_path, attr);
    if (t && std::string(attr) == "mask_token" && !t->added_token) t = SpecialToken{t->content, true, true, false};
    s.specials[attr] = t;
  }
  if (config.contains("additional_special_tokens")) {
    s.additional = parse_special_list(config["additional_special_tokens"], config_path, "additional_special_tokens");
  }
  if (config.contains("model_max_length") && !config["model_max_length"].is_null()) {
    const json& v = config["model_max_length"];
    // transformers writes 1e30 ("unbounded") for models without a limit; it does not fit an int64.
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(kUnbounded)) {
      s.model_max_length = kUnbounded;
    } else if (v.is_number_integer()) {
      s.model_max_length = v.get<int64_t>();
    } else if (v.is_number_float()) {
      const double d = v.get<double>();
      s.model_max_length = d >= 9.2e18 ? kUnbounded : static_cast<int64_t>(d);
    } else {
      input_error(config_path.string(), ": 'model_max_length' must be a number, got ", v.dump());
    }
    if (s.model_max_length <= 0) {
      input_error(config_path.string(), ": 'model_max_length' must be positive, got ", v.dump());
    }
  }
  if (config.contains("padding_side") && !config["padding_side"].is_null()) {
    const json& v = config["padding_side"];
    if (v == "right") {
      s.padding_side = Side::kRight;
    } else if (v == "left") {
      s.padding_side = Side::kLeft;
    } else {
      input_error(config_path.string(), ": 'padding_side' must be \"right\" or \"left\", got ", v.dump());
    }
  }
  if (config.contains("truncation_side") && !config["truncation_side"].is_null() && config["truncation_side"] != "right") {
    input_error(config_path.string(), ": 'truncation_side' ", config["truncation_side"].dump(),
                " is not supported (only \"right\")");
  }
  // Sampling or other encode options would make ids differ from a plain Encode.
  if (config.contains("sp_model_kwargs") && !config["sp_model_kwargs"].is_null() &&
      !(config["sp_model_kwargs"].is_object() && config["sp_model_kwargs"].empty())) {
    input_error(config_path.string(), ": 'sp_model_kwargs' ", config["sp_model_kwargs"].dump(),
                " is not supported (only {})");
  }
  if (xlnet) {
    s.do_lower_case = json_bool(config, "do_lower_case", false, config_path);
    s.remove_space = json_bool(config, "remove_space", true, config_path);
    s.keep_accents = json_bool(config, "keep_accents", false, config_path);
  }

  // from_pretrained applies special_tokens_map.json after __init__: its values win, and a plain string
  // there stays a plain string (even for mask_token).
  const fs::path map_path = dir / "special_tokens_map.json";
  const json map = read_optional_json_object(map_path);
  for (const char* attr : kSpecialAttributes) {
    if (map.contains(attr)) s.specials[attr] = parse_special(map[attr], map_path, attr);
  }
  if (map.contains("additional_special_tokens")) {
    s.additional = parse_special_list(map["additional_special_tokens"], map_path, "additional_special_tokens");
  }

  // Tokens added on top of the vocabulary change ids; refuse rather than silently differ.
  const fs::path added_path = dir / "added_tokens.json";
  if (fs::exists(added_path)) {
    const json added = read_json_file(added_path);
    if (!(added.is_object() && added.empty())) {
      input_error(added_path.string(), ": added tokens are not supported for SentencePiece tokenizers yet");
    }
  }
  return s;
}

class SentencePieceTokenizer final : public Tokenizer {
 public:
  SentencePieceTokenizer(Family family, const fs::path& dir);

  std::string kind() const override {
    return family_ == Family::kXlmr ? "sentencepiece-xlmr" : "sentencepiece-xlnet";
  }
  std::vector<int64_t> tokenize(std::string_view text, std::string_view context) const override;
  std::string id_to_token(int64_t id) const override;
  std::optional<int64_t> token_to_id(std::string_view token) const override;
  int64_t vocab_size() const override { return base_vocab_size() + static_cast<int64_t>(added_tokens_.size()); }
  int64_t unk_id() const override { return unk_id_; }
  std::string tokens_to_string(const std::vector<int64_t>& ids) const override;
  bool lowercases() const override { return family_ == Family::kXlnet && settings_.do_lower_case; }

 private:
  // XLM-R reserves fairseq's four specials in front of the spm vocabulary and <mask> after it.
  static constexpr int64_t kFairseqOffset = 1;

  int64_t sp_size() const { return sp_.piece_size(); }
  int64_t base_vocab_size() const { return family_ == Family::kXlmr ? sp_size() + kFairseqOffset + 1 : sp_size(); }
  // convert_tokens_to_ids for one token: added tokens, then the family's _convert_token_to_id.
  int64_t convert_token(const std::string& token) const;
  int64_t base_token_to_id(const std::string& token) const;
  std::vector<std::string> sp_encode(const std::string& text, std::string_view context) const;
  // The family's _tokenize on one stretch of text between special tokens.
  std::vector<std::string> pieces(const std::u32string& text, std::string_view context) const;
  std::vector<std::string> xlnet_pieces(const std::u32string& text, std::string_view context) const;
  std::vector<std::u32string> split_on_special_tokens(const std::u32string& text) const;
  std::u32string lower_outside_special_tokens(const std::u32string& text) const;

  Family family_;
  fs::path model_path_;
  SpmProcessor sp_;
  Settings settings_;
  int64_t unk_id_ = 0;
  // Special tokens missing from the vocabulary, with the ids transformers appends them at.
  std::vector<std::string> added_tokens_;
  std::map<std::string, int64_t, std::less<>> added_ids_;
  // Every special token's text: never split, found in the text before SentencePiece runs. Sorted by code
  // point, as transformers' unique_no_split_tokens.
  std::set<std::u32string> no_split_;
  // Whitespace rule of the tokens that are AddedToken objects (the others strip both sides).
  std::map<std::u32string, SpecialToken> added_token_rules_;
};

SentencePieceTokenizer::SentencePieceTokenizer(Family family, const fs::path& dir) : family_(family) {
  const char* model_file = family == Family::kXlmr ? kXlmrModelFile : kXlnetModelFile;
  require_directory(dir, std::string("a ") + kind() + " tokenizer (" + model_file + ")");
  model_path_ = dir / model_file;
  if (!fs::exists(model_path_)) {
    input_error(model_path_.string(), ": missing; a ", kind(), " tokenizer directory holds ", model_file,
                " (as save_pretrained writes it)");
  }
  const std::string bytes = read_file(model_path_);
  const std::string load_error = sp_.load_from_serialized(bytes);
  if (!load_error.empty()) {
    input_error(model_path_.string(), ": not a SentencePiece model (libsentencepiece: ", load_error, ")");
  }
  settings_ = read_settings(family, dir);

  // all_special_tokens_extended: the named attributes in order, then the additional ones.
  std::vector<SpecialToken> all;
  for (const char* attr : kSpecialAttributes) {
    if (const auto& t = settings_.specials.at(attr)) all.push_back(*t);
  }
  all.insert(all.end(), settings_.additional.begin(), settings_.additional.end());
  for (const SpecialToken& t : all) {
    if (t.content.empty()) continue;
    const std::u32string key = decode_utf8(t.content, "special token");
    no_split_.insert(key);
    if (t.added_token) added_token_rules_[key] = t;  // a later AddedToken of the same text wins, as in the dict
  }

  const auto& unk = settings_.specials.at("unk_token");
  // XLM-R's fairseq <unk> until unk_token says otherwise (an unk_token missing from the vocabulary
  // keeps it; transformers would recurse forever there).
  unk_id_ = family_ == Family::kXlmr ? 3 : sp_.unk_id();
  if (unk) {
    unk_id_ = base_token_to_id(unk->content);
    // sanitize_special_tokens: a special token that is not the unk token but converts to its id is
    // appended to the vocabulary.
    for (const SpecialToken& t : all) {
      if (t.content == unk->content || added_ids_.count(t.content)) continue;
      if (convert_token(t.content) == unk_id_) {
        added_ids_[t.content] = base_vocab_size() + static_cast<int64_t>(added_tokens_.size());
        added_tokens_.push_back(t.content);
      }
    }
  }

  auto required_id = [&](const char* attr) {
    const auto& t = settings_.specials.at(attr);
    if (!t) {
      input_error(dir.string(), ": '", attr, "' is null in tokenizer_config.json / special_tokens_map.json; the ",
                  kind(), " template needs it");
    }
    return convert_token(t->content);
  };
  const int64_t cls = required_id("cls_token");
  const int64_t sep = required_id("sep_token");
  template_.pad_id = required_id("pad_token");
  template_.padding_side = settings_.padding_side;
  if (family_ == Family::kXlmr) {
    // <s> A </s>  |  <s> A </s></s> B </s>
    template_.single_before = {{cls, 0}};
    template_.single_after = {{sep, 0}};
    template_.pair_before = {{cls, 0}};
    template_.pair_between = {{sep, 0}, {sep, 0}};
    template_.pair_after = {{sep, 0}};
    template_.returns_token_type_ids = false;
  } else {
    // A <sep> <cls>  |  A <sep> B <sep> <cls>; <cls> has segment 2, padding segment 3.
    template_.single_after = {{sep, 0}, {cls, 2}};
    template_.pair_between = {{sep, 0}};
    template_.pair_after = {{sep, 1}, {cls, 2}};
    template_.first_type_id = 0;
    template_.second_type_id = 1;
    template_.pad_type_id = 3;
    template_.returns_token_type_ids = true;
  }
  model_max_length_ = settings_.model_max_length;

  std::vector<std::string> special_tokens;
  for (const SpecialToken& t : all) special_tokens.push_back(t.content);
  const auto& mask = settings_.specials.at("mask_token");
  set_special_tokens(special_tokens, mask ? std::optional<std::string>(mask->content) : std::nullopt);
}

int64_t SentencePieceTokenizer::base_token_to_id(const std::string& token) const {
  if (family_ == Family::kXlnet) return sp_.piece_to_id(token);
  if (token == "<s>") return 0;
  if (token == "<pad>") return 1;
  if (token == "</s>") return 2;
  if (token == "<unk>") return 3;
  if (token == "<mask>") return sp_size() + kFairseqOffset;
  const int64_t spm_id = sp_.piece_to_id(token);
  // transformers tests the spm id for truth: id 0 (spm's unknown) becomes unk_token_id.
  return spm_id != 0 ? spm_id + kFairseqOffset : unk_id_;
}

int64_t SentencePieceTokenizer::convert_token(const std::string& token) const {
  if (auto it = added_ids_.find(token); it != added_ids_.end()) return it->second;
  return base_token_to_id(token);
}

std::optional<int64_t> SentencePieceTokenizer::token_to_id(std::string_view token) const {
  if (auto it = added_ids_.find(token); it != added_ids_.end()) return it->second;
  const std::string t(token);
  if (family_ == Family::kXlmr && (t == "<s>" || t == "<pad>" || t == "</s>" || t == "<unk>" || t == "<mask>")) {
    return base_token_to_id(t);
  }
  const int spm_id = sp_.piece_to_id(t);
  if (spm_id == sp_.unk_id() && t != sp_.id_to_piece(spm_id)) return std::nullopt;
  if (family_ == Family::kXlmr) return spm_id == 0 ? std::nullopt : std::optional<int64_t>(spm_id + kFairseqOffset);
  return spm_id;
}

// "".join(tokens).replace("\u2581", " ").strip(), as XLMRobertaTokenizer and XLNetTokenizer do it.
std::string SentencePieceTokenizer::tokens_to_string(const std::vector<int64_t>& ids) const {
  static const std::string kUnderline = "\u2581";
  std::string joined;
  for (int64_t id : ids) joined += id_to_token(id);
  std::string spaced;
  spaced.reserve(joined.size());
  for (size_t i = 0; i < joined.size();) {
    if (joined.compare(i, kUnderline.size(), kUnderline) == 0) {
      spaced += ' ';
      i += kUnderline.size();
    } else {
      spaced += joined[i++];
    }
  }
  return python_strip(spaced, model_path_.string());
}

std::string SentencePieceTokenizer::id_to_token(int64_t id) const {
  if (id < 0 || id >= vocab_size()) {
    input_error("token id ", id, " is out of range for ", model_path_.string(), " (", kind(), ", ", vocab_size(),
                " ids)");
  }
  if (id >= base_vocab_size()) return added_tokens_[static_cast<size_t>(id - base_vocab_size())];
  if (family_ == Family::kXlnet) return sp_.id_to_piece(static_cast<int>(id));
  static const char* const kFairseqTokens[] = {"<s>", "<pad>", "</s>", "<unk>"};
  if (id < 4) return kFairseqTokens[id];
  if (id == sp_size() + kFairseqOffset) return "<mask>";
  return sp_.id_to_piece(static_cast<int>(id - kFairseqOffset));
}

std::vector<std::string> SentencePieceTokenizer::sp_encode(const std::string& text, std::string_view context) const {
  std::vector<std::string> out;
  std::string error;
  if (!sp_.encode(text, out, error)) {
    input_error(context, ": SentencePiece could not encode the text with ", model_path_.string(), " (", error, ")");
  }
  return out;
}

std::vector<std::string> SentencePieceTokenizer::xlnet_pieces(const std::u32string& text,
                                                              std::string_view context) const {
  // preprocess_text
  std::u32string s = settings_.remove_space ? py_collapse_spaces(text) : text;
  s = py_replace(py_replace(s, U"``", U"\""), U"''", U"\"");
  if (!settings_.keep_accents) s = nfkd_without_marks(s);
  if (settings_.do_lower_case) {
    std::u32string lower;
    for (char32_t c : s) append_py_lower(lower, c);
    s = std::move(lower);
  }

  // A piece ending in "<digit>," is encoded again without the comma, which then stands alone
  // ("9,9" -> "▁9" "," "9" rather than "▁9," "9"), the way XLNet was trained.
  std::vector<std::string> out;
  for (std::string& piece : sp_encode(encode_utf8(s), context)) {
    const std::u32string p = decode_utf8(piece, context);
    if (p.size() > 1 && p.back() == U',' && is_py_digit(p[p.size() - 2])) {
      std::u32string stem = p.substr(0, p.size() - 1);
      stem.erase(std::remove(stem.begin(), stem.end(), kSpieceUnderline), stem.end());
      std::vector<std::string> cur = sp_encode(encode_utf8(stem), context);
      // Re-encoding adds a dummy-prefix "▁" the original piece did not have: drop it.
      if (p[0] != kSpieceUnderline && !cur.empty() && decode_utf8(cur[0], context)[0] == kSpieceUnderline) {
        if (utf8_length(cur[0]) == 1) {
          cur.erase(cur.begin());
        } else {
          cur[0] = encode_utf8(decode_utf8(cur[0], context).substr(1));
        }
      }
      cur.emplace_back(",");
      out.insert(out.end(), cur.begin(), cur.end());
    } else {
      out.push_back(std::move(piece));
    }
  }
  return out;
}

std::vector<std::string> SentencePieceTokenizer::pieces(const std::u32string& text, std::string_view context) const {
  if (family_ == Family::kXlnet) return xlnet_pieces(text, context);
  return sp_encode(encode_utf8(text), context);
}

// transformers' Trie.split: the text cut around every occurrence of a special token, leftmost first and
// the longest at one place; no empty parts.
std::vector<std::u32string> SentencePieceTokenizer::split_on_special_tokens(const std::u32string& text) const {
  std::vector<std::u32string> parts;
  size_t start = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t best = 0;
    for (const std::u32string& tok : no_split_) {
      if (tok.size() > best && text.compare(i, tok.size(), tok) == 0) best = tok.size();
    }
    if (best == 0) {
      ++i;
      continue;
    }
    if (i > start) parts.push_back(text.substr(start, i - start));
    parts.push_back(text.substr(i, best));
    i += best;
    start = i;
  }
  if (start < text.size()) parts.push_back(text.substr(start));
  return parts;
}

// The do_lower_case pass of PreTrainedTokenizer.tokenize: re.sub("(<special>|...)|(.+?)") lowercases
// one character at a time and leaves special tokens (first alternative that matches) and "\n" (which
// "." does not match) as they are.
std::u32string SentencePieceTokenizer::lower_outside_special_tokens(const std::u32string& text) const {
  std::u32string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t matched = 0;
    for (const std::u32string& tok : no_split_) {
      if (text.compare(i, tok.size(), tok) == 0) {
        matched = tok.size();
        break;
      }
    }
    if (matched > 0) {
      out.append(text, i, matched);
      i += matched;
    } else if (text[i] == U'\n') {
      out += text[i++];
    } else {
      append_py_lower(out, text[i++]);
    }
  }
  return out;
}

std::vector<int64_t> SentencePieceTokenizer::tokenize(std::string_view text, std::string_view context) const {
  std::u32string chars = decode_utf8(text, context);
  if (family_ == Family::kXlnet && settings_.do_lower_case) chars = lower_outside_special_tokens(chars);
  std::vector<std::u32string> parts = split_on_special_tokens(chars);

  // The whitespace next to a special token goes: both sides for a plain-string token, only the sides an
  // AddedToken names (XLM-R / XLNet <mask>: lstrip, so "a <mask> b" keeps the space before "b").
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!no_split_.count(parts[i])) continue;
    const auto rule = added_token_rules_.find(parts[i]);
    const bool is_added_token = rule != added_token_rules_.end();
    if ((!is_added_token || rule->second.rstrip) && i + 1 < parts.size()) parts[i + 1] = py_lstrip(parts[i + 1]);
    if ((!is_added_token || rule->second.lstrip) && i > 0) parts[i - 1] = py_rstrip(parts[i - 1]);
  }

  std::vector<int64_t> ids;
  for (const std::u32string& part : parts) {
    if (part.empty()) continue;
    if (no_split_.count(part)) {
      ids.push_back(convert_token(encode_utf8(part)));
      continue;
    }
    for (const std::string& piece : pieces(part, context)) ids.push_back(convert_token(piece));
  }
  return ids;
}

}  // namespace

std::unique_ptr<Tokenizer> load_xlmr_tokenizer(const std::filesystem::path& dir) {
  return std::make_unique<SentencePieceTokenizer>(Family::kXlmr, dir);
}

std::unique_ptr<Tokenizer> load_xlnet_tokenizer(const std::filesystem::path& dir) {
  return std::make_unique<SentencePieceTokenizer>(Family::kXlnet, dir);
}

}  // namespace stilts::text
