#pragma once

// memkv::FastArt<V>: a mutable, ordered map from byte-string keys to V,
// stored as an adaptive radix tree in a tree-owned slab arena.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <memkv/detail/art/tree.hpp>
#include <memkv/detail/fwd.hpp>

namespace memkv {

// FastArt<V> -- ordered map from std::string_view keys to V.
//
// Keys: any byte string of 0 .. max_key_size() (2^32-1) bytes, including the
//   empty key and keys holding '\0' or '\xff'; a key may be a prefix of
//   another. Longer keys throw std::length_error. Keys order bytewise
//   (unsigned), shorter before longer on a shared prefix, like std::string.
// Values: V must be move-constructible, destructible and alignof(V) <= 8.
//   Move-only types work. A V whose move constructor may throw is boxed in
//   its own arena block (4 extra bytes per key and one indirection) so the
//   tree never has to move it. Each stored V is destroyed exactly once.
// Complexity: find / insert / erase / lower_bound are O(key length), with at
//   most one node visit per distinguishing byte; ++ and -- are amortized O(1)
//   (a step through a 256-wide node scans up to 256 slots). Iteration yields
//   keys in byte order. Inserts learn one "jump": a 256-wide node below a
//   long path most keys share (on URLs, "https://github.com/"); find and
//   insert of a key with that prefix start there instead of at the root.
//   Only inserts update it, so const calls stay read-only (DESIGN.md).
// Memory: nodes and leaves live in an arena of 8-byte units addressed by
//   32-bit references, so the whole tree is limited to 16 GiB of nodes and
//   leaves. memory_usage() is exact: every byte the arena holds plus its
//   bookkeeping and an allowance for the system allocator. Erased blocks are
//   reused by later inserts; erasing the last key returns everything.
// Exception guarantee: insert, try_emplace, insert_or_assign (insert part),
//   erase(key), copy: strong. An erase can only throw std::bad_alloc (when the
//   last two entries of a node are merged into one); the tree is unchanged
//   then. erase(first, last) erases key by key: basic guarantee. Assignment of a value in insert_or_assign is V's own guarantee.
// Iterators: an iterator holds the path from the root (a small vector) and
//   the key bytes above its leaf, so copying one allocates; key() rebuilds
//   the key. Iterators returned by find / insert / try_emplace start "lazy"
//   (they hold only the key) and build their path on the first ++ or --.
//   Any insertion or erasure invalidates all iterators and views. Pointers
//   and references to values stay valid across operations on other keys,
//   with two exceptions (neither applies to a boxed V, which never moves):
//   an insert that splits a leaf may move that one leaf's value to a
//   right-sized block, and an erase that merges a node may move the value of
//   the one remaining sibling leaf.
// Thread safety: like a standard container. Concurrent const calls are
//   safe; any mutation needs exclusive access.
template <class V>
class FastArt {
    using tree_type = detail::art::tree<V>;
    using cursor = detail::art::cursor;
    using ref_t = detail::art::ref_t;

public:
    using key_type = std::string;
    using mapped_type = V;
    using size_type = std::size_t;
    using difference_type = std::ptrdiff_t;

    template <bool Const>
    class basic_reverse_iterator;

    // A bidirectional iterator; *it and it-> give the iterator itself, which
    // has key() and value().
    template <bool Const>
    class basic_iterator {
    public:
        using iterator_category = std::bidirectional_iterator_tag;
        using value_type = std::pair<std::string, V>;
        using difference_type = std::ptrdiff_t;
        using reference = const basic_iterator&;
        using pointer = const basic_iterator*;
        using value_ref = std::conditional_t<Const, const V&, V&>;

        basic_iterator() = default;
        // iterator -> const_iterator
        template <bool C = Const, class = std::enable_if_t<C>>
        basic_iterator(const basic_iterator<false>& o)  // NOLINT: implicit like std containers
            : tree_(o.tree_), c_(o.c_), lazy_(o.lazy_) {}

        std::string key() const {
            std::string k;
            key(k);
            return k;
        }
        // Writes the key into out, reusing its capacity.
        void key(std::string& out) const {
            out.assign(c_.path);
            if (!lazy_) out.append(tree_->suffix(c_.leaf));
        }
        value_ref value() const noexcept { return tree_->value(c_.leaf); }

        reference operator*() const noexcept { return *this; }
        pointer operator->() const noexcept { return this; }

        basic_iterator& operator++() {
            materialize();
            tree_->advance(c_);
            return *this;
        }
        basic_iterator operator++(int) {
            basic_iterator t = *this;
            ++*this;
            return t;
        }
        basic_iterator& operator--() {
            materialize();
            tree_->retreat(c_);
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
        template <bool>
        friend class basic_reverse_iterator;

        basic_iterator(const tree_type* t) : tree_(t) {}

        // A lazy iterator holds only its full key in c_.path; build the path.
        void materialize() {
            if (!lazy_) return;
            const std::string k = std::move(c_.path);
            tree_->lower_bound(c_, k);
            lazy_ = false;
        }

        const tree_type* tree_ = nullptr;
        cursor c_;
        bool lazy_ = false;
    };

