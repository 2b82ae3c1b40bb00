// Subcommands of the stilts CLI: each file adds its command to the app and runs it by calling the
// library. Thin: parse, call, print; errors travel as exceptions to main().
#pragma once

#include <CLI/CLI.hpp>

namespace stilts::cli {

void add_forward_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
void add_inspect_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_results_command(CLI::App& app);
void add_report_command(CLI::App& app);
void add_synth_command(CLI::App& app);
void add_pretrain_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_demo_command(CLI::App& app);
void add_score_command(CLI::App& app);
void add_fetch_command(CLI::App& app);
void add_fetch_data_command(CLI::App& app);
void add_launch_command(CLI::App& app);

}  // namespace stilts::cli
