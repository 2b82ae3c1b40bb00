// A small run directory for the report tests: the schema made by pipeline::ResultsStore::open (the one
// writer), the rows inserted with plain SQL through the SQLite C API (as a user's sqlite3 shell would).
//
// Arms direct and intermediate, seeds 1-3, languages de, en, fr, task pawsx, test accuracy:
//   en: direct .80 .82 .84 (mean 82.0%), intermediate .83 .86 .86 (85.0%): +3.0 pp, significant (p = 0.035)
//   de: direct .70 .72 .74, intermediate .73 .70 .74: +0.3 pp, not significant
//   fr: direct .60 .62 .64, intermediate .55 .57 .58 (56.7%): -5.3 pp, significant
// Stages: direct = target (100 s, 1e15 FLOPs); intermediate = intermediate (300 s, 3e15) -> target (100 s,
// 1e15): 4.00x the time and the FLOPs. Inference (fp32, 2 threads, data lengths; the p50 figure of a
// seed is the mean of its samples): batch 1 latency 10.2 vs 10.21 ms in every seed (equivalent within
// 5%); batch 32 latency 202 vs 262 ms (throughput ~23% lower); peak RSS 932/937/942 vs 933/938/943 MB
// (equal within 5%); params_total 278043651 in both arms.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>
#include <vector>

#include "pipeline/results_store.h"

namespace stilts::testing {

// An open database holding the store's schema (meta schema_version set); every statement is checked
// with gtest assertions.
class TestDb {
 public:
  explicit TestDb(const std::filesystem::path& file) {
    pipeline::ResultsStore::open(file);
    EXPECT_EQ(sqlite3_open(file.c_str(), &db_), SQLITE_OK);
    exec("BEGIN");
  }
  ~TestDb() {
    exec("COMMIT");
    sqlite3_close(db_);
  }
  void exec(const std::string& sql) {
    char* message = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
    EXPECT_EQ(rc, SQLITE_OK) << (message ? message : "") << "\n" << sql;
    sqlite3_free(message);
  }
  static std::string q(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  }
  static std::string n(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
  }
  void meta(const std::string& key, const std::string& value) {
    exec("INSERT OR REPLACE INTO meta VALUES(" + q(key) + ", " + q(value) + ")");
  }
  void result(const std::string& arm, int seed, const std::string& stage, const std::string& task,
              const std::string& language, const std::string& split, const std::string& metric, double value) {
    exec("INSERT INTO results VALUES(" + q(arm) + ", " + std::to_string(seed) + ", " + q(stage) + ", " + q(task) +
         ", " + q(language) + ", " + q(split) + ", " + q(metric) + ", " + n(value) + ")");
  }
  void stage(const std::string& hash, const std::string& name, const std::string& arm, int seed, double wall_s,
             double flops, int steps) {
    exec("INSERT INTO stages VALUES(" + q(hash) + ", " + q(name) + ", " + q(arm) + ", " + std::to_string(seed) +
         ", 'done', " + n(wall_s) + ", " + n(2 * wall_s) + ", 1000, 50000, " + n(flops) + ", " + std::to_string(steps) +
         ")");
  }
  // A stage of the arm's chain ending in `target`.
  void arm_stage(const std::string& arm, int seed, int position, const std::string& stage, const std::string& hash,
                 const std::string& target = "target") {
    exec("INSERT INTO arm_stages VALUES(" + q(arm) + ", " + std::to_string(seed) + ", " + std::to_string(position) +
         ", " + q(stage) + ", " + q(hash) + ", '', " + q(target) + ")");
  }
  void curve(const std::string& hash, int step, const std::string& split, const std::string& language,
             const std::string& metric, double value) {
    exec("INSERT INTO curves VALUES(" + q(hash) + ", " + std::to_string(step) + ", " + n(step / 100.0) + ", " +
         q(split) + ", " + q(language) + ", " + q(metric) + ", " + n(value) + ")");
  }
  void efficiency(const std::string& arm, int seed, int batch, const std::string& metric, double value) {
    exec("INSERT INTO efficiency VALUES(" + q(arm) + ", " + std::to_string(seed) + ", 'm-" + arm + "', 'fp32', 2, " +
         std::to_string(batch) + ", 0, '', " + q(metric) + ", " + n(value) + ")");
  }
  void latency(const std::string& arm, int seed, int batch, int rep, double ms) {
    exec("INSERT INTO latency_samples VALUES(" + q(arm) + ", " + std::to_string(seed) + ", 'm-" + arm +
         "', 'fp32', 2, " + std::to_string(batch) + ", 0, '', " + std::to_string(rep) + ", " + n(ms) + ")");
  }

