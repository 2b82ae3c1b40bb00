#include "pipeline/runner.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <optional>
#include <sstream>
#include <thread>
#include <tuple>

#include "common/error.h"
#include "common/files.h"
#include "common/threads.h"
#include "eval/xtreme_score.h"
#include "hub/cache.h"
#include "io/hf_config.h"
#include "models/pretrained.h"
#include "pipeline/claims.h"
#include "pipeline/results_store.h"
#include "pipeline/study_bench.h"
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
#include "train/mlm.h"
#include "train/read_options.h"
#include "train/trainer.h"

namespace stilts::pipeline {

namespace fs = std::filesystem;

namespace {

constexpr const char* kDoneMarker = "stage.json";
constexpr const char* kEvalFile = "eval.json";


std::string seconds(double s) {
  std::ostringstream out;
  out.precision(1);
  out << std::fixed;
  if (s < 120) {
    out << s << " s";
  } else if (s < 7200) {
    out << s / 60 << " min";
  } else {
    out << s / 3600 << " h";
  }
  return out.str();
}

double value_of(const nlohmann::json& v) {
  return v.is_number() ? v.get<double>() : std::numeric_limits<double>::quiet_NaN();
}

// The extension of a task's submission files: XTREME's for its task names, else the kind's.
std::string submission_extension(const std::string& task, const tasks::TaskKind& kind) {
  for (const auto& t : eval::xtreme_tasks()) {
    if (t.name == task) return t.extension;
  }
  return kind.submission_extension();
}

// Evaluates the model in `model_dir` on every language's dev and test files of the stage's task:
// {"dev": {"de": {"accuracy": ..}, ..}, "test": {..}, "examples": {"dev": {"de": n}, ..},
//  "kind": "tagging", "predictions": {"dev": {"de": {"gold": [..], "prediction": [..]}}, ..},
//  "submission": {"extension": "tsv", "files": {"de": "<XTREME's submission text>"}}} (test files).
// Under ranks (`group`: every rank calls it alike) each runs its share of every file's batches and
// every rank returns the same result; rank 0 alone logs.
nlohmann::json evaluate_stage(const ExperimentConfig& config, const StageNode& node, const fs::path& model_dir,
                              std::ostream& log, train::ProcessGroup* group) {
  const train::TrainConfig& c = node.config;
  const TaskSpec& task = config.tasks.at(node.task);
  const std::unique_ptr<tasks::TaskKind> kind_with_settings = train::task_kind_of(c);
  const tasks::TaskKind& kind = *kind_with_settings;
  train::EvalSettings run;
  run.batch_size = c.eval_batch_size;
  run.precision = train::parse_precision(c.precision);
  run.group = group;
  const bool logs = group == nullptr || group->rank() == 0;
  at::set_num_threads(static_cast<int>(c.threads > 0 ? c.threads : default_threads(run.precision)));
  train::EvalModel model = train::load_eval_model(model_dir);
  model.loaded.model->to(train::parse_device(c.device, "device", group));  // evaluated where the stage trains

  nlohmann::json out = {{"dev", nlohmann::json::object()},
                        {"test", nlohmann::json::object()},
                        {"kind", kind.name()},
                        {"examples", {{"dev", nlohmann::json::object()}, {"test", nlohmann::json::object()}}},
                        {"predictions", {{"dev", nlohmann::json::object()}, {"test", nlohmann::json::object()}}},
                        {"submission", {{"extension", submission_extension(node.task, kind)},
                                        {"files", nlohmann::json::object()}}}};
  for (const std::string split : {"dev", "test"}) {
    for (const auto& [language, file] : config.eval_files(task, split, node.language)) {
      const train::FileEvaluation e = train::evaluate_file(model, kind, train::data_file_of(c, file, language), run);
      for (const auto& note : e.notes) {
        if (logs) log << "note: " << note << "\n";
      }
      const tasks::Dataset& data = e.data;
      const tasks::Predictions& p = e.predictions;
      if (!data.labelled) input_error(file, ": the ", split, " file has no gold labels to score");
      const nlohmann::json metrics = train::metrics_json(e.metrics);
      // Per-example outputs by language (the file's, or each example's own), for paired bootstraps.
      auto& predictions = out["predictions"][split];
      for (size_t i = 0; i < p.predicted.size(); ++i) {
        const std::string group = !language.empty() ? language : data.examples[i].language;
        auto& entry = predictions[group];
        if (entry.is_null()) entry = {{"gold", nlohmann::json::array()}, {"prediction", nlohmann::json::array()}};
        entry["gold"].push_back(p.gold[i]);
        entry["prediction"].push_back(p.predicted[i]);
      }
      if (split == "test") {
        // Named by the file's language: the pattern's, else the one its examples share ("all" for a mix).
        std::string name = language;
        for (const tasks::Example& ex : data.examples) {
          if (language.empty()) name = name.empty() || name == ex.language ? ex.language : "all";
        }
        out["submission"]["files"][name.empty() ? "all" : name] = kind.submission(data, p);
      }
      if (!language.empty()) {
        out[split][language] = metrics.at("all");
        out["examples"][split][language] = data.examples.size();
      } else {
        for (const auto& [group, values] : metrics.items()) {
          if (group == "all" && metrics.size() > 1) continue;
          out[split][group] = values;
        }
      }
      std::string line = "  " + split + " " + (language.empty() ? file : language) + ":";
      for (const auto& [name, v] : metrics.at("all").items()) {
        std::ostringstream s;
        s.precision(4);
        s << std::fixed << value_of(v);
        line += " " + name + " " + s.str();
      }
      log << line << " (" << data.examples.size() << " examples)\n";
    }
  }
  return out;
}

std::vector<PredictionRow> prediction_rows(const Chain& chain, const StageNode& node, const nlohmann::json& eval) {
  std::vector<PredictionRow> rows;
  if (!eval.contains("predictions")) return rows;
  const std::string kind = eval.at("kind").get<std::string>();
  for (const std::string split : {"dev", "test"}) {
    for (const auto& [language, entry] : eval.at("predictions").at(split).items()) {
      const auto& gold = entry.at("gold");
      const auto& predicted = entry.at("prediction");
      for (size_t i = 0; i < gold.size(); ++i) {
        rows.push_back({chain.arm, chain.seed, node.name, node.task, kind, language, split, static_cast<int64_t>(i),
                        gold[i].dump(), predicted[i].dump()});
      }
    }
  }
  return rows;
}

// The target's test predictions in XTREME's submission layout:
// RUN_DIR/submissions/<arm>/seed-<seed>/<task>/test-<language>.<extension>.
void write_submission(const fs::path& run_dir, const Chain& chain, const StageNode& node, const nlohmann::json& eval) {
  if (!eval.contains("submission")) return;
  const auto& submission = eval.at("submission");
  const fs::path dir = run_dir / "submissions" / chain.arm / ("seed-" + std::to_string(chain.seed)) / node.task;
  for (const auto& [language, text] : submission.at("files").items()) {
    if (!chain.language.empty() && language != chain.language) continue;
    fs::create_directories(dir);
    write_file_atomic(dir / ("test-" + language + "." + submission.at("extension").get<std::string>()),
                      text.get<std::string>());
  }
}

// Every evaluation in a stage's metrics.json as curve rows: the train loss, and each dev metric per
// language ("all" becomes "" when the dev data has no languages). With several dev files, the first
// file's figure for a (language, metric) is kept.
std::vector<CurveRow> curve_rows(const std::string& hash, const nlohmann::json& metrics) {
  std::vector<CurveRow> rows;
  std::set<std::tuple<int64_t, std::string, std::string, std::string>> seen;
  auto add = [&](int64_t step, double epoch, const std::string& split, const std::string& language,
                 const std::string& metric, const nlohmann::json& v) {
    if (!seen.insert({step, split, language, metric}).second) return;
    rows.push_back({hash, step, epoch, split, language, metric, value_of(v)});
  };
  for (const auto& e : metrics.value("evaluations", nlohmann::json::array())) {
    const int64_t step = e.value("step", int64_t{0});
    const double epoch = e.contains("epoch") && e["epoch"].is_number() ? e["epoch"].get<double>() : 0.0;
    if (e.contains("train_loss") && !e["train_loss"].is_null()) add(step, epoch, "train", "", "loss", e["train_loss"]);
    if (!e.contains("dev") || !e["dev"].is_object()) continue;
    for (const auto& [file, groups] : e["dev"].items()) {
      if (!groups.is_object()) continue;
      const bool per_language = groups.size() > 1;
      for (const auto& [group, values] : groups.items()) {
        if (per_language && group == "all") continue;
        if (!values.is_object()) {  // a flat {metric: value} (e.g. masked-LM loss)
          add(step, epoch, "dev", "", group, values);
          continue;
        }
        for (const auto& [metric, v] : values.items()) add(step, epoch, "dev", group == "all" ? "" : group, metric, v);
      }
    }
  }
  return rows;
}

// The training cost a stage's metrics.json records (see train/cost.h), into its stages row.
void fill_cost(StageRow& row, const fs::path& dir, const nlohmann::json& metrics) {
  const train::TrainingCost cost = train::TrainingCost::from_json(metrics.value("cost", nlohmann::json()));
  row.cpu_s = cost.cpu_s;
  row.examples = cost.examples;
  row.tokens = cost.tokens;
  row.steps = metrics.value("steps", int64_t{0});
  row.flops = stage_training_flops(dir, metrics);
}

std::vector<ResultRow> result_rows(const Chain& chain, const StageNode& node, const nlohmann::json& eval) {
  std::vector<ResultRow> rows;
  for (const std::string split : {"dev", "test"}) {
    if (!eval.contains(split)) continue;
    for (const auto& [language, metrics] : eval.at(split).items()) {
      for (const auto& [metric, value] : metrics.items()) {
        ResultRow r;
        r.arm = chain.arm;
        r.seed = chain.seed;
        r.stage = node.name;
        r.task = node.task;
        r.language = language;
        r.split = split;
        r.metric = metric;
        r.value = value_of(value);
        rows.push_back(std::move(r));
      }
    }
  }
  return rows;
}

std::string describe(const StageNode& node) {
  std::string arms;
  for (const auto& a : node.arms) arms += (arms.empty() ? "" : ", ") + a;
  return node.name + " (task " + node.task + ", seed " + std::to_string(node.seed) + ", arms " + arms + ") " +
         short_key(node.key);
}

void print_graph(const ExperimentConfig& config, const StageGraph& graph, const fs::path& run_dir,
                 const ClaimOptions& claim_options, std::ostream& out) {
  const ClaimDir claims(run_dir / "claims", claim_options);
  size_t to_run = 0;
  size_t arm_chains = 0;
  for (const auto& arm : config.arms) arm_chains += arm.chains.size();
  out << "experiment " << config.name << ": " << graph.chains.size() << " chains (" << config.arms.size()
      << " arms";
  if (arm_chains != config.arms.size()) out << " with " << arm_chains << " chains";
  out << " x " << config.seeds.size() << " seeds), " << graph.nodes.size() << " distinct stages; run dir "
      << run_dir.string() << "\n";
  for (const auto& node : graph.nodes) {
    const StageState state = stage_state(run_dir, node);
    std::string status = "run";
    if (state == StageState::kDone) {
      status = "cached";
    } else if (state == StageState::kPartial) {
      status = "resume";
    }
    std::string worker;  // the live worker running it now, if any
    if (state != StageState::kDone && claims.held_by_live_worker(node.key)) {
      status = "running";
      const auto holder = claims.holder(node.key);
      if (holder) worker = "  (" + holder->describe() + ")";
    }
    if (state != StageState::kDone) ++to_run;
    const std::string steps = node.evaluation_only         ? std::string("evaluation only")
                              : node.config.max_steps > 0 ? std::to_string(node.config.max_steps) + " steps"
                                                          : std::to_string(node.config.epochs) + " epochs";
    out << "  " << status << "\t" << short_key(node.key) << "  " << node.name << "  seed " << node.seed << "  task "
        << node.task << "  " << steps << "  from "
        << (node.upstream.empty() ? std::string("base model") : short_key(node.upstream))
        << (node.evaluated ? "  (evaluated)" : "") << worker << "\n";
  }
  for (const auto& chain : graph.chains) {
    out << "  arm " << chain.arm << " seed " << chain.seed << (chain.language.empty() ? "" : " " + chain.language)
        << ":";
    for (size_t i = 0; i < chain.keys.size(); ++i) {
      out << (i ? " ->" : "") << " " << graph.node(chain.keys[i]).name << "[" << short_key(chain.keys[i]) << "]";
    }
    out << "\n";
  }
  out << to_run << " of " << graph.nodes.size() << " stages to run, " << graph.nodes.size() - to_run << " cached\n";
}

// How much training a stage does, in examples processed (max_steps x batch x accumulation, or epochs x
// training examples): the unit of the study's ETA, so a large intermediate stage weighs more than a
// small target one. Training files are read once each.
class StageWork {
 public:
  double of(const StageNode& node) {
    const train::TrainConfig& c = node.config;
    if (node.evaluation_only) return 0;
    if (c.max_steps > 0) return static_cast<double>(c.max_steps * c.batch_size * c.grad_accum_steps);
    const std::string key = c.format + "\n" + c.train;
    auto it = examples_.find(key);
    if (it == examples_.end()) {
      double n = 0;
      try {
        if (c.task == "mlm") {
          std::istringstream lines(read_file(c.train));
          for (std::string line; std::getline(lines, line);) n += line.find_first_not_of(" \t\r") != std::string::npos;
        } else {
          n = static_cast<double>(tasks::read_dataset(c.train, c.format, train::read_options(c)).examples.size());
        }
      } catch (const InputError&) {
        n = 0;  // the stage itself reports the bad file when it runs
      }
      it = examples_.emplace(key, n).first;
    }
    return static_cast<double>(c.epochs) * it->second;
  }

