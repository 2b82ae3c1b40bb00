// Dynamic loss scaling for fp16 training, with the semantics of torch.cuda.amp.GradScaler: float16
// gradients of small losses underflow to zero, so the loss is multiplied by a large scale before the
// backward pass and the gradients divided by it before clipping and the optimizer step. A step whose
// gradients hold an inf or NaN (the scale was too large) is skipped and the scale halved; after
// `growth_interval` clean steps in a row it doubles. Plain tensor math: it runs (and is tested) on the CPU.
// Used for precision fp16 only (bf16 has float32's range and needs none).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace stilts::train {

struct LossScalerOptions {
  double init_scale = 65536.0;  // 2^16
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;
};

class LossScaler {
 public:
  explicit LossScaler(LossScalerOptions options = {});

  double scale() const { return scale_; }
  int64_t growth_tracker() const { return growth_tracker_; }  // clean steps since the last change
  // Restores a checkpoint's scale and tracker (a resumed run continues with the same scale).
  void restore(double scale, int64_t growth_tracker);

  // loss × scale, to back-propagate.
  torch::Tensor scale_loss(const torch::Tensor& loss) const { return loss * scale_; }
  // Divides every defined gradient of `params` by the scale, in place. Returns false when any gradient
  // holds an inf or NaN: the optimizer step must then be skipped.
  bool unscale(const std::vector<torch::Tensor>& params) const;
  // After each step, taken (`finite`) or skipped: backs off on a skipped one (and restarts the count),
  // grows after growth_interval clean ones.
  void update(bool finite);

 private:
  LossScalerOptions options_;
  double scale_;
  int64_t growth_tracker_ = 0;
};

}  // namespace stilts::train
