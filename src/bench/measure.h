// Inference latency, throughput and memory of one or more models, measured in interleaved rounds,
// with statistics, pairwise comparisons and one output schema rendered as JSON, CSV or Markdown.
//
// A setting is (mode, threads, batch_size, seq_len, language). A repetition is one forward of one
// batch, timed with steady_clock under c10::InferenceMode (+ the mode's autocast / int8 linears):
//   - grid settings: the same batch of random ids [batch_size, seq_len] (full rows) every time;
//   - data settings (seq_len 0): the batches of one language's features, each padded to its own
//     longest row (dynamic padding), visited in a seeded random order and cycled, so the first k
//     repetitions are a random sample of the data's length distribution.
// Models are measured round-robin (round r: A's repetition r, then B's, ...), after `warmup` untimed
// repetitions each, until every model has min_reps repetitions and min_seconds of measured time
// (or max_reps), so drift on a shared machine hits every model alike and rounds pair the samples.
//
// Letters: B batch, T tokens.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/machine.h"
#include "bench/params.h"
#include "models/model.h"
#include "tasks/features.h"
#include "tasks/kind.h"

namespace stilts::bench {

// One setting's inputs for one model.
struct Workload {
  int64_t batch_size = 0;
  int64_t seq_len = 0;    // 0: the data's own lengths (dynamic padding)
  std::string language;   // "" for grid settings (and for data without languages)
  std::vector<models::Inputs> batches;  // repetition i runs batches[i % size]
  std::vector<int64_t> real_tokens;     // non-pad tokens of each batch
  double tokens_per_example = 0;        // mean non-pad tokens per example (data: over the whole language)
  int64_t examples = 0;                 // examples in the language (data), batch_size (grid)
  // Data workloads: the task kind whose inference a repetition runs (kind->forward: e.g. sentence
  // retrieval runs the encoder up to the layer it reads, no further); it must outlive measure().
  // Grid workloads (none): the head's logits, or the encoder's last hidden state without a head.
  const tasks::TaskKind* kind = nullptr;
};

// Random ids in [1, vocab) (avoiding the pad id), full rows, token types 0 where the family uses them.
Workload grid_workload(const models::EncoderModel& model, int64_t batch_size, int64_t seq_len, uint64_t seed = 0);

// One workload per language of `features` (in order of first appearance; a single "" workload when no
// example has a language), plus one "" workload pooling every language when there are several and
// `pooled` is set. Batches come from tasks::bucketed_batches(shuffle=true, seed) within each group,
// collated by `kind`, which the workloads then run (so it must outlive them).
std::vector<Workload> data_workloads(const tasks::TaskKind& kind, const tasks::Features& features, int64_t batch_size,
                                     bool pooled = false, uint64_t seed = 0);

struct MeasureOptions {
  Mode mode = Mode::kFp32;
  int threads = 0;            // 0: measurement_threads(mode)
  int warmup = 1;             // untimed repetitions per model and setting
  int min_reps = 5;
  double min_seconds = 1.0;   // measured time per model and setting
  int max_reps = 200;
  double confidence = 0.95;   // of the mean's interval and of the differences' intervals
  double equivalence_margin = 0.05;  // TOST on the latency ratio: equivalent when within 1 +/- margin
  // Where the models and their inputs are put (train::parse_device). On CUDA the clock is read after
  // torch::cuda::synchronize(); modes other than fp32 are CPU-only for now.
  torch::Device device = torch::kCPU;
  void validate() const;      // InputError naming the field
};

// A model under measurement and its workloads, in the same setting order for every model.
struct BenchModel {
  std::string name;  // label in the records (e.g. the directory)
  std::shared_ptr<models::EncoderModel> model;
  double load_s = 0;  // load time, when the model was loaded from disk
  std::vector<Workload> workloads;
};

// Loads `dir` strictly (load_pretrained, timed into load_s) as a BenchModel named `name` (default: dir).
BenchModel load_bench_model(const std::filesystem::path& dir, const std::string& name = "");

// The "models" entry of the JSON for a loaded model: name, path, load_s, parameters
// (parameter_report against `base`, when not empty) and flops_per_example {"<length>": FLOPs} at each
// of `seq_lens` (rounded to whole tokens for the count; e.g. the grid's lengths and a data mean).
nlohmann::ordered_json model_json(const BenchModel& model, const std::filesystem::path& dir,
                                  const std::filesystem::path& base, const std::vector<double>& seq_lens);

struct LatencyStats {
  int64_t reps = 0;
  double p50 = 0, p90 = 0, p99 = 0, mean = 0, std = 0, min = 0, max = 0;
  double mean_ci_lower = 0, mean_ci_upper = 0;  // Student t interval of the mean at `confidence`
};
// Quantiles by linear interpolation between order statistics (numpy's default). Empty samples: zeros.
LatencyStats latency_stats(const std::vector<double>& ms, double confidence = 0.95);

struct Record {
  std::string model;
  Mode mode = Mode::kFp32;
  int threads = 0;
  int64_t batch_size = 0, seq_len = 0;
  std::string language;
  int64_t examples = 0;
  double tokens_per_example = 0;
  LatencyStats latency_ms;
  double throughput_seq_s = 0;  // sequences over the measured time
  double throughput_tok_s = 0;  // non-pad tokens over the measured time
  double peak_rss_mb = 0;       // process VmHWM in this model's memory repetition (every loaded model counts)
  double tensor_mb = 0;         // weights as run + activation peak: VmHWM minus RSS before one untimed
                                // repetition on the largest batch, the free heap handed back first
  std::vector<double> samples_ms;  // raw per-repetition latencies, in order
};

// B relative to A on one setting, over the rounds (paired: A's and B's repetition r ran back to back).
struct Comparison {
  std::string model_a, model_b;
  int64_t batch_size = 0, seq_len = 0;
  std::string language;
  int64_t pairs = 0;
  double diff_ms_mean = 0, diff_ms_ci_lower = 0, diff_ms_ci_upper = 0;  // B - A, t interval
  double ratio = 0, ratio_ci_lower = 0, ratio_ci_upper = 0;  // exp(mean log(B/A)) and its t interval
  double margin = 0;
  bool equivalent = false;  // TOST at level 1 - confidence: the (1 - 2 alpha) ratio interval within 1 +/- margin
  std::string verdict;  // "equivalent" | "B faster" | "B slower" | "inconclusive"
};
// Paired comparison of two sample series of equal length (>= 2 pairs, else an InputError).
Comparison compare(const std::vector<double>& a_ms, const std::vector<double>& b_ms, double confidence = 0.95,
                   double margin = 0.05);

struct BenchResult {
  nlohmann::ordered_json fingerprint;
  nlohmann::ordered_json threads;  // thread settings in effect during the measurement
  MeasureOptions options;
  std::vector<Record> records;          // setting-major, then model
  std::vector<Comparison> comparisons;  // every later model against the first, per setting
};

// Measures every setting of `models` (all with the same number of workloads, matching settings).
// Sets the threads (options.threads) and restores nothing: the settings are recorded in the result.
// int8 where the build has no quantized engine is an InputError saying so.
BenchResult measure(std::vector<BenchModel>& models, const MeasureOptions& options);

// One forward of `model` as measure() runs it in `mode` (eval, InferenceMode, bf16 autocast or int8
// linears): what each mode computes, for checks against fp32.
models::Outputs forward_in_mode(models::EncoderModel& model, const models::Inputs& inputs, Mode mode);

// Process memory, from /proc/self/status (MiB); reset_peak_rss writes "5" to /proc/self/clear_refs
// (VmHWM := VmRSS). Both return false / 0 where unsupported.
double current_rss_mb();
double peak_rss_mb();
bool reset_peak_rss();

// ---- rows for results.sqlite (schema v2: tables efficiency and latency_samples) ----
struct EfficiencyRow {
  std::string model, mode;
  int threads = 0;
  int64_t batch_size = 0, seq_len = 0;
  std::string language, metric;
  double value = 0;
};
// Per-setting metrics of every record: latency_ms_p50, latency_ms_p90, latency_ms_p99, latency_ms_mean,
// latency_ms_mean_ci_lower, latency_ms_mean_ci_upper, throughput_seq_s, throughput_tok_s,
// tokens_per_example, peak_rss_mb, tensor_mb (rows named by Record::model, i.e. BenchModel::name).
std::vector<EfficiencyRow> efficiency_rows(const BenchResult& result);
// Model-level metrics (batch_size 0, seq_len 0, language ""): params_total, params_embeddings,
// params_encoder, params_head, params_trainable, params_differing (when a base was given), disk_mb,
// load_s, flops_per_example (forward, at `mean_tokens_per_example`, rounded; skipped when < 1).
std::vector<EfficiencyRow> model_efficiency_rows(const BenchModel& model, const ParameterReport& params, Mode mode,
                                                 int threads, double mean_tokens_per_example);
struct LatencySampleRow {
  std::string model, mode;
  int threads = 0;
  int64_t batch_size = 0, seq_len = 0;
  std::string language;
  int64_t rep = 0;  // 0-based, in measurement order
  double ms = 0;
};
std::vector<LatencySampleRow> latency_sample_rows(const BenchResult& result);

// ---- output: one schema, three renderings ----
// JSON (schema "stilts-bench/1"): {"schema", "fingerprint", "threads", "options", "models": [one per
// model: name, path, load_s, parameters (ParameterReport), flops_per_example {seq_len: FLOPs}],
// "records": [one per setting and model: model, mode, mode_detail, threads, batch_size, seq_len,
// language, examples, tokens_per_example, latency_ms {reps, p50, p90, p99, mean, mean_ci_lower,
// mean_ci_upper, std, min, max}, throughput_seq_s, throughput_tok_s, peak_rss_mb, tensor_mb,
// samples_ms], "comparisons": [...], "peak_flops" (when measured)}.
nlohmann::ordered_json to_json(const Record& record, bool with_samples = true);
nlohmann::ordered_json to_json(const Comparison& comparison);
nlohmann::ordered_json to_json(const BenchResult& result, const nlohmann::ordered_json& models_json,
                               bool with_samples = true);
// CSV: a header and one line per record (latency columns flattened: latency_ms_p50, ...; no samples).
std::string to_csv(const BenchResult& result);
// Markdown: the machine, the records table, the models (parameters) and the comparisons.
std::string to_markdown(const BenchResult& result, const nlohmann::ordered_json& models_json);

}  // namespace stilts::bench
