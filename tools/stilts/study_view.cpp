#include "study_view.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "pipeline/arm_summary.h"
#include "pipeline/headline.h"
#include "pipeline/results_store.h"
#include "pipeline/study_stats.h"
#include "pipeline/task_scores.h"

namespace stilts::cli {

namespace fs = std::filesystem;

std::string fixed(double v, int digits, bool sign) {
  if (!std::isfinite(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, sign ? "%+.*f" : "%.*f", digits, v);
  return buf;
}

std::string interval(double lo, double hi, int digits) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return "n/a";
  return "[" + fixed(lo, digits) + ", " + fixed(hi, digits) + "]";
}

namespace {

// Display width: UTF-8 continuation bytes take no column.
size_t columns(const std::string& s) {
  size_t n = 0;
  for (const unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string scientific(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

std::string relative_text(const pipeline::Relative& r) {
  using pipeline::Verdict;
  if (r.verdict == Verdict::kNoInterval) {
    return std::isfinite(r.difference) ? fixed(100 * r.difference, 1, true) + "%" : "n/a";
  }
  std::string s = fixed(100 * r.difference, 1, true) + "% " + interval(100 * r.ci_lower, 100 * r.ci_upper, 1);
  if (r.verdict == Verdict::kEquivalent) return s + " equivalent";
  if (r.verdict == Verdict::kInconclusive) return s + " n.s.";
  return s + " *";
}

}  // namespace

void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                 std::ostream& out) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) width[c] = columns(header[c]);
  for (const auto& r : rows) {
    for (size_t c = 0; c < r.size() && c < width.size(); ++c) width[c] = std::max(width[c], columns(r[c]));
  }
  auto line = [&](const std::vector<std::string>& r) {
    std::string text;
    for (size_t c = 0; c < r.size(); ++c) {
      text += r[c];
      if (c + 1 < r.size()) text += std::string(width[c] - columns(r[c]) + 2, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out << text << "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
}

void print_comparison(const fs::path& run_dir, const std::string& baseline_in, double level, std::ostream& out) {
  const auto store = pipeline::ResultsStore::open_existing(run_dir / "results.sqlite");
  const auto rows = store->results();
  const auto arms = pipeline::arm_names(rows);
  if (arms.empty()) {
    out << "no results yet\n";
    return;
  }
  const std::string baseline = baseline_in.empty() ? pipeline::default_baseline(arms) : baseline_in;
  pipeline::StatsOptions stats;
  stats.level = level;
  pipeline::ArmSummaryOptions arm_options;
  arm_options.baseline = baseline;
  arm_options.level = level;
  arm_options.headline_metrics = pipeline::declared_headlines(store->meta("experiment"));
  const auto chains = store->arm_stages();
  const auto lines = pipeline::summarize_arms(rows, store->stages(), chains, store->efficiency(), arm_options);
  const auto headline = pipeline::choose_headline(rows, chains, arm_options.headline_metrics);
  const std::string& metric = headline.metric;
  const double scale = headline.fraction ? 100 : 1;  // fractions in percent, differences in points
  const int digits = headline.fraction ? 1 : 3;
  const auto summary = pipeline::summarize(rows, stats);
  const auto predictions = store->predictions();

  // Per language: arm means and differences from the baseline, in the headline figure.
  std::map<std::string, std::map<std::string, const pipeline::SummaryRow*>> by_language;  // language -> arm
  for (const auto& s : summary) {
    if (headline.holds(s)) by_language[s.language][s.arm] = &s;
  }
  std::map<std::pair<std::string, std::string>, pipeline::DifferenceRow> differences;  // (arm, language)
  for (const auto& arm : arms) {
    if (arm == baseline) continue;
    for (const auto& d : pipeline::arm_differences(rows, arm, baseline, stats, predictions)) {
      if (headline.holds(d)) differences[{arm, d.language}] = d;
    }
  }
  const std::string pct = fixed(100 * level, 0) + "%";
  std::set<std::string> methods;
  for (const auto& [key, d] : differences) methods.insert(d.method);
  std::string method = "paired bootstrap over examples and seeds";
  if (!methods.count("paired-bootstrap")) {
    method = methods.count("paired-t") ? "paired t over seeds" : "t intervals";
  } else if (methods.size() > 1) {
    method += " where predictions are stored";
  }
  out << headline.task << " " << metric << " (" << headline.split << (headline.fraction ? ", %" : "")
      << ") per language: mean over seeds [" << pct << " interval]; difference vs " << baseline
      << (headline.fraction ? " in points" : "") << " [" << pct << " " << method << "], * = excludes 0\n";
  std::vector<std::string> header = {"language"};
  for (const auto& arm : arms) header.push_back(arm);
  for (const auto& arm : arms) {
    if (arm != baseline) header.push_back(arm + " − " + baseline);
  }
  std::vector<std::vector<std::string>> table;
  for (const auto& [language, by_arm] : by_language) {
    std::vector<std::string> row = {language.empty() ? "(all)" : language};
    for (const auto& arm : arms) {
      const auto it = by_arm.find(arm);
      if (it == by_arm.end()) {
        row.push_back("-");
        continue;
      }
      const auto& m = *it->second;
      row.push_back(fixed(scale * m.mean, digits) + " " + interval(scale * m.ci_lower, scale * m.ci_upper, digits));
    }
    for (const auto& arm : arms) {
      if (arm == baseline) continue;
      const auto it = differences.find({arm, language});
      if (it == differences.end()) {
        row.push_back("-");
        continue;
      }
      const auto& d = it->second;
      row.push_back(fixed(scale * d.difference, digits, true) + " " +
                    interval(scale * d.ci_lower, scale * d.ci_upper, digits) + (d.significant ? " *" : ""));
    }
    table.push_back(std::move(row));
  }
  print_table(header, table, out);

  out << "\nper arm (means over seeds; differences vs " << baseline << " relative, paired t " << pct
      << " interval over seeds: 'equivalent' = within ±" << fixed(100 * arm_options.margin, 0)
      << "%, * = excludes 0, n.s. = no significant difference)\n";
  std::vector<std::vector<std::string>> arm_table;
  for (const auto& l : lines) {
    const bool base = l.arm == baseline;
    arm_table.push_back({l.arm, std::to_string(l.seeds), fixed(scale * l.accuracy, digits + 1),
                         base ? "-" : fixed(l.accuracy_points, digits + 1, true),
                         l.efficiency_measured ? fixed(l.latency_p50_ms, 2) + " / " + fixed(l.latency_p99_ms, 2) : "-",
                         base || !l.efficiency_measured ? "-" : relative_text(l.latency),
                         l.efficiency_measured ? fixed(l.throughput_seq_s, 1) : "-",
                         base || !l.efficiency_measured ? "-" : relative_text(l.throughput),
                         l.efficiency_measured ? fixed(l.peak_rss_mb, 0) : "-",
                         std::isfinite(l.params_total) ? fixed(l.params_total / 1e6, 2) + "M" : "-",
                         std::isfinite(l.params_differing) ? fixed(l.params_differing / 1e6, 2) + "M" : "-",
                         fixed(l.train_wall_s, 1), std::isfinite(l.train_flops) ? scientific(l.train_flops) : "-",
                         base ? "-" : fixed(l.seconds_per_point, 1)});
  }
  const std::string b1 = lines.front().latency_batch > 0 ? std::to_string(lines.front().latency_batch) : "?";
  const std::string bn = lines.front().throughput_batch > 0 ? std::to_string(lines.front().throughput_batch) : "?";
  print_table({"arm", "seeds", metric + (headline.fraction ? " %" : ""), "Δ points", "latency p50/p99 ms (b" + b1 + ")", "Δ latency",
               "seq/s (b" + bn + ")", "Δ throughput", "peak MB", "params", "differing", "train s", "train FLOP",
               "s per point"},
              arm_table, out);
}

std::optional<pipeline::BenchmarkScores> multi_task_scores(const pipeline::ResultsStore& store,
                                                           const std::vector<pipeline::ResultRow>& rows) {
  const auto experiment = store.meta("experiment");
  const auto headline = pipeline::choose_headline(rows, store.arm_stages(), pipeline::declared_headlines(experiment));
  const pipeline::FinalStagePredicate at_final_stage = [&](const pipeline::ResultRow& r) {
    return r.stage == headline.final_stage(r.arm, r.task);
  };
  if (pipeline::final_task_count(rows, at_final_stage) < 2) return std::nullopt;
  return pipeline::benchmark_scores(rows, at_final_stage, pipeline::study_tasks(experiment));
}

void print_benchmark_scores(const fs::path& run_dir, const std::string& baseline_in, double level, std::ostream& out) {
  const auto store = pipeline::ResultsStore::open_existing(run_dir / "results.sqlite");
  const auto rows = store->results();
  const auto multi = multi_task_scores(*store, rows);
  if (!multi) return;
  const pipeline::BenchmarkScores& scores = *multi;
  const auto arms = pipeline::arm_names(rows);
  const std::string baseline = baseline_in.empty() ? pipeline::default_baseline(arms) : baseline_in;
  const pipeline::StudyTasks tasks = pipeline::study_tasks(store->meta("experiment"));
  pipeline::StatsOptions stats;
  stats.level = level;
  const std::string pct = fixed(100 * level, 0) + "%";

  std::map<std::pair<std::string, std::string>, pipeline::SummaryRow> means;  // (score, arm)
  for (const auto& s : pipeline::summarize(scores.rows, stats)) means[{s.task, s.arm}] = s;
  std::map<std::pair<std::string, std::string>, pipeline::DifferenceRow> differences;  // (score, arm)
  for (const auto& arm : arms) {
    if (arm == baseline) continue;
    for (const auto& d : pipeline::arm_differences(scores.rows, arm, baseline, stats)) differences[{d.task, arm}] = d;
  }
  out << "\nbenchmark scores (points; per task: mean over its languages, QA (exact_match + f1) / 2; groups and "
         "overall: mean over their tasks, only for seeds with every task): mean over seeds ["
      << pct << " t interval] (n); difference vs " << baseline << " [" << pct
      << " paired t over seeds], * = excludes 0\n";
  std::vector<std::string> header = {"score", "split"};
  for (const auto& arm : arms) header.push_back(arm);
  for (const auto& arm : arms) {
    if (arm != baseline) header.push_back(arm + " − " + baseline);
  }
  std::vector<std::vector<std::string>> table;
  for (const auto& info : scores.scores) {
    std::set<std::string> splits;
    for (const auto& arm : arms) {
      if (const auto it = means.find({info.name, arm}); it != means.end()) splits.insert(it->second.split);
    }
    std::string split;
    for (const auto& s : splits) split += (split.empty() ? "" : "/") + s;
    std::vector<std::string> row = {info.kind == pipeline::ScoreInfo::kGroup ? "group: " + info.label : info.label,
                                    split.empty() ? "-" : split};
    for (const auto& arm : arms) {
      const auto it = means.find({info.name, arm});
      row.push_back(it == means.end() ? "-"
                                      : fixed(100 * it->second.mean, 1) + " " +
                                            interval(100 * it->second.ci_lower, 100 * it->second.ci_upper, 1) + " (" +
                                            std::to_string(it->second.n) + ")");
    }
    for (const auto& arm : arms) {
      if (arm == baseline) continue;
      const auto it = differences.find({info.name, arm});
      row.push_back(it == differences.end() ? "-"
                                            : fixed(100 * it->second.difference, 1, true) + " " +
                                                  interval(100 * it->second.ci_lower, 100 * it->second.ci_upper, 1) +
                                                  (it->second.significant ? " *" : ""));
    }
    table.push_back(std::move(row));
  }
  print_table(header, table, out);
  for (const auto& l : scores.left_out) {
    const auto* info = scores.find(l.name);
    out << "left out: " << (info ? info->label : l.name) << ", " << l.arm << " seed " << l.seed << ": " << l.reason
        << "\n";
  }
  for (const auto& t : scores.unscored) out << "not scored: " << t << " (a lower-is-better metric)\n";

  const auto eff = pipeline::task_efficiency(store->efficiency(), store->stages(), tasks);
  if (eff.rows.empty()) return;
  const std::string b1 = eff.setting.batch_sizes.empty() ? "?" : std::to_string(eff.setting.batch_sizes.front());
  const std::string bn = eff.setting.batch_sizes.empty() ? "?" : std::to_string(eff.setting.batch_sizes.back());
  out << "\ninference per task (each task's final model; means over seeds)\n";
  std::vector<std::vector<std::string>> eff_table;
  for (const auto& e : eff.rows) {
    eff_table.push_back({e.task, e.kind.empty() ? "-" : e.kind, e.arm, std::to_string(e.seeds),
                         fixed(e.latency_p50_ms, 2), fixed(e.throughput_seq_s, 1), fixed(e.peak_rss_mb, 0),
                         std::isfinite(e.params_total) ? fixed(e.params_total / 1e6, 2) + "M" : "-"});
  }
  print_table({"task", "kind", "arm", "seeds", "latency p50 ms (b" + b1 + ")", "seq/s (b" + bn + ")", "peak MB",
               "params"},
              eff_table, out);
  if (!eff.unmapped_models.empty()) {
    out << "(" << eff.unmapped_models.size() << " benchmarked model(s) map to no task and are not shown)\n";
  }
}

}  // namespace stilts::cli
