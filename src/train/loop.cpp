#include "train/loop.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>

#include "common/error.h"
#include "eval/metrics.h"
#include "train/checkpoint.h"
#include "train/device.h"
#include "train/distributed.h"
#include "train/progress.h"

namespace stilts::train {

namespace fs = std::filesystem;

namespace {
constexpr int kStateVersion = 1;
}  // namespace

nlohmann::json LoopState::to_json(uint64_t seed, int64_t total_steps, const std::string& kind) const {
  nlohmann::json j = {{"version", kStateVersion},
                      {"seed", seed},
                      {"total_steps", total_steps},
                      {"step", step},
                      {"epoch", epoch},
                      {"batch", batch},
                      {"loss_sum", loss_sum},
                      {"loss_count", loss_count},
                      {"history", history},
                      {"best_step", best_step},
                      {"best_score", eval::is_defined(best_score) ? nlohmann::json(best_score) : nlohmann::json()},
                      {"evals_without_improvement", evals_without_improvement},
                      {"stopped_early", stopped_early},
                      {"cost", cost.to_json()}};
  if (!kind.empty()) j["kind"] = kind;
  if (loss_scale > 0) {
    j["loss_scale"] = loss_scale;
    j["loss_scale_growth_tracker"] = loss_scale_growth_tracker;
  }
  return j;
}

LoopState LoopState::from_json(const nlohmann::json& j, const std::string& source, const std::string& kind) {
  try {
    if (j.at("version").get<int>() != kStateVersion || j.value("kind", std::string()) != kind) {
      input_error(source, ": not a stilts ", kind.empty() ? "fine-tuning" : kind, " trainer state of version ",
                  kStateVersion);
    }
    LoopState s;
    s.step = j.at("step").get<int64_t>();
    s.epoch = j.at("epoch").get<int64_t>();
    s.batch = j.at("batch").get<int64_t>();
    s.loss_sum = j.at("loss_sum").get<double>();
    s.loss_count = j.at("loss_count").get<int64_t>();
    s.history = j.at("history");
    s.best_step = j.value("best_step", int64_t{-1});
    if (j.contains("best_score") && !j.at("best_score").is_null()) s.best_score = j.at("best_score").get<double>();
    s.evals_without_improvement = j.value("evals_without_improvement", int64_t{0});
    s.stopped_early = j.value("stopped_early", false);
    s.cost = TrainingCost::from_json(j.value("cost", nlohmann::json()));
    s.loss_scale = j.value("loss_scale", 0.0);
    s.loss_scale_growth_tracker = j.value("loss_scale_growth_tracker", int64_t{0});
    return s;
  } catch (const nlohmann::json::exception& e) {
    input_error(source, ": not a stilts trainer state (", e.what(), ")");
  }
}

std::unique_ptr<torch::optim::AdamW> make_optimizer(torch::nn::Module& model, const TrainConfig& config) {
  return make_adamw(model, {config.lr, config.weight_decay, config.adam_beta1, config.adam_beta2, config.adam_epsilon});
}

TrainingLoop::TrainingLoop(const TrainConfig& config, const TrainOptions& options, const RunDirectory& run,
                           models::EncoderModel& model, torch::optim::AdamW& optimizer, Objective objective)
    : config_(config),
      options_(options),
      run_(run),
      model_(model),
      optimizer_(optimizer),
      objective_(std::move(objective)),
      precision_(parse_precision(config.precision)),
      device_(parse_device(config.device, "config: 'device' (--device)", options.group.get())),
      schedule_(parse_lr_schedule(config.lr_schedule)) {
  if (precision_ == Precision::kFp16) {
    if (!device_.is_cuda()) {
      input_error("precision fp16 needs --device cuda (libtorch's CPU autocast is bf16 only): use bf16 on the CPU");
    }
    scaler_ = std::make_unique<LossScaler>();
  }
  batches_per_epoch_ = static_cast<int64_t>(objective_.batches(0).size());
  steps_per_epoch_ = (batches_per_epoch_ + config.grad_accum_steps - 1) / config.grad_accum_steps;
  total_steps_ = config.max_steps > 0 ? config.max_steps : config.epochs * steps_per_epoch_;
  warmup_ = resolve_warmup_steps(config.warmup_steps, config.warmup_ratio, total_steps_);

  std::ostream& log = *options.log;
  if (options.resume) {
    if (const auto last = latest_checkpoint(run.checkpoints, "last")) {
      const nlohmann::json saved = read_training_state(last->dir, model, optimizer);
      const std::string source = (last->dir / "trainer_state.json").string();
      state_ = LoopState::from_json(saved, source, objective_.state_kind);
      if (saved.value("seed", uint64_t{0}) != config.seed || saved.value("total_steps", int64_t{-1}) != total_steps_) {
        input_error(source, ": the checkpoint was made with seed ", saved.value("seed", uint64_t{0}), " and ",
                    saved.value("total_steps", int64_t{-1}), " steps; this run has seed ", config.seed, " and ",
                    total_steps_, " steps");
      }
      committed_best_ = state_.best_step;
      if (scaler_ && state_.loss_scale > 0) scaler_->restore(state_.loss_scale, state_.loss_scale_growth_tracker);
      log << "resuming from " << last->dir.string() << " (step " << state_.step << "/" << total_steps_ << ", epoch "
          << state_.epoch << ", batch " << state_.batch << ")\n";
    } else {
      log << "no checkpoint in " << run.checkpoints.string() << ": starting from the beginning\n";
    }
  }
  // Time spent from here on is added to the cost carried in the checkpoint.
  clock_ = CostClock();
  cost_base_ = state_.cost;
}

void TrainingLoop::update_cost_time() {
  state_.cost.wall_s = cost_base_.wall_s + clock_.wall_s();
  state_.cost.cpu_s = cost_base_.cpu_s + clock_.cpu_s();
}

nlohmann::json TrainingLoop::evaluate() {
  const int64_t previous = std::max<int64_t>(0, state_.step - 1);
  nlohmann::json entry = {{"step", state_.step},
                          {"epoch", static_cast<double>(state_.step) / static_cast<double>(steps_per_epoch_)},
                          {"lr", config_.lr * lr_factor(schedule_, previous, warmup_, total_steps_)}};
  entry["train_loss"] = state_.loss_count > 0
                            ? nlohmann::json(state_.loss_sum / static_cast<double>(state_.loss_count))
                            : nlohmann::json();
  state_.loss_sum = 0;
  state_.loss_count = 0;
  objective_.evaluate(entry);
  if (!objective_.save_best || !entry.contains("score")) return entry;
  const double score = entry["score"].is_null() ? NAN : entry["score"].get<double>();
  bool improved = false;
  if (eval::is_defined(score)) {
    improved = !eval::is_defined(state_.best_score) ||
               (objective_.higher_is_better ? score > state_.best_score : score < state_.best_score);
  }
  if (improved) {
    state_.best_step = state_.step;
    state_.best_score = score;
    state_.evals_without_improvement = 0;
    if (options_.group == nullptr || options_.group->rank() == 0) {  // only rank 0 writes
      commit_checkpoint(run_.checkpoints, "best", state_.step,
                        [&](const fs::path& dir) { objective_.save_best(dir, entry); });
      prune_checkpoints(run_.checkpoints, "best", {state_.step, committed_best_});
    }
  } else {
    ++state_.evals_without_improvement;
  }
  entry["best_step"] = state_.best_step;
  return entry;
}

void TrainingLoop::checkpoint() {
  update_cost_time();
  if (scaler_) {
    state_.loss_scale = scaler_->scale();
    state_.loss_scale_growth_tracker = scaler_->growth_tracker();
  }
  commit_checkpoint(run_.checkpoints, "last", state_.step, [&](const fs::path& dir) {
    write_training_state(dir, model_, optimizer_, state_.to_json(config_.seed, total_steps_, objective_.state_kind));
  });
  committed_best_ = state_.best_step;
  prune_checkpoints(run_.checkpoints, "last", {state_.step});
  if (objective_.save_best) prune_checkpoints(run_.checkpoints, "best", {state_.best_step});
}

void TrainingLoop::run() {
  const bool tty = options_.tty < 0 ? Progress::stderr_is_tty() : options_.tty == 1;
  Progress progress(*options_.log, tty, total_steps_, state_.step, config_.log_every);
  // A non-finite loss or gradient: stop before anything is written, pointing at the last good checkpoint.
  auto diverged = [&](const std::string& what, double value, int64_t step_number, int64_t batch, double lr) {
    progress.finish();
    throw diverged_error(what, value, step_number, state_.epoch, batch, lr, run_.checkpoints,
                         precision_ == Precision::kBf16);
  };

  ProcessGroup* group = options_.group.get();
  const int world = group != nullptr ? group->world_size() : 1;
  const int rank = group != nullptr ? group->rank() : 0;
  const bool writes = rank == 0;
  if (group != nullptr) {
    // Every rank starts from rank 0's weights (they agree already when loaded alike; this makes it so).
    std::vector<torch::Tensor> params;
    for (const auto& p : model_.parameters()) params.push_back(p);
    broadcast_parameters(*group, params);
  }

  // Rank 0 reports the share of its training steps spent in collectives (waiting for slower ranks included).
  using Clock = std::chrono::steady_clock;
  auto seconds_since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  double step_seconds = 0, collective_seconds = 0;

  std::vector<std::vector<size_t>> order;
  int64_t order_epoch = -1;
  auto done = [&] { return state_.step >= total_steps_ || state_.stopped_early; };
  while (!done()) {
    if (order_epoch != state_.epoch) {
      order = objective_.batches(state_.epoch);
      order_epoch = state_.epoch;
    }
    const int64_t nb = static_cast<int64_t>(order.size());
    const int64_t group_end = std::min(nb, state_.batch + config_.grad_accum_steps);
    const int64_t micro = group_end - state_.batch;
    const int64_t step_number = state_.step + 1;  // 1-based, as logged
    const double lr = config_.lr * lr_factor(schedule_, state_.step, warmup_, total_steps_);

    const auto step_start = Clock::now();
    optimizer_.zero_grad();
    double step_loss = 0;
    int64_t step_examples = 0;
    for (int64_t b = state_.batch; b < group_end; ++b) {
      const std::vector<size_t>& rows = order[static_cast<size_t>(b)];
      if (group == nullptr) {
        MicroBatch batch;
        {
          AutocastScope autocast(precision_, device_);
          batch = objective_.loss(rows, state_.epoch, nullptr);
        }
        const double value = batch.loss.item<double>();
        if (!std::isfinite(value)) diverged("the loss", value, step_number, b, lr);
        const torch::Tensor loss = batch.loss / static_cast<double>(micro);
        (scaler_ ? scaler_->scale_loss(loss) : loss).backward();
        step_loss += value;
        step_examples += batch.rows;
        state_.cost.add_batch(batch.rows, batch.padded_length, batch.real_tokens);
        continue;
      }
      // This rank's slice of the global batch. The batch's loss is the weighted mean of the shards'
      // (each a mean over its weight's terms), so each rank back-propagates its loss × weight / total
      // weight, and the gradient sum over the ranks is the one-process gradient. A loss coupling the
      // batch's rows (in-batch negatives) is the whole batch's on every rank, through `rank_rows`.
      const size_t n = rows.size();
      const size_t begin = n * static_cast<size_t>(rank) / static_cast<size_t>(world);
      const size_t end = n * static_cast<size_t>(rank + 1) / static_cast<size_t>(world);
      GroupRankRows rank_rows(*group, static_cast<int64_t>(n), static_cast<int64_t>(begin), static_cast<int64_t>(end));
      MicroBatch batch;
      if (end > begin) {
        AutocastScope autocast(precision_, device_);
        batch = objective_.loss(std::vector<size_t>(rows.begin() + static_cast<std::ptrdiff_t>(begin),
                                                    rows.begin() + static_cast<std::ptrdiff_t>(end)),
                                state_.epoch, objective_.couples_rows ? &rank_rows : nullptr);
      } else if (objective_.couples_rows) {
        rank_rows.join();  // the others' forward gathers the whole batch's rows
      }
      const double weight = end > begin ? batch.weight.value_or(static_cast<double>(batch.rows)) : 0.0;
      const double local = weight > 0 ? batch.loss.item<double>() : 0.0;
      // [weight, loss · weight, real tokens, then (rows, T) of each rank's shard]
      torch::Tensor stats = torch::zeros({3 + 2 * world}, torch::kDouble);
      auto* s = stats.data_ptr<double>();
      s[0] = weight;
      s[1] = local * weight;
      s[2] = static_cast<double>(batch.real_tokens);
      s[3 + 2 * rank] = static_cast<double>(batch.rows);
      s[4 + 2 * rank] = static_cast<double>(batch.padded_length);
      std::vector<torch::Tensor> reduced = {stats};
      const auto reduce_start = Clock::now();
      group->all_reduce_sum(reduced);
      collective_seconds += seconds_since(reduce_start);
      s = reduced[0].data_ptr<double>();
      const double total_weight = s[0];
      const double value = total_weight > 0 ? s[1] / total_weight : 0.0;
      if (!std::isfinite(value)) diverged("the loss", value, step_number, b, lr);  // on every rank alike
      // A coupled loss is the whole batch's on every rank already (its gradient reaches this rank's rows).
      const double share = objective_.couples_rows ? 1.0 : weight / total_weight;
      if (weight > 0) {
        const torch::Tensor loss = batch.loss * (share / static_cast<double>(micro));
        (scaler_ ? scaler_->scale_loss(loss) : loss).backward();
      }
      step_loss += value;
      int64_t real_tokens = static_cast<int64_t>(s[2]);
      for (int r = 0; r < world; ++r) {
        const auto shard_rows = static_cast<int64_t>(s[3 + 2 * r]);
        if (shard_rows == 0) continue;
        state_.cost.add_batch(shard_rows, static_cast<int64_t>(s[4 + 2 * r]), real_tokens);
        real_tokens = 0;
        step_examples += shard_rows;
      }
    }
    if (group != nullptr) {
      std::vector<torch::Tensor> params;
      for (const auto& p : model_.parameters()) params.push_back(p);
      const auto reduce_start = Clock::now();
      all_reduce_gradients(*group, params);
      collective_seconds += seconds_since(reduce_start);
    }
    // fp16: gradients back to their true size; an inf or NaN among them skips the step (the scale was
    // too large, not the model diverging) and the scaler backs off, as GradScaler does.
    bool take_step = true;
    if (scaler_) {
      std::vector<torch::Tensor> params;
      for (const auto& p : model_.parameters()) params.push_back(p);
      take_step = scaler_->unscale(params);
      scaler_->update(take_step);
    }
    if (take_step && config_.max_grad_norm > 0) {
      std::vector<torch::Tensor> params;
      for (const auto& p : model_.parameters()) params.push_back(p);
      const double norm = torch::nn::utils::clip_grad_norm_(params, config_.max_grad_norm);
      if (!std::isfinite(norm)) diverged("the gradient norm", norm, step_number, state_.batch, lr);
    }
    set_learning_rate(optimizer_, lr);
    if (take_step) optimizer_.step();
    step_seconds += seconds_since(step_start);

    state_.step = step_number;
    state_.loss_sum += step_loss;
    state_.loss_count += micro;
    state_.batch = group_end;
    bool epoch_completed = false;
    if (state_.batch >= nb) {
      ++state_.epoch;
      state_.batch = 0;
      epoch_completed = true;
    }
    const double epoch_position =
        static_cast<double>(state_.epoch) + static_cast<double>(state_.batch) / static_cast<double>(nb);
    progress.step(state_.step, epoch_position, step_loss / static_cast<double>(micro), lr, step_examples);

    const bool final_step = state_.step >= total_steps_;
    const bool eval_due =
        (config_.eval_every > 0 ? state_.step % config_.eval_every == 0 : epoch_completed) || final_step;
    bool evaluated = false;
    if (eval_due) {
      // Every rank evaluates (the objective shards the dev sets and gathers the outputs, so all reach the
      // same figures); rank 0 writes, and says whether training stops early.
      nlohmann::json entry = evaluate();
      state_.history.push_back(entry);
      evaluated = true;
      progress.message("eval step " + std::to_string(state_.step) + ":" + objective_.describe(entry, state_));
      if (config_.early_stopping_patience > 0 &&
          state_.evals_without_improvement >= config_.early_stopping_patience) {
        state_.stopped_early = true;
        progress.message("early stopping: no improvement in " + std::to_string(state_.evals_without_improvement) +
                         " evaluations");
      }
      update_cost_time();
      if (writes) objective_.write_metrics(state_, false, nlohmann::json::object());
      if (group != nullptr && config_.early_stopping_patience > 0) {
        std::vector<torch::Tensor> stop = {torch::full({1}, state_.stopped_early ? 1 : 0, torch::kInt)};
        group->broadcast(stop, 0);
        state_.stopped_early = stop[0].item<int>() != 0;
      }
    }
    const bool checkpoint_due =
        (config_.checkpoint_every > 0 ? state_.step % config_.checkpoint_every == 0 : evaluated) || done();
    if (checkpoint_due && writes) checkpoint();
  }
  progress.finish();
  if (group != nullptr && step_seconds > 0) {
    *options_.log << "data-parallel: " << world << " ranks, all-reduce " << collective_seconds << " s of "
                  << step_seconds << " s in training steps (" << 100.0 * collective_seconds / step_seconds
                  << "%, rank 0, waiting for the other ranks included)\n";
  }
}

nlohmann::json TrainingLoop::finish(const nlohmann::json& extra) {
  update_cost_time();
  return objective_.write_metrics(state_, true, extra);
}

}  // namespace stilts::train
