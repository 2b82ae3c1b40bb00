// Template, truncation and padding on a toy tokenizer whose pieces are characters.
#include <gtest/gtest.h>

#include "common/error.h"
#include "text/tokenizer.h"

namespace stilts::text {
namespace {

// Each byte of the text is a piece with id = byte value; [CLS]=1 [SEP]=2 [PAD]=0.
class ByteTokenizer : public Tokenizer {
 public:
  explicit ByteTokenizer(Template t) { template_ = std::move(t); }
  std::string kind() const override { return "bytes"; }
  std::vector<int64_t> tokenize(std::string_view text, std::string_view) const override {
    return std::vector<int64_t>(text.begin(), text.end());
  }
  std::string id_to_token(int64_t id) const override {
    if (id == 0) return "[PAD]";
    if (id == 1) return "[CLS]";
    if (id == 2) return "[SEP]";
    return std::string(1, static_cast<char>(id));
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

Template bert_template() {
  Template t;
  t.single_before = {{1, 0}};
  t.single_after = {{2, 0}};
  t.pair_before = {{1, 0}};
  t.pair_between = {{2, 0}};
  t.pair_after = {{2, 1}};
  return t;
}

TEST(Template, BertPairLayoutAndTypes) {
  ByteTokenizer tok(bert_template());
  const Encoding e = tok.encode("ab", std::string("c"), {});
  EXPECT_EQ(e.input_ids, (std::vector<int64_t>{1, 'a', 'b', 2, 'c', 2}));
  EXPECT_EQ(e.token_type_ids, (std::vector<int64_t>{0, 0, 0, 0, 1, 1}));
  EXPECT_EQ(e.attention_mask, (std::vector<int64_t>(6, 1)));
  EXPECT_EQ(e.tokens.front(), "[CLS]");
}

TEST(Template, LongestFirstRemovesFromLongerThenSecondOnTies) {
  ByteTokenizer tok(bert_template());
  EncodeOptions o;
  o.truncation = Truncation::kLongestFirst;
  o.max_length = 7;  // 3 specials + 4 tokens
  const Encoding e = tok.encode("abcd", std::string("xyz"), o);
  // 7 tokens to 4: remove a (4>3: d), tie 3/3: z, then c (3>2)... transformers order
  EXPECT_EQ(e.input_ids, (std::vector<int64_t>{1, 'a', 'b', 2, 'x', 'y', 2}));
}

TEST(Template, OnlySecondAndPaddingLeftAndRight) {
  Template t = bert_template();
  ByteTokenizer right(t);
  EncodeOptions o;
  o.truncation = Truncation::kOnlySecond;
  o.max_length = 6;
  o.padding = Padding::kMaxLength;
  Encoding e = right.encode("ab", std::string("wxyz"), o);
  EXPECT_EQ(e.input_ids, (std::vector<int64_t>{1, 'a', 'b', 2, 'w', 2}));
  o.max_length = 8;
  e = right.encode("a", std::string("b"), o);
  EXPECT_EQ(e.input_ids, (std::vector<int64_t>{1, 'a', 2, 'b', 2, 0, 0, 0}));
  EXPECT_EQ(e.attention_mask, (std::vector<int64_t>{1, 1, 1, 1, 1, 0, 0, 0}));
  t.padding_side = Side::kLeft;
  t.pad_type_id = 3;
  ByteTokenizer left(t);
  e = left.encode("a", std::nullopt, o);
  EXPECT_EQ(e.input_ids, (std::vector<int64_t>{0, 0, 0, 0, 0, 1, 'a', 2}));
  EXPECT_EQ(e.token_type_ids, (std::vector<int64_t>{3, 3, 3, 3, 3, 0, 0, 0}));
}

TEST(Template, OnlyFirstTooShortLeavesSequencesAsTransformersDoes) {
  ByteTokenizer tok(bert_template());
  EncodeOptions o;
  o.truncation = Truncation::kOnlyFirst;
  o.max_length = 5;
  const Encoding e = tok.encode("a", std::string("wxyz"), o);
  EXPECT_EQ(e.input_ids.size(), 8u);
}

TEST(Template, BatchPadsToLongest) {
  ByteTokenizer tok(bert_template());
  EncodeOptions o;
  o.padding = Padding::kLongest;
  const auto batch = tok.encode_batch({"a", "abcd"}, {}, o);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0].input_ids.size(), 6u);
  EXPECT_EQ(batch[0].attention_mask, (std::vector<int64_t>{1, 1, 1, 0, 0, 0}));
}

TEST(Template, UnknownStrategyIsAnError) {
  EXPECT_THROW(parse_truncation("longest"), InputError);
  EXPECT_THROW(parse_padding("shortest"), InputError);
  EXPECT_EQ(parse_truncation("only_second"), Truncation::kOnlySecond);
}

}  // namespace
}  // namespace stilts::text
