#include "report/analysis.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "eval/metrics.h"
#include "report/format.h"

namespace stilts::report {

namespace {

std::string rel_percent(double r) { return signed_fixed(100 * r, 1) + "%"; }

}  // namespace

std::string describe_comparison(const pipeline::Relative& c, const std::string& what, const std::string& unit,
                                int digits) {
  using pipeline::Verdict;
  const std::string values = fixed(c.mean_a, digits) + " vs " + fixed(c.mean_b, digits) + " " + unit;
  const std::string interval =
      rel_percent(c.difference) + " [" + rel_percent(c.ci_lower) + ", " + rel_percent(c.ci_upper) + "]";
  const std::string margin = "±" + fixed(100 * c.margin, c.margin * 100 == std::floor(c.margin * 100) ? 0 : 1) + "%";
  switch (c.verdict) {
    case Verdict::kEquivalent:
      return what + " equivalent within " + margin + " (" + values + "; " + interval + ")";
    case Verdict::kHigher:
      return what + " " + fixed(100 * c.difference, 1) + "% higher (" + values + "; " + interval + ")";
    case Verdict::kLower:
      return what + " " + fixed(-100 * c.difference, 1) + "% lower (" + values + "; " + interval + ")";
    case Verdict::kInconclusive:
      return what + ": no significant difference, though not shown equivalent within " + margin + " (" + values + "; " +
             interval + ")";
    case Verdict::kNoInterval:
      break;
  }
  if (!std::isfinite(c.mean_a) || !std::isfinite(c.mean_b)) return what + ": not measured in both arms";
  return what + " " + values + " (" + std::to_string(c.n) + " seed" + (c.n == 1 ? "" : "s") +
         " in common: no interval, so no difference is claimed)";
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
      // A stage shared by several chains of the arm (or languages) costs once.
      auto& hashes = chains[r.seed];
      if (std::find(hashes.begin(), hashes.end(), r.hash) != hashes.end()) continue;
      hashes.push_back(r.hash);
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
