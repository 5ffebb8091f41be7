#pragma once

/// @file
/// @brief memkv::hybrid_options and memkv::hybrid_stats, public types of HybridKV.
///
/// Defined here so that the engine (detail/hybrid/engine.hpp) can use them
/// without including the public header. Include <memkv/hybrid_kv.hpp> (or
/// <memkv/memkv.hpp>) to use them.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <memkv/detail/frozen/options.hpp>

namespace memkv {

/// Tuning of a HybridKV.
///
/// The defaults suit a store of millions of keys; see DESIGN.md ("HybridKV
/// engine") for the policy these numbers drive.
struct hybrid_options {
    /// A flush starts when the deltas reach this many bytes (0: never by bytes).
    ///
    /// Counted as the memory_usage() of the deltas (active + sealed); a flush
    /// merges them into a new frozen run, the newest.
    std::size_t compaction_bytes = std::size_t{64} << 20;
    /// ... or when they hold this many entries, tombstones included (0: never by count).
    std::size_t compaction_keys = 0;
    /// The byte trigger grows with the store: a flush waits until the deltas
    /// reach 1 / compaction_base_divisor of the runs' bytes, when that is
    /// more than compaction_bytes, up to compaction_bytes_max.
    ///
    /// So each key is rewritten about as often whatever the store's size
    /// (write amplification about 2 while the trigger grows, instead of
    /// growing with log(keys)), while the deltas stay a bounded fraction of
    /// the memory. Writes that pause for a second with more than
    /// compaction_bytes in the deltas get them flushed then. 0: the trigger
    /// is compaction_bytes at every size. See DESIGN.md ("Triggers").
    std::size_t compaction_base_divisor = 8;
    /// Cap of the grown trigger (it never goes below compaction_bytes).
    std::size_t compaction_bytes_max = std::size_t{256} << 20;
    /// Whether background threads flush the deltas and merge the runs.
    ///
    /// false: no background threads; deltas are flushed and runs merged only
    /// by compact() (everything into one run) and, to keep the bounds below,
    /// by the thread that would exceed them.
    bool background_compaction = true;
    /// Hard bound on sealed deltas (scans and snapshots seal the active delta).
    ///
    /// A scan that would exceed it first merges the smallest adjacent sealed
    /// deltas itself (or waits for a running flush). Values below 2 act as 2.
    std::size_t max_sealed_deltas = 8;
    /// Tiering: how many runs of one level are merged into one run of the next.
    ///
    /// Runs are grouped in levels; `run_fanout` runs of one level are merged
    /// into one run of the next. Write amplification is about
    /// 1 + log_fanout(keys / keys per flush); about (run_fanout - 1) x levels
    /// + 1 runs exist. Values below 2 act as 2.
    std::size_t run_fanout = 8;
    /// Hard bound on runs (merge debt): the flusher waits while this many exist.
    ///
    /// So writers feel the merges' pace (backpressure) instead of the store
    /// piling up runs that slow every lookup. Values below run_fanout + 1 act
    /// as that.
    std::size_t max_runs = 24;
    /// Background threads that merge runs (at least 1).
    ///
    /// With more than one, a long merge of big runs does not hold up the
    /// merges of small ones on other runs meanwhile (so the flushes, and the
    /// writers behind them, do not wait for it at the run bound).
    std::size_t merge_threads = 2;
    /// Where runs live: empty for anonymous memory (the default), else a directory of run files.
    ///
    /// The directory is created if absent; each run is a FrozenLayer file,
    /// streamed there by the compaction that makes it and memory-mapped: the
    /// base lives in the page cache. The store owns the files it creates
    /// there (`run-<16 hex>.frz`) and deletes them when no longer used; one
    /// store per directory.
    std::string directory;
    /// Whether HybridKV::open() checks the CRC of every run it maps (reads every byte once).
    ///
    /// false: only headers and bounds are checked (for huge bases; call
    /// verify() later).
    bool verify_on_open = true;
    /// Whether memory-mapped runs are read as random access (FrozenLayer::advise).
    ///
    /// true: a lookup's page fault reads only its own page, not the pages
    /// around it as well (the kernel's read-around, up to the device's
    /// read_ahead_kb per fault), which decides lookups once the run files
    /// outgrow the page cache (DESIGN.md, "Read-around"). A merge, the
    /// gate's build and a filter's build lift the hint on the runs they read
    /// while they read them, as does a view of the whole store (items(), or
    /// from("")) while it or an iterator of it lives; prefix and range views
    /// keep it (a cold scan of a long range then reads page by page). Applies
    /// to the runs of `directory` and of an opened checkpoint.
    bool random_access_runs = true;
    /// Runs below this level are built for speed, with a small suffix registry.
    ///
    /// Flushes make level-0 runs and their merges level 1; both are merged
    /// again as the store grows, so their builder uses a 1024-row registry
    /// (it stays in the caches) instead of `frozen.registry_rows`: 1.2-1.5x
    /// faster to build, 0-7% more bytes per key in those runs on the key
    /// shapes measured (DESIGN.md, "Draft runs"). compact() and merges into
    /// higher levels always use `frozen`. 0: every run uses `frozen`.
    unsigned fast_build_levels = 2;
    /// gate_bits_per_key's default: 8 bits per key when `directory` is set, else 0 (no gate).
    static constexpr std::size_t gate_auto = static_cast<std::size_t>(-1);
    /// Bits per key of the gate, a filter over every key of the store (0: no gate).
    ///
    /// With background compaction, once the store has two runs, a background
    /// thread builds a blocked Bloom filter over all its keys, sized for
    /// twice the keys it holds, and builds a bigger one when the keys added
    /// reach that size; the writers add each new key. A key the gate refuses
    /// - nearly every insert of a new key, and every miss - needs one cache
    /// line instead of one filter line per sealed delta and run: misses
    /// 1.5-2.4x faster at 10^8 keys. It costs 1-2.6 bytes per key at 8 bits
    /// (about 2.5% false positives when full), twice that at peak while a
    /// build holds the old gate too (and runs that merges replaced), and a
    /// read of the whole store per build (every doubling). `gate_auto` (the
    /// default) turns it on for file-backed runs only: there a run filter's
    /// false positive reads pages of a run file, from disk once the runs
    /// outgrow the page cache, which slowed inserts most as such a store
    /// grew; in anonymous memory the gate saved no insert time and cost
    /// 4-11% more memory. See DESIGN.md ("The gate").
    std::size_t gate_bits_per_key = gate_auto;
    /// Options of the FrozenLayerBuilder behind each compaction.
    ///
    /// Its suffix registry is additionally capped at about one row per key
    /// being merged, so compacting a small store does not pay for a registry
    /// sized for millions of keys.
    frozen_layer_options frozen{};
    /// Whether to return freed memory to the OS after a big compaction.
    ///
    /// After a compaction that merged at least 8 MiB of deltas or runs
    /// (malloc_trim on glibc; nothing elsewhere).
    bool release_memory = true;
    /// Nice value of the threads that run background merges (Linux; 0: the process's priority).
    ///
    /// The seal and swap, the only steps under the store's lock, always run
    /// at normal priority. Merges into level 2 and up (minutes long at 10^8
    /// keys and more; nobody waits for them) run 5 steps lower still, at most
    /// 19, so the flushes and small merges that writers do wait for get the
    /// CPU first.
    int compaction_nice = 10;
};

/// A picture of a HybridKV for monitoring, from HybridKV::stats().
///
/// The delta and base figures are read together under the store's lock
/// (consistent with each other); the compaction figures are read just
/// after, without it.
struct hybrid_stats {
    std::size_t delta_keys = 0;   ///< entries in the active + sealed deltas, tombstones included
    std::size_t delta_bytes = 0;  ///< their memory_usage()
    /// Sealed deltas: read-only deltas waiting for a flush.
    std::size_t sealed_deltas = 0;
    /// Seals a writer did itself when the active delta reached
    /// compaction_bytes, its filter already filled (DESIGN.md, "Triggers").
    std::uint64_t writer_seals = 0;
    /// Entries in the runs, tombstones included (a key in several runs counts once per run).
    std::size_t base_keys = 0;
    std::size_t base_bytes = 0;   ///< the runs' memory_usage() (images, mapped or not, and filters)
    std::size_t run_bytes = 0;    ///< the runs' images alone (what a checkpoint's run files hold)
    std::size_t runs = 0;         ///< frozen runs under the deltas
    std::size_t base_files = 0;   ///< of them, file-backed
    /// The deltas' bytes that start a flush now: compaction_bytes grown with
    /// the runs (compaction_base_divisor); 0 when compaction_bytes is 0.
    std::size_t compaction_trigger_bytes = 0;
    std::uint64_t compactions = 0;         ///< flushes + run merges + compact() calls completed
    std::uint64_t flushes = 0;             ///< deltas merged into a new run
    std::uint64_t run_merges = 0;          ///< runs merged into one
    std::uint64_t delta_merges = 0;        ///< sealed deltas merged into one (bound on sealed deltas)
    std::uint64_t delta_merge_entries = 0; ///< entries written by those delta merges
    std::uint64_t bytes_written = 0;       ///< bytes of every run image compactions produced
    std::uint64_t backpressure_waits = 0;  ///< writers or scans that waited for a compaction
    std::uint64_t failed_compactions = 0;  ///< background compactions that threw
    std::uint64_t filters_loaded = 0;      ///< run filters open() read from the checkpoint
    std::uint64_t filters_rebuilt = 0;     ///< run filters open() rebuilt from the runs' keys (none saved, or bad)
    /// Flushes of one sealed delta whose run kept that delta's filter
    /// (filled by the writers) instead of hashing every key into a new one.
    std::uint64_t filters_shared = 0;
    /// Gates built (hybrid_options::gate_bits_per_key).
    std::uint64_t gate_builds = 0;
    /// The gate's memory (and the next gate's while one is built); part of memory_usage().
    std::size_t gate_bytes = 0;
    /// How long the last compaction took (steady clock), 0 if none yet.
    std::chrono::nanoseconds last_compaction_duration{0};
    std::chrono::system_clock::time_point last_compaction_finished{};  ///< epoch: none yet
    std::size_t last_compaction_keys = 0;  ///< keys in the base it produced
    /// The longer of the last compaction's two exclusive-lock sections (seal, swap).
    ///
    /// From asking for the lock to releasing it: the most that compaction
    /// itself made any reader or writer wait.
    std::chrono::nanoseconds last_compaction_lock_wait{0};
};

}  // namespace memkv
