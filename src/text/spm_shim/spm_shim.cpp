// A C interface to libsentencepiece, built as its own shared library (libstilts_spm.so).
//
// Why: Debian's libsentencepiece.so.0 carries its own copy of protobuf-lite 3.14 and exports its
// symbols, while libtorch loads the system libprotobuf 3.21. In one process the two copies bind to
// each other's symbols and the program crashes at start-up (or protobuf's version check aborts).
// stilts therefore never links libsentencepiece into a torch process: text/spm_runtime.cpp dlopens
// this shim with RTLD_LOCAL | RTLD_DEEPBIND, so libsentencepiece resolves its protobuf symbols to its
// own copy and nothing else sees them. Only the functions below are exported.
#include <sentencepiece_processor.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#define STILTS_SPM_EXPORT extern "C" __attribute__((visibility("default")))

namespace {
struct Handle {
  sentencepiece::SentencePieceProcessor sp;
  std::string error;
};

char* copy_out(const std::string& s, size_t* len) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out == nullptr) return nullptr;
  std::memcpy(out, s.data(), s.size());
  out[s.size()] = '\0';
  if (len != nullptr) *len = s.size();
  return out;
}
}  // namespace

STILTS_SPM_EXPORT void* stilts_spm_create() { return new (std::nothrow) Handle(); }

STILTS_SPM_EXPORT void stilts_spm_destroy(void* h) { delete static_cast<Handle*>(h); }

// 0 on success; otherwise the error is kept for stilts_spm_error.
STILTS_SPM_EXPORT int stilts_spm_load_serialized(void* h, const char* bytes, size_t len) {
  auto* handle = static_cast<Handle*>(h);
  const auto status = handle->sp.LoadFromSerializedProto(std::string(bytes, len));
  if (status.ok()) return 0;
  handle->error = status.ToString();
  return 1;
}

STILTS_SPM_EXPORT const char* stilts_spm_error(void* h) { return static_cast<Handle*>(h)->error.c_str(); }

// Pieces of `text`, written as one malloc'd buffer of (uint32 length, bytes) records (a piece may hold
// a NUL byte); free it with stilts_spm_free.
STILTS_SPM_EXPORT int stilts_spm_encode(void* h, const char* text, size_t len, char** out, size_t* out_len) {
  auto* handle = static_cast<Handle*>(h);
  std::vector<std::string> pieces;
  const auto status = handle->sp.Encode(std::string(text, len), &pieces);
  if (!status.ok()) {
    handle->error = status.ToString();
    return 1;
  }
  std::string joined;
  for (const auto& p : pieces) {
    const auto n = static_cast<uint32_t>(p.size());
    joined.append(reinterpret_cast<const char*>(&n), sizeof(n));
    joined += p;
  }
  *out = copy_out(joined, out_len);
  *out_len = joined.size();
  return *out == nullptr ? 1 : 0;
}

STILTS_SPM_EXPORT void stilts_spm_free(char* p) { std::free(p); }

STILTS_SPM_EXPORT int stilts_spm_piece_size(void* h) { return static_cast<Handle*>(h)->sp.GetPieceSize(); }

STILTS_SPM_EXPORT int stilts_spm_piece_to_id(void* h, const char* piece, size_t len) {
  return static_cast<Handle*>(h)->sp.PieceToId(std::string(piece, len));
}

// The piece's bytes stay valid while the handle lives.
STILTS_SPM_EXPORT const char* stilts_spm_id_to_piece(void* h, int id, size_t* len) {
  const std::string& piece = static_cast<Handle*>(h)->sp.IdToPiece(id);
  *len = piece.size();
  return piece.data();
}

STILTS_SPM_EXPORT int stilts_spm_unk_id(void* h) { return static_cast<Handle*>(h)->sp.unk_id(); }
