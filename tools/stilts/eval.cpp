// stilts eval --model DIR --data FILE [--format F] [--task K] [--json] [--predictions FILE]
#include <torch/torch.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <utility>

#include "commands.h"
#include "hub/cache.h"
#include "common/error.h"
#include "common/files.h"
#include "common/threads.h"
#include "eval/metrics.h"
#include "io/hf_config.h"
#include "models/pretrained.h"
#include "tasks/datasets/dataset.h"
#include "tasks/features.h"
#include "tasks/kind.h"
#include "train/device.h"
#include "train/evaluate.h"
#include "train/head.h"

namespace stilts::cli {

namespace fs = std::filesystem;

namespace {

std::string fixed(double v, int digits = 4) {
  if (!eval::is_defined(v)) return "n/a";
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", digits, v);
  return buffer;
}

nlohmann::json number(double v) { return eval::is_defined(v) ? nlohmann::json(v) : nlohmann::json(); }

}  // namespace

void add_eval_command(CLI::App& app) {
  struct Args {
    std::string model, data, format = "tsv", task = "auto", precision = "fp32", device = "cpu", predictions, outputs;
    std::string text_a_column = "sentence1", text_b_column, label_column = "label", language_column, language;
    int64_t max_length = 0, batch_size = 64;
    // Extractive QA; 0 = the training run's setting, else transformers' default.
    int64_t doc_stride = 0, max_query_length = 0, max_answer_length = 0, n_best = 0, layer = -2;
    int resamples = 1000;
    uint64_t seed = 0;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "eval",
      "Evaluate a model with a task head on a dataset with the task kind's metrics (classification:\n"
      "accuracy, macro-F1; regression: Pearson, Spearman, MSE; tagging: seqeval F1, precision, recall and\n"
      "token accuracy; multiple choice: accuracy; extractive QA: SQuAD's F1 and exact match), overall and per language, with percentile bootstrap 95%\n"
      "intervals. Gold labels are matched to the model's id2label by name (by position when the model's\n"
      "labels are LABEL_0..). A file without gold (XTREME's test files) is predicted, not scored.");
  cmd->add_option("--model", args->model, "model directory with a head (e.g. a stilts train --out), or a hub id in the HF cache")->required();
  cmd->add_option("--data", args->data, "data file")->required();
  cmd->add_option("--format", args->format, "data format (default tsv)");
  cmd->add_option("--task", args->task,
                  "auto | " + [] {
                    std::string names;
                    for (const auto& n : tasks::task_kind_names()) names += (names.empty() ? "" : " | ") + n;
                    return names;
                  }() + " (auto: the kind whose head the model has and whose data the file holds)");
  cmd->add_option("--max-length", args->max_length,
                  "tokens per example (default: the training run's max_length, else 128)");
  cmd->add_option("--doc-stride", args->doc_stride,
                  "extractive QA: context tokens between window starts (default: the training run's, else 128)");
  cmd->add_option("--max-query-length", args->max_query_length,
                  "extractive QA: question tokens kept (default: the training run's, else 64)");
  cmd->add_option("--max-answer-length", args->max_answer_length,
                  "extractive QA: longest answer in tokens (default: the training run's, else 30)");
  cmd->add_option("--n-best", args->n_best,
                  "extractive QA: start and end candidates per window (default: the training run's, else 20)");
  cmd->add_option("--layer", args->layer,
                  "sentence retrieval: the hidden state mean-pooled, as transformers numbers hidden_states (0 = the "
                  "embeddings; XTREME's mBERT setting is 8); default: the last layer");
  cmd->add_option("--batch-size", args->batch_size, "examples per batch (default 64)");
  cmd->add_option("--precision", args->precision,
                  "fp32 | bf16 (CPU or CUDA autocast) | fp16 (CUDA only) | int8 (CPU only: the linear layers "
                  "dynamically quantized, as PyTorch's quantize_dynamic)");
  cmd->add_option("--device", args->device, "cpu | cuda | cuda:N: where the model runs (default cpu)");
  cmd->add_option("--resamples", args->resamples, "bootstrap resamples (default 1000)");
  cmd->add_option("--seed", args->seed, "bootstrap seed (default 0)");
  cmd->add_option("--text-a-column", args->text_a_column, "tsv/csv/jsonl: first text column (default sentence1)");
  cmd->add_option("--text-b-column", args->text_b_column,
                  "tsv/csv/jsonl: second text column (default sentence2 for pair tasks)");
  cmd->add_option("--label-column", args->label_column, "tsv/csv/jsonl: label column (default label)");
  cmd->add_option("--language-column", args->language_column, "tsv/csv/jsonl: language column");
  cmd->add_option("--language", args->language, "language of every example (overrides what the reader infers)");
  cmd->add_flag("--json", args->json, "print the metrics as JSON");
  cmd->add_option("--predictions", args->predictions,
                  "write the predictions in XTREME's submission format for the task kind (what `stilts score` "
                  "and xtreme's evaluate.py read)");
  cmd->add_option("--outputs", args->outputs,
                  "write one JSON line per example: id, language, gold, prediction (the task kind's values: a "
                  "label id, a score, a choice index, a tag per word), probabilities (one-label kinds)");
  cmd->callback([args] {
    const fs::path dir = hub::resolve_model(args->model).dir;  // a directory or a hub id
    const train::Precision precision = train::parse_precision(args->precision);
    const torch::Device device = train::parse_device(args->device, "--device");
    if (precision == train::Precision::kFp16 && !device.is_cuda()) {
      input_error("--precision fp16 needs --device cuda (libtorch's CPU autocast is bf16 only): use bf16 on the CPU");
    }
    if (precision == train::Precision::kInt8 && !device.is_cpu()) {
      input_error("--precision int8 runs on the CPU only (libtorch's dynamic quantization): use --device cpu, or "
                  "fp16 / bf16 on ", args->device);
    }
    at::set_num_threads(default_threads(precision));
    train::EvalModel model = train::load_eval_model(dir);
    model.loaded.model->to(device);  // predict() collates its batches where the model is

    // ---- the data and the task kind ----
    train::DataFile file;
    file.path = args->data;
    file.format = args->format;
    file.read.text_a_column = args->text_a_column;
    file.read.text_b_column = args->text_b_column;
    file.read.label_column = args->label_column;
    file.read.language_column = args->language_column;
    file.read.language = args->language;
    // Settings not given: the training run's (its config.resolved.json), else the defaults.
    const nlohmann::json run = fs::exists(dir / "config.resolved.json") ? read_json_file(dir / "config.resolved.json")
                                                                         : nlohmann::json::object();
    auto setting = [&](int64_t given, const char* key, int64_t fallback) {
      return given > 0 ? given : run.value(key, fallback);
    };
    const tasks::KindSettings defaults;
    tasks::KindSettings settings;
    settings.doc_stride = setting(args->doc_stride, "doc_stride", defaults.doc_stride);
    settings.max_query_length = setting(args->max_query_length, "max_query_length", defaults.max_query_length);
    settings.max_answer_length = setting(args->max_answer_length, "max_answer_length", defaults.max_answer_length);
    settings.n_best = setting(args->n_best, "n_best", defaults.n_best);
    settings.layer = args->layer >= -1 ? args->layer : run.value("layer", defaults.layer);
    file.max_length = setting(args->max_length, "max_length", 128);
    std::string task = args->task;
    if (task != "auto") tasks::task_kind(task);  // validates the name
    // The generic formats' second sentence: sentence2 unless the task reads single sentences or scores.
    const bool pairs_by_default = task == "auto" ? !model.head.regression : task == "pair-classification";
    if (file.read.text_b_column.empty() && pairs_by_default) file.read.text_b_column = "sentence2";
    std::optional<tasks::Dataset> read;  // auto: the file is read once, to pick the kind and to evaluate
    if (task == "auto") {
      read = train::read_data(model, file);
      task = tasks::kind_for_data(*read, model.head.head).name();
    }
    const std::unique_ptr<tasks::TaskKind> kind_with_settings = tasks::make_task_kind(task, settings);
    const tasks::TaskKind& kind = *kind_with_settings;

    // ---- predictions and metrics ----
    train::EvalSettings evaluation;
    evaluation.batch_size = args->batch_size;
    evaluation.precision = precision;
    evaluation.keep_probabilities = !args->outputs.empty();
    const train::FileEvaluation e = read ? train::evaluate_data(model, kind, file, std::move(*read), evaluation)
                                         : train::evaluate_file(model, kind, file, evaluation);
    const tasks::Dataset& data = e.data;
    const tasks::Predictions& p = e.predictions;
    for (const auto& note : e.notes) std::cerr << "note: " << note << "\n";

    eval::BootstrapOptions bootstrap;
    bootstrap.resamples = args->resamples;
    bootstrap.seed = args->seed;
    bootstrap.validate();
    nlohmann::json result = {{"model", dir.string()},
                             {"data", args->data},
                             {"format", args->format},
                             {"task", task},
                             {"examples", data.examples.size()},
                             {"bootstrap", {{"resamples", bootstrap.resamples}, {"level", bootstrap.level}, {"seed", bootstrap.seed}}}};
    nlohmann::json groups = nlohmann::json::object();
    for (const auto& [group, values] : e.metrics) {
      std::vector<size_t> indices;
      for (size_t i = 0; i < data.examples.size(); ++i) {
        const std::string& language = data.examples[i].language.empty() ? "unknown" : data.examples[i].language;
        if (group == "all" || group == language) indices.push_back(i);
      }
      nlohmann::json g = {{"examples", indices.size()}};
      for (const auto& [name, value] : values) {
        // Resamples of this group's examples.
        const eval::IndexedMetric scorer = kind.scorer(name, p.predicted, p.gold);
        std::vector<size_t> drawn;
        const eval::Interval ci = eval::bootstrap_ci(
            indices.size(),
            [&](const std::vector<size_t>& draw) {
              drawn.resize(draw.size());
              for (size_t i = 0; i < draw.size(); ++i) drawn[i] = indices[draw[i]];
              return scorer(drawn);
            },
            bootstrap);
        g[name] = {{"value", number(value)}, {"lower", number(ci.lower)}, {"upper", number(ci.upper)}};
      }
      groups[group] = g;
    }
    result["metrics"] = groups;

    if (!args->predictions.empty()) write_file_atomic(args->predictions, kind.submission(data, p));
    if (!args->outputs.empty()) {
      std::string lines;
      for (size_t i = 0; i < p.predicted.size(); ++i) {
        nlohmann::json row = {{"id", data.examples[i].id}, {"language", data.examples[i].language},
                              {"gold", p.gold[i]}, {"prediction", p.predicted[i]}};
        if (!p.probabilities.empty()) row["probabilities"] = p.probabilities[i];
        lines += row.dump() + "\n";
      }
      write_file_atomic(args->outputs, lines);
    }

    if (args->json) {
      std::cout << result.dump(2) << "\n";
      return;
    }
    std::cout << args->data << ": " << data.examples.size() << " examples, " << task
              << (data.labelled ? " (95% bootstrap intervals, " + std::to_string(bootstrap.resamples) + " resamples)"
                                : " (no gold: predicted, not scored)")
              << "\n";
    for (const auto& [group, g] : groups.items()) {
      std::cout << "  " << group << " (" << g["examples"].get<size_t>() << ")";
      for (const auto& [name, v] : g.items()) {
        if (name == "examples") continue;
        auto get = [&](const char* k) { return v[k].is_null() ? NAN : v[k].get<double>(); };
        std::cout << "  " << name << " " << fixed(get("value")) << " [" << fixed(get("lower")) << ", "
                  << fixed(get("upper")) << "]";
      }
      std::cout << "\n";
    }
    if (!args->predictions.empty()) std::cout << "predictions: " << args->predictions << "\n";
    if (!args->outputs.empty()) std::cout << "outputs: " << args->outputs << "\n";
  });
}

}  // namespace stilts::cli
