#include "support/torch/tiny_models.h"

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <functional>
#include <thread>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/files.h"
#include "models/pretrained.h"
#include "models/registry.h"
#include "train/checkpoint.h"

namespace stilts::testing {

namespace fs = std::filesystem;

fs::path make_tiny_bert(const fs::path& dir, const TinyBert& spec) {
  std::vector<std::string> vocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  vocab.insert(vocab.end(), spec.words.begin(), spec.words.end());
  const nlohmann::json config = {{"model_type", "bert"},
                                 {"vocab_size", vocab.size()},
                                 {"hidden_size", spec.hidden_size},
                                 {"num_hidden_layers", spec.num_hidden_layers},
                                 {"num_attention_heads", spec.num_attention_heads},
                                 {"intermediate_size", spec.intermediate_size},
                                 {"max_position_embeddings", 64},
                                 {"type_vocab_size", 2},
                                 {"pad_token_id", 0}};
  torch::manual_seed(0);
  models::BuildOptions build;
  build.head = spec.with_head ? models::HeadKind::kSequenceClassification : models::HeadKind::kNone;
  auto model = models::create_model(config, "tiny", build);
  models::save_pretrained(*model, dir);
  std::string text;
  for (const auto& v : vocab) text += v + "\n";
  write_file_atomic(dir / "vocab.txt", text);
  return dir;
}

int64_t latest_last_step(const fs::path& out) {
  try {
    const auto last = train::latest_checkpoint(out / "checkpoints", "last");
    return last ? last->step : -1;
  } catch (const fs::filesystem_error&) {
    return -1;  // a checkpoint renamed or removed while listing
  }
}

int64_t downstream_checkpoint(const fs::path& run_dir) {
  try {
    if (!fs::exists(run_dir / "stages")) return -1;
    for (const auto& entry : fs::directory_iterator(run_dir / "stages")) {
      const fs::path dir = entry.path();
      if (fs::exists(dir / "stage.json") || !fs::exists(dir / "config.resolved.json")) continue;
      const auto config = read_json_file(dir / "config.resolved.json");
      if (config.at("model").get<std::string>().find("/stages/") == std::string::npos) continue;
      const auto last = train::latest_checkpoint(dir / "checkpoints", "last");
      if (last) return last->step;
    }
  } catch (const std::exception&) {
    // a file renamed while looking
  }
  return -1;
}

namespace {

// SIGKILLs `pid` once checkpoint_step() reaches `step`: the step it was killed after, or -1 when the process
// ended first (a test failure after `seconds` without either).
int64_t kill_when(pid_t pid, const std::function<int64_t()>& checkpoint_step, int64_t step, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return -1;
    const int64_t seen = checkpoint_step();
    if (seen >= step) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
      return seen;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(300));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  ADD_FAILURE() << "no checkpoint at step " << step << " within " << seconds << " s";
  return -1;
}

}  // namespace

int64_t kill_after_checkpoint(pid_t pid, const fs::path& out, int64_t step, int seconds) {
  return kill_when(pid, [&] { return latest_last_step(out); }, step, seconds);
}

int64_t kill_after_downstream_checkpoint(pid_t pid, const fs::path& run_dir, int64_t step, int seconds) {
  return kill_when(pid, [&] { return downstream_checkpoint(run_dir); }, step, seconds);
}

}  // namespace stilts::testing
