#pragma once

/// @file
/// @brief memkv::FrozenLayer, an immutable compressed ordered map that can be memory-mapped, and its view.

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <optional>
#include <ranges>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <memkv/detail/assert.hpp>
#include <memkv/detail/frozen/format.hpp>
#include <memkv/detail/frozen/node.hpp>
#include <memkv/detail/frozen/options.hpp>
#include <memkv/detail/frozen/packed_column.hpp>
#include <memkv/detail/fwd.hpp>
#include <memkv/detail/huge_pages.hpp>
#include <memkv/detail/io/crc32c.hpp>
#include <memkv/detail/io/file.hpp>
#include <memkv/detail/trie/format.hpp>
#include <memkv/detail/trie/view.hpp>
#include <memkv/entry.hpp>
#include <memkv/errors.hpp>
#include <memkv/key_view.hpp>

namespace memkv {

template <class V>
class frozen_layer_view;

/// An immutable, compressed, ordered map from byte-string keys to values, saved to a file and memory-mapped back.
///
/// Built once from sorted keys by memkv::FrozenLayerBuilder
/// (frozen_builder.hpp), or by from_sorted() / from_unsorted().
///
/// The keys live in a minimal acyclic automaton that shares both prefixes
/// and suffixes (an FST without outputs), in which every transition knows how
/// many keys lie before it. That makes the automaton a perfect map key to
/// ordinal (rank in byte order) and back. File format version 3
/// (frozen_layer_options::format_version = 3, in progress) keeps the keys in
/// a succinct Patricia trie with coded edge labels instead
/// (detail/trie/layout.hpp): 0.63-0.85x the bytes, an ordinal from the key
/// ends counted on the way down, slower lookups for now. Values sit in a
/// separate column indexed by ordinal: bit-packed to the width they need when `V` is an
/// unsigned integer of at most 64 bits, omitted entirely when value ==
/// ordinal, raw bytes otherwise. The byte layouts are drawn in
/// detail/frozen/format.hpp (file header) and detail/frozen/node.hpp (nodes),
/// beside their codecs; DESIGN.md "FrozenLayer" explains the design.
///
/// @code
/// memkv::FrozenLayerBuilder<std::uint64_t> b;         // or b("base.frz"): streams to disk
/// b.insert("apple", 1);                               // strictly increasing byte order
/// b.insert("banana", 2);
/// memkv::FrozenLayer<std::uint64_t> f = b.finish();   // or b.finish("base.frz"): mapped
/// f.get("apple");                                     // std::optional<uint64_t>{1}
/// f.at("banana");                                     // 2 (throws std::out_of_range if absent)
/// f.find("apple")->second;                            // 1: find gives an iterator
/// f.ordinal("banana");                                // 1; f.key_at(1) == "banana"
/// for (const auto& [k, v] : f.prefix("b")) use(k, v);
/// for (auto it = f.lower_bound("b"); it != f.end(); ++it) use(it.key(), it.value());
/// f.save("base.frz");
/// auto g = memkv::FrozenLayer<std::uint64_t>::open("base.frz");  // mmap, no copy
/// @endcode
///
/// @tparam V The value type; `std::uint64_t` by default.
///
/// @par Values
/// `V` must be trivially copyable, not const, volatile or an array. The value
/// column is chosen by `V`: unsigned integers of at most 64 bits (not bool)
/// are bit-packed to the width the values need (no column at all when every
/// value equals its key's ordinal); every other `V`, including unsigned
/// `__int128`, is stored as its `sizeof(V)` bytes. Values are decoded on each
/// access and returned by value.
///
/// @par Keys
/// Any bytes (NUL and 0xFF included), the empty key included; no terminator.
/// Key length is bounded only by memory. Every member that takes a key takes
/// a memkv::key_view (std::string, string_view, `const char*`,
/// `std::span<const std::byte>` or `std::span<const unsigned char>`,
/// `std::vector<unsigned char>`).
///
/// @par Lookup
/// get(k) (a `std::optional<V>`), contains, count, at (throws
/// std::out_of_range) walk the automaton once and build nothing. find(k)
/// returns an iterator (end() if absent) that is lazy: it holds the key and
/// its ordinal (`key()`, `value()`, `ordinal()` and `*it` need nothing more)
/// and builds its frame stack on the first `++` or `--` (a lower_bound), so
/// find costs what get costs plus a copy of the key. longest_prefix is lazy
/// too.
///
/// @par Complexity
/// get / contains / find / ordinal / lower_bound are O(key length) node
/// visits (a node with many transitions is binary-searched); key_at(i) is
/// O(key length x log fan-out); iterator `++` / `--` amortized O(1) node
/// visits.
///
/// @par Storage
/// One contiguous image (header + automaton + value column) that is owned
/// (FrozenLayerBuilder::finish(), from_sorted), memory-mapped (open) or
/// borrowed (from_bytes: the caller keeps the bytes alive and unchanged). A
/// default-constructed or moved-from layer is a valid empty layer: it reads a
/// static empty image for its `V` (no allocation; moves are noexcept).
///
/// @par Errors
/// open / from_bytes throw memkv::format_error for a truncated, foreign ("not
/// a FrozenLayer file"), wrong-version or wrong-value-type image and
/// memkv::io_error for OS failures (a directory is named as one). Queries
/// never read outside the image; on an image that passed open() but lies
/// inside, a query may throw format_error (never crash). verify() checks the
/// payload checksum.
///
/// @par Iterators
/// Bidirectional (std::bidirectional_iterator; the classic
/// `iterator_category` is input, since `*it` is a prvalue), read-only. `*it`
/// is a `const memkv::entry<V>` that owns a copy of the key (`first`) and the
/// value (`second`), so it stays valid after the iterator moves or dies:
/// std::reverse_iterator, `views::reverse`, structured bindings (`auto&`,
/// `const auto&`, `auto`) and collected entries are safe. The copy costs an
/// allocation per dereference for keys longer than the std::string small
/// buffer; `it.key()` (a reference into the iterator's own buffer,
/// invalidated by `++` / `--`), `it.key(buf)` and `it.value()` cost nothing
/// extra. An iterator owns its key buffer and a stack of (node, ordinal)
/// frames, so copying one costs O(key length) (std::reverse_iterator copies
/// on each dereference). The classic helpers that read `iterator_category`
/// (`std::prev`, `std::advance` by a negative n) see an input iterator: use
/// `--it` or `std::ranges::prev` / `advance`. Iterators compare by ordinal
/// (end() is size()).
///
/// @par Iterator invalidation
/// Iterators and views point to the layer object: they stay valid as long as
/// it lives and is not moved from or assigned to; debug builds
/// (`MEMKV_ASSERT`) catch dereferencing or incrementing end() and comparing
/// iterators of different layers.
///
/// @par Views
/// prefix(p), range(lo, hi) (half-open; empty if `hi <= lo`) and from(k)
/// (keys `>= k`) return a frozen_layer_view: a `std::ranges::view` that is
/// bidirectional, common and borrowed (its iterators point to the layer, not
/// into the view).
///
/// @par Thread safety
/// All const member functions may be called concurrently.
///
/// @par Copy and move
/// Movable (noexcept), not copyable.
template <class V>
class FrozenLayer {
    static_assert(std::is_trivially_copyable_v<V>,
                  "memkv::FrozenLayer<V> requires a trivially copyable V (values are stored as bytes)");
    static_assert(!std::is_const_v<V> && !std::is_volatile_v<V>,
                  "memkv::FrozenLayer<V> requires a V that is not const or volatile");
    static_assert(!std::is_array_v<V>, "memkv::FrozenLayer<V> requires a V that is not an array (use std::array)");

public:
    /// The key type: keys are byte strings (parameters take memkv::key_view).
    using key_type = std::string;
    /// The value type, `V`.
    using mapped_type = V;
    /// `std::pair<std::string, V>`: what an element converts to.
    using value_type = std::pair<std::string, V>;
    /// An unsigned count of keys, and the type of ordinals.
    using size_type = std::size_t;
    /// A signed distance between iterators.
    using difference_type = std::ptrdiff_t;
    /// What `*it` returns: `const entry<V>`, owning a copy of the key and of the value.
    using reference = const entry<V>;
    /// The same as reference: a layer is read-only.
    using const_reference = const entry<V>;

