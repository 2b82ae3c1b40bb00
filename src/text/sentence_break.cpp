// sb_sed's rules on PCRE2. Python's re.sub(pattern, repl, text) is pcre2_substitute with
// SUBSTITUTE_GLOBAL (left to right, non-overlapping; no rule can match the empty string) and
// SUBSTITUTE_UNSET_EMPTY (an unmatched group is "", as in Python 3.5+); `\1` is written `$1`.
// Patterns compile with UTF and UCP, so \b, \w and \d are Unicode's as in Python's str patterns
// (PCRE2 10.42 and Python 3.11 both follow Unicode 14). PCRE2's Unicode \s leaves out U+001C..U+001F,
// which str.isspace() counts as whitespace, so the rules spell Python's \s out (kPythonSpace).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "text/sentence_break.h"

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>

#include <pcre2.h>

#include "text/basic.h"
#include "text/unicode.h"

namespace stilts::text {

namespace {

// Python's \s in a str pattern: the characters for which str.isspace() holds.
constexpr std::string_view kPythonSpace =
    R"([\t\n\x{0b}\x{0c}\r\x{1c}-\x{1f} \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}])";

// The pattern with every `\s` replaced by kPythonSpace (the rules use \s outside classes only).
std::string python_pattern(std::string_view pattern) {
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\' && i + 1 < pattern.size() && pattern[i + 1] == 's') {
      out += kPythonSpace;
      ++i;
    } else {
      out += pattern[i];
      if (pattern[i] == '\\' && i + 1 < pattern.size()) out += pattern[++i];
    }
  }
  return out;
}

struct CodeDeleter {
  void operator()(pcre2_code* code) const { pcre2_code_free(code); }
};
struct MatchDataDeleter {
  void operator()(pcre2_match_data* data) const { pcre2_match_data_free(data); }
};
using Code = std::unique_ptr<pcre2_code, CodeDeleter>;
using MatchData = std::unique_ptr<pcre2_match_data, MatchDataDeleter>;

std::string pcre2_message(int code) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(code, buffer, sizeof buffer);
  return reinterpret_cast<const char*>(buffer);
}

Code compile(std::string_view python, uint32_t extra_options = 0) {
  const std::string pattern = python_pattern(python);
  int error = 0;
  PCRE2_SIZE offset = 0;
  std::unique_ptr<pcre2_compile_context, decltype(&pcre2_compile_context_free)> context(
      pcre2_compile_context_create(nullptr), &pcre2_compile_context_free);
  pcre2_set_newline(context.get(), PCRE2_NEWLINE_LF);  // Python's ^ with re.M follows "\n" only
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_UCP | extra_options, &error, &offset, context.get());
  if (code == nullptr) {  // a rule of this file is wrong: a bug, not bad input
    throw std::logic_error("sentence_break: pattern '" + std::string(python) + "' does not compile at " +
                           std::to_string(offset) + ": " + pcre2_message(error));
  }
  return Code(code);
}

struct Rule {
  Code pattern;
  std::string replacement;  // PCRE2's: $n is group n
};

