// Masked-LM training. Letters: B batch rows, T the batch's longest row, M masked positions.
#include "train/mlm.h"

#include "hub/cache.h"
#include "train/loop.h"


#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <sstream>

#include "common/error.h"
#include "common/files.h"
#include "common/threads.h"
#include "models/mlm.h"
#include "models/pretrained.h"
#include "tasks/features.h"
#include "text/auto.h"
#include "text/tokenizer.h"
#include "text/unicode.h"
#include "train/checkpoint.h"
#include "train/device.h"
#include "train/distributed.h"
#include "train/cost.h"
#include "train/evaluate.h"
#include "train/optimizer.h"
#include "train/progress.h"
#include "train/run_dir.h"
#include "train/schedule.h"

namespace stilts::train {

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kDevSeed = 0;
constexpr int64_t kDevEpoch = 0;

// splitmix64: a counter-based stream, so a mask depends only on (seed, epoch, example, position).
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

class Stream {
 public:
  explicit Stream(uint64_t key) : state_(key) {}
  uint64_t next() { return mix(state_++); }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)

 private:
  uint64_t state_;
};

std::string format_number(double v) {
  std::ostringstream s;
  s.precision(4);
  s << std::fixed << v;
  return s.str();
}

struct MlmBatch {
  models::Inputs inputs;  // [B, T] each
  torch::Tensor labels;   // [B, T] int64, -100 where not selected
  int64_t real_tokens = 0;
};

MlmBatch collate_mlm(const TextCorpus& corpus, const std::vector<size_t>& rows, const MaskingSpec& spec,
                     uint64_t seed, int64_t epoch, int64_t pad_id, torch::Device device) {
  size_t longest = 0;
  for (size_t r : rows) longest = std::max(longest, corpus.input_ids[r].size());
  const auto B = static_cast<int64_t>(rows.size());
  const auto T = static_cast<int64_t>(longest);
  MlmBatch batch;
  torch::Tensor ids = torch::full({B, T}, pad_id, torch::kLong);    // [B, T]
  torch::Tensor mask = torch::zeros({B, T}, torch::kLong);          // [B, T]
  torch::Tensor labels = torch::full({B, T}, -100, torch::kLong);  // [B, T]
  int64_t* ids_p = ids.data_ptr<int64_t>();
  int64_t* mask_p = mask.data_ptr<int64_t>();
  int64_t* labels_p = labels.data_ptr<int64_t>();
  for (int64_t b = 0; b < B; ++b) {
    const size_t row = rows[static_cast<size_t>(b)];
    const MaskedExample m = mask_example(corpus.input_ids[row], spec, seed, epoch, row);
    const auto n = static_cast<int64_t>(m.input_ids.size());
    std::copy(m.input_ids.begin(), m.input_ids.end(), ids_p + b * T);
    std::copy(m.labels.begin(), m.labels.end(), labels_p + b * T);
    std::fill(mask_p + b * T, mask_p + b * T + n, 1);
    batch.real_tokens += n;
  }
  batch.inputs.input_ids = ids.to(device);
  batch.inputs.attention_mask = mask.to(device);
  batch.labels = labels.to(device);
  return batch;
}

std::vector<fs::path> corpus_files(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return {path};
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(path)) {
    if (entry.is_regular_file() && entry.path().extension() == ".txt") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) input_error(path.string(), ": a directory without .txt files (the corpus is one example a line)");
  return files;
}

}  // namespace

// ---- masking ----

