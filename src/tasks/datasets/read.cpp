// read_dataset: the format registry, and the file, row and label helpers every reader shares.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "tasks/datasets/readers.h"
#include "text/unicode.h"

namespace stilts::tasks {

namespace fs = std::filesystem;

namespace {

using Reader = std::function<Dataset(const fs::path&, const ReadOptions&)>;

// The registry: one line per format, in the order `dataset_formats` lists them.
const std::vector<std::pair<std::string, Reader>>& readers() {
  static const std::vector<std::pair<std::string, Reader>> table = {
      {"pawsx", detail::read_pawsx},
      {"xnli", detail::read_xnli},
      {"glue-mnli", detail::read_glue_mnli},
      {"glue-qqp", detail::read_glue_qqp},
      {"glue-sst2", detail::read_glue_sst2},
      {"glue-stsb", detail::read_glue_stsb},
      {"mrpc", detail::read_mrpc},
      {"imdb", detail::read_imdb},
      {"conllu", detail::read_conllu},
      {"xtreme-tagging", detail::read_xtreme_tagging},
      {"panx", detail::read_panx},
      {"xcopa", detail::read_xcopa},
      {"copa", detail::read_copa},
      {"siqa", detail::read_siqa},
      {"squad", detail::read_squad},
      {"mlqa", detail::read_mlqa},
      {"tatoeba", detail::read_tatoeba},
      {"lareqa", detail::read_lareqa},
      {"mewslix", detail::read_mewslix},
      {"mewslix-pairs", detail::read_mewslix_pairs},
      {"lareqa-pairs", detail::read_lareqa_pairs},
      {"retrieval-json", detail::read_retrieval_json},
      {"tsv", detail::read_generic_tsv},
      {"csv", detail::read_generic_csv},
      {"jsonl", detail::read_generic_jsonl},
  };
  return table;
}

}  // namespace

std::vector<std::string> dataset_formats() {
  std::vector<std::string> names;
  for (const auto& [name, reader] : readers()) names.push_back(name);
  return names;
}

Dataset read_dataset(const fs::path& path, const std::string& format, const ReadOptions& options) {
  for (const auto& [name, reader] : readers()) {
    if (name != format) continue;
    Dataset dataset = reader(path, options);
    dataset.format = format;
    if (dataset.source.empty()) dataset.source = path.string();
    return dataset;
  }
  input_error("unknown dataset format '", format, "' (known formats: ", detail::join(dataset_formats()), ")");
}

namespace detail {

namespace {

// The file in one read into a string of its size (read_file's stream copy costs ~3x on big files).
std::string read_bytes(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec || fs::is_directory(path, ec)) return read_file(path);  // read_file words the error
  std::ifstream in(path, std::ios::binary);
  if (!in) return read_file(path);
  std::string bytes(static_cast<size_t>(size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  if (static_cast<uintmax_t>(in.gcount()) != size) input_error(path.string(), ": read error (file changed while reading?)");
  return bytes;
}

}  // namespace

void check_utf8(std::string_view bytes, const std::string& name) {
  // ASCII is skipped byte by byte; each run of non-ASCII bytes (a UTF-8 sequence never contains an
  // ASCII byte) is checked by utf8proc. Most dataset text is ASCII, so this stays fast on big files.
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t size = bytes.size();
  size_t pos = 0;
  while (pos < size) {
    uint64_t word = 0;
    if (pos + 8 <= size && (std::memcpy(&word, data + pos, 8), (word & 0x8080808080808080ULL) == 0)) {
      pos += 8;
      continue;
    }
    if (data[pos] < 0x80) {
      ++pos;
      continue;
    }
    const size_t start = pos;
    while (pos < size && data[pos] >= 0x80) ++pos;
    if (!text::is_valid_utf8(bytes.substr(start, pos - start))) {
      const int64_t line = 1 + std::count(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(start), '\n');
      input_error(name, ":", line, ": invalid UTF-8 (byte offset ", start,
                  "); dataset files must be UTF-8 (convert it, e.g. with iconv)");
    }
  }
}

TextFile load_text_file(const fs::path& path) {
  TextFile file;
  file.path = path;
  file.name = path.string();
  file.bytes = read_bytes(path);
  if (file.bytes.compare(0, 3, "\xEF\xBB\xBF") == 0) {
    file.bytes.erase(0, 3);
    file.had_bom = true;
  }
  check_utf8(file.bytes, file.name);
  if (file.bytes.find_first_not_of(" \t\r\n") == std::string::npos) input_error(file.name, ": file is empty");
  return file;
}

std::string row_id(const TextFile& file, int64_t line) {
  return file.path.filename().string() + ":" + std::to_string(line);
}

// ---- rows ----

RowReader::RowReader(const TextFile& file, char delimiter, Quoting quoting)
    : file_(file), delimiter_(delimiter), quoting_(quoting) {}

bool RowReader::next(Row& row) { return quoting_ == Quoting::kNone ? next_plain(row) : next_quoted(row); }

bool RowReader::next_plain(Row& row) {
  const std::string& bytes = file_.bytes;
  const char* data = bytes.data();
  const size_t size = bytes.size();
  while (pos_ < size) {
    const void* newline = std::memchr(data + pos_, '\n', size - pos_);
    const size_t end = newline ? static_cast<size_t>(static_cast<const char*>(newline) - data) : size;
    size_t stop = end;
    if (stop > pos_ && data[stop - 1] == '\r') --stop;
    const std::string_view text(data + pos_, stop - pos_);
    const int64_t line = line_++;
    pos_ = newline ? end + 1 : size;
    if (text.empty()) continue;
    row.line = line;
    row.fields.clear();
    size_t field_start = 0;
    for (;;) {
      const size_t tab = text.find(delimiter_, field_start);
      if (tab == std::string_view::npos) {
        row.fields.push_back(text.substr(field_start));
        break;
      }
      row.fields.push_back(text.substr(field_start, tab - field_start));
      field_start = tab + 1;
    }
    return true;
  }
  return false;
}

bool RowReader::next_quoted(Row& row) {
  const std::string& bytes = file_.bytes;
  const char* data = bytes.data();
  const size_t size = bytes.size();
  unescaped_.clear();
  row.fields.clear();
  // Blank lines between rows.
  while (pos_ < size) {
    if (data[pos_] == '\n') {
      ++pos_;
      ++line_;
    } else if (data[pos_] == '\r' && pos_ + 1 < size && data[pos_ + 1] == '\n') {
      pos_ += 2;
      ++line_;
    } else {
      break;
    }
  }
  if (pos_ >= size) return false;
  row.line = line_;
  for (;;) {
    if (pos_ < size && data[pos_] == '"') {
      const int64_t open_line = line_;
      size_t start = ++pos_;
      std::string* joined = nullptr;  // only when the field contains "" escapes
      std::string_view field;
      for (;;) {
        const void* found = std::memchr(data + pos_, '"', size - pos_);
        if (!found) input_error(file_.name, ":", open_line, ": quoted field is never closed (missing '\"')");
        const size_t quote = static_cast<size_t>(static_cast<const char*>(found) - data);
        line_ += std::count(data + pos_, data + quote, '\n');
        if (quote + 1 < size && data[quote + 1] == '"') {
          if (!joined) joined = &unescaped_.emplace_back();
          joined->append(data + start, quote + 1 - start);
          start = pos_ = quote + 2;
          continue;
        }
        if (joined) {
          joined->append(data + start, quote - start);
          field = *joined;
        } else {
          field = std::string_view(data + start, quote - start);
        }
        pos_ = quote + 1;
        break;
      }
      row.fields.push_back(field);
      if (pos_ >= size) return true;
      if (data[pos_] == delimiter_) {
        ++pos_;
        continue;
      }
      if (data[pos_] == '\n' || (data[pos_] == '\r' && pos_ + 1 < size && data[pos_ + 1] == '\n')) {
        pos_ += data[pos_] == '\r' ? 2 : 1;
        ++line_;
        return true;
      }
      input_error(file_.name, ":", line_, ": text after the closing quote of a quoted field (expected '",
                  delimiter_ == '\t' ? std::string("\\t") : std::string(1, delimiter_),
                  "' or the end of the line); write a quote inside a quoted field as \"\"");
    }
    const size_t start = pos_;
    while (pos_ < size && data[pos_] != delimiter_ && data[pos_] != '\n') ++pos_;
    if (pos_ < size && data[pos_] == delimiter_) {
      row.fields.emplace_back(data + start, pos_ - start);
      ++pos_;
      continue;
    }
    size_t stop = pos_;
    if (stop > start && data[stop - 1] == '\r') --stop;
    row.fields.emplace_back(data + start, stop - start);
    if (pos_ < size) {
      ++pos_;
      ++line_;
    }
    return true;
  }
}

bool LineReader::next(int64_t& line, std::string_view& text) {
  const std::string& bytes = file_.bytes;
  if (pos_ >= bytes.size()) return false;
  size_t end = bytes.find('\n', pos_);
  if (end == std::string::npos) end = bytes.size();
  size_t stop = end;
  if (stop > pos_ && bytes[stop - 1] == '\r') --stop;
  text = std::string_view(bytes).substr(pos_, stop - pos_);
  line = ++line_;
  pos_ = end + 1;
  return true;
}

nlohmann::json parse_json_object(const TextFile& file, const Row& row) {
  nlohmann::json object;
  try {
    object = nlohmann::json::parse(row.fields.at(0));
  } catch (const nlohmann::json::parse_error& e) {
    input_error(file.name, ":", row.line, ": not valid JSON (column ", e.byte, ")");
  }
  if (!object.is_object()) input_error(file.name, ":", row.line, ": expected a JSON object, found ", object.type_name());
  return object;
}

std::string json_text_field(const TextFile& file, int64_t line, const nlohmann::json& object, std::string_view key) {
  const auto it = object.find(key);
  if (it == object.end()) input_error(file.name, ":", line, ": no key '", key, "' in the JSON object");
  if (!it->is_string()) input_error(file.name, ":", line, ": key '", key, "' is ", it->type_name(), ", expected a string");
  std::string text = it->get<std::string>();
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) input_error(file.name, ":", line, ": key '", key, "' is empty");
  return text;
}

std::vector<std::string> first_line_fields(const TextFile& file, char delimiter) {
  std::string_view text = file.bytes;
  const size_t begin = text.find_first_not_of("\r\n");
  if (begin == std::string_view::npos) return {};
  text.remove_prefix(begin);
  text = text.substr(0, text.find('\n'));
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  std::vector<std::string> fields;
  size_t start = 0;
  for (;;) {
    const size_t at = text.find(delimiter, start);
    fields.emplace_back(text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) break;
    start = at + 1;
  }
  return fields;
}

std::optional<size_t> find_column(const std::vector<std::string>& header, std::string_view name) {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return i;
  }
  return std::nullopt;
}

size_t require_column(const TextFile& file, const std::vector<std::string>& header, std::string_view name) {
  if (auto index = find_column(header, name)) return *index;
  input_error(file.name, ":1: no column '", name, "' in the header (columns: ", join(header), ")");
}

void require_field_count(const TextFile& file, const Row& row, size_t expected, char delimiter) {
  if (row.fields.size() == expected) return;
  input_error(file.name, ":", row.line, ": expected ", expected, delimiter == '\t' ? " tab-separated" : "",
              " columns, found ", row.fields.size(),
              row.fields.size() > expected ? " (a stray delimiter inside a field?)" : "");
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    out += items[i];
  }
  return out;
}

