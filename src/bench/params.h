// Parameter counts, FLOPs and what a fine-tuned model must store, computed without running it.
//
// analytic_parameters() reads only config.json's architecture fields: no weight is allocated, so a
// 278M-parameter XLM-R costs microseconds. It agrees exactly with models::count_parameters() on a
// model built from the same config (tested for every family and every head). The arithmetic of each
// family is its own (models::Family::count_parameters, forward_flops, in the family's file).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "models/model.h"

namespace stilts::bench {

// Parameter counts of the model create_model(config, ..., options) would build (options.head
// kMaskedLM: the models::MaskedLMModel of the config): total, embeddings, encoder, pooler, head
// (trainable = total). Every registered family (models::supported_model_types()); an unknown
// model_type, a head the family does not build or a malformed field is an InputError naming `source`.
//   BERT-style: embeddings = word + position + token-type tables + LayerNorm; encoder = layers;
//               pooler = dense H x H when the head reads it (BERT: sequence classification and
//               multiple choice; RoBERTa: multiple choice); head = the head's linears (RoBERTa's
//               sequence head: dense H x H + out_proj H x C).
//   XLNet:      embeddings = word_embedding + mask_emb; encoder = layers (q k v o r, r_*_bias,
//               seg_embed, layer norms, feed-forward); no pooler; sequence-level heads:
//               sequence_summary (H x H when summary_use_proj) + logits_proj (H x C).
//   Masked LM:  no pooler; head = dense H x H + LayerNorm + bias V (the decoder is tied).
// C = config.json's num_labels (id2label size, default 2); question answering 2, multiple choice 1.
models::ParameterCounts analytic_parameters(const nlohmann::json& config, const models::BuildOptions& options,
                                            const std::string& source = "config.json");

// Analytic forward FLOPs of one example of `seq_len` tokens (2 FLOPs per multiply-add), counting every
// matrix product: the Q/K/V/output projections, attention scores (QK^T) and the probability-weighted
// values, the feed-forward layers, the pooler and the head. XLNet adds the relative-position projection
// (2T positions, counted per example although implementations may share it across a batch) and the
// position and segment score products. Not counted: embedding lookups, softmax, LayerNorm, activations,
// biases and residual additions (a few percent at most). BERT-base at 128 tokens: 22.35 GFLOP without
// the head. With the head, BERT and RoBERTa count their last layer as EncoderModel::logits computes it,
// at the [CLS] position only (keys and values from every position): BERT-base at 128, 20.80 GFLOP.
// XLNet's is counted whole, as its logits() computes it.
double forward_flops(const nlohmann::json& config, int64_t seq_len, bool with_head = true,
                     const std::string& source = "config.json");

// Training FLOPs of one example: 3 x forward (the backward pass costs about twice the forward: the
// gradient with respect to both the inputs and the weights of each product), the usual convention
// (Kaplan et al. 2020). Optimizer updates are not counted.
inline double training_flops(double forward) { return 3.0 * forward; }

struct ParameterReport {
  std::string model_type;
  bool has_head = false;
  models::ParameterCounts counts;  // counted on the loaded model (trainable: requires_grad)
  // Compared with `base` when given: tensors absent from the base model or not equal to its tensor of
  // the same name (what a task must store beside the base checkpoint). -1 when no base was given.
  int64_t params_differing = -1;
  int64_t tensors_differing = -1;
  uint64_t bytes_on_disk = 0;  // config.json + weight files
};

// Loads `dir` (and `base`, when not empty) and counts. Errors name the directory.
ParameterReport parameter_report(const std::filesystem::path& dir, const std::filesystem::path& base = {});
// The same for a model already loaded from `dir`.
ParameterReport parameter_report(const models::EncoderModel& model, const std::filesystem::path& dir,
                                 const std::filesystem::path& base = {});

nlohmann::ordered_json to_json(const models::ParameterCounts& counts);
nlohmann::ordered_json to_json(const ParameterReport& report);

}  // namespace stilts::bench
