// Retrieval readers: queries (Example: text_a, id, language, relevant) ranked against a pool
// (Dataset::candidates). Texts are built from the files as google-research/xtreme builds the strings it
// encodes (evaluate_retrieval.py, utils_lareqa.py, utils_mewslix.py): XTREME writes each text as a line
// of a file and reads it back with Python's str.strip(), so every text of the three benchmark formats is
// stripped that way (Unicode whitespace, text::python_strip). Offsets in JSON files count code points, as
// Python's str indices do.
//
// tatoeba — a pair of line-aligned files, in one of two layouts, found from either file's path or from a
// directory and ReadOptions.language:
//  - LASER's tatoeba.<l3>-eng.<l3> + tatoeba.<l3>-eng.eng (as distributed; line i of each side is a
//    translation pair; any code, e.g. XTREME's evaluate_retrieval.py names them tatoeba.<l2>-eng.*).
//    XTREME's utils_preprocess.py copies the source side and writes the English side stripped and sorted
//    (Python's stable sort of str: code point order, ties in file order); the hidden labels are positions
//    in that order. So the candidates are the stripped English lines in that order, and query i's
//    relevant is the position of English line i. Language: XTREME's ISO-639-1 code of <l3> (its
//    utils_preprocess.py table; a code not in it stays as it is).
//  - XTREME's processed <l>-en.<l> + <l>-en.en: the English side is already sorted and the alignment is
//    gone, so the candidates are its lines in file order and there is no gold (labelled = false) unless
//    ReadOptions.labels_file names XTREME's labels file (test-<l>.tsv: one 0-based candidate index a
//    line, row for row with the source side). Language: <l>.
//  - A directory: ReadOptions.language (2- or 3-letter) picks tatoeba.<l3>-eng.<l3>, tatoeba.<l>-eng.<l>
//    or <l2>-en.<l2> there, in that order; the language is then its ISO-639-1 code.
//  Lines are Python's (universal newlines: "\r\n" and a lone "\r" end a line too). Both sides must have
//  the same number of lines. Query ids "<file name>:<line>", candidate ids the 0-based position ("0",
//  "1", ...), which is what XTREME's predictions and labels hold. Candidates' language "en".
//  ReadOptions.language, for a file path, replaces the inferred language.
//
// lareqa — XQuAD-R (LAReQA): SQuAD JSON whose paragraphs also carry `sentence_breaks` ([start, end] code
// point offsets into the context; the `sentences` key is not used, as XTREME does not use it). Per file
// of language L, as utils_lareqa.load_data builds them:
//  - paragraphs are numbered from 1 across the file; a question (exactly one answer) is kept when its
//    answer_start lies in a sentence (start <= answer_start < end), else skipped and noted as XTREME does;
//  - the first kept question of a paragraph adds every sentence of it as a candidate, in order: id
//    "<L>_<paragraph number>_<sentence position>", text strip((sentence + context) without "\n") (the
//    sentence and its paragraph run together, as evaluate_retrieval.py writes them), language L;
//  - a query per kept question: id "<question id>_<L>", text strip(question), language L;
//  - gold: the question id is shared by the translations of a question (its xling_id); a candidate is
//    relevant to every question with that id, in any language of the pool, when it is a sentence of the
//    question's paragraph equal in text to the sentence holding the answer.
//  The path is one file (its language's questions against its candidates; language = the file name
//  without ".json", or ReadOptions.language) or a directory of <L>.json files (or one holding xquad-r/):
//  every language's questions against every language's candidates, as LAReQA evaluates; files in name
//  order. With a directory ReadOptions.language keeps only that language's questions; the pool and the
//  gold stay multilingual.
//
// mewslix — Mewsli-X mentions: JSON Lines of {"context": {language, text, sentence_spans, ...},
// "mentions": [{example_id, mention_span: {start, end, text}, entity_id}, ...]}, and the candidate
// entities candidate_set_entities.jsonl (one {entity_id, description, description_language,
// sentence_spans, ...} a line), found beside the mentions file or one folder up (XTREME's
// wikinews_mentions/<split>-<l>.jsonl sits one level below it).
//  - a query per mention: id example_id, language context.language, text utils_mewslix.preprocess_mention:
//    the sentence holding the mention (the first sentence span containing it; a mention in no single
//    sentence is an error, as it is an assertion failure in XTREME), "{...}" in the text around the
//    mention escaped to "(...)", then "<mention>: <left> { <mention> } <right>", line breaks (Python's
//    str.splitlines) joined by a space, each "  " replaced by " " once, stripped;
//  - a candidate per entity: id entity_id, language description_language, text
//    preprocess_entity_description: its sentences joined by " ", then the same normalisation;
//  - relevant: the candidate whose id is the mention's entity_id. A mention whose entity is not in the pool
//    is kept with no relevant candidate, and counted in a note: XTREME's scorer keeps every gold mention
//    and such a mention scores 0 (no prediction can name it). XTREME's test files have every entity_id
//    blanked (""): such a file is read for prediction (labelled = false); a file mixing blank and set
//    entity ids is an error.
//  ReadOptions.language keeps the mentions of that language (the original wikinews_mentions-<split>.jsonl
//  holds every language).
//
// mewslix-pairs — Mewsli-X's training pairs (XTREME-R's wikipedia_pairs-{train,dev}.jsonl): JSON Lines of
// {"contextual_mention": {"context": {...}, "mention": {example_id, mention_span, entity_id}}, "entity":
// {entity_id, description, description_language, sentence_spans, ...}}, read as query-positive pairs:
// text_a the mention as preprocess_mention builds it, text_b the entity as preprocess_entity_description
// does (the same texts as the mewslix reader's). ReadOptions.language keeps the pairs of that context
// language.
//
// lareqa-pairs — LAReQA's training pairs, built from SQuAD v1.1 JSON as XTREME-R builds them (xtreme's
// third_party/processors/lareqa.py, RetrievalSquadProcessor), one pair a question:
//  - the context is split into sentences by sb_sed (text::infer_sentence_breaks); the question's first
//    answer must start in one of them (the first with start <= answer_start < end), else the question is
//    skipped and noted, as XTREME skips it;
//  - XTREME's recoverability check (transformers' SQuAD processor's): the context's words (split at space,
//    tab, CR, LF and U+202F) that the answer's characters fall in, joined by a space, must contain the
//    answer's own words (Python's str.split) joined by a space; else skipped and noted;
//  - id the question's id, text_a the question, text_b the answer's sentence followed directly by the
//    whole paragraph with its line breaks removed ((sentence + context).replace("\n", "")), both verbatim
//    (XTREME encodes them unstripped); language ReadOptions.language, else "en" (SQuAD's).
//  Keys other than SQuAD's are ignored (XQuAD-R's files read too). A question with no answer, or an answer
//  that runs outside its context, is an error naming the question.
//
// retrieval-json — stilts' own: one JSON document {"queries": [{"id", "text", "language"?, "relevant":
// [candidate ids]}], "candidates": [{"id", "text", "language"?}]}, texts verbatim. Without "candidates",
// training pairs: each query has "positive": "<text>" (text_b) instead of "relevant". Unknown keys,
// repeated query or candidate ids, a relevant id not in the pool, a query with both or neither of
// relevant/positive are errors; an id repeated within one relevant list counts once. A pool file where
// no (kept) query has a relevant candidate is unlabelled.
// ReadOptions.language keeps the queries in that language and gives it to those without one.
#include <algorithm>
#include <charconv>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <set>
#include <unordered_map>

