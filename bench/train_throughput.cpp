// Fine-tuning throughput (non-pad tokens/s) of a BERT-base-shaped BertForSequenceClassification on the
// sequence lengths of the real PAWS-X dev data, the stilts side of the PyTorch comparison
// (bench/pytorch_train.py runs the same steps; bench/train_run.sh runs both, interleaved, and prints
// the table).
//
//   train_throughput --model-dir DIR --pawsx ROOT --tokenizer DIR [--langs en,de,es,fr,ja,ko,zh]
//                    [--split dev_2k] [--batch 16] [--max-length 128] [--warmup 1] [--steps 4]
//                    [--modes padded,dynamic] [--precision fp32] [--threads 1] [--seed 0] [--cache DIR]
//                    [--write-batches FILE] [--no-bench | --serve]
//
// Data: ROOT/<lang>/<split>.tsv read with stilts' PAWS-X reader and tokenized as pairs with the
// tokenizer in DIR (longest_first truncation to --max-length), through the features cache as `stilts
// train` does. The ids are the tokenizer's real ids: its vocabulary is smaller than BERT-base's 30522,
// so they are valid embedding rows (ids do not change the speed; the lengths do).
// Batches: epoch 0 of tasks::bucketed_batches (stilts' length bucketing, seed --seed). The timed
// batches are `steps` full batches picked at evenly spaced quantiles of the epoch's padded batch
// length, so a few steps stand for the whole epoch; the warm-up batches are the shortest other full
// batches. Mode `dynamic` runs them as collate() makes them (padded to the batch's longest row), mode
// `padded` pads the same batches to --max-length.
// A step is what stilts train's loop does (train/trainer.cpp): zero_grad, collate, forward in train
// mode (dropout on), cross-entropy, backward, clip_grad_norm_ 1.0, learning rate, AdamW step (Hugging
// Face's two weight-decay groups, train::make_adamw). --precision bf16 runs the forward and the loss
// under train::AutocastScope, as stilts train --precision bf16 does (the backward outside it).
// Output: one JSON line per mode; with --no-bench, one describing the data instead (length
// distribution, epoch and sample padding, and the eval-mode loss of the first timed batch as a check);
// with --serve, steps on request: one line "<mode> <warmup|timed> <k>" on stdin, one JSON line back
// (bench/train_run.sh interleaves this process and pytorch_train.py --serve step by step).
// --write-batches FILE writes every mode's batches (input_ids, attention_mask, token_type_ids, labels)
// as safetensors for the Python side. DIR without model.safetensors: the model is built (seeded init)
// and saved there.
//
// Letters: B batch, T tokens (the batch's padded length), C classes.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/memory.h"
#include "io/safetensors.h"
#include "models/pretrained.h"
#include "models/registry.h"
#include "tasks/batch.h"
#include "tasks/datasets/dataset.h"
#include "tasks/features.h"
#include "tasks/kind.h"
#include "text/auto.h"
#include "train/evaluate.h"
#include "train/optimizer.h"
#include "train/schedule.h"

#include "bench_common.h"

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;
using stilts::models::EncoderModel;
using stilts_bench::environment;
using stilts_bench::quantile;
using stilts_bench::round3;

