// Tiny random models written as Hugging Face directories, and the kill-and-resume helper, for tests
// that link torch (stilts_test_torch; the torch-free tests link stilts_test_support only).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace stilts::testing {

struct TinyBert {
  std::vector<std::string> words;  // vocab.txt: [PAD] [UNK] [CLS] [SEP] [MASK], then these
  int64_t hidden_size = 32;
  int64_t num_hidden_layers = 2;
  int64_t num_attention_heads = 2;
  int64_t intermediate_size = 64;
  bool with_head = false;  // BertForSequenceClassification (2 labels) instead of BertModel
};

// A BERT initialised from torch::manual_seed(0), saved to `dir` with a WordPiece vocab.txt
// (max_position_embeddings 64, type_vocab_size 2, pad id 0). Returns `dir`.
std::filesystem::path make_tiny_bert(const std::filesystem::path& dir, const TinyBert& spec);

// The step of the newest complete "last" checkpoint in out/checkpoints, or -1 (none yet, or one being
// renamed while listing).
int64_t latest_last_step(const std::filesystem::path& out);

// Waits until the run in `out` (process `pid`) has a last checkpoint at `step` or later, then SIGKILLs
// it. Returns the step it was killed after, or -1 when the process ended on its own first; a test
// failure after `seconds` without one.
int64_t kill_after_checkpoint(pid_t pid, const std::filesystem::path& out, int64_t step, int seconds = 120);

// In a study's run directory: the step of the last checkpoint of an unfinished stage that continues
// from another stage (a target after the intermediate stage), or -1.
int64_t downstream_checkpoint(const std::filesystem::path& run_dir);
// kill_after_checkpoint for a study: waits for downstream_checkpoint(run_dir) to reach `step`.
int64_t kill_after_downstream_checkpoint(pid_t pid, const std::filesystem::path& run_dir, int64_t step,
                                         int seconds = 120);

}  // namespace stilts::testing