 private:
  std::map<std::string, double> examples_;
};

// Rank 0's `text` on every rank of `group` (its length, then its bytes; the others pass anything).
std::string broadcast_text(train::ProcessGroup& group, const std::string& text) {
  std::vector<torch::Tensor> length = {torch::full({1}, static_cast<int64_t>(text.size()), torch::kLong)};
  group.broadcast(length, 0);
  const int64_t n = length[0].item<int64_t>();
  std::vector<torch::Tensor> bytes = {torch::zeros({n}, torch::kUInt8)};
  if (group.rank() == 0 && n > 0) std::memcpy(bytes[0].data_ptr<uint8_t>(), text.data(), static_cast<size_t>(n));
  if (n > 0) group.broadcast(bytes, 0);
  return std::string(reinterpret_cast<const char*>(bytes[0].data_ptr<uint8_t>()), static_cast<size_t>(n));
}

// What rank 0 tells the other ranks of a `stilts run` job, one message per step of its walk.
constexpr const char* kStopMessage = "stop";  // no stage left for this worker: return
constexpr const char* kWaitMessage = "wait";  // other workers hold the ready stages: ask again
constexpr const char* kStagePrefix = "stage ";  // "stage <key>": train that stage data-parallel

bool is_leader(const RunOptions& options) { return options.group == nullptr || options.group->rank() == 0; }

}  // namespace

fs::path stage_dir(const fs::path& run_dir, const std::string& key) { return run_dir / "stages" / key; }

StageState stage_state(const fs::path& run_dir, const std::string& key, bool has_model) {
  const fs::path dir = stage_dir(run_dir, key);
  std::error_code ec;
  if (fs::exists(dir / kDoneMarker, ec) && (!has_model || fs::exists(dir / "model.safetensors", ec))) {
    return StageState::kDone;
  }
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) return StageState::kPartial;
  return StageState::kPending;
}

