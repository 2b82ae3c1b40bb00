#include "train/optimizer.h"

#include <set>

#include "common/error.h"

namespace stilts::train {

ParameterSplit split_for_weight_decay(const torch::nn::Module& model) {
  std::set<std::string> layer_norm_params;
  for (const auto& item : model.named_modules(/*name_prefix=*/"", /*include_self=*/false)) {
    if (!dynamic_cast<const torch::nn::LayerNormImpl*>(item.value().get())) continue;
    for (const auto& p : item.value()->named_parameters(/*recurse=*/false)) {
      layer_norm_params.insert(item.key() + "." + p.key());
    }
  }
  ParameterSplit split;
  for (const auto& p : model.named_parameters(/*recurse=*/true)) {
    if (!p.value().requires_grad()) continue;
    const std::string& name = p.key();
    const bool no_decay = layer_norm_params.count(name) || name.find("bias") != std::string::npos;
    (no_decay ? split.no_decay : split.decay).push_back(name);
  }
  return split;
}

std::unique_ptr<torch::optim::AdamW> make_adamw(torch::nn::Module& model, const AdamWSettings& s) {
  const ParameterSplit split = split_for_weight_decay(model);
  const auto params = model.named_parameters(/*recurse=*/true);
  auto options = [&](double weight_decay) {
    return std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(s.lr)
                                                            .betas({s.beta1, s.beta2})
                                                            .eps(s.epsilon)
                                                            .weight_decay(weight_decay));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  for (const auto& [names, decay] : {std::pair{&split.decay, s.weight_decay}, std::pair{&split.no_decay, 0.0}}) {
    if (names->empty()) continue;
    std::vector<torch::Tensor> tensors;
    for (const auto& name : *names) tensors.push_back(params[name]);
    groups.emplace_back(tensors, options(decay));
  }
  STILTS_CHECK(!groups.empty(), "the model has no trainable parameters");
  return std::make_unique<torch::optim::AdamW>(groups, torch::optim::AdamWOptions(s.lr));
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

namespace {
std::string key_of(const at::Tensor& p) { return c10::guts::to_string(p.unsafeGetTensorImpl()); }
}  // namespace

std::vector<std::pair<std::string, at::Tensor>> adamw_state_tensors(torch::optim::AdamW& optimizer,
                                                                     const torch::nn::Module& model) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  auto& state = optimizer.state();
  for (const auto& p : model.named_parameters(/*recurse=*/true)) {
    const auto it = state.find(key_of(p.value()));
    if (it == state.end()) continue;  // no gradient yet (or never: an unused parameter)
    const auto& s = static_cast<const torch::optim::AdamWParamState&>(*it->second);
    out.emplace_back("step/" + p.key(), torch::tensor({s.step()}, torch::kInt64));
    out.emplace_back("exp_avg/" + p.key(), s.exp_avg());
    out.emplace_back("exp_avg_sq/" + p.key(), s.exp_avg_sq());
    if (s.max_exp_avg_sq().defined()) out.emplace_back("max_exp_avg_sq/" + p.key(), s.max_exp_avg_sq());
  }
  return out;
}

void load_adamw_state(torch::optim::AdamW& optimizer, const torch::nn::Module& model,
                      const std::map<std::string, at::Tensor>& saved, const std::string& source) {
  auto& state = optimizer.state();
  state.clear();
  size_t used = 0;
  for (const auto& p : model.named_parameters(/*recurse=*/true)) {
    const auto step = saved.find("step/" + p.key());
    if (step == saved.end()) continue;
    auto tensor = [&](const std::string& kind) {
      const auto it = saved.find(kind + "/" + p.key());
      if (it == saved.end()) input_error(source, ": optimizer state '", kind, "/", p.key(), "' is missing");
      if (it->second.sizes() != p.value().sizes()) {
        input_error(source, ": optimizer state '", kind, "/", p.key(), "' has shape ", it->second.sizes(),
                    ", the parameter has ", p.value().sizes());
      }
      ++used;
      // On the parameter's device and in its dtype (checkpoints hold CPU tensors).
      return it->second.to(p.value().device(), p.value().scalar_type()).clone();
    };
    auto s = std::make_unique<torch::optim::AdamWParamState>();
    s->step(step->second.item<int64_t>());
    s->exp_avg(tensor("exp_avg"));
    s->exp_avg_sq(tensor("exp_avg_sq"));
    if (saved.count("max_exp_avg_sq/" + p.key())) s->max_exp_avg_sq(tensor("max_exp_avg_sq"));
    ++used;
    state[key_of(p.value())] = std::move(s);
  }
  if (used != saved.size()) {
    for (const auto& [name, _] : saved) {
      const std::string param = name.substr(name.find('/') + 1);
      bool found = false;
      for (const auto& p : model.named_parameters(/*recurse=*/true)) found = found || p.key() == param;
      if (!found) input_error(source, ": optimizer state for '", param, "', which the model does not have");
    }
  }
}

}  // namespace stilts::train
