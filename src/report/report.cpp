// The report: a list of blocks (headings, paragraphs, figures, tables, preformatted text) built once
// from the database and rendered twice, to Markdown and to HTML, so both always say the same.
#include "report/report.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "common/error.h"
#include "common/files.h"
#include "eval/metrics.h"
#include "pipeline/arm_summary.h"
#include "pipeline/headline.h"
#include "pipeline/study_stats.h"
#include "pipeline/task_scores.h"
#include "report/analysis.h"
#include "report/format.h"
#include "report/gnuplot.h"
#include "report/run_data.h"

namespace stilts::report {

void ReportOptions::validate() const {
  if (!(level > 0.5 && level < 1)) input_error("report options: level must be in (0.5, 1), got ", level);
  if (!(equivalence_margin > 0 && equivalence_margin < 1)) {
    input_error("report options: equivalence_margin must be in (0, 1), got ", equivalence_margin);
  }
  if (gnuplot.empty()) input_error("report options: gnuplot program is empty");
}

namespace {

namespace fs = std::filesystem;
using pipeline::DifferenceRow;
using pipeline::SummaryRow;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const char* const kColors[] = {"#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C"};
const char* color(size_t i) { return kColors[i % (sizeof kColors / sizeof kColors[0])]; }

// Metrics in [0, 1] shown as percentages; differences in percentage points.
bool is_fraction_metric(const std::string& m) { return eval::metric_info(m).fraction; }
std::string show_value(const std::string& metric, double v) {
  return is_fraction_metric(metric) ? percent(v, 1) : fixed(v, 3);
}
std::string show_spread(const std::string& metric, double v) {
  return is_fraction_metric(metric) ? fixed(100 * v, 1) : fixed(v, 3);
}
std::string show_diff(const std::string& metric, double d) {
  return is_fraction_metric(metric) ? signed_fixed(100 * d, 1) + " pp" : signed_fixed(d, 3);
}
std::string show_ci(const std::string& metric, double lo, double hi, bool sign) {
  return is_fraction_metric(metric) ? bracket(100 * lo, 100 * hi, 1, sign) : bracket(lo, hi, 3, sign);
}
double scale_of(const std::string& metric) { return is_fraction_metric(metric) ? 100.0 : 1.0; }
std::string language_name(const std::string& l) { return l.empty() ? "all" : l; }
std::string level_text(double level) {
  return fixed(100 * level, level * 100 == std::floor(level * 100) ? 0 : 1) + "%";
}

// A data-file number: gnuplot reads "NaN" as undefined.
std::string num(double v) {
  if (!std::isfinite(v)) return "NaN";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}
std::string dq(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? '\'' : c;
  return out + "\"";
}

struct Block {
  enum Kind { kHeading, kParagraph, kFigure, kTable, kPre } kind = kParagraph;
  int level = 2;
  std::string lead;  // bold start of a paragraph
  std::string text;
  std::string anchor;  // heading id
  size_t figure = 0;   // index into figures
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

std::string describe(const pipeline::EfficiencySetting& s) {
  const std::string out =
      (s.mode.empty() ? "" : s.mode + ", ") + std::to_string(s.threads) + " thread" + (s.threads == 1 ? "" : "s");
  if (s.seq_len == 0) return out + ", the evaluation data's own lengths";
  return out + ", sequence length " + std::to_string(s.seq_len);
}

class Builder {
 public:
  Builder(RunData data, const ReportOptions& options, const fs::path& run_dir)
      : data_(std::move(data)), options_(options), run_dir_(run_dir) {}

  void build() {
    // Each task's declared headline metric (tagging: f1), before the headline is chosen by it.
    if (options_.headline_metrics.empty()) {
      options_.headline_metrics = pipeline::declared_headlines(data_.meta_value("experiment"));
    }
    choose_arms();
    choose_headline();
    pipeline::StatsOptions stats;
    stats.level = options_.level;
    for (auto& s : pipeline::summarize(data_.results, stats)) {
      if (headline_.is_final(s.arm, s.stage)) summary_.push_back(std::move(s));
    }
    for (const auto& arm : arms_) {
      if (arm == baseline_) continue;
      for (auto& d : pipeline::arm_differences(data_.results, arm, baseline_, stats, data_.predictions)) {
        if (headline_.at_final_stages(d)) differences_.push_back(std::move(d));
      }
    }
    setting_ = pipeline::choose_efficiency_setting(data_.efficiency);
    pipeline::ArmSummaryOptions arm_options;
    arm_options.baseline = baseline_;
    arm_options.level = options_.level;
    arm_options.margin = options_.equivalence_margin;
    arm_options.headline_metrics = options_.headline_metrics;
    lines_ = pipeline::summarize_arms(data_.results, data_.stages, data_.arm_stages, data_.efficiency, arm_options);
    costs_ = arm_costs(data_, arms_);

    heading(1, "Study report: " + run_dir_.filename().string(), "top");
    std::set<int64_t> seeds;
    for (const auto& r : data_.results) seeds.insert(r.seed);
    std::string arms_text;
    for (const auto& a : arms_)
      arms_text += (arms_text.empty() ? "" : ", ") + a + (a == baseline_ ? " (baseline)" : "");
    paragraph("", "Run directory " + run_dir_.string() + ": " + std::to_string(arms_.size()) + " arm" +
                      (arms_.size() == 1 ? "" : "s") + " (" + (arms_text.empty() ? "none" : arms_text) + "), " +
                      std::to_string(seeds.size()) + " seed" + (seeds.size() == 1 ? "" : "s") + ", " +
                      std::to_string(data_.results.size()) + " results. Means carry " + level_text(options_.level) +
                      " t intervals over seeds" +
                      (data_.predictions.empty()
                           ? "; so do the differences between arms."
                           : "; differences between arms a paired bootstrap over test examples and seeds."));
    answer_section();
    benchmark_section();
    accuracy_section();
    curves_section();
    efficiency_section();
    cost_section();
    config_section();
  }

  std::vector<Block> blocks;
  std::vector<Figure> figures;

 private:
  // ---- choices ----
  void choose_arms() {
    arms_ = pipeline::arm_names(data_.results);
    if (arms_.empty()) {
      std::set<std::string> names;
      for (const auto& s : data_.arm_stages) names.insert(s.arm);
      for (const auto& s : data_.stages) names.insert(s.arm);
      for (const auto& e : data_.efficiency) names.insert(e.arm);
      names.erase("");
      arms_.assign(names.begin(), names.end());
    }
    if (options_.baseline.empty()) {
      baseline_ = pipeline::default_baseline(arms_);
    } else {
      if (std::find(arms_.begin(), arms_.end(), options_.baseline) == arms_.end()) {
        std::string names;
        for (const auto& a : arms_) names += (names.empty() ? "" : ", ") + a;
        input_error(data_.db_file.string(), ": baseline '", options_.baseline,
                    "' is not an arm (arms: ", names.empty() ? "none" : names, ")");
      }
      baseline_ = options_.baseline;
    }
  }

  void choose_headline() {
    headline_ = pipeline::choose_headline(data_.results, data_.arm_stages, options_.headline_metrics);
  }