    using iterator = basic_iterator<false>;
    using const_iterator = basic_iterator<true>;

    // Walks backwards; holds its element directly (no off-by-one base()).
    template <bool Const>
    class basic_reverse_iterator {
    public:
        using iterator_category = std::bidirectional_iterator_tag;
        using value_type = std::pair<std::string, V>;
        using difference_type = std::ptrdiff_t;
        using reference = const basic_reverse_iterator&;
        using pointer = const basic_reverse_iterator*;

        basic_reverse_iterator() = default;
        explicit basic_reverse_iterator(basic_iterator<Const> it) : it_(std::move(it)) {}

        std::string key() const { return it_.key(); }
        void key(std::string& out) const { it_.key(out); }
        decltype(auto) value() const noexcept { return it_.value(); }
        reference operator*() const noexcept { return *this; }
        pointer operator->() const noexcept { return this; }

        basic_reverse_iterator& operator++() {
            --it_;  // before the first element it lands on end(), which is rend()
            return *this;
        }
        basic_reverse_iterator operator++(int) {
            basic_reverse_iterator t = *this;
            ++*this;
            return t;
        }
        basic_reverse_iterator& operator--() {
            if (it_.c_.leaf == 0) {
                it_.tree_->first(it_.c_);
            } else {
                ++it_;
            }
            return *this;
        }
        basic_reverse_iterator operator--(int) {
            basic_reverse_iterator t = *this;
            --*this;
            return t;
        }
        bool operator==(const basic_reverse_iterator& o) const noexcept { return it_ == o.it_; }
        const basic_iterator<Const>& base_element() const noexcept { return it_; }

    private:
        basic_iterator<Const> it_;
    };

    using reverse_iterator = basic_reverse_iterator<false>;
    using const_reverse_iterator = basic_reverse_iterator<true>;

    // [first, last) as a range usable in range-for.
    template <bool Const>
    class basic_view {
    public:
        basic_view(basic_iterator<Const> b, basic_iterator<Const> e) : b_(std::move(b)), e_(std::move(e)) {}
        const basic_iterator<Const>& begin() const noexcept { return b_; }
        const basic_iterator<Const>& end() const noexcept { return e_; }
        bool empty() const noexcept { return b_ == e_; }

    private:
        basic_iterator<Const> b_, e_;
    };
    using view = basic_view<false>;
    using const_view = basic_view<true>;

    // ---- construction -----------------------------------------------------

