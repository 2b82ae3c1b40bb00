// Parity with the transformers slow tokenizers (XLMRobertaTokenizer, XLNetTokenizer): every case of the
// golden fixtures in ../shared/fixtures/tokenize/{xlmr,xlnet}-spm must give identical input_ids,
// token_type_ids, attention_mask and tokens.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/fixtures.h"
#include "text/sentencepiece.h"

namespace stilts::text {
namespace {

using nlohmann::json;

template <typename T>
std::string show(const std::vector<T>& v, size_t from, size_t to) {
  std::ostringstream out;
  out << "[";
  for (size_t i = from; i < std::min(to, v.size()); ++i) out << (i > from ? ", " : "") << v[i];
  out << "]";
  return out.str();
}

// "" when equal; otherwise where the first difference is, with a window of both sides.
template <typename T>
std::string diff(const char* field, const std::vector<T>& expected, const std::vector<T>& actual) {
  if (expected == actual) return "";
  size_t i = 0;
  while (i < expected.size() && i < actual.size() && expected[i] == actual[i]) ++i;
  const size_t from = i > 3 ? i - 3 : 0;
  std::ostringstream out;
  out << "  " << field << ": first difference at " << i << " (lengths " << expected.size() << " vs "
      << actual.size() << ")\n    expected " << show(expected, from, i + 6) << "\n    actual   "
      << show(actual, from, i + 6) << "\n";
  return out.str();
}

EncodeOptions options_of(const json& kwargs) {
  EncodeOptions o;
  o.add_special_tokens = kwargs.value("add_special_tokens", true);
  if (kwargs.contains("max_length") && !kwargs["max_length"].is_null()) o.max_length = kwargs["max_length"].get<int64_t>();
  const json& t = kwargs.at("truncation");
  o.truncation = t.is_boolean() ? (t.get<bool>() ? Truncation::kLongestFirst : Truncation::kNone)
                                : parse_truncation(t.get<std::string>());
  const json& p = kwargs.at("padding");
  o.padding = p.is_boolean() ? (p.get<bool>() ? Padding::kLongest : Padding::kNone) : parse_padding(p.get<std::string>());
  return o;
}

void run_fixture(const std::string& name, const Tokenizer& tok) {
  const auto path = stilts::testing::fixtures_dir() / "tokenize" / name / "cases.jsonl";
  std::ifstream in(path);
  ASSERT_TRUE(in) << "cannot open " << path;
  std::string line;
  int total = 0;
  std::vector<std::string> failed;
  std::string report;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const json c = json::parse(line);
    ++total;
    const std::string id = c.at("id").get<std::string>();
    std::optional<std::string> pair;
    if (!c.at("text_pair").is_null()) pair = c["text_pair"].get<std::string>();
    std::string problems;
    try {
      const Encoding e = tok.encode(c.at("text").get<std::string>(), pair, options_of(c.at("kwargs")), id);
      problems += diff("input_ids", c.at("input_ids").get<std::vector<int64_t>>(), e.input_ids);
      const auto types = c.at("token_type_ids").is_null() ? std::vector<int64_t>{}
                                                          : c["token_type_ids"].get<std::vector<int64_t>>();
      problems += diff("token_type_ids", types, e.token_type_ids);
      problems += diff("attention_mask", c.at("attention_mask").get<std::vector<int64_t>>(), e.attention_mask);
      problems += diff("tokens", c.at("tokens").get<std::vector<std::string>>(), e.tokens);
    } catch (const std::exception& ex) {
      problems = std::string("  threw: ") + ex.what() + "\n";
    }
    if (!problems.empty()) {
      failed.push_back(id);
      report += id + ":\n" + problems;
    }
  }
  std::cout << name << ": " << (total - static_cast<int>(failed.size())) << "/" << total
            << " cases identical (ids, token types, masks, tokens; exact match required)\n";
  EXPECT_GT(total, 0);
  EXPECT_TRUE(failed.empty()) << failed.size() << " of " << total << " cases differ:\n" << report;
}

TEST(SentencePieceParity, XlmRobertaEveryCase) {
  STILTS_REQUIRE_SHARED("tokenize/xlmr-spm");
  const auto tok = load_xlmr_tokenizer(stilts::testing::fixtures_dir() / "tokenize" / "xlmr-spm");
  EXPECT_EQ(tok->kind(), "sentencepiece-xlmr");
  EXPECT_EQ(tok->model_max_length(), 512);
  EXPECT_EQ(tok->vocab_size(), 8002);
  EXPECT_EQ(tok->token_to_id("<mask>"), 8001);
  run_fixture("xlmr-spm", *tok);
}

TEST(SentencePieceParity, XlnetEveryCase) {
  STILTS_REQUIRE_SHARED("tokenize/xlnet-spm");
  const auto tok = load_xlnet_tokenizer(stilts::testing::fixtures_dir() / "tokenize" / "xlnet-spm");
  EXPECT_EQ(tok->kind(), "sentencepiece-xlnet");
  EXPECT_EQ(tok->model_max_length(), 512);
  EXPECT_EQ(tok->vocab_size(), 8000);
  EXPECT_EQ(tok->token_to_id("<cls>"), 3);
  EXPECT_EQ(tok->token_to_id("<pad>"), 5);
  run_fixture("xlnet-spm", *tok);
}

}  // namespace
}  // namespace stilts::text
