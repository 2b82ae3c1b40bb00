// Word-split tokenization against transformers' slow tokenizers called with is_split_into_words=True:
// every case of every tokenize/*/word_cases.jsonl (per-word pieces, the whole row, its tokens, the row
// truncated to 24), and word_ids consistent with the fixture's own per-word pieces.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/fixtures.h"
#include "text/auto.h"

namespace stilts::text {
namespace {

using nlohmann::json;

// Special tokens around a single sequence, as each fixture's README states the family's template:
// [CLS] A [SEP] | <s> A </s> | A <sep> <cls>. Expected word_ids are derived from these and the fixture's
// word_tokens alone, never from the tokenizer under test.
struct Family {
  const char* fixture;
  size_t specials_before, specials_after;
};

const Family kFamilies[] = {
    {"wordpiece-cased", 1, 1}, {"wordpiece-uncased", 1, 1}, {"roberta-bpe", 1, 1},
    {"xlmr-spm", 1, 1},        {"xlnet-spm", 0, 2},
};

constexpr int64_t kTruncatedLength = 24;  // input_ids_max24: truncation=True, max_length=24

std::vector<json> read_word_cases(const std::string& fixture) {
  std::ifstream in(testing::fixtures_dir() / "tokenize" / fixture / "word_cases.jsonl");
  std::vector<json> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) cases.push_back(json::parse(line));
  }
  return cases;
}

template <typename T>
std::string show(const std::vector<T>& v) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < v.size(); ++i) out << (i ? " " : "") << v[i];
  return out.str() + "]";
}

template <typename T>
std::string diff(const std::string& what, const std::vector<T>& expected, const std::vector<T>& actual) {
  if (expected == actual) return "";
  return "  " + what + "\n    expected: " + show(expected) + "\n    actual:   " + show(actual) + "\n";
}

// The word index of every token of a row whose content is `word_tokens` flattened, cut to `kept`
// tokens, between `before` and `after` special tokens (-1).
std::vector<int64_t> expected_word_ids(const std::vector<std::vector<std::string>>& word_tokens, size_t kept,
                                       size_t before, size_t after) {
  std::vector<int64_t> ids(before, -1);
  for (size_t w = 0; w < word_tokens.size(); ++w) {
    for (size_t k = 0; k < word_tokens[w].size() && ids.size() < before + kept; ++k) {
      ids.push_back(static_cast<int64_t>(w));
    }
  }
  ids.insert(ids.end(), after, -1);
  return ids;
}

