// stilts results on a results.sqlite written by the store: text, JSON and CSV, baselines, errors, and the
// file read by the sqlite3 shell.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

#include "pipeline/results_store.h"
#include "support/fixtures.h"
#include "support/run.h"

namespace stilts {
namespace {

namespace fs = std::filesystem;
using pipeline::ResultRow;
using testing::run_stilts;

// Two arms × three seeds × two languages; "intermediate" beats "direct" by 0.03 in en (per-seed
// differences 0.03, 0.04, 0.02: interval 0.03 ± 0.024841, p = 0.035099) and not in de.
fs::path make_run_dir() {
  const auto dir = testing::make_temp_dir() / "run";
  fs::create_directories(dir);
  auto store = pipeline::ResultsStore::open(dir / "results.sqlite");
  const std::vector<std::tuple<std::string, int, double, double>> values = {
      {"direct", 1, 0.80, 0.70},       {"direct", 2, 0.82, 0.72},       {"direct", 3, 0.84, 0.74},
      {"intermediate", 1, 0.83, 0.73}, {"intermediate", 2, 0.86, 0.70}, {"intermediate", 3, 0.86, 0.74}};
  for (const auto& [arm, seed, en, de] : values) {
    store->replace_results(arm, seed, "target",
                           {{arm, seed, "target", "pawsx", "en", "test", "accuracy", en},
                            {arm, seed, "target", "pawsx", "de", "test", "accuracy", de}});
    if (arm == "intermediate") {
      store->put_stage({"i" + std::to_string(seed), "intermediate", arm, seed, "done", 100.0 + seed});
    }
    store->put_stage({arm.substr(0, 1) + "t" + std::to_string(seed), "target", arm, seed, "done", 10.0 + seed});
  }
  return dir;
}

TEST(CliResults, Json) {
  const auto dir = make_run_dir();
  const auto r = run_stilts({"results", dir.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["baseline"], "direct");
  EXPECT_EQ(j["results"].size(), 12u);
  EXPECT_EQ(j["stages"].size(), 9u);
  // Insertion order: dt1, dt2, dt3, i1, it1, ...
  EXPECT_EQ(j["stages"][0]["hash"], "dt1");
  EXPECT_EQ(j["stages"][0]["name"], "target");
  EXPECT_EQ(j["stages"][3]["hash"], "i1");
  EXPECT_EQ(j["stages"][3]["name"], "intermediate");
  EXPECT_EQ(j["stages"][3]["arm"], "intermediate");
  EXPECT_DOUBLE_EQ(j["stages"][3]["wall_s"].get<double>(), 101.0);
  ASSERT_EQ(j["summary"].size(), 4u);
  // Sorted by language then arm: de/direct, de/intermediate, en/direct, en/intermediate.
  const auto& en_direct = j["summary"][2];
  EXPECT_EQ(en_direct["arm"], "direct");
  EXPECT_EQ(en_direct["language"], "en");
  EXPECT_EQ(en_direct["n"], 3);
  EXPECT_NEAR(en_direct["mean"].get<double>(), 0.82, 1e-12);
  EXPECT_NEAR(en_direct["std"].get<double>(), 0.02, 1e-12);
  EXPECT_NEAR(en_direct["ci_lower"].get<double>(), 0.82 - 0.04968275423687506, 1e-9);
  EXPECT_NEAR(en_direct["ci_upper"].get<double>(), 0.82 + 0.04968275423687506, 1e-9);
  ASSERT_EQ(j["differences"].size(), 2u);
  const auto& de = j["differences"][0];
  const auto& en = j["differences"][1];
  EXPECT_EQ(en["arm"], "intermediate");
  EXPECT_EQ(en["baseline"], "direct");
  EXPECT_EQ(en["method"], "paired-t");
  EXPECT_NEAR(en["difference"].get<double>(), 0.03, 1e-12);
  EXPECT_NEAR(en["ci_lower"].get<double>(), 0.03 - 0.02484137711843753, 1e-9);
  EXPECT_NEAR(en["p_value"].get<double>(), 0.03509871864598468, 1e-8);
  EXPECT_TRUE(en["significant"].get<bool>());
  EXPECT_EQ(de["language"], "de");
  EXPECT_NEAR(de["p_value"].get<double>(), 0.8398718461949128, 1e-8);
  EXPECT_FALSE(de["significant"].get<bool>());

  // Another baseline flips the sign.
  const auto b = run_stilts({"results", dir.string(), "--json", "--baseline", "intermediate"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const auto jb = nlohmann::json::parse(b.out);
  EXPECT_EQ(jb["differences"][1]["arm"], "direct");
  EXPECT_NEAR(jb["differences"][1]["difference"].get<double>(), -0.03, 1e-12);
}

TEST(CliResults, Csv) {
  const auto dir = make_run_dir();
  const auto r = run_stilts({"results", dir.string(), "--csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream in(r.out);
  std::string header, line;
  std::getline(in, header);
  EXPECT_EQ(header, "arm,stage,task,language,split,metric,n,mean,std,ci_lower,ci_upper,level");
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[2].rfind("direct,target,pawsx,en,test,accuracy,3,", 0), 0u) << lines[2];
  // mean, std, lower, upper of direct/en.
  std::vector<double> numbers;
  std::istringstream fields(lines[2].substr(std::string("direct,target,pawsx,en,test,accuracy,3,").size()));
  std::string f;
  while (std::getline(fields, f, ',')) numbers.push_back(std::stod(f));
  ASSERT_EQ(numbers.size(), 5u);
  EXPECT_NEAR(numbers[0], 0.82, 1e-12);
  EXPECT_NEAR(numbers[1], 0.02, 1e-12);
  EXPECT_NEAR(numbers[2], 0.82 - 0.04968275423687506, 1e-9);
  EXPECT_NEAR(numbers[3], 0.82 + 0.04968275423687506, 1e-9);
  EXPECT_NEAR(numbers[4], 0.95, 1e-12);
}

TEST(CliResults, Text) {
  const auto dir = make_run_dir();
  const auto r = run_stilts({"results", dir.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const std::string needle :
       {"12 results, 2 arms, 9 stages", "0.8200 ± 0.0200", "[0.7703, 0.8697]", "differences vs direct",
        "+0.0300", "[0.0052, 0.0548]", "0.0351", "paired-t", "stages", "intermediate  intermediate  1"}) {
    EXPECT_NE(r.out.find(needle), std::string::npos) << "'" << needle << "' not in:\n" << r.out;
  }
  // en is significant (a '*' ends its line), de is not: in the comparison table the output opens with
  // and in the differences table.
  std::istringstream in(r.out);
  std::string line;
  int starred = 0;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '*') {
      ++starred;
      EXPECT_TRUE(line.rfind("en ", 0) == 0 || line.find(" en ") != std::string::npos) << line;
    }
  }
  EXPECT_EQ(starred, 2) << r.out;
  // No predictions stored here: the comparison says the differences are paired t over seeds.
  EXPECT_NE(r.out.find("[95% paired t over seeds]"), std::string::npos) << r.out;
}

// Two target tasks at the final stage, seeds 1-3 (numbers by hand):
//   pawsx accuracy en: direct .80 .82 .84, intermediate .83 .86 .86
//   xquad (em + f1) / 2 en: direct (.60+.70)/2 .. = .65 .67 .69, intermediate .69 .71 .73
//   overall: direct .725 .745 .765 (74.5), intermediate .76 .785 .795 (78.0); differences .035 .04 .03:
//   +3.5, half-width t(0.975, 2) · .005 / sqrt(3) = 1.2421 points: [2.3, 4.7], significant
TEST(CliResults, BenchmarkScoresWithSeveralTasks) {
  const auto dir = testing::make_temp_dir() / "run";
  fs::create_directories(dir);
  {
    auto store = pipeline::ResultsStore::open(dir / "results.sqlite");
    store->set_meta("experiment", R"({"tasks": {"pawsx": {"kind": "pair-classification"},)"
                                  R"( "xquad": {"kind": "extractive-qa"}}})");
    const std::vector<std::tuple<std::string, int, double, double, double>> values = {
        {"direct", 1, 0.80, 0.60, 0.70},       {"direct", 2, 0.82, 0.62, 0.72},
        {"direct", 3, 0.84, 0.64, 0.74},       {"intermediate", 1, 0.83, 0.64, 0.74},
        {"intermediate", 2, 0.86, 0.66, 0.76}, {"intermediate", 3, 0.86, 0.68, 0.78}};
    for (const auto& [arm, seed, acc, em, f1] : values) {
      store->replace_results(arm, seed, "target",
                             {{arm, seed, "target", "pawsx", "en", "test", "accuracy", acc},
                              {arm, seed, "target", "xquad", "en", "test", "exact_match", em},
                              {arm, seed, "target", "xquad", "en", "test", "f1", f1}});
    }
  }
  const auto r = run_stilts({"results", dir.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_NE(r.out.find("benchmark scores"), std::string::npos) << r.out;
  std::istringstream in(r.out);
  std::string line, overall, qa;
  while (std::getline(in, line)) {
    if (line.rfind("overall ", 0) == 0) overall = line;
    if (line.rfind("group: question answering ", 0) == 0) qa = line;
  }
  for (const std::string needle : {"test", "74.5 [", "78.0 [", "(3)", "+3.5 [2.3, 4.7] *"}) {
    EXPECT_NE(overall.find(needle), std::string::npos) << "'" << needle << "' not in: " << overall;
  }
  EXPECT_NE(qa.find("67.0 ["), std::string::npos) << qa;  // direct xquad: mean of .65 .67 .69

  const auto j = run_stilts({"results", dir.string(), "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const auto b = nlohmann::json::parse(j.out).at("benchmark_scores");
  bool found = false;
  for (const auto& d : b.at("differences")) {
    if (d.at("score") != "overall") continue;
    found = true;
    EXPECT_EQ(d.at("n"), 3);
    EXPECT_NEAR(d.at("difference").get<double>(), (0.035 + 0.04 + 0.03) / 3, 1e-12);
    EXPECT_NEAR(d.at("ci_lower").get<double>(), 0.035 - 4.302652729911275 * 0.005 / std::sqrt(3.0), 1e-9);
    EXPECT_TRUE(d.at("significant").get<bool>());
  }
  EXPECT_TRUE(found) << b.dump(2);

  // One task: nothing of the kind.
  const auto single = run_stilts({"results", make_run_dir().string()});
  EXPECT_EQ(single.out.find("benchmark scores"), std::string::npos);
  const auto single_json = run_stilts({"results", make_run_dir().string(), "--json"});
  EXPECT_FALSE(nlohmann::json::parse(single_json.out).contains("benchmark_scores"));
}

TEST(CliResults, Errors) {
  const auto tmp = testing::make_temp_dir();
  auto r = run_stilts({"results", (tmp / "nope").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("nope"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no such run directory"), std::string::npos) << r.err;

  r = run_stilts({"results", tmp.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("results.sqlite"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp / "results.sqlite"));  // a reader never creates the database

  const auto dir = make_run_dir();
  r = run_stilts({"results", dir.string(), "--baseline", "nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("'nope' is not an arm (arms: direct, intermediate)"), std::string::npos) << r.err;

  r = run_stilts({"results", dir.string(), "--json", "--csv"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

TEST(CliResults, Sqlite3ShellReadsTheFile) {
  if (std::system("command -v sqlite3 >/dev/null 2>&1") != 0) GTEST_SKIP() << "sqlite3 is not installed";
  const auto dir = make_run_dir();
  const auto r = testing::run_command("sqlite3", {(dir / "results.sqlite").string(), "select count(*) from results"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "12\n");
  const auto s = testing::run_command(
      "sqlite3", {(dir / "results.sqlite").string(),
                  "select count(*) from stages where name = 'intermediate' and status = 'done'"});
  EXPECT_EQ(s.out, "3\n");
}

}  // namespace
}  // namespace stilts