    class const_iterator;
    /// The same as const_iterator: a layer is read-only.
    using iterator = const_iterator;
    /// `std::reverse_iterator<const_iterator>`: each dereference copies the iterator and steps it back.
    using const_reverse_iterator = std::reverse_iterator<const_iterator>;
    /// The same as const_reverse_iterator.
    using reverse_iterator = const_reverse_iterator;
    /// What prefix / range / from return.
    using view = frozen_layer_view<V>;
    /// The name of view before views existed; kept for existing code.
    using iterator_range = view;  // the name before views

    /// A valid empty layer: reads a static empty image, allocates nothing.
    FrozenLayer() noexcept { attach_empty(); }
    /// Takes `o`'s image (its bytes stay where they are); `o` becomes a valid empty layer (no allocation).
    ///
    /// Iterators and views of `o` are invalidated.
    FrozenLayer(FrozenLayer&& o) noexcept { take(o); }
    /// Takes `o`'s image and releases this one's; `o` becomes a valid empty layer.
    ///
    /// Iterators and views of both layers are invalidated.
    FrozenLayer& operator=(FrozenLayer&& o) noexcept {
        if (this != &o) take(o);
        return *this;
    }
    /// Not copyable: an image may be large or a mapping.
    FrozenLayer(const FrozenLayer&) = delete;
    /// Not copyable.
    FrozenLayer& operator=(const FrozenLayer&) = delete;
    /// Releases the image: frees the owned buffer or unmaps the file (borrowed bytes are left alone).
    ~FrozenLayer() = default;

    // --- construction -----------------------------------------------------

    /// Memory-maps a file written by save() or FrozenLayerBuilder::finish(path).
    ///
    /// Validates the header and section bounds (O(1)); call verify() to also
    /// check the payload checksum (reads every byte). The mapping is
    /// read-only: the file must stay unchanged (and untruncated) while the
    /// layer lives.
    /// @param path     The file.
    /// @param user_tag Must equal the frozen_layer_options::user_tag the file was built with.
    /// @throws io_error if the file cannot be opened or mapped; the message
    ///         names the path: "FrozenLayer: cannot open '<path>': it is a
    ///         directory" (or the OS's reason).
    /// @throws format_error if it is not a valid FrozenLayer image of this
    ///         `V` with this tag, naming the path: "FrozenLayer: open
    ///         '<path>': not a FrozenLayer file (it is a memkv checkpoint
    ///         manifest)" and the like.
    static FrozenLayer open(const std::string& path, std::uint64_t user_tag = 0) {
        FrozenLayer f{no_init{}};
        try {
            f.mapped_ = detail::mapped_file(path);
        } catch (const io_error& e) {
            throw io_error(std::string("FrozenLayer: ") + e.what());
        }
        try {
            f.attach(f.mapped_.data(), f.mapped_.size(), user_tag);
        } catch (const format_error& e) {
            // "FrozenLayer: <reason>", from the decoder, which sees only bytes.
            std::string_view why = e.what();
            if (why.starts_with("FrozenLayer: ")) why.remove_prefix(std::string_view("FrozenLayer: ").size());
            throw format_error("FrozenLayer: open '" + path + "': " + std::string(why));
        }
        return f;
    }

    /// Interprets bytes in place (no copy): they must outlive the layer and stay unchanged.
    ///
    /// Validates the header and section bounds, as open() does.
    /// @param bytes    An image as bytes() returns it (or as a file written by save() holds).
    /// @param user_tag Must equal the tag the image was built with.
    /// @throws format_error if the bytes are not a valid FrozenLayer image of this `V` with this tag.
    static FrozenLayer from_bytes(std::span<const unsigned char> bytes, std::uint64_t user_tag = 0) {
        FrozenLayer f{no_init{}};
        f.attach(bytes.data(), bytes.size(), user_tag);
        return f;
    }
    /// Interprets bytes in place (no copy), as the `unsigned char` overload.
    ///
    /// @throws format_error if the bytes are not a valid FrozenLayer image of this `V` with this tag.
    static FrozenLayer from_bytes(std::span<const std::byte> bytes, std::uint64_t user_tag = 0) {
        return from_bytes(std::span<const unsigned char>(
                              reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()),
                          user_tag);
    }

