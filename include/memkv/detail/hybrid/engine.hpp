#pragma once

// HybridKV's engine (memkv::detail): the lock, the layer stack, the size
// counter, the background compactor and the checkpoint writer/reader. The
// public facade, memkv::HybridKV<V> in <memkv/hybrid_kv.hpp>, forwards here.
//
// Concurrency design (see DESIGN.md, "HybridKV"):
//
//   mu_ (hybrid_rwlock, writer-preferring) guards active_, layers_ and size_'s
//   updates.
//     point reads   shared lock: active_ -> sealed deltas -> base
//     writes        exclusive lock: mutate active_ (plus a lookup in the lower
//                   layers the first time a key enters active_)
//     seal          exclusive lock, O(#sealed): active_ becomes the newest
//                   immutable sealed delta; a fresh active_ starts
//     swap          exclusive lock, O(#sealed): a compaction's result replaces
//                   exactly the layers it merged
//   compaction_mu_ (std::mutex) makes compactions (full and minor) one at a
//     time. Only the holder removes layers; everybody else only pushes sealed
//     deltas at the front, so the merged layers are always the oldest suffix.
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
#include <functional>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

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

template <class V>
class hybrid_engine {
public:
    using delta_type = hybrid_delta<V>;
    using base_type = FrozenLayer<V>;
    using layers_type = hybrid_layers<V>;
    using slot_type = hybrid_slot<V>;
    using layers_ptr = std::shared_ptr<const layers_type>;

    explicit hybrid_engine(const hybrid_options& opt)
        : opt_(opt), active_(std::make_unique<delta_type>()), layers_(std::make_shared<const layers_type>()) {}

    hybrid_engine(const hybrid_engine&) = delete;
    hybrid_engine& operator=(const hybrid_engine&) = delete;

    ~hybrid_engine() { stop_worker(); }

    // Started separately so open() can restore the layers first.
    void start_worker() {
        if (!opt_.background_compaction) return;
        if (opt_.compaction_nice != 0) niced_ = std::make_unique<hybrid_niced_runner>(opt_.compaction_nice);
        worker_ = std::thread([this] { run_worker(); });
    }

    // ---- point operations ------------------------------------------------

