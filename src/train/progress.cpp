#include "train/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace stilts::train {

namespace {
using Clock = std::chrono::steady_clock;

std::string duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<long long>(seconds + 0.5);
  char buffer[32];
  if (s >= 3600) {
    std::snprintf(buffer, sizeof(buffer), "%lldh%02lldm", s / 3600, (s / 60) % 60);
  } else if (s >= 60) {
    std::snprintf(buffer, sizeof(buffer), "%lldm%02llds", s / 60, s % 60);
  } else {
    std::snprintf(buffer, sizeof(buffer), "%llds", s);
  }
  return buffer;
}
}  // namespace

Progress::Progress(std::ostream& out, bool tty, int64_t total_steps, int64_t start_step, int64_t log_every)
    : out_(out), tty_(tty), total_(total_steps), start_(start_step), log_every_(log_every),
      started_(Clock::now()), last_draw_(started_ - std::chrono::seconds(1)) {}

bool Progress::stderr_is_tty() { return ::isatty(STDERR_FILENO) == 1; }

std::string Progress::eta(int64_t step) const {
  const double elapsed = std::chrono::duration<double>(Clock::now() - started_).count();
  const int64_t done = step - start_;
  if (done <= 0) return "?";
  return duration(elapsed / static_cast<double>(done) * static_cast<double>(total_ - step));
}

void Progress::clear_bar() {
  if (tty_ && bar_shown_) {
    out_ << "\r\033[K";
    bar_shown_ = false;
  }
}

void Progress::step(int64_t step, double epoch, double loss, double lr, int64_t examples) {
  examples_ += examples;
  const auto now = Clock::now();
  const double elapsed = std::chrono::duration<double>(now - started_).count();
  const double rate = elapsed > 0 ? static_cast<double>(examples_) / elapsed : 0.0;
  char line[256];
  if (tty_) {
    // Redraw at most ~10 times a second, and always on the last step.
    if (step != total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    constexpr int kWidth = 30;
    const int filled = total_ > 0 ? static_cast<int>(kWidth * step / total_) : 0;
    std::string bar(static_cast<size_t>(filled), '=');
    if (filled < kWidth) bar += '>' + std::string(static_cast<size_t>(kWidth - filled - 1), ' ');
    std::snprintf(line, sizeof(line), "\r\033[K[%s] %lld/%lld  loss %.4f  %.1f ex/s  ETA %s", bar.c_str(),
                  static_cast<long long>(step), static_cast<long long>(total_), loss, rate, eta(step).c_str());
    out_ << line << std::flush;
    bar_shown_ = true;
    return;
  }
  if (step % log_every_ != 0 && step != total_) return;
  std::snprintf(line, sizeof(line), "step %lld/%lld  epoch %.2f  loss %.4f  lr %.3g  %.1f ex/s  eta %s",
                static_cast<long long>(step), static_cast<long long>(total_), epoch, loss, lr, rate,
                eta(step).c_str());
  out_ << line << "\n" << std::flush;
}

void Progress::message(const std::string& text) {
  clear_bar();
  out_ << text << "\n" << std::flush;
  last_draw_ = Clock::now() - std::chrono::seconds(1);
}

void Progress::finish() {
  if (tty_ && bar_shown_) out_ << "\n" << std::flush;
  bar_shown_ = false;
}

}  // namespace stilts::train
