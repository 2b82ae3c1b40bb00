#include "train/run_dir.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/error.h"
#include "train/checkpoint.h"
#include "train/distributed.h"

namespace stilts::train {

namespace fs = std::filesystem;

namespace {

std::string absolute(const std::string& path) {
  return path.empty() ? path : fs::absolute(path).lexically_normal().string();
}

// "key (was X, now Y)" for every key of `now` whose value differs in `before`.
std::vector<std::string> changed_keys(const nlohmann::json& before, const nlohmann::json& now) {
  static const std::vector<std::string> kFree = {"log_every", "cache_dir"};  // don't change results
  std::vector<std::string> changed;
  for (const auto& [key, value] : now.items()) {
    if (std::find(kFree.begin(), kFree.end(), key) != kFree.end()) continue;
    if (!before.contains(key) || before.at(key) != value) {
      changed.push_back(key + " (was " + (before.contains(key) ? before.at(key).dump() : "unset") + ", now " +
                        value.dump() + ")");
    }
  }
  return changed;
}

}  // namespace

TrainConfig with_absolute_paths(TrainConfig config) {
  config.model = absolute(config.model);
  config.train = absolute(config.train);
  for (auto& d : config.dev) d = absolute(d);
  config.out = absolute(config.out);
  config.cache_dir = absolute(config.resolved_cache_dir().string());
  return config;
}

RunDirectory open_run_directory(const TrainConfig& config, const TrainOptions& options,
                                const std::string& busy_message) {
  const bool writes = options.group == nullptr || options.group->rank() == 0;
  RunDirectory run;
  if (writes) {
    run = open_run_directory(config, options.resume, busy_message);
  } else {
    run.out = config.out;
    run.checkpoints = run.out / "checkpoints";
    run.metrics = run.out / "metrics.json";
  }
  if (options.group != nullptr) {
    std::vector<torch::Tensor> finished = {torch::full({1}, run.finished ? 1 : 0, torch::kInt)};
    options.group->broadcast(finished, 0);
    if (!writes && finished[0].item<int>() != 0) run.finished = read_json_file(run.metrics);
  }
  return run;
}

RunDirectory open_run_directory(const TrainConfig& config, bool resume, const std::string& busy_message) {
  RunDirectory run;
  run.out = config.out;
  run.checkpoints = run.out / "checkpoints";
  run.metrics = run.out / "metrics.json";
  const fs::path& out = run.out;

  std::error_code ec;
  if (fs::exists(out, ec) && !fs::is_directory(out, ec)) {
    input_error(out.string(), ": exists and is not a directory");
  }
  if (fs::exists(run.metrics)) {
    nlohmann::json metrics = read_json_file(run.metrics);
    if (metrics.value("finished", false)) {
      if (!resume) {
        input_error(out.string(),
                    ": holds a finished run; pass --resume to accept it as done, or choose another --out");
      }
      run.finished = std::move(metrics);
      return run;
    }
  }
  if (!resume && fs::exists(out) && !fs::is_empty(out)) {
    input_error(out.string(), ": holds an unfinished run (or other files); pass --resume to continue it, or "
                              "choose another --out");
  }
  fs::create_directories(out);
  run.lock = std::make_unique<DirectoryLock>(out, busy_message);
  remove_temp_checkpoints(run.checkpoints);

  const nlohmann::json resolved = config.to_json();
  const fs::path resolved_path = out / "config.resolved.json";
  if (resume && fs::exists(resolved_path)) {
    const auto changed = changed_keys(read_json_file(resolved_path), resolved);
    if (!changed.empty()) {
      std::string list;
      for (const auto& c : changed) list += "\n  " + c;
      input_error(out.string(), ": --resume with a different configuration than the run's ",
                  resolved_path.filename().string(), ":", list);
    }
  }
  write_file_atomic(resolved_path, resolved.dump(2) + "\n");
  return run;
}

TrainingDiverged diverged_error(const std::string& what, double value, int64_t step, int64_t epoch, int64_t batch,
                                double lr, const fs::path& checkpoints, bool bf16) {
  const std::string shown = std::isnan(value) ? "NaN" : value > 0 ? "+inf" : "-inf";
  const auto last = latest_checkpoint(checkpoints, "last");
  return TrainingDiverged(detail::concat(
      "training diverged: ", what, " is ", shown, " at step ", step, " (epoch ", epoch, ", batch ", batch, ", lr ",
      lr, "); stopped without saving. ",
      last ? "The last good checkpoint is " + last->dir.string() + " (step " + std::to_string(last->step) + ")."
           : std::string("No checkpoint had been written yet."),
      " Try a lower --lr or more warm-up", bf16 ? ", or fp32." : "."));
}

TrainOutcome finished_outcome(const RunDirectory& run) {
  TrainOutcome outcome;
  outcome.already_finished = true;
  outcome.out = run.out;
  outcome.metrics = run.finished.value_or(nlohmann::json::object());
  outcome.steps = outcome.metrics.value("steps", int64_t{0});
  return outcome;
}

}  // namespace stilts::train
