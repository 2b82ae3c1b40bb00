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

enum class Family { kBert, kRoberta };

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Family family_of(const std::string& model_type, const std::string& source) {
  if (model_type == "bert") return Family::kBert;
  if (model_type == "roberta" || model_type == "xlm-roberta") return Family::kRoberta;
  input_error(source, ": model_type '", model_type,
              "' has no masked-language model in stilts (supported: bert, roberta, xlm-roberta)");
}

}  // namespace

struct MaskedLMParts {
  Family family = Family::kBert;
  BertConfig config;
  nlohmann::json raw_config;
  BertCore core{nullptr};
  torch::nn::Linear dense{nullptr};         // [H] -> [H]
  torch::nn::LayerNorm layer_norm{nullptr};
  torch::Tensor bias;                       // [V]
  std::string head_prefix;                  // "cls.predictions." | "lm_head."
};

MaskedLMModel::MaskedLMModel(const nlohmann::json& config, const std::string& source)
    : parts_(std::make_unique<MaskedLMParts>()) {
  auto& p = *parts_;
  p.raw_config = config;
  p.config = BertConfig::from_json(config, source);
  p.family = family_of(p.config.common.model_type, source);
  check_activation_name(p.config.hidden_act, source);
  const auto H = p.config.hidden_size;
  const auto V = p.config.vocab_size;
  auto ln = torch::nn::LayerNorm(torch::nn::LayerNormOptions({H}).eps(p.config.layer_norm_eps));
  if (p.family == Family::kBert) {
    // BertForMaskedLM builds BertModel(add_pooling_layer=False).
    p.core = register_module("bert", BertCore(p.config, PositionScheme::kAbsolute, /*add_pooling_layer=*/false));
    auto cls = add_holder(*this, "cls");
    auto predictions = add_holder(*cls, "predictions");
    auto transform = add_holder(*predictions, "transform");
    p.dense = transform->register_module("dense", torch::nn::Linear(H, H));
    p.layer_norm = transform->register_module("LayerNorm", ln);
    p.bias = predictions->register_parameter("bias", torch::zeros({V}));
    p.head_prefix = "cls.predictions.";
  } else {
    if (!p.config.common.pad_token_id) p.config.common.pad_token_id = 1;
    if (p.config.max_position_embeddings <= pad_token_id() + 1) {
      input_error(source, ": max_position_embeddings ", p.config.max_position_embeddings,
                  " leaves no positions after pad_token_id ", pad_token_id(), " (RoBERTa counts from pad + 1)");
    }
    p.core = register_module("roberta",
                             BertCore(p.config, PositionScheme::kRobertaPadOffset, /*add_pooling_layer=*/false));
    auto lm_head = add_holder(*this, "lm_head");
    p.dense = lm_head->register_module("dense", torch::nn::Linear(H, H));
    p.layer_norm = lm_head->register_module("layer_norm", ln);
    p.bias = lm_head->register_parameter("bias", torch::zeros({V}));
    p.head_prefix = "lm_head.";
  }
  init_weights();
}

MaskedLMModel::~MaskedLMModel() = default;

torch::Tensor MaskedLMModel::lm_logits(const torch::Tensor& hidden) {
  const auto& p = *parts_;
  auto x = linear(hidden, p.dense);  // [..., H]
  // RobertaLMHead applies exact gelu whatever hidden_act is; BertPredictionHeadTransform uses hidden_act.
  x = p.family == Family::kBert ? activation(x, p.config.hidden_act) : torch::gelu(x);
  // Under CPU autocast x is bf16 here and libtorch 1.13's layer_norm needs input and weight of one dtype
  // (the encoder's LayerNorms get fp32 through their residual sums).
  x = layer_norm(x.to(p.layer_norm->weight.scalar_type()), p.layer_norm);
  return torch::linear(x, p.core->embeddings->word_embeddings->weight, p.bias);  // [..., V]
}

