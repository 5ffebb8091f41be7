#pragma once

/// @file
/// @brief memkv::HybridKV (alias memkv::MemKV), the thread-safe store, with its views and snapshots.

#include <memkv/detail/fwd.hpp>
#include <memkv/detail/assert.hpp>
#include <memkv/detail/hybrid/engine.hpp>
#include <memkv/detail/hybrid/merge.hpp>
#include <memkv/detail/hybrid/options.hpp>
#include <memkv/entry.hpp>
#include <memkv/fast_art.hpp>
#include <memkv/frozen_builder.hpp>
#include <memkv/frozen_layer.hpp>
#include <memkv/key_view.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace memkv {

namespace detail {
struct hybrid_test_access;  // the tests' way to the engine (HybridKV's friend)

// What a view reads: the layers it captured and its bounds. Shared by the
// view and its iterators, so an iterator outlives its view (borrowed range).
template <class V>
struct hybrid_scan {
    hybrid_scan(std::shared_ptr<const hybrid_layers<V>> l, scan_bounds b)
        : layers(std::move(l)), whole(whole_store(layers.get(), b)), origin(layers.get(), std::move(b), true) {}

    // A view of the whole store reads every run from end to end: the pages
    // around each fault are worth reading (hybrid_options::random_access_runs).
    // Bounded views keep the hint: most are short.
    static std::vector<const hybrid_run<V>*> whole_store(const hybrid_layers<V>* l, const scan_bounds& b) {
        std::vector<const hybrid_run<V>*> runs;
        if (l != nullptr && b.lo.empty() && !b.has_hi) {
            for (const auto& r : l->runs) runs.push_back(r.get());
        }
        return runs;
    }

    std::shared_ptr<const hybrid_layers<V>> layers;  // null: an empty store
    hybrid_run_scan<hybrid_run<V>> whole;            // the runs of a whole-store view
    hybrid_scan_origin<V> origin;                    // reads *layers: declared after it
};
}  // namespace detail

/// A lazily merged, point-in-time, bidirectional view of (key, value) pairs in byte order.
///
/// Returned by prefix(), range(), from() and items() of HybridKV and of its
/// snapshots. It holds the layers it reads, so it and its iterators stay
/// valid after the store moves on (or is destroyed); writers never wait for
/// it and it is never invalidated.
///
/// A `std::ranges::bidirectional_range`, `common_range`, `view` and
/// `borrowed_range`: range-for, `<algorithm>`, `views::reverse`,
/// `views::keys` / `values` and std::reverse_iterator all work.
/// Dereferencing gives a `const entry<V>` (a `std::pair<std::string, V>`
/// that owns a copy of the key; `it->first` works through a proxy);
/// `it.key()` (a reference into the iterator) and `it.value()` are the cheap
/// accessors.
///
/// @par Costs
/// Creating the view seeks each layer once (`lower_bound(lo)`, shared by all
/// its iterators); begin() then only skips tombstones; `--end()` is one
/// `lower_bound(hi)` per layer; each step O(number of layers) key comparisons
/// plus one step of each layer on the current key; a hand-written `--it`
/// loop costs about what a forward loop does. A change of direction moves
/// every layer one key across the current one. std::reverse_iterator (so
/// `views::reverse`) copies the iterator (one layer iterator and one key per
/// layer, with their allocations) and steps the copy back on every
/// dereference: about 10x a forward step with a run and 4 sealed deltas.
///
/// @par Iterators
/// Iterators of one view compare by their current key. The classic
/// `iterator_category` is input (the reference is a prvalue), so use
/// `std::ranges::next` / `prev` / `advance`: `std::prev` walks input
/// iterators forward.
///
/// @tparam V The store's value type.
template <class V>
class hybrid_view : public std::ranges::view_base {
    using scan_ptr = std::shared_ptr<const detail::hybrid_scan<V>>;

public:
    /// `std::pair<std::string, V>`.
    using value_type = std::pair<std::string, V>;

