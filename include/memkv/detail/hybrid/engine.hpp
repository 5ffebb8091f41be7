#pragma once

// HybridKV's engine (memkv::detail): the lock, the layer stack, the size
// counter, the background compactor and the checkpoint writer/reader. The
// public facade, memkv::HybridKV<V> in <memkv/hybrid_kv.hpp>, forwards here.
//
// Concurrency design (see DESIGN.md, "HybridKV engine"):
//
//   mu_ (hybrid_rwlock, writer-preferring) guards active_, layers_ and size_'s
//   updates.
//     point reads   shared lock: active_ -> sealed deltas -> runs
//     writes        exclusive lock: mutate active_ (plus a lookup in the lower
//                   layers the first time a key enters active_)
//     seal          exclusive lock, O(#layers): active_ becomes the newest
//                   immutable sealed delta; a fresh active_ starts
//     swap          exclusive lock, O(#layers): a compaction's result replaces
//                   exactly the layers it merged (found by identity)
//   delta_mu_ (std::mutex): one flush (sealed deltas -> a new run) or sealed-
//     delta merge at a time. Only its holder removes sealed deltas; seals
//     only push at the front, so a flush's input is the oldest suffix.
//   runs_mu_ (std::mutex) guards the run claims: a run merge claims the
//     runs it reads, and only the claimant removes them; flushes only push
//     at the front. compact() closes the claims and waits for the open ones
//     to end. Order: delta_mu_ before runs_mu_ before mu_.
//   Background threads: the flusher (delta_mu_) and merge_threads mergers
//   (claims on disjoint runs), so a long run merge never delays a flush,
//   nor the merges of newer runs.
//   Scans and snapshots seal, copy the shared_ptr to the (immutable) layer
//   list and then read without any lock: writers never wait for them.
//   Old layers are destroyed after the lock is released.

#include <memkv/detail/hybrid/checkpoint.hpp>
#include <memkv/detail/io/file.hpp>
#include <memkv/detail/hybrid/layers.hpp>
#include <memkv/detail/hybrid/merge.hpp>
#include <memkv/detail/assert.hpp>
#include <memkv/detail/hybrid/options.hpp>
#include <memkv/detail/hybrid/rwlock.hpp>
#include <memkv/errors.hpp>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <map>
#include <span>
#include <functional>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <random>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#endif

namespace memkv::detail {

// Hands memory that the allocator keeps on its free lists back to the OS.
// A compaction frees a whole delta and the builder's scratch at once; glibc
// keeps most of it (per-thread arenas, a heap top that is not free), so
// without this the process stays ~100 MiB above its live data after a
// compaction of 1.7M URLs. Other allocators return memory on their own.
inline void release_free_memory() noexcept {
#if defined(__GLIBC__)
    ::malloc_trim(0);
#endif
}

// A thread at a lower OS priority that runs one job at a time for a caller
// that waits for it. HybridKV's background compaction runs its merge here
// while the seal and swap - the only steps under the store's lock - stay in
// the normal-priority worker: a niced thread holding the lock could be kept
// off the CPU for tens of milliseconds on a busy machine, stalling every
// reader and writer (priority inversion).
class hybrid_niced_runner {
public:
    explicit hybrid_niced_runner(int nice) : thread_([this, nice] { loop(nice); }) {}
    hybrid_niced_runner(const hybrid_niced_runner&) = delete;
    hybrid_niced_runner& operator=(const hybrid_niced_runner&) = delete;
    ~hybrid_niced_runner() {
        {
            std::lock_guard guard(mu_);
            stop_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }

    // Runs job() in the niced thread and waits; rethrows what it threw.
    template <class F>
    void run(F&& job) {
        std::function<void()> fn(std::forward<F>(job));
        std::unique_lock guard(mu_);
        job_ = &fn;
        error_ = nullptr;
        cv_.notify_all();
        cv_.wait(guard, [this] { return job_ == nullptr; });
        if (error_) std::rethrow_exception(error_);
    }

private:
    void loop(int nice) {
#if defined(__linux__)
        // Linux applies nice values per thread.
        (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), nice);
#else
        (void)nice;
#endif
        std::unique_lock guard(mu_);
        for (;;) {
            cv_.wait(guard, [this] { return stop_ || job_ != nullptr; });
            if (job_ == nullptr) return;  // stop_ and no job left
            std::function<void()>* fn = job_;
            guard.unlock();
            std::exception_ptr error;
            try {
                (*fn)();
            } catch (...) {
                error = std::current_exception();
            }
            guard.lock();
            error_ = error;
            job_ = nullptr;
            cv_.notify_all();
        }
    }

    std::mutex mu_;
    std::condition_variable cv_;
    std::function<void()>* job_ = nullptr;
    std::exception_ptr error_;
    bool stop_ = false;
    std::thread thread_;  // last: starts after the members it uses exist
};

// A run as the merge policy sees it: its level, and whether a merge in
// flight has claimed it.
struct hybrid_run_state {
    unsigned level = 0;
    bool claimed = false;
};

// The runs to merge next, [lo, hi) of `runs` (newest first), and the level
// of the result; lo == hi: nothing is due. Size-tiered: the newest group of
// at least `fanout` adjacent unclaimed runs of one level becomes one run a
// level up, lowest level first. Over `max_runs` (runs of a checkpoint with
// another history, or merges in flight) the newest `fanout` adjacent
// unclaimed runs merge at the level of the oldest of them. Levels never
// decrease towards the oldest run, and no pick breaks that while another
// merge is in flight: a result that would outrank the next older run (a
// group still being merged up, say) waits for it. `max_level` caps the
// level of the result (a merger lane kept for small merges).
struct hybrid_run_pick {
    std::size_t lo = 0, hi = 0;
    unsigned level = 0;
};

inline hybrid_run_pick hybrid_pick_runs(std::span<const hybrid_run_state> runs, std::size_t fanout,
                                        std::size_t max_runs, unsigned max_level = ~0U) {
    auto fits = [&](std::size_t hi, unsigned level) { return hi == runs.size() || runs[hi].level >= level; };
    for (std::size_t i = 0; i < runs.size();) {
        if (runs[i].claimed) {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j < runs.size() && !runs[j].claimed && runs[j].level == runs[i].level) ++j;
        if (j - i >= fanout && runs[i].level + 1 <= max_level && fits(j, runs[i].level + 1)) {
            return {i, j, runs[i].level + 1};
        }
        i = j;
    }
    if (runs.size() >= max_runs) {
        for (std::size_t lo = 0, n = 0; lo + n < runs.size();) {
            if (runs[lo + n].claimed || runs[lo + n].level > max_level) {
                lo += n + 1;
                n = 0;
            } else if (++n == fanout) {
                return {lo, lo + n, runs[lo + n - 1].level};
            }
        }
    }
    return {};
}

// Merges whose result is at least this level take minutes at 10^8-10^9
// keys (level 1 is `run_fanout` flushes). With several merger lanes, one
// lane is kept for smaller merges: when big merges filled every lane, the
// level-0 runs of the flushes piled up to max_runs and the writers stalled
// until a big merge ended (a 10^9-key run: 24 level-0 runs waiting while
// both lanes merged levels 3 and 4).
inline constexpr unsigned hybrid_big_merge_level = 2;

// Registry rows of a draft run's builder (runs below
// hybrid_options::fast_build_levels): 1024 x 4 cells of 32 bytes, 128 KiB,
// stays in a core's L2 cache, where the default 8 MiB registry misses on
// nearly every probe; it still finds most shared tails (DESIGN.md, "Draft runs").
inline constexpr std::size_t hybrid_draft_registry_rows = 1024;

// How long writes must pause before the flusher takes deltas that are over
// compaction_bytes but under the grown trigger (hybrid_options::
// compaction_base_divisor): a store at rest then holds what the fixed
// trigger would have left it.
inline constexpr std::chrono::milliseconds hybrid_idle_flush_period{1000};

// From this many keys on, the active delta gets the filter its seal will
// carry (hybrid_delta): a smaller one is cheap for the flusher to filter, and
// scans seal small deltas often.
inline constexpr std::size_t hybrid_active_filter_from = 16384;

// The smallest gate (DESIGN.md, "The gate"): 64 KiB at 8 bits per key.
inline constexpr std::size_t hybrid_gate_min_keys = std::size_t{1} << 16;
// The gate's bits per key where hybrid_options::gate_auto turns it on (a
// store with file-backed runs).
inline constexpr std::size_t hybrid_gate_file_bits = 8;
// The most queued keys a gate's builder adds under the store's lock, with
// the install (about 0.1 ms); more are taken out and added outside it.
inline constexpr std::size_t hybrid_gate_last_batch = 4096;

// Runs below this level get hybrid_filter::small_bits_per_key (filter.hpp):
// the flushes' runs, each at most a trigger's worth of keys. Not level 1: at
// rest it can hold half the store, and its extra bits cost 2% of the store's
// bytes there (bench/RESULTS.md, eleventh session).
inline constexpr unsigned hybrid_small_filter_levels = 1;

// How much lower (in nice steps) big merges run than the flusher and the
// small merges. On a machine whose cores are all busy, the small merges are
// what the writers wait for (flushes wait at max_runs behind them), while a
// big merge can finish late without holding anyone up; at equal priority a
// big merge took half the core the small merges and flushes needed.
inline constexpr int hybrid_big_merge_nice_step = 5;

template <class V>
class hybrid_engine {
public:
    using delta_type = hybrid_delta<V>;
    using base_type = FrozenLayer<V>;
    using run_type = hybrid_run<V>;
    using layers_type = hybrid_layers<V>;
    using slot_type = hybrid_slot<V>;
    using layers_ptr = std::shared_ptr<const layers_type>;
    using delta_ptr = std::shared_ptr<const delta_type>;
    using run_ptr = std::shared_ptr<const run_type>;

    explicit hybrid_engine(const hybrid_options& opt)
        : opt_(normalized(opt)), active_(std::make_unique<delta_type>()),
          layers_(std::make_shared<const layers_type>()) {
        std::random_device rd;
        id_seed_ = (std::uint64_t{rd()} << 32) ^ rd() ^
                   static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
        if (!opt_.directory.empty()) prepare_directory();
    }

    hybrid_engine(const hybrid_engine&) = delete;
    hybrid_engine& operator=(const hybrid_engine&) = delete;

    ~hybrid_engine() { stop_workers(); }

    // Test hook: what destruction does first - the background work stopped
    // (a flush or merge in progress abandoned), its threads joined. Reads
    // still answer afterwards, and the destructor's own stop finds nothing
    // left to join: a test then sees what destruction leaves, with no clock.
    void test_stop_workers() { stop_workers(); }

    // Test hook: a flush request that no write is waiting for (a stale one,
    // see run_flusher); returns once the flusher has taken it up.
    void test_stale_flush_request() {
        std::unique_lock guard(cv_mu_);
        const std::uint64_t epoch = flush_epoch_;
        flush_requested_.store(true, std::memory_order_relaxed);
        cv_.notify_all();
        done_cv_.wait(guard, [&] {
            return stop_ || (flush_epoch_ != epoch && !flush_requested_.load(std::memory_order_relaxed) &&
                             !flushing_.load(std::memory_order_relaxed));
        });
    }

