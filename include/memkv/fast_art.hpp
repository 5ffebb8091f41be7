#pragma once

// memkv::FastArt<V>: a mutable, ordered map from byte-string keys to V,
// stored as an adaptive radix tree in a tree-owned slab arena.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <memkv/detail/art/tree.hpp>
#include <memkv/detail/assert.hpp>
#include <memkv/detail/fwd.hpp>
#include <memkv/entry.hpp>
#include <memkv/key_view.hpp>

namespace memkv {

template <class V, bool Const>
class fast_art_view;

// FastArt<V> -- ordered map from byte-string keys (memkv::key_view) to V.
//
// Keys: any byte string of 0 .. max_key_size() (2^32-1) bytes, including the
//   empty key and keys holding '\0' or '\xff'; a key may be a prefix of
//   another. Longer keys throw std::length_error. Keys order bytewise
//   (unsigned), shorter before longer on a shared prefix, like std::string.
//   Every member that takes a key takes memkv::key_view, which converts
//   without copying from std::string, std::string_view, const char*, string
//   literals, std::span<const std::byte>, std::span<const unsigned char> and
//   std::vector<unsigned char>.
// Values: V must be move-constructible, destructible and alignof(V) <= 8
//   (checked by static_asserts naming memkv::FastArt<V>). Move-only types
//   work; FastArt is copyable exactly when V is copy-constructible. A V
//   whose move constructor may throw is boxed in its own arena block (the
//   block, 8 bytes of its address in the leaf, and one indirection) so the
//   tree never has to move it. Each stored V is destroyed exactly once.
// Complexity: find / insert / erase / lower_bound are O(key length), with at
//   most one node visit per distinguishing byte; ++ and -- are amortized O(1)
//   (a step through a 256-wide node scans up to 256 slots). Iteration yields
//   keys in byte order. Inserts learn one "jump": a 256-wide node below a
//   long path most keys share (on URLs, "https://github.com/"); find and
//   insert of a key with that prefix start there instead of at the root.
//   Only inserts update it, so const calls stay read-only (DESIGN.md).
// Memory: nodes and leaves live in an arena of 8-byte units addressed by
//   32-bit references within zones of 16 GiB; a tree holds up to 128 zones,
//   2 TiB of nodes and leaves (std::bad_alloc beyond; DESIGN.md, "Zones").
//   memory_usage() is exact: every byte the arena holds plus its
//   bookkeeping and an allowance for the system allocator. Erased blocks are
//   reused by later inserts; erasing the last key returns everything.
// Exception guarantee: insert, try_emplace, insert_or_assign (insert part),
//   erase(key), erase(iterator), erase_prefix, copy: strong. The iterator that insert,
//   try_emplace and insert_or_assign return is built (its copy of the key
//   allocated) before the tree changes, so nothing throws after it has.
//   An erase can only throw std::bad_alloc (when the last two entries of a
//   node are merged into one); the tree is unchanged then. erase(first, last)
//   erases key by key: basic guarantee. Assignment of a value in
//   insert_or_assign is V's own guarantee.
// Iterators: bidirectional (std::bidirectional_iterator, iterator_concept),
//   classic iterator_category input (the reference is not a true reference).
//   *it returns a `const memkv::entry<V&>` (const_iterator: entry<const V&>):
//   a pair whose .first is a copy of the key (keys are spread over the path
//   from the root, never stored whole: each dereference allocates when the
//   key is longer than std::string's small buffer) and whose .second refers
//   to the value in the tree. The entry owns its key, so it outlives the
//   iterator; it->first works through a proxy that owns the entry.
//   for (auto& [k, v] : m), const auto& and auto bindings all work (v is V&
//   on a mutable map). Cheaper accessors: it.key(buf) (reuses a buffer),
//   it.key() and it.value() (no key copy). An iterator holds the path from
//   the root (a small vector) and the key bytes above its leaf, so copying
//   one allocates. Iterators returned by find / insert / try_emplace /
//   insert_or_assign / longest_prefix start "lazy" (they hold only the key)
//   and build their path on the first ++ or --. --end() is the last element.
//   Legacy helpers that dispatch on iterator_category see an input iterator:
//   std::prev and std::advance(it, -n) must not be used (they cannot step
//   back); std::ranges::prev / std::ranges::advance and --it can.
//   Reverse iteration: reverse_iterator is std::reverse_iterator<iterator>;
//   each *rit copies the iterator and steps it back (a copy of the path plus
//   an O(1) amortized step), so a long backward walk is cheaper as a loop of
//   --it with it.key(buf).
//   ++ and -- may allocate (the path grows); if one throws std::bad_alloc,
//   the map is unchanged and that iterator is left equal to end(), from
//   which -- finds the last element. Other iterators are unaffected.
//   Any successful insertion or erasure (and clear, erase_prefix, swap, move)
//   invalidates every iterator and view except end() iterators, which stay
//   valid as long as the map object lives. In debug and sanitizer builds
//   (MEMKV_DEBUG_ITERATORS, detail/assert.hpp) the tree counts its
//   modifications and an iterator used after one (dereference, ++, --,
//   key(), value()) fails an assertion; Release builds carry no counter.
//   Pointers and references to values stay valid across operations on other
//   keys, with two exceptions (neither applies to a boxed V, which never
//   moves): an insert that splits a leaf may move that one leaf's value to a
//   right-sized block, and an erase that merges a node may move the value of
//   the one remaining sibling leaf. Unlike std::map, iterators refer to the
//   map object: a swap or move does not carry them to the other map.
// Views: prefix(p), range(lo, hi) (half-open, empty if hi <= lo) and from(k)
//   (keys >= k) return fast_art_view: a bidirectional, common, borrowed
//   std::ranges::view of two iterators (views::reverse, std::ranges
//   algorithms, range-for). Building one costs two seeks.
// Thread safety: like a standard container. Concurrent const calls are
//   safe; any mutation needs exclusive access.
template <class V>
class FastArt {
    static_assert(alignof(V) <= 8, "memkv::FastArt<V>: alignof(V) must be at most 8 (values live in 8-byte arena units)");
    static_assert(std::is_move_constructible_v<V>, "memkv::FastArt<V>: V must be move-constructible");
    static_assert(std::is_destructible_v<V>, "memkv::FastArt<V>: V must be destructible");