namespace {

struct Args {
  fs::path model_dir, pawsx, tokenizer, cache, write_batches;
  std::vector<std::string> langs = {"en", "de", "es", "fr", "ja", "ko", "zh"};
  std::string split = "dev_2k";
  int64_t batch = 16;
  int64_t max_length = 128;
  int64_t warmup = 1;
  int64_t steps = 4;
  std::vector<std::string> modes = {"padded", "dynamic"};
  std::string precision = "fp32";  // fp32 | bf16
  int threads = 1;  // stilts train's fp32 default (stilts::default_threads)
  int64_t seed = 0;
  bool bench = true;
  bool serve = false;
};

[[noreturn]] void usage(const std::string& error) {
  std::cerr << "train_throughput: " << error << "\n"
            << "usage: train_throughput --model-dir DIR --pawsx ROOT --tokenizer DIR [--langs en,de,...]\n"
            << "                        [--split dev_2k] [--batch 16] [--max-length 128] [--warmup 1] [--steps 4]\n"
            << "                        [--modes padded,dynamic] [--precision fp32|bf16] [--threads 1] [--seed 0]\n"
            << "                        [--cache DIR]\n"
            << "                        [--write-batches FILE] [--no-bench | --serve]\n";
  std::exit(2);
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

int64_t parse_int(const std::string& flag, const std::string& text) {
  try {
    size_t used = 0;
    const long long v = std::stoll(text, &used);
    if (used != text.size() || v < 0) throw std::invalid_argument(text);
    return v;
  } catch (const std::exception&) {
    usage(flag + ": '" + text + "' is not a non-negative integer");
  }
}

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(flag + " needs a value");
      return argv[++i];
    };
    if (flag == "--model-dir") a.model_dir = value();
    else if (flag == "--pawsx") a.pawsx = value();
    else if (flag == "--tokenizer") a.tokenizer = value();
    else if (flag == "--cache") a.cache = value();
    else if (flag == "--write-batches") a.write_batches = value();
    else if (flag == "--langs") a.langs = split_list(value());
    else if (flag == "--split") a.split = value();
    else if (flag == "--batch") a.batch = parse_int(flag, value());
    else if (flag == "--max-length") a.max_length = parse_int(flag, value());
    else if (flag == "--warmup") a.warmup = parse_int(flag, value());
    else if (flag == "--steps") a.steps = parse_int(flag, value());
    else if (flag == "--modes") a.modes = split_list(value());
    else if (flag == "--precision") a.precision = value();
    else if (flag == "--threads") a.threads = static_cast<int>(parse_int(flag, value()));
    else if (flag == "--seed") a.seed = parse_int(flag, value());
    else if (flag == "--no-bench") a.bench = false;
    else if (flag == "--serve") a.serve = true;
    else if (flag == "--help" || flag == "-h") usage("help");
    else usage("unknown option " + flag);
  }
  if (a.model_dir.empty() || a.pawsx.empty() || a.tokenizer.empty()) {
    usage("--model-dir, --pawsx and --tokenizer are required");
  }
  if (a.langs.empty()) usage("--langs: empty list");
  if (a.batch < 1 || a.steps < 1 || a.max_length < 4) usage("--batch and --steps must be >= 1, --max-length >= 4");
  for (const auto& m : a.modes) {
    if (m != "padded" && m != "dynamic") usage("--modes: '" + m + "' is neither padded nor dynamic");
  }
  if (a.precision != "fp32" && a.precision != "bf16") usage("--precision: '" + a.precision + "' is neither fp32 nor bf16");
  if (a.cache.empty()) a.cache = a.model_dir.parent_path() / "features-cache";
  return a;
}

std::shared_ptr<EncoderModel> create_or_load(const Args& a) {
  if (!fs::exists(a.model_dir / "model.safetensors")) {
    stilts_bench::create_bert_base(a.model_dir, a.seed, "train_throughput");
  }
  // Loaded back even when just made, so both sides start from the bytes in the file.
  return stilts::models::load_pretrained(a.model_dir).model;
}

// Every language's file read with the PAWS-X reader, as one pair-classification dataset.
stilts::tasks::Dataset read_pawsx(const Args& a) {
  stilts::tasks::Dataset all;
  for (const auto& lang : a.langs) {
    const fs::path path = a.pawsx / lang / (a.split + ".tsv");
    stilts::tasks::Dataset d = stilts::tasks::read_dataset(path, "pawsx");
    if (all.examples.empty()) {
      all = d;
    } else {
      all.examples.insert(all.examples.end(), d.examples.begin(), d.examples.end());
      all.source += "," + d.source;
      all.report.kept += d.report.kept;
      all.report.rows += d.report.rows;
      all.report.skipped_placeholder += d.report.skipped_placeholder;
      all.report.skipped_malformed += d.report.skipped_malformed;
    }
  }
  return all;
}

