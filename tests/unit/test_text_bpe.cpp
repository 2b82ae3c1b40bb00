// Byte-level BPE on a toy vocabulary written into a temp dir: merge order, unknown pieces, special
// tokens in the text, the template, both file formats, the GPT-2 regex, and every load error.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "support/fixtures.h"
#include "text/bpe.h"

namespace stilts::text {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Ids = std::vector<int64_t>;

// Ġ (U+0120) is the byte-level character of a space.
const char* const kVocab = R"({"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "l": 4, "o": 5, "w": 6, "e": 7,
  "r": 8, "\u0120": 9, "lo": 10, "low": 11, "er": 12, "\u0120low": 13, "lower": 14, "oo": 15, "<mask>": 16})";
// Ranks: 0 "l o", 1 "lo w", 2 "e r", 3 "Ġ low", 4 "low er", 5 "o o".
const char* const kMerges = "#version: 0.2\nl o\nlo w\ne r\n\u0120 low\nlow er\no o\n";

void write(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

fs::path toy_dir() {
  const fs::path dir = testing::make_temp_dir();
  write(dir / "vocab.json", kVocab);
  write(dir / "merges.txt", kMerges);
  return dir;
}

Ids ids(const Tokenizer& tok, const std::string& text) { return tok.tokenize(text); }

std::string load_error(const fs::path& dir) {
  try {
    load_bpe_tokenizer(dir);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

TEST(Bpe, MergesByRankEveryOccurrenceLeftToRight) {
  const auto tok = load_bpe_tokenizer(toy_dir());
  EXPECT_EQ(tok->kind(), "byte-level-bpe");
  EXPECT_EQ(ids(*tok, "lower"), (Ids{14}));       // l o -> lo w -> e r -> low er
  EXPECT_EQ(ids(*tok, "low lower"), (Ids{11, 13, 12}));  // "Ġ low" (3) outranks "low er" (4)
  EXPECT_EQ(ids(*tok, "ooo"), (Ids{15, 5}));      // "o o" once, from the left
  EXPECT_EQ(ids(*tok, "lower"), (Ids{14}));       // again, from the cache
  EXPECT_EQ(ids(*tok, ""), (Ids{}));
}

TEST(Bpe, PiecesOutsideTheVocabularyBecomeUnk) {
  const auto tok = load_bpe_tokenizer(toy_dir());
  EXPECT_EQ(ids(*tok, "lowx"), (Ids{11, 3}));
  EXPECT_EQ(ids(*tok, "lé"), (Ids{4, 3, 3}));  // é is two bytes, neither in the toy vocabulary
}

TEST(Bpe, TemplateAndPaddingWithoutTokenTypes) {
  const auto tok = load_bpe_tokenizer(toy_dir());
  Encoding e = tok->encode("low", std::string("er"), {});
  EXPECT_EQ(e.input_ids, (Ids{0, 11, 2, 2, 12, 2}));
  EXPECT_TRUE(e.token_type_ids.empty());
  EXPECT_EQ(e.tokens, (std::vector<std::string>{"<s>", "low", "</s>", "</s>", "er", "</s>"}));
  EncodeOptions o;
  o.padding = Padding::kMaxLength;
  o.max_length = 5;
  e = tok->encode("low", std::nullopt, o);
  EXPECT_EQ(e.input_ids, (Ids{0, 11, 2, 1, 1}));
  EXPECT_EQ(e.attention_mask, (Ids{1, 1, 1, 0, 0}));
  EXPECT_EQ(tok->model_max_length(), 512);
}

TEST(Bpe, SpecialTokensInTextAndMaskTakesTheSpaceOnItsLeft) {
  const auto tok = load_bpe_tokenizer(toy_dir());
  EXPECT_EQ(ids(*tok, "low <mask> er"), (Ids{11, 16, 9, 12}));  // " " before <mask> swallowed, " er" keeps it
  EXPECT_EQ(ids(*tok, "low </s>"), (Ids{11, 9, 2}));             // </s> has lstrip false: Ġ stays
  EXPECT_EQ(ids(*tok, "<s><pad>low"), (Ids{0, 1, 11}));
  EXPECT_EQ(ids(*tok, "<mask"), (Ids{3, 3, 3, 3, 3}));  // not a token: "<" then "mask" (m, a, s, k unknown)
}

// all_special_ids in transformers' order (bos, eos, unk, sep, pad, cls, mask; repeats once), and the mask.
TEST(Bpe, SpecialIdsAndMaskId) {
  const auto tok = load_bpe_tokenizer(toy_dir());
  EXPECT_EQ(tok->special_ids(), (Ids{0, 2, 3, 1, 16}));
  EXPECT_EQ(tok->mask_id(), 16);
}

TEST(Bpe, ConfigFlagsPrefixSpaceAndMaxLength) {
  const fs::path dir = toy_dir();
  // tokenizer_config.json as save_pretrained writes it, special_tokens_map.json overriding it.
  write(dir / "tokenizer_config.json",
        R"({"add_prefix_space": true, "model_max_length": 64, "mask_token": "<mask>",
            "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false, "rstrip": false}})");
  write(dir / "special_tokens_map.json",
        R"({"bos_token": {"content": "<s>", "lstrip": false, "rstrip": true}, "cls_token": "<s>"})");
  const auto tok = load_bpe_tokenizer(dir);
  EXPECT_EQ(tok->model_max_length(), 64);
  EXPECT_EQ(ids(*tok, "low"), (Ids{13}));  // " low"
  EXPECT_EQ(ids(*tok, " low"), (Ids{13}));  // already starts with a space: none added
  // " <s> low": cls_token (a later role with the same content) is a plain string, so its
  // AddedToken(rstrip=False) wins over bos_token's rstrip and " low" keeps its space.
  EXPECT_EQ(ids(*tok, "<s> low"), (Ids{9, 0, 13}));
  EXPECT_EQ(ids(*tok, "x <mask>"), (Ids{9, 3, 16}));  // a plain-string mask still takes the space on its left
}

TEST(Bpe, RstripSwallowsTheSpaceOnTheRight) {
  const fs::path dir = toy_dir();
  write(dir / "special_tokens_map.json", R"({"sep_token": {"content": "</s>", "rstrip": true, "lstrip": true}})");
  const auto tok = load_bpe_tokenizer(dir);
  // eos_token (also </s>) keeps the default flags, but sep_token comes later in transformers' order.
  EXPECT_EQ(ids(*tok, "low </s> low"), (Ids{11, 2, 11}));
}

TEST(Bpe, SpecialTokensMissingFromTheVocabularyGetTheNextIds) {
  const fs::path dir = toy_dir();
  write(dir / "special_tokens_map.json", R"({"mask_token": "[M]"})");
  const auto tok = load_bpe_tokenizer(dir);
  EXPECT_EQ(tok->token_to_id("[M]"), 17);
  EXPECT_EQ(tok->vocab_size(), 18);
  EXPECT_EQ(ids(*tok, "low [M]"), (Ids{11, 17}));
  EXPECT_EQ(tok->id_to_token(17), "[M]");
  EXPECT_THROW(tok->id_to_token(18), InputError);
  EXPECT_EQ(tok->token_to_id("nope"), std::nullopt);
}

TEST(Bpe, TokenizerJsonGivesTheSameIds) {
  const fs::path dir = testing::make_temp_dir();
  // Merges both as "a b" strings and as [a, b] pairs (newer files).
  write(dir / "tokenizer.json", std::string(R"({"version": "1.0",
    "added_tokens": [{"id": 16, "content": "<mask>", "lstrip": true, "rstrip": false, "special": true}],
    "normalizer": null,
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true},
    "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0]},
    "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": "",
      "end_of_word_suffix": "", "fuse_unk": false, "vocab": )") + kVocab + R"(,
      "merges": ["l o", "lo w", ["e", "r"], "\u0120 low", "low er", ["o", "o"]]}})");
  const auto tok = load_bpe_tokenizer(dir);
  EXPECT_EQ(ids(*tok, "low lower"), (Ids{11, 13, 12}));
  EXPECT_EQ(ids(*tok, "low <mask> er"), (Ids{11, 16, 9, 12}));
  EXPECT_EQ(tok->encode("low", std::string("er"), {}).input_ids, (Ids{0, 11, 2, 2, 12, 2}));
}

TEST(Bpe, Gpt2PreTokenizationRegex) {
  // Expected values from Python's `regex` module running the GPT-2 pattern.
  using V = std::vector<std::string>;
  EXPECT_EQ(gpt2_pre_tokenize("I'm here's 'S '''s !'s"),
            (V{"I", "'m", " here", "'s", " '", "S", " '''", "s", " !'", "s"}));
  EXPECT_EQ(gpt2_pre_tokenize("it'll they've we're 'd"), (V{"it", "'ll", " they", "'ve", " we", "'re", " '", "d"}));
  EXPECT_EQ(gpt2_pre_tokenize("a  b\t\tc \t d   "), (V{"a", " ", " b", "\t", "\t", "c", " \t", " d", "   "}));
  EXPECT_EQ(gpt2_pre_tokenize(" 12ab3 \u00bdx"), (V{" 12", "ab", "3", " \u00bd", "x"}));
  // U+001C..U+001F are not White_Space for `regex` (though str.isspace says they are).
  EXPECT_EQ(gpt2_pre_tokenize("x\x1c\x1d y"), (V{"x", "\x1c\x1d", " y"}));
  EXPECT_EQ(gpt2_pre_tokenize("\u00a0\u00a0a\u3000b"), (V{"\u00a0", "\u00a0", "a", "\u3000", "b"}));
  EXPECT_EQ(gpt2_pre_tokenize("\u03b1\u03b2 \u4f60\u597d \u0661\u0662"), (V{"\u03b1\u03b2", " \u4f60\u597d", " \u0661\u0662"}));
  EXPECT_EQ(gpt2_pre_tokenize("a \n"), (V{"a", " \n"}));
}

TEST(Bpe, InvalidUtf8NamesTheInput) {
  const auto tok = load_bpe_tokenizer(toy_dir());
  try {
    tok->tokenize("low\xff", "train.tsv line 7");
    FAIL() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("train.tsv line 7"));
    EXPECT_THAT(e.what(), HasSubstr("UTF-8"));
  }
}