#include "common/error.h"
#include "tasks/datasets/readers.h"
#include "text/basic.h"
#include "text/sentence_break.h"
#include "text/unicode.h"

namespace stilts::tasks::detail {

namespace fs = std::filesystem;

namespace {

using Json = nlohmann::json;

// ---- shared ----

// text.replace("\n", ""), as the reference scripts flatten a paragraph or a sentence.
std::string without_line_feeds(std::string_view text) {
  std::string flat;
  flat.reserve(text.size());
  for (char c : text) {
    if (c != '\n') flat += c;
  }
  return flat;
}

// A line of a text file as Python's `for line in open(path)` yields it, terminator dropped.
struct PyLine {
  int64_t line = 0;  // 1-based
  std::string_view text;
};

// Universal newlines: "\n", "\r\n" and a lone "\r" end a line; text after the last terminator is a line.
std::vector<PyLine> python_lines(const TextFile& file) {
  std::vector<PyLine> lines;
  const std::string_view bytes = file.bytes;
  size_t start = 0;
  for (size_t pos = 0; pos < bytes.size(); ++pos) {
    if (bytes[pos] != '\n' && bytes[pos] != '\r') continue;
    lines.push_back({static_cast<int64_t>(lines.size()) + 1, bytes.substr(start, pos - start)});
    if (bytes[pos] == '\r' && pos + 1 < bytes.size() && bytes[pos + 1] == '\n') ++pos;
    start = pos + 1;
  }
  if (start < bytes.size()) lines.push_back({static_cast<int64_t>(lines.size()) + 1, bytes.substr(start)});
  return lines;
}

std::string strip(std::string_view text, const std::string& where) { return text::python_strip(text, where); }

// A whole-file JSON document; InputError naming the line of a syntax error.
Json parse_document(const TextFile& file, std::string_view expected) {
  try {
    return Json::parse(file.bytes);
  } catch (const Json::parse_error& e) {
    const size_t before = std::min<size_t>(e.byte > 0 ? e.byte - 1 : 0, file.bytes.size());  // e.byte is 1-based
    const int64_t line =
        1 + std::count(file.bytes.begin(), file.bytes.begin() + static_cast<std::ptrdiff_t>(before), '\n');
    input_error(file.name, ":", line, ": not valid JSON (byte ", e.byte, "); expected ", expected);
  }
}

// JSON access with errors "<file><where>: ...", `where` being e.g. ": data[0].paragraphs[2]" or ":4: context".
const Json& require_key(const TextFile& file, const std::string& where, const Json& object, std::string_view key,
                        std::string_view expected) {
  if (!object.is_object()) {
    input_error(file.name, where, ": expected a JSON object, found ", object.type_name());
  }
  const auto it = object.find(key);
  if (it == object.end()) input_error(file.name, where, ": no key '", key, "' (expected ", expected, ")");
  return *it;
}

const Json& require_array(const TextFile& file, const std::string& where, const Json& object, std::string_view key,
                          std::string_view holding) {
  const Json& value = require_key(file, where, object, key, std::string("a list of ") + std::string(holding));
  if (!value.is_array()) {
    input_error(file.name, where, ": key '", key, "' is ", value.type_name(), ", expected a list of ", holding);
  }
  return value;
}

// The string at `key`; `allow_blank` false rejects one holding only whitespace.
std::string require_string(const TextFile& file, const std::string& where, const Json& object, std::string_view key,
                           std::string_view what, bool allow_blank = false) {
  const Json& value = require_key(file, where, object, key, std::string(what) + ", a string");
  if (!value.is_string()) {
    input_error(file.name, where, ": key '", key, "' is ", value.type_name(), ", expected ", what, " (a string)");
  }
  std::string text = value.get<std::string>();
  if (!allow_blank && text.find_first_not_of(" \t\r\n") == std::string::npos) {
    input_error(file.name, where, ": key '", key, "' is empty (expected ", what, ")");
  }
  return text;
}

int64_t require_int(const TextFile& file, const std::string& where, const Json& object, std::string_view key,
                    std::string_view what) {
  const Json& value = require_key(file, where, object, key, std::string(what) + ", an integer");
  if (!value.is_number_integer() || (value.is_number_unsigned() && value.get<uint64_t>() > INT64_MAX)) {
    input_error(file.name, where, ": key '", key, "' is ", value.dump(), ", expected ", what, " (an integer)");
  }
  return value.get<int64_t>();
}

// `where` + "key[index]": after a JSON path a '.', after a JSON Lines line number (":4") a ": ".
std::string at_index(const std::string& where, std::string_view key, size_t index) {
  const bool line_only = where.find_first_not_of(":0123456789") == std::string::npos;
  return where + (line_only ? ": " : ".") + std::string(key) + "[" + std::to_string(index) + "]";
}

std::u32string decode(const TextFile& file, const std::string& where, const std::string& text) {
  return text::decode_utf8(text, file.name + where);
}

// A [start, end) code point span of a text of `size` code points. Python's slicing would clip a span out
// of range, the references assert on it; the files are wrong then, so it is an error here.
struct Span {
  int64_t start = 0;
  int64_t end = 0;
};

void check_span(const TextFile& file, const std::string& where, Span span, size_t size, bool allow_empty,
                std::string_view of_what) {
  const bool ordered = allow_empty ? span.start <= span.end : span.start < span.end;
  if (span.start < 0 || !ordered || span.end > static_cast<int64_t>(size)) {
    input_error(file.name, where, ": span [", span.start, ", ", span.end, ") is not within ", of_what, " (", size,
                " code points)", allow_empty ? "" : "; expected 0 <= start < end <= length");
  }
}

std::string substr(const std::u32string& text, Span span) {
  return text::encode_utf8(
      std::u32string_view(text).substr(static_cast<size_t>(span.start), static_cast<size_t>(span.end - span.start)));
}

// ---- tatoeba ----

// XTREME's Tatoeba languages (utils_preprocess.py): LASER's three-letter code and its ISO-639-1 code.
const std::vector<std::pair<std::string, std::string>>& tatoeba_languages() {
  static const std::vector<std::pair<std::string, std::string>> languages = {
      {"afr", "af"}, {"ara", "ar"}, {"bul", "bg"}, {"ben", "bn"}, {"deu", "de"}, {"ell", "el"}, {"spa", "es"},
      {"est", "et"}, {"eus", "eu"}, {"pes", "fa"}, {"fin", "fi"}, {"fra", "fr"}, {"heb", "he"}, {"hin", "hi"},
      {"hun", "hu"}, {"ind", "id"}, {"ita", "it"}, {"jpn", "ja"}, {"jav", "jv"}, {"kat", "ka"}, {"kaz", "kk"},
      {"kor", "ko"}, {"mal", "ml"}, {"mar", "mr"}, {"nld", "nl"}, {"por", "pt"}, {"rus", "ru"}, {"swh", "sw"},
      {"tam", "ta"}, {"tel", "te"}, {"tha", "th"}, {"tgl", "tl"}, {"tur", "tr"}, {"urd", "ur"}, {"vie", "vi"},
      {"cmn", "zh"}, {"eng", "en"}, {"aze", "az"}, {"lit", "lt"}, {"pol", "pl"}, {"ukr", "uk"}, {"ron", "ro"}};
  return languages;
}

std::string iso639_1(const std::string& code) {
  for (const auto& [three, two] : tatoeba_languages()) {
    if (three == code) return two;
  }
  return code;
}

std::string laser_code(const std::string& code) {
  for (const auto& [three, two] : tatoeba_languages()) {
    if (two == code) return three;
  }
  return code;
}

struct TatoebaPair {
  fs::path source;
  fs::path english;
  std::string language;
  bool aligned = false;  // LASER's layout: the English side is in source order
};

bool is_code(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

// The pair a file name names, or nullopt: tatoeba.<l>-eng.{<l>,eng} or <l>-en.{<l>,en}.
std::optional<TatoebaPair> tatoeba_pair_of(const fs::path& path) {
  std::string name = path.filename().string();
  const bool laser = name.rfind("tatoeba.", 0) == 0;
  if (laser) name = name.substr(8);
  const std::string english = laser ? "eng" : "en";
  const size_t dash = name.find('-');
  const size_t dot = name.find('.');
  if (dash == std::string::npos || dot == std::string::npos || dot < dash) return std::nullopt;
  const std::string code = name.substr(0, dash);
  const std::string target = name.substr(dash + 1, dot - dash - 1);
  const std::string side = name.substr(dot + 1);
  if (!is_code(code) || target != english || (side != code && side != english)) return std::nullopt;
  const std::string stem = (laser ? "tatoeba." : "") + code + "-" + english;
  TatoebaPair pair;
  pair.source = path.parent_path() / (stem + "." + code);
  pair.english = path.parent_path() / (stem + "." + english);
  pair.language = laser ? iso639_1(code) : code;
  pair.aligned = laser;
  return pair;
}

TatoebaPair tatoeba_pair(const fs::path& path, const ReadOptions& options) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    const std::string& language = options.language;
    if (language.empty()) {
      input_error(path.string(),
                  ": a Tatoeba directory holds a pair per language: set the language option "
                  "(e.g. de or deu) or give the path of one file (tatoeba.<l3>-eng.<l3> or <l>-en.<l>)");
    }
    const std::string two = iso639_1(language);
    const std::string three = laser_code(language);
    std::vector<fs::path> tried = {path / ("tatoeba." + three + "-eng." + three)};
    if (three != language) tried.push_back(path / ("tatoeba." + language + "-eng." + language));
    tried.push_back(path / (two + "-en." + two));
    for (const auto& candidate : tried) {
      if (!fs::exists(candidate, ec)) continue;
      TatoebaPair pair = *tatoeba_pair_of(candidate);
      pair.language = two;
      return pair;
    }
    std::vector<std::string> names;
    for (const auto& candidate : tried) names.push_back(candidate.filename().string());
    input_error(path.string(), ": no Tatoeba pair for language '", language, "' (looked for ", join(names), ")");
  }
  auto pair = tatoeba_pair_of(path);
  if (!pair) {
    input_error(path.string(),
                ": not a Tatoeba file name: expected LASER's tatoeba.<l3>-eng.<l3> (or .eng) or "
                "XTREME's <l>-en.<l> (or .en), the other side of the pair beside it");
  }
  if (!options.language.empty()) pair->language = options.language;
  return *pair;
}

// XTREME's labels file: one 0-based candidate index a line, row for row with the queries.
std::vector<int64_t> read_tatoeba_labels(const fs::path& path, size_t queries, size_t candidates) {
  const TextFile file = load_text_file(path);
  const auto lines = python_lines(file);
  if (lines.size() != queries) {
    input_error(file.name, ": ", lines.size(), " labels for ", queries,
                " source sentences (expected one 0-based English line index a line, row for row)");
  }
  std::vector<int64_t> labels;
  for (const auto& line : lines) {
    const std::string text = strip(line.text, file.name);
    int64_t value = -1;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value < 0 ||
        value >= static_cast<int64_t>(candidates)) {
      input_error(file.name, ":", line.line, ": label '", text, "' is not an index of the ", candidates,
                  " English sentences (0-based)");
    }
    labels.push_back(value);
  }
  return labels;
}

