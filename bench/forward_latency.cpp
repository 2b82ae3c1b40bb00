// Forward latency of a BERT-base-shaped BertForSequenceClassification with random weights, the stilts
// side of the PyTorch comparison (bench/pytorch_forward.py times the same forward; bench/run.sh runs
// both, interleaved, and prints the table).
//
//   forward_latency --model-dir DIR [--seed 0] [--batch 1,32] [--seq 128] [--warmup 3,1] [--reps 20,5]
//                   [--threads N] [--dump FILE] [--no-bench]
//
// DIR without model.safetensors: builds the model (seeded init) and saves it there with
// save_pretrained, so Python loads the very same weights; otherwise loads it with load_pretrained.
// --dump writes the fixed check input and this forward's outputs as safetensors (the parity check).
// Timing: eval mode under InferenceMode, full-length rows of random ids (fixed seed), `warmup`
// untimed forwards then `reps` timed ones per batch size; one JSON line per batch size.
// --warmup / --reps take one value for every batch size or one per batch size.
//
// Letters: B batch, T tokens.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/memory.h"
#include "io/safetensors.h"
#include "models/pretrained.h"
#include "models/registry.h"

#include "bench_common.h"

namespace fs = std::filesystem;
using stilts::models::EncoderModel;
using stilts::models::Inputs;
using stilts_bench::environment;
using stilts_bench::quantile;
using stilts_bench::round3;

namespace {

struct Args {
  fs::path model_dir;
  int64_t seed = 0;
  std::vector<int64_t> batch = {1, 32};
  int64_t seq = 128;
  std::vector<int64_t> warmup = {3, 1};
  std::vector<int64_t> reps = {20, 5};
  int threads = 0;  // 0: leave libtorch's default
  fs::path dump;
  bool bench = true;
};

[[noreturn]] void usage(const std::string& error) {
  std::cerr << "forward_latency: " << error << "\n"
            << "usage: forward_latency --model-dir DIR [--seed N] [--batch 1,32] [--seq 128] [--warmup 3,1]\n"
            << "                       [--reps 20,5] [--threads N] [--dump FILE] [--no-bench]\n";
  std::exit(2);
}

std::vector<int64_t> parse_list(const std::string& flag, const std::string& text) {
  std::vector<int64_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      const long long v = std::stoll(item, &used);
      if (used != item.size() || v < 0) throw std::invalid_argument(item);
      out.push_back(v);
    } catch (const std::exception&) {
      usage(flag + ": '" + text + "' is not a comma-separated list of non-negative integers");
    }
  }
  if (out.empty()) usage(flag + ": empty list");
  return out;
}

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(flag + " needs a value");
      return argv[++i];
    };
    auto one = [&]() { return parse_list(flag, value()).at(0); };
    if (flag == "--model-dir") a.model_dir = value();
    else if (flag == "--seed") a.seed = one();
    else if (flag == "--batch") a.batch = parse_list(flag, value());
    else if (flag == "--seq") a.seq = one();
    else if (flag == "--warmup") a.warmup = parse_list(flag, value());
    else if (flag == "--reps") a.reps = parse_list(flag, value());
    else if (flag == "--threads") a.threads = static_cast<int>(one());
    else if (flag == "--dump") a.dump = value();
    else if (flag == "--no-bench") a.bench = false;
    else if (flag == "--help" || flag == "-h") usage("help");
    else usage("unknown option " + flag);
  }
  if (a.model_dir.empty()) usage("--model-dir is required");
  for (auto* list : {&a.warmup, &a.reps}) {
    if (list->size() == 1) list->resize(a.batch.size(), list->front());
    if (list->size() != a.batch.size()) usage("--warmup / --reps need one value or one per batch size");
  }
  for (size_t i = 0; i < a.batch.size(); ++i) {
    if (a.batch[i] < 1 || a.reps[i] < 1) usage("batch sizes and reps must be >= 1");
  }
  if (a.seq < 1) usage("--seq must be >= 1");
  return a;
}

