#pragma once

/// @file
/// @brief memkv::FastArt, a mutable ordered map (adaptive radix tree), and its views.

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

/// A mutable, ordered map from byte-string keys to `V`, stored as an adaptive radix tree.
///
/// Nodes and leaves live in a slab arena that the tree owns. The interface
/// is std::map's (`find`, `lower_bound`, `insert`, `try_emplace`,
/// `insert_or_assign`, `erase`, iterators) with trie extras: `prefix`,
/// `longest_prefix`, `erase_prefix`.
///
/// @tparam V The mapped type; `std::uint64_t` by default.
///
/// @par Keys
/// Any byte string of 0 .. max_key_size() (2^32-1) bytes, including the
/// empty key and keys holding NUL (0x00) or 0xFF bytes; a key may be a prefix
/// of another. Longer keys throw std::length_error. Keys order bytewise
/// (unsigned), shorter before longer on a shared prefix, like std::string.
/// Every member that takes a key takes memkv::key_view, which converts
/// without copying from std::string, std::string_view, `const char*`, string
/// literals, `std::span<const std::byte>`, `std::span<const unsigned char>`
/// and `std::vector<unsigned char>`.
///
/// @par Values
/// `V` must be move-constructible, destructible and `alignof(V) <= 8`
/// (checked by static_asserts naming `memkv::FastArt<V>`). Move-only types
/// work; FastArt is copyable exactly when `V` is copy-constructible. A `V`
/// whose move constructor may throw is boxed in its own arena block (the
/// block, 8 bytes of its address in the leaf, and one indirection) so the
/// tree never has to move it. Each stored `V` is destroyed exactly once.
///
/// @par Complexity
/// find / insert / erase / lower_bound are O(key length), with at most one
/// node visit per distinguishing byte; `++` and `--` are amortized O(1) (a
/// step through a 256-wide node scans up to 256 slots). Iteration yields keys
/// in byte order. Inserts learn one "jump": a 256-wide node below a long path
/// most keys share (on URLs, `https://github.com/`); find and insert of a key
/// with that prefix start there instead of at the root. Only inserts update
/// it, so const calls stay read-only (DESIGN.md). From 65536 keys on, find
/// starts two bytes below the root's prefix, in "top rows" that give the
/// root's children's children by byte (up to 256 KiB; DESIGN.md).
///
/// @par Memory
/// Nodes and leaves live in an arena of 8-byte units addressed by 32-bit
/// references within zones of 16 GiB; a tree holds up to 128 zones, 2 TiB of
/// nodes and leaves (std::bad_alloc beyond; DESIGN.md, "Zones").
/// memory_usage() is exact: every byte the arena and the top rows hold plus
/// their bookkeeping and an allowance for the system allocator. Erased blocks are reused by
/// later inserts; erasing the last key returns everything.
///
/// @par Exception guarantee
/// insert, try_emplace, insert_or_assign (insert part), `erase(key)`,
/// `erase(iterator)`, erase_prefix, copy: strong. The iterator that insert,
/// try_emplace and insert_or_assign return is built (its copy of the key
/// allocated) before the tree changes, so nothing throws after it has. An
/// erase can only throw std::bad_alloc (when the last two entries of a node
/// are merged into one); the tree is unchanged then. `erase(first, last)`
/// erases key by key: basic guarantee. Assignment of a value in
/// insert_or_assign is `V`'s own guarantee.
///
/// @par Iterators
/// Bidirectional (std::bidirectional_iterator, `iterator_concept`), classic
/// `iterator_category` input (the reference is not a true reference). `*it`
/// returns a `const memkv::entry<V&>` (const_iterator: `entry<const V&>`): a
/// pair whose `.first` is a copy of the key (keys are spread over the path
/// from the root, never stored whole: each dereference allocates when the key
/// is longer than std::string's small buffer) and whose `.second` refers to
/// the value in the tree. The entry owns its key, so it outlives the
/// iterator; `it->first` works through a proxy that owns the entry.
/// `for (auto& [k, v] : m)`, `const auto&` and `auto` bindings all work (`v`
/// is `V&` on a mutable map). Cheaper accessors: `it.key(buf)` (reuses a
/// buffer), `it.key()` and `it.value()` (no key copy). An iterator holds the
/// path from the root (a small vector) and the key bytes above its leaf, so
/// copying one allocates. Iterators returned by find / insert / try_emplace /
/// insert_or_assign / longest_prefix start "lazy" (they hold only the key)
/// and build their path on the first `++` or `--`. `--end()` is the last
/// element.
/// @par
/// Legacy helpers that dispatch on `iterator_category` see an input
/// iterator: `std::prev` and `std::advance(it, -n)` must not be used (they
/// cannot step back); `std::ranges::prev` / `std::ranges::advance` and `--it`
/// can.
/// @par
/// Reverse iteration: reverse_iterator is `std::reverse_iterator<iterator>`;
/// each `*rit` copies the iterator and steps it back (a copy of the path plus
/// an O(1) amortized step), so a long backward walk is cheaper as a loop of
/// `--it` with `it.key(buf)`.
/// @par
/// `++` and `--` may allocate (the path grows); if one throws
/// std::bad_alloc, the map is unchanged and that iterator is left equal to
/// end(), from which `--` finds the last element. Other iterators are
/// unaffected.
///
/// @par Iterator invalidation
/// Any successful insertion or erasure (and clear, erase_prefix, swap, move)
/// invalidates every iterator and view except end() iterators, which stay
/// valid as long as the map object lives. In debug and sanitizer builds
/// (`MEMKV_DEBUG_ITERATORS`, detail/assert.hpp) the tree counts its
/// modifications and an iterator used after one (dereference, `++`, `--`,
/// `key()`, `value()`) fails an assertion; Release builds carry no counter.
/// Pointers and references to values stay valid across operations on other
/// keys, with two exceptions (neither applies to a boxed `V`, which never
/// moves): an insert that splits a leaf may move that one leaf's value to a
/// right-sized block, and an erase that merges a node may move the value of
/// the one remaining sibling leaf. Unlike std::map, iterators refer to the
/// map object: a swap or move does not carry them to the other map.
///
/// @par Views
/// prefix(p), range(lo, hi) (half-open, empty if `hi <= lo`) and from(k)
/// (keys `>= k`) return fast_art_view: a bidirectional, common, borrowed
/// `std::ranges::view` of two iterators (`views::reverse`, std::ranges
/// algorithms, range-for). Building one costs two seeks.
///
/// @par Thread safety
/// Like a standard container. Concurrent const calls are safe; any mutation
/// needs exclusive access.
template <class V>
class FastArt {
    static_assert(alignof(V) <= 8, "memkv::FastArt<V>: alignof(V) must be at most 8 (values live in 8-byte arena units)");
    static_assert(std::is_move_constructible_v<V>, "memkv::FastArt<V>: V must be move-constructible");
    static_assert(std::is_destructible_v<V>, "memkv::FastArt<V>: V must be destructible");

