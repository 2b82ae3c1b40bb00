#include "text/bpe.h"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "text/basic.h"
#include "text/unicode.h"

namespace stilts::text {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// ---------------------------------------------------------------- character classes

utf8proc_category_t category(char32_t c) {
  return static_cast<utf8proc_category_t>(utf8proc_category(static_cast<utf8proc_int32_t>(c)));
}

bool is_letter(char32_t c) {  // \p{L}
  switch (category(c)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return true;
    default:
      return false;
  }
}

bool is_number(char32_t c) {  // \p{N}
  switch (category(c)) {
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

// `\s` in the GPT-2 pattern: the tokenizer compiles it with the `regex` module, whose \s is the
// Unicode White_Space property (= Z* categories plus \t \n \v \f \r and U+0085). Unlike Python's
// str.isspace it does not include U+001C..U+001F.
bool is_regex_space(char32_t c) {
  if ((c >= 0x09 && c <= 0x0D) || c == 0x85) return true;
  switch (category(c)) {
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
      return true;
    default:
      return false;
  }
}

enum class CharClass { kLetter, kNumber, kSpace, kOther };

CharClass classify(char32_t c) {
  if (is_regex_space(c)) return CharClass::kSpace;
  if (is_letter(c)) return CharClass::kLetter;
  if (is_number(c)) return CharClass::kNumber;
  return CharClass::kOther;
}

// End of a contraction ('s 't 're 've 'm 'll 'd, case-sensitive) starting at i, or 0.
size_t contraction_end(std::u32string_view text, size_t i) {
  if (text[i] != U'\'' || i + 1 >= text.size()) return 0;
  const char32_t a = text[i + 1];
  if (a == U's' || a == U't' || a == U'm' || a == U'd') return i + 2;
  if (i + 2 >= text.size()) return 0;
  const char32_t b = text[i + 2];
  if ((a == U'r' && b == U'e') || (a == U'v' && b == U'e') || (a == U'l' && b == U'l')) return i + 3;
  return 0;
}

// The GPT-2 regex by hand: at each position the first alternative that matches wins, as in the
// backtracking engine. Appends [begin, end) of every piece of `text`.
void pre_tokenize(std::u32string_view text, std::vector<std::pair<size_t, size_t>>& out) {
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    size_t end = contraction_end(text, i);
    if (end == 0) {
      // ` ?X+` takes the optional space only when a run of class X follows it.
      size_t start = i;
      if (text[i] == U' ' && i + 1 < n && classify(text[i + 1]) != CharClass::kSpace) start = i + 1;
      const CharClass cls = classify(text[start]);
      end = start + 1;
      if (cls != CharClass::kSpace) {
        while (end < n && classify(text[end]) == cls) ++end;
      } else {
        while (end < n && classify(text[end]) == CharClass::kSpace) ++end;
        // `\s+(?!\S)` gives back the last space when a non-space follows, so that space can lead the
        // next word; a single space before a non-space is left to the final `\s+`.
        if (end < n && end - i >= 2) --end;
      }
    }
    out.emplace_back(i, end);
    i = end;
  }
}

// GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the other 68 bytes to
// U+0100.. in byte order, so every byte becomes a visible character (space -> 'Ġ').
std::array<char32_t, 256> bytes_to_unicode() {
  std::array<char32_t, 256> map{};
  std::array<bool, 256> printable{};
  for (int b = 0; b < 256; ++b) {
    printable[b] = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
  }
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) map[b] = printable[b] ? static_cast<char32_t>(b) : next++;
  return map;
}

// ---------------------------------------------------------------- loaded pieces

// An object's "type" for messages (or the value itself when it is no object).
std::string type_of(const json& v) {
  if (v.is_object()) {
    const auto it = v.find("type");
    if (it != v.end() && it->is_string()) return it->get<std::string>();
  }
  return v.dump();
}

// The AddedToken flags the slow tokenizer honours when splitting them out of the text.
struct AddedToken {
  std::string content;
  bool lstrip = false;  // swallows whitespace on its left
  bool rstrip = false;  // swallows whitespace on its right
};

struct Vocab {
  std::unordered_map<std::string, int64_t> token_to_id;
  std::unordered_map<int64_t, std::string> id_to_token;
};

// Ids are packed in pairs of 32 bits for the merge table.
constexpr int64_t kMaxId = std::numeric_limits<int32_t>::max();

Vocab parse_vocab(const json& j, const std::string& where) {
  if (!j.is_object()) {
    input_error(where, ": expected a JSON object mapping token strings to integer ids, got ", j.type_name());
  }
  Vocab v;
  v.token_to_id.reserve(j.size());
  v.id_to_token.reserve(j.size());
  for (const auto& [token, value] : j.items()) {
    if (!value.is_number_integer()) {
      input_error(where, ": token '", token, "' has id ", value.dump(), ", expected a non-negative integer");
    }
    const bool too_big = value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(kMaxId);
    const int64_t id = too_big ? kMaxId + 1 : value.get<int64_t>();
    if (id < 0 || id > kMaxId) {
      input_error(where, ": token '", token, "' has id ", value.dump(), ", expected 0..", kMaxId);
    }
    const auto [it, inserted] = v.id_to_token.emplace(id, token);
    if (!inserted) input_error(where, ": tokens '", it->second, "' and '", token, "' both have id ", id);
    v.token_to_id.emplace(token, id);
  }
  return v;
}

using MergeIds = std::pair<int64_t, int64_t>;

int64_t merge_piece_id(const Vocab& vocab, const std::string& piece, const std::string& a, const std::string& b,
                       const std::string& where) {
  const auto it = vocab.token_to_id.find(piece);
  if (it == vocab.token_to_id.end()) {
    input_error(where, ": merge '", a, " ", b, "': piece '", piece, "' is not in the vocabulary");
  }
  return it->second;
}

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// merges.txt: an optional "#version" header, then one "a b" merge per line in rank order.
// The slow tokenizer drops the first line and the last one unconditionally (split("\n")[1:-1]);
// here only a "#version" header is skipped, so a file without one or without a final newline keeps
// its first and last merges (as the tokenizers library does).
std::vector<MergeIds> read_merges_txt(const fs::path& path, const Vocab& vocab) {
  const std::string text = read_file(path);
  std::vector<MergeIds> merges;
  merges.reserve(static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
  size_t pos = 0;
  int64_t line_no = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string_view line(text.data() + pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (line_no == 1 && line.rfind("#version", 0) == 0) continue;
    std::vector<std::string_view> fields;
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && is_ascii_space(line[i])) ++i;
      const size_t start = i;
      while (i < line.size() && !is_ascii_space(line[i])) ++i;
      if (i > start) fields.push_back(line.substr(start, i - start));
    }
    if (fields.empty()) continue;  // blank lines hold no merge (the slow tokenizer ignores them too)
    const std::string where = path.string() + ":" + std::to_string(line_no);
    if (fields.size() != 2) {
      input_error(where, ": expected a merge of two space-separated pieces, got ", fields.size(), " field(s): '",
                  line, "'");
    }
    const std::string a(fields[0]), b(fields[1]);
    merges.emplace_back(merge_piece_id(vocab, a, a, b, where), merge_piece_id(vocab, b, a, b, where));
  }
  return merges;
}

