#include "text/spm_runtime.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "common/error.h"

namespace stilts::text {

namespace {

struct Api {
  void* (*create)();
  void (*destroy)(void*);
  int (*load_serialized)(void*, const char*, size_t);
  const char* (*error)(void*);
  int (*encode)(void*, const char*, size_t, char**, size_t*);
  void (*free_buffer)(char*);
  int (*piece_size)(void*);
  int (*piece_to_id)(void*, const char*, size_t);
  const char* (*id_to_piece)(void*, int, size_t*);
  int (*unk_id)(void*);
  int (*train)(const char* const*, const char* const*, size_t, const char*, size_t, char**, size_t*, char**);
};

// Where libstilts_spm.so is: $STILTS_SPM_SHIM, beside the running executable, or the build tree.
std::vector<std::string> shim_candidates() {
  std::vector<std::string> out;
  if (const char* env = std::getenv("STILTS_SPM_SHIM")) out.emplace_back(env);
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    out.push_back((exe.parent_path() / "libstilts_spm.so").string());
    out.push_back((exe.parent_path().parent_path() / "libstilts_spm.so").string());
  }
  out.emplace_back(STILTS_SPM_SHIM_BUILD_PATH);
  return out;
}

template <typename Fn>
void bind(void* lib, const char* name, Fn& fn) {
  fn = reinterpret_cast<Fn>(dlsym(lib, name));
  if (fn == nullptr) throw InternalError(std::string("libstilts_spm.so lacks ") + name);
}

const Api& api() {
  static Api loaded{};
  static std::once_flag once;
  std::call_once(once, [] {
    void* lib = nullptr;
    std::string tried;
    for (const auto& path : shim_candidates()) {
      if (!std::filesystem::exists(path)) {
        tried += " " + path;
        continue;
      }
      // A link-map namespace of its own (dlmopen LM_ID_NEWLM): libsentencepiece gets its own protobuf
      // and its own C++ runtime. RTLD_DEEPBIND alone isolated protobuf but bound the trainer's
      // std::cerr to libstdc++'s never-constructed original (executables copy-relocate std::cerr), so
      // training crashed in any program that uses std::cerr. Memory never crosses the boundary: the
      // shim frees what it allocates (stilts_spm_free).
      lib = dlmopen(LM_ID_NEWLM, path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (lib != nullptr) break;
      tried += std::string(" ") + path + " (" + dlerror() + ")";
    }
    if (lib == nullptr) {
      throw InternalError("cannot load libstilts_spm.so (SentencePiece); tried:" + tried +
                          ". Set STILTS_SPM_SHIM to its path.");
    }
    bind(lib, "stilts_spm_create", loaded.create);
    bind(lib, "stilts_spm_destroy", loaded.destroy);
    bind(lib, "stilts_spm_load_serialized", loaded.load_serialized);
    bind(lib, "stilts_spm_error", loaded.error);
    bind(lib, "stilts_spm_encode", loaded.encode);
    bind(lib, "stilts_spm_free", loaded.free_buffer);
    bind(lib, "stilts_spm_piece_size", loaded.piece_size);
    bind(lib, "stilts_spm_piece_to_id", loaded.piece_to_id);
    bind(lib, "stilts_spm_id_to_piece", loaded.id_to_piece);
    bind(lib, "stilts_spm_unk_id", loaded.unk_id);
    bind(lib, "stilts_spm_train", loaded.train);
  });
  if (loaded.create == nullptr) throw InternalError("libstilts_spm.so failed to load earlier");
  return loaded;
}

}  // namespace

SpmProcessor::SpmProcessor() {
  handle_ = api().create();
  if (handle_ == nullptr) throw InternalError("SentencePiece: out of memory");
}

SpmProcessor::~SpmProcessor() {
  if (handle_ != nullptr) api().destroy(handle_);
}

std::string SpmProcessor::load_from_serialized(const std::string& bytes) {
  if (api().load_serialized(handle_, bytes.data(), bytes.size()) == 0) return "";
  return api().error(handle_);
}

bool SpmProcessor::encode(std::string_view text, std::vector<std::string>& pieces, std::string& error) const {
  char* buffer = nullptr;
  size_t len = 0;
  if (api().encode(handle_, text.data(), text.size(), &buffer, &len) != 0) {
    error = api().error(handle_);
    if (buffer != nullptr) api().free_buffer(buffer);
    return false;
  }
  pieces.clear();
  size_t pos = 0;
  while (pos + sizeof(uint32_t) <= len) {
    uint32_t n = 0;
    std::memcpy(&n, buffer + pos, sizeof(n));
    pos += sizeof(n);
    STILTS_CHECK(pos + n <= len, "malformed piece buffer from libstilts_spm.so");
    pieces.emplace_back(buffer + pos, n);
    pos += n;
  }
  api().free_buffer(buffer);
  return true;
}

int SpmProcessor::piece_size() const { return api().piece_size(handle_); }

int SpmProcessor::piece_to_id(std::string_view piece) const {
  return api().piece_to_id(handle_, piece.data(), piece.size());
}

std::string SpmProcessor::id_to_piece(int id) const {
  size_t len = 0;
  const char* p = api().id_to_piece(handle_, id, &len);
  return std::string(p, len);
}

int SpmProcessor::unk_id() const { return api().unk_id(handle_); }

std::string spm_train(const std::vector<std::pair<std::string, std::string>>& options, std::string_view sentences) {
  std::vector<const char*> keys, values;
  for (const auto& [key, value] : options) {
    keys.push_back(key.c_str());
    values.push_back(value.c_str());
  }
  char* model = nullptr;
  char* error = nullptr;
  size_t len = 0;
  const char* text = sentences.empty() ? nullptr : sentences.data();
  const int rc = api().train(keys.data(), values.data(), keys.size(), text, sentences.size(), &model, &len, &error);
  if (rc != 0) {
    const std::string message = error != nullptr ? error : "out of memory";
    if (error != nullptr) api().free_buffer(error);
    if (model != nullptr) api().free_buffer(model);
    input_error("SentencePiece training failed: ", message);
  }
  std::string out(model, len);
  api().free_buffer(model);
  return out;
}

}  // namespace stilts::text
