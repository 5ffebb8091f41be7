// memkv-hybrid-concurrency: N reader threads + 1 writer + background
// compaction on one HybridKV. Reports read and write throughput and read
// latency percentiles, split by whether a full compaction was running when the
// read started. A benchmark, not a test: nothing is asserted.
//
//   memkv-hybrid-concurrency [--dataset FILE | --synthetic N] [--readers N]
//                            [--seconds S]
//
// Setup: the first half of the keys is inserted and compacted into the base.
// Run: the writer inserts the second half (then keeps re-assigning random
// keys), readers look up random keys of the whole set, for S seconds. During
// the first half of the run no compaction runs; during the second half a
// compactor thread runs compact() back to back (the code path of the
// background thread, minus the trigger and the niced merge thread: here the
// whole compaction runs at normal priority, the harder case for readers), so
// both halves see the same writer.

#include <memkv/hybrid_kv.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "dataset.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

// Log-linear latency histogram: 32 sub-buckets per power of two (~3% error).
class histogram {
public:
    void add(std::uint64_t ns) {
        ++counts_[index(ns)];
        ++n_;
        max_ = std::max(max_, ns);
        if (ns > 1'000'000) ++over_1ms_;
    }
    void merge(const histogram& o) {
        for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += o.counts_[i];
        n_ += o.n_;
        max_ = std::max(max_, o.max_);
        over_1ms_ += o.over_1ms_;
    }
    std::uint64_t count() const { return n_; }
    std::uint64_t max() const { return max_; }
    std::uint64_t over_1ms() const { return over_1ms_; }
    std::uint64_t percentile(double p) const {
        if (n_ == 0) return 0;
        const auto target = static_cast<std::uint64_t>(p * static_cast<double>(n_ - 1)) + 1;
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < counts_.size(); ++i) {
            seen += counts_[i];
            if (seen >= target) return std::min(upper(i), max_);
        }
        return max_;
    }

private:
    static constexpr unsigned sub_bits = 5;
    static std::size_t index(std::uint64_t v) {
        if (v < (1U << sub_bits)) return static_cast<std::size_t>(v);
        const unsigned e = static_cast<unsigned>(std::bit_width(v)) - 1 - sub_bits;
        return static_cast<std::size_t>(((e + 1) << sub_bits) + ((v >> e) & ((1U << sub_bits) - 1)));
    }
    static std::uint64_t upper(std::size_t i) {
        if (i < (1U << sub_bits)) return i;
        const std::size_t e = (i >> sub_bits) - 1;
        const std::uint64_t mant = (i & ((1U << sub_bits) - 1)) | (1U << sub_bits);
        return ((mant + 1) << e) - 1;
    }
    std::array<std::uint64_t, 64 * 32> counts_{};
    std::uint64_t n_ = 0;
    std::uint64_t max_ = 0;
    std::uint64_t over_1ms_ = 0;
};

struct reader_result {
    histogram quiet;       // no compaction running at the read's start
    histogram compacting;  // a compaction running
    std::uint64_t misses = 0;
};

void print(const char* label, const histogram& h, double seconds) {
    std::printf("  %-22s %10llu reads %9.0f reads/s  p50 %6llu ns  p99 %7llu ns  p99.9 %8llu ns  max %9llu ns"
                "  >1ms %llu\n",
                label, static_cast<unsigned long long>(h.count()), static_cast<double>(h.count()) / seconds,
                static_cast<unsigned long long>(h.percentile(0.50)),
                static_cast<unsigned long long>(h.percentile(0.99)),
                static_cast<unsigned long long>(h.percentile(0.999)), static_cast<unsigned long long>(h.max()),
                static_cast<unsigned long long>(h.over_1ms()));
}

}  // namespace