    /// A bidirectional iterator over the merged layers; `*it` is a `const entry<V>`.
    ///
    /// It shares the view's captured layers, so it stays valid on its own
    /// (after the view and the store are gone). See the view's Costs and
    /// Iterators paragraphs.
    class iterator {
    public:
        /// `std::pair<std::string, V>`.
        using value_type = std::pair<std::string, V>;
        /// What `*it` returns: `const entry<V>`, owning a copy of the key and of the value.
        using reference = const entry<V>;
        /// What `operator->` returns: a proxy that owns an entry, so `it->first` is valid for the full expression.
        using pointer = detail::arrow_proxy<entry<V>>;
        /// A signed distance.
        using difference_type = std::ptrdiff_t;
        /// Input, for the classic helpers: the reference is not a true reference.
        using iterator_category = std::input_iterator_tag;  // reference is not a true reference
        /// Bidirectional: what std::ranges, std::reverse_iterator and C++20 algorithms use.
        using iterator_concept = std::bidirectional_iterator_tag;

        /// An end iterator of no view (equal to other default-constructed ones).
        iterator() = default;

        /// An entry that owns a copy of the key and the value. Not valid on end().
        reference operator*() const { return reference(cursor_.key(), cursor_.slot().value); }
        /// A proxy owning the element, for `it->first` and `it->second`.
        pointer operator->() const { return pointer{**this}; }

        /// The current key: a reference into this iterator, invalidated by `++` and `--`.
        const std::string& key() const noexcept { return cursor_.key(); }
        /// Copies the current key into `out`, reusing its capacity.
        void key(std::string& out) const { out.assign(cursor_.key()); }
        /// The current value. Not valid on end().
        V value() const noexcept { return cursor_.slot().value; }

        /// Moves to the next visible key (tombstones are skipped); not valid on end().
        iterator& operator++() {
            MEMKV_ASSERT(!end_);  // ++end() is undefined
            bool ok = cursor_.next();
            while (ok && !cursor_.slot().live) ok = cursor_.next();
            end_ = !ok;
            return *this;
        }
        /// Post-increment: returns a copy made before the step (copying allocates).
        iterator operator++(int) {
            iterator t = *this;
            ++*this;
            return t;
        }
        /// Moves to the previous visible key; from end(), to the last key of the view.
        ///
        /// @throws format_error (debug builds) when a corrupt run lists its
        ///         keys out of order.
        iterator& operator--() {
            bool ok = false;
            if (end_) {
                if (scan_) {
                    cursor_ = detail::hybrid_merge_cursor<V>(scan_->origin);
                    ok = cursor_.seek_last();
                }
            } else {
                ok = cursor_.prev();
            }
            while (ok && !cursor_.slot().live) ok = cursor_.prev();
#if MEMKV_DEBUG
            if (!ok) check_not_begin();
#endif
            end_ = !ok;
            return *this;
        }
        /// Post-decrement: returns a copy made before the step (copying allocates).
        iterator operator--(int) {
            iterator t = *this;
            --*this;
            return t;
        }

        /// Whether both are end() or both are at the same key; for iterators of one view.
        friend bool operator==(const iterator& a, const iterator& b) noexcept {
            if (a.end_ || b.end_) return a.end_ == b.end_;
            return a.cursor_.key() == b.cursor_.key();
        }

    private:
        friend class hybrid_view;

#if MEMKV_DEBUG
        // Nothing lay before the iterator. --begin() is the caller's error;
        // but a run whose keys are out of order (a corrupt file opened
        // without verification, or with forged checksums) can leave a key
        // that is not begin()'s with nothing before it, and a corrupt file
        // is never an assertion (DESIGN.md, "Debug checks"). The failed step
        // left the cursor's key as it was; begin() is found afresh.
        void check_not_begin() const {
            MEMKV_ASSERT(!end_ && scan_);  // --end() of an empty view
            detail::hybrid_merge_cursor<V> first(scan_->origin);
            bool ok = first.seek_first();
            while (ok && !first.slot().live) ok = first.next();
            MEMKV_ASSERT(!ok || first.key() != cursor_.key());  // --begin() is undefined
            throw format_error("memkv::HybridKV: a run lists its keys out of order (corrupt file)");
        }
#endif