    // Started separately so open() can restore the layers first.
    void start_worker() {
        if (!opt_.background_compaction) return;
        if (opt_.compaction_nice != 0) {
            flush_niced_ = std::make_unique<hybrid_niced_runner>(opt_.compaction_nice);
            // Only lowered further when compaction is niced at all (a
            // nice value of 0 asks for the process's own priority).
            const int big_nice = opt_.compaction_nice > 0
                                     ? std::min(opt_.compaction_nice + hybrid_big_merge_nice_step, 19)
                                     : opt_.compaction_nice;
            // A gate's build is never waited for (the old gate, or none,
            // answers meanwhile): it runs as low as the big merges.
            if (gate_enabled()) gate_niced_ = std::make_unique<hybrid_niced_runner>(big_nice);
            for (std::size_t i = 0; i < opt_.merge_threads; ++i) {
                merge_niced_.push_back(std::make_unique<hybrid_niced_runner>(opt_.compaction_nice));
                big_niced_.push_back(std::make_unique<hybrid_niced_runner>(big_nice));
            }
        }
        flusher_ = std::thread([this] { run_flusher(); });
        // A reopened store with runs has asked for its gate already
        // (load: recount_locked).
        if (gate_enabled()) gate_thread_ = std::thread([this] { run_gate_builder(); });
        for (std::size_t i = 0; i < opt_.merge_threads; ++i) {
            hybrid_niced_runner* runner = merge_niced_.empty() ? nullptr : merge_niced_[i].get();
            hybrid_niced_runner* big_runner = big_niced_.empty() ? nullptr : big_niced_[i].get();
            mergers_.emplace_back([this, runner, big_runner] { run_merger(runner, big_runner); });
        }
    }

    // ---- point operations ------------------------------------------------

    // assign == false: insert only if absent (returns false and changes
    // nothing when the key is visible). assign == true: insert or overwrite.
    // Returns whether the key was new.
    bool insert(std::string_view key, const V& value, bool assign) {
        bool inserted = false;
        pressure p = pressure::none;
        {
            std::unique_lock lock(mu_);
            // A new key probes every layer's filter and sets bits in the
            // active delta's: start those loads first, so that they overlap
            // the descent below (unrequested, the active filter's
            // read-modify-write took 0.12-0.19 us per key, 7-12% of the
            // writer's time at 10^8 keys; bench/RESULTS.md, twelfth session).
            hybrid_key_probe probe(key);
            prefetch_below_locked(probe, true);
            if (active_filter_) active_filter_->prefetch_for_add(probe.hash());
            // One descent for the common cases (a new key, or an update).
            auto [it, fresh] = active_->try_emplace(key, slot_type{value, true, false});
            if (fresh) {
                ask_gate_locked(probe);  // before the key joins it
                // Before anything can fail: an undo below may leave the key.
                note_key_locked(probe);
                bool below = false;
                try {
                    below = visible_below_locked(probe);
                } catch (...) {
                    active_->erase(key);  // strong guarantee
                    throw;
                }
                if (below && !assign) {
                    // Visible below: insert() leaves it alone.
                    try {
                        active_->erase(key);
                    } catch (const std::bad_alloc&) {
                        // The undo needed memory (a node merge) and the tree
                        // is as it was: make the entry a copy of what is
                        // visible below, an update that changes nothing.
                        // Lookups below allocate nothing.
                        *active_->get_if(key) = slot_type{*layers_get(*layers_, key), true, true};
                    }
                    return false;
                }
                it.value().below = below;
                inserted = !below;
            } else {
                slot_type& slot = it.value();
                if (slot.live && !assign) return false;
                inserted = !slot.live;
                slot.value = value;
                slot.live = true;
            }
            if (inserted) size_.fetch_add(1, std::memory_order_relaxed);
            p = pressure_locked();
        }
        relieve(p);
        return inserted;
    }

    std::size_t erase(std::string_view key) {
        pressure p = pressure::none;
        std::size_t n = 0;
        {
            std::unique_lock lock(mu_);
            n = erase_locked(key);
            if (n != 0) p = pressure_locked();
        }
        relieve(p);
        return n;
    }

    // Erases each key (one exclusive lock for the batch); returns how many
    // were visible.
    std::size_t erase_batch(const std::vector<std::string>& keys) {
        pressure p = pressure::none;
        std::size_t n = 0;
        {
            std::unique_lock lock(mu_);
            for (const std::string& k : keys) n += erase_locked(k);
            if (n != 0) p = pressure_locked();
        }
        relieve(p);
        return n;
    }

    std::optional<V> get(std::string_view key) const {
        std::shared_lock lock(mu_);
        return get_locked(key);
    }

    bool contains(std::string_view key) const {
        std::shared_lock lock(mu_);
        hybrid_key_probe probe(key);
        prefetch_below_locked(probe, false);  // overlaps the descent below
        if (const slot_type* cur = std::as_const(*active_).get_if(key)) return cur->live;
        return visible_below_locked(probe);
    }

    // The longest visible key that is a prefix of `key`: one layered lookup
    // per candidate length, longest first, under one shared lock (so the
    // answer is one point in time).
    std::optional<std::pair<std::string, V>> longest_prefix(std::string_view key) const {
        std::shared_lock lock(mu_);
        for (std::size_t n = key.size() + 1; n-- > 0;) {
            const std::string_view k = key.substr(0, n);
            if (std::optional<V> v = get_locked(k)) return std::pair<std::string, V>(std::string(k), *v);
        }
        return std::nullopt;
    }

    // Checks every layer (the active delta is sealed first) and the size; see
    // layers_verify.
    void verify() {
        const auto [layers, n] = capture();
        // The gate is checked against the layers it was current with (a
        // newer gate may have been built after an erased key left them).
        std::shared_ptr<const hybrid_filter> gate;
        {
            std::shared_lock lock(mu_);
            if (layers_ == layers) gate = gate_;
        }
        layers_verify(*layers, n, gate.get());
    }

    std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }

    bool compaction_running() const noexcept { return running_.load(std::memory_order_relaxed) != 0; }

    std::size_t memory_usage() const {
        std::shared_lock lock(mu_);
        return sizeof(*this) + active_->memory_usage() + (active_filter_ ? active_filter_->memory_usage() : 0) +
               (gate_ ? gate_->memory_usage() : 0) + (gate_next_ ? gate_next_->memory_usage() : 0) +
               layers_memory_usage(*layers_);
    }

    hybrid_stats stats() const {
        hybrid_stats s;
        {
            std::shared_lock lock(mu_);
            s.delta_keys = active_->size();
            s.delta_bytes = active_->memory_usage();
            for (const auto& d : layers_->sealed) {
                s.delta_keys += d->size();
                s.delta_bytes += d->memory_usage();
            }
            s.sealed_deltas = layers_->sealed.size();
            s.writer_seals = writer_seals_;
            s.compaction_trigger_bytes = opt_.compaction_bytes == 0 ? 0 : flush_bytes_;
            s.gate_bytes = (gate_ ? gate_->memory_usage() : 0) + (gate_next_ ? gate_next_->memory_usage() : 0);
            s.runs = layers_->runs.size();
            for (const auto& r : layers_->runs) {
                s.base_keys += r->keys();
                s.base_bytes += r->memory_usage();
                s.run_bytes += r->image_bytes();
                if (r->file_backed()) ++s.base_files;
            }
        }
        s.compactions = compactions_.load(std::memory_order_relaxed);
        s.flushes = flushes_.load(std::memory_order_relaxed);
        s.run_merges = run_merges_.load(std::memory_order_relaxed);
        s.delta_merges = delta_merges_.load(std::memory_order_relaxed);
        s.delta_merge_entries = delta_merge_entries_.load(std::memory_order_relaxed);
        s.bytes_written = bytes_written_.load(std::memory_order_relaxed);
        s.backpressure_waits = backpressure_waits_.load(std::memory_order_relaxed);
        s.failed_compactions = failed_.load(std::memory_order_relaxed);
        s.filters_loaded = filters_loaded_;
        s.filters_rebuilt = filters_rebuilt_;
        s.filters_shared = filters_shared_.load(std::memory_order_relaxed);
        s.gate_builds = gate_builds_.load(std::memory_order_relaxed);
        s.last_compaction_duration = std::chrono::nanoseconds(last_duration_ns_.load(std::memory_order_relaxed));
        s.last_compaction_keys = last_keys_.load(std::memory_order_relaxed);
        s.last_compaction_finished = std::chrono::system_clock::time_point(
            std::chrono::system_clock::duration(last_finished_.load(std::memory_order_relaxed)));
        s.last_compaction_lock_wait = std::chrono::nanoseconds(last_lock_ns_.load(std::memory_order_relaxed));
        return s;
    }

    // ---- point-in-time views ---------------------------------------------

    // The current layer stack with the active delta sealed into it, and the
    // exact size of that state. O(1) when the active delta is empty, else
    // O(#layers) under the exclusive lock - plus, when the sealed deltas are
    // at their bound, a merge of the two smallest adjacent ones first (or a
    // wait for the running flush, which removes them all).
    std::pair<layers_ptr, std::size_t> capture() {
        {
            std::shared_lock lock(mu_);
            if (active_->size() == 0) return {layers_, size_.load(std::memory_order_relaxed)};
        }
        for (;;) {
            std::pair<layers_ptr, std::size_t> result;
            pressure p = pressure::none;
            {
                std::unique_lock lock(mu_);
                if (active_->size() == 0 || layers_->sealed.size() < opt_.max_sealed_deltas) {
                    seal_locked();
                    result = {layers_, size_.load(std::memory_order_relaxed)};
                    p = pressure_locked();
                }
            }
            if (result.first) {
                if (p != pressure::none) wake_flusher();
                return result;
            }
            // At the bound: make room before sealing.
            backpressure_waits_.fetch_add(1, std::memory_order_relaxed);
            std::lock_guard delta_guard(delta_mu_);
            merge_smallest_sealed_pair();
        }
    }

    // ---- compaction --------------------------------------------------------

