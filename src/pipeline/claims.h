// Stage claims: how several `stilts run` workers (local processes, a Slurm job array, hosts on a shared
// filesystem) share one run directory without training a stage twice.
//
//   RUN_DIR/claims/<stage key>     one file per stage being worked on, JSON:
//                                  {"host", "boot_id", "pid", "pid_start", "started", "token"}
//
// A claim is created atomically: the holder's JSON is written to a temp file beside it and hard-linked
// to the claim's name, which fails when the name exists (link is atomic on local filesystems and NFS,
// where O_EXCL historically was not). While the stage runs a thread refreshes the file's modification
// time: that is the heartbeat. A claim is stale, and may be taken over, when its holder is dead:
//   - on the same machine (same host name and boot id): the pid is gone, or now belongs to another
//     process (its start time differs from the one recorded);
//   - on another machine: the heartbeat is older than `stale_after_s` (clocks must agree, e.g. NTP).
// Taking over renames the stale file to a unique name first (only one worker's rename succeeds) and
// checks that what it moved is the claim it judged stale; a fresh claim moved by mistake is put back.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace stilts::pipeline {

struct ClaimHolder {
  std::string host;     // gethostname()
  std::string boot_id;  // /proc/sys/kernel/random/boot_id: tells a rebooted or other machine of the same name
  int64_t pid = 0;
  int64_t pid_start = 0;  // the process's start time in clock ticks since boot (/proc/PID/stat), 0 unknown
  double started = 0;     // Unix seconds when the claim was made
  std::string token;      // random: tells two claims of the same holder apart

  std::string describe() const;  // "pid 123 on host (since 2026-12-03 17:30:00 UTC)"
};

// This process as a claim holder (a fresh token each call).
ClaimHolder this_process();

struct ClaimOptions {
  double stale_after_s = 600;  // another machine's claim without a heartbeat for this long is dead
  double heartbeat_s = 0;      // refresh interval; 0 = stale_after_s / 10 (at most 30 s)
};

// Whether `holder` is certainly dead: see the header comment. `heartbeat_age_s` is the claim file's age.
bool holder_dead(const ClaimHolder& holder, double heartbeat_age_s, const ClaimOptions& options);

// A claim this process holds; the destructor (or release()) removes the file if it is still ours.
class StageClaim {
 public:
  StageClaim(std::filesystem::path path, ClaimHolder holder, double heartbeat_s);
  ~StageClaim();
  StageClaim(const StageClaim&) = delete;
  StageClaim& operator=(const StageClaim&) = delete;

  const ClaimHolder& holder() const { return holder_; }
  const std::filesystem::path& path() const { return path_; }
  // Who took the claim over while this process held it (a worker on another host that saw no
  // heartbeat for the claim timeout): then two workers ran the stage, and the timeout is too short.
  std::optional<ClaimHolder> taken_over_by();
  void release();

 private:
  void beat();

  std::filesystem::path path_;
  ClaimHolder holder_;
  std::chrono::duration<double> interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::optional<ClaimHolder> taken_over_by_;
  std::thread heartbeat_;
};

// The claims of one run directory (RUN_DIR/claims; created by the first claim, so looking creates nothing).
class ClaimDir {
 public:
  ClaimDir(std::filesystem::path dir, ClaimOptions options);

  // Claims stage `key`: the claim, or nullptr when a live worker (this process included) holds it.
  // A dead holder's claim is taken over (`reclaimed` set to its holder, for the log).
  std::unique_ptr<StageClaim> try_claim(const std::string& key, std::optional<ClaimHolder>* reclaimed = nullptr);
  // The current holder of `key`'s claim, if any (nullopt also while a claim file is half-visible).
  std::optional<ClaimHolder> holder(const std::string& key) const;
  // Whether `key` is claimed by a worker that is not certainly dead.
  bool held_by_live_worker(const std::string& key) const;
  // Removes `key`'s claim if its holder is dead (a worker killed after finishing its stage leaves one):
  // whether it removed one.
  bool clear_if_dead(const std::string& key);

  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path path_of(const std::string& key) const;
  // Moves `dead`'s claim of `key` away (see the header comment): false when it was not there anymore.
  bool remove_dead(const std::string& key, const ClaimHolder& dead);

  std::filesystem::path dir_;
  ClaimOptions options_;
};

}  // namespace stilts::pipeline
