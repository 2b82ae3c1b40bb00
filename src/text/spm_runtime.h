// SentencePiece through libstilts_spm.so, loaded at run time in isolation (see
// src/text/spm_shim/spm_shim.cpp for why libsentencepiece cannot be linked beside libtorch).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace stilts::text {

class SpmProcessor {
 public:
  SpmProcessor();  // InternalError if the shim cannot be loaded
  ~SpmProcessor();
  SpmProcessor(const SpmProcessor&) = delete;
  SpmProcessor& operator=(const SpmProcessor&) = delete;

  // Empty string on success, else libsentencepiece's message.
  std::string load_from_serialized(const std::string& bytes);
  // Pieces of `text`; false (and `error` set) when libsentencepiece fails.
  bool encode(std::string_view text, std::vector<std::string>& pieces, std::string& error) const;
  int piece_size() const;
  int piece_to_id(std::string_view piece) const;
  std::string id_to_piece(int id) const;
  int unk_id() const;

 private:
  void* handle_ = nullptr;
};

}  // namespace stilts::text
