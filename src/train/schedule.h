// Learning-rate schedules with Hugging Face's semantics (transformers.optimization): a multiplier of
// the peak learning rate per optimizer step, linear warm-up from 0 then linear decay to 0, half-cosine
// decay to 0, or constant.
//
// As with LambdaLR, the update number `step` (0-based: the first optimizer step is step 0) uses
// lr_factor(step): with warm-up, the very first update has learning rate 0.
#pragma once

#include <cstdint>
#include <string>

namespace stilts::train {

enum class LrSchedule { kLinear, kCosine, kConstant };

// "linear" | "cosine" | "constant" (InputError otherwise).
LrSchedule parse_lr_schedule(const std::string& name);

// get_linear_schedule_with_warmup / get_cosine_schedule_with_warmup (num_cycles = 0.5) /
// get_constant_schedule_with_warmup.
double lr_factor(LrSchedule schedule, int64_t step, int64_t warmup_steps, int64_t total_steps);

// HF TrainingArguments.get_warmup_steps: warmup_steps when > 0, else ceil(warmup_ratio * total).
int64_t resolve_warmup_steps(int64_t warmup_steps, double warmup_ratio, int64_t total_steps);

}  // namespace stilts::train
