// The command-line options stilts train and stilts pretrain share, and their layering: the command's
// defaults, then the --config file, then the options given on the command line, then each --set.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "train/config.h"
#include "train/trainer.h"

namespace stilts::cli {

class TrainConfigOptions {
 public:
  // Held by shared_ptr: the command's callback keeps it alive.
  static std::shared_ptr<TrainConfigOptions> attach(CLI::App* cmd);

  // --NAME into config.*member when given; a repeated option overrides an earlier one (scripts append
  // to a base command line), except for lists, which collect.
  template <class T>
  CLI::Option* add(const std::string& name, T train::TrainConfig::*member, const std::string& help) {
    CLI::Option* o = cmd_->add_option(name, stage_.get()->*member, help);
    if constexpr (!std::is_same_v<T, std::vector<std::string>>) {
      o->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    }
    auto stage = stage_;
    given_.emplace_back(o, [stage, member](train::TrainConfig& target) { target.*member = stage.get()->*member; });
    return o;
  }

  // The schedule, seed, length, evaluation, checkpoint, precision and thread options, then --resume,
  // --config and --set. `lr_help` and `seed_help` say what the command's defaults mean.
  void add_shared(const std::string& lr_help, const std::string& seed_help);

  // `defaults`, then the --config file, then the options given, then each --set.
  train::TrainConfig resolve(train::TrainConfig defaults) const;
  bool resume() const { return resume_; }
  // The run's options: --resume, and when the process was launched the torchrun way (RANK, WORLD_SIZE,
  // ...), its rank's process group, joined here; only rank 0 logs (the others' log is `quiet`).
  train::TrainOptions run_options(std::ostream& quiet) const;

 private:
  explicit TrainConfigOptions(CLI::App* cmd) : cmd_(cmd), stage_(std::make_shared<train::TrainConfig>()) {}

  CLI::App* cmd_;
  std::shared_ptr<train::TrainConfig> stage_;  // what the options parse into, copied when given
  std::vector<std::pair<CLI::Option*, std::function<void(train::TrainConfig&)>>> given_;
  std::string config_file_;
  std::vector<std::string> settings_;
  bool resume_ = false;
};

}  // namespace stilts::cli