// sb_sed.py's _sed_do_sentence_breaks, in its order.
const std::vector<Rule>& rules() {
  static const std::vector<Rule> all = [] {
    const std::vector<std::pair<std::string_view, std::string_view>> table = {
        // The main split: sentence-final punctuation, optional closing quotes, brackets and spaces, a
        // whitespace, optional whitespace and an opening quote, bracket or parenthesis, then an upper-case
        // letter or a digit.
        {R"(([.?!][)'" \x{201d}]*)\s(\s*[\['"(\x{201c}]?[A-Z0-9]))", "$1\n$2"},
        // Wikipedia's editorial marks after a sentence (they stack): ".[citation needed] ", ".[note 1] ".
        {R"(([.?!]['"]?)((\[[a-zA-Z0-9 ?]+\])+)\s(\s*['"(]?[A-Z0-9]))", "$1$2\n$4"},
        // An ellipsis in a quoted passage: "need such things [...] But".
        {R"((\[\.\.\.\]\s*)\s(\[?[A-Z]))", "$1\n$2"},
        // Joins: titles, literary and month abbreviations, places, times of day.
        {R"(\b(Mrs?|Ms|Dr|Prof|Fr|Rev|Msgr|Sta?)\.\n)", "$1. "},
        {R"(\b(Lt|Gen|Col|Maj|Adm|Capt|Sgt|Rep|Gov|Sen|Pres)\.\n)", "$1. "},
        {R"(\b(e\.g|i\.?e|vs?|pp?|cf|a\.k\.a|approx|app|es[pt]|tr)\.\n)", "$1. "},
        {R"(\b(Jan|Aug|Oct|Nov|Dec)\.\n)", "$1. "},
        {R"(\b(Mt|Ft)\.\n)", "$1. "},
        {R"(\b([ap]\.m)\.\n(Eastern|EST)\b)", "$1. $2"},
        // Joins: a name's three, two or one initials before the surname.
        {R"(\b([A-Z]\.)[ \n]([A-Z]\.)[ \n]([A-Z]\.)[ \n]("?[A-Z][a-z]))", "$1 $2 $3 $4"},
        {R"(\b([A-Z]\.)[ \n]([A-Z]\.)[ \n]("?[A-Z][a-z]))", "$1 $2 $3"},
        {R"(\b([A-Z]\.[A-Z]\.)\n("?[A-Z][a-z]))", "$1 $2"},
        {R"(\b([A-Z]\.)\n("?[A-Z][a-z]))", "$1 $2"},
        // Splits again before common sentence openings.
        {R"(([.!?]['")]*) (The|This|That|These|It) )", "$1\n$2 "},
        {R"((\.) (Meanwhile|However))", "$1\n$2"},
        {R"((\.) (In|On|By|During|After|Under|Although|Yet|As |Several|According to) )", "$1\n$2 "},
        // Joins: numbered parts of documents; born, died, ruled, circa, flourished; et al. (2005); H.R. 2000.
        {R"(\b([Aa]rt|[Nn]o|Opp?|ch|Sec|cl|Rec|Ecl|Cor|Lk|Jn|Vol)\.\n([0-9IVX]+)\b)", "$1. $2"},
        {R"(\b([bdrc]|ca|fl)\.\n([A-Z0-9]))", "$1. $2"},
        {R"(\b(et al)\.\n(\(?[0-9]{4}\b))", "$1. $2"},
        {R"(\b(H\.R\.)\n([0-9]))", "$1 $2"},
        // SQuAD's own joins.
        {R"((I Am\.\.\.)\n(Sasha Fierce|World Tour))", "$1 $2"},
        {R"((Warner Bros\.)\n(Records|Entertainment))", "$1 $2"},
        {R"((U\.S\.)\n(\(?\d\d+))", "$1 $2"},
        {R"(\b(Rs\.)\n(\d))", "$1 $2"},
        // SQuAD's own splits.
        {R"(\b(Jay Z\.) ([A-Z]))", "$1\n$2"},
        {R"(\b(Washington, D\.C\.) ([A-Z]))", "$1\n$2"},
        {R"(\b(for 4\.\)) ([A-Z]))", "$1\n$2"},
        {R"(\b(Wii U\.) ([A-Z]))", "$1\n$2"},
        {R"(\. (iPod|iTunes))", ".\n$1"},
        {R"( (\[\.\.\.\]\n))", "\n$1"},
        {R"((\.Sc\.)\n)", "$1 "},
        {R"( (\x{2022} [A-Z]))", "\n$1"},
    };
    std::vector<Rule> compiled;
    for (const auto& [pattern, replacement] : table) compiled.push_back({compile(pattern), std::string(replacement)});
    return compiled;
  }();
  return all;
}

