// memkv-trie-prototype: the lookup-speed prototype that DESIGN.md's
// "FrozenLayer v2" section asks for before v2's navigation is chosen. It
// builds the design the sixth session's model priced - a Patricia trie,
// succinct, whose longer edge labels and tails ("links") sit in a string
// store coded with detail/succinct/symbol_codec.hpp - as real bytes, and
// times its lookups and misses against FrozenLayer v1 built from the same
// keys in the same process.
//
//   memkv-trie-prototype [--lookups N] [--bucket-bits B] INPUT...
//       INPUT: a key file, SHAPE:N or edge (keys that break tries); B: the
//       order-2 link codes' contexts are 2^B buckets (8-15, default 10)
//
// Every key's id and every miss is checked against the sorted keys first;
// a wrong answer exits 1.
//
// A second table times the same trie in depth-first order (dfs_patricia,
// below), where a key's id is its ordinal in byte order - what v2 must give -
// and a small subtree lies on neighbouring lines; both with order-2 coded
// links (detail/succinct/context_codec.hpp). Build with `-mpopcnt -mbmi2`
// (CMAKE_CXX_FLAGS) to measure rank and select as v2 would run them: without,
// std::popcount is a call into libgcc and select a loop (bench/RESULTS.md,
// thirty-fourth session).
//
// The trie is in level order (LOUDS, as SuRF's sparse levels and marisa):
// navigation is rank and select only. Its key ids are the level-order ranks
// of the key ends, not byte-order ordinals: an ordinal would need the keys
// of every left subtree summed below the key's level (depth-first order
// gives ordinals directly but needs parenthesis matching to reach a child;
// that is the other candidate). So this measures the cheaper navigation of
// the two; if it cannot match v1, the depth-first one will not either.
//
// Edges in level order, 64 per block; a block holds everything a lookup
// reads of an edge, so a level costs the block of its node's edges, the
// block its child starts in (through one select sample) and, for an edge
// with a link, the link's offset and codes:
//
//   +-----------------------------------------------------------------+
//   | child_rank u32 | link_rank u32 | node_rank u32 | link_at u32     |  ones before the block;
//   | code_at u32 | (pad) u32                                         |  link_at, code_at: below
//   | child u64: the edge leads to a node (else it ends a key)        |
//   | link  u64: the edge has a link (label bytes past the first,     |
//   |            or the tail of the one key below it)                 |
//   | first u64: the edge is its node's first (LOUDS); one more mark  |
//   |            just past the last edge                              |
//   | term  u64: the edge is its node's key end (label unused; first  |
//   |            among the node's edges)                              |
//   | labels[64]: ascending within a node                             |
//   +-----------------------------------------------------------------+  120 bytes
//
// Two ways to find link i's codes, timed side by side: "EF" - offsets[i],
// offsets[i + 1] in Elias-Fano, link_at being the position of the block's
// first link's one in the high bits, so an offset is a scan of a few words
// from there rather than a select over the whole vector; "bytes" - a byte of
// coded length per link (255: the length is in a side table), code_at the
// block's first link's offset, and the lengths of the links before it in
// the block summed. Each needs one of link_at / code_at, so sizes count 112
// bytes per block. node_at[j]: the first edge of node 16j (a select sample).
// Key id of an edge that ends a key = edges before it that do not lead to a
// node. (u32 fields: a prototype for sets under 2^32 edges and code bytes.)

#include <memkv/detail/frozen/packed_column.hpp>
#include <memkv/detail/succinct/bit_vector.hpp>
#include <memkv/detail/succinct/context_codec.hpp>
#include <memkv/detail/succinct/elias_fano.hpp>
#include <memkv/detail/succinct/symbol_codec.hpp>
#include <memkv/detail/trie/builder.hpp>
#include <memkv/detail/trie/view.hpp>
#include <memkv/frozen_builder.hpp>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "dataset.hpp"
#include "shapes.hpp"

namespace {

namespace succinct = memkv::detail::succinct;
using memkv::bench::Dataset;

std::size_t lcp(std::string_view a, std::string_view b) {
    const std::size_t n = std::min(a.size(), b.size());
    std::size_t i = 0;
    while (i < n && a[i] == b[i]) ++i;
    return i;
}

// --bucket-bits: the order-2 link codes' contexts (2^bits buckets).
unsigned link_bucket_bits = succinct::context_code::default_bucket_bits;
int profile_rounds = 0;  // --profile R: the depth-first trie alone, best of R rounds
bool force_plain_links = false;  // --ab-plain: the B trie keeps its links as bytes

// The v3 engine's (detail/trie/layout.hpp): bits below a position, and
// bit i set where labels[i] >= c.
using memkv::detail::trie::at_least;
using memkv::detail::trie::below;

// Position of the r-th one at or after position p of highs (there is one).
std::uint64_t one_after(const succinct::bit_vector_view& highs, std::uint64_t p, std::uint64_t r) noexcept {
    for (;;) {
        const unsigned width = static_cast<unsigned>(std::min<std::uint64_t>(64, highs.size() - p));
        const std::uint64_t w = highs.bits(p, width);
        const auto ones = static_cast<std::uint64_t>(std::popcount(w));
        if (r < ones) return p + succinct::select_in_word(w, static_cast<unsigned>(r));
        r -= ones;
        p += width;
    }
}

class louds_patricia {
public:
    static constexpr std::uint64_t npos = ~std::uint64_t{0};
    // How find() reaches a link: Elias-Fano byte offsets, a coded length
    // byte per link, or order-2 codes (context_codec) at Elias-Fano bit offsets.
    static constexpr int links_ef = 0, links_bytes = 1, links_o2 = 2;

