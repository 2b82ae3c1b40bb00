// A run directory's results.sqlite (schema version 2, see the results store) read into plain rows for
// the report. Read-only: the file is opened with SQLITE_OPEN_READONLY and never modified.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/results_store.h"

namespace stilts::report {

// One row of `stages`. Columns that are NULL (a stage still running) read as NaN / 0.
struct StageInfo {
  std::string hash, name, arm;
  int64_t seed = 0;
  std::string status;
  double wall_s = 0, cpu_s = 0;
  int64_t examples = 0, tokens = 0;
  double flops = 0;
  int64_t steps = 0;
};

struct ArmStageRow {
  std::string arm;
  int64_t seed = 0;
  int64_t position = 0;
  std::string stage, hash;
};

struct CurveRow {
  std::string hash;
  int64_t step = 0;
  double epoch = 0;
  std::string split, language, metric;
  double value = 0;  // NaN when NULL
};

// The setting an efficiency figure or latency sample was measured at.
struct BenchSetting {
  std::string mode;
  int64_t threads = 0, batch_size = 0, seq_len = 0;
  std::string language;
  bool operator<(const BenchSetting& o) const;
  bool operator==(const BenchSetting& o) const;
};

struct EfficiencyRow {
  std::string arm;
  int64_t seed = 0;
  std::string model;
  BenchSetting setting;
  std::string metric;
  double value = 0;
};

struct LatencySample {
  std::string arm;
  int64_t seed = 0;
  std::string model;
  BenchSetting setting;
  int64_t rep = 0;
  double ms = 0;
};

struct RunData {
  std::filesystem::path db_file;
  std::map<std::string, std::string> meta;
  std::vector<pipeline::ResultRow> results;
  std::vector<StageInfo> stages;        // insertion order
  std::vector<ArmStageRow> arm_stages;  // by arm, seed, position
  std::vector<CurveRow> curves;         // by hash, step
  std::vector<EfficiencyRow> efficiency;
  std::vector<LatencySample> latency_samples;
  std::vector<pipeline::PredictionRow> predictions;  // per-example outputs (paired bootstrap); may be empty

  std::optional<std::string> meta_value(const std::string& key) const;
};

// The schema version this reader understands (meta "schema_version").
constexpr int kReportSchemaVersion = 3;

// Reads `db_file`. A missing file, a file that is not SQLite, a database without the stilts meta table
// or with another schema version is an InputError naming the file.
RunData load_run_data(const std::filesystem::path& db_file);

}  // namespace stilts::report
