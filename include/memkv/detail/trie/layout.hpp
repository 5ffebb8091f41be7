#pragma once

// FrozenLayer v3's trie: a Patricia trie in post-order, succinct, whose
// edge labels past their first byte and tails ("links") sit in a coded
// string store (DESIGN.md, "FrozenLayer v2 (in progress)"; the prototype that
// chose it is bench/trie_prototype.cpp's dfs_patricia, which is pre-order).
//
// Edges. Every node is a run of edges, one per distinct next byte of its
// keys, plus a key end first when a key ends at the node. A node's edges lie
// together, after the subtrees of its children (in ascending label order),
// so a builder fed sorted keys writes every node the moment it completes and
// holds only the open path:
//
//   ... [child a's subtree][child c's subtree][node: c b a ⊥] ...
//                                             ^ start     end ^
//
// Within a node the edges are in DESCENDING label order and the key end
// (⊥), when there is one, comes last with the label of the edge before it
// (labels in a node are otherwise distinct, and a node has two edges or more
// but the root, which may have one). So a node's first inner edge in
// position leads to the child whose subtree ends where the node starts: it
// stores no jump; every other inner edge stores its jump, the edges between
// its child's end and the node's start (the subtrees of the children with
// higher labels). A descent knows a child's end (start - jump) and finds its
// start by the node-start marks below that end.
//
// Ordinals. Every edge that leads to no node ends one key. With E(x) the
// key-ending edges before position x, the keys after a key in byte order,
// counted inside the subtree of the node v whose edge p reaches it, are
//
//   inner p:  E(p) - E(p's child's end)    + those after it in the child
//   leaf p:   E(p) - E(boundary)
//
// where boundary is the end of the subtree of v's first inner edge after p
// (the highest child below p's label) or else v's subtree's start: the edges
// between are v's edges before p (higher labels) and the subtrees of v's
// children with higher labels. The descent sums these; ordinal = keys - 1 -
// sum. A child's subtree start, needed only when the key ends at a leaf, is
// carried down unresolved (a base and the edge whose jump to subtract).
//
// Blocks of 64 edges; a block holds everything a level reads of an edge:
//
//   +-------------------------------------------------------------------+  0
//   | inner_rank u32  inner edges before the block                      |
//   | link_rank  u32  links before the block                            |
//   | links_at   u32  the one of link link_rank in the link offsets'    |
//   |                 high bits (unused if the block has no link)       |
//   | jump_at    u32  bits 0-24: the block's first jump's bit offset    |
//   |                 from its jump base (one u64 per 1,024 blocks);    |
//   |                 bit 25: carry (the block's first edge continues a |
//   |                 node that had an inner edge in the block before); |
//   |                 bits 26-31: the block's jump width (1-32)         |
//   | child u64  edge i leads to a node (else it ends a key)            |  16
//   | link  u64  edge i has a link                                      |  24
//   | first u64  edge i is its node's first                             |  32
//   | labels[64]                                                        |  40
//   +-------------------------------------------------------------------+  104
//
// Integers little-endian. One block more than the edges fill, so that
// position `edges` has a block (its ranks are the totals). A block's jumps
// are bit-packed LSB-first at its width, for the edges jump_mask() gives.

#include <bit>
#include <cstddef>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <memkv/detail/io/endian.hpp>

namespace memkv::detail::trie {

inline constexpr std::size_t block_bytes = 104;
inline constexpr unsigned block_edges = 64;
inline constexpr unsigned blocks_per_jump_base = 1024;
inline constexpr std::uint32_t jump_at_mask = (std::uint32_t{1} << 25) - 1;
inline constexpr std::uint32_t jump_carry = std::uint32_t{1} << 25;
inline constexpr unsigned jump_width_shift = 26;
inline constexpr std::uint64_t npos = ~std::uint64_t{0};

inline constexpr std::uint64_t below(unsigned bit) noexcept { return (std::uint64_t{1} << bit) - 1; }
// Bits 0..bit, inclusive.
// (2 << 63 wraps to 0, so bit 63 gives all ones without a branch.)
inline constexpr std::uint64_t up_to(unsigned bit) noexcept { return (std::uint64_t{2} << bit) - 1; }

// A block in an image.
struct block_ref {
    const unsigned char* p;

