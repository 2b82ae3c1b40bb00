#include "train/trainer.h"

#include <sys/file.h>
#include <fcntl.h>
#include <unistd.h>

#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "hub/cache.h"
#include "common/files.h"
#include "common/threads.h"
#include "eval/metrics.h"
#include "models/pretrained.h"
#include "tasks/batch.h"
#include "tasks/datasets/dataset.h"
#include "tasks/features.h"
#include "tasks/kind.h"
#include "text/auto.h"
#include "train/checkpoint.h"
#include "train/cost.h"
#include "train/device.h"
#include "train/distributed.h"
#include "train/evaluate.h"
#include "train/head.h"
#include "train/loop.h"
#include "train/optimizer.h"
#include "train/progress.h"
#include "train/read_options.h"
#include "train/run_dir.h"
#include "train/schedule.h"

namespace stilts::train {

namespace fs = std::filesystem;

namespace {

// The data must be what the task trains on; the message names the file.
void check_dataset(const tasks::Dataset& d, const tasks::TaskKind& kind, const std::string& path) {
  if (d.examples.empty()) input_error(path, ": no examples");
  kind.check(d, /*need_gold=*/true);
}

// config.json + model.safetensors with the task's labels.
void save_model_dir(models::EncoderModel& model, const fs::path& dir, const LabelSpace& labels) {
  models::save_pretrained(model, dir);
  write_file_atomic(dir / "config.json", config_with_labels(model.config_json(), labels).dump(2) + "\n");
}

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
  config.model = hub::resolve_model(config.model).dir.string();  // a directory, or a hub id's cached snapshot
  config = with_absolute_paths(std::move(config));

  // ---- the output directory: a fresh one, the run to resume, or a finished one ----
  // With a process group only rank 0 opens (locks, checks, writes) it; the others read checkpoints from it.
  const bool writes = options.group == nullptr || options.group->rank() == 0;
  const RunDirectory run = open_run_directory(config, options, "another stilts train is running in this directory");
  if (run.finished) return finished_outcome(run);
  TrainOutcome outcome;
  outcome.out = run.out;
  const fs::path& out = run.out;
  const fs::path& checkpoints = run.checkpoints;
  const fs::path& metrics_path = run.metrics;

  const Precision precision = parse_precision(config.precision);
  const torch::Device device = parse_device(config.device, "config: 'device' (--device)", options.group.get());
  at::set_num_threads(static_cast<int>(config.threads > 0 ? config.threads : default_threads(precision)));

  // ---- data ----
  const std::unique_ptr<tasks::TaskKind> kind_with_settings = task_kind_of(config);
  const tasks::TaskKind& kind = *kind_with_settings;
  if (kind.head() == models::HeadKind::kNone) {
    input_error("task kind '", kind.name(), "' trains nothing (it reads a hidden layer of any model): ",
                "evaluate a model with stilts eval --task ", kind.name());
  }
  tasks::ReadOptions read = read_options(config);
  const tasks::Dataset train_data = tasks::read_dataset(config.train, config.format, read);
  check_dataset(train_data, kind, config.train);
  const bool regression = train_data.regression;
  if (!regression) read.label_names = train_data.label_names;  // dev labels outside this set are errors
  std::vector<tasks::Dataset> dev_data;
  for (const auto& path : config.dev) {
    dev_data.push_back(tasks::read_dataset(path, config.format, read));
    check_dataset(dev_data.back(), kind, path);
    if (!regression && dev_data.back().label_names != train_data.label_names) {
      input_error(path, ": labels (", dev_data.back().label_names.size(), ") differ from the training file's (",
                  train_data.label_names.size(), ")");
    }
  }

  const LabelSpace labels = task_label_space(kind, train_data);
  const bool labelled_head = !labels.regression && labels.num_labels() == static_cast<int64_t>(labels.label_names.size());
  if (labelled_head && labels.label_names.size() < 2) {
    input_error(config.train, ": a ", config.task, " task needs at least 2 labels, found ", labels.label_names.size());
  }

  // ---- model and optimizer ----
  torch::manual_seed(config.seed);
  TaskModel task_model = load_for_task(config.model, parse_head_transfer(config.head), labels);
  models::EncoderModel& model = *task_model.loaded.model;
  model.to(device);  // before the optimizer is built: it holds the parameters themselves
  model.train();

  const int64_t max_length = effective_max_length(model, config.max_length, &log);
  const auto tokenizer = text::load_tokenizer(config.model);
  const fs::path cache = config.cache_dir;
  const tasks::Features train_features =
      tasks::load_or_featurize(train_data, kind, *tokenizer, config.model, max_length, cache);
  std::vector<tasks::Features> dev_features;
  for (const auto& d : dev_data) {
    dev_features.push_back(tasks::load_or_featurize(d, kind, *tokenizer, config.model, max_length, cache));
  }
  const auto optimizer = make_optimizer(model, config);

