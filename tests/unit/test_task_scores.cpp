// Benchmark scores per task, group and overall (pipeline/task_scores.h) against numbers worked out by
// hand from the rows below, never from the code under test. With one degree of freedom the paired t
// interval is mean ± t_{0.975, 1} · |d1 − d2| / 2 (the standard error of two values).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "common/error.h"
#include "eval/metrics.h"
#include "pipeline/study_stats.h"
#include "pipeline/task_scores.h"

namespace stilts::pipeline {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kT975Dof1 = 12.706204736174707;

// The experiment: six tasks of six kinds, their stages; mnli is the intermediate task.
const char* const kExperiment = R"({
  "tasks": {"xnli": {"kind": "pair-classification"}, "xcopa": {"kind": "multiple-choice"},
            "panx": {"kind": "tagging"}, "xquad": {"kind": "extractive-qa"},
            "tatoeba": {"kind": "sentence-retrieval"}, "sts": {"kind": "regression"},
            "mnli": {"kind": "pair-classification"}},
  "stages": {"intermediate": {"task": "mnli"}, "xnli-target": {"task": "xnli"},
             "panx-target": {"task": "panx"}}
})";

struct Rows {
  std::vector<ResultRow> rows;
  void add(const std::string& arm, int64_t seed, const std::string& task, const std::string& language,
           const std::string& split, const std::string& metric, double value, const std::string& stage = "") {
    rows.push_back({arm, seed, stage.empty() ? task + "-target" : stage, task, language, split, metric, value});
  }
};

// Final stages are "<task>-target"; "intermediate" is not one.
bool at_final(const ResultRow& r) { return r.stage != "intermediate"; }

// Seeds 1-3 of arms direct and intermediate; intermediate has no panx results for seed 3.
//   xnli    test accuracy en, de (dev rows too, not used: the arm has test results)
//   xcopa   test accuracy et, ht
//   panx    test f1 en, fr (precision too, not the score metric)
//   xquad   test exact_match and f1 en, es
//   tatoeba dev accuracy de, fr only (and map@20, not the declared metric of sentence-retrieval)
//   sts     test pearson, no language (mse too)
std::vector<ResultRow> study() {
  Rows r;
  const double xnli[2][3][2] = {{{.80, .70}, {.82, .72}, {.84, .74}}, {{.83, .71}, {.85, .73}, {.86, .76}}};
  const double xcopa[2][3][2] = {{{.60, .56}, {.62, .58}, {.64, .60}}, {{.66, .60}, {.64, .62}, {.70, .62}}};
  const double panx[2][3][2] = {{{.70, .60}, {.72, .62}, {.74, .64}}, {{.73, .61}, {.75, .65}, {0, 0}}};
  const double em[2][3][2] = {{{.60, .50}, {.62, .52}, {.64, .54}}, {{.63, .52}, {.65, .55}, {.66, .55}}};
  const double f1[2][3][2] = {{{.70, .62}, {.72, .64}, {.74, .66}}, {{.73, .66}, {.75, .67}, {.76, .68}}};
  const double tatoeba[2][3][2] = {{{.50, .40}, {.52, .42}, {.54, .44}}, {{.55, .45}, {.57, .47}, {.59, .49}}};
  const double sts[2][3] = {{.80, .81, .82}, {.83, .84, .85}};
  const std::string arms[2] = {"direct", "intermediate"};
  for (int a = 0; a < 2; ++a) {
    for (int s = 0; s < 3; ++s) {
      const std::string& arm = arms[a];
      const int64_t seed = s + 1;
      r.add(arm, seed, "xnli", "en", "test", "accuracy", xnli[a][s][0]);
      r.add(arm, seed, "xnli", "de", "test", "accuracy", xnli[a][s][1]);
      r.add(arm, seed, "xnli", "en", "dev", "accuracy", 0.99);
      r.add(arm, seed, "xcopa", "et", "test", "accuracy", xcopa[a][s][0]);
      r.add(arm, seed, "xcopa", "ht", "test", "accuracy", xcopa[a][s][1]);
      if (!(a == 1 && s == 2)) {
        r.add(arm, seed, "panx", "en", "test", "f1", panx[a][s][0]);
        r.add(arm, seed, "panx", "fr", "test", "f1", panx[a][s][1]);
        r.add(arm, seed, "panx", "en", "test", "precision", 0.99);
      }
      r.add(arm, seed, "xquad", "en", "test", "exact_match", em[a][s][0]);
      r.add(arm, seed, "xquad", "es", "test", "exact_match", em[a][s][1]);
      r.add(arm, seed, "xquad", "en", "test", "f1", f1[a][s][0]);
      r.add(arm, seed, "xquad", "es", "test", "f1", f1[a][s][1]);
      r.add(arm, seed, "tatoeba", "de", "dev", "accuracy", tatoeba[a][s][0]);
      r.add(arm, seed, "tatoeba", "fr", "dev", "accuracy", tatoeba[a][s][1]);
      r.add(arm, seed, "tatoeba", "de", "dev", "map@20", 0.99);
      r.add(arm, seed, "sts", "", "test", "pearson", sts[a][s]);
      r.add(arm, seed, "sts", "", "test", "mse", 0.5);
      if (a == 1) r.add(arm, seed, "mnli", "en", "dev", "accuracy", 0.9, "intermediate");
    }
  }
  return r.rows;
}

