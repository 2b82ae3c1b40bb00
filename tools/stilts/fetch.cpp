// stilts fetch MODEL_ID [--revision R] [--endpoint URL]
#include <iostream>

#include "commands.h"
#include "hub/fetch.h"

namespace stilts::cli {

void add_fetch_command(CLI::App& app) {
  struct Args {
    std::string repo, revision = "main", endpoint;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "fetch",
      "Download a model from the Hugging Face hub into the cache transformers uses (HF_HUB_CACHE, else\n"
      "HF_HOME/hub, else ~/.cache/huggingface/hub): config.json, the weights and the tokenizer files, each\n"
      "checked (size; SHA-256 for large files), resumable after an interruption. Then name the model by\n"
      "its id wherever stilts takes a model; with HF_HUB_OFFLINE=1 nothing is downloaded. HF_TOKEN (or\n"
      "the token file huggingface-cli login writes) opens gated models; HF_ENDPOINT picks another hub.");
  cmd->add_option("model_id", args->repo, "hub id: name or org/name (optionally @revision)")->required();
  cmd->add_option("--revision", args->revision, "branch, tag or commit (default main)");
  cmd->add_option("--endpoint", args->endpoint, "hub URL (default $HF_ENDPOINT, else https://huggingface.co)");
  cmd->callback([args] {
    hub::FetchOptions options;
    std::string repo = args->repo;
    options.revision = args->revision;
    if (const size_t at = repo.find('@'); at != std::string::npos) {
      options.revision = repo.substr(at + 1);
      repo = repo.substr(0, at);
    }
    options.endpoint = args->endpoint;
    options.log = &std::cerr;
    const hub::ResolvedModel model = hub::fetch_model(repo, options);
    std::cout << model.repo << "@" << model.revision << " = commit " << model.commit << "\n" << model.dir.string()
              << "\n";
  });
}

}  // namespace stilts::cli
