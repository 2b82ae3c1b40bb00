#include "bench/params.h"

#include <torch/torch.h>

#include <map>

#include "common/error.h"
#include "models/mlm.h"
#include "models/pretrained.h"
#include "models/registry.h"

namespace stilts::bench {

namespace fs = std::filesystem;

models::ParameterCounts analytic_parameters(const nlohmann::json& config, const models::BuildOptions& options,
                                            const std::string& source) {
  const models::Family& family = models::family_of(config, source);
  models::ParameterCounts c;
  if (options.head == models::HeadKind::kMaskedLM) {
    // What models::MaskedLMModel builds: the base model without its pooler, and the LM head.
    const models::MaskedLMHead head = models::masked_lm_head_of(config, source);
    c = family.count_parameters(config, models::BuildOptions{models::HeadKind::kNone, /*add_pooling_layer=*/false},
                                source);
    c.head = head.parameter_count();
  } else {
    c = family.count_parameters(config, options, source);
  }
  c.total = c.embeddings + c.encoder + c.pooler + c.head;
  c.trainable = c.total;
  return c;
}

double forward_flops(const nlohmann::json& config, int64_t seq_len, bool with_head, const std::string& source) {
  if (seq_len < 1) input_error(source, ": FLOPs need a sequence length >= 1, got ", seq_len);
  return models::family_of(config, source).forward_flops(config, seq_len, with_head, source);
}

ParameterReport parameter_report(const fs::path& dir, const fs::path& base) {
  const auto loaded = models::load_pretrained(dir);
  return parameter_report(*loaded.model, dir, base);
}

ParameterReport parameter_report(const models::EncoderModel& model, const fs::path& dir, const fs::path& base) {
  ParameterReport r;
  r.model_type = model.model_type();
  r.has_head = model.has_head();
  r.counts = models::count_parameters(model);
  r.bytes_on_disk = models::bytes_on_disk(dir);
  if (!base.empty()) {
    const auto base_loaded = models::load_pretrained(base);
    if (base_loaded.model->model_type() != r.model_type) {
      input_error(base.string(), ": the base model is '", base_loaded.model->model_type(), "', ", dir.string(),
                  " is '", r.model_type, "'");
    }
    std::map<std::string, torch::Tensor> base_params;
    for (const auto& p : base_loaded.model->named_parameters(/*recurse=*/true)) base_params[p.key()] = p.value();
    r.params_differing = 0;
    r.tensors_differing = 0;
    torch::NoGradGuard no_grad;
    for (const auto& p : model.named_parameters(/*recurse=*/true)) {
      const auto it = base_params.find(p.key());
      const bool same = it != base_params.end() && it->second.sizes() == p.value().sizes() &&
                        torch::equal(it->second, p.value());
      if (!same) {
        r.params_differing += p.value().numel();
        ++r.tensors_differing;
      }
    }
  }
  return r;
}

nlohmann::ordered_json to_json(const models::ParameterCounts& c) {
  return {{"total", c.total},   {"embeddings", c.embeddings}, {"encoder", c.encoder},
          {"pooler", c.pooler}, {"head", c.head},             {"trainable", c.trainable}};
}

nlohmann::ordered_json to_json(const ParameterReport& r) {
  auto null_if_negative = [](int64_t v) { return v < 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(v); };
  return {{"model_type", r.model_type},
          {"has_head", r.has_head},
          {"parameters", to_json(r.counts)},
          {"params_differing", null_if_negative(r.params_differing)},
          {"tensors_differing", null_if_negative(r.tensors_differing)},
          {"bytes_on_disk", r.bytes_on_disk},
          {"disk_mb", static_cast<double>(r.bytes_on_disk) / (1024.0 * 1024.0)}};
}

}  // namespace stilts::bench
