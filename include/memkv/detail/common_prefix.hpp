#pragma once

// The length of the common prefix of two byte strings, 8 bytes per step: the
// builders compare every key with the one before it, and sorted keys share
// long prefixes (~30 bytes on URLs, ~40 on file paths), where a byte loop
// took a quarter of a FrozenLayer build (bench/RESULTS.md, thirteenth
// session).

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace memkv::detail {

inline std::size_t common_prefix_length(std::string_view a, std::string_view b) noexcept {
    const std::size_t n = a.size() < b.size() ? a.size() : b.size();
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        std::uint64_t x;
        std::uint64_t y;
        std::memcpy(&x, a.data() + i, 8);
        std::memcpy(&y, b.data() + i, 8);
        if (x != y) {
            // The first differing byte is the lowest-addressed one: the low
            // byte of a little-endian word, the high byte of a big-endian one.
            const std::uint64_t d = x ^ y;
            if constexpr (std::endian::native == std::endian::little) {
                return i + static_cast<std::size_t>(std::countr_zero(d)) / 8;
            } else {
                return i + static_cast<std::size_t>(std::countl_zero(d)) / 8;
            }
        }
    }
    while (i < n && a[i] == b[i]) ++i;
    return i;
}

}  // namespace memkv::detail
