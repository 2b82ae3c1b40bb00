// The experiment config (TOML -> typed, layered, validated) and the stage graph's keys and sharing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "common/error.h"
#include "common/files.h"
#include "pipeline/experiment_config.h"
#include "pipeline/stage_graph.h"
#include "support/fixtures.h"

namespace stilts {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using pipeline::ExperimentConfig;

const char* kConfig = R"([experiment]
name = "pawsx-tiny"
seeds = [1, 2]
languages = ["en", "de", "fr"]
train_language = "en"

[model]
path = "models/tiny"

[tasks.mnli]
kind = "pair-classification"
format = "glue-mnli"
train = "data/MNLI/train.tsv"
dev = "data/MNLI/dev_matched.tsv"

[tasks.pawsx]
kind = "pair-classification"
format = "pawsx"
train = "data/paws-x/{lang}/train.tsv"
dev = "data/paws-x/{lang}/dev_2k.tsv"
test = "data/paws-x/{lang}/test_2k.tsv"

[stages.intermediate]
task = "mnli"
epochs = 2
lr = 2e-5
batch_size = 32
max_length = 128

[stages.target]
task = "pawsx"
epochs = 5
lr = 3e-5
batch_size = 16
max_length = 128
head = "reinit"

[arms]
direct = ["target"]
intermediate = ["intermediate", "target"]
)";

struct Files {
  fs::path root, config;
};