StageState stage_state(const fs::path& run_dir, const StageNode& node) {
  return stage_state(run_dir, node.key, !node.evaluation_only);
}

fs::path model_dir_of(const ExperimentConfig& config, const StageGraph& graph, const fs::path& run_dir,
                      const StageNode& node) {
  if (!node.evaluation_only) return stage_dir(run_dir, node.key);
  if (node.upstream.empty()) return hub::resolve_model(config.model_path).dir;
  return model_dir_of(config, graph, run_dir, graph.node(node.upstream));
}

namespace {

// Trains (or resumes) and evaluates one stage into its directory, ending with the done marker: the
// stage's wall time. The caller holds the stage's claim. Under ranks (options.group) every rank calls
// it for the stage rank 0 named: all train it data-parallel and evaluate it sharded; rank 0 alone
// writes the evaluation and marks the stage done.
double run_stage(const ExperimentConfig& config, const StageGraph& graph, const fs::path& run_dir,
                 const StageNode& node, const std::string& prefix, const RunOptions& options) {
  std::ostream& log = *options.log;
  const fs::path dir = stage_dir(run_dir, node.key);
  nlohmann::json done = {{"key", node.key},   {"name", node.name},         {"task", node.task},
                         {"seed", node.seed}, {"upstream", node.upstream}, {"steps", 0}};
  double training = 0;  // over every attempt (the cost the checkpoints carry)
  const bool leader = is_leader(options);
  if (node.evaluation_only) {
    done["evaluation_only"] = true;
    if (leader) fs::create_directories(dir);
  } else {
    train::TrainConfig c = node.config;
    c.model = node.upstream.empty() ? config.model_path : stage_dir(run_dir, node.upstream).string();
    c.out = dir.string();
    train::TrainOptions train_options;
    train_options.resume = true;
    train_options.log = &log;
    train_options.tty = options.tty;
    train_options.group = options.group;
    const train::TrainOutcome outcome =
        c.task == "mlm" ? train::run_mlm_training(c, train_options) : train::run_training(c, train_options);
    // The other ranks' outcome holds no metrics (rank 0 writes them).
    done["steps"] = outcome.steps;
    if (leader) training = train::TrainingCost::from_json(outcome.metrics.value("cost", nlohmann::json())).wall_s;
    // Every rank evaluates the model rank 0 has written: none reads it before rank 0 is done writing.
    if (options.group != nullptr && node.evaluated) options.group->barrier();
  }
  double eval_s = 0;
  if (node.evaluated) {
    const auto eval_start = std::chrono::steady_clock::now();
    if (leader) {
      log << prefix << "evaluating " << node.name << " in "
          << (node.language.empty()
                  ? std::to_string(config.languages_of(config.tasks.at(node.task)).size()) + " language(s)"
                  : node.language)
          << "\n";
    }
    // Every rank evaluates its share (the same figures as one process); rank 0 writes them.
    const nlohmann::json eval =
        evaluate_stage(config, node, model_dir_of(config, graph, run_dir, node), log, options.group.get());
    if (!leader) return 0;
    write_file_atomic(dir / kEvalFile, eval.dump() + "\n");
    eval_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - eval_start).count();
  }
  const double wall = training + eval_s;
  done["wall_s"] = wall;
  const ClaimHolder me = this_process();
  done["worker"] = {{"host", me.host}, {"pid", me.pid}};
  write_file_atomic(dir / kDoneMarker, done.dump(2) + "\n");  // the stage is finished from here on
  return wall;
}