// ---- lareqa ----

struct LareqaFile {
  fs::path path;
  std::string language;
};

std::vector<LareqaFile> lareqa_files(const fs::path& path, const ReadOptions& options, bool& pool) {
  std::error_code ec;
  pool = fs::is_directory(path, ec);
  if (!pool) {
    std::string language = options.language.empty() ? path.stem().string() : options.language;
    return {{path, language}};
  }
  fs::path dir = path;
  auto json_files = [](const fs::path& folder) {
    std::vector<fs::path> found;
    for (const auto& entry : fs::directory_iterator(folder)) {
      if (entry.is_regular_file() && entry.path().extension() == ".json") found.push_back(entry.path());
    }
    std::sort(found.begin(), found.end());
    return found;
  };
  std::vector<fs::path> found = json_files(dir);
  if (found.empty() && fs::is_directory(dir / "xquad-r", ec)) {
    dir = dir / "xquad-r";  // XTREME's lareqa/ folder
    found = json_files(dir);
  }
  if (found.empty()) {
    input_error(path.string(), ": no <lang>.json files (XQuAD-R: xquad-r/ar.json, de.json, ...)");
  }
  std::vector<LareqaFile> files;
  bool has_language = options.language.empty();
  std::vector<std::string> languages;
  for (const auto& file : found) {
    files.push_back({file, file.stem().string()});
    languages.push_back(files.back().language);
    if (files.back().language == options.language) has_language = true;
  }
  if (!has_language) {
    input_error(dir.string(), ": no file for language '", options.language, "' (", options.language,
                ".json; languages there: ", join(languages), ")");
  }
  return files;
}

