// Runs the stilts CLI (or any command) in a shell and captures its exit code, stdout and stderr.
#pragma once

#include <sys/types.h>

#include <filesystem>
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

// Starts build/stilts with `args` (stdout and stderr appended to `log`) without waiting; a failed
// spawn is a test failure.
// `env` entries (KEY=VALUE) are added to this process's environment (replacing the same keys).
pid_t spawn_stilts(const std::vector<std::string>& args, const std::filesystem::path& log,
                   const std::vector<std::string>& env = {});

// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick for a bind to port 0).
int free_loopback_port();

}  // namespace stilts::testing
