// UTF-8 decoding for surnames: strict (rejects overlong forms, surrogates, code points
// above U+10FFFF and truncated sequences), and the byte order mark some editors put at the
// start of a file. Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gl::nn {

// Appends the code points of `text` to `out`; returns false (out then holds a prefix)
// if `text` is not valid UTF-8.
bool DecodeUtf8(std::string_view text, std::u32string* out);

// `text` without a leading UTF-8 byte order mark (EF BB BF), which is not part of a name.
std::string_view StripUtf8Bom(std::string_view text);

}  // namespace gl::nn