    explicit louds_patricia(const std::vector<std::string_view>& sorted) {
        struct range {
            std::size_t lo, hi, depth;
        };
        std::deque<range> todo;
        if (!sorted.empty()) todo.push_back({0, sorted.size(), 0});
        std::vector<std::string_view> links;
        std::vector<succinct::byte_context> contexts;  // the key bytes before each link
        auto add_link = [&](std::string_view key, std::size_t label_at, std::string_view link) {
            links.push_back(link);
            contexts.push_back({label_at == 0 ? 256u : static_cast<unsigned char>(key[label_at - 1]),
                                static_cast<unsigned char>(key[label_at])});
        };
        while (!todo.empty()) {
            const range r = todo.front();
            todo.pop_front();
            bool first = true;
            std::size_t i = r.lo;
            if (sorted[i].size() == r.depth) {
                add_edge(0, false, false, first, true);
                first = false;
                ++i;
            }
            while (i < r.hi) {
                const char b = sorted[i][r.depth];
                std::size_t j = i + 1;
                while (j < r.hi && sorted[j][r.depth] == b) ++j;
                const auto label = static_cast<unsigned char>(b);
                if (j - i == 1) {
                    const std::string_view tail = sorted[i].substr(r.depth + 1);
                    add_edge(label, false, !tail.empty(), first, false);
                    if (!tail.empty()) add_link(sorted[i], r.depth, tail);
                } else {
                    const std::size_t l = lcp(sorted[i], sorted[j - 1]);
                    const std::string_view link = sorted[i].substr(r.depth + 1, l - r.depth - 1);
                    add_edge(label, true, !link.empty(), first, false);
                    if (!link.empty()) add_link(sorted[i], r.depth, link);
                    todo.push_back({i, j, l});
                }
                first = false;
                i = j;
            }
        }
        // A first-edge mark just past the last edge ends the last node for
        // the label search (it is never a node's start: no select reaches it).
        if (edges_ % 64 != 0) blocks_.back().first |= std::uint64_t{1} << (edges_ % 64);
        // Train on at most ~64k links spread over the whole set.
        std::vector<std::string_view> sample;
        const std::size_t step = std::max<std::size_t>(1, links.size() / 65536);
        for (std::size_t k = 0; k < links.size(); k += step) sample.push_back(links[k]);
        codec_ = succinct::symbol_table::train(sample);
        {
            std::vector<succinct::byte_context> sample_contexts;
            for (std::size_t k = 0; k < links.size(); k += step) sample_contexts.push_back(contexts[k]);
            o2_ = succinct::context_code::train(sample, sample_contexts, false, link_bucket_bits);
            std::vector<std::uint64_t> starts;
            starts.reserve(links.size() + 1);
            for (std::size_t k = 0; k < links.size(); ++k) {
                starts.push_back(o2_bits_.size());
                o2_.encode(links[k], contexts[k], o2_bits_);
            }
            starts.push_back(o2_bits_.size());
            succinct::elias_fano_builder ef2(starts.size(), o2_bits_.size() + 1);
            for (const std::uint64_t o : starts) ef2.push_back(o);
            o2_g_ = ef2.geometry();
            ef2.write(o2_offsets_image_);
            o2_lows_ = o2_offsets_image_.data();
            o2_highs_ = succinct::bit_vector_view(o2_offsets_image_.data() + o2_g_.low_bytes(), o2_g_.high());
            for (block& b : blocks_) b.o2_at = static_cast<std::uint32_t>(o2_highs_.select1(b.link_rank));
            o2_bits_.bytes().resize(o2_bits_.bytes().size() + 8);
        }
        std::vector<std::uint64_t> offsets;
        offsets.reserve(links.size() + 1);
        for (const std::string_view l : links) {
            offsets.push_back(codes_.size());
            codec_.encode(l, codes_);
        }
        offsets.push_back(codes_.size());
        // code_at is a code offset, link_at a position among the offsets'
        // high bits (about two per link): both 32-bit, like the ranks.
        if (codes_.size() >= std::numeric_limits<std::uint32_t>::max() ||
            offsets.size() >= std::numeric_limits<std::uint32_t>::max() / 2) {
            throw std::length_error("memkv-trie-prototype: 2^32 bytes of link codes or 2^31 links (its offsets are 32-bit)");
        }
        link_bytes_ = 0;
        for (const std::string_view l : links) link_bytes_ += l.size();
        succinct::elias_fano_builder ef(offsets.size(), codes_.size() + 1);
        for (const std::uint64_t o : offsets) ef.push_back(o);
        offsets_g_ = ef.geometry();
        ef.write(offsets_image_);
        codes_.resize(codes_.size() + 8);  // decoders may read a word past the end
        lows_ = offsets_image_.data();
        highs_ = succinct::bit_vector_view(offsets_image_.data() + offsets_g_.low_bytes(), offsets_g_.high());
        for (block& b : blocks_) {
            b.link_at = static_cast<std::uint32_t>(highs_.select1(b.link_rank));
            b.code_at = static_cast<std::uint32_t>(offsets[b.link_rank]);
        }
        lengths_.reserve(links.size() + 8);
        for (std::size_t i = 0; i < links.size(); ++i) {
            const std::uint64_t len = offsets[i + 1] - offsets[i];
            // 255: the length is in long_lengths_ (rare: URLs with long query strings).
            if (len >= 255) long_lengths_.emplace_back(i, len);
            lengths_.push_back(static_cast<unsigned char>(std::min<std::uint64_t>(len, 255)));
        }
    }

    // Bytes of every part: edges (blocks + select samples), link codes with
    // their table, link offsets.
    std::size_t structure_bytes() const noexcept {
        // Each variant needs one of link_at / code_at: a block of either is 112 bytes.
        return blocks_.size() * (sizeof(block) - 8) + node_at_.size() * sizeof(std::uint32_t);
    }
    std::size_t link_code_bytes() const noexcept { return codes_.size() - 8 + codec_.bytes(); }
    std::size_t link_offset_bytes() const noexcept { return offsets_image_.size(); }
    std::size_t o2_code_bytes() const noexcept { return o2_bits_.bytes().size() - 8 + o2_.bytes(); }
    std::size_t o2_offset_bytes() const noexcept { return o2_offsets_image_.size(); }
    std::size_t link_length_bytes() const noexcept { return lengths_.size() + 16 * long_lengths_.size(); }
    std::size_t link_raw_bytes() const noexcept { return link_bytes_; }
    std::uint64_t edges() const noexcept { return edges_; }
    std::uint64_t nodes() const noexcept { return nodes_; }

    // The key's id (level-order rank of its end among all key ends) or npos.
    // ByteLengths: links found through the block's code offset and a byte
    // of coded length per link (no select); else through the Elias-Fano
    // offsets.
    template <int Links>
    std::uint64_t find(std::string_view key) const noexcept {
        if (edges_ == 0) return npos;
        std::uint64_t pos = 0;  // the current node's first edge
        std::size_t depth = 0;
        for (;;) {
            const block* b = &blocks_[pos >> 6];
            unsigned bit = static_cast<unsigned>(pos & 63);
            if ((b->term >> bit) & 1) {
                if (depth == key.size()) return key_id(*b, bit, pos);
                if (++pos == edges_) return npos;
                b = &blocks_[pos >> 6];
                bit = static_cast<unsigned>(pos & 63);
                if ((b->first >> bit) & 1) return npos;  // the node held only the key end
            } else if (depth == key.size()) {
                return npos;
            }
            // The node's edges run from pos to the next first-edge mark and
            // their labels ascend: the edge is the first whose label is >= c
            // if its label is c. All 64 labels of a block are compared at
            // once (a byte loop scanned 245 labels per lookup on the URL set,
            // 12 per level).
            const auto c = static_cast<unsigned char>(key[depth]);
            std::uint64_t from = ~std::uint64_t{0} << bit;
            std::uint64_t later = bit == 63 ? 0 : b->first & (~std::uint64_t{0} << (bit + 1));
            for (;;) {
                const std::uint64_t in_node =
                    later == 0 ? from : from & below(static_cast<unsigned>(std::countr_zero(later)));
                const std::uint64_t hits = at_least(b->labels, c) & in_node;
                if (hits != 0) {
                    bit = static_cast<unsigned>(std::countr_zero(hits));
                    pos = (pos & ~std::uint64_t{63}) + bit;
                    if (b->labels[bit] != c) return npos;
                    break;
                }
                if (later != 0) return npos;
                pos = (pos & ~std::uint64_t{63}) + 64;
                if (pos >= edges_) return npos;
                b = &blocks_[pos >> 6];
                from = ~std::uint64_t{0};
                later = b->first;
            }
            ++depth;
            const bool child = (b->child >> bit) & 1;
            // The next level's select sample, requested before the link's
            // three loads (high bits, low bits, codes) so that they overlap.
            const std::uint64_t node =
                1 + b->child_rank + static_cast<std::uint64_t>(std::popcount(b->child & below(bit)));
            if (child) __builtin_prefetch(&node_at_[node / node_sample]);
            if ((b->link >> bit) & 1) {
                const std::uint64_t li = b->link_rank + static_cast<std::uint64_t>(std::popcount(b->link & below(bit)));
                std::size_t m = 0;
                if constexpr (Links == links_bytes) {
                    m = match_link_bytes(*b, li, key.substr(depth), child);
                } else if constexpr (Links == links_o2) {
                    m = match_link_o2(*b, li, key, depth, child);
                } else {
                    m = match_link(*b, li, key.substr(depth), child);
                }
                if (m == npos_size) return npos;
                depth += m;
            }
            if (!child) return depth == key.size() ? key_id(*b, bit, pos) : npos;
            pos = node_start(node);
        }
    }

private:
    static constexpr std::size_t npos_size = ~std::size_t{0};
    static constexpr std::uint64_t node_sample = 16;

