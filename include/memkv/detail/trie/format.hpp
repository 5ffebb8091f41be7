#pragma once

// The v3 trie as FrozenLayer version 3 stores it: the payload that follows
// the 320-byte header (detail/frozen/format.hpp; in version 3 its automaton
// size is this payload's size, its root and label tables zero). A
// directory, then the parts of image.hpp, each at a multiple of 8 bytes
// from the payload's start, in this order, none overlapping:
//
//   offset  size  field (integers little-endian)
//   0       8     edges (< 2^32)
//   8       8     root_start: the root node's first edge (< edges)
//   16      8     link_count
//   24      8     link_high_bits
//   32      8     link_stream_size: bits (coded links) or bytes (plain)
//   40      8     jump_end       }
//   48      8     jump_sub_start } the dominant prefix's node (image.hpp);
//   56      8     jump_after     } zero when it has none
//   64      1     flags: bit 0 plain links, bit 1 the one key is empty
//   65      1     link_low_bits (0-56)
//   66      1     jump prefix length (0, or 8-64)
//   67      5     zero
//   72      64    jump prefix bytes (zero past its length)
//   136     112   7 x (offset u64, size u64): blocks, jump_bases, jumps,
//                 link_lows, link_highs, links, code
//   248     8     zero
//   256           the parts
//
// Opening checks everything that is O(1): the directory, every part's
// place and its size against the counts (layout.hpp and image.hpp give
// them); the code table is parsed. What lies inside the blocks is read
// with bounds (view.hpp): a corrupt image gives wrong answers or
// format_error, never a read outside the payload.

#include <cstddef>
#include <cstdint>
#include <string>

#include <memkv/detail/frozen/format.hpp>
#include <memkv/detail/frozen/packed_column.hpp>
#include <memkv/detail/io/endian.hpp>
#include <memkv/detail/trie/image.hpp>
#include <memkv/detail/trie/layout.hpp>

