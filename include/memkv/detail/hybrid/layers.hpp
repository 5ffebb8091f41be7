#pragma once

// HybridKV's layer stack and the point lookups over it (memkv::detail); the
// k-way merge that scans it is in merge.hpp, the policy that reshapes it in
// engine.hpp.
//
//   newest  active delta     FastArt<hybrid_slot<V>>   mutable, under the store's lock
//     |     sealed delta 0   shared_ptr<const delta>   immutable from the moment it is sealed
//     |     ...              (at most max_sealed_deltas)
//     |     run 0            shared_ptr<const hybrid_run<V>>: two FrozenLayers,
//     |     ...              live entries and tombstones (at most max_runs)
//     v     run n-1          the oldest run never holds tombstones
//   oldest
//
// A key's current state is the one recorded by the newest layer that mentions
// it; a tombstone (in a delta, or in a run's tombstone layer) hides every
// older layer. A key is in at most one of a run's two layers. Everything
// under the active delta is immutable and shared by pointer, so readers that
// hold a hybrid_layers can walk it without any lock.

// FastArt and FrozenLayer are only named here; <memkv/hybrid_kv.hpp> includes
// their definitions before anything is instantiated.
#include <memkv/detail/assert.hpp>
#include <memkv/detail/fwd.hpp>
#include <memkv/detail/hybrid/filter.hpp>
#include <memkv/detail/frozen/options.hpp>
#include <memkv/detail/io/file.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace memkv::detail {

// One entry of a delta layer.
//
//   +-----------+------+-------+
//   | V value   | live | below |
//   +-----------+------+-------+
//
// live  == false: a tombstone; `value` is meaningless.
// below == true : the key is visible (live) in the layers under this delta, as
//                 they were when the entry was created. Compaction of those
//                 lower layers preserves their visible content, so the bit
//                 stays true for the life of the entry. It gives the exact
//                 size() without a lookup on every update, and lets erase drop
//                 an entry instead of writing a tombstone when nothing below
//                 needs hiding.
template <class V>
struct hybrid_slot {
    V value{};
    bool live = false;
    bool below = false;
};
static_assert(sizeof(hybrid_slot<std::uint64_t>) == 16);

// A delta layer: a FastArt of slots and, once sealed, possibly a filter over
// its keys: the flush that turns the delta into a run takes seconds, and
// meanwhile every insert of a new key and every miss would otherwise descend
// the sealed tree (a few cache misses; at 10^9 keys a fifth of the writer's
// time). The writer fills that filter while the delta is active (the engine's
// active filter: it hashes each new key anyway), so a seal has it at once;
// when it could not (the delta outgrew the filter's sizing, or memory ran
// out), the flusher builds one right after the seal. A sealed delta never
// changes, so the filter stays exact; it is set once and read without a
// lock.
template <class V>
class hybrid_delta : public FastArt<hybrid_slot<V>> {
public:
    hybrid_delta() = default;
    hybrid_delta(const hybrid_delta&) = delete;
    hybrid_delta& operator=(const hybrid_delta&) = delete;

    // Null until attach_filter().
    const hybrid_filter* filter() const noexcept { return filter_.load(std::memory_order_acquire); }
    std::size_t filter_bytes() const noexcept {
        const hybrid_filter* f = filter();
        return f ? f->memory_usage() : 0;
    }
    // Once, by the one thread that flushes this sealed delta (its owner
    // pointer is written before the release that publishes it).
    void attach_filter(std::shared_ptr<const hybrid_filter> f) const noexcept {
        MEMKV_ASSERT(filter() == nullptr);
        owner_ = std::move(f);
        filter_.store(owner_.get(), std::memory_order_release);
    }
    // The filter, shared: the flush that turns this delta alone into a run
    // gives the run the same filter (it admits every key the run keeps).
    // Null until attach_filter() (never written after it).
    std::shared_ptr<const hybrid_filter> shared_filter() const noexcept {
        return filter() != nullptr ? owner_ : nullptr;
    }

private:
    mutable std::shared_ptr<const hybrid_filter> owner_;
    mutable std::atomic<const hybrid_filter*> filter_{nullptr};
};

