// Generic formats, columns chosen by ReadOptions:
//  - tsv: tab-separated, quotes literal (as GLUE's files and HF's csv.QUOTE_NONE readers treat them);
//  - csv: comma-separated, RFC 4180 quoting (a quoted field may hold commas, "" and line breaks);
//  - jsonl: one JSON object per line; columns are keys (header does not apply).
// With header = false the column options are 0-based indices ("0", "1", ...). Labels map through
// ReadOptions.label_names, else the distinct labels sorted (as numbers when all are integers).
#include <algorithm>
#include <charconv>
#include <set>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "tasks/datasets/readers.h"

namespace stilts::tasks::detail {

namespace fs = std::filesystem;

namespace {

// A row's values before its label becomes an id.
struct Pending {
  int64_t line = 0;
  Example example;
  std::string label;
};

bool parse_integer(std::string_view text, long long& value) {
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return !text.empty() && ec == std::errc() && ptr == end;
}

void check_options(const ReadOptions& options, const std::string& format) {
  if (options.text_a_column.empty()) input_error(format, " reader: text_a_column is not set");
  if (options.label_column.empty()) input_error(format, " reader: label_column is not set");
  if (options.regression && !options.label_names.empty()) {
    input_error(format, " reader: label_names are set but the task is a regression");
  }
}

// Labels -> ids (or scores) and the finished Dataset.
Dataset finish(const TextFile& file, std::vector<Pending> rows, const ReadOptions& options) {
  Dataset dataset;
  dataset.pairs = !options.text_b_column.empty();
  dataset.regression = options.regression;
  dataset.report.rows = static_cast<int64_t>(rows.size());
  if (rows.empty()) no_rows_error(file);
  if (options.regression) {
    for (Pending& row : rows) {
      row.example.score = parse_score(file, row.line, options.label_column, row.label);
    }
  } else {
    std::vector<std::string> names = options.label_names;
    if (names.empty()) {
      std::set<std::string> distinct;
      bool all_integers = true;
      for (const Pending& row : rows) {
        long long value = 0;
        if (distinct.insert(row.label).second) all_integers = all_integers && parse_integer(row.label, value);
      }
      names.assign(distinct.begin(), distinct.end());
      if (all_integers) {
        std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
          long long x = 0, y = 0;
          parse_integer(a, x);
          parse_integer(b, y);
          return x < y;
        });
      }
    }
    const LabelSet labels(names);
    for (Pending& row : rows) row.example.label = labels.require(file, row.line, row.label);
    dataset.label_names = labels.names();
  }
  dataset.examples.reserve(rows.size());
  for (Pending& row : rows) dataset.examples.push_back(std::move(row.example));
  dataset.report.kept = static_cast<int64_t>(dataset.examples.size());
  return dataset;
}

// Where each option's column sits in a row.
struct Columns {
  size_t text_a = 0, label = 0;
  std::optional<size_t> text_b, id, language;
  size_t count = 0;  // fields every row must have
};

size_t column_position(const TextFile& file, const std::vector<std::string>* header, const std::string& column,
                       const char* option) {
  if (header) return require_column(file, *header, column);
  long long index = 0;
  if (!parse_integer(column, index) || index < 0) {
    input_error(file.name, ": ", option, " '", column, "' must be a 0-based column index when the file has no "
                "header (header = false)");
  }
  return static_cast<size_t>(index);
}

