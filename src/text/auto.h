// Picks the tokenizer family for a directory as transformers' AutoTokenizer does: the
// tokenizer_class in tokenizer_config.json, else config.json's model_type, else the files present.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "text/tokenizer.h"

namespace stilts::text {

// "wordpiece" | "byte-level-bpe" | "sentencepiece-xlmr" | "sentencepiece-xlnet"; InputError naming the
// directory (and what was found) when no supported tokenizer is there.
std::string detect_tokenizer_kind(const std::filesystem::path& dir);

std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& dir);

// Files of a tokenizer directory that transformers reads, present or not.
const std::vector<std::string>& tokenizer_file_names();

}  // namespace stilts::text
