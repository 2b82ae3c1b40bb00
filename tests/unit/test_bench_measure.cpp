// stilts::bench measurement on tiny models: statistics, comparisons, workloads, modes, memory,
// fingerprint, peak cache and the three renderings. No assertion is about speed (that is bench/'s).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

#include "bench/machine.h"
#include "bench/measure.h"
#include "common/error.h"
#include "common/files.h"
#include "common/threads.h"
#include "models/linear_precision.h"
#include "models/pretrained.h"
#include "support/fixtures.h"
#include "train/evaluate.h"

namespace {

namespace fs = std::filesystem;
using namespace stilts::bench;

fs::path golden(const std::string& name) { return stilts::testing::test_data_dir() / "hf-golden" / name; }

TEST(BenchStats, QuantilesMeanAndInterval) {
  const auto s = latency_stats({5, 1, 4, 2, 3});
  EXPECT_EQ(s.reps, 5);
  EXPECT_DOUBLE_EQ(s.p50, 3.0);
  EXPECT_DOUBLE_EQ(s.p90, 4.6);  // numpy.quantile([1..5], 0.9)
  EXPECT_DOUBLE_EQ(s.p99, 4.96);
  EXPECT_DOUBLE_EQ(s.mean, 3.0);
  EXPECT_DOUBLE_EQ(s.min, 1.0);
  EXPECT_DOUBLE_EQ(s.max, 5.0);
  EXPECT_NEAR(s.std, std::sqrt(2.5), 1e-12);
  // t(0.975, 4) = 2.7764451
  EXPECT_NEAR(s.mean_ci_upper - s.mean, 2.7764451 * std::sqrt(2.5) / std::sqrt(5.0), 1e-6);
  EXPECT_NEAR(s.mean - s.mean_ci_lower, s.mean_ci_upper - s.mean, 1e-12);
  EXPECT_EQ(latency_stats({}).reps, 0);
}

TEST(BenchCompare, EquivalentSlowerAndErrors) {
  const std::vector<double> a = {10, 11, 10.5, 10.2, 10.8, 10.1, 10.9, 10.4};
  std::vector<double> same = a, slower, close;
  for (size_t i = 0; i < a.size(); ++i) {
    slower.push_back(a[i] * 2);
    close.push_back(a[i] * (i % 2 ? 1.01 : 0.99));
  }
  const auto c0 = compare(a, same);
  EXPECT_DOUBLE_EQ(c0.ratio, 1.0);
  EXPECT_TRUE(c0.equivalent);
  EXPECT_EQ(c0.verdict, "equivalent");
  const auto c1 = compare(a, slower);
  EXPECT_NEAR(c1.ratio, 2.0, 1e-12);
  EXPECT_FALSE(c1.equivalent);
  EXPECT_EQ(c1.verdict, "B slower");
  EXPECT_NEAR(c1.diff_ms_mean, 10.4875, 1e-9);
  const auto c2 = compare(slower, a);
  EXPECT_EQ(c2.verdict, "B faster");
  const auto c3 = compare(a, close, 0.95, 0.05);
  EXPECT_TRUE(c3.equivalent);
  EXPECT_LT(c3.ratio_ci_lower, 1.0);
  EXPECT_GT(c3.ratio_ci_upper, 1.0);
  // A ratio of 1.01 +/- 1% is not equivalent within a 0.5% margin.
  EXPECT_FALSE(compare(a, close, 0.95, 0.005).equivalent);
  EXPECT_THROW(compare({1, 2}, {1}), stilts::InputError);
  EXPECT_THROW(compare({1}, {1}), stilts::InputError);
}

TEST(BenchWorkload, GridHasFullRowsWithoutPadIds) {
  auto model = stilts::models::load_pretrained(golden("roberta")).model;  // pad id 1
  const auto w = grid_workload(*model, 3, 7, /*seed=*/1);
  ASSERT_EQ(w.batches.size(), 1u);
  EXPECT_EQ(w.batches[0].input_ids.sizes(), (std::vector<int64_t>{3, 7}));
  EXPECT_EQ(w.batches[0].input_ids.eq(model->pad_token_id()).sum().item<int64_t>(), 0);
  EXPECT_LT(w.batches[0].input_ids.max().item<int64_t>(), model->vocab_size());
  EXPECT_EQ(w.batches[0].attention_mask.sum().item<int64_t>(), 21);
  EXPECT_EQ(w.real_tokens[0], 21);
  EXPECT_DOUBLE_EQ(w.tokens_per_example, 7.0);
  EXPECT_THROW(grid_workload(*model, 0, 7), stilts::InputError);
  EXPECT_THROW(grid_workload(*model, 1, model->max_positions() + 1), stilts::InputError);
}

stilts::tasks::Features toy_features() {
  stilts::tasks::Features f;
  f.pad_id = 0;
  // 4 "en" examples of 3..6 tokens, 2 "de" of 10 tokens.
  for (int n : {3, 4, 5, 6}) {
    f.input_ids.push_back(std::vector<int32_t>(static_cast<size_t>(n), 7));
    f.languages.push_back("en");
    f.labels.push_back(0);
    f.example.push_back(static_cast<int64_t>(f.example.size()));
  }
  for (int i = 0; i < 2; ++i) {
    f.input_ids.push_back(std::vector<int32_t>(10, 8));
    f.languages.push_back("de");
    f.labels.push_back(1);
    f.example.push_back(static_cast<int64_t>(f.example.size()));
  }
  f.label_names = {"0", "1"};
  return f;
}

const stilts::tasks::TaskKind& pairs() { return stilts::tasks::task_kind("pair-classification"); }

TEST(BenchWorkload, DataSplitsPerLanguageWithDynamicPadding) {
  const auto ws = data_workloads(pairs(), toy_features(), /*batch_size=*/2);
  ASSERT_EQ(ws.size(), 2u);
  EXPECT_EQ(ws[0].language, "en");
  EXPECT_EQ(ws[0].seq_len, 0);
  EXPECT_EQ(ws[0].examples, 4);
  EXPECT_DOUBLE_EQ(ws[0].tokens_per_example, 4.5);
  int64_t real = 0, padded = 0;
  for (size_t b = 0; b < ws[0].batches.size(); ++b) {
    real += ws[0].real_tokens[b];
    padded += ws[0].batches[b].input_ids.numel();
  }
  EXPECT_EQ(real, 18);
  EXPECT_EQ(padded, 2 * 4 + 2 * 6);  // length-bucketed: (3,4) and (5,6), each padded to its longest
  EXPECT_EQ(ws[1].language, "de");
  EXPECT_DOUBLE_EQ(ws[1].tokens_per_example, 10.0);
  const auto pooled = data_workloads(pairs(), toy_features(), 2, /*pooled=*/true);
  ASSERT_EQ(pooled.size(), 3u);
  EXPECT_EQ(pooled[2].language, "");
  EXPECT_EQ(pooled[2].examples, 6);
  EXPECT_THROW(data_workloads(pairs(), stilts::tasks::Features{}, 2), stilts::InputError);
}

TEST(BenchMeasure, InterleavedModelsGiveRecordsSamplesAndComparisons) {
  std::vector<BenchModel> models = {load_bench_model(golden("bert"), "a"), load_bench_model(golden("bert-nl3"), "b")};
  for (auto& m : models) {
    m.workloads.push_back(grid_workload(*m.model, 1, 8));
    m.workloads.push_back(grid_workload(*m.model, 2, 8));
  }
  MeasureOptions o;
  o.min_reps = 4;
  o.min_seconds = 0;
  o.warmup = 1;
  const BenchResult r = measure(models, o);
  ASSERT_EQ(r.records.size(), 4u);  // setting-major
  EXPECT_EQ(r.records[0].model, "a");
  EXPECT_EQ(r.records[1].model, "b");
  EXPECT_EQ(r.records[2].batch_size, 2);
  for (const auto& rec : r.records) {
    EXPECT_EQ(rec.latency_ms.reps, 4);
    EXPECT_EQ(rec.samples_ms.size(), 4u);
    EXPECT_GT(rec.latency_ms.p50, 0);
    EXPECT_LE(rec.latency_ms.p50, rec.latency_ms.p99);
    EXPECT_GT(rec.throughput_seq_s, 0);
    EXPECT_NEAR(rec.throughput_tok_s, rec.throughput_seq_s * 8, 1e-6 * rec.throughput_tok_s);
    EXPECT_EQ(rec.threads, 1);  // fp32 default
    EXPECT_GT(rec.tensor_mb, 0);
    if (reset_peak_rss()) {
      EXPECT_GT(rec.peak_rss_mb, 1.0);
    }
  }
  ASSERT_EQ(r.comparisons.size(), 2u);
  EXPECT_EQ(r.comparisons[0].model_a, "a");
  EXPECT_EQ(r.comparisons[0].model_b, "b");
  EXPECT_EQ(r.comparisons[0].pairs, 4);
  EXPECT_GT(models[0].load_s, 0);

  // The renderings of one schema.
  const nlohmann::ordered_json models_json = {model_json(models[0], golden("bert"), golden("bert"), {8})};
  const auto j = to_json(r, models_json);
  EXPECT_EQ(j["schema"], "stilts-bench/1");
  EXPECT_EQ(j["records"].size(), 4u);
  for (const char* key : {"model", "mode", "threads", "batch_size", "seq_len", "language", "latency_ms",
                          "throughput_seq_s", "throughput_tok_s", "peak_rss_mb", "tensor_mb", "samples_ms"}) {
    EXPECT_TRUE(j["records"][0].contains(key)) << key;
  }
  for (const char* key : {"p50", "p90", "p99", "mean", "mean_ci_lower", "mean_ci_upper"}) {
    EXPECT_TRUE(j["records"][0]["latency_ms"].contains(key)) << key;
  }
  EXPECT_FALSE(to_json(r, models_json, /*with_samples=*/false)["records"][0].contains("samples_ms"));
  EXPECT_EQ(j["models"][0]["parameters"]["params_differing"], 0);
  EXPECT_GT(j["models"][0]["flops_per_example"]["8"].get<double>(), 0);
  EXPECT_TRUE(j["fingerprint"].contains("isa"));
  // Rows for results.sqlite.
  const auto rows = efficiency_rows(r);
  EXPECT_EQ(rows.size(), 4u * 11u);
  EXPECT_EQ(rows[0].metric, "latency_ms_p50");
  EXPECT_DOUBLE_EQ(rows[0].value, r.records[0].latency_ms.p50);
  EXPECT_EQ(rows[0].mode, "fp32");
  const auto samples = latency_sample_rows(r);
  EXPECT_EQ(samples.size(), 16u);
  EXPECT_EQ(samples[3].rep, 3);
  EXPECT_DOUBLE_EQ(samples[3].ms, r.records[0].samples_ms[3]);
  const auto report = parameter_report(*models[0].model, golden("bert"), golden("bert"));
  const auto model_rows = model_efficiency_rows(models[0], report, Mode::kFp32, 1, 7.6);
  ASSERT_EQ(model_rows.size(), 9u);
  EXPECT_EQ(model_rows[0].metric, "params_total");
  EXPECT_DOUBLE_EQ(model_rows[0].value, 49394);
  EXPECT_EQ(model_rows[5].metric, "params_differing");
  EXPECT_EQ(model_rows[8].metric, "flops_per_example");
  EXPECT_DOUBLE_EQ(model_rows[8].value, forward_flops(models[0].model->config_json(), 8, true));
  EXPECT_EQ(model_rows[8].batch_size, 0);

  const std::string csv = to_csv(r);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 5);
  EXPECT_EQ(csv.rfind("model,mode,threads,batch_size,seq_len,language,", 0), 0u);
  const std::string md = to_markdown(r, models_json);
  EXPECT_NE(md.find("| b vs a | 1 | 8 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| a | 2 | 8 | - |"), std::string::npos) << md;
}

