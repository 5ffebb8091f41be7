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

// The index of the first differing byte of two words loaded from memory
// (d = their XOR, not 0) that hold Width bytes.
template <std::size_t Width>
inline std::size_t first_difference(std::uint64_t d) noexcept {
    // The first differing byte is the lowest-addressed one: the low byte of
    // a little-endian word, the high byte of a big-endian one.
    if constexpr (std::endian::native == std::endian::little) {
        return static_cast<std::size_t>(std::countr_zero(d)) / 8;
    } else {
        return static_cast<std::size_t>(std::countl_zero(d)) / 8 - (8 - Width);
    }
}

// The tail shorter than a word is one more word ending at the shorter
// string's end (its bytes before i already known equal), and a string under
// 8 bytes two 4-byte words: a byte loop there was 34 of the ~310
// instructions of an insert that finds its key present on random 16-byte
// keys (bench/RESULTS.md, thirtieth session).
// Forced inline: once FastArt's `mismatch` called it too, g++ stopped
// inlining it into the leaf split (binary and ints inserts +1% instructions).
#if defined(__GNUC__) || defined(__clang__)
[[gnu::always_inline]]
#endif
inline std::size_t common_prefix_length(std::string_view a, std::string_view b) noexcept {
    const std::size_t n = a.size() < b.size() ? a.size() : b.size();
    const auto word = [](const char* p) {
        std::uint64_t x;
        std::memcpy(&x, p, 8);
        return x;
    };
    const auto half = [](const char* p) {
        std::uint32_t x;
        std::memcpy(&x, p, 4);
        return std::uint64_t{x};
    };
    if (n >= 8) {
        std::size_t i = 0;
        for (; i + 8 <= n; i += 8) {
            const std::uint64_t d = word(a.data() + i) ^ word(b.data() + i);
            if (d != 0) return i + first_difference<8>(d);
        }
        if (i == n) return n;
        const std::uint64_t d = word(a.data() + n - 8) ^ word(b.data() + n - 8);
        return d == 0 ? n : n - 8 + first_difference<8>(d);
    }
    if (n >= 4) {
        std::uint64_t d = half(a.data()) ^ half(b.data());
        if (d != 0) return first_difference<4>(d);
        d = half(a.data() + n - 4) ^ half(b.data() + n - 4);
        return d == 0 ? n : n - 4 + first_difference<4>(d);
    }
    std::size_t i = 0;
    while (i < n && a[i] == b[i]) ++i;
    return i;
}

}  // namespace memkv::detail