    using tree_type = detail::art::tree<V>;
    using cursor = detail::art::cursor;
    using loc_t = detail::art::loc_t;

public:
    /// The key type: keys are byte strings (parameters take memkv::key_view).
    using key_type = std::string;
    /// The mapped type, `V`.
    using mapped_type = V;
    /// `std::pair<std::string, V>`: what an element converts to (no such pair is stored; see entry).
    using value_type = std::pair<std::string, V>;
    /// An unsigned count of elements.
    using size_type = std::size_t;
    /// A signed distance between iterators.
    using difference_type = std::ptrdiff_t;
    /// What `*it` returns for an iterator: `const entry<V&>`, the key copied and the value by reference.
    using reference = const entry<V&>;
    /// What `*it` returns for a const_iterator: `const entry<const V&>`.
    using const_reference = const entry<const V&>;

    /// A bidirectional iterator whose `*it` is a `const entry<V&>` (`entry<const V&>` if `Const`).
    ///
    /// See the class's Iterators paragraphs for what it holds and costs;
    /// `key()`, `key(buf)` and `value()` are the cheap accessors. Use
    /// FastArt::iterator and FastArt::const_iterator rather than this name.
    ///
    /// @tparam Const Whether the value is reached through `const V&`.
    template <bool Const>
    class basic_iterator {
    public:
        /// Bidirectional: what std::ranges, std::reverse_iterator and C++20 algorithms use.
        using iterator_concept = std::bidirectional_iterator_tag;
        /// Input, for the classic helpers.
        ///
        /// The reference is a prvalue: the classic category claims no more
        /// than input (std::reverse_iterator and the ranges use
        /// `iterator_concept`).
        using iterator_category = std::input_iterator_tag;
        /// `std::pair<std::string, V>`.
        using value_type = std::pair<std::string, V>;
        /// A signed distance.
        using difference_type = std::ptrdiff_t;
        /// How the value is reached: `V&`, or `const V&` if `Const`.
        using value_ref = std::conditional_t<Const, const V&, V&>;
        /// What `*it` returns: `const entry<value_ref>`.
        using reference = const entry<value_ref>;
        /// What `operator->` returns: a proxy that owns an entry, so `it->first` is valid for the full expression.
        using pointer = detail::arrow_proxy<entry<value_ref>>;