// ---- mewslix ----

// Python's str.splitlines boundaries.
bool is_line_break(char32_t c) {
  return c == U'\n' || c == U'\r' || c == 0x0B || c == 0x0C || c == 0x1C || c == 0x1D || c == 0x1E || c == 0x85 ||
         c == 0x2028 || c == 0x2029;
}

// " ".join(text.splitlines()).replace("  ", " ").strip(), as utils_mewslix normalises its strings.
std::string normalise_mewslix(const std::u32string& text, const std::string& where) {
  std::u32string joined;
  for (size_t i = 0; i < text.size(); ++i) {
    if (!is_line_break(text[i])) {
      joined += text[i];
      continue;
    }
    if (text[i] == U'\r' && i + 1 < text.size() && text[i + 1] == U'\n') ++i;
    if (i + 1 < text.size()) joined += U' ';  // a break at the very end makes no empty last line
  }
  std::u32string single;
  for (size_t i = 0; i < joined.size(); ++i) {
    single += joined[i];
    if (joined[i] == U' ' && i + 1 < joined.size() && joined[i + 1] == U' ') ++i;
  }
  return strip(text::encode_utf8(single), where);
}

// re.sub(r"\{(.*?)\}", r"(\1)", text): '.' does not match "\n", so a brace pair spanning lines stays.
std::u32string escape_markers(std::u32string_view text) {
  std::u32string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == U'{') {
      size_t close = i + 1;
      while (close < text.size() && text[close] != U'}' && text[close] != U'\n') ++close;
      if (close < text.size() && text[close] == U'}') {
        out += U'(';
        out.append(text.substr(i + 1, close - i - 1));
        out += U')';
        i = close;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

std::vector<Span> read_spans(const TextFile& file, const std::string& where, const Json& object, std::string_view key,
                             size_t size, std::string_view of_what) {
  const Json& list = require_array(file, where, object, key, "{\"start\", \"end\"} spans");
  std::vector<Span> spans;
  for (size_t k = 0; k < list.size(); ++k) {
    const std::string at = at_index(where, key, k);
    Span span{require_int(file, at, list[k], "start", "a code point offset"),
              require_int(file, at, list[k], "end", "a code point offset")};
    check_span(file, at, span, size, /*allow_empty=*/false, of_what);
    spans.push_back(span);
  }
  return spans;
}

fs::path mewslix_candidates_file(const fs::path& mentions) {
  const std::string name = "candidate_set_entities.jsonl";
  const fs::path beside = mentions.parent_path() / name;
  const fs::path above = mentions.parent_path().parent_path() / name;
  std::error_code ec;
  if (fs::exists(beside, ec)) return beside;
  if (fs::exists(above, ec)) return above;
  input_error(mentions.string(), ": no Mewsli-X candidate entities: looked for ", beside.string(), " and ",
              above.string(), " (", name, " from Mewsli-X's dataset folder)");
}

// ---- retrieval-json ----

void require_only_keys(const TextFile& file, const std::string& where, const Json& object,
                       const std::vector<std::string>& allowed) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      input_error(file.name, where, ": unknown key '", key, "' (allowed: ", join(allowed), ")");
    }
  }
}

void require_object(const TextFile& file, const std::string& where, const Json& value, std::string_view what) {
  if (!value.is_object())
    input_error(file.name, where, ": expected ", what, " (a JSON object), found ", value.type_name());
}

}  // namespace

Dataset read_tatoeba(const fs::path& path, const ReadOptions& options) {
  const TatoebaPair pair = tatoeba_pair(path, options);
  if (pair.aligned && !options.labels_file.empty()) {
    input_error(options.labels_file,
                ": a labels file is for XTREME's sorted <l>-en.<l> layout; LASER's "
                "tatoeba.<l3>-eng.* pair is aligned line by line and gives its own gold");
  }
  const TextFile source = load_text_file(pair.source);
  const TextFile english = load_text_file(pair.english);
  const auto source_lines = python_lines(source);
  const auto english_lines = python_lines(english);
  if (source_lines.size() != english_lines.size()) {
    input_error(source.name, ": ", source_lines.size(), " lines but ", english.name, " has ", english_lines.size(),
                ": the two sides of a Tatoeba pair have a line each per sentence pair");
  }

  Dataset dataset;
  dataset.retrieval = true;
  dataset.source = source.name + ", " + english.name;
  ReadReport& report = dataset.report;
  const size_t n = english_lines.size();
  std::vector<std::string> english_text;
  for (const auto& line : english_lines) english_text.push_back(strip(line.text, english.name));
  // order[k]: the English line at candidate position k; position[i]: where English line i went.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  if (pair.aligned) {
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return english_text[a] < english_text[b]; });  // bytes = code points
  } else if (!std::is_sorted(english_text.begin(), english_text.end())) {
    report.notes.push_back(english.name + ": not in XTREME's sorted order; candidates kept in file order");
  }
  std::vector<int64_t> position(n);
  for (size_t k = 0; k < n; ++k) {
    position[order[k]] = static_cast<int64_t>(k);
    dataset.candidates.push_back({std::to_string(k), english_text[order[k]], "en"});
  }

  std::vector<int64_t> labels;
  if (!options.labels_file.empty()) labels = read_tatoeba_labels(options.labels_file, n, n);
  for (size_t i = 0; i < n; ++i) {
    Example example;
    example.id = row_id(source, source_lines[i].line);
    example.text_a = strip(source_lines[i].text, source.name);
    example.language = pair.language;
    if (pair.aligned) example.relevant = {position[i]};
    if (!labels.empty()) example.relevant = {labels[i]};
    if (example.text_a.empty())
      report.notes.push_back(example.id + ": blank source sentence (kept: the lines are aligned)");
    if (english_text[i].empty())
      report.notes.push_back(row_id(english, english_lines[i].line) + ": blank English sentence (kept)");
    dataset.examples.push_back(std::move(example));
  }
  dataset.labelled = pair.aligned || !labels.empty();
  report.rows = report.kept = static_cast<int64_t>(n);
  return dataset;
}

