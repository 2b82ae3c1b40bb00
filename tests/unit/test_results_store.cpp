// results.sqlite: round trip, upserts, replace semantics, transactions, NaN, reopening, bad files.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <tuple>

#include "common/error.h"
#include "pipeline/results_store.h"
#include "support/fixtures.h"

namespace stilts::pipeline {
namespace {

namespace fs = std::filesystem;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

ResultRow row(const std::string& arm, int64_t seed, const std::string& stage, const std::string& language,
              double value, const std::string& split = "test", const std::string& metric = "accuracy") {
  return {arm, seed, stage, "pawsx", language, split, metric, value};
}

void expect_error_with(const std::function<void()>& f, const std::vector<std::string>& needles) {
  try {
    f();
    ADD_FAILURE() << "expected InputError";
  } catch (const InputError& e) {
    const std::string what = e.what();
    for (const auto& n : needles) EXPECT_NE(what.find(n), std::string::npos) << "'" << n << "' not in: " << what;
  }
}

// Runs one SQL statement on the file with the raw C API (what a user's sqlite3 shell would do).
void raw_exec(const fs::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.string().c_str(), &db), SQLITE_OK);
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  EXPECT_EQ(rc, SQLITE_OK) << (message ? message : "");
  sqlite3_free(message);
  sqlite3_close(db);
}

TEST(ResultsStore, RoundTripAndMeta) {
  const auto path = testing::make_temp_dir() / "results.sqlite";
  auto store = ResultsStore::open(path);
  EXPECT_EQ(store->meta("schema_version"), std::to_string(ResultsStore::schema_version()));
  EXPECT_FALSE(store->meta("config").has_value());
  store->set_meta("config", "[experiment]\nname = \"x\"\n");
  store->set_meta("config", "[experiment]\nname = \"y\"\n");
  EXPECT_EQ(store->meta("config"), "[experiment]\nname = \"y\"\n");

  store->replace_results("direct", 2, "target", {row("direct", 2, "target", "en", 0.75), row("direct", 2, "target", "de", 0.5)});
  store->replace_results("direct", 1, "target", {row("direct", 1, "target", "en", 0.25)});
  const auto rows = store->results();
  ASSERT_EQ(rows.size(), 3u);
  // Ordered by arm, seed, stage, task, language, ...
  EXPECT_EQ(rows[0].seed, 1);
  EXPECT_EQ(rows[0].language, "en");
  EXPECT_DOUBLE_EQ(rows[0].value, 0.25);
  EXPECT_EQ(rows[1].language, "de");
  EXPECT_DOUBLE_EQ(rows[1].value, 0.5);
  EXPECT_EQ(rows[2].arm, "direct");
  EXPECT_EQ(rows[2].stage, "target");
  EXPECT_EQ(rows[2].task, "pawsx");
  EXPECT_EQ(rows[2].split, "test");
  EXPECT_EQ(rows[2].metric, "accuracy");
  EXPECT_DOUBLE_EQ(rows[2].value, 0.75);
}

TEST(ResultsStore, PutStageUpsertsAndKeepsTheFirstArm) {
  const auto path = testing::make_temp_dir() / "results.sqlite";
  auto store = ResultsStore::open(path);
  store->put_stage({"h1", "intermediate", "intermediate", 1, "running", kNaN});
  store->put_stage({"h2", "target", "direct", 1, "running", 0.0});
  // A second arm reuses the shared stage: arm stays the first, status and wall time update.
  store->put_stage({"h1", "intermediate", "other", 1, "done", 12.5});
  const auto stages = store->stages();
  ASSERT_EQ(stages.size(), 2u);
  EXPECT_EQ(stages[0].hash, "h1");  // insertion order
  EXPECT_EQ(stages[0].arm, "intermediate");
  EXPECT_EQ(stages[0].status, "done");
  EXPECT_DOUBLE_EQ(stages[0].wall_s, 12.5);
  EXPECT_EQ(stages[1].hash, "h2");
  EXPECT_EQ(stages[1].status, "running");
  // An empty arm is filled in by the first upsert that names one.
  store->put_stage({"h3", "mlm", "", 2, "running", kNaN});
  store->put_stage({"h3", "mlm", "adapt", 2, "failed", 3.0});
  EXPECT_EQ(store->stages()[2].arm, "adapt");
  EXPECT_EQ(store->stages()[2].status, "failed");
  EXPECT_TRUE(std::isnan(store->stages()[0].wall_s) == false);
}