  std::vector<std::string> headline_languages() const {
    std::set<std::string> langs;
    for (const auto& s : summary_) {
      if (headline_.is_headline(s.task, s.split, s.metric)) langs.insert(s.language);
    }
    return {langs.begin(), langs.end()};
  }

  const SummaryRow* headline_summary(const std::string& arm, const std::string& language) const {
    for (const auto& s : summary_) {
      if (s.arm == arm && s.language == language && headline_.is_headline(s.task, s.split, s.metric)) return &s;
    }
    return nullptr;
  }

  static bool model_level(const pipeline::EfficiencyRow& e) { return e.batch_size == 0; }

  std::vector<double> latency_values(const std::string& arm, int64_t batch) const {
    std::vector<double> v;
    for (const auto& l : data_.latency_samples) {
      if (l.arm == arm && setting_.matches(l.mode, l.threads, l.seq_len) && l.batch_size == batch &&
          std::isfinite(l.ms)) {
        v.push_back(l.ms);
      }
    }
    return v;
  }
  // Model-level metric (params_total, ...) per seed.
  std::vector<double> model_values(const std::string& arm, const std::string& metric) const {
    std::vector<double> v;
    for (const auto& e : data_.efficiency) {
      if (e.arm == arm && e.metric == metric && model_level(e) && std::isfinite(e.value)) v.push_back(e.value);
    }
    return v;
  }

  // ---- blocks ----
  void heading(int level, const std::string& text, const std::string& anchor) {
    Block b;
    b.kind = Block::kHeading;
    b.level = level;
    b.text = text;
    b.anchor = anchor;
    blocks.push_back(std::move(b));
  }
  void paragraph(const std::string& lead, const std::string& text) {
    Block b;
    b.kind = Block::kParagraph;
    b.lead = lead;
    b.text = text;
    blocks.push_back(std::move(b));
  }
  void table(std::vector<std::string> header, std::vector<std::vector<std::string>> rows) {
    Block b;
    b.kind = Block::kTable;
    b.header = std::move(header);
    b.rows = std::move(rows);
    blocks.push_back(std::move(b));
  }
  void pre(const std::string& text) {
    Block b;
    b.kind = Block::kPre;
    b.text = text;
    blocks.push_back(std::move(b));
  }
  void figure(Figure f) {
    Block b;
    b.kind = Block::kFigure;
    b.figure = figures.size();
    figures.push_back(std::move(f));
    blocks.push_back(std::move(b));
  }

  // ---- the answer ----
  void answer_section() {
    heading(2, "Answer", "answer");
    if (arms_.size() < 2) {
      paragraph("", arms_.empty() ? "The database holds no arms yet: nothing to compare."
                                  : "Only one arm (" + arms_[0] + ") is in the database: nothing to compare.");
    }
    for (const auto& arm : arms_) {
      if (arm == baseline_) continue;
      accuracy_answer(arm);
      efficiency_answer(arm);
      parameter_answer(arm);
      cost_answer(arm);
    }
  }

  void accuracy_answer(const std::string& arm) {
    const std::string lead = "Accuracy, " + arm + " vs " + baseline_ + ".";
    std::vector<const DifferenceRow*> rows;
    for (const auto& d : differences_) {
      if (d.arm_a == arm && headline_.is_headline(d.task, d.split, d.metric)) rows.push_back(&d);
    }
    if (rows.empty()) {
      paragraph(lead, "No " + (headline_.metric.empty() ? std::string("result") : headline_.metric) + " figures in common with " +
                          baseline_ + " at the final stage: no comparison.");
      return;
    }
    std::vector<std::string> higher, lower, none, no_interval, undefined;
    int n_max = 0;
    for (const auto* d : rows) {
      n_max = std::max(n_max, d->n);
      const std::string lang = language_name(d->language);
      const bool has_ci = std::isfinite(d->ci_lower) && std::isfinite(d->ci_upper);
      std::string fig = show_diff(d->metric, d->difference);
      if (has_ci) fig += " " + show_ci(d->metric, d->ci_lower, d->ci_upper, true);
      if (std::isfinite(d->p_value))
        fig += ", p = " + (d->p_value < 1e-4 ? std::string("<0.0001") : fixed(d->p_value, 4));
      const std::string item = lang + " (" + fig + ")";
      if (!std::isfinite(d->difference)) {
        undefined.push_back(lang);
      } else if (!has_ci) {
        no_interval.push_back(lang + " (" + show_diff(d->metric, d->difference) + ")");
      } else if (d->significant && d->difference > 0) {
        higher.push_back(item);
      } else if (d->significant && d->difference < 0) {
        lower.push_back(item);
      } else {
        none.push_back(item);
      }
    }
    auto join = [](const std::vector<std::string>& items) {
      std::string out;
      for (size_t i = 0; i < items.size(); ++i) {
        out += (i == 0 ? "" : i + 1 == items.size() ? " and " : ", ") + items[i];
      }
      return out;
    };
    const bool bootstrap = std::any_of(data_.predictions.begin(), data_.predictions.end(),
                                       [&](const pipeline::PredictionRow& p) { return p.arm == arm; });
    std::string text = "On " + headline_.task + " (" + headline_.split + " " + headline_.metric + ", " + arm + " − " + baseline_ + ", " +
                       level_text(options_.level) +
                       (bootstrap ? " paired bootstrap interval over test examples and seeds): "
                                  : " interval over seeds): ");
    std::vector<std::string> parts;
    if (!higher.empty()) parts.push_back(arm + " was significantly higher than " + baseline_ + " in " + join(higher));
    if (!lower.empty()) parts.push_back(arm + " was significantly lower than " + baseline_ + " in " + join(lower));
    if (!none.empty()) parts.push_back("no significant difference in " + join(none));
    if (!no_interval.empty()) {
      parts.push_back("too few seeds for an interval in " + join(no_interval) + ", so no difference is claimed there");
    }
    if (!undefined.empty()) parts.push_back("undefined in " + join(undefined) + " (no defined value in an arm)");
    for (size_t i = 0; i < parts.size(); ++i) text += (i == 0 ? "" : "; ") + parts[i];
    paragraph(lead, text + ".");
  }

  // The verdicts of pipeline::summarize_arms, as `stilts results` prints them.
  void efficiency_answer(const std::string& arm) {
    const std::string lead = "Inference, " + arm + " vs " + baseline_ + ".";
    const auto line =
        std::find_if(lines_.begin(), lines_.end(), [&](const pipeline::ArmLine& l) { return l.arm == arm; });
    if (!setting_.found || setting_.batch_sizes.empty() || line == lines_.end() || !line->efficiency_measured) {
      paragraph(lead,
                "No efficiency measurements of both arms in the database: latency, throughput and memory "
                "are not compared.");
      return;
    }
    const std::string latency = "median latency at batch " + std::to_string(line->latency_batch);
    const std::string throughput = "throughput at batch " + std::to_string(line->throughput_batch);
    paragraph(lead, "Measured at " + describe(setting_) + " (languages pooled), relative to " + baseline_ + " with the " +
                        level_text(options_.level) + " paired t interval over seeds: " +
                        describe_comparison(line->latency, latency, "ms", 2) + "; " +
                        describe_comparison(line->throughput, throughput, "seq/s", 1) + "; " +
                        describe_comparison(line->memory, "peak memory", "MB", 1) + ".");
  }

