#pragma once

// FrozenLayer's serialized form around the automaton: the file header (its
// layout, encoder and validating decoder), the value type tag and the rule
// for which value column a V gets. The automaton's nodes are in node.hpp.
// The byte layouts are drawn here and in node.hpp, once; DESIGN.md
// ("FrozenLayer") explains the choices and points here.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include <memkv/detail/frozen/packed_column.hpp>
#include <memkv/detail/io/endian.hpp>
#include <memkv/detail/io/crc32c.hpp>
#include <memkv/detail/io/file_kind.hpp>
#include <memkv/errors.hpp>

namespace memkv::detail {

// ---------------------------------------------------------------------------
// File layout (all integers little-endian):
//
//   offset  size  field
//   0       8     magic "MKVFROZN"
//   8       4     format version (1 or 2; 2 adds run nodes, node.hpp; 3: the
//                 keys in a succinct trie, detail/trie/format.hpp, which
//                 takes the automaton's place; root and tables zero)
//   12      4     header size (320)
//   16      8     value type tag (frozen_type_tag<V>())
//   24      8     user tag (FrozenLayerBuilder options; 0 by default)
//   32      8     number of keys n
//   40      8     root node address (automaton offset; 0 when n == 0)
//   48      8     automaton size A in bytes
//   56      8     value column size C in bytes
//   64      1     value column kind (0 ordinal identity, 1 packed, 2 raw)
//   65      1     packed width in bits (kind 1)
//   66      2     reserved, 0
//   68      4     sizeof(V)
//   72      8     packed base (kind 1: value = base + packed[i])
//   80      4     CRC-32C of the payload (bytes 320 .. 320+A+C)
//   84      4     CRC-32C of header bytes 0..84 and 88..320
//   88      64    single-label table of the one-byte nodes
//   152     128   label-pair table (64 pairs) of the one-byte pair nodes
//   280     40    reserved, 0
//   320     A     automaton
//   320+A   C     value column
//
// File size must be exactly 320 + A + C.
// ---------------------------------------------------------------------------

inline constexpr const auto& frozen_magic = frozen_magic_bytes;  // detail/io/file_kind.hpp
// Written by default; every version from frozen_min_version on is read
// (version 1 is version 2 without run nodes, so one decoder reads both).
inline constexpr std::uint32_t frozen_version = 2;
inline constexpr std::uint32_t frozen_min_version = 1;
inline constexpr std::uint32_t frozen_max_version = 3;  // the succinct trie (detail/trie/)
inline constexpr std::size_t frozen_header_size = 320;
inline constexpr std::size_t frozen_table_offset = 88;
// 64 single labels, then 64 label pairs (2 bytes each).
inline constexpr std::size_t frozen_singles = 64;
inline constexpr std::size_t frozen_pairs = 64;
inline constexpr std::size_t frozen_table_size = frozen_singles + 2 * frozen_pairs;

enum class frozen_value_kind : std::uint8_t { ordinal = 0, packed = 1, raw = 2 };

// Values that take the packed column (or none, when value == ordinal):
// unsigned integers of at most 64 bits other than bool. The column stores
// 64-bit words, so a wider integer (unsigned __int128, an integer type under
// -std=gnu++20) must take the raw column, which keeps all sizeof(V) bytes.
template <class V>
inline constexpr bool frozen_packable = std::is_integral_v<V> && std::is_unsigned_v<V> &&
                                        !std::is_same_v<V, bool> && sizeof(V) <= sizeof(std::uint64_t);

// A fingerprint of V's representation: a file built for one V is refused by
// FrozenLayer<W> for a W with a different size, alignment or kind.
template <class V>
constexpr std::uint64_t frozen_type_tag() noexcept {
    std::uint64_t t = 0x4D4B5646ULL << 32;  // "MKVF"
    t |= static_cast<std::uint64_t>(sizeof(V) & 0xFFFF);
    t |= static_cast<std::uint64_t>(alignof(V) & 0xFF) << 16;
    t |= static_cast<std::uint64_t>(std::is_integral_v<V>) << 24;
    t |= static_cast<std::uint64_t>(std::is_signed_v<V>) << 25;
    t |= static_cast<std::uint64_t>(std::is_floating_point_v<V>) << 26;
    t |= static_cast<std::uint64_t>(std::is_same_v<V, bool>) << 27;
    return t;
}

struct frozen_header {
    std::uint32_t version = frozen_version;
    std::uint64_t type_tag = 0;
    std::uint64_t user_tag = 0;
    std::uint64_t num_keys = 0;
    std::uint64_t root = 0;
    std::uint64_t automaton_size = 0;
    std::uint64_t values_size = 0;
    frozen_value_kind value_kind = frozen_value_kind::ordinal;
    std::uint8_t value_bits = 0;
    std::uint32_t value_size = 0;
    std::uint64_t value_base = 0;
    std::uint32_t payload_crc = 0;
    std::array<unsigned char, frozen_table_size> table{};
};

inline std::uint32_t frozen_header_crc(const unsigned char* h) noexcept {
    const std::uint32_t c = crc32c_update(0, h, 84);
    return crc32c_update(c, h + 88, frozen_header_size - 88);
}

inline void encode_frozen_header(const frozen_header& f, unsigned char* h) noexcept {
    for (std::size_t i = 0; i < frozen_header_size; ++i) h[i] = 0;
    for (std::size_t i = 0; i < 8; ++i) h[i] = static_cast<unsigned char>(frozen_magic[i]);
    store_le(h + 8, f.version, 4);
    store_le(h + 12, frozen_header_size, 4);
    store_le(h + 16, f.type_tag, 8);
    store_le(h + 24, f.user_tag, 8);
    store_le(h + 32, f.num_keys, 8);
    store_le(h + 40, f.root, 8);
    store_le(h + 48, f.automaton_size, 8);
    store_le(h + 56, f.values_size, 8);
    h[64] = static_cast<unsigned char>(f.value_kind);
    h[65] = f.value_bits;
    store_le(h + 68, f.value_size, 4);
    store_le(h + 72, f.value_base, 8);
    store_le(h + 80, f.payload_crc, 4);
    for (std::size_t i = 0; i < frozen_table_size; ++i) h[frozen_table_offset + i] = f.table[i];
    store_le(h + 84, frozen_header_crc(h), 4);
}

[[noreturn]] inline void frozen_corrupt(const std::string& what) {
    throw format_error("FrozenLayer: " + what);
}

// Parses and validates a header against the total image size. Checks
// everything that is O(1): magic, version, header checksum, value type, and
// that every section lies inside the image. The payload checksum is left to
// verify(), which reads every byte.
inline frozen_header decode_frozen_header(const unsigned char* h, std::size_t image_size,
                                          std::uint64_t expected_type_tag,
                                          std::uint32_t expected_value_size) {
    // The magic first: another file (a HybridKV manifest, say) is "not a
    // FrozenLayer file" whatever its length, and says what it is; only a
    // file that starts like one is a truncated FrozenLayer file.
    if (!starts_like(h, image_size, frozen_magic)) {
        frozen_corrupt("not a FrozenLayer file (" + describe_foreign_file(h, image_size) + ")");
    }
    if (image_size < frozen_header_size) {
        frozen_corrupt("truncated: " + std::to_string(image_size) +
                       " bytes is smaller than the " + std::to_string(frozen_header_size) + "-byte header");
    }
    frozen_header f;
    f.version = load_le32(h + 8);
    if (f.version < frozen_min_version || f.version > frozen_max_version) {
        frozen_corrupt("unsupported format version " + std::to_string(f.version) + " (this build reads versions " +
                       std::to_string(frozen_min_version) + " to " + std::to_string(frozen_max_version) + ")");
    }
    if (load_le32(h + 12) != frozen_header_size) frozen_corrupt("bad header size");
    if (load_le32(h + 84) != frozen_header_crc(h)) frozen_corrupt("header checksum mismatch");
    f.type_tag = load_le64(h + 16);
    f.user_tag = load_le64(h + 24);
    f.num_keys = load_le64(h + 32);
    f.root = load_le64(h + 40);
    f.automaton_size = load_le64(h + 48);
    f.values_size = load_le64(h + 56);
    f.value_kind = static_cast<frozen_value_kind>(h[64]);
    f.value_bits = h[65];
    f.value_size = load_le32(h + 68);
    f.value_base = load_le64(h + 72);
    f.payload_crc = load_le32(h + 80);
    for (std::size_t i = 0; i < frozen_table_size; ++i) f.table[i] = h[frozen_table_offset + i];

    if (f.type_tag != expected_type_tag || f.value_size != expected_value_size) {
        frozen_corrupt("value type mismatch: file was built for a value of " +
                       std::to_string(f.value_size) + " bytes (type tag " +
                       std::to_string(f.type_tag) + "), opened as one of " +
                       std::to_string(expected_value_size) + " bytes (type tag " +
                       std::to_string(expected_type_tag) + ")");
    }
    const std::uint64_t payload = image_size - frozen_header_size;
    if (f.automaton_size > payload || f.values_size != payload - f.automaton_size) {
        frozen_corrupt("section sizes (automaton " + std::to_string(f.automaton_size) +
                       ", values " + std::to_string(f.values_size) +
                       ") do not match the file size " + std::to_string(image_size));
    }
    if (f.version >= 3) {
        // The trie's payload has its own directory (detail/trie/format.hpp);
        // the automaton's fields are unused.
        if (f.root != 0) frozen_corrupt("a root address in a version 3 header");
        for (const unsigned char t : f.table)
            if (t != 0) frozen_corrupt("a label table in a version 3 header");
    } else {
        if (f.num_keys != 0 && f.root >= f.automaton_size) frozen_corrupt("root address out of bounds");
        if (f.num_keys == 0 && f.automaton_size != 0) frozen_corrupt("empty layer with an automaton");
    }
    // Keeps n * 64 (packed column bits) free of overflow.
    if (f.num_keys > (std::uint64_t{1} << 56)) frozen_corrupt("key count out of range");
    std::uint64_t expect_values = 0;
    switch (f.value_kind) {
    case frozen_value_kind::ordinal:
        if (f.value_bits != 0) frozen_corrupt("bad value width");
        break;
    case frozen_value_kind::packed:
        if (f.value_bits > 64) frozen_corrupt("bad value width");
        expect_values = packed_column::byte_size(f.num_keys, f.value_bits);
        break;
    case frozen_value_kind::raw:
        if (f.value_bits != 0) frozen_corrupt("bad value width");
        if (f.value_size == 0 || f.values_size % f.value_size != 0 ||
            f.values_size / f.value_size != f.num_keys)
            frozen_corrupt("value column size does not match key count");
        expect_values = f.values_size;
        break;
    default:
        frozen_corrupt("unknown value column kind " + std::to_string(h[64]));
    }
    if (f.values_size != expect_values) frozen_corrupt("value column size does not match key count");
    return f;
}

}  // namespace memkv::detail
