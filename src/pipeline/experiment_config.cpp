#include "pipeline/experiment_config.h"

#include <algorithm>
#include <set>

#include "hub/cache.h"
#include "common/error.h"
#include "common/files.h"

namespace stilts::pipeline {

namespace fs = std::filesystem;

namespace {

// TrainConfig keys that choose how a task's files are read: they belong in [tasks.NAME].
const std::vector<std::string> kReadKeys = {"text_a_column", "text_b_column", "label_column", "id_column",
                                            "language_column", "language", "header", "label_names"};
// TrainConfig keys the experiment sets itself: not allowed in [stages.NAME].
const std::vector<std::string> kExperimentKeys = {"model", "train", "dev", "format", "out", "seed"};

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string resolve(const std::string& value, const fs::path& base) {
  if (value.empty() || fs::path(value).is_absolute()) return value;
  return (base / value).lexically_normal().string();
}

// Resolves a string or list-of-strings value in place.
void resolve_value(nlohmann::json& v, const fs::path& base) {
  if (v.is_string()) {
    v = resolve(v.get<std::string>(), base);
  } else if (v.is_array()) {
    for (auto& item : v) {
      if (item.is_string()) item = resolve(item.get<std::string>(), base);
    }
  }
}

// Whether the dotted key names a path: model.path, tasks.X.{train,dev,test}, stages.X.cache_dir.
bool is_path_key(const std::vector<std::string>& parts) {
  if (parts.size() == 2 && parts[0] == "model" && parts[1] == "path") return true;
  if (parts.size() == 3 && parts[0] == "tasks" && (parts[2] == "train" || parts[2] == "dev" || parts[2] == "test")) {
    return true;
  }
  return parts.size() == 3 && parts[0] == "stages" && parts[2] == "cache_dir";
}

// Whether the dotted key names a string field (so `--set experiment.name=123` stays a string).
bool is_string_key(const std::vector<std::string>& parts) {
  if (parts.size() == 2 && parts[0] == "experiment") {
    return parts[1] == "name" || parts[1] == "train_language" || parts[1] == "transfer";
  }
  if (parts.size() == 2 && parts[0] == "bench") return parts[1] == "mode";
  if (parts.size() == 2 && parts[0] == "model") return true;
  if (parts.size() == 3 && parts[0] == "tasks") {
    if (parts[2] == "kind" || parts[2] == "format" || parts[2] == "train" || parts[2] == "translate_train") return true;
  }
  if (parts.size() == 3 && (parts[0] == "tasks" || parts[0] == "stages")) {
    if (parts[0] == "stages" && parts[2] == "task") return true;
    const nlohmann::json defaults = train::TrainConfig().to_json();
    return defaults.contains(parts[2]) && defaults.at(parts[2]).is_string();
  }
  return false;
}

void resolve_paths(nlohmann::json& j, const fs::path& base) {
  if (!j.is_object()) return;
  if (j.contains("model") && j["model"].is_object() && j["model"].contains("path") && j["model"]["path"].is_string()) {
    j["model"]["path"] = hub::model_spec_in(j["model"]["path"].get<std::string>(), base);  // a directory or a hub id
  }
  if (j.contains("tasks") && j["tasks"].is_object()) {
    for (auto& [name, task] : j["tasks"].items()) {
      if (!task.is_object()) continue;
      for (const char* key : {"train", "translate_train", "dev", "test"}) {
        if (task.contains(key)) resolve_value(task[key], base);
      }
    }
  }
  if (j.contains("stages") && j["stages"].is_object()) {
    for (auto& [name, stage] : j["stages"].items()) {
      if (stage.is_object() && stage.contains("cache_dir")) resolve_value(stage["cache_dir"], base);
    }
  }
}

[[noreturn]] void type_error(const std::string& source, const std::string& key, const char* expected,
                             const nlohmann::json& value) {
  input_error(source, ": key '", key, "' must be ", expected, ", got ", value.dump());
}

const nlohmann::json& require_object(const nlohmann::json& v, const std::string& source, const std::string& key) {
  if (!v.is_object()) type_error(source, key, "a table", v);
  return v;
}

std::string get_string(const nlohmann::json& v, const std::string& source, const std::string& key) {
  if (!v.is_string()) type_error(source, key, "a string", v);
  return v.get<std::string>();
}

std::vector<std::string> get_strings(const nlohmann::json& v, const std::string& source, const std::string& key) {
  if (v.is_string()) return {v.get<std::string>()};
  if (!v.is_array()) type_error(source, key, "a string or a list of strings", v);
  std::vector<std::string> out;
  for (const auto& item : v) {
    if (!item.is_string()) type_error(source, key, "a list of strings", v);
    out.push_back(item.get<std::string>());
  }
  return out;
}

[[noreturn]] void unknown_key(const std::string& source, const std::string& key, const std::string& known) {
  input_error(source, ": unknown key '", key, "' (known keys: ", known, ")");
}

// A language list (`key`: experiment.languages, tasks.NAME.languages) holds no empty and no repeated language.
void check_languages(const std::vector<std::string>& languages, const std::string& source, const std::string& key) {
  std::set<std::string> seen;
  for (const auto& l : languages) {
    if (l.empty()) input_error(source, ": ", key, ": an empty language");
    if (!seen.insert(l).second) input_error(source, ": ", key, ": '", l, "' is listed twice");
  }
}

}  // namespace

std::string TaskSpec::expand(const std::string& pattern, const std::string& language) {
  std::string out = pattern;
  const std::string token = "{lang}";
  for (size_t at = out.find(token); at != std::string::npos; at = out.find(token, at + language.size())) {
    out.replace(at, token.size(), language);
  }
  return out;
}

bool TaskSpec::read_per_language(const std::string& pattern) {
  return pattern.find("{lang}") != std::string::npos || (!pattern.empty() && pattern.back() == '/');
}

ExperimentConfig parse_experiment(const nlohmann::json& j, const std::string& source) {
  ExperimentConfig c;
  require_object(j, source, "(top level)");
  for (const auto& [section, value] : j.items()) {
    if (section == "experiment") {
      for (const auto& [key, v] : require_object(value, source, section).items()) {
        const std::string full = "experiment." + key;
        if (key == "name") {
          c.name = get_string(v, source, full);
        } else if (key == "seeds") {
          if (!v.is_array()) type_error(source, full, "a list of integers", v);
          c.seeds.clear();
          for (const auto& s : v) {
            if (!s.is_number_integer()) type_error(source, full, "a list of integers", v);
            c.seeds.push_back(s.get<int64_t>());
          }
        } else if (key == "languages") {
          c.languages = get_strings(v, source, full);
        } else if (key == "train_language") {
          c.train_language = get_string(v, source, full);
        } else if (key == "transfer") {
          const std::string t = get_string(v, source, full);
          if (t == "zero-shot") {
            c.transfer = Transfer::kZeroShot;
          } else if (t == "in-language") {
            c.transfer = Transfer::kInLanguage;
          } else if (t == "translate-train") {
            c.transfer = Transfer::kTranslateTrain;
          } else {
            input_error(source, ": ", full, " = '", t, "': expected zero-shot, in-language or translate-train");
          }
        } else {
          unknown_key(source, full, "name, seeds, languages, train_language, transfer");
        }
      }
    } else if (section == "model") {
      for (const auto& [key, v] : require_object(value, source, section).items()) {
        if (key != "path") unknown_key(source, "model." + key, "path");
        c.model_path = get_string(v, source, "model.path");
      }
    } else if (section == "tasks") {
      for (const auto& [name, t] : require_object(value, source, section).items()) {
        TaskSpec task;
        task.name = name;
        for (const auto& [key, v] : require_object(t, source, "tasks." + name).items()) {
          const std::string full = "tasks." + name + "." + key;
          if (key == "kind") {
            task.kind = get_string(v, source, full);
          } else if (key == "format") {
            task.format = get_string(v, source, full);
          } else if (key == "train") {
            task.train = get_string(v, source, full);
          } else if (key == "translate_train") {
            task.translate_train = get_string(v, source, full);
          } else if (key == "dev") {
            task.dev = get_strings(v, source, full);
          } else if (key == "test") {
            task.test = get_strings(v, source, full);
          } else if (key == "languages") {
            task.languages = get_strings(v, source, full);
          } else if (contains(kReadKeys, key)) {
            task.read[key] = v;
          } else {
            unknown_key(source, full, "kind, format, train, translate_train, dev, test, languages, " + join(kReadKeys));
          }
        }
        // Type errors in the reading keys now, naming the task.
        train::TrainConfig probe;
        probe.apply_json(task.read, source + ": [tasks." + name + "]");
        c.tasks[name] = std::move(task);
      }
    } else if (section == "stages") {
      for (const auto& [name, s] : require_object(value, source, section).items()) {
        StageSpec stage;
        stage.name = name;
        for (const auto& [key, v] : require_object(s, source, "stages." + name).items()) {
          const std::string full = "stages." + name + "." + key;
          if (key == "task") {
            stage.task = get_string(v, source, full);
          } else if (contains(kReadKeys, key)) {
            input_error(source, ": key '", full, "' reads data: it belongs in the task's [tasks.NAME] table");
          } else if (contains(kExperimentKeys, key)) {
            input_error(source, ": key '", full, "' is set by the experiment (model: [model] and upstream stages; "
                        "train, dev, format: the task; seed: experiment.seeds)");
          } else {
            std::vector<std::string> allowed;
            for (const auto& k : train::config_keys()) {
              if (!contains(kReadKeys, k) && !contains(kExperimentKeys, k)) allowed.push_back(k);
            }
            if (!contains(allowed, key)) unknown_key(source, full, "task, " + join(allowed));
            stage.settings[key] = v;
          }
        }
        train::TrainConfig probe;
        probe.apply_json(stage.settings, source + ": [stages." + name + "]");
        c.stages[name] = std::move(stage);
      }
    } else if (section == "bench") {
      for (const auto& [key, v] : require_object(value, source, section).items()) {
        const std::string full = "bench." + key;
        auto integer = [&](int64_t minimum) {
          if (!v.is_number_integer() || v.get<int64_t>() < minimum) {
            type_error(source, full, minimum > 0 ? "a positive integer" : "a non-negative integer", v);
          }
          return v.get<int64_t>();
        };
        if (key == "enabled") {
          if (!v.is_boolean()) type_error(source, full, "true or false", v);
          c.bench.enabled = v.get<bool>();
        } else if (key == "mode") {
          c.bench.mode = get_string(v, source, full);
          if (c.bench.mode != "fp32" && c.bench.mode != "bf16" && c.bench.mode != "int8") {
            input_error(source, ": ", full, " = '", c.bench.mode, "': expected fp32, bf16 or int8");
          }
        } else if (key == "batch_sizes") {
          if (!v.is_array() || v.empty()) type_error(source, full, "a non-empty list of positive integers", v);
          c.bench.batch_sizes.clear();
          for (const auto& b : v) {
            if (!b.is_number_integer() || b.get<int64_t>() < 1) {
              type_error(source, full, "a non-empty list of positive integers", v);
            }
            c.bench.batch_sizes.push_back(b.get<int64_t>());
          }
        } else if (key == "threads") {
          c.bench.threads = integer(0);
        } else if (key == "max_examples") {
          c.bench.max_examples = integer(1);
        } else if (key == "min_repetitions") {
          c.bench.min_repetitions = integer(1);
        } else if (key == "min_time_s") {
          if (!v.is_number() || v.get<double>() < 0) type_error(source, full, "a non-negative number", v);
          c.bench.min_time_s = v.get<double>();
        } else {
          unknown_key(source, full, "enabled, mode, batch_sizes, threads, max_examples, min_time_s, min_repetitions");
        }
      }
    } else if (section == "arms") {
      for (const auto& [name, v] : require_object(value, source, section).items()) {
        const std::string full = "arms." + name;
        ArmSpec arm;
        arm.name = name;
        if (v.is_array() && !v.empty() && v.front().is_array()) {
          for (const auto& chain : v) {
            if (!chain.is_array()) type_error(source, full, "a list of stage names or a list of such lists", v);
            arm.chains.push_back(get_strings(chain, source, full));
          }
        } else {
          arm.chains.push_back(get_strings(v, source, full));
        }
        c.arms.push_back(std::move(arm));
      }
    } else {
      unknown_key(source, section, "experiment, model, tasks, stages, arms, bench");
    }
  }
  c.source = source;
  return c;
}

void apply_experiment_setting(nlohmann::json& j, const std::string& assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) input_error("--set '", assignment, "': expected dotted.key=value");
  const std::string key = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    const size_t dot = key.find('.', start);
    parts.push_back(key.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  for (const auto& p : parts) {
    if (p.empty()) input_error("--set '", assignment, "': empty part in the key '", key, "'");
  }
  if (parts.size() < 2) {
    input_error("--set '", assignment, "': expected a dotted key such as stages.target.epochs or experiment.seeds");
  }
  nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded() || is_string_key(parts)) value = text;
  if (parts.size() == 2 && parts[0] == "model" && parts[1] == "path" && value.is_string()) {
    value = hub::model_spec_in(value.get<std::string>(), fs::current_path());
  } else if (is_path_key(parts)) {
    resolve_value(value, fs::current_path());
  }
  nlohmann::json* node = &j;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    nlohmann::json& next = (*node)[parts[i]];
    if (next.is_null()) next = nlohmann::json::object();
    if (!next.is_object()) input_error("--set '", assignment, "': '", parts[i], "' is not a table");
    node = &next;
  }
  (*node)[parts.back()] = value;
}

