// A C interface to libsentencepiece, built as its own shared library (libstilts_spm.so).
//
// Why: Debian's libsentencepiece.so.0 carries its own copy of protobuf-lite 3.14 and exports its
// symbols, while libtorch loads the system libprotobuf 3.21. In one process the two copies bind to
// each other's symbols and the program crashes at start-up (or protobuf's version check aborts).
// stilts therefore never links libsentencepiece into a torch process: text/spm_runtime.cpp dlopens
// this shim with RTLD_LOCAL | RTLD_DEEPBIND, so libsentencepiece resolves its protobuf symbols to its
// own copy and nothing else sees them. Only the functions below are exported.
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
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

// Feeds the trainer the lines of a buffer.
class LineIterator : public sentencepiece::SentenceIterator {
 public:
  LineIterator(const char* text, size_t len) : text_(text, len) { advance(); }
  bool done() const override { return done_; }
  void Next() override { advance(); }
  const std::string& value() const override { return line_; }
  sentencepiece::util::Status status() const override { return sentencepiece::util::Status(); }

 private:
  void advance() {
    if (pos_ >= text_.size()) {
      done_ = true;
      return;
    }
    size_t end = text_.find('\n', pos_);
    if (end == std::string::npos) end = text_.size();
    line_ = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
  }
  std::string text_;
  std::string line_;
  size_t pos_ = 0;
  bool done_ = false;
};

// Trains a model with SentencePieceTrainer from `n` key/value options (the trainer's flag names without
// "--", e.g. model_type, vocab_size) on the newline-separated sentences of `text` (when `text` is null,
// the options name an `input` file). The model comes back serialized in a malloc'd buffer (free it with
// stilts_spm_free); on failure 1 and *error a malloc'd message (also freed with stilts_spm_free).
STILTS_SPM_EXPORT int stilts_spm_train(const char* const* keys, const char* const* values, size_t n, const char* text,
                                       size_t text_len, char** model, size_t* model_len, char** error) {
  *model = nullptr;
  *error = nullptr;
  std::unordered_map<std::string, std::string> kwargs;
  for (size_t i = 0; i < n; ++i) kwargs[keys[i]] = values[i];
  std::string serialized;
  std::unique_ptr<LineIterator> lines;
  if (text != nullptr) lines = std::make_unique<LineIterator>(text, text_len);
  const auto status = sentencepiece::SentencePieceTrainer::Train(kwargs, lines.get(), &serialized);
  if (!status.ok()) {
    *error = copy_out(status.ToString(), nullptr);
    return 1;
  }
  *model = copy_out(serialized, model_len);
  return *model == nullptr ? 1 : 0;
}
