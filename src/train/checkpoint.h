// Training checkpoints: atomic directories under <run>/checkpoints/.
//
//   last-<step>/  everything to continue exactly: model (HF layout: config.json + model.safetensors),
//                 optimizer.safetensors (AdamW state by parameter name), rng.safetensors (torch's CPU
//                 generator), trainer_state.json (step, data position, seed, best so far, metrics
//                 history) — written last.
//   best-<step>/  the model of the best evaluation so far (HF layout) + eval.json.
//
// A checkpoint is built in a temp directory (.tmp-*), every file fsynced, then renamed into place and
// the folder fsynced, so a directory named last-*/best-* is always complete. Older ones are removed
// only after the newer one is in place.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/model.h"

namespace stilts::train {

struct CheckpointRef {
  std::filesystem::path dir;
  int64_t step = 0;
};

// Checkpoints of `kind` ("last" | "best") in `checkpoints_dir`, oldest first.
std::vector<CheckpointRef> list_checkpoints(const std::filesystem::path& checkpoints_dir, const std::string& kind);
std::optional<CheckpointRef> latest_checkpoint(const std::filesystem::path& checkpoints_dir, const std::string& kind);

// Creates <kind>-<step> atomically: `fill` writes the files into a fresh temp directory; a checkpoint
// of the same name (from a run that was killed and is being replayed) is replaced.
std::filesystem::path commit_checkpoint(const std::filesystem::path& checkpoints_dir, const std::string& kind,
                                        int64_t step, const std::function<void(const std::filesystem::path&)>& fill);

// Removes checkpoints of `kind` other than those whose step is in `keep`.
void prune_checkpoints(const std::filesystem::path& checkpoints_dir, const std::string& kind,
                       const std::vector<int64_t>& keep);

// Removes temp directories left by a killed run.
void remove_temp_checkpoints(const std::filesystem::path& checkpoints_dir);

void fsync_directory(const std::filesystem::path& dir);

// The files of a last-* checkpoint (into `dir`), and restoring them: weights into `model`, the AdamW
// state into `optimizer` (which must be built over `model`), the CPU generator's state; returns the
// trainer state. Errors name the checkpoint's files.
void write_training_state(const std::filesystem::path& dir, models::EncoderModel& model,
                          torch::optim::AdamW& optimizer, const nlohmann::json& trainer_state);
nlohmann::json read_training_state(const std::filesystem::path& dir, models::EncoderModel& model,
                                   torch::optim::AdamW& optimizer);

// Copies the weights of an HF-layout directory written by save_pretrained into `model` (strictly).
void load_model_weights(const std::filesystem::path& dir, models::EncoderModel& model);

}  // namespace stilts::train