const char* transfer_name(Transfer t) {
  switch (t) {
    case Transfer::kZeroShot:
      return "zero-shot";
    case Transfer::kInLanguage:
      return "in-language";
    case Transfer::kTranslateTrain:
      return "translate-train";
  }
  return "?";
}

bool ExperimentConfig::evaluation_only(const std::string& stage_name) const {
  const auto s = stages.find(stage_name);
  if (s == stages.end()) return false;
  const auto t = tasks.find(s->second.task);
  return t != tasks.end() && t->second.evaluation_only();
}

bool ExperimentConfig::per_language(const std::string& stage_name) const {
  if (transfer == Transfer::kZeroShot) return false;
  const auto s = stages.find(stage_name);
  if (s == stages.end()) return false;
  const auto t = tasks.find(s->second.task);
  return t != tasks.end() && t->second.train.find("{lang}") != std::string::npos;
}

train::TrainConfig ExperimentConfig::stage_config(const std::string& stage_name, int64_t seed,
                                                  const std::string& language) const {
  const auto s = stages.find(stage_name);
  if (s == stages.end()) input_error(source.string(), ": no stage '", stage_name, "'");
  const auto t = tasks.find(s->second.task);
  if (t == tasks.end()) {
    input_error(source.string(), ": stages.", stage_name, ".task = '", s->second.task, "' names no [tasks.",
                s->second.task, "] table");
  }
  const TaskSpec& task = t->second;
  const bool own_language = !language.empty() && per_language(stage_name);
  const std::string train_in = own_language ? language : train_language;
  train::TrainConfig c;
  c.task = task.kind;
  c.format = task.format;
  c.train = TaskSpec::expand(task.train, train_in);
  if (own_language && transfer == Transfer::kTranslateTrain && language != train_language) {
    c.train = TaskSpec::expand(task.translate_train, language);
  }
  for (const auto& d : task.evaluation_only() ? std::vector<std::string>{} : task.dev) {  // the trainer's dev files
    const std::string path = TaskSpec::expand(d, train_in);
    if (!contains(c.dev, path)) c.dev.push_back(path);
  }
  if (c.dev.empty() || task.kind == "mlm") c.final_model = "last";  // 'best' needs a dev set and a task metric
  c.apply_json(task.read, source.string() + ": [tasks." + task.name + "]");
  c.apply_json(s->second.settings, source.string() + ": [stages." + stage_name + "]");
  c.seed = static_cast<uint64_t>(seed);
  return c;
}

