// CoNLL-U (Universal Dependencies treebanks, universaldependencies.org/format.html) read for UPOS
// tagging: one example a sentence, its syntactic words and their UPOS tags (ids from upos_tags()).
//
//  - Sentences end at a blank line (the last one may also end at the end of the file); lines starting
//    with '#' are comments.
//  - Every other line has 10 tab-separated fields. ID is a word index (1, 2, ... in order), a multi-word
//    token range ("1-2": its words follow on their own lines and are the ones read) or an empty node
//    ("8.1": enhanced-graph only, skipped).
//  - FORM is kept verbatim (a few treebanks have spaces inside a form; the words vector is the input,
//    text_a only shows them joined). XTREME's processed files differ in two ways a reader cannot undo:
//    they replace a multi-word token's words by its surface form (tagged by a head heuristic) and delete
//    spaces inside forms. Treebanks without those (EWT, Chinese GSD) read here exactly as XTREME has them.
//  - Sentences whose forms are all (or all but one) "_" come from treebanks that withhold their text; as
//    XTREME's udpos_preprocess does, they are skipped, counted as placeholders and noted.
// The language is ReadOptions.language, else the file name's prefix: en_ewt-ud-test.conllu -> en.
#include "common/error.h"
#include "tasks/datasets/readers.h"

namespace stilts::tasks {

const std::vector<std::string>& upos_tags() {
  static const std::vector<std::string> tags = {"ADJ",   "ADP",  "ADV",  "AUX",   "CCONJ", "DET",
                                                "INTJ",  "NOUN", "NUM",  "PART",  "PRON",  "PROPN",
                                                "PUNCT", "SCONJ", "SYM", "VERB",  "X"};
  return tags;
}

namespace detail {

namespace fs = std::filesystem;

namespace {

constexpr size_t kConlluColumns = 10;

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// A decimal ID without leading zeros, small enough for any sentence; nullopt otherwise.
std::optional<int64_t> parse_index(std::string_view text) {
  if (!all_digits(text) || text.size() > 9 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  int64_t value = 0;
  for (char c : text) value = value * 10 + (c - '0');
  return value;
}

// "en_ewt-ud-test.conllu" -> "en" (UD's "<lang>_<treebank>-ud-<split>.conllu"), else "".
std::string ud_language(const fs::path& path) {
  const std::string name = path.filename().string();
  const size_t underscore = name.find('_');
  if (underscore == std::string::npos || underscore < 2 || underscore > 3) return "";
  for (size_t i = 0; i < underscore; ++i) {
    if (name[i] < 'a' || name[i] > 'z') return "";
  }
  return name.substr(0, underscore);
}

// Text not distributed: every form, or every form but one, is "_" (XTREME's udpos_preprocess rule).
bool withheld_text(const std::vector<std::string>& words) {
  size_t underscores = 0;
  for (const std::string& word : words) underscores += word == "_";
  return underscores > 0 && underscores + 1 >= words.size();
}

}  // namespace

Dataset read_conllu(const fs::path& path, const ReadOptions& options) {
  const TextFile file = load_text_file(path);
  std::string language = options.language.empty() ? ud_language(path) : options.language;
  if (language.empty()) {
    input_error(file.name, ": cannot tell the language from the file name (UD names files "
                "<lang>_<treebank>-ud-<split>.conllu, e.g. en_ewt-ud-test.conllu): rename it or set the "
                "language option");
  }
  const LabelSet tags(upos_tags());

  Dataset dataset;
  dataset.tagging = true;
  dataset.label_names = tags.names();
  ReadReport& report = dataset.report;

  int64_t first_line = 0;  // of the sentence's first word line (0: none yet)
  int64_t next_word = 1;   // the ID the next word line must have
  int64_t range_end = 0;   // last word of the open multi-word token range
  std::vector<std::string> words;
  std::vector<int64_t> labels;
  auto close_sentence = [&](int64_t line) {
    if (range_end >= next_word) {
      input_error(file.name, ":", line, ": the sentence ends inside a multi-word token range (its words up to ",
                  range_end, " are missing)");
    }
    if (!words.empty()) {
      ++report.rows;
      if (withheld_text(words)) {
        ++report.skipped_placeholder;
        note_skip(report, file, first_line, "word forms withheld ('_'): the treebank does not distribute its text");
      } else {
        dataset.examples.push_back(tagged_example(file, first_line, language, std::move(words), std::move(labels)));
      }
    }
    words.clear();
    labels.clear();
    first_line = 0;
    next_word = 1;
    range_end = 0;
  };

  LineReader reader(file);
  int64_t line = 0;
  std::string_view text;
  std::vector<std::string_view> fields;
  while (reader.next(line, text)) {
    if (text.empty()) {
      close_sentence(line);
      continue;
    }
    if (text[0] == '#') continue;
    fields.clear();
    size_t start = 0;
    for (;;) {
      const size_t tab = text.find('\t', start);
      fields.push_back(text.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    if (fields.size() != kConlluColumns) {
      input_error(file.name, ":", line, ": expected 10 tab-separated columns (CoNLL-U), found ", fields.size(),
                  fields.size() == 1 ? " (a line that is neither blank, a '#' comment nor a word line)" : "");
    }
    const std::string_view id = fields[0];
    if (const size_t dash = id.find('-'); dash != std::string_view::npos) {
      const auto first = parse_index(id.substr(0, dash));
      const auto last = parse_index(id.substr(dash + 1));
      if (!first || !last || *last <= *first) {
        input_error(file.name, ":", line, ": ID '", id, "' is not a multi-word token range like 3-4");
      }
      if (*first != next_word) {
        input_error(file.name, ":", line, ": multi-word token range ", id, " should start at word ", next_word);
      }
      range_end = *last;
      continue;
    }
    if (const size_t dot = id.find('.'); dot != std::string_view::npos) {
      if (!parse_index(id.substr(0, dot)) || !all_digits(id.substr(dot + 1))) {
        input_error(file.name, ":", line, ": ID '", id, "' is not an empty node like 8.1");
      }
      continue;
    }
    const auto index = parse_index(id);
    if (!index) input_error(file.name, ":", line, ": ID '", id, "' is not a word index, a range (3-4) or an empty node (8.1)");
    if (*index != next_word) {
      input_error(file.name, ":", line, ": word ID ", *index, " out of order (expected ", next_word,
                  "; is a blank line missing between sentences?)");
    }
    if (fields[1].empty()) input_error(file.name, ":", line, ": empty FORM");
    const auto tag = tags.find(fields[3]);
    if (!tag) {
      input_error(file.name, ":", line, ": UPOS '", fields[3], "' is not a Universal Dependencies tag (",
                  join(upos_tags()), ")");
    }
    if (words.empty()) first_line = line;
    words.emplace_back(fields[1]);
    labels.push_back(*tag);
    ++next_word;
  }
  close_sentence(line + 1);

  if (dataset.examples.empty()) {
    if (report.rows == 0) input_error(file.name, ": no sentences (no word lines)");
    input_error(file.name, ": every one of its ", report.rows, " sentences has its word forms withheld ('_')");
  }
  report.kept = static_cast<int64_t>(dataset.examples.size());
  close_skip_notes(report);
  return dataset;
}

}  // namespace detail
}  // namespace stilts::tasks