// ---- labels ----

LabelSet::LabelSet(std::vector<std::string> names) : names_(std::move(names)) {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (!ids_.emplace(names_[i], static_cast<int64_t>(i)).second) {
      input_error("label '", names_[i], "' is listed twice in the label set {", join(names_), "}");
    }
  }
}

std::optional<int64_t> LabelSet::find(std::string_view label) const {
  const auto it = ids_.find(label);
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

int64_t LabelSet::require(const TextFile& file, int64_t line, std::string_view label) const {
  if (auto id = find(label)) return *id;
  input_error(file.name, ":", line, ": label '", label, "' is not one of {", join(names_), "}");
}

double parse_score(const TextFile& file, int64_t line, std::string_view column, std::string_view text) {
  double value = 0.0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(value)) {
    input_error(file.name, ":", line, ": ", column, " '", text, "' is not a number (a regression target)");
  }
  return value;
}

void no_labels_error(const TextFile& file, std::string_view detail) {
  input_error(file.name, ": the file has no labels (", detail,
              "); GLUE/XTREME test files are unlabelled, train or evaluate on a labelled split");
}

void no_rows_error(const TextFile& file) { input_error(file.name, ": no data rows (only a header)"); }

Example tagged_example(const TextFile& file, int64_t line, std::string language, std::vector<std::string> words,
                       std::vector<int64_t> word_labels) {
  Example example;
  example.id = row_id(file, line);
  example.text_a = join(words, " ");
  example.language = std::move(language);
  example.words = std::move(words);
  example.word_labels = std::move(word_labels);
  return example;
}

