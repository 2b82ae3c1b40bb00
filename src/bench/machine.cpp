#include "bench/machine.h"

#include <torch/torch.h>

#include <dlfcn.h>
#include <sys/utsname.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "common/files.h"
#include "common/strings.h"
#include "models/linear_precision.h"

namespace stilts::bench {

namespace fs = std::filesystem;

namespace {

nlohmann::ordered_json env_value(const char* name) {
  const char* v = std::getenv(name);
  return v ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
}

// OpenBLAS's own pool and kernel set, looked up at run time (null when the BLAS is another library).
nlohmann::ordered_json openblas_threads() {
  auto* get = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return get ? nlohmann::ordered_json(get()) : nlohmann::ordered_json(nullptr);
}
nlohmann::ordered_json openblas_core() {
  auto* get = reinterpret_cast<char* (*)()>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  return get ? nlohmann::ordered_json(get()) : nlohmann::ordered_json(nullptr);
}

// "key : value" lines of /proc/cpuinfo's first processor.
std::string cpuinfo_field(const std::string& key) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
    if (name == key) {
      const auto start = line.find_first_not_of(' ', colon + 1);
      return start == std::string::npos ? "" : line.substr(start);
    }
  }
  return "";
}

uint64_t meminfo_kb(const std::string& key) {
  std::ifstream in("/proc/meminfo");
  std::string name;
  uint64_t value = 0;
  std::string unit;
  while (in >> name >> value >> unit) {
    if (name == key + ":") return value;
  }
  return 0;
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buffer;
}

}  // namespace

Mode parse_mode(const std::string& name) {
  if (name != "fp32" && name != "bf16" && name != "int8") input_error("mode '", name, "' is not one of fp32, bf16, int8");
  return parse_precision(name);
}

std::string mode_detail(Mode mode) {
  switch (mode) {
    case Mode::kFp32: return "fp32 weights and activations";
    case Mode::kBf16:
      return "CPU autocast to bfloat16 around each forward; nn::Linear weights cast to bfloat16 once up front "
             "(the values autocast would cast them to), other weights cast per forward";
    case Mode::kInt8:
      return "dynamic int8 quantization of nn::Linear layers (per-tensor symmetric int8 weights, " +
             models::int8_engine().value_or("no") + " engine); attention products and the BERT/RoBERTa classifier in fp32";
    case Mode::kFp16: return "CUDA autocast to float16 (not a stilts bench mode)";
  }
  return "";
}

nlohmann::ordered_json thread_settings() {
  return {{"torch_threads", at::get_num_threads()},
          {"interop_threads", at::get_num_interop_threads()},
          {"openblas_threads", openblas_threads()},
          {"openblas_core", openblas_core()},
          {"OMP_NUM_THREADS", env_value("OMP_NUM_THREADS")},
          {"OPENBLAS_NUM_THREADS", env_value("OPENBLAS_NUM_THREADS")},
          {"OPENBLAS_CORETYPE", env_value("OPENBLAS_CORETYPE")},
          {"MKL_NUM_THREADS", env_value("MKL_NUM_THREADS")},
          {"OMP_WAIT_POLICY", env_value("OMP_WAIT_POLICY")}};
}

nlohmann::ordered_json apply_threads(Mode mode, int threads) {
  if (threads < 0) input_error("--threads must be >= 1 (0 or absent: the mode's default), got ", threads);
  at::set_num_threads(threads > 0 ? threads : measurement_threads(mode));
  return thread_settings();
}

nlohmann::ordered_json machine_fingerprint() {
  nlohmann::ordered_json j;
  j["cpu"] = cpuinfo_field("model name");
  j["cores"] = std::thread::hardware_concurrency();
  j["memory_gb"] = static_cast<double>(meminfo_kb("MemTotal")) / (1024.0 * 1024.0);
  std::set<std::string> flags;
  {
    std::istringstream in(cpuinfo_field("flags"));
    std::string flag;
    while (in >> flag) flags.insert(flag);
  }
  nlohmann::ordered_json isa = nlohmann::ordered_json::array();
  for (const char* f : {"sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
                        "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8"}) {
    if (flags.count(f)) isa.push_back(f);
  }
  j["isa"] = isa;
  j["hypervisor"] = flags.count("hypervisor") > 0;
  struct utsname u {};
  if (uname(&u) == 0) j["kernel"] = std::string(u.sysname) + " " + u.release;
  j["libtorch"] = TORCH_VERSION;
  j["mkldnn"] = at::hasMKLDNN();
  j["quantized_engines"] = models::quantized_engines();
  j["threads"] = thread_settings();
  {
    std::ifstream in("/proc/loadavg");
    double l1 = 0, l5 = 0, l15 = 0;
    in >> l1 >> l5 >> l15;
    j["load_average"] = {l1, l5, l15};
  }
  j["build_config"] = at::show_config();
  j["time"] = utc_now();
  return j;
}

