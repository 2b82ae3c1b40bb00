#include "pipeline/equivalence.h"

#include <cmath>
#include <limits>
#include <vector>

#include "common/error.h"
#include "eval/metrics.h"

namespace stilts::pipeline {

const char* verdict_name(Verdict verdict) {
  // In the order of the enum.
  static const char* const kNames[] = {"equivalent", "higher", "lower", "no significant difference", "n/a"};
  return kNames[static_cast<int>(verdict)];
}

Relative compare_relative(const std::map<int64_t, double>& a, const std::map<int64_t, double>& b, double level,
                          double margin) {
  if (!(level > 0 && level < 1)) input_error("equivalence: level must be in (0, 1), got ", level);
  if (!(margin > 0)) input_error("equivalence: margin must be positive, got ", margin);
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  Relative r;
  r.level = level;
  r.margin = margin;
  r.ci_lower = r.ci_upper = kNaN;
  std::vector<double> as, bs, ratios;
  for (const auto& [seed, x] : a) {
    const auto it = b.find(seed);
    if (it == b.end() || !std::isfinite(x) || !std::isfinite(it->second) || it->second <= 0) continue;
    as.push_back(x);
    bs.push_back(it->second);
    ratios.push_back((x - it->second) / it->second);
  }
  r.n = static_cast<int>(ratios.size());
  r.mean_a = eval::mean_of(as);
  r.mean_b = eval::mean_of(bs);
  r.difference = eval::mean_of(ratios);
  if (r.n < 2) return r;
  const eval::TInterval ci = eval::mean_ci(ratios, level);
  r.ci_lower = ci.lower;
  r.ci_upper = ci.upper;
  if (ci.lower >= -margin && ci.upper <= margin) {
    r.verdict = Verdict::kEquivalent;
  } else if (ci.lower > 0) {
    r.verdict = Verdict::kHigher;
  } else if (ci.upper < 0) {
    r.verdict = Verdict::kLower;
  } else {
    r.verdict = Verdict::kInconclusive;
  }
  return r;
}

}  // namespace stilts::pipeline
