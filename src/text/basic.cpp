// transformers' BasicTokenizer and the Python string helpers (see basic.h).
#include "text/basic.h"

#include <utf8proc.h>

#include <algorithm>

#include "common/error.h"
#include "text/unicode.h"

namespace stilts::text {

namespace {

// ---- character classes (transformers' tokenization_utils / tokenization_bert helpers) ----

utf8proc_category_t category(char32_t c) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(c));
}

// _is_whitespace: the four ASCII blanks and category Zs.
bool is_bert_whitespace(char32_t c) {
  return c == U' ' || c == U'\t' || c == U'\n' || c == U'\r' || category(c) == UTF8PROC_CATEGORY_ZS;
}

// _is_control: category C* except \t \n \r (which count as whitespace). Unassigned code points are
// Cn, so they are dropped too.
bool is_bert_control(char32_t c) {
  if (c == U'\t' || c == U'\n' || c == U'\r') return false;
  switch (category(c)) {
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
      return true;
    default:
      return false;
  }
}

// _is_punctuation: every non-alphanumeric printable ASCII character (BERT's own rule: "$", "^", "`"
// are symbols in Unicode) plus category P*.
bool is_bert_punctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) {
    return true;
  }
  const auto cat = category(c);
  return cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO;
}

// _is_chinese_char: BERT's CJK Unified Ideographs blocks (not Hangul, kana or CJK punctuation).
bool is_cjk_ideograph(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

}  // namespace

// Python's str.isspace, used by str.split()/strip() in whitespace_tokenize: category Zs or bidi
// class WS, B or S. Wider than _is_whitespace: U+2028/U+2029 survive _clean_text but still split words.
bool is_python_space(char32_t c) {
  if (category(c) == UTF8PROC_CATEGORY_ZS) return true;
  const auto bidi = utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->bidi_class;
  return bidi == UTF8PROC_BIDI_CLASS_WS || bidi == UTF8PROC_BIDI_CLASS_B || bidi == UTF8PROC_BIDI_CLASS_S;
}

// Python's str.lower of one character. utf8proc has the simple (1:1) mappings; str.lower uses the full
// ones, which differ only for U+0130 (SpecialCasing.txt: "i" + COMBINING DOT ABOVE). Final-sigma
// context never applies: transformers lowercases character by character.
void append_python_lower(std::u32string& out, char32_t c) {
  if (c == 0x130) {
    out += U'i';
    out += char32_t{0x307};
    return;
  }
  out += static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
}

std::u32string python_lower(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (char32_t c : text) append_python_lower(out, c);
  return out;
}

namespace {

// _run_strip_accents: NFD, then drop nonspacing marks (Mn).
std::u32string strip_accents(std::u32string_view word) {
  const std::string utf8 = encode_utf8(word);
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(utf8.data());
  const auto size = static_cast<utf8proc_ssize_t>(utf8.size());
  std::vector<utf8proc_int32_t> buffer(word.size() * 4 + 4);
  utf8proc_ssize_t n = 0;
  for (;;) {
    n = utf8proc_decompose(bytes, size, buffer.data(), static_cast<utf8proc_ssize_t>(buffer.size()),
                           UTF8PROC_DECOMPOSE);
    STILTS_CHECK(n >= 0, "utf8proc_decompose failed: ", utf8proc_errmsg(n));
    if (static_cast<size_t>(n) <= buffer.size()) break;
    buffer.resize(static_cast<size_t>(n));
  }
  std::u32string out;
  out.reserve(static_cast<size_t>(n));
  for (utf8proc_ssize_t i = 0; i < n; ++i) {
    if (utf8proc_category(buffer[static_cast<size_t>(i)]) != UTF8PROC_CATEGORY_MN) {
      out += static_cast<char32_t>(buffer[static_cast<size_t>(i)]);
    }
  }
  return out;
}

}  // namespace

// whitespace_tokenize: str.split() with no arguments.
std::vector<std::u32string_view> python_split(std::u32string_view text) {
  std::vector<std::u32string_view> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_python_space(text[i])) ++i;
    const size_t start = i;
    while (i < text.size() && !is_python_space(text[i])) ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}


std::string python_strip(std::string_view text, std::string_view context) {
  const std::u32string chars = decode_utf8(text, context);
  size_t begin = 0, end = chars.size();
  while (begin < end && is_python_space(chars[begin])) ++begin;
  while (end > begin && is_python_space(chars[end - 1])) --end;
  return encode_utf8(std::u32string_view(chars).substr(begin, end - begin));
}

std::vector<std::u32string> basic_tokenize(std::u32string_view text, const BasicTokenizerOptions& options,
                                           const std::vector<std::u32string>& never_split) {
  std::u32string cleaned;
  cleaned.reserve(text.size() + 8);
  for (char32_t c : text) {
    if (options.clean_text) {
      if (c == 0 || c == 0xFFFD || is_bert_control(c)) continue;
      if (is_bert_whitespace(c)) c = U' ';
    }
    if (options.tokenize_chinese_chars && is_cjk_ideograph(c)) {
      cleaned += U' ';
      cleaned += c;
      cleaned += U' ';
    } else {
      cleaned += c;
    }
  }

  std::vector<std::u32string> split_tokens;
  for (auto word_view : python_split(cleaned)) {
    std::u32string word(word_view);
    const bool keep = std::find(never_split.begin(), never_split.end(), word) != never_split.end();
    if (!keep) {
      if (options.do_lower_case) {
        word = python_lower(word);
        if (options.strip_accents.value_or(true)) word = strip_accents(word);
      } else if (options.strip_accents.value_or(false)) {
        word = strip_accents(word);
      }
    }
    // _run_split_on_punc
    if (keep || !options.do_split_on_punc) {
      split_tokens.push_back(std::move(word));
      continue;
    }
    bool start_new = true;
    for (char32_t c : word) {
      if (is_bert_punctuation(c)) {
        split_tokens.emplace_back(1, c);
        start_new = true;
      } else {
        if (start_new) split_tokens.emplace_back();
        start_new = false;
        split_tokens.back() += c;
      }
    }
  }

  // whitespace_tokenize(" ".join(split_tokens)): drops words emptied by accent stripping.
  std::vector<std::u32string> words;
  for (const auto& token : split_tokens) {
    for (auto word : python_split(token)) words.emplace_back(word);
  }
  return words;
}

}  // namespace stilts::text
