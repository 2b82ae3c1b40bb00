#include "train/trainer.h"

#include <sys/file.h>
#include <fcntl.h>
#include <unistd.h>

#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "common/files.h"
#include "eval/metrics.h"
#include "models/pretrained.h"
#include "tasks/batch.h"
#include "tasks/datasets/dataset.h"
#include "tasks/features.h"
#include "text/auto.h"
#include "train/checkpoint.h"
#include "train/cost.h"
#include "train/evaluate.h"
#include "train/head.h"
#include "train/optimizer.h"
#include "train/progress.h"
#include "train/read_options.h"
#include "train/run_dir.h"
#include "train/schedule.h"

namespace stilts::train {

namespace fs = std::filesystem;

namespace {

constexpr int kStateVersion = 1;


// Where training stands: everything a checkpoint must hold besides model, optimizer and generator.
struct RunState {
  int64_t step = 0;   // optimizer steps done
  int64_t epoch = 0;  // epoch of the next batch
  int64_t batch = 0;  // index of the next batch in that epoch's order
  double loss_sum = 0;  // micro-batch losses since the last evaluation
  int64_t loss_count = 0;
  nlohmann::json history = nlohmann::json::array();  // evaluations so far
  int64_t best_step = -1;
  double best_score = std::numeric_limits<double>::quiet_NaN();
  int64_t evals_without_improvement = 0;
  bool stopped_early = false;
  TrainingCost cost;  // up to this state (the open segment's time is added when saving)

