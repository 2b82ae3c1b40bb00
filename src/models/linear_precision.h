// A model's nn::Linear layers run in another precision for inference, through models::linear()'s
// per-thread hook (models/linear_hook.h): install hook() with a ScopedLinearHook around the forwards.
// Used by predict() (stilts eval --precision int8) and stilts bench (modes int8 and bf16).
//
// Letters: H input features, O output features.
#pragma once

#include <torch/types.h>

#include <ATen/core/dispatch/Dispatcher.h>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "models/linear_hook.h"

namespace stilts::models {

// Quantized engines of this libtorch ("qnnpack", "onednn", "fbgemm"...).
std::vector<std::string> quantized_engines();
// The engine int8 uses (onednn, else fbgemm, else qnnpack), or nullopt when the build has none.
std::optional<std::string> int8_engine();

// int8: every nn::Linear weight packed once (quantized::linear_prepack; per-tensor symmetric int8, as
// PyTorch's default dynamic qconfig), run as quantized::linear_dynamic (activations quantized per
// batch on the fly), as PyTorch's quantize_dynamic({nn.Linear}) does. Layers called as torch::linear
// rather than through models::linear (the BERT/RoBERTa classifier, tiny) stay fp32. CPU only: an
// InputError for a model elsewhere, or for a libtorch without a quantized engine.
class Int8Linears {
 public:
  explicit Int8Linears(torch::nn::Module& model);
  Int8Linears(const Int8Linears&) = delete;  // the hook refers to this object
  Int8Linears& operator=(const Int8Linears&) = delete;
  const LinearHook* hook() const { return &hook_; }
  // Bytes saved by holding these weights as int8 instead of fp32.
  int64_t bytes_saved() const { return fp32_bytes_replaced_ - int8_bytes_; }

 private:
  std::unordered_map<const torch::nn::LinearImpl*, c10::IValue> packed_;
  std::optional<c10::OperatorHandle> dynamic_;
  LinearHook hook_;
  int64_t int8_bytes_ = 0, fp32_bytes_replaced_ = 0;
};

// bf16: the nn::Linear weights and biases cast to bfloat16 once, up front. Under autocast, linear()
// casts them to exactly these values on every forward (440 MB read, 220 MB written per BERT-base
// forward); holding the casts computes the same thing without that traffic. Run under autocast (which
// casts the input).
class Bf16Linears {
 public:
  explicit Bf16Linears(torch::nn::Module& model);
  Bf16Linears(const Bf16Linears&) = delete;  // the hook refers to this object
  Bf16Linears& operator=(const Bf16Linears&) = delete;
  const LinearHook* hook() const { return &hook_; }
  int64_t bytes() const { return bytes_; }

 private:
  struct Cast {
    torch::Tensor weight, bias;  // [O, H], [O]
  };
  std::unordered_map<const torch::nn::LinearImpl*, Cast> casts_;
  LinearHook hook_;
  int64_t bytes_ = 0;
};

}  // namespace stilts::models
