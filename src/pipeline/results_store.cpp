// ResultsStore on the SQLite3 C API: one connection, WAL, a busy timeout so a reader (sqlite3 in
// another shell, `stilts results`) and the runner can share the file, every write in BEGIN IMMEDIATE
// ... COMMIT (rolled back on any error), prepared statements, NaN stored as NULL.
#include "pipeline/results_store.h"

#include <sqlite3.h>

#include <cmath>
#include <limits>
#include <mutex>

#include "common/error.h"

namespace stilts::pipeline {

namespace {

constexpr int kSchemaVersion = 4;
constexpr int kBusyTimeoutMs = 30000;

const char* const kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(
  key   TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS results(
  arm      TEXT NOT NULL,
  seed     INTEGER NOT NULL,
  stage    TEXT NOT NULL,
  task     TEXT NOT NULL,
  language TEXT NOT NULL,
  split    TEXT NOT NULL,
  metric   TEXT NOT NULL,
  value    REAL,
  PRIMARY KEY(arm, seed, stage, task, language, split, metric)
);
CREATE TABLE IF NOT EXISTS stages(
  hash     TEXT PRIMARY KEY NOT NULL,
  name     TEXT NOT NULL,
  arm      TEXT NOT NULL,
  seed     INTEGER NOT NULL,
  status   TEXT NOT NULL,
  wall_s   REAL,
  cpu_s    REAL,
  examples INTEGER,
  tokens   INTEGER,
  flops    REAL,
  steps    INTEGER
);
CREATE TABLE IF NOT EXISTS arm_stages(
  arm      TEXT NOT NULL,
  seed     INTEGER NOT NULL,
  position INTEGER NOT NULL,
  stage    TEXT NOT NULL,
  hash     TEXT NOT NULL,
  language TEXT NOT NULL DEFAULT '',
  target   TEXT NOT NULL,
  PRIMARY KEY(arm, seed, language, target, position)
);
CREATE TABLE IF NOT EXISTS curves(
  hash     TEXT NOT NULL,
  step     INTEGER NOT NULL,
  epoch    REAL,
  split    TEXT NOT NULL,
  language TEXT NOT NULL,
  metric   TEXT NOT NULL,
  value    REAL,
  PRIMARY KEY(hash, step, split, language, metric)
);
CREATE TABLE IF NOT EXISTS predictions(
  arm        TEXT NOT NULL,
  seed       INTEGER NOT NULL,
  stage      TEXT NOT NULL,
  task       TEXT NOT NULL,
  kind       TEXT NOT NULL,
  language   TEXT NOT NULL,
  split      TEXT NOT NULL,
  example    INTEGER NOT NULL,
  gold       TEXT NOT NULL,
  prediction TEXT NOT NULL,
  PRIMARY KEY(arm, seed, stage, task, language, split, example)
);
CREATE TABLE IF NOT EXISTS efficiency(
  arm        TEXT NOT NULL,
  seed       INTEGER NOT NULL,
  model      TEXT NOT NULL,
  mode       TEXT NOT NULL,
  threads    INTEGER NOT NULL,
  batch_size INTEGER NOT NULL,
  seq_len    INTEGER NOT NULL,
  language   TEXT NOT NULL,
  metric     TEXT NOT NULL,
  value      REAL,
  PRIMARY KEY(arm, seed, model, mode, threads, batch_size, seq_len, language, metric)
);
CREATE TABLE IF NOT EXISTS latency_samples(
  arm        TEXT NOT NULL,
  seed       INTEGER NOT NULL,
  model      TEXT NOT NULL,
  mode       TEXT NOT NULL,
  threads    INTEGER NOT NULL,
  batch_size INTEGER NOT NULL,
  seq_len    INTEGER NOT NULL,
  language   TEXT NOT NULL,
  rep        INTEGER NOT NULL,
  ms         REAL,
  PRIMARY KEY(arm, seed, model, mode, threads, batch_size, seq_len, language, rep)
);
)sql";

// A prepared statement, finalized on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& file, const char* sql) : db_(db), file_(file) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) fail("preparing a statement");
  }
  Statement(sqlite3* db, const std::string& file, const std::string& sql) : Statement(db, file, sql.c_str()) {}
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, const std::string& s) {
    check(sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Statement& bind(int i, int64_t v) {
    check(sqlite3_bind_int64(stmt_, i, v));
    return *this;
  }
  Statement& bind(int i, double v) {
    check(std::isnan(v) ? sqlite3_bind_null(stmt_, i) : sqlite3_bind_double(stmt_, i, v));
    return *this;
  }
  // True while a row is available.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail("writing or reading");
  }
  void run() {
    while (step()) {
    }
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string text(int i) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, i))) : std::string();
  }
  int64_t integer(int i) const { return sqlite3_column_int64(stmt_, i); }
  double real(int i) const {
    return sqlite3_column_type(stmt_, i) == SQLITE_NULL ? std::numeric_limits<double>::quiet_NaN()
                                                        : sqlite3_column_double(stmt_, i);
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail("binding a value");
  }
  [[noreturn]] void fail(const char* what) {
    input_error(file_, ": results database: ", what, ": ", sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  std::string file_;
  sqlite3_stmt* stmt_ = nullptr;
};

class SqliteResultsStore final : public ResultsStore {
 public:
  explicit SqliteResultsStore(const std::filesystem::path& path, bool create) : file_(path.string()) {
    // Without `create`, read-only: readers never change a run's file (nor its journal mode).
    const int flags =
        (create ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY) | SQLITE_OPEN_FULLMUTEX;
    if (sqlite3_open_v2(file_.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      const std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      input_error(file_, ": cannot open the results database: ", message);
    }
    try {
      sqlite3_busy_timeout(db_, kBusyTimeoutMs);
      // Checked before switching to WAL, so another program's database is left as it was.
      check_schema(create);
      if (create) {
        exec("PRAGMA journal_mode=WAL", "setting WAL mode");
        // FULL: a committed stage survives a power cut, not only a killed process.
        exec("PRAGMA synchronous=FULL", "setting synchronous mode");
        init_schema(create);
      }
    } catch (...) {
      sqlite3_close(db_);
      db_ = nullptr;
      throw;
    }
  }
  ~SqliteResultsStore() override { sqlite3_close(db_); }

  void put_stage(const StageRow& row) override {
    std::lock_guard<std::mutex> lock(mutex_);
    transaction([&] {
      Statement s(db_, file_,
                  "INSERT INTO stages(hash, name, arm, seed, status, wall_s, cpu_s, examples, tokens, flops, steps) "
                  "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
                  "ON CONFLICT(hash) DO UPDATE SET name = excluded.name, "
                  "arm = CASE WHEN stages.arm = '' THEN excluded.arm ELSE stages.arm END, "
                  "seed = excluded.seed, status = excluded.status, wall_s = excluded.wall_s, "
                  "cpu_s = excluded.cpu_s, examples = excluded.examples, tokens = excluded.tokens, "
                  "flops = excluded.flops, steps = excluded.steps");
      s.bind(1, row.hash).bind(2, row.name).bind(3, row.arm).bind(4, row.seed).bind(5, row.status).bind(6, row.wall_s);
      s.bind(7, row.cpu_s).bind(8, row.examples).bind(9, row.tokens).bind(10, row.flops).bind(11, row.steps);
      s.run();
    });
  }

  void replace_results(const std::string& arm, int64_t seed, const std::string& stage,
                       const std::vector<ResultRow>& rows, const std::vector<PredictionRow>& predictions,
                       const std::vector<std::string>& languages) override {
    auto check_key = [&](const std::string& a, int64_t sd, const std::string& st) {
      if (a != arm || sd != seed || st != stage) {
        input_error(file_, ": replace_results for (", arm, ", ", seed, ", ", stage, ") was given a row of (", a, ", ",
                    sd, ", ", st, ")");
      }
    };
    for (const auto& r : rows) check_key(r.arm, r.seed, r.stage);
    for (const auto& p : predictions) check_key(p.arm, p.seed, p.stage);
    std::lock_guard<std::mutex> lock(mutex_);
    transaction([&] {
      for (const char* table : {"results", "predictions"}) {
        const std::string where = std::string("DELETE FROM ") + table + " WHERE arm = ?1 AND seed = ?2 AND stage = ?3";
        if (languages.empty()) {
          Statement del(db_, file_, where);
          del.bind(1, arm).bind(2, seed).bind(3, stage);
          del.run();
        } else {
          Statement del(db_, file_, where + " AND language = ?4");
          for (const auto& language : languages) {
            del.bind(1, arm).bind(2, seed).bind(3, stage).bind(4, language);
            del.run();
          }
        }
      }
      Statement ins(db_, file_,
                    "INSERT INTO results(arm, seed, stage, task, language, split, metric, value) "
                    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
      for (const auto& r : rows) {
        ins.bind(1, r.arm).bind(2, r.seed).bind(3, r.stage).bind(4, r.task).bind(5, r.language).bind(6, r.split);
        ins.bind(7, r.metric).bind(8, r.value);
        ins.run();
      }
      Statement pred(db_, file_,
                     "INSERT INTO predictions(arm, seed, stage, task, kind, language, split, example, gold, "
                     "prediction) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
      for (const auto& p : predictions) {
        pred.bind(1, p.arm).bind(2, p.seed).bind(3, p.stage).bind(4, p.task).bind(5, p.kind).bind(6, p.language);
        pred.bind(7, p.split).bind(8, p.example).bind(9, p.gold).bind(10, p.prediction);
        pred.run();
      }
    });
  }

  void replace_arm_stages(const std::string& arm, int64_t seed, const std::vector<ArmStageRow>& rows) override {
    std::lock_guard<std::mutex> lock(mutex_);
    transaction([&] {
      Statement del(db_, file_, "DELETE FROM arm_stages WHERE arm = ?1 AND seed = ?2");
      del.bind(1, arm).bind(2, seed);
      del.run();
      Statement ins(db_, file_,
                    "INSERT INTO arm_stages(arm, seed, position, stage, hash, language, target) "
                    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
      for (const auto& r : rows) {
        if (r.arm != arm || r.seed != seed) input_error(file_, ": replace_arm_stages for (", arm, ", ", seed, ") got a row of ", r.arm);
        ins.bind(1, r.arm).bind(2, r.seed).bind(3, r.position).bind(4, r.stage).bind(5, r.hash).bind(6, r.language);
        ins.bind(7, r.target);
        ins.run();
      }
    });
  }

  void replace_curves(const std::string& hash, const std::vector<CurveRow>& rows) override {
    std::lock_guard<std::mutex> lock(mutex_);
    transaction([&] {
      Statement del(db_, file_, "DELETE FROM curves WHERE hash = ?1");
      del.bind(1, hash);
      del.run();
      Statement ins(db_, file_,
                    "INSERT INTO curves(hash, step, epoch, split, language, metric, value) "
                    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
      for (const auto& r : rows) {
        if (r.hash != hash) input_error(file_, ": replace_curves for ", hash, " got a row of ", r.hash);
        ins.bind(1, r.hash).bind(2, r.step).bind(3, r.epoch).bind(4, r.split).bind(5, r.language).bind(6, r.metric);
        ins.bind(7, r.value);
        ins.run();
      }
    });
  }

  void replace_efficiency(const std::string& arm, int64_t seed, const std::string& model,
                          const std::vector<EfficiencyRow>& rows,
                          const std::vector<LatencySampleRow>& samples) override {
    std::lock_guard<std::mutex> lock(mutex_);
    transaction([&] {
      for (const char* table : {"efficiency", "latency_samples"}) {
        Statement del(db_, file_,
                      std::string("DELETE FROM ") + table + " WHERE arm = ?1 AND seed = ?2 AND model = ?3");
        del.bind(1, arm).bind(2, seed).bind(3, model);
        del.run();
      }
      Statement ins(db_, file_,
                    "INSERT INTO efficiency(arm, seed, model, mode, threads, batch_size, seq_len, language, metric, "
                    "value) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
      for (const auto& r : rows) {
        if (r.arm != arm || r.seed != seed || r.model != model) {
          input_error(file_, ": replace_efficiency for (", arm, ", ", seed, ", ", model, ") got a row of ", r.arm);
        }
        ins.bind(1, r.arm).bind(2, r.seed).bind(3, r.model).bind(4, r.mode).bind(5, r.threads).bind(6, r.batch_size);
        ins.bind(7, r.seq_len).bind(8, r.language).bind(9, r.metric).bind(10, r.value);
        ins.run();
      }
      Statement smp(db_, file_,
                    "INSERT INTO latency_samples(arm, seed, model, mode, threads, batch_size, seq_len, language, rep, "
                    "ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
      for (const auto& r : samples) {
        if (r.arm != arm || r.seed != seed || r.model != model) {
          input_error(file_, ": replace_efficiency for (", arm, ", ", seed, ", ", model, ") got a sample of ", r.arm);
        }
        smp.bind(1, r.arm).bind(2, r.seed).bind(3, r.model).bind(4, r.mode).bind(5, r.threads).bind(6, r.batch_size);
        smp.bind(7, r.seq_len).bind(8, r.language).bind(9, r.rep).bind(10, r.ms);
        smp.run();
      }
    });
  }

  void set_meta(const std::string& key, const std::string& value) override {
    std::lock_guard<std::mutex> lock(mutex_);
    transaction([&] { write_meta(key, value); });
  }

  std::vector<ResultRow> results() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    Statement s(db_, file_,
                "SELECT arm, seed, stage, task, language, split, metric, value FROM results "
                "ORDER BY arm, seed, stage, task, language, split, metric");
    std::vector<ResultRow> out;
    while (s.step()) {
      out.push_back({s.text(0), s.integer(1), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6), s.real(7)});
    }
    return out;
  }

  std::vector<StageRow> stages() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    // Insertion order: the order in which the runner first met each stage.
    Statement s(db_, file_,
                "SELECT hash, name, arm, seed, status, wall_s, cpu_s, examples, tokens, flops, steps FROM stages "
                "ORDER BY rowid");
    std::vector<StageRow> out;
    while (s.step()) {
      out.push_back({s.text(0), s.text(1), s.text(2), s.integer(3), s.text(4), s.real(5), s.real(6), s.integer(7),
                     s.integer(8), s.real(9), s.integer(10)});
    }
    return out;
  }

  std::vector<ArmStageRow> arm_stages() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    Statement s(db_, file_,
                "SELECT arm, seed, position, stage, hash, language, target FROM arm_stages "
                "ORDER BY arm, seed, language, target, position");
    std::vector<ArmStageRow> out;
    while (s.step()) {
      out.push_back({s.text(0), s.integer(1), s.integer(2), s.text(3), s.text(4), s.text(5), s.text(6)});
    }
    return out;
  }

  std::vector<CurveRow> curves() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    Statement s(db_, file_,
                "SELECT hash, step, epoch, split, language, metric, value FROM curves "
                "ORDER BY hash, step, split, language, metric");
    std::vector<CurveRow> out;
    while (s.step()) out.push_back({s.text(0), s.integer(1), s.real(2), s.text(3), s.text(4), s.text(5), s.real(6)});
    return out;
  }

  std::vector<PredictionRow> predictions() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    Statement s(db_, file_,
                "SELECT arm, seed, stage, task, kind, language, split, example, gold, prediction FROM predictions "
                "ORDER BY arm, seed, stage, task, language, split, example");
    std::vector<PredictionRow> out;
    while (s.step()) {
      out.push_back({s.text(0), s.integer(1), s.text(2), s.text(3), s.text(4), s.text(5), s.text(6), s.integer(7),
                     s.text(8), s.text(9)});
    }
    return out;
  }

  std::vector<EfficiencyRow> efficiency() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    Statement s(db_, file_,
                "SELECT arm, seed, model, mode, threads, batch_size, seq_len, language, metric, value FROM efficiency "
                "ORDER BY arm, seed, model, mode, threads, batch_size, seq_len, language, metric");
    std::vector<EfficiencyRow> out;
    while (s.step()) {
      out.push_back({s.text(0), s.integer(1), s.text(2), s.text(3), s.integer(4), s.integer(5), s.integer(6),
                     s.text(7), s.text(8), s.real(9)});
    }
    return out;
  }

  std::vector<LatencySampleRow> latency_samples() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    Statement s(db_, file_,
                "SELECT arm, seed, model, mode, threads, batch_size, seq_len, language, rep, ms FROM latency_samples "
                "ORDER BY arm, seed, model, mode, threads, batch_size, seq_len, language, rep");
    std::vector<LatencySampleRow> out;
    while (s.step()) {
      out.push_back({s.text(0), s.integer(1), s.text(2), s.text(3), s.integer(4), s.integer(5), s.integer(6),
                     s.text(7), s.integer(8), s.real(9)});
    }
    return out;
  }

  std::optional<std::string> meta(const std::string& key) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return read_meta(key);
  }

  std::map<std::string, std::string> all_meta() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    Statement s(db_, file_, "SELECT key, value FROM meta");
    std::map<std::string, std::string> out;
    while (s.step()) out[s.text(0)] = s.text(1);
    return out;
  }

 private:
  void exec(const char* sql, const char* what) const {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
      const std::string text = message ? message : sqlite3_errmsg(db_);
      sqlite3_free(message);
      input_error(file_, ": results database: ", what, ": ", text);
    }
  }

  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT; any exception rolls back and propagates.
  template <typename Body>
  void transaction(Body&& body) {
    exec("BEGIN IMMEDIATE", "starting a transaction");
    try {
      body();
      exec("COMMIT", "committing");
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }

  std::optional<std::string> read_meta(const std::string& key) const {
    Statement s(db_, file_, "SELECT value FROM meta WHERE key = ?1");
    s.bind(1, key);
    if (s.step()) return s.text(0);
    return std::nullopt;
  }

  void write_meta(const std::string& key, const std::string& value) {
    Statement s(db_, file_, "INSERT INTO meta(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    s.bind(1, key).bind(2, value);
    s.run();
  }

  bool has_table(const char* name) const {
    Statement s(db_, file_, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1");
    s.bind(1, std::string(name));
    return s.step();
  }

  // Throws unless the file holds the stilts schema of this version or (when `create`) no table at all.
  // Returns whether the schema is there.
  bool check_schema(bool create) const {
    if (!has_table("meta")) {
      if (!create) input_error(file_, ": not a stilts results database (no meta table)");
      Statement any(db_, file_, "SELECT name FROM sqlite_master WHERE type = 'table' LIMIT 1");
      if (any.step()) {
        input_error(file_, ": an SQLite database but not a stilts results database (it has table '", any.text(0),
                    "' and no meta table)");
      }
      return false;
    }
    const auto version = read_meta("schema_version");
    if (!version) input_error(file_, ": not a stilts results database (meta has no schema_version)");
    if (*version == "3" && create) return true;  // upgraded by init_schema
    if (*version != std::to_string(kSchemaVersion)) {
      input_error(file_, ": results database schema version ", *version, ", this stilts reads version ",
                  kSchemaVersion,
                  *version == "3" ? " (`stilts run` on the same config and run directory upgrades it)"
                                  : " (rerun the experiment into a new run directory, or use a matching stilts)");
    }
    return true;
  }

  void init_schema(bool create) {
    // Checked again inside the write lock: another process may have created the schema meanwhile.
    transaction([&] {
      if (!check_schema(create)) {
        exec(kSchema, "creating the schema");
        write_meta("schema_version", std::to_string(kSchemaVersion));
      } else if (read_meta("schema_version") == std::optional<std::string>("3")) {
        // Version 4 adds arm_stages.target (arms with several chains); a version-3 arm had one chain
        // per (seed, language), ending in its last stage.
        exec("ALTER TABLE arm_stages RENAME TO arm_stages_v3", "upgrading the schema from version 3");
        exec(kSchema, "upgrading the schema from version 3");
        exec("INSERT INTO arm_stages(arm, seed, position, stage, hash, language, target) "
             "SELECT a.arm, a.seed, a.position, a.stage, a.hash, a.language, "
             "(SELECT b.stage FROM arm_stages_v3 b WHERE b.arm = a.arm AND b.seed = a.seed AND b.language = a.language "
             "ORDER BY b.position DESC LIMIT 1) FROM arm_stages_v3 a; DROP TABLE arm_stages_v3",
             "upgrading the schema from version 3");
        write_meta("schema_version", std::to_string(kSchemaVersion));
      }
    });
  }

  std::string file_;
  sqlite3* db_ = nullptr;
  mutable std::mutex mutex_;
};

}  // namespace

std::unique_ptr<ResultsStore> ResultsStore::open(const std::filesystem::path& path) {
  return std::make_unique<SqliteResultsStore>(path, /*create=*/true);
}

std::unique_ptr<ResultsStore> ResultsStore::open_existing(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) input_error(path.string(), ": no results database here");
  return std::make_unique<SqliteResultsStore>(path, /*create=*/false);
}

int ResultsStore::schema_version() { return kSchemaVersion; }

}  // namespace stilts::pipeline
