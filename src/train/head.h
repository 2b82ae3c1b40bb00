// Task heads between stages: a new head (reinit) or the checkpoint's own (reuse). Transfer follows head
// kinds: a head is reused when its kind and shape agree with the task's (a classification or tagging
// head: the same labels; a multiple-choice or QA head: always, whatever the number of choices, so
// Social IQa's 3 choices → XCOPA's 2), reinitialised otherwise, and a reuse that cannot work is an error.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/pretrained.h"
#include "tasks/kind.h"

namespace stilts::train {

enum class HeadTransfer {
  kAuto,    // reuse when the checkpoint has a head whose label space matches the task, else reinit
  kReinit,  // a new, freshly initialised head (e.g. sentiment -> paraphrase)
  kReuse,   // the checkpoint's head (e.g. QQP -> PAWS-X); an error when the label spaces differ
};
// "auto" | "reinit" | "reuse".
HeadTransfer parse_head_transfer(const std::string& name);

// What a head predicts: a regression score, or one of `label_names` (classes, or tags per token; index =
// label id). Multiple-choice and QA heads predict no labels (label_names empty).
struct LabelSpace {
  bool regression = false;
  std::vector<std::string> label_names;
  models::HeadKind head = models::HeadKind::kSequenceClassification;
  // The head's outputs: 1 for regression, multiple choice and question answering.
  int64_t num_labels() const;
  // "regression" | "3 labels (entailment, neutral, contradiction)" | "multiple-choice", with the head
  // kind when it is not sequence classification ("token-classification, 7 labels (...)").
  std::string describe() const;
};

// The label space a task of `kind` trains on `data` needs.
LabelSpace task_label_space(const tasks::TaskKind& kind, const tasks::Dataset& data);

// Whether `names` are transformers' placeholder names LABEL_0, LABEL_1, ... (a head whose labels were never
// named: matched to data by position, not by name).
bool default_label_names(const std::vector<std::string>& names);

// The label space a config.json's head predicts: the head its "architectures" names, id2label,
// problem_type (num_labels 1 without a problem_type is regression, as transformers infers). `source`
// names the file in errors.
LabelSpace label_space_of_config(const nlohmann::json& config, const std::string& source);

// Whether a head predicting `head` can serve a task over `task`: the same head kind; for heads with
// labels the same number, and the same names in the same order unless the head's names are
// transformers' defaults (LABEL_0..).
// On false, `why` says what differs.
bool label_spaces_match(const LabelSpace& head, const LabelSpace& task, std::string* why = nullptr);

// For a model that has a head (as loaded from `source`): reinit replaces it with a fresh one with
// labels.num_labels() outputs (from torch's global generator: seed it first); reuse keeps it after
// checking the label spaces (InputError naming `source` and both label spaces otherwise); auto picks.
// Returns the policy applied (kReinit or kReuse).
HeadTransfer attach_head(models::EncoderModel& model, HeadTransfer policy, const LabelSpace& labels,
                         const std::string& source);

// Whether the weights of model directory `dir` hold a task head (classification, tagging, choice, span).
bool has_task_head(const std::filesystem::path& dir);

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
