#include "train/loss_scale.h"

#include <torch/torch.h>

#include "common/error.h"

namespace stilts::train {

LossScaler::LossScaler(LossScalerOptions options) : options_(options), scale_(options.init_scale) {
  STILTS_CHECK(options_.init_scale > 0 && options_.growth_factor > 1 && options_.backoff_factor > 0 &&
                   options_.backoff_factor < 1 && options_.growth_interval >= 1,
               "invalid loss-scaler options");
}

void LossScaler::restore(double scale, int64_t growth_tracker) {
  STILTS_CHECK(scale > 0 && growth_tracker >= 0, "loss scale ", scale, ", tracker ", growth_tracker);
  scale_ = scale;
  growth_tracker_ = growth_tracker;
}

bool LossScaler::unscale(const std::vector<torch::Tensor>& params) const {
  torch::NoGradGuard no_grad;
  bool finite = true;
  const double inverse = 1.0 / scale_;
  for (const auto& p : params) {
    torch::Tensor g = p.grad();
    if (!g.defined()) continue;
    // Checked in float32: an fp16 gradient times 1/scale must not be what overflows.
    if (finite && !torch::isfinite(g).all().item<bool>()) finite = false;
    g.mul_(inverse);
  }
  return finite;
}

void LossScaler::update(bool finite) {
  if (!finite) {
    scale_ *= options_.backoff_factor;
    growth_tracker_ = 0;
    return;
  }
  if (++growth_tracker_ >= options_.growth_interval) {
    scale_ *= options_.growth_factor;
    growth_tracker_ = 0;
  }
}

}  // namespace stilts::train