// One frozen run: what a flush or a run merge produced. Immutable; shared by
// the layer stacks, views and snapshots that include it.
template <class V>
struct hybrid_run {
    std::shared_ptr<const FrozenLayer<V>> live;        // null: no live entries
    std::shared_ptr<const FrozenLayer<V>> tombstones;  // null: none (values are V{})
    // Over both layers' keys; null for the lone run compact() leaves (every
    // lookup walks it anyway) and for the oldest run of a reopened checkpoint
    // (rebuilding that filter would read every key at open).
    // Shared with the sealed delta a flush made this run from, when it was
    // the only one (layers.hpp, hybrid_delta::shared_filter).
    std::shared_ptr<const hybrid_filter> filter;
    unsigned level = 0;        // 0: a flush; L + 1: a merge of level-L runs
    std::uint64_t id = 0;      // unique in its engine; names its files
    // File-backed runs: the files this run maps. When `owned`, the store made
    // them in its working directory and removes them when the run dies (a
    // mapping outlives the unlink; checkpoints hold their own hard links).
    std::string live_path;
    std::string tomb_path;
    bool owned = false;
    // Mapped runs are read with access_pattern::random (no read-around)
    // except while something reads them whole (begin_scan: a merge, the
    // gate's or a filter's build, a checkpoint's copy, a whole-store view;
    // DESIGN.md, "Read-around"). Set by the engine before the run is shared
    // (hybrid_options::random_access_runs).
    bool random_access = false;

    hybrid_run() = default;
    hybrid_run(const hybrid_run&) = delete;
    hybrid_run& operator=(const hybrid_run&) = delete;
    ~hybrid_run() {
        if (!owned) return;
        if (!live_path.empty()) remove_file_noexcept(live_path);
        if (!tomb_path.empty()) remove_file_noexcept(tomb_path);
    }

    std::size_t keys() const noexcept { return (live ? live->size() : 0) + (tombstones ? tombstones->size() : 0); }
    std::size_t image_bytes() const noexcept {
        return (live ? live->bytes().size() : 0) + (tombstones ? tombstones->bytes().size() : 0);
    }
    std::size_t memory_usage() const noexcept {
        return sizeof(*this) + (live ? live->memory_usage() : 0) + (tombstones ? tombstones->memory_usage() : 0) +
               (filter ? filter->memory_usage() : 0);
    }
    bool file_backed() const noexcept { return !live_path.empty() || !tomb_path.empty(); }

    // The hint while no scan reads the run (called once the layers are set).
    void advise_idle() const noexcept {
        if (random_access) advise(access_pattern::random);
    }
    // A whole read of the run begins (end_scan when it ends, also on
    // failure): the pages around each fault are read too, as a scan wants.
    // Counted, as a merge and the gate may read one run at once.
    void begin_scan() const noexcept {
        if (!random_access) return;
        const std::lock_guard lock(scan_mu_);
        if (scans_++ == 0) advise(access_pattern::normal);
    }
    void end_scan() const noexcept {
        if (!random_access) return;
        const std::lock_guard lock(scan_mu_);
        MEMKV_ASSERT(scans_ > 0);
        if (--scans_ == 0) advise(access_pattern::random);
    }

private:
    void advise(access_pattern a) const noexcept {
        if (live) live->advise(a);
        if (tombstones) tombstones->advise(a);
    }
    mutable std::mutex scan_mu_;
    mutable unsigned scans_ = 0;
};

// Runs read whole while it lives (hybrid_run::begin_scan).
template <class Run>
class hybrid_run_scan {
public:
    explicit hybrid_run_scan(std::vector<const Run*> runs) noexcept : runs_(std::move(runs)) {
        for (const Run* r : runs_) r->begin_scan();
    }
    ~hybrid_run_scan() {
        for (const Run* r : runs_) r->end_scan();
    }
    hybrid_run_scan(const hybrid_run_scan&) = delete;
    hybrid_run_scan& operator=(const hybrid_run_scan&) = delete;

private:
    std::vector<const Run*> runs_;
};

