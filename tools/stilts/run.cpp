// stilts run EXPERIMENT.toml [--set key=value ...] [--out RUN_DIR] [--dry-run]
#include <iostream>

#include "commands.h"
#include "hub/cache.h"
#include "common/error.h"
#include "pipeline/experiment_config.h"
#include "pipeline/runner.h"
#include "report/report.h"

namespace stilts::cli {

void add_run_command(CLI::App& app) {
  struct Args {
    std::string config;
    std::vector<std::string> settings;
    std::string out;
    bool dry_run = false;
    bool no_report = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "run",
      "Run a study from an experiment config (TOML): every arm (a chain of stages, e.g. intermediate ->\n"
      "target, or target alone; or several chains, one per target task) for every seed, each stage\n"
      "trained once and shared by the chains that start with it, then each target model evaluated\n"
      "zero-shot on every language's dev and test files (a task without train files only evaluates).\n"
      "Results go to RUN_DIR/results.sqlite (results, stages, curves, predictions, efficiency, ...); stages\n"
      "to RUN_DIR/stages/<hash>/; the report to RUN_DIR/report/ (as stilts report writes it).\n"
      "Run it again after a crash or kill: finished stages are skipped, an unfinished one resumes exactly.");
  cmd->add_option("config", args->config, "experiment config (.toml)")->required();
  cmd->add_option("--set", args->settings,
                  "dotted.key=value over the config file (repeatable), e.g. stages.target.epochs=1");
  cmd->add_option("--out", args->out, "run directory (default: runs/<experiment.name>)");
  cmd->add_flag("--dry-run", args->dry_run, "print the stage graph (which stages run, which are cached) and exit");
  cmd->add_flag("--no-report", args->no_report, "don't write RUN_DIR/report/ at the end");
  cmd->callback([args] {
    pipeline::ExperimentConfig config = pipeline::load_experiment(args->config, args->settings);
    if (!args->dry_run) {
      // A hub id runs on its cached snapshot: the run records that folder, whose name is the commit.
      const hub::ResolvedModel model = hub::resolve_model(config.model_path);
      if (!model.repo.empty()) {
        std::cerr << "stilts run: model " << model.repo << "@" << model.revision << " = commit " << model.commit
                  << " (" << model.dir.string() << ")\n";
      }
      config.model_path = model.dir.string();
    }
    pipeline::RunOptions options;
    options.out = args->out.empty() ? std::filesystem::path("runs") / config.name : std::filesystem::path(args->out);
    options.dry_run = args->dry_run;
    pipeline::run_experiment(config, options);
    if (args->dry_run || args->no_report) return;
    // The study's figures are safe in results.sqlite whatever happens here: a report that cannot be
    // written (e.g. gnuplot missing) is a warning, not a failed run.
    try {
      const report::ReportPaths paths = report::write_report(options.out);
      std::cerr << "stilts run: report in " << paths.html.string() << "\n";
    } catch (const InputError& e) {
      std::cerr << "stilts run: warning: the report was not written: " << e.what() << "\n"
                << "  (the results are in " << (options.out / "results.sqlite").string()
                << "; retry with: stilts report " << options.out.string() << ")\n";
    }
  });
}

}  // namespace stilts::cli