const std::vector<std::string>& ExperimentConfig::languages_of(const TaskSpec& task) const {
  return task.languages.empty() ? languages : task.languages;
}

std::vector<std::pair<std::string, std::string>> ExperimentConfig::eval_files(const TaskSpec& task,
                                                                              const std::string& split,
                                                                              const std::string& only) const {
  std::vector<std::pair<std::string, std::string>> out;  // (language or "", file)
  const auto& patterns = split == "test" ? task.test : task.dev;
  for (const auto& p : patterns) {
    if (!TaskSpec::read_per_language(p)) {
      out.emplace_back("", p);
    } else {
      for (const auto& language : languages_of(task)) {
        if (only.empty() || language == only) out.emplace_back(language, TaskSpec::expand(p, language));
      }
    }
  }
  return out;
}

void ExperimentConfig::validate() const {
  const std::string src = source.empty() ? std::string("experiment config") : source.string();
  if (name.empty()) input_error(src, ": experiment.name must not be empty");
  if (seeds.empty()) input_error(src, ": experiment.seeds must list at least one seed");
  for (size_t i = 0; i < seeds.size(); ++i) {
    if (seeds[i] < 0) input_error(src, ": experiment.seeds: seed ", seeds[i], " is negative");
    for (size_t k = 0; k < i; ++k) {
      if (seeds[k] == seeds[i]) input_error(src, ": experiment.seeds: seed ", seeds[i], " is listed twice");
    }
  }
  check_languages(languages, src, "experiment.languages");
  if (model_path.empty()) input_error(src, ": [model] path is required");
  if (tasks.empty()) input_error(src, ": no [tasks.NAME] table");
  for (const auto& [name, task] : tasks) {
    if (task.evaluation_only() && task.dev.empty() && task.test.empty()) {
      input_error(src, ": tasks.", name, " has no train, dev or test file (a task without train is evaluated "
                  "only, on its dev and test files)");
    }
    if (task.evaluation_only() && task.kind == "mlm") input_error(src, ": tasks.", name, ".train is required (masked-LM)");
    if (task.train.find("{lang}") != std::string::npos && train_language.empty()) {
      input_error(src, ": tasks.", name, ".train holds {lang} but experiment.train_language is empty");
    }
    for (const auto* list : {&task.dev, &task.test}) {
      for (const auto& p : *list) {
        if (TaskSpec::read_per_language(p) && languages_of(task).empty()) {
          input_error(src, ": tasks.", name, ": '", p, "' is read per language ({lang}, or a folder ending in /) "
                      "but neither tasks.", name, ".languages nor experiment.languages lists a language");
        }
      }
    }
    check_languages(task.languages, src, "tasks." + name + ".languages");
  }
  if (transfer != Transfer::kZeroShot) {
    bool any = false;
    for (const auto& [name, stage] : stages) any = any || per_language(name);
    if (!any) {
      input_error(src, ": experiment.transfer = '", transfer_name(transfer),
                  "' needs a stage whose task's train file holds {lang} (none does)");
    }
    if (languages.empty()) input_error(src, ": experiment.transfer = '", transfer_name(transfer), "' needs experiment.languages");
  }
  if (transfer == Transfer::kTranslateTrain) {
    for (const auto& [name, stage] : stages) {
      const auto t = tasks.find(stage.task);
      if (per_language(name) && t != tasks.end() && t->second.translate_train.empty()) {
        input_error(src, ": experiment.transfer = 'translate-train' but tasks.", stage.task,
                    ".translate_train is not set (the translated training file pattern, e.g. "
                    "\"data/paws-x/{lang}/translated_train.tsv\")");
      }
    }
  }
  if (stages.empty()) input_error(src, ": no [stages.NAME] table");
  for (const auto& [name, stage] : stages) {
    if (stage.task.empty()) input_error(src, ": stages.", name, ".task is required (the name of a [tasks.NAME] table)");
    if (!tasks.count(stage.task)) {
      std::vector<std::string> known;
      for (const auto& [t, spec] : tasks) known.push_back(t);
      input_error(src, ": stages.", name, ".task = '", stage.task, "' names no task (tasks: ", join(known), ")");
    }
    train::TrainConfig probe = stage_config(name, seeds.front());
    probe.model = model_path;
    probe.out = "<run>";
    if (evaluation_only(name)) probe.train = "<evaluation only>";  // the other settings are still checked
    try {
      probe.validate();
    } catch (const InputError& e) {
      input_error(src, ": [stages.", name, "]: ", e.what());
    }
  }
  if (arms.empty()) input_error(src, ": [arms] must name at least one arm (name = [\"stage\", ...])");
  for (const auto& arm : arms) {
    if (arm.chains.empty()) input_error(src, ": arms.", arm.name, " lists no stages");
    std::set<std::string> targets;
    for (size_t c = 0; c < arm.chains.size(); ++c) {
      const auto& chain = arm.chains[c];
      const std::string where = "arms." + arm.name + (arm.chains.size() > 1 ? "[" + std::to_string(c) + "]" : "");
      if (chain.empty()) input_error(src, ": ", where, " lists no stages");
      for (size_t i = 0; i < chain.size(); ++i) {
        const std::string& s = chain[i];
        if (!stages.count(s)) {
          std::vector<std::string> known;
          for (const auto& [n, spec] : stages) known.push_back(n);
          input_error(src, ": ", where, " names stage '", s, "', which has no [stages.", s, "] table (stages: ",
                      join(known), ")");
        }
        if (i + 1 < chain.size() && evaluation_only(s)) {
          input_error(src, ": ", where, " continues after stage '", s, "', which only evaluates (tasks.",
                      stages.at(s).task, " has no train file, so it makes no model): it must end its chain");
        }
      }
      const auto t = tasks.find(stages.at(chain.back()).task);
      if (t != tasks.end() && t->second.kind == "mlm") {
        input_error(src, ": ", where, " ends in stage '", chain.back(),
                    "', a masked-LM stage: a chain's last stage is the fine-tuned model that is evaluated "
                    "(put the mlm stage before a task stage)");
      }
      // Results are kept per (arm, target stage): one chain per target name.
      if (!targets.insert(chain.back()).second) {
        input_error(src, ": arms.", arm.name, " has two chains ending in stage '", chain.back(),
                    "' (an arm's targets are told apart by their stage names: give each its own [stages.NAME])");
      }
    }
  }
}

