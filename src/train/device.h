// The device training, evaluation and the benchmark run on: "cpu", "cuda" or "cuda:N" (the config key
// `device`, --device). Tensors and modules live there; what is written (checkpoints, models) and decoded
// (predictions) is copied to the CPU first.
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <string>

namespace stilts::train {

// "cpu" | "cuda" | "cuda:N" -> the device. InputError naming `option` for anything else, and for a CUDA
// device this process cannot use (a libtorch built without CUDA, no GPU visible, N beyond the GPUs).
torch::Device parse_device(const std::string& name, const std::string& option = "device");

class ProcessGroup;

// parse_device for this process, one of `group`'s ranks when group is not null: there "cuda" without an
// index is cuda:LOCAL_RANK (torchrun's convention, one GPU per rank of a machine), as
// device_for_local_rank says.
torch::Device parse_device(const std::string& name, const std::string& option, const ProcessGroup* group);

// The device of the rank with index `local_rank` on its machine, given `device` as configured and the
// `gpus` this process sees: "cuda" without an index becomes cuda:local_rank; cpu and an explicit cuda:N
// stay as they are (ranks may share a GPU). InputError naming `option` when local_rank has no GPU.
torch::Device device_for_local_rank(torch::Device device, int local_rank, int64_t gpus, const std::string& option);

// The device of a module's first parameter (the CPU for a module without parameters): where its inputs
// must go.
torch::Device device_of(const torch::nn::Module& module);

// Waits for the device's queued work (CUDA kernels run asynchronously), so that a clock read after it
// measures the work. Nothing on the CPU.
void synchronize(torch::Device device);

}  // namespace stilts::train