// ---- reports ----

void note_skip(ReadReport& report, const TextFile& file, int64_t line, const std::string& why) {
  if (static_cast<size_t>(report.skipped_placeholder + report.skipped_malformed) <= kMaxSkipNotes) {
    report.notes.push_back(file.name + ":" + std::to_string(line) + ": " + why);
  }
}

void note_skip(ReadReport& report, const TextFile& file, std::string_view where, const std::string& why) {
  if (static_cast<size_t>(report.skipped_placeholder + report.skipped_malformed) <= kMaxSkipNotes) {
    report.notes.push_back(file.name + ": " + std::string(where) + ": " + why);
  }
}

void close_skip_notes(ReadReport& report) {
  const int64_t skipped = report.skipped_placeholder + report.skipped_malformed;
  if (skipped > static_cast<int64_t>(kMaxSkipNotes)) {
    report.notes.push_back("... " + std::to_string(skipped - static_cast<int64_t>(kMaxSkipNotes)) +
                           " more skipped rows not listed");
  }
}

// ---- languages ----

std::optional<XtremeName> parse_xtreme_name(const fs::path& path) {
  if (path.extension() != ".tsv") return std::nullopt;
  const std::string stem = path.stem().string();
  const size_t dash = stem.find('-');
  if (dash == std::string::npos) return std::nullopt;
  XtremeName name{stem.substr(0, dash), stem.substr(dash + 1)};
  if (name.split != "train" && name.split != "dev" && name.split != "test") return std::nullopt;
  if (name.language.size() < 2 || name.language.size() > 3) return std::nullopt;
  for (char c : name.language) {
    if (c < 'a' || c > 'z') return std::nullopt;
  }
  return name;
}

}  // namespace detail
}  // namespace stilts::tasks
