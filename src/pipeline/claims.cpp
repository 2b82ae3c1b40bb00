#include "pipeline/claims.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>

#include "common/error.h"
#include "common/files.h"

namespace stilts::pipeline {

namespace fs = std::filesystem;

namespace {

std::string hostname() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "unknown-host";
  return name;
}

std::string boot_id() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

// Fields 3 (state) and 22 (start time in clock ticks since boot) of /proc/PID/stat; start 0 when
// unreadable. The command name (field 2) may hold spaces and parentheses, so fields are counted after
// its closing ')'.
struct ProcessStat {
  char state = '?';
  int64_t start = 0;
};

// `stat_path`: /proc/PID/stat, or /proc/PID/task/TID/stat for one thread.
ProcessStat process_stat(const fs::path& stat_path) {
  ProcessStat out;
  std::ifstream in(stat_path);
  std::string stat;
  if (!std::getline(in, stat)) return out;
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return out;
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22; ++i) {
    if (!(fields >> field)) return out;
    if (i == 3) out.state = field.empty() ? '?' : field[0];
  }
  try {
    out.start = std::stoll(field);
  } catch (const std::exception&) {
    out.start = 0;
  }
  return out;
}

fs::path proc_dir(int64_t pid) { return fs::path("/proc") / std::to_string(pid); }

int64_t process_start(int64_t pid) { return process_stat(proc_dir(pid) / "stat").start; }

bool exited(char state) { return state == 'Z' || state == 'X'; }

// Whether every thread of `pid` has exited. /proc/PID/stat shows the main thread only: when a
// multithreaded process is killed, its main thread can be a zombie while other threads are still
// exiting and still hold the process's files (and so its flock()s). A thread that has exited has
// closed them, so once all have, nothing the process held is held any more.
bool all_threads_exited(int64_t pid) {
  std::error_code ec;
  for (fs::directory_iterator it(proc_dir(pid) / "task", ec), end; !ec && it != end; it.increment(ec)) {
    const ProcessStat thread = process_stat(it->path() / "stat");
    if (thread.state != '?' && !exited(thread.state)) return false;  // '?': gone while looking
  }
  return true;
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string random_token() {
  std::random_device device;
  std::ostringstream out;
  out << std::hex;
  for (int i = 0; i < 4; ++i) out << device();
  return out.str();
}

nlohmann::json to_json(const ClaimHolder& h) {
  return {{"host", h.host},           {"boot_id", h.boot_id}, {"pid", h.pid},
          {"pid_start", h.pid_start}, {"started", h.started}, {"token", h.token}};
}

std::optional<ClaimHolder> parse_holder(const std::string& text) {
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    ClaimHolder h;
    h.host = j.at("host").get<std::string>();
    h.boot_id = j.value("boot_id", "");
    h.pid = j.at("pid").get<int64_t>();
    h.pid_start = j.value("pid_start", int64_t{0});
    h.started = j.value("started", 0.0);
    h.token = j.at("token").get<std::string>();
    return h;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// The claim at `path` and its heartbeat age in seconds; nullopt when there is none or it cannot be read.
struct SeenClaim {
  ClaimHolder holder;
  double age_s = 0;
};

std::optional<SeenClaim> read_claim(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  const auto holder = parse_holder(text.str());
  if (!holder) return std::nullopt;
  const double mtime = static_cast<double>(st.st_mtim.tv_sec) + st.st_mtim.tv_nsec * 1e-9;
  return SeenClaim{*holder, unix_now() - mtime};
}

// Creates `path` holding `holder` atomically (see the header): true when this call made it.
bool create_claim(const fs::path& path, const ClaimHolder& holder) {
  const fs::path temp = path.parent_path() / ("." + path.filename().string() + "." + holder.token + ".tmp");
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << to_json(holder).dump() << "\n";
    out.flush();
    if (!out) input_error(temp.string(), ": cannot write a stage claim (", std::strerror(errno), ")");
  }
  bool made = ::link(temp.c_str(), path.c_str()) == 0;
  if (!made && errno != EEXIST) {
    // NFS may report a failed link that in fact succeeded: the temp file then has two names.
    struct stat st {};
    made = ::stat(temp.c_str(), &st) == 0 && st.st_nlink == 2;
    if (!made) {
      const int err = errno;
      ::unlink(temp.c_str());
      input_error(path.string(), ": cannot create the stage claim (", std::strerror(err), ")");
    }
  }
  ::unlink(temp.c_str());
  return made;
}

}  // namespace

std::string ClaimHolder::describe() const {
  std::string when;
  if (started > 0) {
    const std::time_t t = static_cast<std::time_t>(started);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
    when = std::string(" (since ") + buf + ")";
  }
  return "pid " + std::to_string(pid) + " on " + host + when;
}

ClaimHolder this_process() {
  ClaimHolder h;
  h.host = hostname();
  h.boot_id = boot_id();
  h.pid = ::getpid();
  h.pid_start = process_start(h.pid);
  h.started = unix_now();
  h.token = random_token();
  return h;
}