Dataset read_lareqa(const fs::path& path, const ReadOptions& options) {
  bool pool = false;
  const std::vector<LareqaFile> files = lareqa_files(path, options, pool);
  Dataset dataset;
  dataset.retrieval = true;
  ReadReport& report = dataset.report;
  std::map<std::string, std::vector<int64_t>> gold;  // question id (shared across languages) -> candidates
  std::vector<std::string> xling_ids;                // each example's question id
  std::vector<std::string> sources;
  for (const auto& input : files) {
    const TextFile file = load_text_file(input.path);
    sources.push_back(file.name);
    const std::string& language = input.language;
    const bool keep_queries = !pool || options.language.empty() || options.language == language;
    const Json document = parse_document(file, "XQuAD-R's layout {\"data\": [{\"paragraphs\": [...]}]}");
    if (!document.is_object()) {
      input_error(file.name, ": expected a JSON object {\"data\": [...]} (XQuAD-R layout), found ",
                  document.type_name());
    }
    std::set<std::string> uids;
    int64_t paragraph_number = 0;
    const Json& articles = require_array(file, ": top level", document, "data", "articles");
    for (size_t a = 0; a < articles.size(); ++a) {
      const std::string at_article = ": data[" + std::to_string(a) + "]";
      const Json& paragraphs = require_array(file, at_article, articles[a], "paragraphs", "paragraphs");
      for (size_t p = 0; p < paragraphs.size(); ++p) {
        const std::string at_paragraph = at_index(at_article, "paragraphs", p);
        ++paragraph_number;
        const std::string context =
            require_string(file, at_paragraph, paragraphs[p], "context", "the paragraph's text");
        const std::u32string context_points = decode(file, at_paragraph, context);
        const Json& breaks = require_array(file, at_paragraph, paragraphs[p], "sentence_breaks",
                                           "[start, end] sentence offsets (XQuAD-R)");
        std::vector<Span> spans;
        std::vector<std::string> sentences;
        for (size_t k = 0; k < breaks.size(); ++k) {
          const std::string at = at_index(at_paragraph, "sentence_breaks", k);
          const Json& item = breaks[k];
          if (!item.is_array() || item.size() != 2 || !item[0].is_number_integer() || !item[1].is_number_integer()) {
            input_error(file.name, at, ": ", item.dump(), " is not [start, end] (two integers)");
          }
          const Span span{item[0].get<int64_t>(), item[1].get<int64_t>()};
          check_span(file, at, span, context_points.size(), /*allow_empty=*/true, "the context");
          spans.push_back(span);
          sentences.push_back(substr(context_points, span));
        }
        const std::string context_flat = without_line_feeds(context);
        int64_t first_candidate = -1;  // set by the paragraph's first kept question
        const Json& qas = require_array(file, at_paragraph, paragraphs[p], "qas", "questions");
        for (size_t q = 0; q < qas.size(); ++q) {
          const std::string at_question = at_index(at_paragraph, "qas", q);
          ++report.rows;
          const std::string xling_id = require_string(file, at_question, qas[q], "id", "the question's id");
          const std::string at = at_question + " (question '" + xling_id + "')";
          const std::string question = require_string(file, at, qas[q], "question", "the question");
          const Json& answers = require_array(file, at, qas[q], "answers", "answers");
          if (answers.size() != 1) {
            input_error(file.name, at, ": ", answers.size(), " answers; XQuAD-R has exactly one a question");
          }
          const int64_t answer_start =
              require_int(file, at_index(at, "answers", 0), answers[0], "answer_start", "a code point offset");
          size_t holder = spans.size();
          for (size_t k = 0; k < spans.size(); ++k) {
            if (spans[k].start <= answer_start && answer_start < spans[k].end) {
              holder = k;
              break;
            }
          }
          if (holder == spans.size()) {
            ++report.skipped_malformed;
            note_skip(report, file, at.substr(2),
                      "answer_start " + std::to_string(answer_start) +
                          " is in no sentence: question skipped (as XTREME does)");
            continue;
          }
          if (!uids.insert(xling_id).second) {
            input_error(file.name, at, ": the question id repeats in the file (ids are unique per language)");
          }
          if (first_candidate < 0) {
            first_candidate = static_cast<int64_t>(dataset.candidates.size());
            for (size_t k = 0; k < sentences.size(); ++k) {
              const std::string flat = without_line_feeds(sentences[k]);
              dataset.candidates.push_back({language + "_" + std::to_string(paragraph_number) + "_" + std::to_string(k),
                                            strip(flat + context_flat, file.name), language});
            }
          }
          auto& relevant = gold[xling_id];
          for (size_t k = 0; k < sentences.size(); ++k) {
            if (sentences[k] == sentences[holder]) relevant.push_back(first_candidate + static_cast<int64_t>(k));
          }
          if (!keep_queries) continue;
          Example example;
          example.id = xling_id + "_" + language;
          example.text_a = strip(question, file.name);
          example.language = language;
          xling_ids.push_back(xling_id);
          dataset.examples.push_back(std::move(example));
        }
      }
    }
  }
  if (dataset.examples.empty()) {
    input_error(join(sources), ": no question has its answer in a sentence (", report.rows, " questions)");
  }
  for (size_t i = 0; i < dataset.examples.size(); ++i) {
    auto relevant = gold[xling_ids[i]];
    std::sort(relevant.begin(), relevant.end());
    dataset.examples[i].relevant = std::move(relevant);
  }
  close_skip_notes(report);
  report.kept = static_cast<int64_t>(dataset.examples.size());
  if (files.size() > 1) dataset.source = path.string() + " (" + std::to_string(files.size()) + " languages)";
  return dataset;
}