  void parameter_answer(const std::string& arm) {
    const double a = eval::mean_of(model_values(arm, "params_total"));
    const double b = eval::mean_of(model_values(baseline_, "params_total"));
    const std::string lead = "Parameters.";
    if (!std::isfinite(a) || !std::isfinite(b)) {
      paragraph(lead, "No parameter counts (params_total) of both arms in the database.");
    } else if (a == b) {
      paragraph(lead, arm + " and " + baseline_ + " have the same parameter count (" + si(a) + ").");
    } else {
      paragraph(lead, arm + " has " + si(a) + " parameters, " + baseline_ + " " + si(b) + " (" +
                          signed_fixed(100 * (a - b) / b, 2) + "%).");
    }
  }

  const ArmCost* cost_of(const std::string& arm) const {
    for (const auto& c : costs_) {
      if (c.arm == arm) return &c;
    }
    return nullptr;
  }

  void cost_answer(const std::string& arm) {
    const ArmCost* a = cost_of(arm);
    const ArmCost* b = cost_of(baseline_);
    const std::string lead = "Training cost.";
    if (!a || !b || !std::isfinite(a->wall_s) || !std::isfinite(b->wall_s) || b->wall_s <= 0) {
      paragraph(lead, "No training times of both arms in the stages table: cost is not compared.");
      return;
    }
    std::string text = arm + " took " + fixed(a->wall_s / b->wall_s, 2) + "× the training wall time of " + baseline_ +
                       " (" + duration(a->wall_s) + " vs " + duration(b->wall_s) + " per seed, its " +
                       std::to_string(a->chain.size()) + " stage" + (a->chain.size() == 1 ? "" : "s") + " summed)";
    if (std::isfinite(a->flops) && std::isfinite(b->flops) && b->flops > 0) {
      text += " and " + fixed(a->flops / b->flops, 2) + "× the training FLOPs (" + si(a->flops) + " vs " +
              si(b->flops) + ")";
    }
    if (!a->all_done || !b->all_done) text += "; some stages are not done, so these are partial";
    paragraph(lead, text + ".");
  }

  // ---- benchmark scores (several target tasks) ----
  bool at_final_stage(const pipeline::ResultRow& r) const { return r.stage == headline_.final_stage(r.arm, r.task); }

  // Per task, group and overall (pipeline::benchmark_scores), with the same intervals and differences
  // as every other figure; only when the final stages hold more than one task.
  void benchmark_section() {
    const pipeline::FinalStagePredicate final = [this](const pipeline::ResultRow& r) { return at_final_stage(r); };
    if (pipeline::final_task_count(data_.results, final) < 2) return;
    const pipeline::StudyTasks tasks = pipeline::study_tasks(data_.meta_value("experiment"));
    const pipeline::BenchmarkScores scores = pipeline::benchmark_scores(data_.results, final, tasks);
    heading(2, "Benchmark scores", "scores");
    paragraph("", "Each task's score is the unweighted mean over its languages of its metric at the final stage, on "
                  "the test split (dev when an arm has no test results), question answering (exact match + F1) / 2 "
                  "as XTREME scores it; a group's score (XTREME-R's groups, by task kind) is the mean of its tasks' "
                  "scores and the overall score the mean of every task's, per seed, then " +
                      level_text(options_.level) +
                      " t intervals over seeds; differences are paired over the seeds both arms have. A seed lacking "
                      "a language or a task has no score there (it is never averaged over fewer).");
    pipeline::StatsOptions stats;
    stats.level = options_.level;
    auto describe_score = [&](const std::string& name) {
      const pipeline::ScoreInfo* info = scores.find(name);
      if (!info) return std::make_pair(name, std::string());
      switch (info->kind) {
        case pipeline::ScoreInfo::kTask:
          return std::make_pair(info->label, (info->task_kind.empty() ? std::string("kind unknown") : info->task_kind) +
                                                 ", " + info->metric + ", " + std::to_string(info->languages.size()) +
                                                 " language" + (info->languages.size() == 1 ? "" : "s"));
        case pipeline::ScoreInfo::kGroup:
        case pipeline::ScoreInfo::kOverall: {
          std::string of;
          for (const auto& t : info->tasks) of += (of.empty() ? "" : ", ") + t;
          return std::make_pair(info->kind == pipeline::ScoreInfo::kGroup ? "group: " + info->label : info->label, of);
        }
      }
      return std::make_pair(name, std::string());
    };
    // summarize sorts by task name; the table follows the scores' order (tasks, groups, overall).
    const auto summary = pipeline::summarize(scores.rows, stats);
    std::vector<std::vector<std::string>> rows;
    for (const auto& info : scores.scores) {
      for (const auto& arm : arms_) {
        for (const auto& s : summary) {
          if (s.task != info.name || s.arm != arm) continue;
          const auto [label, of] = describe_score(s.task);
          rows.push_back({label, of, s.split, s.arm, std::to_string(s.n),
                          show_value(s.metric, s.mean) + " ± " + show_spread(s.metric, s.std),
                          show_ci(s.metric, s.ci_lower, s.ci_upper, false)});
        }
      }
    }
    table({"score", "of", "split", "arm", "seeds", "mean ± std", level_text(options_.level) + " CI"}, rows);

    rows.clear();
    for (const auto& arm : arms_) {
      if (arm == baseline_) continue;
      const auto differences = pipeline::arm_differences(scores.rows, arm, baseline_, stats);
      for (const auto& info : scores.scores) {
        for (const auto& d : differences) {
          if (d.task != info.name) continue;
          const bool has_ci = std::isfinite(d.ci_lower);
          rows.push_back({describe_score(d.task).first, d.split, d.arm_a + " − " + d.arm_b, std::to_string(d.n),
                          show_diff(d.metric, d.difference), show_ci(d.metric, d.ci_lower, d.ci_upper, true),
                          std::isfinite(d.p_value) ? fixed(d.p_value, 4) : "n/a",
                          !has_ci         ? "n/a"
                          : d.significant ? "yes"
                                          : "no"});
        }
      }
    }
    if (!rows.empty()) {
      table({"score", "split", "difference of", "n", "difference", level_text(options_.level) + " CI", "p",
             "significant"},
            rows);
    } else if (arms_.size() >= 2) {
      paragraph("", "No scores in common between the arms (at the same split): no differences.");
    }

    if (!scores.left_out.empty()) {
      std::string text;
      for (const auto& l : scores.left_out) {
        text += (text.empty() ? "" : "; ") + describe_score(l.name).first + ", " + l.arm + " seed " +
                std::to_string(l.seed) + ": " + l.reason;
      }
      paragraph("Seeds left out.", text + ".");
    }
    if (!scores.unscored.empty()) {
      std::string text;
      for (const auto& t : scores.unscored) text += (text.empty() ? "" : ", ") + t;
      paragraph("Not scored.", text + ": the metric is lower-is-better, so it cannot be averaged with the others.");
    }

    const pipeline::TaskEfficiencyTable eff = pipeline::task_efficiency(data_.efficiency, data_.stages, tasks);
    if (eff.rows.empty()) {
      paragraph("Inference per task.", "No efficiency measurements of the tasks' final models in the database.");
      return;
    }
    paragraph("Inference per task.",
              "Each task's final model measured at " + describe(eff.setting) + " (languages pooled), means over seeds.");
    const std::string b1 = std::to_string(eff.setting.batch_sizes.empty() ? 0 : eff.setting.batch_sizes.front());
    const std::string bn = std::to_string(eff.setting.batch_sizes.empty() ? 0 : eff.setting.batch_sizes.back());
    rows.clear();
    for (const auto& e : eff.rows) {
      rows.push_back({e.task, e.kind.empty() ? "–" : e.kind, e.arm, std::to_string(e.seeds), fixed(e.latency_p50_ms, 2),
                      fixed(e.throughput_seq_s, 1), fixed(e.peak_rss_mb, 1),
                      std::isfinite(e.params_total) ? si(e.params_total) : "–"});
    }
    table({"task", "kind", "arm", "seeds", "p50 ms (batch " + b1 + ")", "seq/s (batch " + bn + ")", "peak RSS MB",
           "params"},
          rows);
    if (!eff.unmapped_models.empty()) {
      paragraph("", std::to_string(eff.unmapped_models.size()) +
                        " benchmarked model(s) map to no task (not in the stages table, or a stage the experiment "
                        "does not name) and are not in this table.");
    }
  }

