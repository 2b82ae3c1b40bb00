#include "train/device.h"

#include <ATen/Context.h>
#include <torch/cuda.h>
#include <torch/nn/module.h>

#include <cctype>

#include "common/error.h"
#include "train/distributed.h"

namespace stilts::train {

namespace {

constexpr const char* kCudaHint = "see \"Building against a CUDA libtorch\" in the README";

}  // namespace

torch::Device parse_device(const std::string& name, const std::string& option) {
  if (name == "cpu") return torch::kCPU;
  int64_t index = -1;
  if (name.rfind("cuda:", 0) == 0) {
    const std::string digits = name.substr(5);
    bool ok = !digits.empty() && digits.size() <= 4;
    for (char c : digits) ok = ok && std::isdigit(static_cast<unsigned char>(c));
    if (!ok) input_error(option, ": '", name, "' is not a device; expected cpu, cuda or cuda:N (N a GPU index: 0, 1, ...)");
    index = std::stoll(digits);
  } else if (name != "cuda") {
    input_error(option, ": '", name, "' is not a device; expected cpu, cuda or cuda:N (N a GPU index: 0, 1, ...)");
  }
  if (!at::hasCUDA()) {
    input_error(option, ": '", name, "': this libtorch was built without CUDA (a CPU-only build); use ", option,
                " cpu, or build stilts against a CUDA libtorch (", kCudaHint, ")");
  }
  if (!torch::cuda::is_available()) {
    input_error(option, ": '", name, "': this libtorch has CUDA but no GPU is visible (driver, CUDA_VISIBLE_DEVICES?); ",
                "use cpu (", kCudaHint, ")");
  }
  const auto count = static_cast<int64_t>(torch::cuda::device_count());
  if (index >= count) {
    input_error(option, ": '", name, "': GPU ", index, " does not exist (", count, " visible: cuda:0 to cuda:", count - 1,
                ")");
  }
  return index < 0 ? torch::Device(torch::kCUDA) : torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

torch::Device parse_device(const std::string& name, const std::string& option, const ProcessGroup* group) {
  const torch::Device device = parse_device(name, option);
  if (group == nullptr || !device.is_cuda()) return device;
  return device_for_local_rank(device, group->local_rank(), static_cast<int64_t>(torch::cuda::device_count()), option);
}

torch::Device device_for_local_rank(torch::Device device, int local_rank, int64_t gpus, const std::string& option) {
  if (!device.is_cuda() || device.has_index()) return device;
  if (local_rank >= gpus) {
    input_error(option, ": 'cuda' under ranks is cuda:LOCAL_RANK, and LOCAL_RANK ", local_rank, " has no GPU (", gpus,
                " visible): start at most ", gpus, " ranks per machine, or name one GPU for all (cuda:N)");
  }
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank));
}

torch::Device device_of(const torch::nn::Module& module) {
  for (const auto& p : module.parameters(/*recurse=*/true)) return p.device();
  return torch::kCPU;
}

void synchronize(torch::Device device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.has_index() ? device.index() : -1);
}

}  // namespace stilts::train
