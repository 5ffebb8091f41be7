#pragma once

// Lookups on a v3 trie (layout.hpp) in place: a descent from the root, which
// ends the edge array, toward lower positions, summing the keys after the
// key as layout.hpp derives; ordinal = keys - 1 - that sum.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <memkv/detail/assert.hpp>
#include <memkv/detail/frozen/packed_column.hpp>
#include <memkv/detail/succinct/bit_vector.hpp>
#include <memkv/detail/succinct/context_codec.hpp>
#include <memkv/detail/trie/image.hpp>
#include <memkv/detail/trie/layout.hpp>

namespace memkv::detail::trie {

class trie_view {
public:
    trie_view() = default;
    // Reads im in place (it must outlive the view).
    explicit trie_view(const trie_image& im)
        : keys_(im.keys), edges_(im.edges), lone_(im.lone_key_end), plain_(im.plain_links),
          low_bits_(im.link_low_bits), high_bits_(im.link_high_bits), stream_size_(im.link_stream_size),
          blocks_(im.blocks.data()), jump_bases_(im.jump_bases.data()), jumps_(im.jumps.data()),
          lows_(im.link_lows.data()), highs_(im.link_highs.data()), links_(im.links.data()),
          links_bytes_(im.links.size()), jump_prefix_(im.jump_prefix), jump_end_(im.jump_end),
          jump_sub_start_(im.jump_sub_start), jump_after_(im.jump_after) {
        if (!plain_) {
            auto c = succinct::context_code::parse(im.code.data(), im.code.size(), true);
            if (!c) throw std::invalid_argument("memkv: a v3 trie's link code table does not parse");
            code_ = std::move(*c);
        }
    }

    std::uint64_t size() const noexcept { return keys_; }
    std::uint64_t edges() const noexcept { return edges_; }

    // The key's ordinal (its rank in byte order), or npos.
    std::uint64_t find(std::string_view key) const noexcept {
        if (edges_ == 0) return npos;
        std::uint64_t e = edges_;         // the current node's end
        lazy_position sub{0, npos};       // its subtree's start
        std::uint64_t after = 0;          // keys after the key outside that subtree
        std::size_t depth = 0;
        if (!jump_prefix_.empty() && key.starts_with(jump_prefix_)) {
            e = jump_end_;
            sub = {jump_sub_start_, npos};
            after = jump_after_;
            depth = jump_prefix_.size();
        }
        for (;;) {
            const std::uint64_t last = e - 1;
            block_ref b = block(last);
            const std::uint64_t s = node_start(b, last);
            bool has_end = lone_;
            if (last > s) {
                const unsigned bit = static_cast<unsigned>(last & 63);
                has_end = b.label(bit) == (bit != 0 ? b.label(bit - 1) : block(last - 1).label(63));
            }
            if (depth == key.size()) {
                if (!has_end) return npos;
                return keys_ - 1 - (after + ends_before(last) - ends_before(resolve(sub)));
            }
            // Labels descend through the node: the edge is the last one
            // whose label is at least c.
            const auto c = static_cast<unsigned char>(key[depth]);
            std::uint64_t p = has_end ? last - 1 : last;
            if (p + 1 == s) return npos;  // the lone empty key's root
            std::uint64_t pos;
            for (;;) {
                const std::uint64_t base = p & ~std::uint64_t{63};
                b = block(p);
                const unsigned lo = s > base ? static_cast<unsigned>(s - base) : 0;
                const std::uint64_t hits =
                    at_least(b.labels(), c) & up_to(static_cast<unsigned>(p & 63)) & ~below(lo);
                if (hits != 0) {
                    const auto hb = static_cast<unsigned>(63 - std::countl_zero(hits));
                    if (b.label(hb) != c) return npos;
                    pos = base + hb;
                    break;
                }
                if (s >= base) return npos;
                p = base - 1;
            }
            ++depth;
            const auto bit = static_cast<unsigned>(pos & 63);
            const bool child = ((b.child() >> bit) & 1) != 0;
            if (((b.link() >> bit) & 1) != 0) {
                const std::uint64_t li = b.link_rank() + static_cast<std::uint64_t>(std::popcount(b.link() & below(bit)));
                const std::size_t m = match_link(b, li, key, depth, child);
                if (m == npos_size) return npos;
                depth += m;
            }
            const std::uint64_t q = next_inner(pos, e);
            const lazy_position boundary = q != npos ? lazy_position{s, q} : sub;
            if (!child) {
                if (depth != key.size()) return npos;
                return keys_ - 1 - (after + ends_before(pos) - ends_before(resolve(boundary)));
            }
            const std::uint64_t child_end = s - jump(pos);
            __builtin_prefetch(blocks_ + ((child_end - 1) >> 6) * block_bytes);
            after += ends_before(pos) - ends_before(child_end);
            e = child_end;
            sub = boundary;
        }
    }

private:
    static constexpr std::size_t npos_size = ~std::size_t{0};

    // base - jump(at), or base where at is npos: a subtree's start, resolved
    // only if the key ends at a leaf.
    struct lazy_position {
        std::uint64_t base, at;
    };
    std::uint64_t resolve(lazy_position l) const noexcept { return l.at == npos ? l.base : l.base - jump(l.at); }

