// PAWS-X (and PAWS-Wiki, its English source), labels "0" / "1", sentence pairs.
//
// Layouts, told apart by the file name and the first line:
//  - x-final/<lang>/{train,translated_train,dev_2k,test_2k}.tsv: header `id sentence1 sentence2 label`,
//    tab-separated, quotes literal. The language is the folder name.
//  - PAWS-Wiki final/{train,dev,test}.tsv: the same columns; copies without the header line are read by
//    position. English (PAWS-X's non-English files always sit in a language folder).
//  - XTREME's {train,dev,test}-<lang>.tsv: `sentence1 sentence2 label`, no header, written by Python's
//    csv.writer (a field holding '"' is quoted). XTREME's test files have no label column: an error.
// Rows whose sentence is an untranslated placeholder (NS, ns, WL) and malformed rows (wrong column count,
// empty sentence, label not 0/1) occur in the distribution: they are counted, noted and skipped.
#include "common/error.h"
#include "tasks/datasets/readers.h"

namespace stilts::tasks::detail {

namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kPawsxLanguages = {"en", "de", "es", "fr", "ja", "ko", "zh"};

bool is_placeholder(std::string_view sentence) {
  return sentence == "NS" || sentence == "ns" || sentence == "WL";
}

bool is_pawsx_language(const std::string& name) {
  for (const auto& language : kPawsxLanguages) {
    if (language == name) return true;
  }
  return false;
}

}  // namespace

Dataset read_pawsx(const fs::path& path, const ReadOptions& options) {
  const TextFile file = load_text_file(path);
  const auto xtreme = parse_xtreme_name(path);

  Dataset dataset;
  dataset.pairs = true;
  dataset.label_names = {"0", "1"};
  ReadReport& report = dataset.report;

  std::string language = options.language;
  if (language.empty() && xtreme) language = xtreme->language;
  if (language.empty()) {
    const std::string folder = fs::absolute(path).parent_path().filename().string();
    if (is_pawsx_language(folder)) {
      language = folder;
    } else {
      language = "en";
      report.notes.push_back(file.name + ": no PAWS-X language folder (en de es fr ja ko zh) in the path: "
                             "read as English (PAWS-Wiki)");
    }
  }

  // Column positions: by header name when there is a header, else by the layout's order.
  const std::vector<std::string> first = first_line_fields(file, '\t');
  const bool has_header = find_column(first, "sentence1").has_value();
  std::optional<size_t> id_column;
  size_t a_column = 0, b_column = 1, label_column = 2, columns = 3;
  if (has_header) {
    id_column = find_column(first, "id");
    a_column = require_column(file, first, "sentence1");
    b_column = require_column(file, first, "sentence2");
    if (!find_column(first, "label")) no_labels_error(file, "no 'label' column");
    label_column = require_column(file, first, "label");
    columns = first.size();
  } else if (xtreme) {
    if (first.size() == 2) no_labels_error(file, "XTREME's test files hold only sentence1 and sentence2");
  } else {
    id_column = 0;
    a_column = 1;
    b_column = 2;
    label_column = 3;
    columns = 4;
  }

  RowReader reader(file, '\t', xtreme && !has_header ? Quoting::kCsv : Quoting::kNone);
  Row row;
  if (has_header) reader.next(row);
  while (reader.next(row)) {
    ++report.rows;
    if (row.fields.size() != columns) {
      ++report.skipped_malformed;
      note_skip(report, file, row.line,
                "expected " + std::to_string(columns) + " columns, found " + std::to_string(row.fields.size()));
      continue;
    }
    const std::string_view a = row.fields[a_column], b = row.fields[b_column];
    if (is_placeholder(a) || is_placeholder(b)) {
      ++report.skipped_placeholder;
      note_skip(report, file, row.line,
                "untranslated placeholder '" + std::string(is_placeholder(a) ? a : b) + "'");
      continue;
    }
    if (a.empty() || b.empty()) {
      ++report.skipped_malformed;
      note_skip(report, file, row.line, "empty sentence");
      continue;
    }
    const std::string_view label = row.fields[label_column];
    if (label != "0" && label != "1") {
      ++report.skipped_malformed;
      note_skip(report, file, row.line, "label '" + std::string(label) + "' is not 0 or 1");
      continue;
    }
    Example example;
    example.id = id_column ? std::string(row.fields[*id_column]) : row_id(file, row.line);
    example.text_a = a;
    example.text_b = std::string(b);
    example.label = label == "1" ? 1 : 0;
    example.language = language;
    dataset.examples.push_back(std::move(example));
  }
  report.kept = static_cast<int64_t>(dataset.examples.size());
  close_skip_notes(report);
  if (report.rows == 0) no_rows_error(file);
  if (report.kept == 0) {
    input_error(file.name, ": none of its ", report.rows, " rows is usable (",
                report.skipped_placeholder, " placeholders, ", report.skipped_malformed, " malformed)");
  }
  return dataset;
}

}  // namespace stilts::tasks::detail
