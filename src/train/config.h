// The configuration of one fine-tuning run: typed, with its defaults in the struct, layered
// defaults < config file (TOML or JSON) < command-line options / `--set key=value`, and written back
// resolved into the run directory (config.resolved.json).
//
// Keys are the field names below, flat (no tables). Unknown keys are errors.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace stilts::tasks {
struct KindSettings;
}

namespace stilts::train {

struct TrainConfig {
  // ---- what to train on ----
  std::string model;             // Hugging Face model directory (weights, config.json, tokenizer files)
  std::string task = "pair-classification";  // pair-classification | classification | regression | mlm
  std::string train;             // training data file (a directory for imdb)
  std::vector<std::string> dev;  // dev data files; metrics are reported per file (and per language)
  std::string format = "tsv";    // see tasks::dataset_formats(); "text" (one example a line) for mlm
  std::string out;               // run directory

  // Data reading for the generic formats (tsv, csv, jsonl); see tasks::ReadOptions.
  std::string text_a_column = "sentence1";
  std::string text_b_column;  // "" = "sentence2" for pair-classification, none otherwise
  std::string label_column = "label";
  std::string id_column;
  std::string language_column;
  std::string language;       // overrides the language a reader infers
  bool header = true;
  std::vector<std::string> label_names;  // classification label set in id order ("" = from the train file)

  // ---- model ----
  // auto: reuse the checkpoint's head when its label space matches the task, else a new head.
  std::string head = "auto";  // auto | reinit | reuse
  int64_t max_length = 128;

  // ---- extractive QA (task extractive-qa): windows and answer spans, as tasks::KindSettings ----
  int64_t doc_stride = 128;        // context tokens between the starts of consecutive windows
  int64_t max_query_length = 64;   // question tokens kept
  int64_t max_answer_length = 30;  // the longest answer, in tokens
  int64_t n_best = 20;             // start and end candidates per window
  // ---- sentence retrieval (task sentence-retrieval): the hidden state mean-pooled, as tasks::KindSettings ----
  int64_t layer = -1;  // transformers' hidden_states index (0 = embeddings); -1 = the last layer

  // ---- masked-language-model pretraining (task = "mlm", train/mlm.h) ----
  double mlm_probability = 0.15;  // share of (non-special) tokens selected; of those 80% [MASK], 10% random, 10% kept
  // auto: the directory's weights when it has some (with the LM head, or a fresh one on an encoder-only
  // checkpoint), else from scratch; pretrained: its weights are required; scratch: config.json only,
  // initialised from the seed.
  std::string init = "auto";  // auto | pretrained | scratch

  // ---- optimisation (Hugging Face Trainer defaults where it has one) ----
  int64_t epochs = 3;
  int64_t max_steps = 0;  // > 0: stop after this many optimizer steps (overrides epochs)
  int64_t batch_size = 32;
  int64_t grad_accum_steps = 1;
  double lr = 2e-5;
  double weight_decay = 0.01;  // decoupled (AdamW); never on biases and LayerNorm weights
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_epsilon = 1e-8;
  std::string lr_schedule = "linear";  // linear | cosine | constant (after warm-up)
  double warmup_ratio = 0.0;           // of the total steps, used when warmup_steps is 0
  int64_t warmup_steps = 0;
  double max_grad_norm = 1.0;  // 0 = no clipping
  uint64_t seed = 42;
  // fp32 | bf16 (autocast on CPU or CUDA) | fp16 (CUDA autocast with dynamic loss scaling; not on CPU)
  std::string precision = "fp32";
  std::string device = "cpu";      // cpu | cuda | cuda:N: where the model, batches and optimizer state live
  int64_t threads = 0;             // torch intra-op threads; 0 = stilts::default_threads (common/threads.h)

  // ---- evaluation, checkpoints ----
  int64_t eval_every = 0;        // optimizer steps between dev evaluations; 0 = at the end of every epoch
  int64_t eval_batch_size = 64;
  int64_t checkpoint_every = 0;  // optimizer steps between checkpoints; 0 = at every evaluation
  int64_t early_stopping_patience = 0;  // evaluations without improvement before stopping; 0 = never
  std::string metric_for_best;   // "" = accuracy (classification) / pearson (regression)
  std::string final_model = "best";  // best (on dev) | last: the weights written to the run directory
  int64_t log_every = 50;        // optimizer steps between log lines when stderr is not a terminal
  std::string cache_dir;         // tokenized-feature cache; "" = $STILTS_CACHE_DIR, else ~/.cache/stilts

  // Throws InputError naming the key and what is allowed.
  void validate() const;

  nlohmann::json to_json() const;
  // Sets each key of `j` (an object); unknown keys and wrong types are InputErrors naming `source`
  // and the key. Relative paths in `j` are taken relative to `base_dir` when it is not empty.
  void apply_json(const nlohmann::json& j, const std::string& source, const std::filesystem::path& base_dir = {});
  // `key=value` with value parsed as JSON when it parses (numbers, true/false, arrays), else a string.
  void apply_setting(const std::string& assignment);

  std::string resolved_metric_for_best() const;
  tasks::KindSettings kind_settings() const;
  std::string resolved_text_b_column() const;
  std::filesystem::path resolved_cache_dir() const;
};

// All keys a config file may hold.
std::vector<std::string> config_keys();

// Reads a .toml or .json config file into `config` (over what it holds).
void load_config_file(const std::filesystem::path& path, TrainConfig& config);

// TOML text -> JSON (tables as objects, arrays as arrays). InputError naming `source` and the line on
// a syntax error.
nlohmann::json parse_toml(const std::string& text, const std::string& source);

}  // namespace stilts::train
