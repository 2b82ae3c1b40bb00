// The sentence breaker XTREME-R builds LAReQA's training pairs with: google-research/xtreme's
// third_party/processors/sb_sed.py (`infer_sentence_breaks`), a sed-style list of regular-expression
// rules tuned on SQuAD's English paragraphs. Ported rule for rule, in its order, on PCRE2 with Python
// `re`'s semantics for str patterns (Unicode \b, \w and \d; \s spelled out as Python's whitespace, which
// PCRE2's \s does not quite match), so the breaks are the reference's to the code point.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace stilts::text {

// A sentence: code point offsets [start, end) into the text, as Python slices it.
struct SentenceSpan {
  int64_t start = 0;
  int64_t end = 0;
  bool operator==(const SentenceSpan& other) const { return start == other.start && end == other.end; }
};

// infer_sentence_breaks(text) of UTF-8 text (InputError naming `context` when it is not UTF-8): every
// sentence in order, each stripped of surrounding whitespace. Like the reference, the text yields at
// least one span (an empty or all-whitespace text: one empty span at its end).
std::vector<SentenceSpan> infer_sentence_breaks(std::string_view text, std::string_view context = "text");

}  // namespace stilts::text