TEST(BpeErrors, MissingDirectoryOrFiles) {
  const fs::path dir = testing::make_temp_dir();
  EXPECT_THAT(load_error(dir / "absent"), HasSubstr("no such directory"));
  EXPECT_THAT(load_error(dir), HasSubstr("tokenizer.json"));
  write(dir / "vocab.json", kVocab);
  EXPECT_THAT(load_error(dir), HasSubstr("merges.txt: missing"));
}

TEST(BpeErrors, VocabNotJsonOrNotAStringToIdMap) {
  fs::path dir = toy_dir();
  write(dir / "vocab.json", "{\"a\": 1,");
  EXPECT_THAT(load_error(dir), HasSubstr("vocab.json: not valid JSON"));
  write(dir / "vocab.json", "[1, 2]");
  EXPECT_THAT(load_error(dir), HasSubstr("expected a JSON object"));
  write(dir / "vocab.json", R"({"a": "1"})");
  EXPECT_THAT(load_error(dir), HasSubstr("token 'a' has id \"1\""));
  write(dir / "vocab.json", R"({"a": -4})");
  EXPECT_THAT(load_error(dir), HasSubstr("token 'a' has id -4"));
}

TEST(BpeErrors, DuplicateIds) {
  const fs::path dir = toy_dir();
  write(dir / "vocab.json", R"({"l": 0, "o": 1, "lo": 1})");
  const std::string e = load_error(dir);
  EXPECT_THAT(e, HasSubstr("vocab.json"));
  EXPECT_THAT(e, HasSubstr("both have id 1"));
}

