// Python 3 `str` semantics the official scorers depend on, over code points (utf8proc for Unicode
// properties). The XTREME scorers are Python: what counts as whitespace for strip()/split(), what
// lower() does to 'İ' and a final 'Σ', what a regex `\b` sees as a word character, and how a file
// opened in text mode splits into lines. A C++ scorer that gets these wrong differs from the
// official numbers on real multilingual data, so they live in one place with their own tests.
//
// Unicode data is utf8proc's (Unicode 15 for utf8proc 2.8), Python 3.11's is Unicode 14: only code
// points assigned between the two can differ.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace stilts::eval::py {

// str.isspace(): Unicode category Zs or bidirectional class WS/B/S (e.g. \t \n \x1c U+0085 U+00A0
// U+3000; not U+200B).
bool is_space(char32_t c);

// A character `\w` matches in a Python 3 str regex: letters (L*), numbers (N*) and '_'. Combining
// marks (Mn, Mc) are not word characters, so `\b` falls between a consonant and its vowel sign.
bool is_word(char32_t c);

// Unicode general category P* (what unicodedata.category(c).startswith('P') tests).
bool is_unicode_punctuation(char32_t c);

// str.lower(): full lower-case mapping, so U+0130 becomes "i\u0307" and a capital sigma at the end
// of a word becomes final sigma U+03C2 (Python's Final_Sigma rule), every other code point its simple
// lower-case mapping.
std::u32string lower(std::u32string_view text);

// str.strip() with no argument: drops is_space() code points at both ends.
std::u32string strip(std::u32string_view text);
std::string strip(std::string_view utf8);  // on UTF-8 (the input must be valid UTF-8)

// str.split() with no argument: runs of is_space() separate tokens; no empty tokens.
std::vector<std::u32string> split(std::u32string_view text);

// The lines of a UTF-8 text file as Python's `for line in open(path)` yields them: "\r\n" and a lone
// "\r" end a line like "\n" (universal newlines), the terminator is dropped here, and text after the
// last terminator is a last line (an empty file has no lines, "a\n" has one). Invalid UTF-8 throws
// InputError naming the file and line; a missing or unreadable file throws InputError naming it.
std::vector<std::string> read_text_lines(const std::filesystem::path& path);

}  // namespace stilts::eval::py
