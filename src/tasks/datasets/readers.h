// Private to src/tasks/datasets: the per-format readers and the row/label helpers they share.
#pragma once

#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tasks/datasets/dataset.h"

namespace stilts::tasks::detail {

// ---- the readers, one per file (read.cpp dispatches to them) ----
Dataset read_pawsx(const std::filesystem::path& path, const ReadOptions& options);
Dataset read_xnli(const std::filesystem::path& path, const ReadOptions& options);
Dataset read_glue_mnli(const std::filesystem::path& path, const ReadOptions& options);
Dataset read_glue_qqp(const std::filesystem::path& path, const ReadOptions& options);
Dataset read_glue_sst2(const std::filesystem::path& path, const ReadOptions& options);
Dataset read_glue_stsb(const std::filesystem::path& path, const ReadOptions& options);
Dataset read_mrpc(const std::filesystem::path& path, const ReadOptions& options);
Dataset read_imdb(const std::filesystem::path& path, const ReadOptions& options);
Dataset read_generic_tsv(const std::filesystem::path& path, const ReadOptions& options);
Dataset read_generic_csv(const std::filesystem::path& path, const ReadOptions& options);
Dataset read_generic_jsonl(const std::filesystem::path& path, const ReadOptions& options);
Dataset read_conllu(const std::filesystem::path& path, const ReadOptions& options);
Dataset read_xtreme_tagging(const std::filesystem::path& path, const ReadOptions& options);
Dataset read_panx(const std::filesystem::path& path, const ReadOptions& options);
Dataset read_xcopa(const std::filesystem::path& path, const ReadOptions& options);
Dataset read_copa(const std::filesystem::path& path, const ReadOptions& options);
Dataset read_siqa(const std::filesystem::path& path, const ReadOptions& options);
Dataset read_squad(const std::filesystem::path& path, const ReadOptions& options);
Dataset read_mlqa(const std::filesystem::path& path, const ReadOptions& options);
Dataset read_tatoeba(const std::filesystem::path& path, const ReadOptions& options);         // retrieval.cpp
Dataset read_lareqa(const std::filesystem::path& path, const ReadOptions& options);          // retrieval.cpp
Dataset read_mewslix(const std::filesystem::path& path, const ReadOptions& options);         // retrieval.cpp
Dataset read_mewslix_pairs(const std::filesystem::path& path, const ReadOptions& options);   // retrieval.cpp
Dataset read_lareqa_pairs(const std::filesystem::path& path, const ReadOptions& options);    // retrieval.cpp
Dataset read_retrieval_json(const std::filesystem::path& path, const ReadOptions& options);  // retrieval.cpp

// ---- files ----

// A dataset file's text: checked to be valid UTF-8 (InputError naming the line otherwise), BOM removed.
struct TextFile {
  std::filesystem::path path;
  std::string name;  // the path as error messages show it
  std::string bytes;
  bool had_bom = false;
};
TextFile load_text_file(const std::filesystem::path& path);

// Throws InputError naming the first line of `bytes` that is not valid UTF-8 (no-op when all is valid).
void check_utf8(std::string_view bytes, const std::string& name);

// "<file name>:<line>", the id of a row whose file has no id column.
std::string row_id(const TextFile& file, int64_t line);

// ---- rows ----

enum class Quoting {
  kNone,  // a quote is a literal character: GLUE and HF datasets' csv.QUOTE_NONE, PAWS-X x-final, XNLI
  kCsv,   // RFC 4180: a field opening with '"' runs to the closing quote, "" is a quote, may span lines
          // (CSV files; XTREME's {split}-{lang}.tsv, written by Python's csv.writer)
};

struct Row {
  int64_t line = 0;  // 1-based line on which the row starts
  std::vector<std::string_view> fields;  // valid until the next call of RowReader::next
};

// Splits a file into rows. Lines end in "\n" or "\r\n"; blank lines are skipped.
class RowReader {
 public:
  RowReader(const TextFile& file, char delimiter, Quoting quoting);
  bool next(Row& row);  // false at the end of the file