Dataset read_delimited(const fs::path& path, const ReadOptions& options, char delimiter, Quoting quoting,
                       const std::string& format) {
  check_options(options, format);
  const TextFile file = load_text_file(path);
  RowReader reader(file, delimiter, quoting);
  Row row;
  std::vector<std::string> header;
  if (!reader.next(row)) input_error(file.name, ": file is empty");
  if (options.header) header.assign(row.fields.begin(), row.fields.end());
  const std::vector<std::string>* names = options.header ? &header : nullptr;
  Columns columns;
  columns.count = options.header ? header.size() : row.fields.size();
  columns.text_a = column_position(file, names, options.text_a_column, "text_a_column");
  columns.label = column_position(file, names, options.label_column, "label_column");
  if (!options.text_b_column.empty()) {
    columns.text_b = column_position(file, names, options.text_b_column, "text_b_column");
  }
  if (!options.id_column.empty()) columns.id = column_position(file, names, options.id_column, "id_column");
  if (!options.language_column.empty()) {
    columns.language = column_position(file, names, options.language_column, "language_column");
  }
  for (size_t index : {columns.text_a, columns.label, columns.text_b.value_or(0), columns.id.value_or(0),
                       columns.language.value_or(0)}) {
    if (index >= columns.count) {
      input_error(file.name, ":", row.line, ": column index ", index, " is out of range (the row has ",
                  columns.count, " columns)");
    }
  }

  std::vector<Pending> rows;
  bool have_row = !options.header;  // without a header the first row is data
  while (have_row || reader.next(row)) {
    have_row = false;
    require_field_count(file, row, columns.count, delimiter);
    Pending pending;
    pending.line = row.line;
    pending.label = row.fields[columns.label];
    if (pending.label.empty()) {
      input_error(file.name, ":", row.line, ": empty label in column '", options.label_column, "'");
    }
    Example& example = pending.example;
    example.text_a = row.fields[columns.text_a];
    if (columns.text_b) example.text_b = std::string(row.fields[*columns.text_b]);
    example.id = columns.id ? std::string(row.fields[*columns.id]) : row_id(file, row.line);
    example.language = columns.language ? std::string(row.fields[*columns.language]) : options.language;
    rows.push_back(std::move(pending));
  }
  return finish(file, std::move(rows), options);
}

// A JSON value as the text of a column; InputError unless it is a string (or, for labels, a scalar).
std::string json_text(const TextFile& file, int64_t line, const nlohmann::json& object, const std::string& key,
                      bool scalar_ok) {
  const auto it = object.find(key);
  if (it == object.end()) input_error(file.name, ":", line, ": no key '", key, "' in the JSON object");
  if (it->is_string()) return it->get<std::string>();
  if (scalar_ok && (it->is_number() || it->is_boolean())) return it->dump();
  input_error(file.name, ":", line, ": key '", key, "' is ", it->type_name(), ", expected ",
              scalar_ok ? "a string, number or boolean" : "a string");
}

}  // namespace

Dataset read_generic_tsv(const fs::path& path, const ReadOptions& options) {
  return read_delimited(path, options, '\t', Quoting::kNone, "tsv");
}

Dataset read_generic_csv(const fs::path& path, const ReadOptions& options) {
  return read_delimited(path, options, ',', Quoting::kCsv, "csv");
}

Dataset read_generic_jsonl(const fs::path& path, const ReadOptions& options) {
  check_options(options, "jsonl");
  if (!options.header) input_error(path.string(), ": jsonl rows are JSON objects: name keys, header = false does not apply");
  const TextFile file = load_text_file(path);
  // '\n' as the delimiter: RowReader then yields one field per non-blank line, "\r\n" handled.
  RowReader reader(file, '\n', Quoting::kNone);
  Row row;
  std::vector<Pending> rows;
  while (reader.next(row)) {
    const std::string_view text = row.fields[0];
    if (text.find_first_not_of(" \t") == std::string_view::npos) continue;
    const nlohmann::json object = parse_json_object(file, row);
    Pending pending;
    pending.line = row.line;
    pending.label = json_text(file, row.line, object, options.label_column, /*scalar_ok=*/true);
    if (pending.label.empty()) {
      input_error(file.name, ":", row.line, ": empty label in key '", options.label_column, "'");
    }
    Example& example = pending.example;
    example.text_a = json_text(file, row.line, object, options.text_a_column, /*scalar_ok=*/false);
    if (!options.text_b_column.empty()) {
      example.text_b = json_text(file, row.line, object, options.text_b_column, /*scalar_ok=*/false);
    }
    example.id = options.id_column.empty() ? row_id(file, row.line)
                                           : json_text(file, row.line, object, options.id_column, true);
    example.language = options.language_column.empty()
                           ? options.language
                           : json_text(file, row.line, object, options.language_column, false);
    rows.push_back(std::move(pending));
  }
  return finish(file, std::move(rows), options);
}

}  // namespace stilts::tasks::detail
