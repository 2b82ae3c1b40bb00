// stilts bench MODEL_DIR [MODEL_DIR ...] [--batch-sizes 1,8,32] [--seq-lens 128] [--threads N]
//              [--mode fp32|bf16|int8] [--data FILE --format F] [--base DIR] [--json|--csv|--md] [--peak]
#include <torch/torch.h>

#include <iostream>
#include <sstream>

#include "bench/machine.h"
#include "bench/measure.h"
#include "bench/params.h"
#include "commands.h"
#include "hub/cache.h"
#include "models/linear_precision.h"
#include "common/error.h"
#include "tasks/datasets/dataset.h"
#include "tasks/features.h"
#include "tasks/kind.h"
#include "train/device.h"
#include "train/evaluate.h"
#include "text/auto.h"

namespace stilts::cli {

namespace fs = std::filesystem;

namespace {

std::vector<int64_t> parse_positive_list(const std::string& flag, const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      const long long v = std::stoll(item, &used);
      if (used != item.size() || v < 1) throw std::invalid_argument(item);
      out.push_back(v);
    } catch (const std::exception&) {
      input_error(flag, ": '", text, "' is not a comma-separated list of positive integers (e.g. 1,8,32)");
    }
  }
  if (out.empty() || text.back() == ',') {
    input_error(flag, ": '", text, "' is not a comma-separated list of positive integers (e.g. 1,8,32)");
  }
  return out;
}

}  // namespace

