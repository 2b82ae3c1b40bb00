// results.sqlite in a run directory: the study's figures, one row per figure, written in
// transactions so a killed run never leaves a half-written stage. Users query it with sqlite3.
//
// Tables (schema version 3; the README documents them for sqlite3 users):
//   results(arm, seed, stage, task, language, split, metric, value)   split: "dev" | "test"
//   stages(hash, name, arm, seed, status, wall_s, cpu_s, examples, tokens, flops, steps)
//                                        one row per distinct stage run; a shared stage appears once,
//                                        arm = the first arm that needed it; examples and tokens are the
//                                        training examples and non-pad tokens processed, flops the
//                                        analytic training FLOPs (3 x forward)
//   arm_stages(arm, seed, position, stage, hash, language)             each arm's chain per seed (and
//                                                                      language, for per-language chains)
//   curves(hash, step, epoch, split, language, metric, value)         every evaluation during training
//   predictions(arm, seed, stage, task, kind, language, split, example, gold, prediction)
//                                        the per-example outputs behind `results` (paired bootstrap): gold
//                                        and prediction as JSON text of what the task kind predicts (a
//                                        label id or score: 2; a tag per word: ["NOUN","VERB"])
//   efficiency(arm, seed, model, mode, threads, batch_size, seq_len, language, metric, value)
//   latency_samples(arm, seed, model, mode, threads, batch_size, seq_len, language, rep, ms)
//   meta(key, value)                     schema_version, experiment (resolved config), fingerprint, ...
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
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
  double cpu_s = 0.0;    // process CPU time spent in the stage (user + system, all threads)
  int64_t examples = 0;  // training examples processed (over all epochs)
  int64_t tokens = 0;    // non-pad training tokens processed
  double flops = 0.0;    // analytic training FLOPs (forward + backward = 3 x forward)
  int64_t steps = 0;     // optimizer steps
};

struct ArmStageRow {
  std::string arm;
  int64_t seed = 0;
  int64_t position = 0;  // 0 = first stage of the chain
  std::string stage;
  std::string hash;
  std::string language;  // in-language / translate-train chains: the chain's language; "" otherwise
  std::string target;    // the stage name the chain ends in (an arm may have several chains)
};

struct CurveRow {
  std::string hash;
  int64_t step = 0;
  double epoch = 0.0;
  std::string split;     // "train" (metric "loss") | "dev"
  std::string language;  // "" when not per language
  std::string metric;
  double value = 0.0;
};

struct PredictionRow {
  std::string arm;
  int64_t seed = 0;
  std::string stage, task;
  std::string kind;  // the task kind (tasks::task_kind), which reads and scores gold and prediction
  std::string language, split;
  int64_t example = 0;     // position in the evaluated file's examples
  std::string gold;        // JSON: the kind's tasks::Value ("null" without gold)
  std::string prediction;  // JSON
};

// One figure of the efficiency table. Model-level figures (params_*, disk_mb, load_s,
// flops_per_example) have batch_size 0, seq_len 0 and language "". seq_len 0 on a latency figure means
// the evaluation data's own lengths with dynamic padding.
struct EfficiencyRow {
  std::string arm;
  int64_t seed = 0;
  std::string model;  // the final stage's hash
  std::string mode;   // fp32 | bf16 | int8
  int64_t threads = 0;
  int64_t batch_size = 0;
  int64_t seq_len = 0;
  std::string language;
  std::string metric;
  double value = 0.0;
};

struct LatencySampleRow {
  std::string arm;
  int64_t seed = 0;
  std::string model, mode;
  int64_t threads = 0, batch_size = 0, seq_len = 0;
  std::string language;
  int64_t rep = 0;
  double ms = 0.0;
};

class ResultsStore {
 public:
  // Opens or creates `path` (WAL mode, schema created if missing; an existing file with another schema
  // version is an InputError naming the file).
  static std::unique_ptr<ResultsStore> open(const std::filesystem::path& path);
  // Opens a results database that must already exist and hold the stilts schema, read-only (for readers
  // such as `stilts results` and the report: the file is never modified, and a write through this store
  // is an InputError): a missing file, a non-SQLite file or another schema is an InputError naming it.
  static std::unique_ptr<ResultsStore> open_existing(const std::filesystem::path& path);
  // The schema version this build writes and reads (meta key "schema_version").
  static int schema_version();
  virtual ~ResultsStore() = default;
  // Every method is safe to call from several threads (one connection, serialized); every write is one
  // BEGIN IMMEDIATE ... COMMIT transaction, rolled back on error (the old rows stay).

  // Upserts a stage row by hash (first arm kept once set).
  virtual void put_stage(const StageRow& row) = 0;
  // Replaces every results and predictions row of (arm, seed, stage) in the languages of `languages`
  // (every language when empty) with `rows` and `predictions`, in one transaction.
  virtual void replace_results(const std::string& arm, int64_t seed, const std::string& stage,
                               const std::vector<ResultRow>& rows,
                               const std::vector<PredictionRow>& predictions = {},
                               const std::vector<std::string>& languages = {}) = 0;
  // Replaces the chains of (arm, seed) (one per language for per-language chains).
  virtual void replace_arm_stages(const std::string& arm, int64_t seed, const std::vector<ArmStageRow>& rows) = 0;
  // Replaces the curve of stage `hash`.
  virtual void replace_curves(const std::string& hash, const std::vector<CurveRow>& rows) = 0;
  // Replaces every efficiency and latency_samples row of (arm, seed, model).
  virtual void replace_efficiency(const std::string& arm, int64_t seed, const std::string& model,
                                  const std::vector<EfficiencyRow>& rows,
                                  const std::vector<LatencySampleRow>& samples) = 0;
  virtual void set_meta(const std::string& key, const std::string& value) = 0;

  virtual std::vector<ResultRow> results() const = 0;
  virtual std::vector<StageRow> stages() const = 0;
  virtual std::vector<ArmStageRow> arm_stages() const = 0;
  virtual std::vector<CurveRow> curves() const = 0;
  virtual std::vector<PredictionRow> predictions() const = 0;
  virtual std::vector<EfficiencyRow> efficiency() const = 0;
  virtual std::vector<LatencySampleRow> latency_samples() const = 0;
  virtual std::optional<std::string> meta(const std::string& key) const = 0;
  // Every meta row, key -> value.
  virtual std::map<std::string, std::string> all_meta() const = 0;
};

}  // namespace stilts::pipeline
