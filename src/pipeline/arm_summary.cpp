#include "pipeline/arm_summary.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "eval/metrics.h"
#include "pipeline/study_stats.h"

namespace stilts::pipeline {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// seed -> mean over the values given for that seed
std::map<int64_t, double> per_seed_mean(const std::map<int64_t, std::vector<double>>& values) {
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

Relative relative(const std::map<int64_t, double>& arm, const std::map<int64_t, double>& base, double level,
                  double margin) {
  Relative r;
  std::vector<double> diffs;
  for (const auto& [seed, x] : arm) {
    const auto it = base.find(seed);
    if (it == base.end() || std::isnan(x) || std::isnan(it->second) || it->second == 0) continue;
    diffs.push_back((x - it->second) / it->second);
  }
  r.n = static_cast<int>(diffs.size());
  if (diffs.empty()) {
    r.verdict = "n/a";
    r.difference = r.ci_lower = r.ci_upper = kNaN;
    return r;
  }
  r.difference = eval::mean_of(diffs);
  if (diffs.size() < 2) {
    r.ci_lower = r.ci_upper = kNaN;
    r.verdict = "n/a";
    return r;
  }
  const eval::TInterval ci = eval::mean_ci(diffs, level);
  r.ci_lower = ci.lower;
  r.ci_upper = ci.upper;
  if (ci.lower >= -margin && ci.upper <= margin) {
    r.verdict = "equivalent";
  } else if (ci.lower > 0) {
    r.verdict = "higher";
  } else if (ci.upper < 0) {
    r.verdict = "lower";
  } else {
    r.verdict = "no significant difference";
  }
  return r;
}

}  // namespace

std::vector<ArmLine> summarize_arms(const std::vector<ResultRow>& results, const std::vector<StageRow>& stages,
                                    const std::vector<ArmStageRow>& chains, const std::vector<EfficiencyRow>& efficiency,
                                    const ArmSummaryOptions& options) {
  const std::vector<std::string> arms = arm_names(results);
  const std::string baseline = options.baseline.empty() ? default_baseline(arms) : options.baseline;

  const Headline headline = choose_headline(results, chains, options.headline_metrics);
  std::map<std::string, std::map<int64_t, std::vector<double>>> accuracy;  // arm -> seed -> per-language values
  for (const auto& r : results) {
    if (headline.holds(r) && !std::isnan(r.value)) accuracy[r.arm][r.seed].push_back(r.value);
  }

  // Efficiency: smallest / largest batch size with latency figures.
  std::set<int64_t> batches;
  for (const auto& e : efficiency) {
    if (e.metric == "latency_ms_p50" && e.batch_size > 0) batches.insert(e.batch_size);
  }
  const int64_t small = batches.empty() ? 0 : *batches.begin();
  const int64_t large = batches.empty() ? 0 : *batches.rbegin();
  std::map<std::string, std::map<int64_t, std::vector<double>>> p50, p99, throughput, memory, params, differing;
  for (const auto& e : efficiency) {
    if (std::isnan(e.value)) continue;
    if (e.batch_size == small && e.metric == "latency_ms_p50") p50[e.arm][e.seed].push_back(e.value);
    if (e.batch_size == small && e.metric == "latency_ms_p99") p99[e.arm][e.seed].push_back(e.value);
    if (e.batch_size == large && e.metric == "throughput_seq_s") throughput[e.arm][e.seed].push_back(e.value);
    if (e.metric == "peak_rss_mb") memory[e.arm][e.seed].push_back(e.value);
    if (e.metric == "params_total") params[e.arm][e.seed].push_back(e.value);
    if (e.metric == "params_differing") differing[e.arm][e.seed].push_back(e.value);
  }
  // Peak memory: the high-water mark over the arm's settings, not their mean.
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
      const auto base_acc = per_seed_mean(accuracy[baseline]);
      line.accuracy_points = scale * (line.accuracy - mean_over_seeds(base_acc));
      line.latency = relative(per_seed_mean(p50[arm]), per_seed_mean(p50[baseline]), options.level, options.margin);
      line.throughput = relative(per_seed_mean(throughput[arm]), per_seed_mean(throughput[baseline]), options.level,
                                 options.margin);
      line.memory = relative(memory_peak[arm], memory_peak[baseline], options.level, options.margin);
      const double gained = headline.higher_is_better ? line.accuracy_points : -line.accuracy_points;
      const double extra = line.train_wall_s - mean_over_seeds(wall[baseline]);
      line.seconds_per_point = gained > 0 ? extra / gained : kNaN;
    }
    out.push_back(std::move(line));
  }
  return out;
}

}  // namespace stilts::pipeline
