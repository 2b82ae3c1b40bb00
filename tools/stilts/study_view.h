// Printing a study's answer: the comparison table `stilts results` opens with and `stilts demo` ends
// with, and the small formatting helpers the result commands share.
#pragma once

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

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

}  // namespace stilts::cli
