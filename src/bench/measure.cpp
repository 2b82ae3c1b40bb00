// Letters: B batch, T tokens, H hidden, O output features.
#include "bench/measure.h"

#include <torch/torch.h>

#include <ATen/autocast_mode.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <numeric>
#include <optional>
#include <sstream>
#include <unordered_map>

#include "common/error.h"
#include "common/memory.h"
#include "eval/metrics.h"
#include "models/pretrained.h"
#include "models/linear_hook.h"
#include "models/linear_precision.h"
#include "tasks/batch.h"
#include "train/device.h"
#include "train/evaluate.h"

namespace stilts::bench {

namespace {

double status_field_mb(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string prefix = std::string(key) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) {
      std::istringstream fields(line.substr(prefix.size()));
      double kb = 0;
      fields >> kb;
      return kb / 1024.0;
    }
  }
  return 0;
}

double quantile_sorted(const std::vector<double>& s, double q) {
  if (s.empty()) return 0;
  const double pos = q * static_cast<double>(s.size() - 1);
  const auto lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, s.size() - 1);
  return s[lo] + (pos - static_cast<double>(lo)) * (s[hi] - s[lo]);
}

struct MeanCi {
  double mean = 0, sd = 0, lower = 0, upper = 0;
};
MeanCi mean_ci(const std::vector<double>& v, double confidence) {
  MeanCi r;
  const double n = static_cast<double>(v.size());
  if (v.empty()) return r;
  r.mean = std::accumulate(v.begin(), v.end(), 0.0) / n;
  if (v.size() < 2) {
    r.lower = r.upper = r.mean;
    return r;
  }
  double ss = 0;
  for (double x : v) ss += (x - r.mean) * (x - r.mean);
  r.sd = std::sqrt(ss / (n - 1));
  const double t = eval::student_t_quantile(0.5 + confidence / 2.0, n - 1);
  r.lower = r.mean - t * r.sd / std::sqrt(n);
  r.upper = r.mean + t * r.sd / std::sqrt(n);
  return r;
}

// Autocast's weight-cast cache off for the scope. The cache keeps the bf16 copy of every weight that
// requires grad until the autocast scope ends; an inference forward uses each weight once, so the
// cache only holds ~2 bytes per parameter alive (fresh pages every forward) for no reuse. Without it
// each copy is freed after use and its memory recycled for the next (as for weights without grad).
class AutocastCacheOff {
 public:
  AutocastCacheOff() : previous_(at::autocast::is_autocast_cache_enabled()) {
    at::autocast::set_autocast_cache_enabled(false);
  }
  ~AutocastCacheOff() { at::autocast::set_autocast_cache_enabled(previous_); }
  AutocastCacheOff(const AutocastCacheOff&) = delete;
  AutocastCacheOff& operator=(const AutocastCacheOff&) = delete;

 private:
  bool previous_;
};

double weight_mb(const torch::nn::Module& model) {
  int64_t bytes = 0;
  for (const auto& p : model.parameters()) bytes += p.numel() * static_cast<int64_t>(p.element_size());
  for (const auto& b : model.buffers()) bytes += b.numel() * static_cast<int64_t>(b.element_size());
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

// The index of a workload's batch with the most token positions (the first of equals).
int64_t largest_batch(const Workload& w) {
  size_t best = 0;
  for (size_t b = 1; b < w.batches.size(); ++b) {
    if (w.batches[b].input_ids.numel() > w.batches[best].input_ids.numel()) best = b;
  }
  return static_cast<int64_t>(best);
}

std::string fixed(double v, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", digits, v);
  return buffer;
}

}  // namespace

double current_rss_mb() { return status_field_mb("VmRSS"); }
double peak_rss_mb() { return status_field_mb("VmHWM"); }
bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  if (!out) return false;
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

void MeasureOptions::validate() const {
  if (threads < 0) input_error("threads must be >= 0 (0: the mode's default), got ", threads);
  if (warmup < 0) input_error("warmup must be >= 0, got ", warmup);
  if (min_reps < 1) input_error("min_reps must be >= 1, got ", min_reps);
  if (max_reps < min_reps) input_error("max_reps (", max_reps, ") must be >= min_reps (", min_reps, ")");
  if (!(min_seconds >= 0)) input_error("min_seconds must be >= 0, got ", min_seconds);
  if (!(confidence > 0 && confidence < 1)) input_error("confidence must be in (0, 1), got ", confidence);
  if (!(equivalence_margin > 0 && equivalence_margin < 1)) {
    input_error("equivalence margin must be in (0, 1), got ", equivalence_margin);
  }
  if (device.is_cuda() && mode != Mode::kFp32) {
    input_error("--mode ", mode_name(mode), " on --device ", device.str(),
                ": the bf16 and int8 modes are CPU-only for now; benchmark a GPU with --mode fp32");
  }
}