    struct block {
        std::uint32_t child_rank = 0;
        std::uint32_t link_rank = 0;
        std::uint32_t node_rank = 0;
        std::uint32_t link_at = 0;  // where link link_rank's one sits in the offsets' high bits
        std::uint32_t code_at = 0;  // the codes' offset of link link_rank (the length-byte variant)
        std::uint32_t o2_at = 0;  // where link link_rank's one sits in the order-2 offsets' high bits
        std::uint64_t child = 0;
        std::uint64_t link = 0;
        std::uint64_t first = 0;
        std::uint64_t term = 0;
        unsigned char labels[64] = {};
    };
    static_assert(sizeof(block) == 120);

    void add_edge(unsigned char label, bool child, bool link, bool first, bool term) {
        // The block's ranks and node_at_ are 32-bit (every count below is
        // at most the edges'): a prototype for the key sets measured, not
        // for 2^32 edges; refused rather than wrapped.
        if (edges_ >= std::numeric_limits<std::uint32_t>::max()) {
            throw std::length_error("memkv-trie-prototype: 2^32 edges or more (its ranks are 32-bit)");
        }
        const unsigned bit = static_cast<unsigned>(edges_ & 63);
        if (bit == 0) {
            block nb;
            if (!blocks_.empty()) {
                const block& p = blocks_.back();
                nb.child_rank = p.child_rank + static_cast<std::uint32_t>(std::popcount(p.child));
                nb.link_rank = p.link_rank + static_cast<std::uint32_t>(std::popcount(p.link));
                nb.node_rank = p.node_rank + static_cast<std::uint32_t>(std::popcount(p.first));
            }
            blocks_.push_back(nb);
        }
        block& b = blocks_.back();
        b.labels[bit] = label;
        const std::uint64_t m = std::uint64_t{1} << bit;
        if (child) b.child |= m;
        if (link) b.link |= m;
        if (term) b.term |= m;
        if (first) {
            b.first |= m;
            if (nodes_ % node_sample == 0) node_at_.push_back(static_cast<std::uint32_t>(edges_));
            ++nodes_;
        }
        ++edges_;
    }

    std::uint64_t key_id(const block& b, unsigned bit, std::uint64_t pos) const noexcept {
        return pos - b.child_rank - static_cast<std::uint64_t>(std::popcount(b.child & below(bit)));
    }

    // First edge of node k (k < nodes_): one sample, then forward over the
    // blocks' node ranks (64 nodes span a few blocks).
    std::uint64_t node_start(std::uint64_t k) const noexcept {
        std::size_t bi = node_at_[k / node_sample] >> 6;
        // Next block only while k is past this one's nodes: a test on the
        // block in hand, since each block looked at is a cache miss.
        std::uint64_t r = k - blocks_[bi].node_rank;
        for (;;) {
            const auto here = static_cast<std::uint64_t>(std::popcount(blocks_[bi].first));
            if (r < here) break;
            r -= here;
            ++bi;
        }
        return (std::uint64_t{bi} << 6) + succinct::select_in_word(blocks_[bi].first, static_cast<unsigned>(r));
    }

    // Link li against rest: inner (the edge leads to a node): the link must
    // be a prefix of rest; else it must equal rest. Returns its length, or
    // npos_size.
    std::size_t match_link(const block& b, std::uint64_t li, std::string_view rest, bool inner) const noexcept {
        const unsigned lb = offsets_g_.low_bits;
        __builtin_prefetch(lows_ + li * lb / 8);
        const std::uint64_t at = one_after(b.link_at, li - b.link_rank);
        const std::uint64_t next = one_after(at + 1, 0);
        const std::uint64_t from = ((at - li) << lb) | memkv::detail::packed_column::get(lows_, li, lb);
        const std::uint64_t to = ((next - li - 1) << lb) | memkv::detail::packed_column::get(lows_, li + 1, lb);
        return match_codes(from, to, rest, inner);
    }

    // Link li, order-2 coded, against key past depth; its contexts start
    // with the two key bytes before it.
    std::size_t match_link_o2(const block& b, std::uint64_t li, std::string_view key, std::size_t depth,
                              bool inner) const noexcept {
        const unsigned lb = o2_g_.low_bits;
        __builtin_prefetch(o2_lows_ + li * lb / 8);
        const std::uint64_t at = ::one_after(o2_highs_, b.o2_at, li - b.link_rank);
        const std::uint64_t next = ::one_after(o2_highs_, at + 1, 0);
        const std::uint64_t from = ((at - li) << lb) | memkv::detail::packed_column::get(o2_lows_, li, lb);
        const std::uint64_t to = ((next - li - 1) << lb) | memkv::detail::packed_column::get(o2_lows_, li + 1, lb);
        const succinct::byte_context c{depth >= 2 ? static_cast<unsigned char>(key[depth - 2]) : 256u,
                                       static_cast<unsigned char>(key[depth - 1])};
        const succinct::bit_span bits{o2_bits_.bytes().data(), o2_bits_.bytes().size()};
        const auto k = o2_.coded_prefix(bits, from, to, c, key.substr(depth));
        if (!k || (!inner && depth + *k != key.size())) return npos_size;
        return *k;
    }

    std::size_t match_link_bytes(const block& b, std::uint64_t li, std::string_view rest, bool inner) const noexcept {
        std::uint64_t from = b.code_at;
        for (std::uint64_t i = b.link_rank; i < li; ++i) from += link_length(i);
        return match_codes(from, from + link_length(li), rest, inner);
    }

    std::uint64_t link_length(std::uint64_t i) const noexcept {
        if (lengths_[i] < 255) [[likely]] return lengths_[i];
        const auto it = std::lower_bound(long_lengths_.begin(), long_lengths_.end(),
                                         std::pair<std::uint64_t, std::uint64_t>{i, 0});
        return it->second;
    }

    std::size_t match_codes(std::uint64_t from, std::uint64_t to, std::string_view rest, bool inner) const noexcept {
        std::size_t k = 0;
        for (std::uint64_t i = from; i < to;) {
            const unsigned char code = codes_[i++];
            if (code == succinct::symbol_escape) {
                if (k == rest.size() || static_cast<unsigned char>(rest[k]) != codes_[i]) return npos_size;
                ++k;
                ++i;
                continue;
            }
            const std::string_view s = codec_.symbol(code);
            if (rest.size() - k < s.size() || std::memcmp(s.data(), rest.data() + k, s.size()) != 0) return npos_size;
            k += s.size();
        }
        if (!inner && k != rest.size()) return npos_size;
        return k;
    }

    // Position of the r-th one at or after position p of the offsets' high
    // bits (there is one).
    std::uint64_t one_after(std::uint64_t p, std::uint64_t r) const noexcept { return ::one_after(highs_, p, r); }

