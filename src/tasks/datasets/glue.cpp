// GLUE tasks in GLUE's own TSVs (MNLI, QQP, SST-2, STS-B, MRPC) and MRPC in MSR's original
// msr_paraphrase_{train,test}.txt. English.
//
// GLUE files have a header and tab-separated columns, read by name. A quote character is literal: HF
// datasets' glue.py reads them with csv.DictReader(delimiter="\t", quoting=csv.QUOTE_NONE) (MNLI and
// MRPC sentences carry unbalanced quotes). Every row must have the header's column count: a stray tab
// shifts columns and would mislabel silently. GLUE's test files have no label column: an error.
#include "common/error.h"
#include "tasks/datasets/readers.h"

namespace stilts::tasks::detail {

namespace fs = std::filesystem;

namespace {

struct GlueSpec {
  std::string text_a, text_b;  // text_b "" = single sentence
  std::string label;
  std::string id;                        // "" = "<file>:<line>"
  std::vector<std::string> label_names;  // empty = regression
  std::string no_label;                  // a label value meaning "no gold label": skipped and counted
};

Dataset read_glue_table(const fs::path& path, const GlueSpec& spec, const ReadOptions& options) {
  const TextFile file = load_text_file(path);
  const std::vector<std::string> header = first_line_fields(file, '\t');
  if (!find_column(header, spec.label)) {
    no_labels_error(file, "no '" + spec.label + "' column; columns: " + join(header));
  }
  const size_t a_column = require_column(file, header, spec.text_a);
  const bool pairs = !spec.text_b.empty();
  const size_t b_column = pairs ? require_column(file, header, spec.text_b) : 0;
  const size_t label_column = require_column(file, header, spec.label);
  const std::optional<size_t> id_column = spec.id.empty() ? std::nullopt : find_column(header, spec.id);
  const std::optional<LabelSet> labels =
      spec.label_names.empty() ? std::nullopt : std::optional<LabelSet>(LabelSet(spec.label_names));
  const std::string language = options.language.empty() ? "en" : options.language;

  Dataset dataset;
  dataset.pairs = pairs;
  dataset.regression = !labels;
  if (labels) dataset.label_names = labels->names();
  ReadReport& report = dataset.report;
  RowReader reader(file, '\t', Quoting::kNone);
  Row row;
  reader.next(row);
  while (reader.next(row)) {
    ++report.rows;
    require_field_count(file, row, header.size(), '\t');
    const std::string_view label = row.fields[label_column];
    if (!spec.no_label.empty() && label == spec.no_label) {
      ++report.skipped_placeholder;
      note_skip(report, file, row.line, spec.label + " '" + spec.no_label + "' (no gold label)");
      continue;
    }
    Example example;
    if (labels) {
      example.label = labels->require(file, row.line, label);
    } else {
      example.score = parse_score(file, row.line, spec.label, label);
    }
    example.id = id_column ? std::string(row.fields[*id_column]) : row_id(file, row.line);
    example.text_a = row.fields[a_column];
    if (pairs) example.text_b = std::string(row.fields[b_column]);
    example.language = language;
    dataset.examples.push_back(std::move(example));
  }
  if (report.rows == 0) no_rows_error(file);
  report.kept = static_cast<int64_t>(dataset.examples.size());
  close_skip_notes(report);
  if (report.kept == 0) input_error(file.name, ": none of its ", report.rows, " rows has a gold label");
  return dataset;
}

}  // namespace

// GLUE MNLI train.tsv / dev_matched.tsv / dev_mismatched.tsv (MultiNLI's multinli_1.0_*.txt too: their
// gold_label "-" rows, which GLUE dropped, are skipped and counted as placeholders).
Dataset read_glue_mnli(const fs::path& path, const ReadOptions& options) {
  return read_glue_table(path, {"sentence1", "sentence2", "gold_label", "pairID",
                                {"entailment", "neutral", "contradiction"}, "-"},
                         options);
}

Dataset read_glue_qqp(const fs::path& path, const ReadOptions& options) {
  return read_glue_table(path, {"question1", "question2", "is_duplicate", "id", {"0", "1"}, ""}, options);
}

Dataset read_glue_sst2(const fs::path& path, const ReadOptions& options) {
  return read_glue_table(path, {"sentence", "", "label", "", {"0", "1"}, ""}, options);
}

Dataset read_glue_stsb(const fs::path& path, const ReadOptions& options) {
  return read_glue_table(path, {"sentence1", "sentence2", "score", "index", {}, ""}, options);
}

// MRPC: GLUE's {train,dev}.tsv and MSR's msr_paraphrase_{train,test}.txt share the header
// `Quality #1 ID #2 ID #1 String #2 String` behind a UTF-8 BOM. Copies without the header line (the
// shared fixtures) are read by position when the first field is a 0/1 label. The id is "<#1 ID>-<#2 ID>".
Dataset read_mrpc(const fs::path& path, const ReadOptions& options) {
  const TextFile file = load_text_file(path);
  const std::vector<std::string> first = first_line_fields(file, '\t');
  const bool has_header = find_column(first, "#1 String").has_value();
  size_t label_column = 0, id1_column = 1, id2_column = 2, a_column = 3, b_column = 4, columns = 5;
  Dataset dataset;
  dataset.pairs = true;
  dataset.label_names = {"0", "1"};
  ReadReport& report = dataset.report;
  if (has_header) {
    if (!find_column(first, "Quality")) no_labels_error(file, "no 'Quality' column; columns: " + join(first));
    label_column = require_column(file, first, "Quality");
    id1_column = require_column(file, first, "#1 ID");
    id2_column = require_column(file, first, "#2 ID");
    a_column = require_column(file, first, "#1 String");
    b_column = require_column(file, first, "#2 String");
    columns = first.size();
  } else if (first.size() == 5 && (first[0] == "0" || first[0] == "1")) {
    report.notes.push_back(file.name + ": no header line; columns read as Quality, #1 ID, #2 ID, #1 String, "
                           "#2 String");
  } else {
    input_error(file.name, ":1: expected MRPC's header 'Quality\\t#1 ID\\t#2 ID\\t#1 String\\t#2 String' "
                "or a headerless row of 5 columns starting with a 0/1 label");
  }
  const LabelSet labels(dataset.label_names);
  const std::string language = options.language.empty() ? "en" : options.language;
  RowReader reader(file, '\t', Quoting::kNone);
  Row row;
  if (has_header) reader.next(row);
  while (reader.next(row)) {
    ++report.rows;
    require_field_count(file, row, columns, '\t');
    Example example;
    example.label = labels.require(file, row.line, row.fields[label_column]);
    example.id = std::string(row.fields[id1_column]) + "-" + std::string(row.fields[id2_column]);
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
