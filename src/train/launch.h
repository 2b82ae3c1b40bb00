// stilts launch: N local ranks of a data-parallel job, started the way torchrun starts them, for users
// without torchrun.
#pragma once

#include <iostream>
#include <string>
#include <vector>

namespace stilts::train {

struct LaunchOptions {
  int nproc = 1;                         // ranks on this machine (= WORLD_SIZE)
  int master_port = 0;                   // rank 0's rendezvous port; 0: a free loopback port
  std::vector<std::string> command;      // program (looked up in PATH) and arguments
  std::ostream* log = &std::cerr;
};

// Starts `command` nproc times with RANK, LOCAL_RANK (0..nproc-1), WORLD_SIZE, LOCAL_WORLD_SIZE,
// MASTER_ADDR (127.0.0.1) and MASTER_PORT set, and OMP_NUM_THREADS / OPENBLAS_NUM_THREADS set to 1
// unless already set (as torchrun does: N ranks share the cores). The ranks write to this process's
// stdout and stderr. Returns 0 when every rank exits 0. When one exits non-zero or is killed, the others
// get 3 s to end on their own (and say why), then SIGTERM (SIGKILL 10 s later); the failure is logged
// naming the rank; returns its exit status
// (128 + signal when killed). SIGINT and SIGTERM to the launcher are passed on to the ranks.
// InputError for bad options or a command that cannot start.
int launch_local(const LaunchOptions& options);

}  // namespace stilts::train
