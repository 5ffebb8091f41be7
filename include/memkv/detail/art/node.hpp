#pragma once

// FastArt's node and leaf layouts. Everything lives in a slab_arena and is
// addressed by a zone and a 32-bit reference; bit 31 of a reference says
// "leaf".
//
// Child reference (4 bytes):
//
//    31  30                                     0
//   +---+----------------------------------------+
//   | L |  arena reference (slot | unit offset)  |   L = 1: leaf, 0: inner node
//   +---+----------------------------------------+   0 = no child
//
// A reference is local to a zone of the arena (16 GiB each, arena.hpp). All
// children of one node (child nodes, leaves, its terminal leaf) live in the
// same zone, the node's child zone, kept in the 7 high bits of the header's
// flags byte; the root's zone is kept by the tree. So a descent always knows
// the zone of the next reference from the header it has just read, and a
// reference stays 4 bytes: up to 128 zones * 16 GiB = 2 TiB per tree.
//
// Inner node, linear kind (capacity C in {3, 6, 11, 16, 24, 32, 48}):
//
//   0      1       2       3        4                 8
//   +------+-------+-------+--------+-----------------+
//   | kind | flags | count | plen8  | prefix[0..4)    |  8-byte header
//   +------+-------+-------+--------+-----------------+
//   flags: bit 0 has_terminal, bits 1..7 the child zone
//   count: children (the terminal not counted); a full node stores count - 1
//   plen8: the prefix length if < 255; 255: a u32 length opens the tail
//   | keys[C] (sorted, count used)  | pad to 4        |
//   +-------------------------------------------------+
//   | refs[C] (u32, refs[i] is the child for keys[i]) |
//   +-------------------------------------------------+
//   | terminal ref (u32)      -- only if flags & has_terminal
//   | prefix_len (u32, LE)    -- only if prefix_len >= 255
//   | prefix[4..prefix_len)   -- only if prefix_len > 4
//   +-------------------------------------------------+
//
// Inner node, full kind (kind byte 0): the header, then refs[256] indexed by
// the byte itself (0 = absent), then the same optional terminal and prefix
// tail. The capacities are chosen so each body is a whole number of 8-byte
// units: 24, 40, 64, 88, 128, 168, 248 and 1032 bytes.
//
// A node at depth d (d key bytes above it) owns the key bytes
// [d, d + prefix_len) and branches on byte d + prefix_len. A key that ends
// exactly after the prefix lives in the terminal leaf (no terminator byte is
// reserved, so every byte value is an ordinary branch). Invariant: count +
// (terminal ? 1 : 0) >= 2, otherwise the node would be path-compressed away.
//
// Leaf (8-byte aligned, the value first so it is aligned for V):
//
//   0            vsize        vsize+1 (or +5)
//   +------------+------------+-------------------------------+
//   | V or u32   | len8 [len32] | suffix bytes (len)           |
//   +------------+------------+-------------------------------+
//
// vsize is sizeof(V) when V is stored inline, 4 when V is boxed in a block of
// its own (types whose move may throw, so that moving a leaf never throws).
// len8 < 255 is the suffix length; len8 = 255 means a little-endian u32
// follows. A leaf stores only the key bytes below its depth: the bytes above
// are implied by the path, which is where most of libart's per-leaf bytes go
// on URL-like keys. A terminal leaf has an empty suffix.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <memkv/detail/art/arena.hpp>
#include <memkv/detail/assert.hpp>
#include <memkv/detail/common_prefix.hpp>

