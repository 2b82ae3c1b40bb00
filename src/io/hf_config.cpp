#include "io/hf_config.h"

#include "common/error.h"
#include "common/files.h"

namespace stilts::io {

namespace fs = std::filesystem;
using nlohmann::json;

void CommonConfig::set_labels(int64_t n, const std::vector<std::string>& names) {
  id2label.clear();
  for (int64_t i = 0; i < n; ++i) {
    id2label[i] = i < static_cast<int64_t>(names.size()) ? names[static_cast<size_t>(i)]
                                                          : "LABEL_" + std::to_string(i);
  }
}

namespace config_fields {

namespace {
[[noreturn]] void wrong_type(const json& j, const char* key, const char* expected, const std::string& source) {
  std::string value = j.at(key).dump();
  if (value.size() > 60) value = value.substr(0, 57) + "...";
  input_error(source, ": field '", key, "' must be ", expected, ", got ", value);
}
bool present(const json& j, const char* key) { return j.contains(key) && !j.at(key).is_null(); }
}  // namespace

void read(const json& j, const char* key, int64_t& out, const std::string& source) {
  if (!present(j, key)) return;
  const json& v = j.at(key);
  if (!v.is_number_integer()) wrong_type(j, key, "an integer", source);
  out = v.get<int64_t>();
}

void read(const json& j, const char* key, double& out, const std::string& source) {
  if (!present(j, key)) return;
  const json& v = j.at(key);
  if (!v.is_number()) wrong_type(j, key, "a number", source);
  out = v.get<double>();
}

void read(const json& j, const char* key, bool& out, const std::string& source) {
  if (!present(j, key)) return;
  const json& v = j.at(key);
  if (!v.is_boolean()) wrong_type(j, key, "true or false", source);
  out = v.get<bool>();
}

void read(const json& j, const char* key, std::string& out, const std::string& source) {
  if (!present(j, key)) return;
  const json& v = j.at(key);
  if (!v.is_string()) wrong_type(j, key, "a string", source);
  out = v.get<std::string>();
}

void read(const json& j, const char* key, std::optional<int64_t>& out, const std::string& source) {
  if (!present(j, key)) return;
  int64_t v = 0;
  read(j, key, v, source);
  out = v;
}

void read(const json& j, const char* key, std::optional<double>& out, const std::string& source) {
  if (!present(j, key)) return;
  double v = 0;
  read(j, key, v, source);
  out = v;
}

void read(const json& j, const char* key, std::optional<std::string>& out, const std::string& source) {
  if (!present(j, key)) return;
  std::string v;
  read(j, key, v, source);
  out = v;
}

namespace {
template <typename T>
void read_nullable_value(const json& j, const char* key, std::optional<T>& out, const std::string& source) {
  if (j.contains(key) && j.at(key).is_null()) {
    out.reset();
    return;
  }
  read(j, key, out, source);
}
}  // namespace

void read_nullable(const json& j, const char* key, std::optional<int64_t>& out, const std::string& source) {
  read_nullable_value(j, key, out, source);
}

void read_nullable(const json& j, const char* key, std::optional<std::string>& out, const std::string& source) {
  read_nullable_value(j, key, out, source);
}

CommonConfig read_common(const json& j, const std::string& source) {
  CommonConfig c;
  c.model_type = model_type_of(j, source);
  if (present(j, "architectures")) {
    const json& a = j.at("architectures");
    if (!a.is_array()) wrong_type(j, "architectures", "a list of strings", source);
    for (const auto& e : a) {
      if (!e.is_string()) wrong_type(j, "architectures", "a list of strings", source);
      c.architectures.push_back(e.get<std::string>());
    }
  }
  if (present(j, "id2label")) {
    const json& m = j.at("id2label");
    if (!m.is_object()) wrong_type(j, "id2label", "an object {\"0\": \"label\", ...}", source);
    for (const auto& [k, v] : m.items()) {
      size_t used = 0;
      int64_t id = -1;
      try {
        id = std::stoll(k, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != k.size() || id < 0 || !v.is_string()) {
        input_error(source, ": field 'id2label' must map label ids \"0\", \"1\", ... to names; got \"", k,
                    "\": ", v.dump());
      }
      c.id2label[id] = v.get<std::string>();
    }
    for (int64_t i = 0; i < static_cast<int64_t>(c.id2label.size()); ++i) {
      if (!c.id2label.count(i)) {
        input_error(source, ": field 'id2label' must have ids 0..", c.id2label.size() - 1, "; ", i, " is missing");
      }
    }
  } else if (present(j, "num_labels")) {
    int64_t n = 2;
    read(j, "num_labels", n, source);
    if (n < 1) input_error(source, ": field 'num_labels' must be >= 1, got ", n);
    c.set_labels(n);
  }
  read(j, "problem_type", c.problem_type, source);
  read(j, "torch_dtype", c.torch_dtype, source);
  read(j, "pad_token_id", c.pad_token_id, source);
  read(j, "bos_token_id", c.bos_token_id, source);
  read(j, "eos_token_id", c.eos_token_id, source);
  return c;
}

void write_common(const CommonConfig& c, json& j) {
  j["model_type"] = c.model_type;
  if (!c.architectures.empty()) j["architectures"] = c.architectures;
  if (!c.id2label.empty()) {
    json id2label = json::object();
    json label2id = json::object();
    for (const auto& [id, name] : c.id2label) {
      id2label[std::to_string(id)] = name;
      label2id[name] = id;
    }
    j["id2label"] = id2label;
    j["label2id"] = label2id;
  }
  j.erase("num_labels");  // transformers derives it from id2label
  if (c.problem_type) j["problem_type"] = *c.problem_type;
  if (c.torch_dtype) j["torch_dtype"] = *c.torch_dtype;
  if (c.pad_token_id) j["pad_token_id"] = *c.pad_token_id;
  if (c.bos_token_id) j["bos_token_id"] = *c.bos_token_id;
  if (c.eos_token_id) j["eos_token_id"] = *c.eos_token_id;
}

}  // namespace config_fields

json read_config_json(const fs::path& dir) {
  require_directory(dir, "a model directory with config.json");
  const fs::path path = dir / "config.json";
  std::error_code ec;
  if (!fs::exists(path, ec)) input_error(path.string(), ": missing (a Hugging Face model directory has config.json)");
  json j = read_json_file(path);
  if (!j.is_object()) input_error(path.string(), ": expected a JSON object, got ", j.type_name());
  return j;
}

std::string model_type_of(const json& j, const std::string& source) {
  if (!j.contains("model_type")) input_error(source, ": field 'model_type' is missing");
  if (!j.at("model_type").is_string()) {
    input_error(source, ": field 'model_type' must be a string, got ", j.at("model_type").dump());
  }
  return j.at("model_type").get<std::string>();
}

}  // namespace stilts::io
