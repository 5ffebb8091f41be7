#pragma once

// FastArt's engine: insertion, lookup, erasure, ordered seeks and the
// invariant checker over the layouts of node.hpp. The public facade is
// memkv/fast_art.hpp.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <memkv/detail/art/arena.hpp>
#include <memkv/detail/art/node.hpp>
#include <memkv/detail/assert.hpp>

namespace memkv::detail::art {

// Key lengths are stored in 32 bits.
inline constexpr std::size_t max_key_size = 0xFFFF'FFFFu;

inline void check_key_size(std::size_t n) {
    if (n > max_key_size) throw std::length_error("memkv::FastArt: key longer than 2^32-1 bytes");
}

inline const unsigned char* ubytes(std::string_view s) noexcept {
    return reinterpret_cast<const unsigned char*>(s.data());
}

// One level of an iterator's path: the node, the position taken in it, and
// the key length above the node (its prefix starts there).
struct frame {
    ref_t node;
    int pos;
    std::size_t depth;
};

// Iterator state. path holds the key bytes above the current leaf; the key
// is path + the leaf's suffix. leaf == 0 is the end position.
struct cursor {
    std::vector<frame> stack;
    std::string path;
    ref_t leaf = 0;

    void reset() noexcept {
        stack.clear();
        path.clear();
        leaf = 0;
    }
};

template <class V>
class tree {
public:
    // memkv::FastArt<V> checks these first, with messages naming itself.
    static_assert(alignof(V) <= slab_arena::unit, "memkv::FastArt<V>: alignof(V) must be at most 8");
    static_assert(std::is_move_constructible_v<V>, "memkv::FastArt<V>: V must be move-constructible");
    static_assert(std::is_destructible_v<V>, "memkv::FastArt<V>: V must be destructible");

    // A type whose move may throw is boxed in its own block so that moving a
    // leaf (when a path is re-compressed on erase) never throws.
    static constexpr bool boxed = !std::is_nothrow_move_constructible_v<V>;
    static constexpr std::size_t vsize = boxed ? sizeof(ref_t) : sizeof(V);

    tree() = default;
    tree(const tree&) = delete;
    tree& operator=(const tree&) = delete;
    tree(tree&& o) noexcept { swap(o); }
    tree& operator=(tree&& o) noexcept {
        if (this != &o) {
            clear();
            swap(o);
        }
        return *this;
    }
    ~tree() { destroy_values(); }

    // The generation stays with the object (iterators refer to the object,
    // not to its nodes): both sides count a modification.
    void swap(tree& o) noexcept {
        arena_.swap(o.arena_);
        std::swap(root_, o.root_);
        std::swap(size_, o.size_);
        std::swap(jump_, o.jump_);
        modified();
        o.modified();
    }

#if MEMKV_DEBUG_ITERATORS
    // Debug builds: how many times this tree changed shape (an insert, an
    // erase, clear, swap, move). Iterators record it and check it on use.
    std::uint64_t generation() const noexcept { return gen_; }
#endif

    std::size_t size() const noexcept { return size_; }
    ref_t root() const noexcept { return root_; }
    // Depth of the jump node (see jump_state), 0 when there is none; for
    // tests and diagnostics.
    std::size_t jump_depth() const noexcept { return jump_.node != 0 ? jump_.depth : 0; }

    std::size_t memory_usage() const noexcept { return sizeof(*this) + arena_.memory_usage(); }

    void clear() noexcept {
        destroy_values();
        arena_.release();
        root_ = 0;
        size_ = 0;
        jump_ = {};
        modified();
    }

    // ---- leaves -----------------------------------------------------------

    std::byte* at(ref_t r) const noexcept { return arena_.ptr(untag(r)); }
#if defined(__GNUC__) || defined(__clang__)
    [[gnu::always_inline]]
#endif
    void prefetch(ref_t r) const noexcept { arena_.prefetch(untag(r)); }
    node_ref node(ref_t r) const noexcept {
        MEMKV_ASSERT(r != 0 && !is_leaf(r));
        return {arena_.ptr(r)};
    }

    // The walks' prefetch: the block's first line and the one holding byte
    // 40. Blocks are 8-byte aligned and a URL leaf (value, length, a suffix
    // of a few dozen bytes) or a small node is 32 to 48 bytes, so half or
    // more of them straddle a line: asking for the first line alone left the
    // suffix copy (or the child slots) a second, unhidden miss.
#if defined(__GNUC__) || defined(__clang__)
    [[gnu::always_inline]]
#endif
    void prefetch_block(ref_t r) const noexcept {
#if defined(__GNUC__) || defined(__clang__)
        // Integer arithmetic: p + 40 may lie past the block's chunk, which a
        // prefetch tolerates but pointer arithmetic does not.
        const auto p = reinterpret_cast<std::uintptr_t>(at(r));
        __builtin_prefetch(reinterpret_cast<const void*>(p));
        __builtin_prefetch(reinterpret_cast<const void*>(p + 40));
#else
        (void)r;
#endif
    }

    static constexpr std::size_t len_bytes(std::size_t n) noexcept { return n < 255 ? 1 : 5; }
    static constexpr std::size_t leaf_units(std::size_t slen) noexcept {
        return slab_arena::units_for(vsize + len_bytes(slen) + slen);
    }

    static std::string_view suffix_of(const std::byte* p) noexcept {
        const auto* q = reinterpret_cast<const unsigned char*>(p) + vsize;
        if (q[0] < 255) return {reinterpret_cast<const char*>(q + 1), q[0]};
        std::uint32_t n = 0;
        std::memcpy(&n, q + 1, sizeof n);
        return {reinterpret_cast<const char*>(q + 5), n};
    }
    std::string_view suffix(ref_t leaf) const noexcept { return suffix_of(at(leaf)); }

    // Writes length and bytes; s may overlap the leaf's current suffix.
    static void write_suffix(std::byte* p, std::string_view s) noexcept {
        auto* q = reinterpret_cast<unsigned char*>(p) + vsize;
        if (s.size() < 255) {
            if (!s.empty()) std::memmove(q + 1, s.data(), s.size());
            q[0] = static_cast<unsigned char>(s.size());
        } else {
            std::memmove(q + 5, s.data(), s.size());
            const auto n = static_cast<std::uint32_t>(s.size());
            q[0] = 255;
            std::memcpy(q + 1, &n, sizeof n);
        }
    }

