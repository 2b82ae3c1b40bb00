#include "pipeline/stage_graph.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "common/error.h"
#include "common/sha256.h"
#include "common/files.h"
#include "tasks/features.h"

namespace stilts::pipeline {

namespace fs = std::filesystem;

namespace {

constexpr int kKeyVersion = 1;

// Path, size and modification time of every regular file in the model directory (see the header).
nlohmann::json model_fingerprint(const fs::path& dir) {
  require_directory(dir, "a Hugging Face model ([model] path)");
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& f : files) {
    const auto mtime = fs::last_write_time(f).time_since_epoch();
    out.push_back({{"path", fs::absolute(f).lexically_normal().string()},
                   {"size", fs::file_size(f)},
                   {"mtime_ns", std::chrono::duration_cast<std::chrono::nanoseconds>(mtime).count()}});
  }
  return out;
}

// Content hashes of data files (a directory, e.g. imdb, by its files' paths and contents), memoised.
class DataHasher {
 public:
  std::string hash(const std::string& path) {
    const auto it = memo_.find(path);
    if (it != memo_.end()) return it->second;
    std::string h;
    if (fs::is_directory(path)) {
      std::vector<fs::path> files;
      for (const auto& e : fs::recursive_directory_iterator(path)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());
      std::string all;
      for (const auto& f : files) {
        all += fs::relative(f, path).string() + "\n" + sha256_hex(read_file(f)) + "\n";
      }
      h = sha256_hex(all);
    } else {
      h = sha256_hex(read_file(path));  // InputError naming a missing file
    }
    memo_[path] = h;
    return h;
  }

 private:
  std::map<std::string, std::string> memo_;
};

}  // namespace

const StageNode& StageGraph::node(const std::string& key) const {
  for (const auto& n : nodes) {
    if (n.key == key) return n;
  }
  STILTS_CHECK(false, "no stage ", key);
  throw;  // unreachable
}

StageGraph build_stage_graph(const ExperimentConfig& config) {
  StageGraph graph;
  const nlohmann::json base_model = model_fingerprint(config.model_path);
  DataHasher data;
  std::map<std::string, size_t> index;  // key -> nodes position
  std::vector<std::pair<std::string, std::vector<std::string>>> arm_chains;  // (arm, its stages), every chain
  for (const auto& arm : config.arms) {
    for (const auto& stage_names : arm.chains) arm_chains.emplace_back(arm.name, stage_names);
  }
  for (const int64_t seed : config.seeds) {
    for (const auto& [arm, stage_names] : arm_chains) {
      std::vector<std::string> chain_languages = {""};
      for (const auto& name : stage_names) {
        if (config.per_language(name)) chain_languages = config.languages;
      }
      for (const std::string& language : chain_languages) {
        Chain chain;
        chain.arm = arm;
        chain.seed = seed;
        chain.language = language;
        std::string upstream;
        for (size_t i = 0; i < stage_names.size(); ++i) {
          const std::string& name = stage_names[i];
          const std::string stage_language = config.per_language(name) ? language : "";
          train::TrainConfig c = config.stage_config(name, seed, stage_language);
          nlohmann::json hyper = c.to_json();
          for (const char* k : {"model", "out", "train", "dev", "cache_dir", "log_every"}) hyper.erase(k);
          // The default device leaves the identity as it was before the key existed (finished stages stay
          // cached); a GPU stage is another stage (its numbers differ).
          if (hyper.value("device", std::string()) == "cpu") hyper.erase("device");
          const bool evaluation_only = config.evaluation_only(name);
          nlohmann::json identity = {{"version", kKeyVersion},
                                     {"base_model", upstream.empty() ? base_model : nlohmann::json()},
                                     {"upstream", upstream},
                                     {"config", hyper}};
          if (evaluation_only) {
            nlohmann::json eval_hashes = nlohmann::json::array();
            const TaskSpec& task = config.tasks.at(config.stages.at(name).task);
            for (const std::string split : {"dev", "test"}) {
              for (const auto& [l, file] : config.eval_files(task, split, stage_language)) {
                eval_hashes.push_back(data.hash(file));
              }
            }
            identity["evaluation_only"] = true;
            identity["eval_data"] = eval_hashes;
          } else {
            nlohmann::json dev_hashes = nlohmann::json::array();
            for (const auto& d : c.dev) dev_hashes.push_back(data.hash(d));
            identity["train_data"] = data.hash(c.train);
            identity["dev_data"] = dev_hashes;
          }
          const std::string key = sha256_hex(identity.dump());
          const bool last = i + 1 == stage_names.size();
          auto it = index.find(key);
          if (it == index.end()) {
            StageNode node;
            node.key = key;
            node.name = name;
            node.task = config.stages.at(name).task;
            node.arm = arm;
            node.seed = seed;
            node.language = stage_language;
            node.upstream = upstream;
            node.config = c;
            node.evaluation_only = evaluation_only;
            index[key] = graph.nodes.size();
            graph.nodes.push_back(std::move(node));
            it = index.find(key);
          }
          StageNode& node = graph.nodes[it->second];
          if (std::find(node.arms.begin(), node.arms.end(), arm) == node.arms.end()) node.arms.push_back(arm);
          node.evaluated = node.evaluated || last;
          chain.keys.push_back(key);
          upstream = key;
        }
        graph.chains.push_back(std::move(chain));
      }
    }
  }
  return graph;
}

}  // namespace stilts::pipeline
