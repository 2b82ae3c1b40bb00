#include "pipeline/study_bench.h"

#include <torch/torch.h>

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "bench/machine.h"
#include "bench/measure.h"
#include "bench/params.h"
#include "common/error.h"
#include "common/files.h"
#include "io/hf_config.h"
#include "pipeline/runner.h"
#include "tasks/datasets/dataset.h"
#include "tasks/features.h"
#include "text/auto.h"
#include "tasks/kind.h"
#include "train/cost.h"
#include "train/evaluate.h"
#include "train/read_options.h"

namespace stilts::pipeline {

namespace fs = std::filesystem;

namespace {

constexpr int kBenchMarkerVersion = 1;

// The first `max_examples` examples of every evaluated language's test file (dev when the task has
// no test file), prepared for `model` as its evaluation sees them, each example tagged with its language.
tasks::Features bench_features(const ExperimentConfig& config, const StageNode& node, const train::EvalModel& model) {
  const TaskSpec& task = config.tasks.at(node.task);
  const train::TrainConfig& c = node.config;
  auto files = config.eval_files(task, "test", node.language);
  if (files.empty()) files = config.eval_files(task, "dev", node.language);
  if (files.empty()) input_error(config.source.string(), ": [tasks.", node.task, "] has no dev or test file to benchmark on");
  const std::unique_ptr<tasks::TaskKind> kind = train::task_kind_of(c);
  tasks::Features all;
  int64_t examples = 0;
  for (const auto& [language, file] : files) {
    train::DataFile data_file = train::data_file_of(c, file, language);
    data_file.max_examples = config.bench.max_examples;
    const train::PreparedData prepared = train::prepare_data(model, *kind, data_file);
    tasks::append_features(all, prepared.features, examples);
    examples += static_cast<int64_t>(prepared.data.examples.size());
  }
  return all;
}

struct FinalModel {
  const Chain* chain;
  const StageNode* node;
};

}  // namespace

double stage_training_flops(const fs::path& dir, const nlohmann::json& metrics) {
  const train::TrainingCost cost = train::TrainingCost::from_json(metrics.value("cost", nlohmann::json()));
  if (cost.sequences_by_length.empty() || !fs::exists(dir / "config.json")) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  const nlohmann::json config = io::read_config_json(dir);
  const bool classification_head = metrics.value("task", std::string()) != "mlm";
  double flops = 0;
  for (const auto& [length, rows] : cost.sequences_by_length) {
    flops += static_cast<double>(rows) *
             bench::training_flops(bench::forward_flops(config, length, classification_head, (dir / "config.json").string()));
  }
  return flops;
}

size_t bench_study(const ExperimentConfig& config, const StageGraph& graph, const fs::path& run_dir, ResultsStore& store,
                   std::ostream& log) {
  if (!config.bench.enabled) return 0;
  const BenchSpec& spec = config.bench;
  bench::MeasureOptions options;
  options.mode = bench::parse_mode(spec.mode);
  options.threads = static_cast<int>(spec.threads);
  options.min_reps = static_cast<int>(spec.min_repetitions);
  options.min_seconds = spec.min_time_s;
  options.validate();
  const int previous_threads = at::get_num_threads();

  store.set_meta("fingerprint", bench::machine_fingerprint().dump());
  store.set_meta("peak_flops", bench::to_json(bench::peak_flops()).dump());

  // Interleaved groups: one seed's arms at one target (per language for per-language chains, which
  // evaluate on different data). A model that ends several chains (arms sharing a chain) is measured once.
  std::set<std::string> targets;
  for (const auto& chain : graph.chains) targets.insert(graph.node(chain.target()).name);
  std::map<std::tuple<int64_t, std::string, std::string>, std::vector<FinalModel>> groups;
  for (const auto& chain : graph.chains) {
    const StageNode& node = graph.node(chain.target());
    groups[{chain.seed, chain.language, targets.size() > 1 ? node.name : ""}].push_back({&chain, &node});
  }
  fs::create_directories(run_dir / "bench");
  size_t measured = 0;
  for (const auto& [group, finals] : groups) {
    const auto& [seed, language, target] = group;
    const std::string suffix = (language.empty() ? "" : "-" + language) + (target.empty() ? "" : "-" + target);
    const std::string label = "seed " + std::to_string(seed) + (language.empty() ? "" : " " + language) +
                              (target.empty() ? "" : " " + target);
    nlohmann::json identity = {{"version", kBenchMarkerVersion}, {"bench", config.to_json().at("bench")},
                               {"models", nlohmann::json::array()}};
    for (const auto& f : finals) identity["models"].push_back({f.chain->arm, f.chain->language, f.node->key});
    const fs::path marker = run_dir / "bench" / ("seed-" + std::to_string(seed) + suffix + ".json");
    if (fs::exists(marker) && read_json_file(marker) == identity) {
      log << "bench: " << label << ": measured before\n";
      continue;
    }
    std::vector<const StageNode*> distinct;  // the group's models, each once
    for (const auto& f : finals) {
      if (std::find(distinct.begin(), distinct.end(), f.node) == distinct.end()) distinct.push_back(f.node);
    }
    log << "bench: " << label << ": " << distinct.size() << " model(s), " << spec.mode << ", batch sizes";
    for (const auto b : spec.batch_sizes) log << " " << b;
    log << ", interleaved\n";
    std::vector<std::unique_ptr<tasks::TaskKind>> kinds;  // the workloads run them: kept to the end
    std::vector<bench::BenchModel> models;
    std::vector<bench::ParameterReport> reports;
    std::vector<double> mean_tokens;
    for (const StageNode* node : distinct) {
      const fs::path dir = model_dir_of(config, graph, run_dir, *node);
      bench::BenchModel m = bench::load_bench_model(dir, node->key);
      const tasks::Features features = bench_features(config, *node, train::load_eval_model(dir, m.model));
      kinds.push_back(train::task_kind_of(node->config));
      const tasks::TaskKind& kind = *kinds.back();
      for (const int64_t b : spec.batch_sizes) {
        auto w = bench::data_workloads(kind, features, b, /*pooled=*/false, static_cast<uint64_t>(seed));
        m.workloads.insert(m.workloads.end(), std::make_move_iterator(w.begin()), std::make_move_iterator(w.end()));
      }
      mean_tokens.push_back(static_cast<double>(features.num_tokens()) / static_cast<double>(features.size()));
      reports.push_back(bench::parameter_report(*m.model, dir, config.model_path));
      models.push_back(std::move(m));
    }
    const bench::BenchResult result = bench::measure(models, options);
    for (const auto& f : finals) {
      const Chain& chain = *f.chain;
      const std::string& model = f.node->key;
      const size_t i = static_cast<size_t>(std::find(distinct.begin(), distinct.end(), f.node) - distinct.begin());
      std::vector<EfficiencyRow> rows;
      auto add = [&](const bench::EfficiencyRow& r) {
        if (r.model != model) return;
        rows.push_back({chain.arm, chain.seed, r.model, r.mode, r.threads, r.batch_size, r.seq_len, r.language,
                        r.metric, r.value});
      };
      for (const auto& r : bench::efficiency_rows(result)) add(r);
      const int threads = result.records.empty() ? 0 : result.records.front().threads;
      for (const auto& r : bench::model_efficiency_rows(models[i], reports[i], options.mode, threads, mean_tokens[i])) {
        add(r);
      }
      std::vector<LatencySampleRow> samples;
      for (const auto& s : bench::latency_sample_rows(result)) {
        if (s.model != model) continue;
        samples.push_back({chain.arm, chain.seed, s.model, s.mode, s.threads, s.batch_size, s.seq_len, s.language, s.rep,
                           s.ms});
      }
      store.replace_efficiency(chain.arm, chain.seed, model, rows, samples);
    }
    write_file_atomic(marker, identity.dump(2) + "\n");
    measured += models.size();
  }
  at::set_num_threads(previous_threads);
  return measured;
}

}  // namespace stilts::pipeline
