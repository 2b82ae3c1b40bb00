#include "models/registry.h"

#include <algorithm>
#include <set>

#include "common/error.h"
#include "io/hf_config.h"
#include "models/bert.h"
#include "models/roberta.h"
#include "models/xlnet.h"

namespace stilts::models {

namespace {

std::string join(const std::vector<std::string>& items, size_t limit = 6) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < limit; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > limit) out += ", ... (" + std::to_string(items.size()) + " in all)";
  return out;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

// The one list of families. Adding a family adds one line here (its descriptor is in its own file).
const std::vector<const Family*>& families() {
  static const std::vector<const Family*> all = {
      &bert_family(),
      &roberta_family(),
      &xlnet_family(),
  };
  return all;
}

const Family* find_family(const std::string& model_type) {
  for (const Family* family : families()) {
    for (const auto& type : family->model_types) {
      if (type.name == model_type) return family;
    }
  }
  return nullptr;
}

const Family& family_of(const nlohmann::json& config, const std::string& source) {
  const std::string type = io::model_type_of(config, source);
  const Family* family = find_family(type);
  if (!family) {
    input_error(source, ": model_type '", type, "' is not supported (supported: ", join(supported_model_types(), 20),
                ")");
  }
  return *family;
}

std::vector<std::string> supported_model_types() {
  std::vector<std::string> out;
  for (const Family* family : families()) {
    for (const auto& type : family->model_types) out.push_back(type.name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::shared_ptr<EncoderModel> create_model(const nlohmann::json& config, const std::string& source,
                                           BuildOptions options) {
  return family_of(config, source).build(config, source, options);
}

bool checkpoint_has_head(const std::vector<std::string>& names) {
  return std::any_of(names.begin(), names.end(), [](const std::string& n) {
    for (const Family* family : families()) {
      for (const auto& prefix : family->head_weight_prefixes) {
        if (starts_with(n, prefix)) return true;
      }
    }
    return false;
  });
}

bool checkpoint_has_pooler(const std::vector<std::string>& names) {
  return std::any_of(names.begin(), names.end(), [](const std::string& n) {
    return starts_with(n, "pooler.") || n.find(".pooler.") != std::string::npos;
  });
}

LoadReport load_weights(EncoderModel& model, const std::map<std::string, torch::Tensor>& weights, LoadMode mode,
                        const std::string& source) {
  const std::string prefix = model.base_model_prefix() + ".";
  // Checkpoint names -> model names.
  const bool has_prefix =
      std::any_of(weights.begin(), weights.end(), [&](const auto& kv) { return starts_with(kv.first, prefix); });
  std::map<std::string, std::string> model_name_of;  // model name -> checkpoint name
  std::vector<std::string> unexpected;
  auto params = model.named_parameters(/*recurse=*/true);
  auto buffers = model.named_buffers(/*recurse=*/true);
  std::set<std::string> expected;
  for (const auto& p : params) expected.insert(p.key());
  for (const auto& b : buffers) expected.insert(b.key());

  for (const auto& [ckpt_name, _] : weights) {
    std::string name = ckpt_name;
    // Old TF-converted checkpoints name LayerNorm parameters gamma/beta.
    auto rename_suffix = [&](const std::string& from, const std::string& to) {
      if (name.size() > from.size() && name.compare(name.size() - from.size(), from.size(), from) == 0 &&
          name.find("LayerNorm") != std::string::npos) {
        name = name.substr(0, name.size() - from.size()) + to;
      }
    };
    rename_suffix(".gamma", ".weight");
    rename_suffix(".beta", ".bias");
    // A buffer older checkpoints carry; the model derives position ids itself.
    static const std::string kPositionIds = "embeddings.position_ids";
    if (name.size() >= kPositionIds.size() &&
        name.compare(name.size() - kPositionIds.size(), kPositionIds.size(), kPositionIds) == 0) {
      continue;
    }
    if (!has_prefix && !expected.count(name) && expected.count(prefix + name)) name = prefix + name;
    if (expected.count(name)) {
      model_name_of[name] = ckpt_name;
    } else {
      unexpected.push_back(ckpt_name);
    }
  }

  LoadReport report;
  std::vector<std::string> missing;
  for (const auto& name : expected) {
    if (model_name_of.count(name)) continue;
    const ParamGroup group = model.param_group(name);
    if (mode == LoadMode::kEncoderOnly && (group == ParamGroup::kHead || group == ParamGroup::kPooler)) {
      report.initialized.push_back(name);
    } else {
      missing.push_back(name);
    }
  }
  if (!model.has_pooler()) {
    // A pooler the model is built without (token classification, QA, ...): transformers ignores it
    // (those heads' _keys_to_ignore_on_load_unexpected = [r"pooler"]).
    std::vector<std::string> kept;
    for (const auto& n : unexpected) {
      const bool pooler = starts_with(n, "pooler.") || n.find(".pooler.") != std::string::npos;
      (pooler ? report.ignored : kept).push_back(n);
    }
    unexpected = kept;
  }
  if (mode == LoadMode::kEncoderOnly) {
    // Weights outside the base model (an old classifier, an LM or NSP head) are left behind.
    std::vector<std::string> kept;
    for (const auto& n : unexpected) {
      const bool in_base = has_prefix ? starts_with(n, prefix) : false;
      (in_base ? kept : report.ignored).push_back(n);
    }
    unexpected = kept;
    // An old head whose names match the new one is not reused in encoder-only mode.
    for (auto it = model_name_of.begin(); it != model_name_of.end();) {
      if (model.param_group(it->first) == ParamGroup::kHead) {
        report.ignored.push_back(it->second);
        report.initialized.push_back(it->first);
        it = model_name_of.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (!missing.empty() || !unexpected.empty()) {
    std::string msg = source + ": weights do not match the " + model.model_type() + " model";
    if (!missing.empty()) msg += "\n  missing (" + std::to_string(missing.size()) + "): " + join(missing);
    if (!unexpected.empty()) msg += "\n  unexpected (" + std::to_string(unexpected.size()) + "): " + join(unexpected);
    throw InputError(msg);
  }

  torch::NoGradGuard no_grad;
  auto copy_into = [&](torch::Tensor& target, const std::string& name) {
    const auto& ckpt_name = model_name_of.at(name);
    const torch::Tensor& src = weights.at(ckpt_name);
    if (src.sizes() != target.sizes()) {
      std::ostringstream os;
      os << source << ": tensor '" << ckpt_name << "' has shape " << src.sizes() << ", the model expects "
         << target.sizes() << " (does config.json match the weights?)";
      throw InputError(os.str());
    }
    if (!src.is_floating_point() && target.is_floating_point()) {
      input_error(source, ": tensor '", ckpt_name, "' has dtype ", src.scalar_type(), ", expected floating point");
    }
    target.copy_(src);
  };
  for (auto& p : params) {
    if (model_name_of.count(p.key())) copy_into(p.value(), p.key());
  }
  for (auto& b : buffers) {
    if (model_name_of.count(b.key())) copy_into(b.value(), b.key());
  }
  return report;
}

}  // namespace stilts::models