// Hand-computed per-seed scores, [arm][seed].
// xnli: mean of en, de; QA: mean over en, es of (em + f1) / 2.
const double kXnli[2][3] = {{(.80 + .70) / 2, (.82 + .72) / 2, (.84 + .74) / 2},
                            {(.83 + .71) / 2, (.85 + .73) / 2, (.86 + .76) / 2}};
const double kXcopa[2][3] = {{(.60 + .56) / 2, (.62 + .58) / 2, (.64 + .60) / 2},
                             {(.66 + .60) / 2, (.64 + .62) / 2, (.70 + .62) / 2}};
const double kPanx[2][2] = {{(.70 + .60) / 2, (.72 + .62) / 2}, {(.73 + .61) / 2, (.75 + .65) / 2}};
const double kPanxDirect3 = (.74 + .64) / 2;
const double kXquad[2][3] = {
    {((.60 + .70) / 2 + (.50 + .62) / 2) / 2, ((.62 + .72) / 2 + (.52 + .64) / 2) / 2,
     ((.64 + .74) / 2 + (.54 + .66) / 2) / 2},
    {((.63 + .73) / 2 + (.52 + .66) / 2) / 2, ((.65 + .75) / 2 + (.55 + .67) / 2) / 2,
     ((.66 + .76) / 2 + (.55 + .68) / 2) / 2}};
const double kTatoeba[2][3] = {{(.50 + .40) / 2, (.52 + .42) / 2, (.54 + .44) / 2},
                               {(.55 + .45) / 2, (.57 + .47) / 2, (.59 + .49) / 2}};
const double kSts[2][3] = {{.80, .81, .82}, {.83, .84, .85}};

double hand_overall(int a, int s) {
  const double panx = s < 2 ? kPanx[a][s] : kPanxDirect3;
  return (kXnli[a][s] + kXcopa[a][s] + panx + kXquad[a][s] + kTatoeba[a][s] + kSts[a][s]) / 6;
}

const ResultRow* find_row(const BenchmarkScores& b, const std::string& arm, int64_t seed, const std::string& name) {
  for (const auto& r : b.rows) {
    if (r.arm == arm && r.seed == seed && r.task == name) return &r;
  }
  return nullptr;
}

double value(const BenchmarkScores& b, const std::string& arm, int64_t seed, const std::string& name) {
  const ResultRow* r = find_row(b, arm, seed, name);
  EXPECT_NE(r, nullptr) << arm << " " << seed << " " << name;
  return r ? r->value : kNaN;
}

TEST(TaskScores, StudyTasksFromTheExperiment) {
  const StudyTasks t = study_tasks(std::string(kExperiment));
  EXPECT_EQ(t.kinds.at("xquad"), "extractive-qa");
  EXPECT_EQ(t.metrics.at("panx"), "f1");
  EXPECT_EQ(t.metrics.at("tatoeba"), "accuracy");
  EXPECT_EQ(t.stage_tasks.at("panx-target"), "panx");
  EXPECT_TRUE(study_tasks(std::nullopt).kinds.empty());
  EXPECT_TRUE(study_tasks(std::string("not json")).kinds.empty());
}