bool holder_dead(const ClaimHolder& holder, double heartbeat_age_s, const ClaimOptions& options) {
  static const std::string kHost = hostname();
  static const std::string kBoot = boot_id();
  const bool same_machine = holder.host == kHost && holder.boot_id == kBoot;
  if (!same_machine) return heartbeat_age_s > options.stale_after_s;
  if (holder.pid <= 0) return true;
  if (::kill(static_cast<pid_t>(holder.pid), 0) != 0 && errno == ESRCH) return true;
  // The pid is taken: by the holder, unless it is a zombie (killed, not yet reaped by its parent; all of
  // its threads, see all_threads_exited) or a new process got its number.
  const ProcessStat stat = process_stat(proc_dir(holder.pid) / "stat");
  if (exited(stat.state)) return all_threads_exited(holder.pid);
  return holder.pid_start != 0 && stat.start != 0 && stat.start != holder.pid_start;
}

StageClaim::StageClaim(fs::path path, ClaimHolder holder, double heartbeat_s)
    : path_(std::move(path)), holder_(std::move(holder)), interval_(heartbeat_s) {
  heartbeat_ = std::thread([this] { beat(); });
}

StageClaim::~StageClaim() { release(); }

void StageClaim::beat() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    if (wake_.wait_for(lock, interval_, [this] { return stop_; })) break;
    const auto seen = read_claim(path_);
    if (seen && seen->holder.token != holder_.token) {
      taken_over_by_ = seen->holder;  // not ours anymore: its heartbeat is the new holder's business
      break;
    }
    ::utimensat(AT_FDCWD, path_.c_str(), nullptr, 0);  // now; a vanished file is left vanished
  }
}

std::optional<ClaimHolder> StageClaim::taken_over_by() {
  std::lock_guard<std::mutex> lock(mutex_);
  return taken_over_by_;
}

void StageClaim::release() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stop_) return;
    stop_ = true;
  }
  wake_.notify_all();
  if (heartbeat_.joinable()) heartbeat_.join();
  // Removed only if still ours: a worker that judged us dead may have taken it over.
  const auto seen = read_claim(path_);
  if (seen && seen->holder.token == holder_.token) ::unlink(path_.c_str());
}

ClaimDir::ClaimDir(fs::path dir, ClaimOptions options) : dir_(std::move(dir)), options_(options) {
  if (!(options_.stale_after_s > 0)) {
    input_error("the claim timeout must be above 0 seconds (got ", options_.stale_after_s, ")");
  }
  if (options_.heartbeat_s <= 0) options_.heartbeat_s = std::min(30.0, options_.stale_after_s / 10);
}

fs::path ClaimDir::path_of(const std::string& key) const { return dir_ / key; }

std::optional<ClaimHolder> ClaimDir::holder(const std::string& key) const {
  const auto seen = read_claim(path_of(key));
  if (!seen) return std::nullopt;
  return seen->holder;
}

bool ClaimDir::held_by_live_worker(const std::string& key) const {
  const fs::path path = path_of(key);
  if (!fs::exists(path)) return false;
  const auto seen = read_claim(path);
  if (!seen) return true;  // being written or replaced right now
  return !holder_dead(seen->holder, seen->age_s, options_);
}

bool ClaimDir::remove_dead(const std::string& key, const ClaimHolder& dead) {
  const fs::path path = path_of(key);
  // Take the dead claim out of the way; only one worker's rename of this file succeeds.
  const fs::path moved = dir_ / ("." + key + "." + this_process().token + ".stale");
  if (::rename(path.c_str(), moved.c_str()) != 0) return false;  // another worker moved it first
  const auto moved_claim = read_claim(moved);
  if (!moved_claim || moved_claim->holder.token != dead.token) {
    // Between the look and the rename, another worker took the dead claim over: put its claim back.
    if (::link(moved.c_str(), path.c_str()) != 0 && errno != EEXIST) {
      input_error(path.string(), ": cannot restore another worker's claim (", std::strerror(errno), ")");
    }
    ::unlink(moved.c_str());
    return false;
  }
  ::unlink(moved.c_str());
  return true;
}

bool ClaimDir::clear_if_dead(const std::string& key) {
  const auto seen = read_claim(path_of(key));
  return seen && holder_dead(seen->holder, seen->age_s, options_) && remove_dead(key, seen->holder);
}

std::unique_ptr<StageClaim> ClaimDir::try_claim(const std::string& key, std::optional<ClaimHolder>* reclaimed) {
  const fs::path path = path_of(key);
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) input_error(dir_.string(), ": cannot create the claims directory (", ec.message(), ")");
  for (int attempt = 0; attempt < 3; ++attempt) {
    ClaimHolder me = this_process();
    if (create_claim(path, me)) return std::make_unique<StageClaim>(path, std::move(me), options_.heartbeat_s);
    const auto seen = read_claim(path);
    if (!seen) {
      // Gone (released a moment ago: try again) or unreadable (half-written by another worker: it is live,
      // unless the file is old, which a crash between write and link cannot leave: the name is linked last).
      if (fs::exists(path)) return nullptr;
      continue;
    }
    if (!holder_dead(seen->holder, seen->age_s, options_)) return nullptr;
    if (!remove_dead(key, seen->holder)) {
      if (fs::exists(path)) return nullptr;  // another worker took it over first
      continue;
    }
    if (reclaimed) *reclaimed = seen->holder;
  }
  return nullptr;
}

}  // namespace stilts::pipeline
