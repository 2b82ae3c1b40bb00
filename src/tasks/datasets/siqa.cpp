// Social IQa, three-way multiple choice (English): JSON Lines with `context`, `question`, `answerA`,
// `answerB`, `answerC`; other keys are ignored. Each example pairs text_a = "{context} {question}" with
// each answer, the input XTREME's run_xcopa.py builds for SIQA; label_names {"A", "B", "C"}.
//
// Labels, in either of the two distributed forms:
//  - inline `correct`: "A", "B" or "C" (socialIQa_v1.4_{trn,dev,tst}.jsonl, the form XTREME downloads);
//  - AI2's leaderboard form: `{train,dev}.jsonl` without labels and `{train,dev}-labels.lst` beside it,
//    one 1-based label ("1", "2", "3") a line, row for row; pass it as ReadOptions.labels_file. When the
//    rows also have `correct`, the two must agree.
// A file with neither is read for prediction (labelled = false, label -1); rows must all have `correct`
// or none.
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "tasks/datasets/readers.h"

namespace stilts::tasks::detail {

namespace fs = std::filesystem;

namespace {

// The 0-based labels of AI2's labels file, with the line each is on.
std::vector<std::pair<int64_t, int64_t>> read_labels_file(const fs::path& path) {
  const TextFile file = load_text_file(path);
  std::vector<std::pair<int64_t, int64_t>> labels;
  RowReader reader(file, '\n', Quoting::kNone);
  Row row;
  while (reader.next(row)) {
    const std::string_view label = row.fields[0];
    if (label != "1" && label != "2" && label != "3") {
      input_error(file.name, ":", row.line, ": label '", label, "' is not 1, 2 or 3 (AI2's labels files number "
                  "the answers from 1)");
    }
    labels.emplace_back(label[0] - '1', row.line);
  }
  return labels;
}

}  // namespace

Dataset read_siqa(const fs::path& path, const ReadOptions& options) {
  const TextFile file = load_text_file(path);
  Dataset dataset;
  dataset.multiple_choice = true;
  dataset.label_names = {"A", "B", "C"};
  ReadReport& report = dataset.report;
  const LabelSet letters(dataset.label_names);
  const std::string language = options.language.empty() ? "en" : options.language;

  std::optional<bool> inline_labels;  // set by the first row
  int64_t first_line = 0;
  RowReader reader(file, '\n', Quoting::kNone);
  Row row;
  std::vector<int64_t> lines;
  while (reader.next(row)) {
    if (row.fields[0].find_first_not_of(" \t") == std::string_view::npos) continue;
    ++report.rows;
    const nlohmann::json object = parse_json_object(file, row);
    Example example;
    example.id = row_id(file, row.line);
    example.text_a = json_text_field(file, row.line, object, "context") + " " +
                     json_text_field(file, row.line, object, "question");
    example.choices = {json_text_field(file, row.line, object, "answerA"),
                       json_text_field(file, row.line, object, "answerB"),
                       json_text_field(file, row.line, object, "answerC")};
    example.language = language;
    const bool has_label = object.contains("correct");
    if (!inline_labels) {
      inline_labels = has_label;
      first_line = row.line;
    } else if (*inline_labels != has_label) {
      input_error(file.name, ":", row.line, ": ", has_label ? "a row with 'correct'" : "a row without 'correct'",
                  ", but line ", first_line, has_label ? " has none" : " has it",
                  ": a file is labelled throughout or not at all");
    }
    if (has_label) {
      example.label = letters.require(file, row.line, json_text_field(file, row.line, object, "correct"));
    }
    lines.push_back(row.line);
    dataset.examples.push_back(std::move(example));
  }
  if (report.rows == 0) input_error(file.name, ": no rows");
  dataset.labelled = *inline_labels;

  if (!options.labels_file.empty()) {
    const auto labels = read_labels_file(options.labels_file);
    if (labels.size() != dataset.examples.size()) {
      input_error(options.labels_file, ": ", labels.size(), " labels for the ", dataset.examples.size(), " rows of ",
                  file.name, " (AI2's labels files hold one label a row)");
    }
    for (size_t i = 0; i < labels.size(); ++i) {
      Example& example = dataset.examples[i];
      const auto [label, line] = labels[i];
      if (example.label >= 0 && example.label != label) {
        input_error(options.labels_file, ":", line, ": label ", label + 1, " (", dataset.label_names[label],
                    ") disagrees with 'correct' ", dataset.label_names[example.label], " on ", file.name, ":",
                    lines[i]);
      }
      example.label = label;
    }
    dataset.labelled = true;
  }
  report.kept = static_cast<int64_t>(dataset.examples.size());
  return dataset;
}

}  // namespace stilts::tasks::detail
