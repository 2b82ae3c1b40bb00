// stilts inspect MODEL_DIR [--json]
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "hub/cache.h"
#include "models/pretrained.h"

namespace stilts::cli {

void add_inspect_command(CLI::App& app) {
  struct Args {
    std::string dir;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("inspect",
                                 "Show a model directory's type, dtype, size on disk and parameter counts\n"
                                 "(total, embeddings, encoder, pooler, head).");
  cmd->add_option("model_dir", args->dir, "Hugging Face model directory, or a hub id in the HF cache")->required();
  cmd->add_flag("--json", args->json, "print JSON");
  cmd->callback([args] {
    args->dir = hub::resolve_model(args->dir).dir.string();
    const auto loaded = models::load_pretrained(args->dir);
    const auto& model = *loaded.model;
    const auto counts = models::count_parameters(model);
    nlohmann::json j;
    j["model_type"] = model.model_type();
    const nlohmann::json config = model.config_json();
    j["architecture"] = config.contains("architectures") ? config["architectures"][0] : nlohmann::json("");
    j["dtype"] = loaded.weights_dtype;
    j["weights_file"] = loaded.weights_path.filename().string();
    j["bytes_on_disk"] = models::bytes_on_disk(args->dir);
    j["head"] = models::head_kind_name(model.head_kind());
    const bool labelled = model.head_kind() == models::HeadKind::kSequenceClassification ||
                          model.head_kind() == models::HeadKind::kTokenClassification;
    j["num_labels"] = labelled ? nlohmann::json(model.num_labels()) : nlohmann::json(nullptr);
    j["parameters"] = {{"total", counts.total},     {"embeddings", counts.embeddings},
                       {"encoder", counts.encoder}, {"pooler", counts.pooler},
                       {"head", counts.head}};
    if (args->json) {
      std::cout << j.dump(2) << "\n";
      return;
    }
    std::cout << "model_type     " << j["model_type"].get<std::string>() << "\n"
              << "architecture   " << j["architecture"].get<std::string>() << "\n"
              << "dtype          " << loaded.weights_dtype << "\n"
              << "weights        " << j["weights_file"].get<std::string>() << "\n"
              << "bytes on disk  " << j["bytes_on_disk"].get<uint64_t>() << "\n"
              << "head           " << j["head"].get<std::string>() << "\n"
              << "num_labels     " << (labelled ? std::to_string(model.num_labels()) : "-") << "\n"
              << "parameters\n";
    for (const char* key : {"total", "embeddings", "encoder", "pooler", "head"}) {
      std::cout << "  " << std::left << std::setw(12) << key << std::right << std::setw(14)
                << j["parameters"][key].get<int64_t>() << "\n";
    }
  });
}

}  // namespace stilts::cli