    // Merges every delta (the active one sealed first) and every run into one
    // run. Returns false when there was nothing to merge. A running
    // background flush or run merge is abandoned rather than waited for: this
    // one covers what it would have done.
    bool compact() {
        std::unique_lock<std::mutex> delta_guard;
        std::unique_lock<std::mutex> runs_guard;
        {
            preempt_.fetch_add(1, std::memory_order_relaxed);
            struct release {
                std::atomic<int>& n;
                ~release() { n.fetch_sub(1, std::memory_order_relaxed); }
            } claim{preempt_};
            delta_guard = std::unique_lock(delta_mu_);
            runs_guard = std::unique_lock(runs_mu_);
            // Background merges see preempt_ and give their runs back
            // within 4096 merge steps (or when their builder finishes).
            claims_cv_.wait(runs_guard, [this] { return claimed_.empty(); });
        }
        bool any = false;
        // Twice at most: when the sealed deltas were at their bound the
        // active delta could not be sealed before the first pass.
        for (int pass = 0; pass < 2; ++pass) {
            bool sealed_all = false;
            const layers_ptr input = seal_for_merge(&sealed_all);
            if (input->sealed.empty() && input->runs.size() <= 1) break;
            if (!merge_into_run(input, input->sealed.size(), 0, input->runs.size(), false, compact_kind::full)) {
                return any;
            }
            any = true;
            if (sealed_all) break;
        }
        {
            // One run left: like its filter, the gate goes (a compacted
            // store keeps the least memory; every lookup walks that run
            // anyway). A second run brings one back.
            std::unique_lock lock(mu_);
            if (layers_->runs.size() <= 1 && layers_->sealed.empty()) {
                drop_gate_locked();
                gate_wanted_.store(false, std::memory_order_relaxed);
            }
        }
        return any;
    }

    // ---- persistence -------------------------------------------------------

    // Writes a checkpoint (format and protocol in checkpoint.hpp). Errors:
    // io_error "memkv: save '<path>': <reason>"; nothing is left behind.
    void save(const std::string& path) {
        auto fail = [&](const std::string& why) { return io_error("memkv: save '" + path + "': " + why); };
        if (path.empty()) throw fail("empty path");
        const auto [dir, name] = split_path(path);
        if (name.empty()) throw fail("not a file path");
        try {
            if (is_directory(path)) throw fail("is a directory");
            if (!is_directory(dir)) throw fail("directory '" + dir + "' does not exist");
        } catch (const io_error& e) {
            if (std::string_view(e.what()).substr(0, 7) == "memkv: ") throw;
            throw fail(strip_paths(e.what()));
        }
        std::lock_guard save_guard(save_mu_);
        const auto [layers, size] = capture();

        std::vector<std::string> created;  // removed if the save fails
        const std::string tmp = path + ".tmp";
        try {
            if (saved_path_ != path) {
                saved_path_ = path;
                saved_.clear();
            }
            std::map<std::uint64_t, saved_file> still;  // the cache after this save
            std::vector<hybrid_manifest_run> table;
            for (const run_ptr& r : layers->runs) {
                hybrid_manifest_run e;
                e.level = r->level;
                const hybrid_run_scan<run_type> scan({r.get()});  // a copy reads it whole
                if (r->live) e.live = save_layer(*r->live, r->live_path, r->id * 4, dir, name, created, still);
                if (r->tombstones) {
                    e.tomb = save_layer(*r->tombstones, r->tomb_path, r->id * 4 + 1, dir, name, created, still);
                }
                if (r->filter) save_filter(*r, hybrid_filter_name(e), r->id * 4 + 2, dir, created, still);
                table.push_back(std::move(e));
            }

            std::string records;
            std::uint64_t count = 0;
            {
                const hybrid_scan_origin<V> origin(layers.get(), scan_bounds{}, false);
                hybrid_merge_cursor<V> cursor(origin);
                for (bool ok = cursor.seek_first(); ok; ok = cursor.next()) {
                    const std::string& key = cursor.key();
                    const slot_type& slot = cursor.slot();
                    if (!slot.live && !slot.below) continue;
                    append_le(records, key.size(), 4);
                    records.push_back(static_cast<char>((slot.live ? hybrid_flag_live : 0) |
                                                        (slot.below ? hybrid_flag_below : 0)));
                    records.append(key);
                    if (slot.live) {
                        char bytes[sizeof(V)];
                        std::memcpy(bytes, &slot.value, sizeof(V));
                        records.append(bytes, sizeof(V));
                    }
                    ++count;
                }
            }
            const std::string file = encode_hybrid_manifest(static_cast<std::uint32_t>(sizeof(V)),
                                                            frozen_type_tag<V>(), size, table, count, records);
            created.push_back(tmp);
            write_file_synced(tmp, reinterpret_cast<const unsigned char*>(file.data()), file.size());
            rename_file(tmp, path);  // the commit point
            created.clear();
            saved_ = std::move(still);
        } catch (const error& e) {
            for (const std::string& f : created) remove_file_noexcept(f);
            saved_.clear();
            throw fail(strip_paths(e.what()));
        } catch (...) {
            for (const std::string& f : created) remove_file_noexcept(f);
            saved_.clear();
            throw;
        }
        try {
            fsync_path(dir, true);
        } catch (const error& e) {
            // The new checkpoint is in place (open() reads it), but a power
            // loss could still bring the old one back.
            throw fail("saved, but not known to be durable: " + strip_paths(e.what()));
        }
        collect_checkpoint_garbage(dir, name);
    }

    // Restores a checkpoint written by save(). The workers are not started
    // yet. Errors: format_error / io_error "memkv: open '<path>': <reason>".
    void load(const std::string& path) {
        auto fail = [&](const std::string& why) { return format_error("memkv: open '" + path + "': " + why); };
        std::string file;
        try {
            file_reader r(path);
            if (r.is_directory()) throw io_error("memkv: open '" + path + "': is a directory");
            file = r.read_rest();
        } catch (const io_error& e) {
            if (std::string_view(e.what()).substr(0, 7) == "memkv: ") throw;
            throw io_error("memkv: open '" + path + "': " + strip_paths(e.what()));
        }
        const hybrid_manifest m =
            decode_hybrid_manifest(file, static_cast<std::uint32_t>(sizeof(V)), frozen_type_tag<V>(), fail);
        // Not a structured binding: open_layer captures it, which clang
        // before 16 refuses (memkv is header-only; the fuzzers build with clang 14).
        const std::string dir = split_path(path).first;

        auto layers = std::make_shared<layers_type>();
        std::map<std::uint64_t, saved_file> cache;
        std::int64_t expected = 0;
        for (std::size_t i = 0; i < m.runs.size(); ++i) {
            const hybrid_manifest_run& e = m.runs[i];
            auto r = std::make_shared<run_type>();
            r->id = next_id();
            r->level = e.level;
            auto open_layer = [&](const std::string& n, std::string& where, std::uint64_t key) {
                where = dir + "/" + n;
                std::shared_ptr<const base_type> l;
                try {
                    l = std::make_shared<const base_type>(base_type::open(where, opt_.frozen.user_tag));
                    if (opt_.verify_on_open) l->verify();
                } catch (const format_error& err) {
                    throw fail("run file '" + n + "': " + strip_paths(err.what()));
                } catch (const io_error& err) {
                    throw io_error("memkv: open '" + path + "': run file '" + n + "': " + strip_paths(err.what()));
                }
                struct ::stat st {};
                if (stat_noexcept(where, st)) cache[key] = saved_file{n, st.st_dev, st.st_ino, st.st_size};
                return l;
            };
            if (!e.live.empty()) r->live = open_layer(e.live, r->live_path, r->id * 4);
            if (!e.tomb.empty()) r->tombstones = open_layer(e.tomb, r->tomb_path, r->id * 4 + 1);
            if (r->tombstones && i + 1 == m.runs.size()) throw fail("the oldest run holds tombstones");
            if (m.version < 3) r->level = level_for(r->keys());  // a 0.1 base: its history is lost
            if (i > 0 && layers->runs.back()->level > r->level) throw fail("run levels decrease towards the oldest");
            // The saved filter when there is one that checks out; else the
            // filter is rebuilt from the run's keys, but not the oldest
            // run's (that would read every key of the store).
            const std::string filter_name = hybrid_filter_name(e);
            const std::string filter_path = dir + "/" + filter_name;
            r->filter = hybrid_filter::load(filter_path, run_fingerprint(*r));
            if (r->filter) {
                ++filters_loaded_;
                struct ::stat st {};
                if (stat_noexcept(filter_path, st)) {
                    cache[r->id * 4 + 2] = saved_file{filter_name, st.st_dev, st.st_ino, st.st_size};
                }
            } else if (i + 1 < m.runs.size()) {
                r->filter = build_filter(*r);
                ++filters_rebuilt_;
            }
            set_access(*r);
            layers->runs.push_back(std::move(r));
        }
        // The runs' visible keys, for the size check. A lone run without
        // tombstones is its own count, exactly. With several runs a key may be
        // in more than one (a newer run replaced or erased it): counting
        // through the merge walks every key (minutes at 10^9 keys), so the
        // size is only bounded there - by the runs' live keys, and below by
        // the newest run's, which nothing but the delta can hide. The files'
        // CRCs already catch damage; a bound catches a size from another
        // store.
        bool exact = true;
        std::int64_t lowest = 0;
        if (m.runs.size() > 1 || (m.runs.size() == 1 && layers->runs[0]->tombstones)) {
            exact = false;
            for (const auto& r : layers->runs) expected += static_cast<std::int64_t>(r->live ? r->live->size() : 0);
            lowest = static_cast<std::int64_t>(layers->runs[0]->live ? layers->runs[0]->live->size() : 0);
        } else if (m.runs.size() == 1) {
            expected = static_cast<std::int64_t>(layers->runs[0]->live ? layers->runs[0]->live->size() : 0);
        }

        auto delta = std::make_unique<delta_type>();
        std::size_t pos = m.records_at;
        const auto* p = reinterpret_cast<const unsigned char*>(file.data());
        for (std::uint64_t i = 0; i < m.record_count; ++i) {
            if (file.size() - pos < 5) throw fail("truncated delta record");
            const std::size_t key_len = static_cast<std::size_t>(load_le(p + pos, 4));
            const std::uint8_t flags = p[pos + 4];
            pos += 5;
            if (file.size() - pos < key_len) throw fail("truncated delta key");
            const std::string_view key(file.data() + pos, key_len);
            pos += key_len;
            slot_type slot;
            slot.live = (flags & hybrid_flag_live) != 0;
            slot.below = (flags & hybrid_flag_below) != 0;
            if (slot.live) {
                if (file.size() - pos < sizeof(V)) throw fail("truncated delta value");
                std::memcpy(&slot.value, file.data() + pos, sizeof(V));
                pos += sizeof(V);
            }
            if (!slot.live && !slot.below) throw fail("a delta tombstone hides nothing");
            expected += (slot.live ? 1 : 0) - (slot.below ? 1 : 0);
            lowest -= slot.below ? 1 : 0;
            if (!delta->insert(key, slot).second) throw fail("duplicate delta key");
        }
        if (pos != file.size()) throw fail("trailing bytes after the delta");
        const auto claimed = static_cast<std::int64_t>(m.size);
        if (exact ? expected != claimed : claimed > expected || claimed < lowest)
            throw fail("size does not match its layers");

        std::unique_lock lock(mu_);
        active_ = std::move(delta);
        drop_active_filter_locked();
        // The gate is not saved: the workers build one from the runs.
        drop_gate_locked();
        layers_ = std::move(layers);
        recount_locked();
        size_.store(static_cast<std::size_t>(m.size), std::memory_order_relaxed);
        saved_path_ = path;
        saved_ = std::move(cache);
    }

private:
    enum class pressure : std::uint8_t { none, flush, wait };
    enum class compact_kind : std::uint8_t { flush, runs, full };

