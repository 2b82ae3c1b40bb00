// Stage claims (pipeline/claims.h): a claim is made once, a second claim of a live holder is refused,
// a dead holder's claim (pid gone on this machine, heartbeat stale on another) is taken over, a live
// holder on another machine keeps it, the heartbeat keeps the file fresh, and release removes only
// one's own claim.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <thread>

#include "common/error.h"
#include "common/files.h"
#include "pipeline/claims.h"
#include "support/fixtures.h"

namespace {

namespace fs = std::filesystem;
using stilts::pipeline::ClaimDir;
using stilts::pipeline::ClaimHolder;
using stilts::pipeline::ClaimOptions;

const std::string kKey = "0123456789abcdef";

// A pid that was just used and is now free (a child that exited and was reaped).
pid_t dead_pid() {
  const pid_t pid = fork();
  if (pid == 0) _exit(0);
  waitpid(pid, nullptr, 0);
  return pid;
}

// Field 3 of /proc/PID/stat: the main thread's state ('?' when unreadable).
char main_thread_state(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  const size_t close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() ? '?' : stat[close + 2];
}

// Waits until child `pid` has exited, all its threads included, without reaping it (a zombie).
void wait_until_exited_unreaped(pid_t pid) {
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT), 0);
}

void write_claim(const fs::path& path, const ClaimHolder& h, double age_s) {
  fs::create_directories(path.parent_path());
  stilts::write_file_atomic(path, nlohmann::json({{"host", h.host},
                                                  {"boot_id", h.boot_id},
                                                  {"pid", h.pid},
                                                  {"pid_start", h.pid_start},
                                                  {"started", h.started},
                                                  {"token", h.token}})
                                      .dump());
  const double when = static_cast<double>(time(nullptr)) - age_s;
  struct timespec times[2];
  times[0].tv_sec = times[1].tv_sec = static_cast<time_t>(when);
  times[0].tv_nsec = times[1].tv_nsec = 0;
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

double age_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0);
  return static_cast<double>(time(nullptr) - st.st_mtim.tv_sec);
}

TEST(Claims, AClaimIsMadeOnceAndASecondIsRefused) {
  ClaimDir claims(stilts::testing::make_temp_dir() / "claims", ClaimOptions{});
  auto first = claims.try_claim(kKey);
  ASSERT_NE(first, nullptr);
  EXPECT_TRUE(fs::exists(claims.dir() / kKey));
  const auto holder = claims.holder(kKey);
  ASSERT_TRUE(holder.has_value());
  EXPECT_EQ(holder->pid, getpid());
  EXPECT_EQ(holder->token, first->holder().token);
  EXPECT_GT(holder->pid_start, 0);
  EXPECT_TRUE(claims.held_by_live_worker(kKey));

  EXPECT_EQ(claims.try_claim(kKey), nullptr) << "this process is alive: its claim stands";
  EXPECT_NE(claims.try_claim("another-key"), nullptr);

  first->release();
  EXPECT_FALSE(fs::exists(claims.dir() / kKey));
  EXPECT_FALSE(claims.held_by_live_worker(kKey));
  EXPECT_NE(claims.try_claim(kKey), nullptr) << "released: free to claim again";
  // Only the temp-free claim files are left behind: no .tmp or .stale files.
  for (const auto& e : fs::directory_iterator(claims.dir())) {
    EXPECT_NE(e.path().filename().string()[0], '.') << e.path();
  }
}

TEST(Claims, ADeadProcessOnThisMachineLosesItsClaim) {
  ClaimDir claims(stilts::testing::make_temp_dir() / "claims", ClaimOptions{});
  ClaimHolder dead = stilts::pipeline::this_process();
  dead.pid = dead_pid();
  dead.pid_start = 0;
  write_claim(claims.dir() / kKey, dead, /*age_s=*/0);  // a fresh heartbeat does not save a gone pid
  EXPECT_FALSE(claims.held_by_live_worker(kKey));
  std::optional<ClaimHolder> reclaimed;
  auto claim = claims.try_claim(kKey, &reclaimed);
  ASSERT_NE(claim, nullptr);
  ASSERT_TRUE(reclaimed.has_value());
  EXPECT_EQ(reclaimed->pid, dead.pid);
  EXPECT_EQ(claims.holder(kKey)->pid, getpid());
}

TEST(Claims, AKilledButUnreapedProcessIsDead) {
  ClaimDir claims(stilts::testing::make_temp_dir() / "claims", ClaimOptions{});
  const pid_t pid = fork();
  if (pid == 0) {
    pause();
    _exit(0);
  }
  ClaimHolder zombie = stilts::pipeline::this_process();
  zombie.pid = pid;
  zombie.pid_start = 0;
  write_claim(claims.dir() / kKey, zombie, 0);
  EXPECT_TRUE(claims.held_by_live_worker(kKey)) << "running";
  kill(pid, SIGKILL);
  wait_until_exited_unreaped(pid);
  EXPECT_FALSE(claims.held_by_live_worker(kKey)) << "a zombie holds nothing";
  waitpid(pid, nullptr, 0);
}

