#pragma once

// Lookups on a v3 trie (layout.hpp) in place: a descent from the root, which
// ends the edge array, toward lower positions, summing the keys after the
// key as layout.hpp derives; ordinal = keys - 1 - that sum.

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <memkv/detail/assert.hpp>
#include <memkv/detail/frozen/format.hpp>
#include <memkv/detail/frozen/packed_column.hpp>
#include <memkv/detail/popcount.hpp>
#include <memkv/detail/succinct/bit_vector.hpp>
#include <memkv/detail/succinct/context_codec.hpp>
#include <memkv/detail/trie/image.hpp>
#include <memkv/detail/trie/layout.hpp>

namespace memkv::detail::trie {

// A position in byte order: the path of (node, edge) frames from the root to
// an edge that ends a key, the key, and its ordinal. Empty: past the end.
// Within a node, byte order is descending position (layout.hpp), so a step
// forward is an edge down and a step back an edge up.
struct trie_cursor {
    struct frame {
        std::uint64_t start, end;  // the node's edges
        std::uint64_t pos;         // the edge taken
        std::size_t depth;         // key bytes above the node
    };
    std::vector<frame> stack;
    std::string key;
    std::uint64_t ordinal = 0;
    // The link of a sibling of a frame's edge (the next one in the
    // direction the cursor steps), read with that edge's own
    // (trie_view::enter): by frame, its edge's position (npos: none), its
    // range in the link stream and, where the range is long enough to be
    // decoded beside the edge's (trie_view::pair_bits), its bytes. An
    // edge's position fixes its link and the key above it, so an entry is
    // good until the cursor starts afresh (trie_view::end, which every
    // start calls, clears them).
    struct sibling {
        std::uint64_t pos = npos;
        std::uint64_t from = 0, to = 0;
        std::string bytes;
    };
    // The entries are a cache: a copy of a cursor starts without them
    // (copying their strings made every post-increment allocate), and an
    // assigned cursor, which may come from another trie, drops its own.
    struct sibling_cache {
        std::vector<sibling> entries;
        sibling_cache() = default;
        sibling_cache(const sibling_cache&) noexcept {}
        sibling_cache(sibling_cache&&) noexcept = default;
        sibling_cache& operator=(const sibling_cache& o) noexcept {
            if (this != &o) clear();
            return *this;
        }
        sibling_cache& operator=(sibling_cache&&) noexcept = default;
        void clear() noexcept {
            for (sibling& a : entries) a.pos = npos;
        }
    };
    sibling_cache ahead;

    bool at_end() const noexcept { return stack.empty(); }
};

class trie_view {
public:
    trie_view() = default;
    // Reads the parts in place (they must outlive the view); format.hpp
    // checks a file's parts before a view reads them.
    explicit trie_view(const trie_parts& p)
        : keys_(p.keys), edges_(p.edges), root_start_(p.root_start), link_count_(p.link_count),
          lone_(p.lone_key_end), plain_(p.plain_links), low_bits_(p.link_low_bits), high_bits_(p.link_high_bits),
          stream_size_(p.link_stream_size), blocks_(p.blocks.data()), jump_bases_(p.jump_bases.data()),
          jumps_(p.jumps.data()), jumps_size_(p.jumps.size()), lows_(p.link_lows.data()),
          highs_(p.link_highs.data()), links_(p.links.data()), links_bytes_(p.links.size()),
          jump_prefix_(p.jump_prefix), jump_end_(p.jump_end), jump_sub_start_(p.jump_sub_start),
          jump_after_(p.jump_after) {
        if (!plain_) {
            auto c = succinct::context_code::parse(p.code.data(), p.code.size(), true);
            if (!c) corrupt("the link code table does not parse");
            code_ = std::make_unique<succinct::context_code>(std::move(*c));
        }
        root_top_ = make_top(edges_);
        if (!jump_prefix_.empty()) jump_top_ = make_top(jump_end_);
    }
    explicit trie_view(const trie_image& im) : trie_view(im.parts()) {}

    std::uint64_t size() const noexcept { return keys_; }
    std::uint64_t edges() const noexcept { return edges_; }

