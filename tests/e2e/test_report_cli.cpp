// stilts report on a run directory with the store's schema and rows written with SQL: the files it
// writes, --out and --no-png, errors, and the HTML opened in headless Chromium (skipped when chromium
// is absent).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/fixtures.h"
#include "support/run.h"
#include "unit/test_report_fixture.h"

namespace stilts {
namespace {

namespace fs = std::filesystem;
using testing::run_command;
using testing::run_stilts;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(CliReport, WritesTheReport) {
  const auto run = testing::make_temp_dir() / "run";
  testing::make_report_run(run);
  const auto r = run_stilts({"report", run.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("wrote " + (run / "report" / "report.md").string()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("figures: 8 SVG, 8 PNG"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::is_regular_file(run / "report" / "report.html"));
  EXPECT_TRUE(fs::is_regular_file(run / "report" / "fig-accuracy.png"));
  EXPECT_NE(slurp(run / "report" / "report.md").find("intermediate was significantly higher than direct in en"),
            std::string::npos);
}

TEST(CliReport, OutNoPngAndBaseline) {
  const auto dir = testing::make_temp_dir();
  const auto run = dir / "run";
  testing::make_report_run(run);
  const auto r = run_stilts(
      {"report", run.string(), "--out", (dir / "elsewhere").string(), "--no-png", "--baseline", "intermediate"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("figures: 8 SVG, 0 PNG"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(run / "report"));
  EXPECT_TRUE(fs::is_regular_file(dir / "elsewhere" / "fig-accuracy.svg"));
  EXPECT_FALSE(fs::exists(dir / "elsewhere" / "fig-accuracy.png"));
  // The other baseline flips the comparison.
  EXPECT_NE(
      slurp(dir / "elsewhere" / "report.md").find("direct was significantly lower than intermediate in en (-3.0 pp"),
      std::string::npos);
}

TEST(CliReport, Errors) {
  const auto dir = testing::make_temp_dir();
  auto r = run_stilts({"report", (dir / "missing").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find((dir / "missing").string() + ": no such run directory"), std::string::npos) << r.err;
  fs::create_directories(dir / "run");
  std::ofstream(dir / "run" / "results.sqlite") << "not sqlite, just text of a reasonable length for the header\n";
  r = run_stilts({"report", (dir / "run").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find((dir / "run" / "results.sqlite").string()), std::string::npos) << r.err;
  r = run_stilts({"report"});
  EXPECT_EQ(r.exit_code, 2);
}

// `stilts results` and the report give one verdict on the same measurements (pipeline::compare_relative
// through pipeline::summarize_arms). The batch-1 latency samples here spread over 12 ms around a 16 ms mean
// while the arms' per-seed medians differ by 0.06%: the report's old interval over the pooled samples was
// about ±10% wide and called latency "not shown equivalent" where `stilts results` said "equivalent".
TEST(CliReport, ResultsAndReportGiveOneVerdict) {
  const auto run = testing::make_temp_dir() / "run";
  testing::ReportRunOptions o;
  o.latency_spread = 3.0;
  testing::make_report_run(run, o);
  const auto results = run_stilts({"results", run.string(), "--json"});
  ASSERT_EQ(results.exit_code, 0) << results.err;
  const auto j = nlohmann::json::parse(results.out);
  ASSERT_EQ(j["arms"].size(), 2u);
  const auto& arm = j["arms"][1];
  ASSERT_EQ(arm["arm"], "intermediate");
  EXPECT_EQ(arm["latency_batch_size"], 1);
  EXPECT_NEAR(arm["latency_ms_p50"].get<double>(), 16.01, 1e-9);
  EXPECT_EQ(arm["latency_vs_baseline"]["verdict"], "equivalent");
  EXPECT_EQ(arm["throughput_batch_size"], 32);
  EXPECT_EQ(arm["throughput_vs_baseline"]["verdict"], "lower");
  EXPECT_NEAR(arm["throughput_vs_baseline"]["difference"].get<double>(), 202.0 / 262.0 - 1, 1e-9);
  EXPECT_EQ(arm["memory_vs_baseline"]["verdict"], "equivalent");
  const auto text = run_stilts({"results", run.string()});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("+0.1% [0.1, 0.1] equivalent"), std::string::npos) << text.out;

  ASSERT_EQ(run_stilts({"report", run.string(), "--no-png"}).exit_code, 0);
  const auto md = slurp(run / "report" / "report.md");
  EXPECT_NE(md.find("median latency at batch 1 equivalent within ±5% (16.01 vs 16.00 ms"), std::string::npos) << md;
  EXPECT_NE(md.find("throughput at batch 32 22.9% lower"), std::string::npos) << md;
  EXPECT_NE(md.find("peak memory equivalent within ±5%"), std::string::npos) << md;
}

// A screenshot of the report by a real browser: the inline SVGs render (a page of text alone, or broken
// figures, compresses to far less).
TEST(CliReport, ChromiumScreenshot) {
  if (run_command("sh", {"-c", "command -v chromium"}).exit_code != 0) {
    GTEST_SKIP() << "chromium is not installed (Debian package chromium)";
  }
  const auto dir = testing::make_temp_dir();
  const auto run = dir / "run";
  testing::make_report_run(run);
  ASSERT_EQ(run_stilts({"report", run.string(), "--no-png"}).exit_code, 0);
  const auto shot = dir / "shot.png";
  // Its own profile, so tests running at once do not share one; `timeout` so it can never hang.
  const auto r = run_command(
      "timeout", {"-k", "5", "60", "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--hide-scrollbars", "--user-data-dir=" + (dir / "profile").string(), "--screenshot=" + shot.string(),
                  "--window-size=1200,2400", "file://" + (run / "report" / "report.html").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(fs::is_regular_file(shot)) << r.err;
  const std::string png = slurp(shot);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  // Width and height from the IHDR chunk.
  auto be32 = [&](size_t at) {
    return (static_cast<uint32_t>(static_cast<unsigned char>(png[at])) << 24) |
           (static_cast<uint32_t>(static_cast<unsigned char>(png[at + 1])) << 16) |
           (static_cast<uint32_t>(static_cast<unsigned char>(png[at + 2])) << 8) |
           static_cast<uint32_t>(static_cast<unsigned char>(png[at + 3]));
  };
  ASSERT_GT(png.size(), 24u);
  EXPECT_EQ(be32(16), 1200u);
  EXPECT_EQ(be32(20), 2400u);
  // A blank 1200x2400 page is ~10 kB; text and plots are far more.
  EXPECT_GT(png.size(), 100000u) << "screenshot of " << png.size() << " bytes: blank?";
}

}  // namespace
}  // namespace stilts