MaskingSpec masking_spec(const text::Tokenizer& tokenizer, int64_t model_vocab_size, double mlm_probability,
                         const std::string& source) {
  MaskingSpec spec;
  spec.mlm_probability = mlm_probability;
  const int64_t V = std::min(model_vocab_size, tokenizer.vocab_size());
  spec.is_special.assign(static_cast<size_t>(std::max(model_vocab_size, tokenizer.vocab_size())), false);
  auto mark = [&](int64_t id) {
    if (id >= 0 && id < static_cast<int64_t>(spec.is_special.size())) spec.is_special[static_cast<size_t>(id)] = true;
  };
  const text::Template& t = tokenizer.special_template();
  for (const auto* pieces : {&t.single_before, &t.single_after, &t.pair_before, &t.pair_between, &t.pair_after}) {
    for (const auto& piece : *pieces) mark(piece.id);
  }
  mark(t.pad_id);
  for (const int64_t id : tokenizer.special_ids()) mark(id);
  spec.mask_token_id = tokenizer.mask_id().value_or(-1);
  if (spec.mask_token_id < 0) {
    input_error(source, ": the tokenizer has no mask token (mask_token); masked-LM training needs one");
  }
  if (spec.mask_token_id >= model_vocab_size) {
    input_error(source, ": the mask token id ", spec.mask_token_id, " is outside the model's vocabulary (",
                model_vocab_size, ")");
  }
  for (int64_t id = 0; id < V; ++id) {
    if (!spec.is_special[static_cast<size_t>(id)]) spec.random_tokens.push_back(static_cast<int32_t>(id));
  }
  if (spec.random_tokens.empty()) input_error(source, ": the vocabulary holds only special tokens");
  return spec;
}

MaskedExample mask_example(const std::vector<int32_t>& ids, const MaskingSpec& spec, uint64_t seed, int64_t epoch,
                           uint64_t example) {
  MaskedExample out;
  out.input_ids.assign(ids.begin(), ids.end());
  out.labels.assign(ids.size(), -100);
  Stream rng(mix(mix(mix(seed) ^ static_cast<uint64_t>(epoch)) ^ example));
  for (size_t i = 0; i < ids.size(); ++i) {
    // Three draws per position whether used or not: position i's outcome does not depend on the others.
    const double select = rng.uniform(), how = rng.uniform();
    const uint64_t pick = rng.next();
    const auto id = static_cast<size_t>(ids[i]);
    if (id < spec.is_special.size() && spec.is_special[id]) continue;
    if (select >= spec.mlm_probability) continue;
    out.labels[i] = ids[i];
    if (how < 0.8) {
      out.input_ids[i] = spec.mask_token_id;
    } else if (how < 0.9) {
      out.input_ids[i] = spec.random_tokens[pick % spec.random_tokens.size()];
    }  // else: kept
  }
  return out;
}

// ---- the corpus ----

int64_t TextCorpus::tokens() const {
  int64_t n = 0;
  for (const auto& ids : input_ids) n += static_cast<int64_t>(ids.size());
  return n;
}

TextCorpus read_text_corpus(const fs::path& path, const text::Tokenizer& tokenizer, int64_t max_length) {
  TextCorpus corpus;
  text::EncodeOptions options;
  options.add_special_tokens = true;
  options.max_length = max_length;
  options.truncation = text::Truncation::kLongestFirst;
  const int64_t specials = tokenizer.special_template().num_special_tokens(/*pair=*/false);
  for (const fs::path& file : corpus_files(path)) {
    const std::string bytes = read_file(file);
    size_t start = 0;
    int64_t line_number = 0;
    const size_t before = corpus.input_ids.size();
    while (start < bytes.size()) {
      size_t end = bytes.find('\n', start);
      if (end == std::string::npos) end = bytes.size();
      std::string_view line(bytes.data() + start, end - start);
      start = end + 1;
      ++line_number;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.find_first_not_of(" \t\f\v") == std::string_view::npos) continue;
      const std::string where = file.string() + ":" + std::to_string(line_number);
      if (!text::is_valid_utf8(line)) input_error(where, ": not valid UTF-8 (the corpus must be UTF-8 text)");
      std::vector<int64_t> pieces = tokenizer.tokenize(line, where);
      if (static_cast<int64_t>(pieces.size()) + specials > max_length) ++corpus.truncated;
      const text::Encoding e = tokenizer.build(std::move(pieces), std::nullopt, options);
      corpus.input_ids.emplace_back(e.input_ids.begin(), e.input_ids.end());
    }
    if (corpus.input_ids.size() == before) {
      input_error(file.string(), bytes.empty() ? ": empty file" : ": only blank lines",
                  " (the corpus is one example a line)");
    }
  }
  return corpus;
}

