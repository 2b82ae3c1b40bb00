// SentencePiece through libstilts_spm.so, loaded at run time in isolation (see
// src/text/spm_shim/spm_shim.cpp for why libsentencepiece cannot be linked beside libtorch).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
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

// Trains a SentencePiece model with libsentencepiece's trainer (SentencePieceTrainer::Train) on the
// newline-separated `sentences` (or, when `sentences` is empty, on the file an {"input", path} option
// names) with trainer options by flag name without "--" ({"vocab_size", "2000"}, ...). Returns the
// serialized model (what a .model file holds). InputError with the trainer's message when it fails
// (e.g. an impossible vocab_size).
std::string spm_train(const std::vector<std::pair<std::string, std::string>>& options, std::string_view sentences = {});

}  // namespace stilts::text
