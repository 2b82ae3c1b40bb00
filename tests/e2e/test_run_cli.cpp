// stilts run as a process: a two-arm (direct, intermediate -> target), two-seed, three-language study
// with a tiny model on data written here (PAWS-X layout target, GLUE SST-2 intermediate), SIGKILLed in
// the middle of a target stage and run again, ends with the same results table as an uninterrupted
// run, with the intermediate stage trained exactly once per seed; --dry-run lists the graph.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <thread>
#include <tuple>

#include "common/files.h"
#include "models/pretrained.h"
#include "models/registry.h"
#include "pipeline/results_store.h"
#include "support/fixtures.h"
#include "support/run.h"
#include "support/torch/tiny_models.h"
#include "support/torch/tiny_study.h"
#include "train/checkpoint.h"


namespace stilts {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::run_stilts;

using testing::kTinyWords;
using testing::tiny_sst2_tsv;
using testing::tiny_words;
const std::vector<std::string> kLanguages = {"en", "de", "fr"};

// PAWS-X layout: id, sentence1, sentence2, label; 1 when the second sentence holds "yes".
std::string pawsx_tsv(int rows, unsigned seed) {
  std::mt19937 rng(seed);
  std::string tsv = "id\tsentence1\tsentence2\tlabel\n";
  for (int i = 0; i < rows; ++i) {
    const bool positive = rng() % 2;
    const std::string b =
        tiny_words(rng, 1 + rng() % 3) + (positive ? " yes " : " no ") + tiny_words(rng, 1 + rng() % 3);
    tsv += std::to_string(i + 1) + "\t" + tiny_words(rng, 2 + rng() % 4) + "\t" + b + "\t" + (positive ? "1" : "0") + "\n";
  }
  return tsv;
}

const char* kExperiment = R"([experiment]
name = "tiny-pawsx"
seeds = [1, 2]
languages = ["en", "de", "fr"]
train_language = "en"

[model]
path = "model"

[tasks.sst]
kind = "classification"
format = "glue-sst2"
train = "data/SST-2/train.tsv"
dev = "data/SST-2/dev.tsv"

[tasks.pawsx]
kind = "pair-classification"
format = "pawsx"
train = "data/paws-x/{lang}/train.tsv"
dev = "data/paws-x/{lang}/dev_2k.tsv"
test = "data/paws-x/{lang}/test_2k.tsv"

[stages.intermediate]
task = "sst"
max_steps = 12
lr = 1e-3
batch_size = 8
max_length = 32
eval_every = 6

[stages.target]
task = "pawsx"
max_steps = 40
lr = 3e-3
batch_size = 8
max_length = 32
eval_every = 10
checkpoint_every = 2
warmup_ratio = 0.1
final_model = "last"
head = "reinit"

[arms]
direct = ["target"]
intermediate = ["intermediate", "target"]

[bench]
batch_sizes = [1, 4]
max_examples = 12
min_time_s = 0.02
min_repetitions = 3
)";

struct Study {
  fs::path root, config;
};

Study make_study() {
  Study s;
  s.root = testing::make_temp_dir();
  testing::make_tiny_bert(s.root / "model", {kTinyWords});
  unsigned seed = 10;
  for (const auto& language : kLanguages) {
    const fs::path dir = s.root / "data" / "paws-x" / language;
    fs::create_directories(dir);
    if (language == "en") write_file_atomic(dir / "train.tsv", pawsx_tsv(200, seed++));
    write_file_atomic(dir / "dev_2k.tsv", pawsx_tsv(40, seed++));
    write_file_atomic(dir / "test_2k.tsv", pawsx_tsv(40, seed++));
  }
  fs::create_directories(s.root / "data" / "SST-2");
  write_file_atomic(s.root / "data" / "SST-2" / "train.tsv", tiny_sst2_tsv(160, 1));
  write_file_atomic(s.root / "data" / "SST-2" / "dev.tsv", tiny_sst2_tsv(40, 2));
  s.config = s.root / "experiment.toml";
  write_file_atomic(s.config, kExperiment);
  return s;
}

