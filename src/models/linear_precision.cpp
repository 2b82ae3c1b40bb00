// Letters: H input features, O output features.
#include "models/linear_precision.h"

#include <torch/torch.h>

#include <algorithm>

#include "common/error.h"
#include "common/strings.h"

namespace stilts::models {

std::vector<std::string> quantized_engines() {
  std::vector<std::string> out;
  for (const auto engine : at::globalContext().supportedQEngines()) {
    if (engine == at::QEngine::NoQEngine) continue;
    out.push_back(ascii_lower(c10::toString(engine)));
  }
  return out;
}

std::optional<std::string> int8_engine() {
  const auto engines = quantized_engines();
  for (const char* preferred : {"onednn", "fbgemm", "qnnpack"}) {
    if (std::find(engines.begin(), engines.end(), preferred) != engines.end()) return std::string(preferred);
  }
  return std::nullopt;
}

Int8Linears::Int8Linears(torch::nn::Module& model) {
  const auto engine = int8_engine();
  if (!engine) {
    input_error("precision int8: this libtorch build has no quantized engine (no fbgemm, onednn or qnnpack), so "
                "dynamic int8 quantization is unavailable here; use fp32 or bf16");
  }
  for (const auto& p : model.parameters()) {
    if (!p.device().is_cpu()) {
      input_error("precision int8 runs on the CPU only (libtorch's dynamic quantization), and this model is on ",
                  p.device().str(), ": use --device cpu, or fp32 / bf16 / fp16 there");
    }
  }
  for (const auto engine_value : at::globalContext().supportedQEngines()) {
    if (ascii_lower(c10::toString(engine_value)) == *engine) at::globalContext().setQEngine(engine_value);
  }
  auto& dispatcher = c10::Dispatcher::singleton();
  const auto prepack = dispatcher.findSchemaOrThrow("quantized::linear_prepack", "");
  dynamic_.emplace(dispatcher.findSchemaOrThrow("quantized::linear_dynamic", ""));
  torch::NoGradGuard no_grad;
  for (const auto& m : model.modules(/*include_self=*/false)) {
    auto* linear = m->as<torch::nn::Linear>();
    if (!linear) continue;
    const auto w = linear->weight.detach().to(torch::kFloat).contiguous();  // [O, H]
    const double scale = std::max(w.abs().max().item<double>() / 127.5, 1e-12);
    const auto qw = torch::quantize_per_tensor(w, scale, /*zero_point=*/0, torch::kQInt8);
    torch::jit::Stack stack{qw, linear->bias.defined() ? c10::IValue(linear->bias.detach().to(torch::kFloat))
                                                       : c10::IValue()};
    prepack.callBoxed(&stack);
    packed_[linear] = stack.at(0);
    int8_bytes_ += w.numel();
    fp32_bytes_replaced_ += w.numel() * static_cast<int64_t>(sizeof(float));
  }
  hook_ = [this](const torch::Tensor& x, const torch::nn::LinearImpl& layer) -> torch::Tensor {
    const auto it = packed_.find(&layer);
    if (it == packed_.end()) return {};
    torch::jit::Stack stack{x.contiguous(), it->second, false};
    dynamic_->callBoxed(&stack);
    return stack.at(0).toTensor();
  };
}

Bf16Linears::Bf16Linears(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (const auto& m : model.modules(/*include_self=*/false)) {
    auto* linear = m->as<torch::nn::Linear>();
    if (!linear) continue;
    Cast c{linear->weight.detach().to(torch::kBFloat16),
           linear->bias.defined() ? linear->bias.detach().to(torch::kBFloat16) : torch::Tensor()};
    bytes_ += c.weight.numel() * 2 + (c.bias.defined() ? c.bias.numel() * 2 : 0);
    casts_[linear] = std::move(c);
  }
  hook_ = [this](const torch::Tensor& x, const torch::nn::LinearImpl& layer) -> torch::Tensor {
    const auto it = casts_.find(&layer);
    if (it == casts_.end()) return {};
    return torch::linear(x, it->second.weight, it->second.bias);  // autocast casts x to bf16
  };
}

}  // namespace stilts::models
