#include "pipeline/arm_summary.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "eval/metrics.h"
#include "pipeline/study_stats.h"

namespace stilts::pipeline {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kLatencyMetric = "latency_ms_p50";  // the per-seed latency figure arms are compared on

using PerSeed = std::map<int64_t, std::vector<double>>;  // seed -> values (languages, settings)

// seed -> mean over the values given for that seed
std::map<int64_t, double> per_seed_mean(const PerSeed& values) {
  std::map<int64_t, double> out;
  for (const auto& [seed, v] : values) out[seed] = eval::mean_of(v);
  return out;
}

double mean_over_seeds(const std::map<int64_t, double>& by_seed) {
  std::vector<double> v;
  for (const auto& [seed, x] : by_seed) {
    if (!std::isnan(x)) v.push_back(x);
  }
  return eval::mean_of(v);
}

}  // namespace

bool EfficiencySetting::matches(const std::string& m, int64_t t, int64_t s) const {
  return found && m == mode && t == threads && s == seq_len;
}

EfficiencySetting choose_efficiency_setting(const std::vector<EfficiencyRow>& efficiency) {
  // Ordered by preference: the data's own lengths first, then the most threads, then the mode.
  std::map<std::tuple<bool, int64_t, std::string, int64_t>, std::set<std::string>> families;
  for (const auto& e : efficiency) {
    if (e.metric != kLatencyMetric || e.batch_size <= 0) continue;
    families[{e.seq_len != 0, -e.threads, e.mode, e.seq_len}].insert(e.arm);
  }
  EfficiencySetting s;
  size_t most = 0;
  for (const auto& [key, arms] : families) {
    if (arms.size() <= most) continue;
    most = arms.size();
    s.found = true;
    s.threads = -std::get<1>(key);
    s.mode = std::get<2>(key);
    s.seq_len = std::get<3>(key);
  }
  std::map<int64_t, std::set<std::string>> batches;  // batch size -> arms measured at it
  for (const auto& e : efficiency) {
    if (e.metric == kLatencyMetric && e.batch_size > 0 && s.matches(e.mode, e.threads, e.seq_len)) {
      batches[e.batch_size].insert(e.arm);
    }
  }
  for (const auto& [b, arms] : batches) {
    if (arms.size() == most) s.batch_sizes.push_back(b);
  }
  return s;
}

std::vector<ArmLine> summarize_arms(const std::vector<ResultRow>& results, const std::vector<StageRow>& stages,
                                    const std::vector<ArmStageRow>& chains, const std::vector<EfficiencyRow>& efficiency,
                                    const ArmSummaryOptions& options) {
  const std::vector<std::string> arms = arm_names(results);
  const std::string baseline = options.baseline.empty() ? default_baseline(arms) : options.baseline;
  const Headline headline = choose_headline(results, chains, options.headline_metrics);

  std::map<std::string, PerSeed> accuracy;  // arm -> seed -> per-language values
  for (const auto& r : results) {
    if (headline.holds(r) && !std::isnan(r.value)) accuracy[r.arm][r.seed].push_back(r.value);
  }

  // Efficiency at one setting: latency at its smallest batch size, throughput at its largest, memory
  // the high-water mark over its rows.
  const EfficiencySetting setting = choose_efficiency_setting(efficiency);
  const int64_t small = setting.batch_sizes.empty() ? 0 : setting.batch_sizes.front();
  const int64_t large = setting.batch_sizes.empty() ? 0 : setting.batch_sizes.back();
  std::map<std::string, PerSeed> p50, p99, throughput, memory, params, differing;
  for (const auto& e : efficiency) {
    if (std::isnan(e.value)) continue;
    if (e.metric == "params_total") params[e.arm][e.seed].push_back(e.value);
    if (e.metric == "params_differing") differing[e.arm][e.seed].push_back(e.value);
    if (!setting.matches(e.mode, e.threads, e.seq_len)) continue;
    if (e.batch_size == small && e.metric == kLatencyMetric) p50[e.arm][e.seed].push_back(e.value);
    if (e.batch_size == small && e.metric == "latency_ms_p99") p99[e.arm][e.seed].push_back(e.value);
    if (e.batch_size == large && e.metric == "throughput_seq_s") throughput[e.arm][e.seed].push_back(e.value);
    if (e.metric == "peak_rss_mb") memory[e.arm][e.seed].push_back(e.value);
  }
  std::map<std::string, std::map<int64_t, double>> memory_peak;
  for (const auto& [arm, seeds] : memory) {
    for (const auto& [seed, v] : seeds) memory_peak[arm][seed] = *std::max_element(v.begin(), v.end());
  }

  // Training cost per (arm, seed): sums over the chain (every language's chain for per-language arms).
  std::map<std::string, const StageRow*> stage_by_hash;
  for (const auto& s : stages) stage_by_hash[s.hash] = &s;
  std::map<std::string, std::map<int64_t, double>> wall, flops;
  std::map<std::string, std::map<int64_t, std::set<std::string>>> counted;
  for (const auto& c : chains) {
    const auto it = stage_by_hash.find(c.hash);
    if (it == stage_by_hash.end() || !counted[c.arm][c.seed].insert(c.hash).second) continue;
    wall[c.arm][c.seed] += it->second->wall_s;
    flops[c.arm][c.seed] += it->second->flops;
  }

  const double scale = headline.fraction ? 100.0 : 1.0;
  std::vector<ArmLine> out;
  std::vector<std::string> order = arms;
  std::stable_partition(order.begin(), order.end(), [&](const std::string& a) { return a == baseline; });
  for (const auto& arm : order) {
    ArmLine line;
    line.arm = arm;
    line.task = headline.task;
    line.metric = headline.metric;
    line.split = headline.split;
    const auto acc = per_seed_mean(accuracy[arm]);
    line.seeds = static_cast<int>(acc.size());
    line.accuracy = mean_over_seeds(acc);
    line.latency_batch = small;
    line.throughput_batch = large;
    line.latency_p50_ms = mean_over_seeds(per_seed_mean(p50[arm]));
    line.latency_p99_ms = mean_over_seeds(per_seed_mean(p99[arm]));
    line.throughput_seq_s = mean_over_seeds(per_seed_mean(throughput[arm]));
    line.peak_rss_mb = mean_over_seeds(memory_peak[arm]);
    line.params_total = mean_over_seeds(per_seed_mean(params[arm]));
    line.params_differing = mean_over_seeds(per_seed_mean(differing[arm]));
    line.train_wall_s = mean_over_seeds(wall[arm]);
    line.train_flops = mean_over_seeds(flops[arm]);
    line.efficiency_measured = !p50[arm].empty();
    if (arm != baseline) {
      line.accuracy_points = scale * (line.accuracy - mean_over_seeds(per_seed_mean(accuracy[baseline])));
      line.latency = compare_relative(per_seed_mean(p50[arm]), per_seed_mean(p50[baseline]), options.level,
                                      options.margin);
      line.throughput = compare_relative(per_seed_mean(throughput[arm]), per_seed_mean(throughput[baseline]),
                                         options.level, options.margin);
      line.memory = compare_relative(memory_peak[arm], memory_peak[baseline], options.level, options.margin);
      const double gained = headline.higher_is_better ? line.accuracy_points : -line.accuracy_points;
      const double extra = line.train_wall_s - mean_over_seeds(wall[baseline]);
      line.seconds_per_point = gained > 0 ? extra / gained : kNaN;
    }
    out.push_back(std::move(line));
  }
  return out;
}

}  // namespace stilts::pipeline
