// stilts eval --model DIR --data FILE [--format F] [--task K] [--json] [--predictions FILE]
#include <torch/torch.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "commands.h"
#include "common/error.h"
#include "common/files.h"
#include "eval/metrics.h"
#include "io/hf_config.h"
#include "models/pretrained.h"
#include "tasks/datasets/dataset.h"
#include "tasks/features.h"
#include "text/auto.h"
#include "train/evaluate.h"
#include "train/head.h"

namespace stilts::cli {

namespace fs = std::filesystem;

namespace {

bool default_label_names(const std::vector<std::string>& names) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] != "LABEL_" + std::to_string(i)) return false;
  }
  return true;
}

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
    std::string model, data, format = "tsv", task = "auto", precision = "fp32", predictions;
    std::string text_a_column = "sentence1", text_b_column, label_column = "label", language_column, language;
    int64_t max_length = 0, batch_size = 64;
    int resamples = 1000;
    uint64_t seed = 0;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "eval",
      "Evaluate a model with a classification or regression head on a dataset: accuracy and macro-F1, or\n"
      "Pearson, Spearman and MSE, overall and per language, with percentile bootstrap 95% intervals.\n"
      "Gold labels are matched to the model's id2label by name (by position when the model's labels are\n"
      "LABEL_0..).");
  cmd->add_option("--model", args->model, "model directory with a head (e.g. a stilts train --out)")->required();
  cmd->add_option("--data", args->data, "data file")->required();
  cmd->add_option("--format", args->format, "data format (default tsv)");
  cmd->add_option("--task", args->task,
                  "auto | pair-classification | classification | regression (auto: the head's kind; pairs "
                  "when the data has them)");
  cmd->add_option("--max-length", args->max_length,
                  "tokens per example (default: the training run's max_length, else 128)");
  cmd->add_option("--batch-size", args->batch_size, "examples per batch (default 64)");
  cmd->add_option("--precision", args->precision, "fp32 | bf16");
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
                  "write one JSON line per example: id, language, gold, prediction (, probabilities)");
  cmd->callback([args] {
    const fs::path dir = args->model;
    const train::Precision precision = train::parse_precision(args->precision);
    at::set_num_threads(train::default_threads(precision));

    // ---- the model and what its head predicts ----
    const nlohmann::json config = io::read_config_json(dir);
    if (!train::has_classification_head(dir)) {
      input_error(dir.string(), ": the model has no classification or regression head (a base model?); fine-tune it "
                                "with stilts train first");
    }
    const train::LabelSpace head = train::label_space_of_config(config, (dir / "config.json").string());
    models::LoadOptions load;
    load.head = models::HeadPolicy::kWith;
    auto loaded = models::load_pretrained(dir, load);
    models::EncoderModel& model = *loaded.model;

    std::string task = args->task;
    if (task != "auto") tasks::parse_task_kind(task);  // validates the name
    if (task == "auto" && head.regression) task = "regression";
    if ((task == "regression") != head.regression) {
      input_error(dir.string(), ": the model has ", head.regression ? "a regression head" : "a classification head",
                  ", but --task is ", task);
    }
    int64_t max_length = args->max_length;
    if (max_length <= 0) {
      max_length = 128;
      if (fs::exists(dir / "config.resolved.json")) {
        max_length = read_json_file(dir / "config.resolved.json").value("max_length", int64_t{128});
      }
    }

    // ---- data ----
    tasks::ReadOptions read;
    read.text_a_column = args->text_a_column;
    read.text_b_column = args->text_b_column;
    if (read.text_b_column.empty() && task != "classification" && task != "regression") read.text_b_column = "sentence2";
    read.label_column = args->label_column;
    read.language_column = args->language_column;
    read.language = args->language;
    read.regression = head.regression;
    if (!head.regression && !default_label_names(head.label_names)) read.label_names = head.label_names;
    const tasks::Dataset data = tasks::read_dataset(args->data, args->format, read);
    if (data.regression != head.regression) {
      input_error(args->data, ": format '", args->format, "' holds ", data.regression ? "scores" : "class labels",
                  ", the model's head is ", head.regression ? "a regression head" : "a classification head");
    }
    if (task == "auto") task = data.pairs ? "pair-classification" : "classification";
    const tasks::TaskKind kind = tasks::parse_task_kind(task);
    const auto tokenizer = text::load_tokenizer(dir);
    tasks::Features features = tasks::featurize(data, *tokenizer, max_length, kind);
    STILTS_CHECK(features.size() == data.examples.size(), "features ", features.size(), " vs examples ",
                 data.examples.size());

    // Gold label ids into the head's label space.
    std::vector<std::string> names = head.label_names;
    if (!head.regression) {
      std::vector<int64_t> to_head(data.label_names.size());
      if (default_label_names(head.label_names)) {
        if (data.label_names.size() != head.label_names.size()) {
          input_error(args->data, ": ", data.label_names.size(), " labels, the model predicts ",
                      head.label_names.size());
        }
        for (size_t i = 0; i < to_head.size(); ++i) to_head[i] = static_cast<int64_t>(i);
        names = data.label_names;
      } else {
        for (size_t i = 0; i < data.label_names.size(); ++i) {
          const auto it = std::find(head.label_names.begin(), head.label_names.end(), data.label_names[i]);
          if (it == head.label_names.end()) {
            input_error(args->data, ": label '", data.label_names[i], "' is not one the model predicts (",
                        head.describe(), ")");
          }
          to_head[i] = it - head.label_names.begin();
        }
      }
      for (auto& l : features.labels) l = to_head[static_cast<size_t>(l)];
    }

    // ---- predictions and metrics ----
    const train::Predictions p =
        train::predict(model, features, args->batch_size, precision, !args->predictions.empty());
    const train::GroupMetrics metrics = train::metrics_by_language(head.regression, p, features.languages);

    eval::BootstrapOptions bootstrap;
    bootstrap.resamples = args->resamples;
    bootstrap.seed = args->seed;
    bootstrap.validate();
    nlohmann::json result = {{"model", dir.string()},
                             {"data", args->data},
                             {"format", args->format},
                             {"task", task},
                             {"examples", features.size()},
                             {"bootstrap", {{"resamples", bootstrap.resamples}, {"level", bootstrap.level}, {"seed", bootstrap.seed}}}};
    nlohmann::json groups = nlohmann::json::object();
    for (const auto& [group, values] : metrics) {
      eval::Scores predicted, gold;
      for (size_t i = 0; i < p.predicted.size(); ++i) {
        const std::string language = features.languages.size() > i && !features.languages[i].empty()
                                         ? features.languages[i] : "unknown";
        if (group == "all" || group == language) {
          predicted.push_back(p.predicted[i]);
          gold.push_back(p.gold[i]);
        }
      }
      nlohmann::json g = {{"examples", predicted.size()}};
      for (const auto& [name, value] : values) {
        const eval::Interval ci = eval::bootstrap_ci(eval::metric_by_name(name), predicted, gold, bootstrap);
        g[name] = {{"value", number(value)}, {"lower", number(ci.lower)}, {"upper", number(ci.upper)}};
      }
      groups[group] = g;
    }
    result["metrics"] = groups;

    if (!args->predictions.empty()) {
      std::string lines;
      for (size_t i = 0; i < p.predicted.size(); ++i) {
        nlohmann::json row = {{"id", data.examples[i].id}, {"language", data.examples[i].language}};
        if (head.regression) {
          row["gold"] = p.gold[i];
          row["prediction"] = p.predicted[i];
        } else {
          row["gold"] = names[static_cast<size_t>(p.gold[i])];
          row["prediction"] = names[static_cast<size_t>(p.predicted[i])];
          row["probabilities"] = p.probabilities[i];
        }
        lines += row.dump() + "\n";
      }
      write_file_atomic(args->predictions, lines);
    }

    if (args->json) {
      std::cout << result.dump(2) << "\n";
      return;
    }
    std::cout << args->data << ": " << features.size() << " examples, " << task << " (95% bootstrap intervals, "
              << bootstrap.resamples << " resamples)\n";
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
  });
}

}  // namespace stilts::cli