        /// A singular iterator, to be assigned before use.
        basic_iterator() = default;
        /// Converts an iterator to a const_iterator at the same element.
        template <bool C = Const, class = std::enable_if_t<C>>
        basic_iterator(const basic_iterator<false>& o)  // NOLINT: implicit like std containers
            : tree_(o.tree_), c_(o.c_), lazy_(o.lazy_) {
            copy_generation(o);
        }
        /// Converts an iterator to a const_iterator at the same element, taking its path.
        template <bool C = Const, class = std::enable_if_t<C>>
        basic_iterator(basic_iterator<false>&& o) noexcept  // NOLINT: implicit like std containers
            : tree_(o.tree_), c_(std::move(o.c_)), lazy_(o.lazy_) {
            copy_generation(o);
        }

        /// The current key, as a new string. Not valid on end().
        std::string key() const {
            std::string k;
            key(k);
            return k;
        }
        /// Writes the current key into `out`, reusing its capacity. Not valid on end().
        void key(std::string& out) const {
            check_element();
            out.assign(c_.path);
            if (!lazy_) out.append(tree_->suffix(c_.leaf));
        }
        /// The current value, by reference into the tree (no key copy). Not valid on end().
        value_ref value() const noexcept {
            check_element();
            return tree_->value(c_.leaf);
        }

        /// The element: the key copied out, the value by reference.
        reference operator*() const { return reference(key(), value()); }
        /// A proxy owning the element, for `it->first` and `it->second`.
        pointer operator->() const { return pointer{entry<value_ref>(key(), value())}; }

        /// Moves to the next key in byte order (amortized O(1)).
        ///
        /// A lazy iterator first builds its path.
        /// @throws std::bad_alloc if the path cannot grow; the iterator is then end().
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
        /// Post-increment: returns a copy made before the step (copying allocates).
        basic_iterator operator++(int) {
            basic_iterator t = *this;
            ++*this;
            return t;
        }
        /// Moves to the previous key in byte order; from end(), to the last key.
        ///
        /// @throws std::bad_alloc if the path cannot grow; the iterator is then end().
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
        /// Post-decrement: returns a copy made before the step (copying allocates).
        basic_iterator operator--(int) {
            basic_iterator t = *this;
            --*this;
            return t;
        }

        /// Whether both are at the same element (or both at end()); iterators and const_iterators compare.
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

    /// Bidirectional iterator; `*it` is a `const entry<V&>`.
    using iterator = basic_iterator<false>;
    /// Bidirectional iterator; `*it` is a `const entry<const V&>`.
    using const_iterator = basic_iterator<true>;
    /// `std::reverse_iterator<iterator>`: each dereference copies the iterator and steps it back.
    using reverse_iterator = std::reverse_iterator<iterator>;
    /// `std::reverse_iterator<const_iterator>`.
    using const_reverse_iterator = std::reverse_iterator<const_iterator>;

    /// `[first, last)` of this map, as prefix(), range() and from() return it.
    using view = fast_art_view<V, false>;
    /// `[first, last)` of a const map.
    using const_view = fast_art_view<V, true>;

