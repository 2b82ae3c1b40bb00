// stilts results RUN_DIR [--json|--csv] [--baseline ARM] [--level L]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common/error.h"
#include "pipeline/arm_summary.h"
#include "pipeline/results_store.h"
#include "pipeline/study_stats.h"
#include "study_view.h"

namespace stilts::cli {

namespace {

namespace fs = std::filesystem;

nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

std::string p_text(double p) {
  if (!std::isfinite(p)) return "n/a";
  if (p < 1e-4) return "<0.0001";
  return fixed(p);
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string csv_number(double v) {
  if (!std::isfinite(v)) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

void add_results_command(CLI::App& app) {
  struct Args {
    std::string run_dir;
    bool json = false;
    bool csv = false;
    std::string baseline;
    double level = 0.95;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "results",
      "Print a run directory's results (RUN_DIR/results.sqlite): per arm and language mean ± std over seeds with\n"
      "t confidence intervals, each arm's per-language difference from the baseline arm (paired over seeds)\n"
      "with its interval, p-value and significance, and the stages table. With several target tasks, also\n"
      "each task's, group's (XTREME-R's) and the overall benchmark score per arm, and inference per task.");
  cmd->add_option("run_dir", args->run_dir, "run directory written by stilts run")->required();
  auto* json = cmd->add_flag("--json", args->json,
                             "one JSON document with \"results\", \"summary\", \"differences\", \"arms\", \"stages\"\n"
                             "(and \"benchmark_scores\" when the final stages hold more than one task)");
  cmd->add_flag("--csv", args->csv, "the summary rows as CSV")->excludes(json);
  cmd->add_option("--baseline", args->baseline,
                  "arm the others are compared with (default: \"direct\" if present, else the first by name)");
  cmd->add_option("--level", args->level, "confidence level of the intervals")->default_val(0.95)
      ->check(CLI::Range(0.5, 0.9999));
  cmd->callback([args] {
    const fs::path dir = args->run_dir;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) input_error(dir.string(), ": no such run directory");
    const fs::path db = dir / "results.sqlite";
    if (!fs::is_regular_file(db, ec)) {
      input_error(db.string(), ": no results database (is ", dir.string(), " a stilts run directory?)");
    }
    const auto store = pipeline::ResultsStore::open_existing(db);
    const auto rows = store->results();
    const auto stages = store->stages();
    const auto predictions = store->predictions();
    pipeline::StatsOptions options;
    options.level = args->level;
    const auto summary = pipeline::summarize(rows, options);
    const auto arms = pipeline::arm_names(rows);
    std::string baseline = args->baseline.empty() ? pipeline::default_baseline(arms) : args->baseline;
    if (!args->baseline.empty() && std::find(arms.begin(), arms.end(), baseline) == arms.end()) {
      std::string names;
      for (const auto& a : arms) names += (names.empty() ? "" : ", ") + a;
      input_error(db.string(), ": --baseline '", baseline, "' is not an arm (arms: ", names.empty() ? "none" : names,
                  ")");
    }
    std::vector<pipeline::DifferenceRow> differences;
    for (const auto& arm : arms) {
      if (arm == baseline) continue;
      auto d = pipeline::arm_differences(rows, arm, baseline, options, predictions);
      differences.insert(differences.end(), d.begin(), d.end());
    }

    if (args->csv) {
      std::cout << "arm,stage,task,language,split,metric,n,mean,std,ci_lower,ci_upper,level\n";
      for (const auto& s : summary) {
        std::cout << csv_field(s.arm) << ',' << csv_field(s.stage) << ',' << csv_field(s.task) << ','
                  << csv_field(s.language) << ',' << csv_field(s.split) << ',' << csv_field(s.metric) << ',' << s.n
                  << ',' << csv_number(s.mean) << ',' << csv_number(s.std) << ',' << csv_number(s.ci_lower) << ','
                  << csv_number(s.ci_upper) << ',' << csv_number(s.level) << "\n";
      }
      return;
    }

    if (args->json) {
      nlohmann::json j;
      j["run_dir"] = dir.string();
      j["baseline"] = baseline;
      j["level"] = args->level;
      j["results"] = nlohmann::json::array();
      for (const auto& r : rows) {
        j["results"].push_back({{"arm", r.arm}, {"seed", r.seed}, {"stage", r.stage}, {"task", r.task},
                                {"language", r.language}, {"split", r.split}, {"metric", r.metric},
                                {"value", number(r.value)}});
      }
      j["summary"] = nlohmann::json::array();
      for (const auto& s : summary) {
        j["summary"].push_back({{"arm", s.arm}, {"stage", s.stage}, {"task", s.task}, {"language", s.language},
                                {"split", s.split}, {"metric", s.metric}, {"n", s.n}, {"undefined", s.undefined},
                                {"seeds", s.seeds}, {"mean", number(s.mean)}, {"std", number(s.std)},
                                {"ci_lower", number(s.ci_lower)}, {"ci_upper", number(s.ci_upper)},
                                {"level", s.level}});
      }
      j["differences"] = nlohmann::json::array();
      for (const auto& d : differences) {
        j["differences"].push_back(
            {{"arm", d.arm_a}, {"baseline", d.arm_b}, {"stage", d.stage}, {"task", d.task}, {"language", d.language},
             {"split", d.split}, {"metric", d.metric}, {"method", d.method}, {"n", d.n},
             {"mean_arm", number(d.mean_a)}, {"mean_baseline", number(d.mean_b)},
             {"difference", number(d.difference)}, {"ci_lower", number(d.ci_lower)},
             {"ci_upper", number(d.ci_upper)}, {"p_value", number(d.p_value)}, {"level", d.level},
             {"significant", d.significant}});
      }
      pipeline::ArmSummaryOptions arm_options;
      arm_options.baseline = baseline;
      arm_options.level = args->level;
      arm_options.headline_metrics = pipeline::declared_headlines(store->meta("experiment"));
      auto relative = [](const pipeline::Relative& r) {
        return nlohmann::json{{"difference", number(r.difference)}, {"ci_lower", number(r.ci_lower)},
                              {"ci_upper", number(r.ci_upper)}, {"n", r.n},
                              {"verdict", pipeline::verdict_name(r.verdict)}};
      };
      j["arms"] = nlohmann::json::array();
      for (const auto& l : pipeline::summarize_arms(rows, stages, store->arm_stages(), store->efficiency(), arm_options)) {
        j["arms"].push_back({{"arm", l.arm},
                             {"task", l.task},
                             {"metric", l.metric},
                             {"split", l.split},
                             {"seeds", l.seeds},
                             {"accuracy", number(l.accuracy)},
                             {"accuracy_points_vs_baseline", number(l.accuracy_points)},
                             {"latency_batch_size", l.latency_batch},
                             {"latency_ms_p50", number(l.latency_p50_ms)},
                             {"latency_ms_p99", number(l.latency_p99_ms)},
                             {"throughput_batch_size", l.throughput_batch},
                             {"throughput_seq_s", number(l.throughput_seq_s)},
                             {"peak_rss_mb", number(l.peak_rss_mb)},
                             {"params_total", number(l.params_total)},
                             {"params_differing", number(l.params_differing)},
                             {"train_wall_s", number(l.train_wall_s)},
                             {"train_flops", number(l.train_flops)},
                             {"seconds_per_accuracy_point", number(l.seconds_per_point)},
                             {"latency_vs_baseline", relative(l.latency)},
                             {"throughput_vs_baseline", relative(l.throughput)},
                             {"memory_vs_baseline", relative(l.memory)}});
      }
      if (const auto scores = multi_task_scores(*store, rows)) {
        nlohmann::json b;
        b["scores"] = nlohmann::json::array();
        for (const auto& s : scores->scores) {
          const char* kind = s.kind == pipeline::ScoreInfo::kTask ? "task"
                             : s.kind == pipeline::ScoreInfo::kGroup ? "group"
                                                                     : "overall";
          b["scores"].push_back({{"name", s.name}, {"label", s.label}, {"type", kind}, {"task_kind", s.task_kind},
                                 {"group", s.group}, {"metric", s.metric}, {"languages", s.languages},
                                 {"tasks", s.tasks}});
        }
        b["summary"] = nlohmann::json::array();
        for (const auto& s : pipeline::summarize(scores->rows, options)) {
          b["summary"].push_back({{"arm", s.arm}, {"score", s.task}, {"split", s.split}, {"n", s.n},
                                  {"seeds", s.seeds}, {"mean", number(s.mean)}, {"std", number(s.std)},
                                  {"ci_lower", number(s.ci_lower)}, {"ci_upper", number(s.ci_upper)},
                                  {"level", s.level}});
        }
        b["differences"] = nlohmann::json::array();
        for (const auto& arm : arms) {
          if (arm == baseline) continue;
          for (const auto& d : pipeline::arm_differences(scores->rows, arm, baseline, options)) {
            b["differences"].push_back(
                {{"arm", d.arm_a}, {"baseline", d.arm_b}, {"score", d.task}, {"split", d.split}, {"method", d.method},
                 {"n", d.n}, {"difference", number(d.difference)}, {"ci_lower", number(d.ci_lower)},
                 {"ci_upper", number(d.ci_upper)}, {"p_value", number(d.p_value)}, {"level", d.level},
                 {"significant", d.significant}});
          }
        }
        b["left_out"] = nlohmann::json::array();
        for (const auto& l : scores->left_out) {
          b["left_out"].push_back({{"arm", l.arm}, {"seed", l.seed}, {"score", l.name}, {"reason", l.reason}});
        }
        b["unscored"] = scores->unscored;
        b["efficiency"] = nlohmann::json::array();
        const auto eff = pipeline::task_efficiency(store->efficiency(), stages,
                                                   pipeline::study_tasks(store->meta("experiment")));
        for (const auto& e : eff.rows) {
          b["efficiency"].push_back({{"task", e.task}, {"kind", e.kind}, {"arm", e.arm}, {"seeds", e.seeds},
                                     {"latency_batch_size", e.latency_batch}, {"latency_ms_p50", number(e.latency_p50_ms)},
                                     {"throughput_batch_size", e.throughput_batch},
                                     {"throughput_seq_s", number(e.throughput_seq_s)},
                                     {"peak_rss_mb", number(e.peak_rss_mb)}, {"params_total", number(e.params_total)}});
        }
        j["benchmark_scores"] = std::move(b);
      }
      j["stages"] = nlohmann::json::array();
      for (const auto& s : stages) {
        j["stages"].push_back({{"hash", s.hash},          {"name", s.name},
                               {"arm", s.arm},            {"seed", s.seed},
                               {"status", s.status},      {"wall_s", number(s.wall_s)},
                               {"cpu_s", number(s.cpu_s)}, {"examples", s.examples},
                               {"tokens", s.tokens},      {"flops", number(s.flops)},
                               {"steps", s.steps}});
      }
      std::cout << j.dump(2) << "\n";
      return;
    }

    const std::string pct = fixed(100 * args->level, 0) + "%";
    std::cout << "run " << dir.string() << ": " << rows.size() << " results, " << arms.size() << " arms, "
              << stages.size() << " stages\n\n";
    print_comparison(dir, baseline, args->level);
    print_benchmark_scores(dir, baseline, args->level);
    std::cout << "\n";
    std::cout << "summary (mean ± std over seeds, " << pct << " t-interval of the mean)\n";
    {
      std::vector<std::vector<std::string>> t;
      for (const auto& s : summary) {
        t.push_back({s.task, s.split, s.metric, s.language, s.arm, s.stage, std::to_string(s.n),
                     fixed(s.mean) + " ± " + fixed(s.std), interval(s.ci_lower, s.ci_upper)});
      }
      print_table({"task", "split", "metric", "language", "arm", "stage", "n", "mean ± std", "ci"}, t);
    }
    std::cout << "\ndifferences vs " << (baseline.empty() ? "-" : baseline)
              << " (arm − baseline, " << pct
              << " interval; paired-bootstrap: over test examples and seeds; paired-t: over seeds; * = interval "
                 "excludes 0)\n";
    if (differences.empty()) {
      std::cout << "(none: " << (arms.size() < 2 ? "fewer than two arms" : "no figures in common") << ")\n";
    } else {
      std::vector<std::vector<std::string>> t;
      for (const auto& d : differences) {
        t.push_back({d.task, d.split, d.metric, d.language, d.arm_a, d.stage, d.method, std::to_string(d.n),
                     fixed(d.difference, 4, true), interval(d.ci_lower, d.ci_upper), p_text(d.p_value),
                     d.significant ? "*" : ""});
      }
      print_table({"task", "split", "metric", "language", "arm", "stage", "test", "n", "difference", "ci", "p", "sig"},
                  t);
    }
    std::cout << "\nstages\n";
    {
      std::vector<std::vector<std::string>> t;
      for (const auto& s : stages) {
        t.push_back({s.hash.substr(0, 12), s.name, s.arm, std::to_string(s.seed), s.status, fixed(s.wall_s, 1),
                     fixed(s.cpu_s, 1), std::to_string(s.steps), std::to_string(s.examples), std::to_string(s.tokens),
                     std::isnan(s.flops) ? "-" : fixed(s.flops / 1e12, 3)});
      }
      print_table({"hash", "name", "arm", "seed", "status", "wall_s", "cpu_s", "steps", "examples", "tokens", "TFLOP"},
                  t);
    }
  });
}

}  // namespace stilts::cli
