// Task heads between stages: a new head (reinit) or the checkpoint's own (reuse), with the check that
// a reused head predicts the task's label space.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/pretrained.h"

namespace stilts::train {

enum class HeadTransfer {
  kAuto,    // reuse when the checkpoint has a head whose label space matches the task, else reinit
  kReinit,  // a new, freshly initialised head (e.g. sentiment -> paraphrase)
  kReuse,   // the checkpoint's head (e.g. QQP -> PAWS-X); an error when the label spaces differ
};
// "auto" | "reinit" | "reuse".
HeadTransfer parse_head_transfer(const std::string& name);

// What a head predicts: a regression score, or one of `label_names` (index = label id).
struct LabelSpace {
  bool regression = false;
  std::vector<std::string> label_names;
  int64_t num_labels() const { return regression ? 1 : static_cast<int64_t>(label_names.size()); }
  std::string describe() const;  // "regression" | "3 labels (entailment, neutral, contradiction)"
};

// The label space a config.json's head predicts (id2label, problem_type; num_labels 1 without a
// problem_type is regression, as transformers infers). `source` names the file in errors.
LabelSpace label_space_of_config(const nlohmann::json& config, const std::string& source);

// Whether a head predicting `head` can serve a task over `task`: the same kind and number of labels,
// and the same names in the same order unless the head's names are transformers' defaults (LABEL_0..).
// On false, `why` says what differs.
bool label_spaces_match(const LabelSpace& head, const LabelSpace& task, std::string* why = nullptr);

// For a model that has a head (as loaded from `source`): reinit replaces it with a fresh one with
// labels.num_labels() outputs (from torch's global generator: seed it first); reuse keeps it after
// checking the label spaces (InputError naming `source` and both label spaces otherwise); auto picks.
// Returns the policy applied (kReinit or kReuse).
HeadTransfer attach_head(models::EncoderModel& model, HeadTransfer policy, const LabelSpace& labels,
                         const std::string& source);

// Whether the weights of model directory `dir` hold a classification head.
bool has_classification_head(const std::filesystem::path& dir);

struct TaskModel {
  models::LoadedModel loaded;
  HeadTransfer applied = HeadTransfer::kReinit;
};

// Loads `dir` for fine-tuning on `labels`: reuse loads the checkpoint with its head strictly; reinit
// loads the encoder only (old heads, LM and pre-training heads are left behind) and attaches a new head.
TaskModel load_for_task(const std::filesystem::path& dir, HeadTransfer policy, const LabelSpace& labels);

// config.json with the task's labels as transformers writes them: id2label, label2id, problem_type.
nlohmann::json config_with_labels(nlohmann::json config, const LabelSpace& labels);

}  // namespace stilts::train
