// Runs the stilts CLI (or any command) in a shell and captures its exit code, stdout and stderr.
#pragma once

#include <string>
#include <vector>

namespace stilts::testing {

struct RunResult {
  int exit_code = -1;
  std::string out, err;
};

// `args` are shell-quoted; `stdin_text` is fed on standard input.
RunResult run_command(const std::string& program, const std::vector<std::string>& args,
                      const std::string& stdin_text = "");
// Runs build/stilts.
RunResult run_stilts(const std::vector<std::string>& args, const std::string& stdin_text = "");

}  // namespace stilts::testing