    /// Builds an owning layer from (key, value) pairs already in strictly increasing key order.
    ///
    /// @param items A range of pairs (anything structured bindings split
    ///              into a key and a `V`), such as a sorted `std::map<std::string, V>`.
    /// @param opt   The builder's options.
    /// @throws build_error on a key out of order or repeated.
    template <class Range>
    static FrozenLayer from_sorted(const Range& items, frozen_layer_options opt = {}) {
        FrozenLayerBuilder<V> b(opt);
        for (const auto& [k, v] : items) b.insert(k, v);
        return b.finish();
    }

    /// Sorts (key, value) pairs by key and builds an owning layer.
    ///
    /// @throws build_error on a duplicate key.
    static FrozenLayer from_unsorted(std::vector<std::pair<std::string, V>> items,
                                     frozen_layer_options opt = {}) {
        std::sort(items.begin(), items.end(),
                  [](const auto& a, const auto& b) { return a.first < b.first; });
        return from_sorted(items, opt);
    }

    // --- lookup -----------------------------------------------------------

    /// The number of keys, in O(1) (stored in the header).
    size_type size() const noexcept { return static_cast<size_type>(h_.num_keys); }
    /// Whether the layer holds no key.
    bool empty() const noexcept { return h_.num_keys == 0; }

    /// The value of `key`, if present. One walk; nothing is built.
    ///
    /// @throws format_error if the image turns out to be corrupt (see Errors).
    std::optional<V> get(key_view key) const {
        const std::optional<std::uint64_t> o = walk(key.view());
        if (!o) return std::nullopt;
        return value_at(*o);
    }
    /// Whether `key` is present. One walk; nothing is built.
    bool contains(key_view key) const { return walk(key.view()).has_value(); }
    /// 1 if `key` is present, else 0, as std::map::count.
    size_type count(key_view key) const { return contains(key) ? 1 : 0; }
    /// The value of `key`, as std::map::at (but by value).
    ///
    /// @throws std::out_of_range if `key` is absent.
    V at(key_view key) const {
        const std::optional<std::uint64_t> o = walk(key.view());
        if (!o) throw std::out_of_range("FrozenLayer::at: key not found");
        return value_at(*o);
    }
    /// An iterator at `key`, end() if absent, as std::map::find.
    ///
    /// Lazy: one walk plus a copy of the key; the frame stack is built on the
    /// first `++` or `--`.
    const_iterator find(key_view key) const {
        const std::optional<std::uint64_t> o = walk(key.view());
        if (!o) return end();
        return lazy_at(key.view(), *o);
    }

    /// The prefix whose lookups start below it, or empty when there is none. A diagnostic.
    ///
    /// A path that at least half of all keys share (see find_jump in the
    /// source), found once when the layer takes its image; results never
    /// depend on it.
    std::string_view jump_prefix() const noexcept {
        if (trie_) return trie_->jump_prefix();
        return {reinterpret_cast<const char*>(jump_path_), jump_len_};
    }

    /// The rank of `key` among all keys in byte order (0 for the smallest), if present. One walk.
    std::optional<size_type> ordinal(key_view key) const {
        const std::optional<std::uint64_t> o = walk(key.view());
        if (!o) return std::nullopt;
        return static_cast<size_type>(*o);
    }
    /// The key of rank `i`: the inverse of ordinal(). O(key length x log fan-out).
    ///
    /// @throws std::out_of_range if `i >= size()`.
    std::string key_at(size_type i) const {
        if (i >= size()) throw std::out_of_range("FrozenLayer::key_at: ordinal out of range");
        return nth(i).key();
    }
    /// The value of the key of rank `i`, read from the value column directly (no walk).
    ///
    /// @throws std::out_of_range if `i >= size()`.
    V value_at_ordinal(size_type i) const {
        if (i >= size()) throw std::out_of_range("FrozenLayer::value_at_ordinal: out of range");
        return value_at(i);
    }

    // --- ordered access ---------------------------------------------------

    /// An iterator at the smallest key (end() if empty).
    const_iterator begin() const {
        const_iterator it(this);
        if (trie_) {
            trie_->first(it.cur_);
        } else if (!empty()) {
            it.stack_.push_back({h_.root, 0, -1, 0});
            descend_first(it);
        }
        return it;
    }
    /// The past-the-end iterator (its ordinal is size()); O(1), allocates nothing.
    const_iterator end() const noexcept { return const_iterator(this); }
    /// The same as begin().
    const_iterator cbegin() const { return begin(); }
    /// The same as end().
    const_iterator cend() const noexcept { return end(); }
    /// `std::reverse_iterator(end())`.
    ///
    /// Each dereference copies the iterator and steps it back (O(key
    /// length)); the entry it yields owns its key.
    const_reverse_iterator rbegin() const { return const_reverse_iterator(end()); }
    /// `std::reverse_iterator(begin())`.
    const_reverse_iterator rend() const { return const_reverse_iterator(begin()); }
    /// The same as rbegin().
    const_reverse_iterator crbegin() const { return rbegin(); }
    /// The same as rend().
    const_reverse_iterator crend() const { return rend(); }

    /// An iterator at the key of rank `i`, end() if `i >= size()`. O(key length x log fan-out).
    const_iterator nth(size_type i) const {
        const_iterator it(this);
        if (i >= size()) return it;
        if (trie_) {
            trie_->nth(it.cur_, i);
            return it;
        }
        it.stack_.push_back({h_.root, 0, -1, 0});
        for (;;) {
            auto& f = it.stack_.back();
            const detail::frozen_node nd = node(f.addr);
            const std::uint64_t r = i - f.base;
            if ((nd.final && r == 0) || nd.n == 0) {
                if (r != 0) detail::frozen_corrupt("ordinal counts inconsistent");
                break;
            }
            const std::uint32_t j = nd.by_rank(r);
            const std::uint64_t cb = nd.count_before(j);
            if (cb > r) detail::frozen_corrupt("ordinal counts inconsistent");
            push_child(it, nd, j);
        }
        it.sync();
        return it;
    }