struct Plan {
  std::vector<std::vector<size_t>> warmup, timed;  // example indices per batch, in run order
  json description;
};

// Picks the warm-up and timed batches from epoch 0's bucketed order and describes the data.
Plan plan_batches(const Args& a, const stilts::tasks::Features& f) {
  const auto order = stilts::tasks::bucketed_batches(f, a.batch, static_cast<uint64_t>(a.seed), /*epoch=*/0,
                                                     /*shuffle=*/true);
  auto padded_length = [&](const std::vector<size_t>& rows) {
    size_t longest = 0;
    for (size_t r : rows) longest = std::max(longest, f.input_ids[r].size());
    return static_cast<int64_t>(longest);
  };
  auto real_tokens = [&](const std::vector<size_t>& rows) {
    int64_t n = 0;
    for (size_t r : rows) n += static_cast<int64_t>(f.input_ids[r].size());
    return n;
  };

  // Full batches sorted by padded length; the timed ones at quantiles (i + 0.5) / steps.
  std::vector<size_t> full;
  for (size_t b = 0; b < order.size(); ++b) {
    if (static_cast<int64_t>(order[b].size()) == a.batch) full.push_back(b);
  }
  if (static_cast<int64_t>(full.size()) < a.steps + a.warmup) {
    throw std::runtime_error("only " + std::to_string(full.size()) + " full batches for " +
                             std::to_string(a.steps + a.warmup) + " steps");
  }
  std::stable_sort(full.begin(), full.end(),
                   [&](size_t x, size_t y) { return padded_length(order[x]) < padded_length(order[y]); });
  std::set<size_t> picked;
  for (int64_t i = 0; i < a.steps; ++i) {
    const auto at = static_cast<size_t>((static_cast<double>(i) + 0.5) * static_cast<double>(full.size()) /
                                        static_cast<double>(a.steps));
    picked.insert(full[std::min(at, full.size() - 1)]);
  }
  Plan plan;
  for (size_t b : picked) plan.timed.push_back(order[b]);  // epoch order
  // Warm-up on the shortest other full batches: it only has to touch the optimizer state and the
  // libraries' pools, and a long one would cost minutes per run on 2 cores.
  for (size_t b : full) {
    if (static_cast<int64_t>(plan.warmup.size()) == a.warmup) break;
    if (!picked.count(b)) plan.warmup.push_back(order[b]);
  }

  // The data: example lengths (with special tokens, after truncation) per language and overall.
  std::vector<double> lengths;
  std::map<std::string, std::vector<double>> by_lang;
  for (size_t i = 0; i < f.size(); ++i) {
    lengths.push_back(static_cast<double>(f.input_ids[i].size()));
    by_lang[f.languages[i]].push_back(static_cast<double>(f.input_ids[i].size()));
  }
  auto summary = [](const std::vector<double>& v) {
    return json{{"n", v.size()},
                {"mean", round3(std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()))},
                {"p50", quantile(v, 0.5)},
                {"p90", quantile(v, 0.9)},
                {"max", *std::max_element(v.begin(), v.end())}};
  };
  json per_lang = json::object();
  for (const auto& lang : a.langs) {
    if (by_lang.count(lang)) per_lang[lang] = summary(by_lang[lang]);
  }
  // Padding over the whole epoch vs over the timed sample: real tokens / tokens computed.
  int64_t epoch_real = 0, epoch_dynamic = 0, sample_real = 0, sample_dynamic = 0;
  std::vector<double> epoch_lengths, sample_lengths;
  for (const auto& rows : order) {
    epoch_real += real_tokens(rows);
    epoch_dynamic += padded_length(rows) * static_cast<int64_t>(rows.size());
    epoch_lengths.push_back(static_cast<double>(padded_length(rows)));
  }
  for (const auto& rows : plan.timed) {
    sample_real += real_tokens(rows);
    sample_dynamic += padded_length(rows) * static_cast<int64_t>(rows.size());
    sample_lengths.push_back(static_cast<double>(padded_length(rows)));
  }
  const auto n_epoch = static_cast<int64_t>(f.size());
  plan.description = {
      {"kind", "data"},
      {"data", a.pawsx.string() + "/{" + [&] {
                 std::string s;
                 for (const auto& l : a.langs) s += (s.empty() ? "" : ",") + l;
                 return s;
               }() + "}/" + a.split + ".tsv"},
      {"tokenizer", a.tokenizer.string()},
      {"max_length", a.max_length},
      {"examples", n_epoch},
      {"truncated", f.truncated},
      {"lengths", summary(lengths)},
      {"lengths_by_language", per_lang},
      {"batch", a.batch},
      {"epoch_batches", order.size()},
      {"epoch_real_tokens_per_batch", round3(static_cast<double>(epoch_real) / static_cast<double>(order.size()))},
      {"epoch_padded_length", summary(epoch_lengths)},
      {"epoch_fill_dynamic", round3(static_cast<double>(epoch_real) / static_cast<double>(epoch_dynamic))},
      {"epoch_fill_padded", round3(static_cast<double>(epoch_real) / static_cast<double>(n_epoch * a.max_length))},
      {"timed_padded_lengths", sample_lengths},
      {"timed_real_tokens_per_batch",
       round3(static_cast<double>(sample_real) / static_cast<double>(plan.timed.size()))},
      {"timed_fill_dynamic", round3(static_cast<double>(sample_real) / static_cast<double>(sample_dynamic))},
      {"timed_fill_padded",
       round3(static_cast<double>(sample_real) /
              static_cast<double>(static_cast<int64_t>(plan.timed.size()) * a.batch * a.max_length))},
      {"warmup_padded_lengths", [&] {
         std::vector<int64_t> v;
         for (const auto& rows : plan.warmup) v.push_back(padded_length(rows));
         return v;
       }()}};
  return plan;
}