Outputs MaskedLMModel::forward(const Inputs& inputs, bool output_hidden_states) {
  Outputs out = parts_->core->forward(inputs, output_hidden_states);
  out.logits = lm_logits(out.last_hidden_state);  // [B, T, V]
  return out;
}

torch::Tensor MaskedLMModel::masked_lm_loss(const Inputs& inputs, const torch::Tensor& labels, int64_t* count) {
  const Outputs out = parts_->core->forward(inputs, /*output_hidden_states=*/false);
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

std::string MaskedLMModel::model_type() const { return parts_->config.common.model_type; }
std::string MaskedLMModel::base_model_prefix() const { return parts_->family == Family::kBert ? "bert" : "roberta"; }
bool MaskedLMModel::uses_token_type_ids() const { return parts_->family == Family::kBert; }
int64_t MaskedLMModel::pad_token_id() const {
  return parts_->config.common.pad_token_id.value_or(parts_->family == Family::kBert ? 0 : 1);
}
int64_t MaskedLMModel::vocab_size() const { return parts_->config.vocab_size; }
int64_t MaskedLMModel::max_positions() const {
  const auto n = parts_->config.max_position_embeddings;
  return parts_->family == Family::kBert ? n : n - pad_token_id() - 1;
}
int64_t MaskedLMModel::type_vocab_size() const { return parts_->config.type_vocab_size; }

ParamGroup MaskedLMModel::param_group(const std::string& name) const {
  const std::string prefix = base_model_prefix() + ".";
  if (starts_with(name, prefix + "embeddings.")) return ParamGroup::kEmbeddings;
  if (starts_with(name, prefix + "encoder.")) return ParamGroup::kEncoder;
  if (starts_with(name, prefix + "pooler.")) return ParamGroup::kPooler;
  return ParamGroup::kHead;
}

nlohmann::json MaskedLMModel::config_json() const {
  BertConfig c = parts_->config;
  std::string family = "Bert";
  if (parts_->family == Family::kRoberta) family = c.common.model_type == "xlm-roberta" ? "XLMRoberta" : "Roberta";
  c.common.architectures = {family + "ForMaskedLM"};
  return c.to_json(parts_->raw_config);
}

void MaskedLMModel::init_weights() {
  auto& p = *parts_;
  init_bert_weights(*this, p.config.initializer_range);
  torch::NoGradGuard no_grad;
  p.bias.zero_();
  p.core->embeddings->word_embeddings->weight[pad_token_id()].zero_();
  if (p.family == Family::kRoberta) p.core->embeddings->position_embeddings->weight[pad_token_id()].zero_();
}

void MaskedLMModel::init_lm_head() {
  auto& p = *parts_;
  init_bert_weights(*p.dense, p.config.initializer_range);
  init_bert_weights(*p.layer_norm, p.config.initializer_range);
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

torch::Tensor MaskedLMModel::word_embeddings() const { return parts_->core->embeddings->word_embeddings->weight; }

void MaskedLMModel::reset_head(int64_t /*num_labels*/) {
  STILTS_CHECK(false, "reset_head on a masked-language model (it has no classification head)");
}

bool supports_masked_lm(const std::string& model_type) {
  return model_type == "bert" || model_type == "roberta" || model_type == "xlm-roberta";
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
  const std::string head = model.base_model_prefix() == "bert" ? "cls.predictions." : "lm_head.";
  // What transformers' *ForMaskedLM accepts without using: the tied decoder copies, a pooler
  // (_keys_to_ignore_on_load_unexpected), BertForPreTraining's next-sentence head.
  for (auto it = weights.begin(); it != weights.end();) {
    const std::string& n = it->first;
    const bool tied = n == head + "decoder.weight" || n == head + "decoder.bias";
    const bool pooler = starts_with(n, base + "pooler.") || starts_with(n, "pooler.");
    const bool nsp = starts_with(n, "cls.seq_relationship.");
    if (tied || pooler || nsp) {
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
