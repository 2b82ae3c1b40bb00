// COPA and XCOPA, two-way multiple choice: JSON Lines with `premise`, `choice1`, `choice2`, `question`
// ("cause" or "effect") and `label` (0 or 1); `idx` (a number) and XCOPA's `changed` (a boolean) are
// type-checked and otherwise unused, other keys are ignored. Each example pairs
// text_a = "{premise} What was the {question}?" with each choice, the input XTREME's run_xcopa.py builds
// for COPA and XCOPA alike; label_names {"0", "1"}, as XTREME's submission writes the choice index.
//
// File names and languages: XCOPA's data/<lang>/{val,test}.<lang>.jsonl, XTREME's
// {train,val,test}-<lang>.jsonl, SuperGLUE's {train,val,test}.jsonl (English); ReadOptions.language
// overrides. `xcopa` needs a language from one of these; `copa` falls back to English.
//
// Unlabelled files: rows without `label` (SuperGLUE's test.jsonl) are read for prediction (labelled =
// false, label -1); a file mixing rows with and without is an error. XTREME's utils_preprocess.py sets
// every label of its test-<lang>.jsonl files to 0 (the labels are withheld): such a file (named test-*,
// every label 0) is read as unlabelled too, with a note, so no one scores against the zeros.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "tasks/datasets/readers.h"

namespace stilts::tasks::detail {

namespace fs = std::filesystem;

namespace {

// What a COPA-family file name says.
struct CopaName {
  std::string split;     // train, val, test
  std::string language;  // "" when the name has none
  bool xtreme = false;   // XTREME's "{split}-{lang}.jsonl"
};

bool is_code(std::string_view text) {
  if (text.size() < 2 || text.size() > 3) return false;
  for (char c : text) {
    if (c < 'a' || c > 'z') return false;
  }
  return true;
}

std::optional<CopaName> copa_name(const fs::path& path) {
  if (path.extension() != ".jsonl") return std::nullopt;
  const std::string stem = path.stem().string();
  const size_t cut = stem.find_first_of(".-");
  CopaName name;
  name.split = stem.substr(0, cut);
  if (name.split != "train" && name.split != "val" && name.split != "test") return std::nullopt;
  if (cut == std::string::npos) return name;
  const std::string code = stem.substr(cut + 1);
  if (!is_code(code)) return std::nullopt;
  name.language = code;
  name.xtreme = stem[cut] == '-';
  return name;
}

Dataset read_copa_family(const fs::path& path, const ReadOptions& options, bool xcopa) {
  const TextFile file = load_text_file(path);
  const auto name = copa_name(path);
  std::string language = options.language;
  if (language.empty() && name) language = name->language;
  if (language.empty()) {
    if (xcopa) {
      input_error(file.name, ": cannot tell the language from the file name (XCOPA names files "
                  "{val,test}.<lang>.jsonl, XTREME {train,val,test}-<lang>.jsonl): rename it or set the "
                  "language option");
    }
    language = "en";
  }

  Dataset dataset;
  dataset.multiple_choice = true;
  dataset.label_names = {"0", "1"};
  ReadReport& report = dataset.report;
  std::optional<bool> labelled;  // set by the first row
  int64_t first_line = 0;
  RowReader reader(file, '\n', Quoting::kNone);
  Row row;
  while (reader.next(row)) {
    if (row.fields[0].find_first_not_of(" \t") == std::string_view::npos) continue;
    ++report.rows;
    const nlohmann::json object = parse_json_object(file, row);
    const std::string premise = json_text_field(file, row.line, object, "premise");
    const std::string question = json_text_field(file, row.line, object, "question");
    if (question != "cause" && question != "effect") {
      input_error(file.name, ":", row.line, ": question '", question, "' is neither 'cause' nor 'effect'");
    }
    if (const auto idx = object.find("idx"); idx != object.end() && !idx->is_number_integer()) {
      input_error(file.name, ":", row.line, ": key 'idx' is ", idx->type_name(), ", expected an integer");
    }
    if (const auto changed = object.find("changed"); changed != object.end() && !changed->is_boolean()) {
      input_error(file.name, ":", row.line, ": key 'changed' is ", changed->type_name(), ", expected a boolean");
    }
    Example example;
    example.id = row_id(file, row.line);
    example.text_a = premise + " What was the " + question + "?";
    example.choices = {json_text_field(file, row.line, object, "choice1"),
                       json_text_field(file, row.line, object, "choice2")};
    example.language = language;
    const auto label = object.find("label");
    const bool has_label = label != object.end();
    if (!labelled) {
      labelled = has_label;
      first_line = row.line;
    } else if (*labelled != has_label) {
      input_error(file.name, ":", row.line, ": ", has_label ? "a row with a 'label'" : "a row without 'label'",
                  ", but line ", first_line, has_label ? " has none" : " has one",
                  ": a file is labelled throughout or not at all (a test file)");
    }
    if (has_label) {
      if (!label->is_number_integer() || (*label != 0 && *label != 1)) {
        input_error(file.name, ":", row.line, ": label ", label->dump(), " is not 0 or 1 (the right choice: "
                    "0 = choice1, 1 = choice2)");
      }
      example.label = label->get<int64_t>();
    }
    dataset.examples.push_back(std::move(example));
  }
  if (report.rows == 0) input_error(file.name, ": no rows");
  dataset.labelled = *labelled;
  if (dataset.labelled && name && name->xtreme && name->split == "test" &&
      std::all_of(dataset.examples.begin(), dataset.examples.end(), [](const Example& e) { return e.label == 0; })) {
    dataset.labelled = false;
    for (Example& example : dataset.examples) example.label = -1;
    report.notes.push_back(file.name + ": every label is 0, as XTREME's utils_preprocess.py writes its test "
                           "files (the gold labels are withheld): read as unlabelled");
  }
  report.kept = static_cast<int64_t>(dataset.examples.size());
  return dataset;
}

}  // namespace

Dataset read_xcopa(const fs::path& path, const ReadOptions& options) {
  return read_copa_family(path, options, /*xcopa=*/true);
}

Dataset read_copa(const fs::path& path, const ReadOptions& options) {
  return read_copa_family(path, options, /*xcopa=*/false);
}

}  // namespace stilts::tasks::detail
