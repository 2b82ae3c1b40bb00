// Running an experiment's stage graph into a run directory:
//
//   RUN_DIR/experiment.resolved.json   the config after defaults, file and --set (paths absolute)
//   RUN_DIR/results.sqlite             results and stages tables (see results_store.h)
//   RUN_DIR/stages/<key>/              one stage: the trainer's run directory (final model in HF layout,
//                                      checkpoints/, metrics.json), eval.json (the per-language
//                                      evaluation of a target stage) and stage.json, the done marker,
//                                      written atomically last. An evaluation-only stage holds eval.json
//                                      and stage.json only: its model is its upstream stage's.
//
// RUN_DIR/claims/<key>              the claim of a stage a worker is running (pipeline/claims.h)
//
// A stage whose stage.json exists is skipped; an unfinished one is resumed from its last checkpoint
// (the trainer's exact resume), so a run killed at any moment and started again ends with the same
// results as one that was not. Each target stage (the last of an arm) is evaluated zero-shot on every
// language's dev and test files into its eval.json.
//
// Several workers may share the run directory: each claims a ready stage (its upstream stage done, no
// live worker holding it), runs it, and looks again; with nothing ready it waits for the others. When
// every stage is done, one worker (holding RUN_DIR/.lock) writes results.sqlite from the stage
// directories, one transaction per (arm, seed) and stage, and measures efficiency. Only that worker
// writes the database (besides a best-effort "failed" stage row), so workers on several hosts never
// write SQLite at once over a network filesystem, where its locks and WAL are not to be trusted.
#pragma once

#include <cstddef>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "pipeline/experiment_config.h"
#include "pipeline/stage_graph.h"

namespace stilts::train {
class ProcessGroup;  // train/distributed.h
}

namespace stilts::pipeline {

struct RunOptions {
  std::filesystem::path out;             // the run directory
  bool dry_run = false;                  // print the stage graph to `listing` and return
  std::ostream* log = &std::cerr;        // progress and the trainer's log
  std::ostream* listing = &std::cout;    // --dry-run output
  int tty = -1;                          // the trainer's progress bar: 1 yes, 0 plain lines, -1 auto
  // Several workers (processes, hosts on a shared filesystem) may run one study in one run directory
  // at once: see pipeline/claims.h. A claim whose holder on another host sent no heartbeat for
  // claim_timeout_s is taken over; a worker with nothing to claim looks again every poll_s.
  double claim_timeout_s = 600;
  double poll_s = 1.0;
  // When every stage is finished, write results.sqlite and the efficiency figures (false: a worker
  // that only trains, as `stilts run --workers N` starts them; the parent writes the results).
  bool finish = true;
  // Launched the torchrun way (WORLD_SIZE > 1): the ranks of `group` act as one worker. Rank 0 walks
  // the graph, claims stages and tells the others (a broadcast over the group) which stage to train,
  // to wait, or to stop; every rank trains each stage data-parallel as stilts train does, and rank 0
  // alone evaluates and writes (stage directories, claims, results.sqlite). Null: one process.
  std::shared_ptr<train::ProcessGroup> group;
};

struct RunSummary {
  size_t stages = 0;   // distinct stages in the graph
  size_t cached = 0;   // finished before this run
  size_t trained = 0;  // finished by this run (started fresh or resumed)
  size_t result_rows = 0;
  bool wrote_results = false;  // this process wrote results.sqlite (false: another worker does, or !finish)
};

enum class StageState { kDone, kPartial, kPending };

std::filesystem::path stage_dir(const std::filesystem::path& run_dir, const std::string& key);
// `has_model`: the stage trains (its directory must hold the model to count as done).
StageState stage_state(const std::filesystem::path& run_dir, const std::string& key, bool has_model = true);
StageState stage_state(const std::filesystem::path& run_dir, const StageNode& node);
// The directory of the model a stage's evaluation reads: its own, its upstream's for an
// evaluation-only stage, or the base model's (a hub id resolved in the cache).
std::filesystem::path model_dir_of(const ExperimentConfig& config, const StageGraph& graph,
                                   const std::filesystem::path& run_dir, const StageNode& node);

// Runs (or with dry_run, lists) the experiment. InputError for bad configs, data and models;
// the trainer's errors pass through (the stage row is marked failed first).
RunSummary run_experiment(const ExperimentConfig& config, const RunOptions& options);

}  // namespace stilts::pipeline