Workload grid_workload(const models::EncoderModel& model, int64_t batch_size, int64_t seq_len, uint64_t seed) {
  if (batch_size < 1) input_error("batch size must be >= 1, got ", batch_size);
  if (seq_len < 1) input_error("sequence length must be >= 1, got ", seq_len);
  if (seq_len > model.max_positions()) {
    input_error("sequence length ", seq_len, " exceeds the model's ", model.max_positions(),
                " positions (max_position_embeddings)");
  }
  torch::manual_seed(seed);
  const int64_t pad = model.pad_token_id();
  auto ids = torch::randint(0, model.vocab_size() - 1, {batch_size, seq_len}, torch::kLong);  // [B, T]
  ids = ids + (ids >= pad).to(torch::kLong);  // every id but the pad id
  Workload w;
  w.batch_size = batch_size;
  w.seq_len = seq_len;
  models::Inputs in;
  in.input_ids = ids;
  in.attention_mask = torch::ones({batch_size, seq_len}, torch::kLong);
  if (model.uses_token_type_ids()) in.token_type_ids = torch::zeros({batch_size, seq_len}, torch::kLong);
  w.batches.push_back(in);
  w.real_tokens.push_back(batch_size * seq_len);
  w.tokens_per_example = static_cast<double>(seq_len);
  w.examples = batch_size;
  return w;
}

std::vector<Workload> data_workloads(const tasks::TaskKind& kind, const tasks::Features& features, int64_t batch_size,
                                     bool pooled, uint64_t seed) {
  if (batch_size < 1) input_error("batch size must be >= 1, got ", batch_size);
  if (features.size() == 0) input_error("the data has no examples to benchmark");
  std::vector<std::string> languages;
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < features.size(); ++i) {
    const std::string lang = i < features.languages.size() ? features.languages[i] : "";
    if (!groups.count(lang)) languages.push_back(lang);
    groups[lang].push_back(i);
  }
  if (pooled && languages.size() > 1) {
    std::vector<size_t> all(features.size());
    std::iota(all.begin(), all.end(), size_t{0});
    languages.push_back("");
    groups[""] = all;
  }
  std::vector<Workload> out;
  for (const auto& lang : languages) {
    const auto& rows = groups[lang];
    const tasks::Features sub = tasks::select_features(features, rows);
    const int64_t tokens = sub.num_tokens();
    Workload w;
    w.kind = &kind;
    w.batch_size = batch_size;
    w.seq_len = 0;
    w.language = lang;
    w.examples = static_cast<int64_t>(rows.size());
    w.tokens_per_example = static_cast<double>(tokens) / static_cast<double>(rows.size());
    for (const auto& indices : tasks::bucketed_batches(sub, batch_size, seed, /*epoch=*/0, /*shuffle=*/true)) {
      auto batch = kind.collate(sub, indices, torch::kCPU);
      w.batches.push_back(batch.inputs);
      w.real_tokens.push_back(batch.real_tokens);
    }
    out.push_back(std::move(w));
  }
  return out;
}

LatencyStats latency_stats(const std::vector<double>& ms, double confidence) {
  LatencyStats s;
  s.reps = static_cast<int64_t>(ms.size());
  if (ms.empty()) return s;
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  s.p50 = quantile_sorted(sorted, 0.5);
  s.p90 = quantile_sorted(sorted, 0.9);
  s.p99 = quantile_sorted(sorted, 0.99);
  s.min = sorted.front();
  s.max = sorted.back();
  const MeanCi m = mean_ci(ms, confidence);
  s.mean = m.mean;
  s.std = m.sd;
  s.mean_ci_lower = m.lower;
  s.mean_ci_upper = m.upper;
  return s;
}