    // write_suffix for a fresh block (no overlap): inline copies, no libc call.
    static void write_fresh_suffix(std::byte* p, std::string_view s) noexcept {
        auto* q = reinterpret_cast<unsigned char*>(p) + vsize;
        if (s.size() < 255) {
            q[0] = static_cast<unsigned char>(s.size());
            copy_bytes(q + 1, ubytes(s), s.size());
        } else {
            const auto n = static_cast<std::uint32_t>(s.size());
            q[0] = 255;
            std::memcpy(q + 1, &n, sizeof n);
            std::memcpy(q + 5, s.data(), s.size());
        }
    }

    V& value(ref_t leaf) const noexcept {
        MEMKV_ASSERT(is_leaf(leaf));
        std::byte* p = at(leaf);
        if constexpr (boxed) {
            ref_t b = 0;
            std::memcpy(&b, p, sizeof b);
            return *std::launder(reinterpret_cast<V*>(arena_.ptr(b)));
        } else {
            return *std::launder(reinterpret_cast<V*>(p));
        }
    }

    template <class... Args>
    ref_t make_leaf(std::string_view s, Args&&... args) {
        const std::size_t n = leaf_units(s.size());
        const ref_t r = arena_.allocate(n);
        std::byte* p = arena_.ptr(r);
        if constexpr (boxed) {
            const std::size_t bn = slab_arena::units_for(sizeof(V));
            ref_t b = 0;
            try {
                b = arena_.allocate(bn);
            } catch (...) {
                arena_.deallocate(r, n);
                throw;
            }
            try {
                ::new (static_cast<void*>(arena_.ptr(b))) V(std::forward<Args>(args)...);
            } catch (...) {
                arena_.deallocate(b, bn);
                arena_.deallocate(r, n);
                throw;
            }
            std::memcpy(p, &b, sizeof b);
        } else {
            try {
                ::new (static_cast<void*>(p)) V(std::forward<Args>(args)...);
            } catch (...) {
                arena_.deallocate(r, n);
                throw;
            }
        }
        write_fresh_suffix(p, s);
        return r | leaf_tag;
    }

    void destroy_leaf(ref_t leaf) noexcept {
        MEMKV_ASSERT(is_leaf(leaf));
        std::byte* p = at(leaf);
        const std::size_t n = leaf_units(suffix_of(p).size());
        if constexpr (boxed) {
            ref_t b = 0;
            std::memcpy(&b, p, sizeof b);
            std::launder(reinterpret_cast<V*>(arena_.ptr(b)))->~V();
            arena_.deallocate(b, slab_arena::units_for(sizeof(V)));
        } else {
            std::launder(reinterpret_cast<V*>(p))->~V();
        }
        arena_.deallocate(untag(leaf), n);
    }

    // Moves leaf's value into the fresh block dst (leaf_units(s.size())
    // units), writes suffix s there and frees the old leaf. Never throws.
    ref_t move_leaf(ref_t leaf, ref_t dst, std::string_view s) noexcept {
        std::byte* p = at(leaf);
        std::byte* q = arena_.ptr(dst);
        const std::size_t old_n = leaf_units(suffix_of(p).size());
        if constexpr (boxed) {
            std::memcpy(q, p, sizeof(ref_t));
        } else {
            V* v = std::launder(reinterpret_cast<V*>(p));
            ::new (static_cast<void*>(q)) V(std::move(*v));
            v->~V();
        }
        write_suffix(q, s);
        arena_.deallocate(untag(leaf), old_n);
        return dst | leaf_tag;
    }

    // The leaf sank by `drop` levels and its block size stays the same:
    // drop the first bytes of its suffix in place.
    void shorten_leaf(ref_t leaf, std::size_t drop) noexcept {
        std::byte* p = at(leaf);
        const std::string_view s = suffix_of(p);
        MEMKV_ASSERT(drop <= s.size() && leaf_units(s.size()) == leaf_units(s.size() - drop));
        write_suffix(p, s.substr(drop));
    }

    // ---- inner nodes ------------------------------------------------------

    std::size_t gather(node_ref nd, unsigned char* bytes, ref_t* kids) const noexcept {
        if (!nd.full()) {
            std::memcpy(bytes, nd.keys(), nd.count());
            std::memcpy(kids, nd.refs(), nd.count() * sizeof(ref_t));
            return nd.count();
        }
        std::size_t n = 0;
        const ref_t* r = nd.refs();
        for (std::size_t b = 0; b < 256; ++b) {
            if (r[b] != 0) {
                bytes[n] = static_cast<unsigned char>(b);
                kids[n++] = r[b];
            }
        }
        return n;
    }

    static void write_node(std::byte* p, std::uint8_t kind, std::string_view prefix, bool term,
                           ref_t term_ref, const unsigned char* bytes, const ref_t* kids,
                           std::size_t n) noexcept {
        // Every node holds two entries or more; a linear node within its kind.
        MEMKV_ASSERT(n + (term ? 1 : 0) >= 2);
        MEMKV_ASSERT(kind == full_kind || n <= kind);
        auto* h = ::new (static_cast<void*>(p)) node_header{};
        h->kind = kind;
        h->flags = term ? has_terminal : 0;
        h->count = static_cast<std::uint16_t>(n);
        h->prefix_len = static_cast<std::uint32_t>(prefix.size());
        copy_bytes(h->prefix, ubytes(prefix), std::min(prefix.size(), inline_prefix));
        node_ref nd{p};
        if (kind == full_kind) {
            ref_t* r = nd.refs();
            std::memset(static_cast<void*>(r), 0, 256 * sizeof(ref_t));
            for (std::size_t i = 0; i < n; ++i) r[bytes[i]] = kids[i];
        } else {
            copy_bytes(nd.keys(), bytes, n);
            copy_bytes(reinterpret_cast<unsigned char*>(nd.refs()), reinterpret_cast<const unsigned char*>(kids),
                       n * sizeof(ref_t));
        }
        if (term) *nd.term() = term_ref;
        if (prefix.size() > inline_prefix) {
            std::memcpy(nd.prefix_tail(), prefix.data() + inline_prefix, prefix.size() - inline_prefix);
        }
    }

    ref_t alloc_node(std::uint8_t kind, bool term, std::size_t plen) {
        return arena_.allocate(slab_arena::units_for(node_bytes(kind, term, plen)));
    }

    void free_node(ref_t r) noexcept {
        if (r == jump_.node) jump_ = {};
        arena_.deallocate(r, node(r).units());
    }

    static std::string prefix_string(node_ref nd) {
        std::string s(nd.prefix_len(), '\0');
        nd.copy_prefix(reinterpret_cast<unsigned char*>(s.data()));
        return s;
    }