  // ---- accuracy ----
  void accuracy_section() {
    heading(2, "Accuracy per language", "accuracy");
    const auto langs = headline_languages();
    if (langs.empty()) {
      paragraph("", "No results at the arms' final stages yet.");
    } else {
      accuracy_figure(langs);
      difference_figure(langs);
    }
    // Tables: every metric of the final stages.
    if (!summary_.empty()) {
      std::vector<std::vector<std::string>> rows;
      for (const auto& s : summary_) {
        rows.push_back({s.task, s.split, s.metric, language_name(s.language), s.arm, std::to_string(s.n),
                        show_value(s.metric, s.mean) + " ± " + show_spread(s.metric, s.std),
                        show_ci(s.metric, s.ci_lower, s.ci_upper, false)});
      }
      table({"task", "split", "metric", "language", "arm", "seeds", "mean ± std", level_text(options_.level) + " CI"},
            rows);
    }
    if (!differences_.empty()) {
      std::vector<std::vector<std::string>> rows;
      for (const auto& d : differences_) {
        const bool has_ci = std::isfinite(d.ci_lower);
        rows.push_back({d.task, d.split, d.metric, language_name(d.language), d.arm_a + " − " + d.arm_b,
                        std::to_string(d.n), show_diff(d.metric, d.difference),
                        show_ci(d.metric, d.ci_lower, d.ci_upper, true),
                        std::isfinite(d.p_value) ? fixed(d.p_value, 4) : "n/a",
                        !has_ci         ? "n/a"
                        : d.significant ? "yes"
                                        : "no"});
      }
      table({"task", "split", "metric", "language", "difference of", "n", "difference",
             level_text(options_.level) + " CI", "p", "significant"},
            rows);
    } else if (arms_.size() >= 2) {
      paragraph("", "No figures in common between the arms: no differences.");
    }
  }

  void accuracy_figure(const std::vector<std::string>& langs) {
    const double scale = scale_of(headline_.metric);
    const double group = 0.8, width = group / static_cast<double>(arms_.size());
    Figure f;
    f.name = "fig-accuracy";
    f.caption = headline_.task + " " + headline_.split + " " + headline_.metric + " per language and arm: mean over seeds, whiskers the " +
                level_text(options_.level) + " t interval.";
    std::string plot;
    bool any_negative = false;
    for (size_t a = 0; a < arms_.size(); ++a) {
      std::string rows;
      for (size_t l = 0; l < langs.size(); ++l) {
        const SummaryRow* s = headline_summary(arms_[a], langs[l]);
        if (!s || !std::isfinite(s->mean)) continue;  // every seed undefined: nothing to draw
        const double x = static_cast<double>(l) + (static_cast<double>(a) - (arms_.size() - 1) / 2.0) * width;
        const double lo = std::isfinite(s->ci_lower) ? s->ci_lower : s->mean;
        const double hi = std::isfinite(s->ci_upper) ? s->ci_upper : s->mean;
        any_negative = any_negative || lo < 0;
        rows += num(x) + " " + num(scale * s->mean) + " " + num(scale * lo) + " " + num(scale * hi) + " " +
                dq(show_value(headline_.metric, s->mean)) + "\n";
      }
      if (rows.empty()) continue;
      const std::string key = "a" + std::to_string(a);
      f.data.push_back({key, rows});
      plot += std::string(plot.empty() ? "plot " : ", \\\n     ") + "DATA(" + key + ") using 1:2 with boxes lc rgb '" +
              color(a) + "' title " + gp_quote(arms_[a]) + ", DATA(" + key +
              ") using 1:2:3:4 with yerrorbars lc rgb '#222222' pt 0 notitle, DATA(" + key +
              ") using 1:4:5 with labels offset 0,0.7 font ',9' notitle";
    }
    if (plot.empty()) {
      paragraph("", "Every " + headline_.metric + " value at the final stage is undefined: nothing to plot.");
      return;
    }
    std::string script = "set style fill solid 0.85 border rgb '#333333'\nset boxwidth " + num(width * 0.92) +
                         " absolute\n" + xtics(langs) + "set ylabel " +
                         gp_quote(headline_.metric + (is_fraction_metric(headline_.metric) ? " (%)" : "")) + "\n";
    if (!any_negative) script += "set yrange [0:*]\n";
    script +=
        "set offsets 0,0,graph 0.12,0\nset grid ytics lc rgb '#dddddd'\n"
        "set key outside top center horizontal\nset title " +
        gp_quote(headline_.task + " " + headline_.split + " " + headline_.metric + " per language") + "\n" + plot + "\n";
    f.script = script;
    figure(std::move(f));
  }

  std::string xtics(const std::vector<std::string>& langs) const {
    std::string t = "set xtics (";
    for (size_t l = 0; l < langs.size(); ++l) {
      t += (l ? ", " : "") + gp_quote(language_name(langs[l])) + " " + std::to_string(l);
    }
    return t + ") nomirror\nset xrange [-0.6:" + num(static_cast<double>(langs.size()) - 0.4) + "]\n";
  }

