// results.sqlite in a run directory: the study's figures, one row per figure, written in
// transactions so a killed run never leaves a half-written stage. Users query it with sqlite3.
//
// Tables (at least):
//   results(arm, seed, stage, task, language, split, metric, value)   split: "dev" | "test"
//   stages(hash, name, arm, seed, status, wall_s)                      one row per distinct stage run;
//                                                                      a shared stage appears once, arm =
//                                                                      the first arm that needed it
//   meta(key, value)                                                   schema version, config, fingerprint
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace stilts::pipeline {

struct ResultRow {
  std::string arm;
  int64_t seed = 0;
  std::string stage;
  std::string task;
  std::string language;
  std::string split;  // "dev" | "test"
  std::string metric;
  double value = 0.0;  // NaN is stored as NULL
};

struct StageRow {
  std::string hash;
  std::string name;
  std::string arm;
  int64_t seed = 0;
  std::string status;  // "running" | "done" | "failed"
  double wall_s = 0.0;
};

class ResultsStore {
 public:
  // Opens or creates `path` (WAL mode, schema created if missing; an existing file with another schema
  // version is an InputError naming the file).
  static std::unique_ptr<ResultsStore> open(const std::filesystem::path& path);
  // Opens a results database that must already exist and hold the stilts schema (for readers such as
  // `stilts results`): a missing file, a non-SQLite file or another schema is an InputError naming it.
  static std::unique_ptr<ResultsStore> open_existing(const std::filesystem::path& path);
  // The schema version this build writes and reads (meta key "schema_version").
  static int schema_version();
  virtual ~ResultsStore() = default;
  // Every method is safe to call from several threads (one connection, serialized); every write is one
  // BEGIN IMMEDIATE ... COMMIT transaction, rolled back on error (the old rows stay).

  // Upserts a stage row by hash (first arm kept once set).
  virtual void put_stage(const StageRow& row) = 0;
  // Replaces every results row of (arm, seed, stage) with `rows`, in one transaction.
  virtual void replace_results(const std::string& arm, int64_t seed, const std::string& stage,
                               const std::vector<ResultRow>& rows) = 0;
  virtual void set_meta(const std::string& key, const std::string& value) = 0;

  virtual std::vector<ResultRow> results() const = 0;
  virtual std::vector<StageRow> stages() const = 0;
  virtual std::optional<std::string> meta(const std::string& key) const = 0;
};

}  // namespace stilts::pipeline
