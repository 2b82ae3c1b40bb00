// Tokens back to text, as each family's convert_tokens_to_string joins them (what SQuAD's decoding
// projects onto the context), and Python's errors="replace" UTF-8 decoding the byte-level BPE uses.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fixtures.h"
#include "text/auto.h"
#include "text/basic.h"
#include "text/unicode.h"

namespace stilts::text {
namespace {

namespace fs = std::filesystem;

const std::string kReplacement = "\xEF\xBF\xBD";  // U+FFFD

TEST(Utf8Replace, EachMaximalIllFormedSubsequenceBecomesOneReplacement) {
  EXPECT_EQ(decode_utf8_replace("abc"), "abc");
  EXPECT_EQ(decode_utf8_replace("caf\xC3\xA9 \xE4\xB8\xAD"), "caf\xC3\xA9 \xE4\xB8\xAD");  // valid: unchanged
  // A 3-byte sequence cut after 2 bytes, then ASCII: one replacement for the cut sequence.
  EXPECT_EQ(decode_utf8_replace("\xE2\x82x"), kReplacement + "x");
  // A 4-byte sequence cut at the end.
  EXPECT_EQ(decode_utf8_replace("a\xF0\x9F\x98"), "a" + kReplacement);
  // Bytes that never start a sequence, one replacement each.
  EXPECT_EQ(decode_utf8_replace("\xFF\xC0\xAF"), kReplacement + kReplacement + kReplacement);
  // An encoded surrogate: ED is followed by A0, outside ED's range, so ED alone is the subpart, then the
  // two continuation bytes one by one.
  EXPECT_EQ(decode_utf8_replace("\xED\xA0\x80"), kReplacement + kReplacement + kReplacement);
  // Overlong E0 80..9F and F0 80..8F, and F4 above U+10FFFF.
  EXPECT_EQ(decode_utf8_replace("\xE0\x80\x80"), kReplacement + kReplacement + kReplacement);
  EXPECT_EQ(decode_utf8_replace("\xF4\x90\x80\x80"), kReplacement + kReplacement + kReplacement + kReplacement);
}

TEST(PythonStrip, WhitespaceAsStrIsspaceSeesIt) {
  EXPECT_EQ(python_strip(" \t\n a b \u3000"), "a b");
  EXPECT_EQ(python_strip("\x1C" "x" "\x1F"), "x");  // file and unit separators are Python whitespace
  EXPECT_EQ(python_strip(""), "");
}

std::unique_ptr<Tokenizer> fixture(const std::string& name) {
  return load_tokenizer(testing::fixtures_dir() / "tokenize" / name);
}

TEST(TokensToString, WordPieceGluesContinuations) {
  STILTS_REQUIRE_SHARED("tokenize/wordpiece-cased");
  const auto t = fixture("wordpiece-cased");
  EXPECT_FALSE(t->lowercases());
  // Words and punctuation come back separated by single spaces, "##" pieces glued to their word.
  EXPECT_EQ(t->tokens_to_string(t->tokenize("Hello, wonderful world!")), "Hello , wonderful world !");
  EXPECT_TRUE(fixture("wordpiece-uncased")->lowercases());
  EXPECT_EQ(fixture("wordpiece-uncased")->tokens_to_string(fixture("wordpiece-uncased")->tokenize("Hello World")),
            "hello world");
}

TEST(TokensToString, ByteLevelBpeIsTheBytesBack) {
  STILTS_REQUIRE_SHARED("tokenize/roberta-bpe");
  const auto t = fixture("roberta-bpe");
  EXPECT_FALSE(t->lowercases());
  // Byte-level BPE loses nothing: the text comes back as it was, leading space included.
  for (const std::string text : {"Hello world", " caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87!", "a  b\tc"}) {
    EXPECT_EQ(t->tokens_to_string(t->tokenize(text)), text) << text;
  }
  EXPECT_EQ(t->tokens_to_string(t->tokenize_word("world")), " world");
}

TEST(TokensToString, SentencePieceTurnsTheMarkerIntoSpaces) {
  STILTS_REQUIRE_SHARED("tokenize/xlmr-spm");
  const auto x = fixture("xlmr-spm");
  EXPECT_FALSE(x->lowercases());
  EXPECT_EQ(x->tokens_to_string(x->tokenize("Hello world, this is a test.")), "Hello world, this is a test.");
  const auto n = fixture("xlnet-spm");
  EXPECT_EQ(n->tokens_to_string(n->tokenize("Hello world")), "Hello world");
}

}  // namespace
}  // namespace stilts::text