// The config file plus the files it names (a model folder, data files), under a temp dir.
Files write_study(const std::string& text = kConfig) {
  Files f;
  f.root = testing::make_temp_dir();
  f.config = f.root / "experiment.toml";
  write_file_atomic(f.config, text);
  fs::create_directories(f.root / "models" / "tiny");
  write_file_atomic(f.root / "models" / "tiny" / "config.json", "{}\n");
  fs::create_directories(f.root / "data" / "MNLI");
  write_file_atomic(f.root / "data" / "MNLI" / "train.tsv", "mnli train\n");
  write_file_atomic(f.root / "data" / "MNLI" / "dev_matched.tsv", "mnli dev\n");
  for (const char* l : {"en", "de", "fr"}) {
    const fs::path d = f.root / "data" / "paws-x" / l;
    fs::create_directories(d);
    write_file_atomic(d / "train.tsv", std::string("train ") + l + "\n");
    write_file_atomic(d / "dev_2k.tsv", std::string("dev ") + l + "\n");
    write_file_atomic(d / "test_2k.tsv", std::string("test ") + l + "\n");
  }
  return f;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ExperimentConfig, ParsesTypedWithPathsAgainstTheFilesFolder) {
  const Files f = write_study();
  const ExperimentConfig c = pipeline::load_experiment(f.config);
  EXPECT_EQ(c.name, "pawsx-tiny");
  EXPECT_EQ(c.seeds, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(c.languages, (std::vector<std::string>{"en", "de", "fr"}));
  EXPECT_EQ(c.model_path, (f.root / "models" / "tiny").string());
  ASSERT_EQ(c.arms.size(), 2u);
  EXPECT_EQ(c.arms[1].name, "intermediate");
  ASSERT_EQ(c.arms[1].chains.size(), 1u);
  EXPECT_EQ(c.arms[1].chains[0], (std::vector<std::string>{"intermediate", "target"}));

  // A stage's TrainConfig: the task's kind, format and files ({lang} = train_language), the stage's
  // hyper-parameters, the seed; defaults where neither says.
  const train::TrainConfig t = c.stage_config("target", 2);
  EXPECT_EQ(t.task, "pair-classification");
  EXPECT_EQ(t.format, "pawsx");
  EXPECT_EQ(t.train, (f.root / "data/paws-x/en/train.tsv").string());
  EXPECT_EQ(t.dev, (std::vector<std::string>{(f.root / "data/paws-x/en/dev_2k.tsv").string()}));
  EXPECT_EQ(t.epochs, 5);
  EXPECT_DOUBLE_EQ(t.lr, 3e-5);
  EXPECT_EQ(t.batch_size, 16);
  EXPECT_EQ(t.head, "reinit");
  EXPECT_EQ(t.seed, 2u);
  EXPECT_DOUBLE_EQ(t.weight_decay, 0.01);  // TrainConfig's default

  const auto test_files = c.eval_files(c.tasks.at("pawsx"), "test");
  ASSERT_EQ(test_files.size(), 3u);
  EXPECT_EQ(test_files[1].first, "de");
  EXPECT_EQ(test_files[1].second, (f.root / "data/paws-x/de/test_2k.tsv").string());
  EXPECT_TRUE(c.eval_files(c.tasks.at("mnli"), "test").empty());

  // The resolved config round-trips.
  const ExperimentConfig again = pipeline::parse_experiment(c.to_json(), "resolved");
  EXPECT_EQ(again.to_json(), c.to_json());
}

TEST(ExperimentConfig, SetOverridesTheFileWithDottedKeys) {
  const Files f = write_study();
  const ExperimentConfig c = pipeline::load_experiment(
      f.config, {"stages.target.epochs=1", "stages.target.max_steps=7", "experiment.seeds=[5]",
                 "stages.intermediate.head=reuse", "experiment.name=123", "experiment.languages=[\"de\"]"});
  EXPECT_EQ(c.stage_config("target", 5).epochs, 1);
  EXPECT_EQ(c.stage_config("target", 5).max_steps, 7);
  EXPECT_EQ(c.seeds, (std::vector<int64_t>{5}));
  EXPECT_EQ(c.stage_config("intermediate", 5).head, "reuse");
  EXPECT_EQ(c.name, "123");  // a string key stays a string
  EXPECT_EQ(c.languages, (std::vector<std::string>{"de"}));
}

TEST(ExperimentConfig, UnknownKeysAndBadReferencesAreErrorsNamingThem) {
  const Files f = write_study();
  EXPECT_THAT(error_of([&] { pipeline::load_experiment(f.config, {"stages.target.learning_rate=1"}); }),
              HasSubstr("'stages.target.learning_rate'"));
  EXPECT_THAT(error_of([&] { pipeline::load_experiment(f.config, {"experiment.seed=1"}); }),
              HasSubstr("'experiment.seed'"));
  EXPECT_THAT(error_of([&] { pipeline::load_experiment(f.config, {"tasks.pawsx.dev_file=x"}); }),
              HasSubstr("'tasks.pawsx.dev_file'"));
  EXPECT_THAT(error_of([&] { pipeline::load_experiment(f.config, {"optimizer.lr=1"}); }), HasSubstr("'optimizer'"));
  EXPECT_THAT(error_of([&] { pipeline::load_experiment(f.config, {"arms.extra=[\"target\", \"mlm\"]"}); }),
              HasSubstr("arms.extra names stage 'mlm'"));
  EXPECT_THAT(error_of([&] { pipeline::load_experiment(f.config, {"stages.target.task=qqp"}); }),
              HasSubstr("stages.target.task = 'qqp' names no task"));
  EXPECT_THAT(error_of([&] { pipeline::load_experiment(f.config, {"stages.target.head=keep"}); }),
              HasSubstr("head"));
  EXPECT_THAT(error_of([&] { pipeline::load_experiment(f.config, {"stages.target.lr=fast"}); }),
              HasSubstr("'lr' must be a number"));
  EXPECT_THAT(error_of([&] { pipeline::load_experiment(f.config, {"stages.target.train=x.tsv"}); }),
              HasSubstr("set by the experiment"));
  EXPECT_THAT(error_of([&] { pipeline::load_experiment(f.config, {"stages.target.label_column=y"}); }),
              HasSubstr("belongs in the task"));
  EXPECT_THAT(error_of([&] { pipeline::load_experiment(f.config, {"experiment.seeds=[1, 1]"}); }),
              HasSubstr("listed twice"));
  EXPECT_THAT(error_of([&] { pipeline::load_experiment(f.config, {"experiment.languages=[]"}); }),
              HasSubstr("{lang}"));
  EXPECT_THAT(error_of([&] { pipeline::load_experiment(f.config, {"stages=1"}); }), HasSubstr("dotted key"));
  EXPECT_THAT(error_of([&] { pipeline::parse_experiment({{"stages", 1}}, "x.toml"); }),
              HasSubstr("x.toml: key 'stages' must be a table"));
}

TEST(StageGraph, SharedPrefixesShareStagesAndKeysFollowTheirInputs) {
  const Files f = write_study();
  // A third arm continuing from the same intermediate stage into another target.
  const std::vector<std::string> more = {"stages.target2.task=pawsx", "stages.target2.epochs=1",
                                         "arms.intermediate2=[\"intermediate\", \"target2\"]"};
  const ExperimentConfig c = pipeline::load_experiment(f.config, more);
  const pipeline::StageGraph g = pipeline::build_stage_graph(c);
  // Per seed: target (direct), intermediate (shared by two arms), target after it, target2 after it.
  ASSERT_EQ(g.chains.size(), 6u);
  ASSERT_EQ(g.nodes.size(), 8u);
  std::map<std::string, int> by_name;
  for (const auto& n : g.nodes) ++by_name[n.name];
  EXPECT_EQ(by_name["intermediate"], 2);
  EXPECT_EQ(by_name["target"], 4);
  EXPECT_EQ(by_name["target2"], 2);
  for (const auto& n : g.nodes) {
    if (n.name == "intermediate") {
      EXPECT_EQ(n.arms, (std::vector<std::string>{"intermediate", "intermediate2"}));
      EXPECT_EQ(n.arm, "intermediate");
      EXPECT_FALSE(n.evaluated);
      EXPECT_TRUE(n.upstream.empty());
    } else {
      EXPECT_TRUE(n.evaluated);
    }
  }
  // Chains of one seed start from the same intermediate key; a downstream stage names it upstream.
  std::map<std::pair<std::string, int64_t>, std::vector<std::string>> chains;
  for (const auto& ch : g.chains) chains[{ch.arm, ch.seed}] = ch.keys;
  const auto chain = [&](const std::string& arm, int64_t seed) { return chains.at({arm, seed}); };
  EXPECT_EQ(chain("intermediate", 1)[0], chain("intermediate2", 1)[0]);
  EXPECT_NE(chain("intermediate", 1)[0], chain("intermediate", 2)[0]);
  EXPECT_EQ(g.node(chain("intermediate", 1)[1]).upstream, chain("intermediate", 1)[0]);
  EXPECT_NE(chain("direct", 1)[0], chain("intermediate", 1)[1]);  // same stage, other upstream

  // Keys are stable, and change with what determines the stage.
  const auto key = [&](const std::vector<std::string>& settings, const std::string& arm, size_t i) {
    std::vector<std::string> all = more;
    all.insert(all.end(), settings.begin(), settings.end());
    const auto graph = pipeline::build_stage_graph(pipeline::load_experiment(f.config, all));
    for (const auto& ch : graph.chains) {
      if (ch.arm == arm && ch.seed == 1) return ch.keys[i];
    }
    return std::string();
  };
  const std::string inter = key({}, "intermediate", 0), target = key({}, "intermediate", 1);
  EXPECT_EQ(key({}, "intermediate", 0), inter);
  EXPECT_EQ(key({"stages.target.lr=1e-4"}, "intermediate", 0), inter);  // downstream change: cached
  EXPECT_NE(key({"stages.target.lr=1e-4"}, "intermediate", 1), target);
  EXPECT_NE(key({"stages.intermediate.lr=1e-4"}, "intermediate", 0), inter);
  EXPECT_NE(key({"stages.intermediate.lr=1e-4"}, "intermediate", 1), target);  // upstream change propagates
  EXPECT_EQ(key({"stages.intermediate.log_every=7"}, "intermediate", 0), inter);  // doesn't change results
  write_file_atomic(f.root / "data" / "MNLI" / "train.tsv", "other mnli train\n");
  EXPECT_NE(key({}, "intermediate", 0), inter);  // data content
  EXPECT_NE(key({}, "intermediate", 1), target);
  EXPECT_EQ(key({}, "direct", 0), chain("direct", 1)[0]);  // the direct arm doesn't read MNLI
  write_file_atomic(f.root / "models" / "tiny" / "config.json", "{\"changed\": true}\n");
  EXPECT_NE(key({}, "direct", 0), chain("direct", 1)[0]);  // the base model
}

// A benchmark-shaped study: arms with several chains, an evaluation-only task (no train file) after a
// shared training stage, a task with its own languages and a folder read once per language.
const char* kBenchmark = R"([experiment]
name = "bench-tiny"
seeds = [1]
languages = ["en", "de", "fr"]
train_language = "en"

[model]
path = "models/tiny"

[tasks.mnli]
kind = "pair-classification"
format = "glue-mnli"
train = "data/MNLI/train.tsv"
dev = "data/MNLI/dev_matched.tsv"

[tasks.pawsx]
kind = "pair-classification"
format = "pawsx"
train = "data/paws-x/{lang}/train.tsv"
test = "data/paws-x/{lang}/test_2k.tsv"
languages = ["de"]

[tasks.probe]
kind = "sentence-retrieval"
format = "tatoeba"
test = "data/probe/"
languages = ["de", "fr"]

[stages.mnli]
task = "mnli"
epochs = 1

[stages.pawsx]
task = "pawsx"
epochs = 1

[stages.probe]
task = "probe"
layer = 1

[arms]
direct = [["pawsx"], ["mnli", "probe"]]
intermediate = [["mnli", "pawsx"], ["mnli", "probe"]]
)";

