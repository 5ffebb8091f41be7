#pragma once

// memkv::hybrid_options and memkv::hybrid_stats: public types of HybridKV,
// defined here so that the engine (detail/hybrid/engine.hpp) can use them
// without including the public header.

#include <chrono>
#include <cstddef>
#include <cstdint>

#include <memkv/detail/frozen/options.hpp>

namespace memkv {

// Tuning of a HybridKV. The defaults suit a store of millions of keys.
struct hybrid_options {
    // A background compaction starts when the active delta's memory_usage()
    // reaches this many bytes (0: never by bytes).
    std::size_t compaction_bytes = std::size_t{64} << 20;
    // ... or when it holds this many entries, tombstones included (0: never
    // by count).
    std::size_t compaction_keys = 0;
    // false: no background thread; deltas are folded into the base only by
    // compact(), and sealed deltas are merged by the thread that sealed them.
    bool background_compaction = true;
    // Scans and snapshots seal the active delta; once more than this many
    // sealed deltas are waiting, they are merged into one (cost: their size).
    std::size_t max_sealed_deltas = 4;
    // Options of the FrozenLayerBuilder behind each compaction. Its suffix
    // registry is additionally capped at about one row per key being merged,
    // so compacting a small store does not pay for a registry sized for
    // millions of keys.
    frozen_layer_options frozen{};
    // After a full compaction that merged at least 8 MiB of deltas, return the
    // freed delta and builder memory to the OS (malloc_trim on glibc; nothing
    // elsewhere). Costs milliseconds in the compacting thread; no lock of the
    // store is held.
    bool release_memory = true;
    // Nice value of the thread that runs background compactions' merges
    // (Linux; 0: no extra thread, the merge runs in the background worker at
    // the process's priority). A positive value lets the application's own
    // threads win the CPU when cores are short. The seal and swap, the only
    // steps under the store's lock, always run at normal priority, so a niced
    // thread never holds the lock. compact() called by the application runs
    // entirely in the caller's thread.
    int compaction_nice = 10;
};

// A picture of a HybridKV for monitoring. The delta and base figures are read
// together under the store's lock (consistent with each other); the
// compaction figures are read just after, without it.
struct hybrid_stats {
    std::size_t delta_keys = 0;   // entries in the active + sealed deltas, tombstones included
    std::size_t delta_bytes = 0;  // their memory_usage()
    std::size_t sealed_deltas = 0;
    std::size_t base_keys = 0;
    std::size_t base_bytes = 0;
    std::uint64_t compactions = 0;         // full compactions completed
    std::uint64_t delta_merges = 0;        // sealed-delta merges completed
    std::uint64_t failed_compactions = 0;  // background compactions that threw
    std::chrono::nanoseconds last_compaction_duration{0};
    std::chrono::system_clock::time_point last_compaction_finished{};  // epoch: none yet
    std::size_t last_compaction_keys = 0;  // keys in the base it produced
    // The longer of the last compaction's two exclusive-lock sections (seal,
    // swap), from asking for the lock to releasing it: the most that
    // compaction itself made any reader or writer wait.
    std::chrono::nanoseconds last_compaction_lock_wait{0};
};

}  // namespace memkv
