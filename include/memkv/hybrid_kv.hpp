#pragma once

// memkv::HybridKV<V> (alias memkv::MemKV<V>): the thread-safe store. Writes go
// to a mutable FastArt delta; reads merge the deltas with an immutable
// FrozenLayer base; a background thread compacts the deltas into a new base.
//
//   memkv::MemKV<std::uint64_t> kv;
//   kv.insert("user:1001", 1001);
//   assert(kv.get("user:1001") == 1001);
//   for (auto [k, v] : kv.prefix("user:")) { ... }
//   for (auto [k, v] : kv.range("user:1000", "user:2000")) { ... }

#include <memkv/detail/fwd.hpp>
#include <memkv/detail/hybrid/engine.hpp>
#include <memkv/detail/hybrid/options.hpp>
#include <memkv/fast_art.hpp>
#include <memkv/frozen_layer.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace memkv {

// A lazily merged, point-in-time sequence of (key, value) pairs in byte order,
// returned by prefix(), range() and lower_bound(). It owns references to the
// layers it reads, so it stays valid after the store moves on (or is
// destroyed); writers never wait for it. Each begin() starts a new pass.
// Iteration costs O(#layers) comparisons per key plus the key's rebuild.
template <class V>
class hybrid_range {
    using layers_ptr = std::shared_ptr<const detail::hybrid_layers<V>>;

public:
    using value_type = std::pair<std::string, V>;

    class iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using iterator_concept = std::input_iterator_tag;
        using value_type = std::pair<std::string, V>;
        using difference_type = std::ptrdiff_t;
        using reference = const value_type&;
        using pointer = const value_type*;

        iterator() = default;

        reference operator*() const noexcept { return current_; }
        pointer operator->() const noexcept { return &current_; }
        iterator& operator++() {
            advance();
            return *this;
        }
        void operator++(int) { advance(); }
        friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept { return it.done_; }

    private:
        friend class hybrid_range;

        iterator(layers_ptr layers, const detail::scan_bounds& bounds)
            : layers_(std::move(layers)), bounds_(bounds), cursor_(*layers_, bounds_.lo, true), done_(false) {
            advance();
        }

        void advance() {
            while (cursor_.next(scratch_)) {
                if (bounds_.past_end(scratch_.key)) break;
                if (!scratch_.slot.live) continue;
                current_.first.swap(scratch_.key);
                current_.second = scratch_.slot.value;
                return;
            }
            done_ = true;
        }

        layers_ptr layers_;
        detail::scan_bounds bounds_;
        detail::hybrid_merge_cursor<V> cursor_;
        typename detail::hybrid_merge_cursor<V>::entry scratch_;
        value_type current_{};
        bool done_ = true;
    };

    iterator begin() const { return iterator(layers_, bounds_); }
    std::default_sentinel_t end() const noexcept { return {}; }

private:
    template <class>
    friend class HybridKV;
    template <class>
    friend class hybrid_snapshot;

    hybrid_range(layers_ptr layers, detail::scan_bounds bounds)
        : layers_(std::move(layers)), bounds_(std::move(bounds)) {}

    layers_ptr layers_;
    detail::scan_bounds bounds_;
};

namespace detail {
inline scan_bounds prefix_bounds(std::string_view p) {
    return {std::string(p), std::string(p), scan_bounds::kind::prefix};
}
inline scan_bounds range_bounds(std::string_view lo, std::string_view hi) {
    return {std::string(lo), std::string(hi), scan_bounds::kind::below};
}
inline scan_bounds from_bounds(std::string_view lo) {
    return {std::string(lo), std::string(), scan_bounds::kind::unbounded};
}
}  // namespace detail

// A read-only, point-in-time view of a HybridKV, from snapshot(). Same read
// API as the store; nothing written after snapshot() returned is visible, and
// compactions never disturb it. Holding one keeps the layers it sees alive
// (memory: whatever compactions replaced since). Copyable, cheap (one
// shared_ptr). Thread safety: every member is const and safe to call
// concurrently.
template <class V>
class hybrid_snapshot {
    using layers_ptr = std::shared_ptr<const detail::hybrid_layers<V>>;

public:
    using size_type = std::size_t;
    using range_type = hybrid_range<V>;

    std::optional<V> get(std::string_view key) const { return detail::layers_get(*layers_, key); }
    bool contains(std::string_view key) const { return get(key).has_value(); }
    size_type size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }

    range_type prefix(std::string_view p) const { return {layers_, detail::prefix_bounds(p)}; }
    range_type range(std::string_view lo, std::string_view hi) const {
        return {layers_, detail::range_bounds(lo, hi)};
    }
    range_type lower_bound(std::string_view key) const { return {layers_, detail::from_bounds(key)}; }
    range_type items() const { return lower_bound({}); }

private:
    template <class>
    friend class HybridKV;

    hybrid_snapshot(layers_ptr layers, size_type n) : layers_(std::move(layers)), size_(n) {}

    layers_ptr layers_;
    size_type size_;
};

