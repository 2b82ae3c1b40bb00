// BERT's WordPiece tokenizer, id for id with transformers' slow BertTokenizer (v4.30 semantics):
//   1. special tokens written literally in the text ("[MASK]") are split out first; with
//      do_lower_case the rest of the text is lowercased char by char (PreTrainedTokenizer.tokenize);
//   2. BasicTokenizer: clean text, space out CJK ideographs, split on whitespace, lowercase and strip
//      accents, split off punctuation;
//   3. greedy longest-match-first WordPiece with "##" continuations; a word with no match is [UNK].
// Unicode properties, NFD and case mapping come from utf8proc.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "text/tokenizer.h"

namespace stilts::text {

// The BertTokenizer arguments (tokenizer_config.json names) plus the WordPiece model settings a
// tokenizer.json can change.
struct WordPieceOptions {
  bool do_lower_case = true;
  bool do_basic_tokenize = true;
  std::vector<std::string> never_split;
  std::optional<bool> strip_accents;  // unset: strip when do_lower_case (as in the original BERT)
  bool tokenize_chinese_chars = true;
  // Not a BertTokenizer argument (it always cleans and splits on punctuation); tokenizer.json's
  // BertNormalizer.clean_text can turn cleaning off.
  bool clean_text = true;
  bool do_split_on_punc = true;

  // Unset cls/sep/pad/mask: the tokenizer has no such token (config value null). unk is required.
  std::string unk_token = "[UNK]";
  std::optional<std::string> sep_token = "[SEP]";
  std::optional<std::string> pad_token = "[PAD]";
  std::optional<std::string> cls_token = "[CLS]";
  std::optional<std::string> mask_token = "[MASK]";
  std::vector<std::string> additional_special_tokens;
  // Non-special added tokens (tokenizer.json added_tokens with "special": false). Never split, and
  // matched after lowercasing when do_lower_case, as transformers adds them lowercased.
  std::vector<std::string> added_tokens;

  std::string continuing_subword_prefix = "##";
  int64_t max_input_chars_per_word = 100;
  // transformers uses a huge sentinel when the config has none; every BERT checkpoint has 512
  // positions, and a finite limit keeps padding to "max_length" meaningful.
  int64_t model_max_length = 512;
};

class WordPieceTokenizer : public Tokenizer {
 public:
  // `vocab` in id order (vocab[id] is the token). `source` names the vocabulary in errors.
  // InputError when a token appears twice or a configured special token is not in the vocabulary.
  WordPieceTokenizer(std::vector<std::string> vocab, WordPieceOptions options,
                     std::string source = "vocabulary");

  std::string kind() const override { return "wordpiece"; }
  std::vector<int64_t> tokenize(std::string_view text, std::string_view context = "text") const override;
  std::string id_to_token(int64_t id) const override;
  std::optional<int64_t> token_to_id(std::string_view token) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(vocab_.size()); }
  int64_t unk_id() const override { return unk_id_; }
  std::string tokens_to_string(const std::vector<int64_t>& ids) const override;
  bool lowercases() const override { return lowercase_; }

  // The piece strings before the id look-up (transformers' `tokenize`); a piece missing from the
  // vocabulary (only possible for never_split words) maps to unk in `tokenize`.
  std::vector<std::string> tokenize_to_pieces(std::string_view text, std::string_view context = "text") const;

  const WordPieceOptions& options() const { return options_; }

 private:
  // Text between special tokens -> pieces (BertTokenizer._tokenize).
  void tokenize_segment(std::u32string_view text, std::vector<std::string>& pieces) const;
  // One word -> WordPiece pieces, or the unk token.
  void wordpiece(std::u32string_view word, std::vector<std::string>& pieces) const;
  // Splits `text` into (is_no_split_token, piece) runs: leftmost, longest no-split token first.
  std::vector<std::pair<bool, std::u32string>> split_on_no_split_tokens(std::u32string_view text) const;

  WordPieceOptions options_;
  std::string source_;
  std::vector<std::string> vocab_;
  std::unordered_map<std::string, int64_t> token_ids_;
  int64_t unk_id_ = 0;
  // Special and added tokens the text is split on, sorted by code point (transformers keeps
  // unique_no_split_tokens sorted; the lowercasing regex tries them in that order).
  std::vector<std::u32string> no_split_tokens_;
  std::vector<std::u32string> never_split_;  // BasicTokenizer's never_split: config + special tokens
  std::vector<std::string> config_never_split_;  // kept whole by _tokenize (config never_split only)
  bool lowercase_ = true;  // do_lower_case as PreTrainedTokenizer sees it (see constructor)
};

// Reads a vocab.txt: one token per line, ids by line order (0-based). Lines end in "\n", "\r\n" or
// "\r" (Python's universal newlines). InputError naming the file and line for invalid UTF-8 or a
// token listed twice.
std::vector<std::string> read_wordpiece_vocab(const std::filesystem::path& path);

// Loads a BERT tokenizer from a Hugging Face folder: vocab.txt (+ optional tokenizer_config.json and
// special_tokens_map.json), or, when there is no vocab.txt, a tokenizer.json with a WordPiece model.
std::unique_ptr<Tokenizer> load_wordpiece_tokenizer(const std::filesystem::path& dir);

}  // namespace stilts::text
