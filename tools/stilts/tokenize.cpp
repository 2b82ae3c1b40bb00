// stilts tokenize TOKENIZER_DIR [--words] [--max-length N] [--truncation S] [--padding longest|max_length]
// JSON lines {"text": ..., "text_pair": ...} (or, with --words, {"words": [...]}) on stdin -> one JSON
// line per input on stdout.
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "hub/cache.h"
#include "common/error.h"
#include "text/auto.h"

namespace stilts::cli {

namespace {

struct Line {
  std::string text;
  std::optional<std::string> text_pair;
};

// One stdin line as a JSON object; `shape` describes the expected object in errors.
nlohmann::json parse_object(const std::string& raw, const std::string& where, const char* shape) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(raw);
  } catch (const nlohmann::json::parse_error& e) {
    const std::string what = e.what();
    input_error(where, ": not valid JSON: ", what.substr(what.find(':') + 2));
  }
  if (!j.is_object()) input_error(where, ": expected an object ", shape);
  return j;
}

Line parse_line(const std::string& raw, size_t number) {
  const std::string where = "stdin line " + std::to_string(number);
  const nlohmann::json j = parse_object(raw, where, "{\"text\": ..., \"text_pair\": ...}");
  if (!j.contains("text")) input_error(where, ": field 'text' is missing");
  if (!j.at("text").is_string()) input_error(where, ": field 'text' must be a string");
  Line line{j.at("text").get<std::string>(), std::nullopt};
  if (j.contains("text_pair") && !j.at("text_pair").is_null()) {
    if (!j.at("text_pair").is_string()) input_error(where, ": field 'text_pair' must be a string or null");
    line.text_pair = j.at("text_pair").get<std::string>();
  }
  for (const auto& [key, _] : j.items()) {
    if (key != "text" && key != "text_pair") input_error(where, ": unknown field '", key, "' (expected text, text_pair)");
  }
  return line;
}

// A --words line: {"words": ["...", ...]}. Every line must be one (no blank lines), so sentence i is
// stdin line i and the library's "stdin line N" in its errors is the line.
std::vector<std::string> parse_words_line(const std::string& raw, size_t number) {
  const std::string where = "stdin line " + std::to_string(number);
  if (raw.find_first_not_of(" \t\r") == std::string::npos) {
    input_error(where, ": empty line (expected {\"words\": [...]} on every line)");
  }
  const nlohmann::json j = parse_object(raw, where, "{\"words\": [...]}");
  for (const auto& [key, _] : j.items()) {
    if (key != "words") input_error(where, ": unknown field '", key, "' (expected words)");
  }
  if (!j.contains("words")) input_error(where, ": field 'words' is missing");
  const auto& words = j.at("words");
  if (!words.is_array()) input_error(where, ": field 'words' must be an array of strings, got ", words.dump());
  std::vector<std::string> out;
  out.reserve(words.size());
  for (size_t i = 0; i < words.size(); ++i) {
    if (!words[i].is_string()) {
      input_error(where, ": words[", i, "] must be a string, got ", words[i].dump());
    }
    out.push_back(words[i].get<std::string>());
  }
  return out;
}

void print(const text::Tokenizer& tokenizer, const text::Encoding& e, bool words) {
  nlohmann::json out;
  out["input_ids"] = e.input_ids;
  out["attention_mask"] = e.attention_mask;
  if (tokenizer.special_template().returns_token_type_ids) out["token_type_ids"] = e.token_type_ids;
  out["tokens"] = e.tokens;
  if (words) {
    // transformers' word_ids(): null for special and padding tokens.
    out["word_ids"] = nlohmann::json::array();
    for (int64_t w : e.word_ids) out["word_ids"].push_back(w < 0 ? nlohmann::json(nullptr) : nlohmann::json(w));
  }
  std::cout << out.dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace) << "\n";
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  struct Args {
    std::string dir;
    std::optional<int64_t> max_length;
    std::string truncation = "none";
    std::string padding = "none";
    bool words = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "tokenize",
      "Tokenize JSON lines {\"text\": ..., \"text_pair\": ...} from stdin as the transformers tokenizer\n"
      "of TOKENIZER_DIR does; prints input_ids, attention_mask, token_type_ids (where the family has\n"
      "them) and tokens, one JSON line per input.\n"
      "With --words, each line is a sentence given as words, {\"words\": [...]}, tokenized as\n"
      "is_split_into_words=True does (a word without sub-tokens gets the unknown token, as XTREME's\n"
      "taggers do); the output adds word_ids, each token's word index (null for special tokens).");
  cmd->add_option("tokenizer_dir", args->dir, "directory with the tokenizer files")->required();
  cmd->add_flag("--words", args->words, "read {\"words\": [...]} lines and also print word_ids");
  cmd->add_option("--max-length", args->max_length, "limit for truncation and max_length padding")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--truncation", args->truncation, "longest_first | only_first | only_second | none")
      ->default_str("none");
  cmd->add_option("--padding", args->padding, "longest | max_length | none")->default_str("none");
  cmd->callback([args] {
    args->dir = hub::resolve_model(args->dir).dir.string();
    const auto tokenizer = text::load_tokenizer(args->dir);
    text::EncodeOptions options;
    options.max_length = args->max_length;
    options.truncation = text::parse_truncation(args->truncation);
    options.padding = text::parse_padding(args->padding);

    std::string raw;
    size_t number = 0;
    if (args->words) {
      std::vector<std::vector<std::string>> sentences;
      while (std::getline(std::cin, raw)) sentences.push_back(parse_words_line(raw, ++number));
      if (sentences.empty()) input_error("stdin: no input (expected JSON lines {\"words\": [...]})");
      for (const auto& e : tokenizer->encode_words_batch(sentences, options, "stdin line")) print(*tokenizer, e, true);
      return;
    }
    std::vector<std::string> texts;
    std::vector<std::optional<std::string>> pairs;
    while (std::getline(std::cin, raw)) {
      ++number;
      if (raw.find_first_not_of(" \t\r") == std::string::npos) continue;
      Line line = parse_line(raw, number);
      texts.push_back(std::move(line.text));
      pairs.push_back(std::move(line.text_pair));
    }
    if (texts.empty()) input_error("stdin: no input (expected JSON lines {\"text\": ..., \"text_pair\": ...})");
    for (const auto& e : tokenizer->encode_batch(texts, pairs, options)) print(*tokenizer, e, false);
  });
}

}  // namespace stilts::cli