        // end(): nothing positioned until someone steps back from it.
        explicit iterator(scan_ptr scan) : scan_(std::move(scan)) {}

        void seek_first() {
            cursor_ = detail::hybrid_merge_cursor<V>(scan_->origin);
            bool ok = cursor_.seek_first();
            while (ok && !cursor_.slot().live) ok = cursor_.next();
            end_ = !ok;
        }

        scan_ptr scan_;  // keeps the layers and the origin the cursor reads alive
        detail::hybrid_merge_cursor<V> cursor_;
        bool end_ = true;
    };
    /// The same as iterator: a view is read-only.
    using const_iterator = iterator;

    /// An empty view.
    hybrid_view() = default;

    /// An iterator at the view's first visible key (skips tombstones after the seek made at creation).
    iterator begin() const {
        iterator it(scan_);
        if (scan_) it.seek_first();
        return it;
    }
    /// The end iterator: O(1); nothing is positioned until someone steps back from it.
    iterator end() const { return iterator(scan_); }
    /// Whether the view has no visible key: O(number of layers), one seek, no full pass.
    bool empty() const { return begin() == end(); }

private:
    template <class>
    friend class HybridKV;
    template <class>
    friend class hybrid_snapshot;

    hybrid_view(std::shared_ptr<const detail::hybrid_layers<V>> layers, detail::scan_bounds bounds)
        : scan_(std::make_shared<const detail::hybrid_scan<V>>(std::move(layers), std::move(bounds))) {}

    scan_ptr scan_;  // null: default-constructed, empty
};

/// A read-only, point-in-time view of a HybridKV, from HybridKV::snapshot().
///
/// Same read members as the store (get, contains, count, at,
/// longest_prefix, prefix, range, from, items, size, empty, memory_usage,
/// verify); nothing written after snapshot() returned is visible, and
/// compactions never disturb it. Holding one keeps the layers it sees alive
/// (memory: whatever compactions replaced since). Copyable, cheap (one
/// shared_ptr).
///
/// @par Thread safety
/// Every member is const and safe to call concurrently.
///
/// @tparam V The store's value type.
template <class V>
class hybrid_snapshot {
    using layers_ptr = std::shared_ptr<const detail::hybrid_layers<V>>;

public:
    /// The key type: keys are byte strings (parameters take memkv::key_view).
    using key_type = std::string;
    /// The value type, `V`.
    using mapped_type = V;
    /// `std::pair<std::string, V>`.
    using value_type = std::pair<std::string, V>;
    /// An unsigned count of keys.
    using size_type = std::size_t;
    /// What prefix / range / from / items return.
    using view_type = hybrid_view<V>;
    /// Another name for view_type.
    using range_type = view_type;

    /// A snapshot of an empty store.
    hybrid_snapshot() = default;

    /// The value of `key` as of the snapshot, if present.
    std::optional<V> get(key_view key) const {
        if (!layers_) return std::nullopt;
        return detail::layers_get(*layers_, key);
    }
    /// Whether `key` was present at the snapshot.
    bool contains(key_view key) const { return layers_ && detail::layers_contain(*layers_, key); }
    /// 1 if `key` was present at the snapshot, else 0.
    size_type count(key_view key) const { return contains(key) ? 1 : 0; }
    /// The value of `key` as of the snapshot.
    ///
    /// @throws std::out_of_range if `key` is absent.
    V at(key_view key) const {
        if (std::optional<V> v = get(key)) return *v;
        throw std::out_of_range("memkv::HybridKV snapshot::at: key not found");
    }
    /// The longest key that is a prefix of `key`, with its value; nullopt if none.
    ///
    /// O(|key|) layered lookups (see HybridKV::longest_prefix).
    std::optional<std::pair<std::string, V>> longest_prefix(key_view key) const {
        if (!layers_) return std::nullopt;
        return detail::layers_longest_prefix(*layers_, key);
    }
    /// The number of visible keys at the snapshot, in O(1) (exact).
    size_type size() const noexcept { return size_; }
    /// Whether the store was empty at the snapshot.
    bool empty() const noexcept { return size_ == 0; }