Comparison compare(const std::vector<double>& a, const std::vector<double>& b, double confidence, double margin) {
  if (a.size() != b.size() || a.size() < 2) {
    input_error("a paired comparison needs two series of equal length >= 2, got ", a.size(), " and ", b.size());
  }
  Comparison c;
  c.pairs = static_cast<int64_t>(a.size());
  c.margin = margin;
  std::vector<double> diff, log_ratio;
  for (size_t i = 0; i < a.size(); ++i) {
    diff.push_back(b[i] - a[i]);
    log_ratio.push_back(std::log(b[i] / a[i]));
  }
  const MeanCi d = mean_ci(diff, confidence);
  c.diff_ms_mean = d.mean;
  c.diff_ms_ci_lower = d.lower;
  c.diff_ms_ci_upper = d.upper;
  const MeanCi l = mean_ci(log_ratio, confidence);
  c.ratio = std::exp(l.mean);
  c.ratio_ci_lower = std::exp(l.lower);
  c.ratio_ci_upper = std::exp(l.upper);
  // TOST: both one-sided tests at alpha = 1 - confidence reject <=> the (1 - 2 alpha) interval lies
  // inside the margin.
  const MeanCi tost = mean_ci(log_ratio, 1.0 - 2.0 * (1.0 - confidence));
  c.equivalent = std::exp(tost.lower) >= 1.0 - margin && std::exp(tost.upper) <= 1.0 + margin;
  if (c.equivalent) {
    c.verdict = "equivalent";
  } else if (c.ratio_ci_upper < 1.0) {
    c.verdict = "B faster";
  } else if (c.ratio_ci_lower > 1.0) {
    c.verdict = "B slower";
  } else {
    c.verdict = "inconclusive";
  }
  return c;
}

