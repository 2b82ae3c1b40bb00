#include "common/sha256.h"

#include <fstream>
#include <vector>

#include "common/error.h"

namespace stilts {

std::string sha256_hex(std::string_view bytes) {
  Sha256 sha;
  sha.update(bytes.data(), bytes.size());
  return sha.hex_digest();
}

std::string sha256_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) input_error(path.string(), ": cannot open to check its SHA-256");
  Sha256 sha;
  std::vector<char> block(1 << 20);
  while (in) {
    in.read(block.data(), static_cast<std::streamsize>(block.size()));
    sha.update(block.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) input_error(path.string(), ": read error while checking its SHA-256");
  return sha.hex_digest();
}

}  // namespace stilts