    // A run layer already in a checkpoint directory (to name it again).
    struct saved_file {
        std::string name;
        dev_t dev = 0;
        ino_t ino = 0;
        off_t size = 0;
    };

    static hybrid_options normalized(hybrid_options o) {
        o.max_sealed_deltas = std::max<std::size_t>(o.max_sealed_deltas, 2);
        o.run_fanout = std::max<std::size_t>(o.run_fanout, 2);
        o.max_runs = std::max(o.max_runs, o.run_fanout + 1);
        o.merge_threads = std::max<std::size_t>(o.merge_threads, 1);
        if (o.gate_bits_per_key == hybrid_options::gate_auto) {
            o.gate_bits_per_key = o.directory.empty() ? 0 : hybrid_gate_file_bits;
        }
        return o;
    }

    std::uint64_t next_id() noexcept {
        // splitmix64 of a counter: distinct in this engine, unlikely to meet
        // another engine's.
        std::uint64_t z = id_seed_ + 0x9E3779B97F4A7C15ULL * ids_.fetch_add(1, std::memory_order_relaxed);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }

    static std::string hex16(std::uint64_t v) {
        char hex[17];
        for (int i = 0; i < 16; ++i) hex[i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 0xFU];
        hex[16] = '\0';
        return hex;
    }

    // "cannot create 'x/y.tmp': Permission denied" -> "cannot create:
    // Permission denied": an error of an inner step without the temporary
    // names it touched.
    static std::string strip_paths(std::string_view what) {
        std::string out;
        for (;;) {
            const std::size_t a = what.find(" '");
            if (a == std::string_view::npos) break;
            const std::size_t b = what.find('\'', a + 2);
            if (b == std::string_view::npos) break;
            out.append(what.substr(0, a));
            what.remove_prefix(b + 1);
        }
        out.append(what);
        return out;
    }

    // The working directory of file-backed runs: created if absent; run files
    // a crashed store left there are removed (one store per directory).
    void prepare_directory() {
        std::vector<std::string> names;
        try {
            make_directories(opt_.directory);
            names = list_directory(opt_.directory);
        } catch (const io_error& e) {
            throw io_error("memkv: directory '" + opt_.directory + "': " + strip_paths(e.what()));
        }
        for (const std::string& f : names) {
            if (f.size() >= 20 && f.compare(0, 4, "run-") == 0 &&
                f.substr(4, 16).find_first_not_of("0123456789abcdef") == std::string::npos) {
                remove_file_noexcept(opt_.directory + "/" + f);
            }
        }
    }

    // The file an earlier save wrote for `key` (a run layer or filter), if
    // it is still in `dir` unchanged - the same inode and size, so not
    // replaced or truncated since - and, when `name` is given, still has
    // that name. Recorded in `still` for the next save.
    const saved_file* still_saved(std::uint64_t key, const std::string& dir, const std::string* name,
                                  std::map<std::uint64_t, saved_file>& still) const {
        auto it = saved_.find(key);
        if (it == saved_.end() || (name != nullptr && it->second.name != *name)) return nullptr;
        struct ::stat st {};
        if (!stat_noexcept(dir + "/" + it->second.name, st) || st.st_dev != it->second.dev ||
            st.st_ino != it->second.ino || st.st_size != it->second.size) {
            return nullptr;
        }
        return &(still[key] = it->second);
    }

    // Writes (or names again, or hard-links) one run layer into a checkpoint
    // directory; returns its file name there.
    std::string save_layer(const base_type& layer, const std::string& source, std::uint64_t key,
                           const std::string& dir, const std::string& name, std::vector<std::string>& created,
                           std::map<std::uint64_t, saved_file>& still) {
        if (const saved_file* f = still_saved(key, dir, nullptr, still)) return f->name;
        const std::string file = name + ".run." + hex16(next_id());
        const std::string where = dir + "/" + file;
        // Listed before it exists: a push_back that throws after the link
        // would leave a file no failure path removes.
        created.push_back(where);
        bool linked = false;
        if (!source.empty()) linked = link_file_noexcept(source, where);  // same file system: no copy
        if (!linked) layer.save(where);  // through where + ".tmp", removed on failure
        fsync_path(where, false);
        struct ::stat st {};
        if (!stat_noexcept(where, st)) throw_io("cannot stat", where);
        still[key] = saved_file{file, st.st_dev, st.st_ino, st.st_size};
        return file;
    }

    // Writes run r's filter as `file` in dir (or names the one an earlier
    // save wrote), like save_layer.
    void save_filter(const run_type& r, const std::string& file, std::uint64_t key, const std::string& dir,
                     std::vector<std::string>& created, std::map<std::uint64_t, saved_file>& still) {
        if (still_saved(key, dir, &file, still) != nullptr) return;
        const std::string where = dir + "/" + file;
        // A file of that name is this run's filter, saved by a save this
        // store no longer remembers (one that failed after writing it): it
        // is replaced, but a failure here must not remove what the previous
        // checkpoint reads.
        struct ::stat before {};
        if (!stat_noexcept(where, before)) created.push_back(where);
        const std::string tmp = where + ".tmp";
        created.push_back(tmp);
        r.filter->save(tmp, run_fingerprint(r));
        rename_file(tmp, where);
        created.pop_back();
        struct ::stat st {};
        if (!stat_noexcept(where, st)) throw_io("cannot stat", where);
        still[key] = saved_file{file, st.st_dev, st.st_ino, st.st_size};
    }

    // What a saved filter must carry to be taken for run r's: CRC-32C of each
    // layer's header, which holds its key count and payload checksum.
    static std::uint64_t run_fingerprint(const run_type& r) {
        auto header = [](const base_type* l) -> std::uint64_t {
            if (l == nullptr) return 0;
            const auto b = l->bytes();
            return crc32c(b.data(), std::min<std::size_t>(b.size(), frozen_header_size));
        };
        return header(r.live.get()) | header(r.tombstones.get()) << 32;
    }

    std::optional<V> get_locked(std::string_view key) const {
        hybrid_key_probe probe(key);
        prefetch_below_locked(probe, false);  // overlaps the descent below
        if (const slot_type* cur = std::as_const(*active_).get_if(key)) {
            if (!cur->live) return std::nullopt;
            return cur->value;
        }
        ask_gate_locked(probe);
        if (probe.absent_below()) return std::nullopt;
        return layers_get(*layers_, probe);
    }

    // The caller holds mu_ exclusively.
    std::size_t erase_locked(std::string_view key) {
        hybrid_key_probe probe(key);
        prefetch_below_locked(probe, true);  // overlaps the descent below
        if (slot_type* cur = active_->get_if(key)) {
            if (!cur->live) return 0;
            // Nothing underneath to hide: dropping the entry is enough.
            if (cur->below) {
                cur->live = false;
                cur->value = V{};
            } else {
                active_->erase(key);
            }
        } else {
            if (!visible_below_locked(probe)) return 0;
            active_->insert(key, slot_type{V{}, false, true});
            note_key_locked(probe);
        }
        MEMKV_ASSERT(size_.load(std::memory_order_relaxed) > 0);  // size never underflows
        size_.fetch_sub(1, std::memory_order_relaxed);
        return 1;
    }

    // Whether the key is visible in the sealed deltas and runs. The caller
    // holds mu_.
    bool visible_below_locked(hybrid_key_probe& probe) const {
        if (layers_->sealed.empty() && layers_->runs.empty()) return false;
        ask_gate_locked(probe);
        if (probe.absent_below()) return false;
        return layers_contain(*layers_, probe);
    }

    // Starts loading what a lookup of the probe's key under the active delta
    // reads first: the gate's line when there is a gate (one line, instead
    // of one per sealed delta and run: at 10^8 keys those were a quarter of
    // the inserting thread's time in the last tenth; bench/RESULTS.md,
    // fourteenth session), else every layer's filter line. `for_add`: the
    // writer sets bits in that line if the key is new. The caller holds mu_.
    void prefetch_below_locked(hybrid_key_probe& probe, bool for_add) const noexcept {
        if (gate_) {
            if (for_add) {
                gate_->prefetch_for_add(probe.hash());
            } else {
                gate_->prefetch(probe.hash());
            }
        } else {
            layers_prefetch(*layers_, probe);
        }
    }

    // Asks the gate whether any sealed delta or run may hold the probe's key
    // (once per probe; no gate: maybe). The caller holds mu_.
    void ask_gate_locked(hybrid_key_probe& probe) const noexcept {
        using answer = hybrid_key_probe::gate_answer;
        if (!gate_ || probe.gate() != answer::unasked) return;
        probe.set_gate(gate_->may_contain(probe.hash()) ? answer::maybe : answer::absent);
    }

    // Adds a key that just entered the active delta to its filter; past
    // hybrid_active_filter_from keys in a store with runs, first makes that
    // filter and adds the keys already there. It takes the keys the last
    // delta held when it was sealed at compaction_bytes, plus a quarter
    // (memory_usage() grows by chunks, so bytes per key measured early
    // mislead), or compaction_bytes / 32 before any. A delta that
    // outgrows it loses it (its seal goes without; the flusher builds one).
    // Never throws: out of memory, the delta goes without. The caller holds
    // mu_ exclusively.
    void note_key_locked(hybrid_key_probe& probe) noexcept {
        note_gate_locked(probe);
        if (active_filter_) {
            if (active_->size() <= active_filter_cap_) {
                active_filter_->add(probe.hash());
            } else {
                active_filter_.reset();
            }
            return;
        }
        // Nor before the first flush: a store that has never flushed pays for
        // no filter (a hash and a cache miss per new key took 14% off
        // inserts into a 236k-key store; bench/RESULTS.md, eleventh session).
        if (active_filter_tried_ || active_->size() < hybrid_active_filter_from ||
            layers_->runs.empty())
            return;
        active_filter_tried_ = true;
        if (opt_.compaction_bytes == 0) return;  // no byte trigger to size it by
        const std::size_t cap = seal_keys_ != 0 ? seal_keys_ + seal_keys_ / 4 : opt_.compaction_bytes / 32;
        if (cap < active_->size()) return;
        try {
            // Sized for the keys of the last seal, not for the cap: the
            // flush of this delta alone gives its filter to the level-0 run
            // (merge_into_run), which then costs what a filter built for it
            // would. A delta that grows past the last one's size meets a
            // filter with fewer bits per key, down to 14.4 at the cap.
            auto f = std::make_unique<hybrid_filter>(seal_keys_ != 0 ? seal_keys_ : cap,
                                                     hybrid_filter::small_bits_per_key);
            hybrid_filter_add_keys(*f, *active_, [] { return false; });
            active_filter_ = std::move(f);
            active_filter_cap_ = cap;
        } catch (const std::bad_alloc&) {
        }
    }

