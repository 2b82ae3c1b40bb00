// The whole system on the built-in synthetic world, with nothing downloaded (what `stilts demo` and
// `make demo` run): generate the world (synth), pretrain its tiny encoder from scratch with masked-LM
// on every language's text, then run a study over several seeds with zero-shot evaluation in every
// synthetic language and the arms benchmarked. Suites:
//   nli       direct vs intermediate (the large sentiment task before NLI), NLI the target;
//   xtreme-r  XTREME-R's shape: a target of every task kind (NLI, multiple choice, POS and NER tagging,
//             extractive QA, the dual-encoder retrieval, and Tatoeba-style sentence retrieval evaluated
//             on the QA-trained encoder) in a direct arm and an X-STILTs-style arm (NLI before each,
//             sentiment before NLI). Everything lands in one ordinary run directory:
//   OUT/world/        the synthetic world (datasets in PAWS-X and IMDB layout, corpus, tokenizer)
//   OUT/pretrained/   the MLM-pretrained encoder (a stilts pretrain run directory)
//   OUT/demo.toml     the study's experiment config (rerun it with stilts run)
//   OUT/results.sqlite, OUT/stages/, ...  the study (stilts results / stilts report read it)
// Every step is cached or resumed: running the demo again after a kill continues where it stopped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>

namespace stilts::pipeline {

struct DemoOptions {
  std::filesystem::path out = "runs/demo";
  // nli: direct vs intermediate (sentiment before NLI) on NLI; xtreme-r: every XTREME-R task kind as
  // one benchmark study (demo_suites()).
  std::string suite = "nli";
  std::string size = "default";  // the world's size: small | default
  int64_t languages = 4;         // synthetic languages, the first being the training language
  int64_t seeds = 0;              // 0: the suite's own (nli 3, xtreme-r 2)
  uint64_t world_seed = 1;
  int64_t pretrain_epochs = 4;
  std::ostream* log = &std::cerr;
  int tty = -1;
  void validate() const;
};

struct DemoPaths {
  std::filesystem::path run_dir, world, pretrained, config;
};

DemoPaths run_demo(const DemoOptions& options);

}  // namespace stilts::pipeline
