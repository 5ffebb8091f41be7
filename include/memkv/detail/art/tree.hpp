#pragma once

// FastArt's engine: insertion, lookup, erasure, ordered seeks and the
// invariant checker over the layouts of node.hpp. The public facade is
// memkv/fast_art.hpp.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
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
#include <memkv/detail/common_prefix.hpp>

namespace memkv::detail::art {

// Key lengths are stored in 32 bits.
inline constexpr std::size_t max_key_size = 0xFFFF'FFFFu;

// A block's full address: its zone and its (tagged) zone-local reference,
// zone << 32 | ref. What leaves the engine (the leaf of a lookup, an
// iterator's position) is a loc; 0 is none.
using loc_t = std::uint64_t;
inline constexpr loc_t make_loc(unsigned zone, ref_t r) noexcept { return (loc_t{zone} << 32) | r; }
inline constexpr unsigned zone_of(loc_t l) noexcept { return static_cast<unsigned>(l >> 32); }
inline constexpr ref_t ref_of(loc_t l) noexcept { return static_cast<ref_t>(l); }

// Thrown (inside the engine only) when a zone has no room for a block; the
// operation is undone and retried after tree::rezone(holder).
struct zone_full {
    std::byte* holder;  // the node whose child zone is full, nullptr: the root's zone
};

// Where a new block goes: the zone, and the node that holds the slot (whose
// child zone it is; nullptr for the root slot), which a zone_full names.
struct place {
    std::byte* holder;
    unsigned zone;
};

inline void check_key_size(std::size_t n) {
    if (n > max_key_size) throw std::length_error("memkv::FastArt: key longer than 2^32-1 bytes");
}

inline const unsigned char* ubytes(std::string_view s) noexcept {
    return reinterpret_cast<const unsigned char*>(s.data());
}
// s past its first n bytes, and its first n bytes, for n <= s.size():
// string_view::substr's range test (and its throw) is a call g++ 12 leaves
// out of line in the insert path, 15 instructions an insert of a binary key.
inline std::string_view drop_front(std::string_view s, std::size_t n) noexcept {
    MEMKV_ASSERT(n <= s.size());
    return {s.data() + n, s.size() - n};
}
inline std::string_view first_n(std::string_view s, std::size_t n) noexcept {
    MEMKV_ASSERT(n <= s.size());
    return {s.data(), n};
}

// One level of an iterator's path: the node (zone and reference), the
// position taken in it, and the key length above the node (its prefix starts
// there; below max_key_size, so 32 bits).
struct frame {
    loc_t node;
    int pos;
    std::uint32_t depth;
};
static_assert(sizeof(frame) == 16);

// Iterator state. path holds the key bytes above the current leaf; the key
// is path + the leaf's suffix. leaf == 0 is the end position.
struct cursor {
    std::vector<frame> stack;
    std::string path;
    loc_t leaf = 0;

    void reset() noexcept {
        stack.clear();
        path.clear();
        leaf = 0;
    }
};

// A stack of trivially copyable T held in its owner's frame up to N
// entries, on the heap beyond (walks: most are short). The walk keeps its
// top and limit in locals, which stay in registers; through members they
// were reloaded around every store the walk made.
template <class T, std::size_t N>
class small_stack {
    static_assert(std::is_trivially_copyable_v<T>);

public:
    small_stack() = default;
    small_stack(const small_stack&) = delete;
    small_stack& operator=(const small_stack&) = delete;

    T* base() noexcept { return data_; }
    T* limit() noexcept { return data_ + cap_; }
    // Room for n more entries above top, keeping [base(), top); returns the
    // new top. Throws std::bad_alloc, and then the stack is unchanged.
    T* grow(T* top, std::size_t n) {
        const auto size = static_cast<std::size_t>(top - data_);
        std::vector<T> bigger;
        bigger.reserve(std::max(2 * cap_, size + n));
        bigger.assign(data_, top);
        heap_.swap(bigger);
        data_ = heap_.data();
        cap_ = heap_.capacity();
        return data_ + size;
    }

private:
    T inline_[N];
    std::vector<T> heap_;
    T* data_ = inline_;
    std::size_t cap_ = N;
};

// A key under construction: 512 bytes in its owner's frame, the heap beyond
// (a walk keeps room for a short suffix past the current path).
class key_buffer {
public:
    key_buffer() = default;
    key_buffer(const key_buffer&) = delete;
    key_buffer& operator=(const key_buffer&) = delete;

    char* data() noexcept { return data_; }
    std::size_t capacity() const noexcept { return cap_; }
    // Room for `need` bytes, keeping the first `keep`. Throws
    // std::bad_alloc, and then the buffer is unchanged.
    void reserve(std::size_t need, std::size_t keep) {
        if (need <= cap_) [[likely]] return;
        std::string bigger(2 * need, '\0');
        std::memcpy(bigger.data(), data_, keep);
        heap_.swap(bigger);
        data_ = heap_.data();
        cap_ = heap_.size();
    }

private:
    char inline_[512];
    std::string heap_;
    char* data_ = inline_;
    std::size_t cap_ = sizeof inline_;
};

// Keys a tree holds before lookups use the top rows (tree::top_rows).
// Tests lower it to put the rows under small trees.
#ifndef MEMKV_FAST_ART_TOP_MIN_KEYS
#define MEMKV_FAST_ART_TOP_MIN_KEYS 65536
#endif

template <class V>
class tree {
public:
    // memkv::FastArt<V> checks these first, with messages naming itself.
    static_assert(alignof(V) <= slab_arena::unit, "memkv::FastArt<V>: alignof(V) must be at most 8");
    static_assert(std::is_move_constructible_v<V>, "memkv::FastArt<V>: V must be move-constructible");
    static_assert(std::is_destructible_v<V>, "memkv::FastArt<V>: V must be destructible");

    // A type whose move may throw is boxed in its own block so that moving a
    // leaf (when a path is re-compressed on erase, or its zone changes) never
    // throws. The leaf holds the box's loc: a box never moves, so it stays in
    // the zone it was made in while its leaf may move to another.
    static constexpr bool boxed = !std::is_nothrow_move_constructible_v<V>;
    static constexpr std::size_t vsize = boxed ? sizeof(loc_t) : sizeof(V);

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
        std::swap(root_zone_, o.root_zone_);
        std::swap(rezones_, o.rezones_);
        std::swap(size_, o.size_);
        std::swap(jump_, o.jump_);
        std::swap(top_, o.top_);  // its rows point into the arena, which moved with it
        std::swap(top_live_, o.top_live_);
        std::swap(top_ops_, o.top_ops_);
        modified();
        o.modified();
    }

#if MEMKV_DEBUG_ITERATORS
    // Debug builds: how many times this tree changed shape (an insert, an
    // erase, clear, swap, move). Iterators record it and check it on use.
    std::uint64_t generation() const noexcept { return gen_; }
#endif

    std::size_t size() const noexcept { return size_; }
    loc_t root() const noexcept { return root_ != 0 ? make_loc(root_zone_, root_) : 0; }
    // Zones the arena has opened, and holders moved to another zone so far;
    // for tests and diagnostics.
    unsigned zones() const noexcept { return arena_.zones(); }
    std::size_t rezones() const noexcept { return rezones_; }
    // Bytes the arena holds on its free lists; for tests and diagnostics.
    std::size_t free_bytes() const noexcept { return arena_.free_bytes(); }
    // Depth of the jump node (see jump_state), 0 when there is none; for
    // tests and diagnostics.
    std::size_t jump_depth() const noexcept { return jump_.node != 0 ? jump_.depth : 0; }

    std::size_t memory_usage() const noexcept {
        return sizeof(*this) + arena_.memory_usage() + (top_ != nullptr ? top_->footprint() : 0);
    }
    // Whether the top rows are built (see top_rows; lookups read them only
    // while top_row_count() > 0); for tests.
    bool has_top_rows() const noexcept { return top_ != nullptr; }
    // How many root children have a row lookups read (0: lookups start at
    // the root); for tests.
    std::size_t top_row_count() const noexcept { return top_live_ != nullptr ? top_live_->rows : 0; }

    void clear() noexcept {
        destroy_values();
        arena_.release();
        root_ = 0;
        root_zone_ = 0;
        size_ = 0;
        jump_ = {};
        top_reset();
        modified();
    }

    // ---- leaves -----------------------------------------------------------

    std::byte* at(unsigned z, ref_t r) const noexcept { return arena_.ptr(z, untag(r)); }
    std::byte* at(loc_t l) const noexcept { return at(zone_of(l), ref_of(l)); }
#if defined(__GNUC__) || defined(__clang__)
    [[gnu::always_inline]]
#endif
    void prefetch(unsigned z, ref_t r) const noexcept { arena_.prefetch(z, untag(r)); }
    node_ref node(unsigned z, ref_t r) const noexcept {
        MEMKV_ASSERT(r != 0 && !is_leaf(r));
        return {arena_.ptr(z, r)};
    }
    node_ref node(loc_t l) const noexcept { return node(zone_of(l), ref_of(l)); }
    // Where the children of nd go.
    static place below(node_ref nd) noexcept { return {nd.p, nd.zone()}; }
    place root_place() const noexcept { return {nullptr, root_zone_}; }