TEST(ExperimentConfig, ArmsWithSeveralChainsAndEvaluationOnlyTasks) {
  const Files f = write_study(kBenchmark);
  fs::create_directories(f.root / "data" / "probe");
  write_file_atomic(f.root / "data" / "probe" / "tatoeba.deu-eng.deu", "x\n");
  const ExperimentConfig c = pipeline::load_experiment(f.config);
  ASSERT_EQ(c.arms.size(), 2u);
  EXPECT_EQ(c.arms[0].name, "direct");
  EXPECT_EQ(c.arms[0].chains, (std::vector<std::vector<std::string>>{{"pawsx"}, {"mnli", "probe"}}));
  EXPECT_TRUE(c.evaluation_only("probe"));
  EXPECT_FALSE(c.evaluation_only("mnli"));
  // The task's own languages; a folder path is read once per language.
  const auto pawsx = c.eval_files(c.tasks.at("pawsx"), "test");
  ASSERT_EQ(pawsx.size(), 1u);
  EXPECT_EQ(pawsx[0].first, "de");
  const auto probe = c.eval_files(c.tasks.at("probe"), "test");
  ASSERT_EQ(probe.size(), 2u);
  EXPECT_EQ(probe[1].first, "fr");
  EXPECT_EQ(probe[1].second, (f.root / "data" / "probe").string() + "/");
  // The JSON form keeps the chains and the task's languages, and parses back to the same config.
  const nlohmann::json j = c.to_json();
  EXPECT_EQ(j.at("arms").at("direct"), nlohmann::json::parse(R"([["pawsx"], ["mnli", "probe"]])"));
  EXPECT_EQ(j.at("tasks").at("probe").at("languages"), nlohmann::json::parse(R"(["de", "fr"])"));
  EXPECT_EQ(pipeline::parse_experiment(j, "again").to_json(), j);
  // One chain is still written as a plain list.
  EXPECT_EQ(pipeline::load_experiment(f.config, {"arms.direct=[\"pawsx\"]"}).to_json().at("arms").at("direct"),
            nlohmann::json::parse(R"(["pawsx"])"));

  // The stage graph: mnli trained once per seed for three chains; the evaluation-only stage makes no
  // model and its key follows the data it evaluates.
  const pipeline::StageGraph g = pipeline::build_stage_graph(c);
  ASSERT_EQ(g.chains.size(), 4u);
  std::map<std::string, int> by_name;
  for (const auto& n : g.nodes) ++by_name[n.name];
  EXPECT_EQ(by_name, (std::map<std::string, int>{{"mnli", 1}, {"pawsx", 2}, {"probe", 1}}));
  for (const auto& n : g.nodes) {
    EXPECT_EQ(n.evaluation_only, n.name == "probe") << n.name;
    EXPECT_EQ(n.evaluated, n.name != "mnli") << n.name;
    if (n.name == "probe") {
      EXPECT_EQ(g.node(n.upstream).name, "mnli");
      EXPECT_EQ(n.arms, (std::vector<std::string>{"direct", "intermediate"}));
      EXPECT_TRUE(n.config.dev.empty());
    }
  }
  const auto probe_key = [&] {
    for (const auto& n : pipeline::build_stage_graph(pipeline::load_experiment(f.config)).nodes) {
      if (n.name == "probe") return n.key;
    }
    return std::string();
  };
  const std::string before = probe_key();
  EXPECT_EQ(probe_key(), before);
  write_file_atomic(f.root / "data" / "probe" / "tatoeba.deu-eng.eng", "y\n");
  EXPECT_NE(probe_key(), before);
}