nlohmann::json ExperimentConfig::to_json() const {
  nlohmann::json j;
  j["experiment"] = {{"name", name},
                     {"seeds", seeds},
                     {"languages", languages},
                     {"train_language", train_language},
                     {"transfer", transfer_name(transfer)}};
  j["model"] = {{"path", model_path}};
  j["tasks"] = nlohmann::json::object();
  for (const auto& [n, t] : tasks) {
    nlohmann::json task = {{"kind", t.kind}, {"format", t.format}, {"train", t.train}, {"dev", t.dev}, {"test", t.test}};
    if (!t.translate_train.empty()) task["translate_train"] = t.translate_train;
    if (!t.languages.empty()) task["languages"] = t.languages;
    for (const auto& [k, v] : t.read.items()) task[k] = v;
    j["tasks"][n] = task;
  }
  j["stages"] = nlohmann::json::object();
  for (const auto& [n, s] : stages) {
    nlohmann::json stage = s.settings;
    stage["task"] = s.task;
    j["stages"][n] = stage;
  }
  j["arms"] = nlohmann::json::object();
  for (const auto& arm : arms) {
    if (arm.chains.size() == 1) {
      j["arms"][arm.name] = arm.chains.front();
    } else {
      j["arms"][arm.name] = arm.chains;
    }
  }
  j["bench"] = {{"enabled", bench.enabled},         {"mode", bench.mode},
                {"batch_sizes", bench.batch_sizes}, {"threads", bench.threads},
                {"max_examples", bench.max_examples}, {"min_time_s", bench.min_time_s},
                {"min_repetitions", bench.min_repetitions}};
  return j;
}

ExperimentConfig load_experiment(const fs::path& path, const std::vector<std::string>& settings) {
  const std::string text = read_file(path);
  nlohmann::json j;
  if (path.extension() == ".json") {
    j = read_json_file(path);
  } else {
    j = train::parse_toml(text, path.string());
  }
  resolve_paths(j, fs::absolute(path).parent_path());
  for (const auto& s : settings) apply_experiment_setting(j, s);
  ExperimentConfig c = parse_experiment(j, path.string());
  c.source = path;
  c.validate();
  return c;
}

}  // namespace stilts::pipeline
