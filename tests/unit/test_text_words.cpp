// Sentences given as words: word_ids through the template, truncation and padding; a word without
// sub-tokens gets the unknown token; BPE's prefix space per word; and the errors. Expectations are
// worked out by hand from toy vocabularies.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "common/error.h"
#include "support/fixtures.h"
#include "text/auto.h"
#include "text/bpe.h"
#include "text/wordpiece.h"

namespace stilts::text {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using Ids = std::vector<int64_t>;
using Words = std::vector<std::string>;

// Each byte is a piece with id = byte value, except spaces, which give no piece (a word of spaces has
// no sub-token). [PAD]=0 [CLS]=1 [SEP]=2 [UNK]=3.
class ByteTokenizer : public Tokenizer {
 public:
  explicit ByteTokenizer(Template t) { template_ = std::move(t); }
  std::string kind() const override { return "bytes"; }
  std::vector<int64_t> tokenize(std::string_view text, std::string_view) const override {
    Ids ids;
    for (char c : text) {
      if (c != ' ') ids.push_back(static_cast<unsigned char>(c));
    }
    return ids;
  }
  std::string id_to_token(int64_t id) const override {
    static const char* const kSpecial[] = {"[PAD]", "[CLS]", "[SEP]", "[UNK]"};
    return id < 4 ? kSpecial[id] : std::string(1, static_cast<char>(id));
  }
  std::optional<int64_t> token_to_id(std::string_view) const override { return std::nullopt; }
  int64_t vocab_size() const override { return 256; }
  int64_t unk_id() const override { return 3; }
  std::string tokens_to_string(const std::vector<int64_t>& ids) const override {
    std::string out;
    for (int64_t id : ids) out += static_cast<char>(id);
    return out;
  }
  bool lowercases() const override { return false; }
};

// [CLS] A [SEP], right padding.
ByteTokenizer bert_like() {
  Template t;
  t.single_before = {{1, 0}};
  t.single_after = {{2, 0}};
  return ByteTokenizer(t);
}

// A <sep> <cls> with <cls> of type 2, left padding with type 3 (XLNet's layout; ids reuse 2 and 1).
ByteTokenizer xlnet_like() {
  Template t;
  t.single_after = {{2, 0}, {1, 2}};
  t.pad_type_id = 3;
  t.padding_side = Side::kLeft;
  return ByteTokenizer(t);
}

std::string input_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

TEST(Words, WordIdsFollowTheTemplate) {
  const auto tok = bert_like();
  const Encoding e = tok.encode_words({"ab", "c", "de"}, {});
  EXPECT_EQ(e.input_ids, (Ids{1, 'a', 'b', 'c', 'd', 'e', 2}));
  EXPECT_EQ(e.word_ids, (Ids{-1, 0, 0, 1, 2, 2, -1}));
  EXPECT_EQ(e.attention_mask, (Ids{1, 1, 1, 1, 1, 1, 1}));
  EXPECT_EQ(e.tokens, (Words{"[CLS]", "a", "b", "c", "d", "e", "[SEP]"}));

  const auto xl = xlnet_like();
  const Encoding x = xl.encode_words({"ab", "c"}, {});
  EXPECT_EQ(x.input_ids, (Ids{'a', 'b', 'c', 2, 1}));
  EXPECT_EQ(x.token_type_ids, (Ids{0, 0, 0, 0, 2}));
  EXPECT_EQ(x.word_ids, (Ids{0, 0, 1, -1, -1}));

  EncodeOptions bare;
  bare.add_special_tokens = false;
  EXPECT_EQ(tok.encode_words({"ab", "c"}, bare).word_ids, (Ids{0, 0, 1}));
}

TEST(Words, AWordWithoutSubTokensGetsTheUnknownToken) {
  const auto tok = bert_like();
  // transformers would give "" and "  " nothing: [CLS] a c [SEP] with word_ids -1 0 2 -1, so words 1
  // and 3 would have no token to predict a tag from.
  EXPECT_EQ(tok.tokenize_word(""), (Ids{}));
  EXPECT_EQ(tok.tokenize_word("  "), (Ids{}));
  EXPECT_EQ(tok.tokenize_words({"a", "", "c", "  "}), (std::vector<Ids>{{'a'}, {3}, {'c'}, {3}}));
  const Encoding e = tok.encode_words({"a", "", "c", "  "}, {});
  EXPECT_EQ(e.input_ids, (Ids{1, 'a', 3, 'c', 3, 2}));
  EXPECT_EQ(e.word_ids, (Ids{-1, 0, 1, 2, 3, -1}));
  EXPECT_EQ(e.tokens[2], "[UNK]");
}

TEST(Words, TruncationCutsTokensFromTheEndLikeTransformers) {
  const auto tok = bert_like();
  EncodeOptions o;
  o.truncation = Truncation::kLongestFirst;
  o.max_length = 5;  // 2 specials + 3 of the 5 word tokens: word 1 loses its second token, word 2 is gone
  const Encoding e = tok.encode_words({"ab", "cd", "e"}, o);
  EXPECT_EQ(e.input_ids, (Ids{1, 'a', 'b', 'c', 2}));
  EXPECT_EQ(e.word_ids, (Ids{-1, 0, 0, 1, -1}));

  o.max_length = 7;  // fits: nothing cut
  EXPECT_EQ(tok.encode_words({"ab", "cd", "e"}, o).word_ids, (Ids{-1, 0, 0, 1, 1, 2, -1}));

  const auto xl = xlnet_like();
  o.max_length = 4;  // specials after the words: a b <sep> <cls>
  const Encoding x = xl.encode_words({"ab", "cd"}, o);
  EXPECT_EQ(x.input_ids, (Ids{'a', 'b', 2, 1}));
  EXPECT_EQ(x.word_ids, (Ids{0, 0, -1, -1}));

  // Without truncation max_length cuts nothing (transformers only warns).
  o.truncation = Truncation::kNone;
  EXPECT_EQ(xl.encode_words({"ab", "cd"}, o).input_ids.size(), 6u);
}

TEST(Words, PaddingGivesWordIdMinusOne) {
  EncodeOptions o;
  o.padding = Padding::kMaxLength;
  o.max_length = 6;
  const Encoding e = bert_like().encode_words({"ab"}, o);
  EXPECT_EQ(e.input_ids, (Ids{1, 'a', 'b', 2, 0, 0}));
  EXPECT_EQ(e.attention_mask, (Ids{1, 1, 1, 1, 0, 0}));
  EXPECT_EQ(e.word_ids, (Ids{-1, 0, 0, -1, -1, -1}));

  const Encoding x = xlnet_like().encode_words({"ab"}, o);
  EXPECT_EQ(x.input_ids, (Ids{0, 0, 'a', 'b', 2, 1}));
  EXPECT_EQ(x.token_type_ids, (Ids{3, 3, 0, 0, 0, 2}));
  EXPECT_EQ(x.word_ids, (Ids{-1, -1, 0, 0, -1, -1}));

  // An encoding of text has no word_ids, padded or not.
  const auto tok = bert_like();
  Encoding t = tok.encode("ab", std::nullopt, o);
  EXPECT_EQ(t.input_ids.size(), 6u);
  EXPECT_TRUE(t.word_ids.empty());
}

TEST(Words, BatchPadsToTheLongestRowAndNamesTheSentence) {
  const auto tok = bert_like();
  EncodeOptions o;
  o.padding = Padding::kLongest;
  const auto rows = tok.encode_words_batch({{"ab", "c"}, {"d"}}, o);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].word_ids, (Ids{-1, 0, 0, 1, -1}));
  EXPECT_EQ(rows[1].input_ids, (Ids{1, 'd', 2, 0, 0}));
  EXPECT_EQ(rows[1].word_ids, (Ids{-1, 0, -1, -1, -1}));
  EXPECT_THAT(input_error_of([&] { tok.encode_words_batch({{"a"}, {}}, o, "stdin line"); }),
              AllOf(HasSubstr("stdin line 2"), HasSubstr("no words")));
}

