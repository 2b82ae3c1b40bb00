// stilts synth --out DIR [--seed N] [--size small|default] [--languages N | --language-codes a,b]
//              [--train-language CODE] [--vocab-size N] [--hidden-size N] ... [--json]
// Writes the built-in synthetic multilingual world (datasets, MLM corpus, tokenizer, tiny model config).
#include <iostream>
#include <optional>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common/error.h"
#include "synth/world.h"

namespace stilts::cli {

void add_synth_command(CLI::App& app) {
  struct Args {
    std::string out;
    uint64_t seed = 1;
    std::string size = "default";
    std::optional<int64_t> languages;
    std::vector<std::string> codes;
    std::optional<std::string> train_language;
    std::optional<int64_t> vocab_size, hidden_size, layers, heads, intermediate_size;
    std::optional<std::string> tokenizer_type;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "synth",
      "Generate the built-in synthetic multilingual world into --out: sentiment (IMDB layout), paraphrase\n"
      "(PAWS-X layout), NLI (XNLI layout), parts of speech and named entities (XTREME's tagging layout),\n"
      "extractive QA (SQuAD JSON), choice (XCOPA JSONL) and retrieval (retrieval-json) datasets, trained\n"
      "in one language and evaluated in all, parallel sentences (Tatoeba layout, evaluation only), an MLM\n"
      "corpus, a SentencePiece tokenizer and a tiny xlm-roberta config. The same options give the same\n"
      "bytes; rerunning over a complete world returns at once.");
  cmd->add_option("--out", args->out, "output directory")->required();
  cmd->add_option("--seed", args->seed, "world seed")->default_val(1);
  cmd->add_option("--size", args->size, "small | default")->check(CLI::IsMember({"small", "default"}))
      ->default_val("default");
  auto* n = cmd->add_option("--languages", args->languages, "number of languages (en, xa, xb, ...; default 5)")
                ->check(CLI::Range(1, 8));
  cmd->add_option("--language-codes", args->codes, "language codes, comma-separated (2-3 lowercase letters)")
      ->delimiter(',')
      ->excludes(n);
  cmd->add_option("--train-language", args->train_language, "language of the train sets (default en)");
  cmd->add_option("--tokenizer-type", args->tokenizer_type, "unigram | bpe");
  cmd->add_option("--vocab-size", args->vocab_size, "SentencePiece vocabulary size (an upper bound)");
  cmd->add_option("--hidden-size", args->hidden_size, "tiny model: hidden_size");
  cmd->add_option("--layers", args->layers, "tiny model: num_hidden_layers");
  cmd->add_option("--heads", args->heads, "tiny model: num_attention_heads");
  cmd->add_option("--intermediate-size", args->intermediate_size, "tiny model: intermediate_size");
  cmd->add_flag("--json", args->json, "print the files written as JSON");
  cmd->callback([args] {
    synth::WorldOptions o = synth::WorldOptions::preset(args->size);
    o.seed = args->seed;
    if (args->languages) o.languages = synth::WorldOptions::default_languages(*args->languages);
    if (!args->codes.empty()) o.languages = args->codes;
    if (args->train_language) o.train_language = *args->train_language;
    if (args->tokenizer_type) o.tokenizer_type = *args->tokenizer_type;
    if (args->vocab_size) o.vocab_size = *args->vocab_size;
    if (args->hidden_size) o.hidden_size = *args->hidden_size;
    if (args->layers) o.num_hidden_layers = *args->layers;
    if (args->heads) o.num_attention_heads = *args->heads;
    if (args->intermediate_size) o.intermediate_size = *args->intermediate_size;
    const synth::WorldFiles files = synth::generate_world(o, args->out);
    if (args->json) {
      std::cout << files.to_json().dump(2) << "\n";
      return;
    }
    std::cout << (files.reused ? "synthetic world already complete: " : "synthetic world written: ")
              << files.root.string() << "\n  languages: ";
    for (const auto& l : files.languages) std::cout << l << (l == files.train_language ? " (train) " : " ");
    std::cout << "\n  corpus:    " << files.corpus_train.string() << "\n  model:     " << files.model_dir.string()
              << "\n";
    for (const auto& t : files.tasks) {
      std::cout << "  " << t.name << " (" << t.format << "): " << (t.dev.empty() ? t.test : t.dev) << "\n";
    }
    std::cout << "  described in " << files.world_json.string() << "\n";
  });
}

}  // namespace stilts::cli
