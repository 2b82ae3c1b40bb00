// stilts run EXPERIMENT.toml [--set key=value ...] [--out RUN_DIR] [--dry-run] [--workers N]
//                            [--claim-timeout SECONDS]
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>

#include "commands.h"
#include "hub/cache.h"
#include "common/error.h"
#include "pipeline/experiment_config.h"
#include "pipeline/runner.h"
#include "report/report.h"
#include "train/distributed.h"

extern char** environ;

namespace stilts::cli {

namespace {

// This program's path, for starting workers of itself.
std::string self_path() {
  std::error_code ec;
  const auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) input_error("/proc/self/exe: cannot find this program to start workers (", ec.message(), ")");
  return path.string();
}

// The workers a `--workers` parent started, for the signal handler: SIGINT and SIGTERM (Ctrl-C, a
// scheduler's cancel) to the parent reach them too, then end the parent as the signal would.
constexpr int kMaxWorkers = 256;
pid_t g_workers[kMaxWorkers];
volatile sig_atomic_t g_worker_count = 0;

extern "C" void forward_signal(int sig) {
  for (int i = 0; i < g_worker_count; ++i) ::kill(g_workers[i], sig);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// Starts `n` worker processes (`stilts run` with `args` and --worker-only, sharing stdout and stderr)
// and waits for them all. A worker killed by a signal is reported and left to the caller, which takes
// over its claimed stage; a worker that failed (its error is printed above) is an error once all ended.
void run_workers(int n, const std::vector<std::string>& args) {
  if (n > kMaxWorkers) input_error("--workers ", n, ": at most ", kMaxWorkers, " on one machine");
  const std::string program = self_path();
  std::vector<pid_t> pids;
  ::signal(SIGINT, forward_signal);
  ::signal(SIGTERM, forward_signal);
  for (int i = 0; i < n; ++i) {
    std::vector<char*> argv = {const_cast<char*>(program.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv.data(), environ);
    if (rc != 0) {
      for (const pid_t p : pids) ::kill(p, SIGTERM);
      for (const pid_t p : pids) ::waitpid(p, nullptr, 0);
      input_error("cannot start worker ", i + 1, " of ", n, " (", std::strerror(rc), ")");
    }
    std::cerr << "stilts run: worker " << i + 1 << " of " << n << " is pid " << pid << "\n";
    pids.push_back(pid);
    g_workers[g_worker_count] = pid;
    g_worker_count = g_worker_count + 1;
  }
  // Reaped in the order they end: a killed worker must not linger as a zombie, whose pid still looks
  // alive to the worker that would take its stage over.
  std::string failed;
  for (size_t ended = 0; ended < pids.size();) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: none left
    }
    const auto it = std::find(pids.begin(), pids.end(), pid);
    if (it == pids.end()) continue;
    ++ended;
    const size_t i = static_cast<size_t>(it - pids.begin());
    const std::string who = "worker " + std::to_string(i + 1) + " (pid " + std::to_string(pid) + ")";
    if (WIFSIGNALED(status)) {
      std::cerr << "stilts run: warning: " << who << " was killed by signal " << WTERMSIG(status) << " ("
                << strsignal(WTERMSIG(status)) << "); its unfinished stage is taken over\n";
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
      failed += (failed.empty() ? "" : ", ") + who + " exited with code " + std::to_string(WEXITSTATUS(status));
    }
  }
  g_worker_count = 0;
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  if (!failed.empty()) {
    input_error("stilts run --workers ", n, ": ", failed,
                " (the error is above); finished stages are kept: fix the cause and run again to resume");
  }
}

}  // namespace