TEST(Words, BuildWordsOnWindowsOfPieces) {
  // A caller cutting a long sentence into windows tokenizes once and builds each window.
  const auto tok = bert_like();
  const auto pieces = tok.tokenize_words({"ab", "c", "de", "f"});
  const std::vector<Ids> window(pieces.begin() + 2, pieces.end());
  const Encoding e = tok.build_words(window, {});
  EXPECT_EQ(e.input_ids, (Ids{1, 'd', 'e', 'f', 2}));
  EXPECT_EQ(e.word_ids, (Ids{-1, 0, 0, 1, -1}));  // indices into the window
}

TEST(Words, Errors) {
  const auto tok = bert_like();
  EXPECT_THAT(input_error_of([&] { tok.tokenize_words({}, "sentence 7"); }),
              AllOf(HasSubstr("sentence 7"), HasSubstr("no words")));
  EXPECT_THAT(input_error_of([&] { tok.encode_words({}, {}, "stdin line 2"); }),
              AllOf(HasSubstr("stdin line 2"), HasSubstr("no words")));
  EXPECT_THAT(input_error_of([&] { tok.build_words({}, {}, "window 3"); }),
              AllOf(HasSubstr("window 3"), HasSubstr("no words")));
  EXPECT_THAT(input_error_of([&] { tok.build_words({{'a'}, {}, {'b'}}, {}, "window 3"); }),
              AllOf(HasSubstr("window 3, word 2"), HasSubstr("no sub-token"), HasSubstr("unknown token")));
}

