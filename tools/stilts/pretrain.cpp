// stilts pretrain --model DIR --train FILE [--dev FILE] --out DIR [options]: masked-LM training.
#include <iostream>

#include "commands.h"
#include "train/config.h"
#include "train/distributed.h"
#include "train/mlm.h"
#include "train_options.h"

namespace stilts::cli {

void add_pretrain_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "pretrain",
      "Masked-language-model training: a model from scratch (a --model directory with config.json and\n"
      "tokenizer files but no weights), or continued, domain-adaptive pretraining of a model on your own\n"
      "text (one example a line). 15% of the tokens are selected (80% [MASK], 10% random, 10% kept).\n"
      "The output directory gets the final model in HF layout (*ForMaskedLM; `stilts train` fine-tunes it\n"
      "with a new head), metrics.json (dev loss and perplexity), config.resolved.json and checkpoints/.\n"
      "A run killed at any moment continues with --resume and ends bit-identical.\n"
      "Data-parallel as stilts train: launched by torchrun or stilts launch, each rank trains on its share\n"
      "of every batch (the masks are the same as in one process) and rank 0 writes.");
  using C = train::TrainConfig;
  auto options = TrainConfigOptions::attach(cmd);
  options->add("--model", &C::model,
               "Hugging Face model directory (config.json, tokenizer files; weights unless from scratch)");
  options->add("--train", &C::train, "training text: a file, one example a line (or a directory of .txt)");
  options->add("--dev", &C::dev, "dev text file for loss and perplexity (repeatable)");
  options->add("--out", &C::out, "run directory");
  options->add("--init", &C::init,
               "auto | pretrained | scratch (default auto: the weights when the directory has some)");
  options->add("--mlm-probability", &C::mlm_probability, "share of tokens selected (default 0.15)");
  options->add_shared(
      "peak learning rate (default 2e-5, for continued pretraining; from scratch use ~1e-3 for tiny models)",
      "seed of initialisation, masks, dropout and data order (default 42)");
  cmd->callback([options] {
    // pretrain's defaults under the file and the options: the task, plain text, the last model.
    train::TrainConfig defaults;
    defaults.task = "mlm";
    defaults.format = "text";
    defaults.final_model = "last";
    const train::TrainConfig config = options->resolve(defaults);
    // Launched the torchrun way: one rank of a data-parallel job, as stilts train; only rank 0 logs.
    std::ostream quiet(nullptr);
    const train::TrainOptions run = options->run_options(quiet);
    const train::TrainOutcome outcome = train::run_mlm_training(config, run);
    if (outcome.already_finished && (run.group == nullptr || run.group->rank() == 0)) {
      std::cerr << "stilts pretrain: " << outcome.out.string() << " holds a finished run (" << outcome.steps
                << " steps): nothing to do\n";
    }
  });
}

}  // namespace stilts::cli