// Writes every stage's rows, the results, the chains and the efficiency figures into results.sqlite
// from the finished stage directories (every write replaces, so doing it again changes nothing but
// the benchmark's new measurements, which bench_study skips when measured before).
void write_study(const ExperimentConfig& config, const StageGraph& graph, const fs::path& run_dir,
                 const nlohmann::json& resolved, RunSummary& summary, std::ostream& log) {
  const auto store = ResultsStore::open(run_dir / "results.sqlite");
  store->set_meta("experiment", resolved.dump());
  store->set_meta("name", config.name);

  // Each arm's chain per seed (and language).
  std::map<std::pair<std::string, int64_t>, std::vector<ArmStageRow>> chains;
  for (const auto& chain : graph.chains) {
    auto& rows = chains[{chain.arm, chain.seed}];
    for (size_t i = 0; i < chain.keys.size(); ++i) {
      rows.push_back({chain.arm, chain.seed, static_cast<int64_t>(i), graph.node(chain.keys[i]).name, chain.keys[i],
                      chain.language, graph.node(chain.target()).name});
    }
  }
  for (const auto& [arm_seed, rows] : chains) store->replace_arm_stages(arm_seed.first, arm_seed.second, rows);

  for (const auto& node : graph.nodes) {
    const fs::path dir = stage_dir(run_dir, node.key);
    StageRow row;
    row.hash = node.key;
    row.name = node.name;
    row.arm = node.arm;
    row.seed = node.seed;
    row.status = "done";
    row.wall_s = read_json_file(dir / kDoneMarker).value("wall_s", 0.0);
    // The stage's curve and cost from its metrics.json.
    const fs::path metrics_path = dir / "metrics.json";
    if (fs::exists(metrics_path)) {
      const nlohmann::json metrics = read_json_file(metrics_path);
      fill_cost(row, dir, metrics);
      store->replace_curves(row.hash, curve_rows(row.hash, metrics));
    }
    store->put_stage(row);
    if (!node.evaluated) continue;
    // The target stage's evaluation as results rows of every (arm, seed) whose chain ends in it.
    const nlohmann::json eval = read_json_file(dir / kEvalFile);
    for (const auto& chain : graph.chains) {
      if (chain.target() != node.key) continue;
      const std::vector<ResultRow> rows = result_rows(chain, node, eval);
      std::vector<std::string> scope;
      if (!chain.language.empty()) scope.push_back(chain.language);
      store->replace_results(chain.arm, chain.seed, node.name, rows, prediction_rows(chain, node, eval), scope);
      write_submission(run_dir, chain, node, eval);
      summary.result_rows += rows.size();
    }
  }
  bench_study(config, graph, run_dir, *store, log);
}

}  // namespace