std::vector<std::string> run_args(const Study& s, const fs::path& out, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"run", s.config.string(), "--out", out.string(),
                                   "--set", "stages.target.cache_dir=" + (s.root / "cache").string(),
                                   "--set", "stages.intermediate.cache_dir=" + (s.root / "cache").string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}


using Row = std::tuple<std::string, int64_t, std::string, std::string, std::string, std::string, std::string>;

std::map<Row, double> results_of(const fs::path& run_dir) {
  const auto store = pipeline::ResultsStore::open(run_dir / "results.sqlite");
  std::map<Row, double> out;
  for (const auto& r : store->results()) {
    out[{r.arm, r.seed, r.stage, r.task, r.language, r.split, r.metric}] = r.value;
  }
  return out;
}

int count_matches(const std::string& text, const std::regex& re) {
  return static_cast<int>(std::distance(std::sregex_iterator(text.begin(), text.end(), re), std::sregex_iterator()));
}

TEST(RunCli, KilledInTheTargetStageAndRerunMatchesAnUninterruptedRun) {
  const Study s = make_study();
  const fs::path a = s.root / "uninterrupted", b = s.root / "killed";

  // The graph before anything ran: 2 seeds x (direct target, intermediate, target after intermediate).
  const auto dry = run_stilts(run_args(s, a, {"--dry-run"}));
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_THAT(dry.out, HasSubstr("6 of 6 stages to run, 0 cached"));
  EXPECT_EQ(count_matches(dry.out, std::regex(R"(\n  run\t\w+  intermediate  seed)")), 2) << dry.out;
  EXPECT_THAT(dry.out, HasSubstr("arm intermediate seed 2: intermediate["));
  EXPECT_FALSE(fs::exists(a)) << "--dry-run must not create the run directory";

  const auto ra = run_stilts(run_args(s, a));
  ASSERT_EQ(ra.exit_code, 0) << ra.err;
  const auto results_a = results_of(a);
  // 2 arms x 2 seeds x 3 languages x {dev, test} x {accuracy, macro_f1}.
  ASSERT_EQ(results_a.size(), 48u) << ra.err;
  std::set<std::string> languages;
  for (const auto& [row, value] : results_a) {
    languages.insert(std::get<4>(row));
    EXPECT_EQ(std::get<2>(row), "target");
    EXPECT_EQ(std::get<3>(row), "pawsx");
    EXPECT_TRUE(std::isfinite(value));
  }
  EXPECT_EQ(languages, std::set<std::string>(kLanguages.begin(), kLanguages.end()));

  // Killed while a target stage after the intermediate stage is between checkpoints, then rerun.
  const fs::path log = s.root / "killed.log";
  const pid_t pid = testing::spawn_stilts(run_args(s, b), log);
  const int64_t killed_at = testing::kill_after_downstream_checkpoint(pid, b, 4);
  ASSERT_GE(killed_at, 4) << "the run ended or stalled before it could be killed in a target stage\n"
                          << read_file(log);
  ASSERT_LT(killed_at, 40);
  std::cout << "killed after the target stage's checkpoint at step " << killed_at << " of 40\n";

  const auto dry_b = run_stilts(run_args(s, b, {"--dry-run"}));
  ASSERT_EQ(dry_b.exit_code, 0) << dry_b.err;
  EXPECT_THAT(dry_b.out, HasSubstr("resume\t"));
  EXPECT_THAT(dry_b.out, HasSubstr("cached\t"));

  const auto rb = run_stilts(run_args(s, b));
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  EXPECT_THAT(rb.err, HasSubstr("resuming from"));
  const auto results_b = results_of(b);
  ASSERT_EQ(results_b.size(), results_a.size());
  for (const auto& [row, value] : results_a) {
    ASSERT_TRUE(results_b.count(row)) << std::get<0>(row) << " " << std::get<4>(row);
    EXPECT_EQ(value, results_b.at(row)) << std::get<0>(row) << " seed " << std::get<1>(row) << " "
                                        << std::get<4>(row) << " " << std::get<5>(row) << " " << std::get<6>(row);
  }

  // The intermediate stage: trained exactly once per seed across the killed run and the rerun, one
  // row each in the stages table, one directory each; 2 seeds x 3 distinct stages in all.
  const std::string both_logs = read_file(log) + rb.err;
  EXPECT_EQ(count_matches(both_logs, std::regex(R"(\] intermediate \(task sst, seed \d+[^\n]*: (training|resuming)\n)")),
            2)
      << both_logs;
  EXPECT_EQ(count_matches(rb.err, std::regex(R"(\] intermediate \(task sst, seed 1[^\n]*: cached\n)")), 1) << rb.err;
  const auto store = pipeline::ResultsStore::open(b / "results.sqlite");
  const auto stages = store->stages();
  EXPECT_EQ(stages.size(), 6u);
  std::set<int64_t> intermediate_seeds;
  for (const auto& st : stages) {
    EXPECT_EQ(st.status, "done") << st.name << " seed " << st.seed;
    if (st.name == "intermediate") {
      EXPECT_TRUE(intermediate_seeds.insert(st.seed).second) << "seed " << st.seed << " twice";
      EXPECT_EQ(st.arm, "intermediate");
    }
  }
  EXPECT_EQ(intermediate_seeds, (std::set<int64_t>{1, 2}));
  int stage_dirs = 0, intermediate_dirs = 0;
  for (const auto& entry : fs::directory_iterator(b / "stages")) {
    ++stage_dirs;
    if (read_json_file(entry.path() / "stage.json").at("name") == "intermediate") ++intermediate_dirs;
  }
  EXPECT_EQ(stage_dirs, 6);
  EXPECT_EQ(intermediate_dirs, 2);
  // The same stage keys in both run directories, and the resolved config written.
  std::set<std::string> keys_a, keys_b;
  for (const auto& e : fs::directory_iterator(a / "stages")) keys_a.insert(e.path().filename().string());
  for (const auto& e : fs::directory_iterator(b / "stages")) keys_b.insert(e.path().filename().string());
  EXPECT_EQ(keys_a, keys_b);
  for (const auto& key : keys_a) {  // every stage's final weights bit-identical, the resumed one included
    EXPECT_TRUE(read_file(a / "stages" / key / "model.safetensors") == read_file(b / "stages" / key / "model.safetensors"))
        << key;
  }
  EXPECT_TRUE(fs::exists(b / "experiment.resolved.json"));

  // A third run: everything cached, nothing trained, results unchanged.
  const auto rc = run_stilts(run_args(s, b));
  ASSERT_EQ(rc.exit_code, 0) << rc.err;
  EXPECT_THAT(rc.err, HasSubstr("0 to run, 6 cached"));
  EXPECT_EQ(results_of(b), results_a);

  // The tables beside results: chains, curves, per-example predictions, training cost.
  const auto chains = store->arm_stages();
  EXPECT_EQ(chains.size(), 2u * (1 + 2));  // 2 seeds x (direct: target; intermediate: intermediate, target)
  const auto curves = store->curves();
  std::set<std::string> curve_stages;
  for (const auto& c : curves) curve_stages.insert(c.hash);
  EXPECT_EQ(curve_stages, keys_a);
  const auto predictions = store->predictions();
  EXPECT_EQ(predictions.size(), 2u * 2 * 3 * 2 * 40);  // arms x seeds x languages x splits x examples
  // Accuracy recomputed from the stored predictions is the stored accuracy.
  std::map<Row, std::pair<int, int>> correct;
  for (const auto& p : predictions) {
    auto& c = correct[{p.arm, p.seed, p.stage, p.task, p.language, p.split, "accuracy"}];
    c.first += p.gold == p.prediction;
    ++c.second;
  }
  for (const auto& [row, c] : correct) {
    ASSERT_TRUE(results_a.count(row));
    EXPECT_DOUBLE_EQ(results_a.at(row), static_cast<double>(c.first) / c.second);
  }
  const auto stages_a = pipeline::ResultsStore::open(a / "results.sqlite")->stages();
  for (const auto& st : store->stages()) {
    if (st.name == "target") {
      EXPECT_EQ(st.steps, 40);
      EXPECT_EQ(st.examples, 40 * 8) << "200 rows in batches of 8: every batch full";
    }
    EXPECT_GT(st.tokens, st.examples);
    EXPECT_GT(st.cpu_s, 0.0);
    EXPECT_GT(st.wall_s, 0.0);
    for (const auto& sa : stages_a) {  // the killed-and-resumed run did the same counted work
      if (sa.hash == st.hash) {
        EXPECT_EQ(sa.tokens, st.tokens) << st.name;
      }
    }
  }
  // Efficiency: each arm's final model per seed, per language and batch size, and per model.
  EXPECT_THAT(rc.err, HasSubstr("measured before"));
  std::map<std::tuple<std::string, int64_t, int64_t, std::string>, double> p50;
  std::map<std::pair<std::string, int64_t>, double> params;
  for (const auto& e : store->efficiency()) {
    if (e.metric == "latency_ms_p50") p50[{e.arm, e.seed, e.batch_size, e.language}] = e.value;
    if (e.metric == "params_total") params[{e.arm, e.seed}] = e.value;
    EXPECT_TRUE(keys_a.count(e.model)) << e.model;
  }
  EXPECT_EQ(p50.size(), 2u * 2 * 2 * 3);  // arms x seeds x batch sizes x languages
  for (const auto& [key, ms] : p50) EXPECT_GT(ms, 0.0);
  ASSERT_EQ(params.size(), 4u);
  EXPECT_EQ((params[{"direct", 1}]), (params[{"intermediate", 1}]));  // same architecture and head
  EXPECT_FALSE(store->latency_samples().empty());
  EXPECT_TRUE(store->meta("fingerprint").has_value());
  for (const auto& st : store->stages()) {
    EXPECT_GT(st.flops, 0.0) << st.name;  // analytic training FLOPs from the stage's batch shapes
  }
  // Another hyper-parameter for the target: the intermediate stages stay cached.
  const auto changed = run_stilts(run_args(s, b, {"--dry-run", "--set", "stages.target.lr=2e-3"}));
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  EXPECT_THAT(changed.out, HasSubstr("4 of 6 stages to run, 2 cached"));
}

