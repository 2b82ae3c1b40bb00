#include "train/config.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <variant>

#include <toml++/toml.h>

#include "common/error.h"
#include "common/files.h"
#include "hub/cache.h"
#include "tasks/kind.h"
#include "train/device.h"

namespace stilts::train {

namespace fs = std::filesystem;

namespace {

using Field = std::variant<std::string TrainConfig::*, std::vector<std::string> TrainConfig::*, int64_t TrainConfig::*,
                           uint64_t TrainConfig::*, double TrainConfig::*, bool TrainConfig::*>;

struct Key {
  const char* name;
  Field field;
  bool is_path = false;  // resolved against the config file's folder
};

// The one table of keys: config files, --set and the resolved config all go through it.
const std::vector<Key>& keys() {
  using C = TrainConfig;
  static const std::vector<Key> table = {
      {"model", &C::model, true},
      {"task", &C::task},
      {"train", &C::train, true},
      {"dev", &C::dev, true},
      {"format", &C::format},
      {"out", &C::out, true},
      {"text_a_column", &C::text_a_column},
      {"text_b_column", &C::text_b_column},
      {"label_column", &C::label_column},
      {"id_column", &C::id_column},
      {"language_column", &C::language_column},
      {"language", &C::language},
      {"header", &C::header},
      {"label_names", &C::label_names},
      {"head", &C::head},
      {"max_length", &C::max_length},
      {"doc_stride", &C::doc_stride},
      {"max_query_length", &C::max_query_length},
      {"max_answer_length", &C::max_answer_length},
      {"n_best", &C::n_best},
      {"layer", &C::layer},
      {"mlm_probability", &C::mlm_probability},
      {"init", &C::init},
      {"epochs", &C::epochs},
      {"max_steps", &C::max_steps},
      {"batch_size", &C::batch_size},
      {"grad_accum_steps", &C::grad_accum_steps},
      {"lr", &C::lr},
      {"weight_decay", &C::weight_decay},
      {"adam_beta1", &C::adam_beta1},
      {"adam_beta2", &C::adam_beta2},
      {"adam_epsilon", &C::adam_epsilon},
      {"lr_schedule", &C::lr_schedule},
      {"warmup_ratio", &C::warmup_ratio},
      {"warmup_steps", &C::warmup_steps},
      {"max_grad_norm", &C::max_grad_norm},
      {"seed", &C::seed},
      {"precision", &C::precision},
      {"device", &C::device},
      {"threads", &C::threads},
      {"eval_every", &C::eval_every},
      {"eval_batch_size", &C::eval_batch_size},
      {"checkpoint_every", &C::checkpoint_every},
      {"early_stopping_patience", &C::early_stopping_patience},
      {"metric_for_best", &C::metric_for_best},
      {"final_model", &C::final_model},
      {"log_every", &C::log_every},
      {"cache_dir", &C::cache_dir, true},
  };
  return table;
}

std::string join(const std::vector<std::string>& items, const char* sep = ", ") {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string resolve_path(const std::string& value, const fs::path& base_dir) {
  if (value.empty() || base_dir.empty() || fs::path(value).is_absolute()) return value;
  return (base_dir / value).lexically_normal().string();
}

[[noreturn]] void type_error(const std::string& source, const std::string& key, const char* expected,
                             const nlohmann::json& value) {
  input_error(source, ": key '", key, "' must be ", expected, ", got ", value.dump());
}

void set_field(TrainConfig& config, const Key& key, const nlohmann::json& value, const std::string& source,
               const fs::path& base_dir) {
  const std::string name = key.name;
  std::visit(
      [&](auto member) {
        using T = std::decay_t<decltype(config.*member)>;
        auto& target = config.*member;
        if constexpr (std::is_same_v<T, std::string>) {
          if (!value.is_string()) type_error(source, name, "a string", value);
          if (name == "model") {
            target = hub::model_spec_in(value.get<std::string>(), base_dir);  // a directory or a hub id
          } else {
            target = key.is_path ? resolve_path(value.get<std::string>(), base_dir) : value.get<std::string>();
          }
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          // A single string is a list of one (dev = "dev.tsv").
          std::vector<std::string> items;
          if (value.is_string()) {
            items.push_back(value.get<std::string>());
          } else if (value.is_array()) {
            for (const auto& item : value) {
              if (!item.is_string()) type_error(source, name, "a list of strings", value);
              items.push_back(item.get<std::string>());
            }
          } else {
            type_error(source, name, "a string or a list of strings", value);
          }
          if (key.is_path) {
            for (auto& item : items) item = resolve_path(item, base_dir);
          }
          target = std::move(items);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          if (!value.is_number_integer()) type_error(source, name, "an integer", value);
          target = value.get<int64_t>();
        } else if constexpr (std::is_same_v<T, uint64_t>) {
          if (!value.is_number_integer() || (value.is_number_integer() && !value.is_number_unsigned() &&
                                             value.get<int64_t>() < 0)) {
            type_error(source, name, "a non-negative integer", value);
          }
          target = value.get<uint64_t>();
        } else if constexpr (std::is_same_v<T, double>) {
          if (!value.is_number()) type_error(source, name, "a number", value);
          target = value.get<double>();
        } else if constexpr (std::is_same_v<T, bool>) {
          if (!value.is_boolean()) type_error(source, name, "true or false", value);
          target = value.get<bool>();
        }
      },
      key.field);
}

const Key* find_key(const std::string& name) {
  for (const auto& key : keys()) {
    if (name == key.name) return &key;
  }
  return nullptr;
}

template <typename T>
void require(bool ok, const char* key, const T& value, const std::string& what) {
  if (!ok) {
    std::ostringstream v;
    v << value;
    input_error("config: '", key, "' = ", v.str(), ": ", what);
  }
}

bool one_of(const std::string& value, const std::vector<std::string>& allowed) {
  return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

bool one_of(const std::string& value, std::initializer_list<const char*> allowed) {
  for (const char* a : allowed) {
    if (value == a) return true;
  }
  return false;
}

// toml++ node -> JSON. Dates and times have no use in a training config: an error.
nlohmann::json toml_to_json(const toml::node& node, const std::string& source) {
  if (const auto* table = node.as_table()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, v] : *table) out[std::string(k.str())] = toml_to_json(v, source);
    return out;
  }
  if (const auto* array = node.as_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : *array) out.push_back(toml_to_json(v, source));
    return out;
  }
  if (const auto* s = node.as_string()) return s->get();
  if (const auto* i = node.as_integer()) return i->get();
  if (const auto* f = node.as_floating_point()) return f->get();
  if (const auto* b = node.as_boolean()) return b->get();
  input_error(source, ":", node.source().begin.line, ": dates and times are not valid config values");
}

}  // namespace