    // Drops the first `drop` prefix bytes of a node in place (it sank below a
    // new parent); only when its block size stays the same. Blocks are never
    // trimmed: a freed tail of one or two units would fit almost no later
    // request, and a churning tree would collect them without bound.
    void shorten_prefix(ref_t r, std::size_t drop) noexcept {
        if (r == jump_.node) jump_ = {};  // its depth changes
        node_ref nd = node(r);
        const std::size_t plen = nd.prefix_len();
        MEMKV_ASSERT(drop <= plen);
        const std::size_t nlen = plen - drop;
        MEMKV_ASSERT(slab_arena::units_for(node_bytes(nd.kind(), nd.terminal(), nlen)) == nd.units());
        // Shift the whole prefix left by `drop`, across the header/tail seam.
        for (std::size_t i = 0; i < nlen; ++i) {
            const unsigned char c = nd.prefix_at(i + drop);
            if (i < inline_prefix) {
                nd.h().prefix[i] = c;
            } else {
                nd.prefix_tail()[i - inline_prefix] = c;
            }
        }
        nd.h().prefix_len = static_cast<std::uint32_t>(nlen);
    }

    // Copy of node r with a new prefix (and without its terminal slot if
    // drop_terminal) into the fresh block dst; frees r.
    void relocate_node(ref_t r, ref_t dst, std::string_view prefix, bool drop_terminal = false) noexcept {
        const node_ref nd = node(r);
        unsigned char bytes[256];
        ref_t kids[256];
        const std::size_t n = gather(nd, bytes, kids);
        const bool term = nd.terminal() && !drop_terminal;
        write_node(arena_.ptr(dst), nd.kind(), prefix, term, term ? *nd.term() : 0, bytes, kids, n);
        free_node(r);
    }

    // ---- insertion --------------------------------------------------------

    // Inserts key with a value built from args unless the key is present.
    // Returns the key's leaf and whether it was inserted. Strong guarantee.
    template <class... Args>
    std::pair<ref_t, bool> emplace(std::string_view key, Args&&... args) {
        check_key_size(key.size());
        if (root_ == 0) {
            root_ = make_leaf(key, std::forward<Args>(args)...);
            inserted_one();
            return {root_, true};
        }
        if (jump_.node != 0) {
            if (jump_applies(key)) {
                if (jump_.score < jump_score_max) ++jump_.score;
                // 0: the insert would have to replace the jump node itself,
                // whose parent slot is unknown here; nothing was done yet.
                // Forwarding args twice is sound: a call that returns 0 has
                // not touched them.
                const auto res = emplace_from<false>(nullptr, jump_.node, jump_.depth, key, std::forward<Args>(args)...);
                if (res.first != 0) return res;
            } else if (jump_.score > -jump_score_max) {
                --jump_.score;
            }
        }
        if (jump_.score > 0) return emplace_from<false>(&root_, root_, 0, key, std::forward<Args>(args)...);
        return emplace_from<true>(&root_, root_, 0, key, std::forward<Args>(args)...);
    }

    // The descent of emplace from node or leaf r at `depth`, held in *slot.
    // slot is nullptr when the descent starts at the jump node: an insert
    // that would replace r itself then returns {0, false} before changing
    // anything (and before using args). Learn: remember the first full node
    // at depth >= jump_min_depth on the way as the new jump node.
    template <bool Learn, class... Args>
    std::pair<ref_t, bool> emplace_from(ref_t* slot, ref_t r, std::size_t depth, std::string_view key,
                                        Args&&... args) {
        const unsigned char* k = ubytes(key);
        [[maybe_unused]] bool learned = false;
        for (;;) {
            if (is_leaf(r)) {
                const std::string_view s = suffix(r);
                const std::string_view rest = key.substr(depth);
                const std::size_t c = static_cast<std::size_t>(
                    std::mismatch(s.begin(), s.end(), rest.begin(), rest.end()).first - s.begin());
                if (c == s.size() && c == rest.size()) return {r, false};
                // A node at `depth` with prefix rest[0, c) takes both leaves.
                const bool new_term = c == rest.size();
                const bool old_term = c == s.size();
                // The old leaf keeps its block if its size class does not
                // change, else it moves to a right-sized one (allocated first).
                const std::size_t drop = old_term ? c : c + 1;
                const bool in_place = leaf_units(s.size()) == leaf_units(s.size() - drop);
                const ref_t moved_to = in_place ? 0 : arena_.allocate(leaf_units(s.size() - drop));
                ref_t nl = 0;
                ref_t n = 0;
                try {
                    nl = make_leaf(new_term ? std::string_view{} : rest.substr(c + 1), std::forward<Args>(args)...);
                    n = alloc_node(3, new_term || old_term, c);
                } catch (...) {
                    if (nl != 0) destroy_leaf(nl);
                    if (moved_to != 0) arena_.deallocate(moved_to, leaf_units(s.size() - drop));
                    throw;
                }
                const ref_t old_leaf = in_place ? r : (moved_to | leaf_tag);
                unsigned char bytes[2];
                ref_t kids[2];
                std::size_t cnt = 0;
                ref_t term = 0;
                if (new_term) {
                    term = nl;
                    bytes[0] = static_cast<unsigned char>(s[c]);
                    kids[0] = old_leaf;
                    cnt = 1;
                } else if (old_term) {
                    term = old_leaf;
                    bytes[0] = k[depth + c];
                    kids[0] = nl;
                    cnt = 1;
                } else {
                    cnt = two_children(static_cast<unsigned char>(s[c]), old_leaf, k[depth + c], nl, bytes, kids);
                }
                write_node(arena_.ptr(n), 3, rest.substr(0, c), new_term || old_term, term, bytes,
                           kids, cnt);
                if (in_place) {
                    shorten_leaf(r, drop);
                } else {
                    move_leaf(r, moved_to, s.substr(drop));
                }
                *slot = n;
                inserted_one();
                return {nl, true};
            }
            node_ref nd = node(r);
            nd.prefetch_second_line();
            const std::size_t plen = nd.prefix_len();
            const std::size_t avail = key.size() - depth;
            const std::size_t m = nd.match_prefix(k + depth, avail);
            if (m < plen) {
                if (slot == nullptr) return {0, false};
                // The key leaves the prefix after m bytes: a new node with
                // prefix prefix[0, m) takes this node and the new leaf.
                const bool new_term = m == avail;
                const unsigned char ob = nd.prefix_at(m);
                const std::size_t old_units = nd.units();
                const std::size_t new_units =
                    slab_arena::units_for(node_bytes(nd.kind(), nd.terminal(), plen - (m + 1)));
                const bool in_place = old_units == new_units;
                std::string rest_prefix;
                if (!in_place) rest_prefix = prefix_string(nd).substr(m + 1);
                const ref_t moved_to = in_place ? 0 : arena_.allocate(new_units);
                ref_t nl = 0;
                ref_t n = 0;
                try {
                    nl = make_leaf(new_term ? std::string_view{} : key.substr(depth + m + 1),
                                   std::forward<Args>(args)...);
                    n = alloc_node(3, new_term, m);
                } catch (...) {
                    if (nl != 0) destroy_leaf(nl);
                    if (moved_to != 0) arena_.deallocate(moved_to, new_units);
                    throw;
                }
                const ref_t old_node = in_place ? r : moved_to;
                unsigned char bytes[2];
                ref_t kids[2];
                std::size_t cnt = 0;
                if (new_term) {
                    bytes[0] = ob;
                    kids[0] = old_node;
                    cnt = 1;
                } else {
                    cnt = two_children(ob, old_node, k[depth + m], nl, bytes, kids);
                }
                write_node(arena_.ptr(n), 3, key.substr(depth, m), new_term, new_term ? nl : 0, bytes,
                           kids, cnt);
                if (in_place) {
                    shorten_prefix(r, m + 1);
                } else {
                    relocate_node(r, moved_to, rest_prefix);
                }
                *slot = n;
                inserted_one();
                return {nl, true};
            }
            const std::size_t node_depth = depth;
            depth += plen;
            if (depth == key.size()) {
                if (nd.terminal()) return {*nd.term(), false};
                if (slot == nullptr) return {0, false};
                const ref_t nl = make_leaf(std::string_view{}, std::forward<Args>(args)...);
                replace_adding_leaf(slot, r, nl, nd.kind(), true, nl, nullptr);
                inserted_one();
                return {nl, true};
            }
            const unsigned char b = k[depth];
            if (ref_t* cs = nd.find_child(b)) {
                if constexpr (Learn) {
                    // The descent goes on below r, so nothing here changes r.
                    if (!learned && nd.full() && node_depth >= jump_min_depth && node_depth <= jump_max_depth) {
                        set_jump(r, key.substr(0, node_depth));
                        learned = true;
                    }
                }
                slot = cs;
                r = *cs;
                ++depth;
                continue;
            }
            // (A start at the jump node, slot == nullptr, never gets here
            // with a node to grow: the jump node is full.)
            const ref_t nl = make_leaf(key.substr(depth + 1), std::forward<Args>(args)...);
            if (nd.full() || nd.count() < nd.kind()) {
                add_child(nd, b, nl);
            } else {
                const std::pair<unsigned char, ref_t> extra{b, nl};
                replace_adding_leaf(slot, r, nl, next_kind(nd.kind()), nd.terminal(),
                                    nd.terminal() ? *nd.term() : 0, &extra);
            }
            inserted_one();
            return {nl, true};
        }
    }

