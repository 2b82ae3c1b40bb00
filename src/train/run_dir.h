// The output directory of a training run, shared by stilts train (trainer.cpp) and stilts pretrain
// (mlm.cpp): a fresh directory, a run to resume, or a finished run accepted as done.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "train/config.h"
#include "train/trainer.h"

namespace stilts::train {

// `config` with model, train, dev, out and cache_dir made absolute (config.resolved.json records them).
TrainConfig with_absolute_paths(TrainConfig config);

struct RunDirectory {
  std::filesystem::path out;          // config.out
  std::filesystem::path checkpoints;  // out/checkpoints
  std::filesystem::path metrics;      // out/metrics.json
  // metrics.json of a run that finished before (accepted with resume): nothing was locked or written.
  std::optional<nlohmann::json> finished;
  std::unique_ptr<DirectoryLock> lock;  // held while the run trains
};

// Opens config.out (paths already absolute) for training:
//   - a finished run: InputError without `resume`, else returned with `finished` set;
//   - an existing non-empty directory without `resume`: InputError;
//   - otherwise the directory is created and locked (InputError `busy_message` while another process
//     holds it), temporary checkpoints a killed run left are removed, and config.resolved.json is
//     compared with `config` on resume (InputError listing every changed key except log_every and
//     cache_dir, which do not change results) and then written.
RunDirectory open_run_directory(const TrainConfig& config, bool resume, const std::string& busy_message);

// open_run_directory for a run of `options` (resume, process group): with a process group only rank 0
// opens (locks, checks, writes) the directory; the others get its paths, wait for rank 0's verdict and
// learn from it whether the run had finished before.
RunDirectory open_run_directory(const TrainConfig& config, const TrainOptions& options,
                                const std::string& busy_message);

// What training returns for a run that finished before (run.finished set): already_finished, with the
// run's steps and metrics.
TrainOutcome finished_outcome(const RunDirectory& run);

// The error that stops a diverged run, saying what became non-finite (`what` is e.g. "the loss",
// `value` its NaN or infinite value), where (step, epoch, batch, learning rate), which checkpoint in
// `checkpoints` is the last good one, and what to try.
TrainingDiverged diverged_error(const std::string& what, double value, int64_t step, int64_t epoch, int64_t batch,
                                double lr, const std::filesystem::path& checkpoints, bool bf16);

}  // namespace stilts::train