  void difference_figure(const std::vector<std::string>& langs) {
    if (arms_.size() < 2) {
      paragraph("", "One arm only: no per-language differences to plot.");
      return;
    }
    std::vector<std::string> others;
    for (const auto& a : arms_) {
      if (a != baseline_) others.push_back(a);
    }
    const double scale = scale_of(headline_.metric);
    const double width = 0.6 / static_cast<double>(others.size());
    Figure f;
    f.name = "fig-difference";
    f.caption = "Per-language difference arm − " + baseline_ + " in " + headline_.split + " " + headline_.metric +
                (is_fraction_metric(headline_.metric) ? " (percentage points)" : "") + ", whiskers the " +
                level_text(options_.level) + " interval; solid bars and * mark differences whose interval excludes 0.";
    // Labels sit beyond the whisker's end, a fixed share of the plotted range away.
    double y_min = 0, y_max = 0;
    for (const auto& d : differences_) {
      if (!headline_.is_headline(d.task, d.split, d.metric)) continue;
      for (double v : {d.difference, d.ci_lower, d.ci_upper}) {
        if (std::isfinite(v)) y_min = std::min(y_min, scale * v), y_max = std::max(y_max, scale * v);
      }
    }
    const double pad = 0.06 * (y_max - y_min > 0 ? y_max - y_min : 1.0);
    std::string plot;
    for (size_t a = 0; a < others.size(); ++a) {
      std::string sig, nonsig;
      for (size_t l = 0; l < langs.size(); ++l) {
        for (const auto& d : differences_) {
          if (d.arm_a != others[a] || d.language != langs[l] || !headline_.is_headline(d.task, d.split, d.metric) ||
              !std::isfinite(d.difference)) {
            continue;
          }
          const double x = static_cast<double>(l) + (static_cast<double>(a) - (others.size() - 1) / 2.0) * width;
          const double lo = std::isfinite(d.ci_lower) ? d.ci_lower : d.difference;
          const double hi = std::isfinite(d.ci_upper) ? d.ci_upper : d.difference;
          const std::string label = show_diff(d.metric, d.difference) + (d.significant ? " *" : "");
          const double label_y = d.difference >= 0 ? scale * hi + pad : scale * lo - pad;
          (d.significant ? sig : nonsig) += num(x) + " " + num(scale * d.difference) + " " + num(scale * lo) + " " +
                                            num(scale * hi) + " " + dq(label) + " " + num(label_y) + "\n";
        }
      }
      const std::string arm_color = color(std::find(arms_.begin(), arms_.end(), others[a]) - arms_.begin());
      for (int s = 0; s < 2; ++s) {
        const std::string& rows = s == 0 ? sig : nonsig;
        if (rows.empty()) continue;
        const std::string key = "d" + std::to_string(a) + (s == 0 ? "s" : "n");
        f.data.push_back({key, rows});
        plot += std::string(plot.empty() ? "plot " : ", \\\n     ") + "DATA(" + key +
                ") using 1:2 with boxes fs solid " + (s == 0 ? "0.85" : "0.2") + " border rgb '#333333' lc rgb '" +
                arm_color + "' title " +
                gp_quote(others[a] + " - " + baseline_ + (s == 0 ? " (significant)" : " (not significant)")) +
                ", DATA(" + key + ") using 1:2:3:4 with yerrorbars lc rgb '#222222' pt 0 notitle, DATA(" + key +
                ") using 1:6:5 with labels font ',9' notitle";
      }
    }
    if (plot.empty()) {
      paragraph("", "No per-language differences at the final stage to plot.");
      return;
    }
    f.script = "set boxwidth " + num(width * 0.9) + " absolute\n" + xtics(langs) + "set ylabel " +
               gp_quote("difference" + std::string(is_fraction_metric(headline_.metric) ? " (pp)" : "")) +
               "\nset xzeroaxis lt -1\nset offsets 0,0,graph 0.12,graph 0.05\nset grid ytics lc rgb '#dddddd'\n"
               "set key outside top center horizontal\nset title " +
               gp_quote(headline_.split + " " + headline_.metric + ": arm - " + baseline_ + " per language") + "\n" + plot + "\n";
    figure(std::move(f));
  }

  // ---- learning curves ----
  void curves_section() {
    heading(2, "Learning curves", "curves");
    // Stage names in the order first met, each with its stage runs (hash -> row).
    std::vector<std::string> names;
    std::map<std::string, std::vector<const pipeline::StageRow*>> runs;
    for (const auto& s : data_.stages) {
      if (!runs.count(s.name)) names.push_back(s.name);
      runs[s.name].push_back(&s);
    }
    std::map<std::string, std::vector<const pipeline::CurveRow*>> by_hash;
    for (const auto& c : data_.curves) {
      if (c.split == "dev" && std::isfinite(c.value)) by_hash[c.hash].push_back(&c);
    }
    bool any = false;
    for (const auto& name : names) {
      std::set<std::string> metrics;
      for (const auto* s : runs[name]) {
        for (const auto* c : by_hash[s->hash]) metrics.insert(c->metric);
      }
      if (metrics.empty()) continue;
      const std::string metric = pipeline::headline_metric(metrics, declared_metric(name));
      const double scale = scale_of(metric);
      Figure f;
      f.name = "fig-curves-" + file_stem(name);
      f.caption = "Dev " + metric + " during stage '" + name +
                  "' against training steps, one line per arm and seed (mean over the dev languages at each step).";
      std::string plot;
      std::map<std::string, int> seed_index;  // arm -> lines so far, for the dash type
      for (const auto* s : runs[name]) {
        std::map<int64_t, std::vector<double>> at;  // step -> values over languages
        for (const auto* c : by_hash[s->hash]) {
          if (c->metric == metric) at[c->step].push_back(c->value);
        }
        if (at.empty()) continue;
        std::string rows;
        for (const auto& [step, values] : at) {
          rows += std::to_string(step) + " " + num(scale * eval::mean_of(values)) + "\n";
        }
        const std::string key = "h" + std::to_string(f.data.size());
        f.data.push_back({key, rows});
        const size_t arm_index = std::find(arms_.begin(), arms_.end(), s->arm) - arms_.begin();
        const int dash = 1 + (seed_index[s->arm]++ % 5);
        plot += std::string(plot.empty() ? "plot " : ", \\\n     ") + "DATA(" + key +
                ") using 1:2 with linespoints lw 1.5 pt 7 ps 0.4 dt " + std::to_string(dash) + " lc rgb '" +
                color(arm_index) + "' title " + gp_quote(s->arm + " seed " + std::to_string(s->seed));
      }
      f.script = "set xlabel 'step'\nset ylabel " + gp_quote("dev " + metric + (scale == 100 ? " (%)" : "")) +
                 "\nset grid lc rgb '#dddddd'\nset key outside right top vertical\nset title " +
                 gp_quote("stage " + name + ": dev " + metric) + "\n" + plot + "\n";
      figure(std::move(f));
      any = true;
    }
    if (!any) paragraph("", "No dev evaluations during training in the database (curves table): no learning curves.");
  }

  // The headline metric declared for the task a stage was evaluated on ("" when none is).
  std::string declared_metric(const std::string& stage) const {
    for (const auto& r : data_.results) {
      if (r.stage != stage) continue;
      const auto it = options_.headline_metrics.find(r.task);
      return it == options_.headline_metrics.end() ? "" : it->second;
    }
    return "";
  }

  static std::string file_stem(const std::string& s) {
    std::string out;
    for (char c : s) out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '_';
    return out.empty() ? "stage" : out;
  }

  // ---- efficiency ----
  void efficiency_section() {
    heading(2, "Inference efficiency", "efficiency");
    if (!setting_.found) {
      paragraph("",
                "No efficiency measurements in the database (efficiency and latency_samples tables): no "
                "latency, throughput or memory figures.");
    } else {
      latency_figure();
      batch_figure("throughput_seq_s", "fig-throughput", "throughput (sequences/s)", "Throughput");
      batch_figure("peak_rss_mb", "fig-memory", "peak resident memory (MB)", "Peak memory");
      efficiency_table();
    }
    parameter_table();
  }

