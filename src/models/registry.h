// Model families by Hugging Face model_type, and strict state-dict loading.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/family.h"
#include "models/model.h"

namespace stilts::models {

// Every family, in the registry's order.
const std::vector<const Family*>& families();

// The family that reads `model_type`, or nullptr.
const Family* find_family(const std::string& model_type);
// The family of config.json's model_type; InputError naming `source` and listing the supported types
// when there is none.
const Family& family_of(const nlohmann::json& config, const std::string& source);

// "bert", "roberta", "xlm-roberta", ... (sorted)
std::vector<std::string> supported_model_types();

// Builds a model (randomly initialised) from a parsed config.json: its family's `build`. An unknown
// model_type is an InputError naming `source` and listing the supported types.
std::shared_ptr<EncoderModel> create_model(const nlohmann::json& config, const std::string& source,
                                           BuildOptions options);

enum class LoadMode {
  kStrict,       // every model weight present, no checkpoint weight left over
  kEncoderOnly,  // a new head is attached: head (and pooler) weights may be missing and are
                 // initialised; checkpoint weights outside the base model (old heads, LM heads) are ignored
};

struct LoadReport {
  std::vector<std::string> initialized;  // model weights not in the checkpoint (kEncoderOnly)
  std::vector<std::string> ignored;      // checkpoint weights the model does not have (kEncoderOnly)
};

// Copies `weights` (checkpoint names) into `model`, converting dtype. Handles what transformers
// handles on load: a base-model checkpoint without the "<prefix>." (e.g. BertModel.save_pretrained),
// old LayerNorm.gamma/beta names, and the embeddings.position_ids buffer (ignored).
// Missing/unexpected/misshapen weights are InputErrors naming `source` and the tensors.
LoadReport load_weights(EncoderModel& model, const std::map<std::string, torch::Tensor>& weights,
                        LoadMode mode, const std::string& source);

// The weights a checkpoint holds for a base model vs. a model with a head: used to decide whether a
// directory holds a task head (a name under any family's Family::head_weight_prefixes).
bool checkpoint_has_head(const std::vector<std::string>& names);
bool checkpoint_has_pooler(const std::vector<std::string>& names);

}  // namespace stilts::models
