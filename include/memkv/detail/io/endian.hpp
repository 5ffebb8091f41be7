#pragma once

// Byte codecs, little-endian (and one big-endian load). Everything memkv serializes (FrozenLayer images,
// HybridKV checkpoints) goes through these helpers, never through a memcpy of
// a struct, so files mean the same on every host.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace memkv::detail {

inline std::uint64_t load_le(const unsigned char* p, unsigned width) noexcept {
    std::uint64_t v = 0;
    for (unsigned i = 0; i < width; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
    return v;
}
// The fixed-width loads are one unaligned load (and a byte swap where the
// host's order differs): GCC 12 left the byte loops of load_le(p, 8) as eight
// loads and shifts in the succinct structures' rank and select paths.
inline std::uint32_t load_le32(const unsigned char* p) noexcept {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
    return v;
}
inline std::uint64_t load_le64(const unsigned char* p) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
    return v;
}
// Big-endian: the bytes at p read in reverse order of address.
inline std::uint64_t load_be64(const unsigned char* p) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
    return v;
}

// width <= 8 (clamped, which also tells the optimizer the bound).
inline void store_le(unsigned char* p, std::uint64_t v, unsigned width) noexcept {
    if (width > 8) width = 8;
    for (unsigned i = 0; i < width; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}

// Bytes needed for v (0 for v == 0).
inline unsigned byte_width(std::uint64_t v) noexcept {
    return static_cast<unsigned>((std::bit_width(v) + 7) / 8);
}

// Unaligned native 64-bit load as little-endian.
inline std::uint64_t load_u64_unaligned(const unsigned char* p) noexcept {
    if constexpr (std::endian::native == std::endian::little) {
        std::uint64_t v;
        std::memcpy(&v, p, 8);
        return v;
    } else {
        return load_le(p, 8);
    }
}

// Appends the low `width` bytes of v, little-endian (for headers built in a
// std::string).
inline void append_le(std::string& out, std::uint64_t v, unsigned width) {
    for (unsigned i = 0; i < width; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFU));
}

}  // namespace memkv::detail
