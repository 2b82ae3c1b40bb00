#include "train/evaluate.h"

#include <ATen/autocast_mode.h>

#include <algorithm>
#include <optional>

#include "common/error.h"
#include "io/hf_config.h"
#include "models/linear_precision.h"
#include "tasks/batch.h"
#include "text/auto.h"
#include "train/device.h"
#include "train/distributed.h"
#include "train/read_options.h"

namespace stilts::train {

AutocastScope::AutocastScope(Precision precision, torch::Device device)
    : active_(precision == Precision::kBf16 || precision == Precision::kFp16), cuda_(device.is_cuda()) {
  if (!active_) return;
  const at::ScalarType dtype = precision == Precision::kFp16 ? at::kHalf : at::kBFloat16;
  if (cuda_) {
    previous_enabled_ = at::autocast::is_enabled();
    previous_dtype_ = at::autocast::get_autocast_gpu_dtype();
    at::autocast::set_enabled(true);
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    if (dtype != at::kBFloat16) {
      input_error("precision fp16 on the CPU: libtorch's CPU autocast is bf16 only; use bf16, or fp16 on --device cuda");
    }
    previous_enabled_ = at::autocast::is_cpu_enabled();
    previous_dtype_ = at::autocast::get_autocast_cpu_dtype();
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  if (cuda_) {
    at::autocast::set_enabled(previous_enabled_);
    at::autocast::set_autocast_gpu_dtype(previous_dtype_);
  } else {
    at::autocast::set_cpu_enabled(previous_enabled_);
    at::autocast::set_autocast_cpu_dtype(previous_dtype_);
  }
}

std::unique_ptr<tasks::TaskKind> task_kind_of(const TrainConfig& config) {
  return tasks::make_task_kind(config.task, config.kind_settings());
}

tasks::Predictions predict(models::EncoderModel& model, const tasks::TaskKind& kind, const tasks::Dataset& dataset,
                           const tasks::Features& features, const text::Tokenizer& tokenizer, int64_t batch_size,
                           Precision precision, bool keep_probabilities, ProcessGroup* group) {
  STILTS_CHECK(kind.accepts_head(model.head_kind()), "task kind ", kind.name(), " cannot run a ",
               models::head_kind_name(model.head_kind()), " head");
  const bool was_training = model.is_training();
  model.eval();
  std::vector<std::vector<float>> outputs(features.size());
  const torch::Device device = device_of(model);  // batches go where the model is
  {
    torch::NoGradGuard no_grad;
    AutocastScope autocast(precision, device);
    std::optional<models::Int8Linears> int8;
    std::optional<models::ScopedLinearHook> int8_hook;
    if (precision == Precision::kInt8) {
      int8.emplace(model);
      int8_hook.emplace(int8->hook());
    }
    const auto batches = tasks::bucketed_batches(features, batch_size, /*seed=*/0, /*epoch=*/0, /*shuffle=*/false);
    for (size_t b = 0; b < batches.size(); ++b) {
      if (group != nullptr && static_cast<int>(b % static_cast<size_t>(group->world_size())) != group->rank()) continue;
      const std::vector<size_t>& indices = batches[b];
      const tasks::Batch batch = kind.collate(features, indices, device);
      // feature_outputs copies the outputs to the CPU before reading them.
      std::vector<std::vector<float>> rows = kind.feature_outputs(kind.forward(model, batch), batch);
      for (size_t i = 0; i < indices.size(); ++i) outputs[indices[i]] = std::move(rows[i]);
    }
  }
  if (was_training) model.train();
  if (group != nullptr) all_gather_rows(*group, outputs);
  return kind.decode(dataset, features, outputs, tokenizer, keep_probabilities);
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
  const bool with_head = has_task_head(dir);
  if (with_head) m.head = label_space_of_config(io::read_config_json(dir), (dir / "config.json").string());
  if (loaded) {
    m.loaded.model = std::move(loaded);
  } else {
    models::LoadOptions load;
    load.head = with_head ? models::HeadPolicy::kWith : models::HeadPolicy::kWithout;
    m.loaded = models::load_pretrained(dir, load);
  }
  if (!with_head) m.head.head = models::HeadKind::kNone;
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

namespace {

void check_head(const EvalModel& model, const tasks::TaskKind& kind) {
  if (kind.accepts_head(model.head.head)) return;
  if (model.head.head == models::HeadKind::kNone) {
    input_error(model.dir.string(), ": the model has no task head (a base model?); fine-tune it with stilts train ",
                "first (task kind '", kind.name(), "' needs a ", models::head_kind_name(kind.head()), " head)");
  }
  input_error(model.dir.string(), ": the model's head is ", models::head_kind_name(model.head.head),
              ", task kind '", kind.name(), "' needs ", models::head_kind_name(kind.head()));
}

}  // namespace

tasks::Dataset read_for_model(const EvalModel& model, const tasks::TaskKind& kind, const DataFile& file) {
  check_head(model, kind);  // before reading: a head the kind cannot use is the error, whatever the file
  return fit_for_kind(model, kind, file, read_data(model, file));
}

tasks::Dataset read_data(const EvalModel& model, const DataFile& file) {
  tasks::ReadOptions read = file.read;
  read.regression = model.head.regression;
  // Labels in the head's order, so that the features' ids are the head's.
  if (!model.head.label_names.empty() && !default_label_names(model.head.label_names) && read.label_names.empty()) {
    read.label_names = model.head.label_names;
  }
  tasks::Dataset data = tasks::read_dataset(file.path, file.format, read);
  const std::string path = file.path.string();
  if (data.examples.empty()) input_error(path, ": no examples");
  if (file.max_examples > 0 && static_cast<int64_t>(data.examples.size()) > file.max_examples) {
    data.examples.resize(static_cast<size_t>(file.max_examples));
  }
  if (data.regression != model.head.regression) {
    input_error(path, ": format '", file.format, "' holds ", data.regression ? "scores" : "class labels",
                ", the model's head is ", model.head.regression ? "a regression head" : "a classification head");
  }
  return data;
}

tasks::Dataset fit_for_kind(const EvalModel& model, const tasks::TaskKind& kind, const DataFile& file,
                            tasks::Dataset data) {
  check_head(model, kind);
  kind.check(data, /*need_gold=*/false);
  map_to_head(data, model.head, file.path.string());
  return data;
}

namespace {

tasks::Features featurize_for_model(const EvalModel& model, const tasks::TaskKind& kind, const DataFile& file,
                                    const tasks::Dataset& data) {
  const int64_t max_length = effective_max_length(*model.loaded.model, file.max_length);
  if (file.cache_dir.empty()) return kind.featurize(data, *model.tokenizer, max_length);
  return tasks::load_or_featurize(data, kind, *model.tokenizer, model.dir, max_length, file.cache_dir);
}

}  // namespace

PreparedData prepare_data(const EvalModel& model, const tasks::TaskKind& kind, const DataFile& file) {
  PreparedData out;
  out.data = read_for_model(model, kind, file);
  out.features = featurize_for_model(model, kind, file, out.data);
  return out;
}

namespace {

// evaluate_file on `data`, read and fitted for `kind` (read_for_model's).
FileEvaluation evaluate_fitted(EvalModel& model, const tasks::TaskKind& kind, const DataFile& file,
                               tasks::Dataset data, const EvalSettings& settings) {
  FileEvaluation out;
  out.data = std::move(data);
  std::vector<tasks::Example> examples = std::move(out.data.examples);
  const tasks::Dataset without_examples = out.data;
  tasks::Dataset group = without_examples;  // the examples whose features are in hand
  tasks::Features features;
  auto run_group = [&] {
    if (group.examples.empty()) return;
    tasks::Predictions p = predict(*model.loaded.model, kind, group, features, *model.tokenizer, settings.batch_size,
                                   settings.precision, settings.keep_probabilities, settings.group);
    auto append = [](auto& into, auto& more) { into.insert(into.end(), std::make_move_iterator(more.begin()),
                                                           std::make_move_iterator(more.end())); };
    append(out.predictions.predicted, p.predicted);
    append(out.predictions.gold, p.gold);
    append(out.predictions.probabilities, p.probabilities);
    group.examples.clear();
    features = tasks::Features{};
  };
  const size_t piece_size = kind.decodes_in_pieces() ? kFeaturizeExamples : std::max<size_t>(examples.size(), 1);
  for (size_t begin = 0; begin < examples.size(); begin += piece_size) {
    tasks::Dataset piece = without_examples;
    const size_t end = std::min(examples.size(), begin + piece_size);
    piece.examples.assign(examples.begin() + static_cast<std::ptrdiff_t>(begin),
                          examples.begin() + static_cast<std::ptrdiff_t>(end));
    tasks::Features more = featurize_for_model(model, kind, file, piece);
    out.notes.insert(out.notes.end(), more.notes.begin(), more.notes.end());
    tasks::append_features(features, more, static_cast<int64_t>(group.examples.size()));
    group.examples.insert(group.examples.end(), std::make_move_iterator(piece.examples.begin()),
                          std::make_move_iterator(piece.examples.end()));
    if (features.size() >= kEvalWindows) run_group();
  }
  run_group();
  out.data.examples = std::move(examples);
  if (out.data.labelled) out.metrics = metrics_by_language(kind, out.predictions, out.data);
  return out;
}

}  // namespace

FileEvaluation evaluate_file(EvalModel& model, const tasks::TaskKind& kind, const DataFile& file,
                             const EvalSettings& settings) {
  return evaluate_fitted(model, kind, file, read_for_model(model, kind, file), settings);
}

FileEvaluation evaluate_data(EvalModel& model, const tasks::TaskKind& kind, const DataFile& file, tasks::Dataset data,
                             const EvalSettings& settings) {
  return evaluate_fitted(model, kind, file, fit_for_kind(model, kind, file, std::move(data)), settings);
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