namespace {

// A candidate entity: utils_mewslix.preprocess_entity_description (its sentences joined by " ", then
// normalised).
Candidate mewslix_entity(const TextFile& file, const std::string& where, const Json& entity) {
  Candidate candidate;
  candidate.id = require_string(file, where, entity, "entity_id", "the entity's id");
  const std::string description =
      require_string(file, where, entity, "description", "the entity's description", /*allow_blank=*/true);
  candidate.language = require_string(file, where, entity, "description_language", "the description's language");
  const std::u32string points = decode(file, where, description);
  const auto spans = read_spans(file, where, entity, "sentence_spans", points.size(), "the description");
  std::u32string joined;
  for (size_t k = 0; k < spans.size(); ++k) {
    if (k > 0) joined += U' ';
    joined.append(points, static_cast<size_t>(spans[k].start), static_cast<size_t>(spans[k].end - spans[k].start));
  }
  candidate.text = normalise_mewslix(joined, file.name);
  return candidate;
}

// A mention's context: its language, text (code points) and sentences.
struct MewslixContext {
  std::string language;
  std::u32string points;
  std::vector<Span> sentences;
};

// `holder`["context"], checked.
MewslixContext mewslix_context(const TextFile& file, const std::string& where, const Json& holder) {
  const std::string at_context = where + ": context";
  const Json& context = require_key(file, where, holder, "context", "the document's context, an object");
  require_object(file, at_context, context, "the context");
  MewslixContext c;
  c.language = require_string(file, at_context, context, "language", "the document's language");
  const std::string text = require_string(file, at_context, context, "text", "the document's text", true);
  c.points = decode(file, at_context + ".text", text);
  c.sentences = read_spans(file, at_context, context, "sentence_spans", c.points.size(), "the context text");
  return c;
}

struct MewslixMention {
  std::string example_id, entity_id;  // entity_id "" when blanked
  std::string text;                   // utils_mewslix.preprocess_mention
  std::string where;                  // for errors: file position and the mention's id
};

// One mention of `context`: the sentence holding it (the first that does, as Span.locate_in), braces
// around it escaped, "<mention>: <left> { <mention> } <right>", normalised.
MewslixMention mewslix_mention(const TextFile& file, const std::string& at, const MewslixContext& context,
                               const Json& mention) {
  MewslixMention out;
  out.example_id = require_string(file, at, mention, "example_id", "the mention's id");
  out.where = at + " (mention '" + out.example_id + "')";
  out.entity_id = require_string(file, out.where, mention, "entity_id", "the gold entity's id", /*allow_blank=*/true);
  const Json& span_json = require_key(file, out.where, mention, "mention_span", "{start, end, text}");
  const std::string at_span = out.where + ".mention_span";
  const Span span{require_int(file, at_span, span_json, "start", "a code point offset"),
                  require_int(file, at_span, span_json, "end", "a code point offset")};
  const std::string surface = require_string(file, at_span, span_json, "text", "the mention's text", true);
  const std::u32string& points = context.points;
  check_span(file, at_span, span, points.size(), /*allow_empty=*/false, "the context text");
  if (substr(points, span) != surface) {
    input_error(file.name, at_span, ": text '", surface, "' does not match the context, which holds '",
                substr(points, span), "' there");
  }
  const Span* holder = nullptr;
  for (const auto& sentence : context.sentences) {
    if (sentence.start <= span.start && span.end <= sentence.end) {
      holder = &sentence;
      break;
    }
  }
  if (!holder) {
    input_error(file.name, out.where, ": the mention [", span.start, ", ", span.end,
                ") lies in no single sentence of context.sentence_spans (Mewsli-X's preprocess_mention "
                "takes the sentence holding it)");
  }
  const std::u32string_view view(points);
  const std::u32string left =
      escape_markers(view.substr(static_cast<size_t>(holder->start), static_cast<size_t>(span.start - holder->start)));
  const std::u32string right =
      escape_markers(view.substr(static_cast<size_t>(span.end), static_cast<size_t>(holder->end - span.end)));
  const std::u32string name = decode(file, at_span, surface);
  out.text = normalise_mewslix(name + U": " + left + U" { " + name + U" } " + right, file.name);
  return out;
}

}  // namespace

Dataset read_mewslix(const fs::path& path, const ReadOptions& options) {
  const TextFile file = load_text_file(path);
  const TextFile entities = load_text_file(mewslix_candidates_file(path));
  Dataset dataset;
  dataset.retrieval = true;
  dataset.source = file.name + ", " + entities.name;
  ReadReport& report = dataset.report;

  std::unordered_map<std::string, int64_t> index_of;  // entity_id -> candidate index
  std::vector<int64_t> entity_lines;
  {
    RowReader reader(entities, '\n', Quoting::kNone);
    Row row;
    while (reader.next(row)) {
      const Json entity = parse_json_object(entities, row);
      const std::string where = ":" + std::to_string(row.line);
      Candidate candidate = mewslix_entity(entities, where, entity);
      const auto [at, fresh] = index_of.emplace(candidate.id, static_cast<int64_t>(dataset.candidates.size()));
      if (!fresh) {
        input_error(entities.name, where, ": entity '", candidate.id, "' is also on line ",
                    entity_lines[static_cast<size_t>(at->second)], " (entity ids must be unique in the pool)");
      }
      entity_lines.push_back(row.line);
      dataset.candidates.push_back(std::move(candidate));
    }
  }

  std::set<std::string> example_ids, languages;
  int64_t blank_gold = 0, outside_pool = 0;
  std::string first_blank, first_set;
  RowReader reader(file, '\n', Quoting::kNone);
  Row row;
  while (reader.next(row)) {
    const Json document = parse_json_object(file, row);
    const std::string where = ":" + std::to_string(row.line);
    const MewslixContext context = mewslix_context(file, where, document);
    const std::string& language = context.language;
    const Json& mentions = require_array(file, where, document, "mentions", "mentions");
    languages.insert(language);
    for (size_t m = 0; m < mentions.size(); ++m) {
      ++report.rows;
      const MewslixMention mention = mewslix_mention(file, at_index(where, "mentions", m), context, mentions[m]);
      const std::string& example_id = mention.example_id;
      const std::string& entity_id = mention.entity_id;
      const std::string& at_mention = mention.where;
      if (!options.language.empty() && language != options.language) continue;
      if (!example_ids.insert(example_id).second) {
        input_error(file.name, at_mention, ": the example id repeats (predictions are keyed by it)");
      }
      Example example;
      example.id = example_id;
      example.text_a = mention.text;
      example.language = language;
      std::string& first_of_kind = entity_id.empty() ? first_blank : first_set;
      if (first_of_kind.empty()) first_of_kind = at_mention;
      if (entity_id.empty()) {
        ++blank_gold;
      } else if (const auto it = index_of.find(entity_id); it != index_of.end()) {
        example.relevant = {it->second};
      } else {
        ++outside_pool;
        if (outside_pool <= static_cast<int64_t>(kMaxSkipNotes)) {
          report.notes.push_back(file.name + at_mention + ": entity '" + entity_id +
                                 "' is not in the candidate set: kept with no relevant candidate (scores 0)");
        }
      }
      dataset.examples.push_back(std::move(example));
    }
  }
  if (!first_blank.empty() && !first_set.empty()) {
    input_error(file.name, first_blank, ": a blank entity_id, but ", file.name, first_set,
                " has one: a file is labelled throughout or not at all (XTREME's test files blank every entity_id)");
  }
  if (dataset.examples.empty()) {
    if (!options.language.empty() && report.rows > 0) {
      input_error(file.name, ": no mentions in language '", options.language,
                  "' (languages in the file: ", join(std::vector<std::string>(languages.begin(), languages.end())),
                  ")");
    }
    input_error(file.name, ": no mentions (every line's 'mentions' list is empty)");
  }
  if (outside_pool > 0) {
    report.notes.push_back(file.name + ": " + std::to_string(outside_pool) + " of " +
                           std::to_string(dataset.examples.size()) + " mentions name an entity not in " +
                           entities.name + " (kept, no relevant candidate)");
  }
  dataset.labelled = blank_gold == 0;
  report.kept = static_cast<int64_t>(dataset.examples.size());
  return dataset;
}