namespace memkv::detail::art {

using ref_t = std::uint32_t;
inline constexpr ref_t leaf_tag = 0x8000'0000u;

inline constexpr bool is_leaf(ref_t r) noexcept { return (r & leaf_tag) != 0; }
inline constexpr ref_t untag(ref_t r) noexcept { return r & ~leaf_tag; }

// g++ 12 at -O3 inlines these into call sites whose source is a short string
// literal and then warns about the 8- and 4-byte loads of branches that the
// length rules out (-Warray-bounds, -Wstringop-overread false positives). The
// loads are guarded by the caller's length checks, so the warnings are
// silenced here, for these functions only, rather than in every user's build.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif
// memcpy for the short copies of key building (suffixes, prefixes average
// 10-30 bytes): fixed-size word moves that the compiler inlines, overlapping
// at the end instead of reading past the source. A library memcpy call costs
// more than the copy here.
#if defined(__GNUC__) || defined(__clang__)
[[gnu::always_inline]]
#endif
inline void copy_bytes(unsigned char* dst, const unsigned char* src, std::size_t n) noexcept {
    if (n >= 8) {
        std::size_t i = 0;
        for (; i + 8 < n; i += 8) std::memcpy(dst + i, src + i, 8);
        std::memcpy(dst + n - 8, src + n - 8, 8);
    } else if (n >= 4) {
        std::memcpy(dst, src, 4);
        std::memcpy(dst + n - 4, src + n - 4, 4);
    } else if (n != 0) {
        // 1 to 3 bytes: first, middle, last (overlapping), without a loop
        // whose exit the branch predictor must guess.
        const unsigned char a = src[0];
        const unsigned char b = src[n >> 1];
        const unsigned char c = src[n - 1];
        dst[0] = a;
        dst[n >> 1] = b;
        dst[n - 1] = c;
    }
}

// copy_bytes for a move to a lower address inside one run (dst < src, the
// ranges may overlap): a leaf's suffix shortened in place. Every load comes
// before the store that could clobber it, and nothing past src + n is read.
#if defined(__GNUC__) || defined(__clang__)
[[gnu::always_inline]]
#endif
inline void move_bytes_down(unsigned char* dst, const unsigned char* src, std::size_t n) noexcept {
    if (n >= 8) {
        std::uint64_t last;
        std::memcpy(&last, src + n - 8, 8);
        // Forward words: the store at dst + i ends before src + i + 8, the next load.
        for (std::size_t i = 0; i + 8 < n; i += 8) {
            std::uint64_t w;
            std::memcpy(&w, src + i, 8);
            std::memcpy(dst + i, &w, 8);
        }
        std::memcpy(dst + n - 8, &last, 8);
    } else if (n >= 4) {
        std::uint32_t a;
        std::uint32_t b;
        std::memcpy(&a, src, 4);
        std::memcpy(&b, src + n - 4, 4);
        std::memcpy(dst, &a, 4);
        std::memcpy(dst + n - 4, &b, 4);
    } else {
        copy_bytes(dst, src, n);  // 0 to 3 bytes: it loads them all before its stores
    }
}

// Eight bytes from p, which the caller guarantees are there. The same load
// as io/endian.hpp's load_u64_unaligned, but it must sit inside this pragma region:
// g++ reports its false positive at the load itself.
inline std::uint64_t load_u64(const unsigned char* p) noexcept {
    std::uint64_t v = 0;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// Byte equality for short runs, same idea as copy_bytes.
#if defined(__GNUC__) || defined(__clang__)
[[gnu::always_inline]]
#endif
inline bool equal_bytes(const unsigned char* a, const unsigned char* b, std::size_t n) noexcept {
    if (n >= 8) {
        for (std::size_t i = 0; i + 8 < n; i += 8) {
            if (load_u64(a + i) != load_u64(b + i)) return false;
        }
        return load_u64(a + n - 8) == load_u64(b + n - 8);
    }
    if (n >= 4) {
        std::uint32_t x = 0;
        std::uint32_t y = 0;
        std::memcpy(&x, a, 4);
        std::memcpy(&y, b, 4);
        if (x != y) return false;
        std::memcpy(&x, a + n - 4, 4);
        std::memcpy(&y, b + n - 4, 4);
        return x == y;
    }
    for (std::size_t i = 0; i < n; ++i) {
        if (a[i] != b[i]) return false;
    }
    return true;
}
// Index of the first byte where a and b differ, or n: a word at a time,
// the last part as one more word ending at n (a byte loop there mispredicts
// its exit: prefixes over 8 bytes, such as the paths shape's directory names).
inline std::size_t mismatch(const unsigned char* a, const unsigned char* b, std::size_t n) noexcept {
    return common_prefix_length({reinterpret_cast<const char*>(a), n}, {reinterpret_cast<const char*>(b), n});
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// Masks of an 8-byte word loaded from memory (load_u64): the bits of its
// first n bytes, and of its last n bytes, for n in 0..8. A table, since
// shifting a 64-bit word by 64 is undefined and n = 0 and n = 8 both occur.
struct byte_masks {
    std::uint64_t first[9];
    std::uint64_t last[9];
};
inline constexpr byte_masks make_byte_masks() noexcept {
    byte_masks m{};
    for (unsigned n = 0; n <= 8; ++n) {
        std::uint64_t lo = 0;  // the n low-order bytes
        for (unsigned b = 0; b < n; ++b) lo |= std::uint64_t{0xFF} << (8 * b);
        const std::uint64_t hi = n == 0 ? 0 : ~std::uint64_t{0} << (8 * (8 - n));
        const bool little = std::endian::native == std::endian::little;
        m.first[n] = little ? lo : hi;
        m.last[n] = little ? hi : lo;
    }
    return m;
}
inline constexpr byte_masks byte_mask_table = make_byte_masks();
// Word w (as loaded from memory) with its first n bytes dropped, so the
// byte that was at n comes first; for n >= 8 what is left is unspecified.
inline std::uint64_t shift_out(std::uint64_t w, std::size_t n) noexcept {
    const unsigned bits = static_cast<unsigned>(n * 8) & 63;
    return std::endian::native == std::endian::little ? w >> bits : w << bits;
}
inline std::uint64_t first_bytes_mask(std::size_t n) noexcept { return byte_mask_table.first[n]; }
inline std::uint64_t last_bytes_mask(std::size_t n) noexcept { return byte_mask_table.last[n]; }
// The 8 bytes of k at depth as one word, for a key of len >= 8 bytes,
// from one in-bounds load: at most the key's last 8 bytes, shifted down,
// so bytes past the key's end are unspecified. One load, not a copy of
// the key: a load that spans two earlier stores waits for them to retire.
inline std::uint64_t key_word(const unsigned char* k, std::size_t depth, std::size_t len) noexcept {
    const std::size_t at = depth < len - 8 ? depth : len - 8;
    return shift_out(load_u64(k + at), depth - at);
}

// Eight bytes, not sixteen: a 4-byte inline prefix holds most prefixes
// (nodes below the top levels mostly have none), and the smallest node
// then takes 24 bytes instead of 32 - 3.0-4.2 bytes/key less on the text
// shapes (bench/RESULTS.md, twenty-eighth session).
struct node_header {
    std::uint8_t kind;   // 0: full (256 refs); otherwise the linear capacity
    std::uint8_t flags;  // has_terminal | child zone << zone_shift
    std::uint8_t count;  // children (a full node: children - 1), the terminal not counted
    std::uint8_t plen8;  // prefix length, or long_plen: a u32 opens the prefix tail
    std::uint8_t prefix[4];
};
static_assert(sizeof(node_header) == 8);
static_assert(alignof(node_header) <= slab_arena::unit);

inline constexpr std::uint8_t has_terminal = 1;
// The child zone: flags >> zone_shift (7 bits, so 128 zones).
inline constexpr unsigned zone_shift = 1;
inline constexpr unsigned max_zones = 256u >> zone_shift;
static_assert(max_zones == slab_arena::max_zones);
constexpr std::uint8_t zone_flags(unsigned zone) noexcept { return static_cast<std::uint8_t>(zone << zone_shift); }
inline constexpr std::size_t inline_prefix = sizeof(node_header::prefix);
inline constexpr std::uint8_t long_plen = 255;
// Bytes of the prefix tail (after the body and the terminal) for a prefix of n bytes.
constexpr std::size_t prefix_tail_bytes(std::size_t n) noexcept {
    return (n > inline_prefix ? n - inline_prefix : 0) + (n >= long_plen ? sizeof(std::uint32_t) : 0);
}
inline constexpr std::uint8_t full_kind = 0;

// Growth sequence of linear capacities; after the last comes the full node.
inline constexpr std::uint8_t linear_caps[] = {3, 6, 11, 16, 24, 32, 48};
inline constexpr std::size_t n_linear = sizeof(linear_caps);

constexpr std::size_t align4(std::size_t n) noexcept { return (n + 3) & ~std::size_t{3}; }

// Without a branch on the kind: the full kind is 0 and align4(0) = 0.
constexpr std::size_t refs_offset(std::uint8_t kind) noexcept { return sizeof(node_header) + align4(kind); }
static_assert(refs_offset(full_kind) == sizeof(node_header));
constexpr std::size_t body_bytes(std::uint8_t kind) noexcept {
    return kind == full_kind ? sizeof(node_header) + 256 * sizeof(ref_t)
                             : refs_offset(kind) + std::size_t{kind} * sizeof(ref_t);
}
static_assert(body_bytes(3) == 24 && body_bytes(6) == 40 && body_bytes(11) == 64 &&
              body_bytes(16) == 88 && body_bytes(24) == 128 && body_bytes(32) == 168 &&
              body_bytes(48) == 248 && body_bytes(full_kind) == 1032);

constexpr std::size_t node_bytes(std::uint8_t kind, bool terminal, std::size_t prefix_len) noexcept {
    return body_bytes(kind) + (terminal ? sizeof(ref_t) : 0) + prefix_tail_bytes(prefix_len);
}

constexpr std::uint8_t capacity(std::uint8_t kind) noexcept {
    return kind;  // meaningless for the full kind, which callers treat apart
}

// Smallest kind whose capacity holds n children.
constexpr std::uint8_t kind_for(std::size_t n) noexcept {
    for (std::uint8_t c : linear_caps) {
        if (n <= c) return c;
    }
    return full_kind;
}
constexpr std::uint8_t next_kind(std::uint8_t kind) noexcept { return kind_for(std::size_t{kind} + 1); }
// The kind to shrink to after an erase left n children, or kind itself. The
// 3/4 hysteresis keeps an insert/erase pair at a boundary from reallocating
// every time.
constexpr std::uint8_t shrunk_kind(std::uint8_t kind, std::size_t n) noexcept {
    std::uint8_t smaller = 0;
    if (kind == full_kind) {
        smaller = linear_caps[n_linear - 1];
    } else {
        for (std::size_t i = 1; i < n_linear; ++i) {
            if (linear_caps[i] == kind) smaller = linear_caps[i - 1];
        }
        if (smaller == 0) return kind;
    }
    return n <= std::size_t{smaller} * 3 / 4 ? kind_for(n) : kind;
}

// The header of a fresh node of `kind` holding n children (a full node at
// least one) and the first bytes of its prefix. A node is written header
// first, from a register, then its body; node_ref::write_prefix_tail ends it.
#if defined(__GNUC__) || defined(__clang__)
[[gnu::always_inline]]
#endif
inline node_header fresh_header(std::uint8_t kind, unsigned zone, bool term, std::size_t n,
                                const unsigned char* prefix, std::size_t plen) noexcept {
    MEMKV_ASSERT(kind == full_kind ? n >= 1 && n <= 256 : n <= kind);
    node_header h{};
    h.kind = kind;
    h.flags = static_cast<std::uint8_t>((term ? has_terminal : 0) | zone_flags(zone));
    h.count = static_cast<std::uint8_t>(n - (kind == full_kind ? 1 : 0));
    h.plen8 = static_cast<std::uint8_t>(plen < long_plen ? plen : long_plen);
    if (plen >= inline_prefix) {
        std::memcpy(h.prefix, prefix, inline_prefix);
    } else {
        copy_bytes(h.prefix, prefix, plen);
    }
    return h;
}

// A view of one inner node in arena memory.
struct node_ref {
    std::byte* p;

    // Nodes are 8-byte aligned, so even a 32-byte node straddles two cache
    // lines 3 times in 8, and the child slot of a larger one is past the
    // first line: ask for the next line together with the header so the two
    // misses overlap instead of queueing.
#if defined(__GNUC__) || defined(__clang__)
    [[gnu::always_inline]] void prefetch_second_line() const noexcept { __builtin_prefetch(p + 32); }
#else
    void prefetch_second_line() const noexcept {}
#endif

    node_header& h() const noexcept { return *reinterpret_cast<node_header*>(p); }
    std::uint8_t kind() const noexcept { return h().kind; }
    bool full() const noexcept { return h().kind == full_kind; }
    std::size_t count() const noexcept { return std::size_t{h().count} + (h().kind == full_kind ? 1 : 0); }
    void set_count(std::size_t n) const noexcept {
        MEMKV_ASSERT(full() ? n >= 1 && n <= 256 : n <= kind());
        h().count = static_cast<std::uint8_t>(n - (full() ? 1 : 0));
    }
    bool terminal() const noexcept { return (h().flags & has_terminal) != 0; }
    // The zone of every child and of the terminal leaf.
    unsigned zone() const noexcept { return static_cast<unsigned>(h().flags) >> zone_shift; }
    void set_zone(unsigned z) const noexcept {
        h().flags = static_cast<std::uint8_t>((h().flags & has_terminal) | zone_flags(z));
    }
    // Inline: every level of an insert, an erase and a scan asks; as a call
    // it cost paths:200k inserts 11% more instructions.
    [[gnu::always_inline]] std::size_t prefix_len() const noexcept {
        if (h().plen8 != long_plen) [[likely]] return h().plen8;
        std::uint32_t n = 0;
        std::memcpy(&n, tail_start(), sizeof n);
        return n;
    }
    // Sets the prefix length field (and, for a long prefix, the u32 that
    // opens the tail); the terminal flag must already be what it will be.
    void set_prefix_len(std::size_t n) const noexcept {
        MEMKV_ASSERT(n <= 0xFFFF'FFFFu);
        if (n >= long_plen) {
            h().plen8 = long_plen;
            const auto v = static_cast<std::uint32_t>(n);
            std::memcpy(tail_start(), &v, sizeof v);
        } else {
            h().plen8 = static_cast<std::uint8_t>(n);
        }
    }
    unsigned char* keys() const noexcept { return reinterpret_cast<unsigned char*>(p + sizeof(node_header)); }
    ref_t* refs() const noexcept { return reinterpret_cast<ref_t*>(p + refs_offset(kind())); }
    ref_t* full_refs() const noexcept {
        MEMKV_ASSERT(full());
        return reinterpret_cast<ref_t*>(p + refs_offset(full_kind));
    }
    ref_t* term() const noexcept { return reinterpret_cast<ref_t*>(p + body_bytes(kind())); }
    // Where the prefix tail starts: after the body and the terminal slot.
    unsigned char* tail_start() const noexcept {
        return reinterpret_cast<unsigned char*>(p + body_bytes(kind()) + (terminal() ? sizeof(ref_t) : 0));
    }
    // The prefix bytes past the inline ones, prefix[inline_prefix..).
    unsigned char* prefix_tail() const noexcept {
        return tail_start() + (h().plen8 == long_plen ? sizeof(std::uint32_t) : 0);
    }
    std::size_t units() const noexcept {
        return slab_arena::units_for(node_bytes(kind(), terminal(), prefix_len()));
    }
    // The prefix past its inline bytes (and a long one's length word) after
    // the body, once fresh_header(..., prefix, plen) is in place.
    [[gnu::always_inline]] void write_prefix_tail(const unsigned char* prefix, std::size_t plen) const noexcept {
        MEMKV_ASSERT(h().plen8 == (plen < long_plen ? plen : long_plen));
        if (plen <= inline_prefix) return;
        if (plen >= long_plen) set_prefix_len(plen);
        copy_bytes(prefix_tail(), prefix + inline_prefix, plen - inline_prefix);
    }
    unsigned char prefix_at(std::size_t i) const noexcept {
        return i < inline_prefix ? h().prefix[i] : prefix_tail()[i - inline_prefix];
    }
    // Copies the whole prefix to out (prefix_len bytes).
    void copy_prefix(unsigned char* out) const noexcept {
        const std::size_t n = prefix_len();
        copy_bytes(out, h().prefix, n < inline_prefix ? n : inline_prefix);
        if (n > inline_prefix) copy_bytes(out + inline_prefix, prefix_tail(), n - inline_prefix);
    }
    // Number of leading bytes of the prefix equal to k[depth, len), at most
    // min(prefix_len, len - depth). Inline: it runs at every level of an
    // insert or a prefix scan, and as a call it cost 4% more instructions
    // per insert on the names shape.
    [[gnu::always_inline]] std::size_t match_prefix(const unsigned char* k, std::size_t depth,
                                                    std::size_t len) const noexcept {
        // Most nodes below the top levels have no prefix: skipping the
        // compare measured faster on every key shape (bench/RESULTS.md).
        const std::size_t p8 = h().plen8;
        if (p8 == 0) return 0;
        const std::size_t avail = len - depth;
        if constexpr (std::endian::native == std::endian::little) {
            // The common case (an inline prefix, a key of at least 8 bytes)
            // without a data-dependent branch: a descent passes ~20 nodes on
            // URL keys and their prefix lengths (0, 1, 2, ...) vary at
            // random, so a byte loop mispredicts its exit at nearly every
            // level. The first difference is the lowest set byte of the
            // masked XOR with the key's word at depth.
            if (p8 <= 8 && len >= 8) {
                const std::size_t n = p8 < avail ? p8 : avail;
                const std::uint64_t x = (prefix_word(p8) ^ key_word(k, depth, len)) & first_bytes_mask(n);
                return x == 0 ? n : static_cast<std::size_t>(std::countr_zero(x)) / 8;
            }
        }
        const std::size_t plen = prefix_len();
        return match_prefix_bytes(k + depth, plen < avail ? plen : avail);
    }
    // match_prefix byte by byte: n of the prefix's bytes against key[0, n).
    std::size_t match_prefix_bytes(const unsigned char* key, std::size_t n) const noexcept {
        if (n < inline_prefix) return mismatch(h().prefix, key, n);
        std::uint32_t a = 0;
        std::uint32_t b = 0;
        std::memcpy(&a, h().prefix, sizeof a);
        std::memcpy(&b, key, sizeof b);
        if (a != b) return first_difference<sizeof a>(std::uint64_t{a ^ b});
        if (n == inline_prefix) return n;
        return inline_prefix + mismatch(prefix_tail(), key + inline_prefix, n - inline_prefix);
    }
    // The prefix's first bytes as one word, as load_u64 would read them from
    // a copy of the prefix, for plen <= 8: the inline bytes and the first
    // tail bytes. Bytes past the prefix are unspecified. The tail's bytes
    // come from one load that ends at the tail's end and starts inside the
    // body (every body is at least 24 bytes), so nothing past the block is read.
    // An inline prefix's word is read directly: it needs no tail address.
    [[gnu::always_inline]] std::uint64_t prefix_word(std::size_t plen) const noexcept {
        MEMKV_ASSERT(plen <= 8);
        if (plen <= inline_prefix) return load_u64(h().prefix);
        const std::size_t t = plen - inline_prefix;
        const std::uint64_t tail = shift_out(load_u64(tail_start() + t - 8), 8 - t);
        std::uint32_t lo = 0;
        std::memcpy(&lo, h().prefix, sizeof lo);
        if constexpr (std::endian::native == std::endian::little) {
            return std::uint64_t{lo} | tail << 32;
        } else {
            return std::uint64_t{lo} << 32 | tail >> 32;
        }
    }
    static_assert(body_bytes(linear_caps[0]) >= 8);
    // Whether the whole prefix (plen > inline_prefix bytes) equals key[0, plen).
    // Not forced inline: prefixes over 8 bytes are rare below the top
    // levels, and inlined it grew descend past what g++ inlined into its
    // caller (URL lookups paid the call's register saves).
    bool long_prefix_equals(const unsigned char* key, std::size_t plen) const noexcept {
        MEMKV_ASSERT(plen > inline_prefix);
        std::uint32_t a = 0;
        std::uint32_t b = 0;
        std::memcpy(&a, h().prefix, sizeof a);
        std::memcpy(&b, key, sizeof b);
        return a == b && equal_bytes(prefix_tail(), key + inline_prefix, plen - inline_prefix);
    }

    // Index of byte b among the linear keys; absent: some value >= count().
    // Reads the key array in 16-byte groups: every node is at least 24
    // bytes and the key array starts at offset 8, so the first group never
    // leaves the block, and the kinds past 16 (24, 32, 48) have 48 bytes
    // from offset 8 inside theirs (body_bytes), so they read three groups
    // without a loop. Both cases avoid a branch on the count (the counts of
    // a descent's nodes vary at random, so such a branch mispredicts); a
    // function call for the larger kinds cost names:1M lookups 7% of their
    // instructions (bench/RESULTS.md, nineteenth session).
#if defined(__GNUC__) || defined(__clang__)
    [[gnu::always_inline]]
#endif
    std::size_t linear_find(unsigned char b) const noexcept {
        MEMKV_ASSERT(!full() && count() <= kind());
#if defined(__SSE2__)
        // The bytes past the count are stale, but the keys are distinct and
        // every stale byte lies past every real key, so the first match is
        // b's index when b is present and at or past the count otherwise.
        // The groups past 16 only when the first has no match: a match there
        // is b's index (16 real keys), and the test on the kind alone went
        // the other way at random where node sizes vary (random keys: 41%
        // of bottom nodes hold more than 16; 13-24% fewer mispredicts a
        // lookup in cachegrind on five inputs of seven, bench/RESULTS.md).
        // A first-group match returns at once, its count unsigned (no sign
        // extension), and bit 48 stands for "none" in the other groups only
        // (lets ctz skip its zero case): 2-4 instructions fewer a lookup and
        // up to 13 an insert (thirty-third session).
        const std::uint32_t first = match_group(keys(), b);
        if (first != 0) return static_cast<unsigned>(std::countr_zero(first));
        if (kind() <= 16) return 48;
        const std::uint64_t hits = std::uint64_t{match_group(keys() + 16, b)} << 16 |
                                   std::uint64_t{match_group(keys() + 32, b)} << 32;
        return static_cast<unsigned>(std::countr_zero(hits | (std::uint64_t{1} << 48)));
#else
        const unsigned char* k = keys();
        const std::size_t n = count();
        for (std::size_t i = 0; i < n; ++i) {
            if (k[i] == b) return i;
        }
        return n;
#endif
    }
    static_assert(refs_offset(24) + 24 * sizeof(ref_t) >= sizeof(node_header) + 48);
    static_assert(body_bytes(linear_caps[0]) >= sizeof(node_header) + 16);

#if defined(__SSE2__)
    // Bit i set: k[i] < b, for i < 16 (all 16 bytes are read).
    static std::uint32_t below_group(const unsigned char* k, unsigned char b) noexcept {
        const __m128i group = _mm_loadu_si128(reinterpret_cast<const __m128i*>(k));
        const __m128i bytes = _mm_set1_epi32(static_cast<int>(b * 0x0101'0101u));
        // k[i] < b exactly where b - k[i] does not saturate to 0.
        const __m128i ge = _mm_cmpeq_epi8(_mm_subs_epu8(bytes, group), _mm_setzero_si128());
        return static_cast<std::uint32_t>(~_mm_movemask_epi8(ge)) & 0xFFFFu;
    }
    // Bit i set: k[i] == b, for i < 16 (all 16 bytes are read).
    static std::uint32_t match_group(const unsigned char* k, unsigned char b) noexcept {
        const __m128i group = _mm_loadu_si128(reinterpret_cast<const __m128i*>(k));
        // b in every byte: a multiply and a 32-bit broadcast are one
        // instruction fewer than SSE2's byte broadcast.
        const __m128i bytes = _mm_set1_epi32(static_cast<int>(b * 0x0101'0101u));
        return static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(group, bytes)));
    }
#endif

    // Where byte b (absent) goes among the linear keys: how many are below
    // it. Groups of 16 as in linear_find (same reads), bytes past the count
    // masked off: no loop whose exit depends on the byte.
    std::size_t rank(unsigned char b) const noexcept {
        MEMKV_ASSERT(!full() && linear_find(b) >= count());
        const std::size_t n = count();
#if defined(__SSE2__)
        std::uint64_t below = below_group(keys(), b);
        if (kind() > 16) {
            below |= std::uint64_t{below_group(keys() + 16, b)} << 16 |
                     std::uint64_t{below_group(keys() + 32, b)} << 32;
        }
        // The keys below b are the first ones (sorted); stale bytes past
        // the count may continue the run, hence the cap.
        const auto i = static_cast<std::size_t>(std::countr_one(below));
        return i < n ? i : n;
#else
        const unsigned char* k = keys();
        std::size_t i = 0;
        while (i < n && k[i] < b) ++i;
        return i;
#endif
    }

    // Writes into the fresh block `to` this full linear node grown to the
    // next kind (`kind`, linear) with child b -> child added: the header,
    // the keys and references with the new entry at its rank, then the
    // terminal and prefix tail as they are (they follow the body, so they
    // move as one run). A fifth of the inserts of random binary keys grow a
    // node (a bottom node grows 3 -> 6 -> 11 -> 16 -> 24), so this copies by
    // runs rather than entry by entry, and the keys as 16-byte groups: the
    // new entry's rank splits each group into the bytes that stay and the
    // bytes that move up by one (bench/RESULTS.md, forty-fifth session).
    void grow_into(node_ref to, std::uint8_t kind, unsigned char b, ref_t child) const noexcept {
        const std::size_t n = count();
        MEMKV_ASSERT(!full() && n == this->kind() && kind != full_kind && kind > n);
        const std::size_t i = rank(b);
        std::memcpy(to.p, p, sizeof(node_header));
        to.h().kind = kind;
        to.set_count(n + 1);
#if defined(__SSE2__)
        // New byte j is old byte j below the rank, b at it, old byte j - 1
        // above it. The reads stay inside the old block (linear_find: 48
        // bytes from offset 8 for kinds past 16; one byte before the keys
        // is the header's), the writes inside the new one's body (the
        // groups past the n + 1 new keys land on its references, written
        // next).
        static_assert(refs_offset(24) + 24 * sizeof(ref_t) >= sizeof(node_header) + 48);
        const __m128i at = _mm_set1_epi8(static_cast<char>(i));
        const __m128i nb = _mm_set1_epi8(static_cast<char>(b));
        for (std::size_t g = 0; g <= n; g += 16) {
            const __m128i idx = _mm_add_epi8(_mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                             _mm_set1_epi8(static_cast<char>(g)));
            // Unsigned byte compares by their signed forms: indices < 64.
            const __m128i stay = _mm_cmplt_epi8(idx, at);
            const __m128i here = _mm_cmpeq_epi8(idx, at);
            const __m128i same = _mm_loadu_si128(reinterpret_cast<const __m128i*>(keys() + g));
            const __m128i up = _mm_loadu_si128(reinterpret_cast<const __m128i*>(keys() + g - 1));
            const __m128i moved = _mm_or_si128(_mm_and_si128(here, nb), _mm_andnot_si128(here, up));
            const __m128i out = _mm_or_si128(_mm_and_si128(stay, same), _mm_andnot_si128(stay, moved));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(to.keys() + g), out);
        }
#else
        std::memcpy(to.keys(), keys(), i);
        to.keys()[i] = b;
        std::memcpy(to.keys() + i + 1, keys() + i, n - i);
#endif
        std::memcpy(to.refs(), refs(), i * sizeof(ref_t));
        to.refs()[i] = child;
        std::memcpy(to.refs() + i + 1, refs() + i, (n - i) * sizeof(ref_t));
        const std::size_t trailer = (terminal() ? sizeof(ref_t) : 0) + prefix_tail_bytes(prefix_len());
        if (trailer != 0) std::memcpy(to.term(), term(), trailer);
    }

    // The child slot for byte b, or nullptr.
    ref_t* find_child(unsigned char b) const noexcept {
        if (full()) {
            ref_t* s = refs() + b;
            return *s != 0 ? s : nullptr;
        }
        const std::size_t i = linear_find(b);
        return i < h().count ? refs() + i : nullptr;  // a linear node's count is stored as is
    }

    // Positions order a node's entries: -1 is the terminal, 0.. are children
    // (index for linear nodes, the byte itself for full nodes). none = no
    // such position.
    static constexpr int none = -2;

    int first_pos() const noexcept { return terminal() ? -1 : next_child_pos(-1); }
    int last_pos() const noexcept {
        const int c = prev_child_pos(full() ? 256 : static_cast<int>(count()));
        return c != none ? c : (terminal() ? -1 : none);
    }
    int next_child_pos(int pos) const noexcept {
        if (full()) {
            const ref_t* r = refs();
            for (int i = pos + 1; i < 256; ++i) {
                if (r[i] != 0) return i;
            }
            return none;
        }
        return pos + 1 < static_cast<int>(count()) ? pos + 1 : none;
    }
    int prev_child_pos(int pos) const noexcept {
        if (full()) {
            const ref_t* r = refs();
            for (int i = pos - 1; i >= 0; --i) {
                if (r[i] != 0) return i;
            }
            return none;
        }
        return pos - 1 >= 0 ? pos - 1 : none;
    }
    int next_pos(int pos) const noexcept { return next_child_pos(pos); }
    int prev_pos(int pos) const noexcept {
        if (pos < 0) return none;
        const int c = prev_child_pos(pos);
        return c != none ? c : (terminal() ? -1 : none);
    }
    // First child position whose byte is >= b, or none.
    int lower_child_pos(unsigned char b) const noexcept {
        if (full()) return next_child_pos(static_cast<int>(b) - 1);
        const unsigned char* k = keys();
        const std::size_t n = count();
        for (std::size_t i = 0; i < n; ++i) {
            if (k[i] >= b) return static_cast<int>(i);
        }
        return none;
    }
    ref_t child_at(int pos) const noexcept {
        MEMKV_ASSERT(pos < 0 ? pos == -1 && terminal() : pos < (full() ? 256 : static_cast<int>(count())));
        return pos < 0 ? *term() : refs()[pos];
    }
    unsigned char byte_at(int pos) const noexcept {
        return full() ? static_cast<unsigned char>(pos) : keys()[pos];
    }
};

}  // namespace memkv::detail::art
