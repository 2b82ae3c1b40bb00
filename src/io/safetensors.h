// Reading and writing safetensors files (the Hugging Face weight format), sharded checkpoints
// (model.safetensors.index.json), and a safe path for zip-format pytorch_model.bin files.
//
// Format: 8-byte little-endian header length N, N bytes of JSON
//   {"__metadata__": {str: str}, "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}, ...}
// then the data area; offsets are relative to its start, and the tensors cover it without gaps or
// overlaps. Every malformed file gives an InputError naming the file (and the tensor).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

namespace stilts::io {

// One entry of a safetensors header.
struct TensorInfo {
  std::string dtype;           // as the file spells it: "F32", "BF16", "I64", ...
  std::vector<int64_t> shape;  // [] for a scalar
  uint64_t data_begin = 0;     // byte range in the data area (the header's data_offsets)
  uint64_t data_end = 0;
  uint64_t nbytes() const { return data_end - data_begin; }
};

// A memory-mapped safetensors file. The header is parsed and fully validated by open(); tensors
// are made on demand. Copies share the mapping, which lives as long as any copy or any tensor
// from tensor().
class SafetensorsFile {
 public:
  static SafetensorsFile open(const std::filesystem::path& path);

  const std::filesystem::path& path() const& { return path_; }
  std::filesystem::path path() && { return std::move(path_); }
  std::vector<std::string> names() const;  // sorted
  bool contains(const std::string& name) const { return tensors_.count(name) != 0; }
  TensorInfo info(const std::string& name) const;  // InputError if absent
  const std::map<std::string, std::string>& metadata() const& { return metadata_; }
  std::map<std::string, std::string> metadata() && { return std::move(metadata_); }

  // A CPU tensor viewing the mapping (zero-copy) when the data is aligned for its element size,
  // else a copy. The mapping is private and writable: in-place changes to a zero-copy tensor are
  // seen by later tensor() calls on this file but never reach the file on disk.
  // InputError if the name is absent or its dtype has no libtorch 1.13 equivalent (U16, F8_*, ...).
  at::Tensor tensor(const std::string& name) const;

 private:
  struct Mapping;
  std::filesystem::path path_;
  std::shared_ptr<Mapping> mapping_;
  uint64_t data_start_ = 0;  // 8 + header length
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

// All tensors of one file, by name.
std::map<std::string, at::Tensor> load_safetensors(const std::filesystem::path& path);

// The weights of a Hugging Face model directory: `model.safetensors`, or else the shards listed by
// `model.safetensors.index.json` ({"weight_map": {tensor name: shard file}}). `path` may also name
// either file directly. Strict: a missing shard, a tensor the index puts in a shard that lacks it,
// or a shard tensor the index does not list is an InputError.
class SafetensorsCheckpoint {
 public:
  static SafetensorsCheckpoint open(const std::filesystem::path& path);

  std::vector<std::string> names() const;  // sorted, across shards
  bool contains(const std::string& name) const { return shard_of_.count(name) != 0; }
  TensorInfo info(const std::string& name) const;
  at::Tensor tensor(const std::string& name) const;
  std::map<std::string, at::Tensor> load_all() const;
  // By value on a temporary, so `for (auto& s : SafetensorsCheckpoint::open(dir).shards())` is safe.
  const std::vector<SafetensorsFile>& shards() const& { return shards_; }
  std::vector<SafetensorsFile> shards() && { return std::move(shards_); }

 private:
  const SafetensorsFile& shard_for(const std::string& name) const;
  std::filesystem::path path_;  // the file or index it was opened from
  std::vector<SafetensorsFile> shards_;
  std::map<std::string, size_t> shard_of_;  // tensor name -> index in shards_
};

// Writes `tensors` as a safetensors file, atomically (temp file, fsync, rename), one tensor at a
// time so memory stays at one tensor's CPU copy. Layout as the reference implementation writes it:
// tensors ordered by dtype (widest first) then name, so every tensor is aligned; header padded with
// spaces to a multiple of 8. `metadata` defaults to {"format": "pt"} as transformers writes it; an
// empty map writes no "__metadata__". InputError on duplicate or reserved names, undefined or
// sparse tensors, and dtypes safetensors lacks.
void save_safetensors(const std::filesystem::path& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

// A state dict saved by torch.save in the zip format (PyTorch >= 1.6), read with libtorch's
// restricted unpickler (it resolves only tensor-rebuilding globals and runs no Python code).
// The legacy format, anything else the unpickler rejects, or a value that is not a flat
// {name: tensor} dict gives an InputError suggesting conversion to model.safetensors.
std::map<std::string, at::Tensor> load_pytorch_bin(const std::filesystem::path& path);

}  // namespace stilts::io
