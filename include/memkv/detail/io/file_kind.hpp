#pragma once

// The magic numbers of memkv's file formats, in one place, so that a reader
// handed the wrong file can say what it is instead of what it is not
// (memkv::detail). Each format still owns its layout (detail/frozen/format.hpp,
// detail/hybrid/checkpoint.hpp); only the first eight bytes are shared here.

#include <cstddef>
#include <cstring>
#include <string>

namespace memkv::detail {

inline constexpr char frozen_magic_bytes[8] = {'M', 'K', 'V', 'F', 'R', 'O', 'Z', 'N'};
inline constexpr char hybrid_magic_bytes[8] = {'M', 'K', 'V', 'H', 'Y', 'B', 'R', '1'};
inline constexpr char filter_magic_bytes[8] = {'M', 'K', 'V', 'B', 'L', 'O', 'O', 'M'};

// For "not a <kind> file (...)": what a file that does not start with the
// expected magic is. "it is a FrozenLayer file", "it is a memkv checkpoint
// manifest", "an empty file", or "not a memkv file: it starts with ..." (its
// first bytes, escaped).
inline std::string describe_foreign_file(const unsigned char* p, std::size_t n) {
    if (n == 0) return "an empty file";
    if (n >= 8 && std::memcmp(p, frozen_magic_bytes, 8) == 0) return "it is a FrozenLayer file";
    if (n >= 8 && std::memcmp(p, hybrid_magic_bytes, 8) == 0) return "it is a memkv checkpoint manifest";
    if (n >= 8 && std::memcmp(p, filter_magic_bytes, 8) == 0) return "it is a memkv checkpoint's run filter";
    std::string shown;
    for (std::size_t j = 0; j < 8 && j < n; ++j) {
        const auto c = p[j];
        if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
            shown.push_back(static_cast<char>(c));
        } else {
            static constexpr char hex[] = "0123456789abcdef";
            shown += "\\x";
            shown.push_back(hex[c >> 4]);
            shown.push_back(hex[c & 15]);
        }
    }
    return "not a memkv file: it starts with \"" + shown + "\"";
}

// Whether the first min(n, 8) bytes agree with `magic` (a shorter file that
// agrees is a truncated file of that kind, not a foreign one), and n > 0.
inline bool starts_like(const unsigned char* p, std::size_t n, const char (&magic)[8]) {
    return n > 0 && std::memcmp(p, magic, n < 8 ? n : 8) == 0;
}

}  // namespace memkv::detail