    // The walks' prefetch: the block's first line and the one holding byte
    // 40. Blocks are 8-byte aligned and a URL leaf (value, length, a suffix
    // of a few dozen bytes) or a small node is 32 to 48 bytes, so half or
    // more of them straddle a line: asking for the first line alone left the
    // suffix copy (or the child slots) a second, unhidden miss.
#if defined(__GNUC__) || defined(__clang__)
    [[gnu::always_inline]]
#endif
    static void prefetch_block(const std::byte* block) noexcept {
#if defined(__GNUC__) || defined(__clang__)
        // Integer arithmetic: p + 40 may lie past the block's chunk, which a
        // prefetch tolerates but pointer arithmetic does not.
        const auto p = reinterpret_cast<std::uintptr_t>(block);
        __builtin_prefetch(reinterpret_cast<const void*>(p));
        __builtin_prefetch(reinterpret_cast<const void*>(p + 40));
#else
        (void)block;
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
    std::string_view suffix(unsigned z, ref_t leaf) const noexcept { return suffix_of(at(z, leaf)); }
    std::string_view suffix(loc_t leaf) const noexcept { return suffix_of(at(leaf)); }

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

    V& value(loc_t leaf) const noexcept {
        MEMKV_ASSERT(is_leaf(ref_of(leaf)));
        return value_at(at(leaf));
    }

    // The value stored in leaf block p.
    V& value_at(std::byte* p) const noexcept {
        if constexpr (boxed) {
            loc_t b = 0;
            std::memcpy(&b, p, sizeof b);
            return *std::launder(reinterpret_cast<V*>(at(b)));
        } else {
            return *std::launder(reinterpret_cast<V*>(p));
        }
    }

    // A block of n units in pl.zone; throws zone_full{pl.holder} when the
    // zone has no room, std::bad_alloc when memory is exhausted.
    ref_t alloc_in(place pl, std::size_t n) {
        const ref_t r = arena_.allocate(pl.zone, n);
        if (r == 0) throw zone_full{pl.holder};
        return r;
    }

    // A leaf with suffix s and a value built from args, in pl. Every block is
    // allocated before V is built, so a zone_full (after which the insert is
    // retried, forwarding args again) leaves args untouched.
    template <class... Args>
    ref_t make_leaf(place pl, std::string_view s, Args&&... args) {
        if constexpr (!boxed && std::is_nothrow_constructible_v<V, Args&&...>) {
            if (const ref_t r = arena_.allocate_fast(pl.zone, leaf_units(s.size())); r != 0) [[likely]] {
                std::byte* p = arena_.ptr(pl.zone, r);
                ::new (static_cast<void*>(p)) V(std::forward<Args>(args)...);
                return finish_leaf(r, p, s);
            }
        }
        return make_leaf_slow(pl, s, std::forward<Args>(args)...);
    }

    // make_leaf inline, for a descent in a single flat zone (Flat: base is
    // its address) that knows where blocks are without the table.
    template <bool Flat, class... Args>
#if defined(__GNUC__) || defined(__clang__)
    [[gnu::always_inline]]
#endif
    ref_t make_leaf_at(std::uintptr_t base, place pl, std::string_view s, Args&&... args) {
        if constexpr (Flat && !boxed && std::is_nothrow_constructible_v<V, Args&&...>) {
            if (const ref_t r = arena_.allocate_fast(pl.zone, leaf_units(s.size())); r != 0) [[likely]] {
                std::byte* p = slab_arena::ptr_flat(base, r);
                ::new (static_cast<void*>(p)) V(std::forward<Args>(args)...);
                return finish_leaf(r, p, s);
            }
        }
        return make_leaf(pl, s, std::forward<Args>(args)...);
    }

    // Out of line so that the common case above saves no registers for it
    // (9-10 instructions an insert, bench/RESULTS.md, thirty-second session).
    template <class... Args>
#if defined(__GNUC__) || defined(__clang__)
    [[gnu::noinline]]
#endif
    ref_t make_leaf_slow(place pl, std::string_view s, Args&&... args) {
        const std::size_t n = leaf_units(s.size());
        const ref_t r = alloc_in(pl, n);
        std::byte* p = arena_.ptr(pl.zone, r);
        if constexpr (boxed) {
            const std::size_t bn = slab_arena::units_for(sizeof(V));
            ref_t b = 0;
            try {
                b = alloc_in(pl, bn);
            } catch (...) {
                arena_.deallocate(pl.zone, r, n);
                throw;
            }
            try {
                ::new (static_cast<void*>(arena_.ptr(pl.zone, b))) V(std::forward<Args>(args)...);
            } catch (...) {
                arena_.deallocate(pl.zone, b, bn);
                arena_.deallocate(pl.zone, r, n);
                throw;
            }
            const loc_t bl = make_loc(pl.zone, b);
            std::memcpy(p, &bl, sizeof bl);
        } else {
            try {
                ::new (static_cast<void*>(p)) V(std::forward<Args>(args)...);
            } catch (...) {
                arena_.deallocate(pl.zone, r, n);
                throw;
            }
        }
        return finish_leaf(r, p, s);
    }

    // The part of make_leaf after the value: the suffix, and the tagged reference.
    static ref_t finish_leaf(ref_t r, std::byte* p, std::string_view s) noexcept {
        write_fresh_suffix(p, s);
        return r | leaf_tag;
    }

    void destroy_leaf(unsigned z, ref_t leaf) noexcept {
        MEMKV_ASSERT(is_leaf(leaf));
        std::byte* p = at(z, leaf);
        const std::size_t n = leaf_units(suffix_of(p).size());
        if constexpr (boxed) {
            loc_t b = 0;
            std::memcpy(&b, p, sizeof b);
            std::launder(reinterpret_cast<V*>(at(b)))->~V();
            arena_.deallocate(zone_of(b), ref_of(b), slab_arena::units_for(sizeof(V)));
        } else {
            std::launder(reinterpret_cast<V*>(p))->~V();
        }
        arena_.deallocate(z, untag(leaf), n);
    }

    // Moves leaf (in zone z) 's value into the fresh block dst of zone dz
    // (leaf_units(s.size()) units), writes suffix s there and frees the old
    // leaf. Never throws.
    ref_t move_leaf(unsigned z, ref_t leaf, unsigned dz, ref_t dst, std::string_view s) noexcept {
        std::byte* p = at(z, leaf);
        std::byte* q = arena_.ptr(dz, dst);
        const std::size_t old_n = leaf_units(suffix_of(p).size());
        if constexpr (boxed) {
            std::memcpy(q, p, sizeof(loc_t));
        } else {
            V* v = std::launder(reinterpret_cast<V*>(p));
            ::new (static_cast<void*>(q)) V(std::move(*v));
            v->~V();
        }
        write_suffix(q, s);
        arena_.deallocate(z, untag(leaf), old_n);
        return dst | leaf_tag;
    }

    // The leaf at block p sank by `drop` levels and its block size stays
    // the same: drop the first bytes of its suffix in place, without a
    // library call in the common case (a split's).
    static void shorten_leaf(std::byte* p, std::size_t drop) noexcept {
        auto* q = reinterpret_cast<unsigned char*>(p) + vsize;
        const std::string_view s = suffix_of(p);
        MEMKV_ASSERT(drop <= s.size() && leaf_units(s.size()) == leaf_units(s.size() - drop));
        const std::size_t n = s.size() - drop;
        if (s.size() < 255) {
            move_bytes_down(q + 1, ubytes(s) + drop, n);
            q[0] = static_cast<unsigned char>(n);
        } else {
            write_suffix(p, drop_front(s, drop));
        }
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

    // zone: the node's child zone (where kids and term_ref live).
    static void write_node(std::byte* p, std::uint8_t kind, unsigned zone, std::string_view prefix, bool term,
                           ref_t term_ref, const unsigned char* bytes, const ref_t* kids,
                           std::size_t n) noexcept {
        // Every node holds two entries or more; a linear node within its kind.
        MEMKV_ASSERT(n + (term ? 1 : 0) >= 2);
        MEMKV_ASSERT(kind == full_kind || n <= kind);
        const node_header h = fresh_header(kind, zone, term, n, ubytes(prefix), prefix.size());
        std::memcpy(p, &h, sizeof h);
        const node_ref nd{p};
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
        nd.write_prefix_tail(ubytes(prefix), prefix.size());
    }

    // write_node for the fresh node of a split (of a leaf or of a prefix):
    // the smallest kind with one or two children, its entries stored as
    // words. kids[1] is written even when n == 1 (the callers zero it): past
    // count, it is never read.
#if defined(__GNUC__) || defined(__clang__)
    [[gnu::always_inline]]
#endif
    static void write_split_node(std::byte* p, unsigned zone, std::string_view prefix, bool term, ref_t term_ref,
                                 const unsigned char* bytes, const ref_t* kids, std::size_t n) noexcept {
        constexpr std::uint8_t kind = linear_caps[0];
        static_assert(kind >= 2);
        MEMKV_ASSERT(n >= 1 && n <= 2 && n + (term ? 1 : 0) >= 2);
        const node_header h = fresh_header(kind, zone, term, n, ubytes(prefix), prefix.size());
        std::memcpy(p, &h, sizeof h);
        const node_ref nd{p};
        std::memcpy(nd.keys(), bytes, 2);
        std::memcpy(nd.refs(), kids, 2 * sizeof(ref_t));
        if (term) std::memcpy(p + body_bytes(kind), &term_ref, sizeof term_ref);
        nd.write_prefix_tail(ubytes(prefix), prefix.size());
    }

    ref_t alloc_node(place pl, std::uint8_t kind, bool term, std::size_t plen) {
        return alloc_in(pl, slab_arena::units_for(node_bytes(kind, term, plen)));
    }

    void free_node(unsigned z, ref_t r) noexcept {
        if (is_jump(z, r)) jump_ = {};
        arena_.deallocate(z, r, node(z, r).units());
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
    void shorten_prefix(unsigned z, ref_t r, std::size_t drop) noexcept {
        if (is_jump(z, r)) jump_ = {};  // its depth changes
        node_ref nd = node(z, r);
        const std::size_t plen = nd.prefix_len();
        MEMKV_ASSERT(drop <= plen);
        const std::size_t nlen = plen - drop;
        MEMKV_ASSERT(slab_arena::units_for(node_bytes(nd.kind(), nd.terminal(), nlen)) == nd.units());
        // Shift the whole prefix left by `drop`, across the header/tail seam.
        // The new tail starts where the old one does or 4 bytes earlier (a
        // long prefix that became short loses its length word), so every
        // byte moves to a lower address: a forward copy reads each byte
        // before anything overwrites it.
        unsigned char* const ntail = nd.tail_start() + (nlen >= long_plen ? sizeof(std::uint32_t) : 0);
        for (std::size_t i = 0; i < nlen; ++i) {
            const unsigned char c = nd.prefix_at(i + drop);
            if (i < inline_prefix) {
                nd.h().prefix[i] = c;
            } else {
                ntail[i - inline_prefix] = c;
            }
        }
        nd.set_prefix_len(nlen);
    }

    // Copy of node r (zone z) with a new prefix (and without its terminal
    // slot if drop_terminal) into the fresh block dst of zone dz; frees r.
    // The copy keeps r's child zone.
    void relocate_node(unsigned z, ref_t r, unsigned dz, ref_t dst, std::string_view prefix,
                       bool drop_terminal = false) noexcept {
        const node_ref nd = node(z, r);
        unsigned char bytes[256];
        ref_t kids[256];
        const std::size_t n = gather(nd, bytes, kids);
        const bool term = nd.terminal() && !drop_terminal;
        write_node(arena_.ptr(dz, dst), nd.kind(), nd.zone(), prefix, term, term ? *nd.term() : 0, bytes, kids, n);
        free_node(z, r);
    }

    // ---- insertion --------------------------------------------------------

    // A zone_full is retried after a rezone; an operation needs at most a few
    // (a grown node may rezone its parent and itself, each maybe twice: the
    // open zone, then a fresh one). More means the blocks do not fit even an
    // empty zone.
    static constexpr unsigned max_rezones_per_op = 8;

    // Runs op, which undoes itself when it throws zone_full; rezones the
    // full zone's holder and runs op again.
    template <class Op>
    decltype(auto) with_rezones(Op&& op) {
        for (unsigned attempt = 0;; ++attempt) {
            try {
                return op();
            } catch (const zone_full& f) {
                if (attempt >= max_rezones_per_op) throw std::bad_alloc();
                rezone(f.holder);
            }
        }
    }

    // Inserts key with a value built from args unless the key is present.
    // Returns the key's leaf and whether it was inserted. Strong guarantee.
    template <class... Args>
    std::pair<loc_t, bool> emplace(std::string_view key, Args&&... args) {
        check_key_size(key.size());
        // Forwarding args again after a zone_full is sound: every block is
        // allocated before V is built (make_leaf).
        const auto res = with_rezones([&] { return emplace_once(key, std::forward<Args>(args)...); });
        if (res.second) top_sync_change(key);
        return res;
    }

    template <class... Args>
    std::pair<loc_t, bool> emplace_once(std::string_view key, Args&&... args) {
        if (root_ == 0) {
            root_ = make_leaf(root_place(), key, std::forward<Args>(args)...);
            touched_hop_ = 0;
            inserted_one();
            return {make_loc(root_zone_, root_), true};
        }
        if (jump_.node != 0) {
            if (jump_applies(key)) {
                if (jump_.score < jump_score_max) ++jump_.score;
                // 0: the insert would have to replace the jump node itself,
                // whose parent slot is unknown here; nothing was done yet.
                // Forwarding args twice is sound: a call that returns 0 has
                // not touched them.
                const auto res = emplace_from<false>(place{nullptr, jump_.zone}, nullptr, jump_.node, jump_.depth, 2,
                                                     key, std::forward<Args>(args)...);
                if (res.first != 0) return res;
            } else if (jump_.score > -jump_score_max) {
                --jump_.score;
            }
        }
        const bool learn = jump_.score <= 0;
        if (const top_rows* t = top_live_; t != nullptr && (!learn || t->depth + 1 < jump_min_depth)) {
            // The lookup's shortcut past the root and its child (top_rows):
            // an insert's descent spends the same instructions there. Not
            // where that child could be learnt as the jump node. An empty
            // entry (the child lacks the key's byte) takes the plain descent:
            // the insert writes the child itself.
            const unsigned char* k = ubytes(key);
            const std::size_t d = t->depth;
            if (const ref_t* e = top_entry(*t, d, k, key.size()); e != nullptr && *e != 0) {
                const place at{arena_.ptr(root_zone_, t->mid[k[d]]), root_zone_};
                // A copied row is not the child's slot: that is in the child,
                // looked for only if the entry's own node or leaf is replaced
                // (slot_of); most inserts write below it.
                ref_t* const slot = t->copy[k[d]] != nullptr ? nullptr : const_cast<ref_t*>(e);
                if (learn) return emplace_from<true>(at, slot, *e, d + 2, 2, key, std::forward<Args>(args)...);
                return emplace_from<false>(at, slot, *e, d + 2, 2, key, std::forward<Args>(args)...);
            }
        }
        if (!learn) return emplace_from<false>(root_place(), &root_, root_, 0, 0, key, std::forward<Args>(args)...);
        return emplace_from<true>(root_place(), &root_, root_, 0, 0, key, std::forward<Args>(args)...);
    }

    // Where an insert's descent stopped, and why.
    struct spot {
        enum kind_t : unsigned char {
            leaf,    // at leaf r
            split,   // the key leaves node r's prefix after m bytes
            end,     // the key ends at node r (past its prefix)
            absent,  // node r has no child for the key's next byte
        };
        place spl;    // r's zone and the block holding *slot
        ref_t* slot;  // nullptr: r is where the descent started, its slot unknown (slot_of)
        ref_t r;
        std::byte* at;  // r's block
        kind_t kind;
        std::size_t depth;  // leaf: bytes above it; split: the node's depth; end, absent: past its prefix
        std::size_t m;      // split only
        std::size_t hop;    // levels below the root of *slot's holder (see touched_hop_)

        // touched_hop_ after a write of *slot.
        std::size_t slot_hop() const noexcept { return hop == 0 ? 0 : hop - 1; }
    };

    // The slot to rewrite when the spot's r is replaced. A descent from a
    // copied top row's entry starts without it (spl.holder is the row's node,
    // which holds r); one from the jump node has no holder: nullptr, and the
    // insert starts over from the root, nothing changed.
    static ref_t* slot_of(const spot& s) noexcept {
        if (s.slot != nullptr || s.spl.holder == nullptr) return s.slot;
        const node_ref h{s.spl.holder};
        // Only a linear child has a copied row (a full one's row is its own
        // array, whose entries start with their slot).
        MEMKV_ASSERT(!h.full());
        ref_t* const refs = h.refs();
        for (std::size_t i = 0, n = h.count(); i < n; ++i) {
            if (refs[i] == s.r) return refs + i;
        }
        MEMKV_ASSERT(false);  // the holder holds r
        return nullptr;
    }

    // The descent of emplace from node or leaf r at `depth` (`hop` levels
    // below the root), held in *slot, which lies in spl (r's zone and the
    // node holding slot). slot is nullptr when the descent starts at the
    // jump node (spl.holder nullptr too: an insert that would replace r
    // itself then returns {0, false} before changing anything and before
    // using args) or at a copied top row's entry (spl.holder is the row's
    // node: slot_of finds the slot there). Learn: remember the first full
    // node at depth >= jump_min_depth on the way as the new jump node.
    //
    // Zones: a new node takes the place of r in spl.zone and gets spl.zone
    // as its child zone too, so a split puts all its blocks in one zone. A
    // new leaf goes to its parent's child zone. Each allocation names the
    // holder of its zone, which is rezoned if the zone is full.
    template <bool Learn, class... Args>
    std::pair<loc_t, bool> emplace_from(place spl, ref_t* slot, ref_t r, std::size_t depth, std::size_t hop,
                                        std::string_view key, Args&&... args) {
        if (arena_.single_flat_base() != 0) [[likely]] {
            return emplace_descend<Learn, true>(spl, slot, r, depth, hop, key, std::forward<Args>(args)...);
        }
        return emplace_descend<Learn, false>(spl, slot, r, depth, hop, key, std::forward<Args>(args)...);
    }

    // emplace_from's descent to the key's spot, built like descend (a
    // lookup's loop), since an insert spends most of its instructions here:
    // with the changes inline, a present key's insert ran twice a lookup's
    // instructions for the same path (bench/RESULTS.md, thirty-first
    // session). So: block addresses without the table in a single flat
    // zone (Flat), the child zone read only when there are several, an
    // inline prefix tested by one masked word compare (its match length
    // computed only when it differs), and of the ends only the two common
    // ones here (a present key at its leaf, a leaf joining a node with
    // room); the others are out of line, each apart, so that the loop and
    // each of them save and load only what they use.
    template <bool Learn, bool Flat, class... Args>
    std::pair<loc_t, bool> emplace_descend(place spl, ref_t* slot, ref_t r, std::size_t depth, std::size_t hop,
                                           std::string_view key, Args&&... args) {
        const unsigned char* k = ubytes(key);
        const std::size_t len = key.size();
        const bool one_zone = Flat || arena_.zones() <= 1;
        const std::uintptr_t base = Flat ? arena_.single_flat_base() : 0;
        const std::uintptr_t* row = arena_.row(spl.zone);
        [[maybe_unused]] bool learned = false;
        // hop: r's level below the root, for the top rows' upkeep
        // (touched_hop_, top_sync_change); 2 for a start at a row's entry.
        // The jump node's own level is not kept, and none is needed: it is
        // a full node below the root (jump_min_depth), and a full child of
        // the root has no copy in the rows (its row is its own array, or
        // none), so no write at or below it changes a row: counted as two
        // levels down.
        static_assert(jump_min_depth > 0);
        MEMKV_ASSERT(slot != nullptr || hop == 2);
        typename spot::kind_t why{};
        std::size_t m = 0;
        std::byte* p = nullptr;
        for (;;) {
            if (is_leaf(r)) {
                why = spot::leaf;
                p = block_in<Flat>(row, base, untag(r));
                break;
            }
            p = block_in<Flat>(row, base, r);
            const node_ref nd{p};
            nd.prefetch_second_line();
            // Only a node with a prefix adds to depth (see descend).
            if (const std::size_t p8 = nd.h().plen8; p8 != 0) {
                if (p8 <= 8 && len >= 8 && p8 <= len - depth &&
                    ((nd.prefix_word(p8) ^ key_word(k, depth, len)) & first_bytes_mask(p8)) == 0) {
                    depth += p8;
                } else {
                    const std::size_t plen = nd.prefix_len();
                    m = nd.match_prefix(k, depth, len);
                    if (m < plen) {
                        why = spot::split;
                        break;
                    }
                    depth += plen;
                }
            }
            if (depth == len) {
                why = spot::end;
                break;
            }
            const unsigned char b = k[depth];
            ref_t* cs = nullptr;
            if (nd.full()) {
                cs = nd.full_refs() + b;
                if (*cs == 0) {
                    why = spot::absent;
                    break;
                }
                if constexpr (Learn) {
                    // The descent goes on below r, so the insert changes
                    // nothing at r. depth (past r's prefix) is tested
                    // first: most full nodes lie above jump_min_depth.
                    if (depth >= jump_min_depth && !learned) {
                        const std::size_t node_depth = depth - nd.prefix_len();
                        if (node_depth >= jump_min_depth && node_depth <= jump_max_depth) {
                            set_jump(spl.zone, r, first_n(key, node_depth));
                            learned = true;
                        }
                    }
                }
            } else {
                const std::size_t i = nd.linear_find(b);
                if (i >= nd.count()) {
                    why = spot::absent;
                    break;
                }
                cs = nd.refs() + i;
            }
            MEMKV_ASSERT(!one_zone || nd.zone() == spl.zone);
            if (!one_zone) {
                spl.zone = nd.zone();
                row = arena_.row(spl.zone);
            }
            spl.holder = p;
            slot = cs;
            r = *cs;
            ++depth;
            ++hop;
        }
        MEMKV_ASSERT(p == arena_.ptr(spl.zone, untag(r)));
        if (why == spot::leaf) {
            // A present key, tested here as a lookup would (a call less).
            const std::string_view sfx = suffix_of(p);
            if (sfx.size() == len - depth && equal_bytes(ubytes(sfx), k + depth, sfx.size())) {
                return {make_loc(spl.zone, r), false};
            }
        } else if (why == spot::absent) {
            // The most common insert of a new key: a leaf joins a node with
            // room, here rather than out of line (a call less).
            const node_ref nd{p};
            if (nd.full() || nd.count() < nd.kind()) {
                const ref_t nl =
                    make_leaf_at<Flat>(base, below(nd), drop_front(key, depth + 1), std::forward<Args>(args)...);
                add_child(nd, k[depth], nl);
                touched_hop_ = hop;
                inserted_one();
                return {make_loc(nd.zone(), nl), true};
            }
        }
        const spot s{spl, slot, r, p, why, depth, m, hop};
        switch (why) {
            case spot::leaf: return emplace_at_leaf(s, key, std::forward<Args>(args)...);
            case spot::split: return emplace_split(s, key, std::forward<Args>(args)...);
            case spot::end: return emplace_at_end(s, std::forward<Args>(args)...);
            case spot::absent: break;
        }
        return emplace_grown(s, key, std::forward<Args>(args)...);
    }

    // The rest of emplace at the key's spot s (emplace_descend).
    // s.kind == spot::leaf, the key not there: a node takes its leaf and the
    // old one.
    template <class... Args>
    std::pair<loc_t, bool> emplace_at_leaf(const spot& s, std::string_view key, Args&&... args) {
        const unsigned char* k = ubytes(key);
        const auto& [spl, start_slot, r, at, kind, depth, m, hop] = s;
        const unsigned z = spl.zone;
        const std::string_view s_suffix = suffix_of(at);
        const std::string_view rest = drop_front(key, depth);
        const std::size_t c = common_prefix_length(s_suffix, rest);
        MEMKV_ASSERT(c < s_suffix.size() || c < rest.size());  // a present key ended the descent
        ref_t* const slot = slot_of(s);
        if (slot == nullptr) return {0, false};
        // A node at `depth` with prefix rest[0, c) takes both leaves.
        const bool new_term = c == rest.size();
        const bool old_term = c == s_suffix.size();
        // The old leaf keeps its block if its size class does not
        // change, else it moves to a right-sized one (allocated first).
        const std::size_t drop = old_term ? c : c + 1;
        const bool in_place = leaf_units(s_suffix.size()) == leaf_units(s_suffix.size() - drop);
        const std::size_t node_units = slab_arena::units_for(node_bytes(3, new_term || old_term, c));
        ref_t moved_to = 0;
        ref_t nl = 0;
        ref_t n = 0;
        try {
            if (!in_place) moved_to = alloc_in(spl, leaf_units(s_suffix.size() - drop));
            n = alloc_in(spl, node_units);
            nl = make_leaf(spl, new_term ? std::string_view{} : drop_front(rest, c + 1), std::forward<Args>(args)...);
        } catch (...) {
            if (n != 0) arena_.deallocate(z, n, node_units);
            if (moved_to != 0) arena_.deallocate(z, moved_to, leaf_units(s_suffix.size() - drop));
            throw;
        }
        const ref_t old_leaf = in_place ? r : (moved_to | leaf_tag);
        unsigned char bytes[2] = {};
        ref_t kids[2] = {};
        std::size_t cnt = 0;
        ref_t term = 0;
        if (new_term) {
            term = nl;
            bytes[0] = static_cast<unsigned char>(s_suffix[c]);
            kids[0] = old_leaf;
            cnt = 1;
        } else if (old_term) {
            term = old_leaf;
            bytes[0] = k[depth + c];
            kids[0] = nl;
            cnt = 1;
        } else {
            cnt = two_children(static_cast<unsigned char>(s_suffix[c]), old_leaf, k[depth + c], nl, bytes, kids);
        }
        write_split_node(arena_.ptr(z, n), z, first_n(rest, c), new_term || old_term, term, bytes, kids, cnt);
        if (in_place) {
            shorten_leaf(at, drop);
        } else {
            move_leaf(z, r, z, moved_to, drop_front(s_suffix, drop));
        }
        *slot = n;
        touched_hop_ = s.slot_hop();
        inserted_one();
        return {make_loc(z, nl), true};
    }

    // s.kind == spot::split.
    template <class... Args>
    std::pair<loc_t, bool> emplace_split(const spot& s, std::string_view key, Args&&... args) {
        const unsigned char* k = ubytes(key);
        const auto& [spl, start_slot, r, at, kind, depth, m, hop] = s;
        const unsigned z = spl.zone;
        const node_ref nd{at};
        ref_t* const slot = slot_of(s);
        if (slot == nullptr) return {0, false};
        // The key leaves the prefix after m bytes: a new node with
        // prefix prefix[0, m) takes this node and the new leaf.
        const std::size_t plen = nd.prefix_len();
        const bool new_term = m == key.size() - depth;
        const unsigned char ob = nd.prefix_at(m);
        const std::size_t old_units = nd.units();
        const std::size_t new_units = slab_arena::units_for(node_bytes(nd.kind(), nd.terminal(), plen - (m + 1)));
        const bool in_place = old_units == new_units;
        std::string rest_prefix;
        if (!in_place) rest_prefix = prefix_string(nd).substr(m + 1);
        const std::size_t node_units = slab_arena::units_for(node_bytes(3, new_term, m));
        ref_t moved_to = 0;
        ref_t nl = 0;
        ref_t n = 0;
        try {
            if (!in_place) moved_to = alloc_in(spl, new_units);
            n = alloc_in(spl, node_units);
            nl = make_leaf(spl, new_term ? std::string_view{} : drop_front(key, depth + m + 1),
                           std::forward<Args>(args)...);
        } catch (...) {
            if (n != 0) arena_.deallocate(z, n, node_units);
            if (moved_to != 0) arena_.deallocate(z, moved_to, new_units);
            throw;
        }
        const ref_t old_node = in_place ? r : moved_to;
        unsigned char bytes[2] = {};
        ref_t kids[2] = {};
        std::size_t cnt = 0;
        if (new_term) {
            bytes[0] = ob;
            kids[0] = old_node;
            cnt = 1;
        } else {
            cnt = two_children(ob, old_node, k[depth + m], nl, bytes, kids);
        }
        write_split_node(arena_.ptr(z, n), z, first_n(drop_front(key, depth), m), new_term, new_term ? nl : 0, bytes,
                         kids, cnt);
        if (in_place) {
            shorten_prefix(z, r, m + 1);
        } else {
            relocate_node(z, r, z, moved_to, rest_prefix);
        }
        *slot = n;
        touched_hop_ = s.slot_hop();
        inserted_one();
        return {make_loc(z, nl), true};
    }

    // s.kind == spot::end: the key ends at node r, present if r has a terminal.
    template <class... Args>
    std::pair<loc_t, bool> emplace_at_end(const spot& s, Args&&... args) {
        const node_ref nd{s.at};
        const unsigned cz = nd.zone();  // nd may be freed below
        if (nd.terminal()) return {make_loc(cz, *nd.term()), false};
        ref_t* const slot = slot_of(s);
        if (slot == nullptr) return {0, false};
        const ref_t nl = replace_adding_leaf(s.spl, slot, s.r, nd.kind(), true, 0, std::string_view{},
                                             std::forward<Args>(args)...);
        touched_hop_ = s.slot_hop();
        inserted_one();
        return {make_loc(cz, nl), true};
    }

    // s.kind == spot::absent at a linear node without room: a grown copy
    // of node r with the key's leaf takes its place.
    template <class... Args>
    std::pair<loc_t, bool> emplace_grown(const spot& s, std::string_view key, Args&&... args) {
        const node_ref nd{s.at};
        MEMKV_ASSERT(!nd.full() && nd.count() == nd.kind());
        const unsigned cz = nd.zone();  // nd is freed below
        // (A start at the jump node never gets here: the jump node is full.)
        ref_t* const slot = slot_of(s);
        MEMKV_ASSERT(slot != nullptr);
        const std::uint8_t kind = next_kind(nd.kind());
        const unsigned char b = ubytes(key)[s.depth];
        const ref_t nl = kind != full_kind
                             ? grow_adding_leaf(s.spl, slot, s.r, kind, b, drop_front(key, s.depth + 1),
                                                std::forward<Args>(args)...)
                             : replace_adding_leaf(s.spl, slot, s.r, kind, false, b, drop_front(key, s.depth + 1),
                                                   std::forward<Args>(args)...);
        touched_hop_ = s.slot_hop();
        inserted_one();
        return {make_loc(cz, nl), true};
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
        nd.set_count(nd.count() + 1);
    }

    // Replaces node r (held in *slot, in spl) by a rebuilt copy of kind
    // `kind` that also holds a new leaf (suffix s, value from args): as its
    // terminal if as_term, else as child b. The copy is allocated first, the
    // leaf (in r's child zone) last; if either throws, the tree is unchanged
    // (the strong guarantee of insert). Returns the leaf.
    template <class... Args>
    ref_t replace_adding_leaf(place spl, ref_t* slot, ref_t r, std::uint8_t kind, bool as_term, unsigned char b,
                              std::string_view s, Args&&... args) {
        const node_ref nd = node(spl.zone, r);
        const bool term = nd.terminal() || as_term;
        const std::size_t plen = nd.prefix_len();
        const std::size_t units = slab_arena::units_for(node_bytes(kind, term, plen));
        const ref_t out = alloc_in(spl, units);
        ref_t nl = 0;
        try {
            nl = make_leaf(below(nd), s, std::forward<Args>(args)...);
        } catch (...) {
            arena_.deallocate(spl.zone, out, units);
            throw;
        }
        unsigned char bytes[257];
        ref_t kids[257];
        std::size_t n = gather(nd, bytes, kids);
        if (!as_term) {
            std::size_t i = n;
            while (i > 0 && bytes[i - 1] > b) {
                bytes[i] = bytes[i - 1];
                kids[i] = kids[i - 1];
                --i;
            }
            bytes[i] = b;
            kids[i] = nl;
            ++n;
        }
        write_copy(spl.zone, out, nd, kind, term, as_term ? nl : (term ? *nd.term() : 0), bytes, kids, n);
        free_node(spl.zone, r);
        *slot = out;
        return nl;
    }

    // replace_adding_leaf for the common grow, a linear node into the next
    // linear kind, by node_ref::grow_into (no gathering of the entries).
    // Same order and guarantee.
    template <class... Args>
    ref_t grow_adding_leaf(place spl, ref_t* slot, ref_t r, std::uint8_t kind, unsigned char b, std::string_view s,
                           Args&&... args) {
        const node_ref nd = node(spl.zone, r);
        const std::size_t units = slab_arena::units_for(node_bytes(kind, nd.terminal(), nd.prefix_len()));
        const ref_t out = alloc_in(spl, units);
        ref_t nl = 0;
        try {
            nl = make_leaf(below(nd), s, std::forward<Args>(args)...);
        } catch (...) {
            arena_.deallocate(spl.zone, out, units);
            throw;
        }
        nd.grow_into(node_ref{arena_.ptr(spl.zone, out)}, kind, b, nl);
        free_node(spl.zone, r);
        *slot = out;
        return nl;
    }

    // Writes a node of kind `kind` with nd's prefix and child zone and the
    // given entries into the fresh block out of zone z.
    void write_copy(unsigned z, ref_t out, node_ref nd, std::uint8_t kind, bool term, ref_t term_ref,
                    const unsigned char* bytes, const ref_t* kids, std::size_t n) noexcept {
        // Short prefixes (nearly all) go through a stack buffer, not a heap
        // string; a long one is copied from the old node's tail directly.
        const std::size_t plen = nd.prefix_len();
        unsigned char small[64];
        if (plen <= sizeof small) {
            nd.copy_prefix(small);
            write_node(arena_.ptr(z, out), kind, nd.zone(), {reinterpret_cast<const char*>(small), plen}, term,
                       term_ref, bytes, kids, n);
            return;
        }
        // write_node copies the prefix's tail from a view; the old node stays
        // alive until the caller frees it, so a view of it is enough once
        // the inline part is joined. Build it on the heap (rare: prefixes
        // over 64 bytes); a failure here must not throw, so fall back to
        // a byte-wise copy.
        std::byte* p = arena_.ptr(z, out);
        write_node(p, kind, nd.zone(), std::string_view{}, term, term_ref, bytes, kids, n);
        node_ref o{p};
        o.set_prefix_len(plen);
        for (std::size_t i = 0; i < plen; ++i) {
            if (i < inline_prefix) {
                o.h().prefix[i] = nd.prefix_at(i);
            } else {
                o.prefix_tail()[i - inline_prefix] = nd.prefix_at(i);
            }
        }
    }

    // A copy of node r (in pl) with another kind, in pl. The caller frees r.
    ref_t rebuild(place pl, ref_t r, std::uint8_t kind) {
        const node_ref nd = node(pl.zone, r);
        unsigned char bytes[256];
        ref_t kids[256];
        const std::size_t n = gather(nd, bytes, kids);
        const ref_t out = alloc_node(pl, kind, nd.terminal(), nd.prefix_len());
        write_copy(pl.zone, out, nd, kind, nd.terminal(), nd.terminal() ? *nd.term() : 0, bytes, kids, n);
        return out;
    }

    // ---- zones --------------------------------------------------------------
    //
    // Moves every child of holder (nullptr: the root block) out of its zone,
    // which has no room left, into the last open zone if that has room for
    // them all, else into a newly opened zone, and makes that the holder's
    // child zone. Grandchildren stay: each child node keeps its own child
    // zone. All new blocks are allocated before anything moves, so a
    // std::bad_alloc (memory, or all max_zones open) leaves the tree as it
    // was. A zone fills up once; a holder is moved at most once per zone it
    // leaves, so the copying is amortized over the inserts that filled it.
    void rezone(std::byte* holder) {
        // Rows hold references into the zone that is about to move, and
        // they read every reference in the root's zone: one zone only.
        top_reset();
        const unsigned from = holder != nullptr ? node_ref{holder}.zone() : root_zone_;
        ref_t* slots[257];
        std::size_t units[257];
        ref_t fresh[257];
        std::size_t n = 0;
        if (holder == nullptr) {
            slots[n++] = &root_;
        } else {
            const node_ref h{holder};
            ref_t* refs = h.refs();
            const std::size_t cnt = h.full() ? 256 : h.count();
            for (std::size_t i = 0; i < cnt; ++i) {
                if (refs[i] != 0) slots[n++] = refs + i;
            }
            if (h.terminal()) slots[n++] = h.term();
        }
        for (std::size_t i = 0; i < n; ++i) {
            const ref_t r = *slots[i];
            units[i] = is_leaf(r) ? leaf_units(suffix(from, r).size()) : node(from, r).units();
        }
        const unsigned last = arena_.zones() - 1;
        unsigned to = last;
        if (last == from || !allocate_all(last, units, n, fresh)) {
            to = arena_.open_zone();
            if (!allocate_all(to, units, n, fresh)) throw std::bad_alloc();  // more than a zone
        }
        // Nothing below throws.
        for (std::size_t i = 0; i < n; ++i) {
            const ref_t r = *slots[i];
            if (is_leaf(r)) {
                *slots[i] = move_leaf(from, r, to, fresh[i], suffix(from, r));
                continue;
            }
            std::memcpy(arena_.ptr(to, fresh[i]), arena_.ptr(from, r), units[i] * slab_arena::unit);
            if (is_jump(from, r)) {
                jump_.zone = to;
                jump_.node = fresh[i];
            }
            arena_.deallocate(from, r, units[i]);
            *slots[i] = fresh[i];
        }
        if (holder != nullptr) {
            node_ref{holder}.set_zone(to);
        } else {
            root_zone_ = to;
        }
        ++rezones_;
    }

    // n blocks of units[i] in zone z, into out; false (and nothing held) if
    // the zone cannot take them all.
    bool allocate_all(unsigned z, const std::size_t* units, std::size_t n, ref_t* out) {
        std::size_t i = 0;
        auto undo = [&]() noexcept {
            for (std::size_t j = 0; j < i; ++j) arena_.deallocate(z, out[j], units[j]);
        };
        try {
            for (; i < n; ++i) {
                out[i] = arena_.allocate(z, units[i]);
                if (out[i] == 0) break;
            }
        } catch (...) {
            undo();
            throw;
        }
        if (i == n) return true;
        undo();
        return false;
    }

    // ---- lookup -----------------------------------------------------------

    loc_t find(std::string_view key) const noexcept { return lookup<true>(key).loc; }

    // The leaf block of key, or nullptr: what get_if and contains need,
    // without turning a loc back into an address.
    std::byte* find_leaf(std::string_view key) const noexcept { return lookup<false>(key).leaf; }

private:
    struct found {
        std::byte* leaf;  // nullptr: absent
        loc_t loc;
    };
    // Where the keys starting with a prefix are (lookup<false, true>): the
    // subtree at loc, under the prefix's first `depth` bytes; loc = 0: no
    // key starts with it. Two words, so it comes back in registers (with
    // the leaf's block besides, a one-key scan ran 4-11 instructions more).
    struct prefix_start {
        loc_t loc;
        std::size_t depth;
    };
    template <bool Prefix>
    using seek_result = std::conditional_t<Prefix, prefix_start, found>;

    // One function, out of line, from the entry tests to the leaf, so a
    // caller pays one call and the loop's registers do not depend on the
    // caller's. Split in three (the entry inline in the caller, the rows'
    // entry and the descent out of line), a get_if behind a call, as
    // memkv-bench's adapter makes it, ran 184 instructions a lookup of a
    // binary key, 140 as one (22-44 fewer on the seven inputs); where g++
    // inlined all three into a caller's loop, it spilled the node pointer
    // in some callers (bench/RESULTS.md, thirty-third session).
    //
    // With Prefix, key is a prefix and the search is for the subtree of
    // the keys that start with it (prefix scans): the same descent, so a
    // scan that ends at one leaf costs a lookup, not the general walk's
    // setup (bench/RESULTS.md, forty-fourth session).
    template <bool Loc, bool Prefix = false>
#if defined(__GNUC__) || defined(__clang__)
    [[gnu::noinline]]
#endif
    seek_result<Prefix> lookup(std::string_view key) const noexcept {
        const unsigned char* k = ubytes(key);
        const std::size_t len = key.size();
        unsigned z = root_zone_;
        ref_t r = root_;
        std::size_t depth = 0;
        if (jump_.node != 0 && jump_applies(key)) {
            z = jump_.zone;
            r = jump_.node;
            depth = jump_.depth;
        } else if (const top_rows* t = top_live_; t != nullptr) {
            // A row holds every child of its root child: an empty entry
            // (r = 0) is an absent key.
            const std::size_t d = t->depth;
            if (const ref_t* e = top_entry(*t, d, k, len); e != nullptr) {
                r = *e;
                depth = d + 2;
            }
        }
        if (r == 0) return {};
        // One flat zone (arena.hpp), the common case: block addresses
        // without the table. Several zones: the table, as each reference's
        // zone may differ from its parent's.
        const std::uintptr_t base = arena_.single_flat_base();
        if (base != 0) [[likely]] {
            if (len >= 8) {
                return descend<false, false, true, Loc, Prefix>(z, r, depth, k, len, load_u64(k + len - 8), base);
            }
            return descend<true, false, true, Loc, Prefix>(z, r, depth, k, len, short_key_word(k, len), base);
        }
        return lookup_zoned<Loc, Prefix>(z, r, depth, k, len);
    }

    // lookup's descent through the zone table.
    template <bool Loc, bool Prefix>
#if defined(__GNUC__) || defined(__clang__)
    [[gnu::noinline]]
#endif
    seek_result<Prefix> lookup_zoned(unsigned z, ref_t r, std::size_t depth, const unsigned char* k,
                                     std::size_t len) const noexcept {
        const bool one_zone = arena_.zones() <= 1;
        if (len >= 8) {
            const std::uint64_t last8 = load_u64(k + len - 8);
            return one_zone ? descend<false, false, false, Loc, Prefix>(z, r, depth, k, len, last8, 0)
                            : descend<false, true, false, Loc, Prefix>(z, r, depth, k, len, last8, 0);
        }
        const std::uint64_t last8 = short_key_word(k, len);
        return one_zone ? descend<true, false, false, Loc, Prefix>(z, r, depth, k, len, last8, 0)
                        : descend<true, true, false, Loc, Prefix>(z, r, depth, k, len, last8, 0);
    }

    // A key of n < 8 bytes as the last n bytes of a word (as load_u64 would
    // read them from memory), zeros before: built in a register, never
    // stored (see descend).
    static std::uint64_t short_key_word(const unsigned char* k, std::size_t n) noexcept {
        if constexpr (std::endian::native == std::endian::little) {
            // Assembled in a register: bytes written to the stack and read
            // back as one word would wait for the stores to retire.
            if (n >= 4) {
                std::uint32_t lo = 0;
                std::uint32_t hi = 0;
                std::memcpy(&lo, k, 4);
                std::memcpy(&hi, k + n - 4, 4);
                return (std::uint64_t{lo} << (8 * (8 - n))) | (std::uint64_t{hi} << 32);
            }
            std::uint64_t w = 0;
            for (std::size_t i = 0; i < n; ++i) w |= std::uint64_t{k[i]} << (8 * (8 - n + i));
            return w;
        } else {
            unsigned char w[8] = {};
            for (std::size_t i = 0; i < n; ++i) w[8 - n + i] = k[i];
            return load_u64(w);
        }
    }

    // It is the hot loop of the lookup benchmarks. A lookup waits on memory
    // at every level, and what hides that wait is the core running ahead
    // into the next lookup, as far as its reorder window reaches; so the
    // fewer instructions per level and the fewer mispredicted branches on
    // loaded data, the more lookups overlap (measured with callgrind and on
    // every key shape; bench/RESULTS.md, issue #14). So:
    //  * an inline prefix (at most 8 bytes, the common case) is tested with
    //    one masked 8-byte XOR. The key's 8 bytes at depth come from one
    //    in-bounds load (at most at the key's last 8 bytes, shifted down)
    //    or, for a key under 8 bytes, from last8 shifted: no copy of the
    //    key is made, since a load that spans two earlier stores waits for
    //    them to retire, i.e. for the previous lookup to finish. Past the
    //    key's end the word holds whatever; a prefix that reaches past the
    //    end is caught by depth > len below;
    //  * a node without a prefix skips the compare;
    //  * a full node's child is refs[byte], a linear node's refs[i] of one
    //    16-byte SIMD compare, three for the kinds past 16 (linear_find);
    //  * with one zone (any tree under 16 GiB), the table row is fixed, and
    //    a flat zone needs no table at all: a block's address is one add
    //    after its reference arrives (Flat);
    //  * a leaf suffix is the key's last bytes, so one of at most 8 bytes is
    //    one masked compare with last8, the key's last 8 bytes.
    // With Prefix (see lookup), the key is a prefix: compares stop at its
    // end, and a node reached there, or a leaf whose suffix starts with the
    // key's rest, is the answer.
    template <bool Short, bool MultiZone, bool Flat, bool Loc, bool Prefix>
#if defined(__GNUC__) || defined(__clang__)
    [[gnu::always_inline]]
#endif
    seek_result<Prefix> descend(unsigned z, ref_t r, std::size_t depth, const unsigned char* k, std::size_t len,
                  std::uint64_t last8, std::uintptr_t base) const noexcept {
        static_assert(!(Flat && MultiZone));
        const std::uintptr_t* row = arena_.row(z);
        const auto address = [&](ref_t x) {
            return block_in<Flat>(row, base, x);
        };
        while (!is_leaf(r)) {
            std::byte* const p = address(r);
            const node_ref nd{p};
            nd.prefetch_second_line();
            const node_header& h = nd.h();
            std::size_t plen = h.plen8;
            // Prefix: the key bytes above this node and its zone, the
            // answer if the key ends in or right after its prefix.
            [[maybe_unused]] const std::size_t above = depth;
            [[maybe_unused]] const unsigned node_zone = z;
            // Most nodes below the top levels have no prefix. For them the
            // compare is skipped (a branch measured better than the compare
            // on every shape but words.txt, even there within noise) and
            // depth is not touched: with one `depth += plen` after the
            // branch, the next byte's load (and the SIMD search that needs
            // it) waited on this node's header load at every level, though
            // the branch predicted plen == 0 (bench/RESULTS.md, twentieth
            // session: lookups 5-20% faster on every shape).
            if (plen != 0) {
                if (plen <= 8) [[likely]] {
                    // A prefix of 5-8 bytes: its first 4 inline, the rest
                    // read by one more load (prefix_word).
                    std::uint64_t w = 0;
                    if constexpr (Short) {
                        w = shift_out(last8, 8 - len + depth);
                    } else {
                        w = key_word(k, depth, len);
                    }
                    // Prefix: only the bytes before the key's end (depth <= len
                    // on the way down).
                    const std::uint64_t mask = first_bytes_mask(Prefix ? std::min(plen, len - depth) : plen);
                    if (((nd.prefix_word(plen) ^ w) & mask) != 0) return {};
                } else {
                    if (plen == long_plen) [[unlikely]] plen = nd.prefix_len();
                    if constexpr (Prefix) {
                        const std::size_t m = nd.match_prefix(k, depth, len);
                        if (m < plen && m < len - depth) return {};
                    } else {
                        if (plen > len - depth || !nd.long_prefix_equals(k + depth, plen)) return {};
                    }
                }
                depth += plen;
            }
            if constexpr (MultiZone) {
                z = static_cast<unsigned>(h.flags) >> zone_shift;
                row = arena_.row(z);
            }
            const std::uint8_t kind = h.kind;
            if (depth >= len) {
                if constexpr (Prefix) {
                    return {make_loc(node_zone, r), above};
                } else {
                    if (depth > len || (h.flags & has_terminal) == 0) return {};
                    r = *nd.term();
                    break;
                }
            }
            const unsigned char b = k[depth++];
            // A branch on the kind: forcing a branch-free select between
            // refs[b] and the SIMD search's index was 10-25% slower on every
            // shape (bench/RESULTS.md).
            if (kind != full_kind) {
                const std::size_t i = nd.linear_find(b);
                if (i >= h.count) return {};
                r = nd.refs()[i];
            } else {
                // A full node's refs start right after the header: no
                // offset computed from the kind.
                r = nd.full_refs()[b];
            }
            // One test for both exits, a leaf (the tag is the sign bit) and
            // an empty slot of a full node; the loop's own test is then
            // taken only on entry.
            static_assert(leaf_tag == 0x8000'0000u);
            if (static_cast<std::int32_t>(r) <= 0) [[unlikely]] {
                if (r == 0) return {};
                break;
            }
        }
        std::byte* const p = address(untag(r));
        const std::string_view suffix = suffix_of(p);
        const unsigned char* const s = ubytes(suffix);
        // The suffix's bytes to compare with the key's last slen: all of
        // them, or with Prefix as many as the key has left.
        std::size_t slen = suffix.size();
        if constexpr (Prefix) {
            if (slen < len - depth) return {};
            slen = len - depth;
        } else {
            if (slen != len - depth) return {};
        }
        if constexpr (vsize + 1 >= 8) {
            // The 8 bytes ending at the suffix's end lie in the leaf (value
            // and length byte before a short suffix): compare their last
            // slen bytes with the key's.
            if (slen <= 8) {
                if (((load_u64(s + slen - 8) ^ last8) & last_bytes_mask(slen)) != 0) return {};
                if constexpr (Prefix) {
                    return {make_loc(z, r), depth};
                } else {
                    return {p, Loc ? make_loc(z, r) : loc_t{0}};
                }
            }
        }
        if (slen >= 8) {
            // Whole words, the last one overlapping (inline here: a call to
            // equal_bytes cost a tenth of a lookup on 36-byte keys). The
            // first and last in one test and no loop up to 16 bytes: the
            // compare's instructions hold up the next lookups as much as
            // its loads (bench/RESULTS.md, thirty-second session).
            const unsigned char* kd = k + depth;
            if (((load_u64(s) ^ load_u64(kd)) | (load_u64(s + slen - 8) ^ last8)) != 0) return {};
            if (slen > 16) {
                for (std::size_t i = 8; i + 8 < slen; i += 8) {
                    if (load_u64(s + i) != load_u64(kd + i)) return {};
                }
            }
        } else if (!equal_bytes(s, k + depth, slen)) {
            return {};
        }
        if constexpr (Prefix) {
            return {make_loc(z, r), depth};
        } else {
            return {p, Loc ? make_loc(z, r) : loc_t{0}};
        }
    }

public:
    // Length of the longest stored key that is a prefix of key, or npos.
    std::size_t longest_prefix(std::string_view key) const noexcept {
        const unsigned char* k = ubytes(key);
        std::size_t best = std::string_view::npos;
        ref_t r = root_;
        unsigned z = root_zone_;
        std::size_t depth = 0;
        while (r != 0) {
            if (is_leaf(r)) {
                const std::string_view s = suffix(z, r);
                if (key.size() - depth >= s.size() && std::memcmp(s.data(), k + depth, s.size()) == 0) {
                    best = depth + s.size();
                }
                break;
            }
            const node_ref nd = node(z, r);
            const std::size_t plen = nd.prefix_len();
            if (nd.match_prefix(k, depth, key.size()) != plen) break;
            depth += plen;
            if (nd.terminal()) best = depth;
            if (depth == key.size()) break;
            const ref_t* cs = nd.find_child(k[depth]);
            if (cs == nullptr) break;
            r = *cs;
            z = nd.zone();
            ++depth;
        }
        return best;
    }

    // ---- erasure ----------------------------------------------------------

    // Removes key; returns 1 if it was present. Strong guarantee: the only
    // possible exception is std::bad_alloc when a node must be re-compressed
    // with its last child, and then nothing has changed.
    std::size_t erase(std::string_view key) {
        const std::size_t n = with_rezones([&] { return erase_once(key); });
        if (n != 0) top_sync_change(key);
        return n;
    }

    std::size_t erase_once(std::string_view key) {
        if (root_ == 0) return 0;
        const unsigned char* k = ubytes(key);
        ref_t* slot = &root_;
        place spl = root_place();  // where *slot's block lives
        ref_t* pslot = nullptr;  // the slot holding the parent node
        place ppl{};
        std::size_t depth = 0;
        std::size_t nodes = 0;  // inner nodes passed: the parent is at level nodes - 1
        for (;;) {
            const ref_t r = *slot;
            if (is_leaf(r)) {
                const std::string_view s = suffix(spl.zone, r);
                if (s.size() != key.size() - depth || std::memcmp(s.data(), k + depth, s.size()) != 0) return 0;
                break;
            }
            ++nodes;
            const node_ref nd = node(spl.zone, r);
            const std::size_t plen = nd.prefix_len();
            if (nd.match_prefix(k, depth, key.size()) != plen) return 0;
            depth += plen;
            pslot = slot;
            ppl = spl;
            spl = below(nd);
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
        const unsigned lz = spl.zone;
        MEMKV_ASSERT(is_leaf(leaf));
        // What follows changes the parent (at level nodes - 1) in place, or
        // rewrites the slot holding it, one level up: see top_sync_change.
        touched_hop_ = nodes >= 2 ? nodes - 2 : 0;
        if (pslot == nullptr) {
            clear();
            return 1;
        }
        const ref_t pr = *pslot;
        node_ref nd = node(ppl.zone, pr);
        const bool removing_term = slot == nd.term();
        const std::size_t cnt_after = nd.count() - (removing_term ? 0 : 1);
        const bool term_after = nd.terminal() && !removing_term;
        if (cnt_after + (term_after ? 1 : 0) >= 2) {
            if (removing_term && nd.units() != slab_arena::units_for(node_bytes(nd.kind(), false, nd.prefix_len()))) {
                // Without its terminal slot the node needs fewer units: move
                // it (allocation first, so a failure changes nothing).
                const std::string prefix = prefix_string(nd);
                const ref_t dst = alloc_node(ppl, nd.kind(), false, prefix.size());
                relocate_node(ppl.zone, pr, ppl.zone, dst, prefix, true);
                *pslot = dst;
                destroy_leaf(lz, leaf);
                erased(1);
                maybe_shrink(ppl, pslot);
                return 1;
            }
            remove_in_place(nd, slot, removing_term);
            destroy_leaf(lz, leaf);
            erased(1);
            if (!maybe_shrink(ppl, pslot)) touched_hop_ = nodes - 1;
            return 1;
        }
        merge_into_survivor(ppl, pslot, leaf, removing_term, [&]() noexcept { destroy_leaf(lz, leaf); });
        erased(1);
        return 1;
    }

    // The node held in *pslot (in ppl) keeps a single entry once `removed`
    // (one of its children, or its terminal) goes: that entry takes the
    // node's place, absorbing the node's prefix (and its branch byte) into
    // its own suffix or prefix, and moves into ppl's zone. The one
    // allocation comes first; if it throws, nothing has changed. Then
    // destroy() (noexcept) disposes of `removed`.
    template <class Destroy>
    void merge_into_survivor(place ppl, ref_t* pslot, ref_t removed, bool removed_is_term, Destroy&& destroy) {
        const ref_t pr = *pslot;
        const node_ref nd = node(ppl.zone, pr);
        const unsigned cz = nd.zone();
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
            merged.append(suffix(cz, survivor));
            check_key_size(merged.size());
            const ref_t dst = alloc_in(ppl, leaf_units(merged.size()));  // may throw: nothing changed
            destroy();
            replacement = move_leaf(cz, survivor, ppl.zone, dst, merged);
        } else {
            const node_ref sn = node(cz, survivor);
            merged += prefix_string(sn);
            const ref_t dst = alloc_node(ppl, sn.kind(), sn.terminal(), merged.size());  // may throw
            destroy();
            relocate_node(cz, survivor, ppl.zone, dst, merged);
            replacement = dst;
        }
        free_node(ppl.zone, pr);
        *pslot = replacement;
    }

    // Erases every key starting with p in one piece: one descent to the
    // subtree that holds them all, a pass that counts it, a pass that frees
    // it, and one unlink. Strong guarantee: what may throw (the counting
    // stack, a merge's allocation) comes before anything is freed.
    std::size_t erase_prefix(std::string_view p) {
        const std::size_t n = with_rezones([&] { return erase_prefix_once(p); });
        if (n != 0) {
            // Below two bytes past the root's prefix, the change lies under
            // one row's entry, as an erase's does; above, rows may go.
            if (top_ != nullptr && p.size() >= top_->depth + 2) {
                top_sync(p);
            } else {
                ++top_ops_;
                top_rebuild();
            }
        }
        return n;
    }

    std::size_t erase_prefix_once(std::string_view p) {
        const prefix_place at = locate_prefix(p);
        if (at.slot == nullptr) return 0;
        // The one mutating caller of the const search: the slots are this
        // tree's own.
        ref_t* const slot = const_cast<ref_t*>(at.slot);
        ref_t* const pslot = const_cast<ref_t*>(at.parent);
        const loc_t target = make_loc(at.spl.zone, *slot);
        std::vector<loc_t> stack;
        std::size_t peak = 0;
        std::size_t n = 0;
        visit_subtree(target, stack, peak, [&n](loc_t) noexcept { ++n; }, [](loc_t) noexcept {});
        if (pslot == nullptr) {
            clear();
            return n;
        }
        stack.reserve(peak);  // the freeing pass below never allocates
        auto destroy = [&]() noexcept {
            std::size_t unused = 0;
            visit_subtree(target, stack, unused, [this](loc_t l) noexcept { destroy_leaf(zone_of(l), ref_of(l)); },
                          [this](loc_t r) noexcept { free_node(zone_of(r), ref_of(r)); });
        };
        node_ref pn = node(at.ppl.zone, *pslot);
        if (pn.count() - 1 + (pn.terminal() ? 1 : 0) >= 2) {
            destroy();
            remove_in_place(pn, slot, false);
            erased(n);
            maybe_shrink(at.ppl, pslot);
        } else {
            merge_into_survivor(at.ppl, pslot, ref_of(target), false, destroy);
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
    void visit_subtree(loc_t r, std::vector<loc_t>& stack, std::size_t& peak, OnLeaf&& on_leaf,
                       OnNode&& on_node) const {
        stack.clear();
        stack.push_back(r);
        peak = std::max(peak, stack.size());
        while (!stack.empty()) {
            const loc_t x = stack.back();
            stack.pop_back();
            if (is_leaf(ref_of(x))) {
                on_leaf(x);
                continue;
            }
            const node_ref nd = node(x);
            const unsigned cz = nd.zone();
            if (nd.terminal()) stack.push_back(make_loc(cz, *nd.term()));
            const ref_t* refs = nd.refs();
            const std::size_t slots = nd.full() ? 256 : nd.count();
            for (std::size_t i = 0; i < slots; ++i) {
                if (refs[i] != 0) stack.push_back(make_loc(cz, refs[i]));
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
            if (const std::size_t t = prefix_tail_bytes(plen); t != 0) {
                unsigned char* tail = nd.tail_start();
                std::memmove(tail - sizeof(ref_t), tail, t);
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
        nd.set_count(nd.count() - 1);
    }

    // After an erase, move a sparse node (held in *pslot, in pl) to a
    // smaller kind. Best effort: if the allocation fails (memory, or a full
    // zone) the node simply stays larger than needed.
    // Returns whether it rewrote *pslot.
    bool maybe_shrink(place pl, ref_t* pslot) noexcept {
        const ref_t r = *pslot;
        node_ref nd = node(pl.zone, r);
        const std::uint8_t k2 = shrunk_kind(nd.kind(), nd.count());
        if (k2 == nd.kind()) return false;
        try {
            const ref_t n = rebuild(pl, r, k2);
            free_node(pl.zone, r);
            *pslot = n;
            return true;
        } catch (...) {
            return false;
        }
    }

    // ---- ordered positions ------------------------------------------------

    void descend_first(cursor& c, unsigned z, ref_t r) const { descend_edge<false>(c, z, r); }
    void descend_last(cursor& c, unsigned z, ref_t r) const { descend_edge<true>(c, z, r); }

    // Walks from r (in zone z) to its smallest (Last = false) or largest
    // leaf, recording the path in c.
    template <bool Last>
    void descend_edge(cursor& c, unsigned z, ref_t r) const {
        while (!is_leaf(r)) {
            const node_ref nd = node(z, r);
            const int pos = Last ? nd.last_pos() : nd.first_pos();
            c.stack.push_back({make_loc(z, r), pos, static_cast<std::uint32_t>(c.path.size())});
            append_prefix(c.path, nd);
            if (pos >= 0) c.path.push_back(static_cast<char>(nd.byte_at(pos)));
            r = nd.child_at(pos);
            z = nd.zone();
        }
        c.leaf = make_loc(z, r);
    }

    static void append_prefix(std::string& path, node_ref nd) {
        const std::size_t old = path.size();
        path.resize(old + nd.prefix_len());
        nd.copy_prefix(reinterpret_cast<unsigned char*>(path.data() + old));
    }

    void first(cursor& c) const {
        c.reset();
        if (root_ != 0) descend_first(c, root_zone_, root_);
    }
    void last(cursor& c) const {
        c.reset();
        if (root_ != 0) descend_last(c, root_zone_, root_);
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
                descend_first(c, nd.zone(), nd.child_at(p));
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
                descend_last(c, nd.zone(), nd.child_at(p));
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
        unsigned z = root_zone_;
        std::size_t depth = 0;
        for (;;) {
            if (is_leaf(r)) {
                c.leaf = make_loc(z, r);
                if (suffix(z, r) < drop_front(key, depth)) advance(c);
                return;
            }
            const node_ref nd = node(z, r);
            const std::size_t plen = nd.prefix_len();
            const std::size_t avail = key.size() - depth;
            const std::size_t m = nd.match_prefix(k, depth, key.size());
            if (m < plen) {
                // Key ran out inside the prefix, or the prefix is larger at m:
                // the whole subtree is >= key. Otherwise it is all < key.
                if (m == avail || nd.prefix_at(m) > k[depth + m]) {
                    descend_first(c, z, r);
                } else {
                    advance(c);
                }
                return;
            }
            if (depth + plen == key.size()) {
                descend_first(c, z, r);
                return;
            }
            const unsigned char b = k[depth + plen];
            const int pos = nd.lower_child_pos(b);
            c.stack.push_back({make_loc(z, r), pos, static_cast<std::uint32_t>(depth)});
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
                descend_first(c, nd.zone(), nd.child_at(pos));
                return;
            }
            r = nd.child_at(pos);
            z = nd.zone();
            depth += plen + 1;
        }
    }

    // ---- whole-tree walks -------------------------------------------------

    // Calls f(std::string_view key, loc_t leaf) for every leaf in key order;
    // f(key, block) with the leaf's address instead where f takes that
    // (FastArt's own walks, which then read the value without turning a loc
    // back into an address).
    // Depth-first over an explicit stack of pending entries (no recursion: a
    // tree of long keys can be as deep as its longest key). An entry carries
    // the key length above it, so the one key buffer is never copied: an
    // entry writes only at or past its own length, and every entry still on
    // the stack shares the bytes before its length with the current one.
    // Children are prefetched when pushed; the walk is bound by memory
    // latency, and the stack order puts many independent loads in flight.
    template <class F>
    void walk(F&& f) const {
        walk_from(root_zone_, root_, std::string_view{}, f);
    }

    // Calls f(key, leaf) (or f as in walk) for every key starting with p, in
    // key order: one descent to the subtree that holds them, then a walk of
    // that subtree.
    template <class F>
    void walk_prefix(std::string_view p, F&& f) const {
        const prefix_start at = lookup<false, true>(p);
        if (at.loc == 0) return;
        // A leaf (the one key) is delivered by walk_from without a walk.
        walk_from(zone_of(at.loc), ref_of(at.loc), first_n(p, at.depth), f);
    }

    // Hands one leaf of a walk to f in the form f takes (see walk).
    template <class F>
#if defined(__GNUC__) || defined(__clang__)
    [[gnu::always_inline]]
#endif
    static void deliver(F& f, std::string_view key, std::byte* block, loc_t leaf) {
        if constexpr (std::is_invocable_v<F&, std::string_view, std::byte*>) {
            f(key, block);
        } else {
            f(key, leaf);
        }
    }

    // Where the keys starting with p are: slot holds the subtree that has
    // exactly them (nullptr if there are none), parent the slot of the node
    // above it (nullptr at the root), depth the key bytes above slot (those
    // of p); spl and ppl say where the blocks in slot and parent live. One
    // descent along p, for erase_prefix, which changes what it finds (scans
    // take lookup<false, true>, whose top-row entry may be a copy).
    struct prefix_place {
        const ref_t* slot = nullptr;
        const ref_t* parent = nullptr;
        std::size_t depth = 0;
        place spl{};
        place ppl{};
    };
    prefix_place locate_prefix(std::string_view p) const noexcept {
        if (root_ == 0) return {};
        if (const std::uintptr_t b = arena_.single_flat_base(); b != 0) [[likely]] {
            return locate_prefix_in<false, true>(p, b);
        }
        // As descend: one flat zone (the common case) turns a reference
        // into an address with one add, and the zone of every block is the
        // root's, so no header's zone field is read; a scan that ends at one
        // leaf (a long prefix of a short key) was 1.3x libart's time with
        // the table at every level (bench/RESULTS.md, twenty-fifth session).
        if (arena_.zones() > 1) return locate_prefix_in<true, false>(p, 0);
        return locate_prefix_in<false, false>(p, 0);
    }

    template <bool MultiZone, bool Flat>
    prefix_place locate_prefix_in(std::string_view p, std::uintptr_t base) const noexcept {
        static_assert(!(Flat && MultiZone));
        const unsigned char* k = ubytes(p);
        prefix_place at{&root_, nullptr, 0, root_place(), {}};
        // As in emplace_from: one table row while the zone stays, and the
        // prefix compared in registers.
        const std::uintptr_t* row = arena_.row(at.spl.zone);
        const auto address = [&](ref_t x) {
            return block_in<Flat>(row, base, x);
        };
        while (at.depth < p.size()) {
            const ref_t r = *at.slot;
            if (is_leaf(r)) {
                // The leaf's key starts with p iff its suffix starts with
                // the rest of p (inline compare: a library call per scan
                // was a tenth of a short scan).
                std::byte* const block = address(untag(r));
                const std::string_view s = suffix_of(block);
                const std::size_t rest = p.size() - at.depth;
                if (s.size() < rest || !equal_bytes(ubytes(s), k + at.depth, rest)) return {};
                break;
            }
            const node_ref nd{address(r)};
            nd.prefetch_second_line();
            // As in descend: a node without a prefix leaves depth alone, so
            // the next byte's load does not wait on this header's load
            // (one-leaf scans 10-20% faster on binary, ints and uuid keys;
            // bench/RESULTS.md, twenty-sixth session).
            const std::size_t plen = nd.prefix_len();
            if (plen != 0) {
                const std::size_t avail = p.size() - at.depth;
                const std::size_t m = nd.match_prefix(k, at.depth, p.size());
                if (m < plen && m < avail) return {};
                if (avail <= plen) break;  // p ends inside or right after the prefix
                at.depth += plen;
            }
            const ref_t* cs = nd.find_child(k[at.depth]);
            if (cs == nullptr) return {};
            at.parent = at.slot;
            at.ppl = at.spl;
            at.slot = cs;
            if constexpr (MultiZone) {
                at.spl = below(nd);
                row = arena_.row(at.spl.zone);
            } else {
                MEMKV_ASSERT(nd.zone() == at.spl.zone);
                at.spl = {nd.p, at.spl.zone};
            }
            at.depth += 1;
        }
        return at;
    }

    // Hands f the one key base + the suffix of leaf block `block` (at leaf).
    //
    // A key of up to 128 bytes (a one-leaf scan's, mostly) is assembled in
    // a plain array: the key_buffer's setup and teardown (its std::string)
    // were a third of a one-leaf scan's instructions (bench/RESULTS.md,
    // twenty-sixth session).
    template <class F>
    static void deliver_leaf(F& f, std::string_view base, std::byte* block, loc_t leaf) {
        const std::string_view s = suffix_of(block);
        const std::size_t n = base.size() + s.size();
        if (n <= 128) [[likely]] {
            unsigned char k[128];
            deliver_key_in(f, k, base, s, block, leaf);
            return;
        }
        deliver_long_leaf(f, base, s, block, leaf);
    }
    template <class F>
    [[gnu::noinline]] static void deliver_long_leaf(F& f, std::string_view base, std::string_view s, std::byte* block,
                                                    loc_t leaf) {
        key_buffer buf;
        buf.reserve(base.size() + s.size(), 0);
        deliver_key_in(f, reinterpret_cast<unsigned char*>(buf.data()), base, s, block, leaf);
    }
    // deliver_leaf's key base + s, assembled in k.
    template <class F>
#if defined(__GNUC__) || defined(__clang__)
    [[gnu::always_inline]]
#endif
    static void deliver_key_in(F& f, unsigned char* k, std::string_view base, std::string_view s, std::byte* block,
                               loc_t leaf) {
        copy_bytes(k, ubytes(base), base.size());
        copy_bytes(k + base.size(), ubytes(s), s.size());
        deliver(f, std::string_view(reinterpret_cast<const char*>(k), base.size() + s.size()), block, leaf);
    }

    // The walk of the subtree start (in zone sz) whose key bytes above it
    // are base.
    template <class F>
    void walk_from(unsigned sz, ref_t start, std::string_view base, F& f) const {
        if (start == 0) return;
        if (is_leaf(start)) {
            // One key (a one-key tree, most scans of a long prefix): no
            // walk stack is set up.
            deliver_leaf(f, base, at(sz, start), make_loc(sz, start));
            return;
        }
        if (arena_.zones() > 1) {
            walk_zones<true, false>(sz, start, base, f);
        } else if (arena_.single_flat_base() != 0) {
            walk_zones<false, true>(sz, start, base, f);
        } else {
            walk_zones<false, false>(sz, start, base, f);
        }
    }

    // An entry of walk_zones's stack.
    struct walk_item {
        static constexpr std::uint32_t leaf_bit = 0x100;
        static constexpr std::uint32_t seen_bit = 0x200;  // look_ahead has been here
        std::uint64_t x;    // the block's address where the walk's f takes no loc, else its loc
        std::uint32_t len;  // key bytes above the entry's branch byte
        std::uint32_t tag;  // the branch byte, | leaf_bit for a leaf, | seen_bit
    };
    static_assert(sizeof(walk_item) == 16);
    static_assert(leaf_tag >> 23 == walk_item::leaf_bit);

    // A node's first entries are processed right after the node is expanded
    // (the second one at once if the first is a leaf), so their push-time
    // prefetches have no time to land. Start them earlier: the entry two
    // ahead in key order, if a node, was prefetched when pushed and has
    // likely arrived; fetch its first two entries now (count + terminal >= 2
    // makes both exist). One entry ahead reads a node still in flight and
    // stalls on it. Full nodes are rare and would need a scan; skipped.
    // Forced inline: g++ deems a function holding only prefetches free of
    // side effects and drops its calls.
    template <bool MultiZone, bool Flat, bool ByBlock>
#if defined(__GNUC__) || defined(__clang__)
    [[gnu::always_inline]]
#endif
    void look_ahead(walk_item* top, std::size_t d, const std::uintptr_t* row0, std::uintptr_t fbase) const noexcept {
        MEMKV_ASSERT(d <= 1);
        walk_item& a = top[-1 - static_cast<std::ptrdiff_t>(d)];
        // An entry is two ahead of several in turn (of a node's last two
        // leaves, then of the node's parent's next pop): fetch once.
        if ((a.tag & (walk_item::leaf_bit | walk_item::seen_bit)) != 0) return;
        a.tag |= walk_item::seen_bit;
        node_ref an{};
        if constexpr (ByBlock) {
            an.p = reinterpret_cast<std::byte*>(static_cast<std::uintptr_t>(a.x));
        } else {
            an.p = at(a.x);
        }
        if (an.full()) return;
        const std::uintptr_t* const ar = MultiZone ? arena_.row(an.zone()) : row0;
        prefetch_block(block_in<Flat>(ar, fbase, untag(an.terminal() ? *an.term() : an.refs()[1])));
        prefetch_block(block_in<Flat>(ar, fbase, untag(an.refs()[0])));
    }

    // A block's address from the walk's table row or, in a single flat
    // zone (Flat), from the zone's base: one add, no load of the row's
    // entry (a 512 KiB row read at random slots).
    template <bool Flat>
    static std::byte* block_in(const std::uintptr_t* row, std::uintptr_t fbase, ref_t r) noexcept {
        if constexpr (Flat) {
            MEMKV_ASSERT(slab_arena::ptr_flat(fbase, r) == slab_arena::ptr_in(row, r));
            return slab_arena::ptr_flat(fbase, r);
        } else {
            return slab_arena::ptr_in(row, r);
        }
    }

    // walk_from's loop. With one zone (a tree under 16 GiB) every block
    // address comes from one table row held in a register; through
    // arena_.ptr() the row was recomputed from the arena's members at every
    // use (the walk's own stores may alias them), a fifth of a walk's
    // instructions on words.txt. The stack's top and the key buffer are
    // likewise held in locals.
    template <bool MultiZone, bool Flat, class F>
    void walk_zones(unsigned sz, ref_t start, std::string_view base, F& f) const {
        static_assert(!(Flat && MultiZone));
        MEMKV_ASSERT(!is_leaf(start));  // walk_from's
        // Where f takes no loc an entry carries its block's address, computed
        // once (for the prefetch) when the entry is pushed.
        constexpr bool by_block = std::is_invocable_v<F&, std::string_view, std::byte*>;
        using item = walk_item;
        constexpr std::uint32_t leaf_bit = walk_item::leaf_bit;
        const std::uintptr_t* const row0 = arena_.row(sz);
        const std::uintptr_t fbase = Flat ? arena_.single_flat_base() : 0;
        const auto address = [&](std::uint64_t x) -> std::byte* {
            if constexpr (by_block) {
                return reinterpret_cast<std::byte*>(static_cast<std::uintptr_t>(x));
            } else {
                return at(x);
            }
        };

        // Both in this frame while small: a prefix scan of a few keys
        // paid more for the two heap allocations than for the walk. Under
        // the entries lie two sentinels that look_ahead takes for leaves,
        // so that it needs no bounds check.
        small_stack<item, 64> todo;
        item* top = todo.base();
        *top++ = {0, 0, leaf_bit};
        *top++ = {0, 0, leaf_bit};
        item* lo = top;
        item* lim = todo.limit();
        const auto stack_room = [&](std::size_t n) {
            if (static_cast<std::size_t>(lim - top) < n) [[unlikely]] {
                top = todo.grow(top, n);
                lo = todo.base() + 2;
                lim = todo.limit();
            }
        };
        key_buffer buf;
        char* kb = buf.data();
        std::size_t cap = buf.capacity();
        const auto key_room = [&](std::size_t need, std::size_t keep) {
            if (need > cap) [[unlikely]] {
                buf.reserve(need, keep);
                kb = buf.data();
                cap = buf.capacity();
            }
        };

        // The leaf at block below branch byte b at len (leaf: its loc, or
        // anything where f takes none). The buffer has room for any short
        // suffix and a word more (expand makes it so).
        const auto emit = [&](std::byte* block, unsigned char b, std::size_t len, loc_t leaf) {
            const auto* const q = reinterpret_cast<const unsigned char*>(block) + vsize;
            std::size_t n = len + 1;
            if (q[0] < 255) [[likely]] {
                const std::size_t slen = q[0];
                n += slen;
                if constexpr (vsize % slab_arena::unit == 0) {
                    // The length byte and the suffix in whole words from
                    // the aligned one that holds the length byte, all inside
                    // the block (it ends on a unit): a suffix under 8 bytes
                    // is one load and one store, with no branch on its
                    // length. The length byte lands on the branch byte's
                    // place, which is written after.
                    MEMKV_ASSERT(vsize + (slen / 8 + 1) * 8 <= leaf_units(slen) * slab_arena::unit);
                    auto* const dst = reinterpret_cast<unsigned char*>(kb + len);
                    std::memcpy(dst, q, 8);
                    if (slen >= 8) {
                        std::memcpy(dst + 8, q + 8, 8);
                        for (std::size_t i = 16; i <= slen; i += 8) std::memcpy(dst + i, q + i, 8);
                    }
                } else {
                    copy_bytes(reinterpret_cast<unsigned char*>(kb + n - slen), q + 1, slen);
                }
            } else {
                const std::string_view s = suffix_of(block);
                n += s.size();
                key_room(n, len);
                copy_bytes(reinterpret_cast<unsigned char*>(kb + len + 1), ubytes(s), s.size());
            }
            kb[len] = static_cast<char>(b);
            deliver(f, std::string_view(kb, n), block, leaf);
        };

        // The addresses of a linear node's children.
        std::byte* child[linear_caps[n_linear - 1]];

        // A node with len key bytes above it: its terminal and its leading
        // leaf children (those before the first inner child) are handed to f
        // at once, the other children pushed. Emitting them directly skips a
        // push and a pop per leaf; bottom nodes hold only leaves.
        const auto expand = [&](std::byte* p, std::size_t len) {
            const node_ref nd{p};
            const std::size_t plen = nd.prefix_len();
            // Room for a child's branch byte and any short suffix, which
            // emit copies in whole words, past the prefix (whose inline part
            // is copied whole).
            key_room(len + plen + 1 + 255 + 8, len);
            if (plen <= 8) [[likely]] {
                // Up to 8 bytes, inline or not, as one word (prefix_word):
                // the bytes past the prefix are overwritten or past the key.
                const std::uint64_t w = nd.prefix_word(plen);
                std::memcpy(kb + len, &w, sizeof w);
            } else {
                std::memcpy(kb + len, nd.h().prefix, inline_prefix);
                copy_bytes(reinterpret_cast<unsigned char*>(kb + len + inline_prefix), nd.prefix_tail(),
                           plen - inline_prefix);
            }
            len += plen;
            const unsigned cz = nd.zone();
            const std::uintptr_t* const row = MultiZone ? arena_.row(cz) : row0;
            const auto entry = [&](ref_t r, std::byte* a) -> std::uint64_t {
                if constexpr (by_block) {
                    return reinterpret_cast<std::uintptr_t>(a);
                } else {
                    return make_loc(cz, r);
                }
            };
            const auto terminal = [&] {
                const ref_t t = *nd.term();
                std::byte* const a = block_in<Flat>(row, fbase, untag(t));
                // A terminal leaf's suffix is empty.
                deliver(f, std::string_view(kb, len), a, make_loc(cz, t));
            };
            const ref_t* const refs = nd.refs();
            if (nd.full()) {
                stack_room(256);
                for (unsigned b = 256; b-- > 0;) {
                    const ref_t r = refs[b];
                    if (r == 0) continue;
                    std::byte* const a = block_in<Flat>(row, fbase, untag(r));
                    prefetch_block(a);
                    *top++ = {entry(r, a), static_cast<std::uint32_t>(len), b | ((r >> 23) & leaf_bit)};
                }
                if (nd.terminal()) {
                    look_ahead<MultiZone, Flat, by_block>(top, 1, row0, fbase);
                    terminal();
                }
                return;
            }
            const std::size_t n = nd.count();
            const unsigned char* const keys = nd.keys();
            // Every child is requested before the first is read.
            std::size_t first_inner = n;
            for (std::size_t i = n; i-- > 0;) {
                const ref_t r = refs[i];
                std::byte* const a = block_in<Flat>(row, fbase, untag(r));
                prefetch_block(a);
                child[i] = a;
                if (!is_leaf(r)) first_inner = i;
            }
            // Bottom nodes push nothing: no room check either.
            if (first_inner < n) {
                stack_room(n - first_inner);
                for (std::size_t i = n; i-- > first_inner;) {
                    const ref_t r = refs[i];
                    *top++ = {entry(r, child[i]), static_cast<std::uint32_t>(len), keys[i] | ((r >> 23) & leaf_bit)};
                }
            }
            // The lookahead of entry k (the terminal -1, child k) is entry
            // k + 2: a leaf while below first_inner, else on the stack.
            if (nd.terminal()) {
                if (first_inner <= 1) look_ahead<MultiZone, Flat, by_block>(top, 1 - first_inner, row0, fbase);
                terminal();
            }
            for (std::size_t i = 0; i < first_inner; ++i) {
                if (i + 2 >= first_inner) look_ahead<MultiZone, Flat, by_block>(top, i + 2 - first_inner, row0, fbase);
                emit(child[i], keys[i], len, make_loc(cz, refs[i]));
            }
        };

        key_room(2 * base.size(), 0);
        copy_bytes(reinterpret_cast<unsigned char*>(kb), ubytes(base), base.size());
        // One call of expand, so that it is inlined: as a function it
        // kept the walk's locals in memory.
        std::byte* nd = at(sz, start);
        std::size_t len = base.size();
        for (;;) {
            expand(nd, len);
            for (;;) {
                if (top == lo) return;
                const item it = *--top;
                look_ahead<MultiZone, Flat, by_block>(top, 1, row0, fbase);
                std::byte* const a = address(it.x);
                if ((it.tag & leaf_bit) == 0) {
                    kb[it.len] = static_cast<char>(it.tag);
                    nd = a;
                    len = std::size_t{it.len} + 1;
                    break;
                }
                emit(a, static_cast<unsigned char>(it.tag), it.len, it.x);
            }
        }
    }

    // Calls f(loc_t leaf) for every leaf, in no particular order.
    template <class F>
    void for_each_leaf(F&& f) const {
        if (root_ == 0) return;
        std::vector<loc_t> stack;
        std::size_t peak = 0;
        visit_subtree(make_loc(root_zone_, root_), stack, peak, f, [](loc_t) noexcept {});
    }

    void destroy_values() noexcept {
        if constexpr (!std::is_trivially_destructible_v<V>) {
            // The walk's small vector may fail to allocate; values are then
            // leaked rather than the process terminated.
            try {
                for_each_leaf([this](loc_t l) { value(l).~V(); });
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
            unsigned zone;
            bool terminal;
        };
        std::vector<item> todo{{root_, root_zone_, false}};
        while (!todo.empty()) {
            const item it = todo.back();
            todo.pop_back();
            if (!arena_.plausible(it.zone, untag(it.r))) fail("reference outside its zone");
            if (is_leaf(it.r)) {
                ++leaves;
                if (it.terminal && !suffix(it.zone, it.r).empty()) fail("terminal leaf with a suffix");
                if constexpr (boxed) {
                    loc_t b = 0;
                    std::memcpy(&b, at(it.zone, it.r), sizeof b);
                    if (!arena_.plausible(zone_of(b), ref_of(b))) fail("value box outside the arena");
                }
                continue;
            }
            if (it.terminal) fail("terminal slot holds an inner node");
            const node_ref nd = node(it.zone, it.r);
            const std::uint8_t kind = nd.kind();
            const bool known = kind == full_kind ||
                               std::find(std::begin(linear_caps), std::end(linear_caps), kind) !=
                                   std::end(linear_caps);
            if (!known) fail("unknown node kind");
            const unsigned cz = nd.zone();
            if (cz >= arena_.zones()) fail("child zone not open");
            if (nd.count() + (nd.terminal() ? 1 : 0) < 2) fail("node with fewer than two entries");
            if (nd.terminal()) todo.push_back({*nd.term(), cz, true});
            if (kind == full_kind) {
                std::size_t n = 0;
                for (std::size_t b = 0; b < 256; ++b) {
                    if (nd.refs()[b] != 0) {
                        ++n;
                        todo.push_back({nd.refs()[b], cz, false});
                    }
                }
                if (n != nd.count()) fail("full node count mismatch");
            } else {
                if (nd.count() > kind) fail("linear node over capacity");
                for (std::size_t i = 0; i < nd.count(); ++i) {
                    if (i > 0 && nd.keys()[i - 1] >= nd.keys()[i]) fail("linear keys not increasing");
                    if (nd.refs()[i] == 0) fail("null child in a linear node");
                    todo.push_back({nd.refs()[i], cz, false});
                }
            }
        }
        if (leaves != size_) fail("leaf count differs from size()");
        if (jump_.node != 0) {
            // The plain descent along the jump's path must arrive at the
            // jump node exactly at its depth.
            ref_t r = root_;
            unsigned z = root_zone_;
            std::size_t depth = 0;
            while (depth < jump_.depth) {
                if (is_leaf(r)) fail("jump path ends in a leaf");
                const node_ref nd = node(z, r);
                const std::size_t plen = nd.prefix_len();
                if (nd.match_prefix(jump_.path, depth, jump_.depth) != plen || depth + plen >= jump_.depth) {
                    fail("jump path leaves the tree");
                }
                depth += plen;
                const ref_t* cs = nd.find_child(jump_.path[depth]);
                if (cs == nullptr) fail("jump path leaves the tree");
                r = *cs;
                z = nd.zone();
                ++depth;
            }
            if (r != jump_.node || z != jump_.zone || is_leaf(r) || !node(z, r).full()) {
                fail("jump node is not where its path leads");
            }
        }
        if (top_ != nullptr) verify_top(fail);
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
    // path alone) reset the jump; a rezone of its parent moves the node
    // and updates node and zone. verify() checks it.
    static constexpr std::size_t jump_min_depth = 8;
    static constexpr std::size_t jump_max_depth = 56;
    static constexpr std::int32_t jump_score_start = 8;
    static constexpr std::int32_t jump_score_max = 64;

    struct jump_state {
        ref_t node = 0;
        std::uint32_t zone = 0;  // where node lives
        std::uint32_t depth = 0;
        std::int32_t score = 0;
        unsigned char path[jump_max_depth] = {};
    };

    bool jump_applies(std::string_view key) const noexcept {
        return key.size() >= jump_.depth && equal_bytes(ubytes(key), jump_.path, jump_.depth);
    }

    bool is_jump(unsigned z, ref_t r) const noexcept { return r == jump_.node && z == jump_.zone; }

    void set_jump(unsigned z, ref_t r, std::string_view path) noexcept {
        jump_.node = r;
        jump_.zone = z;
        jump_.depth = static_cast<std::uint32_t>(path.size());
        jump_.score = jump_score_start;
        copy_bytes(jump_.path, ubytes(path), path.size());
    }

    // ---- the top rows -------------------------------------------------------
    //
    // Where no long prefix is shared (random binary keys, integers, uuids,
    // names), a lookup spends its first two levels in the root and in one of
    // its children: nodes that stay in the caches, but whose header loads,
    // kind branches and child searches sit on the chain of dependent steps
    // before the first miss. The rows make those two levels two loads: for a
    // byte b at the root, when the root's child there is an inner node
    // without a prefix, row[b] gives that child's children by byte -- a copy
    // of 256 references, or the child's own array when it is full. A key
    // that reaches two bytes past the root's prefix starts its descent at
    // row[b0][b1]. Under a full root of full children (random binary keys,
    // integers) the rows save no load, as the plain descent also reads
    // root[b0] and child[b1], but they save the two levels' instructions
    // (headers, kinds, prefix and end tests: 13 of 128 a lookup), and a
    // lookup's instructions bound how far the core overlaps the next ones
    // (bench/RESULTS.md, thirty-third session: lookups 7-12% faster).
    //
    // Built once the tree holds top_min_keys keys, so that the copies (1 KiB
    // each, at most 256) add at most 4 bytes a key; kept up to date by every
    // insert and erase (the key's entry, or its row when the root's child
    // changed), rebuilt when the root changes (rationed: top_rebuild),
    // dropped by a rezone (rows read every reference in the root's zone) and
    // by clear(). A copy that cannot be allocated leaves its row null:
    // lookups then take the plain descent.
    //
    // Invariant (verify()): top_ is null, or the tree has one zone and root_
    // is the inner node `root` whose prefix is prefix[0, depth); mid[b] is
    // the root's child at b (0 if none); row[b] is null or holds, for every
    // byte c, mid[b]'s child at c (0 if none), mid[b] being an inner node
    // without a prefix; copies counts the allocated copies and rows the
    // non-null rows; top_live_, what lookups read, is top_ when it has a
    // row, else null.
    static constexpr std::size_t top_min_keys = MEMKV_FAST_ART_TOP_MIN_KEYS;
    // Changes between two builds of the rows (see top_rebuild).
    static constexpr std::size_t top_rebuild_ops = top_min_keys / 16;
    static constexpr std::size_t top_max_prefix = 8;

    struct top_rows {
        const ref_t* row[256] = {};
        ref_t mid[256] = {};
        ref_t root = 0;
        std::uint32_t depth = 0;
        std::uint32_t rows = 0;  // non-null rows
        unsigned char prefix[top_max_prefix] = {};
        std::unique_ptr<ref_t[]> copy[256];
        std::size_t copies = 0;

        std::size_t footprint() const noexcept {
            return sizeof(top_rows) + copies * 256 * sizeof(ref_t) + (copies + 1) * slab_arena::malloc_overhead;
        }
        void drop_copy(unsigned b) noexcept {
            if (copy[b] != nullptr) {
                copy[b].reset();
                --copies;
            }
        }
    };

    // The entry of t (d: t.depth) for key k (len bytes): the slot of the keys
    // that begin with the root's prefix and k's next two bytes (at depth d + 2),
    // or nullptr where no row applies (k too short or off the prefix, or
    // its byte's root child has no row). An empty slot: no such keys.
#if defined(__GNUC__) || defined(__clang__)
    [[gnu::always_inline]]
#endif
    static const ref_t* top_entry(const top_rows& t, std::size_t d, const unsigned char* k, std::size_t len) noexcept {
        MEMKV_ASSERT(d == t.depth);
        if (len < d + 2 || (d != 0 && !equal_bytes(k, t.prefix, d))) return nullptr;
        const ref_t* const row = t.row[k[d]];
        return row != nullptr ? row + k[d + 1] : nullptr;
    }

    // A change of the root drops the rows at once but builds them again only
    // after top_rebuild_ops more changes: a key that splits the root's prefix,
    // inserted and erased in a loop, rebuilt all rows at each step (an
    // insert and erase pair 98 -> 3447 ns; bench/RESULTS.md, twenty-ninth
    // session). A build costs at most 256 child searches and 256 KiB of
    // copies, so this bounds its share of each change.
    void top_rebuild() noexcept {
        if (top_ops_ < top_rebuild_ops) {
            top_reset();
            return;
        }
        top_build();
    }

    void top_build() noexcept {
        top_reset();
        if (size_ < top_min_keys || root_ == 0 || is_leaf(root_) || arena_.zones() > 1) return;
        const node_ref rt = node(root_zone_, root_);
        const std::size_t d = rt.prefix_len();
        if (d > top_max_prefix) return;
        std::unique_ptr<top_rows> t{new (std::nothrow) top_rows};
        if (t == nullptr) return;
        top_ops_ = 0;
        t->root = root_;
        t->depth = static_cast<std::uint32_t>(d);
        rt.copy_prefix(t->prefix);
        top_ = std::move(t);
        for (unsigned b = 0; b < 256; ++b) {
            const ref_t* cs = rt.find_child(static_cast<unsigned char>(b));
            top_set_row(b, cs != nullptr ? *cs : 0);
        }
    }

    void top_reset() noexcept {
        top_.reset();
        top_live_ = nullptr;
    }

    void top_set_row(unsigned b, ref_t m) noexcept {
        top_rows& t = *top_;
        t.rows -= t.row[b] != nullptr ? 1 : 0;
        t.mid[b] = m;
        t.row[b] = nullptr;
        top_set_row_to(b, m);
        t.rows += t.row[b] != nullptr ? 1 : 0;
        top_live_ = t.rows != 0 ? &t : nullptr;
    }

    void top_set_row_to(unsigned b, ref_t m) noexcept {
        top_rows& t = *top_;
        if (m == 0 || is_leaf(m) || node(root_zone_, m).prefix_len() != 0) {
            t.drop_copy(b);
            return;
        }
        const node_ref nd = node(root_zone_, m);
        if (nd.full()) {
            t.drop_copy(b);
            t.row[b] = nd.full_refs();
            return;
        }
        if (t.copy[b] == nullptr) {
            t.copy[b].reset(new (std::nothrow) ref_t[256]);
            if (t.copy[b] == nullptr) return;
            ++t.copies;
        }
        ref_t* c = t.copy[b].get();
        std::fill_n(c, 256, ref_t{0});
        for (std::size_t i = 0; i < nd.count(); ++i) c[nd.keys()[i]] = nd.refs()[i];
        t.row[b] = c;
    }

    // After an insert or erase of key. The rows read the root, its
    // children's slots and those children's slots: a change that wrote only
    // below them (touched_hop_ >= 2: a node two levels below the root
    // changed in place, or a slot of such a node was rewritten) leaves them
    // as they are, and skips top_sync's two child searches (31-95
    // instructions an insert; bench/RESULTS.md, thirtieth session). So
    // does a change one level lower (touched_hop_ == 1: the root's child
    // changed in place, or one of its slots was rewritten) when that child
    // has no copied row: its row is then its own array or none, and the
    // child itself is the same block (binary keys: root and children full,
    // no rows at all, and most inserts write there).
    void top_sync_change(std::string_view key) noexcept {
        if (top_ != nullptr && root_ == top_->root &&
            (touched_hop_ >= 2 ||
             (touched_hop_ == 1 && key.size() > top_->depth && top_->copy[ubytes(key)[top_->depth]] == nullptr))) {
            ++top_ops_;
            return;
        }
        top_sync(key);
    }

    // After an insert or erase of key that changed the tree. Only the
    // key's path changed: the root (a new root block, or its prefix cut),
    // the root's child at the key's byte (a new block), or that child's
    // slot at the next byte.
    void top_sync(std::string_view key) noexcept {
        ++top_ops_;
        if (top_ == nullptr || root_ != top_->root) {
            if (top_ != nullptr || size_ >= top_min_keys) top_rebuild();
            return;
        }
        top_rows& t = *top_;
        const std::size_t d = t.depth;
        const node_ref rt = node(root_zone_, root_);
        if (rt.prefix_len() != d) {
            top_rebuild();
            return;
        }
        if (key.size() <= d) return;  // the root's own terminal
        const unsigned char* k = ubytes(key);
        const unsigned b = k[d];
        const ref_t* cs = rt.find_child(static_cast<unsigned char>(b));
        const ref_t m = cs != nullptr ? *cs : 0;
        if (m != t.mid[b]) {
            top_set_row(b, m);
            return;
        }
        // A full child's row is its own array, already current.
        if (key.size() < d + 2 || t.row[b] == nullptr || t.row[b] != t.copy[b].get()) return;
        const ref_t* c = node(root_zone_, m).find_child(k[d + 1]);
        t.copy[b][k[d + 1]] = c != nullptr ? *c : 0;
    }

    template <class Fail>
    void verify_top(Fail& fail) const {
        const top_rows& t = *top_;
        if (root_ != t.root || is_leaf(root_) || arena_.zones() > 1) fail("top rows of another root");
        const node_ref rt = node(root_zone_, root_);
        if (rt.prefix_len() != t.depth || t.depth > top_max_prefix) fail("top rows' depth is not the root's prefix");
        unsigned char pre[top_max_prefix] = {};
        rt.copy_prefix(pre);
        if (!equal_bytes(pre, t.prefix, t.depth)) fail("top rows' prefix is not the root's");
        std::size_t copies = 0;
        for (unsigned b = 0; b < 256; ++b) {
            const ref_t* cs = rt.find_child(static_cast<unsigned char>(b));
            const ref_t m = cs != nullptr ? *cs : 0;
            if (m != t.mid[b]) fail("top row of a root child that moved");
            if (t.copy[b] != nullptr) ++copies;
            if (t.row[b] == nullptr) continue;
            if (m == 0 || is_leaf(m) || node(root_zone_, m).prefix_len() != 0) fail("top row of no plain node");
            const node_ref nd = node(root_zone_, m);
            for (unsigned c = 0; c < 256; ++c) {
                const ref_t* gs = nd.find_child(static_cast<unsigned char>(c));
                if ((gs != nullptr ? *gs : 0) != t.row[b][c]) fail("top row differs from its node");
            }
        }
        if (copies != t.copies) fail("top rows' copy count");
        std::uint32_t rows = 0;
        for (unsigned b = 0; b < 256; ++b) rows += t.row[b] != nullptr ? 1 : 0;
        if (rows != t.rows || top_live_ != (rows != 0 ? &t : nullptr)) fail("top rows' count");
    }

    // The fewest units the tree asks the arena for: a split free block's
    // rest is never smaller (slab_arena's constructor).
    static constexpr unsigned smallest_block = static_cast<unsigned>(
        std::min({slab_arena::units_for(node_bytes(linear_caps[0], false, 0)), leaf_units(0),
                  boxed ? slab_arena::units_for(sizeof(V)) : leaf_units(0)}));
    slab_arena arena_{smallest_block};
    ref_t root_ = 0;
    unsigned root_zone_ = 0;  // where the root block lives
    std::size_t rezones_ = 0;
    std::size_t size_ = 0;
    jump_state jump_;
    std::unique_ptr<top_rows> top_;
    const top_rows* top_live_ = nullptr;  // top_ when it has a row, for lookups
    std::size_t top_ops_ = 0;             // changes since the rows were last built
    // Where the last insert or erase wrote, in levels below the root: the
    // node it changed in place, or the node holding the slot it rewrote (0
    // when not known). Read only by top_sync_change.
    std::size_t touched_hop_ = 0;
#if MEMKV_DEBUG_ITERATORS
    std::uint64_t gen_ = 0;
#endif
};

}  // namespace memkv::detail::art