Dataset read_mewslix_pairs(const fs::path& path, const ReadOptions& options) {
  const TextFile file = load_text_file(path);
  Dataset dataset;
  dataset.retrieval = true;
  dataset.source = file.name;
  ReadReport& report = dataset.report;
  std::set<std::string> languages;
  RowReader reader(file, '\n', Quoting::kNone);
  Row row;
  while (reader.next(row)) {
    const Json pair = parse_json_object(file, row);
    const std::string where = ":" + std::to_string(row.line);
    require_only_keys(file, where, pair, {"contextual_mention", "entity"});
    const Json& contextual =
        require_key(file, where, pair, "contextual_mention", "{\"context\": {...}, \"mention\": {...}}");
    require_object(file, where + ": contextual_mention", contextual, "{\"context\", \"mention\"}");
    const MewslixContext context = mewslix_context(file, where + ": contextual_mention", contextual);
    const Json& mention_json = require_key(file, where, contextual, "mention", "the mention, an object");
    const MewslixMention mention = mewslix_mention(file, where + ": contextual_mention.mention", context, mention_json);
    const Json& entity_json = require_key(file, where, pair, "entity", "the mentioned entity, an object");
    require_object(file, where + ": entity", entity_json, "the entity");
    const Candidate entity = mewslix_entity(file, where + ": entity", entity_json);
    if (!mention.entity_id.empty() && mention.entity_id != entity.id) {
      input_error(file.name, mention.where, ": entity_id '", mention.entity_id, "' but the pair's entity is '",
                  entity.id, "'");
    }
    ++report.rows;
    languages.insert(context.language);
    if (!options.language.empty() && context.language != options.language) continue;
    Example example;
    example.id = mention.example_id;
    example.language = context.language;
    example.text_a = mention.text;
    example.text_b = entity.text;
    dataset.examples.push_back(std::move(example));
  }
  if (dataset.examples.empty()) {  // (an empty file is the loader's error): every pair filtered out
    input_error(file.name, ": no pairs in language '", options.language, "' (languages in the file: ",
                join(std::vector<std::string>(languages.begin(), languages.end())), ")");
  }
  report.kept = static_cast<int64_t>(dataset.examples.size());
  return dataset;
}

Dataset read_lareqa_pairs(const fs::path& path, const ReadOptions& options) {
  const TextFile file = load_text_file(path);
  const Json document = parse_document(file, "SQuAD v1.1's layout {\"data\": [{\"paragraphs\": [...]}]}");
  require_object(file, ": top level", document, "{\"data\": [...]} (SQuAD v1.1's layout)");
  Dataset dataset;
  dataset.retrieval = true;
  dataset.source = file.name;
  ReadReport& report = dataset.report;
  const std::string language = options.language.empty() ? "en" : options.language;
  const auto is_word_break = [](char32_t c) {  // lareqa.py's _is_whitespace
    return c == U' ' || c == U'\t' || c == U'\r' || c == U'\n' || c == 0x202F;
  };
  const Json& articles = require_array(file, ": top level", document, "data", "articles");
  for (size_t a = 0; a < articles.size(); ++a) {
    const std::string at_article = ": data[" + std::to_string(a) + "]";
    const Json& paragraphs = require_array(file, at_article, articles[a], "paragraphs", "paragraphs");
    for (size_t p = 0; p < paragraphs.size(); ++p) {
      const std::string at_paragraph = at_index(at_article, "paragraphs", p);
      const std::string context = require_string(file, at_paragraph, paragraphs[p], "context", "the paragraph's text");
      const std::u32string points = decode(file, at_paragraph, context);
      const std::vector<text::SentenceSpan> sentences = text::infer_sentence_breaks(context, file.name + at_paragraph);
      // The context's words and, for each code point, the word it is in (or the last one before it).
      std::vector<std::u32string> words;
      std::vector<size_t> word_of(points.size(), 0);
      bool after_break = true;
      for (size_t i = 0; i < points.size(); ++i) {
        if (is_word_break(points[i])) {
          after_break = true;
        } else {
          if (after_break) words.emplace_back();
          words.back() += points[i];
          after_break = false;
        }
        word_of[i] = words.empty() ? 0 : words.size() - 1;
      }
      const std::string context_flat = without_line_feeds(context);
      const Json& qas = require_array(file, at_paragraph, paragraphs[p], "qas", "questions");
      for (size_t q = 0; q < qas.size(); ++q) {
        const std::string at_question = at_index(at_paragraph, "qas", q);
        ++report.rows;
        const std::string id = require_string(file, at_question, qas[q], "id", "the question's id");
        const std::string at = at_question + " (question '" + id + "')";
        const std::string question = require_string(file, at, qas[q], "question", "the question");
        const Json& answers = require_array(file, at, qas[q], "answers", "answers");
        if (answers.empty()) {
          input_error(file.name, at, ": no answers (a pair is the question and its answer's sentence: SQuAD v1.1's "
                      "training file has one answer a question)");
        }
        const std::string at_answer = at_index(at, "answers", 0);
        const std::string answer = require_string(file, at_answer, answers[0], "text", "the answer's text");
        const std::u32string answer_points = decode(file, at_answer, answer);
        const int64_t start = require_int(file, at_answer, answers[0], "answer_start", "a code point offset");
        check_span(file, at_answer, {start, start + static_cast<int64_t>(answer_points.size())}, points.size(),
                   /*allow_empty=*/false, "the context");
        const auto holder = std::find_if(sentences.begin(), sentences.end(), [&](const text::SentenceSpan& s) {
          return s.start <= start && start < s.end;
        });
        if (holder == sentences.end()) {
          ++report.skipped_malformed;
          note_skip(report, file, at.substr(2),
                    "answer_start " + std::to_string(start) +
                        " is in no sentence sb_sed finds: question skipped (as XTREME does)");
          continue;
        }
        std::u32string spanned;
        const size_t first_word = word_of[static_cast<size_t>(start)];
        const size_t last_word = word_of[static_cast<size_t>(start) + answer_points.size() - 1];
        for (size_t w = first_word; w <= last_word; ++w) {
          if (w > first_word) spanned += U' ';
          spanned += words[w];
        }
        std::u32string cleaned;
        for (const auto word : text::python_split(answer_points)) {
          if (!cleaned.empty()) cleaned += U' ';
          cleaned += word;
        }
        if (spanned.find(cleaned) == std::u32string::npos) {
          ++report.skipped_malformed;
          note_skip(report, file, at.substr(2),
                    "the answer '" + answer + "' is not in the context's words at answer_start " +
                        std::to_string(start) + " ('" + text::encode_utf8(spanned) +
                        "'): question skipped (as XTREME does)");
          continue;
        }
        const std::string positive = without_line_feeds(substr(points, {holder->start, holder->end}));
        Example example;
        example.id = id;
        example.text_a = question;
        example.text_b = positive + context_flat;
        example.language = language;
        dataset.examples.push_back(std::move(example));
      }
    }
  }
  close_skip_notes(report);
  if (dataset.examples.empty()) {
    input_error(file.name, ": no question has its answer in a sentence (", report.rows, " questions, ",
                report.skipped_malformed, " skipped)");
  }
  report.kept = static_cast<int64_t>(dataset.examples.size());
  return dataset;
}

