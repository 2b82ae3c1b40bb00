// Extractive-QA throughput: windows per second for featurization (context split into words, each word
// tokenized, windows cut with their best-context flags) and for evaluation (the model over every window
// padded to max_length, the n-best kept per window, every question decoded), on a SQuAD-format file.
//
//   qa_throughput --model-dir DIR --data FILE [--format squad] [--max-length 384] [--doc-stride 128]
//                 [--max-query-length 64] [--batch 32] [--reps 3] [--threads 1] [--no-eval]
//
// DIR is a model directory with a *ForQuestionAnswering head and its tokenizer. Featurization is timed
// `reps` times (the median reported, with the window count); evaluation once per rep after one untimed
// warm-up batch. One JSON line per measurement, with the machine (CPU, ISA, threads) it ran on.
#include <torch/torch.h>

#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/memory.h"
#include "tasks/datasets/dataset.h"
#include "tasks/kind.h"
#include "text/auto.h"
#include "train/evaluate.h"

#include "bench_common.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> v) { return stilts_bench::quantile(std::move(v), 0.5); }

}  // namespace

int main(int argc, char** argv) {
  stilts::retain_freed_memory();  // as the stilts CLI does
  std::string model_dir, data, format = "squad";
  int64_t max_length = 384, doc_stride = 128, max_query_length = 64, batch = 32, reps = 3, threads = 1;
  bool run_eval = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "qa_throughput: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--model-dir") model_dir = next();
    else if (a == "--data") data = next();
    else if (a == "--format") format = next();
    else if (a == "--max-length") max_length = std::stoll(next());
    else if (a == "--doc-stride") doc_stride = std::stoll(next());
    else if (a == "--max-query-length") max_query_length = std::stoll(next());
    else if (a == "--batch") batch = std::stoll(next());
    else if (a == "--reps") reps = std::stoll(next());
    else if (a == "--threads") threads = std::stoll(next());
    else if (a == "--no-eval") run_eval = false;
    else {
      std::cerr << "qa_throughput: unknown option " << a << "\n";
      return 2;
    }
  }
  if (model_dir.empty() || data.empty()) {
    std::cerr << "usage: qa_throughput --model-dir DIR --data FILE [options]\n";
    return 2;
  }
  try {
    at::set_num_threads(static_cast<int>(threads));
    stilts::tasks::KindSettings settings;
    settings.doc_stride = doc_stride;
    settings.max_query_length = max_query_length;
    const auto kind = stilts::tasks::make_task_kind("extractive-qa", settings);
    stilts::train::EvalModel model = stilts::train::load_eval_model(model_dir);
    const int64_t length = stilts::train::effective_max_length(*model.loaded.model, max_length, &std::cerr);
    const stilts::tasks::Dataset dataset = stilts::tasks::read_dataset(data, format);

    std::vector<double> featurize_s;
    stilts::tasks::Features features;
    for (int64_t r = 0; r < reps; ++r) {
      const auto start = Clock::now();
      features = kind->featurize(dataset, *model.tokenizer, length);
      featurize_s.push_back(seconds_since(start));
    }
    const auto windows = static_cast<double>(features.size());
    nlohmann::ordered_json line = {{"measure", "featurize"},
                                   {"questions", dataset.examples.size()},
                                   {"windows", features.size()},
                                   {"max_length", length},
                                   {"doc_stride", doc_stride},
                                   {"seconds_median", stilts_bench::round3(median(featurize_s))},
                                   {"windows_per_s", stilts_bench::round3(windows / median(featurize_s))},
                                   {"environment", stilts_bench::environment()}};
    std::cout << line.dump() << std::endl;
    if (!run_eval) return 0;

    std::vector<double> eval_s;
    for (int64_t r = 0; r < reps; ++r) {
      const auto start = Clock::now();
      const auto p = stilts::train::predict(*model.loaded.model, *kind, dataset, features, *model.tokenizer, batch,
                                            stilts::train::Precision::kFp32);
      eval_s.push_back(seconds_since(start));
      if (p.predicted.size() != dataset.examples.size()) return 1;
    }
    line = {{"measure", "evaluate"},
            {"questions", dataset.examples.size()},
            {"windows", features.size()},
            {"batch", batch},
            {"seconds_median", stilts_bench::round3(median(eval_s))},
            {"windows_per_s", stilts_bench::round3(windows / median(eval_s))},
            {"environment", stilts_bench::environment()}};
    std::cout << line.dump() << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "qa_throughput: " << e.what() << "\n";
    return 1;
  }
}
