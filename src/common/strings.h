// Small string helpers shared by units that are not about text (the tokenizers' Unicode case folding
// lives in text/ and eval/python_text.h).
#pragma once

#include <string>
#include <string_view>

namespace stilts {

// A-Z to a-z, every other byte as it is: for names and protocol tokens (HTTP header names, engine and
// policy names), never for user text.
inline std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace stilts