TEST(TaskScores, GroupsAreTheKindsAsXtremeRNamesThem) {
  EXPECT_EQ(benchmark_group("pair-classification"), "classification");
  EXPECT_EQ(benchmark_group("classification"), "classification");
  EXPECT_EQ(benchmark_group("multiple-choice"), "classification");
  EXPECT_EQ(benchmark_group("tagging"), "structured prediction");
  EXPECT_EQ(benchmark_group("extractive-qa"), "question answering");
  EXPECT_EQ(benchmark_group("retrieval"), "retrieval");
  EXPECT_EQ(benchmark_group("sentence-retrieval"), "retrieval");
  EXPECT_EQ(benchmark_group("regression"), "");
  EXPECT_EQ(benchmark_group(""), "");
  // The score rows are shown in points, higher is better.
  EXPECT_TRUE(eval::metric_info(kScoreMetric).fraction);
  EXPECT_TRUE(eval::metric_info(kScoreMetric).higher_is_better);
}

TEST(TaskScores, PerTaskScoresByHand) {
  const auto b = benchmark_scores(study(), at_final, study_tasks(std::string(kExperiment)));
  ASSERT_EQ(b.num_tasks(), 6u);  // mnli is at no final stage
  EXPECT_EQ(final_task_count(study(), at_final), 6u);
  EXPECT_TRUE(b.unscored.empty());
  const std::string arms[2] = {"direct", "intermediate"};
  for (int a = 0; a < 2; ++a) {
    for (int s = 0; s < 3; ++s) {
      const std::string& arm = arms[a];
      const int64_t seed = s + 1;
      EXPECT_NEAR(value(b, arm, seed, "xnli"), kXnli[a][s], 1e-12);  // test, not the 0.99 dev rows
      EXPECT_NEAR(value(b, arm, seed, "xcopa"), kXcopa[a][s], 1e-12);
      EXPECT_NEAR(value(b, arm, seed, "xquad"), kXquad[a][s], 1e-12);  // (em + f1) / 2
      EXPECT_NEAR(value(b, arm, seed, "tatoeba"), kTatoeba[a][s], 1e-12);  // dev accuracy, not map@20
      EXPECT_NEAR(value(b, arm, seed, "sts"), kSts[a][s], 1e-12);  // the "" language, pearson
      EXPECT_EQ(find_row(b, arm, seed, "tatoeba")->split, "dev");
      EXPECT_EQ(find_row(b, arm, seed, "xnli")->split, "test");
      EXPECT_EQ(find_row(b, arm, seed, "xnli")->metric, "score");
      EXPECT_EQ(find_row(b, arm, seed, "xnli")->stage, "");
      EXPECT_EQ(find_row(b, arm, seed, "xnli")->language, "");
    }
  }
  EXPECT_NEAR(value(b, "direct", 1, "panx"), kPanx[0][0], 1e-12);  // f1, not precision
  EXPECT_NEAR(value(b, "intermediate", 2, "panx"), kPanx[1][1], 1e-12);
  EXPECT_NEAR(value(b, "direct", 3, "panx"), kPanxDirect3, 1e-12);
  EXPECT_EQ(find_row(b, "intermediate", 3, "panx"), nullptr);

  const ScoreInfo* xquad = b.find("xquad");
  ASSERT_NE(xquad, nullptr);
  EXPECT_EQ(xquad->metric, "exact_match+f1");
  EXPECT_EQ(xquad->group, "question answering");
  EXPECT_EQ(xquad->languages, (std::vector<std::string>{"en", "es"}));
  EXPECT_EQ(b.find("sts")->group, "");
  EXPECT_EQ(b.find("sts")->languages, (std::vector<std::string>{""}));
  EXPECT_EQ(b.find("xcopa")->group, "classification");
  EXPECT_EQ(b.find("tatoeba")->metric, "accuracy");
}

