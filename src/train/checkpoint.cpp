#include "train/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "common/error.h"
#include "common/files.h"
#include "io/safetensors.h"
#include "models/pretrained.h"
#include "models/registry.h"
#include "train/optimizer.h"

namespace stilts::train {

namespace fs = std::filesystem;

namespace {

std::string checkpoint_name(const std::string& kind, int64_t step) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%08lld", static_cast<long long>(step));
  return kind + "-" + buffer;
}

std::optional<int64_t> parse_step(const std::string& name, const std::string& kind) {
  const std::string prefix = kind + "-";
  if (name.rfind(prefix, 0) != 0 || name.size() == prefix.size()) return std::nullopt;
  int64_t step = 0;
  for (size_t i = prefix.size(); i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    step = step * 10 + (name[i] - '0');
  }
  return step;
}

void fsync_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) input_error(path.string(), ": cannot open to fsync");
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void fsync_directory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

std::vector<CheckpointRef> list_checkpoints(const fs::path& checkpoints_dir, const std::string& kind) {
  std::vector<CheckpointRef> out;
  std::error_code ec;
  if (!fs::is_directory(checkpoints_dir, ec)) return out;
  for (const auto& entry : fs::directory_iterator(checkpoints_dir)) {
    if (!entry.is_directory()) continue;
    if (const auto step = parse_step(entry.path().filename().string(), kind)) out.push_back({entry.path(), *step});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.step < b.step; });
  return out;
}

std::optional<CheckpointRef> latest_checkpoint(const fs::path& checkpoints_dir, const std::string& kind) {
  auto all = list_checkpoints(checkpoints_dir, kind);
  if (all.empty()) return std::nullopt;
  return all.back();
}

fs::path commit_checkpoint(const fs::path& checkpoints_dir, const std::string& kind, int64_t step,
                           const std::function<void(const fs::path&)>& fill) {
  fs::create_directories(checkpoints_dir);
  const std::string name = checkpoint_name(kind, step);
  const fs::path tmp = checkpoints_dir / (".tmp-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  fill(tmp);
  // The writers fsync their files already (write_file_atomic, save_safetensors); be sure of the rest.
  for (const auto& entry : fs::directory_iterator(tmp)) {
    if (entry.is_regular_file()) fsync_file(entry.path());
  }
  fsync_directory(tmp);
  const fs::path target = checkpoints_dir / name;
  std::error_code ec;
  fs::remove_all(target, ec);  // a replay of a step whose checkpoint a killed run already committed
  fs::rename(tmp, target, ec);
  if (ec) input_error(target.string(), ": cannot move the checkpoint into place (", ec.message(), ")");
  fsync_directory(checkpoints_dir);
  return target;
}

void prune_checkpoints(const fs::path& checkpoints_dir, const std::string& kind, const std::vector<int64_t>& keep) {
  bool removed = false;
  for (const auto& ref : list_checkpoints(checkpoints_dir, kind)) {
    if (std::find(keep.begin(), keep.end(), ref.step) != keep.end()) continue;
    fs::remove_all(ref.dir);
    removed = true;
  }
  if (removed) fsync_directory(checkpoints_dir);
}

void remove_temp_checkpoints(const fs::path& checkpoints_dir) {
  std::error_code ec;
  if (!fs::is_directory(checkpoints_dir, ec)) return;
  std::vector<fs::path> stale;
  for (const auto& entry : fs::directory_iterator(checkpoints_dir)) {
    if (entry.path().filename().string().rfind(".tmp-", 0) == 0) stale.push_back(entry.path());
  }
  for (const auto& p : stale) fs::remove_all(p);
}

void write_training_state(const fs::path& dir, models::EncoderModel& model, torch::optim::AdamW& optimizer,
                          const nlohmann::json& trainer_state) {
  models::save_pretrained(model, dir);
  io::save_safetensors(dir / "optimizer.safetensors", adamw_state_tensors(optimizer, model), {});
  at::Tensor rng;
  {
    auto generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    rng = generator.get_state();
  }
  io::save_safetensors(dir / "rng.safetensors", {{"cpu", rng}}, {});
  write_file_atomic(dir / "trainer_state.json", trainer_state.dump(1) + "\n");
}

void load_model_weights(const fs::path& dir, models::EncoderModel& model) {
  const fs::path file = dir / "model.safetensors";
  models::load_weights(model, io::load_safetensors(file), models::LoadMode::kStrict, file.string());
}

nlohmann::json read_training_state(const fs::path& dir, models::EncoderModel& model, torch::optim::AdamW& optimizer) {
  nlohmann::json state = read_json_file(dir / "trainer_state.json");
  load_model_weights(dir, model);
  const fs::path optimizer_file = dir / "optimizer.safetensors";
  load_adamw_state(optimizer, model, io::load_safetensors(optimizer_file), optimizer_file.string());
  const fs::path rng_file = dir / "rng.safetensors";
  const auto rng = io::load_safetensors(rng_file);
  if (!rng.count("cpu")) input_error(rng_file.string(), ": no 'cpu' generator state");
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(rng.at("cpu").clone());
  return state;
}

}  // namespace stilts::train