    // Adds a key that just entered the active delta to the gate (and queues
    // it for the one being built), and asks for a new gate when there is none yet in a
    // store with runs, or when this one took more keys than it was sized
    // for. The caller holds mu_ exclusively.
    void note_gate_locked(hybrid_key_probe& probe) noexcept {
        if (!gate_enabled()) return;
        // A key the gate admits already has its bits set (an update of a
        // key below, an insert() that finds it there): not counted. The
        // answer is usually in the probe already (insert, erase ask first).
        ask_gate_locked(probe);
        if (probe.absent_below()) {
            gate_->add(probe.hash());
            ++gate_adds_;
        }
        if (gate_next_ && !gate_pending_lost_) {
            // The builder adds these after its pass (build_gate).
            try {
                gate_pending_.push_back(probe.hash());
            } catch (const std::bad_alloc&) {
                gate_pending_lost_ = true;  // that gate is dropped
            }
        }
        want_gate_if_due_locked();
    }

    // Asks gate_thread_ for a gate when there is none in a store with two
    // runs or more, or when the gate took more keys than it was sized for.
    // The caller holds mu_ exclusively.
    void want_gate_if_due_locked() noexcept {
        if (gate_enabled() && (gate_ ? gate_adds_ > gate_cap_ : layers_->runs.size() >= 2)) {
            gate_wanted_.store(true, std::memory_order_relaxed);
        }
    }

    // Drops the gate (a build in flight is not installed: gate_epoch_).
    // The caller holds mu_ exclusively.
    void drop_gate_locked() noexcept {
        gate_.reset();
        gate_cap_ = gate_adds_ = 0;
        ++gate_epoch_;
    }

    bool gate_enabled() const noexcept { return opt_.background_compaction && opt_.gate_bits_per_key != 0; }

    void drop_active_filter_locked() noexcept {
        active_filter_.reset();
        active_filter_cap_ = 0;
        active_filter_tried_ = false;
    }

    // The caller holds mu_ exclusively and has checked the sealed bound.
    void seal_locked() {
        if (active_->size() == 0) return;
        auto next = std::make_shared<layers_type>();
        next->runs = layers_->runs;
        next->sealed.reserve(layers_->sealed.size() + 1);
        auto fresh = std::make_unique<delta_type>();
        MEMKV_ASSERT(!active_filter_ || hybrid_filter_admits_keys(*active_filter_, *active_));
        // Has no effect if it throws (its control block): active_ stays.
        std::shared_ptr<const delta_type> sealed(std::move(active_));
        // Nothing below allocates (reserved) or throws.
        if (gate_wait_for_ == sealed.get()) {
            gate_caught_ = sealed;
            gate_wait_for_ = nullptr;
        }
        if (active_full_locked()) seal_keys_ = sealed->size();
        if (active_filter_) sealed->attach_filter(std::move(active_filter_));
        drop_active_filter_locked();
        next->sealed.push_back(std::move(sealed));
        next->sealed.insert(next->sealed.end(), layers_->sealed.begin(), layers_->sealed.end());
        active_ = std::move(fresh);
        sealed_keys_ += next->sealed.front()->size();
        sealed_bytes_ += next->sealed.front()->memory_usage();
        active_bytes_ = 0;
        layers_ = std::move(next);
        MEMKV_ASSERT(layers_->sealed.size() <= opt_.max_sealed_deltas);
    }

    // After a write (mu_ held exclusively): whether the deltas call for a
    // flush, or are so far over that the writer should wait for one.
    pressure pressure_locked() {
        ++writes_;
        if (!opt_.background_compaction) return pressure::none;
        // memory_usage() may walk the tree's allocator state; sample it.
        if (writes_ % 64 == 0) active_bytes_ = active_->memory_usage();
        // The writer's own seal when the active delta's filter is ready:
        // O(#layers), so it never waits for a flusher busy flushing (the
        // tree it inserts into stays at most compaction_bytes; DESIGN.md,
        // "Who seals").
        // Out of memory it does not seal (the write itself is done; the
        // flusher seals later).
        if (active_filter_ && active_full_locked() && layers_->sealed.size() + 1 < opt_.max_sealed_deltas) {
            try {
                seal_locked();
                ++writer_seals_;
            } catch (const std::bad_alloc&) {
            }
        }
        if (!flush_called_for_locked()) return pressure::none;
        if (deltas_over_locked(2) && flushing_.load(std::memory_order_relaxed)) return pressure::wait;
        return flush_requested_.load(std::memory_order_relaxed) ? pressure::none : pressure::flush;
    }

    // Whether the deltas call for the flusher: over the trigger, or the
    // active delta due for its seal, or the sealed ones short of room. Until
    // a seal or a flush answers it, more writes keep it true. The caller
    // holds mu_ (either side).
    bool flush_called_for_locked() const noexcept {
        return deltas_over_locked(1) || active_over_floor_locked() ||
               (trigger_grown_locked() && sealed_room_low_locked());
    }

    // Whether the trigger has grown past compaction_bytes and the active
    // delta alone reached compaction_bytes with room to seal it: the flusher
    // then seals it (and builds its filter) without flushing yet, so writers
    // keep inserting into a tree of at most compaction_bytes - a random
    // insert into a 256 MiB tree cost the writer 2.7x one into a 64 MiB tree
    // (bench/RESULTS.md, tenth session). The caller holds mu_.
    bool active_over_floor_locked() const noexcept {
        return trigger_grown_locked() && active_full_locked() && layers_->sealed.size() < opt_.max_sealed_deltas;
    }

    // The active delta (as last sampled) reached compaction_bytes.
    bool active_full_locked() const noexcept {
        return opt_.compaction_bytes != 0 && active_bytes_ >= opt_.compaction_bytes;
    }
    // The byte trigger grew past compaction_bytes (compaction_base_divisor).
    bool trigger_grown_locked() const noexcept {
        return opt_.compaction_bytes != 0 && flush_bytes_ > opt_.compaction_bytes;
    }
    // The sealed deltas leave no room for another seal plus a scan's.
    bool sealed_room_low_locked() const noexcept { return layers_->sealed.size() + 2 > opt_.max_sealed_deltas; }

    bool flush_called_for() const {
        std::shared_lock lock(mu_);
        return flush_called_for_locked();
    }

    // After the flusher sealed: whether to flush now. Not while the deltas
    // are under the trigger and the sealed ones leave room for another seal
    // plus one for scans (see active_over_floor_locked).
    bool flush_due() const {
        std::shared_lock lock(mu_);
        return deltas_over_locked(1) || sealed_room_low_locked() || !trigger_grown_locked();
    }

    // Whether the deltas (active, as last sampled, plus sealed) hold `times`
    // x the flush trigger. The caller holds mu_ (either side).
    bool deltas_over_locked(std::size_t times) const noexcept {
        const std::size_t keys = active_->size() + sealed_keys_;
        const std::size_t bytes = active_bytes_ + sealed_bytes_;
        return (opt_.compaction_keys != 0 && keys >= times * opt_.compaction_keys) ||
               (opt_.compaction_bytes != 0 && bytes >= times * flush_bytes_);
    }

    void relieve(pressure p) {
        if (p == pressure::none) return;
        if (p == pressure::flush) {
            wake_flusher();
            return;
        }
        // Backpressure: the deltas are twice the flush size and a flush is
        // running; wait for it to finish (it seals what accumulated next).
        backpressure_waits_.fetch_add(1, std::memory_order_relaxed);
        std::unique_lock guard(cv_mu_);
        const std::uint64_t epoch = flush_epoch_;
        done_cv_.wait(guard, [&] { return flush_epoch_ != epoch || stop_ || !flushing_.load(); });
        guard.unlock();
        wake_flusher();
    }

    // The stack a flush or compact() merges: the active delta sealed first,
    // unless the sealed deltas are at their bound (then it waits for the
    // next pass; *all, if given, says whether every write is in the stack).
    // The caller holds delta_mu_.
    layers_ptr seal_for_merge(bool* all = nullptr) {
        hybrid_priority_lock priority(mu_);
        std::unique_lock lock(priority);
        if (layers_->sealed.size() < opt_.max_sealed_deltas) seal_locked();
        if (all != nullptr) *all = active_->size() == 0;
        return layers_;
    }

    // Merges the two adjacent sealed deltas with the fewest entries (the
    // caller holds delta_mu_ and found the sealed deltas at their bound).
    // Tombstones with nothing below the older of the two are dropped.
    void merge_smallest_sealed_pair() {
        layers_ptr input;
        {
            std::shared_lock lock(mu_);
            input = layers_;
        }
        const auto& sealed = input->sealed;
        if (sealed.size() < opt_.max_sealed_deltas) return;  // a flush made room meanwhile
        std::size_t best = 0;
        for (std::size_t i = 1; i + 1 < sealed.size(); ++i) {
            if (sealed[i]->size() + sealed[i + 1]->size() < sealed[best]->size() + sealed[best + 1]->size()) best = i;
        }
        auto merged = std::make_shared<delta_type>();
        {
            const hybrid_scan_origin<V> origin(std::span<const delta_ptr>(sealed.data() + best, 2),
                                               std::span<const run_ptr>(), scan_bounds{});
            hybrid_merge_cursor<V> cursor(origin);
            for (bool ok = cursor.seek_first(); ok; ok = cursor.next()) {
                if (!cursor.slot().live && !cursor.slot().below) continue;
                merged->insert(cursor.key(), cursor.slot());
            }
        }
        const std::size_t entries = merged->size();
        layers_ptr old;
        {
            hybrid_priority_lock priority(mu_);
            std::unique_lock lock(priority);
            auto next = std::make_shared<layers_type>();
            next->runs = layers_->runs;
            const auto& cur = layers_->sealed;
            for (std::size_t i = 0; i < cur.size(); ++i) {
                if (cur[i] == sealed[best]) {
                    MEMKV_ASSERT(i + 1 < cur.size() && cur[i + 1] == sealed[best + 1]);
                    if (entries != 0) next->sealed.push_back(merged);
                    ++i;
                } else {
                    next->sealed.push_back(cur[i]);
                }
            }
            old = std::exchange(layers_, std::move(next));
            recount_locked();
        }
        delta_merges_.fetch_add(1, std::memory_order_relaxed);
        delta_merge_entries_.fetch_add(entries, std::memory_order_relaxed);
    }

    // The sealed deltas' totals and the byte trigger, after a swap; the
    // caller holds mu_ exclusively.
    void recount_locked() {
        sealed_keys_ = 0;
        sealed_bytes_ = 0;
        for (const auto& d : layers_->sealed) {
            sealed_keys_ += d->size();
            sealed_bytes_ += d->memory_usage();
        }
        retrigger_locked();
        // A flush that made the second run asks for the first gate itself
        // (writes may have stopped before it ended).
        want_gate_if_due_locked();
    }

    // The byte trigger for the current runs (hybrid_options::
    // compaction_base_divisor); the caller holds mu_ exclusively.
    void retrigger_locked() {
        flush_bytes_ = opt_.compaction_bytes;
        if (opt_.compaction_base_divisor == 0) return;
        std::size_t run_bytes = 0;
        for (const auto& r : layers_->runs) run_bytes += r->image_bytes();
        const std::size_t grown = std::min(run_bytes / opt_.compaction_base_divisor, opt_.compaction_bytes_max);
        flush_bytes_ = std::max(flush_bytes_, grown);
    }

