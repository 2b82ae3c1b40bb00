#include "common/precision.h"

#include <string>

#include "common/error.h"

namespace stilts {

Precision parse_precision(std::string_view name) {
  for (const Precision p : {Precision::kFp32, Precision::kBf16, Precision::kFp16, Precision::kInt8}) {
    if (name == precision_name(p)) return p;
  }
  input_error("unknown precision '", std::string(name), "' (expected fp32, bf16, fp16 or int8)");
}

const char* precision_name(Precision precision) {
  switch (precision) {
    case Precision::kFp32: return "fp32";
    case Precision::kBf16: return "bf16";
    case Precision::kFp16: return "fp16";
    case Precision::kInt8: return "int8";
  }
  return "?";
}

}  // namespace stilts
