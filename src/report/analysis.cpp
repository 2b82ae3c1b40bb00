#include "report/analysis.h"

#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "eval/metrics.h"
#include "report/format.h"

namespace stilts::report {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string rel_percent(double r) { return signed_fixed(100 * r, 1) + "%"; }

}  // namespace

Comparison compare_measurements(const std::vector<double>& a, const std::vector<double>& b, double level,
                                double margin) {
  Comparison c;
  c.n_a = static_cast<int>(a.size());
  c.n_b = static_cast<int>(b.size());
  c.mean_a = eval::mean_of(a);
  c.mean_b = eval::mean_of(b);
  c.level = level;
  c.margin = margin;
  c.relative = c.mean_b != 0 ? (c.mean_a - c.mean_b) / c.mean_b : kNaN;
  c.relative_lower = c.relative_upper = kNaN;
  if (a.size() < 2 || b.size() < 2 || !std::isfinite(c.relative) || c.mean_b <= 0) {
    c.verdict = Verdict::kNoInterval;
    return c;
  }
  const auto ci = eval::welch_difference_ci(a, b, level);
  c.relative_lower = ci.lower / c.mean_b;
  c.relative_upper = ci.upper / c.mean_b;
  if (c.relative_lower >= -margin && c.relative_upper <= margin) {
    c.verdict = Verdict::kEquivalent;
  } else if (c.relative_lower > 0) {
    c.verdict = Verdict::kHigher;
  } else if (c.relative_upper < 0) {
    c.verdict = Verdict::kLower;
  } else {
    c.verdict = Verdict::kInconclusive;
  }
  return c;
}

std::string describe_comparison(const Comparison& c, const std::string& what, const std::string& unit, int digits) {
  const std::string values = fixed(c.mean_a, digits) + " vs " + fixed(c.mean_b, digits) + " " + unit;
  const std::string interval =
      rel_percent(c.relative) + " [" + rel_percent(c.relative_lower) + ", " + rel_percent(c.relative_upper) + "]";
  const std::string margin = "±" + fixed(100 * c.margin, c.margin * 100 == std::floor(c.margin * 100) ? 0 : 1) + "%";
  switch (c.verdict) {
    case Verdict::kEquivalent:
      return what + " equivalent within " + margin + " (" + values + "; " + interval + ")";
    case Verdict::kHigher:
      return what + " " + fixed(100 * c.relative, 1) + "% higher (" + values + "; " + interval + ")";
    case Verdict::kLower:
      return what + " " + fixed(-100 * c.relative, 1) + "% lower (" + values + "; " + interval + ")";
    case Verdict::kInconclusive:
      return what + ": no significant difference, though not shown equivalent within " + margin + " (" + values + "; " +
             interval + ")";
    case Verdict::kNoInterval:
      break;
  }
  if (!std::isfinite(c.mean_a) || !std::isfinite(c.mean_b)) return what + ": not measured in both arms";
  return what + " " + values + " (" + std::to_string(std::min(c.n_a, c.n_b)) +
         " measurement per arm: no interval, so no difference is claimed)";
}

std::vector<ArmCost> arm_costs(const RunData& data, const std::vector<std::string>& arms) {
  std::map<std::string, const pipeline::StageRow*> by_hash;
  for (const auto& s : data.stages) by_hash[s.hash] = &s;
  std::vector<ArmCost> out;
  for (const auto& arm : arms) {
    ArmCost cost;
    cost.arm = arm;
    // seed -> stage hashes of the arm's chain
    std::map<int64_t, std::vector<std::string>> chains;
    std::map<int64_t, std::vector<std::string>> names;
    for (const auto& r : data.arm_stages) {
      if (r.arm != arm) continue;
      chains[r.seed].push_back(r.hash);
      names[r.seed].push_back(r.stage);
    }
    if (chains.empty()) {
      for (const auto& s : data.stages) {
        if (s.arm != arm) continue;
        chains[s.seed].push_back(s.hash);
        names[s.seed].push_back(s.name);
      }
    }
    if (!names.empty()) cost.chain = names.begin()->second;
    cost.seeds = static_cast<int>(chains.size());
    std::vector<double> wall, cpu, flops, examples, tokens;
    for (const auto& [seed, hashes] : chains) {
      double w = 0, c = 0, f = 0, e = 0, t = 0;
      bool has_w = false, has_c = false, has_f = false;
      for (const auto& h : hashes) {
        const auto it = by_hash.find(h);
        if (it == by_hash.end()) {
          cost.all_done = false;
          continue;
        }
        const pipeline::StageRow& s = *it->second;
        if (s.status != "done") cost.all_done = false;
        if (std::isfinite(s.wall_s)) w += s.wall_s, has_w = true;
        if (std::isfinite(s.cpu_s)) c += s.cpu_s, has_c = true;
        if (std::isfinite(s.flops) && s.flops > 0) f += s.flops, has_f = true;
        e += static_cast<double>(s.examples);
        t += static_cast<double>(s.tokens);
      }
      if (has_w) wall.push_back(w);
      if (has_c) cpu.push_back(c);
      if (has_f) flops.push_back(f);
      examples.push_back(e);
      tokens.push_back(t);
    }
    cost.wall_s = eval::mean_of(wall);
    cost.cpu_s = eval::mean_of(cpu);
    cost.flops = eval::mean_of(flops);
    cost.examples = eval::mean_of(examples);
    cost.tokens = eval::mean_of(tokens);
    out.push_back(cost);
  }
  return out;
}

}  // namespace stilts::report
