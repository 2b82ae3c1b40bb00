// Tokenized features of a dataset, their on-disk cache, length-bucketed batching and collation.
//
// Features hold every example unpadded; batches are padded to their own longest row (dynamic
// padding), never to max_length. The batch order is a pure function of (seed, epoch).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "tasks/datasets/dataset.h"
#include "text/tokenizer.h"

namespace stilts::tasks {

enum class TaskKind { kPairClassification, kClassification, kRegression };
// "pair-classification" | "classification" | "regression" (InputError listing them otherwise).
TaskKind parse_task_kind(const std::string& name);
const char* task_kind_name(TaskKind kind);

struct Features {
  std::vector<std::vector<int32_t>> input_ids;     // per example, with special tokens, unpadded
  std::vector<std::vector<int8_t>> token_type_ids;  // per example; empty when the family returns none
  std::vector<int64_t> labels;                     // classification: class index per example
  std::vector<float> scores;                       // regression: target per example
  std::vector<std::string> languages;              // per example ("" when unknown)
  std::vector<std::string> label_names;            // classification label set (index = label)
  bool regression = false;
  int64_t pad_id = 0;
  int64_t pad_type_id = 0;
  bool left_padding = false;
  int64_t truncated = 0;  // examples that lost tokens to max_length

  size_t size() const { return input_ids.size(); }
  int64_t num_tokens() const;  // non-pad tokens over all examples
};

// Tokenizes `dataset` (pairs as text pairs) with longest_first truncation to `max_length`.
// Errors name the data by `dataset.source` and the example id. A dataset whose kind disagrees with `kind` (regression
// vs classification, single vs pair) is an InputError.
Features featurize(const Dataset& dataset, const text::Tokenizer& tokenizer, int64_t max_length, TaskKind kind);

// featurize() with an on-disk cache `<cache_dir>/<key>.features`, the key a SHA-256 over the cache
// format version, the tokenizer (kind and the bytes of its files in `tokenizer_dir`), the data, max_length
// and kind. The data is hashed as the examples read (texts, labels, scores, languages) plus format and
// label set rather than as the bytes of `dataset.source`: that covers the file content and also the
// read options (columns, language filter) that pick the examples, at the cost of no extra file I/O.
// Written atomically; a corrupt, truncated or foreign entry is recomputed and overwritten, never an error.
// `cache_hit` (optional) is set to whether the features came from the cache.
Features load_or_featurize(const Dataset& dataset, const text::Tokenizer& tokenizer,
                           const std::filesystem::path& tokenizer_dir, int64_t max_length, TaskKind kind,
                           const std::filesystem::path& cache_dir, bool* cache_hit = nullptr);

// The cache file load_or_featurize() uses for these inputs (for logs and tests).
std::filesystem::path features_cache_path(const Dataset& dataset, const text::Tokenizer& tokenizer,
                                          const std::filesystem::path& tokenizer_dir, int64_t max_length,
                                          TaskKind kind, const std::filesystem::path& cache_dir);

// Example indices grouped into batches of up to `batch_size`: examples are shuffled with (seed,
// epoch), cut into chunks of 50 × batch_size, each chunk sorted by length and split into batches,
// and the batches shuffled again, so rows in a batch have similar lengths while the order stays
// random. shuffle=false gives length-sorted batches in a fixed order (evaluation).
std::vector<std::vector<size_t>> bucketed_batches(const Features& features, int64_t batch_size, uint64_t seed,
                                                  int64_t epoch, bool shuffle);

namespace detail {
// Lower-case hex SHA-256 of `bytes` (exposed for its known-answer test).
std::string sha256_hex(std::string_view bytes);
}  // namespace detail

}  // namespace stilts::tasks
