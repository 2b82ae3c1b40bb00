#include "models/pretrained.h"

#include "common/error.h"
#include "common/files.h"
#include "io/hf_config.h"
#include "io/safetensors.h"
#include "models/mlm.h"
#include "text/auto.h"

namespace stilts::models {

namespace fs = std::filesystem;

fs::path find_weights_file(const fs::path& dir) {
  require_directory(dir, "a model directory");
  for (const char* name : {"model.safetensors", "model.safetensors.index.json", "pytorch_model.bin"}) {
    if (fs::exists(dir / name)) return dir / name;
  }
  input_error(dir.string(), ": no weights found (looked for model.safetensors, model.safetensors.index.json, "
                            "pytorch_model.bin)");
}

namespace {

struct Weights {
  std::vector<std::string> names;
  std::map<std::string, torch::Tensor> tensors;
  std::string dtype;  // of the floating-point tensors (the most common one)
};

Weights read_weights(const fs::path& file) {
  Weights w;
  if (file.filename() == "pytorch_model.bin") {
    w.tensors = io::load_pytorch_bin(file);
  } else {
    w.tensors = io::SafetensorsCheckpoint::open(file).load_all();
  }
  std::map<std::string, int64_t> dtype_counts;
  for (const auto& [name, t] : w.tensors) {
    w.names.push_back(name);
    if (t.is_floating_point()) dtype_counts[c10::toString(t.scalar_type())] += t.numel();
  }
  int64_t most = -1;
  for (const auto& [dtype, n] : dtype_counts) {
    if (n > most) {
      most = n;
      w.dtype = dtype;
    }
  }
  return w;
}

}  // namespace

HeadKind configured_head(const nlohmann::json& config) {
  const auto architectures = config.value("architectures", nlohmann::json::array());
  if (architectures.is_array() && !architectures.empty() && architectures[0].is_string()) {
    const auto head = head_kind_of_architecture(architectures[0].get<std::string>());
    if (head && *head != HeadKind::kNone) return *head;
  }
  return HeadKind::kSequenceClassification;
}

LoadedModel load_pretrained(const fs::path& dir, const LoadOptions& options) {
  const nlohmann::json config = io::read_config_json(dir);
  const std::string config_source = (dir / "config.json").string();
  LoadedModel out;
  // A masked-LM checkpoint (stilts pretrain's output, HF *ForMaskedLM) is that model when no
  // other head is asked for, so inspect, forward and bench take it like any other.
  const bool masked_lm = configured_head(config) == HeadKind::kMaskedLM;
  if (masked_lm && options.head != HeadPolicy::kWith && options.mode == LoadMode::kStrict) {
    LoadedMaskedLM mlm = load_masked_lm(dir, MaskedLMInit::kPretrained);
    out.model = mlm.model;
    out.weights_path = mlm.weights_path;
    out.weights_dtype = read_weights(out.weights_path).dtype;
    out.model->to(options.device);
    return out;
  }
  out.weights_path = find_weights_file(dir);
  const Weights weights = read_weights(out.weights_path);

  BuildOptions build;
  const HeadKind from_config = masked_lm ? HeadKind::kSequenceClassification : configured_head(config);
  switch (options.head) {
    case HeadPolicy::kAuto: build.head = checkpoint_has_head(weights.names) ? from_config : HeadKind::kNone; break;
    case HeadPolicy::kWith: build.head = options.head_kind.value_or(from_config); break;
    case HeadPolicy::kWithout: build.head = HeadKind::kNone; break;
  }
  if (build.head == HeadKind::kMaskedLM) {
    input_error(dir.string(), ": a masked-LM head is loaded with load_masked_lm (stilts pretrain), not as a task head");
  }
  build.add_pooling_layer = checkpoint_has_pooler(weights.names);
  nlohmann::json effective = config;
  if (options.num_labels && build.head != HeadKind::kNone) {
    io::CommonConfig labels;
    labels.set_labels(*options.num_labels);
    nlohmann::json id2label = nlohmann::json::object();
    for (const auto& [id, name] : labels.id2label) id2label[std::to_string(id)] = name;
    effective["id2label"] = id2label;
    effective.erase("label2id");
  }
  out.model = create_model(effective, config_source, build);
  out.weights_dtype = weights.dtype;
  out.report = load_weights(*out.model, weights.tensors, options.mode, out.weights_path.string());
  out.model->to(options.device);
  out.model->eval();
  return out;
}

uint64_t bytes_on_disk(const fs::path& dir) {
  const fs::path weights = find_weights_file(dir);
  uint64_t total = fs::file_size(dir / "config.json");
  if (weights.filename() == "model.safetensors.index.json") {
    for (const auto& shard : io::SafetensorsCheckpoint::open(weights).shards()) total += fs::file_size(shard.path());
  }
  total += fs::file_size(weights);
  return total;
}

void save_pretrained(EncoderModel& model, const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) input_error(dir.string(), ": cannot create directory (", ec.message(), ")");
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& p : model.named_parameters(/*recurse=*/true)) tensors.emplace_back(p.key(), p.value().detach());
  for (const auto& b : model.named_buffers(/*recurse=*/true)) tensors.emplace_back(b.key(), b.value().detach());
  if (!model.has_head()) {
    // transformers saves a base model without its attribute prefix (BertModel: "embeddings...").
    const std::string prefix = model.base_model_prefix() + ".";
    for (auto& [name, _] : tensors) {
      if (name.rfind(prefix, 0) == 0) name = name.substr(prefix.size());
    }
  }
  io::save_safetensors(dir / "model.safetensors", tensors);
  write_file_atomic(dir / "config.json", model.config_json().dump(2) + "\n");
}

int copy_tokenizer_files(const fs::path& from, const fs::path& to) {
  int copied = 0;
  for (const std::string& name : text::tokenizer_file_names()) {
    if (!fs::exists(from / name)) continue;
    if (fs::equivalent(from, to)) continue;
    write_file_atomic(to / name, read_file(from / name));
    ++copied;
  }
  return copied;
}

}  // namespace stilts::models