std::vector<std::string> config_keys() {
  std::vector<std::string> names;
  for (const auto& key : keys()) names.emplace_back(key.name);
  return names;
}

nlohmann::json TrainConfig::to_json() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& key : keys()) {
    std::visit([&](auto member) { out[key.name] = this->*member; }, key.field);
  }
  return out;
}

void TrainConfig::apply_json(const nlohmann::json& j, const std::string& source, const fs::path& base_dir) {
  if (!j.is_object()) input_error(source, ": a config must be an object of key = value, got ", j.type_name());
  for (const auto& [name, value] : j.items()) {
    const Key* key = find_key(name);
    if (!key) input_error(source, ": unknown key '", name, "' (known keys: ", join(config_keys()), ")");
    set_field(*this, *key, value, source, base_dir);
  }
}

void TrainConfig::apply_setting(const std::string& assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) input_error("--set '", assignment, "': expected key=value");
  const std::string name = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  const Key* key = find_key(name);
  if (!key) input_error("--set: unknown key '", name, "' (known keys: ", join(config_keys()), ")");
  nlohmann::json value;
  const bool wants_string = std::holds_alternative<std::string TrainConfig::*>(key->field);
  if (wants_string) {
    value = text;
  } else {
    value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) value = text;  // e.g. a bare word for a list key
  }
  set_field(*this, *key, value, "--set", {});
}

