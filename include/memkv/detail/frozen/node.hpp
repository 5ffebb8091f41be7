#pragma once

// FrozenLayer's automaton nodes: the layout drawn once below, then for the
// node kinds their decoder (frozen_node, decode_frozen_node: bounds-checked,
// used by every query) and their encoders (encode_frozen_node and the
// one-byte chain headers: used by frozen_compiler). A change to a kind's
// bytes is a change here, on both sides at once; format.hpp keeps the file
// header around the automaton.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <memkv/detail/assert.hpp>
#include <memkv/detail/frozen/format.hpp>
#include <memkv/detail/io/endian.hpp>

namespace memkv::detail {

// ---------------------------------------------------------------------------
// Automaton nodes. Nodes are written children-first (post-order); a node's
// address is the offset of its LAST byte and it is read backwards, so logical
// byte k of the node at address a is automaton[a - k]. That makes "the node
// written just before me" addressable as a - len: single-transition chains
// cost no target field. Every target address is smaller than the address of
// the node that points to it, so any walk terminates. Address 0 always holds
// the final leaf (the accepting state with no transitions, header 0x08); a
// stored delta of 0 means "target = the leaf", so the transitions that end
// keys need no long pointer.
//
// Logical byte 0, the header h, selects the kind:
//
//   10LLLLLL                 one-next: non-final, one transition labelled
//                            table[L], target = a - 1.            (1 byte)
//   11PPPPPP                 pair-next: non-final, two chained transitions
//                            labelled pair[P] (the inner state has no
//                            address), target = a - 1.            (1 byte)
//   01NIIIII [label] [delta] one: non-final, one transition; I = 0: explicit
//                            label byte follows, else label = table[I - 1];
//                            N = 1: target = a - len, else a LEB128 delta
//                            follows: target = delta ? a - delta : 0.
//   011IIIII labels[len]     short run (format version 2), I >= 1: non-final,
//                            one transition spelling len labels whose inner
//                            states have no address; I <= 15: len = I + 1
//                            (2..16), target = a - len - 1; I >= 16: len =
//                            I - 14 (2..17), target = the leaf. The labels
//                            are in key order from logical byte 1, so they
//                            lie backwards in memory. (Version 1 never
//                            writes these headers: a `one` node with N = 1
//                            and a table label is a one-next byte instead.)
//   001IIIII [label]         one-to-leaf: non-final, one transition to the
//                            leaf (address 0); I < 31: label = table[I],
//                            I == 31: explicit label byte follows.
//   0001FLAC labels[2] deltas[...] count
//                            two: n = 2 without the S byte: F = final, L =
//                            last target is a - len, aw = 1 + A, cw = 1 + C;
//                            then as general below.
//   00000000 LLLLLLLT labels[len]
//                            long run (format version 2): as a short run,
//                            len = L (2..127) labels from logical byte 2; T =
//                            0: target = a - len - 2, T = 1: the leaf. (The
//                            header is a general node with n = 0 and F = 0,
//                            which version 1 never writes: a non-final node
//                            has a transition.)
//   00000CCC / 00001CCC [n-7] S labels[n] deltas[...] counts[n-1]
//                            general (bit 3 = F, final): C < 7: n = C,
//                            C == 7: the next byte holds n - 7 (n <= 256).
//                            n == 0: a leaf (header only). S: bits 0-3 aw (1..8) =
//                            bytes per delta, bits 4-6 cw = bytes per count,
//                            bit 7 = the last transition's target is a - len
//                            (its delta is omitted). labels ascending.
//                            deltas (aw bytes each, LE): target_i = a -
//                            delta_i, or the leaf for delta_i == 0. counts
//                            (cw bytes, LE): counts[i-1] = count_before(i)
//                            for i >= 1.
//
// count_before(i) = F + number of keys below transitions 0..i-1: the rank of
// the first key through transition i among the keys below this node, so
// ordinal(key) is the sum of count_before along its path.
// ---------------------------------------------------------------------------

inline constexpr unsigned char node_one_next = 0x80;
inline constexpr unsigned char node_pair_next = 0x40;  // within one-next
inline constexpr unsigned char node_one = 0x40;
inline constexpr unsigned char node_one_is_next = 0x20;
inline constexpr unsigned char node_to_leaf = 0x20;
inline constexpr unsigned char node_two = 0x10;
inline constexpr unsigned char node_final = 0x08;  // in general and two nodes
inline constexpr unsigned node_max_inline_n = 7;
inline constexpr unsigned char node_leaf = node_final;  // general, final, n = 0
inline constexpr unsigned char node_long_run = 0x00;     // then (len << 1 | to leaf)
inline constexpr unsigned node_run_max = 127;
inline constexpr unsigned char node_short_run = 0x60;    // | I, I >= 1
// The longest run a short-run header holds.
inline constexpr unsigned frozen_short_run_max(bool to_leaf) noexcept { return to_leaf ? 17 : 16; }
inline constexpr unsigned char frozen_short_run_byte(unsigned len, bool to_leaf) noexcept {
    return static_cast<unsigned char>(node_short_run | (to_leaf ? len + 14 : len - 1));
}
inline constexpr unsigned char frozen_long_run_byte(unsigned len, bool to_leaf) noexcept {
    return static_cast<unsigned char>(len << 1 | (to_leaf ? 1U : 0U));
}

// True if the header byte h starts a final node.
inline constexpr bool frozen_header_final(unsigned char h) noexcept {
    return h < node_to_leaf && (h & node_final) != 0;
}

// A decoded node. Cheap to construct (a few byte reads); transitions are
// decoded lazily by index.
struct frozen_node {
    const unsigned char* base = nullptr;  // automaton bytes
    std::uint64_t addr = 0;
    std::uint32_t n = 0;
    bool final = false;
    bool general = false;
    // one-transition kinds
    // Labels after one_label on the transition: a pair node's one_label2 (1)
    // or a run's, from logical offset labels_at + 1 (len - 1 <= 126).
    unsigned char extra = 0;
    unsigned char one_label = 0;
    unsigned char one_label2 = 0;
    std::uint64_t one_target = 0;
    // general kind
    std::uint64_t labels_at = 0;  // logical offsets (labels_at: also a run's)
    std::uint64_t deltas_at = 0;
    std::uint64_t counts_at = 0;
    std::uint64_t len = 0;
    unsigned aw = 0;
    unsigned cw = 0;
    bool last_next = false;

