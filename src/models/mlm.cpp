#include "models/mlm.h"

#include <torch/torch.h>

#include <algorithm>

#include "common/error.h"
#include "io/hf_config.h"
#include "io/safetensors.h"
#include "models/bert.h"
#include "models/pretrained.h"
#include "models/registry.h"

namespace stilts::models {

namespace fs = std::filesystem;

namespace {

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// The module at dotted `path` ("cls.predictions.transform") under `root`, holders made where missing.
torch::nn::Module& holder_at(torch::nn::Module& root, const std::string& path) {
  torch::nn::Module* module = &root;
  size_t start = 0;
  for (;;) {
    const size_t dot = path.find('.', start);
    const std::string name = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    auto children = module->named_children();
    if (const auto* child = children.find(name)) {
      module = child->get();
    } else {
      module = add_holder(*module, name).get();
    }
    if (dot == std::string::npos) return *module;
    start = dot + 1;
  }
}

}  // namespace

struct MaskedLMParts {
  MaskedLMHead head;
  // The family's base model (no head, no pooler). Its modules are registered in MaskedLMModel too, under
  // the same names ("bert.*", "roberta.*"), so they are saved, moved and trained as this model's.
  std::shared_ptr<EncoderModel> encoder;
  torch::nn::Linear dense{nullptr};  // [H] -> [H]
  torch::nn::LayerNorm layer_norm{nullptr};
  torch::Tensor bias;  // [V]
};

MaskedLMHead masked_lm_head_of(const nlohmann::json& config, const std::string& source) {
  const Family& family = family_of(config, source);
  if (!family.masked_lm_head) {
    std::string supported;
    for (const std::string& type : supported_model_types()) {
      if (supports_masked_lm(type)) supported += (supported.empty() ? "" : ", ") + type;
    }
    input_error(source, ": model_type '", io::model_type_of(config, source),
                "' has no masked-language model in stilts (supported: ", supported, ")");
  }
  return family.masked_lm_head(config, source);
}

MaskedLMModel::MaskedLMModel(const nlohmann::json& config, const std::string& source)
    : parts_(std::make_unique<MaskedLMParts>()) {
  auto& p = *parts_;
  p.head = masked_lm_head_of(config, source);
  check_activation_name(p.head.activation, source);
  // transformers' *ForMaskedLM builds its base model without the pooler (add_pooling_layer=False).
  const BuildOptions base{HeadKind::kNone, /*add_pooling_layer=*/false};
  p.encoder = family_of(config, source).build(config, source, base);
  STILTS_CHECK(p.encoder->named_parameters(/*recurse=*/false).is_empty(), "a base model keeps its weights in modules");
  for (const auto& child : p.encoder->named_children()) register_module(child.key(), child.value());
  const auto H = p.head.hidden_size;
  auto& transform = holder_at(*this, p.head.transform);
  p.dense = transform.register_module("dense", torch::nn::Linear(H, H));
  p.layer_norm = transform.register_module(
      p.head.layer_norm, torch::nn::LayerNorm(torch::nn::LayerNormOptions({H}).eps(p.head.layer_norm_eps)));
  p.bias = holder_at(*this, p.head.root).register_parameter("bias", torch::zeros({p.head.vocab_size}));
  init_lm_head();  // the base model initialised itself when built
}

MaskedLMModel::~MaskedLMModel() = default;

void MaskedLMModel::train(bool on) {
  torch::nn::Module::train(on);
  parts_->encoder->train(on);  // its own flag too: a family may read is_training() on the model itself
}

torch::Tensor MaskedLMModel::lm_logits(const torch::Tensor& hidden) {
  const auto& p = *parts_;
  auto x = activation(linear(hidden, p.dense), p.head.activation);  // [..., H]
  // Under CPU autocast x is bf16 here and libtorch 1.13's layer_norm needs input and weight of one dtype
  // (the encoder's LayerNorms get fp32 through their residual sums).
  x = layer_norm(x.to(p.layer_norm->weight.scalar_type()), p.layer_norm);
  return torch::linear(x, p.encoder->word_embeddings(), p.bias);  // [..., V]
}

Outputs MaskedLMModel::forward(const Inputs& inputs, bool output_hidden_states) {
  Outputs out = parts_->encoder->forward(inputs, output_hidden_states);
  out.logits = lm_logits(out.last_hidden_state);  // [B, T, V]
  return out;
}

torch::Tensor MaskedLMModel::masked_lm_loss(const Inputs& inputs, const torch::Tensor& labels, int64_t* count) {
  const Outputs out = parts_->encoder->forward(inputs, /*output_hidden_states=*/false);
  const auto H = out.last_hidden_state.size(-1);
  const auto flat_labels = labels.reshape({-1});                                    // [B*T]
  const auto positions = flat_labels.ne(-100).nonzero().squeeze(1);                 // [M]
  const auto M = positions.size(0);
  if (count) *count = M;
  if (M == 0) return (out.last_hidden_state.sum() * 0.0).to(torch::kFloat);  // keeps the graph: backward() works
  const auto hidden = out.last_hidden_state.reshape({-1, H}).index_select(0, positions);  // [M, H]
  const auto logits = lm_logits(hidden).to(torch::kFloat);                                 // [M, V]
  return torch::nn::functional::cross_entropy(logits, flat_labels.index_select(0, positions));
}

std::string MaskedLMModel::model_type() const { return parts_->encoder->model_type(); }
std::string MaskedLMModel::base_model_prefix() const { return parts_->encoder->base_model_prefix(); }
bool MaskedLMModel::uses_token_type_ids() const { return parts_->encoder->uses_token_type_ids(); }
int64_t MaskedLMModel::pad_token_id() const { return parts_->encoder->pad_token_id(); }
torch::Tensor MaskedLMModel::hidden_state(const Inputs& inputs, int64_t layer) {
  return parts_->encoder->hidden_state(inputs, layer);
}
int64_t MaskedLMModel::num_layers() const { return parts_->encoder->num_layers(); }
int64_t MaskedLMModel::vocab_size() const { return parts_->encoder->vocab_size(); }
int64_t MaskedLMModel::max_positions() const { return parts_->encoder->max_positions(); }
int64_t MaskedLMModel::type_vocab_size() const { return parts_->encoder->type_vocab_size(); }

ParamGroup MaskedLMModel::param_group(const std::string& name) const {
  if (starts_with(name, base_model_prefix() + ".")) return parts_->encoder->param_group(name);
  return ParamGroup::kHead;
}

nlohmann::json MaskedLMModel::config_json() const {
  nlohmann::json j = parts_->encoder->config_json();
  j["architectures"] = nlohmann::json::array({parts_->head.architecture});
  return j;
}

void MaskedLMModel::init_weights() {
  parts_->encoder->init_weights();
  init_lm_head();
}

void MaskedLMModel::init_lm_head() {
  auto& p = *parts_;
  init_bert_weights(*p.dense, p.head.initializer_range);
  init_bert_weights(*p.layer_norm, p.head.initializer_range);
  torch::NoGradGuard no_grad;
  p.bias.zero_();
}

std::vector<std::string> MaskedLMModel::lm_head_parameter_names() const {
  std::vector<std::string> names;
  for (const auto& param : named_parameters(/*recurse=*/true)) {
    if (param_group(param.key()) == ParamGroup::kHead) names.push_back(param.key());
  }
  return names;
}

torch::Tensor MaskedLMModel::word_embeddings() const { return parts_->encoder->word_embeddings(); }

const MaskedLMHead& MaskedLMModel::lm_head() const { return parts_->head; }

void MaskedLMModel::reset_head(int64_t /*num_labels*/) {
  STILTS_CHECK(false, "reset_head on a masked-language model (it has no classification head)");
}

bool supports_masked_lm(const std::string& model_type) {
  const Family* family = find_family(model_type);
  return family && family->masked_lm_head;
}

MaskedLMInit parse_masked_lm_init(const std::string& name) {
  if (name == "auto") return MaskedLMInit::kAuto;
  if (name == "pretrained") return MaskedLMInit::kPretrained;
  if (name == "scratch") return MaskedLMInit::kScratch;
  input_error("init '", name, "': expected auto, pretrained or scratch");
}

std::string LoadedMaskedLM::describe() const {
  if (origin == "scratch") return "initialised from scratch (config.json only)";
  std::string s = origin == "checkpoint" ? "masked-LM checkpoint " + weights_path.string()
                                         : "encoder of " + weights_path.string() + " with a NEW, freshly initialised "
                                           "LM head (" + std::to_string(initialized.size()) + " tensors)";
  if (!ignored.empty()) {
    s += "; left behind: ";
    for (size_t i = 0; i < ignored.size() && i < 4; ++i) s += (i ? ", " : "") + ignored[i];
    if (ignored.size() > 4) s += ", ... (" + std::to_string(ignored.size()) + " in all)";
  }
  return s;
}

LoadedMaskedLM load_masked_lm(const fs::path& dir, MaskedLMInit init) {
  const nlohmann::json config = io::read_config_json(dir);
  const std::string config_source = (dir / "config.json").string();
  LoadedMaskedLM out;
  out.model = std::make_shared<MaskedLMModel>(config, config_source);
  MaskedLMModel& model = *out.model;

  bool has_weights = false;
  for (const char* name : {"model.safetensors", "model.safetensors.index.json", "pytorch_model.bin"}) {
    has_weights = has_weights || fs::exists(dir / name);
  }
  if (init == MaskedLMInit::kScratch || (init == MaskedLMInit::kAuto && !has_weights)) {
    out.origin = "scratch";
    for (const auto& p : model.named_parameters(/*recurse=*/true)) out.initialized.push_back(p.key());
    model.eval();
    return out;
  }
  out.weights_path = find_weights_file(dir);  // InputError listing the names when there are none
  std::map<std::string, torch::Tensor> weights = out.weights_path.filename() == "pytorch_model.bin"
                                                     ? io::load_pytorch_bin(out.weights_path)
                                                     : io::SafetensorsCheckpoint::open(out.weights_path).load_all();

  const std::string base = model.base_model_prefix() + ".";
  const std::string head = model.lm_head().root + ".";
  const auto& unused_prefixes = model.lm_head().ignored_prefixes;
  // What transformers' *ForMaskedLM accepts without using: the tied decoder copies, a pooler
  // (_keys_to_ignore_on_load_unexpected), what the family names (BertForPreTraining's next-sentence head).
  for (auto it = weights.begin(); it != weights.end();) {
    const std::string& n = it->first;
    const bool tied = n == head + "decoder.weight" || n == head + "decoder.bias";
    const bool pooler = starts_with(n, base + "pooler.") || starts_with(n, "pooler.");
    const bool unused = std::any_of(unused_prefixes.begin(), unused_prefixes.end(),
                                    [&](const std::string& prefix) { return starts_with(n, prefix); });
    if (tied || pooler || unused) {
      if (!tied) out.ignored.push_back(n);
      it = weights.erase(it);
    } else {
      ++it;
    }
  }
  const bool has_lm_head =
      std::any_of(weights.begin(), weights.end(), [&](const auto& kv) { return starts_with(kv.first, head); });
  LoadReport report;
  if (has_lm_head) {
    out.origin = "checkpoint";
    report = load_weights(model, weights, LoadMode::kStrict, out.weights_path.string());
  } else {
    // Continued pretraining of an encoder without an LM head: the encoder strictly, a new head.
    out.origin = "encoder";
    report = load_weights(model, weights, LoadMode::kEncoderOnly, out.weights_path.string());
    model.init_lm_head();
  }
  out.initialized = report.initialized;
  out.ignored.insert(out.ignored.end(), report.ignored.begin(), report.ignored.end());
  model.eval();
  return out;
}

}  // namespace stilts::models
