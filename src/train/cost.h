// What a training run cost: examples and non-pad tokens processed, wall and CPU time, and the padded
// batch shapes, from which analytic FLOPs follow for any model (bench::training_flops). Kept in the
// trainer's checkpoint state, so a resumed run reports the cost of the work its result rests on (work
// lost to a kill after the last checkpoint is redone and counted once), and written to metrics.json as
//   "cost": {"examples": N, "tokens": N, "wall_s": s, "cpu_s": s, "sequences_by_length": {"T": rows, ...}}
// where sequences_by_length counts the rows of the batches padded to length T (forward passes done).
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace stilts::train {

struct TrainingCost {
  int64_t examples = 0;
  int64_t tokens = 0;  // non-pad
  double wall_s = 0.0;
  double cpu_s = 0.0;  // process CPU time (user + system, every thread)
  std::map<int64_t, int64_t> sequences_by_length;

  void add_batch(int64_t rows, int64_t padded_length, int64_t non_pad_tokens) {
    examples += rows;
    tokens += non_pad_tokens;
    sequences_by_length[padded_length] += rows;
  }

  nlohmann::json to_json() const {
    nlohmann::json by_length = nlohmann::json::object();
    for (const auto& [t, n] : sequences_by_length) by_length[std::to_string(t)] = n;
    return {{"examples", examples}, {"tokens", tokens}, {"wall_s", wall_s}, {"cpu_s", cpu_s},
            {"sequences_by_length", by_length}};
  }

  // Absent or null gives zeros (runs from before the cost was recorded).
  static TrainingCost from_json(const nlohmann::json& j) {
    TrainingCost c;
    if (!j.is_object()) return c;
    c.examples = j.value("examples", int64_t{0});
    c.tokens = j.value("tokens", int64_t{0});
    c.wall_s = j.value("wall_s", 0.0);
    c.cpu_s = j.value("cpu_s", 0.0);
    if (j.contains("sequences_by_length")) {
      for (const auto& [t, n] : j.at("sequences_by_length").items()) c.sequences_by_length[std::stoll(t)] = n.get<int64_t>();
    }
    return c;
  }
};

// Wall and process CPU time since construction, to add to a TrainingCost carried over from a checkpoint.
class CostClock {
 public:
  CostClock() : wall_(std::chrono::steady_clock::now()), cpu_(std::clock()) {}
  double wall_s() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_).count(); }
  double cpu_s() const { return static_cast<double>(std::clock() - cpu_) / CLOCKS_PER_SEC; }

 private:
  std::chrono::steady_clock::time_point wall_;
  std::clock_t cpu_;
};

}  // namespace stilts::train
