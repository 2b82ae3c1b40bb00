#include "train/launch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <map>
#include <thread>

#include "common/error.h"

extern char** environ;

namespace stilts::train {

namespace {

volatile std::sig_atomic_t g_signal = 0;

void remember_signal(int signal) { g_signal = signal; }

// A port on 127.0.0.1 the kernel picks for a bind to port 0 (free a moment ago).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw Error(std::string("stilts launch: socket() failed: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  if (port == 0) throw Error("stilts launch: found no free port on 127.0.0.1; pass --master-port");
  return port;
}

std::string describe(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int s = WTERMSIG(status);
    return "was killed by signal " + std::to_string(s) + " (" + ::strsignal(s) + ")";
  }
  return "ended with wait status " + std::to_string(status);
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

// The environment with `overrides` (KEY -> value) replacing or adding entries; `defaults` only when unset.
std::vector<std::string> environment_with(const std::map<std::string, std::string>& overrides,
                                          const std::map<std::string, std::string>& defaults) {
  std::vector<std::string> env;
  std::map<std::string, bool> seen;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::string key = entry.substr(0, entry.find('='));
    if (overrides.count(key)) continue;
    seen[key] = true;
    env.push_back(entry);
  }
  for (const auto& [k, v] : overrides) env.push_back(k + "=" + v);
  for (const auto& [k, v] : defaults) {
    if (!seen.count(k) && !overrides.count(k)) env.push_back(k + "=" + v);
  }
  return env;
}

}  // namespace

int launch_local(const LaunchOptions& options) {
  std::ostream& log = *options.log;
  if (options.nproc < 1) input_error("stilts launch: --nproc ", options.nproc, ": expected an integer >= 1");
  if (options.master_port < 0 || options.master_port > 65535) {
    input_error("stilts launch: --master-port ", options.master_port, ": expected a TCP port in 1..65535 (0: a free one)");
  }
  if (options.command.empty()) input_error("stilts launch: no command: stilts launch --nproc N -- COMMAND [ARGS...]");
  const int port = options.master_port > 0 ? options.master_port : free_port();

  struct sigaction action {};
  action.sa_handler = remember_signal;
  sigemptyset(&action.sa_mask);
  struct sigaction old_int {}, old_term {};
  sigaction(SIGINT, &action, &old_int);
  sigaction(SIGTERM, &action, &old_term);
  g_signal = 0;

  std::map<pid_t, int> running;  // pid -> rank
  auto signal_all = [&](int signal) {
    for (const auto& [pid, rank] : running) ::kill(pid, signal);
  };

  std::vector<char*> argv;
  for (const auto& a : options.command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const std::map<std::string, std::string> defaults = {{"OMP_NUM_THREADS", "1"}, {"OPENBLAS_NUM_THREADS", "1"}};
  for (int rank = 0; rank < options.nproc; ++rank) {
    const auto env = environment_with({{"RANK", std::to_string(rank)},
                                       {"LOCAL_RANK", std::to_string(rank)},
                                       {"WORLD_SIZE", std::to_string(options.nproc)},
                                       {"LOCAL_WORLD_SIZE", std::to_string(options.nproc)},
                                       {"MASTER_ADDR", "127.0.0.1"},
                                       {"MASTER_PORT", std::to_string(port)}},
                                      defaults);
    std::vector<char*> envp;
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), envp.data());
    if (rc != 0) {
      signal_all(SIGKILL);
      for (const auto& [p, r] : running) ::waitpid(p, nullptr, 0);
      sigaction(SIGINT, &old_int, nullptr);
      sigaction(SIGTERM, &old_term, nullptr);
      input_error("stilts launch: cannot start '", options.command[0], "' for rank ", rank, ": ", std::strerror(rc));
    }
    running[pid] = rank;
    log << "stilts launch: rank " << rank << " of " << options.nproc << " is pid " << pid << "\n";
  }
  log << "stilts launch: rendezvous at 127.0.0.1:" << port << "\n" << std::flush;

  int failed_rank = -1, failed_status = 0;
  int forwarded = 0;
  using Clock = std::chrono::steady_clock;
  auto term_deadline = Clock::time_point::max(), kill_deadline = Clock::time_point::max();
  while (!running.empty()) {
    if (g_signal != 0 && forwarded != g_signal) {
      forwarded = g_signal;
      signal_all(forwarded);
    }
    if (Clock::now() > term_deadline) {
      signal_all(SIGTERM);
      term_deadline = Clock::time_point::max();
    }
    if (Clock::now() > kill_deadline) {
      signal_all(SIGKILL);
      kill_deadline = Clock::time_point::max();
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid == 0 || (pid < 0 && errno == EINTR)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    if (pid < 0) break;  // no children left
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    const int rank = it->second;
    running.erase(it);
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (ok) continue;
    if (failed_rank < 0) {
      failed_rank = rank;
      failed_status = status;
      log << "stilts launch: rank " << rank << " (pid " << pid << ") " << describe(status);
      if (!running.empty()) log << "; stopping the other ranks";
      log << "\n" << std::flush;
      // A grace period first: the others usually notice the failure at their next collective and end
      // with their own message; then SIGTERM, then SIGKILL.
      term_deadline = Clock::now() + std::chrono::seconds(3);
      kill_deadline = term_deadline + std::chrono::seconds(10);
    }
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  if (failed_rank < 0) return 0;
  log << "stilts launch: failed: rank " << failed_rank << " " << describe(failed_status) << "\n" << std::flush;
  const int code = exit_code_of(failed_status);
  return code == 0 ? 1 : code;
}

}  // namespace stilts::train
