// transformers' BasicTokenizer (v4.31.0.dev0, the version the fixtures come from: no NFC step), the
// first stage of BERT's WordPiece and what SQuAD's answer projection (get_final_text) runs on a
// context: clean the text (drop NUL, U+FFFD and control characters, map whitespace to a space), put
// spaces around CJK ideographs, split on whitespace, lowercase and strip accents when asked, split
// off punctuation. Also the Python string helpers the tokenizers share.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stilts::text {

struct BasicTokenizerOptions {
  bool do_lower_case = true;
  std::optional<bool> strip_accents;  // unset: strip when do_lower_case
  bool tokenize_chinese_chars = true;
  bool clean_text = true;
  bool do_split_on_punc = true;
};

// BasicTokenizer.tokenize: the words of `text`. Words in `never_split` are kept as they are (neither
// lowercased nor split).
std::vector<std::u32string> basic_tokenize(std::u32string_view text, const BasicTokenizerOptions& options,
                                           const std::vector<std::u32string>& never_split = {});

// Python's str.split() with no arguments (whitespace as str.isspace sees it).
std::vector<std::u32string_view> python_split(std::u32string_view text);
// Python's str.isspace of one character.
bool is_python_space(char32_t c);
// Python's str.lower, character by character (as transformers lowercases).
void append_python_lower(std::u32string& out, char32_t c);
std::u32string python_lower(std::u32string_view text);
// Python's str.strip() of UTF-8 text (InputError naming `context` when it is not UTF-8).
std::string python_strip(std::string_view text, std::string_view context = "text");

}  // namespace stilts::text