    /// Keys starting with `p`, in byte order.
    view_type prefix(key_view p) const { return {layers_, detail::prefix_bounds(p)}; }
    /// Keys in `[lo, hi)`, in byte order; empty if `hi <= lo`.
    view_type range(key_view lo, key_view hi) const { return {layers_, detail::range_bounds(lo, hi)}; }
    /// Keys `>= key`, in byte order.
    view_type from(key_view key) const { return {layers_, detail::from_bounds(key)}; }
    /// Every key, in byte order.
    view_type items() const { return {layers_, detail::from_bounds({})}; }

    /// Bytes of the layers this snapshot holds.
    ///
    /// Shared with the store and other snapshots as long as they hold the
    /// same layers.
    size_type memory_usage() const { return layers_ ? detail::layers_memory_usage(*layers_) : 0; }

    /// Checks every layer and that size() matches the visible keys. O(entries).
    ///
    /// @throws std::logic_error on the first violation.
    /// @throws format_error for a bad run checksum.
    void verify() const {
        if (layers_) detail::layers_verify(*layers_, size_);
        else if (size_ != 0) throw std::logic_error("memkv::HybridKV::verify: no layers but a size");
    }

private:
    template <class>
    friend class HybridKV;

    hybrid_snapshot(layers_ptr layers, size_type n) : layers_(std::move(layers)), size_(n) {}

    layers_ptr layers_;
    size_type size_ = 0;
};