    using tree_type = detail::art::tree<V>;
    using cursor = detail::art::cursor;
    using loc_t = detail::art::loc_t;

public:
    using key_type = std::string;
    using mapped_type = V;
    using value_type = std::pair<std::string, V>;
    using size_type = std::size_t;
    using difference_type = std::ptrdiff_t;
    using reference = const entry<V&>;
    using const_reference = const entry<const V&>;

    // A bidirectional iterator whose *it is a const entry<V&> (see the
    // contract above); it.key() / it.key(buf) / it.value() are the cheap
    // accessors.
    template <bool Const>
    class basic_iterator {
    public:
        using iterator_concept = std::bidirectional_iterator_tag;
        // reference is a prvalue: the classic category claims no more than
        // input (std::reverse_iterator and the ranges use iterator_concept).
        using iterator_category = std::input_iterator_tag;
        using value_type = std::pair<std::string, V>;
        using difference_type = std::ptrdiff_t;
        using value_ref = std::conditional_t<Const, const V&, V&>;
        using reference = const entry<value_ref>;
        using pointer = detail::arrow_proxy<entry<value_ref>>;

        basic_iterator() = default;
        // iterator -> const_iterator
        template <bool C = Const, class = std::enable_if_t<C>>
        basic_iterator(const basic_iterator<false>& o)  // NOLINT: implicit like std containers
            : tree_(o.tree_), c_(o.c_), lazy_(o.lazy_) {
            copy_generation(o);
        }
        template <bool C = Const, class = std::enable_if_t<C>>
        basic_iterator(basic_iterator<false>&& o) noexcept  // NOLINT: implicit like std containers
            : tree_(o.tree_), c_(std::move(o.c_)), lazy_(o.lazy_) {
            copy_generation(o);
        }

        std::string key() const {
            std::string k;
            key(k);
            return k;
        }
        // Writes the key into out, reusing its capacity.
        void key(std::string& out) const {
            check_element();
            out.assign(c_.path);
            if (!lazy_) out.append(tree_->suffix(c_.leaf));
        }
        value_ref value() const noexcept {
            check_element();
            return tree_->value(c_.leaf);
        }