std::shared_ptr<EncoderModel> create_or_load(const Args& a) {
  if (fs::exists(a.model_dir / "model.safetensors")) {
    return stilts::models::load_pretrained(a.model_dir).model;  // eval mode
  }
  auto model = stilts_bench::create_bert_base(a.model_dir, a.seed, "forward_latency");
  model->eval();
  return model;
}

// The parity input: 2 rows of 32 with token types 0/1 and the second row padded by 8, so the mask and
// the token-type table are exercised too.
Inputs check_inputs(const EncoderModel& model) {
  torch::manual_seed(1234);
  const int64_t B = 2, T = 32;
  Inputs in;
  in.input_ids = torch::randint(1, model.vocab_size(), {B, T}, torch::kLong);  // [B, T]
  in.attention_mask = torch::ones({B, T}, torch::kLong);
  in.attention_mask.index_put_({1, torch::indexing::Slice(T - 8)}, 0);
  in.input_ids.index_put_({1, torch::indexing::Slice(T - 8)}, model.pad_token_id());
  in.token_type_ids = torch::zeros({B, T}, torch::kLong);
  in.token_type_ids.index_put_({torch::indexing::Slice(), torch::indexing::Slice(T / 2)}, 1);
  return in;
}

void dump_check(EncoderModel& model, const fs::path& file) {
  const Inputs in = check_inputs(model);
  c10::InferenceMode guard;
  const auto out = model.forward(in);
  stilts::io::save_safetensors(file, {{"input_ids", in.input_ids},
                                      {"attention_mask", in.attention_mask},
                                      {"token_type_ids", in.token_type_ids},
                                      {"last_hidden_state", out.last_hidden_state},
                                      {"pooler_output", out.pooler_output},
                                      {"logits", out.logits}});
  std::cerr << "forward_latency: wrote the check forward to " << file << "\n";
}

nlohmann::ordered_json time_forward(EncoderModel& model, const Args& a, int64_t batch, int64_t warmup, int64_t reps) {
  torch::manual_seed(a.seed + 1);
  Inputs in;
  in.input_ids = torch::randint(1, model.vocab_size(), {batch, a.seq}, torch::kLong);  // [B, T]
  in.attention_mask = torch::ones({batch, a.seq}, torch::kLong);                     // full-length rows
  in.token_type_ids = torch::zeros({batch, a.seq}, torch::kLong);

  c10::InferenceMode guard;
  for (int64_t i = 0; i < warmup; ++i) model.forward(in);
  std::vector<double> ms;
  for (int64_t i = 0; i < reps; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const auto out = model.forward(in);
    const auto stop = std::chrono::steady_clock::now();
    ms.push_back(std::chrono::duration<double, std::milli>(stop - start).count());
  }
  const double mean = std::accumulate(ms.begin(), ms.end(), 0.0) / static_cast<double>(ms.size());
  nlohmann::ordered_json out = {{"impl", "stilts"},
                                {"model", "bert-base (BertForSequenceClassification, random weights)"},
                                {"batch", batch},
                                {"seq", a.seq},
                                {"warmup", warmup},
                                {"reps", reps},
                                {"p50_ms", round3(quantile(ms, 0.5))},
                                {"p90_ms", round3(quantile(ms, 0.9))},
                                {"mean_ms", round3(mean)},
                                {"min_ms", round3(*std::min_element(ms.begin(), ms.end()))},
                                {"max_ms", round3(*std::max_element(ms.begin(), ms.end()))}};
  out.update(environment());
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  stilts::retain_freed_memory();  // as the stilts CLI does
  const Args a = parse_args(argc, argv);
  try {
    if (a.threads > 0) at::set_num_threads(a.threads);
    auto model = create_or_load(a);
    model->eval();
    if (!a.dump.empty()) dump_check(*model, a.dump);
    if (!a.bench) return 0;
    for (size_t i = 0; i < a.batch.size(); ++i) {
      std::cout << time_forward(*model, a, a.batch[i], a.warmup[i], a.reps[i]).dump() << std::endl;
    }
  } catch (const std::exception& e) {
    std::cerr << "forward_latency: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