int main(int argc, char** argv) {
    std::string dataset;
    std::size_t synthetic = 500'000;
    std::size_t readers = 3;
    double seconds = 5.0;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "missing value after %s\n", argv[i]);
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--dataset") {
            dataset = value();
        } else if (a == "--synthetic") {
            synthetic = std::strtoull(value(), nullptr, 10);
        } else if (a == "--readers") {
            readers = std::strtoull(value(), nullptr, 10);
        } else if (a == "--seconds") {
            seconds = std::strtod(value(), nullptr);
        } else {
            std::fprintf(stderr,
                         "usage: %s [--dataset FILE | --synthetic N] [--readers N] [--seconds S] "
                         "\n",
                         argv[0]);
            return 2;
        }
    }

    const auto data = dataset.empty() ? memkv::bench::Dataset::synthetic(synthetic)
                                      : memkv::bench::Dataset::load_file(dataset);
    const auto& keys = data.keys();
    const std::size_t half = keys.size() / 2;
    std::printf("data set %s: %zu keys; %zu readers, 1 writer, %.1f s (second half: compactions back to back), "
                "%u hardware threads\n",
                data.name().c_str(), keys.size(), readers, seconds, std::thread::hardware_concurrency());

    memkv::hybrid_options opt;
    opt.background_compaction = false;
    memkv::MemKV<std::uint64_t> kv(opt);
    for (std::size_t i = 0; i < half; ++i) kv.insert(keys[i], i);
    kv.compact();

    std::atomic<bool> stop{false};
    std::vector<reader_result> results(readers);
    std::vector<std::thread> threads;
    for (std::size_t r = 0; r < readers; ++r) {
        threads.emplace_back([&, r] {
            memkv::bench::Rng rng(r + 1);
            reader_result& out = results[r];
            while (!stop.load(std::memory_order_relaxed)) {
                const std::size_t i = static_cast<std::size_t>(rng.below(keys.size()));
                const bool compacting = kv.compaction_running();
                const auto t0 = clock_type::now();
                const auto v = kv.get(keys[i]);
                const auto t1 = clock_type::now();
                if (!v) ++out.misses;
                const auto ns = static_cast<std::uint64_t>(
                    std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
                (compacting ? out.compacting : out.quiet).add(ns);
            }
        });
    }
    std::atomic<std::uint64_t> writes{0};
    std::thread writer([&] {
        memkv::bench::Rng rng(12345);
        std::size_t next = half;
        while (!stop.load(std::memory_order_relaxed)) {
            const std::size_t i = next < keys.size() ? next++ : static_cast<std::size_t>(rng.below(keys.size()));
            kv.insert_or_assign(keys[i], i);  // re-assigns once past the second half
            writes.fetch_add(1, std::memory_order_relaxed);
        }
    });

    const auto start = clock_type::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds / 2));
    const std::uint64_t writes_quiet = writes.load();
    std::uint64_t compactions = 0;
    double longest_compaction_ms = 0;
    std::int64_t longest_lock_ns = 0;
    std::thread compactor([&] {
        while (!stop.load(std::memory_order_relaxed)) {
            const auto t0 = clock_type::now();
            kv.compact();
            longest_lock_ns = std::max<std::int64_t>(longest_lock_ns, kv.stats().last_compaction_lock_wait.count());
            longest_compaction_ms = std::max(
                longest_compaction_ms, std::chrono::duration<double, std::milli>(clock_type::now() - t0).count());
            ++compactions;
        }
    });
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds / 2));
    stop.store(true);
    compactor.join();
    writer.join();
    for (auto& t : threads) t.join();
    const double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();

    histogram quiet, compacting, all;
    std::uint64_t misses = 0;
    for (const auto& r : results) {
        quiet.merge(r.quiet);
        compacting.merge(r.compacting);
        misses += r.misses;
    }
    all.merge(quiet);
    all.merge(compacting);
    const auto st = kv.stats();
    const std::uint64_t total_writes = writes.load();
    std::printf("writes/s: %.0f without compaction, %.0f with compactions running\n",
                static_cast<double>(writes_quiet) / (seconds / 2),
                static_cast<double>(total_writes - writes_quiet) / (elapsed - seconds / 2));
    std::printf("writes: %llu (%.0f writes/s); compactions: %llu (longest %.1f ms, last one %zu keys)\n",
                static_cast<unsigned long long>(total_writes), static_cast<double>(total_writes) / elapsed,
                static_cast<unsigned long long>(compactions), longest_compaction_ms, st.last_compaction_keys);
    std::printf("longest exclusive-lock section of a compaction (seal or swap, incl. waiting for it): %lld ns\n",
                static_cast<long long>(longest_lock_ns));
    std::printf("reads (get), latency per call:\n");
    print("all", all, elapsed);
    print("no compaction running", quiet, elapsed);
    print("compaction running", compacting, elapsed);
    std::printf("misses (keys not yet written): %llu\n", static_cast<unsigned long long>(misses));
    return 0;
}
