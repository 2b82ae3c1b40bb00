// The stage graph of an experiment: each (arm, seed) is a chain of training stages; a stage is keyed
// by a hash of everything that determines its output, so chains with the same prefix share stages
// (the intermediate model is trained once per seed and reused by every arm that starts with it).
//
// A stage's key is the SHA-256 over (canonical JSON):
//   - the base model: for every regular file of the model directory, its absolute path, size and
//     modification time (not its content: hashing GBs of weights on every run is too slow; a model
//     copied elsewhere or touched counts as a new model);
//   - the upstream stage's key instead, for a stage that continues from another;
//   - the task's data: the SHA-256 of the content of the train and dev files the stage reads (for an
//     evaluation-only stage, of the dev and test files it evaluates on);
//   - the stage's resolved TrainConfig (hyper-parameters, task kind, format, reading keys, seed),
//     without the keys that don't change results (log_every, cache_dir) and without paths.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/experiment_config.h"
#include "train/config.h"

namespace stilts::pipeline {

struct StageNode {
  std::string key;       // hex SHA-256
  std::string name;      // the [stages.NAME] it runs
  std::string task;      // its task's name
  std::string arm;       // the first arm that needs it
  std::vector<std::string> arms;  // every arm whose chain contains it
  int64_t seed = 0;
  std::string language;  // the language a per-language stage trains in (and is evaluated in); "" = shared
  std::string upstream;  // key of the stage it continues from; "" = the base model
  train::TrainConfig config;  // model = "" (runner fills the base model or upstream dir), out = ""
  bool evaluated = false;     // the last stage of some chain: evaluated in every language
  bool evaluation_only = false;  // its task has no train file: evaluates the upstream (or base) model
};

struct Chain {
  std::string arm;
  int64_t seed = 0;
  std::string language;  // in-language / translate-train chains: the language; "" = zero-shot
  std::vector<std::string> keys;  // stages in order; keys.back() is the target stage
  const std::string& target() const { return keys.back(); }
};

struct StageGraph {
  std::vector<StageNode> nodes;  // each distinct stage once, upstream before downstream (seed-major)
  std::vector<Chain> chains;     // per (seed, arm, chain of the arm), and per language for chains with a
                                 // per-language stage
  const StageNode& node(const std::string& key) const;
};

// Builds the graph (hashing the model directory's file metadata and the data files' content).
StageGraph build_stage_graph(const ExperimentConfig& config);

// The short form of a key for logs and listings.
inline std::string short_key(const std::string& key) { return key.substr(0, 12); }

}  // namespace stilts::pipeline