// PAWS-X's kind: the collation and loss stilts train uses for it.
const stilts::tasks::TaskKind& pair_kind() { return stilts::tasks::task_kind("pair-classification"); }

// collate(), then (mode padded) every row padded to `length` as a tokenizer's padding="max_length" does.
stilts::tasks::Batch make_batch(const stilts::tasks::Features& f, const std::vector<size_t>& rows, bool pad,
                                int64_t length) {
  stilts::tasks::Batch b = pair_kind().collate(f, rows, torch::kCPU);
  if (!pad) return b;
  const int64_t extra = length - b.inputs.input_ids.size(1);
  if (extra > 0) {
    b.inputs.input_ids = torch::constant_pad_nd(b.inputs.input_ids, {0, extra}, f.pad_id);  // [B, length]
    b.inputs.attention_mask = torch::constant_pad_nd(b.inputs.attention_mask, {0, extra}, 0);
    if (b.inputs.token_type_ids.defined()) {
      b.inputs.token_type_ids = torch::constant_pad_nd(b.inputs.token_type_ids, {0, extra}, f.pad_type_id);
    }
  }
  return b;
}

void write_batches(const Args& a, const stilts::tasks::Features& f, const Plan& plan) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& mode : a.modes) {
    auto add = [&](const std::string& prefix, const std::vector<std::vector<size_t>>& batches) {
      for (size_t k = 0; k < batches.size(); ++k) {
        const auto b = make_batch(f, batches[k], mode == "padded", a.max_length);
        const std::string name = mode + "." + prefix + "." + std::to_string(k) + ".";
        tensors.emplace_back(name + "input_ids", b.inputs.input_ids);
        tensors.emplace_back(name + "attention_mask", b.inputs.attention_mask);
        tensors.emplace_back(name + "token_type_ids", b.inputs.token_type_ids);
        tensors.emplace_back(name + "labels", b.labels);
      }
    };
    add("warmup", plan.warmup);
    add("timed", plan.timed);
  }
  stilts::io::save_safetensors(a.write_batches, tensors,
                               {{"format", "pt"},
                                {"warmup", std::to_string(plan.warmup.size())},
                                {"steps", std::to_string(plan.timed.size())},
                                {"modes", [&] {
                                   std::string s;
                                   for (const auto& m : a.modes) s += (s.empty() ? "" : ",") + m;
                                   return s;
                                 }()},
                                {"seed", std::to_string(a.seed)}});
  std::cerr << "train_throughput: wrote the batches to " << a.write_batches << "\n";
}

