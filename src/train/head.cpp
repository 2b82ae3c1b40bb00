#include "train/head.h"

#include "common/error.h"
#include "io/hf_config.h"
#include "io/safetensors.h"

namespace stilts::train {

namespace fs = std::filesystem;

HeadTransfer parse_head_transfer(const std::string& name) {
  if (name == "auto") return HeadTransfer::kAuto;
  if (name == "reinit") return HeadTransfer::kReinit;
  if (name == "reuse") return HeadTransfer::kReuse;
  input_error("unknown head policy '", name, "' (expected auto, reinit or reuse)");
}

namespace {
// Heads whose outputs are labels (classes, tags) rather than scores of choices or spans.
bool has_labels(models::HeadKind head) {
  return head == models::HeadKind::kSequenceClassification || head == models::HeadKind::kTokenClassification;
}
}  // namespace

int64_t LabelSpace::num_labels() const {
  return regression || !has_labels(head) ? 1 : static_cast<int64_t>(label_names.size());
}

std::string LabelSpace::describe() const {
  const std::string kind = head == models::HeadKind::kSequenceClassification ? "" : models::head_kind_name(head);
  if (!has_labels(head)) return kind;
  if (regression) return "regression (1 output)";
  std::string out = (kind.empty() ? "" : kind + ", ") + std::to_string(label_names.size()) + " labels (";
  for (size_t i = 0; i < label_names.size(); ++i) out += (i ? ", " : "") + label_names[i];
  return out + ")";
}

LabelSpace task_label_space(const tasks::TaskKind& kind, const tasks::Dataset& data) {
  LabelSpace space;
  space.head = kind.head();
  space.regression = data.regression;
  if (has_labels(space.head) && !space.regression) space.label_names = data.label_names;
  return space;
}

LabelSpace label_space_of_config(const nlohmann::json& config, const std::string& source) {
  const io::CommonConfig common = io::config_fields::read_common(config, source);
  LabelSpace space;
  space.head = models::configured_head(config);
  if (!has_labels(space.head)) return space;
  const int64_t n = common.num_labels();
  space.regression = common.problem_type ? *common.problem_type == "regression" : n == 1;
  if (!space.regression) {
    for (int64_t i = 0; i < n; ++i) {
      space.label_names.push_back(common.id2label.count(i) ? common.id2label.at(i) : "LABEL_" + std::to_string(i));
    }
  }
  return space;
}

bool default_label_names(const std::vector<std::string>& names) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] != "LABEL_" + std::to_string(i)) return false;
  }
  return true;
}

bool label_spaces_match(const LabelSpace& head, const LabelSpace& task, std::string* why) {
  auto fail = [&](const std::string& reason) {
    if (why) *why = reason;
    return false;
  };
  if (head.head != task.head) {
    return fail(std::string("the head is ") + models::head_kind_name(head.head) + ", the task needs " +
                models::head_kind_name(task.head));
  }
  if (!has_labels(head.head)) return true;
  if (head.regression != task.regression) {
    return fail(std::string("the head is ") + (head.regression ? "a regression head" : "a classification head") +
                ", the task is " + (task.regression ? "regression" : "classification"));
  }
  if (head.regression) return true;
  if (head.num_labels() != task.num_labels()) {
    return fail("the head predicts " + head.describe() + ", the task has " + task.describe());
  }
  if (!default_label_names(head.label_names) && head.label_names != task.label_names) {
    return fail("the head predicts " + head.describe() + ", the task has " + task.describe());
  }
  return true;
}

HeadTransfer attach_head(models::EncoderModel& model, HeadTransfer policy, const LabelSpace& labels,
                         const std::string& source) {
  if (!model.has_head()) {
    input_error(source, ": the model has no task head to ",
                policy == HeadTransfer::kReuse ? "reuse" : "replace",
                " (load it with a head, e.g. models::HeadPolicy::kWith)");
  }
  if (model.head_kind() != labels.head) {
    input_error(source, ": the model's head is ", models::head_kind_name(model.head_kind()), ", the task needs ",
                models::head_kind_name(labels.head), "; load it for the task (load_for_task) to get a new head");
  }
  const LabelSpace head = label_space_of_config(model.config_json(), source);
  std::string why;
  const bool match = label_spaces_match(head, labels, &why);
  if (policy == HeadTransfer::kReuse && !match) {
    input_error(source, ": cannot reuse the head: ", why, "; use head = reinit for a new head");
  }
  if (policy == HeadTransfer::kReuse || (policy == HeadTransfer::kAuto && match)) return HeadTransfer::kReuse;
  model.reset_head(labels.num_labels());
  return HeadTransfer::kReinit;
}

namespace {
std::vector<std::string> weight_names(const fs::path& weights) {
  if (weights.filename() == "pytorch_model.bin") {
    std::vector<std::string> names;
    for (const auto& [name, _] : io::load_pytorch_bin(weights)) names.push_back(name);
    return names;
  }
  return io::SafetensorsCheckpoint::open(weights).names();
}
}  // namespace

bool has_task_head(const fs::path& dir) {
  return models::checkpoint_has_head(weight_names(models::find_weights_file(dir)));
}

TaskModel load_for_task(const fs::path& dir, HeadTransfer policy, const LabelSpace& labels) {
  const nlohmann::json config = io::read_config_json(dir);
  const std::string source = (dir / "config.json").string();
  const bool has_head = has_task_head(dir);
  std::string why = "it has no task head";
  const bool match = has_head && label_spaces_match(label_space_of_config(config, source), labels, &why);
  if (policy == HeadTransfer::kReuse && !match) {
    input_error(dir.string(), ": cannot reuse the head: ", why, "; use head = reinit for a new head");
  }
  TaskModel out;
  models::LoadOptions options;
  options.head = models::HeadPolicy::kWith;
  options.head_kind = labels.head;
  if (policy != HeadTransfer::kReinit && match) {
    options.mode = models::LoadMode::kStrict;
    out.applied = HeadTransfer::kReuse;
  } else {
    options.mode = models::LoadMode::kEncoderOnly;
    options.num_labels = labels.num_labels();
    out.applied = HeadTransfer::kReinit;
  }
  out.loaded = models::load_pretrained(dir, options);
  // kEncoderOnly never loads an old head, even one of the same shape: the new head is fresh.
  return out;
}

nlohmann::json config_with_labels(nlohmann::json config, const LabelSpace& labels) {
  if (!has_labels(labels.head)) return config;  // transformers' defaults stay
  nlohmann::json id2label = nlohmann::json::object(), label2id = nlohmann::json::object();
  if (labels.regression) {
    id2label["0"] = "LABEL_0";
    label2id["LABEL_0"] = 0;
  } else {
    for (size_t i = 0; i < labels.label_names.size(); ++i) {
      id2label[std::to_string(i)] = labels.label_names[i];
      label2id[labels.label_names[i]] = static_cast<int64_t>(i);
    }
  }
  config["id2label"] = id2label;
  config["label2id"] = label2id;
  config["problem_type"] = labels.regression ? "regression" : "single_label_classification";
  return config;
}

}  // namespace stilts::train