// [PAD] [UNK] [CLS] [SEP] [MASK] then words, lowercasing.
WordPieceTokenizer toy_wordpiece() {
  return WordPieceTokenizer({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "##s", ","},
                            WordPieceOptions{});
}

TEST(WordsWordPiece, EachWordTokenizedAsItIs) {
  const auto tok = toy_wordpiece();
  EXPECT_EQ(tok.unk_id(), 1);
  // "hello,world" is one word that BERT's pre-tokenizer splits in three: all three belong to word 2.
  // A word of spaces has no sub-token and gets [UNK].
  const Encoding e = tok.encode_words({"Hello", "hello,world", "worlds", " "}, {});
  EXPECT_EQ(e.input_ids, (Ids{2, 5, 5, 8, 6, 6, 7, 1, 3}));
  EXPECT_EQ(e.word_ids, (Ids{-1, 0, 1, 1, 1, 2, 2, 3, -1}));
  EXPECT_EQ(e.token_type_ids, (Ids{0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(e.tokens, (Words{"[CLS]", "hello", "hello", ",", "world", "world", "##s", "[UNK]", "[SEP]"}));
}

TEST(WordsWordPiece, InvalidUtf8NamesTheWord) {
  const auto tok = toy_wordpiece();
  EXPECT_THAT(input_error_of([&] { tok.encode_words({"hello", "bad \xff byte"}, {}, "stdin line 4"); }),
              HasSubstr("stdin line 4, word 2"));
}

void write(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Ġ (U+0120) is the byte-level character of a space. Merges: 0 "l o", 1 "lo w", 2 "Ġ low".
fs::path toy_bpe_dir() {
  const fs::path dir = testing::make_temp_dir();
  write(dir / "vocab.json", R"({"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "l": 4, "o": 5, "w": 6,
    "\u0120": 7, "lo": 8, "low": 9, "\u0120low": 10, "<mask>": 11})");
  write(dir / "merges.txt", "#version: 0.2\nl o\nlo w\n\u0120 low\n");
  return dir;
}

TEST(WordsBpe, EveryWordGetsOnePrefixSpace) {
  const auto tok = load_bpe_tokenizer(toy_bpe_dir());
  EXPECT_EQ(tok->unk_id(), 3);
  EXPECT_EQ(tok->tokenize("low"), (Ids{9}));        // text: the first word has no space before it
  EXPECT_EQ(tok->tokenize_word("low"), (Ids{10}));  // a word: " low" -> Ġlow, as mid-sentence
  // A word that starts with whitespace gets no second space: " low" stays " low", "  low" is Ġ + Ġlow.
  EXPECT_EQ(tok->tokenize_word(" low"), (Ids{10}));
  EXPECT_EQ(tok->tokenize_word("  low"), (Ids{7, 10}));
  // An empty word stays empty (no space is added to it); tokenize_words gives it <unk>.
  EXPECT_EQ(tok->tokenize_word(""), (Ids{}));
  const Encoding e = tok->encode_words({"low", "", "low"}, {});
  EXPECT_EQ(e.input_ids, (Ids{0, 10, 3, 10, 2}));
  EXPECT_EQ(e.word_ids, (Ids{-1, 0, 1, 2, -1}));
  EXPECT_TRUE(e.token_type_ids.empty());
  EXPECT_EQ(e.tokens, (Words{"<s>", "\u0120low", "<unk>", "\u0120low", "</s>"}));
}

TEST(WordsBpe, AddPrefixSpaceDoesNotDoubleIt) {
  const fs::path dir = toy_bpe_dir();
  write(dir / "tokenizer_config.json", R"({"add_prefix_space": true})");
  const auto tok = load_bpe_tokenizer(dir);
  EXPECT_EQ(tok->tokenize("low"), (Ids{10}));
  EXPECT_EQ(tok->tokenize_word("low"), (Ids{10}));  // one space, as prepare_for_tokenization adds one
}

// XLM-R's normalisation (nmt_nfkc) removes a zero-width space: the one real case of a word without
// sub-tokens in XTREME's data.
TEST(WordsSentencePiece, ZeroWidthSpaceWordGetsTheUnknownToken) {
  STILTS_REQUIRE_SHARED("tokenize/xlmr-spm");
  const auto tok = load_tokenizer(testing::fixtures_dir() / "tokenize/xlmr-spm");
  EXPECT_EQ(tok->unk_id(), 3);  // fairseq's <unk>
  EXPECT_EQ(tok->tokenize_word("\u200b"), (Ids{}));
  const Encoding e = tok->encode_words({"\u200b", "\u200b"}, {});
  EXPECT_EQ(e.input_ids, (Ids{0, 3, 3, 2}));
  EXPECT_EQ(e.word_ids, (Ids{-1, 0, 1, -1}));
}

}  // namespace
}  // namespace stilts::text
