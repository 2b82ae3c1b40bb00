// The tokenizer interface every family implements, and the family-independent part of encoding:
// special-token templates for single sequences and pairs, truncation and padding, as the
// transformers tokenizers do them (v4.30 semantics).
//
// A family implements `tokenize` (text -> piece ids, no special tokens) and the vocabulary look-ups;
// `encode` / `encode_batch` here add the template, truncate and pad. A sentence given as words
// (transformers' is_split_into_words=True, what token tagging and span QA start from) goes through
// `tokenize_words` / `build_words` / `encode_words`, which also say which word each token comes from.
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
  // Only for an encoding built from words: the index of the word each token comes from, -1 for special
  // and padding tokens (transformers' word_ids(), with -1 for None). Empty otherwise.
  std::vector<int64_t> word_ids;
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
  // The unknown token's id (what an out-of-vocabulary piece becomes).
  virtual int64_t unk_id() const = 0;

  // transformers' convert_tokens_to_string(convert_ids_to_tokens(ids)): the pieces back as text, as the
  // family's slow tokenizer joins them (WordPiece: spaces between pieces, "##" continuations glued on,
  // stripped; SentencePiece: pieces concatenated, "\u2581" as a space, stripped; byte-level BPE: the
  // bytes decoded, invalid UTF-8 replaced by U+FFFD). What SQuAD's decoding projects back onto the text.
  virtual std::string tokens_to_string(const std::vector<int64_t>& ids) const = 0;
  // Whether `tokenize` lowercases the text (the tokenizer's do_lower_case): SQuAD's answer projection
  // then compares in lower case.
  virtual bool lowercases() const = 0;

  // One word of a sentence given as words -> its piece ids, as transformers'
  // tokenize(word, is_split_into_words=True) gives them: WordPiece and SentencePiece tokenize the word as
  // they tokenize any text; byte-level BPE first puts a space before a word that does not start with
  // whitespace (RobertaTokenizer.prepare_for_tokenization). May be empty (an empty word, or one
  // SentencePiece normalises away such as U+200B for XLM-R).
  virtual std::vector<int64_t> tokenize_word(std::string_view word, std::string_view context = "word") const {
    return tokenize(word, context);
  }

  const Template& special_template() const { return template_; }
  // The ids of every special token (transformers' all_special_ids: bos, eos, unk, sep, pad, cls, mask
  // and the additional ones, those the tokenizer has), in that order without repeats.
  const std::vector<int64_t>& special_ids() const { return special_ids_; }
  // The mask token's id ([MASK], <mask>), nullopt when the tokenizer has none.
  std::optional<int64_t> mask_id() const { return mask_id_; }
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
  // Pads `encoding` to `length` on the template's padding side (no-op when already that long); a word
  // encoding's word_ids get -1 for the padding.
  void pad(Encoding& encoding, int64_t length) const;

  // Every word's piece ids (tokenize_word), for callers that cut long sentences into windows of whole
  // words and call build_words on each. A word with no piece gets {unk_id()}: XTREME's taggers do this
  // so that every word has a first token to predict its tag from. This deliberately differs from
  // transformers, which gives such a word no token (its tag is then never predicted). InputError naming
  // `context` when `words` is empty (transformers rejects an empty list too) or a word is not UTF-8.
  std::vector<std::vector<int64_t>> tokenize_words(const std::vector<std::string>& words,
                                                   std::string_view context = "words") const;
  // The template around the words' pieces in order, truncated as `options` asks (a single sequence:
  // tokens are cut from the end, the last word kept may lose some of its pieces); no padding.
  // word_ids index `word_pieces`. InputError when a word has no piece (use tokenize_words, which gives
  // it the unknown token) or there are no words.
  Encoding build_words(const std::vector<std::vector<int64_t>>& word_pieces, const EncodeOptions& options,
                       std::string_view context = "words") const;
  // tokenize_words + build_words, padded as `encode` pads (Padding::kMaxLength only: a single row).
  Encoding encode_words(const std::vector<std::string>& words, const EncodeOptions& options,
                        std::string_view context = "words") const;
  // A batch of sentences given as words, as encode_batch: Padding::kLongest pads every row to the
  // longest. Errors name the sentence as "<context> <1-based index>".
  std::vector<Encoding> encode_words_batch(const std::vector<std::vector<std::string>>& sentences,
                                           const EncodeOptions& options, std::string_view context = "sentence") const;

 protected:
  Template template_;
  int64_t model_max_length_ = 512;

  // Sets special_ids() and mask_id() from the tokens' text (ones missing from the vocabulary are
  // skipped); a loader calls it once its vocabulary is complete.
  void set_special_tokens(const std::vector<std::string>& tokens, const std::optional<std::string>& mask_token);

 private:
  // build's work; with `first_word_ids` (one word index per id of `first`) it also fills word_ids.
  Encoding assemble(std::vector<int64_t> first, std::optional<std::vector<int64_t>> second,
                    const EncodeOptions& options, const std::vector<int64_t>* first_word_ids) const;
  // The padding `encode` applies to one row: Padding::kMaxLength to max_length (or model_max_length).
  void pad_row(Encoding& encoding, const EncodeOptions& options) const;
  // The padding a batch gets on top: Padding::kLongest pads every row to the longest.
  void pad_batch(std::vector<Encoding>& encodings, const EncodeOptions& options) const;

  std::vector<int64_t> special_ids_;
  std::optional<int64_t> mask_id_;
};

}  // namespace stilts::text