// An added/special token from a config file: a plain string or {"content": ..., "lstrip": ...}.
// `plain_lstrip` / `plain_rstrip`: the flags a plain string gets.
std::optional<AddedToken> parse_added_token(const json& v, const std::string& where, bool plain_lstrip,
                                            bool plain_rstrip) {
  if (v.is_null()) return std::nullopt;
  if (v.is_string()) return AddedToken{v.get<std::string>(), plain_lstrip, plain_rstrip};
  if (v.is_object()) {
    const auto content = v.find("content");
    if (content == v.end() || !content->is_string() || content->get<std::string>().empty()) {
      input_error(where, ": expected an AddedToken object with a non-empty string \"content\"");
    }
    const auto flag = [&](const char* name) {
      const auto it = v.find(name);
      if (it == v.end()) return false;
      if (!it->is_boolean()) input_error(where, ".", name, ": expected true or false, got ", it->dump());
      return it->get<bool>();
    };
    return AddedToken{content->get<std::string>(), flag("lstrip"), flag("rstrip")};
  }
  input_error(where, ": expected a token string or an AddedToken object, got ", v.dump());
}

// transformers' SPECIAL_TOKENS_ATTRIBUTES order; a later role's flags win for a shared content
// (the slow tokenizer keeps the last AddedToken per content).
const std::array<const char*, 7> kRoles = {"bos_token", "eos_token", "unk_token", "sep_token",
                                           "pad_token", "cls_token", "mask_token"};