void TrainConfig::validate() const {
  if (model.empty()) input_error("config: 'model' (--model) is required");
  if (train.empty()) input_error("config: 'train' (--train) is required");
  if (out.empty()) input_error("config: 'out' (--out) is required");
  if (task != "mlm") {
    std::vector<std::string> kinds = tasks::task_kind_names();
    std::string expected;
    for (const auto& k : kinds) expected += k + ", ";
    require(one_of(task, kinds), "task", task, "expected " + expected + "or mlm");
  }
  require(!format.empty(), "format", format, "must not be empty");
  require(one_of(head, {"auto", "reinit", "reuse"}), "head", head, "expected auto, reinit or reuse");
  require(max_length >= 4, "max_length", max_length, "must be at least 4");
  require(doc_stride >= 1, "doc_stride", doc_stride, "must be at least 1");
  require(max_query_length >= 1, "max_query_length", max_query_length, "must be at least 1");
  require(max_answer_length >= 1, "max_answer_length", max_answer_length, "must be at least 1");
  require(n_best >= 1, "n_best", n_best, "must be at least 1");
  require(layer >= -1, "layer", layer, "must be -1 (the last layer) or a hidden state's index");
  require(max_steps >= 0, "max_steps", max_steps, "must be >= 0 (0 = run for 'epochs')");
  require(max_steps > 0 || epochs >= 1, "epochs", epochs, "must be >= 1 (or set max_steps)");
  require(batch_size >= 1, "batch_size", batch_size, "must be >= 1");
  require(grad_accum_steps >= 1, "grad_accum_steps", grad_accum_steps, "must be >= 1");
  require(std::isfinite(lr) && lr > 0, "lr", lr, "must be a positive number");
  require(std::isfinite(weight_decay) && weight_decay >= 0, "weight_decay", weight_decay, "must be >= 0");
  require(adam_beta1 >= 0 && adam_beta1 < 1, "adam_beta1", adam_beta1, "must be in [0, 1)");
  require(adam_beta2 >= 0 && adam_beta2 < 1, "adam_beta2", adam_beta2, "must be in [0, 1)");
  require(std::isfinite(adam_epsilon) && adam_epsilon > 0, "adam_epsilon", adam_epsilon, "must be > 0");
  require(one_of(lr_schedule, {"linear", "cosine", "constant"}), "lr_schedule", lr_schedule,
          "expected linear, cosine or constant");
  require(warmup_ratio >= 0 && warmup_ratio <= 1, "warmup_ratio", warmup_ratio, "must be in [0, 1]");
  require(warmup_steps >= 0, "warmup_steps", warmup_steps, "must be >= 0");
  require(std::isfinite(max_grad_norm) && max_grad_norm >= 0, "max_grad_norm", max_grad_norm,
          "must be >= 0 (0 = no clipping)");
  require(precision != "int8", "precision", precision,
          "int8 (dynamic quantization) is for inference only (stilts eval --precision int8, stilts bench's int8 "
          "mode): train in fp32, bf16 or fp16");
  require(one_of(precision, {"fp32", "bf16", "fp16"}), "precision", precision, "expected fp32, bf16 or fp16");
  const torch::Device on = parse_device(device, "config: 'device' (--device)");
  require(precision != "fp16" || on.is_cuda(), "precision", precision,
          "fp16 autocast needs a CUDA device (--device cuda); on the CPU, libtorch autocasts to bf16 only: use bf16");
  require(threads >= 0, "threads", threads, "must be >= 0 (0 = automatic)");
  require(eval_every >= 0, "eval_every", eval_every, "must be >= 0 (0 = every epoch)");
  require(eval_batch_size >= 1, "eval_batch_size", eval_batch_size, "must be >= 1");
  require(checkpoint_every >= 0, "checkpoint_every", checkpoint_every, "must be >= 0 (0 = at every evaluation)");
  require(early_stopping_patience >= 0, "early_stopping_patience", early_stopping_patience, "must be >= 0");
  require(log_every >= 1, "log_every", log_every, "must be >= 1");
  require(one_of(final_model, {"best", "last"}), "final_model", final_model, "expected best or last");
  require(std::isfinite(mlm_probability) && mlm_probability > 0 && mlm_probability < 1, "mlm_probability",
          mlm_probability, "must be in (0, 1)");
  require(one_of(init, {"auto", "pretrained", "scratch"}), "init", init, "expected auto, pretrained or scratch");
  const std::string metric = resolved_metric_for_best();
  if (task == "mlm") {
    require(format == "text", "format", format, "task mlm reads plain text, one example a line: set format = \"text\"");
    require(final_model == "last", "final_model", final_model,
            "task mlm saves the last model: set final_model = \"last\"");
    require(metric == "loss", "metric_for_best", metric, "task mlm is measured by loss (and perplexity)");
    require(early_stopping_patience == 0, "early_stopping_patience", early_stopping_patience,
            "task mlm has no early stopping");
    return;
  }
  require(format != "text", "format", format, "plain text is for task mlm");
  require(init == "auto", "init", init, "only task mlm trains from scratch; fine-tuning starts from the weights");
  const std::vector<std::string> metrics = tasks::task_kind(task).metrics();
  std::string allowed;
  for (const auto& m : metrics) allowed += (allowed.empty() ? "" : ", ") + m;
  require(one_of(metric, metrics), "metric_for_best", metric, "a " + task + " task is selected by " + allowed);
  if (dev.empty()) {
    require(final_model == "last", "final_model", final_model,
            "'best' needs a dev set (--dev); set final_model = \"last\" to train without one");
    require(early_stopping_patience == 0, "early_stopping_patience", early_stopping_patience,
            "early stopping needs a dev set (--dev)");
  }
}