    std::vector<block> blocks_;
    std::vector<std::uint32_t> node_at_;
    std::uint64_t edges_ = 0;
    std::uint64_t nodes_ = 0;
    succinct::symbol_table codec_;
    std::vector<unsigned char> codes_;
    std::vector<unsigned char> lengths_;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> long_lengths_;  // (link, coded length >= 255)
    std::size_t link_bytes_ = 0;
    std::vector<unsigned char> offsets_image_;
    succinct::context_code o2_;
    succinct::bit_writer o2_bits_;
    std::vector<unsigned char> o2_offsets_image_;
    succinct::elias_fano_geometry o2_g_{};
    const unsigned char* o2_lows_ = nullptr;
    succinct::bit_vector_view o2_highs_;
    succinct::elias_fano_geometry offsets_g_{};
    const unsigned char* lows_ = nullptr;
    succinct::bit_vector_view highs_;
};

// The same Patricia trie in depth-first order: a node's edges lie together
// (labels ascending, its key end first), followed by its children's
// subtrees in label order, so that a small subtree is a few neighbouring
// lines and a descent into a first child reads on from where the node
// ends. A later child is found by a jump stored with its edge (edges from
// the node's end to the child's start: the sizes of the earlier subtrees),
// and a key's ordinal - its rank in byte order, which level order could not
// give - from ranks of key ends at the node's start, the node's end and the
// child's start (every edge that leads to no node ends one key):
//
//   ordinal(edge e of node v) = keys before v's subtree
//                             + key ends in v before e
//                             + key ends in the subtrees of v's earlier children
//
// where the last term is the key ends from v's end to the start of v's first
// child after e (or v's subtree's end, carried down the descent). Blocks of
// 64 edges as in the level-order trie, with the jumps bit-packed at a width
// per block; links order-2 coded, found by Elias-Fano bit offsets.
//
//   +-----------------------------------------------------------------+
//   | inner_rank u32 | link_rank u32 | o2_at u32 | jump_at u32          |  jump_at: bit offset
//   | child, link, first: u64 each                                      |  (bits 0-24), carry
//   | labels[64]                                                        |  (25), width (26-31)
//   +-----------------------------------------------------------------+  104 bytes
//
// Jumps are stored for the inner edges after their node's first inner
// edge; jump_mask() finds them from the child and first bits.
//
// A node's key end (a key that is a proper prefix of others) is its first
// edge with the label of the edge after it: labels within a node are
// distinct otherwise, and a node has two edges or more (but the root, which
// may have one: a lone key end only when the one key is empty).
class dfs_patricia {
public:
    static constexpr std::uint64_t npos = ~std::uint64_t{0};

    explicit dfs_patricia(const std::vector<std::string_view>& sorted) : keys_(sorted) {
        if (!sorted.empty()) node(0, sorted.size(), 0);
        keys_ = {};
        pack();
        code_links();
    }

    std::uint64_t edges() const noexcept { return edge_count_; }
    std::size_t jump_bytes() const noexcept { return jump_prefix_.size(); }
    std::size_t structure_bytes() const noexcept { return blocks_.size() * sizeof(block) + (jump_bits_ + 7) / 8; }
    std::size_t link_bytes() const noexcept {
        return (plain_ ? plain_links_.size() : o2_bits_.bytes().size() - 8 + o2_.bytes()) + o2_offsets_image_.size();
    }
    bool plain_links() const noexcept { return plain_; }
    std::size_t code_table_bytes() const noexcept { return plain_ ? 0 : o2_.bytes(); }

    // The key's ordinal (its rank among the keys in byte order), or npos.
    std::uint64_t find(std::string_view key) const noexcept {
        if (edge_count_ == 0) return npos;
        std::uint64_t start = 0;                 // the current node's first edge
        lazy_end sub_end{edge_count_, npos};     // the end of its subtree
        // Keys before the current node's subtree, less the key ends before
        // its first edge: with E(x) the key ends before edge x, a child's
        // `before` is before + E(pos) - E(start) + E(child) - E(end), so
        // the child's E(child) cancels and no level reads the child's
        // block before the next level does.
        std::uint64_t before = 0;
        std::size_t depth = 0;
        // The jump (as FrozenLayer's): a key with the dominant prefix starts
        // at the node where the prefix ends.
        if (!jump_prefix_.empty() && key.starts_with(jump_prefix_)) {
            start = jump_.start;
            sub_end = {jump_.end, npos};
            before = jump_.before - ends_before(jump_.start);
            depth = jump_prefix_.size();
        }
        for (;;) {
            const block* b = &blocks_[start >> 6];
            __builtin_prefetch(jump_image_.data() + (b->jump_at & jump_at_mask) / 8);
            unsigned bit = static_cast<unsigned>(start & 63);
            std::uint64_t pos = start;
            if (key_end_first(*b, start)) {
                if (depth == key.size()) return before + ends_before(start);
                if (++pos == edge_count_) return npos;
                b = &blocks_[pos >> 6];
                bit = static_cast<unsigned>(pos & 63);
                if ((b->first >> bit) & 1) return npos;
            } else if (depth == key.size()) {
                return npos;
            }
            const auto c = static_cast<unsigned char>(key[depth]);
            std::uint64_t from = ~std::uint64_t{0} << bit;
            std::uint64_t later = bit == 63 ? 0 : b->first & (~std::uint64_t{0} << (bit + 1));
            for (;;) {
                const std::uint64_t in_node =
                    later == 0 ? from : from & below(static_cast<unsigned>(std::countr_zero(later)));
                const std::uint64_t hits = at_least(b->labels, c) & in_node;
                if (hits != 0) {
                    bit = static_cast<unsigned>(std::countr_zero(hits));
                    pos = (pos & ~std::uint64_t{63}) + bit;
                    if (b->labels[bit] != c) return npos;
                    break;
                }
                if (later != 0) return npos;
                pos = (pos & ~std::uint64_t{63}) + 64;
                if (pos >= edge_count_) return npos;
                b = &blocks_[pos >> 6];
                from = ~std::uint64_t{0};
                later = b->first;
            }
            ++depth;
            const bool child = (b->child >> bit) & 1;
            if ((b->link >> bit) & 1) {
                const std::uint64_t li = b->link_rank + static_cast<std::uint64_t>(std::popcount(b->link & below(bit)));
                const std::size_t m = match_link(*b, li, key, depth, child);
                if (m == npos_size) return npos;
                depth += m;
            }
            const std::uint64_t end = node_end(b, pos);
            // The first child after pos in this node: the end of pos's
            // subtree (if pos leads to one), or the end of the subtrees of
            // the children before pos (if it ends a key). Its jump is read
            // only where it is needed (a leaf's ordinal at the end).
            lazy_end next_end = sub_end;
            if (const std::uint64_t q = next_inner(b, pos, end); q != npos) next_end = {end, q};
            if (!child) {
                if (depth != key.size()) return npos;
                return before + ends_before(pos) - ends_before(end) + ends_before(resolve(next_end));
            }
            const std::uint64_t child_start = end + jump(*b, static_cast<unsigned>(pos & 63));
            before += ends_before(pos) - ends_before(end);
            start = child_start;
            sub_end = next_end;
            __builtin_prefetch(&blocks_[start >> 6]);
        }
    }

private:
    static constexpr std::size_t npos_size = ~std::size_t{0};

    struct block {
        std::uint32_t inner_rank = 0;
        std::uint32_t link_rank = 0;
        std::uint32_t o2_at = 0;
        std::uint32_t jump_at = 0;
        std::uint64_t child = 0;
        std::uint64_t link = 0;
        std::uint64_t first = 0;
        unsigned char labels[64] = {};
    };
    static_assert(sizeof(block) == 104);

    struct edge_rec {
        unsigned char label = 0;
        bool child = false, link = false, first = false, term = false;
        std::uint64_t jump = 0;  // inner edges: edges from the node's end to the child's start
    };

    static std::uint64_t below_or_all(unsigned n) noexcept { return n >= 64 ? ~std::uint64_t{0} : below(n); }

