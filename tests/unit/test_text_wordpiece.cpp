// BERT WordPiece on small vocabularies written to a temp dir: the BasicTokenizer steps, greedy
// WordPiece, special tokens in text, config/tokenizer.json loading, and the errors for bad input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "support/data_files.h"
#include "support/fixtures.h"
#include "text/wordpiece.h"

namespace stilts::text {
namespace {

namespace fs = std::filesystem;
using testing::input_error_of;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// ids 0..4 are the special tokens, as in BERT checkpoints.
const std::vector<std::string> kVocab = {
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",                     // 0-4
    "hello", "world", ",", "!", "un",                                 // 5-9
    "##aff", "##able", "##a", "cafe", "caf",                          // 10-14
    "##é", "Ca", "##fe", "東", "京",                                  // 15-19
    "abc", "i", "i\xCC\x87", "[", "]",                                // 20-24 (22: "i" + U+0307)
    "mask", "ab", "##c", "Hello", "x",                                // 25-29
    "##\xCC\x81", "\xCE\xBF\xCE\xB4\xCF\x8C\xCF\x82", "##b", "é", "." // 30-34 (31: "οδός")
};

fs::path write_vocab(const fs::path& dir, const std::vector<std::string>& tokens, const std::string& eol = "\n") {
  std::string text;
  for (const auto& t : tokens) text += t + eol;
  write_file_atomic(dir / "vocab.txt", text);
  return dir;
}

void write_json(const fs::path& path, const json& j) { write_file_atomic(path, j.dump(2)); }

std::unique_ptr<Tokenizer> load_with_config(const json& config) {
  const fs::path dir = testing::make_temp_dir();
  write_vocab(dir, kVocab);
  write_json(dir / "tokenizer_config.json", config);
  return load_wordpiece_tokenizer(dir);
}

std::vector<std::string> pieces(const Tokenizer& tokenizer, std::string_view text) {
  std::vector<std::string> out;
  for (int64_t id : tokenizer.tokenize(text)) out.push_back(tokenizer.id_to_token(id));
  return out;
}

TEST(WordPiece, UncasedLowercasesSplitsPunctuationAndMatchesLongestFirst) {
  WordPieceTokenizer tok(kVocab, {});
  EXPECT_EQ(tok.kind(), "wordpiece");
  EXPECT_EQ(tok.vocab_size(), static_cast<int64_t>(kVocab.size()));
  EXPECT_EQ(tok.tokenize("Hello, WORLD!"), (std::vector<int64_t>{5, 7, 6, 8}));
  // "unaffable": un ##aff ##able (the longest piece first at every step, not un ##a ...).
  EXPECT_THAT(pieces(tok, "unaffable"), ElementsAre("un", "##aff", "##able"));
  // One unmatched remainder makes the whole word [UNK], not a partial match.
  EXPECT_THAT(pieces(tok, "unaffablez hello"), ElementsAre("[UNK]", "hello"));
  EXPECT_EQ(tok.token_to_id("##able"), 11);
  EXPECT_EQ(tok.token_to_id("nope"), std::nullopt);
}

TEST(WordPiece, WordsLongerThanMaxInputCharsAreUnknown) {
  WordPieceOptions options;
  options.max_input_chars_per_word = 5;
  WordPieceTokenizer tok(kVocab, options);
  EXPECT_THAT(pieces(tok, "hello"), ElementsAre("hello"));
  EXPECT_THAT(pieces(tok, "abcab"), ElementsAre("abc", "##a", "##b"));
  // 6 characters: [UNK] without trying the vocabulary.
  EXPECT_THAT(pieces(tok, "abcabc"), ElementsAre("[UNK]"));
  // Counted in code points, not bytes: "café" is 4 characters in 5 bytes.
  EXPECT_THAT(pieces(WordPieceTokenizer(kVocab, [] {
                       WordPieceOptions o;
                       o.do_lower_case = false;
                       o.max_input_chars_per_word = 4;
                       return o;
                     }()),
                     "café"),
              ElementsAre("caf", "##é"));
}

TEST(WordPiece, AccentsAreStrippedWhenLowercasingUnlessStripAccentsIsFalse) {
  // Precomposed and combining forms both strip to "cafe" (NFD, drop Mn).
  WordPieceTokenizer uncased(kVocab, {});
  EXPECT_THAT(pieces(uncased, "Café CAFE\xCC\x81"), ElementsAre("cafe", "cafe"));

  WordPieceOptions keep;
  keep.strip_accents = false;
  WordPieceTokenizer lower_only(kVocab, keep);
  EXPECT_THAT(pieces(lower_only, "CAFÉ"), ElementsAre("caf", "##é"));
  // Python's str.lower maps U+0130 to "i" + U+0307 (utf8proc's simple mapping would give "i").
  EXPECT_THAT(pieces(lower_only, "\xC4\xB0"), ElementsAre("i\xCC\x87"));
  // With accent stripping the dot goes again.
  EXPECT_THAT(pieces(uncased, "\xC4\xB0"), ElementsAre("i"));

  // Final sigma is not applied: the text is lowercased character by character.
  EXPECT_THAT(pieces(lower_only, "\xCE\x9F\xCE\x94\xCE\x8C\xCE\xA3"), ElementsAre("[UNK]"));  // ΟΔΌΣ -> οδόσ

  WordPieceOptions cased;
  cased.do_lower_case = false;
  WordPieceTokenizer keep_case(kVocab, cased);
  EXPECT_THAT(pieces(keep_case, "Cafe"), ElementsAre("Ca", "##fe"));
  // Cased BERT keeps a combining accent as its own continuation piece (no NFC in v4.30).
  EXPECT_THAT(pieces(keep_case, "Cafe\xCC\x81"), ElementsAre("Ca", "##fe", "##\xCC\x81"));

  cased.strip_accents = true;
  WordPieceTokenizer strip_only(kVocab, cased);
  EXPECT_THAT(pieces(strip_only, "Café"), ElementsAre("Ca", "##fe"));
}

TEST(WordPiece, CjkIdeographsSplitAndControlCharactersAreDropped) {
  WordPieceTokenizer tok(kVocab, {});
  EXPECT_THAT(pieces(tok, "東京abc"), ElementsAre("東", "京", "abc"));
  // NUL, U+FFFD, BEL, zero-width space and BOM are removed (joining the word); tab, NBSP and the
  // ideographic space separate words.
  EXPECT_THAT(pieces(tok, std::string("a\0b\xEF\xBF\xBD\x07" "c", 8)), ElementsAre("abc"));
  EXPECT_THAT(pieces(tok, "a\xE2\x80\x8B" "b\xEF\xBB\xBF" "c\thello\xC2\xA0world\xE3\x80\x80x"),
              ElementsAre("abc", "hello", "world", "x"));
  // U+2028 (Zl) is kept by _clean_text but Python's str.split() still splits on it.
  EXPECT_THAT(pieces(tok, "hello\xE2\x80\xA8world"), ElementsAre("hello", "world"));

  WordPieceOptions no_cjk;
  no_cjk.tokenize_chinese_chars = false;
  EXPECT_THAT(pieces(WordPieceTokenizer(kVocab, no_cjk), "東京"), ElementsAre("[UNK]"));
}

TEST(WordPiece, SpecialTokensWrittenInTheTextKeepTheirIds) {
  WordPieceTokenizer uncased(kVocab, {});
  EXPECT_THAT(pieces(uncased, "Hello [MASK] world[SEP]x"), ElementsAre("hello", "[MASK]", "world", "[SEP]", "x"));
  // Not a special token in another case: lowercased and split on punctuation.
  EXPECT_THAT(pieces(uncased, "[Mask]"), ElementsAre("[", "mask", "]"));
}

TEST(WordPiece, NeverSplitWordsStayWholeOnlyWhenNotLowercasedFirst) {
  WordPieceOptions cased;
  cased.do_lower_case = false;
  cased.never_split = {"[FOO]"};
  WordPieceTokenizer tok(kVocab, cased);
  EXPECT_THAT(tok.tokenize_to_pieces("hello [FOO]"), ElementsAre("hello", "[FOO]"));
  EXPECT_EQ(tok.tokenize("[FOO]"), (std::vector<int64_t>{1}));  // not in the vocabulary: [UNK]

  // transformers quirk: with do_lower_case the text is lowercased before BasicTokenizer checks
  // never_split, so an upper-case never_split word is split after all.
  WordPieceOptions uncased;
  uncased.never_split = {"[FOO]"};
  EXPECT_THAT(WordPieceTokenizer(kVocab, uncased).tokenize_to_pieces("[FOO]"), ElementsAre("[", "[UNK]", "]"));
}

TEST(WordPiece, WithoutBasicTokenizeNothingIsLowercasedOrSplitOnPunctuation) {
  // transformers quirk: do_lower_case is read from basic_tokenizer, absent here, so no lowercasing.
  WordPieceOptions options;
  options.do_basic_tokenize = false;
  WordPieceTokenizer tok(kVocab, options);
  EXPECT_THAT(pieces(tok, "Hello hello,"), ElementsAre("Hello", "[UNK]"));
}

TEST(WordPiece, EncodeAddsClsSepTypesAndPadding) {
  WordPieceTokenizer tok(kVocab, {});
  EncodeOptions options;
  options.padding = Padding::kMaxLength;
  options.max_length = 8;
  const Encoding e = tok.encode("hello", std::string("world!"), options);
  EXPECT_EQ(e.input_ids, (std::vector<int64_t>{2, 5, 3, 6, 8, 3, 0, 0}));
  EXPECT_EQ(e.token_type_ids, (std::vector<int64_t>{0, 0, 0, 1, 1, 1, 0, 0}));
  EXPECT_EQ(e.attention_mask, (std::vector<int64_t>{1, 1, 1, 1, 1, 1, 0, 0}));
  EXPECT_THAT(e.tokens, ElementsAre("[CLS]", "hello", "[SEP]", "world", "!", "[SEP]", "[PAD]", "[PAD]"));
  EXPECT_EQ(tok.model_max_length(), 512);
}

TEST(WordPiece, LoadsConfigAndSpecialTokensMap) {
  const fs::path dir = testing::make_temp_dir();
  std::vector<std::string> vocab = kVocab;
  vocab[1] = "<unk>";
  write_vocab(dir, vocab, "\r\n");  // Windows line ends: Python's universal newlines
  write_json(dir / "tokenizer_config.json", {{"do_lower_case", false},
                                            {"model_max_length", 128},
                                            {"unk_token", "[UNK]"},
                                            {"tokenizer_class", "BertTokenizer"}});
  // special_tokens_map.json wins over tokenizer_config.json, as in transformers; AddedToken objects work.
  write_json(dir / "special_tokens_map.json", {{"unk_token", {{"content", "<unk>"}, {"lstrip", false}}}});
  const auto tok = load_wordpiece_tokenizer(dir);
  EXPECT_EQ(tok->model_max_length(), 128);
  EXPECT_EQ(tok->vocab_size(), static_cast<int64_t>(vocab.size()));
  EXPECT_THAT(pieces(*tok, "Hello hello zzz"), ElementsAre("Hello", "hello", "<unk>"));
  EXPECT_EQ(tok->token_to_id("[CLS]"), 2);

  // transformers' "no limit" sentinel keeps the BERT default.
  EXPECT_EQ(load_with_config({{"model_max_length", 1e30}})->model_max_length(), 512);
  EXPECT_THAT(pieces(*load_with_config({{"strip_accents", false}}), "CAFÉ"), ElementsAre("caf", "##é"));
}

TEST(WordPiece, LoadsTokenizerJsonWithAddedTokens) {
  const fs::path dir = testing::make_temp_dir();
  json vocab = json::object();
  for (size_t i = 0; i < kVocab.size(); ++i) vocab[kVocab[i]] = i;
  const auto n = static_cast<int64_t>(kVocab.size());
  const json added = json::array({
      {{"id", 0}, {"content", "[PAD]"}, {"special", true}},
      {{"id", n}, {"content", "<ent>"}, {"special", true}},
      {{"id", n + 1}, {"content", "newword"}, {"special", false}},
  });
  write_json(dir / "tokenizer.json",
             {{"added_tokens", added},
              {"normalizer",
               {{"type", "BertNormalizer"}, {"clean_text", true}, {"handle_chinese_chars", true},
                {"strip_accents", nullptr}, {"lowercase", true}}},
              {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
              {"model",
               {{"type", "WordPiece"}, {"unk_token", "[UNK]"}, {"continuing_subword_prefix", "##"},
                {"max_input_chars_per_word", 100}, {"vocab", vocab}}}});
  const auto tok = load_wordpiece_tokenizer(dir);
  EXPECT_EQ(tok->vocab_size(), n + 2);
  EXPECT_EQ(tok->tokenize("Hello<ent>NEWWORD café"), (std::vector<int64_t>{5, n, n + 1, 13}));
  EXPECT_EQ(tok->id_to_token(n), "<ent>");

  // tokenizer_config.json beside it overrides the normalizer (BertTokenizerFast rebuilds it).
  write_json(dir / "tokenizer_config.json", {{"do_lower_case", false}});
  EXPECT_THAT(pieces(*load_wordpiece_tokenizer(dir), "Hello"), ElementsAre("Hello"));
}

// ---- bad input ----

TEST(WordPieceErrors, MissingDirectoryOrVocabulary) {
  const fs::path dir = testing::make_temp_dir();
  EXPECT_THAT(input_error_of([&] { load_wordpiece_tokenizer(dir / "absent"); }),
              HasSubstr((dir / "absent").string() + ": no such directory"));
  EXPECT_THAT(input_error_of([&] { load_wordpiece_tokenizer(dir); }), HasSubstr("no vocab.txt or tokenizer.json"));
  EXPECT_THAT(input_error_of([&] { read_wordpiece_vocab(dir / "vocab.txt"); }), HasSubstr("vocab.txt: cannot open"));
}

TEST(WordPieceErrors, DuplicateVocabEntryNamesFileLineAndToken) {
  const fs::path dir = testing::make_temp_dir();
  std::vector<std::string> vocab = kVocab;
  vocab.push_back("hello");
  write_vocab(dir, vocab);
  const std::string message = input_error_of([&] { load_wordpiece_tokenizer(dir); });
  EXPECT_THAT(message, HasSubstr((dir / "vocab.txt").string() + " line 36: token 'hello' already appears on line 6"));
  EXPECT_THAT(input_error_of([&] { WordPieceTokenizer(vocab, {}); }), HasSubstr("'hello' is listed twice"));
}

TEST(WordPieceErrors, SpecialTokenMissingFromVocabulary) {
  const fs::path dir = testing::make_temp_dir();
  std::vector<std::string> vocab = kVocab;
  vocab[3] = "[SEPARATOR]";
  write_vocab(dir, vocab);
  EXPECT_THAT(input_error_of([&] { load_wordpiece_tokenizer(dir); }),
              HasSubstr("vocab.txt: sep_token '[SEP]' is not in the vocabulary"));
  write_json(dir / "tokenizer_config.json", {{"sep_token", "[SEPARATOR]"}, {"mask_token", "<mask>"}});
  EXPECT_THAT(input_error_of([&] { load_wordpiece_tokenizer(dir); }), HasSubstr("mask_token '<mask>' is not in"));
}

TEST(WordPieceErrors, InvalidUtf8InVocabularyOrText) {
  const fs::path dir = testing::make_temp_dir();
  std::vector<std::string> vocab = kVocab;
  vocab[6] = "wor\xFFld";
  write_vocab(dir, vocab);
  EXPECT_THAT(input_error_of([&] { load_wordpiece_tokenizer(dir); }),
              HasSubstr((dir / "vocab.txt").string() + " line 7: invalid UTF-8 at byte 3"));

  WordPieceTokenizer tok(kVocab, {});
  EXPECT_THAT(input_error_of([&] { tok.tokenize("ok \xC3(", "train.tsv row 12"); }),
              HasSubstr("train.tsv row 12: invalid UTF-8 at byte 3"));
  EXPECT_THAT(input_error_of([&] { tok.encode("fine", std::string("\xE2\x82"), {}, "pair 4"); }),
              HasSubstr("pair 4: invalid UTF-8"));
  EXPECT_THAT(input_error_of([&] { tok.id_to_token(999); }), HasSubstr("token id 999 is outside the vocabulary"));
}

TEST(WordPieceErrors, BadConfigValuesAndUnsupportedTokenizerJson) {
  EXPECT_THAT(input_error_of([&] { load_with_config({{"do_lower_case", "yes"}}); }),
              HasSubstr("tokenizer_config.json: 'do_lower_case' must be true or false, got \"yes\""));
  EXPECT_THAT(input_error_of([&] { load_with_config({{"never_split", "abc"}}); }),
              HasSubstr("'never_split' must be a list"));

  const fs::path dir = testing::make_temp_dir();
  write_json(dir / "tokenizer.json", {{"model", {{"type", "BPE"}, {"vocab", json::object()}}}});
  EXPECT_THAT(input_error_of([&] { load_wordpiece_tokenizer(dir); }),
              HasSubstr("tokenizer.json: model.type is 'BPE', expected 'WordPiece'"));
  write_json(dir / "tokenizer.json",
             {{"model", {{"type", "WordPiece"}, {"vocab", {{"[UNK]", 0}, {"a", 2}}}}},
              {"pre_tokenizer", {{"type", "BertPreTokenizer"}}}});
  EXPECT_THAT(input_error_of([&] { load_wordpiece_tokenizer(dir); }), HasSubstr("no token has id 1"));
}

}  // namespace
}  // namespace stilts::text
