// Hugging Face model directories in and out: config.json + weights (model.safetensors, sharded
// model.safetensors.index.json, or a zip-format pytorch_model.bin) + tokenizer files.
#pragma once


#include <filesystem>
#include <memory>
#include <optional>

#include "models/registry.h"

namespace stilts::models {

enum class HeadPolicy {
  kAuto,     // the checkpoint's head when it has one (checkpoint_has_head), else the base model
  kWith,     // a head: `head_kind` (kEncoderOnly initialises it when the checkpoint has none)
  kWithout,  // the base model; head weights in the checkpoint are an error under kStrict
};

struct LoadOptions {
  LoadMode mode = LoadMode::kStrict;
  HeadPolicy head = HeadPolicy::kAuto;
  // The head kWith attaches; unset: the one config.json's "architectures" names, else sequence
  // classification. kAuto always takes the config's.
  std::optional<HeadKind> head_kind;
  std::optional<int64_t> num_labels;  // for a new head; default: config.json's labels
  torch::Device device = torch::kCPU;
};

struct LoadedModel {
  std::shared_ptr<EncoderModel> model;
  LoadReport report;
  std::filesystem::path weights_path;  // the file the weights came from
  std::string weights_dtype;           // dtype the checkpoint stores ("Float", "Half", "BFloat16")
};

// The head config.json's "architectures" names (kSequenceClassification when it names none we know).
HeadKind configured_head(const nlohmann::json& config);

// Loads a model directory strictly (see LoadMode). Errors name the directory or file.
LoadedModel load_pretrained(const std::filesystem::path& dir, const LoadOptions& options = {});

// The weights file of a directory: model.safetensors, model.safetensors.index.json or
// pytorch_model.bin (InputError listing what was looked for when none exists).
std::filesystem::path find_weights_file(const std::filesystem::path& dir);

// Bytes of the weight files (all shards) and config.json: what a model costs on disk.
uint64_t bytes_on_disk(const std::filesystem::path& dir);

// Writes config.json and model.safetensors (each atomically) into `dir`, creating it, so that
// transformers' from_pretrained loads it unchanged.
void save_pretrained(EncoderModel& model, const std::filesystem::path& dir);

// Copies the tokenizer files transformers reads (text::tokenizer_file_names()) that exist in `from`
// into `to`. Returns how many were copied.
int copy_tokenizer_files(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace stilts::models