    // Emits the node of keys[lo, hi) (which share `depth` bytes), then its
    // children's subtrees.
    void node(std::size_t lo, std::size_t hi, std::size_t depth) {
        struct kid {
            std::size_t edge, lo, hi, depth;
        };
        std::vector<kid> kids;
        const std::size_t first = recs_.size();
        // The deepest node that holds at least half of all keys, 8 to 64
        // bytes deep, is the jump's target (keys before it: lo, as they are sorted).
        const bool jump_here = 2 * (hi - lo) >= keys_.size() && depth >= 8 && depth <= 64;
        if (jump_here) {
            jump_prefix_ = std::string(keys_[lo].substr(0, depth));
            jump_ = {first, 0, lo};
        }
        if (keys_[lo].size() == depth) {
            recs_.push_back({0, false, false, false, true, 0});
            ++lo;
        }
        while (lo < hi) {
            const auto label = static_cast<unsigned char>(keys_[lo][depth]);
            std::size_t j = lo + 1;
            while (j < hi && static_cast<unsigned char>(keys_[j][depth]) == label) ++j;
            if (j - lo == 1) {
                const std::string_view tail = keys_[lo].substr(depth + 1);
                recs_.push_back({label, false, !tail.empty(), false, false, 0});
                if (!tail.empty()) add_link(keys_[lo], depth, tail);
            } else {
                const std::size_t l = lcp(keys_[lo], keys_[j - 1]);
                const std::string_view link = keys_[lo].substr(depth + 1, l - depth - 1);
                recs_.push_back({label, true, !link.empty(), false, false, 0});
                if (!link.empty()) add_link(keys_[lo], depth, link);
                kids.push_back({recs_.size() - 1, lo, j, l});
            }
            lo = j;
        }
        recs_[first].first = true;
        const std::size_t end = recs_.size();
        for (const kid& k : kids) {
            recs_[k.edge].jump = recs_.size() - end;
            node(k.lo, k.hi, k.depth);
        }
        // Its subtree ends here, unless a deeper node took the jump.
        if (jump_here && jump_.start == first) jump_.end = recs_.size();
    }
    void add_link(std::string_view key, std::size_t label_at, std::string_view link) {
        links_.push_back(link);
        contexts_.push_back({label_at == 0 ? 256u : static_cast<unsigned char>(key[label_at - 1]),
                             static_cast<unsigned char>(key[label_at])});
    }

    void pack() {
        edge_count_ = recs_.size();
        if (edge_count_ >= std::numeric_limits<std::uint32_t>::max())
            throw std::length_error("memkv-trie-prototype: 2^32 edges or more (its ranks are 32-bit)");
        std::uint32_t inner = 0, links = 0;
        bool node_has_inner = false;           // the node being packed has had an inner edge
        std::vector<std::uint64_t> jump_masks;  // the edges with a jump, to check jump_mask() against
        for (std::size_t s = 0; s < recs_.size(); s += 64) {
            block b;
            b.inner_rank = inner;
            b.link_rank = links;
            const bool carry = !recs_[s].first && node_has_inner;
            const std::size_t n = std::min<std::size_t>(64, recs_.size() - s);
            unsigned width = 1;
            std::uint64_t jumps = 0;
            for (std::size_t i = 0; i < n; ++i) {
                const edge_rec& r = recs_[s + i];
                const std::uint64_t m = std::uint64_t{1} << i;
                b.labels[i] = r.label;
                if (r.first) b.first |= m, node_has_inner = false;
                if (r.child) b.child |= m, ++inner, node_has_inner = true;
                if (r.link) b.link |= m, ++links;
                // A key end takes the label of the edge after it in its node.
                if (r.term && s + i + 1 < recs_.size() && !recs_[s + i + 1].first) b.labels[i] = recs_[s + i + 1].label;
                if (r.child && r.jump != 0) {
                    jumps |= m;
                    width = std::max(width, static_cast<unsigned>(std::bit_width(r.jump)));
                }
            }
            if (jump_bits_ >= (std::uint64_t{1} << 25))
                throw std::length_error("memkv-trie-prototype: 2^25 bits of jumps (a prototype's field)");
            b.jump_at = static_cast<std::uint32_t>(jump_bits_) | (carry ? jump_carry : 0u) | (width << 26);
            for (std::size_t i = 0; i < n; ++i)
                if ((jumps >> i) & 1) jumps_.append(recs_[s + i].jump, width), jump_bits_ += width;
            blocks_.push_back(b);
            jump_masks.push_back(jumps);
        }
        // A first-edge mark just past the last edge ends the last node.
        if (edge_count_ % 64 != 0) blocks_.back().first |= std::uint64_t{1} << (edge_count_ % 64);
        else blocks_.push_back(block{inner, links, 0, 0, 0, 0, 1, {}});
        for (std::size_t i = 0; i < jump_masks.size(); ++i)
            if (jump_mask(blocks_[i]) != jump_masks[i]) throw std::logic_error("memkv-trie-prototype: jump_mask() is wrong");
        lone_key_end_ = edge_count_ == 1 && recs_[0].term;
        recs_ = {};
        jump_bits_ = jumps_.size();
        jumps_.write(jump_image_);
        jump_view_ = succinct::bit_vector_view(jump_image_.data(), jumps_.geometry());
    }

    void code_links() {
        std::vector<std::string_view> sample;
        std::vector<succinct::byte_context> sample_contexts;
        const std::size_t step = std::max<std::size_t>(1, links_.size() / 65536);
        for (std::size_t k = 0; k < links_.size(); k += step) {
            sample.push_back(links_[k]);
            sample_contexts.push_back(contexts_[k]);
        }
        o2_ = succinct::context_code::train(sample, sample_contexts, false, link_bucket_bits);
        std::vector<std::uint64_t> starts;
        starts.reserve(links_.size() + 1);
        for (std::size_t k = 0; k < links_.size(); ++k) {
            starts.push_back(o2_bits_.size());
            o2_.encode(links_[k], contexts_[k], o2_bits_);
        }
        starts.push_back(o2_bits_.size());
        // Links that do not code (random bytes) stay plain, as v2 would keep
        // them: byte offsets, compared with memcmp.
        std::uint64_t raw = 0;
        for (const std::string_view l : links_) raw += l.size();
        if (force_plain_links || raw <= o2_bits_.bytes().size() + o2_.bytes()) {
            plain_ = true;
            o2_bits_ = {};
            starts.clear();
            for (const std::string_view l : links_) {
                starts.push_back(plain_links_.size());
                plain_links_.insert(plain_links_.end(), l.begin(), l.end());
            }
            starts.push_back(plain_links_.size());
        }
        const std::uint64_t limit = plain_ ? plain_links_.size() : o2_bits_.size();
        succinct::elias_fano_builder ef(starts.size(), limit + 1);
        for (const std::uint64_t o : starts) ef.push_back(o);
        o2_g_ = ef.geometry();
        ef.write(o2_offsets_image_);
        o2_lows_ = o2_offsets_image_.data();
        o2_highs_ = succinct::bit_vector_view(o2_offsets_image_.data() + o2_g_.low_bytes(), o2_g_.high());
        for (block& b : blocks_)
            b.o2_at = static_cast<std::uint32_t>(o2_highs_.select1(std::min<std::uint64_t>(b.link_rank, links_.size())));
        o2_bits_.bytes().resize(o2_bits_.bytes().size() + 8);
        links_ = {};
        contexts_ = {};
    }