BenchResult measure(std::vector<BenchModel>& models, const MeasureOptions& options) {
  options.validate();
  if (models.empty()) input_error("no model to benchmark");
  const size_t settings = models.front().workloads.size();
  for (const auto& m : models) {
    if (m.workloads.size() != settings) {
      input_error(m.name, ": ", m.workloads.size(), " settings, the first model has ", settings);
    }
    for (const auto& w : m.workloads) {
      if (w.batches.empty()) input_error(m.name, ": a setting without batches");
    }
  }
  // Models and inputs on the device, once, before anything is timed.
  for (auto& m : models) {
    m.model->to(options.device);
    for (auto& w : m.workloads) {
      for (auto& in : w.batches) {
        in.input_ids = in.input_ids.to(options.device);
        in.attention_mask = in.attention_mask.to(options.device);
        if (in.token_type_ids.defined()) in.token_type_ids = in.token_type_ids.to(options.device);
      }
    }
  }
  BenchResult result;
  result.options = options;
  result.threads = apply_threads(options.mode, options.threads);
  const int threads = at::get_num_threads();

  // Per model: the mode's state (int8 linears) and the weights' size as run.
  std::vector<std::unique_ptr<models::Int8Linears>> int8(models.size());
  std::vector<std::unique_ptr<models::Bf16Linears>> bf16(models.size());
  std::vector<double> weights(models.size());
  for (size_t k = 0; k < models.size(); ++k) {
    models[k].model->eval();
    weights[k] = weight_mb(*models[k].model);
    if (options.mode == Mode::kInt8) {
      int8[k] = std::make_unique<models::Int8Linears>(*models[k].model);
      weights[k] -= static_cast<double>(int8[k]->bytes_saved()) / (1024.0 * 1024.0);
    }
    if (options.mode == Mode::kBf16) {
      bf16[k] = std::make_unique<models::Bf16Linears>(*models[k].model);
      weights[k] += static_cast<double>(bf16[k]->bytes()) / (1024.0 * 1024.0);
    }
  }
  const Precision precision = options.mode;  // autocast for bf16 only
  const bool memory = reset_peak_rss();

  c10::InferenceMode inference;
  AutocastCacheOff no_cast_cache;
  for (size_t s = 0; s < settings; ++s) {
    std::vector<std::vector<double>> samples(models.size());
    std::vector<double> seconds(models.size(), 0.0), peak(models.size(), 0.0), activations(models.size(), 0.0);
    std::vector<int64_t> sequences(models.size(), 0), tokens(models.size(), 0);
    // One repetition of model k: batch `rep` of its workload (cycled).
    enum class Rep { kWarmup, kMemory, kTimed };
    auto run = [&](size_t k, int64_t rep, Rep purpose) {
      const Workload& w = models[k].workloads[s];
      const size_t b = static_cast<size_t>(rep) % w.batches.size();
      const models::Inputs& in = w.batches[b];
      models::ScopedLinearHook hook(int8[k] ? int8[k]->hook() : bf16[k] ? bf16[k]->hook() : nullptr);
      double before = 0;
      if (purpose == Rep::kMemory) {
        // From a clean start: the free memory earlier repetitions left in the heap goes back to the
        // kernel, so the high-water mark rises by exactly what this forward holds at its peak.
        release_freed_memory();
        reset_peak_rss();
        before = current_rss_mb();
      }
      train::synchronize(options.device);  // CUDA runs asynchronously: time this forward only
      const auto t0 = std::chrono::steady_clock::now();
      {
        train::AutocastScope autocast(precision, options.device);
        // Task data runs as the task's inference does; a grid's classifier runs as inference does
        // (logits(): the last layer at the position the head reads), an encoder without a head
        // computes every position's output.
        auto& model = *models[k].model;
        torch::Tensor out;
        if (w.kind != nullptr) {
          tasks::Batch batch;
          batch.inputs = in;
          out = w.kind->forward(model, batch);
        } else {
          out = model.has_head() ? model.logits(in) : model.forward(in).last_hidden_state;
        }
        train::synchronize(options.device);
      }
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (purpose == Rep::kMemory) {
        const double hwm = peak_rss_mb();
        peak[k] = std::max(peak[k], hwm);
        activations[k] = std::max(activations[k], hwm - before);
      }
      if (purpose != Rep::kTimed) return;
      samples[k].push_back(ms);
      seconds[k] += ms / 1000.0;
      sequences[k] += in.input_ids.size(0);
      tokens[k] += w.real_tokens[b];
    };
    for (size_t k = 0; k < models.size(); ++k) {
      for (int i = 0; i < options.warmup; ++i) run(k, i, Rep::kWarmup);
      // Memory: one untimed repetition per model (the largest batch of a data workload: the peak).
      if (memory) run(k, largest_batch(models[k].workloads[s]), Rep::kMemory);
    }
    for (int64_t rep = 0;; ++rep) {
      // A B, then B A: an order effect (caches, turbo, the allocator) falls on every model alike
      // instead of always favouring the one measured first.
      for (size_t j = 0; j < models.size(); ++j) {
        run(rep % 2 == 0 ? j : models.size() - 1 - j, rep, Rep::kTimed);
      }
      const int64_t done = rep + 1;
      if (done >= options.max_reps) break;
      const bool enough = done >= options.min_reps &&
                          std::all_of(seconds.begin(), seconds.end(), [&](double t) { return t >= options.min_seconds; });
      if (enough) break;
    }
    for (size_t k = 0; k < models.size(); ++k) {
      const Workload& w = models[k].workloads[s];
      Record r;
      r.model = models[k].name;
      r.mode = options.mode;
      r.threads = threads;
      r.batch_size = w.batch_size;
      r.seq_len = w.seq_len;
      r.language = w.language;
      r.examples = w.examples;
      r.tokens_per_example = w.tokens_per_example;
      r.latency_ms = latency_stats(samples[k], options.confidence);
      r.throughput_seq_s = seconds[k] > 0 ? static_cast<double>(sequences[k]) / seconds[k] : 0;
      r.throughput_tok_s = seconds[k] > 0 ? static_cast<double>(tokens[k]) / seconds[k] : 0;
      r.peak_rss_mb = peak[k];
      r.tensor_mb = weights[k] + activations[k];
      r.samples_ms = samples[k];
      result.records.push_back(std::move(r));
    }
    for (size_t k = 1; k < models.size(); ++k) {
      if (samples[0].size() < 2) continue;
      Comparison c = compare(samples[0], samples[k], options.confidence, options.equivalence_margin);
      c.model_a = models[0].name;
      c.model_b = models[k].name;
      c.batch_size = models[0].workloads[s].batch_size;
      c.seq_len = models[0].workloads[s].seq_len;
      c.language = models[0].workloads[s].language;
      result.comparisons.push_back(std::move(c));
    }
  }
  result.fingerprint = machine_fingerprint();
  return result;
}