TEST(TaskScores, GroupsAndOverallLeaveOutASeedMissingATask) {
  const auto b = benchmark_scores(study(), at_final, study_tasks(std::string(kExperiment)));
  // Order: tasks by name, then the groups in the paper's order, then overall.
  std::vector<std::string> names;
  for (const auto& s : b.scores) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"panx", "sts", "tatoeba", "xcopa", "xnli", "xquad",
                                             "group:classification", "group:structured prediction",
                                             "group:question answering", "group:retrieval", "overall"}));
  EXPECT_EQ(b.find("group:classification")->tasks, (std::vector<std::string>{"xcopa", "xnli"}));
  EXPECT_EQ(b.find("group:retrieval")->label, "retrieval");
  EXPECT_EQ(b.find("overall")->tasks.size(), 6u);  // sts (no group) counts overall

  const std::string arms[2] = {"direct", "intermediate"};
  for (int a = 0; a < 2; ++a) {
    for (int s = 0; s < 3; ++s) {
      const std::string& arm = arms[a];
      const int64_t seed = s + 1;
      EXPECT_NEAR(value(b, arm, seed, "group:classification"), (kXnli[a][s] + kXcopa[a][s]) / 2, 1e-12);
      EXPECT_NEAR(value(b, arm, seed, "group:question answering"), kXquad[a][s], 1e-12);
      EXPECT_NEAR(value(b, arm, seed, "group:retrieval"), kTatoeba[a][s], 1e-12);
      EXPECT_EQ(find_row(b, arm, seed, "group:retrieval")->split, "dev");
      if (a == 1 && s == 2) continue;
      EXPECT_NEAR(value(b, arm, seed, "overall"), hand_overall(a, s), 1e-12);
      EXPECT_EQ(find_row(b, arm, seed, "overall")->split, "mixed");  // tatoeba at dev, the rest at test
    }
  }
  // intermediate seed 3 has no panx: left out of its group and of the overall score, not averaged over fewer.
  EXPECT_EQ(find_row(b, "intermediate", 3, "group:structured prediction"), nullptr);
  EXPECT_EQ(find_row(b, "intermediate", 3, "overall"), nullptr);
  ASSERT_EQ(b.left_out.size(), 3u);
  EXPECT_EQ(b.left_out[0].name, "panx");
  EXPECT_EQ(b.left_out[0].reason, "no test f1 in en, fr");
  EXPECT_EQ(b.left_out[1].name, "group:structured prediction");
  EXPECT_EQ(b.left_out[2].name, "overall");
  EXPECT_EQ(b.left_out[2].reason, "no score for panx");
  for (const auto& l : b.left_out) EXPECT_EQ(l.arm + " " + std::to_string(l.seed), "intermediate 3");
}

TEST(TaskScores, SummaryAndDifferencesVsTheBaselineComeFromStudyStats) {
  const auto b = benchmark_scores(study(), at_final, study_tasks(std::string(kExperiment)));
  // The overall score of direct over its 3 seeds.
  const double d[3] = {hand_overall(0, 0), hand_overall(0, 1), hand_overall(0, 2)};
  const double mean = (d[0] + d[1] + d[2]) / 3;
  const double sd = std::sqrt(((d[0] - mean) * (d[0] - mean) + (d[1] - mean) * (d[1] - mean) +
                               (d[2] - mean) * (d[2] - mean)) / 2);
  bool found = false;
  for (const auto& s : summarize(b.rows)) {
    if (s.arm != "direct" || s.task != "overall") continue;
    found = true;
    EXPECT_EQ(s.n, 3);
    EXPECT_EQ(s.metric, "score");
    EXPECT_NEAR(s.mean, mean, 1e-12);
    EXPECT_NEAR(s.std, sd, 1e-12);
  }
  EXPECT_TRUE(found);

  // intermediate − direct, overall: paired over the common seeds 1 and 2 (seed 3 left out for intermediate).
  const double d1 = hand_overall(1, 0) - hand_overall(0, 0);
  const double d2 = hand_overall(1, 1) - hand_overall(0, 1);
  const double diff = (d1 + d2) / 2;
  const double half = kT975Dof1 * std::abs(d1 - d2) / 2;
  // classification: all three seeds in both arms.
  double c[3];
  for (int s = 0; s < 3; ++s) c[s] = (kXnli[1][s] + kXcopa[1][s]) / 2 - (kXnli[0][s] + kXcopa[0][s]) / 2;
  int checked = 0;
  for (const auto& x : arm_differences(b.rows, "intermediate", "direct")) {
    if (x.task == "overall") {
      ++checked;
      EXPECT_EQ(x.method, "paired-t");
      EXPECT_EQ(x.n, 2);
      EXPECT_EQ(x.split, "mixed");
      EXPECT_NEAR(x.difference, diff, 1e-12);
      EXPECT_NEAR(x.ci_lower, diff - half, 1e-9);
      EXPECT_NEAR(x.ci_upper, diff + half, 1e-9);
    }
    if (x.task == "group:classification") {
      ++checked;
      EXPECT_EQ(x.n, 3);
      EXPECT_NEAR(x.difference, (c[0] + c[1] + c[2]) / 3, 1e-12);
    }
  }
  EXPECT_EQ(checked, 2);
}