    // The key's ordinal (its rank in byte order), or npos.
    std::uint64_t find(std::string_view key) const noexcept {
        return popcnt_dispatch() ? find_as<true>(key) : find_as<false>(key);
    }
    // find() with its counts by popcount64_as<Hw> (Hw only where
    // popcnt_dispatch()); find() picks. Public so that the tests run both.
    template <bool Hw>
    std::uint64_t find_as(std::string_view key) const noexcept {
        if (edges_ == 0) return npos;
        std::uint64_t e = edges_;         // the current node's end
        lazy_position sub{0, npos};       // its subtree's start
        std::uint64_t after = 0;          // keys after the key outside that subtree
        std::size_t depth = 0;
        const top_node* top = root_top_.get();
        if (!jump_prefix_.empty() && key.starts_with(jump_prefix_)) {
            e = jump_end_;
            sub = {jump_sub_start_, npos};
            after = jump_after_;
            depth = jump_prefix_.size();
            top = jump_top_.get();
        }
        block_ref next = block(e - 1);  // the block of the node's last edge
        for (;;) {
            const std::uint64_t last = e - 1;
            block_ref b = next;
            const auto hi = static_cast<unsigned>(last & 63);
            std::uint64_t s = 0;
            std::uint64_t pos = 0;
            std::uint64_t q = npos;  // the node's first inner edge after pos
            unsigned bit = 0;
            bool no_jump = false;  // pos is its node's first inner edge
            if (top != nullptr) {
                // The first node, by the table (top_node).
                s = top->s;
                if (depth == key.size()) {
                    if (!top->has_end) return npos;
                    return checked(after + ends_before<Hw>(last) - ends_before<Hw>(resolve<Hw>(sub)));
                }
                const auto c = static_cast<unsigned char>(key[depth]);
                if (top->pos[c] == top_node::none) return npos;
                pos = top->pos[c];
                b = block(pos);
                bit = static_cast<unsigned>(pos & 63);
                if (top->q[c] != top_node::none) q = top->q[c];
                no_jump = pos == top->first_inner;
                top = nullptr;
            } else if (const std::uint64_t firsts = b.first() & up_to(hi); firsts != 0) [[likely]] {
                // The node lies in last's block (nearly every node: they
                // are a few edges, a block 64): every step of the level
                // reads that block's words once, at bit offsets.
                const auto lo = static_cast<unsigned>(63 - std::countl_zero(firsts));
                const std::uint64_t base = last - hi;
                s = base + lo;
                const unsigned char* const labels = b.labels();
                const bool has_end = hi > lo ? labels[hi] == labels[hi - 1] : lone_;
                if (depth == key.size()) {
                    if (!has_end) return npos;
                    return checked(after + ends_before<Hw>(b, hi, last) - ends_before<Hw>(resolve<Hw>(sub)));
                }
                if (has_end && hi == lo) return npos;  // a lone empty key: no edge to search
                const std::uint64_t hits = at_least(labels, static_cast<unsigned char>(key[depth]), lo, hi - has_end);
                if (hits == 0) return npos;
                bit = static_cast<unsigned>(63 - std::countl_zero(hits));
                pos = base + bit;
                const std::uint64_t inner = b.child();
                const std::uint64_t later = inner & up_to(hi) & ~up_to(bit);
                if (later != 0) q = base + static_cast<std::uint64_t>(std::countr_zero(later));
                no_jump = (inner & below(bit) & ~below(lo)) == 0;
            } else {
                s = node_start(b, last);
                const bool has_end = key_end(s, e);
                if (depth == key.size()) {
                    if (!has_end) return npos;
                    return checked(after + ends_before<Hw>(last) - ends_before<Hw>(resolve<Hw>(sub)));
                }
                // Labels descend through the node: the edge is the last one
                // whose label is at least c (none below a lone empty key).
                pos = last_at_least(s, has_end ? last : e, static_cast<unsigned char>(key[depth]));
                if (pos == npos) return npos;
                b = block(pos);
                bit = static_cast<unsigned>(pos & 63);
                q = next_inner(pos, e);
            }
            if (b.label(bit) != static_cast<unsigned char>(key[depth])) return npos;
            ++depth;
            const std::uint64_t child_bits = b.child();
            const bool child = ((child_bits >> bit) & 1) != 0;
            if (((b.link() >> bit) & 1) != 0) {
                const std::uint64_t li = link_index<Hw>(b, bit);
                const std::size_t m = match_link<Hw>(b, li, key, depth, child);
                if (m == npos_size) return npos;
                depth += m;
            }
            const lazy_position boundary = q != npos ? lazy_position{s, q} : sub;
            const std::uint64_t ends = ends_before<Hw>(b, bit, pos);
            if (!child) {
                if (depth != key.size()) return npos;
                return checked(after + ends - ends_before<Hw>(resolve<Hw>(boundary)));
            }
            const std::uint64_t j = no_jump ? 0 : jump<Hw>(b, bit, pos);
            if (j >= s) return npos;  // a corrupt image
            const std::uint64_t child_end = s - j;
            next = block(child_end - 1);
            __builtin_prefetch(next.p);
            // ends_before(child_end) from the child's last edge's block,
            // which the next level reads anyway.
            after += ends - ends_through<Hw>(next, static_cast<unsigned>((child_end - 1) & 63), child_end - 1);
            e = child_end;
            sub = boundary;
        }
    }

