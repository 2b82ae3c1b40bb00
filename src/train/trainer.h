// The fine-tuning loop: a model with a task head trained on one dataset, evaluated on dev sets,
// checkpointed so that a run killed at any moment and resumed ends bit-identical to one that was not
// (same machine and thread count).
//
// Determinism: the data order is a pure function of (seed, epoch) (tasks::bucketed_batches); dropout
// draws from torch's CPU generator, whose state every checkpoint holds with the position in the data
// order; the learning rate is a function of the step; nothing depends on wall-clock time.
//
// The run directory (config.out):
//   config.resolved.json  the configuration after defaults, file and command line
//   checkpoints/          last-<step>/ (everything to continue) and best-<step>/ (best dev model)
//   metrics.json          every evaluation (step, epoch, train loss, dev metrics per file and language),
//                         best and final; "finished": true once the run is complete (written last)
//   config.json, model.safetensors, tokenizer files: the final model (final_model: best or last) in
//                         Hugging Face layout, with the dataset's label names as id2label
#pragma once

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "train/config.h"

namespace stilts::train {

// The loss or the gradient norm became NaN or infinite. Nothing is written after it: the last
// checkpoint stays as it was.
class TrainingDiverged : public Error {
 public:
  using Error::Error;
};

class ProcessGroup;  // train/distributed.h

struct TrainOptions {
  bool resume = false;       // continue from the last checkpoint in config.out (or start if there is none)
  std::ostream* log = &std::cerr;
  int tty = -1;              // progress bar: 1 yes, 0 plain lines, -1 when stderr is a terminal
  // Data-parallel training (launched the torchrun way): every rank runs run_training with its member of
  // the group; each takes its shard of every batch, gradients are summed over the ranks, and only rank 0
  // writes (run directory, checkpoints, metrics, the model). Null: one process.
  std::shared_ptr<ProcessGroup> group;
};

struct TrainOutcome {
  bool already_finished = false;  // --resume on a finished run: nothing was done
  int64_t steps = 0;
  std::filesystem::path out;
  nlohmann::json metrics;         // metrics.json's content
};

// Runs (or resumes) the training `config` describes. InputError for bad configs, data and model
// directories, and for an output directory that holds another run (a finished one without
// options.resume, an unfinished one without it); TrainingDiverged on a non-finite loss.
TrainOutcome run_training(const TrainConfig& config, const TrainOptions& options = {});

}  // namespace stilts::train