    // The children of a fresh node that splits an old entry (byte ob) from
    // a new leaf (byte nb), in byte order; returns their number.
    static std::size_t two_children(unsigned char ob, ref_t old, unsigned char nb, ref_t nl, unsigned char* bytes,
                                    ref_t* kids) noexcept {
        const bool old_first = ob < nb;
        bytes[0] = old_first ? ob : nb;
        kids[0] = old_first ? old : nl;
        bytes[1] = old_first ? nb : ob;
        kids[1] = old_first ? nl : old;
        return 2;
    }

    static void add_child(node_ref nd, unsigned char b, ref_t child) noexcept {
        MEMKV_ASSERT(nd.full() ? nd.refs()[b] == 0 : nd.count() < nd.kind());
        if (nd.full()) {
            nd.refs()[b] = child;
        } else {
            const std::size_t n = nd.count();
            unsigned char* keys = nd.keys();
            ref_t* refs = nd.refs();
            std::size_t i = n;
            while (i > 0 && keys[i - 1] > b) {
                keys[i] = keys[i - 1];
                refs[i] = refs[i - 1];
                --i;
            }
            keys[i] = b;
            refs[i] = child;
        }
        ++nd.h().count;
    }

    // Replaces node r (held in *slot) by a rebuilt copy that also holds the new
    // leaf nl. If the rebuild throws, nl is destroyed and the tree is unchanged
    // (the strong guarantee of insert).
    void replace_adding_leaf(ref_t* slot, ref_t r, ref_t nl, std::uint8_t kind, bool term,
                             ref_t term_ref, const std::pair<unsigned char, ref_t>* extra) {
        ref_t n = 0;
        try {
            n = rebuild(r, kind, term, term_ref, extra);
        } catch (...) {
            destroy_leaf(nl);
            throw;
        }
        free_node(r);
        *slot = n;
    }

    // A copy of node r with another kind and terminal, optionally one more
    // child. The caller frees r.
    ref_t rebuild(ref_t r, std::uint8_t kind, bool term, ref_t term_ref,
                  const std::pair<unsigned char, ref_t>* extra) {
        node_ref nd = node(r);
        unsigned char bytes[257];
        ref_t kids[257];
        std::size_t n = gather(nd, bytes, kids);
        if (extra != nullptr) {
            std::size_t i = n;
            while (i > 0 && bytes[i - 1] > extra->first) {
                bytes[i] = bytes[i - 1];
                kids[i] = kids[i - 1];
                --i;
            }
            bytes[i] = extra->first;
            kids[i] = extra->second;
            ++n;
        }
        // Short prefixes (nearly all) go through a stack buffer, not a heap string.
        unsigned char small[64];
        std::string big;
        const std::size_t plen = nd.prefix_len();
        unsigned char* pb = small;
        if (plen > sizeof small) {
            big.resize(plen);
            pb = reinterpret_cast<unsigned char*>(big.data());
        }
        nd.copy_prefix(pb);
        const std::string_view prefix(reinterpret_cast<const char*>(pb), plen);
        const ref_t out = alloc_node(kind, term, plen);
        write_node(arena_.ptr(out), kind, prefix, term, term_ref, bytes, kids, n);
        return out;
    }

    // ---- lookup -----------------------------------------------------------

    ref_t find(std::string_view key) const noexcept {
        if (jump_.node != 0 && jump_applies(key)) return find_from(jump_.node, jump_.depth, key);
        return find_from(root_, 0, key);
    }

    // The lookup from r, which holds every key whose first `depth` bytes
    // are key's (the root, or the jump node).
    ref_t find_from(ref_t r, std::size_t depth, std::string_view key) const noexcept {
        const unsigned char* k = ubytes(key);
        const std::size_t len = key.size();
        while (r != 0) {
            if (is_leaf(r)) {
                const std::string_view s = suffix(r);
                if (s.size() == len - depth && equal_bytes(ubytes(s), k + depth, s.size())) return r;
                return 0;
            }
            const node_ref nd = node(r);
            nd.prefetch_second_line();
            const std::size_t plen = nd.prefix_len();
            if (nd.match_prefix(k + depth, len - depth) != plen) return 0;
            depth += plen;
            if (depth == len) return nd.terminal() ? *nd.term() : 0;
            const ref_t* cs = nd.find_child(k[depth]);
            if (cs == nullptr) return 0;
            r = *cs;
            ++depth;
        }
        return 0;
    }