 private:
  sqlite3* db_ = nullptr;
};

struct ReportRunOptions {
  int seeds = 3;
  bool curves = true;
  bool efficiency = true;
  bool stages = true;
  bool meta_extras = true;  // experiment, fingerprint, peak_flops
  double latency_spread = 0.1;  // ms between batch-1 repetitions (0, 1, 2, 3, 4 steps above the base)
};

// Writes `dir`/results.sqlite (dir is created).
inline void make_report_run(const std::filesystem::path& dir, const ReportRunOptions& o = {}) {
  std::filesystem::create_directories(dir);
  TestDb db(dir / "results.sqlite");
  if (o.meta_extras) {
    db.meta("experiment",
            R"({"name":"pawsx-study","arms":{"direct":["target"],"intermediate":["mnli","target"]},"seeds":[1,2,3]})");
    db.meta("fingerprint", R"({"cpu":"Test CPU 9000","cores":2,"isa":"avx2","libtorch":"1.13.1","threads":2})");
    db.meta("peak_flops", R"({"fp32":2e13,"bf16":4e13})");
  }
  const double en_d[] = {.80, .82, .84}, en_i[] = {.83, .86, .86};
  const double de_d[] = {.70, .72, .74}, de_i[] = {.73, .70, .74};
  const double fr_d[] = {.60, .62, .64}, fr_i[] = {.55, .57, .58};
  for (int s = 1; s <= o.seeds; ++s) {
    const int i = s - 1;
    for (const auto& [arm, en, de, fr] : std::vector<std::tuple<std::string, double, double, double>>{
             {"direct", en_d[i], de_d[i], fr_d[i]}, {"intermediate", en_i[i], de_i[i], fr_i[i]}}) {
      db.result(arm, s, "target", "pawsx", "en", "test", "accuracy", en);
      db.result(arm, s, "target", "pawsx", "de", "test", "accuracy", de);
      db.result(arm, s, "target", "pawsx", "fr", "test", "accuracy", fr);
      db.result(arm, s, "target", "pawsx", "en", "dev", "accuracy", en + 0.01);
    }
    // The intermediate stage's own evaluation: not the study's answer.
    db.result("intermediate", s, "intermediate", "mnli", "en", "test", "accuracy", 0.9);
    const std::string ss = std::to_string(s);
    if (o.stages) {
      db.stage("dt" + ss, "target", "direct", s, 100, 1e15, 100);
      db.stage("i" + ss, "intermediate", "intermediate", s, 300, 3e15, 300);
      db.stage("it" + ss, "target", "intermediate", s, 100, 1e15, 100);
      db.arm_stage("direct", s, 0, "target", "dt" + ss);
      db.arm_stage("intermediate", s, 0, "intermediate", "i" + ss);
      db.arm_stage("intermediate", s, 1, "target", "it" + ss);
    }
    if (o.curves) {
      for (int step : {0, 50, 100}) {
        for (const char* l : {"de", "en", "fr"}) {
          db.curve("dt" + ss, step, "dev", l, "accuracy", 0.5 + 0.003 * step);
          db.curve("it" + ss, step, "dev", l, "accuracy", 0.55 + 0.003 * step);
        }
        db.curve("dt" + ss, step, "train", "", "loss", 1.0 - 0.005 * step);
        db.curve("i" + ss, step, "dev", "", "accuracy", 0.4 + 0.004 * step);
      }
    }
    if (o.efficiency) {
      for (const auto& [arm, base1, base32, rss] : std::vector<std::tuple<std::string, double, double, double>>{
               {"direct", 10.0, 200.0, 900.0}, {"intermediate", 10.01, 260.0, 901.0}}) {
        for (int batch : {1, 8, 32}) {
          const double base = batch == 1 ? base1 : batch == 32 ? base32 : (base1 + base32) / 4;
          double sum = 0;
          for (int rep = 0; rep < 20; ++rep) {
            const double ms = base + (batch == 1 ? o.latency_spread : 1.0) * (rep % 5);
            sum += ms;
            db.latency(arm, s, batch, rep, ms);
          }
          const double mean = sum / 20;
          db.efficiency(arm, s, batch, "latency_ms_mean", mean);
          db.efficiency(arm, s, batch, "latency_ms_p50", mean);
          db.efficiency(arm, s, batch, "latency_ms_mean_ci_lower", mean - 0.1);
          db.efficiency(arm, s, batch, "latency_ms_mean_ci_upper", mean + 0.1);
          db.efficiency(arm, s, batch, "throughput_seq_s", 1000.0 * batch / mean);
          db.efficiency(arm, s, batch, "peak_rss_mb", rss + 5 * (s - 1) + batch);
        }
        db.exec("INSERT INTO efficiency VALUES(" + TestDb::q(arm) + ", " + ss + ", 'm', 'fp32', 2, 0, 0, '', " +
                "'params_total', 278043651)");
      }
    }
  }
}

}  // namespace stilts::testing
