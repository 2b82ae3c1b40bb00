#include "support/torch/tiny_study.h"

#include <random>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "pipeline/results_store.h"
#include "support/fixtures.h"
#include "support/torch/tiny_models.h"

namespace stilts::testing {

namespace fs = std::filesystem;

const std::vector<std::string> kTinyWords = {"red", "blue", "green", "cat", "dog", "bird", "runs", "sits",
                                             "big", "small", "old", "new", "yes", "no", "and", "the"};

std::string tiny_words(std::mt19937& rng, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += (i ? " " : "") + kTinyWords[rng() % 12];
  return out;
}

std::string tiny_sst2_tsv(int rows, unsigned seed) {
  std::mt19937 rng(seed);
  std::string tsv = "sentence\tlabel\n";
  for (int i = 0; i < rows; ++i) {
    const bool positive = rng() % 2;
    tsv += tiny_words(rng, 1 + rng() % 3) + (positive ? " yes " : " no ") + tiny_words(rng, 1 + rng() % 3) + "\t" +
           (positive ? "1" : "0") + "\n";
  }
  return tsv;
}

namespace {

// {name} stands for the study's name.
const char* kExperiment = R"([experiment]
name = "{name}"
seeds = [1]
languages = ["en", "de"]
train_language = "en"

[model]
path = "model"

[tasks.inter]
kind = "classification"
format = "glue-sst2"
train = "data/inter/train.tsv"
dev = "data/inter/dev.tsv"

[tasks.sent]
kind = "classification"
format = "glue-sst2"
train = "data/{lang}/train.tsv"
dev = "data/{lang}/dev.tsv"
test = "data/{lang}/test.tsv"

[stages.intermediate]
task = "inter"
max_steps = 12
lr = 1e-3
batch_size = 8
max_length = 24
eval_every = 6
threads = 1

[stages.target]
task = "sent"
max_steps = 30
lr = 3e-3
batch_size = 8
max_length = 24
eval_every = 10
checkpoint_every = 2
final_model = "last"
head = "reinit"
threads = 1

[stages.target_slow]
task = "sent"
max_steps = 30
lr = 1e-3
batch_size = 8
max_length = 24
eval_every = 10
checkpoint_every = 2
final_model = "last"
head = "reinit"
threads = 1

[arms]
direct = ["target"]
intermediate = ["intermediate", "target"]
intermediate_slow = ["intermediate", "target_slow"]

[bench]
batch_sizes = [1]
max_examples = 8
min_time_s = 0.01
min_repetitions = 2
)";

}  // namespace

TinyStudy make_tiny_study(const std::string& name, bool dropout) {
  TinyStudy s;
  s.root = make_temp_dir();
  make_tiny_bert(s.root / "model", {kTinyWords});
  if (!dropout) {
    nlohmann::json model_config = read_json_file(s.root / "model" / "config.json");
    model_config["hidden_dropout_prob"] = 0.0;
    model_config["attention_probs_dropout_prob"] = 0.0;
    write_file_atomic(s.root / "model" / "config.json", model_config.dump(2));
  }
  for (const std::string dir : {"inter", "en", "de"}) fs::create_directories(s.root / "data" / dir);
  write_file_atomic(s.root / "data" / "inter" / "train.tsv", tiny_sst2_tsv(120, 1));
  write_file_atomic(s.root / "data" / "inter" / "dev.tsv", tiny_sst2_tsv(24, 2));
  unsigned seed = 10;
  for (const std::string language : {"en", "de"}) {
    const fs::path dir = s.root / "data" / language;
    if (language == "en") write_file_atomic(dir / "train.tsv", tiny_sst2_tsv(160, seed++));
    write_file_atomic(dir / "dev.tsv", tiny_sst2_tsv(24, seed++));
    write_file_atomic(dir / "test.tsv", tiny_sst2_tsv(24, seed++));
  }
  s.config = s.root / "experiment.toml";
  std::string config = kExperiment;
  config.replace(config.find("{name}"), 6, name);
  write_file_atomic(s.config, config);
  return s;
}

std::vector<std::string> tiny_study_run_args(const TinyStudy& s, const fs::path& out, std::vector<std::string> extra) {
  std::vector<std::string> args = {"run", s.config.string(), "--out", out.string(), "--no-report", "--poll", "0.1"};
  for (const std::string stage : {"intermediate", "target", "target_slow"}) {
    args.push_back("--set");
    args.push_back("stages." + stage + ".cache_dir=" + (s.root / "cache").string());
  }
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::map<ResultKey, double> results_of(const fs::path& run_dir) {
  const auto store = pipeline::ResultsStore::open(run_dir / "results.sqlite");
  std::map<ResultKey, double> out;
  for (const auto& r : store->results()) {
    out[{r.arm, r.seed, r.stage, r.task, r.language, r.split, r.metric}] = r.value;
  }
  return out;
}

}  // namespace stilts::testing