TEST(BenchMeasure, RejectsMismatchedSettingsAndBadOptions) {
  std::vector<BenchModel> models = {load_bench_model(golden("bert"), "a"), load_bench_model(golden("bert"), "b")};
  models[0].workloads.push_back(grid_workload(*models[0].model, 1, 4));
  EXPECT_THROW(measure(models, MeasureOptions{}), stilts::InputError);
  MeasureOptions bad;
  bad.min_reps = 0;
  EXPECT_THROW(bad.validate(), stilts::InputError);
  bad = MeasureOptions{};
  bad.equivalence_margin = 0;
  EXPECT_THROW(bad.validate(), stilts::InputError);
  std::vector<BenchModel> none;
  EXPECT_THROW(measure(none, MeasureOptions{}), stilts::InputError);
}

class BenchModeFamily : public ::testing::TestWithParam<std::string> {};

// bf16 and int8 compute approximately what fp32 does (logits of every family), and measure() runs them.
TEST_P(BenchModeFamily, ModesApproximateFp32) {
  auto model = stilts::models::load_pretrained(golden(GetParam())).model;
  const auto w = grid_workload(*model, 2, 12, /*seed=*/3);
  const auto fp32 = forward_in_mode(*model, w.batches[0], Mode::kFp32).logits;
  const auto bf16 = forward_in_mode(*model, w.batches[0], Mode::kBf16).logits.to(torch::kFloat);
  const double scale = fp32.abs().max().item<double>() + 1e-3;
  EXPECT_LT((bf16 - fp32).abs().max().item<double>(), 0.05 * scale + 0.02);
  {  // bf16 mode (linears cast once) computes exactly what plain autocast computes.
    c10::InferenceMode guard;
    stilts::train::AutocastScope autocast(stilts::train::Precision::kBf16);
    const auto plain = model->forward(w.batches[0]).logits.to(torch::kFloat);
    EXPECT_EQ((plain - bf16).abs().max().item<double>(), 0.0);
  }
  if (!stilts::models::int8_engine()) GTEST_SKIP() << "no quantized engine in this libtorch";
  const auto int8 = forward_in_mode(*model, w.batches[0], Mode::kInt8).logits;
  EXPECT_GT((int8 - fp32).abs().max().item<double>(), 0.0);  // the int8 path really ran
  EXPECT_LT((int8 - fp32).abs().max().item<double>(), 0.1 * scale + 0.02);
  std::vector<BenchModel> models = {load_bench_model(golden(GetParam()))};
  models[0].workloads.push_back(w);
  MeasureOptions o;
  o.mode = Mode::kInt8;
  o.min_reps = 2;
  o.min_seconds = 0;
  const auto r = measure(models, o);
  EXPECT_EQ(r.records.at(0).mode, Mode::kInt8);
  EXPECT_EQ(r.records.at(0).latency_ms.reps, 2);
}