namespace memkv::detail::trie {

inline constexpr std::size_t directory_bytes = 256;
inline constexpr std::size_t part_count = 7;
inline constexpr std::size_t max_jump_prefix = 64;

// The parts in directory order.
inline std::span<const unsigned char> part(const trie_parts& p, std::size_t i) noexcept {
    const std::span<const unsigned char> all[part_count] = {p.blocks,     p.jump_bases, p.jumps, p.link_lows,
                                                            p.link_highs, p.links,      p.code};
    return all[i];
}

inline std::uint64_t round8(std::uint64_t n) noexcept { return (n + 7) & ~std::uint64_t{7}; }

// The payload's size for these parts.
inline std::uint64_t payload_size(const trie_parts& p) noexcept {
    std::uint64_t n = directory_bytes;
    for (std::size_t i = 0; i < part_count; ++i) n = round8(n) + part(p, i).size();
    return n;
}

// Writes the payload through write(const unsigned char*, size_t).
template <class Write>
void write_payload(const trie_parts& p, Write&& write) {
    unsigned char d[directory_bytes] = {};
    store_le(d, p.edges, 8);
    store_le(d + 8, p.root_start, 8);
    store_le(d + 16, p.link_count, 8);
    store_le(d + 24, p.link_high_bits, 8);
    store_le(d + 32, p.link_stream_size, 8);
    store_le(d + 40, p.jump_end, 8);
    store_le(d + 48, p.jump_sub_start, 8);
    store_le(d + 56, p.jump_after, 8);
    d[64] = static_cast<unsigned char>((p.plain_links ? 1u : 0u) | (p.lone_key_end ? 2u : 0u));
    d[65] = static_cast<unsigned char>(p.link_low_bits);
    d[66] = static_cast<unsigned char>(p.jump_prefix.size());
    for (std::size_t i = 0; i < p.jump_prefix.size() && i < max_jump_prefix; ++i)
        d[72 + i] = static_cast<unsigned char>(p.jump_prefix[i]);
    std::uint64_t at = directory_bytes;
    for (std::size_t i = 0; i < part_count; ++i) {
        at = round8(at);
        store_le(d + 136 + 16 * i, at, 8);
        store_le(d + 144 + 16 * i, part(p, i).size(), 8);
        at += part(p, i).size();
    }
    write(d, directory_bytes);
    static constexpr unsigned char zero[8] = {};
    std::uint64_t written = directory_bytes;
    for (std::size_t i = 0; i < part_count; ++i) {
        const std::span<const unsigned char> s = part(p, i);
        if (round8(written) != written) {
            write(zero, static_cast<std::size_t>(round8(written) - written));
            written = round8(written);
        }
        if (!s.empty()) write(s.data(), s.size());
        written += s.size();
    }
}

[[noreturn]] inline void bad_payload(const std::string& what) { frozen_corrupt("version 3 trie: " + what); }

// Checks a payload of n bytes at p for `keys` keys and returns its parts
// (views into p); format_error naming what is wrong otherwise.
inline trie_parts parse_payload(const unsigned char* p, std::uint64_t n, std::uint64_t keys) {
    if (n < directory_bytes) bad_payload("truncated directory (" + std::to_string(n) + " bytes)");
    trie_parts t;
    t.keys = keys;
    t.edges = load_le64(p);
    t.root_start = load_le64(p + 8);
    t.link_count = load_le64(p + 16);
    t.link_high_bits = load_le64(p + 24);
    t.link_stream_size = load_le64(p + 32);
    t.jump_end = load_le64(p + 40);
    t.jump_sub_start = load_le64(p + 48);
    t.jump_after = load_le64(p + 56);
    const unsigned flags = p[64];
    t.plain_links = (flags & 1) != 0;
    t.lone_key_end = (flags & 2) != 0;
    t.link_low_bits = p[65];
    const std::size_t prefix = p[66];
    if ((flags & ~3u) != 0) bad_payload("unknown flags " + std::to_string(flags));
    for (std::size_t i = 67; i < 72; ++i)
        if (p[i] != 0) bad_payload("reserved directory bytes are not zero");
    for (std::size_t i = 248; i < directory_bytes; ++i)
        if (p[i] != 0) bad_payload("reserved directory bytes are not zero");
    if (prefix != 0 && (prefix < 8 || prefix > max_jump_prefix)) bad_payload("jump prefix length " + std::to_string(prefix));
    t.jump_prefix = std::string_view(reinterpret_cast<const char*>(p + 72), prefix);

    // Counts.
    if (t.edges >= (std::uint64_t{1} << 32) - 2 * block_edges) bad_payload("edge count " + std::to_string(t.edges));
    if ((keys == 0) != (t.edges == 0) || keys > t.edges) bad_payload("edge count does not fit the key count");
    if (t.edges != 0 && t.root_start >= t.edges) bad_payload("root outside the edges");
    if (t.lone_key_end && (keys != 1 || t.edges != 1)) bad_payload("a lone empty key among others");
    if (t.link_count > t.edges) bad_payload("more links than edges");
    if (t.link_low_bits > 56) bad_payload("link offset width " + std::to_string(t.link_low_bits));
    if (t.link_stream_size > (std::uint64_t{1} << 60) || t.link_high_bits > (std::uint64_t{1} << 60))
        bad_payload("link stream size out of range");
    if (prefix != 0 &&
        (t.jump_end > t.edges || t.jump_sub_start >= t.jump_end || t.jump_after >= keys))
        bad_payload("dominant prefix node out of range");

    // Parts: in order, aligned, inside the payload, of the sizes the counts give.
    const std::uint64_t blocks = t.edges / block_edges + 1;
    const std::uint64_t expect[part_count] = {
        blocks * block_bytes,
        (blocks + blocks_per_jump_base - 1) / blocks_per_jump_base * 8,
        0,  // jumps: at least the padding (reads are bounded by its size)
        packed_column::byte_size(t.link_count + 1, t.link_low_bits),
        (t.link_high_bits + 7) / 8 + 8,
        t.plain_links ? t.link_stream_size + 8 : (t.link_stream_size + 7) / 8 + 8,
        0,  // code: parsed by the view
    };
    static constexpr const char* names[part_count] = {"blocks", "jump bases", "jumps", "link offsets (low bits)",
                                                      "link offsets (high bits)", "links", "link code table"};
    std::span<const unsigned char> parts[part_count];
    std::uint64_t end = directory_bytes;
    for (std::size_t i = 0; i < part_count; ++i) {
        const std::uint64_t off = load_le64(p + 136 + 16 * i), size = load_le64(p + 144 + 16 * i);
        if (off % 8 != 0 || off < end || off > n || size > n - off)
            bad_payload(std::string(names[i]) + " outside the payload or out of order");
        const bool ok = i == 2 ? size >= 8 : i == 6 ? (t.plain_links ? size == 0 : size != 0) : size == expect[i];
        if (!ok) bad_payload(std::string(names[i]) + ": " + std::to_string(size) + " bytes do not fit the counts");
        parts[i] = {p + off, static_cast<std::size_t>(size)};
        end = off + size;
    }
    t.blocks = parts[0];
    t.jump_bases = parts[1];
    t.jumps = parts[2];
    t.link_lows = parts[3];
    t.link_highs = parts[4];
    t.links = parts[5];
    t.code = parts[6];
    return t;
}

}  // namespace memkv::detail::trie