    // The first edge past pos's node (a first-edge mark after pos).
    std::uint64_t node_end(const block* b, std::uint64_t pos) const noexcept {
        const unsigned bit = static_cast<unsigned>(pos & 63);
        std::uint64_t later = bit == 63 ? 0 : b->first & (~std::uint64_t{0} << (bit + 1));
        std::uint64_t base = pos & ~std::uint64_t{63};
        while (later == 0) {
            base += 64;
            later = blocks_[base >> 6].first;
        }
        return base + static_cast<std::uint64_t>(std::countr_zero(later));
    }
    static constexpr std::uint32_t jump_at_mask = (1u << 25) - 1;
    static constexpr std::uint32_t jump_carry = 1u << 25;

    // A position base + jump(at), or base alone where at is npos.
    struct lazy_end {
        std::uint64_t base, at;
    };
    std::uint64_t resolve(lazy_end e) const noexcept {
        return e.at == npos ? e.base : e.base + jump(blocks_[e.at >> 6], static_cast<unsigned>(e.at & 63));
    }
    // The first inner edge after pos and before end, or npos.
    std::uint64_t next_inner(const block* b, std::uint64_t pos, std::uint64_t end) const noexcept {
        std::uint64_t q = pos + 1;
        unsigned bit = static_cast<unsigned>(q & 63);
        if (bit == 0) b = q < end ? &blocks_[q >> 6] : b;
        while (q < end) {
            const std::uint64_t inner = b->child & (~std::uint64_t{0} << bit);
            if (inner != 0) {
                const std::uint64_t at = (q & ~std::uint64_t{63}) + static_cast<std::uint64_t>(std::countr_zero(inner));
                return at < end ? at : npos;
            }
            q = (q & ~std::uint64_t{63}) + 64;
            bit = 0;
            if (q < end) b = &blocks_[q >> 6];
        }
        return npos;
    }
    // Whether the node starting at `start` (in block b) begins with a key end.
    bool key_end_first(const block& b, std::uint64_t start) const noexcept {
        const std::uint64_t next = start + 1;
        if (next == edge_count_) return lone_key_end_;
        const block& nb = (next & 63) == 0 ? blocks_[next >> 6] : b;
        const unsigned nbit = static_cast<unsigned>(next & 63);
        if ((nb.first >> nbit) & 1) return false;  // a one-edge root: its edge is a label
        return nb.labels[nbit] == b.labels[start & 63];
    }

    // The block's edges that have a jump: its inner edges but each node's
    // first. Each node's first inner edge, all at once: subtracting the
    // node-start bits from the inner bits borrows from each start up to
    // the node's first inner edge, and a one planted at each node's last
    // edge stops a node without one from borrowing from the next. A node
    // that runs in from the block before and had an inner edge there
    // (the carry) has none of its firsts here.
    static std::uint64_t jump_mask(const block& b) noexcept {
        const std::uint64_t starts = b.first | 1;
        const std::uint64_t x = b.child | (starts >> 1) | (std::uint64_t{1} << 63);
        std::uint64_t firsts = (x ^ (x - starts)) & b.child;
        if ((b.jump_at & jump_carry) != 0) {
            const std::uint64_t lowest = firsts & (~firsts + 1);
            const std::uint64_t later_start = b.first & ~std::uint64_t{1};
            if (later_start == 0 || lowest < (later_start & (~later_start + 1))) firsts &= ~lowest;
        }
        return b.child & ~firsts;
    }
    std::uint64_t jump(const block& b, unsigned bit) const noexcept {
        const std::uint64_t jumps = jump_mask(b);
        if (((jumps >> bit) & 1) == 0) return 0;
        const unsigned width = b.jump_at >> 26;
        const std::uint64_t k = static_cast<std::uint64_t>(std::popcount(jumps & below(bit)));
        return jump_view_.bits((b.jump_at & jump_at_mask) + k * width, width);
    }
    // Key ends (edges that lead to no node) before edge p.
    std::uint64_t ends_before(std::uint64_t p) const noexcept { return p - inner_before(p); }
    std::uint64_t inner_before(std::uint64_t p) const noexcept {
        const block& b = blocks_[p >> 6];
        return b.inner_rank + static_cast<std::uint64_t>(std::popcount(b.child & below(static_cast<unsigned>(p & 63))));
    }

    std::size_t match_link(const block& b, std::uint64_t li, std::string_view key, std::size_t depth,
                           bool inner) const noexcept {
        const unsigned lb = o2_g_.low_bits;
        __builtin_prefetch(o2_lows_ + li * lb / 8);
        const std::uint64_t at = ::one_after(o2_highs_, b.o2_at, li - b.link_rank);
        const std::uint64_t next = ::one_after(o2_highs_, at + 1, 0);
        const std::uint64_t from = ((at - li) << lb) | memkv::detail::packed_column::get(o2_lows_, li, lb);
        const std::uint64_t to = ((next - li - 1) << lb) | memkv::detail::packed_column::get(o2_lows_, li + 1, lb);
        if (plain_) {
            const std::size_t len = to - from;
            if (key.size() - depth < len || std::memcmp(plain_links_.data() + from, key.data() + depth, len) != 0 ||
                (!inner && depth + len != key.size()))
                return npos_size;
            return len;
        }
        const succinct::byte_context c{depth >= 2 ? static_cast<unsigned char>(key[depth - 2]) : 256u,
                                       static_cast<unsigned char>(key[depth - 1])};
        const succinct::bit_span bits{o2_bits_.bytes().data(), o2_bits_.bytes().size()};
        const auto k = o2_.coded_prefix(bits, from, to, c, key.substr(depth));
        if (!k || (!inner && depth + *k != key.size())) return npos_size;
        return *k;
    }

