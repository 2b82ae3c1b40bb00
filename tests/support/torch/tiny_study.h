// The tiny study the multi-worker and multi-rank run tests share: a 16-word tiny BERT, GLUE SST-2
// shaped data ("yes" in a sentence = positive) for an intermediate task and an en/de target, and a
// config of one seed whose intermediate stage two arms share (their targets differ in learning rate)
// while the direct arm's target needs no upstream: 4 stages, two ready at the start.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace stilts::testing {

// The tiny BERT's 16 words; sentences draw from the first 12, "yes" / "no" mark the label.
extern const std::vector<std::string> kTinyWords;
// `n` words drawn from the first 12 of kTinyWords, space-separated.
std::string tiny_words(std::mt19937& rng, int n);
// GLUE SST-2 layout (sentence, label) of `rows` rows: label 1 when the sentence holds "yes".
std::string tiny_sst2_tsv(int rows, unsigned seed);

struct TinyStudy {
  std::filesystem::path root, config;
};

// A fresh study (under make_temp_dir()) named `name`; `dropout` false zeroes the model's dropout (N
// data-parallel ranks draw the same numbers for different rows, so only then do they equal one process).
TinyStudy make_tiny_study(const std::string& name, bool dropout = true);

// `stilts run` arguments for it into `out` (no report, polling every 0.1 s, one features cache), then `extra`.
std::vector<std::string> tiny_study_run_args(const TinyStudy& study, const std::filesystem::path& out,
                                             std::vector<std::string> extra = {});

// results.sqlite's results as {(arm, seed, stage, task, language, split, metric): value}.
using ResultKey = std::tuple<std::string, int64_t, std::string, std::string, std::string, std::string, std::string>;
std::map<ResultKey, double> results_of(const std::filesystem::path& run_dir);

}  // namespace stilts::testing