        // The element: the key copied out, the value by reference.
        reference operator*() const { return reference(key(), value()); }
        pointer operator->() const { return pointer{entry<value_ref>(key(), value())}; }

        basic_iterator& operator++() {
            check_valid();
            try {
                materialize();
                tree_->advance(c_);
            } catch (...) {
                to_end();
                throw;
            }
            return *this;
        }
        basic_iterator operator++(int) {
            basic_iterator t = *this;
            ++*this;
            return t;
        }
        basic_iterator& operator--() {
            check_valid();
            // An end iterator is never invalidated: from it, -- finds the
            // last element of the tree as it is now.
            if (c_.leaf == 0) stamp();
            try {
                materialize();
                tree_->retreat(c_);
            } catch (...) {
                to_end();
                throw;
            }
            return *this;
        }
        basic_iterator operator--(int) {
            basic_iterator t = *this;
            --*this;
            return t;
        }

        template <bool C>
        bool operator==(const basic_iterator<C>& o) const noexcept {
            return c_.leaf == o.c_.leaf;
        }

    private:
        friend class FastArt;
        template <bool>
        friend class basic_iterator;

        explicit basic_iterator(const tree_type* t) noexcept : tree_(t) { stamp(); }

        // A step that throws (std::bad_alloc while the path grows) has left
        // the path half-updated above the old leaf: end() is the one
        // position that needs none of it, and stays valid.
        void to_end() noexcept {
            c_.reset();
            lazy_ = false;
        }

        // A lazy iterator holds only its full key in c_.path; build the path.
        void materialize() {
            if (!lazy_) return;
            const std::string k = std::move(c_.path);
            tree_->lower_bound(c_, k);
            lazy_ = false;
        }

        // Debug builds: the tree's modification count when this iterator was
        // made; every use but == checks it (end iterators excepted).
        void stamp() noexcept {
#if MEMKV_DEBUG_ITERATORS
            gen_ = tree_->generation();
#endif
        }
        template <class It>
        void copy_generation([[maybe_unused]] const It& o) noexcept {
#if MEMKV_DEBUG_ITERATORS
            gen_ = o.gen_;
#endif
        }
        void check_valid() const noexcept {
#if MEMKV_DEBUG_ITERATORS
            MEMKV_ASSERT(tree_ != nullptr && "use of a default-constructed FastArt iterator");
            MEMKV_ASSERT((c_.leaf == 0 || gen_ == tree_->generation()) &&
                         "use of a FastArt iterator invalidated by an insert or erase");
#endif
        }
        void check_element() const noexcept {
            check_valid();
            MEMKV_ASSERT(c_.leaf != 0 && "FastArt: dereference of end()");
        }

        const tree_type* tree_ = nullptr;
        cursor c_;
        bool lazy_ = false;
#if MEMKV_DEBUG_ITERATORS
        std::uint64_t gen_ = 0;
#endif
    };

    using iterator = basic_iterator<false>;
    using const_iterator = basic_iterator<true>;
    using reverse_iterator = std::reverse_iterator<iterator>;
    using const_reverse_iterator = std::reverse_iterator<const_iterator>;

    // [first, last) of this map: prefix(), range(), from().
    using view = fast_art_view<V, false>;
    using const_view = fast_art_view<V, true>;

    // ---- construction -----------------------------------------------------

    FastArt() = default;
    FastArt(const FastArt& o)
        requires std::copy_constructible<V>
    {
        o.for_each([this](std::string_view k, const V& v) { tree_.emplace(k, v); });
    }
    // The moved-from map is empty and usable.
    FastArt(FastArt&& o) noexcept = default;
    FastArt& operator=(const FastArt& o)
        requires std::copy_constructible<V>
    {
        if (this != &o) {
            FastArt t(o);
            swap(t);
        }
        return *this;
    }
    FastArt& operator=(FastArt&& o) noexcept = default;
    ~FastArt() = default;

    void swap(FastArt& o) noexcept { tree_.swap(o.tree_); }
    friend void swap(FastArt& a, FastArt& b) noexcept { a.swap(b); }

    static constexpr size_type max_key_size() noexcept { return detail::art::max_key_size; }

    // ---- capacity ---------------------------------------------------------

