// Printing a study's answer: the comparison table `stilts results` opens with and `stilts demo` ends
// with, and the small formatting helpers the result commands share.
#pragma once

#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/results_store.h"
#include "pipeline/task_scores.h"

namespace stilts::cli {

std::string fixed(double v, int digits = 4, bool sign = false);  // "n/a" when not finite
std::string interval(double lo, double hi, int digits = 4);       // "[lo, hi]"
void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                 std::ostream& out = std::cout);

// Per language: each arm's mean over seeds with its interval, and arm − baseline with its interval
// and significance (paired bootstrap over examples and seeds when predictions are stored); then one
// line per arm with efficiency, parameters and training cost (pipeline::summarize_arms).
void print_comparison(const std::filesystem::path& run_dir, const std::string& baseline, double level,
                      std::ostream& out = std::cout);

// The benchmark scores (pipeline::benchmark_scores) of the results `rows` of `store` at the arms' final
// stages, when those hold more than one task; nullopt otherwise.
std::optional<pipeline::BenchmarkScores> multi_task_scores(const pipeline::ResultsStore& store,
                                                           const std::vector<pipeline::ResultRow>& rows);

// When the arms' final stages hold more than one task: each task's, group's and the overall benchmark
// score (pipeline::benchmark_scores) per arm, mean over seeds with its interval, arm − baseline paired
// over seeds, the seeds left out, and inference per task (pipeline::task_efficiency). Prints nothing
// for a single-task study.
void print_benchmark_scores(const std::filesystem::path& run_dir, const std::string& baseline, double level,
                            std::ostream& out = std::cout);

}  // namespace stilts::cli
