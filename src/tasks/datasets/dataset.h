// Labelled examples read from dataset files in their original distribution formats.
// Readers live one per format in src/tasks/datasets/<format>.cpp; `read_dataset` dispatches by name.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace stilts::tasks {

struct Example {
  std::string id;                     // the file's id column, else "<file>:<line>"
  std::string text_a;
  std::optional<std::string> text_b;  // second sentence of a pair task
  int64_t label = -1;                 // class index into Dataset::label_names (classification)
  double score = 0.0;                 // target value (regression)
  std::string language;               // ISO code ("en", "de", ...) where the file says or implies it
  // Token tagging: the sentence as words, and each word's tag (index into Dataset::label_names).
  // word_labels is empty when the file has no tags (XTREME's stripped test files: read for prediction).
  std::vector<std::string> words;
  std::vector<int64_t> word_labels;
  // Multiple choice: the candidate answers, each paired with text_a as the model's input
  // (text_a, choices[k]); `label` is the correct choice's index, -1 when the file gives none.
  std::vector<std::string> choices;
  // Extractive QA: text_a is the question, `context` the passage its answers are spans of, `answers`
  // the gold spans (several in dev and test files; empty when the file has none). An answer's `start`
  // counts Unicode code points from the start of the context, as SQuAD's answer_start does.
  std::string context;
  struct Answer {
    std::string text;
    int64_t start = -1;
  };
  std::vector<Answer> answers;
  // Retrieval: text_a is the query (a sentence, a question, a mention in its context) and `relevant` the
  // indices into Dataset::candidates of its gold answers (empty when the file has none). In a file of
  // query–positive pairs (training data, no candidate pool) text_b is the positive instead.
  std::vector<int64_t> relevant;
};

// Retrieval: one entry of the pool every query is ranked against (a Tatoeba English sentence, a LAReQA
// answer sentence with its paragraph, a Mewsli-X entity description).
struct Candidate {
  std::string id;        // what submissions and gold files name it by (Tatoeba: its line index)
  std::string text;      // the model's input, as the reference builds it from the file
  std::string language;  // "" when the file does not say
};

// What a reader did with the rows of a file.
struct ReadReport {
  int64_t rows = 0;                 // data rows seen (header excluded)
  int64_t kept = 0;
  int64_t skipped_placeholder = 0;  // e.g. PAWS-X "NS"/"ns"/"WL" rows
  int64_t skipped_malformed = 0;    // formats whose distribution has known broken rows (PAWS-X)
  std::vector<std::string> notes;   // first few skipped rows, "file:line: why"
};

struct Dataset {
  std::vector<Example> examples;
  std::vector<std::string> label_names;  // index = label id; empty for regression
  bool regression = false;
  bool pairs = false;                    // examples have text_b
  bool tagging = false;                  // examples are words with word_labels (label_names: the tag set)
  bool multiple_choice = false;          // examples have choices; label = index of the right one
  bool extractive_qa = false;            // examples are questions on a context, answered by spans of it
  // Retrieval: examples are queries ranked against `candidates` (each query's gold in `relevant`), or,
  // when `candidates` is empty, query–positive pairs (text_a, text_b) to train a dual encoder on.
  bool retrieval = false;
  std::vector<Candidate> candidates;
  // Extractive QA: how answers are compared, "squad" (SQuAD v1.1's normaliser: SQuAD, XQuAD, TyDiQA)
  // or "mlqa" (MLQA's, for each example's language).
  std::string answer_normalizer;
  bool labelled = true;                  // false: a file read for prediction only (no gold)
  std::string format;
  std::string source;                    // the path(s) read
  ReadReport report;
};

// Options for the generic formats (tsv, csv, jsonl) and for overriding what a path implies.
struct ReadOptions {
  // Overrides the language a reader infers ("" = infer). Files holding many languages (XNLI-1.0's
  // xnli.{dev,test}.tsv) keep only the rows in this language instead.
  std::string language;
  // Generic formats: column names (or 0-based indices as strings when there is no header).
  std::string text_a_column = "sentence1";
  std::string text_b_column;            // "" = single sentence
  std::string label_column = "label";
  std::string id_column;                // "" = "<file>:<line>"
  std::string language_column;          // "" = every row in `language`
  bool header = true;
  bool regression = false;
  // Generic: the label set in id order; empty = the distinct labels sorted (as numbers when all are
  // integers, else bytewise). xtreme-tagging: the tag set in id order (empty = inferred, see below).
  std::vector<std::string> label_names;
  // siqa: AI2's separate labels file (`dev-labels.lst`), one 1-based label ("1", "2", "3") a line, row
  // for row with the data file; "" = the labels are inline (`correct`) or absent. tatoeba (XTREME's
  // sorted <l>-en.<l> layout): XTREME's labels file, one 0-based English line index a line, row for row.
  std::string labels_file;
};

// The 17 Universal Dependencies UPOS tags in XTREME's UD-POS label order (its labels.txt: the tags
// sorted bytewise; XTREME's get_labels also puts a placeholder "O" first for unlabelled test words,
// which stilts has no need for, so XTREME's ids are these plus one). Every UD-POS reader maps tags
// through this list, so train, dev and test files of any language share ids.
const std::vector<std::string>& upos_tags();

// WikiANN/PAN-X's 7 IOB2 tags in XTREME's order (its labels.txt: sorted bytewise):
// B-LOC, B-ORG, B-PER, I-LOC, I-ORG, I-PER, O.
const std::vector<std::string>& panx_tags();

// Supported format names, as `stilts train --format` takes them.
std::vector<std::string> dataset_formats();

// Reads `path` (a file, or a directory for imdb) in `format`. InputError naming the file and row for
// a missing column, a label outside the label set, an empty file, invalid UTF-8, an unknown format.
Dataset read_dataset(const std::filesystem::path& path, const std::string& format, const ReadOptions& options = {});

}  // namespace stilts::tasks
