// The official XTREME / XTREME-R scorer: google-research/xtreme's evaluate.py, number for number.
//
// A submission is two folders in the same layout, <labels>/<task>/test-<language>.<extension> and
// <predictions>/<task>/test-<language>.<extension>. Per task and language the scorer reads both files
// as evaluate.py does and computes the task's metrics (as percentages):
//   pawsx, xnli, tatoeba   accuracy: identical stripped lines / lines                   (.tsv)
//   xcopa                  accuracy over the "label" of each JSON line                    (.jsonl)
//   udpos, panx            seqeval f1, precision, recall (eval/seqeval.h) over sentences
//                          (one tag per line, a blank line ends a sentence)                (.tsv)
//   bucc2018               f1, precision, recall of the set of gold pair lines             (.tsv)
//   xquad, tydiqa          exact_match, f1 with SQuAD v1.1's normaliser (eval/squad.h)     (.json)
//   mlqa                   exact_match, f1 with MLQA's normaliser for the language         (.json)
//   mewslix                map@20: mean reciprocal rank of the gold entity in the top 20   (.json)
//   lareqa                 map@20: mean average precision at 20 (stilts' own, see below)  (.json)
// Labels for QA are SQuAD JSON ({"data": [articles]}); QA predictions {question id: answer text};
// Mewsli-X both {mention id: [entity ids]} (gold: one id, predictions: best first).
//
// LAReQA is part of XTREME-R but evaluate.py has no reader or metric for it (and lists no languages
// for it), so the official script can never give XTREME-R's all_task. stilts scores it itself, and
// says so: TaskResult::official is false, the evaluate.py-style document gains a "stilts_own_scorers"
// entry, and the text output marks the task and every score that includes it. Its layout, mirroring
// Mewsli-X's (XTREME-R defines none):
//   labels/lareqa/test-<lang>.json       {question uid: [relevant candidate uids]}
//   predictions/lareqa/test-<lang>.json  {question uid: [candidate uids, best first]}
// for XQuAD-R's 11 languages ar de el en es hi ru th tr vi zh (a file holds the questions in <lang>;
// candidates come from the pool of all languages). The metric is xtreme's
// third_party/utils_lareqa.py mean_avg_prec_at_k with k = 20, times 100: per gold question,
//   AP@20 = sum over the first 20 predictions that are relevant and not already seen higher up of
//           (relevant hits so far) / (1-based rank), divided by min(20, #distinct relevant);
// map@20 is the mean over the gold file's questions. A question without predictions scores 0 and
// still counts; predicted question uids not in the gold are ignored; a gold question with no relevant
// candidate is an error (utils_lareqa would divide by zero). The reference ranks a score vector, so
// its ties are numpy's argsort order; here the submitted order is the ranking. The reference averages
// over the questions of all languages at once, this scorer per language and then over languages (as
// evaluate.py does for every task); XQuAD-R has the same number of questions in every language, so
// the two agree up to rounding.
//
// XTREME-R's groups are evaluate.py's table as it stands: retrieval is tatoeba and mewslix (lareqa
// is in no group), xcopa counts in classification and multi_choice; lareqa enters only all_task.
//
// Per task: avg_<metric> is the unweighted mean over languages, and avg_metric is (avg_exact_match +
// avg_f1) / 2 for the QA group, else avg_f1, avg_accuracy or avg_map@20 (the first present). Group
// scores and all_task are unweighted means of the tasks' avg_metric.
//
// Where the official script raises on a missing file, this one scores what is present and names
// what is missing: a task's averages are then over its present languages, and a group (or the
// overall score) is given only when every language of every task it needs is present.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace stilts::eval {

// (name, value) pairs in the order evaluate.py produces them.
using NamedValues = std::vector<std::pair<std::string, double>>;

// Scores one language: the gold file against the predictions file. `language` is the two-letter code
// (MLQA's normaliser needs it; other tasks ignore it). Unreadable files, bad JSON and mismatched
// line or sentence counts throw InputError naming the file and line.
using TaskScorer = std::function<NamedValues(const std::filesystem::path& gold,
                                             const std::filesystem::path& predictions,
                                             const std::string& language)>;