struct Trainer {
  EncoderModel& model;
  torch::optim::AdamW& optimizer;
  std::vector<torch::Tensor> params;
  int64_t step = 0, total_steps = 1;
  double lr = 2e-5;
  stilts::train::Precision precision = stilts::train::Precision::kFp32;
  double last_loss = 0;

  // One optimizer step as train/loop.cpp makes it (grad_accum_steps 1, max_grad_norm 1.0, linear
  // schedule without warm-up; the forward and the loss under the precision's autocast). Returns the
  // non-pad tokens of the batch.
  int64_t run(const stilts::tasks::Features& f, const std::vector<size_t>& rows, bool pad, int64_t length) {
    const double step_lr = lr * stilts::train::lr_factor(stilts::train::LrSchedule::kLinear, step, 0, total_steps);
    optimizer.zero_grad();
    const stilts::tasks::Batch batch = make_batch(f, rows, pad, length);
    torch::Tensor loss;
    {
      stilts::train::AutocastScope autocast(precision);
      const auto logits = model.logits(batch.inputs);  // [B, C], as stilts train computes them
      loss = pair_kind().loss(logits, batch);
    }
    last_loss = loss.item<double>();
    (loss / 1.0).backward();
    torch::nn::utils::clip_grad_norm_(params, /*max_norm=*/1.0);
    stilts::train::set_learning_rate(optimizer, step_lr);
    optimizer.step();
    ++step;
    return batch.real_tokens;
  }
};

struct StepResult {
  double seconds = 0;
  int64_t tokens = 0;    // non-pad
  int64_t computed = 0;  // B × T as run
};

StepResult timed_step(Trainer& t, const Args& a, const stilts::tasks::Features& f, const std::vector<size_t>& rows,
                      const std::string& mode) {
  const bool pad = mode == "padded";
  size_t longest = 0;
  for (size_t r : rows) longest = std::max(longest, f.input_ids[r].size());
  StepResult out;
  const auto start = std::chrono::steady_clock::now();
  out.tokens = t.run(f, rows, pad, a.max_length);
  const auto stop = std::chrono::steady_clock::now();
  out.seconds = std::chrono::duration<double>(stop - start).count();
  out.computed = static_cast<int64_t>(rows.size()) * (pad ? a.max_length : static_cast<int64_t>(longest));
  return out;
}

// All of a mode's steps in this process: warm-up, then the timed batches.
json time_mode(Trainer& t, const Args& a, const stilts::tasks::Features& f, const Plan& plan, const std::string& mode) {
  for (const auto& rows : plan.warmup) timed_step(t, a, f, rows, mode);
  std::vector<double> rounded;
  double total = 0;
  int64_t tokens = 0, computed = 0;
  for (const auto& rows : plan.timed) {
    const StepResult r = timed_step(t, a, f, rows, mode);
    total += r.seconds;
    tokens += r.tokens;
    computed += r.computed;
    rounded.push_back(round3(r.seconds));
  }
  json out = {{"kind", "steps"},
              {"impl", "stilts"},
              {"mode", mode},
              {"model", "bert-base (BertForSequenceClassification, 2 labels), train mode"},
              {"precision", a.precision},
              {"batch", a.batch},
              {"warmup", plan.warmup.size()},
              {"steps", plan.timed.size()},
              {"tokens", tokens},
              {"computed_tokens", computed},
              {"seconds", round3(total)},
              {"tokens_per_s", round3(static_cast<double>(tokens) / total)},
              {"s_per_step", round3(total / static_cast<double>(plan.timed.size()))},
              {"step_s", rounded},
              {"last_loss", round3(t.last_loss)}};
  out.update(environment());
  return out;
}

