// Small file helpers with errors that name the file.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace stilts {

// The whole file as bytes; InputError naming the file if it is missing or unreadable.
std::string read_file(const std::filesystem::path& path);

// Parses a JSON file; InputError naming the file and the parse position if it is not valid JSON.
nlohmann::json read_json_file(const std::filesystem::path& path);

// Writes `bytes` to `path` atomically: a temp file beside it, fsync, rename, fsync of the folder.
// A reader sees the old file or the new one, never a partial one.
void write_file_atomic(const std::filesystem::path& path, const std::string& bytes);

// Requires `dir` to be an existing directory; InputError naming it (and `what` it should hold) otherwise.
void require_directory(const std::filesystem::path& dir, const std::string& what);

// An exclusive lock on `dir`/.lock for the holder's lifetime: two processes working in one directory
// would corrupt each other's files. The kernel drops it when the process dies, even by SIGKILL.
// `busy_message` is the InputError text (after the directory) when another process holds it.
class DirectoryLock {
 public:
  DirectoryLock(const std::filesystem::path& dir, const std::string& busy_message);
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace stilts