void add_bench_command(CLI::App& app) {
  struct Args {
    std::vector<std::string> dirs;
    std::string batch_sizes = "1,8,32", seq_lens = "128", mode = "fp32", device = "cpu", data, format = "tsv", base;
    std::string text_a_column = "sentence1", text_b_column, language_column, language;
    int threads = 0, warmup = 1, reps = 5, max_reps = 200;
    int64_t max_length = 128;
    double min_time = 1.0, margin = 0.05;
    bool json = false, csv = false, md = false, peak = false, remeasure_peak = false, no_samples = false;
    bool pooled = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "bench",
      "Inference latency (p50/p90/p99, mean with a 95% interval), throughput, peak memory, parameter counts,\n"
      "FLOPs and load time of one or more model directories, measured in interleaved rounds (A B A B ...),\n"
      "with paired differences and a TOST equivalence test between the first model and each other one.\n"
      "Settings: a grid of batch sizes x sequence lengths of random ids, or (--data) a dataset's own\n"
      "lengths per language with dynamic padding. Threads default to the mode's measured best.");
  auto* dirs = cmd->add_option("model_dirs", args->dirs, "Hugging Face model directories");
  auto* seq_lens =
      cmd->add_option("--seq-lens", args->seq_lens, "comma-separated sequence lengths of the grid (default 128)");
  cmd->add_option("--batch-sizes", args->batch_sizes, "comma-separated batch sizes (default 1,8,32)");
  cmd->add_option("--threads", args->threads,
                  "torch intra-op threads (default: the mode's best here: fp32 1 (OpenBLAS has its own pool), "
                  "bf16 OMP_NUM_THREADS when set, else the idle cores (all with OMP_WAIT_POLICY=passive), int8 1)");
  cmd->add_option("--mode", args->mode, "fp32 | bf16 (autocast) | int8 (dynamic quantization of linear layers)");
  cmd->add_option("--device", args->device,
                  "cpu | cuda | cuda:N: where the models run (default cpu; on CUDA, --mode fp32 only for now)");
  cmd->add_option("--data", args->data, "measure on this dataset's lengths instead of the random-id grid");
  cmd->add_option("--format", args->format, "--data's format (as stilts eval; default tsv)");
  cmd->add_option("--max-length", args->max_length, "--data: tokens per example after truncation (default 128)");
  cmd->add_option("--text-a-column", args->text_a_column, "--data tsv/csv/jsonl: first text column");
  cmd->add_option("--text-b-column", args->text_b_column, "--data tsv/csv/jsonl: second text column (pairs)");
  cmd->add_option("--language-column", args->language_column, "--data tsv/csv/jsonl: language column");
  cmd->add_option("--language", args->language, "--data: language of every example");
  cmd->add_flag("--pooled", args->pooled, "--data: also one setting pooling every language");
  cmd->add_option("--base", args->base, "base checkpoint: count the parameters that differ from it");
  cmd->add_option("--warmup", args->warmup, "untimed repetitions per model and setting (default 1)");
  cmd->add_option("--reps", args->reps, "minimum timed repetitions per model and setting (default 5)");
  cmd->add_option("--min-time", args->min_time, "minimum measured seconds per model and setting (default 1)");
  cmd->add_option("--max-reps", args->max_reps, "maximum repetitions per model and setting (default 200)");
  cmd->add_option("--margin", args->margin, "equivalence margin on the latency ratio (default 0.05: +/-5%)");
  auto* json = cmd->add_flag("--json", args->json, "print the result as JSON (schema stilts-bench/1, README)");
  auto* csv = cmd->add_flag("--csv", args->csv, "print one CSV line per setting and model");
  auto* md = cmd->add_flag("--md", args->md, "print Markdown tables (the default)");
  json->excludes(csv)->excludes(md);
  csv->excludes(md);
  cmd->add_flag("--no-samples", args->no_samples, "--json: leave out the raw per-repetition samples");
  cmd->add_flag("--peak", args->peak,
                "this machine's matmul peak FLOP/s (fp32 and bf16), measured once and cached in "
                "$XDG_CACHE_HOME/stilts/peak.json");
  cmd->add_flag("--remeasure-peak", args->remeasure_peak, "with --peak: measure again, replacing the cache");
  cmd->callback([args, dirs, seq_lens] {
    if (args->dirs.empty() && !args->peak) {
      throw CLI::ValidationError("bench", "give at least one MODEL_DIR (or --peak)");
    }
    for (auto& dir : args->dirs) dir = hub::resolve_model(dir).dir.string();  // directories or hub ids
    (void)dirs;
    // Validate every option before loading anything.
    const bench::Mode mode = bench::parse_mode(args->mode);
    const auto batch_sizes = parse_positive_list("--batch-sizes", args->batch_sizes);
    const bool data = !args->data.empty();
    const bool grid = !data || seq_lens->count() > 0;
    const auto lengths = grid ? parse_positive_list("--seq-lens", args->seq_lens) : std::vector<int64_t>{};
    if (args->threads < 0) input_error("--threads must be >= 1 (or 0: the mode's default), got ", args->threads);
    if (data && args->max_length < 2) input_error("--max-length must be >= 2, got ", args->max_length);
    bench::MeasureOptions options;
    options.mode = mode;
    options.threads = args->threads;
    options.warmup = args->warmup;
    options.min_reps = args->reps;
    options.min_seconds = args->min_time;
    options.max_reps = std::max(args->max_reps, args->reps);
    options.equivalence_margin = args->margin;
    options.device = train::parse_device(args->device, "--device");
    options.validate();
    if (mode == bench::Mode::kInt8 && !models::int8_engine()) {
      input_error("--mode int8: this libtorch build has no quantized engine (no fbgemm, onednn or qnnpack), so "
                  "dynamic int8 quantization is unavailable here; use fp32 or bf16");
    }

    nlohmann::ordered_json peak;
    if (args->peak) {
      const auto p = bench::peak_flops(args->remeasure_peak);
      peak = bench::to_json(p);
      if (args->dirs.empty()) {
        if (args->json) {
          std::cout << peak.dump(2) << "\n";
        } else {
          std::cout << "matmul peak (" << p.size << "^3, best repetition" << (p.from_cache ? ", cached" : "")
                    << "; " << bench::default_peak_cache_path().string() << "): fp32 " << p.fp32 / 1e9
                    << " GFLOP/s (" << p.threads_fp32 << " torch thread(s)), bf16 " << p.bf16 / 1e9
                    << " GFLOP/s (" << p.threads_bf16 << " torch thread(s))\n";
        }
        return;
      }
    }

    std::vector<bench::BenchModel> models;
    std::vector<double> flop_lengths(lengths.begin(), lengths.end());
    for (const auto& dir : args->dirs) {
      if (!fs::is_directory(dir)) input_error(dir, ": no such model directory");
      models.push_back(bench::load_bench_model(dir));
    }
    if (!args->base.empty() && !fs::is_directory(args->base)) input_error(args->base, ": no such base directory");

    for (auto& m : models) {
      for (const int64_t b : batch_sizes) {
        for (const int64_t t : lengths) m.workloads.push_back(bench::grid_workload(*m.model, b, t, /*seed=*/b * 1000 + t));
      }
    }
    if (data) {
      tasks::ReadOptions read;
      read.text_a_column = args->text_a_column;
      read.text_b_column = args->text_b_column;
      read.language_column = args->language_column;
      read.language = args->language;
      const tasks::Dataset dataset = tasks::read_dataset(args->data, args->format, read);
      const tasks::TaskKind& kind = tasks::kind_for_data(dataset);
      for (size_t k = 0; k < models.size(); ++k) {
        const auto tokenizer = text::load_tokenizer(args->dirs[k]);
        const int64_t max_length = train::effective_max_length(*models[k].model, args->max_length, &std::cerr);
        const tasks::Features features = kind.featurize(dataset, *tokenizer, max_length);
        for (const auto& note : features.notes) std::cerr << "note: " << note << "\n";
        for (const int64_t b : batch_sizes) {
          for (auto& w : bench::data_workloads(kind, features, b, args->pooled)) {
            if (b == batch_sizes.front()) flop_lengths.push_back(w.tokens_per_example);
            models[k].workloads.push_back(std::move(w));
          }
        }
      }
    }
    std::cerr << "stilts bench: " << models.front().workloads.size() << " setting(s) x " << models.size()
              << " model(s), mode " << bench::mode_name(mode) << "\n";
    // Parameter reports first: a wrong --base fails before minutes of measuring.
    nlohmann::ordered_json models_json = nlohmann::ordered_json::array();
    for (size_t k = 0; k < models.size(); ++k) {
      models_json.push_back(bench::model_json(models[k], args->dirs[k], args->base, flop_lengths));
    }
    const bench::BenchResult result = bench::measure(models, options);
    if (args->json) {
      auto j = bench::to_json(result, models_json, !args->no_samples);
      if (!peak.is_null()) j["peak_flops"] = peak;
      std::cout << j.dump(2) << "\n";
    } else if (args->csv) {
      std::cout << bench::to_csv(result);
    } else {
      std::cout << bench::to_markdown(result, models_json);
      if (!peak.is_null()) {
        std::cout << "\nmatmul peak: fp32 " << peak["fp32"].get<double>() / 1e9 << " GFLOP/s, bf16 "
                  << peak["bf16"].get<double>() / 1e9 << " GFLOP/s\n";
      }
    }
  });
}

}  // namespace stilts::cli