struct SpecialConfig {
  // Role -> token; nullopt when a config file sets it to null. Starts with RobertaTokenizer's defaults.
  std::vector<std::pair<std::string, std::optional<AddedToken>>> roles;
  std::vector<bool> role_configured;  // set by a file rather than a default
  std::vector<AddedToken> additional;
  std::optional<bool> add_prefix_space;
  std::optional<int64_t> model_max_length;
};

int64_t parse_model_max_length(const json& v, const std::string& where) {
  constexpr auto kMax = std::numeric_limits<int64_t>::max();
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(kMax)) return kMax;
  if (v.is_number_integer() && v.get<int64_t>() > 0) return v.get<int64_t>();
  // transformers writes "no limit" as int(1e30), which JSON readers see as a float.
  if (v.is_number_float() && v.get<double>() >= 9.2e18) return kMax;
  if (v.is_number_float() && v.get<double>() >= 1 && v.get<double>() == static_cast<double>(v.get<int64_t>())) {
    return v.get<int64_t>();
  }
  input_error(where, ": model_max_length ", v.dump(), ": expected a positive integer");
}

// Reads the optional tokenizer_config.json, then special_tokens_map.json (whose tokens override the
// config's, as from_pretrained does).
SpecialConfig read_special_config(const fs::path& dir) {
  SpecialConfig c;
  // RobertaTokenizer.__init__: plain strings become AddedToken(lstrip=False, rstrip=False), except
  // <mask>, which behaves like a normal word and takes the space before it.
  const std::array<const char*, 7> defaults = {"<s>", "</s>", "<unk>", "</s>", "<pad>", "<s>", "<mask>"};
  for (size_t i = 0; i < kRoles.size(); ++i) {
    c.roles.emplace_back(kRoles[i], AddedToken{defaults[i], std::string(kRoles[i]) == "mask_token", false});
  }
  c.role_configured.assign(kRoles.size(), false);

  for (const char* name : {"tokenizer_config.json", "special_tokens_map.json"}) {
    const fs::path path = dir / name;
    if (!fs::exists(path)) continue;
    const json j = read_json_file(path);
    if (!j.is_object()) input_error(path.string(), ": expected a JSON object, got ", j.type_name());
    for (size_t i = 0; i < kRoles.size(); ++i) {
      const auto it = j.find(kRoles[i]);
      if (it == j.end()) continue;
      const bool mask = std::string(kRoles[i]) == "mask_token";
      c.roles[i].second = parse_added_token(*it, path.string() + ": " + kRoles[i], mask, false);
      c.role_configured[i] = true;
    }
    if (const auto it = j.find("additional_special_tokens"); it != j.end() && !it->is_null()) {
      if (!it->is_array()) {
        input_error(path.string(), ": additional_special_tokens: expected a list, got ", it->type_name());
      }
      c.additional.clear();
      for (size_t k = 0; k < it->size(); ++k) {
        // A plain-string special token is no AddedToken to the slow tokenizer: it strips both sides.
        auto t = parse_added_token((*it)[k], path.string() + ": additional_special_tokens[" + std::to_string(k) + "]",
                                   /*plain_lstrip=*/true, /*plain_rstrip=*/true);
        if (t) c.additional.push_back(std::move(*t));
      }
    }
    if (const auto it = j.find("add_prefix_space"); it != j.end()) {
      if (!it->is_boolean()) input_error(path.string(), ": add_prefix_space: expected true or false, got ", it->dump());
      c.add_prefix_space = it->get<bool>();
    }
    if (const auto it = j.find("model_max_length"); it != j.end() && !it->is_null()) {
      c.model_max_length = parse_model_max_length(*it, path.string());
    }
  }
  return c;
}

// What a loader gathers before the tokenizer is built.
struct BpeFiles {
  Vocab vocab;
  std::vector<MergeIds> merges;  // rank order
  // Tokens split out of the text before BPE, with their id when the file fixes one.
  std::vector<std::pair<AddedToken, std::optional<int64_t>>> added;
  bool add_prefix_space = false;
  bool from_tokenizer_json = false;
  std::string source;  // names the files in errors
};