  const std::string metric = config.resolved_metric_for_best();

  // ---- the objective on the one training loop ----
  Objective objective;
  objective.batches = [&](int64_t epoch) {
    return tasks::bucketed_batches(train_features, config.batch_size, config.seed, epoch, /*shuffle=*/true);
  };
  objective.couples_rows = kind.couples_rows(train_features);
  objective.loss = [&](const std::vector<size_t>& rows, int64_t, tasks::RankRows* rank_rows) {
    tasks::Batch batch = kind.collate(train_features, rows, device);
    batch.rank_rows = rank_rows;
    const torch::Tensor& ids = batch.inputs.input_ids;  // [B, T] ([B, K, T] for multiple choice)
    MicroBatch micro{kind.loss(kind.forward(model, batch), batch), static_cast<int64_t>(rows.size()), ids.size(-1),
                     batch.real_tokens};
    if (options.group != nullptr) micro.weight = kind.loss_weight(batch);
    return micro;
  };
  objective.evaluate = [&](nlohmann::json& entry) {
    if (dev_features.empty()) return;
    nlohmann::json dev = nlohmann::json::object();
    double score_sum = 0;
    for (size_t i = 0; i < dev_features.size(); ++i) {
      const tasks::Predictions p = predict(model, kind, dev_data[i], dev_features[i], *tokenizer, config.eval_batch_size,
                                             precision, /*keep_probabilities=*/false, options.group.get());
      const GroupMetrics m = metrics_by_language(kind, p, dev_data[i]);
      dev[config.dev[i]] = metrics_json(m);
      score_sum += m.at("all").count(metric) ? m.at("all").at(metric) : std::numeric_limits<double>::quiet_NaN();
    }
    const double score = score_sum / static_cast<double>(dev_features.size());
    entry["dev"] = dev;
    entry["score"] = eval::is_defined(score) ? nlohmann::json(score) : nlohmann::json();
  };
  objective.higher_is_better = eval::metric_info(metric).higher_is_better;
  objective.save_best = [&](const fs::path& dir, const nlohmann::json& entry) {
    save_model_dir(model, dir, labels);
    write_file_atomic(dir / "eval.json", entry.dump(2) + "\n");
  };
  objective.describe = [&](const nlohmann::json& entry, const LoopState& state) {
    std::string line;
    if (entry.contains("score")) {
      line += " " + metric + " " + format_metric(entry["score"].is_null() ? NAN : entry["score"].get<double>()) +
              " (best " + format_metric(state.best_score) + " at step " + std::to_string(state.best_step) + ")";
    }
    if (!entry["train_loss"].is_null()) line += ", train loss " + format_metric(entry["train_loss"].get<double>());
    return line;
  };
  int64_t total_steps = 0;
  objective.write_metrics = [&](const LoopState& state, bool finished, const nlohmann::json& extra) {
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
  TrainingLoop loop(config, options, run, model, *optimizer, std::move(objective));
  total_steps = loop.total_steps();

  log << "train: " << train_features.size() << " examples from " << config.train << " (" << loop.batches_per_epoch()
      << " batches of " << config.batch_size << " per epoch), " << total_steps << " steps, warm-up "
      << loop.warmup_steps() << "; head: " << (task_model.applied == HeadTransfer::kReuse ? "reused" : "new") << " ("
      << labels.describe() << "); " << config.precision << ", " << at::get_num_threads() << " thread(s), device "
      << device << "\n";
  if (train_features.truncated > 0) {
    log << "note: " << train_features.truncated << " training examples truncated to " << max_length
        << " tokens\n";
  }
  for (const auto& note : train_features.notes) log << "note: " << note << "\n";
  for (const auto& features : dev_features) {
    for (const auto& note : features.notes) log << "note: " << note << "\n";
  }
  if (const tasks::ReadReport& read_report = train_data.report;
      read_report.skipped_placeholder + read_report.skipped_malformed > 0) {
    log << "note: " << read_report.skipped_placeholder + read_report.skipped_malformed << " of " << read_report.rows
        << " rows of " << config.train << " skipped"
        << (read_report.notes.empty() ? "" : " (the first: " + read_report.notes.front() + ")") << "\n";
  }
  loop.run();
  const LoopState& state = loop.state();
  if (!writes) {  // rank 0 writes the final model and metrics
    outcome.steps = state.step;
    return outcome;
  }

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
  nlohmann::json extra = {{"saved_model", saved}, {"saved_step", saved_step}};
  if (!state.history.empty()) extra["final"] = state.history.back();
  outcome.metrics = loop.finish(extra);
  outcome.steps = state.step;
  log << "done: " << state.step << " steps; model (" << saved << ", step " << saved_step << ") in " << out.string()
      << "\n";
  return outcome;
}

}  // namespace stilts::train
