#include "text/wordpiece.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "text/basic.h"
#include "text/unicode.h"

namespace stilts::text {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

BasicTokenizerOptions basic_options(const WordPieceOptions& o) {
  BasicTokenizerOptions b;
  b.do_lower_case = o.do_lower_case;
  b.strip_accents = o.strip_accents;
  b.tokenize_chinese_chars = o.tokenize_chinese_chars;
  b.clean_text = o.clean_text;
  b.do_split_on_punc = o.do_split_on_punc;
  return b;
}

bool contains(const std::vector<std::u32string>& list, std::u32string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

bool starts_with_at(std::u32string_view text, size_t pos, std::u32string_view prefix) {
  return text.size() - pos >= prefix.size() && text.compare(pos, prefix.size(), prefix) == 0;
}

}  // namespace

// ---- the tokenizer ----

WordPieceTokenizer::WordPieceTokenizer(std::vector<std::string> vocab, WordPieceOptions options,
                                       std::string source)
    : options_(std::move(options)), source_(std::move(source)), vocab_(std::move(vocab)) {
  if (vocab_.empty()) input_error(source_, ": the vocabulary is empty");
  token_ids_.reserve(vocab_.size());
  for (size_t i = 0; i < vocab_.size(); ++i) {
    if (!is_valid_utf8(vocab_[i])) input_error(source_, ": token ", i, " is not valid UTF-8");
    const auto [it, inserted] = token_ids_.emplace(vocab_[i], static_cast<int64_t>(i));
    if (!inserted) {
      input_error(source_, ": token '", vocab_[i], "' is listed twice (ids ", it->second, " and ", i,
                  "); a vocabulary lists each token once");
    }
  }
  if (options_.max_input_chars_per_word < 1) {
    input_error(source_, ": max_input_chars_per_word must be at least 1, got ", options_.max_input_chars_per_word);
  }
  if (options_.model_max_length < 1) {
    input_error(source_, ": model_max_length must be positive, got ", options_.model_max_length);
  }
  model_max_length_ = options_.model_max_length;

  auto require = [&](const char* name, const std::optional<std::string>& token) -> int64_t {
    if (!token) input_error(source_, ": ", name, " is null; a BERT tokenizer needs one");
    const auto it = token_ids_.find(*token);
    if (it == token_ids_.end()) {
      input_error(source_, ": ", name, " '", *token, "' is not in the vocabulary (check the ", name,
                  " in tokenizer_config.json / special_tokens_map.json)");
    }
    return it->second;
  };
  unk_id_ = require("unk_token", options_.unk_token);
  const int64_t cls_id = require("cls_token", options_.cls_token);
  const int64_t sep_id = require("sep_token", options_.sep_token);
  const int64_t pad_id = require("pad_token", options_.pad_token);
  if (options_.mask_token) require("mask_token", options_.mask_token);
  for (const auto& token : options_.additional_special_tokens) require("additional special token", token);

  template_ = Template{};
  template_.single_before = {{cls_id, 0}};
  template_.single_after = {{sep_id, 0}};
  template_.pair_before = {{cls_id, 0}};
  template_.pair_between = {{sep_id, 0}};
  template_.pair_after = {{sep_id, 1}};
  template_.first_type_id = 0;
  template_.second_type_id = 1;
  template_.pad_id = pad_id;
  template_.pad_type_id = 0;
  template_.padding_side = Side::kRight;
  template_.returns_token_type_ids = true;

  // PreTrainedTokenizer lowercases when `hasattr(self, "do_lower_case") and self.do_lower_case`;
  // BertTokenizer.do_lower_case reads basic_tokenizer, which does not exist without
  // do_basic_tokenize, so then nothing is lowercased at all.
  lowercase_ = options_.do_lower_case && options_.do_basic_tokenize;

  std::vector<std::u32string> specials{decode_utf8(options_.unk_token, source_)};
  for (const auto* token : {&options_.sep_token, &options_.pad_token, &options_.cls_token, &options_.mask_token}) {
    if (*token) specials.push_back(decode_utf8(**token, source_));
  }
  for (const auto& token : options_.additional_special_tokens) specials.push_back(decode_utf8(token, source_));

  // transformers adds non-special tokens lowercased when do_lower_case.
  std::vector<std::u32string> added;
  for (const auto& token : options_.added_tokens) {
    std::u32string t = decode_utf8(token, source_);
    if (lowercase_) t = python_lower(t);
    if (!contains(specials, t)) {
      const std::string utf8 = encode_utf8(t);
      if (!token_to_id(utf8)) input_error(source_, ": added token '", utf8, "' is not in the vocabulary");
    }
    added.push_back(std::move(t));
  }

  no_split_tokens_ = specials;
  no_split_tokens_.insert(no_split_tokens_.end(), added.begin(), added.end());
  no_split_tokens_.erase(std::remove_if(no_split_tokens_.begin(), no_split_tokens_.end(),
                                        [](const std::u32string& t) { return t.empty(); }),
                         no_split_tokens_.end());
  std::sort(no_split_tokens_.begin(), no_split_tokens_.end());
  no_split_tokens_.erase(std::unique(no_split_tokens_.begin(), no_split_tokens_.end()), no_split_tokens_.end());

  // BertTokenizer._tokenize passes all_special_tokens as BasicTokenizer's extra never_split, but keeps
  // whole only the configured never_split words afterwards.
  never_split_ = specials;
  for (const auto& word : options_.never_split) {
    never_split_.push_back(decode_utf8(word, source_));
    config_never_split_.push_back(word);
  }

  std::vector<std::string> special_tokens{options_.unk_token};
  for (const auto* token : {&options_.sep_token, &options_.pad_token, &options_.cls_token, &options_.mask_token}) {
    if (*token) special_tokens.push_back(**token);
  }
  special_tokens.insert(special_tokens.end(), options_.additional_special_tokens.begin(),
                        options_.additional_special_tokens.end());
  set_special_tokens(special_tokens, options_.mask_token);
}

std::string WordPieceTokenizer::id_to_token(int64_t id) const {
  if (id < 0 || id >= vocab_size()) {
    input_error(source_, ": token id ", id, " is outside the vocabulary (0..", vocab_size() - 1, ")");
  }
  return vocab_[static_cast<size_t>(id)];
}

std::optional<int64_t> WordPieceTokenizer::token_to_id(std::string_view token) const {
  const auto it = token_ids_.find(std::string(token));
  if (it == token_ids_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::pair<bool, std::u32string>> WordPieceTokenizer::split_on_no_split_tokens(
    std::u32string_view text) const {
  // transformers' Trie.split: the leftmost match, the longest one starting there.
  std::vector<std::pair<bool, std::u32string>> runs;
  std::u32string pending;
  size_t i = 0;
  while (i < text.size()) {
    const std::u32string* best = nullptr;
    for (const auto& token : no_split_tokens_) {
      if (starts_with_at(text, i, token) && (!best || token.size() > best->size())) best = &token;
    }
    if (!best) {
      pending += text[i++];
      continue;
    }
    if (!pending.empty()) runs.emplace_back(false, std::move(pending));
    pending.clear();
    runs.emplace_back(true, *best);
    i += best->size();
  }
  if (!pending.empty()) runs.emplace_back(false, std::move(pending));
  return runs;
}

std::vector<std::string> WordPieceTokenizer::tokenize_to_pieces(std::string_view text,
                                                                std::string_view context) const {
  std::u32string chars = decode_utf8(text, context);
  if (lowercase_) {
    // The regex `(special|...)|(.+?)`: special tokens written in the text keep their case (tried in
    // sorted order, first match wins), every other character is lowercased on its own.
    std::u32string lowered;
    lowered.reserve(chars.size());
    size_t i = 0;
    while (i < chars.size()) {
      const std::u32string* special = nullptr;
      for (const auto& token : no_split_tokens_) {
        if (starts_with_at(chars, i, token)) {
          special = &token;
          break;
        }
      }
      if (special) {
        lowered += *special;
        i += special->size();
      } else {
        append_python_lower(lowered, chars[i++]);
      }
    }
    chars = std::move(lowered);
  }

  std::vector<std::string> pieces;
  for (const auto& [is_special, run] : split_on_no_split_tokens(chars)) {
    if (is_special) {
      pieces.push_back(encode_utf8(run));
    } else {
      // transformers strips the whitespace next to a special token; whitespace splitting below
      // discards it anyway.
      tokenize_segment(run, pieces);
    }
  }
  return pieces;
}

void WordPieceTokenizer::tokenize_segment(std::u32string_view text, std::vector<std::string>& pieces) const {
  if (!options_.do_basic_tokenize) {
    for (auto word : python_split(text)) wordpiece(word, pieces);
    return;
  }

  for (const std::u32string& word : basic_tokenize(text, basic_options(options_), never_split_)) {
    const std::string utf8 = encode_utf8(word);
    if (std::find(config_never_split_.begin(), config_never_split_.end(), utf8) != config_never_split_.end()) {
      pieces.push_back(utf8);
    } else {
      wordpiece(word, pieces);
    }
  }
}

void WordPieceTokenizer::wordpiece(std::u32string_view word, std::vector<std::string>& pieces) const {
  if (static_cast<int64_t>(word.size()) > options_.max_input_chars_per_word) {
    pieces.push_back(options_.unk_token);
    return;
  }
  // Byte offset of every code point, so candidates are byte ranges of one UTF-8 string.
  const std::string utf8 = encode_utf8(word);
  std::vector<size_t> offsets;
  offsets.reserve(word.size() + 1);
  size_t byte = 0;
  for (char32_t c : word) {
    offsets.push_back(byte);
    byte += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  offsets.push_back(byte);

  const size_t first_piece = pieces.size();
  std::string candidate;
  size_t start = 0;
  while (start < word.size()) {
    size_t end = word.size();
    bool found = false;
    while (start < end) {
      candidate.clear();
      if (start > 0) candidate += options_.continuing_subword_prefix;
      candidate.append(utf8, offsets[start], offsets[end] - offsets[start]);
      if (token_ids_.count(candidate)) {
        found = true;
        break;
      }
      --end;
    }
    if (!found) {
      pieces.resize(first_piece);
      pieces.push_back(options_.unk_token);
      return;
    }
    pieces.push_back(candidate);
    start = end;
  }
}

std::string WordPieceTokenizer::tokens_to_string(const std::vector<int64_t>& ids) const {
  // " ".join(tokens).replace(" ##", "").strip(): the marker is BERT's "##" whatever the prefix setting.
  std::string joined;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) joined += ' ';
    joined += id_to_token(ids[i]);
  }
  std::string glued;
  glued.reserve(joined.size());
  for (size_t i = 0; i < joined.size();) {
    if (joined.compare(i, 3, " ##") == 0) {
      i += 3;
    } else {
      glued += joined[i++];
    }
  }
  return python_strip(glued, source_);
}

std::vector<int64_t> WordPieceTokenizer::tokenize(std::string_view text, std::string_view context) const {
  const std::vector<std::string> pieces = tokenize_to_pieces(text, context);
  std::vector<int64_t> ids;
  ids.reserve(pieces.size());
  for (const auto& piece : pieces) {
    const auto it = token_ids_.find(piece);
    ids.push_back(it == token_ids_.end() ? unk_id_ : it->second);
  }
  return ids;
}

// ---- loading ----

std::vector<std::string> read_wordpiece_vocab(const fs::path& path) {
  const std::string bytes = read_file(path);
  std::vector<std::string> vocab;
  std::unordered_map<std::string, size_t> first_line;
  size_t pos = 0;
  size_t line = 1;
  while (pos < bytes.size()) {
    const size_t end = bytes.find_first_of("\r\n", pos);
    std::string token = bytes.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (end == std::string::npos) {
      pos = bytes.size();
    } else if (bytes[end] == '\r' && end + 1 < bytes.size() && bytes[end + 1] == '\n') {
      pos = end + 2;
    } else {
      pos = end + 1;
    }
    decode_utf8(token, path.string() + " line " + std::to_string(line));
    const auto [it, inserted] = first_line.emplace(token, line);
    if (!inserted) {
      input_error(path.string(), " line ", line, ": token '", token, "' already appears on line ", it->second,
                  " (each token must be listed once; ids are line numbers)");
    }
    vocab.push_back(std::move(token));
    ++line;
  }
  if (vocab.empty()) input_error(path.string(), ": empty vocabulary file");
  return vocab;
}

namespace {

// A special token value: a string, an AddedToken object ({"content": ...}), or null.
std::optional<std::string> token_value(const json& value, const fs::path& file, const std::string& key) {
  if (value.is_null()) return std::nullopt;
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object() && value.contains("content") && value["content"].is_string()) {
    return value["content"].get<std::string>();
  }
  input_error(file.string(), ": '", key, "' must be a string, an AddedToken object with \"content\", or null; got ",
              value.dump());
}

bool bool_value(const json& value, const fs::path& file, const std::string& key) {
  if (!value.is_boolean()) input_error(file.string(), ": '", key, "' must be true or false, got ", value.dump());
  return value.get<bool>();
}

std::optional<bool> optional_bool_value(const json& value, const fs::path& file, const std::string& key) {
  if (value.is_null()) return std::nullopt;
  return bool_value(value, file, key);
}

std::vector<std::string> token_list(const json& value, const fs::path& file, const std::string& key) {
  std::vector<std::string> out;
  if (value.is_null()) return out;
  if (!value.is_array()) input_error(file.string(), ": '", key, "' must be a list of tokens, got ", value.dump());
  for (const auto& item : value) {
    auto token = token_value(item, file, key);
    if (token) out.push_back(*token);
  }
  return out;
}

// Special-token names shared by tokenizer_config.json and special_tokens_map.json.
void apply_special_tokens(const json& j, const fs::path& file, WordPieceOptions& options) {
  if (j.contains("unk_token")) {
    auto unk = token_value(j["unk_token"], file, "unk_token");
    if (!unk) input_error(file.string(), ": 'unk_token' is null; a BERT tokenizer needs one");
    options.unk_token = *unk;
  }
  if (j.contains("sep_token")) options.sep_token = token_value(j["sep_token"], file, "sep_token");
  if (j.contains("pad_token")) options.pad_token = token_value(j["pad_token"], file, "pad_token");
  if (j.contains("cls_token")) options.cls_token = token_value(j["cls_token"], file, "cls_token");
  if (j.contains("mask_token")) options.mask_token = token_value(j["mask_token"], file, "mask_token");
  if (j.contains("additional_special_tokens")) {
    // Added to (not replacing) the special added_tokens of a tokenizer.json.
    auto& list = options.additional_special_tokens;
    for (auto& token : token_list(j["additional_special_tokens"], file, "additional_special_tokens")) {
      if (std::find(list.begin(), list.end(), token) == list.end()) list.push_back(std::move(token));
    }
  }
}

json read_json_object(const fs::path& file) {
  json j = read_json_file(file);
  if (!j.is_object()) input_error(file.string(), ": expected a JSON object at the top level");
  return j;
}

// tokenizer_config.json: the BertTokenizer arguments. Keys of other tokenizers' or of transformers'
// bookkeeping (tokenizer_class, clean_up_tokenization_spaces, ...) do not change tokenization.
void apply_tokenizer_config(const fs::path& file, WordPieceOptions& options) {
  const json j = read_json_object(file);
  if (j.contains("do_lower_case")) options.do_lower_case = bool_value(j["do_lower_case"], file, "do_lower_case");
  if (j.contains("do_basic_tokenize")) {
    options.do_basic_tokenize = bool_value(j["do_basic_tokenize"], file, "do_basic_tokenize");
  }
  if (j.contains("never_split")) options.never_split = token_list(j["never_split"], file, "never_split");
  if (j.contains("strip_accents")) options.strip_accents = optional_bool_value(j["strip_accents"], file, "strip_accents");
  if (j.contains("tokenize_chinese_chars")) {
    options.tokenize_chinese_chars = bool_value(j["tokenize_chinese_chars"], file, "tokenize_chinese_chars");
  }
  if (j.contains("do_split_on_punc")) {
    options.do_split_on_punc = bool_value(j["do_split_on_punc"], file, "do_split_on_punc");
  }
  if (j.contains("model_max_length") && !j["model_max_length"].is_null()) {
    const json& value = j["model_max_length"];
    if (!value.is_number()) input_error(file.string(), ": 'model_max_length' must be a number, got ", value.dump());
    // transformers writes int(1e30) when a checkpoint declares no limit; keep the BERT default then.
    const double length = value.get<double>();
    if (length < 1) input_error(file.string(), ": 'model_max_length' must be positive, got ", value.dump());
    if (length < 1e15) options.model_max_length = value.get<int64_t>();
  }
  apply_special_tokens(j, file, options);
}

// tokenizer.json (Hugging Face tokenizers): a WordPiece model, BertNormalizer, BertPreTokenizer.
// Run before the config files are applied: tokenizer_config.json overrides the normalizer settings,
// as BertTokenizerFast rebuilds its normalizer when the config disagrees.
std::vector<std::string> read_tokenizer_json(const fs::path& file, WordPieceOptions& options) {
  const json j = read_json_object(file);
  if (!j.contains("model") || !j["model"].is_object()) input_error(file.string(), ": no \"model\" object");
  const json& model = j["model"];
  const std::string type = model.value("type", std::string("(none)"));
  if (type != "WordPiece") {
    input_error(file.string(), ": model.type is '", type, "', expected 'WordPiece' (a BERT tokenizer)");
  }
  if (!model.contains("vocab") || !model["vocab"].is_object()) {
    input_error(file.string(), ": model.vocab must be an object mapping tokens to ids");
  }

  // Ids must cover 0..n-1 exactly once (added tokens may extend the range).
  std::vector<std::optional<std::string>> by_id;
  auto place = [&](const std::string& token, const json& id_json, const std::string& where) {
    if (!id_json.is_number_integer() || id_json.get<int64_t>() < 0) {
      input_error(file.string(), ": ", where, " '", token, "' has id ", id_json.dump(), ", expected an integer >= 0");
    }
    const auto id = static_cast<size_t>(id_json.get<int64_t>());
    if (id >= by_id.size()) by_id.resize(id + 1);
    if (by_id[id] && *by_id[id] != token) {
      input_error(file.string(), ": ", where, " '", token, "' and '", *by_id[id], "' share id ", id);
    }
    by_id[id] = token;
  };
  for (const auto& [token, id] : model["vocab"].items()) place(token, id, "model.vocab token");

  if (model.contains("unk_token")) {
    auto unk = token_value(model["unk_token"], file, "model.unk_token");
    if (unk) options.unk_token = *unk;
  }
  if (model.contains("continuing_subword_prefix") && !model["continuing_subword_prefix"].is_null()) {
    if (!model["continuing_subword_prefix"].is_string()) {
      input_error(file.string(), ": model.continuing_subword_prefix must be a string");
    }
    options.continuing_subword_prefix = model["continuing_subword_prefix"].get<std::string>();
  }
  if (model.contains("max_input_chars_per_word") && !model["max_input_chars_per_word"].is_null()) {
    if (!model["max_input_chars_per_word"].is_number_integer()) {
      input_error(file.string(), ": model.max_input_chars_per_word must be an integer");
    }
    options.max_input_chars_per_word = model["max_input_chars_per_word"].get<int64_t>();
  }

  const json normalizer = j.value("normalizer", json());
  if (normalizer.is_null()) {
    options.clean_text = false;
    options.tokenize_chinese_chars = false;
    options.do_lower_case = false;
    options.strip_accents = false;
  } else {
    const std::string ntype = normalizer.is_object() ? normalizer.value("type", std::string("(none)")) : "(invalid)";
    if (ntype != "BertNormalizer") {
      input_error(file.string(), ": normalizer type '", ntype, "' is not supported (expected BertNormalizer)");
    }
    if (normalizer.contains("clean_text")) options.clean_text = bool_value(normalizer["clean_text"], file, "normalizer.clean_text");
    if (normalizer.contains("handle_chinese_chars")) {
      options.tokenize_chinese_chars = bool_value(normalizer["handle_chinese_chars"], file, "normalizer.handle_chinese_chars");
    }
    if (normalizer.contains("lowercase")) options.do_lower_case = bool_value(normalizer["lowercase"], file, "normalizer.lowercase");
    if (normalizer.contains("strip_accents")) {
      options.strip_accents = optional_bool_value(normalizer["strip_accents"], file, "normalizer.strip_accents");
    }
  }
  const json pre = j.value("pre_tokenizer", json());
  const std::string ptype = pre.is_object() ? pre.value("type", std::string("(none)")) : "null";
  if (ptype != "BertPreTokenizer") {
    input_error(file.string(), ": pre_tokenizer type '", ptype, "' is not supported (expected BertPreTokenizer)");
  }

  if (j.contains("added_tokens") && !j["added_tokens"].is_null()) {
    if (!j["added_tokens"].is_array()) input_error(file.string(), ": added_tokens must be a list");
    for (const auto& added : j["added_tokens"]) {
      if (!added.is_object() || !added.contains("content") || !added["content"].is_string() || !added.contains("id")) {
        input_error(file.string(), ": every added_tokens entry needs \"id\" and \"content\", got ", added.dump());
      }
      const std::string content = added["content"].get<std::string>();
      place(content, added["id"], "added token");
      const bool special = added.value("special", false);
      auto& list = special ? options.additional_special_tokens : options.added_tokens;
      if (std::find(list.begin(), list.end(), content) == list.end()) list.push_back(content);
    }
  }

  std::vector<std::string> vocab;
  vocab.reserve(by_id.size());
  for (size_t id = 0; id < by_id.size(); ++id) {
    if (!by_id[id]) input_error(file.string(), ": no token has id ", id, " (ids must run 0..", by_id.size() - 1, ")");
    vocab.push_back(std::move(*by_id[id]));
  }
  return vocab;
}

}  // namespace

std::unique_ptr<Tokenizer> load_wordpiece_tokenizer(const fs::path& dir) {
  require_directory(dir, "a BERT tokenizer: vocab.txt or tokenizer.json");
  const fs::path vocab_path = dir / "vocab.txt";
  const fs::path json_path = dir / "tokenizer.json";
  WordPieceOptions options;
  std::vector<std::string> vocab;
  std::string source;
  if (fs::exists(vocab_path)) {
    vocab = read_wordpiece_vocab(vocab_path);
    source = vocab_path.string();
  } else if (fs::exists(json_path)) {
    vocab = read_tokenizer_json(json_path, options);
    source = json_path.string();
  } else {
    input_error(dir.string(), ": no vocab.txt or tokenizer.json (expected a BERT WordPiece tokenizer)");
  }
  const fs::path config_path = dir / "tokenizer_config.json";
  if (fs::exists(config_path)) apply_tokenizer_config(config_path, options);
  // transformers sets the special tokens of special_tokens_map.json after the config's.
  const fs::path map_path = dir / "special_tokens_map.json";
  if (fs::exists(map_path)) apply_special_tokens(read_json_object(map_path), map_path, options);
  return std::make_unique<WordPieceTokenizer>(std::move(vocab), std::move(options), source);
}

}  // namespace stilts::text
