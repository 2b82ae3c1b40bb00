// stilts train --model DIR --task KIND --train FILE --dev FILE --out DIR [options]
#include <iostream>

#include "commands.h"
#include "tasks/datasets/dataset.h"
#include "train/config.h"
#include "train/distributed.h"
#include "train/trainer.h"
#include "tasks/kind.h"
#include "train_options.h"

namespace stilts::cli {

namespace {

std::string join(const std::vector<std::string>& items, const std::string& separator = "|") {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : separator) + s;
  return out;
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "train",
      "Fine-tune a model directory on a task: AdamW, warm-up + decay, dev evaluation, checkpoints.\n"
      "The output directory gets the final model (HF layout), metrics.json, config.resolved.json and\n"
      "checkpoints/. A run killed at any moment continues with --resume and ends bit-identical.\n"
      "Head rule: the checkpoint's own head is reused when its label space matches the task (same kind,\n"
      "number of labels and label names unless they are LABEL_0..), else a new head is attached\n"
      "(--head reinit|reuse forces either; reuse errors when the label spaces differ).\n"
      "Data-parallel: launched by torchrun or stilts launch (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT set),\n"
      "each rank trains on its share of every batch (--batch-size is the global batch) and rank 0 writes.");
  // Options land in a config that starts from the defaults; only the options given on the command line
  // override the config file (see the layering in train/config.h).
  using C = train::TrainConfig;
  auto options = TrainConfigOptions::attach(cmd);
  options->add("--model", &C::model, "Hugging Face model directory (weights, config.json, tokenizer)");
  options->add("--task", &C::task, join(tasks::task_kind_names(), " | ") + " (default pair-classification)");
  options->add("--train", &C::train, "training data file");
  options->add("--dev", &C::dev, "dev data file (repeatable)");
  options->add("--format", &C::format, "data format: " + join(tasks::dataset_formats()) + " (default tsv)");
  options->add("--out", &C::out, "run directory");
  options->add("--patience", &C::early_stopping_patience,
               "early stopping after N evaluations without improvement (default 0: off)");
  options->add("--head", &C::head, "auto | reinit | reuse (default auto)");
  options->add("--final-model", &C::final_model, "best | last: the weights written to --out (default best)");
  options->add_shared("peak learning rate (default 2e-5)", "seed of head init, dropout and data order (default 42)");
  cmd->callback([options] {
    const train::TrainConfig config = options->resolve(train::TrainConfig{});
    // Launched the torchrun way (RANK, WORLD_SIZE, ...): one rank of a data-parallel job; only rank 0 logs.
    std::ostream quiet(nullptr);
    const train::TrainOptions run = options->run_options(quiet);
    const train::TrainOutcome outcome = train::run_training(config, run);
    if (outcome.already_finished && (run.group == nullptr || run.group->rank() == 0)) {
      std::cerr << "stilts train: " << outcome.out.string() << " holds a finished run (" << outcome.steps
                << " steps): nothing to do\n";
    }
  });
}

}  // namespace stilts::cli