TEST(ExperimentConfig, ChainsAndEvaluationOnlyStagesAreChecked) {
  const Files f = write_study(kBenchmark);
  EXPECT_THAT(error_of([&] { pipeline::load_experiment(f.config, {"arms.direct=[[\"probe\", \"pawsx\"]]"}); }),
              HasSubstr("continues after stage 'probe', which only evaluates"));
  EXPECT_THAT(error_of([&] {
                pipeline::load_experiment(f.config, {"arms.direct=[[\"pawsx\"], [\"mnli\", \"pawsx\"]]"});
              }),
              HasSubstr("arms.direct has two chains ending in stage 'pawsx'"));
  EXPECT_THAT(error_of([&] { pipeline::load_experiment(f.config, {"arms.direct=[[\"pawsx\"], []]"}); }),
              HasSubstr("arms.direct[1] lists no stages"));
  EXPECT_THAT(error_of([&] { pipeline::load_experiment(f.config, {"arms.direct=[[\"pawsx\"], \"mnli\"]"}); }),
              HasSubstr("key 'arms.direct' must be a list of stage names or a list of such lists"));
  EXPECT_THAT(error_of([&] { pipeline::load_experiment(f.config, {"tasks.probe.test=[]"}); }),
              HasSubstr("tasks.probe has no train, dev or test file"));
  EXPECT_THAT(error_of([&] { pipeline::load_experiment(f.config, {"tasks.probe.languages=[\"de\", \"de\"]"}); }),
              HasSubstr("tasks.probe.languages: 'de' is listed twice"));
  EXPECT_THAT(error_of([&] { pipeline::load_experiment(f.config, {"tasks.probe.languages=[\"de\", \"\"]"}); }),
              HasSubstr("tasks.probe.languages: an empty language"));
  // The experiment's list is checked by the same rule, the error naming its own key.
  EXPECT_THAT(error_of([&] { pipeline::load_experiment(f.config, {"experiment.languages=[\"fr\", \"en\", \"fr\"]"}); }),
              HasSubstr("experiment.languages: 'fr' is listed twice"));
  EXPECT_THAT(error_of([&] {
                pipeline::load_experiment(f.config, {"experiment.languages=[]", "tasks.probe.languages=[]",
                                                     "tasks.pawsx.languages=[\"de\"]"});
              }),
              HasSubstr("'" + (f.root / "data" / "probe").string() + "/' is read per language"));
}

}  // namespace
}  // namespace stilts