    // The level a run of `keys` keys would have if it had grown by merges of
    // run_fanout runs from flush-sized ones (for runs whose history is lost:
    // a base of an old checkpoint).
    unsigned level_for(std::size_t keys) const {
        const std::size_t per_flush = std::max<std::size_t>(opt_.compaction_bytes / 48, 1024);
        unsigned level = 0;
        for (std::size_t n = per_flush * opt_.run_fanout; n <= keys && level < 60; n *= opt_.run_fanout) ++level;
        return level;
    }

    static std::size_t filter_bits(unsigned level) noexcept {
        return level < hybrid_small_filter_levels ? hybrid_filter::small_bits_per_key : hybrid_filter::bits_per_key;
    }

    // The filter of sealed delta `d` when a level-`level` run made of d alone
    // can keep it: every key the run holds is one of d's (a flush drops
    // keys, never adds any), and its size is near what a filter built for
    // the run would get - at least 14 bits per key, at most a quarter over
    // the level's. Then the flush neither hashes its keys again nor fills a
    // filter (a random cache line per key). Null otherwise.
    static std::shared_ptr<const hybrid_filter> reusable_filter(const delta_type& d, unsigned level) {
        std::shared_ptr<const hybrid_filter> f = d.shared_filter();
        if (!f) return nullptr;
        const std::size_t most = hybrid_filter::blocks_for(d.size(), filter_bits(level));
        if (f->blocks() < hybrid_filter::blocks_for(d.size(), hybrid_filter::bits_per_key) || f->blocks() > most + most / 4) {
            return nullptr;
        }
        return f;
    }

    // The hint of a run's mappings for its point reads
    // (hybrid_options::random_access_runs), set before the run is shared.
    void set_access(run_type& r) const noexcept {
        r.random_access = opt_.random_access_runs;
        r.advise_idle();
    }

    std::unique_ptr<const hybrid_filter> build_filter(const run_type& r) const {
        auto f = std::make_unique<hybrid_filter>(r.keys(), filter_bits(r.level));
        const hybrid_run_scan<run_type> scan({&r});
        for (const auto* layer : {r.live.get(), r.tombstones.get()}) {
            if (layer != nullptr) hybrid_filter_add_keys(*f, *layer, [] { return false; });
        }
        return f;
    }

