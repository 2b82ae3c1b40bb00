#include "train_options.h"

#include "train/distributed.h"

namespace stilts::cli {

std::shared_ptr<TrainConfigOptions> TrainConfigOptions::attach(CLI::App* cmd) {
  return std::shared_ptr<TrainConfigOptions>(new TrainConfigOptions(cmd));
}

void TrainConfigOptions::add_shared(const std::string& lr_help, const std::string& seed_help) {
  using C = train::TrainConfig;
  add("--epochs", &C::epochs, "epochs (default 3)");
  add("--max-steps", &C::max_steps, "optimizer steps; overrides --epochs when > 0");
  add("--batch-size", &C::batch_size, "examples per batch (default 32)");
  add("--grad-accum-steps", &C::grad_accum_steps, "batches per optimizer step (default 1)");
  add("--lr", &C::lr, lr_help);
  add("--lr-schedule", &C::lr_schedule, "linear | cosine | constant, after warm-up");
  add("--warmup-ratio", &C::warmup_ratio, "warm-up as a fraction of the steps (default 0)");
  add("--seed", &C::seed, seed_help);
  add("--max-length", &C::max_length, "tokens per example after truncation (default 128)");
  add("--doc-stride", &C::doc_stride, "extractive QA: context tokens between window starts (default 128)");
  add("--max-query-length", &C::max_query_length, "extractive QA: question tokens kept (default 64)");
  add("--max-answer-length", &C::max_answer_length, "extractive QA: longest answer in tokens (default 30)");
  add("--n-best", &C::n_best, "extractive QA: start and end candidates per window (default 20)");
  add("--eval-every", &C::eval_every, "steps between dev evaluations (default 0: every epoch)");
  add("--checkpoint-every", &C::checkpoint_every, "steps between checkpoints (default 0: at every evaluation)");
  add("--precision", &C::precision,
      "fp32 | bf16 (autocast, CPU or CUDA) | fp16 (CUDA autocast with dynamic loss scaling) (default fp32)");
  add("--device", &C::device, "cpu | cuda | cuda:N: where the model and batches live (default cpu)");
  add("--threads", &C::threads, "torch threads (default 0: 1 for fp32 and int8; for bf16 OMP_NUM_THREADS when set, else every core)");
  cmd_->add_flag("--resume", resume_,
                 "continue the run in --out from its last checkpoint (a finished run: exit 0, nothing to do)");
  cmd_->add_option("--config", config_file_, "config file (.toml or .json) with any of the keys of --set");
  cmd_->add_option("--set", settings_, "key=value over the config file and options (repeatable)");
}

train::TrainOptions TrainConfigOptions::run_options(std::ostream& quiet) const {
  train::TrainOptions run;
  run.resume = resume_;
  const train::RankContext rank = train::rank_context_from_environment();
  if (rank.distributed()) {
    run.group = train::ProcessGroup::connect(rank, train::distributed_timeout_from_environment());
    if (!rank.writes()) run.log = &quiet;
  }
  return run;
}

train::TrainConfig TrainConfigOptions::resolve(train::TrainConfig config) const {
  if (!config_file_.empty()) train::load_config_file(config_file_, config);
  for (const auto& [option, copy] : given_) {
    if (option->count() > 0) copy(config);
  }
  for (const auto& s : settings_) config.apply_setting(s);
  return config;
}

}  // namespace stilts::cli
