// SentencePiece tokenizers over libsentencepiece, matching the transformers *slow* tokenizers (v4.30)
// id for id:
//   XLM-RoBERTa (XLMRobertaTokenizer, `sentencepiece.bpe.model`): fairseq ids <s>=0 <pad>=1 </s>=2 <unk>=3,
//     every other piece = spm id + 1, <mask> = spm size + 1; <s> A </s> | <s> A </s></s> B </s>;
//     right padding, no token_type_ids.
//   XLNet (XLNetTokenizer, `spiece.model`): spm ids as they are; XLNet's text preprocessing and its
//     "digit followed by ," re-split; A <sep> <cls> | A <sep> B <sep> <cls>, types 0 / 1 / <cls> 2,
//     left padding with pad type 3.
//
// The directory may hold tokenizer_config.json and special_tokens_map.json (as save_pretrained writes
// them): special tokens (plain strings or AddedToken objects), model_max_length, and for XLNet
// do_lower_case / remove_space / keep_accents. Without model_max_length the limit is unbounded, as
// transformers makes it for a local directory.
#pragma once

#include <filesystem>
#include <memory>

#include "text/tokenizer.h"

namespace stilts::text {

// The model file each family reads from its directory (the names save_pretrained writes).
inline constexpr const char* kXlmrModelFile = "sentencepiece.bpe.model";
inline constexpr const char* kXlnetModelFile = "spiece.model";

// kind() "sentencepiece-xlmr". InputError naming the file when the directory or model file is missing,
// the model is not a SentencePiece model, or a config file is malformed.
std::unique_ptr<Tokenizer> load_xlmr_tokenizer(const std::filesystem::path& dir);

// kind() "sentencepiece-xlnet". Errors as load_xlmr_tokenizer.
std::unique_ptr<Tokenizer> load_xlnet_tokenizer(const std::filesystem::path& dir);

}  // namespace stilts::text
