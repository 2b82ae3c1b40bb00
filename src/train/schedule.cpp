#include "train/schedule.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace stilts::train {

LrSchedule parse_lr_schedule(const std::string& name) {
  if (name == "linear") return LrSchedule::kLinear;
  if (name == "cosine") return LrSchedule::kCosine;
  if (name == "constant") return LrSchedule::kConstant;
  input_error("unknown lr_schedule '", name, "' (expected linear, cosine or constant)");
}

double lr_factor(LrSchedule schedule, int64_t step, int64_t warmup_steps, int64_t total_steps) {
  if (step < warmup_steps) {
    return static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, warmup_steps));
  }
  const double decay_steps = static_cast<double>(std::max<int64_t>(1, total_steps - warmup_steps));
  switch (schedule) {
    case LrSchedule::kConstant: return 1.0;
    case LrSchedule::kLinear:
      return std::max(0.0, static_cast<double>(total_steps - step) / decay_steps);
    case LrSchedule::kCosine: {
      const double progress = static_cast<double>(step - warmup_steps) / decay_steps;
      constexpr double kNumCycles = 0.5;
      return std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * kNumCycles * 2.0 * progress)));
    }
  }
  return 1.0;
}

int64_t resolve_warmup_steps(int64_t warmup_steps, double warmup_ratio, int64_t total_steps) {
  if (warmup_steps > 0) return warmup_steps;
  return static_cast<int64_t>(std::ceil(warmup_ratio * static_cast<double>(total_steps)));
}

}  // namespace stilts::train
