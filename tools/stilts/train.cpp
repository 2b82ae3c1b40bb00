// stilts train --model DIR --task KIND --train FILE --dev FILE --out DIR [options]
#include <iostream>

#include "commands.h"
#include "tasks/datasets/dataset.h"
#include "train/config.h"
#include "train/trainer.h"

namespace stilts::cli {

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : "|") + s;
  return out;
}

}  // namespace

void add_train_command(CLI::App& app) {
  // Options land in a config that starts from the defaults; only the options given on the command line
  // override the config file (see the layering in train/config.h).
  struct Args {
    std::string config_file;
    std::vector<std::string> settings;
    bool resume = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "train",
      "Fine-tune a model directory on a task: AdamW, warm-up + decay, dev evaluation, checkpoints.\n"
      "The output directory gets the final model (HF layout), metrics.json, config.resolved.json and\n"
      "checkpoints/. A run killed at any moment continues with --resume and ends bit-identical.\n"
      "Head rule: the checkpoint's own head is reused when its label space matches the task (same kind,\n"
      "number of labels and label names unless they are LABEL_0..), else a new head is attached\n"
      "(--head reinit|reuse forces either; reuse errors when the label spaces differ).");
  std::vector<std::pair<CLI::Option*, std::function<void(train::TrainConfig&)>>> given;
  // Each option writes into a staging copy; the callback copies the ones that were given.
  auto stage = std::make_shared<train::TrainConfig>();
  auto opt = [&](const std::string& name, auto member, const std::string& help) {
    CLI::Option* o = cmd->add_option(name, (*stage).*member, help);
    // A repeated option overrides an earlier one (scripts append to a base command line).
    using T = std::decay_t<decltype((*stage).*member)>;
    if constexpr (!std::is_same_v<T, std::vector<std::string>>) o->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    given.emplace_back(o, [stage, member](train::TrainConfig& target) { target.*member = (*stage).*member; });
    return o;
  };
  opt("--model", &train::TrainConfig::model, "Hugging Face model directory (weights, config.json, tokenizer)");
  opt("--task", &train::TrainConfig::task, "pair-classification | classification | regression");
  opt("--train", &train::TrainConfig::train, "training data file");
  opt("--dev", &train::TrainConfig::dev, "dev data file (repeatable)");
  opt("--format", &train::TrainConfig::format, "data format: " + join(tasks::dataset_formats()) + " (default tsv)");
  opt("--out", &train::TrainConfig::out, "run directory");
  opt("--epochs", &train::TrainConfig::epochs, "epochs (default 3)");
  opt("--max-steps", &train::TrainConfig::max_steps, "optimizer steps; overrides --epochs when > 0");
  opt("--batch-size", &train::TrainConfig::batch_size, "examples per batch (default 32)");
  opt("--grad-accum-steps", &train::TrainConfig::grad_accum_steps, "batches per optimizer step (default 1)");
  opt("--lr", &train::TrainConfig::lr, "peak learning rate (default 2e-5)");
  opt("--lr-schedule", &train::TrainConfig::lr_schedule, "linear | cosine | constant, after warm-up");
  opt("--warmup-ratio", &train::TrainConfig::warmup_ratio, "warm-up as a fraction of the steps (default 0)");
  opt("--seed", &train::TrainConfig::seed, "seed of head init, dropout and data order (default 42)");
  opt("--max-length", &train::TrainConfig::max_length, "tokens per example after truncation (default 128)");
  opt("--eval-every", &train::TrainConfig::eval_every, "steps between dev evaluations (default 0: every epoch)");
  opt("--checkpoint-every", &train::TrainConfig::checkpoint_every,
      "steps between checkpoints (default 0: at every evaluation)");
  opt("--patience", &train::TrainConfig::early_stopping_patience,
      "early stopping after N evaluations without improvement (default 0: off)");
  opt("--precision", &train::TrainConfig::precision, "fp32 | bf16 (default fp32)");
  opt("--head", &train::TrainConfig::head, "auto | reinit | reuse (default auto)");
  opt("--final-model", &train::TrainConfig::final_model, "best | last: the weights written to --out (default best)");
  opt("--threads", &train::TrainConfig::threads, "torch threads (default 0: 1 for fp32, 2 for bf16)");
  cmd->add_flag("--resume", args->resume,
                "continue the run in --out from its last checkpoint (a finished run: exit 0, nothing to do)");
  cmd->add_option("--config", args->config_file, "config file (.toml or .json) with any of the keys of --set");
  cmd->add_option("--set", args->settings, "key=value over the config file and options (repeatable)");
  cmd->callback([args, given, stage] {
    train::TrainConfig config;
    if (!args->config_file.empty()) train::load_config_file(args->config_file, config);
    for (const auto& [option, copy] : given) {
      if (option->count() > 0) copy(config);
    }
    for (const auto& s : args->settings) config.apply_setting(s);
    train::TrainOptions options;
    options.resume = args->resume;
    const train::TrainOutcome outcome = train::run_training(config, options);
    if (outcome.already_finished) {
      std::cerr << "stilts train: " << outcome.out.string() << " holds a finished run (" << outcome.steps
                << " steps): nothing to do\n";
    }
  });
}

}  // namespace stilts::cli