models::Outputs forward_in_mode(models::EncoderModel& model, const models::Inputs& inputs, Mode mode) {
  model.eval();
  std::unique_ptr<models::Int8Linears> int8;
  std::unique_ptr<models::Bf16Linears> bf16;
  if (mode == Mode::kInt8) int8 = std::make_unique<models::Int8Linears>(model);
  if (mode == Mode::kBf16) bf16 = std::make_unique<models::Bf16Linears>(model);
  c10::InferenceMode inference;
  AutocastCacheOff no_cast_cache;
  models::ScopedLinearHook hook(int8 ? int8->hook() : bf16 ? bf16->hook() : nullptr);
  train::AutocastScope autocast(mode);  // bf16 only
  return model.forward(inputs);
}

BenchModel load_bench_model(const std::filesystem::path& dir, const std::string& name) {
  BenchModel m;
  m.name = name.empty() ? dir.string() : name;
  const auto start = std::chrono::steady_clock::now();
  m.model = models::load_pretrained(dir).model;
  m.load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  m.model->eval();
  return m;
}

nlohmann::ordered_json model_json(const BenchModel& m, const std::filesystem::path& dir,
                                  const std::filesystem::path& base, const std::vector<double>& seq_lens) {
  const nlohmann::json config = m.model->config_json();
  nlohmann::ordered_json flops = nlohmann::ordered_json::object();
  for (const double len : seq_lens) {
    const auto t = static_cast<int64_t>(std::llround(len));
    if (t >= 1) flops[fixed(len, len == std::floor(len) ? 0 : 2)] = forward_flops(config, t, m.model->has_head());
  }
  return {{"name", m.name},
          {"path", dir.string()},
          {"load_s", m.load_s},
          {"parameters", to_json(parameter_report(*m.model, dir, base))},
          {"flops_per_example", flops}};
}

std::vector<EfficiencyRow> efficiency_rows(const BenchResult& result) {
  std::vector<EfficiencyRow> rows;
  for (const auto& r : result.records) {
    auto add = [&](const char* metric, double value) {
      rows.push_back({r.model, mode_name(r.mode), r.threads, r.batch_size, r.seq_len, r.language, metric, value});
    };
    const auto& l = r.latency_ms;
    add("latency_ms_p50", l.p50);
    add("latency_ms_p90", l.p90);
    add("latency_ms_p99", l.p99);
    add("latency_ms_mean", l.mean);
    add("latency_ms_mean_ci_lower", l.mean_ci_lower);
    add("latency_ms_mean_ci_upper", l.mean_ci_upper);
    add("throughput_seq_s", r.throughput_seq_s);
    add("throughput_tok_s", r.throughput_tok_s);
    add("tokens_per_example", r.tokens_per_example);
    add("peak_rss_mb", r.peak_rss_mb);
    add("tensor_mb", r.tensor_mb);
  }
  return rows;
}

std::vector<EfficiencyRow> model_efficiency_rows(const BenchModel& model, const ParameterReport& params, Mode mode,
                                                 int threads, double mean_tokens_per_example) {
  std::vector<EfficiencyRow> rows;
  auto add = [&](const char* metric, double value) {
    rows.push_back({model.name, mode_name(mode), threads, 0, 0, "", metric, value});
  };
  const auto& c = params.counts;
  add("params_total", static_cast<double>(c.total));
  add("params_embeddings", static_cast<double>(c.embeddings));
  add("params_encoder", static_cast<double>(c.encoder));
  add("params_head", static_cast<double>(c.head));
  add("params_trainable", static_cast<double>(c.trainable));
  if (params.params_differing >= 0) add("params_differing", static_cast<double>(params.params_differing));
  add("disk_mb", static_cast<double>(params.bytes_on_disk) / (1024.0 * 1024.0));
  add("load_s", model.load_s);
  const auto tokens = static_cast<int64_t>(std::llround(mean_tokens_per_example));
  if (tokens >= 1) {
    add("flops_per_example", forward_flops(model.model->config_json(), tokens, model.model->has_head()));
  }
  return rows;
}

std::vector<LatencySampleRow> latency_sample_rows(const BenchResult& result) {
  std::vector<LatencySampleRow> rows;
  for (const auto& r : result.records) {
    for (size_t i = 0; i < r.samples_ms.size(); ++i) {
      rows.push_back({r.model, mode_name(r.mode), r.threads, r.batch_size, r.seq_len, r.language,
                      static_cast<int64_t>(i), r.samples_ms[i]});
    }
  }
  return rows;
}

// ---- output ----

