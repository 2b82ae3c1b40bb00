#include "support/run.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "support/fixtures.h"

extern char** environ;

namespace stilts::testing {

namespace {
std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

RunResult run_command(const std::string& program, const std::vector<std::string>& args,
                      const std::string& stdin_text) {
  // Its own folder: the test's make_temp_dir() folder may hold the files under test.
  static int counter = 0;
  const auto dir = std::filesystem::temp_directory_path() /
                   ("stilts-run-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    std::ofstream in(dir / "stdin", std::ios::binary);
    in << stdin_text;
  }
  std::string cmd = quote(program);
  for (const auto& a : args) cmd += " " + quote(a);
  cmd += " <" + quote((dir / "stdin").string()) + " >" + quote((dir / "stdout").string()) + " 2>" +
         quote((dir / "stderr").string());
  const int status = std::system(cmd.c_str());
  if (status == -1) ADD_FAILURE() << "could not start a shell for: " << cmd;
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(dir / "stdout");
  r.err = slurp(dir / "stderr");
  std::filesystem::remove_all(dir);
  return r;
}

RunResult run_stilts(const std::vector<std::string>& args, const std::string& stdin_text) {
  return run_command(cli_path().string(), args, stdin_text);
}

pid_t spawn_stilts(const std::vector<std::string>& args, const std::filesystem::path& log,
                   const std::vector<std::string>& env) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  const std::string program = cli_path().string();
  std::vector<char*> argv = {const_cast<char*>(program.c_str())};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  std::vector<std::string> entries;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    bool replaced = false;
    for (const auto& x : env) replaced |= x.substr(0, x.find('=') + 1) == entry.substr(0, entry.find('=') + 1);
    if (!replaced) entries.push_back(entry);
  }
  entries.insert(entries.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& e : entries) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const int rc = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(rc, 0) << "posix_spawn failed for " << program;
  return pid;
}

int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) ADD_FAILURE() << "socket() failed";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t length = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0) {
    port = ntohs(addr.sin_port);
  } else {
    ADD_FAILURE() << "bind to 127.0.0.1:0 failed";
  }
  ::close(fd);
  return port;
}

}  // namespace stilts::testing
