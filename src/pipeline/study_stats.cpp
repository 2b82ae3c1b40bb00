#include "pipeline/study_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "common/error.h"
#include "eval/metrics.h"
#include "tasks/kind.h"

namespace stilts::pipeline {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// (task, split, metric, language, stage): the order tables read in.
using FigureKey = std::tuple<std::string, std::string, std::string, std::string, std::string>;
using SeedValues = std::map<int64_t, double>;  // seed -> value (NaN kept)
// arm -> figure -> seed values
using Index = std::map<std::string, std::map<FigureKey, SeedValues>>;

Index index_rows(const std::vector<ResultRow>& rows) {
  Index index;
  for (const auto& r : rows) {
    auto& seeds = index[r.arm][FigureKey{r.task, r.split, r.metric, r.language, r.stage}];
    if (!seeds.emplace(r.seed, r.value).second) {
      input_error("results: two rows for arm '", r.arm, "', seed ", r.seed, ", stage '", r.stage, "', task '",
                  r.task, "', language '", r.language, "', split '", r.split, "', metric '", r.metric, "'");
    }
  }
  return index;
}

double sample_std(const std::vector<double>& v) {
  if (v.size() < 2) return kNaN;
  const double m = eval::mean_of(v);
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

bool defined(double v) { return !std::isnan(v); }

DifferenceRow difference(const std::string& arm_a, const std::string& arm_b, const SeedValues& a,
                         const SeedValues& b, const StatsOptions& options) {
  DifferenceRow d;
  d.arm_a = arm_a;
  d.arm_b = arm_b;
  d.level = options.level;
  std::vector<double> va, vb, diffs;
  for (const auto& [seed, value] : a) {
    if (!defined(value)) continue;
    va.push_back(value);
    const auto it = b.find(seed);
    if (it != b.end() && defined(it->second)) diffs.push_back(value - it->second);
  }
  for (const auto& [seed, value] : b) {
    if (defined(value)) vb.push_back(value);
  }
  if (diffs.size() >= 2) {
    d.method = "paired-t";
    d.n = static_cast<int>(diffs.size());
    std::vector<double> pa, pb;
    for (const auto& [seed, value] : a) {
      const auto it = b.find(seed);
      if (defined(value) && it != b.end() && defined(it->second)) {
        pa.push_back(value);
        pb.push_back(it->second);
      }
    }
    d.mean_a = eval::mean_of(pa);
    d.mean_b = eval::mean_of(pb);
    const auto ci = eval::mean_ci(diffs, options.level);
    d.difference = ci.mean;
    d.ci_lower = ci.lower;
    d.ci_upper = ci.upper;
    d.p_value = t_test_p_value(ci.mean, ci.std_error, ci.dof);
  } else if (va.size() >= 2 && vb.size() >= 2) {
    d.method = "welch-t";
    d.n = static_cast<int>(va.size() + vb.size());
    d.mean_a = eval::mean_of(va);
    d.mean_b = eval::mean_of(vb);
    const auto ci = eval::welch_difference_ci(va, vb, options.level);
    d.difference = ci.mean;
    d.ci_lower = ci.lower;
    d.ci_upper = ci.upper;
    d.p_value = t_test_p_value(ci.mean, ci.std_error, ci.dof);
  } else {
    d.method = "none";
    d.n = static_cast<int>(va.size() + vb.size());
    d.mean_a = va.empty() ? kNaN : eval::mean_of(va);
    d.mean_b = vb.empty() ? kNaN : eval::mean_of(vb);
    d.difference = d.mean_a - d.mean_b;
    d.ci_lower = d.ci_upper = d.p_value = kNaN;
  }
  d.significant = d.ci_lower > 0 || d.ci_upper < 0;  // false for NaN
  return d;
}

}  // namespace

double t_test_p_value(double mean, double std_error, double dof) {
  if (std::isnan(mean) || std::isnan(std_error)) return kNaN;
  if (std_error == 0) return mean == 0 ? 1.0 : 0.0;
  const double t = std::fabs(mean / std_error);
  return std::min(1.0, 2.0 * (1.0 - eval::student_t_cdf(t, dof)));
}

std::vector<SummaryRow> summarize(const std::vector<ResultRow>& rows, const StatsOptions& options) {
  const Index index = index_rows(rows);
  std::vector<SummaryRow> out;
  for (const auto& [arm, figures] : index) {
    for (const auto& [key, seeds] : figures) {
      SummaryRow s;
      s.arm = arm;
      std::tie(s.task, s.split, s.metric, s.language, s.stage) = key;
      s.level = options.level;
      std::vector<double> values;
      for (const auto& [seed, value] : seeds) {
        if (defined(value)) {
          values.push_back(value);
          s.seeds.push_back(seed);
        } else {
          ++s.undefined;
        }
      }
      s.n = static_cast<int>(values.size());
      s.mean = values.empty() ? kNaN : eval::mean_of(values);
      s.std = sample_std(values);
      if (values.size() >= 2) {
        const auto ci = eval::mean_ci(values, options.level);
        s.ci_lower = ci.lower;
        s.ci_upper = ci.upper;
      } else {
        s.ci_lower = s.ci_upper = kNaN;
      }
      out.push_back(std::move(s));
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const SummaryRow& x, const SummaryRow& y) {
    return std::tie(x.task, x.split, x.metric, x.language, x.arm, x.stage) <
           std::tie(y.task, y.split, y.metric, y.language, y.arm, y.stage);
  });
  return out;
}

namespace {

// (arm, stage, task, language, split) -> seed -> the predictions in example order.
using PredictionKey = std::tuple<std::string, std::string, std::string, std::string, std::string>;
struct SystemPredictions {
  std::string kind;
  std::vector<std::string> gold_text;  // as stored: compared to tell whether two systems saw the same examples
  tasks::Predictions values;
};
using SeedPredictions = std::map<int64_t, SystemPredictions>;

tasks::Value parse_value(const std::string& text, const PredictionRow& p) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    input_error("results: prediction of arm '", p.arm, "', seed ", p.seed, ", ", p.language, " ", p.split,
                " example ", p.example, " is not JSON: ", text);
  }
}