    /// The first key `>= key`, as std::map::lower_bound.
    const_iterator lower_bound(key_view key) const {
        const_iterator it(this);
        seek(it, key.view());
        return it;
    }
    /// The first key `> key`, as std::map::upper_bound.
    const_iterator upper_bound(key_view key) const {
        const_iterator it = lower_bound(key);
        if (it != end() && std::string_view(it.key()) == key.view()) ++it;
        return it;
    }
    /// `[lower_bound(key), upper_bound(key))`: one key or none, as std::map::equal_range.
    std::pair<const_iterator, const_iterator> equal_range(key_view key) const {
        const_iterator lo = lower_bound(key);
        const_iterator hi = lo;
        if (hi != end() && std::string_view(hi.key()) == key.view()) ++hi;
        return {std::move(lo), std::move(hi)};
    }
    /// Keys in `[lo, hi)`; empty if `hi <= lo`. Two seeks.
    view range(key_view lo, key_view hi) const {
        const_iterator a = lower_bound(lo);
        if (hi.view() <= lo.view()) {
            const_iterator b = a;
            return view(std::move(a), std::move(b));
        }
        return view(std::move(a), lower_bound(hi));
    }
    /// Keys `>= key`: `[lower_bound(key), end())`.
    view from(key_view key) const { return view(lower_bound(key), end()); }
    /// Keys that start with `pk`, in order (the tsl::htrie_map name is equal_prefix_range). Two seeks.
    view prefix(key_view pk) const {
        const std::string_view p = pk.view();
        const_iterator a = lower_bound(p);
        // The first string greater than every extension of p: drop trailing
        // 0xFF bytes and increment the last byte; none left means "no bound".
        std::string succ(p);
        while (!succ.empty() && static_cast<unsigned char>(succ.back()) == 0xFF) succ.pop_back();
        if (succ.empty()) return view(std::move(a), end());
        succ.back() = static_cast<char>(static_cast<unsigned char>(succ.back()) + 1);
        return view(std::move(a), lower_bound(succ));
    }
    /// The same as prefix(p), under tsl::htrie_map's name.
    view equal_prefix_range(key_view p) const { return prefix(p); }

    /// The longest key that is a prefix of `kv` (possibly `kv` itself or the empty key), or end().
    ///
    /// One walk; the iterator is lazy, like find's.
    const_iterator longest_prefix(key_view kv) const {
        if (empty()) return end();
        const std::string_view key = kv.view();
        if (trie_) {
            const auto [len, ord] = trie_->longest_prefix(key);
            if (len == detail::trie::npos) return end();
            return lazy_at(key.substr(0, static_cast<std::size_t>(len)), ord);
        }
        std::uint64_t addr = h_.root;
        std::uint64_t ord = 0;
        std::optional<std::size_t> best;
        std::uint64_t best_ord = 0;
        for (std::size_t d = 0;; ++d) {
            const detail::frozen_node nd = node(addr);
            if (nd.final) {
                best = d;
                best_ord = ord;
            }
            if (d == key.size()) break;
            const std::uint32_t j = nd.find(static_cast<unsigned char>(key[d]));
            if (j == nd.n) break;
            if (nd.extra != 0) {  // a pair or run: its inner states are not final
                if (key.size() - d <= nd.extra) break;
                unsigned i = 0;
                while (i < nd.extra && static_cast<unsigned char>(key[d + 1 + i]) == nd.label_after(i)) ++i;
                if (i < nd.extra) break;
                d += nd.extra;
            }
            ord += nd.count_before(j);
            addr = nd.target(j);
        }
        if (!best) return end();
        return lazy_at(key.substr(0, *best), best_ord);
    }

    // --- storage ----------------------------------------------------------

    /// Bytes of the image this layer reads, plus the object itself (and, in
    /// version 3, the link code's tables built on open: 0.5-0.6 MiB when the links are coded).
    ///
    /// The image is the owned buffer, the mapping (a mapped layer counts the
    /// whole mapping, resident or not) or the borrowed span.
    std::size_t memory_usage() const noexcept {
        return sizeof(*this) + (owned_.data() == nullptr ? image_size_ : owned_.capacity()) +
               (trie_ ? trie_->memory_usage() : 0);
    }
    /// The serialized image (exactly what save() writes); valid while the layer lives and is not moved from.
    std::span<const unsigned char> bytes() const noexcept { return {image_, image_size_}; }
    /// Tells the OS how an open()ed (memory-mapped) layer will be read; a hint that changes no result.
    ///
    /// A mapped file's page faults normally read the pages around the one
    /// missed as well (up to the device's read_ahead_kb): right for scans,
    /// but when the file is larger than the page cache, point lookups then
    /// read far more than they use and evict each other's pages.
    /// `access_pattern::random` turns that off for this mapping;
    /// HybridKV does so for its file-backed runs (hybrid_options::random_access_runs).
    /// No effect on a layer that owns or borrows its image, or where the OS
    /// refuses the hint.
    void advise(access_pattern a) const noexcept {
        using access = detail::mapped_file::access;
        mapped_.advise(a == access_pattern::random       ? access::random
                       : a == access_pattern::sequential ? access::sequential
                                                         : access::normal);
    }
    /// The tag stored in the header (frozen_layer_options::user_tag).
    std::uint64_t user_tag() const noexcept { return h_.user_tag; }
    /// Bytes of the key automaton in the image (version 3: the trie's payload).
    std::size_t automaton_size() const noexcept { return static_cast<std::size_t>(h_.automaton_size); }
    /// Bytes of the value column in the image (0 when every value equals its ordinal).
    std::size_t value_column_size() const noexcept { return static_cast<std::size_t>(h_.values_size); }
    /// Bits per value in a packed column (unsigned integer `V`); 0 for other columns or equal values.
    unsigned value_bits() const noexcept { return h_.value_bits; }

    /// Writes the image to `path`, replacing any file there atomically.
    ///
    /// Goes through `path + ".tmp"` and a rename, so a crash never leaves a
    /// half-written file under the final name, and a failure leaves the file
    /// that was there untouched.
    /// @throws io_error "FrozenLayer: save '<path>': <what failed>".
    void save(const std::string& path) const {
        const std::string tmp = path + ".tmp";
        try {
            detail::file_writer w(tmp);
            w.write(image_, image_size_);
            w.close();
            detail::rename_file(tmp, path);
        } catch (const io_error& e) {
            detail::remove_file_noexcept(tmp);
            throw io_error("FrozenLayer: save '" + path + "': " + e.what());
        } catch (...) {
            detail::remove_file_noexcept(tmp);
            throw;
        }
    }

    /// Checks the payload checksum (CRC-32C over everything after the header): reads every byte.
    ///
    /// @throws format_error on mismatch.
    void verify() const {
        const std::uint32_t c = detail::crc32c(image_ + detail::frozen_header_size,
                                               image_size_ - detail::frozen_header_size);
        if (c != h_.payload_crc) detail::frozen_corrupt("payload checksum mismatch (corrupted file)");
    }