BpeFiles read_vocab_and_merges(const fs::path& dir) {
  BpeFiles f;
  const fs::path vocab_path = dir / "vocab.json";
  f.source = vocab_path.string();
  f.vocab = parse_vocab(read_json_file(vocab_path), vocab_path.string());
  f.merges = read_merges_txt(dir / "merges.txt", f.vocab);
  const fs::path added_path = dir / "added_tokens.json";
  if (fs::exists(added_path)) {
    const json j = read_json_file(added_path);
    if (!j.is_object()) input_error(added_path.string(), ": expected a JSON object of token -> id");
    for (const auto& [token, id] : j.items()) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > kMaxId) {
        input_error(added_path.string(), ": token '", token, "' has id ", id.dump(), ", expected 0..", kMaxId);
      }
      // v4.30 strips whitespace on both sides of added tokens that are not AddedToken special tokens.
      f.added.emplace_back(AddedToken{token, true, true}, id.get<int64_t>());
    }
  }
  return f;
}

BpeFiles read_tokenizer_json_unchecked(const fs::path& path) {
  BpeFiles f;
  f.from_tokenizer_json = true;
  f.source = path.string();
  const std::string file = path.string();
  const json j = read_json_file(path);
  if (!j.is_object()) input_error(file, ": expected a JSON object, got ", j.type_name());
  const auto model = j.find("model");
  if (model == j.end() || !model->is_object()) input_error(file, ": no \"model\" object");
  const std::string type = model->contains("type") ? type_of(*model) : "BPE";
  if (type != "BPE") input_error(file, ": model.type is '", type, "', expected 'BPE' for a byte-level BPE tokenizer");

  const auto unsupported = [&](const char* key, const std::string& value) {
    input_error(file, ": model.", key, " = ", value, " is not supported by the byte-level BPE tokenizer");
  };
  if (const auto it = model->find("dropout"); it != model->end() && !it->is_null()) unsupported("dropout", it->dump());
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    const auto it = model->find(key);
    if (it != model->end() && !it->is_null() && !(it->is_string() && it->get<std::string>().empty())) {
      unsupported(key, it->dump());
    }
  }
  if (const auto it = model->find("ignore_merges"); it != model->end() && it->is_boolean() && it->get<bool>()) {
    unsupported("ignore_merges", "true");
  }

  const auto vocab = model->find("vocab");
  if (vocab == model->end()) input_error(file, ": model has no \"vocab\"");
  f.vocab = parse_vocab(*vocab, file + ": model.vocab");

  const auto merges = model->find("merges");
  if (merges == model->end() || !merges->is_array()) input_error(file, ": model.merges: expected a list");
  f.merges.reserve(merges->size());
  for (size_t i = 0; i < merges->size(); ++i) {
    const json& m = (*merges)[i];
    const std::string where = file + ": model.merges[" + std::to_string(i) + "]";
    std::string a, b;
    if (m.is_string()) {  // "a b"
      const std::string s = m.get<std::string>();
      const size_t space = s.find(' ');
      if (space == std::string::npos || space == 0 || space + 1 == s.size() || s.find(' ', space + 1) != std::string::npos) {
        input_error(where, ": expected two pieces separated by one space, got '", s, "'");
      }
      a = s.substr(0, space);
      b = s.substr(space + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {  // ["a", "b"]
      a = m[0].get<std::string>();
      b = m[1].get<std::string>();
    } else {
      input_error(where, ": expected \"a b\" or [\"a\", \"b\"], got ", m.dump());
    }
    f.merges.emplace_back(merge_piece_id(f.vocab, a, a, b, where), merge_piece_id(f.vocab, b, a, b, where));
  }

  if (const auto it = j.find("normalizer"); it != j.end() && !it->is_null()) {
    input_error(file, ": normalizer ", type_of(*it), " is not supported (byte-level BPE has none)");
  }
  const auto pre = j.find("pre_tokenizer");
  if (pre == j.end() || type_of(*pre) != "ByteLevel") {
    input_error(file, ": pre_tokenizer: expected ByteLevel, got ", pre == j.end() ? std::string("none") : type_of(*pre));
  }
  f.add_prefix_space = pre->value("add_prefix_space", false);
  if (!pre->value("use_regex", true)) input_error(file, ": pre_tokenizer ByteLevel with use_regex false is not supported");
  if (const auto it = j.find("post_processor");
      it != j.end() && !it->is_null() && type_of(*it) != "RobertaProcessing") {
    input_error(file, ": post_processor ", type_of(*it),
                " is not supported (the byte-level BPE tokenizer adds RoBERTa's <s> A </s></s> B </s>)");
  }

  if (const auto added = j.find("added_tokens"); added != j.end() && !added->is_null()) {
    if (!added->is_array()) input_error(file, ": added_tokens: expected a list");
    for (size_t i = 0; i < added->size(); ++i) {
      const json& a = (*added)[i];
      const std::string where = file + ": added_tokens[" + std::to_string(i) + "]";
      auto t = parse_added_token(a, where, false, false);
      const auto id = a.is_object() ? a.find("id") : a.end();
      if (!t || id == a.end() || !id->is_number_integer() || id->get<int64_t>() < 0 || id->get<int64_t>() > kMaxId) {
        input_error(where, ": expected {\"id\": <id>, \"content\": ...}, got ", a.dump());
      }
      f.added.emplace_back(std::move(*t), id->get<int64_t>());
    }
  }
  return f;
}

BpeFiles read_tokenizer_json(const fs::path& path) {
  try {
    return read_tokenizer_json_unchecked(path);
  } catch (const json::exception& e) {  // a field of the wrong JSON type
    input_error(path.string(), ": ", e.what());
  }
}

// ---------------------------------------------------------------- the tokenizer

class BpeTokenizer final : public Tokenizer {
 public:
  BpeTokenizer(BpeFiles files, const SpecialConfig& config);

  std::string kind() const override { return "byte-level-bpe"; }
  std::vector<int64_t> tokenize(std::string_view text, std::string_view context) const override;
  std::string id_to_token(int64_t id) const override;
  std::optional<int64_t> token_to_id(std::string_view token) const override;
  // Vocabulary plus added tokens (len(tokenizer) in transformers).
  int64_t vocab_size() const override { return static_cast<int64_t>(id_to_token_.size()); }
  int64_t unk_id() const override { return unk_id_; }
  std::vector<int64_t> tokenize_word(std::string_view word, std::string_view context) const override;
  std::string tokens_to_string(const std::vector<int64_t>& ids) const override;
  bool lowercases() const override { return false; }

 private:
  struct SplitToken {
    std::u32string content;
    int64_t id;
    bool lstrip, rstrip;
  };
  struct Merge {
    int32_t rank;
    int64_t result;  // id of the merged piece, -1 when it is not in the vocabulary (-> unk)
  };

  static uint64_t pair_key(int64_t a, int64_t b) {
    return (static_cast<uint64_t>(a) << 32) | static_cast<uint64_t>(b);
  }
  // Adds (or, with `override_flags`, re-flags) a token that is split out of the text.
  void add_split_token(const AddedToken& token, std::optional<int64_t> id, bool override_flags);
  int64_t role_id(const SpecialConfig& config, const char* role) const;
  // BPE of one pre-tokenized word (its UTF-8 bytes), appended to `out` as ids.
  void append_bpe(const std::string& word, std::vector<int64_t>& out) const;

  std::unordered_map<std::string, int64_t> token_to_id_;
  std::unordered_map<int64_t, std::string> id_to_token_;
  int64_t next_id_ = 0;
  std::unordered_map<uint64_t, Merge> merges_;
  std::array<int64_t, 256> byte_ids_{};  // id of each byte's mapped character, -1 if not in the vocabulary
  std::vector<SplitToken> split_tokens_;
  std::unordered_map<char32_t, std::vector<size_t>> split_by_first_;  // longest first
  bool add_prefix_space_ = false;
  int64_t unk_id_ = 0;
  std::string source_;

  // The slow tokenizer caches BPE per word too; bounded here so a long corpus cannot grow it forever.
  static constexpr size_t kMaxCacheEntries = 1 << 20;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int64_t>> cache_;
};

BpeTokenizer::BpeTokenizer(BpeFiles files, const SpecialConfig& config) : source_(std::move(files.source)) {
  token_to_id_ = std::move(files.vocab.token_to_id);
  id_to_token_ = std::move(files.vocab.id_to_token);
  for (const auto& [id, token] : id_to_token_) next_id_ = std::max(next_id_, id + 1);

  // Merge table. A repeated merge keeps its last rank, as the slow tokenizer's dict(zip(...)) does.
  merges_.reserve(files.merges.size());
  for (size_t rank = 0; rank < files.merges.size(); ++rank) {
    const auto [a, b] = files.merges[rank];
    const auto merged = token_to_id_.find(id_to_token_.at(a) + id_to_token_.at(b));
    merges_.insert_or_assign(pair_key(a, b),
                             Merge{static_cast<int32_t>(rank), merged == token_to_id_.end() ? -1 : merged->second});
  }
  const auto byte_map = bytes_to_unicode();
  for (int b = 0; b < 256; ++b) {
    std::string s;
    append_utf8(s, byte_map[b]);
    const auto it = token_to_id_.find(s);
    byte_ids_[b] = it == token_to_id_.end() ? -1 : it->second;
  }

  // Tokens split out of the text: the file's added tokens, then the special tokens. Special tokens
  // missing from the vocabulary get the next free ids, in role order, as the slow tokenizer adds them.
  for (const auto& [token, id] : files.added) add_split_token(token, id, /*override_flags=*/true);
  for (size_t i = 0; i < config.roles.size(); ++i) {
    const auto& token = config.roles[i].second;
    // tokenizer.json carries its own flags; RoBERTa's defaults only fill in what it lacks.
    if (token) add_split_token(*token, std::nullopt, !files.from_tokenizer_json || config.role_configured[i]);
  }
  for (const auto& token : config.additional) add_split_token(token, std::nullopt, /*override_flags=*/true);
  for (auto& [first, indices] : split_by_first_) {
    std::stable_sort(indices.begin(), indices.end(), [&](size_t x, size_t y) {
      return split_tokens_[x].content.size() > split_tokens_[y].content.size();
    });
  }

  add_prefix_space_ = config.add_prefix_space.value_or(files.add_prefix_space);
  if (config.model_max_length) model_max_length_ = *config.model_max_length;
  unk_id_ = role_id(config, "unk_token");
  const int64_t cls = role_id(config, "cls_token");
  const int64_t sep = role_id(config, "sep_token");
  template_.single_before = {{cls, 0}};
  template_.single_after = {{sep, 0}};
  template_.pair_before = {{cls, 0}};
  template_.pair_between = {{sep, 0}, {sep, 0}};
  template_.pair_after = {{sep, 0}};
  template_.first_type_id = 0;
  template_.second_type_id = 0;
  template_.pad_id = role_id(config, "pad_token");
  template_.pad_type_id = 0;
  template_.padding_side = Side::kRight;
  template_.returns_token_type_ids = false;

  std::vector<std::string> special_tokens;
  std::optional<std::string> mask_token;
  for (const auto& [role, token] : config.roles) {
    if (!token) continue;
    special_tokens.push_back(token->content);
    if (role == "mask_token") mask_token = token->content;
  }
  for (const auto& token : config.additional) special_tokens.push_back(token.content);
  set_special_tokens(special_tokens, mask_token);
}

void BpeTokenizer::add_split_token(const AddedToken& token, std::optional<int64_t> id, bool override_flags) {
  const auto known = token_to_id_.find(token.content);
  if (id) {
    if (known != token_to_id_.end() && known->second != *id) {
      input_error(source_, ": added token '", token.content, "' has id ", *id, " but the vocabulary gives it id ",
                  known->second);
    }
    const auto taken = id_to_token_.find(*id);
    if (taken != id_to_token_.end() && taken->second != token.content) {
      input_error(source_, ": added token '", token.content, "' has id ", *id, ", which is already '", taken->second,
                  "'");
    }
  } else {
    id = known != token_to_id_.end() ? known->second : next_id_;
  }
  token_to_id_.emplace(token.content, *id);
  id_to_token_.emplace(*id, token.content);
  next_id_ = std::max(next_id_, *id + 1);

  std::u32string content = decode_utf8(token.content, source_ + ": added token");
  for (auto& existing : split_tokens_) {
    if (existing.content == content) {
      if (override_flags) {
        existing.lstrip = token.lstrip;
        existing.rstrip = token.rstrip;
      }
      return;
    }
  }
  split_by_first_[content.front()].push_back(split_tokens_.size());
  split_tokens_.push_back(SplitToken{std::move(content), *id, token.lstrip, token.rstrip});
}

int64_t BpeTokenizer::role_id(const SpecialConfig& config, const char* role) const {
  for (const auto& [name, token] : config.roles) {
    if (name != role) continue;
    if (!token) input_error(source_, ": ", role, " is null; RoBERTa's template and padding need it");
    return token_to_id_.at(token->content);
  }
  STILTS_CHECK(false, "unknown role ", role);
}

std::vector<int64_t> BpeTokenizer::tokenize(std::string_view text, std::string_view context) const {
  std::u32string chars = decode_utf8(text, context);
  if (add_prefix_space_ && !chars.empty() && !is_python_space(chars.front())) chars.insert(chars.begin(), U' ');
  const size_t n = chars.size();

  // 1. Split out added tokens: the leftmost match, the longest there (transformers' Trie.split).
  struct Segment {
    size_t begin, end;
    int64_t token;  // index into split_tokens_, -1 for text
  };
  std::vector<Segment> segments;
  size_t text_begin = 0;
  for (size_t i = 0; i < n;) {
    int64_t match = -1;
    if (const auto it = split_by_first_.find(chars[i]); it != split_by_first_.end()) {
      for (size_t index : it->second) {
        const std::u32string& c = split_tokens_[index].content;
        if (chars.compare(i, c.size(), c) == 0) {
          match = static_cast<int64_t>(index);
          break;
        }
      }
    }
    if (match < 0) {
      ++i;
      continue;
    }
    if (text_begin < i) segments.push_back({text_begin, i, -1});
    const size_t end = i + split_tokens_[match].content.size();
    segments.push_back({i, end, match});
    i = text_begin = end;
  }
  if (text_begin < n) segments.push_back({text_begin, n, -1});

  // 2. lstrip eats the whitespace of the text on the token's left, rstrip that on its right.
  for (size_t i = 0; i < segments.size(); ++i) {
    if (segments[i].token < 0) continue;
    const SplitToken& t = split_tokens_[segments[i].token];
    if (t.rstrip && i + 1 < segments.size() && segments[i + 1].token < 0) {
      Segment& right = segments[i + 1];
      while (right.begin < right.end && is_python_space(chars[right.begin])) ++right.begin;
    }
    if (t.lstrip && i > 0 && segments[i - 1].token < 0) {
      Segment& left = segments[i - 1];
      while (left.begin < left.end && is_python_space(chars[left.end - 1])) --left.end;
    }
  }

  // 3. Pre-tokenize and BPE the text between them.
  std::vector<int64_t> ids;
  std::vector<std::pair<size_t, size_t>> words;
  std::string word;
  for (const Segment& s : segments) {
    if (s.token >= 0) {
      ids.push_back(split_tokens_[s.token].id);
      continue;
    }
    if (s.begin == s.end) continue;
    const std::u32string_view piece = std::u32string_view(chars).substr(s.begin, s.end - s.begin);
    words.clear();
    pre_tokenize(piece, words);
    for (const auto& [b, e] : words) {
      word.clear();
      for (size_t k = b; k < e; ++k) append_utf8(word, piece[k]);
      append_bpe(word, ids);
    }
  }
  return ids;
}

// RobertaTokenizer.prepare_for_tokenization with is_split_into_words: one space before a word that does
// not start with whitespace, so a word's first piece is a word-initial "Ġ" piece as it is mid-sentence.
// With add_prefix_space also set it is still one space (tokenize sees the word starts with one).
std::vector<int64_t> BpeTokenizer::tokenize_word(std::string_view word, std::string_view context) const {
  const std::u32string chars = decode_utf8(word, context);
  if (chars.empty() || is_python_space(chars.front())) return tokenize(word, context);
  return tokenize(" " + std::string(word), context);
}

void BpeTokenizer::append_bpe(const std::string& word, std::vector<int64_t>& out) const {
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (const auto it = cache_.find(word); it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int64_t> symbols;
  symbols.reserve(word.size());
  for (unsigned char byte : word) symbols.push_back(byte_ids_[byte]);
  std::vector<int64_t> merged;
  // The slow tokenizer's loop: merge the lowest-ranked adjacent pair, every occurrence left to right.
  while (symbols.size() > 1) {
    const Merge* best = nullptr;
    int64_t first = 0, second = 0;
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      if (symbols[i] < 0 || symbols[i + 1] < 0) continue;
      const auto it = merges_.find(pair_key(symbols[i], symbols[i + 1]));
      if (it != merges_.end() && (best == nullptr || it->second.rank < best->rank)) {
        best = &it->second;
        first = symbols[i];
        second = symbols[i + 1];
      }
    }
    if (best == nullptr) break;
    merged.clear();
    for (size_t i = 0; i < symbols.size();) {
      if (i + 1 < symbols.size() && symbols[i] == first && symbols[i + 1] == second) {
        merged.push_back(best->result);
        i += 2;
      } else {
        merged.push_back(symbols[i]);
        ++i;
      }
    }
    symbols.swap(merged);
  }
  for (int64_t& s : symbols) {
    if (s < 0) s = unk_id_;
  }
  out.insert(out.end(), symbols.begin(), symbols.end());
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_.size() >= kMaxCacheEntries) cache_.clear();
  cache_.emplace(word, std::move(symbols));
}

