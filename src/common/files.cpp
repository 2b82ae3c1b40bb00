#include "common/files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace stilts {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) input_error(path.string(), ": is a directory, expected a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) input_error(path.string(), ": cannot open (", std::strerror(errno), ")");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) input_error(path.string(), ": read error");
  return buffer.str();
}

nlohmann::json read_json_file(const fs::path& path) {
  const std::string text = read_file(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    input_error(path.string(), ": not valid JSON (byte ", e.byte, "): ",
                std::string(e.what()).substr(std::string(e.what()).find(':') + 2));
  }
}

namespace {
void fsync_path(const fs::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}
}  // namespace

void write_file_atomic(const fs::path& path, const std::string& bytes) {
  const fs::path tmp = path.string() + ".tmp." + std::to_string(::getpid());
  {
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) input_error(tmp.string(), ": cannot create (", std::strerror(errno), ")");
    size_t written = 0;
    while (written < bytes.size()) {
      const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
      if (n < 0) {
        if (errno == EINTR) continue;
        const int err = errno;
        ::close(fd);
        fs::remove(tmp);
        input_error(tmp.string(), ": write failed (", std::strerror(err), ")");
      }
      written += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
      fs::remove(tmp);
      input_error(tmp.string(), ": fsync/close failed (", std::strerror(errno), ")");
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp);
    input_error(path.string(), ": cannot rename temp file into place (", ec.message(), ")");
  }
  fsync_path(path.has_parent_path() ? path.parent_path() : fs::path("."), O_RDONLY | O_DIRECTORY);
}

void require_directory(const fs::path& dir, const std::string& what) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) input_error(dir.string(), ": no such directory (expected ", what, ")");
  if (!fs::is_directory(dir, ec)) input_error(dir.string(), ": not a directory (expected ", what, ")");
}

DirectoryLock::DirectoryLock(const fs::path& dir, const std::string& busy_message) {
  const fs::path path = dir / ".lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);  // a child must not keep the lock
  if (fd_ < 0) input_error(path.string(), ": cannot create the lock file (", std::strerror(errno), ")");
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd_);
    input_error(dir.string(), ": ", busy_message);
  }
}

DirectoryLock::~DirectoryLock() { ::close(fd_); }

}  // namespace stilts
