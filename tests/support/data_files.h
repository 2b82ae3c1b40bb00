// What the dataset reader tests share: writing a data file and the InputError a reader raises on it.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.h"
#include "tasks/datasets/dataset.h"

namespace stilts::testing {

// Writes `bytes` to `path` (creating its folder) and returns `path`.
inline std::filesystem::path write_data_file(const std::filesystem::path& path, const std::string& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// The InputError message of read_dataset (fails the test when nothing is thrown).
inline std::string read_error(const std::filesystem::path& path, const std::string& format,
                              const tasks::ReadOptions& options = {}) {
  try {
    tasks::read_dataset(path, format, options);
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InputError reading " << path << " as " << format;
  return "";
}

// Read options that set the language.
inline tasks::ReadOptions with_language(const std::string& language) {
  tasks::ReadOptions options;
  options.language = language;
  return options;
}

// The InputError message of `f` (fails the test when nothing is thrown).
template <typename F>
std::string input_error_of(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InputError";
  return "";
}

}  // namespace stilts::testing