/// An ordered, thread-safe map from byte-string keys to `V`: the store applications use (as MemKV).
///
/// Writes go to a mutable FastArt delta; reads merge the deltas with a few
/// immutable FrozenLayer runs; background threads flush the deltas into new
/// runs and merge runs by size (DESIGN.md, "HybridKV").
///
/// @code
/// memkv::MemKV<std::uint64_t> kv;
/// kv.insert("user:1001", 1001);             // only if absent
/// kv.insert_or_assign("user:1001", 1002);   // overwrites
/// assert(kv.get("user:1001") == 1002);
/// for (auto [k, v] : kv.prefix("user:")) { ... }
/// for (auto [k, v] : kv.range("user:1000", "user:2000") | std::views::reverse) { ... }
/// @endcode
///
/// @tparam V The value type; `std::uint64_t` by default.
///
/// @par V
/// Trivially copyable, default-constructible, `alignof(V) <= 8` (the base is
/// a `FrozenLayer<V>`, which stores values as raw bytes; deltas hold them in
/// FastArt's 8-byte-aligned slots). Any size: values wider than 64 bits use a
/// raw column.
///
/// @par Keys
/// memkv::key_view: any bytes, empty and NUL-containing included, up to
/// FastArt::max_key_size() (2^32 - 1) bytes; longer keys throw
/// std::length_error. Order is unsigned byte order.
///
/// @par Members
/// std::map's meanings: `insert(k, v)` adds k only if absent (never
/// overwrites) and returns whether it did; `insert_or_assign(k, v)`
/// overwrites (returns true if k was new); get gives a `std::optional<V>`; at
/// gives a `V` or throws std::out_of_range; erase returns 0 or 1. No find and
/// no iterators into the store itself (nothing stable to point at): scans
/// are views.
///
/// @par Layers
/// The active delta, at most hybrid_options::max_sealed_deltas sealed deltas,
/// at most hybrid_options::max_runs frozen runs (size-tiered: about
/// 7 log_8(N / keys per flush) + 1). Each run has a Bloom filter but the
/// lone run compact() leaves: 14 bits/key (~0.2% false positives) for
/// merged runs, 18 (~0.05%) for the flushes' level-0 runs and for sealed
/// deltas.
///
/// @par Complexity
/// get / contains / count / at: one lookup per layer, newest first, stopping
/// at the first layer that mentions the key; a run whose filter rules the key
/// out costs one cache line. A miss: every delta, every filter, one walk of
/// the oldest run. insert / insert_or_assign / erase: one delta update, plus
/// (the first time a key enters the active delta) a lookup in the lower
/// layers to keep size() exact and to know whether a tombstone is needed
/// (insert of a key visible below undoes its delta entry: two descents).
/// size(): O(1), exact. prefix / range / from / items: to create, a seal of
/// the active delta (O(number of layers) under the exclusive lock, only if it
/// is non-empty; at the sealed bound first a merge of the two smallest sealed
/// deltas, or a wait for a running flush) and one lower_bound per layer; see
/// hybrid_view for iteration and reverse costs. compact(): O(runs + deltas),
/// off the lock. Write amplification of the background policy: about
/// 1 + log_8(N / keys per flush), where a flush grows with the store
/// (hybrid_options::compaction_base_divisor): about 2 up to ~10^8 URL-like
/// keys, 3.5 at 10^9.
///
/// @par Backpressure
/// A writer that finds the deltas at 2 x the flush trigger
/// (hybrid_stats::compaction_trigger_bytes) while a flush runs waits for that flush; the flusher waits while the runs
/// are at max_runs; a scan at the sealed bound merges or waits
/// (hybrid_stats::backpressure_waits counts the waits).
///
/// @par Exceptions
/// Strong guarantee for insert / insert_or_assign / erase (a failed delta
/// insert leaves the store unchanged, as FastArt's insert does); a failed
/// flush or merge swaps nothing in (and leaves no file behind); a failed save
/// leaves the previous checkpoint and no new file.
///
/// @par Views
/// prefix / range / from / items views and snapshots are point-in-time and
/// never invalidated; they keep the layers they read alive.
///
/// @par Thread safety
/// Every member function may be called concurrently from any number of
/// threads (except the move operations, on either side). Point reads take a
/// shared lock; writes an exclusive one (microseconds); scans and snapshots
/// read without a lock once started. With
/// hybrid_options::background_compaction, each instance owns two threads
/// (flusher, merger: seal, swap) and a niced merge helper for each
/// (hybrid_options::compaction_nice); the destructor stops and joins them,
/// abandoning unfinished merges within 4096 keys (nothing half-done is
/// published).
///
/// @par Moves
/// Move-only, noexcept. A moved-from HybridKV is a valid empty store that
/// keeps its options: every member works on it (size 0, get nullopt, empty
/// views); its engine (and its threads) start on its next write.
///
/// @par Files
/// With hybrid_options::directory, runs are files there (streamed by each
/// merge, memory-mapped, deleted when unused).
///
/// @par Persistence
/// save(path) writes a crash-safe checkpoint: a manifest plus one file per
/// run layer, written only if not already in path's directory; open(path)
/// maps the runs (checking their CRCs unless hybrid_options::verify_on_open
/// is false) and restores the delta (format, ownership and garbage
/// collection in detail/hybrid/checkpoint.hpp).
template <class V>
class HybridKV {
    static_assert(std::is_trivially_copyable_v<V>,
                  "memkv::HybridKV<V>: V must be trivially copyable (the runs store values as raw bytes)");
    static_assert(std::is_default_constructible_v<V>, "memkv::HybridKV<V>: V must be default-constructible");
    static_assert(alignof(V) <= 8,
                  "memkv::HybridKV<V>: alignof(V) must be at most 8 (delta values live in FastArt's 8-byte slots)");

    using engine_type = detail::hybrid_engine<V>;

public:
    /// The key type: keys are byte strings (parameters take memkv::key_view).
    using key_type = std::string;
    /// The value type, `V`.
    using mapped_type = V;
    /// `std::pair<std::string, V>`: what the views' elements convert to.
    using value_type = std::pair<std::string, V>;
    /// An unsigned count of keys.
    using size_type = std::size_t;
    /// hybrid_options.
    using options = hybrid_options;
    /// hybrid_stats.
    using stats_type = hybrid_stats;
    /// What prefix / range / from / items return: hybrid_view.
    using view_type = hybrid_view<V>;
    /// Another name for view_type.
    using range_type = view_type;
    /// What snapshot() returns: hybrid_snapshot.
    using snapshot_type = hybrid_snapshot<V>;


