// Training progress on stderr: a redrawn bar with loss, examples/s and ETA on a terminal, plain
// periodic log lines otherwise (CI, pipes, log files). Wall-clock time is only ever displayed here:
// nothing a run computes depends on it.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace stilts::train {

class Progress {
 public:
  // `tty`: draw a bar (else a line every `log_every` steps). Steps count optimizer steps.
  Progress(std::ostream& out, bool tty, int64_t total_steps, int64_t start_step, int64_t log_every);

  void step(int64_t step, double epoch, double loss, double lr, int64_t examples);
  // A message on its own line (evaluations, checkpoints), keeping the bar below it.
  void message(const std::string& text);
  void finish();

  static bool stderr_is_tty();

 private:
  std::string eta(int64_t step) const;
  void clear_bar();

  std::ostream& out_;
  bool tty_;
  int64_t total_, start_, log_every_;
  int64_t examples_ = 0;
  std::chrono::steady_clock::time_point started_, last_draw_;
  bool bar_shown_ = false;
};

}  // namespace stilts::train