nlohmann::ordered_json to_json(const Record& r, bool with_samples) {
  const auto& l = r.latency_ms;
  nlohmann::ordered_json j = {
      {"model", r.model},
      {"mode", mode_name(r.mode)},
      {"mode_detail", mode_detail(r.mode)},
      {"threads", r.threads},
      {"batch_size", r.batch_size},
      {"seq_len", r.seq_len},
      {"language", r.language},
      {"examples", r.examples},
      {"tokens_per_example", r.tokens_per_example},
      {"latency_ms",
       {{"reps", l.reps}, {"p50", l.p50}, {"p90", l.p90}, {"p99", l.p99}, {"mean", l.mean},
        {"mean_ci_lower", l.mean_ci_lower}, {"mean_ci_upper", l.mean_ci_upper}, {"std", l.std},
        {"min", l.min}, {"max", l.max}}},
      {"throughput_seq_s", r.throughput_seq_s},
      {"throughput_tok_s", r.throughput_tok_s},
      {"peak_rss_mb", r.peak_rss_mb},
      {"tensor_mb", r.tensor_mb}};
  if (with_samples) j["samples_ms"] = r.samples_ms;
  return j;
}

nlohmann::ordered_json to_json(const Comparison& c) {
  return {{"model_a", c.model_a},
          {"model_b", c.model_b},
          {"batch_size", c.batch_size},
          {"seq_len", c.seq_len},
          {"language", c.language},
          {"pairs", c.pairs},
          {"diff_ms", {{"mean", c.diff_ms_mean}, {"ci_lower", c.diff_ms_ci_lower}, {"ci_upper", c.diff_ms_ci_upper}}},
          {"ratio", {{"value", c.ratio}, {"ci_lower", c.ratio_ci_lower}, {"ci_upper", c.ratio_ci_upper}}},
          {"margin", c.margin},
          {"equivalent", c.equivalent},
          {"verdict", c.verdict}};
}

nlohmann::ordered_json to_json(const BenchResult& result, const nlohmann::ordered_json& models_json,
                               bool with_samples) {
  nlohmann::ordered_json j;
  j["schema"] = "stilts-bench/1";
  j["fingerprint"] = result.fingerprint;
  j["threads"] = result.threads;
  const auto& o = result.options;
  j["options"] = {{"mode", mode_name(o.mode)}, {"threads", o.threads},   {"warmup", o.warmup},
                  {"min_reps", o.min_reps},   {"min_seconds", o.min_seconds}, {"max_reps", o.max_reps},
                  {"confidence", o.confidence}, {"equivalence_margin", o.equivalence_margin}};
  j["models"] = models_json;
  j["records"] = nlohmann::ordered_json::array();
  for (const auto& r : result.records) j["records"].push_back(to_json(r, with_samples));
  j["comparisons"] = nlohmann::ordered_json::array();
  for (const auto& c : result.comparisons) j["comparisons"].push_back(to_json(c));
  return j;
}