    // ---- construction -----------------------------------------------------

    /// An empty map; allocates nothing.
    FastArt() = default;
    /// A copy of every element, inserted in key order (only if `V` is copy-constructible).
    ///
    /// Strong guarantee: if a copy throws, nothing leaks.
    FastArt(const FastArt& o)
        requires std::copy_constructible<V>
    {
        o.for_each([this](std::string_view k, const V& v) { tree_.emplace(k, v); });
    }
    /// Takes `o`'s tree; the moved-from map is empty and usable.
    ///
    /// Iterators into `o` do not carry over (they refer to the map object).
    FastArt(FastArt&& o) noexcept = default;
    /// Copy assignment by copy and swap: strong guarantee.
    FastArt& operator=(const FastArt& o)
        requires std::copy_constructible<V>
    {
        if (this != &o) {
            FastArt t(o);
            swap(t);
        }
        return *this;
    }
    /// Move assignment: takes `o`'s tree and frees this one's; `o` is left empty.
    FastArt& operator=(FastArt&& o) noexcept = default;
    /// Destroys every value and returns the arena's memory.
    ~FastArt() = default;

    /// Exchanges the contents in O(1); invalidates the iterators of both maps.
    void swap(FastArt& o) noexcept { tree_.swap(o.tree_); }
    /// `a.swap(b)`.
    friend void swap(FastArt& a, FastArt& b) noexcept { a.swap(b); }

    /// The longest key accepted: 2^32-1 bytes (longer ones throw std::length_error).
    static constexpr size_type max_key_size() noexcept { return detail::art::max_key_size; }

    // ---- capacity ---------------------------------------------------------

    /// The number of keys, in O(1).
    size_type size() const noexcept { return tree_.size(); }
    /// Whether the map holds no key.
    bool empty() const noexcept { return tree_.size() == 0; }
    /// Bytes held by this object and everything it owns, allocator overhead included.
    size_type memory_usage() const noexcept { return tree_.memory_usage(); }

    // ---- modifiers --------------------------------------------------------

    /// Erases every element and returns the arena's memory; invalidates every iterator.
    void clear() noexcept { tree_.clear(); }

    /// Inserts a copy of `v` under `key` if `key` is absent, as std::map::insert.
    ///
    /// @return An iterator at `key` and whether it was inserted (if not, the
    ///         stored value is unchanged).
    /// @throws std::length_error if `key` is longer than max_key_size().
    /// @throws std::bad_alloc; strong guarantee.
    std::pair<iterator, bool> insert(key_view key, const V& v) { return try_emplace(key, v); }
    /// Moves `v` in under `key` if `key` is absent (`v` is untouched otherwise).
    ///
    /// @return An iterator at `key` and whether it was inserted.
    /// @throws std::length_error if `key` is longer than max_key_size().
    /// @throws std::bad_alloc; strong guarantee.
    std::pair<iterator, bool> insert(key_view key, V&& v) { return try_emplace(key, std::move(v)); }

    /// Constructs `V` from `args` only if `key` is absent, as std::map::try_emplace.
    ///
    /// The arguments are untouched otherwise.
    /// @return An iterator at `key` and whether it was inserted.
    /// @throws std::length_error if `key` is longer than max_key_size().
    /// @throws std::bad_alloc, or what `V`'s constructor throws; strong guarantee.
    template <class... Args>
    std::pair<iterator, bool> try_emplace(key_view key, Args&&... args) {
        iterator it = lazy_iterator(key);  // allocates before the tree changes
        const auto [leaf, inserted] = tree_.emplace(key, std::forward<Args>(args)...);
        return {settle(std::move(it), leaf), inserted};
    }

    /// Like try_emplace, but returns a pointer to the value and builds no iterator.
    ///
    /// The fast path for bulk loading: no key copy. The pointer follows the
    /// class's rules for references to values.
    /// @return A pointer to the value under `key` and whether it was inserted.
    template <class... Args>
    std::pair<V*, bool> try_emplace_value(key_view key, Args&&... args) {
        const auto [leaf, inserted] = tree_.emplace(key, std::forward<Args>(args)...);
        return {&tree_.value(leaf), inserted};
    }