    size_type size() const noexcept { return tree_.size(); }
    bool empty() const noexcept { return tree_.size() == 0; }
    // Bytes held by this object and everything it owns, allocator overhead
    // included.
    size_type memory_usage() const noexcept { return tree_.memory_usage(); }

    // ---- modifiers --------------------------------------------------------

    void clear() noexcept { tree_.clear(); }

    std::pair<iterator, bool> insert(key_view key, const V& v) { return try_emplace(key, v); }
    std::pair<iterator, bool> insert(key_view key, V&& v) { return try_emplace(key, std::move(v)); }

    // Constructs V from args only if key is absent; args are untouched otherwise.
    template <class... Args>
    std::pair<iterator, bool> try_emplace(key_view key, Args&&... args) {
        iterator it = lazy_iterator(key);  // allocates before the tree changes
        const auto [leaf, inserted] = tree_.emplace(key, std::forward<Args>(args)...);
        return {settle(std::move(it), leaf), inserted};
    }

    // Like try_emplace, but returns a pointer to the value and builds no
    // iterator: the fast path for bulk loading.
    template <class... Args>
    std::pair<V*, bool> try_emplace_value(key_view key, Args&&... args) {
        const auto [leaf, inserted] = tree_.emplace(key, std::forward<Args>(args)...);
        return {&tree_.value(leaf), inserted};
    }

    template <class M>
    std::pair<iterator, bool> insert_or_assign(key_view key, M&& m) {
        iterator it = lazy_iterator(key);  // allocates before the tree changes
        const auto [leaf, inserted] = tree_.emplace(key, std::forward<M>(m));
        // Forwarding m twice is sound: emplace does not touch its arguments
        // when the key is present.
        if (!inserted) tree_.value(leaf) = std::forward<M>(m);
        return {settle(std::move(it), leaf), inserted};
    }

    V& operator[](key_view key)
        requires std::default_initializable<V>
    {
        return *try_emplace_value(key).first;
    }

    size_type erase(key_view key) { return tree_.erase(key); }

    // Returns the iterator after pos. Strong guarantee: the key after pos
    // and the iterator to return are made before the tree changes, so the
    // erase is the last step that can throw.
    iterator erase(const_iterator pos) {
        const std::string k = pos.key();
        ++pos;
        if (pos == cend()) {
            tree_.erase(k);
            return end();
        }
        iterator next = lazy_iterator(pos.key());
        tree_.erase(k);
        const loc_t at = tree_.find(next.c_.path);
        return settle(std::move(next), at);
    }
    iterator erase(iterator pos) { return erase(const_iterator(std::move(pos))); }

    // Erases the keys of [first, last); returns an iterator to the key last
    // referred to (end() if last was end()). Like erase(iterator) it works
    // key by key: O(k * key length) for k keys, no extra memory. Basic
    // guarantee: if an erase throws (std::bad_alloc on a node merge), the
    // keys before the failing one are gone and the rest are still there.
    iterator erase(const_iterator first, const_iterator last) {
        const bool to_end = last == cend();
        const std::string stop = to_end ? std::string() : last.key();
        if (first == last) return to_end ? end() : lower_bound(stop);
        std::string k = first.key();
        for (;;) {
            tree_.erase(k);
            iterator next = lower_bound(k);
            if (next == end()) return next;
            next.key(k);
            if (!to_end && k >= stop) return next;
        }
    }

    // Erases every key starting with p; returns how many. One descent, then
    // the subtree holding them is freed whole: O(key length + erased keys).
    // Strong guarantee.
    size_type erase_prefix(key_view p) { return tree_.erase_prefix(p); }

    // ---- lookup -----------------------------------------------------------

    iterator find(key_view key) { return find_impl<false>(key); }
    const_iterator find(key_view key) const { return find_impl<true>(key); }
    bool contains(key_view key) const noexcept { return tree_.find(key) != 0; }
    size_type count(key_view key) const noexcept { return contains(key) ? 1 : 0; }

    // Pointer to the value, or nullptr: works for any V, copies nothing.
    V* get_if(key_view key) noexcept {
        const loc_t l = tree_.find(key);
        return l != 0 ? &tree_.value(l) : nullptr;
    }
    const V* get_if(key_view key) const noexcept {
        const loc_t l = tree_.find(key);
        return l != 0 ? &tree_.value(l) : nullptr;
    }
    std::optional<V> get(key_view key) const
        requires std::copy_constructible<V>
    {
        const V* v = get_if(key);
        return v != nullptr ? std::optional<V>(*v) : std::nullopt;
    }