  nlohmann::json to_json(uint64_t seed, int64_t total_steps) const {
    return {{"version", kStateVersion},
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
  }

  static RunState from_json(const nlohmann::json& j, const std::string& source) {
    try {
      RunState s;
      if (j.at("version").get<int>() != kStateVersion) {
        input_error(source, ": trainer state version ", j.at("version").dump(), ", this stilts writes ",
                    kStateVersion);
      }
      s.step = j.at("step").get<int64_t>();
      s.epoch = j.at("epoch").get<int64_t>();
      s.batch = j.at("batch").get<int64_t>();
      s.loss_sum = j.at("loss_sum").get<double>();
      s.loss_count = j.at("loss_count").get<int64_t>();
      s.history = j.at("history");
      s.best_step = j.at("best_step").get<int64_t>();
      if (!j.at("best_score").is_null()) s.best_score = j.at("best_score").get<double>();
      s.evals_without_improvement = j.at("evals_without_improvement").get<int64_t>();
      s.stopped_early = j.at("stopped_early").get<bool>();
      s.cost = TrainingCost::from_json(j.value("cost", nlohmann::json()));
      return s;
    } catch (const nlohmann::json::exception& e) {
      input_error(source, ": not a stilts trainer state (", e.what(), ")");
    }
  }
};

tasks::TaskKind task_kind(const TrainConfig& c) { return tasks::parse_task_kind(c.task); }

// The data must be what the task trains on; the message names the file.
void check_dataset(const tasks::Dataset& d, const TrainConfig& c, const std::string& path) {
  if (d.examples.empty()) input_error(path, ": no examples");
  if (c.task == "regression" && !d.regression) {
    input_error(path, ": format '", c.format, "' holds class labels, but the task is regression");
  }
  if (c.task != "regression" && d.regression) {
    input_error(path, ": format '", c.format, "' holds regression scores, but the task is ", c.task);
  }
  if (c.task == "pair-classification" && !d.pairs) {
    input_error(path, ": single sentences, but the task is pair-classification (use --task classification, "
                      "or set text_b_column)");
  }
  if (c.task == "classification" && d.pairs) {
    input_error(path, ": sentence pairs, but the task is classification (use --task pair-classification)");
  }
}

// config.json + model.safetensors with the task's labels.
void save_model_dir(models::EncoderModel& model, const fs::path& dir, const LabelSpace& labels) {
  models::save_pretrained(model, dir);
  write_file_atomic(dir / "config.json", config_with_labels(model.config_json(), labels).dump(2) + "\n");
}

bool higher_is_better(const std::string& metric) { return eval::metric_info(metric).higher_is_better; }

std::string format_metric(double v) {
  if (!eval::is_defined(v)) return "n/a";
  std::ostringstream s;
  s.precision(4);
  s << std::fixed << v;
  return s.str();
}

}  // namespace

TrainOutcome run_training(const TrainConfig& config_in, const TrainOptions& options) {
  std::ostream& log = *options.log;
  TrainConfig config = config_in;
  config.validate();
  config = with_absolute_paths(std::move(config));

  // ---- the output directory: a fresh one, the run to resume, or a finished one ----
  const RunDirectory run =
      open_run_directory(config, options.resume, "another stilts train is running in this directory");
  if (run.finished) return finished_outcome(run);
  TrainOutcome outcome;
  outcome.out = run.out;
  const fs::path& out = run.out;
  const fs::path& checkpoints = run.checkpoints;
  const fs::path& metrics_path = run.metrics;

  const Precision precision = parse_precision(config.precision);
  at::set_num_threads(static_cast<int>(config.threads > 0 ? config.threads : default_threads(precision)));

  // ---- data ----
  const tasks::TaskKind kind = task_kind(config);
  const bool regression = kind == tasks::TaskKind::kRegression;
  tasks::ReadOptions read = read_options(config);
  const tasks::Dataset train_data = tasks::read_dataset(config.train, config.format, read);
  check_dataset(train_data, config, config.train);
  if (!regression) read.label_names = train_data.label_names;  // dev labels outside this set are errors
  std::vector<tasks::Dataset> dev_data;
  for (const auto& path : config.dev) {
    dev_data.push_back(tasks::read_dataset(path, config.format, read));
    check_dataset(dev_data.back(), config, path);
    if (!regression && dev_data.back().label_names != train_data.label_names) {
      input_error(path, ": labels (", dev_data.back().label_names.size(), ") differ from the training file's (",
                  train_data.label_names.size(), ")");
    }
  }

  LabelSpace labels;
  labels.regression = regression;
  if (!regression) labels.label_names = train_data.label_names;
  if (!regression && labels.label_names.size() < 2) {
    input_error(config.train, ": a classification task needs at least 2 labels, found ", labels.label_names.size());
  }

  // ---- model and optimizer ----
  torch::manual_seed(config.seed);
  TaskModel task_model = load_for_task(config.model, parse_head_transfer(config.head), labels);
  models::EncoderModel& model = *task_model.loaded.model;
  model.train();

  // Rows longer than the position table cannot be embedded: truncate to it, as the tokenizer's
  // model_max_length would.
  int64_t max_length = config.max_length;
  if (max_length > model.max_positions()) {
    log << "note: max_length " << max_length << " is more than the model's " << model.max_positions()
        << " positions; using " << model.max_positions() << "\n";
    max_length = model.max_positions();
  }
  const auto tokenizer = text::load_tokenizer(config.model);
  const fs::path cache = config.cache_dir;
  const tasks::Features train_features =
      tasks::load_or_featurize(train_data, *tokenizer, config.model, max_length, kind, cache);
  std::vector<tasks::Features> dev_features;
  for (const auto& d : dev_data) {
    dev_features.push_back(tasks::load_or_featurize(d, *tokenizer, config.model, max_length, kind, cache));
  }
  AdamWSettings adam;
  adam.lr = config.lr;
  adam.weight_decay = config.weight_decay;
  adam.beta1 = config.adam_beta1;
  adam.beta2 = config.adam_beta2;
  adam.epsilon = config.adam_epsilon;
  const auto optimizer = make_adamw(model, adam);

  // ---- the schedule of steps ----
  const auto batches_of = [&](int64_t epoch) {
    return tasks::bucketed_batches(train_features, config.batch_size, config.seed, epoch, /*shuffle=*/true);
  };
  const int64_t batches_per_epoch = static_cast<int64_t>(batches_of(0).size());
  const int64_t steps_per_epoch = (batches_per_epoch + config.grad_accum_steps - 1) / config.grad_accum_steps;
  const int64_t total_steps = config.max_steps > 0 ? config.max_steps : config.epochs * steps_per_epoch;
  const int64_t warmup = resolve_warmup_steps(config.warmup_steps, config.warmup_ratio, total_steps);
  const LrSchedule schedule = parse_lr_schedule(config.lr_schedule);
  const std::string metric = config.resolved_metric_for_best();

  // ---- resume ----
  RunState state;
  int64_t committed_best = -1;  // the best checkpoint the latest last-* refers to: never pruned
  if (options.resume) {
    if (const auto last = latest_checkpoint(checkpoints, "last")) {
      const nlohmann::json saved = read_training_state(last->dir, model, *optimizer);
      const std::string source = (last->dir / "trainer_state.json").string();
      state = RunState::from_json(saved, source);
      if (saved.value("seed", uint64_t{0}) != config.seed || saved.value("total_steps", int64_t{-1}) != total_steps) {
        input_error(source, ": the checkpoint was made with seed ", saved.value("seed", uint64_t{0}), " and ",
                    saved.value("total_steps", int64_t{-1}), " steps; this run has seed ", config.seed, " and ",
                    total_steps, " steps");
      }
      committed_best = state.best_step;
      log << "resuming from " << last->dir.string() << " (step " << state.step << "/" << total_steps << ", epoch "
          << state.epoch << ", batch " << state.batch << ")\n";
    } else {
      log << "no checkpoint in " << checkpoints.string() << ": starting from the beginning\n";
    }
  }

  // Time spent from here on is added to the cost carried in the checkpoint.
  const CostClock clock;
  const TrainingCost cost_base = state.cost;
  auto update_cost_time = [&] {
    state.cost.wall_s = cost_base.wall_s + clock.wall_s();
    state.cost.cpu_s = cost_base.cpu_s + clock.cpu_s();
  };

  log << "train: " << train_features.size() << " examples from " << config.train << " (" << batches_per_epoch
      << " batches of " << config.batch_size << " per epoch), " << total_steps << " steps, warm-up " << warmup
      << "; head: " << (task_model.applied == HeadTransfer::kReuse ? "reused" : "new") << " ("
      << labels.describe() << "); " << config.precision << ", " << at::get_num_threads() << " thread(s)\n";
  if (train_features.truncated > 0) {
    log << "note: " << train_features.truncated << " training examples truncated to " << max_length
        << " tokens\n";
  }

  // ---- evaluation and checkpoints ----
  auto evaluate = [&]() -> nlohmann::json {
    nlohmann::json entry = {{"step", state.step},
                            {"epoch", static_cast<double>(state.step) / static_cast<double>(steps_per_epoch)},
                            {"lr", config.lr * lr_factor(schedule, std::max<int64_t>(0, state.step - 1), warmup, total_steps)}};
    entry["train_loss"] = state.loss_count > 0 ? nlohmann::json(state.loss_sum / static_cast<double>(state.loss_count))
                                               : nlohmann::json();
    state.loss_sum = 0;
    state.loss_count = 0;
    if (dev_features.empty()) return entry;
    nlohmann::json dev = nlohmann::json::object();
    double score_sum = 0;
    for (size_t i = 0; i < dev_features.size(); ++i) {
      const Predictions p = predict(model, dev_features[i], config.eval_batch_size, precision);
      const GroupMetrics m = metrics_by_language(regression, p, dev_features[i].languages);
      dev[config.dev[i]] = metrics_json(m);
      score_sum += m.at("all").count(metric) ? m.at("all").at(metric) : std::numeric_limits<double>::quiet_NaN();
    }
    const double score = score_sum / static_cast<double>(dev_features.size());
    entry["dev"] = dev;
    entry["score"] = eval::is_defined(score) ? nlohmann::json(score) : nlohmann::json();
    bool improved = false;
    if (eval::is_defined(score)) {
      improved = !eval::is_defined(state.best_score) ||
                 (higher_is_better(metric) ? score > state.best_score : score < state.best_score);
    }
    if (improved) {
      state.best_step = state.step;
      state.best_score = score;
      state.evals_without_improvement = 0;
      commit_checkpoint(checkpoints, "best", state.step, [&](const fs::path& dir) {
        save_model_dir(model, dir, labels);
        write_file_atomic(dir / "eval.json", entry.dump(2) + "\n");
      });
      prune_checkpoints(checkpoints, "best", {state.step, committed_best});
    } else {
      ++state.evals_without_improvement;
    }
    entry["best_step"] = state.best_step;
    return entry;
  };

  auto write_metrics = [&](bool finished, const nlohmann::json& extra) {
    update_cost_time();
    nlohmann::json m = {{"task", config.task},
                        {"metric_for_best", metric},
                        {"steps", state.step},
                        {"total_steps", total_steps},
                        {"evaluations", state.history},
                        {"stopped_early", state.stopped_early},
                        {"cost", state.cost.to_json()},
                        {"finished", finished}};
    for (const auto& [k, v] : extra.items()) m[k] = v;
    if (state.best_step >= 0) {
      for (const auto& e : state.history) {
        if (e.at("step") == state.best_step) m["best"] = e;
      }
    }
    write_file_atomic(metrics_path, m.dump(2) + "\n");
    return m;
  };

  auto checkpoint = [&]() {
    update_cost_time();
    commit_checkpoint(checkpoints, "last", state.step, [&](const fs::path& dir) {
      write_training_state(dir, model, *optimizer, state.to_json(config.seed, total_steps));
    });
    committed_best = state.best_step;
    prune_checkpoints(checkpoints, "last", {state.step});
    prune_checkpoints(checkpoints, "best", {state.best_step});
  };

  // ---- the loop ----
  const bool tty = options.tty < 0 ? Progress::stderr_is_tty() : options.tty == 1;
  Progress progress(log, tty, total_steps, state.step, config.log_every);
  // A non-finite loss or gradient: stop before anything is written, pointing at the last good checkpoint.
  auto diverged = [&](const std::string& what, double value, int64_t step_number, int64_t batch, double lr) {
    progress.finish();
    throw diverged_error(what, value, step_number, state.epoch, batch, lr, checkpoints, precision == Precision::kBf16);
  };

  std::vector<std::vector<size_t>> order;
  int64_t order_epoch = -1;
  auto done = [&] { return state.step >= total_steps || state.stopped_early; };
  while (!done()) {
    if (order_epoch != state.epoch) {
      order = batches_of(state.epoch);
      order_epoch = state.epoch;
    }
    const int64_t nb = static_cast<int64_t>(order.size());
    const int64_t group_end = std::min(nb, state.batch + config.grad_accum_steps);
    const int64_t micro = group_end - state.batch;
    const int64_t step_number = state.step + 1;  // 1-based, as logged
    const double lr = config.lr * lr_factor(schedule, state.step, warmup, total_steps);

    optimizer->zero_grad();
    double step_loss = 0;
    int64_t step_examples = 0;
    for (int64_t b = state.batch; b < group_end; ++b) {
      const tasks::Batch batch = tasks::collate(train_features, order[static_cast<size_t>(b)], torch::kCPU);
      torch::Tensor loss;
      {
        AutocastScope autocast(precision);
        const auto logits = model.logits(batch.inputs);  // [B, C]
        loss = task_loss(logits, batch.labels, regression);
      }
      const double value = loss.item<double>();
      if (!std::isfinite(value)) diverged("the loss", value, step_number, b, lr);
      (loss / static_cast<double>(micro)).backward();
      step_loss += value;
      step_examples += static_cast<int64_t>(batch.indices.size());
      state.cost.add_batch(batch.inputs.input_ids.size(0), batch.inputs.input_ids.size(1), batch.real_tokens);
    }
    if (config.max_grad_norm > 0) {
      std::vector<torch::Tensor> params;
      for (const auto& p : model.parameters()) params.push_back(p);
      const double norm = torch::nn::utils::clip_grad_norm_(params, config.max_grad_norm);
      if (!std::isfinite(norm)) diverged("the gradient norm", norm, step_number, state.batch, lr);
    }
    set_learning_rate(*optimizer, lr);
    optimizer->step();

    state.step = step_number;
    state.loss_sum += step_loss;
    state.loss_count += micro;
    state.batch = group_end;
    bool epoch_completed = false;
    if (state.batch >= nb) {
      ++state.epoch;
      state.batch = 0;
      epoch_completed = true;
    }
    const double epoch_position =
        static_cast<double>(state.epoch) + static_cast<double>(state.batch) / static_cast<double>(nb);
    progress.step(state.step, epoch_position, step_loss / static_cast<double>(micro), lr, step_examples);

    const bool final_step = state.step >= total_steps;
    const bool eval_due = (config.eval_every > 0 ? state.step % config.eval_every == 0 : epoch_completed) || final_step;
    bool evaluated = false;
    if (eval_due) {
      nlohmann::json entry = evaluate();
      state.history.push_back(entry);
      evaluated = true;
      std::string line = "eval step " + std::to_string(state.step) + ":";
      if (entry.contains("score")) {
        line += " " + metric + " " + format_metric(entry["score"].is_null() ? NAN : entry["score"].get<double>()) +
                " (best " + format_metric(state.best_score) + " at step " + std::to_string(state.best_step) + ")";
      }
      if (!entry["train_loss"].is_null()) line += ", train loss " + format_metric(entry["train_loss"].get<double>());
      progress.message(line);
      if (config.early_stopping_patience > 0 && state.evals_without_improvement >= config.early_stopping_patience) {
        state.stopped_early = true;
        progress.message("early stopping: no improvement in " + std::to_string(state.evals_without_improvement) +
                         " evaluations");
      }
      write_metrics(false, nlohmann::json::object());
    }
    const bool checkpoint_due =
        (config.checkpoint_every > 0 ? state.step % config.checkpoint_every == 0 : evaluated) || done();
    if (checkpoint_due) checkpoint();
  }
  progress.finish();

  // ---- the final model ----
  std::string saved = "last";
  int64_t saved_step = state.step;
  if (config.final_model == "best") {
    if (const auto best = latest_checkpoint(checkpoints, "best"); best && state.best_step >= 0) {
      STILTS_CHECK(best->step == state.best_step, "best checkpoint ", best->step, " vs state ", state.best_step);
      load_model_weights(best->dir, model);
      saved = "best";
      saved_step = best->step;
    } else {
      log << "note: no evaluation had a defined " << metric << ": the final model is the last one\n";
    }
  }
  save_model_dir(model, out, labels);
  models::copy_tokenizer_files(config.model, out);
  update_cost_time();
  nlohmann::json extra = {{"saved_model", saved}, {"saved_step", saved_step}};
  if (!state.history.empty()) extra["final"] = state.history.back();
  outcome.metrics = write_metrics(true, extra);
  outcome.steps = state.step;
  log << "done: " << state.step << " steps; model (" << saved << ", step " << saved_step << ") in " << out.string()
      << "\n";
  return outcome;
}

}  // namespace stilts::train