    /// Inserts `m` under `key`, or assigns it to the value there, as std::map::insert_or_assign.
    ///
    /// @return An iterator at `key` and true if it was inserted, false if assigned.
    /// @throws std::length_error if `key` is longer than max_key_size().
    /// @throws std::bad_alloc; strong guarantee for the insertion; an
    ///         assignment has `V`'s own guarantee.
    template <class M>
    std::pair<iterator, bool> insert_or_assign(key_view key, M&& m) {
        iterator it = lazy_iterator(key);  // allocates before the tree changes
        const auto [leaf, inserted] = tree_.emplace(key, std::forward<M>(m));
        // Forwarding m twice is sound: emplace does not touch its arguments
        // when the key is present.
        if (!inserted) tree_.value(leaf) = std::forward<M>(m);
        return {settle(std::move(it), leaf), inserted};
    }

    /// The value under `key`, value-initialized and inserted first if absent, as std::map::operator[].
    V& operator[](key_view key)
        requires std::default_initializable<V>
    {
        return *try_emplace_value(key).first;
    }

    /// Erases `key` if present, as std::map::erase.
    ///
    /// @return The number of keys erased, 0 or 1.
    /// @throws std::bad_alloc when a node merge cannot allocate; the map is then unchanged.
    size_type erase(key_view key) { return tree_.erase(key); }

    /// Erases the element at `pos` (not end()); returns the iterator after it.
    ///
    /// Strong guarantee: the key after `pos` and the iterator to return are
    /// made before the tree changes, so the erase is the last step that can
    /// throw.
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
    /// Erases the element at `pos` (not end()); returns the iterator after it. Strong guarantee.
    iterator erase(iterator pos) { return erase(const_iterator(std::move(pos))); }

    /// Erases the keys of `[first, last)`; returns an iterator to the key `last` referred to.
    ///
    /// Returns end() if `last` was end(). Like `erase(iterator)` it works key
    /// by key: O(k x key length) for k keys, no extra memory. Basic
    /// guarantee: if an erase throws (std::bad_alloc on a node merge), the
    /// keys before the failing one are gone and the rest are still there.
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

    /// Erases every key starting with `p`; returns how many.
    ///
    /// One descent, then the subtree holding them is freed whole: O(key
    /// length + erased keys). Strong guarantee.
    size_type erase_prefix(key_view p) { return tree_.erase_prefix(p); }

    // ---- lookup -----------------------------------------------------------

    /// An iterator at `key`, or end() if absent, as std::map::find.
    ///
    /// The iterator is lazy: it holds the key and builds its path on the
    /// first `++` or `--`.
    iterator find(key_view key) { return find_impl<false>(key); }
    /// A const_iterator at `key`, or end() if absent (lazy, as the non-const overload).
    const_iterator find(key_view key) const { return find_impl<true>(key); }
    /// Whether `key` is present; builds nothing.
    bool contains(key_view key) const noexcept { return tree_.find_leaf(key) != nullptr; }
    /// 1 if `key` is present, else 0, as std::map::count.
    size_type count(key_view key) const noexcept { return contains(key) ? 1 : 0; }

    /// A pointer to the value under `key`, or nullptr: works for any `V`, copies nothing.
    ///
    /// The pointer follows the class's rules for references to values.
    V* get_if(key_view key) noexcept {
        std::byte* const p = tree_.find_leaf(key);
        return p != nullptr ? &tree_.value_at(p) : nullptr;
    }
    /// A pointer to the value under `key`, or nullptr (const overload).
    const V* get_if(key_view key) const noexcept {
        std::byte* const p = tree_.find_leaf(key);
        return p != nullptr ? &tree_.value_at(p) : nullptr;
    }
    /// A copy of the value under `key`, or std::nullopt (only if `V` is copy-constructible).
    std::optional<V> get(key_view key) const
        requires std::copy_constructible<V>
    {
        const V* v = get_if(key);
        return v != nullptr ? std::optional<V>(*v) : std::nullopt;
    }