TEST(TaskScores, SplitIsTestWhenTheArmHasTestResultsElseDev) {
  Rows r;
  for (int64_t seed : {1, 2}) {
    r.add("direct", seed, "xnli", "en", "test", "accuracy", 0.7);
    r.add("direct", seed, "xnli", "en", "dev", "accuracy", 0.6);
    r.add("other", seed, "xnli", "en", "dev", "accuracy", 0.5);  // no test results in this arm
  }
  const auto b = benchmark_scores(r.rows, at_final, study_tasks(std::string(kExperiment)));
  EXPECT_EQ(find_row(b, "direct", 1, "xnli")->split, "test");
  EXPECT_NEAR(find_row(b, "direct", 1, "xnli")->value, 0.7, 1e-12);
  EXPECT_EQ(find_row(b, "other", 1, "xnli")->split, "dev");
  EXPECT_NEAR(find_row(b, "other", 1, "xnli")->value, 0.5, 1e-12);
  // Different splits are not compared.
  EXPECT_TRUE(arm_differences(b.rows, "other", "direct").empty());
}

TEST(TaskScores, MissingLanguagesAndUndefinedValuesLeaveTheSeedOut) {
  Rows r;
  for (int64_t seed : {1, 2, 3}) {
    r.add("direct", seed, "xquad", "en", "test", "exact_match", 0.6);
    if (seed != 2) r.add("direct", seed, "xquad", "en", "test", "f1", 0.7);  // seed 2 lacks en f1
    r.add("direct", seed, "xquad", "es", "test", "exact_match", 0.5);
    r.add("direct", seed, "xquad", "es", "test", "f1", seed == 3 ? kNaN : 0.6);  // seed 3: undefined
  }
  const auto b = benchmark_scores(r.rows, at_final, study_tasks(std::string(kExperiment)));
  EXPECT_NEAR(value(b, "direct", 1, "xquad"), ((0.6 + 0.7) / 2 + (0.5 + 0.6) / 2) / 2, 1e-12);
  EXPECT_EQ(find_row(b, "direct", 2, "xquad"), nullptr);
  EXPECT_EQ(find_row(b, "direct", 3, "xquad"), nullptr);
  ASSERT_EQ(b.left_out.size(), 6u);  // xquad, its group and the overall score, each for seeds 2 and 3
  int task_rows = 0;
  for (const auto& l : b.left_out) {
    if (l.name != "xquad") continue;
    ++task_rows;
    EXPECT_EQ(l.reason, l.seed == 2 ? "no test exact_match+f1 in en" : "undefined test exact_match+f1 in es");
  }
  EXPECT_EQ(task_rows, 2);
}

TEST(TaskScores, LowerIsBetterTasksAreNotScored) {
  Rows r;
  r.add("direct", 1, "loss-task", "en", "test", "mse", 0.2);
  r.add("direct", 1, "xnli", "en", "test", "accuracy", 0.7);
  const auto b = benchmark_scores(r.rows, at_final, {});
  EXPECT_EQ(b.unscored, (std::vector<std::string>{"loss-task"}));
  EXPECT_EQ(b.num_tasks(), 1u);
  // Without the experiment, xnli's kind is unknown: in no group, still overall; its metric by the rule.
  EXPECT_EQ(b.find("xnli")->group, "");
  EXPECT_EQ(b.find("xnli")->metric, "accuracy");
  EXPECT_NEAR(value(b, "direct", 1, "overall"), 0.7, 1e-12);
}