    block_ref block(std::uint64_t pos) const noexcept { return {blocks_ + (pos >> 6) * block_bytes}; }

    // The first edge of the node whose edge `last` is (the highest node
    // start at or below it); b is last's block.
    std::uint64_t node_start(block_ref b, std::uint64_t last) const noexcept {
        std::uint64_t firsts = b.first() & up_to(static_cast<unsigned>(last & 63));
        std::uint64_t base = last & ~std::uint64_t{63};
        while (firsts == 0) {
            base -= 64;
            firsts = block(base).first();
        }
        return base + static_cast<std::uint64_t>(63 - std::countl_zero(firsts));
    }
    // The first inner edge after pos and before end, or npos.
    std::uint64_t next_inner(std::uint64_t pos, std::uint64_t end) const noexcept {
        std::uint64_t q = pos + 1;
        while (q < end) {
            const std::uint64_t base = q & ~std::uint64_t{63};
            const std::uint64_t inner = block(q).child() & ~below(static_cast<unsigned>(q & 63));
            if (inner != 0) {
                const std::uint64_t at = base + static_cast<std::uint64_t>(std::countr_zero(inner));
                return at < end ? at : npos;
            }
            q = base + 64;
        }
        return npos;
    }
    // Edges between the child of inner edge pos and pos's node's start.
    std::uint64_t jump(std::uint64_t pos) const noexcept {
        const block_ref b = block(pos);
        const auto bit = static_cast<unsigned>(pos & 63);
        const std::uint64_t jumps = jump_mask(b);
        if (((jumps >> bit) & 1) == 0) return 0;
        const std::uint32_t at = b.jump_at();
        const unsigned width = at >> jump_width_shift;
        const std::uint64_t k = static_cast<std::uint64_t>(std::popcount(jumps & below(bit)));
        const std::uint64_t base = load_le64(jump_bases_ + 8 * ((pos >> 6) / blocks_per_jump_base));
        return bits_at(jumps_, base + (at & jump_at_mask) + k * width, width);
    }
    // Edges before p that end a key (lead to no node).
    std::uint64_t ends_before(std::uint64_t p) const noexcept {
        const block_ref b = block(p);
        return p - b.inner_rank() - static_cast<std::uint64_t>(std::popcount(b.child() & below(static_cast<unsigned>(p & 63))));
    }

    // The position of the (r+1)-th one at or after bit p of the link
    // offsets' high bits (high_bits_ if there is none: a corrupt image).
    std::uint64_t one_after(std::uint64_t p, std::uint64_t r) const noexcept {
        while (p < high_bits_) {
            const std::uint64_t w = bits_at(highs_, p, 56);
            const auto ones = static_cast<std::uint64_t>(std::popcount(w));
            if (r < ones) return p + succinct::select_in_word(w, static_cast<unsigned>(r));
            r -= ones;
            p += 56;
        }
        return high_bits_;
    }

    // Link li against the key past depth: the bytes it matches, or npos_size.
    // An inner edge's link must be a prefix of the rest; a leaf's, all of it.
    std::size_t match_link(block_ref b, std::uint64_t li, std::string_view key, std::size_t depth,
                           bool inner) const noexcept {
        const unsigned lb = low_bits_;
        __builtin_prefetch(lows_ + li * lb / 8);
        const std::uint64_t at = one_after(b.links_at(), li - b.link_rank());
        const std::uint64_t next = one_after(at + 1, 0);
        if (next >= high_bits_) return npos_size;
        const std::uint64_t from = ((at - li) << lb) | packed_column::get(lows_, li, lb);
        const std::uint64_t to = ((next - li - 1) << lb) | packed_column::get(lows_, li + 1, lb);
        if (plain_) {
            if (from > to || to > stream_size_) return npos_size;
            const std::size_t len = static_cast<std::size_t>(to - from);
            if (key.size() - depth < len || std::memcmp(links_ + from, key.data() + depth, len) != 0 ||
                (!inner && depth + len != key.size()))
                return npos_size;
            return len;
        }
        const succinct::byte_context c{depth >= 2 ? static_cast<unsigned char>(key[depth - 2]) : 256u,
                                       static_cast<unsigned char>(key[depth - 1])};
        const auto k = code_.coded_prefix(succinct::bit_span{links_, links_bytes_}, from, to, c, key.substr(depth));
        if (!k || (!inner && depth + *k != key.size())) return npos_size;
        return *k;
    }

    std::uint64_t keys_ = 0, edges_ = 0;
    bool lone_ = false, plain_ = false;
    unsigned low_bits_ = 0;
    std::uint64_t high_bits_ = 0, stream_size_ = 0;
    const unsigned char* blocks_ = nullptr;
    const unsigned char* jump_bases_ = nullptr;
    const unsigned char* jumps_ = nullptr;
    const unsigned char* lows_ = nullptr;
    const unsigned char* highs_ = nullptr;
    const unsigned char* links_ = nullptr;
    std::uint64_t links_bytes_ = 0;
    std::string jump_prefix_;
    std::uint64_t jump_end_ = 0, jump_sub_start_ = 0, jump_after_ = 0;
    succinct::context_code code_;
};

}  // namespace memkv::detail::trie