std::map<PredictionKey, SeedPredictions> index_predictions(const std::vector<PredictionRow>& predictions) {
  std::map<PredictionKey, SeedPredictions> out;
  for (const auto& p : predictions) {
    SystemPredictions& system = out[PredictionKey{p.arm, p.stage, p.task, p.language, p.split}][p.seed];
    if (p.example != static_cast<int64_t>(system.gold_text.size())) {
      input_error("results: predictions of arm '", p.arm, "', seed ", p.seed, ", ", p.language, " ", p.split,
                  " are not numbered 0, 1, ... (example ", p.example, " after ", system.gold_text.size(), ")");
    }
    if (system.gold_text.empty()) system.kind = p.kind;
    if (p.kind != system.kind) {
      input_error("results: predictions of arm '", p.arm, "', seed ", p.seed, ", ", p.language, " ", p.split,
                  " mix task kinds '", system.kind, "' and '", p.kind, "'");
    }
    system.gold_text.push_back(p.gold);
    system.values.gold.push_back(parse_value(p.gold, p));
    system.values.predicted.push_back(parse_value(p.prediction, p));
  }
  return out;
}

// The paired bootstrap over examples and seeds for one figure, or nothing when the predictions don't
// allow it (missing, different examples, a metric the kind does not compute from predictions).
std::optional<DifferenceRow> bootstrap_difference(const SeedPredictions& a, const SeedPredictions& b,
                                                  const std::string& metric_name, const StatsOptions& options,
                                                  uint64_t figure_seed) {
  std::vector<eval::IndexedMetric> ma, mb;
  const std::vector<std::string>* gold = nullptr;
  for (const auto& [seed, system] : a) {
    const auto it = b.find(seed);
    if (it == b.end()) continue;
    if (gold == nullptr) gold = &system.gold_text;
    if (system.gold_text != *gold || it->second.gold_text != *gold) return std::nullopt;  // not the same examples
    if (system.kind != it->second.kind) return std::nullopt;
    const tasks::TaskKind& kind = tasks::task_kind(system.kind);
    const auto& metrics = kind.metrics();
    if (std::find(metrics.begin(), metrics.end(), metric_name) == metrics.end()) return std::nullopt;
    ma.push_back(kind.scorer(metric_name, system.values.predicted, system.values.gold));
    mb.push_back(kind.scorer(metric_name, it->second.values.predicted, it->second.values.gold));
  }
  if (ma.empty() || gold->empty()) return std::nullopt;
  auto on = [](const std::vector<eval::IndexedMetric>& systems) {
    return [&systems](std::size_t s, const std::vector<std::size_t>& idx) { return systems[s](idx); };
  };
  eval::BootstrapOptions bootstrap;
  bootstrap.level = options.level;
  bootstrap.resamples = options.resamples;
  bootstrap.seed = options.seed ^ figure_seed;
  const eval::PairedInterval p = eval::paired_bootstrap_over_seeds(ma.size(), gold->size(), on(ma), on(mb), bootstrap);
  DifferenceRow d;
  d.method = "paired-bootstrap";
  d.n = static_cast<int>(ma.size());
  d.mean_a = p.value_a;
  d.mean_b = p.value_b;
  d.difference = p.difference;
  d.ci_lower = p.lower;
  d.ci_upper = p.upper;
  d.p_value = p.p_value;
  d.level = options.level;
  d.significant = defined(p.lower) && defined(p.upper) && (p.lower > 0 || p.upper < 0);
  return d;
}

}  // namespace

