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
  EXPECT_EQ(c.arms[1].first, "intermediate");
  EXPECT_EQ(c.arms[1].second, (std::vector<std::string>{"intermediate", "target"}));

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

}  // namespace
}  // namespace stilts
