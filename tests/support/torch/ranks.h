// What the data-parallel CLI tests share: a command launched as N local ranks, and the distance
// between two runs' final weights.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace stilts::testing {

// `stilts launch --nproc N -- <the stilts CLI> args...`, for run_stilts.
std::vector<std::string> launched(int nproc, const std::vector<std::string>& args);

// The largest absolute difference between the model.safetensors of two directories over every tensor
// (a test failure for a tensor one of them lacks).
double max_weight_diff(const std::filesystem::path& a, const std::filesystem::path& b);

}  // namespace stilts::testing