    // --- iterator ---------------------------------------------------------

    /// A read-only bidirectional iterator; `*it` is a `const entry<V>`.
    ///
    /// See the class's Iterators paragraph: it owns its key buffer and a
    /// stack of (node, ordinal) frames; `key()`, `key(buf)`, `value()` and
    /// `ordinal()` are the cheap accessors.
    class const_iterator {
    public:
        /// Input, for the classic helpers.
        ///
        /// `*it` is a prvalue, so the classic category claims only input;
        /// C++20 algorithms and std::reverse_iterator use `iterator_concept`.
        using iterator_category = std::input_iterator_tag;
        /// Bidirectional: what std::ranges, std::reverse_iterator and C++20 algorithms use.
        using iterator_concept = std::bidirectional_iterator_tag;
        /// `std::pair<std::string, V>`.
        using value_type = std::pair<std::string, V>;
        /// A signed distance.
        using difference_type = std::ptrdiff_t;
        /// What `*it` returns: `const entry<V>`.
        using reference = const entry<V>;
        /// What `operator->` returns: a proxy that owns an entry, so `it->first` is valid for the full expression.
        using pointer = detail::arrow_proxy<entry<V>>;

        /// A singular iterator, to be assigned before use.
        const_iterator() = default;

        /// The current key: a reference into this iterator's buffer, invalidated by `++` and `--`.
        ///
        /// Empty at end().
        const std::string& key() const noexcept { return cur_.key; }
        /// Copies the current key into `out`, reusing its capacity.
        void key(std::string& out) const { out.assign(cur_.key); }
        /// The current value, decoded from the value column. Not valid on end().
        ///
        /// @throws format_error if the image turns out to be corrupt.
        V value() const {
            MEMKV_ASSERT(layer_ != nullptr && !at_end());  // not end()
            return layer_->value_at(cur_.ordinal);
        }
        /// The rank of the current key (size() at end()).
        std::size_t ordinal() const noexcept { return static_cast<std::size_t>(cur_.ordinal); }

        /// An entry that owns a copy of the key and the value.
        reference operator*() const { return reference(cur_.key, value()); }
        /// A proxy owning the element, for `it->first` and `it->second`.
        pointer operator->() const { return pointer{entry<V>(cur_.key, value())}; }

        /// Moves to the next key in byte order (amortized O(1) node visits); not valid on end().
        ///
        /// A lazy iterator (from find or longest_prefix) first builds its frames.
        const_iterator& operator++() {
            // ++end() is undefined. On a version 3 image whose ordinals lie,
            // a range's end may be passed by (its ordinal and the one counted
            // on the way differ): the trie throws format_error past the last
            // key.
            MEMKV_ASSERT(layer_ != nullptr && (!at_end() || layer_->trie_));
            if (lazy_) [[unlikely]]
                materialize();
            layer_->advance(*this);
            return *this;
        }
        /// Post-increment: returns a copy made before the step (O(key length)).
        const_iterator operator++(int) {
            const_iterator t = *this;
            ++*this;
            return t;
        }
        /// Moves to the previous key in byte order; from end(), to the last key.
        const_iterator& operator--() {
            MEMKV_ASSERT(layer_ != nullptr);
            if (lazy_) [[unlikely]]
                materialize();
            layer_->retreat(*this);
            return *this;
        }
        /// Post-decrement: returns a copy made before the step (O(key length)).
        const_iterator operator--(int) {
            const_iterator t = *this;
            --*this;
            return t;
        }
        /// Whether both are at the same key, compared by ordinal (end() is size()); O(1).
        ///
        /// Both must come from the same layer.
        friend bool operator==(const const_iterator& a, const const_iterator& b) noexcept {
            // Iterators of different layers are not comparable. The ordinal
            // tells positions apart (end() is size()); on an image whose
            // counts lie, that may end an iteration early, never late.
            MEMKV_ASSERT(a.layer_ == b.layer_ || a.layer_ == nullptr || b.layer_ == nullptr);
            return a.cur_.ordinal == b.cur_.ordinal;
        }

    private:
        friend class FrozenLayer;
        struct frame {
            std::uint64_t addr;
            std::uint64_t base;   // ordinal of the first key below this node
            std::int32_t i;       // transition taken; -1: the key ends here
            std::size_t depth;    // key length at this node
        };
        explicit const_iterator(const FrozenLayer* l) noexcept : layer_(l) { cur_.ordinal = l->h_.num_keys; }
        void sync() noexcept { cur_.ordinal = stack_.empty() ? layer_->h_.num_keys : stack_.back().base; }
        bool at_end() const noexcept { return stack_.empty() && cur_.stack.empty() && !lazy_; }
        // A lazy iterator (find, longest_prefix) holds only its key and
        // ordinal; this builds its frames, as lower_bound(key) would. Kept out of
        // line: ++ and -- only test lazy_.
#if defined(__GNUC__) || defined(__clang__)
        __attribute__((noinline))
#endif
        void materialize() {
            MEMKV_ASSERT(lazy_);
            const std::string k = std::move(cur_.key);
            const std::uint64_t o = cur_.ordinal;
            lazy_ = false;
            cur_.key.clear();
            layer_->seek(*this, k);
            if (cur_.ordinal != o || cur_.key != k) detail::frozen_corrupt("ordinal counts inconsistent");
        }

        const FrozenLayer* layer_ = nullptr;
        std::vector<frame> stack_;
        // The key, the ordinal and, on a version 3 layer, the trie's frames
        // (stack_ holds version 1 and 2 frames).
        detail::trie::trie_cursor cur_;
        bool lazy_ = false;
    };

private:
    friend class FrozenLayerBuilder<V>;

    struct no_init {};
    explicit FrozenLayer(no_init) noexcept {}

