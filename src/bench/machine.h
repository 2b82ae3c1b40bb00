// The machine under a measurement: its fingerprint, the thread settings per inference mode, the
// quantized engines, and the matrix-multiply peak FLOP/s.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/precision.h"
#include "common/threads.h"

namespace stilts::bench {

// Inference modes of stilts bench:
//   fp32  the model as loaded (fp32 weights); products in OpenBLAS (Debian's libtorch).
//   bf16  CPU autocast to bfloat16 around each forward, as torch.autocast("cpu") does; products in
//         oneDNN's AVX512-BF16 kernels. LayerNorm, softmax and the residual sums stay fp32, so results
//         are autocast's, not a bf16-weights model's. The nn::Linear weights and biases are cast to
//         bf16 once up front (exactly the values autocast casts them to on every forward: same output,
//         without re-reading the fp32 weights each forward); the rest is cast per forward. Autocast's
//         cast cache is off (an inference forward uses each weight once).
//   int8  dynamic quantization of the nn::Linear layers (weights int8 per tensor, symmetric;
//         activations quantized per batch on the fly: quantized::linear_dynamic), as PyTorch's
//         quantize_dynamic({nn.Linear}) does; attention products, XLNet's relative-attention
//         projections (parameters, not nn::Linear, in transformers too) and the BERT/RoBERTa
//         classifier layers (called as torch::linear, tiny) stay fp32; XLNet's summary and logits_proj
//         are quantized.
// A mode is a stilts::Precision (common/precision.h) that stilts bench measures: fp32, bf16 or int8.
using Mode = Precision;
// "fp32" | "bf16" | "int8"; InputError listing them otherwise (fp16 is CUDA autocast, not measured here).
Mode parse_mode(const std::string& name);
inline const char* mode_name(Mode mode) { return precision_name(mode); }
// One sentence saying how the mode runs (recorded with every figure).
std::string mode_detail(Mode mode);

// The default thread count per mode is stilts::measurement_threads (common/threads.h).

// The thread settings in effect: torch intra-op and inter-op threads, OpenBLAS's pool and kernel
// set, and the environment variables that steer them (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS,
// OPENBLAS_CORETYPE, MKL_NUM_THREADS, OMP_WAIT_POLICY).
nlohmann::ordered_json thread_settings();

// Sets torch's intra-op threads (threads > 0, else measurement_threads(mode)) and returns thread_settings().
nlohmann::ordered_json apply_threads(Mode mode, int threads);

// The machine: CPU model, logical cores, memory, instruction-set extensions that matter for these
// kernels (sse4_2 avx avx2 fma avx512f avx512bw avx512vl avx512_vnni avx512_bf16 avx512_fp16
// amx_tile amx_bf16 amx_int8, as /proc/cpuinfo spells them), kernel, libtorch version and build
// configuration (at::show_config()), quantized engines, thread settings, load average.
nlohmann::ordered_json machine_fingerprint();


struct PeakFlops {
  double fp32 = 0;  // FLOP/s, best repetition of a square fp32 matmul at measurement_threads(kFp32)
  double bf16 = 0;  // FLOP/s, bf16 matmul at measurement_threads(kBf16)
  int64_t size = 0;  // the matmul's N (N x N x N, 2 N^3 FLOPs)
  int threads_fp32 = 0, threads_bf16 = 0;  // torch threads each was measured with
  std::string measured_at;  // UTC ISO time
  nlohmann::ordered_json machine;  // cpu, cores, OPENBLAS_CORETYPE, libtorch: what the figure is valid for
  bool from_cache = false;
};

// Times N x N matmuls (warm-up, then repetitions for about `seconds` per dtype); the best repetition.
PeakFlops measure_peak_flops(int64_t size = 2048, double seconds = 2.0);

// $XDG_CACHE_HOME/stilts/peak.json, else ~/.cache/stilts/peak.json.
std::filesystem::path default_peak_cache_path();

// The cached peak when it exists and was measured for this machine (same CPU, cores,
// OPENBLAS_CORETYPE and libtorch), else measures and caches it. `remeasure` ignores the cache.
// `size` and `seconds` are measure_peak_flops()'s.
PeakFlops peak_flops(bool remeasure = false, const std::filesystem::path& cache = default_peak_cache_path(),
                     int64_t size = 2048, double seconds = 2.0);

nlohmann::ordered_json to_json(const PeakFlops& peak);

}  // namespace stilts::bench