TEST(RunCli, InLanguageTrainsTheTargetOncePerLanguageAndSharesTheIntermediateStage) {
  const Study s = make_study();
  unsigned seed = 100;
  for (const auto& language : kLanguages) {
    const fs::path dir = s.root / "data" / "paws-x" / language;
    write_file_atomic(dir / "train.tsv", pawsx_tsv(48, seed++));
    write_file_atomic(dir / "translated_train.tsv", pawsx_tsv(48, seed++));
  }
  const std::vector<std::string> small = {"--set", "experiment.seeds=[1]", "--set", "stages.target.max_steps=4",
                                          "--set", "stages.intermediate.max_steps=4"};
  auto args = [&](const fs::path& out, const std::string& transfer, std::vector<std::string> extra = {}) {
    auto a = run_args(s, out, small);
    a.insert(a.end(), {"--set", "experiment.transfer=" + transfer});
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  const fs::path out = s.root / "in-language";
  const auto dry = run_stilts(args(out, "in-language", {"--dry-run"}));
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  // 1 intermediate + 3 direct targets + 3 targets after the intermediate stage.
  EXPECT_THAT(dry.out, HasSubstr("7 of 7 stages to run"));
  const auto r = run_stilts(args(out, "in-language"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto results = results_of(out);
  EXPECT_EQ(results.size(), 2u * 3 * 2 * 2) << r.err;  // arms x languages x splits x metrics
  const auto store = pipeline::ResultsStore::open(out / "results.sqlite");
  std::map<std::string, std::set<std::string>> target_languages;  // arm -> languages of its chains
  std::set<std::string> intermediate_hashes;
  for (const auto& c : store->arm_stages()) {
    if (c.stage == "target") target_languages[c.arm].insert(c.language);
    if (c.stage == "intermediate") intermediate_hashes.insert(c.hash);
  }
  const std::set<std::string> all(kLanguages.begin(), kLanguages.end());
  EXPECT_EQ(target_languages["direct"], all);
  EXPECT_EQ(target_languages["intermediate"], all);
  EXPECT_EQ(intermediate_hashes.size(), 1u);
  for (const auto& st : store->stages()) {
    if (st.name != "target") continue;
    const auto config = read_json_file(out / "stages" / st.hash / "config.resolved.json");
    EXPECT_THAT(config.at("train").get<std::string>(), HasSubstr("/train.tsv"));
  }

  // translate-train reads the translated files for every language but train_language, and needs the pattern.
  const auto missing = run_stilts(args(s.root / "tt-missing", "translate-train", {"--dry-run"}));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("tasks.pawsx.translate_train"));
  const fs::path tt = s.root / "translate-train";
  const auto rt = run_stilts(args(tt, "translate-train",
                                  {"--set", "tasks.pawsx.translate_train=" +
                                                (s.root / "data" / "paws-x" / "{lang}" / "translated_train.tsv").string()}));
  ASSERT_EQ(rt.exit_code, 0) << rt.err;
  std::map<std::string, std::string> train_of;
  for (const auto& st : pipeline::ResultsStore::open(tt / "results.sqlite")->arm_stages()) {
    if (st.stage != "target") continue;
    train_of[st.language] = read_json_file(tt / "stages" / st.hash / "config.resolved.json").at("train");
  }
  ASSERT_EQ(train_of.size(), 3u);
  EXPECT_THAT(train_of["en"], HasSubstr("/en/train.tsv"));
  EXPECT_THAT(train_of["de"], HasSubstr("/de/translated_train.tsv"));
}

TEST(RunCli, AMaskedLMStageAdaptsTheEncoderBeforeTheTarget) {
  const Study s = make_study();
  std::string text;
  for (int i = 0; i < 64; ++i) text += "the cat sleeps yes the dog runs no\n";
  write_file_atomic(s.root / "data" / "domain.txt", text);
  const fs::path out = s.root / "adapted";
  const auto r = run_stilts(run_args(s, out, {"--set", "experiment.seeds=[1]", "--set", "stages.target.max_steps=4",
                                              "--set", "tasks.domain.kind=mlm", "--set", "tasks.domain.format=text",
                                              "--set", "tasks.domain.train=" + (s.root / "data" / "domain.txt").string(),
                                              "--set", "stages.adapt.task=domain", "--set", "stages.adapt.max_steps=3",
                                              "--set", "stages.adapt.batch_size=8", "--set", "stages.adapt.lr=1e-3",
                                              "--set", "stages.adapt.cache_dir=" + (s.root / "cache").string(),
                                              "--set", "arms.adapted=[\"adapt\", \"target\"]"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto store = pipeline::ResultsStore::open(out / "results.sqlite");
  std::string adapt_hash;
  for (const auto& c : store->arm_stages()) {
    if (c.arm == "adapted" && c.position == 0) adapt_hash = c.hash;
  }
  ASSERT_FALSE(adapt_hash.empty());
  const auto metrics = read_json_file(out / "stages" / adapt_hash / "metrics.json");
  EXPECT_EQ(metrics.at("steps"), 3);
  EXPECT_EQ(read_json_file(out / "stages" / adapt_hash / "config.json").at("architectures")[0], "BertForMaskedLM");
  std::set<std::string> arms;
  for (const auto& row : store->results()) arms.insert(row.arm);
  EXPECT_EQ(arms, (std::set<std::string>{"adapted", "direct", "intermediate"}));
  for (const auto& st : store->stages()) {
    if (st.hash == adapt_hash) {
      EXPECT_EQ(st.examples, 3 * 8);
    }
  }

  // An arm cannot end in a masked-LM stage.
  const auto bad = run_stilts(run_args(s, s.root / "bad", {"--dry-run", "--set", "tasks.domain.kind=mlm", "--set",
                                                           "tasks.domain.format=text", "--set",
                                                           "tasks.domain.train=" + (s.root / "data" / "domain.txt").string(),
                                                           "--set", "stages.adapt.task=domain", "--set",
                                                           "arms.adapted=[\"adapt\"]"}));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("arms.adapted ends in stage 'adapt', a masked-LM stage"));
}

// Arms with several chains: an evaluation-only stage after each arm's target evaluates that target's
// model (no training, no model of its own), so its figures equal the target's own on the same file.
TEST(RunCli, EvaluationOnlyStagesEndExtraChainsOfAnArm) {
  const Study s = make_study();
  const fs::path out = s.root / "probed";
  const std::vector<std::string> extra = {
      "--set", "experiment.seeds=[1]", "--set", "stages.target.max_steps=6", "--set", "stages.intermediate.max_steps=4",
      "--set", "tasks.probe.kind=pair-classification", "--set", "tasks.probe.format=pawsx",
      "--set", "tasks.probe.dev=" + (s.root / "data" / "paws-x" / "{lang}" / "dev_2k.tsv").string(),
      "--set", "tasks.probe.languages=[\"de\"]", "--set", "stages.probe.task=probe",
      "--set", "stages.probe.max_length=32",
      "--set", "arms.direct=[[\"target\"], [\"target\", \"probe\"]]",
      "--set", "arms.intermediate=[[\"intermediate\", \"target\"], [\"intermediate\", \"target\", \"probe\"]]"};
  const auto dry = run_stilts(run_args(s, out, extra));
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  const auto dry_run = run_stilts(run_args(s, out, [&] {
    auto e = extra;
    e.push_back("--dry-run");
    return e;
  }()));
  ASSERT_EQ(dry_run.exit_code, 0) << dry_run.err;
  EXPECT_THAT(dry_run.out, HasSubstr("0 of 5 stages to run, 5 cached"));  // target x2, intermediate, probe x2
  EXPECT_THAT(dry_run.out, HasSubstr("(2 arms with 4 chains x 1 seeds)"));
  EXPECT_EQ(count_matches(dry_run.out, std::regex(R"(probe  seed 1  task probe  evaluation only)")), 2) << dry_run.out;

  const auto results = results_of(out);
  const auto store = pipeline::ResultsStore::open(out / "results.sqlite");
  std::map<std::string, std::string> probe_hash, target_hash;  // arm -> stage key
  for (const auto& c : store->arm_stages()) {
    if (c.stage == "probe") probe_hash[c.arm] = c.hash;
    if (c.stage == "target") target_hash[c.arm] = c.hash;
  }
  ASSERT_EQ(probe_hash.size(), 2u);
  for (const std::string arm : {"direct", "intermediate"}) {
    SCOPED_TRACE(arm);
    const fs::path dir = out / "stages" / probe_hash[arm];
    EXPECT_TRUE(fs::exists(dir / "stage.json"));
    EXPECT_TRUE(fs::exists(dir / "eval.json"));
    EXPECT_FALSE(fs::exists(dir / "model.safetensors"));
    EXPECT_EQ(read_json_file(dir / "stage.json").at("upstream"), target_hash[arm]);
    // Only its own language and split; the same figures as the target's evaluation of that file.
    int rows = 0;
    for (const auto& [row, value] : results) {
      if (std::get<0>(row) != arm || std::get<2>(row) != "probe") continue;
      ++rows;
      EXPECT_EQ(std::get<3>(row), "probe");
      EXPECT_EQ(std::get<4>(row), "de");
      EXPECT_EQ(std::get<5>(row), "dev");
      const Row same{arm, 1, "target", "pawsx", "de", "dev", std::get<6>(row)};
      ASSERT_TRUE(results.count(same));
      EXPECT_EQ(value, results.at(same)) << std::get<6>(row);
    }
    EXPECT_EQ(rows, 2);  // accuracy, macro_f1
  }
  // Each chain records its target; the shared intermediate stage costs the arm once.
  std::map<std::string, int> chains_of_target;
  for (const auto& c : store->arm_stages()) {
    if (c.arm == "intermediate" && c.position == 0) ++chains_of_target[c.target];
  }
  EXPECT_EQ(chains_of_target, (std::map<std::string, int>{{"probe", 1}, {"target", 1}}));
  // The benchmark measures each target's models interleaved, the probe on its own data.
  EXPECT_TRUE(fs::exists(out / "bench" / "seed-1-target.json"));
  EXPECT_TRUE(fs::exists(out / "bench" / "seed-1-probe.json"));
  const auto report = run_stilts({"report", out.string()});
  EXPECT_EQ(report.exit_code, 0) << report.err;
  const auto listed = run_stilts({"results", out.string()});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
}

TEST(RunCli, BadConfigsNameTheKey) {
  const Study s = make_study();
  const auto unknown = run_stilts({"run", s.config.string(), "--set", "stages.target.learning_rate=1", "--dry-run"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("stages.target.learning_rate"));
  const auto arm = run_stilts({"run", s.config.string(), "--set", "arms.broken=[\"missing\"]", "--dry-run"});
  EXPECT_EQ(arm.exit_code, 1);
  EXPECT_THAT(arm.err, HasSubstr("missing"));
}

// The same study shape on the real data in ../shared/fixtures/data: English PAWS-Wiki as training data,
// PAWS-X dev and test in 7 languages, SST-2 as the intermediate task; a tiny random model (the point is
// the data path, not the accuracy).
TEST(RunCli, SharedFixturesStudyInSevenLanguages) {
  STILTS_REQUIRE_SHARED("data/pawsx");
  STILTS_REQUIRE_SHARED("data/paws-wiki");
  STILTS_REQUIRE_SHARED("data/sst2");
  const fs::path root = testing::make_temp_dir();
  testing::make_tiny_bert(root / "model", {kTinyWords});
  const fs::path data = testing::fixtures_dir() / "data";
  const std::string config = std::string(R"([experiment]
name = "pawsx-fixtures"
seeds = [1]
languages = ["en", "de", "es", "fr", "ja", "ko", "zh"]

[model]
path = "model"

[tasks.sst2]
kind = "classification"
format = "glue-sst2"
train = ")") + (data / "sst2" / "train.tsv").string() + R"("
dev = ")" + (data / "sst2" / "dev.tsv").string() + R"("

[tasks.pawsx]
kind = "pair-classification"
format = "pawsx"
train = ")" + (data / "paws-wiki" / "dev.tsv").string() + R"("
dev = ")" + (data / "pawsx").string() + R"(/{lang}/dev_2k.tsv"
test = ")" + (data / "pawsx").string() + R"(/{lang}/test_2k.tsv"

[stages.intermediate]
task = "sst2"
max_steps = 10
batch_size = 16
max_length = 32
eval_batch_size = 256
lr = 1e-3

[stages.target]
task = "pawsx"
max_steps = 10
batch_size = 16
max_length = 32
eval_batch_size = 256
lr = 1e-3
head = "reinit"

[arms]
direct = ["target"]
intermediate = ["intermediate", "target"]
)";
  write_file_atomic(root / "experiment.toml", config);
  const auto r = run_stilts({"run", (root / "experiment.toml").string(), "--out", (root / "run").string(), "--set",
                             "stages.target.cache_dir=" + (root / "cache").string(), "--set",
                             "stages.intermediate.cache_dir=" + (root / "cache").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto results = results_of(root / "run");
  EXPECT_EQ(results.size(), 2u * 7 * 2 * 2) << r.err;  // arms x languages x splits x metrics
  std::set<std::string> languages;
  for (const auto& [row, value] : results) {
    languages.insert(std::get<4>(row));
    if (std::get<6>(row) == "accuracy") {
      EXPECT_GT(value, 0.2);
      EXPECT_LT(value, 0.8);  // a 10-step tiny model is near chance
    }
  }
  EXPECT_EQ(languages.size(), 7u);
  std::string target;
  for (const auto& st : pipeline::ResultsStore::open(root / "run" / "results.sqlite")->stages()) {
    if (st.name == "target") target = st.hash;
  }
  ASSERT_FALSE(target.empty());
  const auto eval = read_json_file(root / "run" / "stages" / target / "eval.json");
  EXPECT_GT(eval.at("examples").at("test").at("ja").get<int64_t>(), 1500);  // placeholders skipped, not errors
}

}  // namespace
}  // namespace stilts