 private:
  bool next_plain(Row& row);
  bool next_quoted(Row& row);

  const TextFile& file_;
  char delimiter_;
  Quoting quoting_;
  size_t pos_ = 0;
  int64_t line_ = 1;
  std::deque<std::string> unescaped_;  // quoted fields that contained "" (deque: views stay valid)
};

// Every line of a file, blank ones included: the tagging formats end a sentence with a blank line,
// which RowReader skips. Lines end in "\n" or "\r\n".
class LineReader {
 public:
  explicit LineReader(const TextFile& file) : file_(file) {}
  bool next(int64_t& line, std::string_view& text);  // false at the end of the file; line is 1-based

 private:
  const TextFile& file_;
  size_t pos_ = 0;
  int64_t line_ = 0;
};

// The object on a JSON Lines row; InputError "<file>:<line>: not valid JSON" or "expected a JSON object".
nlohmann::json parse_json_object(const TextFile& file, const Row& row);
// The text at `key`, verbatim; InputError naming the file, line and key when the key is missing, is not
// a string, or holds only whitespace.
std::string json_text_field(const TextFile& file, int64_t line, const nlohmann::json& object, std::string_view key);

// The fields of the file's first line, split on `delimiter` with no quote handling (layout sniffing).
std::vector<std::string> first_line_fields(const TextFile& file, char delimiter);

// Index of column `name` in `header`, or nullopt.
std::optional<size_t> find_column(const std::vector<std::string>& header, std::string_view name);
// Index of column `name`; InputError naming the column, the file and the columns it has.
size_t require_column(const TextFile& file, const std::vector<std::string>& header, std::string_view name);
// InputError unless the row has `expected` fields.
void require_field_count(const TextFile& file, const Row& row, size_t expected, char delimiter);

// "a, b, c"
std::string join(const std::vector<std::string>& items, std::string_view separator = ", ");

// ---- labels ----

class LabelSet {
 public:
  explicit LabelSet(std::vector<std::string> names);
  std::optional<int64_t> find(std::string_view label) const;
  // InputError "<file>:<line>: label 'x' is not one of {a, b}" when `label` is outside the set.
  int64_t require(const TextFile& file, int64_t line, std::string_view label) const;
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;
  std::map<std::string, int64_t, std::less<>> ids_;
};

// A regression target; InputError naming the file, line and column when it is not a finite number.
double parse_score(const TextFile& file, int64_t line, std::string_view column, std::string_view text);

// InputError for a labelled format read from a file without labels (e.g. GLUE's test.tsv).
[[noreturn]] void no_labels_error(const TextFile& file, std::string_view detail);
// InputError when a file has a header but no data rows.
[[noreturn]] void no_rows_error(const TextFile& file);

// A token-tagging example: id "<file>:<line of its first word>", text_a the words joined by spaces
// (for display; the words are the input).
Example tagged_example(const TextFile& file, int64_t line, std::string language, std::vector<std::string> words,
                       std::vector<int64_t> word_labels);

// ---- reports ----

constexpr size_t kMaxSkipNotes = 10;
// Records why a row was skipped, for the first kMaxSkipNotes skipped rows (call after counting it).
void note_skip(ReadReport& report, const TextFile& file, int64_t line, const std::string& why);
// The same for a file whose rows are not lines (a JSON document): `where` locates the row, e.g. a JSON
// path "data[3].paragraphs[0].qas[2]"; the note reads "file: where: why".
void note_skip(ReadReport& report, const TextFile& file, std::string_view where, const std::string& why);
// Appends "... N more skipped rows" when not every skipped row got a note.
void close_skip_notes(ReadReport& report);

// ---- languages ----

// {split, lang} from XTREME's "{train,dev,test}-<lang>.tsv" file names, else nullopt.
struct XtremeName {
  std::string split;
  std::string language;
};
std::optional<XtremeName> parse_xtreme_name(const std::filesystem::path& path);

}  // namespace stilts::tasks::detail