namespace {

// What a cached peak must match to be reused.
nlohmann::ordered_json peak_machine_key() {
  const auto f = machine_fingerprint();
  return {{"cpu", f["cpu"]},
          {"cores", f["cores"]},
          {"libtorch", f["libtorch"]},
          {"OPENBLAS_CORETYPE", env_value("OPENBLAS_CORETYPE")}};
}

double time_matmul(torch::ScalarType dtype, int threads, int64_t n, double seconds) {
  const int previous = at::get_num_threads();
  at::set_num_threads(threads);
  torch::manual_seed(0);
  const auto a = torch::randn({n, n}).to(dtype);
  const auto b = torch::randn({n, n}).to(dtype);
  c10::InferenceMode guard;
  for (int i = 0; i < 2; ++i) torch::mm(a, b);  // warm-up: packing buffers, oneDNN primitive cache
  double best = 1e300;
  const auto start = std::chrono::steady_clock::now();
  int reps = 0;
  while (reps < 3 || std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto c = torch::mm(a, b);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (++reps >= 1000) break;
  }
  at::set_num_threads(previous);
  return 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n) / best;
}

}  // namespace

PeakFlops measure_peak_flops(int64_t size, double seconds) {
  if (size < 1) input_error("peak: matrix size must be >= 1, got ", size);
  PeakFlops p;
  p.size = size;
  p.threads_fp32 = measurement_threads(Mode::kFp32);
  p.threads_bf16 = measurement_threads(Mode::kBf16);
  p.fp32 = time_matmul(torch::kFloat, p.threads_fp32, size, seconds);
  p.bf16 = time_matmul(torch::kBFloat16, p.threads_bf16, size, seconds);
  p.measured_at = utc_now();
  p.machine = peak_machine_key();
  return p;
}

fs::path default_peak_cache_path() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "stilts" / "peak.json";
  if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / ".cache" / "stilts" / "peak.json";
  return fs::temp_directory_path() / "stilts" / "peak.json";
}

nlohmann::ordered_json to_json(const PeakFlops& p) {
  return {{"fp32", p.fp32},
          {"bf16", p.bf16},
          {"size", p.size},
          {"threads", {{"fp32", p.threads_fp32}, {"bf16", p.threads_bf16}}},
          {"measured_at", p.measured_at},
          {"machine", p.machine},
          {"from_cache", p.from_cache}};
}

PeakFlops peak_flops(bool remeasure, const fs::path& cache, int64_t size, double seconds) {
  if (!remeasure && fs::exists(cache)) {
    try {
      const nlohmann::json j = read_json_file(cache);
      if (nlohmann::json(peak_machine_key()) == j.at("machine")) {
        PeakFlops p;
        p.fp32 = j.at("fp32").get<double>();
        p.bf16 = j.at("bf16").get<double>();
        p.size = j.at("size").get<int64_t>();
        p.measured_at = j.at("measured_at").get<std::string>();
        p.threads_fp32 = j.at("threads").at("fp32").get<int>();
        p.threads_bf16 = j.at("threads").at("bf16").get<int>();
        p.machine = j.at("machine");
        p.from_cache = true;
        return p;
      }
    } catch (const std::exception&) {
      // A corrupt or foreign cache file is re-measured and overwritten.
    }
  }
  PeakFlops p = measure_peak_flops(size, seconds);
  std::error_code ec;
  fs::create_directories(cache.parent_path(), ec);
  if (ec) input_error(cache.parent_path().string(), ": cannot create the cache directory (", ec.message(), ")");
  write_file_atomic(cache, to_json(p).dump(2) + "\n");
  return p;
}

}  // namespace stilts::bench
