// Masked-language-model (pre)training: a tiny encoder from scratch, or continued (domain-adaptive)
// pretraining of a model directory on the user's own text. Same configuration, run directory,
// checkpoints and resume guarantees as the fine-tuning trainer (train/trainer.h), with task = "mlm"
// and format = "text".
//
// Corpus: UTF-8 text files, one example a line, blank lines skipped (a directory: its *.txt files in
// name order); tokenized with the model directory's tokenizer (single-sequence template) and
// truncated to max_length; dynamic padding.
//
// Masking (transformers' DataCollatorForLanguageModeling): every non-special, non-padding token is
// selected with probability mlm_probability; of the selected, 80% become the mask token, 10% a random
// token, 10% stay; labels are the original ids at selected positions and -100 elsewhere. One
// deliberate difference: random replacements are drawn from the non-special ids only (transformers
// draws from the whole vocabulary, so a random [PAD] or <s> can appear mid-sentence).
// The masks are a pure function of (seed, epoch, example index), not of any generator state, so a
// resumed run masks exactly as an uninterrupted one. Dev sets use fixed masks (seed 0, independent of
// the run's seed, so dev losses of runs with different seeds are over the same masks).
//
// The run directory (config.out): config.resolved.json; checkpoints/last-<step>/; metrics.json with
// evaluations [{step, epoch, lr, train_loss, dev: {file: {loss, perplexity, masked_tokens}},
// dev_loss, dev_perplexity}], "cost": {examples, tokens, wall_s, cpu_s} (summed over resumed
// segments; wall and CPU seconds of work after the last checkpoint of a killed segment are lost) and
// "finished": true written last; the final (last) model in Hugging Face layout (config.json with
// architectures [*ForMaskedLM], model.safetensors, the tokenizer files) at the top.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "train/trainer.h"

namespace stilts::text {
class Tokenizer;
}

namespace stilts::train {

// What the masking needs to know about a vocabulary.
struct MaskingSpec {
  double mlm_probability = 0.15;
  int64_t mask_token_id = -1;
  std::vector<bool> is_special;        // by id: never selected (template tokens, pad, mask, unk, ...)
  std::vector<int32_t> random_tokens;  // the ids a "random" replacement is drawn from
};

// The spec for a tokenizer: specials are its template tokens, its pad id and whichever of [CLS] [SEP]
// [PAD] [MASK] [UNK] <s> </s> <pad> <mask> <unk> it has; the mask token is [MASK] or <mask>.
// Ids at or above `model_vocab_size` are never drawn. InputError naming `source` when the tokenizer has
// no mask token.
MaskingSpec masking_spec(const text::Tokenizer& tokenizer, int64_t model_vocab_size, double mlm_probability,
                         const std::string& source);

struct MaskedExample {
  std::vector<int64_t> input_ids;  // with mask / random / kept tokens at the selected positions
  std::vector<int64_t> labels;     // original id where selected, -100 elsewhere
};

// The masking of one example: a pure function of its ids, the spec and (seed, epoch, example).
MaskedExample mask_example(const std::vector<int32_t>& ids, const MaskingSpec& spec, uint64_t seed, int64_t epoch,
                           uint64_t example);

// A text corpus tokenized: ids per example (special tokens included, unpadded).
struct TextCorpus {
  std::vector<std::vector<int32_t>> input_ids;
  int64_t truncated = 0;  // examples that lost tokens to max_length
  int64_t tokens() const;
};

// Reads `path` (a file, or a directory of *.txt files) one example a line. InputError naming the file
// (and line) for a missing or unreadable file, invalid UTF-8, or no non-blank line at all.
TextCorpus read_text_corpus(const std::filesystem::path& path, const text::Tokenizer& tokenizer, int64_t max_length);

// Runs (or resumes) masked-LM training as `config` describes (config.task must be "mlm"). Errors as
// run_training's.
TrainOutcome run_mlm_training(const TrainConfig& config, const TrainOptions& options = {});

}  // namespace stilts::train
