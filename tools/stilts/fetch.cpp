// stilts fetch MODEL_ID [--revision R] [--endpoint URL]
// stilts fetch-data TASK... --out DIR [--mirror URL]
#include <iostream>

#include "commands.h"
#include "hub/datasets.h"
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

void add_fetch_data_command(CLI::App& app) {
  struct Args {
    std::vector<std::string> tasks;
    std::string out, mirror;
  };
  auto args = std::make_shared<Args>();
  std::string tasks;
  for (const auto& t : hub::data_tasks()) tasks += (tasks.empty() ? "" : ", ") + t;
  auto* cmd = app.add_subcommand(
      "fetch-data",
      "Download benchmark data from the datasets' official locations into XTREME's download folder\n"
      "(one folder per task, files as distributed, archives extracted), each file checked against its\n"
      "pinned SHA-256 or the one recorded in OUT/SHA256SUMS when first downloaded, resumable. Tasks: " +
          tasks);
  cmd->add_option("tasks", args->tasks, "tasks to download")->required();
  cmd->add_option("--out", args->out, "the download folder")->required();
  cmd->add_option("--mirror", args->mirror, "fetch https://host/path from MIRROR/host/path instead");
  cmd->callback([args] {
    hub::FetchDataOptions options;
    options.out = args->out;
    options.mirror = args->mirror;
    options.log = &std::cerr;
    hub::fetch_data(args->tasks, options);
    std::cout << "fetch-data: done in " << args->out << "\n";
  });
}

}  // namespace stilts::cli
