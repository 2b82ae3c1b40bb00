// A per-thread replacement for models::linear() (the nn::Linear layers of every family), used to run
// the linear layers in another precision (models/linear_precision.h: int8 dynamic quantization for
// predict() and stilts bench, bf16 casts held once for stilts bench). Without a hook installed,
// linear() is torch::linear and nothing changes.
#pragma once

#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <functional>

namespace stilts::models {

// Returns the layer's output for input x, or an undefined tensor to fall back to torch::linear.
using LinearHook = std::function<torch::Tensor(const torch::Tensor& x, const torch::nn::LinearImpl& layer)>;

// Installs `hook` on the calling thread for the object's lifetime (restoring the previous one).
class ScopedLinearHook {
 public:
  explicit ScopedLinearHook(const LinearHook* hook);
  ~ScopedLinearHook();
  ScopedLinearHook(const ScopedLinearHook&) = delete;
  ScopedLinearHook& operator=(const ScopedLinearHook&) = delete;

 private:
  const LinearHook* previous_;
};

// The hook installed on this thread, or nullptr.
const LinearHook* current_linear_hook();

}  // namespace stilts::models