// bytearray(byte_decoder[c] for c in "".join(tokens)).decode("utf-8", errors="replace").
std::string BpeTokenizer::tokens_to_string(const std::vector<int64_t>& ids) const {
  static const std::unordered_map<char32_t, char> byte_of = [] {
    std::unordered_map<char32_t, char> map;
    const auto chars = bytes_to_unicode();
    for (int b = 0; b < 256; ++b) map.emplace(chars[static_cast<size_t>(b)], static_cast<char>(b));
    return map;
  }();
  std::string bytes;
  for (int64_t id : ids) {
    const std::string token = id_to_token(id);
    for (char32_t c : decode_utf8(token, source_)) {
      const auto it = byte_of.find(c);
      if (it == byte_of.end()) {
        input_error(source_, ": token '", token, "' (id ", id, ") holds a character that is not a byte of the "
                    "byte-level alphabet, so it cannot be turned back into text");
      }
      bytes += it->second;
    }
  }
  return decode_utf8_replace(bytes);
}

std::string BpeTokenizer::id_to_token(int64_t id) const {
  const auto it = id_to_token_.find(id);
  if (it == id_to_token_.end()) input_error("token id ", id, " is not in the vocabulary of ", source_);
  return it->second;
}

std::optional<int64_t> BpeTokenizer::token_to_id(std::string_view token) const {
  const auto it = token_to_id_.find(std::string(token));
  if (it == token_to_id_.end()) return std::nullopt;
  return it->second;
}

}  // namespace