    std::string_view jump_prefix() const noexcept { return jump_prefix_; }
    // Heap bytes the view holds beside the image it reads: the link code's
    // tables (its encoder: 0.5 KiB per context with a code of its own) and
    // the first nodes' tables (2 KiB each).
    std::size_t memory_usage() const noexcept {
        return (code_ ? code_->memory_usage() : 0) + jump_prefix_.capacity() +
               sizeof(top_node) * ((root_top_ ? 1u : 0u) + (jump_top_ ? 1u : 0u));
    }

    // The longest key that is a prefix of key: {its length, its ordinal}, or
    // {npos, npos} if there is none. No jump: a shorter key may end above
    // the dominant prefix's node.
    std::pair<std::uint64_t, std::uint64_t> longest_prefix(std::string_view key) const noexcept {
        std::pair<std::uint64_t, std::uint64_t> best{npos, npos};
        if (edges_ == 0) return best;
        std::uint64_t e = edges_;
        lazy_position sub{0, npos};
        std::uint64_t after = 0;
        std::size_t depth = 0;
        for (;;) {
            const std::uint64_t last = e - 1;
            const std::uint64_t s = node_start(block(last), last);
            const bool has_end = key_end(s, e);
            if (has_end) best = {depth, checked(after + ends_before(last) - ends_before(resolve(sub)))};
            if (depth == key.size()) return best;
            const std::uint64_t pos =
                last_at_least(s, has_end ? last : e, static_cast<unsigned char>(key[depth]));
            if (pos == npos || label(pos) != static_cast<unsigned char>(key[depth])) return best;
            ++depth;
            const block_ref b = block(pos);
            const auto bit = static_cast<unsigned>(pos & 63);
            if (((b.link() >> bit) & 1) != 0) {
                const std::uint64_t li = link_index(b, bit);
                const std::size_t m = match_link(b, li, key, depth, true);
                if (m == npos_size) return best;
                depth += m;
            }
            const std::uint64_t q = next_inner(pos, e);
            const lazy_position boundary = q != npos ? lazy_position{s, q} : sub;
            if (((b.child() >> bit) & 1) == 0)
                return {depth, checked(after + ends_before(pos) - ends_before(resolve(boundary)))};
            const std::uint64_t j = jump(pos);
            if (j >= s) return best;  // a corrupt image
            after += ends_before(pos) - ends_before(s - j);
            e = s - j;
            sub = boundary;
        }
    }