    std::uint64_t inner_rank() const noexcept { return load_le32(p); }
    std::uint64_t link_rank() const noexcept { return load_le32(p + 4); }
    std::uint64_t links_at() const noexcept { return load_le32(p + 8); }
    std::uint32_t jump_at() const noexcept { return load_le32(p + 12); }
    std::uint64_t child() const noexcept { return load_le64(p + 16); }
    std::uint64_t link() const noexcept { return load_le64(p + 24); }
    std::uint64_t first() const noexcept { return load_le64(p + 32); }
    const unsigned char* labels() const noexcept { return p + 40; }
    unsigned char label(unsigned i) const noexcept { return p[40 + i]; }
};

// The block as the builder fills it.
struct block_fields {
    std::uint32_t inner_rank = 0, link_rank = 0, links_at = 0, jump_at = 0;
    std::uint64_t child = 0, link = 0, first = 0;
    unsigned char labels[block_edges] = {};

    void store(unsigned char* out) const noexcept {
        store_le(out, inner_rank, 4);
        store_le(out + 4, link_rank, 4);
        store_le(out + 8, links_at, 4);
        store_le(out + 12, jump_at, 4);
        store_le(out + 16, child, 8);
        store_le(out + 24, link, 8);
        store_le(out + 32, first, 8);
        for (unsigned i = 0; i < block_edges; ++i) out[40 + i] = labels[i];
    }
};
static_assert(40 + block_edges == block_bytes);

// The block's edges that store a jump: its inner edges but each node's
// first. Each node's first inner edge, all at once: subtracting the
// node-start bits from the inner bits borrows from each start up to the
// node's first inner edge, and a one planted at each node's last edge stops
// a node without one from borrowing from the next. A node that runs in from
// the block before and had an inner edge there (the carry) has none of its
// firsts here.
inline std::uint64_t jump_mask(std::uint64_t child, std::uint64_t first, bool carry) noexcept {
    const std::uint64_t starts = first | 1;
    const std::uint64_t x = child | (starts >> 1) | (std::uint64_t{1} << 63);
    std::uint64_t firsts = (x ^ (x - starts)) & child;
    if (carry) {
        const std::uint64_t lowest = firsts & (~firsts + 1);
        const std::uint64_t later_start = first & ~std::uint64_t{1};
        if (later_start == 0 || lowest < (later_start & (~later_start + 1))) firsts &= ~lowest;
    }
    return child & ~firsts;
}
inline std::uint64_t jump_mask(block_ref b) noexcept {
    return jump_mask(b.child(), b.first(), (b.jump_at() & jump_carry) != 0);
}

// Bits lo..hi (lo <= hi < 64) set where labels[i] >= c; the others clear.
// All four 16-label groups are compared, without a branch. Comparing only
// the groups that hold lo..hi (thirty-seventh session) branched on whether
// the node spans two, and on words.txt 40% of a lookup's nodes do: the
// branch mispredicted and the two-group loop cost more than the compares
// it saved (2% fewer instructions a lookup on every shape, words.txt
// lookups 4% faster; bench/RESULTS.md, forty-first session).
inline std::uint64_t at_least(const unsigned char* labels, unsigned char c, unsigned lo, unsigned hi) noexcept {
    std::uint64_t m = 0;
#if defined(__SSE2__)
    const __m128i cv = _mm_set1_epi8(static_cast<char>(c));
    const auto ge = [&](unsigned q) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(labels + 16 * q));
        return static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_max_epu8(v, cv), v))));
    };
    m = ge(0) | ge(1) << 16 | ge(2) << 32 | ge(3) << 48;
#else
    for (unsigned i = lo; i <= hi; ++i) m |= std::uint64_t{labels[i] >= c} << i;
#endif
    return m & up_to(hi) & ~below(lo);
}

// Bit i set where labels[i] >= c.
inline std::uint64_t at_least(const unsigned char* labels, unsigned char c) noexcept {
    return at_least(labels, c, 0, block_edges - 1);
}

// `width` bits (0..56) at bit position pos of an LSB-first bit array that
// has 8 bytes of padding past pos's byte.
inline std::uint64_t bits_at(const unsigned char* p, std::uint64_t pos, unsigned width) noexcept {
    return (load_u64_unaligned(p + pos / 8) >> (pos % 8)) & below(width);
}

}  // namespace memkv::detail::trie