    // Length of the longest stored key that is a prefix of key, or npos.
    std::size_t longest_prefix(std::string_view key) const noexcept {
        const unsigned char* k = ubytes(key);
        std::size_t best = std::string_view::npos;
        ref_t r = root_;
        std::size_t depth = 0;
        while (r != 0) {
            if (is_leaf(r)) {
                const std::string_view s = suffix(r);
                if (key.size() - depth >= s.size() && std::memcmp(s.data(), k + depth, s.size()) == 0) {
                    best = depth + s.size();
                }
                break;
            }
            const node_ref nd = node(r);
            const std::size_t plen = nd.prefix_len();
            if (nd.match_prefix(k + depth, key.size() - depth) != plen) break;
            depth += plen;
            if (nd.terminal()) best = depth;
            if (depth == key.size()) break;
            const ref_t* cs = nd.find_child(k[depth]);
            if (cs == nullptr) break;
            r = *cs;
            ++depth;
        }
        return best;
    }

    // ---- erasure ----------------------------------------------------------

    // Removes key; returns 1 if it was present. Strong guarantee: the only
    // possible exception is std::bad_alloc when a node must be re-compressed
    // with its last child, and then nothing has changed.
    std::size_t erase(std::string_view key) {
        if (root_ == 0) return 0;
        const unsigned char* k = ubytes(key);
        ref_t* slot = &root_;
        ref_t* pslot = nullptr;  // the slot holding the parent node
        std::size_t depth = 0;
        for (;;) {
            const ref_t r = *slot;
            if (is_leaf(r)) {
                const std::string_view s = suffix(r);
                if (s.size() != key.size() - depth || std::memcmp(s.data(), k + depth, s.size()) != 0) return 0;
                break;
            }
            const node_ref nd = node(r);
            const std::size_t plen = nd.prefix_len();
            if (nd.match_prefix(k + depth, key.size() - depth) != plen) return 0;
            depth += plen;
            pslot = slot;
            if (depth == key.size()) {
                if (!nd.terminal()) return 0;
                slot = nd.term();
                continue;
            }
            ref_t* cs = nd.find_child(k[depth]);
            if (cs == nullptr) return 0;
            slot = cs;
            ++depth;
        }
        const ref_t leaf = *slot;
        MEMKV_ASSERT(is_leaf(leaf));
        if (pslot == nullptr) {
            clear();
            return 1;
        }
        const ref_t pr = *pslot;
        node_ref nd = node(pr);
        const bool removing_term = slot == nd.term();
        const std::size_t cnt_after = nd.count() - (removing_term ? 0 : 1);
        const bool term_after = nd.terminal() && !removing_term;
        if (cnt_after + (term_after ? 1 : 0) >= 2) {
            if (removing_term && nd.units() != slab_arena::units_for(node_bytes(nd.kind(), false, nd.prefix_len()))) {
                // Without its terminal slot the node needs fewer units: move
                // it (allocation first, so a failure changes nothing).
                const std::string prefix = prefix_string(nd);
                const ref_t dst = alloc_node(nd.kind(), false, prefix.size());
                relocate_node(pr, dst, prefix, true);
                *pslot = dst;
                destroy_leaf(leaf);
                erased(1);
                maybe_shrink(pslot);
                return 1;
            }
            remove_in_place(nd, slot, removing_term);
            destroy_leaf(leaf);
            erased(1);
            maybe_shrink(pslot);
            return 1;
        }
        merge_into_survivor(pslot, leaf, removing_term, [&]() noexcept { destroy_leaf(leaf); });
        erased(1);
        return 1;
    }

    // The node held in *pslot keeps a single entry once `removed` (one of
    // its children, or its terminal) goes: that entry takes the node's
    // place, absorbing the node's prefix (and its branch byte) into its own
    // suffix or prefix. The one allocation comes first; if it throws,
    // nothing has changed. Then destroy() (noexcept) disposes of `removed`.
    template <class Destroy>
    void merge_into_survivor(ref_t* pslot, ref_t removed, bool removed_is_term, Destroy&& destroy) {
        const ref_t pr = *pslot;
        const node_ref nd = node(pr);
        MEMKV_ASSERT(nd.count() + (nd.terminal() ? 1 : 0) == 2);
        ref_t survivor = 0;
        int branch = -1;
        if (nd.terminal() && !removed_is_term) {
            survivor = *nd.term();
        } else {
            unsigned char bytes[256];
            ref_t kids[256];
            const std::size_t n = gather(nd, bytes, kids);
            for (std::size_t i = 0; i < n; ++i) {
                if (kids[i] != removed) {
                    survivor = kids[i];
                    branch = bytes[i];
                }
            }
        }
        std::string merged = prefix_string(nd);
        if (branch >= 0) merged.push_back(static_cast<char>(branch));
        ref_t replacement = 0;
        if (is_leaf(survivor)) {
            merged.append(suffix(survivor));
            check_key_size(merged.size());
            const ref_t dst = arena_.allocate(leaf_units(merged.size()));  // may throw: nothing changed
            destroy();
            replacement = move_leaf(survivor, dst, merged);
        } else {
            const node_ref sn = node(survivor);
            merged += prefix_string(sn);
            const ref_t dst = alloc_node(sn.kind(), sn.terminal(), merged.size());  // may throw
            destroy();
            relocate_node(survivor, dst, merged);
            replacement = dst;
        }
        free_node(pr);
        *pslot = replacement;
    }

    // Erases every key starting with p in one piece: one descent to the
    // subtree that holds them all, a pass that counts it, a pass that frees
    // it, and one unlink. Strong guarantee: what may throw (the counting
    // stack, a merge's allocation) comes before anything is freed.
    std::size_t erase_prefix(std::string_view p) {
        const prefix_place at = locate_prefix(p);
        if (at.slot == nullptr) return 0;
        // The one mutating caller of the const search: the slots are this
        // tree's own.
        ref_t* const slot = const_cast<ref_t*>(at.slot);
        ref_t* const pslot = const_cast<ref_t*>(at.parent);
        const ref_t target = *slot;
        std::vector<ref_t> stack;
        std::size_t peak = 0;
        std::size_t n = 0;
        visit_subtree(target, stack, peak, [&n](ref_t) noexcept { ++n; }, [](ref_t) noexcept {});
        if (pslot == nullptr) {
            clear();
            return n;
        }
        stack.reserve(peak);  // the freeing pass below never allocates
        auto destroy = [&]() noexcept {
            std::size_t unused = 0;
            visit_subtree(target, stack, unused, [this](ref_t l) noexcept { destroy_leaf(l); },
                          [this](ref_t r) noexcept { free_node(r); });
        };
        node_ref pn = node(*pslot);
        if (pn.count() - 1 + (pn.terminal() ? 1 : 0) >= 2) {
            destroy();
            remove_in_place(pn, slot, false);
            erased(n);
            maybe_shrink(pslot);
        } else {
            merge_into_survivor(pslot, target, false, destroy);
            erased(n);
        }
        return n;
    }