    /// The value under `key`, as std::map::at.
    ///
    /// @throws std::out_of_range if `key` is absent.
    V& at(key_view key) {
        V* v = get_if(key);
        if (v == nullptr) throw std::out_of_range("memkv::FastArt::at: key not found");
        return *v;
    }
    /// The value under `key` (const overload).
    ///
    /// @throws std::out_of_range if `key` is absent.
    const V& at(key_view key) const {
        const V* v = get_if(key);
        if (v == nullptr) throw std::out_of_range("memkv::FastArt::at: key not found");
        return *v;
    }

    /// The element whose key is the longest prefix of `key` (possibly `key` itself or the empty key), or end().
    ///
    /// One descent; the iterator is lazy, as find's.
    iterator longest_prefix(key_view key) { return longest_prefix_impl<false>(key); }
    /// The element whose key is the longest prefix of `key`, or end() (const overload).
    const_iterator longest_prefix(key_view key) const { return longest_prefix_impl<true>(key); }

    // ---- ordered access ---------------------------------------------------

    /// An iterator at the smallest key (end() if empty).
    iterator begin() { return edge<false>(); }
    /// A const_iterator at the smallest key (end() if empty).
    const_iterator begin() const { return edge<true>(); }
    /// A const_iterator at the smallest key (end() if empty).
    const_iterator cbegin() const { return begin(); }
    /// The past-the-end iterator: O(1), and never invalidated while the map lives.
    iterator end() { return iterator(&tree_); }
    /// The past-the-end const_iterator.
    const_iterator end() const { return const_iterator(&tree_); }
    /// The past-the-end const_iterator.
    const_iterator cend() const { return end(); }

    /// `std::reverse_iterator(end())`: `*rit` is `*--copy_of(base)`.
    reverse_iterator rbegin() { return reverse_iterator(end()); }
    /// `std::reverse_iterator(end())` (const overload).
    const_reverse_iterator rbegin() const { return const_reverse_iterator(end()); }
    /// `std::reverse_iterator(cend())`.
    const_reverse_iterator crbegin() const { return rbegin(); }
    /// `std::reverse_iterator(begin())`.
    reverse_iterator rend() { return reverse_iterator(begin()); }
    /// `std::reverse_iterator(begin())` (const overload).
    const_reverse_iterator rend() const { return const_reverse_iterator(begin()); }
    /// `std::reverse_iterator(cbegin())`.
    const_reverse_iterator crend() const { return rend(); }

    /// The first key `>= key`, as std::map::lower_bound.
    iterator lower_bound(key_view key) { return bound<false>(key, false); }
    /// The first key `>= key`, as std::map::lower_bound (const overload).
    const_iterator lower_bound(key_view key) const { return bound<true>(key, false); }
    /// The first key `> key`, as std::map::upper_bound.
    iterator upper_bound(key_view key) { return bound<false>(key, true); }
    /// The first key `> key`, as std::map::upper_bound (const overload).
    const_iterator upper_bound(key_view key) const { return bound<true>(key, true); }
    /// `{lower_bound(key), upper_bound(key)}`: one element or none, as std::map::equal_range.
    std::pair<iterator, iterator> equal_range(key_view key) { return {lower_bound(key), upper_bound(key)}; }
    /// `{lower_bound(key), upper_bound(key)}` (const overload).
    std::pair<const_iterator, const_iterator> equal_range(key_view key) const {
        return {lower_bound(key), upper_bound(key)};
    }

    /// All keys starting with `p`, in order. Two seeks.
    view prefix(key_view p) { return prefix_impl<false>(p); }
    /// All keys starting with `p`, in order (const overload).
    const_view prefix(key_view p) const { return prefix_impl<true>(p); }
    /// Keys in `[lo, hi)`, in order; empty if `hi <= lo`. Two seeks.
    view range(key_view lo, key_view hi) { return range_impl<false>(lo, hi); }
    /// Keys in `[lo, hi)` (const overload).
    const_view range(key_view lo, key_view hi) const { return range_impl<true>(lo, hi); }
    /// Keys `>= key`: `[lower_bound(key), end())`.
    view from(key_view key) { return view(lower_bound(key), end()); }
    /// Keys `>= key` (const overload).
    const_view from(key_view key) const { return const_view(lower_bound(key), end()); }

