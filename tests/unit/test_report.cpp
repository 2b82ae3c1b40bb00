// stilts::report on a small run directory (the store's schema, rows written with SQL): every figure
// exists, is valid SVG and is embedded in the HTML; the tables, plots and the answer state the
// database's numbers.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <tuple>

#include "common/error.h"
#include "report/analysis.h"
#include "report/format.h"
#include "report/report.h"
#include "support/fixtures.h"
#include "support/run.h"
#include "unit/test_report_fixture.h"

namespace stilts {
namespace {

namespace fs = std::filesystem;
using report::ReportOptions;
using report::write_report;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t pos = 0; (pos = text.find(what, pos)) != std::string::npos; pos += what.size()) ++n;
  return n;
}

bool has_python() { return testing::run_command("python3", {"-c", "import xml.etree.ElementTree"}).exit_code == 0; }

// Parses every file with python's XML parser and prints the root tags.
std::string svg_roots(const std::vector<fs::path>& files) {
  std::vector<std::string> args = {"-c",
                                   "import sys, xml.etree.ElementTree as ET\n"
                                   "for f in sys.argv[1:]: print(ET.parse(f).getroot().tag)"};
  for (const auto& f : files) args.push_back(f.string());
  const auto r = testing::run_command("python3", args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

std::string error_of(const fs::path& run_dir, const ReportOptions& options = {}) {
  try {
    write_report(run_dir, options);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Report, WritesEveryFigureAndTheNumbers) {
  const auto run = testing::make_temp_dir() / "run";
  testing::make_report_run(run);
  const auto paths = write_report(run);
  EXPECT_EQ(paths.dir, run / "report");
  EXPECT_EQ(paths.markdown, run / "report" / "report.md");
  EXPECT_EQ(paths.html, run / "report" / "report.html");

  const std::vector<std::string> names = {
      "fig-accuracy", "fig-difference", "fig-curves-target", "fig-curves-intermediate",
      "fig-latency",  "fig-throughput", "fig-memory",        "fig-cost"};
  ASSERT_EQ(paths.svgs.size(), names.size());
  ASSERT_EQ(paths.pngs.size(), names.size());
  for (const auto& n : names) {
    const auto svg = paths.dir / (n + ".svg");
    const auto png = paths.dir / (n + ".png");
    EXPECT_TRUE(std::find(paths.svgs.begin(), paths.svgs.end(), svg) != paths.svgs.end()) << n;
    ASSERT_TRUE(fs::is_regular_file(svg)) << svg;
    ASSERT_TRUE(fs::is_regular_file(png)) << png;
    EXPECT_GT(fs::file_size(png), 5000u) << png;
    EXPECT_EQ(slurp(png).substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << png;
  }
  // Nothing left behind but the report.
  for (const auto& e : fs::directory_iterator(paths.dir)) {
    const auto name = e.path().filename().string();
    EXPECT_TRUE(name.rfind("fig-", 0) == 0 || name == "report.md" || name == "report.html") << name;
  }

  if (has_python()) {
    const auto roots = svg_roots(paths.svgs);
    EXPECT_EQ(count(roots, "{http://www.w3.org/2000/svg}svg\n"), names.size()) << roots;
    const auto html_root = svg_roots({paths.html});  // the page itself is well-formed XML too
    EXPECT_EQ(html_root, "html\n");
  }

  const auto html = slurp(paths.html);
  const auto md = slurp(paths.markdown);
  // Self-contained: every figure inline, no external resources.
  EXPECT_EQ(count(html, "<svg"), names.size());
  for (const auto& n : names) EXPECT_NE(html.find("<figure id=\"" + n + "\">"), std::string::npos) << n;
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  for (const auto& n : names) EXPECT_NE(md.find("(" + n + ".png)"), std::string::npos) << n;

  // The figures' labels carry the database's means and differences.
  const auto accuracy_svg = slurp(paths.dir / "fig-accuracy.svg");
  EXPECT_NE(accuracy_svg.find(">82.0%<"), std::string::npos);  // direct en
  EXPECT_NE(accuracy_svg.find(">85.0%<"), std::string::npos);  // intermediate en
  EXPECT_NE(accuracy_svg.find(">56.7%<"), std::string::npos);  // intermediate fr
  const auto difference_svg = slurp(paths.dir / "fig-difference.svg");
  EXPECT_NE(difference_svg.find(">+3.0 pp *<"), std::string::npos);
  EXPECT_NE(difference_svg.find(">-5.3 pp *<"), std::string::npos);
  EXPECT_NE(difference_svg.find(">+0.3 pp<"), std::string::npos);
  EXPECT_NE(slurp(paths.dir / "fig-latency.svg").find("median 10.20 ms, n = 60"), std::string::npos);
  EXPECT_NE(slurp(paths.dir / "fig-cost.svg").find("intermediate: 71.3%, 6.7 min"), std::string::npos);

  // Tables.
  EXPECT_NE(md.find("| pawsx | test | accuracy | en | direct | 3 | 82.0% ± 2.0 | [77.0, 87.0] |"), std::string::npos)
      << md;
  EXPECT_NE(md.find("| en | intermediate − direct | 3 | +3.0 pp | [+0.5, +5.5] | 0.0351 | yes |"), std::string::npos);
  EXPECT_NE(md.find("| de | intermediate − direct | 3 | +0.3 pp |"), std::string::npos);
  EXPECT_NE(md.find("| 278M |"), std::string::npos);
  // Cost: 400 s vs 100 s; 4e15 FLOPs in 400 s = 10 TFLOP/s = 50% of the 2e13 peak.
  EXPECT_NE(md.find("| intermediate | intermediate → target | 3 | 6.7 min | 13.3 min | 2.00k | 100k | 4.00P | "
                    "10.0TFLOP/s | 50.0% | 4.00× | 4.00× |"),
            std::string::npos)
      << md;

  // The answer.
  EXPECT_NE(md.find("intermediate was significantly higher than direct in en (+3.0 pp [+0.5, +5.5], p = 0.0351)"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("intermediate was significantly lower than direct in fr (-5.3 pp"), std::string::npos);
  EXPECT_NE(md.find("no significant difference in de (+0.3 pp"), std::string::npos);
  EXPECT_NE(md.find("median latency at batch 1 equivalent within ±5% (10.21 vs 10.20 ms"), std::string::npos) << md;
  EXPECT_NE(md.find("throughput at batch 32 22.9% lower"), std::string::npos) << md;
  EXPECT_NE(md.find("peak memory equivalent within ±5% (938.0 vs 937.0 MB"), std::string::npos);
  EXPECT_NE(md.find("intermediate and direct have the same parameter count (278M)"), std::string::npos);
  EXPECT_NE(md.find("intermediate took 4.00× the training wall time of direct (6.7 min vs 100.0 s per seed, its 2 "
                    "stages summed) and 4.00× the training FLOPs (4.00P vs 1.00P)"),
            std::string::npos)
      << md;
  // The answer comes first; the intermediate stage's own mnli result is not part of it.
  EXPECT_LT(md.find("## Answer"), md.find("## Accuracy per language"));
  EXPECT_EQ(md.find("| mnli |"), std::string::npos);
  // Config and machine.
  EXPECT_NE(html.find("&quot;name&quot;: &quot;pawsx-study&quot;"), std::string::npos);
  EXPECT_NE(html.find("<td>Test CPU 9000</td>"), std::string::npos);
  EXPECT_NE(md.find("| peak fp32 | 20.0TFLOP/s |"), std::string::npos);
  // A report is the same for the same database (no time stamps).
  write_report(run);
  EXPECT_EQ(slurp(paths.markdown), md);
}

TEST(Report, MissingDataIsSaidNotPlotted) {
  const auto run = testing::make_temp_dir() / "run";
  testing::ReportRunOptions o;
  o.seeds = 1;
  o.curves = false;
  o.efficiency = false;
  o.stages = false;
  o.meta_extras = false;
  testing::make_report_run(run, o);
  ReportOptions options;
  options.png = false;
  const auto paths = write_report(run, options);
  EXPECT_TRUE(paths.pngs.empty());
  ASSERT_EQ(paths.svgs.size(), 2u);  // accuracy and difference: the data there is
  EXPECT_EQ(paths.svgs[0].filename(), "fig-accuracy.svg");
  EXPECT_EQ(paths.svgs[1].filename(), "fig-difference.svg");
  const auto md = slurp(paths.markdown);
  EXPECT_NE(md.find("too few seeds for an interval in de (+3.0 pp), en (+3.0 pp) and fr (-5.0 pp), so no difference "
                    "is claimed there"),
            std::string::npos)
      << md;
  EXPECT_EQ(md.find("significantly"), std::string::npos);
  EXPECT_NE(md.find("No dev evaluations during training"), std::string::npos);
  EXPECT_NE(md.find("No efficiency measurements of both arms"), std::string::npos);
  EXPECT_NE(md.find("No parameter counts"), std::string::npos);
  EXPECT_NE(md.find("No training times"), std::string::npos);
  EXPECT_NE(md.find("No resolved experiment config"), std::string::npos);
  EXPECT_NE(md.find("No machine fingerprint"), std::string::npos);
  EXPECT_NE(md.find("(fig-accuracy.svg)"), std::string::npos);
  EXPECT_EQ(count(slurp(paths.html), "<svg"), 2u);

  // A re-render with fewer figures removes the old ones.
  const auto full = run.parent_path() / "full";
  testing::make_report_run(full);
  ReportOptions into;
  into.out_dir = paths.dir;
  EXPECT_EQ(write_report(full, into).svgs.size(), 8u);
  write_report(run, options);
  EXPECT_FALSE(fs::exists(paths.dir / "fig-latency.svg"));
  EXPECT_FALSE(fs::exists(paths.dir / "fig-latency.png"));
}

TEST(Report, EmptyDatabaseSaysSo) {
  const auto run = testing::make_temp_dir() / "run";
  fs::create_directories(run);
  {
    testing::TestDb db(run / "results.sqlite");
  }
  const auto paths = write_report(run);
  EXPECT_TRUE(paths.svgs.empty());
  const auto md = slurp(paths.markdown);
  EXPECT_NE(md.find("The database holds no arms yet"), std::string::npos) << md;
  EXPECT_NE(md.find("No results at the arms' final stages yet."), std::string::npos);
}

// A metric undefined in every seed (NULL, e.g. a correlation of constant predictions) is said, not plotted.
TEST(Report, UndefinedValuesAreNotPlotted) {
  const auto run = testing::make_temp_dir() / "run";
  fs::create_directories(run);
  {
    testing::TestDb db(run / "results.sqlite");
    for (const char* arm : {"direct", "intermediate"}) {
      for (int seed : {1, 2}) {
        db.exec(std::string("INSERT INTO results VALUES('") + arm + "', " + std::to_string(seed) +
                ", 'target', 'stsb', 'en', 'test', 'pearson', NULL)");
      }
    }
  }
  ReportOptions options;
  options.png = false;
  const auto paths = write_report(run, options);
  EXPECT_TRUE(paths.svgs.empty());
  const auto md = slurp(paths.markdown);
  EXPECT_NE(md.find("Every pearson value at the final stage is undefined: nothing to plot."), std::string::npos) << md;
  EXPECT_NE(md.find("undefined in en (no defined value in an arm)"), std::string::npos) << md;
}

TEST(Report, ErrorsNameTheFile) {
  const auto dir = testing::make_temp_dir();
  EXPECT_NE(error_of(dir / "nope").find((dir / "nope").string() + ": no such run directory"), std::string::npos);
  fs::create_directories(dir / "empty");
  EXPECT_NE(error_of(dir / "empty").find((dir / "empty" / "results.sqlite").string() + ": no results database"),
            std::string::npos);
  // Not SQLite at all.
  fs::create_directories(dir / "text");
  std::ofstream(dir / "text" / "results.sqlite") << "hello, this is not a database at all, just some text\n";
  const auto text = error_of(dir / "text");
  EXPECT_NE(text.find((dir / "text" / "results.sqlite").string()), std::string::npos) << text;
  EXPECT_NE(text.find("not a"), std::string::npos) << text;
  // Another program's SQLite database.
  fs::create_directories(dir / "foreign");
  {
    sqlite3* db = nullptr;
    sqlite3_open((dir / "foreign" / "results.sqlite").c_str(), &db);
    sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  EXPECT_NE(
      error_of(dir / "foreign")
          .find((dir / "foreign" / "results.sqlite").string() + ": not a stilts results database (no meta table)"),
      std::string::npos);
  // Another schema version.
  fs::create_directories(dir / "v1");
  {
    testing::TestDb db(dir / "v1" / "results.sqlite");
    db.meta("schema_version", "1");
  }
  EXPECT_NE(error_of(dir / "v1").find("results.sqlite: results database schema version 1, this stilts reads version " +
                                      std::to_string(pipeline::ResultsStore::schema_version())),
            std::string::npos);
  // Unknown baseline.
  const auto run = dir / "run";
  testing::make_report_run(run, {});
  ReportOptions options;
  options.baseline = "nope";
  EXPECT_NE(error_of(run, options).find("baseline 'nope' is not an arm (arms: direct, intermediate)"),
            std::string::npos);
  // No gnuplot: the package to install.
  options = {};
  options.gnuplot = "stilts-test-no-such-gnuplot";
  const auto gp = error_of(run, options);
  EXPECT_NE(gp.find("stilts-test-no-such-gnuplot"), std::string::npos) << gp;
  EXPECT_NE(gp.find("apt-get install gnuplot-nox"), std::string::npos) << gp;
  EXPECT_FALSE(fs::exists(run / "report" / "report.html"));
}

// Several target tasks at the final stage: the benchmark scores section, with numbers worked out by hand.
//   xnli (test accuracy, en): direct .80 .84 (82.0%), intermediate .83 .85
//   xquad (test, en, (em + f1) / 2): direct (.60+.70)/2 = .65, (.62+.72)/2 = .67 (66.0% ± 1.4);
//     intermediate .69, .71
//   overall: direct .725, .755 (74.0% ± 2.1); intermediate .76, .78; differences .035, .025: +3.0 pp,
//     half-width t(0.975, 1) · .01 / 2 = 6.35 pp: [-3.4, +9.4]
// The answer reads each task's declared headline metric from the resolved config (tagging: f1), as
// `stilts results` does, not the "accuracy" a tagging task also reports.
TEST(Report, TheAnswerUsesTheTasksDeclaredMetric) {
  const auto dir = testing::make_temp_dir() / "tagging";
  fs::create_directories(dir);
  {
    testing::TestDb db(dir / "results.sqlite");
    db.meta("experiment", R"({"tasks":{"udpos":{"kind":"tagging"}}})");
    for (int s = 1; s <= 2; ++s) {
      for (const std::string arm : {"direct", "intermediate"}) {
        const double shift = arm == "direct" ? 0.0 : 0.1;
        db.result(arm, s, "target", "udpos", "de", "test", "accuracy", 0.8 + 0.01 * s);
        db.result(arm, s, "target", "udpos", "de", "test", "f1", 0.5 + shift + 0.01 * s);
      }
    }
  }
  ReportOptions options;
  options.png = false;
  const std::string md = slurp(write_report(dir, options).markdown);
  EXPECT_NE(md.find("On udpos (test f1"), std::string::npos) << md.substr(0, 1500);
  EXPECT_EQ(md.find("On udpos (test accuracy"), std::string::npos);
}

TEST(Report, BenchmarkScoresOnlyWithSeveralTasks) {
  const auto dir = testing::make_temp_dir();
  const auto run = dir / "run";
  fs::create_directories(run);
  {
    testing::TestDb db(run / "results.sqlite");
    db.meta("experiment", R"({"tasks":{"xnli":{"kind":"pair-classification"},"xquad":{"kind":"extractive-qa"}},)"
                          R"("stages":{"target":{"task":"xnli"}}})");
    const double xnli[2][2] = {{.80, .84}, {.83, .85}};
    const double em[2][2] = {{.60, .62}, {.64, .66}};
    const double f1[2][2] = {{.70, .72}, {.74, .76}};
    const std::string arms[2] = {"direct", "intermediate"};
    for (int a = 0; a < 2; ++a) {
      db.stage("m-" + arms[a], "target", arms[a], 1, 100, 1e15, 100);
      for (int s = 0; s < 2; ++s) {
        const int seed = s + 1;
        db.result(arms[a], seed, "target", "xnli", "en", "test", "accuracy", xnli[a][s]);
        db.result(arms[a], seed, "target", "xquad", "en", "test", "exact_match", em[a][s]);
        db.result(arms[a], seed, "target", "xquad", "en", "test", "f1", f1[a][s]);
        db.efficiency(arms[a], seed, 1, "latency_ms_p50", 10 + seed);
        db.efficiency(arms[a], seed, 8, "latency_ms_p50", 40 + seed);
        db.efficiency(arms[a], seed, 8, "throughput_seq_s", 100 * seed);
        db.efficiency(arms[a], seed, 8, "peak_rss_mb", 900);
      }
    }
  }
  const auto md = slurp(write_report(run).markdown);
  ASSERT_NE(md.find("## Benchmark scores"), std::string::npos) << md;
  EXPECT_LT(md.find("## Answer"), md.find("## Benchmark scores"));
  EXPECT_LT(md.find("## Benchmark scores"), md.find("## Accuracy per language"));
  EXPECT_NE(md.find("| xnli | pair-classification, accuracy, 1 language | test | direct | 2 | 82.0% ± 2.8 |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| xquad | extractive-qa, exact_match+f1, 1 language | test | direct | 2 | 66.0% ± 1.4 |"),
            std::string::npos);
  EXPECT_NE(md.find("| group: question answering | xquad | test | intermediate | 2 | 70.0% ± 1.4 |"),
            std::string::npos);
  EXPECT_NE(md.find("| overall | xnli, xquad | test | direct | 2 | 74.0% ± 2.1 |"), std::string::npos);
  EXPECT_NE(md.find("| overall | test | intermediate − direct | 2 | +3.0 pp | [-3.4, +9.4] |"), std::string::npos);
  // Efficiency per task: the models' stage "target" trains xnli. Latency at batch 1 (11, 12 ms), throughput at 8.
  EXPECT_NE(md.find("| xnli | pair-classification | direct | 2 | 11.50 | 150.0 | 900.0 | – |"), std::string::npos);

  // One task: no section.
  const auto single = dir / "single";
  testing::make_report_run(single);
  EXPECT_EQ(slurp(write_report(single).markdown).find("Benchmark scores"), std::string::npos);
}

// The words for each verdict of the one equivalence rule (tested itself in test_equivalence).
TEST(ReportAnalysis, DescribesEachVerdict) {
  using pipeline::Verdict;
  // A comparison against a baseline mean of 10.
  const auto relative = [](int n, double mean_a, double difference, double lower, double upper, Verdict verdict) {
    pipeline::Relative r;
    std::tie(r.n, r.mean_a, r.mean_b, r.difference, r.ci_lower, r.ci_upper, r.verdict) =
        std::make_tuple(n, mean_a, 10.0, difference, lower, upper, verdict);
    return r;
  };
  EXPECT_EQ(report::describe_comparison(relative(3, 13.0, 0.3, 0.25, 0.35, Verdict::kHigher), "latency", "ms", 1),
            "latency 30.0% higher (13.0 vs 10.0 ms; +30.0% [+25.0%, +35.0%])");
  EXPECT_EQ(report::describe_comparison(relative(3, 7.0, -0.3, -0.35, -0.25, Verdict::kLower), "latency", "ms", 1),
            "latency 30.0% lower (7.0 vs 10.0 ms; -30.0% [-35.0%, -25.0%])");
  EXPECT_EQ(report::describe_comparison(relative(3, 10.1, 0.01, -0.02, 0.04, Verdict::kEquivalent), "throughput",
                                        "seq/s", 1),
            "throughput equivalent within ±5% (10.1 vs 10.0 seq/s; +1.0% [-2.0%, +4.0%])");
  EXPECT_EQ(report::describe_comparison(relative(3, 10.1, 0.01, -0.02, 0.08, Verdict::kInconclusive), "throughput",
                                        "seq/s", 1),
            "throughput: no significant difference, though not shown equivalent within ±5% (10.1 vs 10.0 seq/s; "
            "+1.0% [-2.0%, +8.0%])");
  const double nan = std::nan("");
  EXPECT_EQ(report::describe_comparison(relative(1, 12.0, 0.2, nan, nan, Verdict::kNoInterval), "peak memory", "MB", 0),
            "peak memory 12 vs 10 MB (1 seed in common: no interval, so no difference is claimed)");
  EXPECT_EQ(report::describe_comparison(relative(0, nan, nan, nan, nan, Verdict::kNoInterval), "peak memory", "MB", 0),
            "peak memory: not measured in both arms");
}

TEST(ReportFormat, Numbers) {
  EXPECT_EQ(report::percent(0.8234), "82.3%");
  EXPECT_EQ(report::si(278043651), "278M");
  EXPECT_EQ(report::si(1.234e15), "1.23P");
  EXPECT_EQ(report::si(2000), "2.00k");
  EXPECT_EQ(report::si(12), "12");
  EXPECT_EQ(report::duration(400), "6.7 min");
  EXPECT_EQ(report::duration(7300), "2.03 h");
  EXPECT_EQ(report::signed_fixed(-0.0001, 1), "0.0");
  EXPECT_EQ(report::signed_fixed(0.03, 2), "+0.03");
  EXPECT_EQ(report::fixed(std::nan(""), 2), "n/a");
  EXPECT_EQ(report::gp_quote("it's"), "'it''s'");
}

}  // namespace
}  // namespace stilts
