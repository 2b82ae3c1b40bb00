// Byte-level BPE against transformers' slow RobertaTokenizer: every case of the roberta-bpe fixture
// (ids, attention mask and tokens identical), from vocab.json + merges.txt and from tokenizer.json.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/fixtures.h"
#include "text/bpe.h"

namespace stilts::text {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char* const kFixture = "tokenize/roberta-bpe";

std::vector<json> read_cases() {
  std::ifstream in(testing::fixtures_dir() / kFixture / "cases.jsonl");
  std::vector<json> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) cases.push_back(json::parse(line));
  }
  return cases;
}

EncodeOptions options_of(const json& kwargs) {
  EncodeOptions o;
  o.add_special_tokens = kwargs.value("add_special_tokens", true);
  const json& truncation = kwargs.at("truncation");
  if (truncation.is_string()) o.truncation = parse_truncation(truncation.get<std::string>());
  const json& padding = kwargs.at("padding");
  if (padding.is_string()) o.padding = parse_padding(padding.get<std::string>());
  if (kwargs.contains("max_length")) o.max_length = kwargs.at("max_length").get<int64_t>();
  return o;
}

template <typename T>
std::string join(const std::vector<T>& v, size_t from, size_t to) {
  std::ostringstream out;
  for (size_t i = from; i < std::min(to, v.size()); ++i) out << (i > from ? " " : "") << v[i];
  return out.str();
}

// "" when equal; otherwise where the two first differ, with a few items of context.
template <typename T>
std::string diff(const char* what, const std::vector<T>& expected, const std::vector<T>& actual) {
  if (expected == actual) return "";
  size_t i = 0;
  while (i < expected.size() && i < actual.size() && expected[i] == actual[i]) ++i;
  const size_t from = i >= 3 ? i - 3 : 0;
  std::ostringstream out;
  out << "  " << what << " differ at " << i << " (lengths " << expected.size() << " vs " << actual.size()
      << ")\n    expected: ... " << join(expected, from, i + 5) << "\n    actual:   ... " << join(actual, from, i + 5)
      << "\n";
  return out.str();
}

// Runs every case; returns the number that match and appends a report of the rest to `failures`.
size_t run_cases(const Tokenizer& tok, const std::vector<json>& cases, bool check_tokens, std::string& failures) {
  size_t passed = 0;
  for (const json& c : cases) {
    std::optional<std::string> pair;
    if (!c.at("text_pair").is_null()) pair = c.at("text_pair").get<std::string>();
    std::string report;
    try {
      const Encoding e = tok.encode(c.at("text").get<std::string>(), pair, options_of(c.at("kwargs")));
      report += diff("input_ids", c.at("input_ids").get<std::vector<int64_t>>(), e.input_ids);
      report += diff("attention_mask", c.at("attention_mask").get<std::vector<int64_t>>(), e.attention_mask);
      if (c.at("token_type_ids").is_null()) {
        if (!e.token_type_ids.empty()) report += "  token_type_ids returned, expected none\n";
      } else {
        report += diff("token_type_ids", c.at("token_type_ids").get<std::vector<int64_t>>(), e.token_type_ids);
      }
      if (check_tokens) report += diff("tokens", c.at("tokens").get<std::vector<std::string>>(), e.tokens);
    } catch (const std::exception& ex) {
      report += std::string("  threw: ") + ex.what() + "\n";
    }
    if (report.empty()) {
      ++passed;
    } else {
      failures += c.at("id").get<std::string>() + ":\n" + report;
    }
  }
  return passed;
}

TEST(BpeParity, EveryCaseMatchesTransformersSlowRobertaTokenizer) {
  STILTS_REQUIRE_SHARED(kFixture);
  const auto cases = read_cases();
  ASSERT_EQ(cases.size(), 761u) << "README.txt promises 761 cases";

  const auto start = std::chrono::steady_clock::now();
  const auto tok = load_bpe_tokenizer(testing::fixtures_dir() / kFixture);
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "load vocab.json + merges.txt: " << load_s << " s\n";
  EXPECT_EQ(tok->kind(), "byte-level-bpe");
  EXPECT_EQ(tok->vocab_size(), 50265);
  EXPECT_EQ(tok->model_max_length(), 512);
  EXPECT_FALSE(tok->special_template().returns_token_type_ids);

  std::string failures;
  const size_t passed = run_cases(*tok, cases, /*check_tokens=*/true, failures);
  std::cout << passed << "/" << cases.size() << " cases identical (ids, attention_mask, tokens)\n";
  EXPECT_EQ(passed, cases.size()) << failures;
}

TEST(BpeParity, TokenizerJsonGivesTheSameIds) {
  STILTS_REQUIRE_SHARED(kFixture);
  STILTS_REQUIRE_SHARED("vocab/roberta-base/tokenizer.json");
  const fs::path src = testing::fixtures_dir() / "vocab/roberta-base";
  const fs::path dir = testing::make_temp_dir();
  fs::copy_file(src / "tokenizer.json", dir / "tokenizer.json");
  fs::copy_file(src / "tokenizer_config.json", dir / "tokenizer_config.json");

  const auto start = std::chrono::steady_clock::now();
  const auto tok = load_bpe_tokenizer(dir);
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "load tokenizer.json: " << load_s << " s\n";
  EXPECT_EQ(tok->vocab_size(), 50265);

  const auto cases = read_cases();
  std::string failures;
  const size_t passed = run_cases(*tok, cases, /*check_tokens=*/true, failures);
  std::cout << passed << "/" << cases.size() << " cases identical from tokenizer.json\n";
  EXPECT_EQ(passed, cases.size()) << failures;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace stilts::text
