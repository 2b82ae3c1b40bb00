// stilts pretrain --model DIR --train FILE [--dev FILE] --out DIR [options]: masked-LM training.
#include <iostream>

#include "commands.h"
#include "train/config.h"
#include "train/mlm.h"

namespace stilts::cli {

void add_pretrain_command(CLI::App& app) {
  struct Args {
    std::string config_file;
    std::vector<std::string> settings;
    bool resume = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "pretrain",
      "Masked-language-model training: a model from scratch (a --model directory with config.json and\n"
      "tokenizer files but no weights), or continued, domain-adaptive pretraining of a model on your own\n"
      "text (one example a line). 15% of the tokens are selected (80% [MASK], 10% random, 10% kept).\n"
      "The output directory gets the final model in HF layout (*ForMaskedLM; `stilts train` fine-tunes it\n"
      "with a new head), metrics.json (dev loss and perplexity), config.resolved.json and checkpoints/.\n"
      "A run killed at any moment continues with --resume and ends bit-identical.");
  std::vector<std::pair<CLI::Option*, std::function<void(train::TrainConfig&)>>> given;
  auto stage = std::make_shared<train::TrainConfig>();
  auto opt = [&](const std::string& name, auto member, const std::string& help) {
    CLI::Option* o = cmd->add_option(name, (*stage).*member, help);
    using T = std::decay_t<decltype((*stage).*member)>;
    if constexpr (!std::is_same_v<T, std::vector<std::string>>) o->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    given.emplace_back(o, [stage, member](train::TrainConfig& target) { target.*member = (*stage).*member; });
    return o;
  };
  opt("--model", &train::TrainConfig::model,
      "Hugging Face model directory (config.json, tokenizer files; weights unless from scratch)");
  opt("--train", &train::TrainConfig::train, "training text: a file, one example a line (or a directory of .txt)");
  opt("--dev", &train::TrainConfig::dev, "dev text file for loss and perplexity (repeatable)");
  opt("--out", &train::TrainConfig::out, "run directory");
  opt("--init", &train::TrainConfig::init,
      "auto | pretrained | scratch (default auto: the weights when the directory has some)");
  opt("--mlm-probability", &train::TrainConfig::mlm_probability, "share of tokens selected (default 0.15)");
  opt("--epochs", &train::TrainConfig::epochs, "epochs (default 3)");
  opt("--max-steps", &train::TrainConfig::max_steps, "optimizer steps; overrides --epochs when > 0");
  opt("--batch-size", &train::TrainConfig::batch_size, "examples per batch (default 32)");
  opt("--grad-accum-steps", &train::TrainConfig::grad_accum_steps, "batches per optimizer step (default 1)");
  opt("--lr", &train::TrainConfig::lr,
      "peak learning rate (default 2e-5, for continued pretraining; from scratch use ~1e-3 for tiny models)");
  opt("--lr-schedule", &train::TrainConfig::lr_schedule, "linear | cosine | constant, after warm-up");
  opt("--warmup-ratio", &train::TrainConfig::warmup_ratio, "warm-up as a fraction of the steps (default 0)");
  opt("--seed", &train::TrainConfig::seed, "seed of initialisation, masks, dropout and data order (default 42)");
  opt("--max-length", &train::TrainConfig::max_length, "tokens per example after truncation (default 128)");
  opt("--eval-every", &train::TrainConfig::eval_every, "steps between dev evaluations (default 0: every epoch)");
  opt("--checkpoint-every", &train::TrainConfig::checkpoint_every,
      "steps between checkpoints (default 0: at every evaluation)");
  opt("--precision", &train::TrainConfig::precision, "fp32 | bf16 (default fp32)");
  opt("--threads", &train::TrainConfig::threads, "torch threads (default 0: 1 for fp32, 2 for bf16)");
  cmd->add_flag("--resume", args->resume,
                "continue the run in --out from its last checkpoint (a finished run: exit 0, nothing to do)");
  cmd->add_option("--config", args->config_file, "config file (.toml or .json) with any of the keys of --set");
  cmd->add_option("--set", args->settings, "key=value over the config file and options (repeatable)");
  cmd->callback([args, given, stage] {
    // pretrain's defaults under the file and the options: the task, plain text, the last model.
    train::TrainConfig config;
    config.task = "mlm";
    config.format = "text";
    config.final_model = "last";
    if (!args->config_file.empty()) train::load_config_file(args->config_file, config);
    for (const auto& [option, copy] : given) {
      if (option->count() > 0) copy(config);
    }
    for (const auto& s : args->settings) config.apply_setting(s);
    train::TrainOptions options;
    options.resume = args->resume;
    const train::TrainOutcome outcome = train::run_mlm_training(config, options);
    if (outcome.already_finished) {
      std::cerr << "stilts pretrain: " << outcome.out.string() << " holds a finished run (" << outcome.steps
                << " steps): nothing to do\n";
    }
  });
}

}  // namespace stilts::cli