// One row of the task table: adding a task is adding a row (and listing it in a benchmark).
struct XtremeTask {
  std::string name;       // the task's folder in the submission layout
  std::string extension;  // files are test-<language>.<extension>
  TaskScorer score;
  bool official = true;   // false: evaluate.py cannot score the task and the metric is stilts' (lareqa)
};

// Every task evaluate.py knows, in its order.
const std::vector<XtremeTask>& xtreme_tasks();
// The task named `name`; InputError listing the known names otherwise.
const XtremeTask& xtreme_task(std::string_view name);

struct XtremeGroup {
  std::string name;  // classification, tagging, qa, retrieval (, multi_choice)
  std::vector<std::string> tasks;
};

struct XtremeBenchmark {
  std::string name;  // "xtreme" or "xtreme-r"
  std::vector<std::pair<std::string, std::vector<std::string>>> task_languages;  // task -> languages
  std::vector<XtremeGroup> groups;  // XTREME-R counts xcopa in classification and multi_choice
};

// "xtreme" or "xtreme-r"; InputError otherwise.
const XtremeBenchmark& xtreme_benchmark(std::string_view name);

// evaluate.py's evaluate_one_task: one task's gold file against a predictions file.
NamedValues score_task_files(std::string_view task, const std::filesystem::path& gold,
                             const std::filesystem::path& predictions, const std::string& language = "");

struct LanguageScores {
  std::string language;
  NamedValues metrics;
};

struct TaskResult {
  std::string task;
  bool official = true;                  // false for lareqa: scored by stilts, not by evaluate.py
  std::vector<std::string> metrics;      // metric names, e.g. {"f1", "precision", "recall"}
  std::vector<LanguageScores> languages;  // scored languages, in the benchmark's language order
  NamedValues averages;                  // avg_<metric> for each metric, then avg_metric
  std::optional<double> avg_metric;      // absent when no language was scored
  std::vector<std::string> missing_languages;  // required languages lacking a gold or prediction file
  std::vector<std::filesystem::path> missing_files;  // those files (prediction, then gold, per language)

  bool complete() const { return missing_languages.empty(); }
};

struct GroupResult {
  std::string name;
  std::vector<std::string> tasks;
  std::optional<double> score;  // only when every task of the group is complete
};

struct BenchmarkResult {
  std::string benchmark;
  std::vector<TaskResult> tasks;   // every task of the benchmark, in its order
  std::optional<double> all_task;  // only when every task of the benchmark is complete
  std::vector<GroupResult> groups;

  bool complete() const { return all_task.has_value(); }
  // Scored tasks (at least one language) whose metric is stilts' own rather than evaluate.py's.
  std::vector<std::string> unofficial_tasks() const;
};

// evaluate.py's evaluate(predictions, labels, version) on the two folders; InputError when a folder
// is missing or a present file cannot be scored.
BenchmarkResult score_benchmark(std::string_view benchmark, const std::filesystem::path& labels_dir,
                                const std::filesystem::path& predictions_dir);

// The document `evaluate.py --output_file` writes: the overall scores (all_task, then the groups that
// have one), then per scored task {metric: {language: value}, avg_<metric>: ..., avg_metric: ...}, in
// evaluate.py's key order. Tasks with missing languages are included with their partial averages
// (the official script would have stopped); missing_report() names what is missing. When a task with
// stilts' own scorer was scored, a last key "stilts_own_scorers" {task: what its metric is} says so.
nlohmann::ordered_json to_evaluate_json(const BenchmarkResult& result);
// Metric -> value, as evaluate_one_task returns it.
nlohmann::ordered_json to_json(const NamedValues& values);

// One line per incomplete task naming its missing languages (and unscorable tasks), plus a line per
// group and for the overall score that could not be computed; empty when complete.
std::vector<std::string> missing_report(const BenchmarkResult& result);

// A readable table: per task its averages and per-language main metric; then group and overall
// scores ("-" where missing). Two decimals, as evaluate.py prints.
std::string format_benchmark(const BenchmarkResult& result);
std::string format_task_scores(std::string_view task, const NamedValues& values);

}  // namespace stilts::eval