    // Cursors (trie_cursor). Each leaves c at a key, or past the end
    // (ordinal size()). first/last/nth/seek start afresh; next/prev step
    // from a key (prev also from past the end: to the last key).
    void first(trie_cursor& c) const {
        if (!start(c)) return;
        descend_first(c);
        c.ordinal = 0;
    }
    void last(trie_cursor& c) const {
        if (!start(c)) return;
        descend_last(c);
        c.ordinal = keys_ - 1;
    }
    void next(trie_cursor& c) const {
        // Only a range whose end's ordinal lies (a corrupt image) runs here.
        if (c.at_end()) corrupt("an iteration past the last key (ordinals that lie)");
        if (step_forward(c)) ++c.ordinal;
    }
    void prev(trie_cursor& c) const {
        if (c.at_end()) return last(c);
        for (;;) {
            trie_cursor::frame& f = c.stack.back();
            if (f.pos + 1 < f.end) {
                ++f.pos;
                if (enter(c, pairing::backward)) descend_last(c, pairing::backward);
                --c.ordinal;
                return;
            }
            c.stack.pop_back();
            if (c.stack.empty()) return end(c);  // before the first key: undefined; past the end
        }
    }
    // The key of ordinal i (i < size()).
    void nth(trie_cursor& c, std::uint64_t i) const {
        MEMKV_ASSERT(i < keys_);
        if (!start(c)) return;
        std::uint64_t r = i;
        std::uint64_t sub = 0;  // the current subtree's start
        for (;;) {
            trie_cursor::frame& f = c.stack.back();
            // Edges in byte order (descending position), each key end one
            // key, each child the key ends between the subtree start and
            // its end.
            std::uint64_t pos = f.end;
            for (;;) {
                if (pos == f.start) corrupt("an ordinal past its node's keys");
                --pos;
                if (!inner(pos)) {
                    if (r == 0) break;
                    --r;
                    continue;
                }
                const std::uint64_t j = jump(pos);
                if (j >= f.start) corrupt("a jump past the first edge");
                const std::uint64_t child_end = f.start - j;
                const std::uint64_t k = ends_before(child_end) - ends_before(sub);
                if (r < k) break;
                r -= k;
                sub = child_end;
            }
            f.pos = pos;
            if (!enter(c)) break;
        }
        c.ordinal = i;
    }
    // The first key >= key.
    void seek(trie_cursor& c, std::string_view key) const {
        if (!start(c)) return;
        for (;;) {
            trie_cursor::frame& f = c.stack.back();
            const std::size_t depth = f.depth;
            if (depth == key.size()) {  // key is at or below the node's first key
                descend_first(c);
                break;
            }
            const auto ch = static_cast<unsigned char>(key[depth]);
            const std::uint64_t p = last_at_least(f.start, key_end(f.start, f.end) ? f.end - 1 : f.end, ch);
            if (p == npos) {  // every edge is below key: so is the subtree
                f.pos = f.start;
                return step_past(c);
            }
            f.pos = p;
            const bool child = enter(c);
            if (label(p) != ch) {  // the edge's keys are all above key
                if (child) descend_first(c);
                break;
            }
            // The edge's bytes past its label against the key's.
            const std::string_view link =
                std::string_view(c.key).substr(depth + 1, (child ? c.stack.back().depth : c.key.size()) - depth - 1);
            const std::string_view rest = key.substr(depth + 1);
            const std::size_t n = std::min(link.size(), rest.size());
            const int cmp = n == 0 ? 0 : std::memcmp(link.data(), rest.data(), n);
            if (cmp > 0 || (cmp == 0 && rest.size() < link.size())) {  // above key
                if (child) descend_first(c);
                break;
            }
            if (cmp < 0 || (!child && rest.size() > link.size())) {  // below key
                if (child) c.stack.pop_back();
                return step_past(c);
            }
            if (!child) break;  // key itself
        }
        c.ordinal = ordinal_of(c);
    }
    // The ordinal of the key c is at (not past the end).
    std::uint64_t ordinal_of(const trie_cursor& c) const noexcept {
        MEMKV_ASSERT(!c.at_end());
        std::uint64_t after = 0;
        lazy_position sub{0, npos};
        for (std::size_t k = 0; k < c.stack.size(); ++k) {
            const trie_cursor::frame& f = c.stack[k];
            const std::uint64_t q = next_inner(f.pos, f.end);
            const lazy_position boundary = q != npos ? lazy_position{f.start, q} : sub;
            if (k + 1 < c.stack.size()) {
                after += ends_before(f.pos) - ends_before(c.stack[k + 1].end);
                sub = boundary;
            } else {
                after += ends_before(f.pos) - ends_before(resolve(boundary));
            }
        }
        return keys_ - 1 - after;  // a corrupt image may give any value: value_at checks
    }

private:
    static constexpr std::size_t npos_size = ~std::size_t{0};
    // Links of fewer bits decode alone: two short ones gain less from
    // overlapping than the second's range and the cursor's copy cost.
    // Scans with 48 against none: uuid.txt 0.76x the time, paths 0.90x,
    // the URL set 0.99x, words and names 1.00x; pairing every link left
    // words 9% slower (RESULTS, forty-second session).
    static constexpr std::uint64_t pair_bits = 48;

    [[noreturn]] static void corrupt(const char* what) { frozen_corrupt(std::string("v3 trie: ") + what); }