// re.sub(rule.pattern, rule.replacement, text).
std::string substitute(const Rule& rule, const std::string& text) {
  const uint32_t options = PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_UNSET_EMPTY | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH;
  std::string out(text.size() + 64, '\0');
  for (int attempt = 0; attempt < 2; ++attempt) {
    PCRE2_SIZE size = out.size();
    const int rc = pcre2_substitute(rule.pattern.get(), reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), 0,
                                    options, nullptr, nullptr, reinterpret_cast<PCRE2_SPTR>(rule.replacement.data()),
                                    rule.replacement.size(), reinterpret_cast<PCRE2_UCHAR*>(out.data()), &size);
    if (rc >= 0) {
      out.resize(size);
      return out;
    }
    if (rc != PCRE2_ERROR_NOMEMORY) throw std::runtime_error("sentence_break: " + pcre2_message(rc));
    out.assign(size, '\0');  // OVERFLOW_LENGTH: size is the length needed
  }
  throw std::logic_error("sentence_break: the substitution did not fit the length PCRE2 asked for");
}

// [m.end() for m in re.finditer(r'^\s*', text, re.M)], as byte offsets. After an empty match at p,
// Python searches on from p and refuses only another empty match at p (NOTEMPTY_ATSTART).
std::vector<size_t> line_starts(const std::string& text) {
  static const Code pattern = compile(R"(^\s*)", PCRE2_MULTILINE);
  MatchData data(pcre2_match_data_create_from_pattern(pattern.get(), nullptr));
  std::vector<size_t> ends;
  size_t from = 0;
  bool after_empty = false;
  while (from <= text.size()) {
    const int rc = pcre2_match(pattern.get(), reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), from,
                               after_empty ? PCRE2_NOTEMPTY_ATSTART : 0, data.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) throw std::runtime_error("sentence_break: " + pcre2_message(rc));
    const PCRE2_SIZE* vector = pcre2_get_ovector_pointer(data.get());
    ends.push_back(vector[1]);
    after_empty = vector[0] == vector[1];
    from = vector[1];
  }
  return ends;
}

}  // namespace

std::vector<SentenceSpan> infer_sentence_breaks(std::string_view text, std::string_view context) {
  // Line breaks in the text become spaces; the rules then insert "\n" between sentences. Every rule
  // replaces one character by one, so code point offsets into the result are offsets into the text.
  std::u32string flat = decode_utf8(text, context);
  for (char32_t& c : flat) {
    if (c == U'\n') c = U' ';
  }
  std::string broken = encode_utf8(flat);
  for (const Rule& rule : rules()) broken = substitute(rule, broken);

  // Code point offset of every byte offset of `broken` that starts a character (and of its end).
  std::vector<int64_t> point_at(broken.size() + 1, 0);
  int64_t count = 0;
  for (size_t i = 0; i < broken.size(); ++i) {
    point_at[i] = count;
    if ((static_cast<unsigned char>(broken[i]) & 0xC0) != 0x80) ++count;
  }
  point_at[broken.size()] = count;

  const std::vector<size_t> starts = line_starts(broken);
  const std::u32string lines = decode_utf8(broken, context);
  std::vector<SentenceSpan> sentences;
  size_t begin = 0;
  for (;;) {
    size_t end = lines.find(U'\n', begin);
    if (end == std::u32string::npos) end = lines.size();
    size_t first = begin, last = end;  // str.strip()
    while (first < last && is_python_space(lines[first])) ++first;
    while (last > first && is_python_space(lines[last - 1])) --last;
    const size_t k = sentences.size();
    if (k >= starts.size()) break;
    const int64_t start = point_at[starts[k]];
    sentences.push_back({start, start + static_cast<int64_t>(last - first)});
    if (end == lines.size()) break;
    begin = end + 1;
  }
  const size_t lines_count = static_cast<size_t>(std::count(lines.begin(), lines.end(), U'\n')) + 1;
  if (sentences.size() != lines_count || starts.size() != lines_count) {  // sb_sed asserts the same
    throw std::logic_error("sentence_break: " + std::to_string(starts.size()) + " line starts for " +
                           std::to_string(lines_count) + " lines");
  }
  return sentences;
}

}  // namespace stilts::text