    /// An empty store with the default options (and, by default, its background threads started).
    HybridKV() : HybridKV(options{}) {}
    /// An empty store with the given options.
    ///
    /// With `opt.background_compaction` its threads start here. A non-empty
    /// `opt.directory` is created if absent, and run files a crashed store
    /// left there are removed.
    /// @throws io_error if `opt.directory` cannot be created or listed.
    explicit HybridKV(const options& opt) : opt_(std::make_shared<const options>(opt)) {
        auto e = std::make_unique<engine_type>(*opt_);
        e->start_worker();
        engine_.store(e.release(), std::memory_order_release);
    }
    /// Takes `o`'s store (its threads included); `o` is a valid empty store that keeps its options.
    ///
    /// Not safe to call concurrently with other calls on either store.
    HybridKV(HybridKV&& o) noexcept : opt_(o.opt_), engine_(o.engine_.exchange(nullptr)) {}
    /// Destroys this store's contents (joining its threads) and takes `o`'s; `o` is left valid and empty.
    ///
    /// Not safe to call concurrently with other calls on either store.
    HybridKV& operator=(HybridKV&& o) noexcept {
        if (this != &o) {
            opt_ = o.opt_;
            delete engine_.exchange(o.engine_.exchange(nullptr));
        }
        return *this;
    }
    /// Not copyable (a snapshot() is the cheap copy).
    HybridKV(const HybridKV&) = delete;
    /// Not copyable.
    HybridKV& operator=(const HybridKV&) = delete;
    /// Stops and joins the background threads, abandoning unfinished merges within 4096 keys.
    ///
    /// Nothing half-done is published; views and snapshots taken earlier
    /// stay valid.
    ~HybridKV() { delete engine_.load(std::memory_order_relaxed); }

    // ---- writes ----------------------------------------------------------

    /// Adds `key` with `value` if `key` is absent; never overwrites.
    ///
    /// @return Whether it was added.
    /// @throws std::length_error if `key` is longer than FastArt::max_key_size().
    /// @throws std::bad_alloc; strong guarantee.
    bool insert(key_view key, const V& value) { return ensure().insert(key, value, false); }

    /// Adds `key` with `value`, or overwrites its value.
    ///
    /// @return true if the key was new, false if it was assigned.
    /// @throws std::length_error if `key` is longer than FastArt::max_key_size().
    /// @throws std::bad_alloc; strong guarantee.
    bool insert_or_assign(key_view key, const V& value) { return ensure().insert(key, value, true); }

    /// Removes `key` (a tombstone if a run holds it).
    ///
    /// @return The number of keys removed, 0 or 1.
    /// @throws std::bad_alloc; strong guarantee.
    size_type erase(key_view key) {
        engine_type* e = engine();
        return e ? e->erase(key) : 0;
    }

    /// Removes every key starting with `p`; returns how many this call removed.
    ///
    /// Takes one point-in-time merged scan of `p` and erases the keys it saw,
    /// in batches of 128 under the exclusive lock. Cost: O(n) merged steps
    /// plus n erases (a key held by a run becomes a tombstone until a merge
    /// with the oldest run). Not atomic: readers may see part of the prefix
    /// removed; keys inserted under `p` after the scan began survive; the
    /// count returned is of keys this call removed.
    /// @throws std::bad_alloc; some of the keys may be gone then.
    size_type erase_prefix(key_view p) {
        engine_type* e = engine();
        if (e == nullptr) return 0;
        const view_type v(e->capture().first, detail::prefix_bounds(p));
        constexpr std::size_t batch_size = 128;
        std::vector<std::string> batch;
        batch.reserve(batch_size);
        size_type removed = 0;
        for (auto it = v.begin(), end = v.end(); it != end; ++it) {
            batch.push_back(it.key());
            if (batch.size() == batch_size) {
                removed += e->erase_batch(batch);
                batch.clear();
            }
        }
        if (!batch.empty()) removed += e->erase_batch(batch);
        return removed;
    }