    void end(trie_cursor& c) const {
        c.stack.clear();
        c.key.clear();
        c.ordinal = keys_;
        c.ahead.clear();
    }
    // The root's frame; false (and c past the end) if there are no keys.
    bool start(trie_cursor& c) const {
        end(c);
        if (keys_ == 0) return false;
        c.stack.push_back({root_start_, edges_, 0, 0});
        return true;
    }
    // Moves c from its top frame's edge, which it leaves with all its keys
    // below the key sought, to the next key, and sets its ordinal.
    void step_past(trie_cursor& c) const {
        if (step_forward(c)) c.ordinal = ordinal_of(c);
    }
    // The next edge in byte order after the top frame's, popping exhausted
    // frames, and down to its first key; false (c past the end) if none.
    bool step_forward(trie_cursor& c) const {
        for (;;) {
            trie_cursor::frame& f = c.stack.back();
            if (f.pos > f.start) {
                --f.pos;
                if (enter(c, pairing::forward)) descend_first(c, pairing::forward);
                return true;
            }
            c.stack.pop_back();
            if (c.stack.empty()) {
                end(c);
                return false;
            }
        }
    }
    // Which sibling a scan's step decodes beside the link it needs: none
    // (seeks, which read one key), the next edge in byte order (the
    // position below) or the one before it (above).
    enum class pairing { none, forward, backward };
    // Takes the top frame's edge: its label and link onto the key, and a
    // frame for its child, if it has one (true). With a pairing (a scan
    // stepping), a link that must be decoded is decoded with that
    // sibling's, which the step to the sibling then finds ready.
    bool enter(trie_cursor& c, pairing pair = pairing::none) const {
        const trie_cursor::frame f = c.stack.back();
        c.key.resize(f.depth);
        if (f.pos + 1 == f.end && key_end(f.start, f.end)) return false;
        const block_ref b = block(f.pos);
        const auto bit = static_cast<unsigned>(f.pos & 63);
        c.key.push_back(static_cast<char>(b.label(bit)));
        if (((b.link() >> bit) & 1) != 0) {
            const std::size_t k = c.stack.size() - 1;
            std::vector<trie_cursor::sibling>& ahead = c.ahead.entries;
            const trie_cursor::sibling* s = k < ahead.size() && ahead[k].pos == f.pos ? &ahead[k] : nullptr;
            if (s != nullptr && s->to - s->from >= pair_bits) {
                c.key.append(s->bytes);
            } else {
                const auto [from, to] = s != nullptr ? std::pair{s->from, s->to} : link_range(b, link_index(b, bit));
                if (pair == pairing::none || plain_ || to - from < pair_bits ||
                    !append_links(c, k, b, bit, from, to, pair == pairing::forward))
                    append_range(from, to, c.key);
            }
        }
        if (((b.child() >> bit) & 1) == 0) return false;
        const std::uint64_t j = jump(f.pos);
        if (j >= f.start) corrupt("a jump past the first edge");
        const std::uint64_t child_end = f.start - j;
        const std::uint64_t child_start = node_start(block(child_end - 1), child_end - 1);
        c.stack.push_back({child_start, child_end, child_end - 1, c.key.size()});
        return true;
    }
    void descend_first(trie_cursor& c, pairing pair = pairing::none) const {
        do c.stack.back().pos = c.stack.back().end - 1;
        while (enter(c, pair));
    }
    void descend_last(trie_cursor& c, pairing pair = pairing::none) const {
        do c.stack.back().pos = c.stack.back().start;
        while (enter(c, pair));
    }
    // Appends link li (after the key's bytes so far, its context) to key.
    void append_link(block_ref b, std::uint64_t li, std::string& key) const {
        const auto [from, to] = link_range(b, li);
        append_range(from, to, key);
    }
    // The same for the link at [from, to) of the stream.
    void append_range(std::uint64_t from, std::uint64_t to, std::string& key) const {
        if (plain_) {
            if (from > to || to > stream_size_) corrupt("a link outside the link stream");
            key.append(reinterpret_cast<const char*>(links_ + from), static_cast<std::size_t>(to - from));
            return;
        }
        const std::size_t n = key.size();
        const succinct::byte_context ctx{n >= 2 ? static_cast<unsigned char>(key[n - 2]) : 256u,
                                         static_cast<unsigned char>(key[n - 1])};
        if (!code_->decode(succinct::bit_span{links_, links_bytes_}, from, to, ctx, key)) corrupt("a link that does not decode");
    }