std::vector<std::string> gpt2_pre_tokenize(std::string_view text, std::string_view context) {
  const std::u32string chars = decode_utf8(text, context);
  std::vector<std::pair<size_t, size_t>> spans;
  pre_tokenize(chars, spans);
  std::vector<std::string> out;
  out.reserve(spans.size());
  for (const auto& [b, e] : spans) out.push_back(encode_utf8(std::u32string_view(chars).substr(b, e - b)));
  return out;
}

std::unique_ptr<Tokenizer> load_bpe_tokenizer(const fs::path& dir) {
  require_directory(dir, "a byte-level BPE tokenizer: vocab.json + merges.txt, or tokenizer.json");
  const bool has_vocab = fs::exists(dir / "vocab.json");
  const bool has_merges = fs::exists(dir / "merges.txt");
  BpeFiles files;
  if (has_vocab || has_merges) {
    if (!has_merges) input_error((dir / "merges.txt").string(), ": missing (vocab.json is there; BPE needs both)");
    if (!has_vocab) input_error((dir / "vocab.json").string(), ": missing (merges.txt is there; BPE needs both)");
    files = read_vocab_and_merges(dir);
  } else if (fs::exists(dir / "tokenizer.json")) {
    files = read_tokenizer_json(dir / "tokenizer.json");
  } else {
    input_error(dir.string(), ": no byte-level BPE tokenizer here (expected vocab.json + merges.txt, or tokenizer.json)");
  }
  return std::make_unique<BpeTokenizer>(std::move(files), read_special_config(dir));
}

}  // namespace stilts::text