    V& at(key_view key) {
        V* v = get_if(key);
        if (v == nullptr) throw std::out_of_range("memkv::FastArt::at: key not found");
        return *v;
    }
    const V& at(key_view key) const {
        const V* v = get_if(key);
        if (v == nullptr) throw std::out_of_range("memkv::FastArt::at: key not found");
        return *v;
    }

    // The element whose key is the longest prefix of key, or end().
    iterator longest_prefix(key_view key) { return longest_prefix_impl<false>(key); }
    const_iterator longest_prefix(key_view key) const { return longest_prefix_impl<true>(key); }

    // ---- ordered access ---------------------------------------------------

    iterator begin() { return edge<false>(); }
    const_iterator begin() const { return edge<true>(); }
    const_iterator cbegin() const { return begin(); }
    iterator end() { return iterator(&tree_); }
    const_iterator end() const { return const_iterator(&tree_); }
    const_iterator cend() const { return end(); }

    // std::reverse_iterator over end() / begin(): *rit is *--copy_of(base).
    reverse_iterator rbegin() { return reverse_iterator(end()); }
    const_reverse_iterator rbegin() const { return const_reverse_iterator(end()); }
    const_reverse_iterator crbegin() const { return rbegin(); }
    reverse_iterator rend() { return reverse_iterator(begin()); }
    const_reverse_iterator rend() const { return const_reverse_iterator(begin()); }
    const_reverse_iterator crend() const { return rend(); }

    iterator lower_bound(key_view key) { return bound<false>(key, false); }
    const_iterator lower_bound(key_view key) const { return bound<true>(key, false); }
    iterator upper_bound(key_view key) { return bound<false>(key, true); }
    const_iterator upper_bound(key_view key) const { return bound<true>(key, true); }
    std::pair<iterator, iterator> equal_range(key_view key) { return {lower_bound(key), upper_bound(key)}; }
    std::pair<const_iterator, const_iterator> equal_range(key_view key) const {
        return {lower_bound(key), upper_bound(key)};
    }

    // All keys starting with p, in order.
    view prefix(key_view p) { return prefix_impl<false>(p); }
    const_view prefix(key_view p) const { return prefix_impl<true>(p); }
    // Keys in [lo, hi); empty if hi <= lo.
    view range(key_view lo, key_view hi) { return range_impl<false>(lo, hi); }
    const_view range(key_view lo, key_view hi) const { return range_impl<true>(lo, hi); }
    // Keys >= key: [lower_bound(key), end()).
    view from(key_view key) { return view(lower_bound(key), end()); }
    const_view from(key_view key) const { return const_view(lower_bound(key), end()); }

    // Calls f(std::string_view key, V& value) for every element in key order.
    // Cheaper than iterators: one path stack, one key buffer.
    template <class F>
    void for_each(F&& f) {
        walk<V>(f);
    }
    template <class F>
    void for_each(F&& f) const {
        walk<const V>(f);
    }

    // Calls f(std::string_view key, V& value) for every key starting with p,
    // in key order: one descent, then a walk of the matching subtree.
    template <class F>
    void for_each_prefix(key_view p, F&& f) {
        tree_.walk_prefix(p, [&](std::string_view k, loc_t leaf) { f(k, tree_.value(leaf)); });
    }
    template <class F>
    void for_each_prefix(key_view p, F&& f) const {
        tree_.walk_prefix(p, [&](std::string_view k, loc_t leaf) {
            const V& v = tree_.value(leaf);
            f(k, v);
        });
    }

    // Checks every structural invariant; throws std::logic_error on the first
    // violation. O(n); for tests and debugging.
    void verify() const { tree_.verify(); }

private:
    template <class VV, class F>
    void walk(F& f) const {
        tree_.walk([&](std::string_view k, loc_t leaf) {
            VV& v = tree_.value(leaf);
            f(k, v);
        });
    }

