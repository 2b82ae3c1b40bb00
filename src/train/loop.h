// The one optimisation loop every objective trains with: fine-tuning on a task kind (trainer.cpp) and
// masked-LM (pre)training (mlm.cpp). It owns what they share: micro-batches accumulated into steps,
// gradient clipping, the learning-rate schedule, the evaluation and checkpoint cadence, early stopping,
// the progress bar, divergence checks, the training cost, and the state a checkpoint holds so that a run
// killed at any moment resumes bit-identically. An objective supplies its batches and loss, its
// evaluation and what it writes.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/model.h"
#include "tasks/rank_rows.h"
#include "train/config.h"
#include "train/cost.h"
#include "train/evaluate.h"
#include "train/loss_scale.h"
#include "train/optimizer.h"
#include "train/run_dir.h"
#include "train/schedule.h"
#include "train/trainer.h"

namespace stilts::train {

// Where training stands: everything a checkpoint holds besides model, optimizer and generator.
struct LoopState {
  int64_t step = 0;     // optimizer steps done
  int64_t epoch = 0;    // epoch of the next batch
  int64_t batch = 0;    // index of the next batch in that epoch's order
  double loss_sum = 0;  // micro-batch losses since the last evaluation
  int64_t loss_count = 0;
  nlohmann::json history = nlohmann::json::array();  // evaluations so far
  int64_t best_step = -1;
  double best_score = std::numeric_limits<double>::quiet_NaN();
  int64_t evals_without_improvement = 0;
  bool stopped_early = false;
  TrainingCost cost;  // up to this state (the open segment's time is added when saving)
  // precision fp16: the dynamic loss scale and its clean-step count (0: no scaler).
  double loss_scale = 0;
  int64_t loss_scale_growth_tracker = 0;

  // trainer_state.json; `kind` tells objectives' states apart ("" for fine-tuning, "mlm").
  nlohmann::json to_json(uint64_t seed, int64_t total_steps, const std::string& kind) const;
  static LoopState from_json(const nlohmann::json& j, const std::string& source, const std::string& kind);
};

// One micro-batch's loss as an objective computes it (under the loop's autocast), with what the cost
// counts.
struct MicroBatch {
  torch::Tensor loss;
  int64_t rows = 0;           // examples (features) in the batch
  int64_t padded_length = 0;  // T of its [rows, T] inputs
  int64_t real_tokens = 0;
  // How many terms `loss` averages over (TaskKind::loss_weight, masked tokens); unset: `rows`.
  // Data-parallel ranks weigh their shards' losses by it (a shard of weight 0 adds nothing).
  std::optional<double> weight;
};

struct Objective {
  std::string state_kind;  // LoopState's kind
  // The batch order of an epoch (feature indices per batch). With a process group, each rank takes its
  // contiguous slice of every batch (rank r of N: rows [n·r/N, n·(r+1)/N)).
  std::function<std::vector<std::vector<size_t>>(int64_t epoch)> batches;
  // The loss of the batch `rows` of `epoch`. `rank_rows`: the rest of the global batch, given under
  // data-parallel ranks when `couples_rows` (else nullptr).
  std::function<MicroBatch(const std::vector<size_t>& rows, int64_t epoch, tasks::RankRows* rank_rows)> loss;
  // Whether a batch's loss couples its rows (TaskKind::couples_rows): then every rank's loss is the whole
  // global batch's, computed through `rank_rows`, and back-propagated as it is (each rank's gradient reaches
  // its own rows only); otherwise each rank's loss is its shard's, weighed by MicroBatch::weight.
  bool couples_rows = false;
  // Fills an evaluation entry (step, epoch, lr and train_loss are there) with the dev figures; sets
  // entry["score"] to the figure "best" and early stopping compare (absent or null: none).
  std::function<void(nlohmann::json& entry)> evaluate;
  bool higher_is_better = true;
  // Saves the best model (given only when the objective keeps one).
  std::function<void(const std::filesystem::path& dir, const nlohmann::json& entry)> save_best;
  // The evaluation's progress line after "eval step N:".
  std::function<std::string(const nlohmann::json& entry, const LoopState& state)> describe;
  // Writes metrics.json (finished or not) from the state; returns what it wrote.
  std::function<nlohmann::json(const LoopState& state, bool finished, const nlohmann::json& extra)> write_metrics;
};

// AdamW as the config sets it (lr, weight_decay, adam_beta1/2, adam_epsilon), HF's parameter groups.
std::unique_ptr<torch::optim::AdamW> make_optimizer(torch::nn::Module& model, const TrainConfig& config);

class TrainingLoop {
 public:
  // Sets up the schedule (steps per epoch from objective.batches(0)) and, with options.resume, restores
  // model, optimizer, generator and state from run.checkpoints' last checkpoint. The model is on
  // config.device already (the objective builds the optimizer after moving it); data-parallel training
  // on CUDA is an InputError (the gradients go through Gloo, which this build runs on CPU tensors).
  TrainingLoop(const TrainConfig& config, const TrainOptions& options, const RunDirectory& run,
               models::EncoderModel& model, torch::optim::AdamW& optimizer, Objective objective);
  const LoopState& state() const { return state_; }
  int64_t total_steps() const { return total_steps_; }
  int64_t warmup_steps() const { return warmup_; }
  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  // Trains to the end (or early stop), evaluating and checkpointing on the configured cadence.
  void run();
  // metrics.json with `extra` and "finished": true (after the final model is written).
  nlohmann::json finish(const nlohmann::json& extra);

 private:
  nlohmann::json evaluate();
  void checkpoint();
  void update_cost_time();

  const TrainConfig& config_;
  const TrainOptions& options_;
  const RunDirectory& run_;
  models::EncoderModel& model_;
  torch::optim::AdamW& optimizer_;
  Objective objective_;
  Precision precision_;
  torch::Device device_;
  std::unique_ptr<LossScaler> scaler_;  // precision fp16 only
  LrSchedule schedule_;
  int64_t batches_per_epoch_ = 0, steps_per_epoch_ = 0, total_steps_ = 0, warmup_ = 0;
  LoopState state_;
  int64_t committed_best_ = -1;  // the best checkpoint the latest last-* refers to: never pruned
  CostClock clock_;
  TrainingCost cost_base_;
};

}  // namespace stilts::train