    // append_link() for the top frame's edge (at `bit` of block b, frame
    // k) and, beside it, the link of the next edge in byte order (the
    // position below; forward) or of the one before it (above), kept in
    // c.ahead[k]: one link's bytes wait on each other, two links' do not.
    // False (the edge's link not read) where there is no such edge, or its
    // link is missing or shorter than pair_bits (a key end has none); a
    // short link's range is kept in c.ahead[k] for the step to it.
    bool append_links(trie_cursor& c, std::size_t k, block_ref b, unsigned bit, std::uint64_t from, std::uint64_t to,
                      bool forward) const {
        const trie_cursor::frame& f = c.stack.back();
        if (forward ? f.pos == f.start : f.pos + 1 == f.end) return false;
        const std::uint64_t p2 = forward ? f.pos - 1 : f.pos + 1;
        const block_ref b2 = (forward ? bit == 0 : bit == 63) ? block(p2) : b;
        const auto bit2 = static_cast<unsigned>(p2 & 63);
        if (((b2.link() >> bit2) & 1) == 0) return false;
        const auto [from2, to2] = link_range(b2, link_index(b2, bit2));
        std::vector<trie_cursor::sibling>& ahead = c.ahead.entries;
        if (ahead.size() <= k) ahead.resize(k + 1);
        trie_cursor::sibling& next = ahead[k];
        next.from = from2;
        next.to = to2;
        if (to2 - from2 < pair_bits) {
            next.pos = p2;  // its range, for the step that gets there
            return false;
        }
        next.pos = npos;
        next.bytes.clear();
        const std::size_t n = c.key.size();
        const unsigned before = n >= 2 ? static_cast<unsigned char>(c.key[n - 2]) : 256u;
        const auto [ok, ok2] = code_->decode2(succinct::bit_span{links_, links_bytes_}, from, to,
                                              {before, static_cast<unsigned char>(c.key[n - 1])}, c.key, from2, to2,
                                              {before, b2.label(bit2)}, next.bytes);
        if (!ok) corrupt("a link that does not decode");
        if (ok2) next.pos = p2;  // else decoded again, and refused, when the scan gets there
        return true;
    }

    // Link li's [from, to) in the stream.
    template <bool Hw = false>
    std::pair<std::uint64_t, std::uint64_t> link_range(block_ref b, std::uint64_t li) const noexcept {
        const unsigned lb = low_bits_;
        if (li >= link_count_ || li < b.link_rank()) return {1, 0};  // a corrupt image
        const auto [at, next] = ones_after<Hw>(b.links_at(), li - b.link_rank());
        if (next >= high_bits_) return {1, 0};  // a corrupt image: an empty, invalid range
        return {((at - li) << lb) | packed_column::get(lows_, li, lb),
                ((next - li - 1) << lb) | packed_column::get(lows_, li + 1, lb)};
    }

    // The link number of the edge at bit `bit` of block b (which has a link there).
    template <bool Hw = false>
    static std::uint64_t link_index(block_ref b, unsigned bit) noexcept {
        return b.link_rank() + std::uint64_t{popcount64_as<Hw>(b.link() & below(bit))};
    }
    bool inner(std::uint64_t pos) const noexcept { return ((block(pos).child() >> (pos & 63)) & 1) != 0; }
    unsigned char label(std::uint64_t pos) const noexcept { return block(pos).label(static_cast<unsigned>(pos & 63)); }
    // Whether the node [s, e) begins (in byte order) with a key end.
    bool key_end(std::uint64_t s, std::uint64_t e) const noexcept {
        return e - 1 > s ? label(e - 1) == label(e - 2) : lone_;
    }
    // The last position in [s, lim) whose label is at least c, or npos.
    std::uint64_t last_at_least(std::uint64_t s, std::uint64_t lim, unsigned char c) const noexcept {
        if (lim == s) return npos;
        std::uint64_t p = lim - 1;
        for (;;) {
            const std::uint64_t base = p & ~std::uint64_t{63};
            const block_ref b = block(p);
            const unsigned lo = s > base ? static_cast<unsigned>(s - base) : 0;
            // Labels descend through the node, so the block's part of it
            // holds c's edge only if its first label is at least c: a big
            // node's other blocks are passed by one compare each.
            if (b.label(lo) >= c) {
                const std::uint64_t hits = at_least(b.labels(), c, lo, static_cast<unsigned>(p & 63));
                if (hits != 0) return base + static_cast<std::uint64_t>(63 - std::countl_zero(hits));
            }
            if (s >= base) return npos;
            p = base - 1;
        }
    }