// Adds every key of `map` (a delta or a run layer: iterators with
// key(std::string&)) to `f`; false when stop() - asked every 4096 keys -
// says to give up. Throws std::bad_alloc.
template <class Map, class Stop>
bool hybrid_filter_add_keys(hybrid_filter& f, const Map& map, Stop&& stop) {
    std::string key;
    std::size_t n = 0;
    hybrid_filter_batch feed(f);
    for (auto it = map.begin(), end = map.end(); it != end; ++it) {
        if ((++n & 4095) == 0 && stop()) {
            feed.drop();  // the filter is thrown away: no sweep
            return false;
        }
        it.key(key);
        feed.add(hybrid_key_hash(key));
    }
    return true;
}

// Adds each hash of `hashes` to `f`, a few lines in flight: allocates
// nothing, for callers under a lock (hybrid_filter_batch sorts a big batch
// first, outside one).
inline void hybrid_filter_add_hashes(hybrid_filter& f, const std::vector<std::uint64_t>& hashes) noexcept {
    hybrid_filter_feeder feed(f);
    for (const std::uint64_t h : hashes) feed.add(h);
}

// Whether `f` admits every key of `map` (a delta or a run layer): a filter
// that misses one hides that key from lookups. O(keys); for verify() and
// debug checks.
template <class Map>
bool hybrid_filter_admits_keys(const hybrid_filter& f, const Map& map) {
    std::string key;
    for (auto it = map.begin(), end = map.end(); it != end; ++it) {
        it.key(key);
        if (!f.may_contain(hybrid_key_hash(key))) return false;
    }
    return true;
}

// A filter over every key of `delta`, tombstones included (a tombstone must
// be found: it hides the layers below); null when stop() - asked every 4096
// keys - says to give up. Throws std::bad_alloc.
template <class V, class Stop>
std::unique_ptr<hybrid_filter> hybrid_delta_filter(const hybrid_delta<V>& delta, Stop&& stop) {
    auto f = std::make_unique<hybrid_filter>(delta.size(), hybrid_filter::small_bits_per_key);
    if (!hybrid_filter_add_keys(*f, delta, stop)) return nullptr;
    return f;
}

template <class V>
struct hybrid_layers {
    std::vector<std::shared_ptr<const hybrid_delta<V>>> sealed;  // newest first
    std::vector<std::shared_ptr<const hybrid_run<V>>> runs;      // newest first
};

// What the layers under the active delta say about a key.
enum class layer_state : std::uint8_t { absent, live, deleted };

// A key on its way through the layers: its filter hash, computed at most
// once for all the filters it meets. Passed by value (a copy carries the hash
// and whether its filter lines were requested); made from a plain key where
// nothing was computed yet.
class hybrid_key_probe {
public:
    template <class K>
        requires std::is_convertible_v<const K&, std::string_view>
    hybrid_key_probe(const K& key) noexcept : key_(key) {}  // NOLINT(google-explicit-constructor)
    std::string_view key() const noexcept { return key_; }
    std::uint64_t hash() noexcept {
        if (!hashed_) {
            hash_ = hybrid_key_hash(key_);
            hashed_ = true;
        }
        return hash_;
    }
    bool prefetched() const noexcept { return prefetched_; }
    void set_prefetched() noexcept { prefetched_ = true; }
    // What the store's gate filter said of the key: not asked yet, maybe
    // below the active delta, or absent from every sealed delta and run.
    enum class gate_answer : std::uint8_t { unasked, maybe, absent };
    gate_answer gate() const noexcept { return gate_; }
    void set_gate(gate_answer a) noexcept { gate_ = a; }
    bool absent_below() const noexcept { return gate_ == gate_answer::absent; }

private:
    std::string_view key_;
    std::uint64_t hash_ = 0;
    bool hashed_ = false;
    bool prefetched_ = false;
    gate_answer gate_ = gate_answer::unasked;
};

