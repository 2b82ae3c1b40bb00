// The numeric precision a model runs in: one name for training (stilts train / run), evaluation
// (stilts eval) and measurement (stilts bench).
//   fp32  the model as loaded.
//   bf16  autocast to bfloat16 around the forward (CPU or CUDA), as torch.autocast does.
//   fp16  autocast to float16, CUDA only (libtorch's CPU autocast is bf16 only).
//   int8  inference only, CPU only: dynamic quantization of the nn::Linear layers, as PyTorch's
//         quantize_dynamic({nn.Linear}) does (models/linear_precision.h).
// Torch-free, so configs and tools can name a precision without torch's headers.
#pragma once

#include <string_view>

namespace stilts {

enum class Precision { kFp32, kBf16, kFp16, kInt8 };

// "fp32" | "bf16" | "fp16" | "int8"; InputError naming the value and listing them otherwise.
Precision parse_precision(std::string_view name);
const char* precision_name(Precision precision);

}  // namespace stilts