RunSummary run_experiment(const ExperimentConfig& config, const RunOptions& options) {
  std::ostream& log = *options.log;
  config.validate();
  if (!(options.poll_s > 0)) input_error("the poll interval must be above 0 seconds (got ", options.poll_s, ")");
  const StageGraph graph = build_stage_graph(config);
  const fs::path run_dir = fs::absolute(options.out).lexically_normal();
  RunSummary summary;
  summary.stages = graph.nodes.size();
  ClaimOptions claim_options;
  claim_options.stale_after_s = options.claim_timeout_s;
  ClaimDir claims(run_dir / "claims", claim_options);
  if (options.dry_run) {
    if (is_leader(options)) print_graph(config, graph, run_dir, claim_options, *options.listing);
    return summary;
  }
  if (!is_leader(options)) {
    // Another rank of a worker launched the torchrun way: it trains the stages rank 0 names, with it.
    for (;;) {
      const std::string message = broadcast_text(*options.group, "");
      if (message == kStopMessage) return summary;
      if (message == kWaitMessage) continue;
      const std::string key = message.rfind(kStagePrefix, 0) == 0 ? message.substr(std::strlen(kStagePrefix)) : "";
      const auto it = std::find_if(graph.nodes.begin(), graph.nodes.end(),
                                   [&](const StageNode& n) { return !key.empty() && n.key == key; });
      if (it == graph.nodes.end()) {
        input_error("rank ", options.group->rank(), ": rank 0 named a stage this rank's study does not have ('",
                    message, "'): every rank must run the same config with the same --set options");
      }
      run_stage(config, graph, run_dir, *it, "", options);
      ++summary.trained;
    }
  }

  fs::create_directories(run_dir / "stages");
  nlohmann::json resolved = config.to_json();
  write_file_atomic(run_dir / "experiment.resolved.json", resolved.dump(2) + "\n");

  auto done = [&](const StageNode& node) { return stage_state(run_dir, node) == StageState::kDone; };
  auto prefix_of = [&](const StageNode& node) {
    const size_t position = static_cast<size_t>(&node - graph.nodes.data()) + 1;
    return "[" + std::to_string(position) + "/" + std::to_string(graph.nodes.size()) + "] ";
  };

  size_t pending = 0;
  StageWork work;
  double work_done_here = 0, seconds_done_here = 0;
  for (const auto& node : graph.nodes) {
    if (done(node)) {
      ++summary.cached;
      log << prefix_of(node) << describe(node) << ": cached\n";
    } else {
      ++pending;
    }
  }
  log << "stilts run: " << config.name << ": " << graph.nodes.size() << " stages, " << pending << " to run, "
      << summary.cached << " cached; run dir " << run_dir.string() << "\n";

  // Each worker claims the first stage (in graph order: upstream first, seed-major) that is not done,
  // whose upstream stage is done, and that no live worker holds; with nothing to claim it waits for
  // the other workers' stages. Done stages are never redone, so the outcome is one worker's.
  const auto study_start = std::chrono::steady_clock::now();
  bool waiting = false;
  for (;;) {
    bool all_done = true, ran = false;
    std::vector<const StageNode*> held;
    for (const auto& node : graph.nodes) {
      if (done(node)) continue;
      all_done = false;
      if (!node.upstream.empty() && !done(graph.node(node.upstream))) continue;
      std::optional<ClaimHolder> reclaimed;
      std::unique_ptr<StageClaim> claim = claims.try_claim(node.key, &reclaimed);
      if (!claim) {
        held.push_back(&node);
        continue;
      }
      if (done(node)) continue;  // finished by another worker between the look and the claim
      const std::string prefix = prefix_of(node);
      if (reclaimed) log << prefix << "taking over the stage of a dead worker, " << reclaimed->describe() << "\n";
      waiting = false;
      const auto start = std::chrono::steady_clock::now();
      log << prefix << describe(node) << ": "
          << (node.evaluation_only                                 ? "evaluating"
              : stage_state(run_dir, node) == StageState::kPartial ? "resuming"
                                                                   : "training")
          << "\n";
      double wall = 0;
      if (options.group != nullptr) broadcast_text(*options.group, kStagePrefix + node.key);
      try {
        wall = run_stage(config, graph, run_dir, node, prefix, options);
      } catch (...) {
        // Best effort: the failure in the stages table (the error itself propagates).
        try {
          StageRow row;
          row.hash = node.key;
          row.name = node.name;
          row.arm = node.arm;
          row.seed = node.seed;
          row.status = "failed";
          row.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          ResultsStore::open(run_dir / "results.sqlite")->put_stage(row);
        } catch (...) {
        }
        throw;
      }
      if (const auto other = claim->taken_over_by()) {
        log << prefix << "warning: while this worker ran the stage, " << other->describe()
            << " took its claim over (no heartbeat seen for --claim-timeout " << options.claim_timeout_s
            << " s): both ran it; raise --claim-timeout if the hosts' clocks or the filesystem lag\n";
      }
      claim->release();
      ran = true;
      ++summary.trained;
      // The ETA: this worker's seconds per unit of work so far, times the work left.
      work_done_here += work.of(node);
      seconds_done_here += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      size_t left = 0;
      double work_left = 0;
      for (const auto& other : graph.nodes) {
        if (done(other)) continue;
        ++left;
        work_left += work.of(other);
      }
      log << prefix << node.name << " done in " << seconds(wall) << "; " << left << " stage(s) left";
      if (left > 0 && work_done_here > 0) {
        log << ", study ETA " << seconds(seconds_done_here / work_done_here * work_left);
      }
      log << "\n";
      break;  // look again from the first stage
    }
    if (all_done) break;
    if (ran) continue;
    if (options.group != nullptr) broadcast_text(*options.group, kWaitMessage);
    if (!waiting) {
      waiting = true;
      std::string which;
      for (const StageNode* node : held) {
        const auto holder = claims.holder(node->key);
        which += "\n  " + node->name + " " + short_key(node->key) + (holder ? ": " + holder->describe() : "");
      }
      log << "stilts run: nothing ready here; waiting for the stage(s) other workers hold:" << which << "\n";
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(options.poll_s));
  }

  if (options.group != nullptr) broadcast_text(*options.group, kStopMessage);
  if (!options.finish) {
    log << "stilts run: worker done: " << summary.trained << " stage(s) trained here; every stage is finished\n";
    return summary;
  }
  // The graph is finished: one worker at a time writes results.sqlite and measures efficiency; a
  // worker that finds another doing it leaves it to that one.
  std::unique_ptr<DirectoryLock> lock;
  try {
    lock = std::make_unique<DirectoryLock>(run_dir, "another worker is writing the study's results");
  } catch (const InputError&) {
    log << "stilts run: every stage is finished; another worker is writing results.sqlite and the report\n";
    return summary;
  }
  write_study(config, graph, run_dir, resolved, summary, log);
  summary.wrote_results = true;
  for (const auto& node : graph.nodes) claims.clear_if_dead(node.key);  // left by workers killed after their stage

  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - study_start).count();
  log << "stilts run: done in " << seconds(total) << ": " << summary.trained << " stage(s) trained, " << summary.cached
      << " cached; " << summary.result_rows << " result rows in " << (run_dir / "results.sqlite").string() << "\n";
  return summary;
}

}  // namespace stilts::pipeline