    unsigned char at(std::uint64_t k) const noexcept { return base[addr - k]; }
    std::uint64_t field(std::uint64_t k, unsigned w) const noexcept {
        std::uint64_t v = 0;
        for (unsigned j = 0; j < w; ++j) v |= static_cast<std::uint64_t>(at(k + j)) << (8 * j);
        return v;
    }

    unsigned char label(std::uint32_t i) const noexcept {
        return general ? at(labels_at + i) : one_label;
    }
    // Label i + 1 of a one-transition node spelling several (i < extra).
    unsigned char label_after(unsigned i) const noexcept { return run() ? at(labels_at + 1 + i) : one_label2; }
    // A run node (its labels from logical offset labels_at; a pair has none).
    bool run() const noexcept { return labels_at != 0 && !general; }
    // Appends every label of the one transition of a non-general node.
    template <class String>
    void append_labels(String& out) const {
        out.push_back(static_cast<char>(one_label));
        for (unsigned i = 0; i < extra; ++i) out.push_back(static_cast<char>(label_after(i)));
    }
    // Forced inline: on every step of every iterator, and GCC weighs the
    // throw on a corrupt delta against inlining it.
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((always_inline))
#endif
    std::uint64_t target(std::uint32_t i) const {
        if (!general) return one_target;
        if (last_next && i + 1 == n) return addr - len;  // len <= addr checked in decode
        const std::uint64_t d = field(deltas_at + std::uint64_t{i} * aw, aw);
        if (d > addr) frozen_corrupt("transition target out of bounds");
        return d == 0 ? 0 : addr - d;
    }
    std::uint64_t count_before(std::uint32_t i) const noexcept {
        if (i == 0 || !general) return final ? 1 : 0;
        return field(counts_at + std::uint64_t{i - 1} * cw, cw);
    }
    // Index of the transition labelled c, or n.
    std::uint32_t find(unsigned char c) const noexcept {
        if (!general) return (n == 1 && one_label == c) ? 0 : n;
        std::uint32_t lo = 0, hi = n;
        if (n <= 8) {
            for (std::uint32_t i = 0; i < n; ++i) {
                const unsigned char l = at(labels_at + i);
                if (l == c) return i;
                if (l > c) return n;
            }
            return n;
        }
        while (lo < hi) {
            const std::uint32_t mid = (lo + hi) / 2;
            if (at(labels_at + mid) < c) lo = mid + 1; else hi = mid;
        }
        return (lo < n && at(labels_at + lo) == c) ? lo : n;
    }
    // Index of the first transition with label >= c, or n.
    std::uint32_t lower(unsigned char c) const noexcept {
        std::uint32_t lo = 0, hi = n;
        while (lo < hi) {
            const std::uint32_t mid = (lo + hi) / 2;
            if (label(mid) < c) lo = mid + 1; else hi = mid;
        }
        return lo;
    }
    // Largest i with count_before(i) <= r (for key_at).
    std::uint32_t by_rank(std::uint64_t r) const noexcept {
        std::uint32_t lo = 0, hi = n;  // answer in [lo, hi)
        while (hi - lo > 1) {
            const std::uint32_t mid = (lo + hi) / 2;
            if (count_before(mid) <= r) lo = mid; else hi = mid;
        }
        return lo;
    }
};

// The rest of a run node of len labels from logical offset `at` (1 short, 2
// long), bounds-checked as decode_frozen_node promises.
inline void decode_frozen_run(frozen_node& nd, unsigned len, unsigned at, bool to_leaf) {
    const std::uint64_t addr = nd.addr;
    if (len < 2) frozen_corrupt("run node of fewer than two labels");
    if (addr < std::uint64_t{at} + len - 1) frozen_corrupt("truncated node");
    nd.n = 1;
    nd.extra = static_cast<unsigned char>(len - 1);
    nd.labels_at = at;
    nd.one_label = nd.at(at);
    if (to_leaf) {
        nd.one_target = 0;
    } else {
        if (addr < std::uint64_t{at} + len) frozen_corrupt("chain node has no successor");
        nd.one_target = addr - at - len;
    }
}

// Decodes the node at addr of an automaton of `size` bytes, checking that
// every byte it will read lies inside [0, addr].
inline frozen_node decode_frozen_node(const unsigned char* base, std::uint64_t size,
                                      std::uint64_t addr, const unsigned char* table) {
    if (addr >= size) frozen_corrupt("node address out of bounds");
    frozen_node nd;
    nd.base = base;
    nd.addr = addr;
    const unsigned char h = base[addr];
    if (h & node_one_next) {
        if (addr < 1) frozen_corrupt("chain node has no successor");
        nd.n = 1;
        if (h & node_pair_next) {
            nd.extra = 1;
            nd.one_label = table[frozen_singles + 2 * (h & 0x3F)];
            nd.one_label2 = table[frozen_singles + 2 * (h & 0x3F) + 1];
        } else {
            nd.one_label = table[h & 0x3F];
        }
        nd.one_target = addr - 1;
        return nd;
    }
    if (h & node_one) {
        nd.n = 1;
        std::uint64_t k = 1;
        if ((h & 0x1F) == 0) {
            if (addr < k) frozen_corrupt("truncated node");
            nd.one_label = nd.at(k++);
        } else if (h & node_one_is_next) {  // a short run (a table label with N = 1 is a one-next byte)
            const unsigned i = h & 0x1F;
            const bool to_leaf = i >= 16;
            decode_frozen_run(nd, to_leaf ? i - 14 : i + 1, 1, to_leaf);
            return nd;
        } else {
            nd.one_label = table[(h & 0x1F) - 1];
        }
        if (h & node_one_is_next) {
            if (addr < k) frozen_corrupt("chain node has no successor");
            nd.one_target = addr - k;
            return nd;
        }
        std::uint64_t d = 0;
        for (unsigned shift = 0;; shift += 7) {
            if (addr < k || shift > 63) frozen_corrupt("truncated or overlong varint");
            const unsigned char b = nd.at(k++);
            d |= static_cast<std::uint64_t>(b & 0x7F) << shift;
            if (!(b & 0x80)) break;
        }
        if (d >= addr) frozen_corrupt("transition target out of bounds");
        nd.one_target = d == 0 ? 0 : addr - d;
        return nd;
    }
    if (h & node_to_leaf) {
        nd.n = 1;
        nd.one_target = 0;
        if ((h & 0x1F) == 0x1F) {
            if (addr < 1) frozen_corrupt("truncated node");
            nd.one_label = nd.at(1);
        } else {
            nd.one_label = table[h & 0x1F];
        }
        if (addr == 0) frozen_corrupt("transition target out of bounds");
        return nd;
    }
    nd.general = true;
    nd.final = (h & node_final) != 0;
    std::uint64_t k = 1;
    if (h & node_two) {
        nd.n = 2;
        nd.last_next = (h & 0x04) != 0;
        nd.aw = 1U + ((h >> 1) & 1U);
        nd.cw = 1U + (h & 1U);
        nd.labels_at = 1;
        nd.deltas_at = 3;
        nd.counts_at = 3 + (nd.last_next ? 1U : 2U) * nd.aw;
        nd.len = nd.counts_at + nd.cw;
        if (nd.len > addr + (nd.last_next ? 0U : 1U)) frozen_corrupt("truncated node");
        return nd;
    }
    std::uint32_t n = h & 0x07;
    if (n == node_max_inline_n) {
        if (addr < k) frozen_corrupt("truncated node");
        n += nd.at(k++);
        if (n > 256) frozen_corrupt("node has more than 256 transitions");
    }
    nd.n = n;
    if (n == 0) {
        if (!nd.final) {  // header node_run: a long run
            if (addr < 1) frozen_corrupt("truncated node");
            const unsigned char l = nd.at(1);
            nd.general = false;
            decode_frozen_run(nd, l >> 1, 2, (l & 1U) != 0);
            return nd;
        }
        nd.len = k;
        return nd;
    }
    if (addr < k) frozen_corrupt("truncated node");
    const unsigned char s = nd.at(k++);
    nd.aw = s & 0x0F;
    nd.cw = (s >> 4) & 0x07;
    nd.last_next = (s & 0x80) != 0;
    if (nd.aw == 0 || nd.aw > 8) frozen_corrupt("bad address width");
    nd.labels_at = k;
    nd.deltas_at = k + n;
    const std::uint64_t ndelta = n - (nd.last_next ? 1U : 0U);
    nd.counts_at = nd.deltas_at + ndelta * nd.aw;
    nd.len = nd.counts_at + std::uint64_t{n - 1} * nd.cw;
    // The node occupies logical bytes [0, len); a "next" target needs one more.
    if (nd.len > addr + (nd.last_next ? 0U : 1U)) frozen_corrupt("truncated node");
    return nd;
}

// ---------------------------------------------------------------------------
// Encoders (the builder's side of the layout above).
// ---------------------------------------------------------------------------

// Counters describing the output, for tuning and DESIGN.md tables.
struct frozen_build_stats {
    std::uint64_t one_next_nodes = 0;     // 1-byte chain nodes
    std::uint64_t one_nodes = 0;          // other single-transition nodes
    std::uint64_t one_bytes = 0;
    std::uint64_t general_nodes = 0;
    std::uint64_t general_bytes = 0;
    std::uint64_t general_trans = 0;
    std::uint64_t registry_hits = 0;
    std::uint64_t registry_misses = 0;
    std::uint64_t fresh_skips = 0;
    std::uint64_t reemitted_chains = 0;
    std::uint64_t reemitted_bytes = 0;
    std::uint64_t general_delta_bytes = 0;
    std::uint64_t general_count_bytes = 0;
    std::uint64_t general_next_omitted = 0;
    std::uint64_t general_leaf_deltas = 0;
    std::uint64_t general_n2 = 0;
    std::uint64_t join_varint_len[8] = {};
    std::uint64_t join_explicit_label = 0;
    std::uint64_t pair_nodes = 0;
    std::uint64_t run_nodes = 0;
    std::uint64_t run_labels = 0;
    std::uint64_t run_bytes = 0;
    std::uint64_t materialized = 0;
};

// One transition of a node being encoded: label, target address (0: the
// leaf) and the number of keys below the target.
struct frozen_trans {
    unsigned char label;
    std::uint64_t addr;
    std::uint64_t count;
};

// Maps a label to its index in the single-label table (0xFF: not in it).
using frozen_label_index = std::array<unsigned char, 256>;

// The one-byte chain kinds: one-next (label = table[idx]) and pair-next
// (labels = pair[p]). Both point at the byte written just before them.
inline constexpr unsigned char frozen_one_next_byte(unsigned idx) noexcept {
    return static_cast<unsigned char>(node_one_next | idx);
}
inline constexpr unsigned char frozen_pair_next_byte(unsigned p) noexcept {
    return static_cast<unsigned char>(node_one_next | node_pair_next | p);
}

inline unsigned frozen_varint_len(std::uint64_t v) noexcept {
    unsigned n = 1;
    while (v > 0x7F) {
        v >>= 7;
        ++n;
    }
    return n;
}

// one-to-leaf, one (with or without delta) and, when the target is the byte
// before, one-next: a non-final node with one transition.
inline void encode_frozen_single(std::vector<unsigned char>& buf, std::uint64_t start, const frozen_trans& t,
                                 const frozen_label_index& table_index, frozen_build_stats& stats) {
    const unsigned idx = table_index[t.label];
    const bool next = start > 0 && t.addr == start - 1;
    if (t.addr == 0) {
        if (idx < 31) {
            buf.push_back(static_cast<unsigned char>(node_to_leaf | idx));
        } else {
            buf.push_back(static_cast<unsigned char>(node_to_leaf | 0x1F));
            buf.push_back(t.label);
        }
        return;
    }
    if (next && idx < frozen_singles) {
        buf.push_back(frozen_one_next_byte(idx));
        return;
    }
    buf.push_back(static_cast<unsigned char>(node_one | (next ? node_one_is_next : 0) | (idx < 31 ? idx + 1 : 0)));
    if (idx >= 31) buf.push_back(t.label);
    if (next) return;
    // The delta counts from the node's address (its last byte), which
    // depends on the delta's own length: take the shortest that fits.
    const std::uint64_t fixed = buf.size();
    unsigned vl = 1;
    std::uint64_t d = 0;
    for (;; ++vl) {
        d = start + fixed + vl - 1 - t.addr;
        if (frozen_varint_len(d) <= vl) break;
    }
    ++stats.join_varint_len[vl < 8 ? vl : 7];
    if (idx >= 31) ++stats.join_explicit_label;
    for (unsigned i = 0; i < vl; ++i) {
        const unsigned char more = i + 1 < vl ? 0x80 : 0;
        buf.push_back(static_cast<unsigned char>(((d >> (7 * i)) & 0x7F) | more));
    }
}

// two and general: a final node, or one with 0 or >= 2 transitions.
inline void encode_frozen_branch(std::vector<unsigned char>& buf, std::uint64_t start, bool final,
                                 std::span<const frozen_trans> trans, frozen_build_stats& stats) {
    const std::size_t n = trans.size();
    const unsigned char fin = final ? node_final : 0;
    const bool last_next = n > 0 && start > 0 && trans.back().addr == start - 1;
    const std::size_t ndelta = n - (last_next ? 1 : 0);
    // count_before(i) for i >= 1; the largest is count_before(n-1).
    std::uint64_t before = final ? 1 : 0;
    for (std::size_t i = 0; i + 1 < n; ++i) before += trans[i].count;
    const unsigned cw = n > 1 ? std::max(1U, byte_width(before)) : 0;
    std::uint64_t min_target = ~std::uint64_t{0};
    for (std::size_t i = 0; i < ndelta; ++i)
        if (trans[i].addr != 0) min_target = std::min(min_target, trans[i].addr);
    // Smallest delta width that fits given the node's own length.
    auto width_for = [&](std::uint64_t fixed) {
        unsigned w = 1;
        if (min_target != ~std::uint64_t{0}) {
            while (byte_width(start + fixed + ndelta * w - 1 - min_target) > w) ++w;
        }
        return w;
    };
    const std::uint64_t two_fixed = 1 + 2 + std::uint64_t{cw};
    const unsigned two_aw = n == 2 ? width_for(two_fixed) : 9;
    const bool two = n == 2 && two_aw <= 2 && cw <= 2;
    if (two) {
        buf.push_back(static_cast<unsigned char>(node_two | fin | (last_next ? 0x04 : 0) | ((two_aw - 1) << 1) |
                                                 (cw - 1)));
        stats.general_n2 += 1;
    } else if (n < node_max_inline_n) {
        buf.push_back(static_cast<unsigned char>(fin | n));
    } else {
        buf.push_back(static_cast<unsigned char>(fin | node_max_inline_n));
        buf.push_back(static_cast<unsigned char>(n - node_max_inline_n));
    }
    if (n == 0) return;
    const unsigned aw = two ? two_aw : width_for(buf.size() + 1 + n + (n - 1) * cw);
    const std::uint64_t len = buf.size() + (two ? 0 : 1) + n + ndelta * aw + (n - 1) * cw;
    const std::uint64_t addr = start + len - 1;
    if (!two) buf.push_back(static_cast<unsigned char>(aw | (cw << 4) | (last_next ? 0x80 : 0)));
    stats.general_delta_bytes += ndelta * aw;
    stats.general_count_bytes += (n - 1) * cw;
    stats.general_next_omitted += last_next ? 1U : 0U;
    for (std::size_t i = 0; i < n; ++i) stats.general_leaf_deltas += trans[i].addr == 0 ? 1U : 0U;
    for (const frozen_trans& t : trans) buf.push_back(t.label);
    unsigned char tmp[8];
    for (std::size_t i = 0; i < ndelta; ++i) {
        store_le(tmp, trans[i].addr == 0 ? 0 : addr - trans[i].addr, aw);
        buf.insert(buf.end(), tmp, tmp + aw);
    }
    before = final ? 1 : 0;
    for (std::size_t i = 0; i + 1 < n; ++i) {
        before += trans[i].count;
        store_le(tmp, before, cw);
        buf.insert(buf.end(), tmp, tmp + cw);
    }
    MEMKV_ASSERT(buf.size() == len);
}

// Encodes a node whose first byte will sit at automaton offset `start` into
// buf in logical order (header first); the caller writes buf reversed, and
// the node's address is start + buf.size() - 1. Transitions have ascending
// labels and targets below start.
inline void encode_frozen_node(std::vector<unsigned char>& buf, std::uint64_t start, bool final,
                               std::span<const frozen_trans> trans, const frozen_label_index& table_index,
                               frozen_build_stats& stats) {
    buf.clear();
    MEMKV_ASSERT(trans.size() <= 256);
    MEMKV_ASSERT(std::all_of(trans.begin(), trans.end(), [&](const frozen_trans& t) { return t.addr < start; }));
    if (trans.size() == 1 && !final) {
        encode_frozen_single(buf, start, trans[0], table_index, stats);
        if (buf.size() == 1 && (buf[0] & node_one_next)) {
            ++stats.one_next_nodes;
        } else {
            ++stats.one_nodes;
            stats.one_bytes += buf.size();
        }
    } else {
        encode_frozen_branch(buf, start, final, trans, stats);
        ++stats.general_nodes;
        stats.general_bytes += buf.size();
        stats.general_trans += trans.size();
    }
}

}  // namespace memkv::detail
