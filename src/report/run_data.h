// A run directory's results.sqlite read into plain rows for the report, through the one reader of the
// file (pipeline::ResultsStore::open_existing: read-only, the file is never modified).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/results_store.h"

namespace stilts::report {

// The setting an efficiency figure or latency sample was measured at.
struct BenchSetting {
  std::string mode;
  int64_t threads = 0, batch_size = 0, seq_len = 0;
  std::string language;
  bool operator<(const BenchSetting& o) const;
  bool operator==(const BenchSetting& o) const;
};
BenchSetting setting_of(const pipeline::EfficiencyRow& e);
BenchSetting setting_of(const pipeline::LatencySampleRow& l);

struct RunData {
  std::filesystem::path db_file;
  std::map<std::string, std::string> meta;
  std::vector<pipeline::ResultRow> results;
  std::vector<pipeline::StageRow> stages;          // insertion order
  std::vector<pipeline::ArmStageRow> arm_stages;   // by arm, seed, language, position
  std::vector<pipeline::CurveRow> curves;          // by hash, step
  std::vector<pipeline::EfficiencyRow> efficiency;
  std::vector<pipeline::LatencySampleRow> latency_samples;
  std::vector<pipeline::PredictionRow> predictions;  // per-example outputs (paired bootstrap); may be empty

  std::optional<std::string> meta_value(const std::string& key) const;
};

// Reads `db_file`. A missing file, a file that is not SQLite, a database without the stilts meta table
// or with another schema version is an InputError naming the file.
RunData load_run_data(const std::filesystem::path& db_file);

}  // namespace stilts::report