    // ---- point reads -----------------------------------------------------

    /// The value of `key`, if present. One lookup per layer, newest first, until one mentions the key.
    std::optional<V> get(key_view key) const {
        const engine_type* e = engine();
        return e ? e->get(key) : std::nullopt;
    }
    /// Whether `key` is present (costs what get() does).
    bool contains(key_view key) const {
        const engine_type* e = engine();
        return e && e->contains(key);
    }
    /// 1 if `key` is present, else 0, as std::map::count.
    size_type count(key_view key) const { return contains(key) ? 1 : 0; }
    /// The value of `key`, as std::map::at (but by value).
    ///
    /// @throws std::out_of_range if `key` is absent.
    V at(key_view key) const {
        if (std::optional<V> v = get(key)) return *v;
        throw std::out_of_range("memkv::HybridKV::at: key not found");
    }
    /// The longest visible key that is a prefix of `key` (possibly `key` itself or the empty key), with its value.
    ///
    /// nullopt if none. Tombstones are respected: one layered lookup per
    /// candidate length, longest first, under one shared lock: O(|key|)
    /// lookups of O(|key|) each, per layer.
    std::optional<std::pair<std::string, V>> longest_prefix(key_view key) const {
        const engine_type* e = engine();
        return e ? e->longest_prefix(key) : std::nullopt;
    }

    /// The number of visible keys: O(1), exact.
    size_type size() const noexcept {
        const engine_type* e = engine();
        return e ? e->size() : 0;
    }
    /// Whether the store holds no visible key.
    bool empty() const noexcept { return size() == 0; }

    // ---- views (point-in-time, bidirectional) ----------------------------

    /// Keys starting with `p`, in byte order, as of this call.
    ///
    /// Creating a view seals the active delta (see the class's Complexity).
    view_type prefix(key_view p) const { return {capture_layers(), detail::prefix_bounds(p)}; }
    /// Keys in `[lo, hi)`, in byte order, as of this call; empty if `hi <= lo`.
    view_type range(key_view lo, key_view hi) const { return {capture_layers(), detail::range_bounds(lo, hi)}; }
    /// Keys `>= key`, in byte order, as of this call.
    view_type from(key_view key) const { return {capture_layers(), detail::from_bounds(key)}; }
    /// Every key, in byte order, as of this call.
    view_type items() const { return {capture_layers(), detail::from_bounds({})}; }

    /// A point-in-time, read-only view of the whole store with the same read members.
    ///
    /// Costs what creating a view does (a seal of the active delta); no data
    /// is copied.
    snapshot_type snapshot() const {
        engine_type* e = engine();
        if (e == nullptr) return {};
        auto [layers, n] = e->capture();
        return snapshot_type(std::move(layers), n);
    }

    // ---- maintenance -----------------------------------------------------

    /// Bytes held by the deltas, the runs (with their filters) and the bookkeeping.
    ///
    /// A mapped run counts its whole mapping (FrozenLayer's memory_usage()),
    /// resident or not.
    size_type memory_usage() const {
        const engine_type* e = engine();
        return sizeof(*this) + (e ? e->memory_usage() : 0);
    }

    /// Checks every layer and size(); for tests and after opening unverified files. O(n).
    ///
    /// Checks every layer (FastArt::verify on the deltas, FrozenLayer::verify
    /// (the CRCs) on the runs, their levels, that each run's filter admits
    /// every key of its run), that merged keys increase, and that size()
    /// equals the visible keys. Seals the active delta.
    /// @throws std::logic_error on the first violation.
    /// @throws format_error for a bad run checksum or a run filter, read from
    ///         a file, that misses a key of its run.
    void verify() const {
        if (engine_type* e = engine()) e->verify();
    }

