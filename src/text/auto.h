// Picks the tokenizer family for a directory as transformers' AutoTokenizer does: the
// tokenizer_class in tokenizer_config.json, else config.json's model_type, else the files present.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "text/tokenizer.h"

namespace stilts::text {

// "wordpiece" | "byte-level-bpe" | "sentencepiece-xlmr" | "sentencepiece-xlnet"; InputError naming the
// directory (and what was found) when no supported tokenizer is there.
std::string detect_tokenizer_kind(const std::filesystem::path& dir);

// The kind of the tokenizer a config.json model_type comes with, found by transformers' class naming:
// the tokenizer class whose name without "Tokenizer" is model_type ignoring case, '-' and '_'
// ("xlm-roberta" -> XLMRobertaTokenizer -> "sentencepiece-xlmr"); nullopt when no class stilts reads is
// named so. text knows tokenizer classes, never model families (stilts_text builds without torch, the
// family registry needs it): each family declares the kind it expects (models::Family::ModelType), and
// the family tests check this rule finds it.
std::optional<std::string> tokenizer_kind_of_model_type(const std::string& model_type);

std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& dir);

// Files of a tokenizer directory that transformers reads, present or not.
const std::vector<std::string>& tokenizer_file_names();

}  // namespace stilts::text