    // assign == false: insert only if absent (returns false and changes
    // nothing when the key is visible). assign == true: insert or overwrite.
    // Returns whether the key was new.
    bool insert(std::string_view key, const V& value, bool assign) {
        bool inserted = false;
        bool wake = false;
        {
            std::unique_lock lock(mu_);
            // One descent for the common cases (a new key, or an update).
            auto [it, fresh] = active_->try_emplace(key, slot_type{value, true, false});
            if (fresh) {
                bool below = false;
                try {
                    below = visible_below_locked(key);
                } catch (...) {
                    active_->erase(key);  // strong guarantee
                    throw;
                }
                if (below && !assign) {
                    active_->erase(key);  // visible below: insert() leaves it alone
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
            wake = over_threshold_locked();
        }
        if (wake) request_compaction();
        return inserted;
    }

    std::size_t erase(std::string_view key) {
        bool wake = false;
        std::size_t n = 0;
        {
            std::unique_lock lock(mu_);
            n = erase_locked(key);
            wake = n != 0 && over_threshold_locked();
        }
        if (wake) request_compaction();
        return n;
    }

    // Erases each key (one exclusive lock for the batch); returns how many
    // were visible.
    std::size_t erase_batch(const std::vector<std::string>& keys) {
        bool wake = false;
        std::size_t n = 0;
        {
            std::unique_lock lock(mu_);
            for (const std::string& k : keys) n += erase_locked(k);
            wake = n != 0 && over_threshold_locked();
        }
        if (wake) request_compaction();
        return n;
    }

    std::optional<V> get(std::string_view key) const {
        std::shared_lock lock(mu_);
        return get_locked(key);
    }

    bool contains(std::string_view key) const {
        std::shared_lock lock(mu_);
        if (const slot_type* cur = std::as_const(*active_).get_if(key)) return cur->live;
        return layers_contain(*layers_, key);
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
        layers_verify(*layers, n);
    }

    std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }

    bool compaction_running() const noexcept { return running_.load(std::memory_order_relaxed); }

    std::size_t memory_usage() const {
        std::shared_lock lock(mu_);
        return sizeof(*this) + active_->memory_usage() + layers_memory_usage(*layers_);
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
            if (layers_->base) {
                s.base_keys = layers_->base->size();
                s.base_bytes = layers_->base->memory_usage();
            }
        }
        s.compactions = compactions_.load(std::memory_order_relaxed);
        s.delta_merges = delta_merges_.load(std::memory_order_relaxed);
        s.failed_compactions = failed_.load(std::memory_order_relaxed);
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
    // O(#sealed) under the exclusive lock.
    std::pair<layers_ptr, std::size_t> capture() {
        {
            std::shared_lock lock(mu_);
            if (active_->size() == 0) return {layers_, size_.load(std::memory_order_relaxed)};
        }
        std::pair<layers_ptr, std::size_t> result;
        bool too_many = false;
        {
            std::unique_lock lock(mu_);
            seal_locked();
            result = {layers_, size_.load(std::memory_order_relaxed)};
            too_many = layers_->sealed.size() > opt_.max_sealed_deltas;
        }
        if (too_many) {
            if (opt_.background_compaction) {
                wake_worker();
            } else {
                merge_deltas();
            }
        }
        return result;
    }

    // ---- compaction --------------------------------------------------------

    // Merges every delta (the active one sealed first) and the base into a new
    // base. Returns false when there was nothing to do or it was abandoned
    // because the engine is being destroyed.
    // A running background compaction is abandoned rather than waited for:
    // this one merges everything it would have, plus what came since.
    bool compact() {
        std::unique_lock<std::mutex> guard;
        {
            preempt_.fetch_add(1, std::memory_order_relaxed);
            struct release {
                std::atomic<int>& n;
                ~release() { n.fetch_sub(1, std::memory_order_relaxed); }
            } claim{preempt_};
            guard = std::unique_lock(compaction_mu_);
        }
        return compact_locked(false);
    }

private:
    // Full compaction; the caller holds compaction_mu_.
    bool compact_locked(bool background) {
        layers_ptr input;
        const auto seal_start = std::chrono::steady_clock::now();
        {
            hybrid_priority_lock priority(mu_);
            std::unique_lock lock(priority);
            seal_locked();
            compaction_requested_.store(false, std::memory_order_relaxed);
            input = layers_;
        }
        const auto seal_end = std::chrono::steady_clock::now();
        if (input->sealed.empty()) return false;
        running_.store(true, std::memory_order_relaxed);
        struct running_reset {
            std::atomic<bool>& flag;
            ~running_reset() { flag.store(false, std::memory_order_relaxed); }
        } reset{running_};

        const auto start = std::chrono::steady_clock::now();
        bool aborted = false;
        std::size_t keys = 0;
        std::shared_ptr<const base_type> base;
        auto build = [&] {
            std::size_t expected = input->base ? input->base->size() : 0;
            for (const auto& d : input->sealed) expected += d->size();
            frozen_layer_options fo = opt_.frozen;
            fo.registry_rows = std::min(fo.registry_rows, std::max<std::size_t>(std::bit_ceil(expected), 256));
            FrozenLayerBuilder<V> builder(fo);
            const hybrid_scan_origin<V> origin(input.get(), scan_bounds{}, true);
            hybrid_merge_cursor<V> cursor(origin);
            std::size_t steps = 0;
            for (bool ok = cursor.seek_first(); ok; ok = cursor.next()) {
                if ((++steps & 4095U) == 0 &&
                    (stopping_.load(std::memory_order_relaxed) ||
                     (background && preempt_.load(std::memory_order_relaxed) != 0))) {
                    aborted = true;
                    return;
                }
                if (!cursor.slot().live) continue;  // tombstones die here, with what they shadowed
                builder.insert(cursor.key(), cursor.slot().value);
                ++keys;
            }
            if (keys != 0) base = std::make_shared<const base_type>(builder.finish());
        };
        if (background && niced_) {
            niced_->run(build);
        } else {
            build();
        }
        if (aborted) return false;
        const auto swap_start = std::chrono::steady_clock::now();
        replace_oldest(input->sealed.size(), std::move(base), nullptr);
        const auto swap_end = std::chrono::steady_clock::now();
        last_lock_ns_.store(std::max(seal_end - seal_start, swap_end - swap_start).count(), std::memory_order_relaxed);

        const auto took = std::chrono::steady_clock::now() - start;
        std::size_t merged_bytes = 0;
        for (const auto& d : input->sealed) merged_bytes += d->memory_usage();
        input.reset();  // the merged layers die here unless a snapshot holds them
        // Trimming walks the allocator's arenas: worth it only after big merges.
        if (opt_.release_memory && merged_bytes >= (std::size_t{8} << 20)) release_free_memory();
        last_duration_ns_.store(std::chrono::duration_cast<std::chrono::nanoseconds>(took).count(),
                                std::memory_order_relaxed);
        last_keys_.store(keys, std::memory_order_relaxed);
        last_finished_.store(std::chrono::system_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
        compactions_.fetch_add(1, std::memory_order_relaxed);
        return true;
    }

public:
    // Merges the sealed deltas into one (tombstones kept where they still hide
    // something in the base). O(total sealed entries); the base is untouched.
    void merge_deltas() {
        std::lock_guard compaction_guard(compaction_mu_);
        layers_ptr input;
        {
            std::shared_lock lock(mu_);
            input = layers_;
        }
        if (input->sealed.size() < 2) return;
        auto merged = std::make_shared<delta_type>();
        {
            const hybrid_scan_origin<V> origin(input.get(), scan_bounds{}, false);
            hybrid_merge_cursor<V> cursor(origin);
            for (bool ok = cursor.seek_first(); ok; ok = cursor.next()) {
                if (!cursor.slot().live && !cursor.slot().below) continue;
                merged->insert(cursor.key(), cursor.slot());
            }
        }
        std::shared_ptr<const delta_type> result;
        if (merged->size() != 0) result = std::move(merged);
        replace_oldest(input->sealed.size(), input->base, std::move(result));
        delta_merges_.fetch_add(1, std::memory_order_relaxed);
    }

    // ---- persistence -------------------------------------------------------

    void save(const std::string& path) {
        std::lock_guard save_guard(save_mu_);
        const auto [layers, size] = capture();
        const auto [dir, name] = split_path(path);

        // 1. The base, under a name no earlier checkpoint used.
        std::string base_name;
        if (layers->base) {
            std::random_device rd;
            const std::uint64_t tag = (std::uint64_t{rd()} << 32) ^ rd() ^
                static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
            char hex[17];
            for (int i = 0; i < 16; ++i) hex[i] = "0123456789abcdef"[(tag >> (60 - 4 * i)) & 0xFU];
            hex[16] = '\0';
            base_name = name + ".base." + hex;
            const std::string tmp = dir + "/" + base_name + ".tmp";
            layers->base->save(tmp);
            fsync_path(tmp, false);
            rename_file(tmp, dir + "/" + base_name);
        }

        // 2. The manifest: header, base name, merged delta records.
        std::string payload = base_name;
        std::uint64_t records = 0;
        {
            const hybrid_scan_origin<V> origin(layers.get(), scan_bounds{}, false);
            hybrid_merge_cursor<V> cursor(origin);
            for (bool ok = cursor.seek_first(); ok; ok = cursor.next()) {
                const std::string& key = cursor.key();
                const slot_type& slot = cursor.slot();
                if (!slot.live && !slot.below) continue;
                append_le(payload, key.size(), 4);
                payload.push_back(static_cast<char>((slot.live ? hybrid_flag_live : 0) |
                                                    (slot.below ? hybrid_flag_below : 0)));
                payload.append(key);
                if (slot.live) {
                    char bytes[sizeof(V)];
                    std::memcpy(bytes, &slot.value, sizeof(V));
                    payload.append(bytes, sizeof(V));
                }
                ++records;
            }
        }
        hybrid_manifest_header h;
        h.size = size;
        h.record_count = records;
        h.payload_length = payload.size();
        h.base_name_length = static_cast<std::uint32_t>(base_name.size());
        h.payload_crc = crc32c(reinterpret_cast<const unsigned char*>(payload.data()), payload.size());
        std::string file = encode_hybrid_header(static_cast<std::uint32_t>(sizeof(V)), h);
        file += payload;

        const std::string tmp = path + ".tmp";
        write_file_synced(tmp, reinterpret_cast<const unsigned char*>(file.data()), file.size());
        rename_file(tmp, path);  // the commit point
        fsync_path(dir, true);
        // Only now: the previous checkpoint's base, and leftovers of saves
        // that crashed, are no longer named by any manifest.
        remove_stale_bases(dir, name, base_name);
    }

    // Restores a checkpoint written by save(). The worker is not started yet.
    void load(const std::string& path) {
        const std::string file = read_whole_file(path);
        const auto h = decode_hybrid_manifest(file, static_cast<std::uint32_t>(sizeof(V)), path);
        const auto [dir, name] = split_path(path);
        auto fail = [&](const char* why) {
            return format_error("memkv::HybridKV checkpoint " + path + ": " + why);
        };

        std::size_t pos = hybrid_header_size;
        const std::string base_name = file.substr(pos, h.base_name_length);
        pos += h.base_name_length;
        auto layers = std::make_shared<layers_type>();
        if (!base_name.empty()) {
            if (base_name.find('/') != std::string::npos) throw fail("bad base file name");
            layers->base = std::make_shared<const base_type>(base_type::open(dir + "/" + base_name, opt_.frozen.user_tag));
        }

        auto delta = std::make_unique<delta_type>();
        std::int64_t expected = layers->base ? static_cast<std::int64_t>(layers->base->size()) : 0;
        const auto* p = reinterpret_cast<const unsigned char*>(file.data());
        for (std::uint64_t i = 0; i < h.record_count; ++i) {
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
            expected += (slot.live ? 1 : 0) - (slot.below ? 1 : 0);
            if (!delta->insert(key, slot).second) throw fail("duplicate delta key");
        }
        if (pos != file.size()) throw fail("trailing bytes after the delta");
        if (expected != static_cast<std::int64_t>(h.size)) throw fail("size does not match its layers");

        std::unique_lock lock(mu_);
        active_ = std::move(delta);
        layers_ = std::move(layers);
        size_.store(static_cast<std::size_t>(h.size), std::memory_order_relaxed);
    }

private:
    std::optional<V> get_locked(std::string_view key) const {
        if (const slot_type* cur = std::as_const(*active_).get_if(key)) {
            if (!cur->live) return std::nullopt;
            return cur->value;
        }
        return layers_get(*layers_, key);
    }

    // The caller holds mu_ exclusively.
    std::size_t erase_locked(std::string_view key) {
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
            if (!visible_below_locked(key)) return 0;
            active_->insert(key, slot_type{V{}, false, true});
        }
        MEMKV_ASSERT(size_.load(std::memory_order_relaxed) > 0);  // size never underflows
        size_.fetch_sub(1, std::memory_order_relaxed);
        return 1;
    }

    bool visible_below_locked(std::string_view key) const {
        if (layers_->sealed.empty() && !layers_->base) return false;
        return layers_contain(*layers_, key);
    }

    void seal_locked() {
        if (active_->size() == 0) return;
        auto next = std::make_shared<layers_type>();
        next->base = layers_->base;
        next->sealed.reserve(layers_->sealed.size() + 1);
        next->sealed.push_back(std::shared_ptr<const delta_type>(std::move(active_)));
        next->sealed.insert(next->sealed.end(), layers_->sealed.begin(), layers_->sealed.end());
        active_ = std::make_unique<delta_type>();
        layers_ = std::move(next);
    }

    // Replaces the `merged` oldest sealed deltas (and the base) by `base` and,
    // if set, one merged delta. The old layers die after the lock is released.
    void replace_oldest(std::size_t merged, std::shared_ptr<const base_type> base,
                        std::shared_ptr<const delta_type> delta) {
        auto next = std::make_shared<layers_type>();
        next->base = std::move(base);
        next->sealed.reserve(opt_.max_sealed_deltas + 2);
        layers_ptr old;
        {
            hybrid_priority_lock priority(mu_);
            std::unique_lock lock(priority);
            const std::size_t keep = layers_->sealed.size() - merged;
            next->sealed.insert(next->sealed.end(), layers_->sealed.begin(),
                                layers_->sealed.begin() + static_cast<std::ptrdiff_t>(keep));
            if (delta) next->sealed.push_back(std::move(delta));
            old = std::exchange(layers_, std::move(next));
        }
    }

    bool over_threshold_locked() {
        if (!opt_.background_compaction || compaction_requested_.load(std::memory_order_relaxed)) return false;
        if (opt_.compaction_keys != 0 && active_->size() >= opt_.compaction_keys) return true;
        // memory_usage() may walk the tree's allocator state; sample it.
        if (++writes_since_check_ < 64) return false;
        writes_since_check_ = 0;
        return opt_.compaction_bytes != 0 && active_->memory_usage() >= opt_.compaction_bytes;
    }

    void request_compaction() {
        compaction_requested_.store(true, std::memory_order_relaxed);
        wake_worker();
    }

    void wake_worker() {
        {
            std::lock_guard guard(cv_mu_);
            wake_ = true;
        }
        cv_.notify_one();
    }

    void run_worker() {
        std::unique_lock guard(cv_mu_);
        for (;;) {
            cv_.wait(guard, [this] { return stop_ || wake_; });
            if (stop_) return;
            wake_ = false;
            guard.unlock();
            try {
                if (compaction_requested_.load(std::memory_order_relaxed)) {
                    std::lock_guard compaction_guard(compaction_mu_);
                    compact_locked(true);
                } else {
                    merge_deltas();
                }
            } catch (...) {
                // The store stays correct (nothing was swapped in); count it.
                failed_.fetch_add(1, std::memory_order_relaxed);
                compaction_requested_.store(false, std::memory_order_relaxed);
            }
            guard.lock();
        }
    }

    void stop_worker() {
        stopping_.store(true, std::memory_order_relaxed);
        {
            std::lock_guard guard(cv_mu_);
            stop_ = true;
        }
        cv_.notify_all();
        if (worker_.joinable()) worker_.join();
        niced_.reset();
    }

    const hybrid_options opt_;

    mutable hybrid_rwlock mu_;
    std::unique_ptr<delta_type> active_;
    layers_ptr layers_;
    std::atomic<std::size_t> size_{0};
    unsigned writes_since_check_ = 0;

    std::mutex compaction_mu_;
    std::mutex save_mu_;

    std::mutex cv_mu_;
    std::condition_variable cv_;
    bool wake_ = false;
    bool stop_ = false;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> compaction_requested_{false};
    std::atomic<bool> running_{false};
    std::atomic<int> preempt_{0};  // callers of compact() waiting for compaction_mu_
    std::thread worker_;
    std::unique_ptr<hybrid_niced_runner> niced_;  // the merge of background compactions

    std::atomic<std::uint64_t> compactions_{0};
    std::atomic<std::uint64_t> delta_merges_{0};
    std::atomic<std::uint64_t> failed_{0};
    std::atomic<std::int64_t> last_duration_ns_{0};
    std::atomic<std::int64_t> last_lock_ns_{0};
    std::atomic<std::chrono::system_clock::rep> last_finished_{0};
    std::atomic<std::size_t> last_keys_{0};
};

}  // namespace memkv::detail