TEST(ResultsStore, ReplaceResultsReplacesOnlyThatArmSeedStage) {
  const auto path = testing::make_temp_dir() / "results.sqlite";
  auto store = ResultsStore::open(path);
  store->replace_results("direct", 1, "target", {row("direct", 1, "target", "en", 0.1), row("direct", 1, "target", "de", 0.2)});
  store->replace_results("direct", 2, "target", {row("direct", 2, "target", "en", 0.3)});
  store->replace_results("inter", 1, "target", {row("inter", 1, "target", "en", 0.4)});
  store->replace_results("inter", 1, "intermediate", {row("inter", 1, "intermediate", "en", 0.5)});
  // Rewrite (direct, 1, target) with one row: its "de" row goes, everything else stays.
  store->replace_results("direct", 1, "target", {row("direct", 1, "target", "en", 0.9)});
  const auto rows = store->results();
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].arm, "direct");
  EXPECT_EQ(rows[0].seed, 1);
  EXPECT_DOUBLE_EQ(rows[0].value, 0.9);
  EXPECT_DOUBLE_EQ(rows[1].value, 0.3);
  EXPECT_EQ(rows[2].stage, "intermediate");
  EXPECT_DOUBLE_EQ(rows[2].value, 0.5);
  EXPECT_DOUBLE_EQ(rows[3].value, 0.4);
  // Empty rows clear that (arm, seed, stage).
  store->replace_results("direct", 2, "target", {});
  EXPECT_EQ(store->results().size(), 3u);
  // Rows of another (arm, seed, stage) are refused before anything is written.
  EXPECT_THROW(store->replace_results("direct", 1, "target", {row("inter", 1, "target", "en", 0.0)}), InputError);
  EXPECT_EQ(store->results().size(), 3u);
}

TEST(ResultsStore, AFailureMidWriteLeavesTheOldRows) {
  const auto path = testing::make_temp_dir() / "results.sqlite";
  auto store = ResultsStore::open(path);
  store->replace_results("direct", 1, "target", {row("direct", 1, "target", "en", 0.1), row("direct", 1, "target", "de", 0.2)});
  // The delete and the first insert succeed; the duplicate second insert violates the primary key.
  expect_error_with(
      [&] {
        store->replace_results("direct", 1, "target",
                               {row("direct", 1, "target", "fr", 0.7), row("direct", 1, "target", "fr", 0.8)});
      },
      {path.string(), "UNIQUE"});
  auto rows = store->results();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].language, "de");
  EXPECT_DOUBLE_EQ(rows[0].value, 0.2);
  EXPECT_EQ(rows[1].language, "en");
  EXPECT_DOUBLE_EQ(rows[1].value, 0.1);
  // The store still works after the rollback, and another connection sees the same rows.
  store->replace_results("direct", 2, "target", {row("direct", 2, "target", "en", 0.3)});
  auto reader = ResultsStore::open_existing(path);
  EXPECT_EQ(reader->results().size(), 3u);
}

