#include "report/run_data.h"

#include <sqlite3.h>

#include <limits>
#include <tuple>

#include "common/error.h"

namespace stilts::report {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One read-only connection, closed on scope exit.
class Reader {
 public:
  explicit Reader(const std::filesystem::path& path) : file_(path.string()) {
    if (sqlite3_open_v2(file_.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      const std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      input_error(file_, ": cannot open the results database: ", message);
    }
    sqlite3_busy_timeout(db_, 30000);
  }
  ~Reader() { sqlite3_close(db_); }
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Calls row(stmt) for every result row of `sql`.
  template <typename F>
  void query(const char* sql, F&& row) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) {
      const std::string message = sqlite3_errmsg(db_);
      sqlite3_finalize(stmt);
      input_error(file_, ": not a readable stilts results database (", message, ")");
    }
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) row(stmt);
    const std::string message = sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) input_error(file_, ": reading the results database: ", message);
  }

  bool has_table(const std::string& name) {
    bool found = false;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", -1, &stmt, nullptr) !=
        SQLITE_OK) {
      const std::string message = sqlite3_errmsg(db_);
      sqlite3_finalize(stmt);
      input_error(file_, ": not a SQLite results database (", message, ")");
    }
    sqlite3_bind_text(stmt, 1, name.c_str(), -1, SQLITE_TRANSIENT);
    const int rc = sqlite3_step(stmt);
    found = rc == SQLITE_ROW;
    const std::string message = sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      input_error(file_, ": not a SQLite results database (", message, ")");
    }
    return found;
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_;
  sqlite3* db_ = nullptr;
};

std::string text(sqlite3_stmt* s, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s, i))) : std::string();
}
int64_t integer(sqlite3_stmt* s, int i) { return sqlite3_column_int64(s, i); }
double real(sqlite3_stmt* s, int i) {
  return sqlite3_column_type(s, i) == SQLITE_NULL ? kNaN : sqlite3_column_double(s, i);
}
BenchSetting setting(sqlite3_stmt* s, int first) {
  return {text(s, first), integer(s, first + 1), integer(s, first + 2), integer(s, first + 3), text(s, first + 4)};
}

}  // namespace

bool BenchSetting::operator<(const BenchSetting& o) const {
  return std::tie(mode, threads, batch_size, seq_len, language) <
         std::tie(o.mode, o.threads, o.batch_size, o.seq_len, o.language);
}
bool BenchSetting::operator==(const BenchSetting& o) const {
  return std::tie(mode, threads, batch_size, seq_len, language) ==
         std::tie(o.mode, o.threads, o.batch_size, o.seq_len, o.language);
}

std::optional<std::string> RunData::meta_value(const std::string& key) const {
  const auto it = meta.find(key);
  if (it == meta.end()) return std::nullopt;
  return it->second;
}

RunData load_run_data(const std::filesystem::path& db_file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(db_file, ec)) input_error(db_file.string(), ": no results database");
  Reader db(db_file);
  RunData data;
  data.db_file = db_file;
  if (!db.has_table("meta")) {
    input_error(db_file.string(), ": not a stilts results database (no meta table)");
  }
  db.query("SELECT key, value FROM meta", [&](sqlite3_stmt* s) { data.meta[text(s, 0)] = text(s, 1); });
  const auto version = data.meta_value("schema_version");
  if (!version) input_error(db_file.string(), ": not a stilts results database (no meta 'schema_version')");
  if (*version != std::to_string(kReportSchemaVersion)) {
    input_error(db_file.string(), ": results schema version ", *version, ", expected ", kReportSchemaVersion,
                " (re-run the study with this stilts, or report it with the stilts that wrote it)");
  }
  for (const char* table : {"results", "stages", "arm_stages", "curves", "efficiency", "latency_samples"}) {
    if (!db.has_table(table)) input_error(db_file.string(), ": not a stilts results database (no ", table, " table)");
  }
  if (db.has_table("predictions")) {
    db.query(
        "SELECT arm, seed, stage, task, kind, language, split, example, gold, prediction FROM predictions "
        "ORDER BY arm, seed, stage, task, language, split, example",
        [&](sqlite3_stmt* s) {
          data.predictions.push_back({text(s, 0), integer(s, 1), text(s, 2), text(s, 3), text(s, 4), text(s, 5),
                                      text(s, 6), integer(s, 7), text(s, 8), text(s, 9)});
        });
  }
  db.query(
      "SELECT arm, seed, stage, task, language, split, metric, value FROM results "
      "ORDER BY arm, seed, stage, task, language, split, metric",
      [&](sqlite3_stmt* s) {
        data.results.push_back(
            {text(s, 0), integer(s, 1), text(s, 2), text(s, 3), text(s, 4), text(s, 5), text(s, 6), real(s, 7)});
      });
  db.query(
      "SELECT hash, name, arm, seed, status, wall_s, cpu_s, examples, tokens, flops, steps FROM stages "
      "ORDER BY rowid",
      [&](sqlite3_stmt* s) {
        data.stages.push_back({text(s, 0), text(s, 1), text(s, 2), integer(s, 3), text(s, 4), real(s, 5), real(s, 6),
                               integer(s, 7), integer(s, 8), real(s, 9), integer(s, 10)});
      });
  db.query("SELECT arm, seed, position, stage, hash FROM arm_stages ORDER BY arm, seed, position",
           [&](sqlite3_stmt* s) {
             data.arm_stages.push_back({text(s, 0), integer(s, 1), integer(s, 2), text(s, 3), text(s, 4)});
           });
  db.query(
      "SELECT hash, step, epoch, split, language, metric, value FROM curves ORDER BY hash, step", [&](sqlite3_stmt* s) {
        data.curves.push_back({text(s, 0), integer(s, 1), real(s, 2), text(s, 3), text(s, 4), text(s, 5), real(s, 6)});
      });
  db.query(
      "SELECT arm, seed, model, mode, threads, batch_size, seq_len, language, metric, value FROM efficiency "
      "ORDER BY arm, seed, mode, threads, batch_size, seq_len, language, metric",
      [&](sqlite3_stmt* s) {
        data.efficiency.push_back({text(s, 0), integer(s, 1), text(s, 2), setting(s, 3), text(s, 8), real(s, 9)});
      });
  db.query(
      "SELECT arm, seed, model, mode, threads, batch_size, seq_len, language, rep, ms FROM latency_samples "
      "ORDER BY arm, seed, mode, threads, batch_size, seq_len, language, rep",
      [&](sqlite3_stmt* s) {
        data.latency_samples.push_back(
            {text(s, 0), integer(s, 1), text(s, 2), setting(s, 3), integer(s, 8), real(s, 9)});
      });
  return data;
}

}  // namespace stilts::report