tasks::KindSettings TrainConfig::kind_settings() const {
  tasks::KindSettings s;
  s.doc_stride = doc_stride;
  s.max_query_length = max_query_length;
  s.max_answer_length = max_answer_length;
  s.n_best = n_best;
  s.layer = layer;
  return s;
}

std::string TrainConfig::resolved_metric_for_best() const {
  if (!metric_for_best.empty()) return metric_for_best;
  if (task == "mlm") return "loss";
  return tasks::task_kind(task).metrics().front();
}

std::string TrainConfig::resolved_text_b_column() const {
  if (!text_b_column.empty()) return text_b_column;
  return task == "pair-classification" ? "sentence2" : "";
}

fs::path TrainConfig::resolved_cache_dir() const {
  if (!cache_dir.empty()) return cache_dir;
  if (const char* env = std::getenv("STILTS_CACHE_DIR"); env && *env) return fs::path(env) / "features";
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "stilts" / "features";
  if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / ".cache" / "stilts" / "features";
  return fs::temp_directory_path() / "stilts-cache" / "features";
}

nlohmann::json parse_toml(const std::string& text, const std::string& source) {
#if TOML_EXCEPTIONS
  try {
    const toml::table table = toml::parse(text, source);
    return toml_to_json(table, source);
  } catch (const toml::parse_error& e) {
    input_error(source, ":", e.source().begin.line, ":", e.source().begin.column, ": invalid TOML: ",
                std::string(e.description()));
  }
#else
  toml::parse_result result = toml::parse(text, source);
  if (!result) {
    const auto& e = result.error();
    input_error(source, ":", e.source().begin.line, ":", e.source().begin.column, ": invalid TOML: ",
                std::string(e.description()));
  }
  return toml_to_json(result.table(), source);
#endif
}

void load_config_file(const fs::path& path, TrainConfig& config) {
  const std::string text = read_file(path);
  const std::string ext = path.extension().string();
  nlohmann::json j;
  if (ext == ".toml") {
    j = parse_toml(text, path.string());
  } else if (ext == ".json") {
    j = read_json_file(path);
  } else {
    input_error(path.string(), ": config files are .toml or .json");
  }
  config.apply_json(j, path.string(), fs::absolute(path).parent_path());
}

}  // namespace stilts::train