INSTANTIATE_TEST_SUITE_P(Families, BenchModeFamily, ::testing::Values("bert", "roberta", "xlm-roberta", "xlnet"));

// common/threads.h: launchers' OMP_NUM_THREADS sets bf16's threads, not fp32's or int8's (1: OpenBLAS's
// own pool, oneDNN's single-threaded int8 linears); without it training takes every core and a measurement
// the idle ones.
TEST(DefaultThreads, Bf16TakesOmpNumThreadsWhenSetElseEveryCoreAndAClearErrorWhenMalformed) {
  const char* before = std::getenv("OMP_NUM_THREADS");
  const std::optional<std::string> saved = before ? std::optional<std::string>(before) : std::nullopt;
  auto restore = [&] {
    if (saved) setenv("OMP_NUM_THREADS", saved->c_str(), 1);
    else unsetenv("OMP_NUM_THREADS");
  };
  setenv("OMP_NUM_THREADS", "3", 1);
  EXPECT_EQ(stilts::default_threads(stilts::Precision::kBf16), 3);
  EXPECT_EQ(stilts::default_threads(stilts::Precision::kFp16), 3);
  EXPECT_EQ(stilts::default_threads(stilts::Precision::kFp32), 1);
  EXPECT_EQ(stilts::default_threads(stilts::Precision::kInt8), 1);
  EXPECT_EQ(stilts::measurement_threads(stilts::Precision::kBf16), 3);
  EXPECT_EQ(stilts::measurement_threads(stilts::Precision::kFp32), 1);
  setenv("OMP_NUM_THREADS", "5,2", 1);  // OpenMP's nested list: the outer level
  EXPECT_EQ(stilts::default_threads(stilts::Precision::kBf16), 5);
  for (const char* bad : {"0", "x", "", "2x", "-1"}) {
    setenv("OMP_NUM_THREADS", bad, 1);
    try {
      stilts::default_threads(stilts::Precision::kBf16);
      ADD_FAILURE() << "no error for OMP_NUM_THREADS='" << bad << "'";
    } catch (const stilts::InputError& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr(std::string("OMP_NUM_THREADS='") + bad + "': expected a positive integer"));
    }
  }
  unsetenv("OMP_NUM_THREADS");
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  EXPECT_EQ(stilts::default_threads(stilts::Precision::kBf16), cores);
  EXPECT_EQ(stilts::default_threads(stilts::Precision::kFp32), 1);
  const int idle = stilts::measurement_threads(stilts::Precision::kBf16);
  EXPECT_GE(idle, 1);
  EXPECT_LE(idle, cores);
  restore();
}

