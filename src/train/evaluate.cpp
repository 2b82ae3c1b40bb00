#include "train/evaluate.h"

#include <ATen/autocast_mode.h>

#include <algorithm>

#include "common/error.h"
#include "io/hf_config.h"
#include "tasks/batch.h"
#include "text/auto.h"
#include "train/read_options.h"

namespace stilts::train {

Precision parse_precision(const std::string& name) {
  if (name == "fp32") return Precision::kFp32;
  if (name == "bf16") return Precision::kBf16;
  input_error("unknown precision '", name, "' (expected fp32 or bf16)");
}

AutocastScope::AutocastScope(Precision precision) : active_(precision == Precision::kBf16) {
  if (!active_) return;
  previous_enabled_ = at::autocast::is_cpu_enabled();
  previous_dtype_ = at::autocast::get_autocast_cpu_dtype();
  at::autocast::set_cpu_enabled(true);
  at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_cpu_enabled(previous_enabled_);
  at::autocast::set_autocast_cpu_dtype(previous_dtype_);
}

int default_threads(Precision precision) { return precision == Precision::kBf16 ? 2 : 1; }

tasks::Predictions predict(models::EncoderModel& model, const tasks::TaskKind& kind, const tasks::Dataset& dataset,
                           const tasks::Features& features, int64_t batch_size, Precision precision,
                           bool keep_probabilities) {
  STILTS_CHECK(model.has_head(), "predict needs a model with a head");
  const bool was_training = model.is_training();
  model.eval();
  std::vector<std::vector<float>> outputs(features.size());
  {
    torch::NoGradGuard no_grad;
    AutocastScope autocast(precision);
    for (const auto& indices : tasks::bucketed_batches(features, batch_size, /*seed=*/0, /*epoch=*/0,
                                                       /*shuffle=*/false)) {
      const tasks::Batch batch = kind.collate(features, indices, torch::kCPU);
      std::vector<std::vector<float>> rows = kind.feature_outputs(model.logits(batch.inputs), batch);
      for (size_t i = 0; i < indices.size(); ++i) outputs[indices[i]] = std::move(rows[i]);
    }
  }
  if (was_training) model.train();
  return kind.decode(dataset, features, outputs, keep_probabilities);
}

GroupMetrics metrics_by_language(const tasks::TaskKind& kind, const tasks::Predictions& predictions,
                                 const tasks::Dataset& dataset) {
  const size_t n = predictions.predicted.size();
  STILTS_CHECK(n == dataset.examples.size(), "predictions for ", n, " of ", dataset.examples.size(), " examples");
  std::map<std::string, std::vector<size_t>> groups;
  bool any_language = false;
  for (size_t i = 0; i < n; ++i) {
    const std::string& language = dataset.examples[i].language;
    any_language = any_language || !language.empty();
    groups[language.empty() ? "unknown" : language].push_back(i);
  }
  if (groups.count("all")) input_error(dataset.source, ": a language named \"all\" clashes with the overall group");
  std::vector<size_t> all(n);
  for (size_t i = 0; i < n; ++i) all[i] = i;
  GroupMetrics out;
  for (const std::string& metric : kind.metrics()) {
    const eval::IndexedMetric score = kind.scorer(metric, predictions.predicted, predictions.gold);
    out["all"][metric] = score(all);
    if (!any_language) continue;
    for (const auto& [group, indices] : groups) out[group][metric] = score(indices);
  }
  return out;
}

int64_t effective_max_length(const models::EncoderModel& model, int64_t requested, std::ostream* log) {
  if (requested <= model.max_positions()) return requested;
  // Rows longer than the position table cannot be embedded: truncate to it, as the tokenizer's
  // model_max_length would.
  if (log) {
    *log << "note: max_length " << requested << " is more than the model's " << model.max_positions()
         << " positions; using " << model.max_positions() << "\n";
  }
  return model.max_positions();
}

EvalModel load_eval_model(const std::filesystem::path& dir, std::shared_ptr<models::EncoderModel> loaded) {
  EvalModel m;
  m.dir = dir;
  if (!has_task_head(dir)) {
    input_error(dir.string(), ": the model has no task head (a base model?); fine-tune it with stilts train first");
  }
  m.head = label_space_of_config(io::read_config_json(dir), (dir / "config.json").string());
  if (loaded) {
    m.loaded.model = std::move(loaded);
  } else {
    models::LoadOptions load;
    load.head = models::HeadPolicy::kWith;
    m.loaded = models::load_pretrained(dir, load);
  }
  m.tokenizer = text::load_tokenizer(dir);
  return m;
}

namespace {

// Gold ids of `data` into the head's label space, by name.
void map_to_head(tasks::Dataset& data, const LabelSpace& head, const std::string& file) {
  if (head.label_names.empty() || data.regression) return;  // scores, choices, spans: nothing to map
  if (default_label_names(head.label_names)) {
    if (data.label_names.size() != head.label_names.size()) {
      input_error(file, ": ", data.label_names.size(), " labels, the model predicts ", head.label_names.size());
    }
    return;
  }
  std::vector<int64_t> to_head(data.label_names.size());
  for (size_t i = 0; i < data.label_names.size(); ++i) {
    const auto it = std::find(head.label_names.begin(), head.label_names.end(), data.label_names[i]);
    if (it == head.label_names.end()) {
      input_error(file, ": label '", data.label_names[i], "' is not one the model predicts (", head.describe(), ")");
    }
    to_head[i] = it - head.label_names.begin();
  }
  for (tasks::Example& ex : data.examples) {
    if (ex.label >= 0) ex.label = to_head.at(static_cast<size_t>(ex.label));
    for (int64_t& tag : ex.word_labels) tag = to_head.at(static_cast<size_t>(tag));
  }
  data.label_names = head.label_names;
}

}  // namespace

DataFile data_file_of(const TrainConfig& config, const std::string& path, const std::string& language) {
  DataFile file;
  file.path = path;
  file.format = config.format;
  file.read = read_options(config);
  if (!language.empty()) file.read.language = language;
  file.max_length = config.max_length;
  file.cache_dir = config.resolved_cache_dir();
  return file;
}

PreparedData prepare_data(const EvalModel& model, const tasks::TaskKind& kind, const DataFile& file) {
  if (model.head.head != kind.head()) {
    input_error(model.dir.string(), ": the model's head is ", models::head_kind_name(model.head.head),
                ", task kind '", kind.name(), "' needs ", models::head_kind_name(kind.head()));
  }
  tasks::ReadOptions read = file.read;
  read.regression = model.head.regression;
  // Labels in the head's order, so that the features' ids are the head's.
  if (!model.head.label_names.empty() && !default_label_names(model.head.label_names) && read.label_names.empty()) {
    read.label_names = model.head.label_names;
  }
  PreparedData out;
  out.data = tasks::read_dataset(file.path, file.format, read);
  const std::string path = file.path.string();
  if (out.data.examples.empty()) input_error(path, ": no examples");
  if (file.max_examples > 0 && static_cast<int64_t>(out.data.examples.size()) > file.max_examples) {
    out.data.examples.resize(static_cast<size_t>(file.max_examples));
  }
  if (out.data.regression != model.head.regression) {
    input_error(path, ": format '", file.format, "' holds ", out.data.regression ? "scores" : "class labels",
                ", the model's head is ", model.head.regression ? "a regression head" : "a classification head");
  }
  kind.check(out.data, /*need_gold=*/false);
  map_to_head(out.data, model.head, path);
  const int64_t max_length = effective_max_length(*model.loaded.model, file.max_length);
  if (file.cache_dir.empty()) {
    out.features = kind.featurize(out.data, *model.tokenizer, max_length);
  } else {
    out.features = tasks::load_or_featurize(out.data, kind, *model.tokenizer, model.dir, max_length, file.cache_dir);
  }
  return out;
}

FileEvaluation evaluate_file(EvalModel& model, const tasks::TaskKind& kind, const DataFile& file, int64_t batch_size,
                             Precision precision, bool keep_probabilities) {
  FileEvaluation out;
  out.prepared = prepare_data(model, kind, file);
  out.predictions = predict(*model.loaded.model, kind, out.prepared.data, out.prepared.features, batch_size, precision,
                            keep_probabilities);
  if (out.prepared.data.labelled) out.metrics = metrics_by_language(kind, out.predictions, out.prepared.data);
  return out;
}

nlohmann::json metrics_json(const GroupMetrics& metrics) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [group, values] : metrics) {
    nlohmann::json g = nlohmann::json::object();
    for (const auto& [name, value] : values) g[name] = eval::is_defined(value) ? nlohmann::json(value) : nlohmann::json();
    out[group] = g;
  }
  return out;
}

}  // namespace stilts::train