  void latency_figure() {
    const int64_t batch = setting_.batch_sizes.empty() ? 1 : setting_.batch_sizes.front();
    Figure f;
    f.name = "fig-latency";
    f.caption = "Latency distribution per arm at batch " + std::to_string(batch) + " (" + describe(setting_) +
                "): the fraction of repetitions at or below each latency, all seeds and languages pooled.";
    std::string plot;
    for (size_t a = 0; a < arms_.size(); ++a) {
      auto v = latency_values(arms_[a], batch);
      if (v.empty()) continue;
      std::sort(v.begin(), v.end());
      std::string rows;
      for (size_t i = 0; i < v.size(); ++i) {
        rows += num(v[i]) + " " + num(static_cast<double>(i + 1) / static_cast<double>(v.size())) + "\n";
      }
      const double median = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
      const std::string key = "a" + std::to_string(a);
      f.data.push_back({key, rows});
      plot += std::string(plot.empty() ? "plot " : ", \\\n     ") + "DATA(" + key +
              ") using 1:2 with steps lw 2 lc rgb '" + color(a) + "' title " +
              gp_quote(arms_[a] + " (median " + fixed(median, 2) + " ms, n = " + std::to_string(v.size()) + ")");
    }
    if (plot.empty()) {
      paragraph("", "No latency samples (latency_samples table) at batch " + std::to_string(batch) +
                        ": no latency distribution.");
      return;
    }
    f.script =
        "set xlabel 'latency (ms)'\nset ylabel 'fraction of repetitions'\nset yrange [0:1.02]\n"
        "set grid lc rgb '#dddddd'\nset key right bottom\nset title " +
        gp_quote("latency CDF, batch " + std::to_string(batch)) + "\n" + plot + "\n";
    figure(std::move(f));
  }

  // metric against batch size per arm, mean over seeds.
  void batch_figure(const std::string& metric, const std::string& name, const std::string& ylabel,
                    const std::string& what) {
    Figure f;
    f.name = name;
    f.caption = what + " against batch size per arm (" + describe(setting_) + "), mean over seeds.";
    std::string plot;
    int64_t lo = 0, hi = 0;
    for (size_t a = 0; a < arms_.size(); ++a) {
      std::map<int64_t, std::vector<double>> at;
      for (const auto& e : data_.efficiency) {
        if (e.arm == arms_[a] && e.metric == metric && setting_.matches(e.mode, e.threads, e.seq_len) && e.batch_size > 0 &&
            std::isfinite(e.value)) {
          at[e.batch_size].push_back(e.value);
        }
      }
      if (at.empty()) continue;
      std::string rows;
      for (const auto& [b, values] : at) {
        rows += std::to_string(b) + " " + num(eval::mean_of(values)) + " " + dq(fixed(eval::mean_of(values), 1)) + "\n";
        lo = lo == 0 ? b : std::min(lo, b);
        hi = std::max(hi, b);
      }
      const std::string key = "a" + std::to_string(a);
      f.data.push_back({key, rows});
      plot += std::string(plot.empty() ? "plot " : ", \\\n     ") + "DATA(" + key +
              ") using 1:2 with linespoints lw 2 pt 7 lc rgb '" + color(a) + "' title " + gp_quote(arms_[a]) +
              ", DATA(" + key + ") using 1:2:3 with labels offset 0,0.8 font ',9' tc rgb '" + color(a) + "' notitle";
    }
    if (plot.empty()) {
      paragraph("", what + ": no " + metric + " rows in the efficiency table.");
      return;
    }
    std::string script = "set xlabel 'batch size'\nset ylabel " + gp_quote(ylabel) +
                         "\nset grid lc rgb '#dddddd'\nset key outside top center horizontal\n"
                         "set offsets graph 0.05,graph 0.05,graph 0.12,graph 0.05\nset yrange [0:*]\n";
    if (hi >= 4 * lo) script += "set logscale x 2\n";
    f.script = script + "set title " + gp_quote(what + " against batch size") + "\n" + plot + "\n";
    figure(std::move(f));
  }

  void efficiency_table() {
    // arm, setting -> metric -> values over seeds
    std::map<std::pair<std::string, BenchSetting>, std::map<std::string, std::vector<double>>> cells;
    for (const auto& e : data_.efficiency) {
      if (!model_level(e) && std::isfinite(e.value)) cells[{e.arm, setting_of(e)}][e.metric].push_back(e.value);
    }
    if (cells.empty()) {
      paragraph("", "No per-setting efficiency rows (efficiency table) to tabulate.");
      return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& [key, metrics] : cells) {
      auto m = [&](const std::string& name, int digits) {
        const auto it = metrics.find(name);
        return it == metrics.end() ? std::string("–") : fixed(eval::mean_of(it->second), digits);
      };
      const auto& s = key.second;
      rows.push_back({key.first, s.mode, std::to_string(s.threads), std::to_string(s.batch_size),
                      s.seq_len == 0 ? "data" : std::to_string(s.seq_len), language_name(s.language),
                      m("latency_ms_p50", 2), m("latency_ms_p90", 2), m("latency_ms_p99", 2),
                      m("latency_ms_mean", 2) + " [" + m("latency_ms_mean_ci_lower", 2) + ", " +
                          m("latency_ms_mean_ci_upper", 2) + "]",
                      m("throughput_seq_s", 1), m("throughput_tok_s", 0), m("peak_rss_mb", 1)});
    }
    table({"arm", "mode", "threads", "batch", "seq_len", "language", "p50 ms", "p90 ms", "p99 ms", "mean ms [CI]",
           "seq/s", "tok/s", "peak RSS MB"},
          rows);
  }

  void parameter_table() {
    static const std::vector<std::string> kMetrics = {
        "params_total",     "params_embeddings", "params_encoder", "params_head",      "params_trainable",
        "params_differing", "disk_mb",           "load_s",         "flops_per_example"};
    std::vector<std::string> present;
    for (const auto& m : kMetrics) {
      for (const auto& arm : arms_) {
        if (!model_values(arm, m).empty()) {
          present.push_back(m);
          break;
        }
      }
    }
    if (present.empty()) {
      paragraph("", "No parameter counts (efficiency rows params_*) in the database.");
      return;
    }
    std::vector<std::string> header = {"arm"};
    header.insert(header.end(), present.begin(), present.end());
    std::vector<std::vector<std::string>> rows;
    for (const auto& arm : arms_) {
      std::vector<std::string> row = {arm};
      for (const auto& m : present) {
        const double v = eval::mean_of(model_values(arm, m));
        row.push_back(!std::isfinite(v) ? "–" : m == "disk_mb" || m == "load_s" ? fixed(v, 2) : si(v));
      }
      rows.push_back(row);
    }
    table(header, rows);
  }

  // ---- cost ----
  std::optional<double> peak_fp32() const {
    const auto p = data_.meta_value("peak_flops");
    if (!p) return std::nullopt;
    try {
      const auto j = nlohmann::json::parse(*p);
      if (j.contains("fp32") && j["fp32"].is_number() && j["fp32"].get<double>() > 0) return j["fp32"].get<double>();
    } catch (const nlohmann::json::exception&) {
    }
    return std::nullopt;
  }