TEST(BpeErrors, MalformedMergesLineNamesFileAndLine) {
  const fs::path dir = toy_dir();
  write(dir / "merges.txt", "#version: 0.2\nl o\nlo w x\n");
  const std::string e = load_error(dir);
  EXPECT_THAT(e, HasSubstr("merges.txt:3"));
  EXPECT_THAT(e, HasSubstr("3 field(s)"));
}

TEST(BpeErrors, MergePieceNotInVocab) {
  const fs::path dir = toy_dir();
  write(dir / "merges.txt", "#version: 0.2\nl o\nq w\n");
  const std::string e = load_error(dir);
  EXPECT_THAT(e, HasSubstr("merges.txt:3"));
  EXPECT_THAT(e, HasSubstr("piece 'q' is not in the vocabulary"));
}

TEST(BpeErrors, BadTokenizerJson) {
  const fs::path dir = testing::make_temp_dir();
  write(dir / "tokenizer.json", R"({"model": {"type": "WordPiece", "vocab": {}}})");
  EXPECT_THAT(load_error(dir), HasSubstr("expected 'BPE'"));
  write(dir / "tokenizer.json", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a a a"]},
    "pre_tokenizer": {"type": "ByteLevel"}})");
  EXPECT_THAT(load_error(dir), HasSubstr("model.merges[0]"));
  write(dir / "tokenizer.json", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
    "pre_tokenizer": {"type": "Metaspace"}})");
  EXPECT_THAT(load_error(dir), HasSubstr("expected ByteLevel, got Metaspace"));
}

TEST(BpeErrors, BadSpecialTokenConfig) {
  const fs::path dir = toy_dir();
  write(dir / "special_tokens_map.json", R"({"pad_token": 5})");
  EXPECT_THAT(load_error(dir), HasSubstr("special_tokens_map.json: pad_token"));
  write(dir / "special_tokens_map.json", R"({"pad_token": null})");
  EXPECT_THAT(load_error(dir), HasSubstr("pad_token is null"));
}

}  // namespace
}  // namespace stilts::text
