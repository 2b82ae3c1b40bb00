// XNLI, labels in HF/XNLI order: entailment, neutral, contradiction; sentence pairs.
//
// Layouts, told apart by the first line:
//  - XNLI-1.0 xnli.{dev,test}.tsv: a header with `language`, `gold_label`, `sentence1`, `sentence2`,
//    `pairID` (and parses, genre, annotator labels); every language in one file, quotes literal (HF reads
//    it with csv.QUOTE_NONE). ReadOptions.language keeps one language.
//  - XNLI-MT-1.0 multinli.train.<lang>.tsv: header `premise hypo label`, "contradictory" for contradiction.
//  - XTREME's {train,dev,test}-<lang>.tsv: `premise hypothesis label`, no header, written by Python's
//    csv.writer (a field holding '"' is quoted). XTREME's test files have no label column: an error.
#include <set>

#include "common/error.h"
#include "tasks/datasets/readers.h"

namespace stilts::tasks::detail {

namespace fs = std::filesystem;

namespace {

const LabelSet& xnli_labels() {
  static const LabelSet labels({"entailment", "neutral", "contradiction"});
  return labels;
}

// XNLI-MT spells contradiction "contradictory".
int64_t xnli_label(const TextFile& file, int64_t line, std::string_view label) {
  if (label == "contradictory") return 2;
  return xnli_labels().require(file, line, label);
}

// "multinli.train.de.tsv" / "xnli.dev.de.tsv" -> "de".
std::string dotted_language(const fs::path& path) {
  const std::string stem = path.stem().string();
  const size_t dot = stem.rfind('.');
  if (dot == std::string::npos) return "";
  const std::string code = stem.substr(dot + 1);
  if (code.size() < 2 || code.size() > 3) return "";
  for (char c : code) {
    if (c < 'a' || c > 'z') return "";
  }
  return code;
}

}  // namespace

Dataset read_xnli(const fs::path& path, const ReadOptions& options) {
  const TextFile file = load_text_file(path);
  Dataset dataset;
  dataset.pairs = true;
  dataset.label_names = xnli_labels().names();
  ReadReport& report = dataset.report;

  const std::vector<std::string> first = first_line_fields(file, '\t');
  Row row;

  if (find_column(first, "gold_label") || find_column(first, "language")) {
    // XNLI-1.0: every language in one file.
    const size_t language_column = require_column(file, first, "language");
    const size_t label_column = require_column(file, first, "gold_label");
    const size_t a_column = require_column(file, first, "sentence1");
    const size_t b_column = require_column(file, first, "sentence2");
    const std::optional<size_t> id_column = find_column(first, "pairID");
    std::set<std::string> languages;
    RowReader reader(file, '\t', Quoting::kNone);
    reader.next(row);
    while (reader.next(row)) {
      ++report.rows;
      require_field_count(file, row, first.size(), '\t');
      const std::string_view language = row.fields[language_column];
      languages.emplace(language);
      if (!options.language.empty() && language != options.language) continue;
      Example example;
      example.label = xnli_label(file, row.line, row.fields[label_column]);
      example.id = id_column ? std::string(row.fields[*id_column]) : row_id(file, row.line);
      example.text_a = row.fields[a_column];
      example.text_b = std::string(row.fields[b_column]);
      example.language = language;
      dataset.examples.push_back(std::move(example));
    }
    if (report.rows == 0) no_rows_error(file);
    if (dataset.examples.empty()) {
      input_error(file.name, ": no rows in language '", options.language, "' (languages in the file: ",
                  join(std::vector<std::string>(languages.begin(), languages.end())), ")");
    }
    report.kept = static_cast<int64_t>(dataset.examples.size());
    return dataset;
  }

  // One language per file: XNLI-MT (header premise/hypo/label) or XTREME (no header).
  const bool mt_header = find_column(first, "premise").has_value();
  const auto xtreme = parse_xtreme_name(path);
  std::string language = options.language;
  if (language.empty()) language = xtreme ? xtreme->language : dotted_language(path);
  if (language.empty()) {
    input_error(file.name, ": cannot tell the language from the file name (XTREME names files "
                "{train,dev,test}-<lang>.tsv): rename it or set the language option");
  }
  size_t a_column = 0, b_column = 1, label_column = 2, columns = 3;
  if (mt_header) {
    a_column = require_column(file, first, "premise");
    b_column = find_column(first, "hypo") ? require_column(file, first, "hypo")
                                          : require_column(file, first, "hypothesis");
    if (!find_column(first, "label")) no_labels_error(file, "no 'label' column");
    label_column = require_column(file, first, "label");
    columns = first.size();
  } else if (first.size() == 2) {
    no_labels_error(file, "2 columns: XTREME's test files hold only premise and hypothesis");
  }
  RowReader reader(file, '\t', mt_header ? Quoting::kNone : Quoting::kCsv);
  if (mt_header) reader.next(row);
  while (reader.next(row)) {
    ++report.rows;
    require_field_count(file, row, columns, '\t');
    Example example;
    example.label = xnli_label(file, row.line, row.fields[label_column]);
    example.id = row_id(file, row.line);
    example.text_a = row.fields[a_column];
    example.text_b = std::string(row.fields[b_column]);
    example.language = language;
    dataset.examples.push_back(std::move(example));
  }
  if (report.rows == 0) no_rows_error(file);
  report.kept = static_cast<int64_t>(dataset.examples.size());
  return dataset;
}

}  // namespace stilts::tasks::detail
