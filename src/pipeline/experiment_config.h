// The experiment config: one TOML file describing a whole study (arms x seeds, each arm a chain of
// training stages over named tasks, evaluated zero-shot in every language).
//
//   [experiment]  name, seeds = [1, 2], languages = ["en", "de"], train_language = "en",
//                 transfer = "zero-shot" | "in-language" | "translate-train"
//   [model]       path = "models/bert"                 (an HF-layout directory)
//   [tasks.NAME]  kind, format, train, dev, test        ("{lang}" expands: train with train_language,
//                                                        dev/test with every language), and the data
//                                                        reading keys of TrainConfig (text_a_column, ...).
//                                                        A dev/test folder path ending in "/" is read once
//                                                        per language, the reader picking the language's
//                                                        files (Tatoeba's LASER folder).
//                                                        `languages` overrides the experiment's list for
//                                                        the task's dev/test files (a benchmark's tasks
//                                                        each have their own). A task without `train` is
//                                                        evaluation-only.
//   [stages.NAME] task = "NAME", and any TrainConfig key (epochs | max_steps, lr, batch_size,
//                 max_length, head = auto|reinit|reuse, ...) except those the experiment sets (model,
//                 task kind, train, dev, format, out, seed)
//   [arms]        NAME = ["stage", "stage", ...]          one chain; its last stage is the arm's target
//                 NAME = [["stage", ...], ["stage", ...]] several chains, each ending in a target (a
//                                                        benchmark: one target per task)
//   [bench]       what `stilts run` measures on every arm's final model (see BenchSpec)
//
// A stage on an evaluation-only task trains nothing: it evaluates the model of the stage before it
// (the base model when it comes first), so it ends its chain. XTREME-R's Tatoeba is one: the
// sentence embeddings of whatever encoder the chain produced (a SQuAD or an MNLI model).
// Identical chains (in one arm or across arms) are the same stages: trained and evaluated once.
//
// Cross-lingual transfer (experiment.transfer):
//   zero-shot        every stage trains on its task's train file in train_language; the final model is
//                    evaluated on every language's dev and test files.
//   in-language      a stage whose task's train pattern holds {lang} is trained once per language, on that
//                    language's train (and dev) files, and evaluated in that language only; the stages
//                    before it are shared by every language.
//   translate-train  as in-language, but languages other than train_language train on the task's
//                    translate_train pattern (e.g. PAWS-X's {lang}/translated_train.tsv).
// Layering: struct defaults < the file < `--set dotted.key=value` (e.g. stages.target.epochs=1).
// Relative paths in the file resolve against the file's folder, those in --set against the working
// directory. Unknown keys are InputErrors naming the key.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/config.h"

namespace stilts::pipeline {

struct TaskSpec {
  std::string name;
  std::string kind = "pair-classification";  // pair-classification | classification | regression
  std::string format = "tsv";                // see tasks::dataset_formats()
  std::string train;                         // may hold {lang}
  std::string translate_train;               // translate-train's file for languages but train_language
  std::vector<std::string> dev;              // each may hold {lang}
  std::vector<std::string> test;
  std::vector<std::string> languages;        // what {lang} expands to in dev/test; empty: the experiment's
  nlohmann::json read = nlohmann::json::object();  // data-reading TrainConfig keys (text_a_column, ...)

  // No train file: stages on it evaluate the model they are given and train nothing.
  bool evaluation_only() const { return train.empty(); }

  // A file pattern with {lang} replaced by `language`.
  static std::string expand(const std::string& pattern, const std::string& language);

  // Whether a dev/test pattern is read once per language: it holds {lang}, or it is a folder (ends in
  // "/") whose reader picks each language's files. Any other pattern is read once.
  static bool read_per_language(const std::string& pattern);
};

struct StageSpec {
  std::string name;
  std::string task;                                    // a key of ExperimentConfig::tasks
  nlohmann::json settings = nlohmann::json::object();  // TrainConfig keys
};

// What `stilts run` benchmarks on each arm's final model: inference on every evaluated language's test
// data (its own lengths, dynamic padding), at each batch size, interleaving the arms' models.
struct BenchSpec {
  bool enabled = true;
  std::string mode = "fp32";                     // fp32 | bf16 | int8
  std::vector<int64_t> batch_sizes = {1, 8, 32};
  int64_t threads = 0;                           // 0 = the mode's measured default
  int64_t max_examples = 256;                    // per language: the first N test examples
  double min_time_s = 0.5;                       // per setting and model, after warm-up
  int64_t min_repetitions = 10;
};

// An arm: its chains of stage names, each chain's last stage a target evaluated in every language.
struct ArmSpec {
  std::string name;
  std::vector<std::vector<std::string>> chains;
};

enum class Transfer { kZeroShot, kInLanguage, kTranslateTrain };
const char* transfer_name(Transfer t);

struct ExperimentConfig {
  std::string name = "experiment";
  std::vector<int64_t> seeds = {1};
  std::vector<std::string> languages;  // what {lang} expands to in dev/test
  std::string train_language = "en";   // what {lang} expands to in train (zero-shot transfer)
  Transfer transfer = Transfer::kZeroShot;
  std::string model_path;
  std::map<std::string, TaskSpec> tasks;
  std::map<std::string, StageSpec> stages;
  std::vector<ArmSpec> arms;  // in the file's order
  BenchSpec bench;
  std::filesystem::path source;  // the config file ("" when built in memory)

  // InputError naming the key: arms naming missing stages, stages naming missing tasks, bad stage
  // settings (through TrainConfig::validate), no seeds, duplicate seeds, {lang} with no languages...
  void validate() const;

  // The TrainConfig of `stage` for `seed`: model, out and cache_dir left for the runner to fill.
  // `language` (per-language stages only, see per_language()) picks the train and dev files.
  train::TrainConfig stage_config(const std::string& stage, int64_t seed, const std::string& language = "") const;

  // Whether `stage` only evaluates (its task has no train file).
  bool evaluation_only(const std::string& stage) const;

  // Whether `stage` is trained once per language (in-language / translate-train, train pattern with {lang}).
  bool per_language(const std::string& stage) const;

  // The languages a task is evaluated in: its own list, else the experiment's.
  const std::vector<std::string>& languages_of(const TaskSpec& task) const;

  // Languages a task's dev/test file patterns are evaluated in: languages_of(task) for patterns read
  // per language (TaskSpec::read_per_language; only `language` when given); another pattern is
  // evaluated once (language as the reader infers it).
  std::vector<std::pair<std::string, std::string>> eval_files(const TaskSpec& task, const std::string& split,
                                                              const std::string& language = "") const;

  // The resolved config as JSON (same shape as the TOML file; paths absolute).
  nlohmann::json to_json() const;
};

// Parses a config from its JSON form (the TOML file as JSON). `source` names it in errors.
ExperimentConfig parse_experiment(const nlohmann::json& j, const std::string& source);

// Applies `dotted.key=value` to the JSON form of a config (the value parsed as JSON when it parses,
// else a string). Path values are made absolute against the working directory.
void apply_experiment_setting(nlohmann::json& j, const std::string& assignment);

// Reads a .toml (or .json) file, resolves its relative paths against its folder, applies `settings`,
// parses and validates.
ExperimentConfig load_experiment(const std::filesystem::path& path, const std::vector<std::string>& settings = {});

}  // namespace stilts::pipeline
