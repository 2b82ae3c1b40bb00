#include "common/threads.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "common/error.h"
#include "common/strings.h"

namespace stilts {

namespace {

// OMP_NUM_THREADS's outer level ("4" or "4,2"), or 0 when unset.
int omp_num_threads() {
  const char* v = std::getenv("OMP_NUM_THREADS");
  if (v == nullptr) return 0;
  const std::string_view text(v);
  const std::string_view first = text.substr(0, text.find(','));
  int n = 0;
  const auto [end, ec] = std::from_chars(first.data(), first.data() + first.size(), n);
  if (ec != std::errc() || end != first.data() + first.size() || n < 1) {
    input_error("OMP_NUM_THREADS='", text, "': expected a positive integer (or a comma-separated list of them)");
  }
  return n;
}

// The cores not busy with other work over a short window of /proc/stat (the load average would count a
// benchmark's own previous process for a minute after it ended); every core when it cannot be read.
int idle_cores(int cores) {
  const auto busy = [] {
    std::ifstream in("/proc/stat");
    std::string cpu;
    double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    if (!(in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal) || cpu != "cpu") {
      return std::pair<double, double>{-1, -1};
    }
    return std::pair<double, double>{user + nice + system + irq + softirq + steal, idle + iowait};
  };
  const auto a = busy();
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  const auto b = busy();
  const double total = (b.first - a.first) + (b.second - a.second);
  if (a.first < 0 || b.first < 0 || total <= 0) return cores;
  const double busy_cores = static_cast<double>(cores) * (b.first - a.first) / total;
  const int idle = static_cast<int>(std::floor(static_cast<double>(cores) - busy_cores + 0.5));
  return std::clamp(idle, 1, cores);
}

int cores() { return std::max(1, static_cast<int>(std::thread::hardware_concurrency())); }

}  // namespace

int default_threads(Precision precision) {
  if (precision == Precision::kFp32 || precision == Precision::kInt8) return 1;
  if (const int n = omp_num_threads(); n > 0) return n;
  return cores();
}

int measurement_threads(Precision precision) {
  if (precision == Precision::kFp32 || precision == Precision::kInt8 || omp_num_threads() > 0) {
    return default_threads(precision);
  }
  const char* wait_policy = std::getenv("OMP_WAIT_POLICY");
  if (wait_policy != nullptr && ascii_lower(wait_policy) == "passive") return cores();
  return idle_cores(cores());
}

}  // namespace stilts