    // Depth-first over the subtree r: on_leaf(leaf) for each leaf,
    // on_node(node) for each inner node after its entries were pushed (so it
    // may free the node). peak: the stack's largest size. With stack's
    // capacity at least the peak of an earlier visit of the same subtree,
    // nothing allocates.
    template <class OnLeaf, class OnNode>
    void visit_subtree(ref_t r, std::vector<ref_t>& stack, std::size_t& peak, OnLeaf&& on_leaf,
                       OnNode&& on_node) const {
        stack.clear();
        stack.push_back(r);
        peak = std::max(peak, stack.size());
        while (!stack.empty()) {
            const ref_t x = stack.back();
            stack.pop_back();
            if (is_leaf(x)) {
                on_leaf(x);
                continue;
            }
            const node_ref nd = node(x);
            if (nd.terminal()) stack.push_back(*nd.term());
            const ref_t* refs = nd.refs();
            const std::size_t slots = nd.full() ? 256 : nd.count();
            for (std::size_t i = 0; i < slots; ++i) {
                if (refs[i] != 0) stack.push_back(refs[i]);
            }
            peak = std::max(peak, stack.size());
            on_node(x);
        }
    }

    // Removes a child or the terminal; the node's unit count must not change.
    static void remove_in_place(node_ref nd, ref_t* slot, bool removing_term) noexcept {
        MEMKV_ASSERT(removing_term ? nd.terminal() : nd.count() > 0);
        if (removing_term) {
            // The prefix tail sits after the terminal slot: close the gap.
            const std::size_t plen = nd.prefix_len();
            if (plen > inline_prefix) {
                unsigned char* tail = nd.prefix_tail();
                std::memmove(tail - sizeof(ref_t), tail, plen - inline_prefix);
            }
            nd.h().flags = static_cast<std::uint8_t>(nd.h().flags & ~has_terminal);
            return;
        }
        if (nd.full()) {
            *slot = 0;
        } else {
            const std::size_t i = static_cast<std::size_t>(slot - nd.refs());
            const std::size_t n = nd.count();
            std::memmove(nd.keys() + i, nd.keys() + i + 1, n - i - 1);
            std::memmove(nd.refs() + i, nd.refs() + i + 1, (n - i - 1) * sizeof(ref_t));
        }
        --nd.h().count;
    }

    // After an erase, move a sparse node to a smaller kind. Best effort: if
    // the allocation fails the node simply stays larger than needed.
    void maybe_shrink(ref_t* pslot) noexcept {
        const ref_t r = *pslot;
        node_ref nd = node(r);
        const std::uint8_t k2 = shrunk_kind(nd.kind(), nd.count());
        if (k2 == nd.kind()) return;
        try {
            const ref_t n = rebuild(r, k2, nd.terminal(), nd.terminal() ? *nd.term() : 0, nullptr);
            free_node(r);
            *pslot = n;
        } catch (...) {
        }
    }

    // ---- ordered positions ------------------------------------------------

    void descend_first(cursor& c, ref_t r) const { descend_edge<false>(c, r); }
    void descend_last(cursor& c, ref_t r) const { descend_edge<true>(c, r); }

    // Walks from r to its smallest (Last = false) or largest leaf, recording
    // the path in c.
    template <bool Last>
    void descend_edge(cursor& c, ref_t r) const {
        while (!is_leaf(r)) {
            const node_ref nd = node(r);
            const int pos = Last ? nd.last_pos() : nd.first_pos();
            c.stack.push_back({r, pos, c.path.size()});
            append_prefix(c.path, nd);
            if (pos >= 0) c.path.push_back(static_cast<char>(nd.byte_at(pos)));
            r = nd.child_at(pos);
        }
        c.leaf = r;
    }

    static void append_prefix(std::string& path, node_ref nd) {
        const std::size_t old = path.size();
        path.resize(old + nd.prefix_len());
        nd.copy_prefix(reinterpret_cast<unsigned char*>(path.data() + old));
    }

    void first(cursor& c) const {
        c.reset();
        if (root_ != 0) descend_first(c, root_);
    }
    void last(cursor& c) const {
        c.reset();
        if (root_ != 0) descend_last(c, root_);
    }

    // Moves to the first leaf after the subtree at the top frame's position.
    void advance(cursor& c) const {
        while (!c.stack.empty()) {
            frame& f = c.stack.back();
            const node_ref nd = node(f.node);
            const int p = nd.next_pos(f.pos);
            if (p != node_ref::none) {
                f.pos = p;
                c.path.resize(f.depth + nd.prefix_len());
                c.path.push_back(static_cast<char>(nd.byte_at(p)));
                descend_first(c, nd.child_at(p));
                return;
            }
            c.path.resize(f.depth);
            c.stack.pop_back();
        }
        c.reset();
    }

    void retreat(cursor& c) const {
        if (c.leaf == 0) {
            last(c);
            return;
        }
        while (!c.stack.empty()) {
            frame& f = c.stack.back();
            const node_ref nd = node(f.node);
            const int p = nd.prev_pos(f.pos);
            if (p != node_ref::none) {
                f.pos = p;
                c.path.resize(f.depth + nd.prefix_len());
                if (p >= 0) c.path.push_back(static_cast<char>(nd.byte_at(p)));
                descend_last(c, nd.child_at(p));
                return;
            }
            c.path.resize(f.depth);
            c.stack.pop_back();
        }
        // Stepped before the first element: wrap to end (undefined for
        // standard iterators; end is the safest place to land).
        c.reset();
    }

