// The precompiled header for every target that uses torch (see CMakeLists.txt). Only here and in .cpp
// files: headers that merely mention tensors include <ATen/core/Tensor.h> or forward-declare.
#pragma once
#include <torch/torch.h>