    // Merges sealed deltas [0, n_sealed) of `input` (its oldest ones when
    // n_sealed == input->sealed.size()) and runs [run_lo, run_hi) into one
    // new run, then swaps it in for exactly those layers. Returns false when
    // abandoned (destruction, or a compact() that takes over).
    // `runner`: the niced thread to build in (null: this thread).
    // `bottom_hint`: whether run_hi is the oldest run of the store (-1: it is
    // when it is input's last).
    bool merge_into_run(const layers_ptr& input, std::size_t n_sealed, std::size_t run_lo, std::size_t run_hi,
                        bool background, compact_kind kind, int level_hint = -1,
                        hybrid_niced_runner* runner = nullptr, int bottom_hint = -1) {
        const auto start = std::chrono::steady_clock::now();
        running_.fetch_add(1, std::memory_order_relaxed);
        struct running_reset {
            std::atomic<int>& n;
            ~running_reset() { n.fetch_sub(1, std::memory_order_relaxed); }
        } reset{running_};

        const std::span<const delta_ptr> deltas(input->sealed.data() + (input->sealed.size() - n_sealed), n_sealed);
        const std::span<const run_ptr> runs(input->runs.data() + run_lo, run_hi - run_lo);
        // Tombstones die when nothing older survives the merge.
        const bool bottom = bottom_hint >= 0 ? bottom_hint != 0 : run_hi == input->runs.size();
        std::size_t expected = 0;
        std::size_t input_bytes = 0;
        unsigned level = 0;
        for (const auto& d : deltas) expected += d->size();
        for (const auto& r : runs) {
            expected += r->keys();
            input_bytes += r->image_bytes();
            level = std::max(level, r->level);
        }
        if (kind == compact_kind::runs) ++level;
        if (kind == compact_kind::full) level = std::max(level, level_for(expected));
        if (level_hint >= 0) level = static_cast<unsigned>(level_hint);

        auto run = std::make_shared<run_type>();
        run->id = next_id();
        run->level = level;
        // Owned from the start: when the tombstone layer fails after the
        // live one was written, the run's destruction removes that file.
        run->owned = !opt_.directory.empty();
        bool aborted = false;
        std::size_t live_keys = 0;
        auto build = [&] {
            frozen_layer_options fo = opt_.frozen;
            fo.registry_rows = std::min(fo.registry_rows, std::max<std::size_t>(std::bit_ceil(expected), 256));
            if (kind != compact_kind::full && level < opt_.fast_build_levels) {
                // A draft run: merged again soon, so built with a registry
                // that fits in a core's cache (DESIGN.md, "Draft runs").
                fo.registry_rows = std::min<std::size_t>(fo.registry_rows, hybrid_draft_registry_rows);
            }
            const bool files = !opt_.directory.empty();
            // Hints only where the inputs give an estimate (runs): the image
            // then grows without remapping (a huge_buffer never copies, and
            // gives back what the image did not use at finish()).
            if (!files && input_bytes != 0) {
                fo.expected_keys = expected;
                fo.expected_bytes = input_bytes + (std::size_t{64} << 10);
            }
            const std::string stem = files ? opt_.directory + "/run-" + hex16(run->id) : std::string();
            std::optional<FrozenLayerBuilder<V>> live;
            std::optional<FrozenLayerBuilder<V>> tomb;
            auto make = [&](std::optional<FrozenLayerBuilder<V>>& b, const char* suffix) {
                if (files) {
                    b.emplace(stem + suffix, fo);
                } else {
                    b.emplace(fo);
                }
            };
            std::unique_ptr<hybrid_filter> filter;
            std::shared_ptr<const hybrid_filter> reused;
            // Every run gets a filter but the one compact() leaves alone: in
            // a growing store the oldest run is the biggest, and without a
            // filter every insert of a new key (insert() must know it is new)
            // and every miss walks it - at 10^9 keys that walk was half the
            // inserting thread's time. A store compacted into one run has to
            // walk it anyway and keeps its memory.
            if (!(bottom && kind == compact_kind::full)) {
                if (kind == compact_kind::flush && runs.empty() && deltas.size() == 1) {
                    reused = reusable_filter(*deltas.front(), level);
                }
                if (!reused) filter = std::make_unique<hybrid_filter>(expected, filter_bits(level));
            }
            std::optional<hybrid_filter_batch> feed;
            if (filter) feed.emplace(*filter);
            std::size_t steps = 0;
            std::size_t tomb_keys = 0;
            struct abandoned {};
            auto take = [&](std::string_view key, const slot_type& slot) {
                if ((++steps & 4095U) == 0 &&
                    (stopping_.load(std::memory_order_relaxed) ||
                     (background && preempt_.load(std::memory_order_relaxed) != 0))) {
                    throw abandoned{};
                }
                if (slot.live) {
                    if (!live) make(live, ".frz");
                    live->insert(key, slot.value);
                    ++live_keys;
                } else {
                    // A tombstone from a delta hides something only if its
                    // oldest delta entry says so; one from a run, unless the
                    // oldest run takes part.
                    if (bottom || (runs.empty() && !slot.below)) return;
                    if (!tomb) make(tomb, ".tomb.frz");
                    tomb->insert(key, V{});
                    ++tomb_keys;
                }
                if (feed) feed->add(hybrid_key_hash(key));
            };
            std::vector<const run_type*> sources;
            for (const run_ptr& r : runs) sources.push_back(r.get());
            const hybrid_run_scan<run_type> scan(std::move(sources));
            try {
                if (runs.empty() && deltas.size() == 1) {
                    // The usual flush: one sealed delta, read by a walk of
                    // its tree (one path stack) rather than an iterator under
                    // the merge cursor: 2.7-7.9x faster on seven key shapes
                    // (bench/RESULTS.md, sixteenth session).
                    deltas.front()->for_each(take);
                } else {
                    const hybrid_scan_origin<V> origin(deltas, runs, scan_bounds{});
                    hybrid_merge_cursor<V> cursor(origin);
                    for (bool ok = cursor.seek_first(); ok; ok = cursor.next()) take(cursor.key(), cursor.slot());
                }
            } catch (const abandoned&) {
                if (feed) feed->drop();
                aborted = true;
                return;
            }
            if (feed) feed->finish();
            if (live) {
                run->live = std::make_shared<const base_type>(live->finish());
                if (files) run->live_path = stem + ".frz";
            }
            if (tomb) {
                run->tombstones = std::make_shared<const base_type>(tomb->finish());
                if (files) run->tomb_path = stem + ".tomb.frz";
            }
            set_access(*run);
            if (live_keys + tomb_keys != 0) {
                if (filter) run->filter = std::move(filter);
                if (reused) {
                    run->filter = std::move(reused);
                    filters_shared_.fetch_add(1, std::memory_order_relaxed);
                }
            }
        };
        run_in(runner, build);
        if (aborted) return false;

        const std::size_t written = run->image_bytes();
        const bool empty = run->keys() == 0;
        const auto swap_start = std::chrono::steady_clock::now();
        layers_ptr old;
        {
            hybrid_priority_lock priority(mu_);
            std::unique_lock lock(priority);
            auto next = std::make_shared<layers_type>();
            const auto& cur = *layers_;
            // Sealed deltas: the merged ones are the oldest suffix (only the
            // holder of delta_mu_ removes any; seals push at the front).
            MEMKV_ASSERT(cur.sealed.size() >= n_sealed);
            next->sealed.assign(cur.sealed.begin(), cur.sealed.end() - static_cast<std::ptrdiff_t>(n_sealed));
            // Runs: the merged ones are found by identity (flushes may have
            // pushed newer runs at the front meanwhile).
            std::size_t at = cur.runs.size();
            if (!runs.empty()) {
                for (std::size_t i = 0; i < cur.runs.size(); ++i) {
                    if (cur.runs[i] == runs.front()) {
                        at = i;
                        break;
                    }
                }
                MEMKV_ASSERT(at + runs.size() <= cur.runs.size());
            } else {
                // A flush: the new run goes in front of every run.
                at = 0;
            }
            next->runs.reserve(cur.runs.size() + 1);
            next->runs.insert(next->runs.end(), cur.runs.begin(), cur.runs.begin() + static_cast<std::ptrdiff_t>(at));
            if (!empty) next->runs.push_back(run);
            next->runs.insert(next->runs.end(), cur.runs.begin() + static_cast<std::ptrdiff_t>(at + runs.size()),
                              cur.runs.end());
            old = std::exchange(layers_, std::move(next));
            recount_locked();
        }
        const auto swap_end = std::chrono::steady_clock::now();
        last_lock_ns_.store((swap_end - swap_start).count(), std::memory_order_relaxed);
        bytes_written_.fetch_add(written, std::memory_order_relaxed);
        compactions_.fetch_add(1, std::memory_order_relaxed);
        if (kind == compact_kind::flush) flushes_.fetch_add(1, std::memory_order_relaxed);
        if (kind == compact_kind::runs) run_merges_.fetch_add(1, std::memory_order_relaxed);
        std::size_t merged_bytes = 0;
        for (const auto& d : deltas) merged_bytes += d->memory_usage();
        for (const auto& r : runs) merged_bytes += r->file_backed() ? 0 : r->memory_usage();
        old.reset();
        // The merged layers die here unless a snapshot holds them. Trimming
        // walks the allocator's arenas: worth it only after big merges.
        if (opt_.release_memory && merged_bytes >= (std::size_t{8} << 20)) release_free_memory();
        last_duration_ns_.store(
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count(),
            std::memory_order_relaxed);
        last_keys_.store(live_keys, std::memory_order_relaxed);
        last_finished_.store(std::chrono::system_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
        return true;
    }

    // The tiering policy over the current runs (hybrid_pick_runs); the
    // caller holds runs_mu_.
    hybrid_run_pick pick_runs(const layers_type& l) const {
        std::vector<hybrid_run_state> state(l.runs.size());
        for (std::size_t k = 0; k < l.runs.size(); ++k) {
            state[k] = {l.runs[k]->level,
                        std::find(claimed_.begin(), claimed_.end(), l.runs[k].get()) != claimed_.end()};
        }
        // The last free lane takes small merges only.
        const bool last_lane = opt_.merge_threads > 1 && big_merges_ + 1 >= opt_.merge_threads;
        return hybrid_pick_runs(state, opt_.run_fanout, opt_.max_runs,
                                last_lane ? hybrid_big_merge_level - 1 : ~0U);
    }

    // ---- background threads ------------------------------------------------

    void wake_flusher() {
        {
            std::lock_guard guard(cv_mu_);
            flush_requested_.store(true, std::memory_order_relaxed);
        }
        cv_.notify_all();
    }

    void wake_merger() {
        {
            std::lock_guard guard(cv_mu_);
            ++merge_wake_;
        }
        cv_.notify_all();
    }

    void run_flusher() {
        std::unique_lock guard(cv_mu_);
        for (;;) {
            bool idle = false;
            if (!cv_.wait_for(guard, hybrid_idle_flush_period,
                              [this] { return stop_ || flush_requested_.load(std::memory_order_relaxed); })) {
                if (!idle_flush_due()) continue;
                flush_requested_.store(true, std::memory_order_relaxed);
                idle = true;
            }
            if (stop_) return;
            flushing_.store(true, std::memory_order_relaxed);  // writers far over the threshold wait
            // Hold a flush while the runs are at their bound: the merger is
            // behind, and more runs would slow every lookup.
            if (runs_at_bound()) {
                ++merge_wake_;
                cv_.notify_all();
                cv_.wait_for(guard, std::chrono::milliseconds(50));
                continue;
            }
            flush_requested_.store(false, std::memory_order_relaxed);
            guard.unlock();
            try {
                // A request can be stale: while a flush runs, the sealed
                // deltas it merges still count, so writes during it ask
                // again; and a writer's wake comes after it unlocked mu_,
                // possibly after the flush it called for began (through the
                // check at the end of a pass). Sealing on such a request
                // took the active delta before its writer's seal at
                // compaction_bytes, and flushed it early while the trigger
                // had not grown (the checkpoint tests saw an extra run;
                // bench/RESULTS.md, twenty-second session).
                if (idle || flush_called_for()) {
                    std::lock_guard delta_guard(delta_mu_);
                    const layers_ptr input = seal_for_merge();
                    run_in(flush_niced_.get(), [&] { filter_sealed(*input); });
                    if (!input->sealed.empty() && (idle || flush_due())) {
                        merge_into_run(input, input->sealed.size(), 0, 0, true, compact_kind::flush, -1,
                                       flush_niced_.get());
                    }
                }
            } catch (...) {
                // The store stays correct (nothing was swapped in); count it.
                failed_.fetch_add(1, std::memory_order_relaxed);
            }
            guard.lock();
            flushing_.store(false, std::memory_order_relaxed);
            ++flush_epoch_;
            ++merge_wake_;
            // Deltas that grew past the threshold during the flush go next.
            {
                std::shared_lock lock(mu_);
                if (deltas_over_locked(1) || active_over_floor_locked())
                    flush_requested_.store(true, std::memory_order_relaxed);
            }
            done_cv_.notify_all();
            cv_.notify_all();
        }
    }

    // Runs job() in `runner` (a niced helper) or, when null, in this thread.
    template <class F>
    static void run_in(hybrid_niced_runner* runner, F&& job) {
        if (runner != nullptr) {
            runner->run(std::forward<F>(job));
        } else {
            job();
        }
    }

    // Gives the sealed deltas of `input` that have none their filter
    // (layers.hpp, hybrid_delta) before the flush merges them: the flush
    // takes seconds, the filter a pass over the keys. The caller holds
    // delta_mu_, so no other thread attaches one. A filter is an
    // optimization: out of memory, the delta goes without.
    void filter_sealed(const layers_type& input) {
        try {
            for (const delta_ptr& d : input.sealed) {
                if (d->filter() != nullptr || d->size() == 0) continue;
                // Abandoned like a merge (the destructor's latency bound).
                auto f = hybrid_delta_filter(*d, [this] { return stopping_.load(std::memory_order_relaxed); });
                if (!f) return;
                d->attach_filter(std::move(f));
            }
        } catch (const std::bad_alloc&) {
        }
    }

    // Whether no write came since the flusher's last look (a period ago) and
    // the deltas hold at least compaction_bytes that the grown trigger lets
    // wait. Only the flusher calls it.
    bool idle_flush_due() {
        std::shared_lock lock(mu_);
        const bool paused = writes_ == idle_seen_writes_;
        idle_seen_writes_ = writes_;
        if (!paused || !trigger_grown_locked()) return false;
        return active_->memory_usage() + sealed_bytes_ >= opt_.compaction_bytes;
    }

    bool runs_at_bound() const {
        std::shared_lock lock(mu_);
        return layers_->runs.size() >= opt_.max_runs;
    }

    // One merger thread: claims the next due merge's runs, merges them in
    // `runner` (its niced helper, or itself; `big_runner`, niced further,
    // for merges whose result is hybrid_big_merge_level or up), gives the
    // claims back.
    void run_merger(hybrid_niced_runner* runner, hybrid_niced_runner* big_runner) {
        std::unique_lock guard(cv_mu_);
        std::uint64_t seen = 0;
        for (;;) {
            cv_.wait(guard, [&] { return stop_ || merge_wake_ != seen; });
            if (stop_) return;
            seen = merge_wake_;
            guard.unlock();
            try {
                for (;;) {
                    if (stopping_.load(std::memory_order_relaxed) || preempt_.load(std::memory_order_relaxed) != 0) {
                        break;
                    }
                    // The merge holds its own runs only: a snapshot of the
                    // whole stack kept every run the other lanes merged away
                    // meanwhile (files, mappings) alive for the whole of a
                    // long merge.
                    std::shared_ptr<layers_type> mine;
                    hybrid_run_pick pick;
                    bool bottom = false;
                    bool big = false;
                    {
                        std::lock_guard runs_guard(runs_mu_);
                        // compact() may have come in since the check above.
                        if (preempt_.load(std::memory_order_relaxed) != 0) break;
                        layers_ptr input;
                        {
                            std::shared_lock lock(mu_);
                            input = layers_;
                        }
                        pick = pick_runs(*input);
                        if (pick.lo == pick.hi) break;
                        bottom = pick.hi == input->runs.size();
                        // Allocations first: once claimed, the runs must be
                        // released by `release` below, whatever throws.
                        mine = std::make_shared<layers_type>();
                        mine->runs.assign(input->runs.begin() + static_cast<std::ptrdiff_t>(pick.lo),
                                          input->runs.begin() + static_cast<std::ptrdiff_t>(pick.hi));
                        claimed_.reserve(claimed_.size() + mine->runs.size());
                        for (const run_ptr& r : mine->runs) claimed_.push_back(r.get());
                        big = pick.level >= hybrid_big_merge_level;
                        if (big) ++big_merges_;
                    }
                    struct unclaim {
                        hybrid_engine& e;
                        const layers_type& mine;
                        bool big;
                        ~unclaim() {
                            {
                                std::lock_guard runs_guard(e.runs_mu_);
                                for (const run_ptr& r : mine.runs) {
                                    e.claimed_.erase(std::find(e.claimed_.begin(), e.claimed_.end(), r.get()));
                                }
                                if (big) --e.big_merges_;
                            }
                            e.claims_cv_.notify_all();
                        }
                    } release{*this, *mine, big};
                    if (!merge_into_run(mine, 0, 0, mine->runs.size(), true, compact_kind::runs,
                                        static_cast<int>(pick.level), big ? big_runner : runner,
                                        bottom ? 1 : 0)) {
                        break;
                    }
                    wake_merger();  // a flusher held at the bound may go on; other mergers may find work
                }
            } catch (...) {
                failed_.fetch_add(1, std::memory_order_relaxed);
            }
            guard.lock();
        }
    }

    // The gate's thread: builds a gate when the writers ask for one (none
    // yet, or the current one is over the keys it was sized for).
    void run_gate_builder() {
        std::unique_lock guard(cv_mu_);
        for (;;) {
            // Polled: writers set gate_wanted_ under mu_, where they may not
            // take cv_mu_ (the lock order).
            cv_.wait_for(guard, std::chrono::milliseconds(50), [this] {
                return stop_ || gate_wanted_.load(std::memory_order_relaxed);
            });
            if (stop_) return;
            if (!gate_wanted_.load(std::memory_order_relaxed)) continue;
            guard.unlock();
            bool failed = false;
            try {
                build_gate();
            } catch (...) {
                failed = true;
            }
            guard.lock();
            if (failed) cv_.wait_for(guard, std::chrono::milliseconds(200), [this] { return stop_; });
        }
    }

    // Builds a gate sized for twice the entries the store holds (at least
    // hybrid_gate_min_keys) and installs it. Every key is in the sealed
    // deltas and runs it takes, in the active delta it reads once sealed, or
    // queued by the writers from then on (note_gate_locked); the queue is
    // added in batches outside the lock until little is left, which goes in
    // with the install. Returns early when the store stops.
    void build_gate() {
        std::size_t entries = 0;
        {
            std::shared_lock lock(mu_);
            entries = active_->size() + sealed_keys_;
            for (const auto& r : layers_->runs) entries += r->keys();
        }
        const std::size_t cap = std::max(2 * entries, hybrid_gate_min_keys);
        auto next = std::make_shared<hybrid_filter>(cap, opt_.gate_bits_per_key);
        std::vector<delta_ptr> deltas;
        std::vector<run_ptr> runs;
        std::uint64_t epoch = 0;
        bool wait_seal = false;
        // Whatever happens next, the writers stop queueing for this build.
        struct end_build {
            hybrid_engine& e;
            ~end_build() {
                std::unique_lock lock(e.mu_);
                e.end_gate_build_locked();
            }
        } ending{*this};
        {
            hybrid_priority_lock priority(mu_);
            std::unique_lock lock(priority);
            deltas = layers_->sealed;
            runs = layers_->runs;
            gate_next_ = next;
            epoch = gate_epoch_;
            // The active delta's keys so far: read once it is sealed
            // (seal_locked hands it over).
            if (active_->size() != 0) {
                gate_wait_for_ = active_.get();
                wait_seal = true;
            }
        }
        std::size_t have = 0;
        for (const auto& d : deltas) have += d->size();
        for (const auto& r : runs) have += r->keys();
        // Small layers first: the mergers merge those away soonest, and each
        // is let go once read (a long read of a snapshot kept every run
        // merged away meanwhile alive).
        std::stable_sort(runs.begin(), runs.end(), [](const run_ptr& a, const run_ptr& b) { return a->level < b->level; });
        bool done = true;
        auto stop = [this] { return stopping_.load(std::memory_order_relaxed); };
        auto read_deltas = [&] {
            for (delta_ptr& d : deltas) {
                if (!hybrid_filter_add_keys(*next, *d, stop)) {
                    done = false;
                    return;
                }
                d.reset();
            }
        };
        run_in(gate_niced_.get(), [&] {
            read_deltas();
            if (!done) return;
            for (run_ptr& r : runs) {
                {
                    const hybrid_run_scan<run_type> scan({r.get()});
                    for (const auto* layer : {r->live.get(), r->tombstones.get()}) {
                        if (layer != nullptr && !hybrid_filter_add_keys(*next, *layer, stop)) {
                            done = false;
                            return;
                        }
                    }
                }
                r.reset();
            }
        });
        // Then the delta that was active when the build began, once sealed
        // (a writer's or the flusher's seal, a scan's): the build does not
        // seal it itself, which put an extra small delta into the flushes.
        std::uint64_t seen_writes = 0;
        auto seen_at = std::chrono::steady_clock::now();
        while (done && wait_seal) {
            if (stop()) return;
            bool act = false;
            {
                // Looked at under the shared side: polled every 5 ms.
                std::shared_lock lock(mu_);
                const auto now = std::chrono::steady_clock::now();
                if (writes_ != seen_writes) {
                    seen_writes = writes_;
                    seen_at = now;
                }
                act = gate_caught_ || gate_wait_for_ != active_.get() || active_->size() == 0 ||
                      (now - seen_at >= hybrid_idle_flush_period && layers_->sealed.size() < opt_.max_sealed_deltas);
            }
            if (act) {
                hybrid_priority_lock priority(mu_);
                std::unique_lock lock(priority);
                if (!gate_caught_ && gate_wait_for_ == active_.get()) {
                    if (active_->size() == 0) {
                        // Erases emptied it: none of its keys is left.
                        gate_wait_for_ = nullptr;
                        wait_seal = false;
                    } else if (writes_ == seen_writes && layers_->sealed.size() < opt_.max_sealed_deltas &&
                               std::chrono::steady_clock::now() - seen_at >= hybrid_idle_flush_period) {
                        // No write for a while: nothing else will seal it
                        // soon, and a store at rest loses nothing by a seal.
                        seal_locked();
                    }
                }
                if (gate_caught_) {
                    have += gate_caught_->size();
                    // Moved out: held here only until read (the flush
                    // that merges it may free it first otherwise).
                    deltas.assign(1, std::move(gate_caught_));
                    wait_seal = false;
                }
            }
            if (!wait_seal) {
                if (!deltas.empty() && deltas.front()) run_in(gate_niced_.get(), read_deltas);
            } else {
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
        }
        std::vector<std::uint64_t> queued;
        while (done && !stop()) {
            {
                hybrid_priority_lock priority(mu_);
                std::unique_lock lock(priority);
                if (gate_pending_lost_) return;  // still wanted: built again later
                if (gate_epoch_ != epoch) return;  // compact() dropped the gate meanwhile
                if (gate_pending_.size() <= hybrid_gate_last_batch) {
                    hybrid_filter_add_hashes(*next, gate_pending_);
                    have += gate_pending_.size();
                    gate_ = std::move(next);
                    gate_cap_ = cap;
                    gate_adds_ = have;
                    gate_wanted_.store(false, std::memory_order_relaxed);
                    gate_builds_.fetch_add(1, std::memory_order_relaxed);
                    return;
                }
                queued.clear();
                queued.swap(gate_pending_);
            }
            run_in(gate_niced_.get(), [&] {
                hybrid_filter_batch fill(*next);
                for (const std::uint64_t h : queued) fill.add(h);
            });
            have += queued.size();
        }
    }

    // Ends the build of a gate, installed or not. The caller holds mu_
    // exclusively.
    void end_gate_build_locked() noexcept {
        gate_next_.reset();
        gate_wait_for_ = nullptr;
        gate_caught_.reset();
        std::vector<std::uint64_t>().swap(gate_pending_);
        gate_pending_lost_ = false;
    }

    void stop_workers() {
        stopping_.store(true, std::memory_order_relaxed);
        {
            std::lock_guard guard(cv_mu_);
            stop_ = true;
        }
        cv_.notify_all();
        done_cv_.notify_all();
        if (flusher_.joinable()) flusher_.join();
        for (std::thread& t : mergers_) {
            if (t.joinable()) t.join();
        }
        if (gate_thread_.joinable()) gate_thread_.join();
        flush_niced_.reset();
        gate_niced_.reset();
        merge_niced_.clear();
        big_niced_.clear();
    }

    const hybrid_options opt_;
    std::uint64_t id_seed_ = 0;
    std::atomic<std::uint64_t> ids_{0};

    mutable hybrid_rwlock mu_;
    std::unique_ptr<delta_type> active_;
    layers_ptr layers_;
    std::atomic<std::size_t> size_{0};
    // Under mu_: the sealed deltas' totals and the active delta's sampled
    // memory_usage(), for the flush trigger.
    std::size_t sealed_keys_ = 0;
    std::size_t sealed_bytes_ = 0;
    std::size_t active_bytes_ = 0;
    // The deltas' byte trigger: compaction_bytes grown with the runs.
    std::size_t flush_bytes_ = opt_.compaction_bytes;
    std::uint64_t writes_ = 0;  // writes so far (idle_flush_due; every 64th samples active_bytes_)
    // Under mu_: the active delta's filter (note_key_locked), the keys it is
    // sized for, whether it was made (or given up on) for this delta, and
    // the keys of the last delta sealed at compaction_bytes or more.
    std::unique_ptr<hybrid_filter> active_filter_;
    std::size_t active_filter_cap_ = 0;
    bool active_filter_tried_ = false;
    std::size_t seal_keys_ = 0;
    std::uint64_t writer_seals_ = 0;
    // Under mu_: the gate - a filter that admits every key of every sealed
    // delta and run (and of the active delta), so that a key it refuses
    // needs no look under the active delta (DESIGN.md, "The gate") - the
    // keys it is sized for and the keys added to it so far (duplicates
    // counted); the gate being built (only gate_thread_ touches its bits;
    // here for memory_usage()), the hashes of the keys that entered the
    // active delta since its build began, and whether one of those could not
    // be queued (out of memory: that gate is dropped).
    std::shared_ptr<hybrid_filter> gate_;
    std::size_t gate_cap_ = 0;
    std::size_t gate_adds_ = 0;
    std::shared_ptr<const hybrid_filter> gate_next_;
    std::vector<std::uint64_t> gate_pending_;
    bool gate_pending_lost_ = false;
    std::uint64_t gate_epoch_ = 0;  // bumped when compact() drops the gate
    // The active delta a gate's build waits for (compared, never
    // dereferenced), and that delta once seal_locked() sealed it.
    const delta_type* gate_wait_for_ = nullptr;
    delta_ptr gate_caught_;
    // Set by writers (a gate is due), cleared by gate_thread_.
    std::atomic<bool> gate_wanted_{false};
    std::uint64_t idle_seen_writes_ = 0;  // the flusher's own: writes_ at its last look

    std::mutex delta_mu_;
    std::mutex runs_mu_;
    // Under runs_mu_: the runs background merges are reading (only their
    // claimant removes them); claims_cv_ signals claims given back.
    std::vector<const run_type*> claimed_;
    std::size_t big_merges_ = 0;  // under runs_mu_: merges in flight whose result is hybrid_big_merge_level or up
    std::condition_variable claims_cv_;
    std::mutex save_mu_;
    // Under save_mu_: run layers already in the checkpoint at saved_path_
    // (by run id * 4 + 0 live, 1 tombstones, 2 filter), so a save names them again.
    std::string saved_path_;
    std::map<std::uint64_t, saved_file> saved_;
    // Set by load(), before any other thread runs.
    std::uint64_t filters_loaded_ = 0;
    std::uint64_t filters_rebuilt_ = 0;
    std::atomic<std::uint64_t> filters_shared_{0};
    std::atomic<std::uint64_t> gate_builds_{0};

    std::mutex cv_mu_;
    std::condition_variable cv_;       // wakes the flusher and the merger
    std::condition_variable done_cv_;  // a flush finished (writers under backpressure)
    std::uint64_t flush_epoch_ = 0;
    std::uint64_t merge_wake_ = 0;  // bumped to wake every merger
    bool stop_ = false;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> flush_requested_{false};
    std::atomic<bool> flushing_{false};
    std::atomic<int> running_{0};
    std::atomic<int> preempt_{0};  // callers of compact() waiting for the compaction locks
    std::thread flusher_;
    std::vector<std::thread> mergers_;
    std::thread gate_thread_;
    std::unique_ptr<hybrid_niced_runner> flush_niced_;
    std::unique_ptr<hybrid_niced_runner> gate_niced_;
    std::vector<std::unique_ptr<hybrid_niced_runner>> merge_niced_;
    std::vector<std::unique_ptr<hybrid_niced_runner>> big_niced_;  // one per lane, for big merges

    std::atomic<std::uint64_t> compactions_{0};
    std::atomic<std::uint64_t> flushes_{0};
    std::atomic<std::uint64_t> run_merges_{0};
    std::atomic<std::uint64_t> delta_merges_{0};
    std::atomic<std::uint64_t> delta_merge_entries_{0};
    std::atomic<std::uint64_t> bytes_written_{0};
    std::atomic<std::uint64_t> backpressure_waits_{0};
    std::atomic<std::uint64_t> failed_{0};
    std::atomic<std::int64_t> last_duration_ns_{0};
    std::atomic<std::int64_t> last_lock_ns_{0};
    std::atomic<std::chrono::system_clock::rep> last_finished_{0};
    std::atomic<std::size_t> last_keys_{0};
};

}  // namespace memkv::detail