  void cost_section() {
    heading(2, "Training cost", "cost");
    bool any_cost = false;
    for (const auto& c : costs_) any_cost = any_cost || std::isfinite(c.wall_s);
    if (!any_cost) {
      paragraph("", "No training times in the stages table: no cost figures.");
    } else {
      cost_figure();
      const ArmCost* base = cost_of(baseline_);
      const auto peak = peak_fp32();
      std::vector<std::vector<std::string>> rows;
      for (const auto& c : costs_) {
        std::string chain;
        for (const auto& s : c.chain) chain += (chain.empty() ? "" : " → ") + s;
        const double achieved = std::isfinite(c.flops) && c.wall_s > 0 ? c.flops / c.wall_s : kNaN;
        rows.push_back({c.arm, chain, std::to_string(c.seeds), duration(c.wall_s), duration(c.cpu_s), si(c.examples),
                        si(c.tokens), si(c.flops), std::isfinite(achieved) ? si(achieved) + "FLOP/s" : "n/a",
                        peak && std::isfinite(achieved) ? percent(achieved / *peak, 1) : "n/a",
                        base && base->wall_s > 0 ? fixed(c.wall_s / base->wall_s, 2) + "×" : "n/a",
                        base && base->flops > 0 ? fixed(c.flops / base->flops, 2) + "×" : "n/a"});
      }
      table({"arm", "stages", "seeds", "wall time", "CPU time", "examples", "tokens", "FLOPs", "achieved",
             "of fp32 peak", "time vs " + baseline_, "FLOPs vs " + baseline_},
            rows);
      if (!peak) paragraph("", "No peak_flops in the database's meta table: the fraction of peak is not shown.");
    }
    if (!data_.stages.empty()) {
      std::vector<std::vector<std::string>> rows;
      for (const auto& s : data_.stages) {
        rows.push_back({s.hash.substr(0, 12), s.name, s.arm, std::to_string(s.seed), s.status, duration(s.wall_s),
                        std::to_string(s.steps), si(s.flops)});
      }
      table({"stage hash", "name", "arm", "seed", "status", "wall time", "steps", "FLOPs"}, rows);
    }
  }

  void cost_figure() {
    Figure f;
    f.name = "fig-cost";
    f.caption = "Training wall time (stages summed, mean over seeds) against " + headline_.split + " " + headline_.metric +
                " averaged over languages, per arm.";
    double max_wall = 0;
    for (const auto& c : costs_) {
      if (std::isfinite(c.wall_s)) max_wall = std::max(max_wall, c.wall_s);
    }
    const double unit = max_wall >= 7200 ? 3600 : max_wall >= 120 ? 60 : 1;
    const std::string unit_name = unit == 3600 ? "h" : unit == 60 ? "min" : "s";
    const double scale = scale_of(headline_.metric);
    const auto langs = headline_languages();
    std::string plot;
    for (size_t a = 0; a < arms_.size(); ++a) {
      const ArmCost* c = cost_of(arms_[a]);
      std::vector<double> means;
      for (const auto& l : langs) {
        if (const SummaryRow* s = headline_summary(arms_[a], l)) means.push_back(s->mean);
      }
      const double y = eval::mean_of(means);
      if (!c || !std::isfinite(c->wall_s) || !std::isfinite(y)) continue;
      const std::string key = "a" + std::to_string(a);
      f.data.push_back({key, num(c->wall_s / unit) + " " + num(scale * y) + " " +
                                 dq(arms_[a] + ": " + show_value(headline_.metric, y) + ", " + duration(c->wall_s)) + "\n"});
      plot += std::string(plot.empty() ? "plot " : ", \\\n     ") + "DATA(" + key +
              ") using 1:2 with points pt 7 ps 1.6 lc rgb '" + color(a) + "' title " + gp_quote(arms_[a]) + ", DATA(" +
              key + ") using 1:2:3 with labels offset 0,1.2 font ',9' notitle";
    }
    if (plot.empty()) {
      paragraph("", "No arm has both a training time and results: no cost-accuracy plot.");
      return;
    }
    f.script = "set xlabel " + gp_quote("training wall time (" + unit_name + ")") + "\nset ylabel " +
               gp_quote("mean " + headline_.metric + (scale == 100 ? " (%)" : "")) +
               "\nset xrange [0:*]\nset offsets 0,graph 0.15,graph 0.2,graph 0.2\nset grid lc rgb '#dddddd'\n"
               "set key outside top center horizontal\nset title 'training cost against accuracy'\n" +
               plot + "\n";
    figure(std::move(f));
  }

  // ---- config and machine ----
  void config_section() {
    heading(2, "Configuration", "config");
    if (const auto e = data_.meta_value("experiment")) {
      try {
        pre(nlohmann::json::parse(*e).dump(2));
      } catch (const nlohmann::json::exception&) {
        pre(*e);
      }
    } else {
      paragraph("", "No resolved experiment config (meta 'experiment') in the database.");
    }
    heading(2, "Machine", "machine");
    std::vector<std::vector<std::string>> rows;
    if (const auto fp = data_.meta_value("fingerprint")) {
      try {
        const auto j = nlohmann::json::parse(*fp);
        if (j.is_object()) {
          for (const auto& [k, v] : j.items()) rows.push_back({k, v.is_string() ? v.get<std::string>() : v.dump()});
        } else {
          rows.push_back({"fingerprint", j.dump()});
        }
      } catch (const nlohmann::json::exception&) {
        rows.push_back({"fingerprint", *fp});
      }
    }
    if (const auto p = data_.meta_value("peak_flops")) {
      try {
        const auto j = nlohmann::json::parse(*p);
        for (const auto& [k, v] : j.items()) {
          rows.push_back({"peak " + k, v.is_number() ? si(v.get<double>()) + "FLOP/s" : v.dump()});
        }
      } catch (const nlohmann::json::exception&) {
        rows.push_back({"peak_flops", *p});
      }
    }
    if (rows.empty()) {
      paragraph("", "No machine fingerprint (meta 'fingerprint') in the database.");
    } else {
      table({"key", "value"}, rows);
    }
  }