    /// Calls `f(std::string_view key, V& value)` for every element in key order.
    ///
    /// Cheaper than iterators: one path stack, one key buffer. The key view
    /// is valid only during the call; `f` must not insert or erase.
    template <class F>
    void for_each(F&& f) {
        walk<V>(f);
    }
    /// Calls `f(std::string_view key, const V& value)` for every element in key order.
    template <class F>
    void for_each(F&& f) const {
        walk<const V>(f);
    }

    /// Calls `f(std::string_view key, V& value)` for every key starting with `p`, in key order.
    ///
    /// One descent, then a walk of the matching subtree.
    template <class F>
    void for_each_prefix(key_view p, F&& f) {
        tree_.walk_prefix(p, [&](std::string_view k, std::byte* leaf) { f(k, tree_.value_at(leaf)); });
    }
    /// Calls `f(std::string_view key, const V& value)` for every key starting with `p`, in key order.
    template <class F>
    void for_each_prefix(key_view p, F&& f) const {
        tree_.walk_prefix(p, [&](std::string_view k, std::byte* leaf) {
            const V& v = tree_.value_at(leaf);
            f(k, v);
        });
    }

    /// Checks every structural invariant; for tests and debugging. O(n).
    ///
    /// @throws std::logic_error on the first violation.
    void verify() const { tree_.verify(); }

private:
    template <class VV, class F>
    void walk(F& f) const {
        // The walk hands over the leaf's address, so the value is read
        // without turning the loc back into one.
        tree_.walk([&](std::string_view k, std::byte* leaf) {
            VV& v = tree_.value_at(leaf);
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

/// The elements of a FastArt between two of its iterators, `[first, last)`.
///
/// What FastArt's prefix(), range() and from() return. A
/// `std::ranges::view` (it derives from view_base: clang 14 cannot
/// instantiate libstdc++ 12's view_interface), bidirectional and common;
/// borrowed, since its iterators point into the map, not into the view.
/// Invalidated like the map's iterators.
///
/// @tparam V     The map's mapped type.
/// @tparam Const Whether the view's iterators are const_iterators.
template <class V, bool Const>
class fast_art_view : public std::ranges::view_base {
public:
    /// The map's iterator (const_iterator if `Const`).
    using iterator = typename FastArt<V>::template basic_iterator<Const>;
    /// The same as iterator: a view gives no more access than it was made with.
    using const_iterator = iterator;
    /// `std::reverse_iterator<iterator>`.
    using reverse_iterator = std::reverse_iterator<iterator>;

    /// An empty view of singular iterators, to be assigned before use.
    fast_art_view() = default;
    /// The view of `[first, last)`; both must come from the same map, `first` not after `last`.
    fast_art_view(iterator first, iterator last) noexcept : b_(std::move(first)), e_(std::move(last)) {}
    /// Converts a view to a const_view of the same elements.
    template <bool C = Const, class = std::enable_if_t<C>>
    fast_art_view(const fast_art_view<V, false>& o)  // NOLINT: implicit like the iterators
        : b_(o.begin()), e_(o.end()) {}

    /// The first element's iterator, by reference: a loop that calls it each step copies nothing.
    const iterator& begin() const noexcept { return b_; }
    /// The end iterator, by reference: a loop that calls end() each step copies nothing.
    const iterator& end() const noexcept { return e_; }
    /// `std::reverse_iterator(end())`.
    reverse_iterator rbegin() const { return reverse_iterator(e_); }
    /// `std::reverse_iterator(begin())`.
    reverse_iterator rend() const { return reverse_iterator(b_); }
    /// Whether the view has no element, in O(1).
    bool empty() const noexcept { return b_ == e_; }
    /// `!empty()`.
    explicit operator bool() const noexcept { return !empty(); }

private:
    iterator b_;
    iterator e_;
};

}  // namespace memkv

/// @cond
// Not in the API reference: the view's page says it is borrowed.
namespace std::ranges {
template <class V, bool Const>
inline constexpr bool enable_borrowed_range<memkv::fast_art_view<V, Const>> = true;
}  // namespace std::ranges
/// @endcond