    // Positions c at the first key >= key.
    void lower_bound(cursor& c, std::string_view key) const {
        c.reset();
        if (root_ == 0) return;
        const unsigned char* k = ubytes(key);
        ref_t r = root_;
        std::size_t depth = 0;
        for (;;) {
            if (is_leaf(r)) {
                c.leaf = r;
                if (suffix(r) < key.substr(depth)) advance(c);
                return;
            }
            const node_ref nd = node(r);
            const std::size_t plen = nd.prefix_len();
            const std::size_t avail = key.size() - depth;
            const std::size_t m = nd.match_prefix(k + depth, avail);
            if (m < plen) {
                // Key ran out inside the prefix, or the prefix is larger at m:
                // the whole subtree is >= key. Otherwise it is all < key.
                if (m == avail || nd.prefix_at(m) > k[depth + m]) {
                    descend_first(c, r);
                } else {
                    advance(c);
                }
                return;
            }
            if (depth + plen == key.size()) {
                descend_first(c, r);
                return;
            }
            const unsigned char b = k[depth + plen];
            const int pos = nd.lower_child_pos(b);
            c.stack.push_back({r, pos, depth});
            append_prefix(c.path, nd);
            if (pos == node_ref::none) {
                // Everything here is < key; leave past the last child.
                c.stack.back().pos = nd.full() ? 255 : static_cast<int>(nd.count()) - 1;
                advance(c);
                return;
            }
            const unsigned char pb = nd.byte_at(pos);
            c.path.push_back(static_cast<char>(pb));
            if (pb > b) {
                descend_first(c, nd.child_at(pos));
                return;
            }
            r = nd.child_at(pos);
            depth += plen + 1;
        }
    }

    // ---- whole-tree walks -------------------------------------------------

    void prefetch_children(ref_t r) const noexcept {
        const node_ref nd = node(r);
        const ref_t* refs = nd.refs();
        if (nd.full()) {
            for (std::size_t b = 0; b < 256; ++b) {
                if (refs[b] != 0) prefetch(refs[b]);
            }
        } else {
            for (std::size_t i = 0; i < nd.count(); ++i) prefetch(refs[i]);
        }
    }

    // Calls f(std::string_view key, ref_t leaf) for every leaf in key order.
    // Depth-first over an explicit stack of pending entries (no recursion: a
    // tree of long keys can be as deep as its longest key). An entry carries
    // the key length above it, so the one key buffer is never copied: an
    // entry writes only at or past its own length, and every entry still on
    // the stack shares the bytes before its length with the current one.
    // Children are prefetched when pushed; the walk is bound by memory
    // latency, and the stack order puts many independent loads in flight.
    template <class F>
    void walk(F&& f) const {
        walk_from(root_, std::string_view{}, f);
    }

    // Calls f(key, leaf) for every key starting with p, in key order: one
    // descent to the subtree that holds them, then a walk of that subtree.
    template <class F>
    void walk_prefix(std::string_view p, F&& f) const {
        const prefix_place at = locate_prefix(p);
        if (at.slot != nullptr) walk_from(*at.slot, p.substr(0, at.depth), f);
    }

    // Where the keys starting with p are: slot holds the subtree that has
    // exactly them (nullptr if there are none), parent the slot of the node
    // above it (nullptr at the root), depth the key bytes above slot (those
    // of p). One descent along p.
    struct prefix_place {
        const ref_t* slot = nullptr;
        const ref_t* parent = nullptr;
        std::size_t depth = 0;
    };
    prefix_place locate_prefix(std::string_view p) const noexcept {
        if (root_ == 0) return {};
        const unsigned char* k = ubytes(p);
        prefix_place at{&root_, nullptr, 0};
        while (at.depth < p.size()) {
            const ref_t r = *at.slot;
            if (is_leaf(r)) {
                if (suffix(r).substr(0, p.size() - at.depth) != p.substr(at.depth)) return {};
                break;
            }
            const node_ref nd = node(r);
            const std::size_t plen = nd.prefix_len();
            const std::size_t avail = p.size() - at.depth;
            const std::size_t m = nd.match_prefix(k + at.depth, avail);
            if (m < plen && m < avail) return {};
            if (avail <= plen) break;  // p ends inside or right after the prefix
            const ref_t* cs = nd.find_child(k[at.depth + plen]);
            if (cs == nullptr) return {};
            at.parent = at.slot;
            at.slot = cs;
            at.depth += plen + 1;
        }
        return at;
    }

    // The walk of the subtree r whose key bytes above it are base.
    template <class F>
    void walk_from(ref_t start, std::string_view base, F& f) const {
        if (start == 0) return;
        struct item {
            ref_t r;
            int byte;  // branch byte to write at len, -1 for none
            std::size_t len;
        };
        std::vector<item> todo;
        todo.reserve(64);
        todo.push_back({start, -1, base.size()});
        std::string buf(std::max<std::size_t>(256, 2 * base.size()), '\0');
        copy_bytes(reinterpret_cast<unsigned char*>(buf.data()), ubytes(base), base.size());
        while (!todo.empty()) {
            const item it = todo.back();
            todo.pop_back();
            // A node's first entries are popped right after the node is
            // expanded (the second one at once if the first is a leaf), so
            // their push-time prefetches have no time to land. Start them
            // earlier: the entry two pops ahead, if a node, was prefetched
            // when pushed and has likely arrived; fetch its first two entries
            // now (count + terminal >= 2 makes both exist). One pop ahead
            // reads a node still in flight and stalls on it. Full nodes are
            // rare and would need a scan; skipped.
            if (todo.size() >= 2) {
                const ref_t a = todo[todo.size() - 2].r;
                if (!is_leaf(a)) {
                    const node_ref an = node(a);
                    if (!an.full()) {
                        if (an.terminal()) {
                            prefetch_block(*an.term());
                        } else {
                            prefetch_block(an.refs()[1]);
                        }
                        prefetch_block(an.refs()[0]);
                    }
                }
            }
            std::size_t len = it.len;
            if (it.byte >= 0) buf[len++] = static_cast<char>(it.byte);
            if (is_leaf(it.r)) {
                const std::string_view s = suffix(it.r);
                if (buf.size() < len + s.size()) buf.resize(2 * (len + s.size()));
                copy_bytes(reinterpret_cast<unsigned char*>(buf.data() + len), ubytes(s), s.size());
                f(std::string_view(buf.data(), len + s.size()), it.r);
                continue;
            }
            const node_ref nd = node(it.r);
            const std::size_t plen = nd.prefix_len();
            // +1: room for the branch byte of a child.
            if (buf.size() < len + plen + 1) buf.resize(2 * (len + plen + 1));
            nd.copy_prefix(reinterpret_cast<unsigned char*>(buf.data() + len));
            len += plen;
            const ref_t* refs = nd.refs();
            if (nd.full()) {
                for (int b = 255; b >= 0; --b) {
                    if (refs[b] != 0) {
                        prefetch_block(refs[b]);
                        todo.push_back({refs[b], b, len});
                    }
                }
            } else {
                const unsigned char* keys = nd.keys();
                for (std::size_t i = nd.count(); i-- > 0;) {
                    prefetch_block(refs[i]);
                    todo.push_back({refs[i], keys[i], len});
                }
            }
            if (nd.terminal()) todo.push_back({*nd.term(), -1, len});
        }
    }