// --serve: one step per line of stdin, "<mode> <warmup|timed> <k>", one JSON line per step on stdout,
// until end of input. bench/train_run.sh drives this process and pytorch_train.py --serve in lockstep.
void serve(Trainer& t, const Args& a, const stilts::tasks::Features& f, const Plan& plan) {
  json ready = {{"kind", "ready"}, {"impl", "stilts"}, {"batch", a.batch}, {"precision", a.precision}};
  ready.update(environment());
  std::cout << ready.dump() << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string mode, kind;
    size_t k = 0;
    in >> mode >> kind >> k;
    const auto& list = kind == "warmup" ? plan.warmup : plan.timed;
    if (!in || (mode != "padded" && mode != "dynamic") || (kind != "warmup" && kind != "timed") || k >= list.size()) {
      std::cout << json{{"kind", "error"}, {"line", line}}.dump() << std::endl;
      continue;
    }
    const StepResult r = timed_step(t, a, f, list[k], mode);
    std::cout << json{{"kind", "step"},   {"impl", "stilts"},        {"mode", mode},
                      {"batch_kind", kind}, {"k", k},                {"seconds", r.seconds},
                      {"tokens", r.tokens}, {"computed_tokens", r.computed}, {"loss", t.last_loss}}
                     .dump()
              << std::endl;
  }
}

}  // namespace

int main(int argc, char** argv) {
  stilts::retain_freed_memory();  // as the stilts CLI does
  const Args a = parse_args(argc, argv);
  try {
    if (a.threads > 0) at::set_num_threads(a.threads);
    const auto dataset = read_pawsx(a);
    const auto tokenizer = stilts::text::load_tokenizer(a.tokenizer);
    const auto features =
        stilts::tasks::load_or_featurize(dataset, pair_kind(), *tokenizer, a.tokenizer, a.max_length, a.cache);
    const Plan plan = plan_batches(a, features);
    if (!a.write_batches.empty()) write_batches(a, features, plan);

    auto model = create_or_load(a);
    if (!a.bench) {
      // The eval-mode loss on the first timed batch (dynamic padding): the Python side recomputes it from
      // the written batches and the saved model, proof that both start from the same weights and data.
      json description = plan.description;
      {
        torch::NoGradGuard no_grad;
        model->eval();
        const auto b = make_batch(features, plan.timed.at(0), /*pad=*/false, a.max_length);
        const auto loss = pair_kind().loss(model->logits(b.inputs), b);
        description["check"] = {{"batch", "dynamic.timed.0"}, {"eval_loss", loss.item<double>()}};
      }
      std::cout << description.dump() << std::endl;
      return 0;
    }
    if (tokenizer->vocab_size() > model->vocab_size()) {
      throw std::runtime_error("the tokenizer's vocabulary (" + std::to_string(tokenizer->vocab_size()) +
                               ") exceeds the model's (" + std::to_string(model->vocab_size()) + ")");
    }
    torch::manual_seed(a.seed);  // dropout
    model->train();
    const auto optimizer = stilts::train::make_adamw(*model, stilts::train::AdamWSettings{});
    Trainer t{*model, *optimizer, model->parameters()};
    t.precision = stilts::train::parse_precision(a.precision);
    t.total_steps = static_cast<int64_t>(a.modes.size()) * static_cast<int64_t>(plan.warmup.size() + plan.timed.size());
    if (a.serve) {
      t.total_steps = 1000000;  // open-ended: the learning rate does not matter for speed
      serve(t, a, features, plan);
      return 0;
    }
    for (const auto& mode : a.modes) std::cout << time_mode(t, a, features, plan, mode).dump() << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "train_throughput: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