// HybridKV<V>: an ordered, thread-safe map from byte-string keys to V.
//
// Contract
//   V            trivially copyable and default-constructible (the base is a
//                FrozenLayer<V>, which stores values as raw bytes).
//   Keys         any bytes, empty and NUL-containing included, up to
//                FastArt::max_key_size() (2^32 - 1) bytes; longer keys throw
//                std::length_error. Order is unsigned byte order.
//   Complexity   get/contains: one lookup per layer, newest first, stopping at
//                the first layer that mentions the key (usually 1-2 layers).
//                insert/erase: one delta update, plus - the first time a key
//                enters the active delta - a lookup in the lower layers to keep
//                size() exact and to know whether a tombstone is needed.
//                size(): O(1), exact. prefix/range/lower_bound: O(1) to start
//                (the active delta is sealed, O(#sealed)), then O(#layers) per
//                key. compact(): O(base + deltas), off the lock.
//   Exceptions   strong guarantee for insert/erase (a failed delta insert
//                leaves the store unchanged, as FastArt's insert does); a
//                failed compaction swaps nothing in.
//   Iterators    ranges and snapshots are point-in-time and never invalidated;
//                they keep the layers they read alive.
//   Threads      every member function may be called concurrently from any
//                number of threads. Point reads take a shared lock; writes an
//                exclusive one (microseconds); scans and snapshots read without
//                a lock once started. With background_compaction, each
//                instance owns a worker thread (seal, swap) and a niced merge
//                thread (compaction_nice); the destructor stops and joins
//                both (an unfinished compaction is abandoned, nothing
//                half-done is published).
//   Moves        move-only; a moved-from HybridKV may only be destroyed or
//                assigned to.
//   Persistence  save(path) writes a crash-safe checkpoint; open(path) maps
//                its base and restores the delta (format: DESIGN.md and
//                detail/hybrid_checkpoint.hpp).
template <class V>
class HybridKV {
    static_assert(std::is_trivially_copyable_v<V>, "HybridKV<V> needs a trivially copyable V");
    static_assert(std::is_default_constructible_v<V>, "HybridKV<V> needs a default-constructible V");

public:
    using key_type = std::string;
    using mapped_type = V;
    using value_type = std::pair<std::string, V>;
    using size_type = std::size_t;
    using options = hybrid_options;
    using stats_type = hybrid_stats;
    using range_type = hybrid_range<V>;
    using snapshot_type = hybrid_snapshot<V>;

    HybridKV() : HybridKV(options{}) {}
    explicit HybridKV(const options& opt) : engine_(std::make_unique<detail::hybrid_engine<V>>(opt)) {
        engine_->start_worker();
    }
    HybridKV(HybridKV&&) noexcept = default;
    HybridKV& operator=(HybridKV&&) noexcept = default;
    ~HybridKV() = default;

    // Inserts `key`, or assigns `value` if it is present. Returns true if the
    // key was new.
    bool insert(std::string_view key, const V& value) { return engine_->insert(key, value); }

    // Removes `key`; returns the number of keys removed (0 or 1).
    size_type erase(std::string_view key) { return engine_->erase(key); }

    std::optional<V> get(std::string_view key) const { return engine_->get(key); }
    bool contains(std::string_view key) const { return engine_->get(key).has_value(); }

    size_type size() const noexcept { return engine_->size(); }
    bool empty() const noexcept { return size() == 0; }

    // Keys starting with `p`, in byte order, as of this call.
    range_type prefix(std::string_view p) const { return {engine_->capture().first, detail::prefix_bounds(p)}; }
    // Keys in [lo, hi), in byte order, as of this call.
    range_type range(std::string_view lo, std::string_view hi) const {
        return {engine_->capture().first, detail::range_bounds(lo, hi)};
    }
    // Keys >= key, in byte order, as of this call (seek, then iterate).
    range_type lower_bound(std::string_view key) const {
        return {engine_->capture().first, detail::from_bounds(key)};
    }
    // Every key, in byte order, as of this call.
    range_type items() const { return lower_bound({}); }

    // A point-in-time view with the same read API.
    snapshot_type snapshot() const {
        auto [layers, n] = engine_->capture();
        return snapshot_type(std::move(layers), n);
    }

    // Bytes held by the deltas, the base and the bookkeeping. A mapped base
    // counts what FrozenLayer reports for it.
    size_type memory_usage() const { return engine_->memory_usage(); }

    // Folds every delta into a new base now, in the calling thread. A running
    // background compaction is abandoned (within a few thousand keys) rather
    // than waited for, since this one covers everything it would have; one
    // started by another compact() call is waited for. Writers and readers
    // continue meanwhile; writes made during it land in the new active delta.
    void compact() { engine_->compact(); }

    stats_type stats() const { return engine_->stats(); }

    // Whether a full compaction is merging right now (monitoring; lock-free).
    bool compaction_running() const noexcept { return engine_->compaction_running(); }

    // Writes a checkpoint of the current state to `path` (plus the base file
    // beside it). Atomic: a crash leaves the previous checkpoint at `path`
    // intact. Concurrent writers continue; writes after the call began may or
    // may not be included. Throws io_error.
    void save(const std::string& path) const { engine_->save(path); }

    // Opens a checkpoint written by save(): maps the base, restores the delta.
    // Throws format_error (corrupt or foreign file) or io_error.
    static HybridKV open(const std::string& path, const options& opt = {}) {
        HybridKV kv(deferred_start{}, opt);
        kv.engine_->load(path);
        kv.engine_->start_worker();
        return kv;
    }

private:
    struct deferred_start {};
    HybridKV(deferred_start, const options& opt) : engine_(std::make_unique<detail::hybrid_engine<V>>(opt)) {}

    std::unique_ptr<detail::hybrid_engine<V>> engine_;
};

// The name applications use.
template <class V>
using MemKV = HybridKV<V>;

}  // namespace memkv