    // Calls f(ref_t leaf) for every leaf, in no particular order.
    template <class F>
    void for_each_leaf(F&& f) const {
        if (root_ == 0) return;
        std::vector<ref_t> stack;
        std::size_t peak = 0;
        visit_subtree(root_, stack, peak, f, [](ref_t) noexcept {});
    }

    void destroy_values() noexcept {
        if constexpr (!std::is_trivially_destructible_v<V>) {
            // The walk's small vector may fail to allocate; values are then
            // leaked rather than the process terminated.
            try {
                for_each_leaf([this](ref_t l) { value(l).~V(); });
            } catch (...) {
            }
        }
    }

    // Throws std::logic_error naming the first broken invariant.
    void verify() const {
        auto fail = [](const char* what) { throw std::logic_error(std::string("FastArt::verify: ") + what); };
        if ((root_ == 0) != (size_ == 0)) fail("root and size disagree");
        if (root_ == 0) return;
        std::size_t leaves = 0;
        struct item {
            ref_t r;
            bool terminal;
        };
        std::vector<item> todo{{root_, false}};
        while (!todo.empty()) {
            const item it = todo.back();
            todo.pop_back();
            if (!arena_.plausible(untag(it.r))) fail("reference outside the arena");
            if (is_leaf(it.r)) {
                ++leaves;
                if (it.terminal && !suffix(it.r).empty()) fail("terminal leaf with a suffix");
                continue;
            }
            if (it.terminal) fail("terminal slot holds an inner node");
            const node_ref nd = node(it.r);
            const std::uint8_t kind = nd.kind();
            const bool known = kind == full_kind ||
                               std::find(std::begin(linear_caps), std::end(linear_caps), kind) !=
                                   std::end(linear_caps);
            if (!known) fail("unknown node kind");
            if ((nd.h().flags & ~has_terminal) != 0) fail("unknown node flags");
            if (nd.count() + (nd.terminal() ? 1 : 0) < 2) fail("node with fewer than two entries");
            if (nd.terminal()) todo.push_back({*nd.term(), true});
            if (kind == full_kind) {
                std::size_t n = 0;
                for (std::size_t b = 0; b < 256; ++b) {
                    if (nd.refs()[b] != 0) {
                        ++n;
                        todo.push_back({nd.refs()[b], false});
                    }
                }
                if (n != nd.count()) fail("full node count mismatch");
            } else {
                if (nd.count() > kind) fail("linear node over capacity");
                for (std::size_t i = 0; i < nd.count(); ++i) {
                    if (i > 0 && nd.keys()[i - 1] >= nd.keys()[i]) fail("linear keys not increasing");
                    if (nd.refs()[i] == 0) fail("null child in a linear node");
                    todo.push_back({nd.refs()[i], false});
                }
            }
        }
        if (leaves != size_) fail("leaf count differs from size()");
        if (jump_.node != 0) {
            // The plain descent along the jump's path must arrive at the
            // jump node exactly at its depth.
            ref_t r = root_;
            std::size_t depth = 0;
            while (depth < jump_.depth) {
                if (is_leaf(r)) fail("jump path ends in a leaf");
                const node_ref nd = node(r);
                const std::size_t plen = nd.prefix_len();
                if (nd.match_prefix(jump_.path + depth, jump_.depth - depth) != plen || depth + plen >= jump_.depth) {
                    fail("jump path leaves the tree");
                }
                depth += plen;
                const ref_t* cs = nd.find_child(jump_.path[depth]);
                if (cs == nullptr) fail("jump path leaves the tree");
                r = *cs;
                ++depth;
            }
            if (r != jump_.node || is_leaf(r) || !node(r).full()) fail("jump node is not where its path leads");
        }
    }

private:
    // Every change of size goes through these two, so the debug generation
    // counts every successful insert and erase.
    void inserted_one() noexcept {
        ++size_;
        modified();
    }
    void erased(std::size_t n) noexcept {
        MEMKV_ASSERT(n >= 1 && n <= size_);
        size_ -= n;
        modified();
    }
    void modified() noexcept {
#if MEMKV_DEBUG_ITERATORS
        ++gen_;
#endif
    }

    // ---- the jump -----------------------------------------------------------
    //
    // Real key sets often share one long path that the trie still spells a
    // byte per level, because a long tail of other keys branches off at every
    // byte: 98% of the URL set starts with "https://github.com/", and the
    // other 2% (gitlab, gist, typos, ...) put 13 nodes on those 19 bytes.
    // Every descent pays those levels. The jump remembers one full node
    // below such a path with the path's bytes; a lookup or insert whose key
    // starts with them starts there. It is learnt by inserts (never by
    // const calls, so concurrent readers stay read-only): the first full
    // node at depth jump_min_depth..jump_max_depth on an insert's way down.
    // A score counts inserts that matched minus those that did not; when it
    // drops to 0 the next insert that finds a candidate replaces it.
    //
    // Invariant: node is 0, or a live inner node whose path from the root is
    // exactly path[0, depth) -- so every key starting with those bytes lies
    // below it. Frees of the node and in-place prefix edits (the only ways
    // its path or depth can change: a split or merge above it leaves its
    // path alone) reset the jump. verify() checks it.
    static constexpr std::size_t jump_min_depth = 8;
    static constexpr std::size_t jump_max_depth = 56;
    static constexpr std::int32_t jump_score_start = 8;
    static constexpr std::int32_t jump_score_max = 64;

    struct jump_state {
        ref_t node = 0;
        std::uint32_t depth = 0;
        std::int32_t score = 0;
        unsigned char path[jump_max_depth] = {};
    };

    bool jump_applies(std::string_view key) const noexcept {
        return key.size() >= jump_.depth && equal_bytes(ubytes(key), jump_.path, jump_.depth);
    }

    void set_jump(ref_t r, std::string_view path) noexcept {
        jump_.node = r;
        jump_.depth = static_cast<std::uint32_t>(path.size());
        jump_.score = jump_score_start;
        copy_bytes(jump_.path, ubytes(path), path.size());
    }

    slab_arena arena_;
    ref_t root_ = 0;
    std::size_t size_ = 0;
    jump_state jump_;
#if MEMKV_DEBUG_ITERATORS
    std::uint64_t gen_ = 0;
#endif
};

}  // namespace memkv::detail::art
