// WordPiece parity with transformers' slow BertTokenizer on the shared golden fixtures: every case of
// cases.jsonl must give identical input_ids, token_type_ids, attention_mask and tokens, loaded from
// vocab.txt + tokenizer_config.json, and again from an equivalent tokenizer.json.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "support/fixtures.h"
#include "text/wordpiece.h"

namespace stilts::text {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Case {
  std::string id;
  std::string text;
  std::optional<std::string> text_pair;
  EncodeOptions options;
  Encoding expected;
};

std::vector<Case> read_cases(const fs::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::vector<Case> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const json j = json::parse(line);
    Case c;
    c.id = j.at("id").get<std::string>();
    c.text = j.at("text").get<std::string>();
    if (!j.at("text_pair").is_null()) c.text_pair = j.at("text_pair").get<std::string>();
    const json& kw = j.at("kwargs");
    c.options.add_special_tokens = kw.value("add_special_tokens", true);
    if (kw.contains("max_length") && !kw["max_length"].is_null()) c.options.max_length = kw["max_length"].get<int64_t>();
    const json& truncation = kw.at("truncation");
    c.options.truncation = truncation.is_boolean() ? (truncation.get<bool>() ? Truncation::kLongestFirst : Truncation::kNone)
                                                   : parse_truncation(truncation.get<std::string>());
    const json& padding = kw.at("padding");
    c.options.padding = padding.is_boolean() ? (padding.get<bool>() ? Padding::kLongest : Padding::kNone)
                                             : parse_padding(padding.get<std::string>());
    c.expected.input_ids = j.at("input_ids").get<std::vector<int64_t>>();
    c.expected.token_type_ids = j.at("token_type_ids").get<std::vector<int64_t>>();
    c.expected.attention_mask = j.at("attention_mask").get<std::vector<int64_t>>();
    c.expected.tokens = j.at("tokens").get<std::vector<std::string>>();
    cases.push_back(std::move(c));
  }
  return cases;
}

template <typename T>
std::string join(const std::vector<T>& items) {
  std::ostringstream out;
  for (size_t i = 0; i < items.size(); ++i) out << (i ? " " : "") << items[i];
  return out.str();
}

// "" when equal, else where the two sequences first differ.
template <typename T>
std::string diff(const char* field, const std::vector<T>& expected, const std::vector<T>& actual) {
  if (expected == actual) return "";
  size_t i = 0;
  while (i < expected.size() && i < actual.size() && expected[i] == actual[i]) ++i;
  std::ostringstream out;
  out << "  " << field << " differ at position " << i << " (lengths " << expected.size() << " vs " << actual.size()
      << ")\n    expected: " << join(expected) << "\n    actual:   " << join(actual) << "\n";
  return out.str();
}

// Runs every case; reports each failing case id with a diff and returns the number that matched.
size_t run_cases(const Tokenizer& tokenizer, const std::vector<Case>& cases, const std::string& label) {
  size_t passed = 0;
  std::vector<std::string> failed_ids;
  for (const auto& c : cases) {
    std::string report;
    try {
      const Encoding got = tokenizer.encode(c.text, c.text_pair, c.options, c.id);
      report = diff("tokens", c.expected.tokens, got.tokens) + diff("input_ids", c.expected.input_ids, got.input_ids) +
               diff("token_type_ids", c.expected.token_type_ids, got.token_type_ids) +
               diff("attention_mask", c.expected.attention_mask, got.attention_mask);
    } catch (const std::exception& e) {
      report = std::string("  threw: ") + e.what() + "\n";
    }
    if (report.empty()) {
      ++passed;
    } else {
      failed_ids.push_back(c.id);
      ADD_FAILURE() << label << " case " << c.id << "\n" << report;
    }
  }
  std::cout << label << ": " << passed << "/" << cases.size() << " cases identical to transformers"
            << (failed_ids.empty() ? "" : "; failing: " + join(failed_ids)) << "\n";
  return passed;
}

void check_fixture(const std::string& name) {
  const fs::path dir = testing::fixtures_dir() / "tokenize" / name;
  const auto tokenizer = load_wordpiece_tokenizer(dir);
  EXPECT_EQ(tokenizer->kind(), "wordpiece");
  const auto cases = read_cases(dir / "cases.jsonl");
  ASSERT_GT(cases.size(), 700u);
  EXPECT_EQ(run_cases(*tokenizer, cases, name), cases.size());
}

// A tokenizer.json (HF tokenizers format) equivalent to the fixture's slow tokenizer, written to a
// temp dir with nothing else, so every setting comes from it.
void check_fixture_as_tokenizer_json(const std::string& name) {
  const fs::path dir = testing::fixtures_dir() / "tokenize" / name;
  const json config = read_json_file(dir / "tokenizer_config.json");

  json vocab = json::object();
  {
    std::ifstream in(dir / "vocab.txt", std::ios::binary);
    std::string line;
    int64_t id = 0;
    while (std::getline(in, line)) vocab[line] = id++;
  }
  json added = json::array();
  for (const char* key : {"pad_token", "unk_token", "cls_token", "sep_token", "mask_token"}) {
    const std::string content = config.at(key).get<std::string>();
    added.push_back({{"id", vocab.at(content)}, {"content", content}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", true}});
  }
  const json tokenizer_json = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added},
      {"normalizer",
       {{"type", "BertNormalizer"},
        {"clean_text", true},
        {"handle_chinese_chars", config.at("tokenize_chinese_chars")},
        {"strip_accents", config.at("strip_accents")},
        {"lowercase", config.at("do_lower_case")}}},
      {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
      {"post_processor", nullptr},
      {"decoder", {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}}},
      {"model",
       {{"type", "WordPiece"},
        {"unk_token", config.at("unk_token")},
        {"continuing_subword_prefix", "##"},
        {"max_input_chars_per_word", 100},
        {"vocab", vocab}}},
  };
  const fs::path tmp = testing::make_temp_dir();
  write_file_atomic(tmp / "tokenizer.json", tokenizer_json.dump(2));

  const auto tokenizer = load_wordpiece_tokenizer(tmp);
  EXPECT_EQ(tokenizer->vocab_size(), static_cast<int64_t>(vocab.size()));
  const auto cases = read_cases(dir / "cases.jsonl");
  EXPECT_EQ(run_cases(*tokenizer, cases, name + " (tokenizer.json)"), cases.size());
}

TEST(WordPieceParity, CasedMatchesTransformers) {
  STILTS_REQUIRE_SHARED("tokenize/wordpiece-cased");
  check_fixture("wordpiece-cased");
}

TEST(WordPieceParity, UncasedMatchesTransformers) {
  STILTS_REQUIRE_SHARED("tokenize/wordpiece-uncased");
  check_fixture("wordpiece-uncased");
}

TEST(WordPieceParity, CasedFromTokenizerJson) {
  STILTS_REQUIRE_SHARED("tokenize/wordpiece-cased");
  check_fixture_as_tokenizer_json("wordpiece-cased");
}

TEST(WordPieceParity, UncasedFromTokenizerJson) {
  STILTS_REQUIRE_SHARED("tokenize/wordpiece-uncased");
  check_fixture_as_tokenizer_json("wordpiece-uncased");
}

}  // namespace
}  // namespace stilts::text