TEST(ResultsStore, NaNIsStoredAsNull) {
  const auto path = testing::make_temp_dir() / "results.sqlite";
  {
    auto store = ResultsStore::open(path);
    store->replace_results("direct", 1, "target", {row("direct", 1, "target", "en", kNaN, "dev", "pearson")});
    store->put_stage({"h", "target", "direct", 1, "running", kNaN});
  }
  // NULL in the file, as a sqlite3 user sees it.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.string().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM results WHERE value IS NULL", -1, &s, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(s, 0), 1);
  sqlite3_finalize(s);
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM stages WHERE wall_s IS NULL", -1, &s, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(s, 0), 1);
  sqlite3_finalize(s);
  sqlite3_close(db);
  auto store = ResultsStore::open(path);
  ASSERT_EQ(store->results().size(), 1u);
  EXPECT_TRUE(std::isnan(store->results()[0].value));
  EXPECT_TRUE(std::isnan(store->stages()[0].wall_s));
}

TEST(ResultsStore, ReopeningKeepsEverythingAndUsesWal) {
  const auto path = testing::make_temp_dir() / "results.sqlite";
  {
    auto store = ResultsStore::open(path);
    store->set_meta("fingerprint", "abc");
    store->put_stage({"h", "target", "direct", 3, "done", 1.5});
    store->replace_results("direct", 3, "target", {row("direct", 3, "target", "en", 0.625)});
  }
  auto store = ResultsStore::open(path);
  EXPECT_EQ(store->meta("fingerprint"), "abc");
  ASSERT_EQ(store->stages().size(), 1u);
  EXPECT_EQ(store->stages()[0].seed, 3);
  ASSERT_EQ(store->results().size(), 1u);
  EXPECT_DOUBLE_EQ(store->results()[0].value, 0.625);
  auto existing = ResultsStore::open_existing(path);
  EXPECT_EQ(existing->results().size(), 1u);

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.string().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "wal");
  sqlite3_finalize(s);
  sqlite3_close(db);
}