    // The header of an empty layer of this V.
    static detail::frozen_header empty_header() noexcept {
        detail::frozen_header f;
        f.type_tag = detail::frozen_type_tag<V>();
        f.value_size = sizeof(V);
        f.value_kind = detail::frozen_packable<V> ? detail::frozen_value_kind::ordinal
                                                   : detail::frozen_value_kind::raw;
        f.payload_crc = detail::crc32c(nullptr, 0);
        return f;
    }
    // One static, never-freed empty image per V: what default-constructed
    // and moved-from layers read.
    static const std::array<unsigned char, detail::frozen_header_size>& empty_image() noexcept {
        static const std::array<unsigned char, detail::frozen_header_size> image = [] {
            std::array<unsigned char, detail::frozen_header_size> a{};
            detail::encode_frozen_header(empty_header(), a.data());
            return a;
        }();
        return image;
    }
    void attach_empty() noexcept {
        h_ = empty_header();
        image_ = empty_image().data();
        image_size_ = detail::frozen_header_size;
        automaton_ = image_ + detail::frozen_header_size;
        values_ = automaton_;
        trie_.reset();
        jump_len_ = 0;
        jump_addr_ = 0;
        jump_ord_ = 0;
    }
    // Takes o's image (the owned buffer and the mapping move; their bytes
    // stay where they are) and leaves o empty.
    void take(FrozenLayer& o) noexcept {
        owned_ = std::move(o.owned_);
        detail::huge_buffer().swap(o.owned_);
        mapped_ = std::move(o.mapped_);
        image_ = o.image_;
        image_size_ = o.image_size_;
        automaton_ = o.automaton_;
        values_ = o.values_;
        h_ = o.h_;
        trie_ = std::move(o.trie_);
        jump_len_ = o.jump_len_;
        jump_addr_ = o.jump_addr_;
        jump_ord_ = o.jump_ord_;
        std::memcpy(jump_path_, o.jump_path_, sizeof jump_path_);
        o.attach_empty();
    }

    void attach(const unsigned char* p, std::size_t n, std::uint64_t user_tag) {
        MEMKV_ASSERT(p != nullptr || n == 0);
        h_ = detail::decode_frozen_header(p, n, detail::frozen_type_tag<V>(),
                                          static_cast<std::uint32_t>(sizeof(V)));
        if (h_.user_tag != user_tag) {
            detail::frozen_corrupt("user tag mismatch: file has " + std::to_string(h_.user_tag) +
                                   ", expected " + std::to_string(user_tag));
        }
        const bool raw = h_.value_kind == detail::frozen_value_kind::raw;
        if (detail::frozen_packable<V> == raw) detail::frozen_corrupt("value column kind does not fit the value type");
        image_ = p;
        image_size_ = n;
        automaton_ = p + detail::frozen_header_size;
        values_ = automaton_ + h_.automaton_size;
        if (h_.version >= 3) {
            trie_.emplace(detail::trie::parse_payload(automaton_, h_.automaton_size, h_.num_keys));
            jump_len_ = 0;
        } else {
            trie_.reset();
            find_jump();
        }
    }

    // A lazy iterator at key, whose ordinal is ord (see const_iterator).
    const_iterator lazy_at(std::string_view key, std::uint64_t ord) const {
        // Only a lying image gets here with a bad ordinal: that is its error,
        // not an invariant of this code, so it is checked in Release too.
        if (ord >= h_.num_keys) detail::frozen_corrupt("ordinal out of range");
        const_iterator it(this);
        it.cur_.key.assign(key);
        it.cur_.ordinal = ord;
        it.lazy_ = true;
        return it;
    }

    // Positions it (empty, not lazy) at the first key >= key.
    void seek(const_iterator& it, std::string_view key) const {
        MEMKV_ASSERT(it.stack_.empty() && !it.lazy_);
        if (trie_) return trie_->seek(it.cur_, key);
        if (empty()) return;
        it.stack_.push_back({h_.root, 0, -1, 0});
        for (std::size_t d = 0;; ++d) {
            const detail::frozen_node nd = node(it.stack_.back().addr);
            if (d == key.size()) {
                if (nd.final || nd.n == 0) {
                    it.stack_.back().i = -1;
                    it.sync();
                } else {
                    descend_first(it);
                }
                return;
            }
            const auto c = static_cast<unsigned char>(key[d]);
            const std::uint32_t j = nd.lower(c);
            if (j == nd.n) {
                // Everything below this node is smaller: continue after it.
                it.stack_.back().i = static_cast<std::int32_t>(nd.n) - 1;
                advance(it);
                return;
            }
            const unsigned char l = nd.label(j);
            if (l == c && nd.extra != 0) {
                // A transition of several labels (pair, run): compare the rest too.
                unsigned i = 0;
                for (; i < nd.extra && d + 1 + i < key.size(); ++i) {
                    const auto ci = static_cast<unsigned char>(key[d + 1 + i]);
                    const unsigned char li = nd.label_after(i);
                    if (li < ci) {  // everything below is smaller
                        it.stack_.back().i = static_cast<std::int32_t>(nd.n) - 1;
                        advance(it);
                        return;
                    }
                    if (li > ci) break;
                }
                push_child(it, nd, j);
                if (i == nd.extra) {
                    d += nd.extra;
                    continue;
                }
                descend_first(it);  // key ends inside, or below is bigger
                return;
            }
            push_child(it, nd, j);
            if (l != c) {
                descend_first(it);
                return;
            }
        }
    }

    // The jump: where lookups of keys with a long, dominant prefix start.
    // Real key sets often put most keys under one long path that the
    // automaton still spells a transition per byte, because a long tail of
    // other keys branches off along it (98% of the URL set starts with
    // "https://github.com/": 19 node decodes before the first byte that
    // tells URLs apart). Found once here, the image being immutable: from the
    // root, follow the transition that holds at least half of all keys while
    // there is one (at most jump_max bytes); if that path is at least
    // jump_min bytes long, walk() starts keys that begin with it at its end
    // state and ordinal. Nothing is stored in the file.
    static constexpr std::size_t jump_min = 8;
    static constexpr std::size_t jump_max = 56;

    void find_jump() {
        jump_len_ = 0;
        if (h_.num_keys == 0) return;
        std::uint64_t addr = h_.root;
        std::uint64_t ord = 0;
        std::uint64_t below = h_.num_keys;  // keys at or below addr
        std::size_t len = 0;
        for (;;) {
            const detail::frozen_node nd = node(addr);
            std::uint32_t best = nd.n;
            std::uint64_t best_count = 0;
            for (std::uint32_t j = 0; j < nd.n; ++j) {
                const std::uint64_t end = j + 1 < nd.n ? nd.count_before(j + 1) : below;
                const std::uint64_t c = end - nd.count_before(j);
                if (c > best_count) {
                    best = j;
                    best_count = c;
                }
            }
            const std::size_t labels = 1 + std::size_t{nd.extra};
            if (best == nd.n || best_count * 2 < h_.num_keys || len + labels > jump_max) break;
            jump_path_[len++] = nd.label(best);
            for (unsigned i = 0; i < nd.extra; ++i) jump_path_[len++] = nd.label_after(i);
            ord += nd.count_before(best);
            addr = nd.target(best);
            below = best_count;
        }
        if (len < jump_min) return;
        jump_len_ = len;
        jump_addr_ = addr;
        jump_ord_ = ord;
    }