    // base - jump(at), or base where at is npos: a subtree's start, resolved
    // only if the key ends at a leaf.
    struct lazy_position {
        std::uint64_t base, at;
    };
    template <bool Hw = false>
    std::uint64_t resolve(lazy_position l) const noexcept {
        if (l.at == npos) return l.base;
        const std::uint64_t j = jump<Hw>(l.at);
        return j <= l.base ? l.base - j : 0;  // 0: a corrupt image
    }
    // The ordinal of a key with `after` keys after it; npos if that is none
    // (a corrupt image).
    std::uint64_t checked(std::uint64_t after) const noexcept { return after < keys_ ? keys_ - 1 - after : npos; }

    block_ref block(std::uint64_t pos) const noexcept { return {blocks_ + (pos >> 6) * block_bytes}; }

    // The first edge of the node whose edge `last` is (the highest node
    // start at or below it); b is last's block.
    std::uint64_t node_start(block_ref b, std::uint64_t last) const noexcept {
        std::uint64_t firsts = b.first() & up_to(static_cast<unsigned>(last & 63));
        std::uint64_t base = last & ~std::uint64_t{63};
        while (firsts == 0) {
            if (base == 0) return 0;  // no node start: a corrupt image
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
    template <bool Hw = false>
    std::uint64_t jump(std::uint64_t pos) const noexcept {
        return jump<Hw>(block(pos), static_cast<unsigned>(pos & 63), pos);
    }
    // jump(pos) where pos's block b and bit are known.
    template <bool Hw = false>
    std::uint64_t jump(block_ref b, unsigned bit, std::uint64_t pos) const noexcept {
        const std::uint64_t jumps = jump_mask(b);
        if (((jumps >> bit) & 1) == 0) return 0;
        const std::uint32_t at = b.jump_at();
        const unsigned width = at >> jump_width_shift;
        const std::uint64_t k = std::uint64_t{popcount64_as<Hw>(jumps & below(bit))};
        const std::uint64_t base = load_le64(jump_bases_ + 8 * ((pos >> 6) / blocks_per_jump_base));
        const std::uint64_t bit_pos = base + (at & jump_at_mask) + k * width;
        if (base > (std::uint64_t{1} << 60) || bit_pos / 8 + 8 > jumps_size_) return npos;  // a corrupt image
        return bits_at(jumps_, bit_pos, width);
    }
    // Edges before p that end a key (lead to no node).
    template <bool Hw = false>
    std::uint64_t ends_before(std::uint64_t p) const noexcept {
        return ends_before<Hw>(block(p), static_cast<unsigned>(p & 63), p);
    }
    // ends_before(p) where p's block b and bit are known.
    template <bool Hw = false>
    static std::uint64_t ends_before(block_ref b, unsigned bit, std::uint64_t p) noexcept {
        return p - b.inner_rank() - std::uint64_t{popcount64_as<Hw>(b.child() & below(bit))};
    }
    // ends_before(p + 1), the same way: edges up to and including p.
    template <bool Hw = false>
    static std::uint64_t ends_through(block_ref b, unsigned bit, std::uint64_t p) noexcept {
        return p + 1 - b.inner_rank() - std::uint64_t{popcount64_as<Hw>(b.child() & up_to(bit))};
    }

    // The position of the first one at or after bit p of the link offsets'
    // high bits (high_bits_ if there is none: a corrupt image).
    std::uint64_t first_one(std::uint64_t p) const noexcept {
        while (p < high_bits_) {
            const std::uint64_t w = bits_at(highs_, p, 56);
            if (w != 0) return p + static_cast<std::uint64_t>(std::countr_zero(w));
            p += 56;
        }
        return high_bits_;
    }

    // The (r+1)-th one at or after bit p and the one after it: a link's two
    // ends, the second most often in the word the first was found in.
    template <bool Hw = false>
    std::pair<std::uint64_t, std::uint64_t> ones_after(std::uint64_t p, std::uint64_t r) const noexcept {
        while (p < high_bits_) {
            const std::uint64_t w = bits_at(highs_, p, 56);
            unsigned s = 0;
            if (r == 0 && w != 0) {
                s = static_cast<unsigned>(std::countr_zero(w));
            } else {
                const auto ones = std::uint64_t{popcount64_as<Hw>(w)};
                if (r >= ones) {
                    r -= ones;
                    p += 56;
                    continue;
                }
                s = succinct::select_in_word(w, static_cast<unsigned>(r));
            }
            const std::uint64_t at = p + s;
            const std::uint64_t rest = w >> s >> 1;
            if (rest != 0) return {at, at + 1 + static_cast<std::uint64_t>(std::countr_zero(rest))};
            return {at, first_one(at + 1)};
        }
        return {high_bits_, high_bits_};
    }

    // Link li against the key past depth: the bytes it matches, or npos_size.
    // An inner edge's link must be a prefix of the rest; a leaf's, all of it.
    template <bool Hw = false>
    std::size_t match_link(block_ref b, std::uint64_t li, std::string_view key, std::size_t depth,
                           bool inner) const noexcept {
        __builtin_prefetch(lows_ + li * low_bits_ / 8);
        const auto [from, to] = link_range<Hw>(b, li);
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
        const auto k = code_->coded_prefix(succinct::bit_span{links_, links_bytes_}, from, to, c, key.substr(depth));
        if (!k || (!inner && depth + *k != key.size())) return npos_size;
        return *k;
    }

    // The node a lookup starts at (the root, or the dominant prefix's node)
    // by label: a big node spans blocks, and finding its start, its edge
    // and the next inner edge by the blocks took the slow path of find()
    // at the first level of every lookup.
    struct top_node {
        static constexpr std::uint32_t none = ~std::uint32_t{0};
        std::uint64_t s = 0;                    // the node's first edge
        std::uint64_t first_inner = npos;       // its first inner edge
        bool has_end = false;                   // it ends a key
        std::array<std::uint32_t, 256> pos{};  // the edge labelled b, or none
        std::array<std::uint32_t, 256> q{};    // the node's first inner edge after it, or none
    };
    // The table of the node that ends at e, or none (nothing to index, or a
    // node of more edges than labels: a corrupt image, read the slow way).
    std::unique_ptr<top_node> make_top(std::uint64_t e) const {
        if (e == 0 || e > edges_ || edges_ >= top_node::none) return nullptr;
        const std::uint64_t s = node_start(block(e - 1), e - 1);
        if (e - s > 257) return nullptr;
        auto t = std::make_unique<top_node>();
        t->s = s;
        t->has_end = key_end(s, e);
        t->pos.fill(top_node::none);
        t->q.fill(top_node::none);
        const std::uint64_t lim = t->has_end ? e - 1 : e;
        for (std::uint64_t p = s; p < lim; ++p) {
            const unsigned char c = label(p);
            if (t->pos[c] != top_node::none) continue;  // a label twice: a corrupt image; the first is found
            t->pos[c] = static_cast<std::uint32_t>(p);
            const std::uint64_t q = next_inner(p, e);
            if (q != npos) t->q[c] = static_cast<std::uint32_t>(q);
            if (t->first_inner == npos && inner(p)) t->first_inner = p;
        }
        return t;
    }

    std::uint64_t keys_ = 0, edges_ = 0, root_start_ = 0, link_count_ = 0;
    bool lone_ = false, plain_ = false;
    unsigned low_bits_ = 0;
    std::uint64_t high_bits_ = 0, stream_size_ = 0;
    const unsigned char* blocks_ = nullptr;
    const unsigned char* jump_bases_ = nullptr;
    const unsigned char* jumps_ = nullptr;
    std::uint64_t jumps_size_ = 0;
    const unsigned char* lows_ = nullptr;
    const unsigned char* highs_ = nullptr;
    const unsigned char* links_ = nullptr;
    std::uint64_t links_bytes_ = 0;
    std::string jump_prefix_;
    std::uint64_t jump_end_ = 0, jump_sub_start_ = 0, jump_after_ = 0;
    // Coded links only. On the heap: a view is moved with its layer, and an
    // optional here (inside FrozenLayer's optional view) made GCC 12 warn
    // that it may be used uninitialized.
    std::unique_ptr<succinct::context_code> code_;
    std::unique_ptr<top_node> root_top_, jump_top_;
};

}  // namespace memkv::detail::trie
