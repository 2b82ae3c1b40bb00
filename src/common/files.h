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

}  // namespace stilts