// Checks one case; returns "" when it matches, else what differs.
std::string check_case(const Tokenizer& tok, const Family& family, const json& c) {
  const auto words = c.at("words").get<std::vector<std::string>>();
  const auto word_tokens = c.at("word_tokens").get<std::vector<std::vector<std::string>>>();
  const auto word_token_ids = c.at("word_token_ids").get<std::vector<std::vector<int64_t>>>();
  const auto input_ids = c.at("input_ids").get<std::vector<int64_t>>();
  const auto tokens = c.at("tokens").get<std::vector<std::string>>();
  const auto input_ids_max24 = c.at("input_ids_max24").get<std::vector<int64_t>>();

  // The fixture's own consistency: one piece list per word, and the untruncated row is exactly the
  // flattened pieces between the family's specials (else the derived word_ids would mean nothing).
  std::string report;
  if (word_tokens.size() != words.size() || word_token_ids.size() != words.size()) {
    return "  fixture: word_tokens / word_token_ids do not have one entry per word\n";
  }
  std::vector<int64_t> flat;
  for (size_t w = 0; w < words.size(); ++w) {
    if (word_tokens[w].size() != word_token_ids[w].size() || word_tokens[w].empty()) {
      return "  fixture: word " + std::to_string(w + 1) + " has no pieces or tokens and ids disagree\n";
    }
    flat.insert(flat.end(), word_token_ids[w].begin(), word_token_ids[w].end());
  }
  const size_t specials = family.specials_before + family.specials_after;
  if (input_ids.size() != flat.size() + specials ||
      !std::equal(flat.begin(), flat.end(), input_ids.begin() + static_cast<std::ptrdiff_t>(family.specials_before))) {
    return "  fixture: input_ids is not the flattened word_token_ids between the template's specials\n";
  }

  const auto pieces = tok.tokenize_words(words, c.at("id").get<std::string>());
  for (size_t w = 0; w < words.size() && w < pieces.size(); ++w) {
    const std::string where = "word " + std::to_string(w + 1) + " '" + words[w] + "'";
    report += diff(where + " ids", word_token_ids[w], pieces[w]);
    // word_tokens is tokenize()'s output: SentencePiece keeps an out-of-vocabulary piece's text there,
    // where its id (and the row's tokens) say the unknown token.
    std::vector<std::string> expected_tokens = word_tokens[w];
    for (size_t k = 0; k < expected_tokens.size(); ++k) {
      if (word_token_ids[w][k] == tok.unk_id()) expected_tokens[k] = tok.id_to_token(tok.unk_id());
    }
    std::vector<std::string> piece_tokens;
    for (int64_t id : pieces[w]) piece_tokens.push_back(tok.id_to_token(id));
    report += diff(where + " tokens", expected_tokens, piece_tokens);
  }
  if (pieces.size() != words.size()) report += "  " + std::to_string(pieces.size()) + " piece lists for the words\n";

  const Encoding full = tok.encode_words(words, EncodeOptions{});
  report += diff("input_ids", input_ids, full.input_ids);
  report += diff("tokens", tokens, full.tokens);
  report += diff("attention_mask", std::vector<int64_t>(input_ids.size(), 1), full.attention_mask);
  report += diff("word_ids", expected_word_ids(word_tokens, flat.size(), family.specials_before, family.specials_after),
                 full.word_ids);

  EncodeOptions truncated;
  truncated.truncation = Truncation::kLongestFirst;  // transformers' truncation=True
  truncated.max_length = kTruncatedLength;
  const Encoding cut = tok.encode_words(words, truncated);
  report += diff("input_ids_max24", input_ids_max24, cut.input_ids);
  const size_t kept = std::min(flat.size(), static_cast<size_t>(kTruncatedLength) - specials);
  report += diff("word_ids (max 24)", expected_word_ids(word_tokens, kept, family.specials_before, family.specials_after),
                 cut.word_ids);
  return report;
}

class WordsParity : public ::testing::TestWithParam<Family> {};

TEST_P(WordsParity, EveryWordCaseMatchesTransformersIsSplitIntoWords) {
  const Family& family = GetParam();
  const std::string dir = std::string("tokenize/") + family.fixture;
  STILTS_REQUIRE_SHARED(dir + "/word_cases.jsonl");
  const auto cases = read_word_cases(family.fixture);
  ASSERT_EQ(cases.size(), 150u) << "the fixture README promises 150 sentences per tokenizer";
  const auto tok = load_tokenizer(testing::fixtures_dir() / dir);

  size_t passed = 0, words = 0, truncated = 0;
  std::string failures;
  for (const json& c : cases) {
    std::string report;
    try {
      report = check_case(*tok, family, c);
    } catch (const std::exception& e) {
      report = std::string("  threw: ") + e.what() + "\n";
    }
    words += c.at("words").size();
    truncated += c.at("input_ids_max24").size() < c.at("input_ids").size();
    if (report.empty()) {
      ++passed;
    } else {
      failures += c.at("id").get<std::string>() + ":\n" + report;
    }
  }
  std::cout << family.fixture << ": " << passed << "/" << cases.size() << " cases identical (" << words
            << " words: per-word ids and tokens, input_ids, tokens, word_ids; input_ids_max24 and its word_ids, "
            << truncated << " rows cut)\n";
  EXPECT_EQ(passed, cases.size()) << failures;
  EXPECT_GT(truncated, 0u) << "no case exercises truncation";
}

INSTANTIATE_TEST_SUITE_P(Fixtures, WordsParity, ::testing::ValuesIn(kFamilies),
                         [](const ::testing::TestParamInfo<Family>& info) {
                           std::string name = info.param.fixture;
                           for (char& ch : name) {
                             if (ch == '-') ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace stilts::text