void add_run_command(CLI::App& app) {
  struct Args {
    std::string config;
    std::vector<std::string> settings;
    std::string out;
    bool dry_run = false;
    bool no_report = false;
    int workers = 1;
    double claim_timeout = 600;
    double poll = 1.0;
    bool worker_only = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "run",
      "Run a study from an experiment config (TOML): every arm (a chain of stages, e.g. intermediate ->\n"
      "target, or target alone; or several chains, one per target task) for every seed, each stage\n"
      "trained once and shared by the chains that start with it, then each target model evaluated\n"
      "zero-shot on every language's dev and test files (a task without train files only evaluates).\n"
      "Results go to RUN_DIR/results.sqlite (results, stages, curves, predictions, efficiency, ...); stages\n"
      "to RUN_DIR/stages/<hash>/; the report to RUN_DIR/report/ (as stilts report writes it).\n"
      "Run it again after a crash or kill: finished stages are skipped, an unfinished one resumes exactly.\n"
      "Several `stilts run` of one config may share RUN_DIR at once (--workers N locally, a Slurm job array,\n"
      "hosts on a shared filesystem): each claims ready stages (RUN_DIR/claims/), a dead worker's stage is\n"
      "taken over, and when all are finished one of them writes results.sqlite and the report.");
  cmd->add_option("config", args->config, "experiment config (.toml)")->required();
  cmd->add_option("--set", args->settings,
                  "dotted.key=value over the config file (repeatable), e.g. stages.target.epochs=1");
  cmd->add_option("--out", args->out, "run directory (default: runs/<experiment.name>)");
  cmd->add_flag("--dry-run", args->dry_run, "print the stage graph (which stages run, which are cached) and exit");
  cmd->add_flag("--no-report", args->no_report, "don't write RUN_DIR/report/ at the end");
  cmd->add_option("--workers", args->workers,
                  "start N worker processes sharing RUN_DIR (each trains one stage at a time; give each\n"
                  "fewer threads with --set stages.NAME.threads=T); this process writes the results after")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--claim-timeout", args->claim_timeout,
                  "seconds without a heartbeat after which another host's stage claim counts as dead and is\n"
                  "taken over (default 600; on one host a dead worker is seen by its pid at once)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--poll", args->poll, "seconds between looks for a ready stage while waiting for other workers")
      ->check(CLI::PositiveNumber)
      ->group("");
  cmd->add_flag("--worker-only", args->worker_only,
                "train stages only; leave results.sqlite and the report to another worker (--workers uses it)")
      ->group("");
  cmd->callback([args] {
    // Launched the torchrun way (RANK, WORLD_SIZE, ...): the ranks are one worker whose stages train
    // data-parallel; rank 0 walks the graph and writes, the others follow it and print nothing.
    const train::RankContext rank = train::rank_context_from_environment();
    if (rank.distributed() && args->workers > 1) {
      input_error("--workers ", args->workers, " under WORLD_SIZE=", rank.world_size,
                  ": the ranks of a job launched the torchrun way (stilts launch, torchrun) already act as one ",
                  "worker; start several such jobs on the same --out instead, or drop --workers");
    }
    if (rank.distributed() && args->dry_run && !rank.writes()) return;  // rank 0 prints the graph
    std::ostream quiet(nullptr);
    pipeline::ExperimentConfig config = pipeline::load_experiment(args->config, args->settings);
    if (!args->dry_run) {
      // A hub id runs on its cached snapshot: the run records that folder, whose name is the commit.
      const hub::ResolvedModel model = hub::resolve_model(config.model_path);
      if (!model.repo.empty() && rank.writes()) {
        std::cerr << "stilts run: model " << model.repo << "@" << model.revision << " = commit " << model.commit
                  << " (" << model.dir.string() << ")\n";
      }
      config.model_path = model.dir.string();
    }
    pipeline::RunOptions options;
    options.out = args->out.empty() ? std::filesystem::path("runs") / config.name : std::filesystem::path(args->out);
    options.dry_run = args->dry_run;
    options.claim_timeout_s = args->claim_timeout;
    options.poll_s = args->poll;
    options.finish = !args->worker_only;
    if (rank.distributed() && !args->dry_run) {
      options.group = train::ProcessGroup::connect(rank, train::distributed_timeout_from_environment());
      if (!rank.writes()) options.log = &quiet;
    }
    if (args->workers > 1 && !args->dry_run) {
      if (args->worker_only) input_error("--workers and --worker-only: a worker does not start workers");
      std::vector<std::string> worker_args = {"run", args->config, "--out", options.out.string(), "--worker-only",
                                              "--claim-timeout", std::to_string(args->claim_timeout),
                                              "--poll", std::to_string(args->poll)};
      for (const auto& s : args->settings) {
        worker_args.push_back("--set");
        worker_args.push_back(s);
      }
      run_workers(args->workers, worker_args);
    }
    // With --workers, the stages are finished (or one of a killed worker is left to take over) and
    // this process writes the results.
    const pipeline::RunSummary summary = pipeline::run_experiment(config, options);
    if (args->dry_run || args->no_report || !summary.wrote_results) return;
    // The study's figures are safe in results.sqlite whatever happens here: a report that cannot be
    // written (e.g. gnuplot missing) is a warning, not a failed run.
    try {
      const report::ReportPaths paths = report::write_report(options.out);
      std::cerr << "stilts run: report in " << paths.html.string() << "\n";
    } catch (const InputError& e) {
      std::cerr << "stilts run: warning: the report was not written: " << e.what() << "\n"
                << "  (the results are in " << (options.out / "results.sqlite").string()
                << "; retry with: stilts report " << options.out.string() << ")\n";
    }
  });
}

}  // namespace stilts::cli