std::vector<DifferenceRow> arm_differences(const std::vector<ResultRow>& rows, const std::string& arm_a,
                                           const std::string& arm_b, const StatsOptions& options,
                                           const std::vector<PredictionRow>& predictions) {
  const Index index = index_rows(rows);
  const auto by_system = index_predictions(predictions);
  const auto ia = index.find(arm_a);
  const auto ib = index.find(arm_b);
  if (ia == index.end() || ib == index.end()) {
    std::string arms;
    for (const auto& [name, figures] : index) arms += (arms.empty() ? "" : ", ") + name;
    input_error("results: no arm named '", ia == index.end() ? arm_a : arm_b, "' (arms: ",
                arms.empty() ? "none" : arms, ")");
  }
  const auto& fa = ia->second;
  const auto& fb = ib->second;
  std::vector<DifferenceRow> out;
  auto add = [&](const FigureKey& key, const SeedValues& a, const SeedValues& b, const std::string& stage) {
    DifferenceRow d = difference(arm_a, arm_b, a, b, options);
    // (stage may read "stage_a|stage_b")
    const size_t bar = stage.find('|');
    const std::string stage_a = stage.substr(0, bar);
    const std::string stage_b = bar == std::string::npos ? stage : stage.substr(bar + 1);
    const auto pa = by_system.find(PredictionKey{arm_a, stage_a, std::get<0>(key), std::get<3>(key), std::get<1>(key)});
    const auto pb = by_system.find(PredictionKey{arm_b, stage_b, std::get<0>(key), std::get<3>(key), std::get<1>(key)});
    if (pa != by_system.end() && pb != by_system.end()) {
      const uint64_t figure_seed = std::hash<std::string>{}(std::get<0>(key) + "/" + std::get<1>(key) + "/" +
                                                             std::get<2>(key) + "/" + std::get<3>(key));
      if (auto boot = bootstrap_difference(pa->second, pb->second, std::get<2>(key), options, figure_seed)) {
        boot->arm_a = arm_a;
        boot->arm_b = arm_b;
        d = *boot;
      }
    }
    d.task = std::get<0>(key);
    d.split = std::get<1>(key);
    d.metric = std::get<2>(key);
    d.language = std::get<3>(key);
    d.stage = stage;
    out.push_back(std::move(d));
  };
  // Same stage name in both arms.
  for (const auto& [key, a] : fa) {
    const auto it = fb.find(key);
    if (it != fb.end()) add(key, a, it->second, std::get<4>(key));
  }
  // A figure whose stage names differ, one stage in each arm: compare those.
  using Figure = std::tuple<std::string, std::string, std::string, std::string>;
  std::map<Figure, std::vector<const std::pair<const FigureKey, SeedValues>*>> by_a, by_b;
  for (const auto& e : fa) {
    by_a[Figure{std::get<0>(e.first), std::get<1>(e.first), std::get<2>(e.first), std::get<3>(e.first)}].push_back(&e);
  }
  for (const auto& e : fb) {
    by_b[Figure{std::get<0>(e.first), std::get<1>(e.first), std::get<2>(e.first), std::get<3>(e.first)}].push_back(&e);
  }
  for (const auto& [figure, list_a] : by_a) {
    const auto it = by_b.find(figure);
    if (it == by_b.end() || list_a.size() != 1 || it->second.size() != 1) continue;
    const auto& [key_a, values_a] = *list_a.front();
    const auto& [key_b, values_b] = *it->second.front();
    if (std::get<4>(key_a) == std::get<4>(key_b)) continue;  // paired above
    add(key_a, values_a, values_b, std::get<4>(key_a) + "|" + std::get<4>(key_b));
  }
  std::stable_sort(out.begin(), out.end(), [](const DifferenceRow& x, const DifferenceRow& y) {
    return std::tie(x.task, x.split, x.metric, x.language, x.stage) <
           std::tie(y.task, y.split, y.metric, y.language, y.stage);
  });
  return out;
}

std::vector<std::string> arm_names(const std::vector<ResultRow>& rows) {
  std::set<std::string> arms;
  for (const auto& r : rows) arms.insert(r.arm);
  return {arms.begin(), arms.end()};
}

std::string default_baseline(const std::vector<std::string>& arms) {
  if (std::find(arms.begin(), arms.end(), "direct") != arms.end()) return "direct";
  return arms.empty() ? std::string() : *std::min_element(arms.begin(), arms.end());
}

}  // namespace stilts::pipeline
