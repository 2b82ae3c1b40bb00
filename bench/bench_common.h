// What bench/forward_latency.cpp and bench/train_throughput.cpp share: the BERT-base config and its
// seeded creation, quantiles and rounding, and the thread / library settings recorded with every
// JSON line. Header-only (CMakeLists.txt builds every bench/*.cpp as its own executable).
#pragma once

#include <torch/torch.h>

#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/pretrained.h"
#include "models/registry.h"

namespace stilts_bench {

// bert-base-uncased's shape.
inline nlohmann::json bert_base_config() {
  return {{"model_type", "bert"},
          {"architectures", {"BertForSequenceClassification"}},
          {"vocab_size", 30522},
          {"hidden_size", 768},
          {"num_hidden_layers", 12},
          {"num_attention_heads", 12},
          {"intermediate_size", 3072},
          {"hidden_act", "gelu"},
          {"hidden_dropout_prob", 0.1},
          {"attention_probs_dropout_prob", 0.1},
          {"max_position_embeddings", 512},
          {"type_vocab_size", 2},
          {"initializer_range", 0.02},
          {"layer_norm_eps", 1e-12},
          {"pad_token_id", 0}};
}

// Builds the BERT-base model with a head (seeded init) and saves it to model_dir with save_pretrained,
// so the Python side loads the very same weights. `program` names the caller in messages.
inline std::shared_ptr<stilts::models::EncoderModel> create_bert_base(const std::filesystem::path& model_dir,
                                                                      int64_t seed, const std::string& program) {
  torch::manual_seed(seed);
  stilts::models::BuildOptions options;
  options.head = stilts::models::HeadKind::kSequenceClassification;
  auto model = stilts::models::create_model(bert_base_config(), program + "'s BERT-base config", options);
  stilts::models::save_pretrained(*model, model_dir);
  std::cerr << program << ": saved a BERT-base model (seed " << seed << ") to " << model_dir << "\n";
  return model;
}

// Linear interpolation between closest ranks (numpy's default), as the Python side computes it.
inline double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

inline double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

inline nlohmann::ordered_json env_value(const char* name) {
  const char* v = std::getenv(name);
  return v ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
}

// OpenBLAS's own thread pool and the kernel set it picked (OPENBLAS_CORETYPE overrides the pick): fp32
// matrix products run there, outside at::set_num_threads. Null when the BLAS is not OpenBLAS.
inline nlohmann::ordered_json openblas_threads() {
  auto* get = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return get ? nlohmann::ordered_json(get()) : nlohmann::ordered_json(nullptr);
}
inline nlohmann::ordered_json openblas_core() {
  auto* get = reinterpret_cast<char* (*)()>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  return get ? nlohmann::ordered_json(get()) : nlohmann::ordered_json(nullptr);
}

// The thread and library settings, recorded with every result.
inline nlohmann::ordered_json environment() {
  return {{"torch_threads", at::get_num_threads()},
          {"interop_threads", at::get_num_interop_threads()},
          {"openblas_threads", openblas_threads()},
          {"openblas_core", openblas_core()},
          {"OMP_NUM_THREADS", env_value("OMP_NUM_THREADS")},
          {"OPENBLAS_NUM_THREADS", env_value("OPENBLAS_NUM_THREADS")},
          {"OPENBLAS_CORETYPE", env_value("OPENBLAS_CORETYPE")},
          {"torch_version", TORCH_VERSION}};
}

}  // namespace stilts_bench
