// stilts launch --nproc N [--master-port P] -- COMMAND [ARGS...]
#include <unistd.h>

#include <cstdlib>

#include "commands.h"
#include "train/launch.h"

namespace stilts::cli {

void add_launch_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "launch",
      "Start N local ranks of a data-parallel job the way torchrun does (RANK, LOCAL_RANK, WORLD_SIZE,\n"
      "MASTER_ADDR=127.0.0.1, MASTER_PORT set; OMP_NUM_THREADS and OPENBLAS_NUM_THREADS 1 unless set), e.g.\n"
      "  stilts launch --nproc 2 -- stilts train --model M --train T --out OUT ...\n"
      "The ranks write to this terminal. When one fails, the others are stopped (3 s of grace, SIGTERM,\n"
      "SIGKILL 10 s later) and launch exits with its "
      "status, naming the rank; rerun with --resume to continue from the last checkpoint.");
  auto nproc = std::make_shared<int>(1);
  auto port = std::make_shared<int>(0);
  auto command = std::make_shared<std::vector<std::string>>();
  cmd->add_option("--nproc", *nproc, "ranks to start on this machine")->required();
  cmd->add_option("--master-port", *port, "rank 0's rendezvous port (default: a free one)");
  cmd->add_option("command", *command, "the command every rank runs, after --")->required();
  cmd->callback([nproc, port, command] {
    train::LaunchOptions options;
    options.nproc = *nproc;
    options.master_port = *port;
    options.command = *command;
    // A bare "stilts" is this program (it need not be on PATH).
    if (!options.command.empty() && options.command[0] == "stilts") {
      char self[4096];
      const ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
      if (n > 0) options.command[0] = std::string(self, static_cast<size_t>(n));
    }
    const int code = train::launch_local(options);
    if (code != 0) std::exit(code);
  });
}

}  // namespace stilts::cli
