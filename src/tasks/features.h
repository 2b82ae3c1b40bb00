// Tokenized features of a dataset, their on-disk cache, length-bucketed batching and collation.
//
// Features hold every row unpadded; batches are padded to their own longest row (dynamic
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

class TaskKind;  // kind.h

// A dataset's examples as token rows. A feature is what one model row (multiple choice: one row per
// choice) sees; an example may become several features (tagging: a long sentence split into windows of
// whole words; extractive QA: a long context split into overlapping windows). Which fields a kind fills is
// its own (kind.h); the rest stay empty.
struct Features {
  // Rows with special tokens, unpadded; feature f is rows [f·rows_per_feature, (f+1)·rows_per_feature).
  std::vector<std::vector<int32_t>> input_ids;
  std::vector<std::vector<int8_t>> token_type_ids;  // per row; empty when the family returns none
  int64_t rows_per_feature = 1;                     // multiple choice: the number of choices
  // Per feature: its example's index in the dataset. Retrieval: the queries' features come first, then the
  // candidate pool's, whose entries count on past the queries (candidate c is Q + c for Q queries).
  std::vector<int64_t> example;
  std::vector<int64_t> labels;                      // per feature: class or choice index (-1: no gold)
  std::vector<float> scores;                        // per feature: regression target
  // Per row token, the word it stands for (-1 elsewhere). Tagging: the index of the word whose first
  // sub-token it is (-1 for the other sub-tokens and the specials). Extractive QA: the context word
  // (whitespace-separated) every context token comes from (transformers' token_to_orig_map).
  std::vector<std::vector<int32_t>> word_ids;
  // Tagging, per row token: the word's tag id at its first sub-token (-100, the loss's ignore index,
  // elsewhere and where the data has no tags).
  std::vector<std::vector<int32_t>> token_labels;
  // Extractive QA, per row token: 1 where this window is the context token's best context (of the
  // windows holding it, the one where it has the most context on its shorter side: transformers'
  // token_is_max_context), 0 elsewhere.
  std::vector<std::vector<int8_t>> best_context;
  std::vector<int64_t> end_labels;  // extractive QA, per feature: the answer's last token (labels: its first)
  // Rows are padded to at least this length when collated (extractive QA: max_length, as transformers'
  // SQuAD features are, so that the start and end candidates are the reference's); 0 = dynamic padding.
  int64_t pad_to = 0;
  std::vector<std::string> languages;               // per feature ("" when unknown)
  std::vector<std::string> label_names;             // the label (tag) set, index = id
  int64_t pad_id = 0;
  int64_t pad_type_id = 0;
  bool left_padding = false;
  int64_t truncated = 0;  // examples that lost tokens to max_length (kinds that split into windows: 0)
  // What the kind tells whoever uses the features ("file: N questions ... are not trained on"); the
  // caller logs them (a library unit writes to no stream of its own). Kept in the cache.
  std::vector<std::string> notes;

  size_t size() const { return example.size(); }  // features
  int64_t num_tokens() const;                       // non-pad tokens over all rows
  size_t length(size_t feature) const;              // tokens of the feature's longest row
};

// The features `which` (indices) of `features`, every field copied (the benchmark's per-language subsets).
Features select_features(const Features& features, const std::vector<size_t>& which);
// Appends `more` (features of the same kind and tokenizer) to `into`; its example indices are shifted by
// `example_offset` (the examples of `into`).
void append_features(Features& into, const Features& more, int64_t example_offset);

// kind.featurize with an on-disk cache `<cache_dir>/<key>.features`, the key a SHA-256 over the cache
// format version, the tokenizer (kind and the bytes of its files in `tokenizer_dir`), the data, max_length
// and the task kind. The data is hashed as the examples read (texts, words, choices, labels, scores,
// languages) plus format and label set rather than as the bytes of `dataset.source`: that covers the file
// content and also the read options (columns, language filter) that pick the examples, at the cost of no
// extra file I/O. Written atomically; a corrupt, truncated or foreign entry is recomputed and
// overwritten, never an error. `cache_hit` (optional) is set to whether the features came from the cache.
Features load_or_featurize(const Dataset& dataset, const TaskKind& kind, const text::Tokenizer& tokenizer,
                           const std::filesystem::path& tokenizer_dir, int64_t max_length,
                           const std::filesystem::path& cache_dir, bool* cache_hit = nullptr);

// The cache file load_or_featurize() uses for these inputs (for logs and tests).
std::filesystem::path features_cache_path(const Dataset& dataset, const TaskKind& kind,
                                          const text::Tokenizer& tokenizer,
                                          const std::filesystem::path& tokenizer_dir, int64_t max_length,
                                          const std::filesystem::path& cache_dir);

// Feature indices grouped into batches of up to `batch_size`: features are shuffled with (seed,
// epoch), cut into chunks of 50 × batch_size, each chunk sorted by length and split into batches,
// and the batches shuffled again, so rows in a batch have similar lengths while the order stays
// random. shuffle=false gives length-sorted batches in a fixed order (evaluation).
std::vector<std::vector<size_t>> bucketed_batches(const Features& features, int64_t batch_size, uint64_t seed,
                                                  int64_t epoch, bool shuffle);

}  // namespace stilts::tasks
