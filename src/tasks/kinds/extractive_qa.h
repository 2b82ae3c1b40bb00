// The pieces of the extractive-QA kind (extractive_qa.cpp) that its unit tests pin on their own.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stilts::tasks::kinds::qa {

// SquadExample's whitespace: space, tab, CR, LF and U+202F (not every Unicode space).
bool is_squad_whitespace(char32_t c);

// A context as SquadExample splits it.
struct ContextWords {
  std::vector<std::string> words;    // UTF-8
  std::vector<int64_t> char_to_word;  // per code point: the word it is in, or the last word before it (-1 first)
};
ContextWords split_context(const std::string& context, std::string_view where);

// A window of context tokens.
struct Span {
  int64_t start = 0;
  int64_t length = 0;
};
// The windows over `tokens` context tokens: starts 0, doc_stride, 2·doc_stride, ..., each `room` tokens
// (the last to the end), until one reaches the end. None for no tokens.
std::vector<Span> windows(int64_t tokens, int64_t room, int64_t doc_stride);
// Whether window `window` of `spans` (as windows() made them) is the best context of context token
// `position`: of the windows holding it, the one with the largest min(left, right) + 0.01·length, the
// first on ties.
bool is_best_context(const std::vector<Span>& spans, size_t window, int64_t position, int64_t doc_stride);

// get_final_text: `predicted` (the tokens as text) projected onto `original` (the words they span).
std::string final_text(const std::string& predicted, const std::string& original, bool lower_case);

// _get_best_indexes: the positions of the `n` largest of `length` logits, largest first, the lower
// position first on ties.
std::vector<int64_t> top_positions(const float* logits, int64_t length, int64_t n);

}  // namespace stilts::tasks::kinds::qa