Dataset read_retrieval_json(const fs::path& path, const ReadOptions& options) {
  const TextFile file = load_text_file(path);
  const Json document = parse_document(file, "{\"queries\": [...], \"candidates\": [...]}");
  require_object(file, ": top level", document, "{\"queries\": [...], \"candidates\": [...]}");
  require_only_keys(file, ": top level", document, {"queries", "candidates"});

  Dataset dataset;
  dataset.retrieval = true;
  ReadReport& report = dataset.report;
  std::unordered_map<std::string, int64_t> index_of;
  const bool has_pool = document.contains("candidates");
  if (has_pool) {
    const Json& candidates = require_array(file, ": top level", document, "candidates", "candidates");
    if (candidates.empty()) {
      input_error(file.name, ": 'candidates' is empty (leave the key out for a file of query-positive pairs)");
    }
    for (size_t c = 0; c < candidates.size(); ++c) {
      const std::string at = ": candidates[" + std::to_string(c) + "]";
      require_object(file, at, candidates[c], "a candidate");
      require_only_keys(file, at, candidates[c], {"id", "text", "language"});
      Candidate candidate;
      candidate.id = require_string(file, at, candidates[c], "id", "the candidate's id");
      const std::string named = at + " (candidate '" + candidate.id + "')";
      candidate.text = require_string(file, named, candidates[c], "text", "the candidate's text");
      if (candidates[c].contains("language")) {
        candidate.language = require_string(file, named, candidates[c], "language", "a language code");
      }
      const auto [it, fresh] = index_of.emplace(candidate.id, static_cast<int64_t>(c));
      if (!fresh) {
        input_error(file.name, named, ": the id is also candidates[", it->second, "]'s (candidate ids are unique)");
      }
      dataset.candidates.push_back(std::move(candidate));
    }
  }

  const Json& queries = require_array(file, ": top level", document, "queries", "queries");
  if (queries.empty()) input_error(file.name, ": 'queries' is empty");
  std::unordered_map<std::string, size_t> query_ids;
  std::set<std::string> languages;
  bool any_relevant = false;
  for (size_t q = 0; q < queries.size(); ++q) {
    const std::string at = ": queries[" + std::to_string(q) + "]";
    require_object(file, at, queries[q], "a query");
    require_only_keys(file, at, queries[q], {"id", "text", "language", "relevant", "positive"});
    ++report.rows;
    Example example;
    example.id = require_string(file, at, queries[q], "id", "the query's id");
    const std::string named = at + " (query '" + example.id + "')";
    if (const auto [it, fresh] = query_ids.emplace(example.id, q); !fresh) {
      input_error(file.name, named, ": the id is also queries[", it->second, "]'s (query ids are unique)");
    }
    example.text_a = require_string(file, named, queries[q], "text", "the query's text");
    if (queries[q].contains("language")) {
      example.language = require_string(file, named, queries[q], "language", "a language code");
    }
    const bool has_relevant = queries[q].contains("relevant");
    const bool has_positive = queries[q].contains("positive");
    if (has_relevant && has_positive) {
      input_error(file.name, named,
                  ": both 'relevant' and 'positive' (relevant names candidates of the pool, "
                  "positive is a training pair's text: one or the other)");
    }
    if (has_pool && !has_relevant) {
      input_error(file.name, named,
                  ": no 'relevant' list (a file with 'candidates' gives each query the ids of its "
                  "relevant candidates, [] for none)");
    }
    if (!has_pool && !has_positive) {
      input_error(file.name, named, ": no 'positive' text (a file without 'candidates' is query-positive pairs",
                  has_relevant ? "; 'relevant' names candidates, but the file has no 'candidates'" : "", ")");
    }
    if (has_relevant) {
      const Json& relevant = require_array(file, named, queries[q], "relevant", "candidate ids");
      std::set<int64_t> seen;
      for (size_t k = 0; k < relevant.size(); ++k) {
        if (!relevant[k].is_string()) {
          input_error(file.name, named, ": relevant[", k, "] is ", relevant[k].dump(),
                      ", expected a candidate id (a string)");
        }
        const std::string id = relevant[k].get<std::string>();
        const auto it = index_of.find(id);
        if (it == index_of.end()) {
          input_error(file.name, named, ": relevant[", k, "] '", id, "' is not the id of a candidate");
        }
        if (seen.insert(it->second).second) example.relevant.push_back(it->second);
      }
    } else {
      example.text_b = require_string(file, named, queries[q], "positive", "the positive's text");
    }
    if (!example.language.empty()) languages.insert(example.language);
    if (!options.language.empty()) {
      if (example.language.empty()) example.language = options.language;
      if (example.language != options.language) continue;
    }
    any_relevant = any_relevant || !example.relevant.empty();
    dataset.examples.push_back(std::move(example));
  }
  if (dataset.examples.empty()) {
    input_error(file.name, ": no queries in language '", options.language,
                "' (languages in the file: ", join(std::vector<std::string>(languages.begin(), languages.end())), ")");
  }
  dataset.labelled = !has_pool || any_relevant;
  report.kept = static_cast<int64_t>(dataset.examples.size());
  return dataset;
}

}  // namespace stilts::tasks::detail