    FastArt() = default;
    FastArt(const FastArt& o) {
        o.for_each([this](std::string_view k, const V& v) { tree_.emplace(k, v); });
    }
    FastArt(FastArt&& o) noexcept = default;
    FastArt& operator=(const FastArt& o) {
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

    std::pair<iterator, bool> insert(std::string_view key, const V& v) { return try_emplace(key, v); }
    std::pair<iterator, bool> insert(std::string_view key, V&& v) { return try_emplace(key, std::move(v)); }

    // Constructs V from args only if key is absent; args are untouched otherwise.
    template <class... Args>
    std::pair<iterator, bool> try_emplace(std::string_view key, Args&&... args) {
        const auto [leaf, inserted] = tree_.emplace(key, std::forward<Args>(args)...);
        return {lazy_at(key, leaf), inserted};
    }

    // Like try_emplace, but returns a pointer to the value and builds no
    // iterator: the fast path for bulk loading.
    template <class... Args>
    std::pair<V*, bool> try_emplace_value(std::string_view key, Args&&... args) {
        const auto [leaf, inserted] = tree_.emplace(key, std::forward<Args>(args)...);
        return {&tree_.value(leaf), inserted};
    }

    template <class M>
    std::pair<iterator, bool> insert_or_assign(std::string_view key, M&& m) {
        const auto [leaf, inserted] = tree_.emplace(key, std::forward<M>(m));
        if (!inserted) tree_.value(leaf) = std::forward<M>(m);
        return {lazy_at(key, leaf), inserted};
    }

    V& operator[](std::string_view key)
        requires std::default_initializable<V>
    {
        return *try_emplace_value(key).first;
    }

    size_type erase(std::string_view key) { return tree_.erase(key); }

    // Returns the iterator after pos.
    iterator erase(const_iterator pos) {
        const std::string k = pos.key();
        tree_.erase(k);
        return lower_bound(k);
    }
    iterator erase(iterator pos) { return erase(const_iterator(pos)); }

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
    size_type erase_prefix(std::string_view p) { return tree_.erase_prefix(p); }

    // ---- lookup -----------------------------------------------------------

    iterator find(std::string_view key) { return find_impl<false>(key); }
    const_iterator find(std::string_view key) const { return find_impl<true>(key); }
    bool contains(std::string_view key) const noexcept { return tree_.find(key) != 0; }
    size_type count(std::string_view key) const noexcept { return contains(key) ? 1 : 0; }

    // Pointer to the value, or nullptr: works for any V, copies nothing.
    V* get_if(std::string_view key) noexcept {
        const ref_t l = tree_.find(key);
        return l != 0 ? &tree_.value(l) : nullptr;
    }
    const V* get_if(std::string_view key) const noexcept {
        const ref_t l = tree_.find(key);
        return l != 0 ? &tree_.value(l) : nullptr;
    }
    std::optional<V> get(std::string_view key) const
        requires std::copy_constructible<V>
    {
        const V* v = get_if(key);
        return v != nullptr ? std::optional<V>(*v) : std::nullopt;
    }

    V& at(std::string_view key) {
        V* v = get_if(key);
        if (v == nullptr) throw std::out_of_range("memkv::FastArt::at: key not found");
        return *v;
    }
    const V& at(std::string_view key) const {
        const V* v = get_if(key);
        if (v == nullptr) throw std::out_of_range("memkv::FastArt::at: key not found");
        return *v;
    }

    // The element whose key is the longest prefix of key, or end().
    iterator longest_prefix(std::string_view key) { return longest_prefix_impl<false>(key); }
    const_iterator longest_prefix(std::string_view key) const { return longest_prefix_impl<true>(key); }

    // ---- ordered access ---------------------------------------------------

    iterator begin() { return edge<false>(true); }
    const_iterator begin() const { return edge<true>(true); }
    const_iterator cbegin() const { return begin(); }
    iterator end() { return iterator(&tree_); }
    const_iterator end() const { return const_iterator(&tree_); }
    const_iterator cend() const { return end(); }

    reverse_iterator rbegin() { return reverse_iterator(edge<false>(false)); }
    const_reverse_iterator rbegin() const { return const_reverse_iterator(edge<true>(false)); }
    reverse_iterator rend() { return reverse_iterator(end()); }
    const_reverse_iterator rend() const { return const_reverse_iterator(end()); }

    iterator lower_bound(std::string_view key) { return bound<false>(key, false); }
    const_iterator lower_bound(std::string_view key) const { return bound<true>(key, false); }
    iterator upper_bound(std::string_view key) { return bound<false>(key, true); }
    const_iterator upper_bound(std::string_view key) const { return bound<true>(key, true); }
    std::pair<iterator, iterator> equal_range(std::string_view key) {
        return {lower_bound(key), upper_bound(key)};
    }
    std::pair<const_iterator, const_iterator> equal_range(std::string_view key) const {
        return {lower_bound(key), upper_bound(key)};
    }

    // All keys starting with p, in order.
    view prefix(std::string_view p) { return prefix_impl<false>(p); }
    const_view prefix(std::string_view p) const { return prefix_impl<true>(p); }
    // Keys in [lo, hi); empty if hi <= lo.
    view range(std::string_view lo, std::string_view hi) { return range_impl<false>(lo, hi); }
    const_view range(std::string_view lo, std::string_view hi) const { return range_impl<true>(lo, hi); }

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
    void for_each_prefix(std::string_view p, F&& f) {
        tree_.walk_prefix(p, [&](std::string_view k, ref_t leaf) { f(k, tree_.value(leaf)); });
    }
    template <class F>
    void for_each_prefix(std::string_view p, F&& f) const {
        tree_.walk_prefix(p, [&](std::string_view k, ref_t leaf) {
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
        tree_.walk([&](std::string_view k, ref_t leaf) {
            VV& v = tree_.value(leaf);
            f(k, v);
        });
    }

    iterator lazy_at(std::string_view key, ref_t leaf) {
        iterator it(&tree_);
        it.c_.leaf = leaf;
        it.c_.path.assign(key);
        it.lazy_ = true;
        return it;
    }

    template <bool C>
    basic_iterator<C> find_impl(std::string_view key) const {
        basic_iterator<C> it(&tree_);
        const ref_t l = tree_.find(key);
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
    basic_iterator<C> edge(bool front) const {
        basic_iterator<C> it(&tree_);
        if (front) {
            tree_.first(it.c_);
        } else {
            tree_.last(it.c_);
        }
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
    basic_view<C> prefix_impl(std::string_view p) const {
        // The first key past every key with prefix p: p without its trailing
        // 0xFF bytes, last byte incremented; none if p is all 0xFF.
        std::string hi(p);
        while (!hi.empty() && static_cast<unsigned char>(hi.back()) == 0xFF) hi.pop_back();
        if (hi.empty()) return {bound<C>(p, false), basic_iterator<C>(&tree_)};
        hi.back() = static_cast<char>(static_cast<unsigned char>(hi.back()) + 1);
        return {bound<C>(p, false), bound<C>(hi, false)};
    }

    template <bool C>
    basic_view<C> range_impl(std::string_view lo, std::string_view hi) const {
        if (hi <= lo) {
            basic_iterator<C> e(&tree_);
            return {e, e};
        }
        return {bound<C>(lo, false), bound<C>(hi, false)};
    }

    tree_type tree_;
};

}  // namespace memkv
