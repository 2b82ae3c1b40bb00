// The tokenizer interface every family implements, and the family-independent part of encoding:
// special-token templates for single sequences and pairs, truncation and padding, as the
// transformers tokenizers do them (v4.30 semantics).
//
// A family implements `tokenize` (text -> piece ids, no special tokens) and the vocabulary look-ups;
// `encode` / `encode_batch` here add the template, truncate and pad.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stilts::text {

// model_max_length of a tokenizer whose config sets none (transformers' VERY_LARGE_INTEGER).
inline constexpr int64_t kUnboundedLength = INT64_MAX;

enum class Truncation { kNone, kLongestFirst, kOnlyFirst, kOnlySecond };
enum class Padding { kNone, kLongest, kMaxLength };
enum class Side { kRight, kLeft };

// Parses "longest_first" | "only_first" | "only_second" | "none"/"do_not_truncate" (InputError otherwise).
Truncation parse_truncation(std::string_view name);
// Parses "longest" | "max_length" | "none"/"do_not_pad".
Padding parse_padding(std::string_view name);

struct EncodeOptions {
  bool add_special_tokens = true;
  // Limit for truncation and for Padding::kMaxLength. Unset: the tokenizer's model_max_length
  // (as transformers does when truncation is requested without max_length).
  std::optional<int64_t> max_length;
  Truncation truncation = Truncation::kNone;
  Padding padding = Padding::kNone;
};

struct Encoding {
  std::vector<int64_t> input_ids;
  std::vector<int64_t> attention_mask;
  std::vector<int64_t> token_type_ids;  // empty when the family returns none (RoBERTa, XLM-R)
  std::vector<std::string> tokens;      // the vocabulary string of every id (convert_ids_to_tokens)
};

// One special token placed by a template, with the token type it gets.
struct TemplatePiece {
  int64_t id = 0;
  int64_t type_id = 0;
};

// Where a family puts its special tokens:
//   single: single_before  A  single_after
//   pair:   pair_before    A  pair_between  B  pair_after
// Tokens of A get type first_type_id, tokens of B second_type_id.
//   BERT:    [CLS] A [SEP]          | [CLS] A [SEP] B [SEP]      types 0.. / 1..
//   RoBERTa: <s> A </s>             | <s> A </s></s> B </s>      no token types returned
//   XLNet:   A <sep> <cls>          | A <sep> B <sep> <cls>      types 0 / 1, <cls> 2, pad 3, left padding
struct Template {
  std::vector<TemplatePiece> single_before, single_after;
  std::vector<TemplatePiece> pair_before, pair_between, pair_after;
  int64_t first_type_id = 0;
  int64_t second_type_id = 1;
  int64_t pad_id = 0;
  int64_t pad_type_id = 0;
  Side padding_side = Side::kRight;
  bool returns_token_type_ids = true;

  int64_t num_special_tokens(bool pair) const;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // "wordpiece", "byte-level-bpe", "sentencepiece-xlmr", ...
  virtual std::string kind() const = 0;
  // Text -> piece ids without special-token template (transformers' tokenize + convert_tokens_to_ids).
  // Special tokens written literally in the text (e.g. "[MASK]") are recognised as the family does.
  // `context` names the input in errors (invalid UTF-8).
  virtual std::vector<int64_t> tokenize(std::string_view text, std::string_view context = "text") const = 0;
  // Vocabulary string for an id (out-of-range ids: InputError).
  virtual std::string id_to_token(int64_t id) const = 0;
  virtual std::optional<int64_t> token_to_id(std::string_view token) const = 0;
  virtual int64_t vocab_size() const = 0;

  const Template& special_template() const { return template_; }
  int64_t model_max_length() const { return model_max_length_; }

  // One sequence or a pair, with template, truncation and padding (Padding::kLongest pads nothing
  // for a single encoding).
  Encoding encode(std::string_view text, const std::optional<std::string>& text_pair,
                  const EncodeOptions& options, std::string_view context = "text") const;
  // A batch: Padding::kLongest pads every row to the longest row.
  std::vector<Encoding> encode_batch(const std::vector<std::string>& texts,
                                     const std::vector<std::optional<std::string>>& text_pairs,
                                     const EncodeOptions& options) const;

  // Adds the template around already-tokenized ids, truncating as `options` asks; no padding.
  Encoding build(std::vector<int64_t> first, std::optional<std::vector<int64_t>> second,
                 const EncodeOptions& options) const;
  // Pads `encoding` to `length` on the template's padding side (no-op when already that long).
  void pad(Encoding& encoding, int64_t length) const;

 protected:
  Template template_;
  int64_t model_max_length_ = 512;
};

}  // namespace stilts::text
