// AdamW with Hugging Face's two parameter groups, and its state saved by parameter name.
#pragma once

#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace stilts::train {

struct AdamWSettings {
  double lr = 2e-5;
  double weight_decay = 0.01;
  double beta1 = 0.9, beta2 = 0.999;
  double epsilon = 1e-8;
};

// transformers' Trainer rule: no weight decay on parameters of LayerNorm modules and on any
// parameter whose name contains "bias" (XLNet's r_w_bias too). Names are the model's (HF) names.
struct ParameterSplit {
  std::vector<std::string> decay, no_decay;
};
ParameterSplit split_for_weight_decay(const torch::nn::Module& model);

// AdamW (decoupled weight decay, as torch.optim.AdamW) over the trainable parameters of `model`:
// group 0 decays, group 1 does not. Empty groups are left out.
std::unique_ptr<torch::optim::AdamW> make_adamw(torch::nn::Module& model, const AdamWSettings& settings);

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

// The per-parameter state (step, exp_avg, exp_avg_sq) keyed "<kind>/<parameter name>", so a
// checkpoint does not depend on parameter order or tensor addresses.
std::vector<std::pair<std::string, at::Tensor>> adamw_state_tensors(torch::optim::AdamW& optimizer,
                                                                     const torch::nn::Module& model);
// Restores what adamw_state_tensors saved; a parameter missing from `saved` or a misshapen tensor is an
// InputError naming `source`.
void load_adamw_state(torch::optim::AdamW& optimizer, const torch::nn::Module& model,
                      const std::map<std::string, at::Tensor>& saved, const std::string& source);

}  // namespace stilts::train