    /// Merges every delta and every run into one run now, in the calling thread.
    ///
    /// Running background flushes and merges are abandoned (within a few
    /// thousand keys) rather than waited for, since this covers everything
    /// they would have; one started by another compact() call is waited for.
    /// Writers and readers continue meanwhile; writes made during it land in
    /// the new active delta. O(runs + deltas), off the lock.
    /// @throws io_error (run files in hybrid_options::directory) or
    ///         std::bad_alloc if the merge fails; nothing is swapped in then.
    void compact() {
        if (engine_type* e = engine()) e->compact();
    }

    /// A picture of the layers and the compaction counters, for monitoring (see hybrid_stats).
    stats_type stats() const {
        const engine_type* e = engine();
        return e ? e->stats() : stats_type{};
    }

    /// Whether a flush or merge is running right now (monitoring; lock-free).
    bool compaction_running() const noexcept {
        const engine_type* e = engine();
        return e && e->compaction_running();
    }

    /// Writes a checkpoint of the current state to `path`.
    ///
    /// Run files and their filters go beside it: only those not already
    /// there. Atomic: a crash leaves the previous checkpoint at `path`
    /// intact. Concurrent writers continue; writes after the call began may
    /// or may not be included.
    /// @throws io_error "memkv: save '<path>': <reason>"; a failed save
    ///         leaves no file behind. An empty path, a directory or a missing
    ///         directory is refused before anything is written.
    void save(const std::string& path) const { ensure().save(path); }

    /// Opens a checkpoint written by save().
    ///
    /// Maps the runs (checks their CRCs unless `opt.verify_on_open` is
    /// false), reads their saved filters (a run whose filter file is missing
    /// or does not check out gets it rebuilt from its keys, except the oldest
    /// run; hybrid_stats::filters_loaded and filters_rebuilt count both),
    /// restores the delta.
    /// @param path The checkpoint's manifest, as passed to save().
    /// @param opt  The options of the opened store.
    /// @throws format_error for a corrupt or foreign file, or another value type.
    /// @throws io_error if a file cannot be read or mapped.
    static HybridKV open(const std::string& path, const options& opt = {}) {
        HybridKV kv(deferred_start{}, opt);
        kv.engine()->load(path);
        kv.engine()->start_worker();
        return kv;
    }

private:
    // Tests reach the engine's test hooks through it (declared here, defined by the tests).
    friend struct detail::hybrid_test_access;

    struct deferred_start {};
    HybridKV(deferred_start, const options& opt)
        : opt_(std::make_shared<const options>(opt)), engine_(new engine_type(*opt_)) {}

    engine_type* engine() const noexcept { return engine_.load(std::memory_order_acquire); }

    // The engine, created on first use by a moved-from store. Racing callers
    // each build one; the first to publish wins, the others are destroyed
    // (their workers joined) unused.
    engine_type& ensure() const {
        if (engine_type* e = engine()) return *e;
        auto fresh = std::make_unique<engine_type>(*opt_);
        fresh->start_worker();
        engine_type* expected = nullptr;
        if (engine_.compare_exchange_strong(expected, fresh.get(), std::memory_order_acq_rel,
                                            std::memory_order_acquire)) {
            return *fresh.release();
        }
        return *expected;
    }

    std::shared_ptr<const detail::hybrid_layers<V>> capture_layers() const {
        engine_type* e = engine();
        return e ? e->capture().first : nullptr;
    }

    // Shared, immutable: moves copy the pointer (noexcept) and a moved-from
    // store keeps its options.
    std::shared_ptr<const options> opt_;
    // Owned (deleted by the destructor); null after a move until the next
    // write. Atomic so that concurrent first writes to a moved-from store
    // agree on one engine.
    mutable std::atomic<engine_type*> engine_{nullptr};
};

/// The name applications use for HybridKV.
template <class V>
using MemKV = HybridKV<V>;

}  // namespace memkv

/// @cond
// Views' iterators hold the scan state themselves, not a pointer into the view.
namespace std::ranges {
template <class V>
inline constexpr bool enable_borrowed_range<memkv::hybrid_view<V>> = true;
}  // namespace std::ranges
/// @endcond