    // A lazy iterator holding key, its leaf still unset: made before an
    // insert so that its allocation cannot fail after the tree changed.
    iterator lazy_iterator(std::string_view key) {
        iterator it(&tree_);
        it.c_.path.assign(key);
        it.lazy_ = true;
        return it;
    }
    // Completes lazy_iterator after the insert: never throws.
    iterator settle(iterator&& it, loc_t leaf) noexcept {
        it.c_.leaf = leaf;
        it.stamp();
        return std::move(it);
    }

    template <bool C>
    basic_iterator<C> find_impl(std::string_view key) const {
        basic_iterator<C> it(&tree_);
        const loc_t l = tree_.find(key);
        if (l != 0) {
            it.c_.leaf = l;
            it.c_.path.assign(key);
            it.lazy_ = true;
        }
        return it;
    }

    template <bool C>
    basic_iterator<C> longest_prefix_impl(std::string_view key) const {
        const std::size_t n = tree_.longest_prefix(key);
        if (n == std::string_view::npos) return basic_iterator<C>(&tree_);
        return find_impl<C>(key.substr(0, n));
    }

    template <bool C>
    basic_iterator<C> edge() const {
        basic_iterator<C> it(&tree_);
        tree_.first(it.c_);
        return it;
    }

    template <bool C>
    basic_iterator<C> bound(std::string_view key, bool upper) const {
        basic_iterator<C> it(&tree_);
        tree_.lower_bound(it.c_, key);
        if (upper && it.c_.leaf != 0 && it.c_.path.size() <= key.size() &&
            std::string_view(it.c_.path) == key.substr(0, it.c_.path.size()) &&
            tree_.suffix(it.c_.leaf) == key.substr(it.c_.path.size())) {
            tree_.advance(it.c_);
        }
        return it;
    }

    template <bool C>
    fast_art_view<V, C> prefix_impl(std::string_view p) const {
        // The first key past every key with prefix p: p without its trailing
        // 0xFF bytes, last byte incremented; none if p is all 0xFF.
        std::string hi(p);
        while (!hi.empty() && static_cast<unsigned char>(hi.back()) == 0xFF) hi.pop_back();
        if (hi.empty()) return {bound<C>(p, false), basic_iterator<C>(&tree_)};
        hi.back() = static_cast<char>(static_cast<unsigned char>(hi.back()) + 1);
        return {bound<C>(p, false), bound<C>(hi, false)};
    }

    template <bool C>
    fast_art_view<V, C> range_impl(std::string_view lo, std::string_view hi) const {
        if (hi <= lo) {
            basic_iterator<C> e(&tree_);
            return {e, e};
        }
        return {bound<C>(lo, false), bound<C>(hi, false)};
    }

    tree_type tree_;
};

// The elements of a FastArt between two of its iterators, [first, last):
// what prefix(), range() and from() return. A std::ranges::view (it derives
// from view_base: clang 14 cannot instantiate libstdc++ 12's view_interface),
// bidirectional and common; borrowed, since its iterators point into the map,
// not into the view. Invalidated like the map's iterators.
template <class V, bool Const>
class fast_art_view : public std::ranges::view_base {
public:
    using iterator = typename FastArt<V>::template basic_iterator<Const>;
    using const_iterator = iterator;
    using reverse_iterator = std::reverse_iterator<iterator>;

    fast_art_view() = default;
    fast_art_view(iterator first, iterator last) noexcept : b_(std::move(first)), e_(std::move(last)) {}
    // view -> const_view
    template <bool C = Const, class = std::enable_if_t<C>>
    fast_art_view(const fast_art_view<V, false>& o)  // NOLINT: implicit like the iterators
        : b_(o.begin()), e_(o.end()) {}

    // By reference: a loop that calls end() each step copies nothing.
    const iterator& begin() const noexcept { return b_; }
    const iterator& end() const noexcept { return e_; }
    reverse_iterator rbegin() const { return reverse_iterator(e_); }
    reverse_iterator rend() const { return reverse_iterator(b_); }
    bool empty() const noexcept { return b_ == e_; }
    explicit operator bool() const noexcept { return !empty(); }

private:
    iterator b_;
    iterator e_;
};

}  // namespace memkv

namespace std::ranges {
template <class V, bool Const>
inline constexpr bool enable_borrowed_range<memkv::fast_art_view<V, Const>> = true;
}  // namespace std::ranges