// A killed multithreaded worker: its main thread may be a zombie while its other threads still exit
// and still hold its files, so its run directory's flock(). Taking its stage over then would fail on
// that lock ("another stilts train is running"), as CI saw once. It is dead only when every thread is.
TEST(Claims, AProcessIsDeadOnlyWhenEveryThreadHasExited) {
  ClaimDir claims(stilts::testing::make_temp_dir() / "claims", ClaimOptions{});
  const pid_t pid = fork();
  if (pid == 0) {
    pthread_t thread;
    pthread_create(&thread, nullptr, [](void*) -> void* { for (;;) pause(); }, nullptr);
    syscall(SYS_exit, 0);  // ends the main thread only; the other one goes on
  }
  ClaimHolder holder = stilts::pipeline::this_process();
  holder.pid = pid;
  holder.pid_start = 0;
  write_claim(claims.dir() / kKey, holder, 0);
  // Wait for the main thread to be a zombie (the process lives on in its other thread).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (main_thread_state(pid) != 'Z' && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(main_thread_state(pid), 'Z');
  EXPECT_TRUE(claims.held_by_live_worker(kKey)) << "a thread of the holder still runs";
  EXPECT_EQ(claims.try_claim(kKey), nullptr);

  kill(pid, SIGKILL);
  wait_until_exited_unreaped(pid);
  EXPECT_FALSE(claims.held_by_live_worker(kKey)) << "every thread has exited";
  EXPECT_NE(claims.try_claim(kKey), nullptr);
  waitpid(pid, nullptr, 0);
}

TEST(Claims, AReusedPidIsNotTheHolder) {
  ClaimDir claims(stilts::testing::make_temp_dir() / "claims", ClaimOptions{});
  ClaimHolder before = stilts::pipeline::this_process();
  before.pid = getppid();    // alive, but started at another time than recorded
  before.pid_start = 12345;  // clock ticks since boot: not the parent's
  write_claim(claims.dir() / kKey, before, 0);
  EXPECT_NE(claims.try_claim(kKey), nullptr);
}

TEST(Claims, AnotherMachineKeepsItsClaimUntilItsHeartbeatIsStale) {
  ClaimOptions options;
  options.stale_after_s = 60;
  ClaimDir claims(stilts::testing::make_temp_dir() / "claims", options);
  ClaimHolder remote;
  remote.host = "node-17.cluster";
  remote.boot_id = "another-boot";
  remote.pid = 1;
  remote.started = 1.7e9;
  remote.token = "remote";
  write_claim(claims.dir() / kKey, remote, /*age_s=*/30);
  EXPECT_TRUE(claims.held_by_live_worker(kKey));
  EXPECT_EQ(claims.try_claim(kKey), nullptr) << "30 s old heartbeat, 60 s timeout: alive";
  EXPECT_EQ(claims.holder(kKey)->token, "remote");

  write_claim(claims.dir() / kKey, remote, /*age_s=*/120);
  EXPECT_FALSE(claims.held_by_live_worker(kKey));
  std::optional<ClaimHolder> reclaimed;
  auto claim = claims.try_claim(kKey, &reclaimed);
  ASSERT_NE(claim, nullptr);
  ASSERT_TRUE(reclaimed.has_value());
  EXPECT_EQ(reclaimed->host, "node-17.cluster");
  EXPECT_NE(claims.holder(kKey)->token, "remote");
}

TEST(Claims, TheHeartbeatKeepsAClaimFresh) {
  ClaimOptions options;
  options.stale_after_s = 60;
  options.heartbeat_s = 0.05;
  ClaimDir claims(stilts::testing::make_temp_dir() / "claims", options);
  auto claim = claims.try_claim(kKey);
  ASSERT_NE(claim, nullptr);
  ClaimHolder mine = claim->holder();
  write_claim(claims.dir() / kKey, mine, /*age_s=*/1000);  // as if the heartbeat had stopped long ago
  EXPECT_GE(age_of(claims.dir() / kKey), 999);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_LE(age_of(claims.dir() / kKey), 2) << "the heartbeat thread refreshes the modification time";
}

TEST(Claims, ReleaseLeavesAClaimThatIsNoLongerOurs) {
  ClaimOptions options;
  options.heartbeat_s = 0.02;
  ClaimDir claims(stilts::testing::make_temp_dir() / "claims", options);
  auto claim = claims.try_claim(kKey);
  ASSERT_NE(claim, nullptr);
  EXPECT_FALSE(claim->taken_over_by().has_value());
  ClaimHolder other = stilts::pipeline::this_process();
  other.token = "taken-over";
  write_claim(claims.dir() / kKey, other, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_TRUE(claim->taken_over_by().has_value()) << "the heartbeat notices the claim is not ours anymore";
  EXPECT_EQ(claim->taken_over_by()->token, "taken-over");
  claim->release();
  ASSERT_TRUE(claims.holder(kKey).has_value());
  EXPECT_EQ(claims.holder(kKey)->token, "taken-over");
}

TEST(Claims, ClaimsOfDeadWorkersAreClearedAndLiveOnesKept) {
  ClaimDir claims(stilts::testing::make_temp_dir() / "claims", ClaimOptions{});
  ClaimHolder dead = stilts::pipeline::this_process();
  dead.pid = dead_pid();
  write_claim(claims.dir() / "dead", dead, 0);
  auto live = claims.try_claim("live");
  ASSERT_NE(live, nullptr);
  EXPECT_TRUE(claims.clear_if_dead("dead"));
  EXPECT_FALSE(fs::exists(claims.dir() / "dead"));
  EXPECT_FALSE(claims.clear_if_dead("live"));
  EXPECT_TRUE(fs::exists(claims.dir() / "live"));
  EXPECT_FALSE(claims.clear_if_dead("none"));
}

TEST(Claims, ANonPositiveTimeoutIsAnInputError) {
  ClaimOptions options;
  options.stale_after_s = 0;
  try {
    ClaimDir claims(stilts::testing::make_temp_dir() / "claims", options);
    FAIL() << "expected an InputError";
  } catch (const stilts::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("claim timeout"), std::string::npos) << e.what();
  }
}

}  // namespace