TEST(TaskScores, TwoFinalStagesOfOneTaskAreAnError) {
  Rows r;
  r.add("direct", 1, "xnli", "en", "test", "accuracy", 0.7, "a");
  r.add("direct", 1, "xnli", "en", "test", "accuracy", 0.8, "b");
  try {
    benchmark_scores(r.rows, at_final, {});
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("stages a and b"), std::string::npos) << e.what();
  }
}

TEST(TaskScores, EfficiencyPerTaskThroughTheStageHash) {
  const StudyTasks tasks = study_tasks(std::string(kExperiment));
  std::vector<StageRow> stages;
  std::vector<EfficiencyRow> e;
  // direct seeds 1, 2: one model per target task (hash h-<task>-<seed>), batch 1 and 8, languages en and de.
  for (int64_t seed : {1, 2}) {
    for (const std::string task : {"xnli", "panx"}) {
      const std::string hash = "h-" + task + "-" + std::to_string(seed);
      stages.push_back({hash, task + "-target", "direct", seed, "done"});
      const double base = (task == "xnli" ? 10.0 : 20.0) + static_cast<double>(seed);
      for (const std::string language : {"en", "de"}) {
        const double lang = language == "en" ? 0.0 : 1.0;
        e.push_back({"direct", seed, hash, "fp32", 2, 1, 0, language, "latency_ms_p50", base + lang});
        e.push_back({"direct", seed, hash, "fp32", 2, 8, 0, language, "latency_ms_p50", 4 * base + lang});
        e.push_back({"direct", seed, hash, "fp32", 2, 1, 0, language, "throughput_seq_s", 1000 / base});
        e.push_back({"direct", seed, hash, "fp32", 2, 8, 0, language, "throughput_seq_s", 2000 / base + lang});
        e.push_back({"direct", seed, hash, "fp32", 2, 1, 0, language, "peak_rss_mb", 900 + 10 * seed + lang});
        e.push_back({"direct", seed, hash, "fp32", 2, 8, 0, language, "peak_rss_mb", 950 + 10 * seed + lang});
      }
      e.push_back({"direct", seed, hash, "fp32", 2, 0, 0, "", "params_total", task == "xnli" ? 1e8 : 2e8});
    }
  }
  e.push_back({"direct", 1, "h-unknown", "fp32", 2, 1, 0, "en", "latency_ms_p50", 99});  // no stage row

  const TaskEfficiencyTable t = task_efficiency(e, stages, tasks);
  EXPECT_EQ(t.unmapped_models, (std::vector<std::string>{"h-unknown"}));
  EXPECT_EQ(t.setting.batch_sizes, (std::vector<int64_t>{1, 8}));
  ASSERT_EQ(t.rows.size(), 2u);
  const TaskEfficiency& panx = t.rows[0];
  const TaskEfficiency& xnli = t.rows[1];
  EXPECT_EQ(panx.task, "panx");
  EXPECT_EQ(panx.kind, "tagging");
  EXPECT_EQ(xnli.task, "xnli");
  EXPECT_EQ(xnli.kind, "pair-classification");
  EXPECT_EQ(xnli.arm, "direct");
  EXPECT_EQ(xnli.seeds, 2);
  EXPECT_EQ(xnli.latency_batch, 1);
  EXPECT_EQ(xnli.throughput_batch, 8);
  // Latency at batch 1: per seed the mean over en and de (base + 0.5), then over seeds 11 and 12.
  EXPECT_NEAR(xnli.latency_p50_ms, ((11 + 0.5) + (12 + 0.5)) / 2, 1e-12);
  EXPECT_NEAR(panx.latency_p50_ms, ((21 + 0.5) + (22 + 0.5)) / 2, 1e-12);
  // Throughput at batch 8.
  EXPECT_NEAR(xnli.throughput_seq_s, ((2000 / 11.0 + 0.5) + (2000 / 12.0 + 0.5)) / 2, 1e-9);
  // Peak memory: per seed the maximum over the setting's rows (batch 8, de), then the mean.
  EXPECT_NEAR(xnli.peak_rss_mb, ((950 + 10 + 1) + (950 + 20 + 1)) / 2.0, 1e-12);
  EXPECT_NEAR(xnli.params_total, 1e8, 1e-3);
  EXPECT_NEAR(panx.params_total, 2e8, 1e-3);
}

}  // namespace
}  // namespace stilts::pipeline
