// stilts run EXPERIMENT.toml [--set key=value ...] [--out RUN_DIR] [--dry-run]
#include <iostream>

#include "commands.h"
#include "pipeline/experiment_config.h"
#include "pipeline/runner.h"

namespace stilts::cli {

void add_run_command(CLI::App& app) {
  struct Args {
    std::string config;
    std::vector<std::string> settings;
    std::string out;
    bool dry_run = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "run",
      "Run a study from an experiment config (TOML): every arm (a chain of stages, e.g. intermediate ->\n"
      "target, or target alone) for every seed, each stage trained once and shared by the arms that\n"
      "start with it, then the target model evaluated zero-shot on every language's dev and test files.\n"
      "Results go to RUN_DIR/results.sqlite (tables results and stages); stages to RUN_DIR/stages/<hash>/.\n"
      "Run it again after a crash or kill: finished stages are skipped, an unfinished one resumes exactly.");
  cmd->add_option("config", args->config, "experiment config (.toml)")->required();
  cmd->add_option("--set", args->settings,
                  "dotted.key=value over the config file (repeatable), e.g. stages.target.epochs=1");
  cmd->add_option("--out", args->out, "run directory (default: runs/<experiment.name>)");
  cmd->add_flag("--dry-run", args->dry_run, "print the stage graph (which stages run, which are cached) and exit");
  cmd->callback([args] {
    const pipeline::ExperimentConfig config = pipeline::load_experiment(args->config, args->settings);
    pipeline::RunOptions options;
    options.out = args->out.empty() ? std::filesystem::path("runs") / config.name : std::filesystem::path(args->out);
    options.dry_run = args->dry_run;
    pipeline::run_experiment(config, options);
  });
}

}  // namespace stilts::cli
