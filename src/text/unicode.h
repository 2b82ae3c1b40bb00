// UTF-8 decoding/encoding over utf8proc. Invalid UTF-8 is an InputError naming where it came from.
#pragma once

#include <string>
#include <string_view>

namespace stilts::text {

// Decodes UTF-8 to code points. `context` names the input in the error ("stdin line 3").
std::u32string decode_utf8(std::string_view text, std::string_view context);

// Encodes code points as UTF-8.
std::string encode_utf8(std::u32string_view code_points);
void append_utf8(std::string& out, char32_t code_point);

// Python's bytes.decode("utf-8", errors="replace"): each maximal ill-formed subsequence becomes one
// U+FFFD (Unicode's recommended practice, which CPython follows).
std::string decode_utf8_replace(std::string_view bytes);

// True when `text` is valid UTF-8.
bool is_valid_utf8(std::string_view text);

}  // namespace stilts::text