std::string to_csv(const BenchResult& result) {
  std::ostringstream out;
  out << "model,mode,threads,batch_size,seq_len,language,examples,tokens_per_example,reps,latency_ms_p50,"
         "latency_ms_p90,latency_ms_p99,latency_ms_mean,latency_ms_mean_ci_lower,latency_ms_mean_ci_upper,"
         "latency_ms_std,throughput_seq_s,throughput_tok_s,peak_rss_mb,tensor_mb\n";
  auto quote = [](const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  for (const auto& r : result.records) {
    const auto& l = r.latency_ms;
    out << quote(r.model) << ',' << mode_name(r.mode) << ',' << r.threads << ',' << r.batch_size << ',' << r.seq_len
        << ',' << quote(r.language) << ',' << r.examples << ',' << fixed(r.tokens_per_example, 2) << ',' << l.reps
        << ',' << fixed(l.p50, 3) << ',' << fixed(l.p90, 3) << ',' << fixed(l.p99, 3) << ',' << fixed(l.mean, 3)
        << ',' << fixed(l.mean_ci_lower, 3) << ',' << fixed(l.mean_ci_upper, 3) << ',' << fixed(l.std, 3) << ','
        << fixed(r.throughput_seq_s, 3) << ',' << fixed(r.throughput_tok_s, 1) << ',' << fixed(r.peak_rss_mb, 1)
        << ',' << fixed(r.tensor_mb, 1) << '\n';
  }
  return out.str();
}

std::string to_markdown(const BenchResult& result, const nlohmann::ordered_json& models_json) {
  std::ostringstream out;
  const auto& f = result.fingerprint;
  std::string isa;
  for (const auto& x : f.value("isa", nlohmann::ordered_json::array())) isa += (isa.empty() ? "" : " ") + x.get<std::string>();
  const auto& t = result.threads;
  auto str = [](const nlohmann::ordered_json& v) { return v.is_null() ? std::string("unset") : v.is_string() ? v.get<std::string>() : v.dump(); };
  out << "machine: " << f.value("cpu", std::string("?")) << ", " << f.value("cores", 0) << " cores, " << isa
      << "; libtorch " << f.value("libtorch", std::string("?")) << "; load average " << f["load_average"].dump() << "\n";
  out << "threads: torch " << str(t["torch_threads"]) << ", OpenBLAS " << str(t["openblas_threads"]) << " ("
      << str(t["openblas_core"]) << " kernels, OPENBLAS_CORETYPE=" << str(t["OPENBLAS_CORETYPE"]) << ")\n";
  out << "mode: " << mode_name(result.options.mode) << " (" << mode_detail(result.options.mode) << ")\n\n";
  out << "| model | batch | seq | lang | tok/ex | reps | p50 ms | p90 ms | p99 ms | mean ms [" << fixed(result.options.confidence * 100, 0)
      << "% CI] | seq/s | tok/s | peak RSS MB | tensor MB |\n";
  out << "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : result.records) {
    const auto& l = r.latency_ms;
    out << "| " << r.model << " | " << r.batch_size << " | " << (r.seq_len ? std::to_string(r.seq_len) : "data") << " | "
        << (r.language.empty() ? "-" : r.language) << " | " << fixed(r.tokens_per_example, 1) << " | " << l.reps
        << " | " << fixed(l.p50, 2) << " | " << fixed(l.p90, 2) << " | " << fixed(l.p99, 2) << " | " << fixed(l.mean, 2)
        << " [" << fixed(l.mean_ci_lower, 2) << ", " << fixed(l.mean_ci_upper, 2) << "] | " << fixed(r.throughput_seq_s, 2)
        << " | " << fixed(r.throughput_tok_s, 0) << " | " << fixed(r.peak_rss_mb, 0) << " | " << fixed(r.tensor_mb, 0)
        << " |\n";
  }
  if (!models_json.empty()) {
    out << "\n| model | type | load s | params total | embeddings | encoder | pooler | head | differing from base | disk MB |\n"
        << "|---|---|---|---|---|---|---|---|---|---|\n";
    for (const auto& m : models_json) {
      const auto& p = m["parameters"]["parameters"];
      const auto& differing = m["parameters"]["params_differing"];
      out << "| " << m.value("name", std::string("?")) << " | " << m["parameters"].value("model_type", std::string("?"))
          << " | " << fixed(m.value("load_s", 0.0), 2) << " | " << p.value("total", int64_t{0}) << " | "
          << p.value("embeddings", int64_t{0}) << " | " << p.value("encoder", int64_t{0}) << " | "
          << p.value("pooler", int64_t{0}) << " | " << p.value("head", int64_t{0}) << " | "
          << (differing.is_null() ? std::string("-") : differing.dump()) << " | "
          << fixed(m["parameters"].value("disk_mb", 0.0), 1) << " |\n";
    }
  }
  if (!result.comparisons.empty()) {
    out << "\n| B vs A | batch | seq | lang | pairs | B - A ms [CI] | ratio B/A [CI] | within ±"
        << fixed(result.options.equivalence_margin * 100, 0) << "% (TOST) | verdict |\n"
        << "|---|---|---|---|---|---|---|---|---|\n";
    for (const auto& c : result.comparisons) {
      out << "| " << c.model_b << " vs " << c.model_a << " | " << c.batch_size << " | "
          << (c.seq_len ? std::to_string(c.seq_len) : "data") << " | " << (c.language.empty() ? "-" : c.language)
          << " | " << c.pairs << " | " << fixed(c.diff_ms_mean, 2) << " [" << fixed(c.diff_ms_ci_lower, 2) << ", "
          << fixed(c.diff_ms_ci_upper, 2) << "] | " << fixed(c.ratio, 3) << " [" << fixed(c.ratio_ci_lower, 3) << ", "
          << fixed(c.ratio_ci_upper, 3) << "] | " << (c.equivalent ? "yes" : "no") << " | " << c.verdict << " |\n";
    }
  }
  return out.str();
}

}  // namespace stilts::bench
