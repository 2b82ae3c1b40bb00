// Efficiency of a study's arms: every arm's final model benchmarked on its own evaluation data
// (each language's test set, or dev when a task has no test, at its own lengths with dynamic padding)
// at each of [bench] batch_sizes, the arms' models of one seed (and one target, when arms have
// several) measured in interleaved rounds (A B A B ...) so drift hits every arm alike; an
// evaluation-only target measures its upstream model on its own data. Figures go to results.sqlite's efficiency and latency_samples
// tables (see results_store.h), with parameter counts (and the parameters that differ from the
// study's base model), size on disk, load time and forward FLOPs per example; the machine
// fingerprint and its matmul peak go to meta. A seed whose models were measured with the same
// settings is not measured again (RUN_DIR/bench/seed-<seed>[-<language>][-<target>].json marks it).
#pragma once

#include <filesystem>
#include <iostream>

#include "pipeline/experiment_config.h"
#include "pipeline/results_store.h"
#include "pipeline/stage_graph.h"

namespace stilts::pipeline {

// Benchmarks what the run has not benchmarked yet. Returns the number of models measured.
size_t bench_study(const ExperimentConfig& config, const StageGraph& graph, const std::filesystem::path& run_dir,
                   ResultsStore& store, std::ostream& log);

// Analytic training FLOPs of a finished stage: 3 x forward FLOPs over the padded batch shapes its
// metrics.json cost records (bench::forward_flops on the stage model's config.json). NaN when the
// stage recorded no shapes.
double stage_training_flops(const std::filesystem::path& stage_dir, const nlohmann::json& metrics);

}  // namespace stilts::pipeline