    std::vector<std::string_view> keys_;
    bool plain_ = false;                       // links stored as bytes (they did not code)
    std::vector<unsigned char> plain_links_;
    std::vector<edge_rec> recs_;
    struct jump_target {
        std::uint64_t start, end, before;
    };
    std::string jump_prefix_;  // empty: no jump
    bool lone_key_end_ = false;  // the only key is the empty one
    jump_target jump_{};
    std::vector<std::string_view> links_;
    std::vector<succinct::byte_context> contexts_;
    std::vector<block> blocks_;
    std::uint64_t edge_count_ = 0;
    succinct::bit_vector_builder jumps_;
    std::uint64_t jump_bits_ = 0;
    std::vector<unsigned char> jump_image_;
    succinct::bit_vector_view jump_view_;
    succinct::context_code o2_;
    succinct::bit_writer o2_bits_;
    std::vector<unsigned char> o2_offsets_image_;
    succinct::elias_fano_geometry o2_g_{};
    const unsigned char* o2_lows_ = nullptr;
    succinct::bit_vector_view o2_highs_;
};

// The keys a trie gets wrong first: the empty key, keys that are prefixes
// of others (a node's key end), \0 and \xff bytes (label order), runs of one
// byte (long links), keys of 300+ bytes (links coded past one symbol run),
// and a node of all 256 labels.
Dataset edge_keys() {
    std::vector<std::string> ks = {"", "a", "ab", "abc", "abcd", "b", std::string(1, '\0'), std::string(2, '\0'),
                                   std::string("a\0b", 3), "\xff", "\xff\xff", "a\xff", std::string(300, 'x'),
                                   std::string(301, 'x'), std::string(300, 'x') + "y", "xy"};
    for (int c = 0; c < 256; ++c) {
        std::string k = "n";
        k.push_back(static_cast<char>(c));
        k += "tail";
        ks.push_back(k);
    }
    memkv::bench::Rng rng(7);
    for (int i = 0; i < 2000; ++i) {
        std::string k;
        const std::size_t len = rng.below(40);
        for (std::size_t j = 0; j < len; ++j) k.push_back("ab\0\xff"[rng.below(4)]);
        ks.push_back(k);
    }
    std::string packed;
    std::vector<std::size_t> ends;
    for (const std::string& k : ks) {
        packed += k;
        ends.push_back(packed.size());
    }
    return Dataset::from_packed(packed, ends);
}

std::vector<std::string> dfs_rows;  // the second table, printed at the end
std::vector<std::string> v3_rows;   // the third

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

struct timing {
    double v1 = 0, ef = 0, bytes = 0, o2 = 0, dfs = 0, v3 = 0;
};

// The timed queries: keys drawn at random, and misses made from keys by
// inserting a random byte at a random place (some land on other keys).
struct queries {
    std::vector<std::string_view> probe;
    std::vector<std::string> miss_keys;
    std::vector<std::string_view> misses;
    queries(const std::vector<std::string_view>& keys, std::size_t lookups) : probe(lookups), miss_keys(lookups) {
        memkv::bench::Rng rng(42);
        for (auto& p : probe) p = keys[rng.below(keys.size())];
        for (auto& m : miss_keys) {
            m = std::string(keys[rng.below(keys.size())]);
            const std::size_t at = rng.below(m.size() + 1);
            m.insert(m.begin() + static_cast<std::ptrdiff_t>(at), static_cast<char>(rng.below(256)));
        }
        misses.assign(miss_keys.begin(), miss_keys.end());
    }
};

// --profile: the depth-first trie alone, its lookups and misses timed
// (best of profile_rounds), for perf. With --ab-bucket-bits B or
// --ab-plain, also a second trie whose links have B bucket bits or stay
// bytes; the two tries' rounds alternate in one process (this VM's speed
// drifts by +-10% between runs, an A/A run in one process by 1%).
unsigned ab_bucket_bits = 0;
bool ab_plain = false;
void profile(const std::string& name, const Dataset& d, std::size_t lookups) {
    const std::vector<std::string_view> keys = d.sorted_keys();
    const dfs_patricia dfs(keys);
    std::optional<dfs_patricia> other;
    if (ab_bucket_bits != 0 || ab_plain) {
        const unsigned kept = link_bucket_bits;
        if (ab_bucket_bits != 0) link_bucket_bits = ab_bucket_bits;
        force_plain_links = ab_plain;
        other.emplace(keys);
        link_bucket_bits = kept;
        force_plain_links = false;
    }
    const queries drawn(keys, lookups);
    const auto& probe = drawn.probe;
    const auto& misses = drawn.misses;
    auto find = [&](int which, std::string_view q) -> std::uint64_t {
        return which == 0 ? dfs.find(q) : other->find(q);
    };
    const int arms = other ? 2 : 1;
    for (int which = 0; which < arms; ++which)
        for (const std::string_view k : probe)
            if (const std::uint64_t i = find(which, k); i >= keys.size() || keys[i] != k)
                throw std::runtime_error(name + ": wrong ordinal");
    std::uint64_t sink = 0;
    double best[2][2] = {{1e9, 1e9}, {1e9, 1e9}};
    for (int r = 0; r < profile_rounds; ++r)
        for (int which = 0; which < arms; ++which)
            for (int w = 0; w < 2; ++w) {
                const auto t = std::chrono::steady_clock::now();
                for (const std::string_view q : w == 0 ? probe : misses) sink += find(which, q);
                best[which][w] = std::min(best[which][w], seconds_since(t));
            }
    const double n = static_cast<double>(lookups);
    const double keys_n = static_cast<double>(keys.size());
    std::printf("| %s | B/key structure %.3f + links %.3f (code table %.3f) | depth-first lookups / misses M/s, best of %d: %.3f / %.3f",
                name.c_str(), static_cast<double>(dfs.structure_bytes()) / keys_n,
                static_cast<double>(dfs.link_bytes()) / keys_n, static_cast<double>(dfs.code_table_bytes()) / keys_n,
                profile_rounds, n / best[0][0] / 1e6, n / best[0][1] / 1e6);
    if (arms == 2)
        std::printf(" | B: %.3f / %.3f (%.3f / %.3f)", n / best[1][0] / 1e6, n / best[1][1] / 1e6,
                    best[0][0] / best[1][0], best[0][1] / best[1][1]);
    std::printf(" |%s\n", sink == 42 ? " " : "");
}

void study(const std::string& name, const Dataset& d, std::size_t lookups) {
    if (profile_rounds > 0) return profile(name, d, lookups);
    const std::vector<std::string_view> keys = d.sorted_keys();
    const double n = static_cast<double>(keys.size());

    memkv::FrozenLayerBuilder<std::uint64_t> builder;
    for (std::size_t i = 0; i < keys.size(); ++i) builder.insert(keys[i], i);
    const auto layer = builder.finish();
    const louds_patricia trie(keys);
    const dfs_patricia dfs(keys);
    // FrozenLayer v3's engine (detail/trie/): the same trie in post-order,
    // built in one pass.
    const auto v3_start = std::chrono::steady_clock::now();
    memkv::detail::trie::trie_builder v3_builder({.bucket_bits = link_bucket_bits, .force_plain = force_plain_links});
    for (const std::string_view k : keys) v3_builder.push(k);
    const memkv::detail::trie::trie_image v3_image = v3_builder.finish();
    const double v3_build = seconds_since(v3_start);
    const memkv::detail::trie::trie_view v3(v3_image);

    // Correctness first: every key has an id, ids are distinct and below n;
    // a changed key is absent from both or present in both.
    std::vector<bool> seen(keys.size());
    for (const std::string_view k : keys) {
        const std::uint64_t id = trie.find<louds_patricia::links_ef>(k);
        if (id >= keys.size() || seen[id] || trie.find<louds_patricia::links_bytes>(k) != id ||
            trie.find<louds_patricia::links_o2>(k) != id)
            throw std::runtime_error(name + ": wrong id for a key");
        seen[id] = true;
    }
    for (std::size_t i = 0; i < keys.size(); ++i)
        if (dfs.find(keys[i]) != i || v3.find(keys[i]) != i)
            throw std::runtime_error(name + ": wrong ordinal for a key (depth-first)");
    const queries drawn(keys, lookups);
    const auto& probe = drawn.probe;
    const auto& misses = drawn.misses;
    for (const std::string_view m : misses) {
        const bool present = std::binary_search(keys.begin(), keys.end(), m);
        if ((trie.find<louds_patricia::links_ef>(m) != louds_patricia::npos) != present ||
            (trie.find<louds_patricia::links_bytes>(m) != louds_patricia::npos) != present ||
            (trie.find<louds_patricia::links_o2>(m) != louds_patricia::npos) != present ||
            (dfs.find(m) != dfs_patricia::npos) != present || layer.contains(m) != present ||
            (v3.find(m) != memkv::detail::trie::npos) != present)
            throw std::runtime_error(name + ": a miss answered wrongly");
    }

    // Medians of 5 alternated rounds.
    auto run = [&](const std::vector<std::string_view>& qs, timing& out) {
        std::vector<double> a, b, c, e, g, h;
        std::uint64_t sink = 0;
        auto time = [&](std::vector<double>& into, auto&& f) {
            const auto t = std::chrono::steady_clock::now();
            for (const std::string_view q : qs) sink += f(q);
            into.push_back(seconds_since(t));
        };
        for (int round = 0; round < 5; ++round) {
            time(a, [&](std::string_view q) { return layer.ordinal(q).value_or(0); });
            time(b, [&](std::string_view q) { return trie.find<louds_patricia::links_ef>(q); });
            time(c, [&](std::string_view q) { return trie.find<louds_patricia::links_bytes>(q); });
            time(e, [&](std::string_view q) { return trie.find<louds_patricia::links_o2>(q); });
            time(g, [&](std::string_view q) { return dfs.find(q); });
            time(h, [&](std::string_view q) { return v3.find(q); });
        }
        const auto mops = [&](std::vector<double>& v) {
            std::sort(v.begin(), v.end());
            return static_cast<double>(qs.size()) / v[2] / 1e6;
        };
        out.v1 = mops(a);
        out.ef = mops(b);
        out.bytes = mops(c);
        out.o2 = mops(e);
        out.dfs = mops(g);
        out.v3 = mops(h);
        if (sink == 42) std::puts("");
    };
    timing hit, mis;
    run(probe, hit);
    run(misses, mis);

    const double s = static_cast<double>(trie.structure_bytes()), c = static_cast<double>(trie.link_code_bytes()),
                 o = static_cast<double>(trie.link_offset_bytes()), lb = static_cast<double>(trie.link_length_bytes()),
                 c2 = static_cast<double>(trie.o2_code_bytes()), o2 = static_cast<double>(trie.o2_offset_bytes());
    std::printf("| %s | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f / %.2f | %.2f / %.2f | **%.2f** / %.2f / %.2f "
                "| %.3f / %.3f / %.3f / %.3f (%.2f / %.2f / %.2f) | %.3f / %.3f / %.3f / %.3f (%.2f / %.2f / %.2f) |\n",
                name.c_str(), n, static_cast<double>(layer.bytes().size()) / n, static_cast<double>(trie.edges()) / n,
                static_cast<double>(trie.edges()) / static_cast<double>(trie.nodes()), s / n,
                static_cast<double>(trie.link_raw_bytes()) / n, c / n, c2 / n, o / n, o2 / n, (s + c + o) / n,
                (s + c + lb) / n, (s + c2 + o2) / n, hit.v1, hit.ef, hit.bytes, hit.o2, hit.ef / hit.v1,
                hit.bytes / hit.v1, hit.o2 / hit.v1, mis.v1, mis.ef, mis.bytes, mis.o2, mis.ef / mis.v1,
                mis.bytes / mis.v1, mis.o2 / mis.v1);
    char row[512];
    const double ds = static_cast<double>(dfs.structure_bytes()), dl = static_cast<double>(dfs.link_bytes());
    std::snprintf(row, sizeof row,
                  "| %s (jump %zu%s) | %.2f | %.2f / %.2f | %.2f / %.2f | **%.2f** / %.2f | %.3f / %.3f / %.3f (%.2f / %.2f) "
                  "| %.3f / %.3f / %.3f (%.2f / %.2f) |\n",
                  name.c_str(), dfs.jump_bytes(), dfs.plain_links() ? ", plain links" : "", static_cast<double>(layer.bytes().size()) / n, s / n, ds / n, (c2 + o2) / n, dl / n,
                  (s + c2 + o2) / n, (ds + dl) / n, hit.v1, hit.o2, hit.dfs, hit.o2 / hit.v1, hit.dfs / hit.v1, mis.v1,
                  mis.o2, mis.dfs, mis.o2 / mis.v1, mis.dfs / mis.v1);
    dfs_rows.push_back(row);
    const auto& im = v3_image;
    const double v3_bytes = static_cast<double>(im.blocks.size() + im.jump_bases.size() + im.jumps.size() +
                                                im.link_lows.size() + im.link_highs.size() + im.links.size() +
                                                im.code.size());
    const double v3_links = static_cast<double>(im.link_lows.size() + im.link_highs.size() + im.links.size() +
                                                im.code.size());
    std::snprintf(row, sizeof row,
                  "| %s (jump %zu%s) | %.2f | **%.2f** / %.2f | %.2f / %.2f | %.2f | %.3f / %.3f / %.3f (%.2f / %.2f) "
                  "| %.3f / %.3f / %.3f (%.2f / %.2f) |\n",
                  name.c_str(), im.jump_prefix.size(), im.plain_links ? ", plain links" : "",
                  static_cast<double>(layer.bytes().size()) / n, v3_bytes / n, (ds + dl) / n, (v3_bytes - v3_links) / n,
                  v3_links / n, n / v3_build / 1e6, hit.v1, hit.dfs, hit.v3, hit.v3 / hit.v1, hit.v3 / hit.dfs, mis.v1,
                  mis.dfs, mis.v3, mis.v3 / mis.v1, mis.v3 / mis.dfs);
    v3_rows.push_back(row);
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t lookups = 1000000;
    std::vector<std::string> inputs;
    for (int a = 1; a < argc; ++a) {
        const std::string arg = argv[a];
        if (arg == "--lookups" && a + 1 < argc) {
            lookups = std::stoul(argv[++a]);
        } else if (arg == "--bucket-bits" && a + 1 < argc) {
            link_bucket_bits = static_cast<unsigned>(std::stoul(argv[++a]));
            if (link_bucket_bits < 8 || link_bucket_bits > 15) {
                std::fprintf(stderr, "memkv-trie-prototype: --bucket-bits takes 8 to 15\n");
                return 2;
            }
        } else if (arg == "--profile" && a + 1 < argc) {
            profile_rounds = std::stoi(argv[++a]);
        } else if (arg == "--ab-plain") {
            ab_plain = true;
        } else if (arg == "--ab-bucket-bits" && a + 1 < argc) {
            ab_bucket_bits = static_cast<unsigned>(std::stoul(argv[++a]));
        } else {
            inputs.push_back(arg);
        }
    }
    if (inputs.empty() || lookups == 0) {
        std::fprintf(stderr, "usage: memkv-trie-prototype [--lookups N] [--bucket-bits B] [--profile ROUNDS [--ab-bucket-bits B | --ab-plain]] (FILE | SHAPE:N | edge)...\n");
        return 2;
    }
    std::printf("| input | keys | v1 B/key | edges/key | edges/node | trie B/key | links raw B/key "
                "| links coded B/key: symbols / order 2 | offsets B/key: bytes / bits "
                "| prototype B/key: EF / length bytes / order 2 "
                "| lookups M/s v1 / EF / bytes / order 2 (ratios to v1) "
                "| misses M/s v1 / EF / bytes / order 2 (ratios to v1) |\n");
    std::printf("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    try {
        for (const std::string& arg : inputs) {
            std::string error;
            if (arg == "edge") {
                study(arg, edge_keys(), lookups);
            } else if (const auto spec = memkv::bench::parse_synthetic_spec(arg, error)) {
                study(arg, memkv::bench::synthetic_keys(spec->shape, spec->keys, 42), lookups);
            } else {
                study(arg.substr(arg.rfind('/') + 1), Dataset::load_file(arg), lookups);
            }
        }
        std::printf("\n| input | v1 B/key | structure B/key: level order / depth-first | links B/key: level order / "
                    "depth-first | B/key: level order / depth-first (order-2 links) "
                    "| lookups M/s v1 / level order / depth-first (ratios to v1) "
                    "| misses M/s v1 / level order / depth-first (ratios to v1) |\n");
        std::printf("|---|--:|--:|--:|--:|--:|--:|\n");
        for (const std::string& r : dfs_rows) std::fputs(r.c_str(), stdout);
        std::printf("\n| input | v1 B/key | B/key: v3 / pre-order | v3 structure / links B/key | v3 build M keys/s "
                    "| lookups M/s v1 / pre-order / v3 (v3 to v1 / to pre-order) "
                    "| misses M/s v1 / pre-order / v3 (v3 to v1 / to pre-order) |\n");
        std::printf("|---|--:|--:|--:|--:|--:|--:|\n");
        for (const std::string& r : v3_rows) std::fputs(r.c_str(), stdout);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "memkv-trie-prototype: %s\n", e.what());
        return 1;
    }
    return 0;
}