TEST(BenchMachine, ModesThreadsAndFingerprint) {
  EXPECT_EQ(parse_mode("bf16"), Mode::kBf16);
  EXPECT_STREQ(mode_name(Mode::kInt8), "int8");
  EXPECT_THROW(parse_mode("fp16"), stilts::InputError);
  EXPECT_EQ(measurement_threads(Mode::kFp32), 1);
  EXPECT_GE(measurement_threads(Mode::kBf16), 1);
  const auto settings = apply_threads(Mode::kFp32, 0);
  EXPECT_EQ(settings["torch_threads"], 1);
  EXPECT_EQ(apply_threads(Mode::kFp32, 2)["torch_threads"], 2);
  EXPECT_THROW(apply_threads(Mode::kFp32, -1), stilts::InputError);
  apply_threads(Mode::kFp32, 0);
  const auto f = machine_fingerprint();
  for (const char* key : {"cpu", "cores", "isa", "libtorch", "build_config", "quantized_engines", "threads"}) {
    EXPECT_TRUE(f.contains(key)) << key;
  }
  EXPECT_GE(f["cores"].get<int>(), 1);
  EXPECT_TRUE(f["threads"].contains("OPENBLAS_CORETYPE"));
}

TEST(BenchMachine, PeakIsCachedPerMachine) {
  const auto dir = stilts::testing::make_temp_dir();
  const auto cache = dir / "stilts" / "peak.json";
  const auto first = peak_flops(/*remeasure=*/false, cache, /*size=*/64, /*seconds=*/0.0);
  EXPECT_FALSE(first.from_cache);
  EXPECT_GT(first.fp32, 0);
  EXPECT_GT(first.bf16, 0);
  ASSERT_TRUE(fs::exists(cache));
  const auto second = peak_flops(false, cache, 64, 0.0);
  EXPECT_TRUE(second.from_cache);
  EXPECT_DOUBLE_EQ(second.fp32, first.fp32);
  EXPECT_FALSE(peak_flops(/*remeasure=*/true, cache, 64, 0.0).from_cache);
  stilts::write_file_atomic(cache, "not json");
  EXPECT_FALSE(peak_flops(false, cache, 64, 0.0).from_cache);  // a corrupt cache is re-measured
}

}  // namespace