// Starts loading the key's block of every sealed delta's and run's filter
// (one cache line each) when there are several layers, so that their misses
// overlap one another and whatever the caller does next: the store's writers
// and readers call it before descending the active delta, which takes
// dependent misses of its own. A lone run (the usual state after compact())
// costs no hash.
template <class V>
void layers_prefetch(const hybrid_layers<V>& layers, hybrid_key_probe& probe) noexcept {
    if (probe.prefetched()) return;
    probe.set_prefetched();
    if (layers.sealed.size() + layers.runs.size() <= 2) return;
    const std::uint64_t h = probe.hash();
    for (const auto& delta : layers.sealed) {
        if (const hybrid_filter* f = delta->filter()) f->prefetch(h);
    }
    for (const auto& run : layers.runs) {
        if (run->filter) run->filter->prefetch(h);
    }
}

// The state of the probe's key in the sealed deltas and runs, newest first;
// `value` is set when live (and wanted). O(#sealed delta lookups + #runs
// lookups), one or two walks per run (a miss also probes the run's
// tombstones).
template <class V>
layer_state layers_find(const hybrid_layers<V>& layers, hybrid_key_probe probe, V* value) {
    // Runs have filters (layers.hpp says which do not), and so do most sealed
    // deltas: probe each before walking its layer.
    layers_prefetch(layers, probe);
    const std::string_view key = probe.key();
    for (const auto& delta : layers.sealed) {
        if (const hybrid_filter* f = delta->filter(); f != nullptr && !f->may_contain(probe.hash())) continue;
        if (const hybrid_slot<V>* slot = delta->get_if(key)) {
            if (!slot->live) return layer_state::deleted;
            if (value) *value = slot->value;
            return layer_state::live;
        }
    }
    for (const auto& run : layers.runs) {
        if (run->filter && !run->filter->may_contain(probe.hash())) continue;
        if (run->live) {
            if (value) {
                if (std::optional<V> v = run->live->get(key)) {
                    *value = *v;
                    return layer_state::live;
                }
            } else if (run->live->contains(key)) {
                return layer_state::live;
            }
        }
        if (run->tombstones && run->tombstones->contains(key)) return layer_state::deleted;
    }
    return layer_state::absent;
}

// The value of `key` in the sealed deltas and runs: nullopt when absent or
// deleted.
template <class V>
std::optional<V> layers_get(const hybrid_layers<V>& layers, hybrid_key_probe probe) {
    V v{};
    if (layers_find(layers, probe, &v) == layer_state::live) return v;
    return std::nullopt;
}

// Whether `key` is visible in the sealed deltas and runs (no value decode).
template <class V>
bool layers_contain(const hybrid_layers<V>& layers, hybrid_key_probe probe) {
    return layers_find<V>(layers, probe, nullptr) == layer_state::live;
}

// The longest key that is a prefix of `key` and visible in the sealed deltas
// and runs, with its value. One layered lookup per candidate length, longest
// first: O(|key| * #layers) lookups of O(|key|) each.
template <class V>
std::optional<std::pair<std::string, V>> layers_longest_prefix(const hybrid_layers<V>& layers, std::string_view key) {
    for (std::size_t n = key.size() + 1; n-- > 0;) {
        const std::string_view k = key.substr(0, n);
        if (std::optional<V> v = layers_get(layers, k)) return std::pair<std::string, V>(std::string(k), *v);
    }
    return std::nullopt;
}

// Bytes held by the layers (the deltas' and the runs' memory_usage()).
template <class V>
std::size_t layers_memory_usage(const hybrid_layers<V>& layers) {
    std::size_t total = sizeof(layers) + layers.sealed.capacity() * sizeof(layers.sealed[0]) +
                        layers.runs.capacity() * sizeof(layers.runs[0]);
    for (const auto& d : layers.sealed) total += d->memory_usage() + d->filter_bytes();
    for (const auto& r : layers.runs) total += r->memory_usage();
    return total;
}

}  // namespace memkv::detail