  RunData data_;
  ReportOptions options_;
  fs::path run_dir_;
  std::vector<std::string> arms_;
  std::string baseline_;
  pipeline::Headline headline_;
  std::vector<SummaryRow> summary_;
  std::vector<DifferenceRow> differences_;
  pipeline::EfficiencySetting setting_;
  std::vector<pipeline::ArmLine> lines_;
  std::vector<ArmCost> costs_;
};

// ---- rendering ----

std::string render_markdown(const std::vector<Block>& blocks, const std::vector<RenderedFigure>& figures) {
  std::ostringstream md;
  for (const auto& b : blocks) {
    switch (b.kind) {
      case Block::kHeading:
        md << std::string(static_cast<size_t>(b.level), '#') << " " << b.text << "\n\n";
        break;
      case Block::kParagraph:
        md << (b.lead.empty() ? "" : "**" + b.lead + "** ") << b.text << "\n\n";
        break;
      case Block::kFigure: {
        const auto& f = figures[b.figure];
        const auto file = (f.png.empty() ? f.svg : f.png).filename().string();
        md << "![" << f.caption << "](" << file << ")\n\n*" << f.caption << "*\n\n";
        break;
      }
      case Block::kTable: {
        md << "|";
        for (const auto& h : b.header) md << " " << md_escape(h) << " |";
        md << "\n|";
        for (size_t i = 0; i < b.header.size(); ++i) md << (i == 0 ? " --- |" : " ---: |");
        md << "\n";
        for (const auto& r : b.rows) {
          md << "|";
          for (const auto& c : r) md << " " << md_escape(c) << " |";
          md << "\n";
        }
        md << "\n";
        break;
      }
      case Block::kPre:
        md << "```json\n" << b.text << "\n```\n\n";
        break;
    }
  }
  return md.str();
}

// The SVG element of a gnuplot file, its ids prefixed so several figures can share one document.
std::string inline_svg(const std::string& svg, const std::string& prefix) {
  const size_t start = svg.find("<svg");
  if (start == std::string::npos) throw InputError("gnuplot wrote an SVG without an <svg> element");
  std::string out = svg.substr(start);
  for (const char* q : {"\"", "'"}) {
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {std::string("id=") + q, std::string("id=") + q + prefix},
             {std::string("href=") + q + "#", std::string("href=") + q + "#" + prefix}}) {
      for (size_t pos = 0; (pos = out.find(from, pos)) != std::string::npos; pos += to.size()) {
        out.replace(pos, from.size(), to);
      }
    }
  }
  for (size_t pos = 0; (pos = out.find("url(#", pos)) != std::string::npos; pos += 5 + prefix.size()) {
    out.replace(pos, 5, "url(#" + prefix);
  }
  return out;
}

const char* const kCss = R"css(
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; border-bottom: 2px solid #4C72B0; padding-bottom: .2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; }
section#answer p { background: #f5f8fc; border-left: 4px solid #4C72B0; padding: .5em .8em; }
figure { margin: 1.2em 0; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { color: #555; font-size: .9em; }
table { border-collapse: collapse; margin: 1em 0; font-size: .88em; }
th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f0f0f0; }
tr:nth-child(even) td { background: #fafafa; }
pre { background: #f6f6f6; padding: .8em; overflow-x: auto; font-size: .85em; }
nav a { margin-right: 1em; }
)css";

std::string render_html(const std::vector<Block>& blocks, const std::vector<RenderedFigure>& figures,
                        const std::vector<std::string>& svgs, const std::string& title) {
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>" << html_escape(title)
    << "</title>\n<style>" << kCss << "</style>\n</head>\n<body>\n";
  bool open_section = false;
  for (const auto& b : blocks) {
    switch (b.kind) {
      case Block::kHeading:
        if (b.level == 2) {
          if (open_section) h << "</section>\n";
          h << "<section id=\"" << b.anchor << "\">\n";
          open_section = true;
        }
        h << "<h" << b.level << ">" << html_escape(b.text) << "</h" << b.level << ">\n";
        if (b.level == 1) {
          h << "<nav><a href=\"#answer\">Answer</a><a href=\"#accuracy\">Accuracy</a><a href=\"#curves\">Curves</a>"
               "<a href=\"#efficiency\">Efficiency</a><a href=\"#cost\">Cost</a><a href=\"#config\">Config</a>"
               "<a href=\"#machine\">Machine</a></nav>\n";
        }
        break;
      case Block::kParagraph:
        h << "<p>" << (b.lead.empty() ? "" : "<strong>" + html_escape(b.lead) + "</strong> ") << html_escape(b.text)
          << "</p>\n";
        break;
      case Block::kFigure:
        h << "<figure id=\"" << figures[b.figure].name << "\">\n"
          << svgs[b.figure] << "\n<figcaption>" << html_escape(figures[b.figure].caption)
          << "</figcaption>\n</figure>\n";
        break;
      case Block::kTable:
        h << "<table>\n<thead><tr>";
        for (const auto& c : b.header) h << "<th>" << html_escape(c) << "</th>";
        h << "</tr></thead>\n<tbody>\n";
        for (const auto& r : b.rows) {
          h << "<tr>";
          for (const auto& c : r) h << "<td>" << html_escape(c) << "</td>";
          h << "</tr>\n";
        }
        h << "</tbody>\n</table>\n";
        break;
      case Block::kPre:
        h << "<pre>" << html_escape(b.text) << "</pre>\n";
        break;
    }
  }
  if (open_section) h << "</section>\n";
  h << "</body>\n</html>\n";
  return h.str();
}

// Removes a directory tree on scope exit.
struct TempDir {
  fs::path path;
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

ReportPaths write_report(const fs::path& run_dir, const ReportOptions& options) {
  options.validate();
  std::error_code ec;
  if (!fs::is_directory(run_dir, ec)) input_error(run_dir.string(), ": no such run directory");
  const fs::path db = run_dir / "results.sqlite";
  if (!fs::is_regular_file(db, ec)) {
    input_error(db.string(), ": no results database (is ", run_dir.string(), " a stilts run directory?)");
  }
  fs::path name = fs::absolute(run_dir).lexically_normal();
  if (name.filename().empty()) name = name.parent_path();
  Builder builder(load_run_data(db), options, name);
  builder.build();

  ReportPaths paths;
  paths.dir = options.out_dir.empty() ? run_dir / "report" : options.out_dir;
  fs::create_directories(paths.dir, ec);
  if (ec) input_error(paths.dir.string(), ": cannot create the report directory: ", ec.message());
  TempDir work{paths.dir / (".render-" + std::to_string(::getpid()))};
  fs::remove_all(work.path, ec);
  GnuplotOptions gp;
  gp.program = options.gnuplot;
  gp.png = options.png;
  const auto rendered = render_figures(builder.figures, work.path, gp);

  std::vector<std::string> svgs;
  std::set<std::string> written;
  for (size_t i = 0; i < rendered.size(); ++i) {
    const auto& r = rendered[i];
    const std::string svg = read_file(r.svg);
    svgs.push_back(inline_svg(svg, "f" + std::to_string(i) + "-"));
    const fs::path svg_out = paths.dir / r.svg.filename();
    write_file_atomic(svg_out, svg);
    paths.svgs.push_back(svg_out);
    written.insert(svg_out.filename().string());
    if (!r.png.empty()) {
      const fs::path png_out = paths.dir / r.png.filename();
      write_file_atomic(png_out, read_file(r.png));
      paths.pngs.push_back(png_out);
      written.insert(png_out.filename().string());
    }
  }
  // Figures of an earlier report that this one no longer has would be mistaken for current ones.
  for (const auto& entry : fs::directory_iterator(paths.dir, ec)) {
    const std::string name = entry.path().filename().string();
    const std::string ext = entry.path().extension().string();
    if (name.rfind("fig-", 0) == 0 && (ext == ".svg" || ext == ".png") && !written.count(name)) {
      fs::remove(entry.path(), ec);
    }
  }
  std::vector<RenderedFigure> md_figures = rendered;
  for (auto& f : md_figures) {
    f.svg = paths.dir / f.svg.filename();
    if (!f.png.empty()) f.png = paths.dir / f.png.filename();
  }
  paths.markdown = paths.dir / "report.md";
  paths.html = paths.dir / "report.html";
  write_file_atomic(paths.markdown, render_markdown(builder.blocks, md_figures));
  write_file_atomic(paths.html,
                    render_html(builder.blocks, md_figures, svgs, "stilts report: " + name.filename().string()));
  return paths;
}

}  // namespace stilts::report
