#include "report/run_data.h"

#include <tuple>

namespace stilts::report {

bool BenchSetting::operator<(const BenchSetting& o) const {
  return std::tie(mode, threads, batch_size, seq_len, language) <
         std::tie(o.mode, o.threads, o.batch_size, o.seq_len, o.language);
}
bool BenchSetting::operator==(const BenchSetting& o) const {
  return std::tie(mode, threads, batch_size, seq_len, language) ==
         std::tie(o.mode, o.threads, o.batch_size, o.seq_len, o.language);
}

BenchSetting setting_of(const pipeline::EfficiencyRow& e) {
  return {e.mode, e.threads, e.batch_size, e.seq_len, e.language};
}
BenchSetting setting_of(const pipeline::LatencySampleRow& l) {
  return {l.mode, l.threads, l.batch_size, l.seq_len, l.language};
}

std::optional<std::string> RunData::meta_value(const std::string& key) const {
  const auto it = meta.find(key);
  if (it == meta.end()) return std::nullopt;
  return it->second;
}

RunData load_run_data(const std::filesystem::path& db_file) {
  const auto store = pipeline::ResultsStore::open_existing(db_file);
  RunData data;
  data.db_file = db_file;
  data.meta = store->all_meta();
  data.results = store->results();
  data.stages = store->stages();
  data.arm_stages = store->arm_stages();
  data.curves = store->curves();
  data.efficiency = store->efficiency();
  data.latency_samples = store->latency_samples();
  data.predictions = store->predictions();
  return data;
}

}  // namespace stilts::report