    detail::frozen_node node(std::uint64_t addr) const {
        return detail::decode_frozen_node(automaton_, h_.automaton_size, addr, h_.table.data());
    }

    V value_at(std::uint64_t i) const {
        if (i >= h_.num_keys) detail::frozen_corrupt("ordinal out of range");
        if constexpr (detail::frozen_packable<V>) {
            if (h_.value_kind == detail::frozen_value_kind::ordinal) return static_cast<V>(i);
            return static_cast<V>(h_.value_base +
                                  detail::packed_column::get(values_, i, h_.value_bits));
        } else {
            // bit_cast: V need not be default-constructible.
            std::array<unsigned char, sizeof(V)> b;
            std::memcpy(b.data(), values_ + i * sizeof(V), sizeof(V));
            return std::bit_cast<V>(b);
        }
    }

    // Ordinal of key, if present. The hot path: one-byte chain nodes are
    // handled inline without building a frozen_node.
    std::optional<std::uint64_t> walk(std::string_view key) const {
        if (trie_) {
            const std::uint64_t o = trie_->find(key);
            if (o == detail::trie::npos) return std::nullopt;
            return o;
        }
        if (empty()) return std::nullopt;
        const unsigned char* a = automaton_;
        const unsigned char* table = h_.table.data();
        std::uint64_t addr = h_.root;
        std::uint64_t ord = 0;
        const auto* k = reinterpret_cast<const unsigned char*>(key.data());
        const std::size_t len = key.size();
        std::size_t d = 0;
        if (jump_len_ != 0 && len >= jump_len_ && std::memcmp(k, jump_path_, jump_len_) == 0) {
            addr = jump_addr_;
            ord = jump_ord_;
            d = jump_len_;
        }
        for (; d < len; ++d) {
            const unsigned char h = a[addr];
            if (h & detail::node_one_next) {
                if (h & detail::node_pair_next) {
                    const unsigned char* pr = table + detail::frozen_singles + 2 * (h & 0x3F);
                    if (pr[0] != k[d] || d + 1 == len || pr[1] != k[d + 1]) return std::nullopt;
                    ++d;
                } else if (table[h & 0x3F] != k[d]) {
                    return std::nullopt;
                }
                if (addr == 0) detail::frozen_corrupt("chain node has no successor");
                --addr;
                continue;
            }
            const detail::frozen_node nd = node(addr);
            if (nd.extra != 0) {
                // A run (random bytes, integers; pairs took the branch
                // above): its labels lie backwards from addr - labels_at, and
                // decoding checked they are in bounds.
                const std::size_t n = nd.extra + 1;
                if (len - d < n) return std::nullopt;
                // Eight labels at a time: the word below them, byte-swapped,
                // is the key's next eight bytes in order.
                const unsigned char* l = a + addr - nd.labels_at;  // the first label
                std::size_t i = 0;
                for (; i + 8 <= n; i += 8) {
                    if (detail::load_be64(l - i - 7) != detail::load_u64_unaligned(k + d + i)) return std::nullopt;
                }
                for (; i < n; ++i)
                    if (*(l - i) != k[d + i]) return std::nullopt;
                d += n - 1;
                addr = nd.one_target;
                continue;
            }
            const std::uint32_t j = nd.find(k[d]);
            if (j == nd.n) return std::nullopt;
            ord += nd.count_before(j);
            addr = nd.target(j);
#if defined(__GNUC__) || defined(__clang__)
            // Nodes are read backwards: a chain starting here continues into
            // the previous cache line, which the hardware prefetcher rarely
            // fetches on its own.
            if (addr >= 64) __builtin_prefetch(a + addr - 64);
#endif
        }
        const unsigned char h = a[addr];
        if (!detail::frozen_header_final(h)) return std::nullopt;
        return ord;
    }

    // Takes transition j of the top frame's node nd and pushes a frame for
    // its target; with skip_run, for the first node after the run of
    // one-transition nodes below it (see follow_singles).
    void push_child(const_iterator& it, const detail::frozen_node& nd, std::uint32_t j,
                    bool skip_run = false) const {
        auto& f = it.stack_.back();
        f.i = static_cast<std::int32_t>(j);
        const std::uint64_t base = f.base + nd.count_before(j);
        it.cur_.key.resize(f.depth);
        if (nd.general) {
            it.cur_.key.push_back(static_cast<char>(nd.label(j)));
        } else {
            nd.append_labels(it.cur_.key);  // one, pair or run: the only transition
        }
        const std::uint64_t addr = skip_run ? follow_singles(it, nd.target(j)) : nd.target(j);
        const std::size_t depth = it.cur_.key.size();
        it.stack_.push_back({addr, base, -1, depth});
    }
    // Pops the top frame and trims the key to the new top's depth.
    static void pop_frame(const_iterator& it) {
        it.stack_.pop_back();
        it.cur_.key.resize(it.stack_.empty() ? 0 : it.stack_.back().depth);
    }

    // Appends the labels of the run of one-transition nodes starting at addr
    // and returns the first node after it. Such nodes offer no alternative,
    // so descents push no frame for them (advance/retreat never revisit
    // them); frames pushed by lower_bound/nth for them are popped in one step.
    // The labels gather in a local buffer appended in pieces, not one
    // std::string::push_back each, and the two chain kinds are told apart
    // without a branch: a full iteration (what a merge reads) went 1.17-1.85x
    // faster on the URL set, uuid, names and paths (bench/RESULTS.md,
    // sixteenth session).
    std::uint64_t follow_singles(const_iterator& it, std::uint64_t addr) const {
        char buf[64];
        std::size_t n = 0;
        for (;;) {
            if (n > sizeof buf - 2) {
                it.cur_.key.append(buf, n);
                n = 0;
            }
            const unsigned char h = automaton_[addr];
            if ((h & detail::node_one_next) && addr > 0) {
                // One-next and pair-next mix at random along a tail: both
                // copy two table bytes and keep one or two of them, so the
                // kind costs no branch (the table has a byte after every
                // single label).
                static_assert(detail::node_pair_next == 0x40);
                const unsigned pair = (h >> 6) & 1U;
                const unsigned idx = h & 0x3FU;
                // idx, or frozen_singles + 2 * idx for a pair, as arithmetic
                // (GCC made a ternary a branch).
                const unsigned at = idx + ((static_cast<unsigned>(detail::frozen_singles) + idx) & (0U - pair));
                buf[n] = static_cast<char>(h_.table[at]);
                buf[n + 1] = static_cast<char>(h_.table[at + 1]);
                n += 1 + pair;
                --addr;
                continue;
            }
            if (h < detail::node_to_leaf && h != detail::node_long_run) break;  // general, two or leaf
            const detail::frozen_node nd = node(addr);
            if (nd.run()) {
                it.cur_.key.append(buf, n);
                n = 0;
                nd.append_labels(it.cur_.key);
            } else {
                buf[n++] = static_cast<char>(nd.one_label);
            }
            addr = nd.target(0);
        }
        if (n != 0) it.cur_.key.append(buf, n);
        return addr;
    }