// Readers (stilts results, the report) open the file read-only: it is left byte for byte as it was, and a
// write through such a store is an error naming the file.
TEST(ResultsStore, OpenExistingReadsEveryMetaRowAndNeverWrites) {
  const auto path = testing::make_temp_dir() / "results.sqlite";
  {
    auto store = ResultsStore::open(path);
    store->set_meta("fingerprint", "abc");
    store->set_meta("experiment", "{}");
    store->replace_results("direct", 1, "target", {row("direct", 1, "target", "en", 0.5)});
  }
  std::ifstream before_in(path, std::ios::binary);
  const std::string before((std::istreambuf_iterator<char>(before_in)), std::istreambuf_iterator<char>());
  {
    auto reader = ResultsStore::open_existing(path);
    const std::map<std::string, std::string> expected = {
        {"experiment", "{}"}, {"fingerprint", "abc"}, {"schema_version", std::to_string(ResultsStore::schema_version())}};
    EXPECT_EQ(reader->all_meta(), expected);
    EXPECT_EQ(reader->results().size(), 1u);
    expect_error_with([&] { reader->put_stage({"h", "target", "direct", 1, "done", 1.0}); },
                      {path.string(), "readonly"});
    expect_error_with([&] { reader->set_meta("fingerprint", "changed"); }, {path.string(), "readonly"});
  }
  std::ifstream after_in(path, std::ios::binary);
  const std::string after((std::istreambuf_iterator<char>(after_in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(after, before);
  EXPECT_EQ(ResultsStore::open(path)->meta("fingerprint"), "abc");
}

TEST(ResultsStore, SchemaVersionMismatchIsAnErrorNamingTheFile) {
  const auto path = testing::make_temp_dir() / "results.sqlite";
  ResultsStore::open(path);
  raw_exec(path, "UPDATE meta SET value = '99' WHERE key = 'schema_version'");
  expect_error_with([&] { ResultsStore::open(path); }, {path.string(), "schema version 99"});
  expect_error_with([&] { ResultsStore::open_existing(path); }, {path.string(), "schema version 99"});
}

// Version 3 had one chain per (arm, seed, language) and no target column: stilts run upgrades such a
// file in place (each chain's target is its last stage); readers refuse it with the way out.
TEST(ResultsStore, AVersion3FileIsUpgradedByAWriterAndRefusedByAReader) {
  const fs::path path = testing::make_temp_dir() / "results.sqlite";
  raw_exec(path, "CREATE TABLE meta(key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);"
                 "INSERT INTO meta VALUES('schema_version', '3');"
                 "CREATE TABLE arm_stages(arm TEXT NOT NULL, seed INTEGER NOT NULL, position INTEGER NOT NULL,"
                 " stage TEXT NOT NULL, hash TEXT NOT NULL, language TEXT NOT NULL DEFAULT '',"
                 " PRIMARY KEY(arm, seed, language, position));"
                 "INSERT INTO arm_stages VALUES('inter', 1, 0, 'intermediate', 'h0', '');"
                 "INSERT INTO arm_stages VALUES('inter', 1, 1, 'target', 'h1', '');"
                 "INSERT INTO arm_stages VALUES('inter', 2, 0, 'intermediate', 'h2', 'de');"
                 "INSERT INTO arm_stages VALUES('inter', 2, 1, 'finetune', 'h3', 'de');"
                 "INSERT INTO arm_stages VALUES('direct', 1, 0, 'target', 'h4', '');");
  expect_error_with([&] { ResultsStore::open_existing(path); },
                    {path.string(), "schema version 3", "`stilts run` on the same config and run directory upgrades it"});
  const auto store = ResultsStore::open(path);
  std::map<std::tuple<std::string, int64_t, int64_t>, std::pair<std::string, std::string>> got;  // -> stage, target
  for (const auto& r : store->arm_stages()) got[{r.arm, r.seed, r.position}] = {r.stage, r.target};
  const std::map<std::tuple<std::string, int64_t, int64_t>, std::pair<std::string, std::string>> expected = {
      {{"inter", 1, 0}, {"intermediate", "target"}}, {{"inter", 1, 1}, {"target", "target"}},
      {{"inter", 2, 0}, {"intermediate", "finetune"}}, {{"inter", 2, 1}, {"finetune", "finetune"}},
      {{"direct", 1, 0}, {"target", "target"}}};
  EXPECT_EQ(got, expected);
  EXPECT_EQ(store->meta("schema_version"), std::optional<std::string>(std::to_string(ResultsStore::schema_version())));
  store->replace_results("direct", 1, "target", {row("direct", 1, "target", "en", 0.5)});  // every table is there
  EXPECT_EQ(ResultsStore::open_existing(path)->results().size(), 1u);
}

TEST(ResultsStore, AFileThatIsNotSqliteIsAnErrorNamingIt) {
  const auto path = testing::make_temp_dir() / "results.sqlite";
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 100; ++i) out << "this is a text file, not a database\n";
  }
  expect_error_with([&] { ResultsStore::open(path); }, {path.string(), "not a database"});
  expect_error_with([&] { ResultsStore::open_existing(path); }, {path.string(), "not a database"});
}

TEST(ResultsStore, OtherDatabasesAndMissingFilesAreErrors) {
  const auto dir = testing::make_temp_dir();
  const auto other = dir / "other.sqlite";
  raw_exec(other, "CREATE TABLE t(x)");
  expect_error_with([&] { ResultsStore::open(other); }, {other.string(), "not a stilts results database"});
  expect_error_with([&] { ResultsStore::open_existing(other); }, {other.string(), "not a stilts results database"});
  const auto missing = dir / "missing.sqlite";
  expect_error_with([&] { ResultsStore::open_existing(missing); }, {missing.string(), "no results database"});
  EXPECT_FALSE(fs::exists(missing));
  expect_error_with([&] { ResultsStore::open(dir / "no-such-dir" / "results.sqlite"); }, {"no-such-dir"});
}

TEST(ResultsStore, Version2TablesRoundTripAndReplaceByTheirKeys) {
  const auto path = testing::make_temp_dir() / "results.sqlite";
  auto store = ResultsStore::open(path);
  StageRow stage{"h1", "target", "direct", 1, "done", 10.0, 18.5, 400, 12000, 3.5e12, 25};
  store->put_stage(stage);
  const StageRow back = store->stages().at(0);
  EXPECT_DOUBLE_EQ(back.cpu_s, 18.5);
  EXPECT_EQ(back.examples, 400);
  EXPECT_EQ(back.tokens, 12000);
  EXPECT_DOUBLE_EQ(back.flops, 3.5e12);
  EXPECT_EQ(back.steps, 25);

  store->replace_arm_stages("inter", 1, {{"inter", 1, 0, "intermediate", "h0", ""}, {"inter", 1, 1, "target", "h2", ""}});
  store->replace_arm_stages("inter", 1, {{"inter", 1, 0, "intermediate", "h0", ""}, {"inter", 1, 1, "target", "h3", ""}});
  const auto chains = store->arm_stages();
  ASSERT_EQ(chains.size(), 2u);
  EXPECT_EQ(chains[1].hash, "h3");
  EXPECT_THROW(store->replace_arm_stages("inter", 2, {{"inter", 1, 0, "x", "h", ""}}), InputError);

  store->replace_curves("h1", {{"h1", 10, 0.5, "train", "", "loss", 0.7}, {"h1", 10, 0.5, "dev", "en", "accuracy", 0.6}});
  store->replace_curves("h1", {{"h1", 20, 1.0, "dev", "en", "accuracy", 0.8}});
  const auto curves = store->curves();
  ASSERT_EQ(curves.size(), 1u);
  EXPECT_EQ(curves[0].step, 20);
  EXPECT_DOUBLE_EQ(curves[0].value, 0.8);

  // Per-language replacement keeps the other languages' rows (in-language chains write one language each).
  const auto pred = [](const std::string& language, int64_t example, int p) {
    return PredictionRow{"direct", 1, "target", "pawsx", "pair-classification", language, "test", example, "1",
                         std::to_string(p)};
  };
  store->replace_results("direct", 1, "target", {row("direct", 1, "target", "en", 0.5)}, {pred("en", 0, 1), pred("en", 1, 0)},
                         {"en"});
  store->replace_results("direct", 1, "target", {row("direct", 1, "target", "de", 1.0)}, {pred("de", 0, 1)}, {"de"});
  EXPECT_EQ(store->results().size(), 2u);
  EXPECT_EQ(store->predictions().size(), 3u);
  store->replace_results("direct", 1, "target", {row("direct", 1, "target", "de", 0.0)}, {pred("de", 0, 0)}, {"de"});
  EXPECT_EQ(store->predictions().size(), 3u);
  store->replace_results("direct", 1, "target", {}, {});  // every language
  EXPECT_TRUE(store->predictions().empty());
  EXPECT_TRUE(store->results().empty());

  const EfficiencyRow e{"direct", 1, "h1", "fp32", 1, 8, 0, "en", "latency_ms_p50", 4.25};
  const LatencySampleRow l{"direct", 1, "h1", "fp32", 1, 8, 0, "en", 0, 4.0};
  store->replace_efficiency("direct", 1, "h1", {e}, {l, {"direct", 1, "h1", "fp32", 1, 8, 0, "en", 1, 4.5}});
  store->replace_efficiency("direct", 2, "h9", {{"direct", 2, "h9", "fp32", 1, 8, 0, "en", "latency_ms_p50", 5.0}}, {});
  EXPECT_EQ(store->efficiency().size(), 2u);
  EXPECT_EQ(store->latency_samples().size(), 2u);
  EXPECT_DOUBLE_EQ(store->latency_samples()[1].ms, 4.5);
  store->replace_efficiency("direct", 1, "h1", {e}, {l});
  EXPECT_EQ(store->latency_samples().size(), 1u);
  EXPECT_THROW(store->replace_efficiency("direct", 1, "h2", {e}, {}), InputError);
}

}  // namespace
}  // namespace stilts::pipeline