// ---- training ----

TrainOutcome run_mlm_training(const TrainConfig& config_in, const TrainOptions& options) {
  std::ostream& log = *options.log;
  TrainConfig config = config_in;
  if (config.task != "mlm") input_error("config: task '", config.task, "' is not mlm");
  config.validate();
  config.model = hub::resolve_model(config.model).dir.string();  // a directory, or a hub id's cached snapshot
  config = with_absolute_paths(std::move(config));

  // ---- the output directory: a fresh one, the run to resume, or a finished one ----
  // Data-parallel (options.group): rank 0 alone opens and writes it, as for stilts train.
  const bool writes = options.group == nullptr || options.group->rank() == 0;
  const RunDirectory run =
      open_run_directory(config, options, "another stilts run is training in this directory");
  if (run.finished) return finished_outcome(run);
  TrainOutcome outcome;
  outcome.out = run.out;
  const fs::path& out = run.out;

  const Precision precision = parse_precision(config.precision);
  const torch::Device device = parse_device(config.device, "config: 'device' (--device)", options.group.get());
  at::set_num_threads(static_cast<int>(config.threads > 0 ? config.threads : default_threads(precision)));

  // ---- model (seeded: from-scratch weights and a new LM head come from the seed) ----
  torch::manual_seed(config.seed);
  models::LoadedMaskedLM loaded = models::load_masked_lm(config.model, models::parse_masked_lm_init(config.init));
  models::MaskedLMModel& model = *loaded.model;
  model.to(device);  // before the optimizer is built
  model.train();

  // ---- data ----
  const auto tokenizer = text::load_tokenizer(config.model);
  const int64_t max_length = effective_max_length(model, config.max_length, &log);
  const MaskingSpec spec = masking_spec(*tokenizer, model.vocab_size(), config.mlm_probability, config.model);
  const TextCorpus train_corpus = read_text_corpus(config.train, *tokenizer, max_length);
  std::vector<TextCorpus> dev_corpora;
  for (const auto& path : config.dev) dev_corpora.push_back(read_text_corpus(path, *tokenizer, max_length));
  const int64_t pad_id = model.pad_token_id();

  tasks::Features order_features;  // lengths only: the batch order (bucketed_batches) looks at nothing else
  order_features.input_ids = train_corpus.input_ids;
  order_features.example.resize(train_corpus.input_ids.size());

  const auto optimizer = make_optimizer(model, config);

  // ---- the objective on the one training loop ----
  Objective objective;
  objective.state_kind = "mlm";
  objective.batches = [&](int64_t epoch) {
    return tasks::bucketed_batches(order_features, config.batch_size, config.seed, epoch, /*shuffle=*/true);
  };
  objective.loss = [&](const std::vector<size_t>& rows, int64_t epoch, tasks::RankRows*) {
    // The masks are a function of (seed, epoch, example): a rank's shard masks its rows as one process
    // would. The loss averages over the masked tokens, so ranks weigh their shards by that count.
    const MlmBatch batch = collate_mlm(train_corpus, rows, spec, config.seed, epoch, pad_id, device);
    int64_t masked = 0;
    MicroBatch micro{model.masked_lm_loss(batch.inputs, batch.labels, &masked), static_cast<int64_t>(rows.size()),
                     batch.inputs.input_ids.size(1), batch.real_tokens};
    micro.weight = static_cast<double>(masked);
    return micro;
  };
  objective.evaluate = [&](nlohmann::json& entry) {
    if (dev_corpora.empty()) return;
    nlohmann::json dev = nlohmann::json::object();
    double loss_sum = 0;
    model.eval();
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < dev_corpora.size(); ++i) {
      tasks::Features lengths;
      lengths.input_ids = dev_corpora[i].input_ids;
      lengths.example.resize(lengths.input_ids.size());
      double sum = 0;
      int64_t count = 0;
      for (const auto& rows : tasks::bucketed_batches(lengths, config.eval_batch_size, 0, 0, /*shuffle=*/false)) {
        const MlmBatch batch = collate_mlm(dev_corpora[i], rows, spec, kDevSeed, kDevEpoch, pad_id, device);
        int64_t n = 0;
        AutocastScope autocast(precision, device);
        const double loss = model.masked_lm_loss(batch.inputs, batch.labels, &n).item<double>();
        sum += loss * static_cast<double>(n);
        count += n;
      }
      const double loss = count > 0 ? sum / static_cast<double>(count) : std::numeric_limits<double>::quiet_NaN();
      dev[config.dev[i]] = {{"loss", count > 0 ? nlohmann::json(loss) : nlohmann::json()},
                            {"perplexity", count > 0 ? nlohmann::json(std::exp(loss)) : nlohmann::json()},
                            {"masked_tokens", count}};
      loss_sum += loss;
    }
    model.train();
    const double mean = loss_sum / static_cast<double>(dev_corpora.size());
    entry["dev"] = dev;
    entry["dev_loss"] = std::isfinite(mean) ? nlohmann::json(mean) : nlohmann::json();
    entry["dev_perplexity"] = std::isfinite(mean) ? nlohmann::json(std::exp(mean)) : nlohmann::json();
  };
  objective.describe = [](const nlohmann::json& entry, const LoopState&) {
    std::string line;
    if (!entry["train_loss"].is_null()) line += " train loss " + format_number(entry["train_loss"].get<double>());
    if (entry.contains("dev_loss") && !entry["dev_loss"].is_null()) {
      line += ", dev loss " + format_number(entry["dev_loss"].get<double>()) + ", perplexity " +
              format_number(entry["dev_perplexity"].get<double>());
    }
    return line;
  };
  int64_t total_steps = 0;
  objective.write_metrics = [&](const LoopState& state, bool finished, const nlohmann::json& extra) {
    nlohmann::json m = {{"task", "mlm"},
                        {"init", loaded.origin},
                        {"steps", state.step},
                        {"total_steps", total_steps},
                        {"evaluations", state.history},
                        {"cost", state.cost.to_json()},
                        {"finished", finished}};
    for (const auto& [k, v] : extra.items()) m[k] = v;
    write_file_atomic(run.metrics, m.dump(2) + "\n");
    return m;
  };
  TrainingLoop loop(config, options, run, model, *optimizer, std::move(objective));
  total_steps = loop.total_steps();

  log << "mlm: model " << loaded.describe() << "\n";
  log << "train: " << train_corpus.input_ids.size() << " lines, " << train_corpus.tokens() << " tokens from "
      << config.train << " (" << loop.batches_per_epoch() << " batches of " << config.batch_size << " per epoch), "
      << total_steps << " steps, warm-up " << loop.warmup_steps() << "; masking " << config.mlm_probability
      << " (mask id " << spec.mask_token_id << "); " << config.precision << ", " << at::get_num_threads()
      << " thread(s)\n";
  if (train_corpus.truncated > 0) {
    log << "note: " << train_corpus.truncated << " training lines truncated to " << max_length << " tokens\n";
  }
  loop.run();
  const LoopState& state = loop.state();
  if (!writes) {  // rank 0 writes the final model and metrics
    outcome.steps = state.step;
    return outcome;
  }

  // ---- the final model ----
  models::save_pretrained(model, out);
  models::copy_tokenizer_files(config.model, out);
  nlohmann::json extra = {{"saved_model", "last"}, {"saved_step", state.step}};
  if (!state.history.empty()) extra["final"] = state.history.back();
  outcome.metrics = loop.finish(extra);
  outcome.steps = state.step;
  log << "done: " << state.step << " steps (" << state.cost.examples << " examples, " << state.cost.tokens
      << " tokens, " << format_number(state.cost.wall_s) << " s); model in " << out.string() << "\n";
  return outcome;
}

}  // namespace stilts::train