    // From the top frame, go to the first key of its subtree.
    void descend_first(const_iterator& it) const {
        for (;;) {
            const detail::frozen_node nd = node(it.stack_.back().addr);
            if (nd.final || nd.n == 0) break;
            push_child(it, nd, 0, true);
        }
        it.stack_.back().i = -1;
        it.sync();
    }
    void descend_last(const_iterator& it) const {
        for (;;) {
            const detail::frozen_node nd = node(it.stack_.back().addr);
            if (nd.n == 0) break;
            push_child(it, nd, nd.n - 1, true);
        }
        it.stack_.back().i = -1;
        it.sync();
    }

    // Next key after the top frame's transition i (i = -1: after its own key).
    void advance(const_iterator& it) const {
        MEMKV_ASSERT(!it.lazy_);
        if (trie_) return trie_->next(it.cur_);
        while (!it.stack_.empty()) {
            auto& f = it.stack_.back();
            if (f.i >= 0 && (automaton_[f.addr] >= detail::node_to_leaf ||
                             automaton_[f.addr] == detail::node_long_run)) {
                // A one-transition node whose only transition was taken.
                pop_frame(it);
                continue;
            }
            const detail::frozen_node nd = node(f.addr);
            const std::int64_t next = std::int64_t{f.i} + 1;
            if (next < static_cast<std::int64_t>(nd.n)) {
                push_child(it, nd, static_cast<std::uint32_t>(next), true);
                descend_first(it);
                return;
            }
            pop_frame(it);
        }
        it.cur_.key.clear();
        it.sync();
    }

    void retreat(const_iterator& it) const {
        MEMKV_ASSERT(!it.lazy_);
        if (trie_) return trie_->prev(it.cur_);
        if (it.stack_.empty()) {  // --end(): the last key
            if (empty()) return;
            it.cur_.key.clear();
            it.stack_.push_back({h_.root, 0, -1, 0});
            descend_last(it);
            return;
        }
        for (;;) {
            pop_frame(it);
            if (it.stack_.empty()) {  // before begin(): undefined; become end()
                it.sync();
                return;
            }
            auto& f = it.stack_.back();
            const detail::frozen_node nd = node(f.addr);
            if (f.i > 0) {
                push_child(it, nd, static_cast<std::uint32_t>(f.i - 1), true);
                descend_last(it);
                return;
            }
            if (nd.final) {
                f.i = -1;
                it.sync();
                return;
            }
        }
    }

    detail::huge_buffer owned_;
    detail::mapped_file mapped_;
    const unsigned char* image_ = nullptr;
    std::size_t image_size_ = 0;
    const unsigned char* automaton_ = nullptr;
    const unsigned char* values_ = nullptr;
    detail::frozen_header h_;
    std::optional<detail::trie::trie_view> trie_;  // version 3: the keys' trie (else the automaton)
    std::size_t jump_len_ = 0;  // 0: no jump
    std::uint64_t jump_addr_ = 0;
    std::uint64_t jump_ord_ = 0;
    unsigned char jump_path_[jump_max] = {};
};

/// What FrozenLayer's prefix, range and from return: a pair of iterators as a `std::ranges::view`.
///
/// Bidirectional, common, sized and borrowed: the iterators point to the
/// layer, so they outlive the view (and are invalidated like the layer's).
/// Derives from view_base rather than view_interface, which clang 14 cannot
/// instantiate with libstdc++ 12; the members view_interface would give are
/// written out.
///
/// @tparam V The layer's value type.
template <class V>
class frozen_layer_view : public std::ranges::view_base {
public:
    /// FrozenLayer::const_iterator.
    using iterator = typename FrozenLayer<V>::const_iterator;
    /// The same as iterator.
    using const_iterator = iterator;

    /// An empty view of singular iterators, to be assigned before use.
    frozen_layer_view() = default;
    /// The view of `[first, last)`; both must come from the same layer, `first` not after `last`.
    frozen_layer_view(iterator first, iterator last) : first_(std::move(first)), last_(std::move(last)) {}

    /// The first element's iterator, by reference: a loop that calls it each step copies nothing.
    const iterator& begin() const noexcept { return first_; }
    /// The end iterator, by reference: a loop that calls end() each step copies nothing.
    const iterator& end() const noexcept { return last_; }
    /// Whether the view has no element, in O(1).
    bool empty() const noexcept { return first_ == last_; }
    /// `!empty()`.
    explicit operator bool() const noexcept { return !empty(); }
    /// The number of keys in the view: O(1), from the ordinals.
    std::size_t size() const noexcept {
        return last_.ordinal() > first_.ordinal() ? last_.ordinal() - first_.ordinal() : 0;
    }
    /// The first element; the view must not be empty.
    typename iterator::reference front() const { return *first_; }
    /// The last element (a copy of end() stepped back); the view must not be empty.
    typename iterator::reference back() const { return *std::ranges::prev(last_); }

private:
    iterator first_;
    iterator last_;
};

}  // namespace memkv

/// @cond
// Not in the API reference: the view's page says it is borrowed.
template <class V>
inline constexpr bool std::ranges::enable_borrowed_range<memkv::frozen_layer_view<V>> = true;
/// @endcond

// FrozenLayer::from_sorted needs the builder, and the builder returns a
// FrozenLayer: either header may be included first.
#include <memkv/frozen_builder.hpp>
