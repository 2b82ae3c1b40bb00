// Byte-level BPE (the GPT-2 scheme RoBERTa uses), matching transformers' slow RobertaTokenizer (v4.30)
// id for id: added/special tokens written in the text are split out first (honouring their
// lstrip/rstrip flags), the rest is cut by the GPT-2 pre-tokenization regex, each piece's UTF-8 bytes
// are mapped to printable characters (bytes_to_unicode) and merged by rank.
//
// Template: <s> A </s>  |  <s> A </s></s> B </s>; right padding with <pad>; no token_type_ids.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "text/tokenizer.h"

namespace stilts::text {

// Loads a byte-level BPE tokenizer from `dir`:
//   vocab.json + merges.txt (the slow tokenizer's files), with optional tokenizer_config.json,
//   special_tokens_map.json (bos/eos/sep/cls/unk/pad/mask tokens as strings or AddedToken objects,
//   add_prefix_space, model_max_length) and added_tokens.json;
//   or, when vocab.json and merges.txt are both absent, tokenizer.json (HF tokenizers format, model.type
//   "BPE", ByteLevel pre-tokenizer), with the same optional config files.
// InputError naming the file (and line or key) for anything missing or malformed.
std::unique_ptr<Tokenizer> load_bpe_tokenizer(const std::filesystem::path& dir);

// The GPT-2 pre-tokenization regex
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// as Python's `regex` module runs it (\s = the Unicode White_Space property), on UTF-8 `text`.
// Returns the matched pieces in order (they concatenate back to `text`). InputError naming `context`
// on invalid UTF-8.
std::vector<std::string> gpt2_pre_tokenize(std::string_view text, std::string_view context = "text");

}  // namespace stilts::text
