#include "eval/python_text.h"

#include <utf8proc.h>

#include "common/error.h"
#include "common/files.h"
#include "text/unicode.h"

namespace stilts::eval::py {

namespace {

utf8proc_category_t category(char32_t c) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(c));
}

char32_t simple_lower(char32_t c) {
  return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
}

char32_t simple_upper(char32_t c) {
  return static_cast<char32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(c)));
}

bool in(char32_t c, char32_t first, char32_t last) { return c >= first && c <= last; }

// Unicode's Cased property: Lu, Ll, Lt, anything with a case mapping (roman numerals, circled
// letters), and the Other_Lowercase modifier letters that have none.
bool is_cased(char32_t c) {
  const auto cat = category(c);
  if (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT) return true;
  if (simple_lower(c) != c || simple_upper(c) != c) return true;
  return c == 0x00AA || c == 0x00BA || in(c, 0x02B0, 0x02B8) || in(c, 0x02C0, 0x02C1) ||
         in(c, 0x02E0, 0x02E4) || c == 0x0345 || c == 0x037A || in(c, 0x1D2C, 0x1D6A) || c == 0x1D78 ||
         in(c, 0x1D9B, 0x1DBF) || c == 0x2071 || c == 0x207F || in(c, 0x2090, 0x209C) ||
         in(c, 0x2C7C, 0x2C7D) || in(c, 0xA69C, 0xA69D) || c == 0xA770 || in(c, 0xA7F8, 0xA7F9) ||
         in(c, 0xAB5C, 0xAB5F);
}

// Unicode's Case_Ignorable property: Mn, Me, Cf, Lm, Sk and the Word_Break MidLetter, MidNumLet and
// Single_Quote characters (apostrophes, full stops, colons, middle dots).
bool is_case_ignorable(char32_t c) {
  switch (category(c)) {
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_SK:
      return true;
    default:
      break;
  }
  switch (c) {
    case 0x0027: case 0x002E: case 0x003A: case 0x00B7: case 0x0387: case 0x055F: case 0x05F4:
    case 0x2018: case 0x2019: case 0x2024: case 0x2027: case 0xFE13: case 0xFE52: case 0xFE55:
    case 0xFF07: case 0xFF0E: case 0xFF1A:
      return true;
    default:
      return false;
  }
}

// Python's rule for U+03A3 in lower(): final sigma when a cased letter precedes it (case-ignorable
// characters skipped) and no cased letter follows it (likewise).
bool is_final_sigma(std::u32string_view text, size_t i) {
  size_t j = i;
  bool cased_before = false;
  while (j > 0) {
    --j;
    if (!is_case_ignorable(text[j])) {
      cased_before = is_cased(text[j]);
      break;
    }
  }
  if (!cased_before) return false;
  for (size_t k = i + 1; k < text.size(); ++k) {
    if (!is_case_ignorable(text[k])) return !is_cased(text[k]);
  }
  return true;
}

}  // namespace

bool is_space(char32_t c) {
  return in(c, 0x09, 0x0D) || in(c, 0x1C, 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         in(c, 0x2000, 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

bool is_word(char32_t c) {
  if (c == U'_') return true;
  switch (category(c)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

bool is_unicode_punctuation(char32_t c) {
  switch (category(c)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return true;
    default:
      return false;
  }
}

std::u32string lower(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char32_t c = text[i];
    if (c == 0x0130) {  // the one unconditional multi-character lower-case mapping
      out += U"i\u0307";
    } else if (c == 0x03A3) {
      out.push_back(is_final_sigma(text, i) ? char32_t{0x03C2} : char32_t{0x03C3});
    } else {
      out.push_back(simple_lower(c));
    }
  }
  return out;
}

std::u32string strip(std::u32string_view text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && is_space(text[begin])) ++begin;
  while (end > begin && is_space(text[end - 1])) --end;
  return std::u32string(text.substr(begin, end - begin));
}

std::string strip(std::string_view utf8) {
  return text::encode_utf8(strip(text::decode_utf8(utf8, "text")));
}

std::vector<std::u32string> split(std::u32string_view text) {
  std::vector<std::u32string> tokens;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    const size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (i > start) tokens.emplace_back(text.substr(start, i - start));
  }
  return tokens;
}

std::vector<std::string> read_text_lines(const std::filesystem::path& path) {
  const std::string bytes = read_file(path);
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < bytes.size()) {
    size_t end = bytes.find_first_of("\r\n", start);
    const bool last = end == std::string::npos;
    if (last) end = bytes.size();
    std::string line = bytes.substr(start, end - start);
    if (!text::is_valid_utf8(line)) {
      input_error(path.string(), ":", lines.size() + 1, ": invalid UTF-8 (the scorer reads UTF-8 text)");
    }
    lines.push_back(std::move(line));
    if (last) break;
    start = end + 1;
    if (bytes[end] == '\r' && start < bytes.size() && bytes[start] == '\n') ++start;
  }
  return lines;
}

}  // namespace stilts::eval::py
