// HybridKV under threads: writers on disjoint key ranges, readers, scanners,
// snapshots, forced and background compactions. Run by the TSan build
// (ctest label `concurrency`).
//
// Consistency of a snapshot is checked after the threads stop (a snapshot is
// point-in-time, so checking it late is as good as checking it at once):
// writer w applies op i to a data key, then sets its marker key "w/~" to i.
// A snapshot that shows marker m must show w's data keys exactly as they were
// after op m or after op m+1 - anything else is a torn or resurrected state.

#include <memkv/hybrid_kv.hpp>

#include "memkv_catch.hpp"
#include "test_support.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace {

using KV = memkv::HybridKV<std::uint64_t>;
using Map = std::map<std::string, std::uint64_t>;

constexpr std::uint64_t writer_count = 3;

using memkv::test::test_scale;

struct op {
    std::string key;
    std::optional<std::uint64_t> value;  // nullopt: erase
};

std::string writer_prefix(std::uint64_t w) { return "w" + std::to_string(w) + "/"; }

// Values carry their writer, so a reader can tell a value from a wrong key.
std::uint64_t make_value(std::uint64_t w, std::uint64_t i) { return i * writer_count + w; }

Map replay(const std::vector<op>& log) {
    Map m;
    for (const op& o : log) {
        if (o.value) {
            m[o.key] = *o.value;
        } else {
            m.erase(o.key);
        }
    }
    return m;
}

}  // namespace

TEST_CASE("HybridKV: concurrent writers, readers, snapshots, compactions", "[hybrid][concurrency]") {
    memkv::hybrid_options o;
    o.compaction_keys = 150;  // many background compactions
    o.max_sealed_deltas = 3;
    o.run_fanout = 2;  // many run merges, several at once on disjoint runs
    o.max_runs = 5;
    o.merge_threads = 3;
    o.gate_bits_per_key = 8;  // the gate's builder runs beside them, the writers queue for it
    KV kv(o);

    const std::size_t ops_per_writer = 20000 * test_scale();
    // 0 unless MEMKV_TEST_SEED is set: the fixed sequences CI always ran.
    const std::uint64_t seed = memkv::test::test_seed(0);
    INFO("seed " << seed);
    std::vector<std::vector<op>> logs(writer_count);
    std::atomic<bool> done{false};
    std::atomic<std::size_t> bad_reads{0};
    std::vector<KV::snapshot_type> snaps;

    std::vector<std::thread> threads;
    for (std::uint64_t w = 0; w < writer_count; ++w) {
        threads.emplace_back([&, w] {
            std::mt19937_64 rng(seed + w + 17);
            const std::string prefix = writer_prefix(w);
            auto& log = logs[w];
            for (std::size_t i = 1; i <= ops_per_writer; ++i) {
                const std::string key = prefix + "d" + std::to_string(rng() % 2000);
                if (rng() % 4 == 0) {
                    kv.erase(key);
                    log.push_back({key, std::nullopt});
                } else {
                    const std::uint64_t v = make_value(w, i);
                    kv.insert_or_assign(key, v);
                    log.push_back({key, v});
                }
                kv.insert_or_assign(prefix + "~", i);
            }
        });
    }
    // Point readers and scanners.
    for (int r = 0; r < 2; ++r) {
        threads.emplace_back([&, r] {
            std::mt19937_64 rng(seed + static_cast<std::uint64_t>(r) + 99);
            while (!done.load()) {
                const std::uint64_t w = rng() % writer_count;
                if (r == 0) {
                    const auto v = kv.get(writer_prefix(w) + "d" + std::to_string(rng() % 2000));
                    if (v && *v % writer_count != w) bad_reads.fetch_add(1);
                } else {
                    std::string last;
                    bool first = true;
                    for (const auto& [k, v] : kv.prefix(writer_prefix(w) + "d" + std::to_string(rng() % 10))) {
                        if ((!first && k <= last) || v % writer_count != w) bad_reads.fetch_add(1);
                        last = k;
                        first = false;
                    }
                }
            }
        });
    }
    // Snapshots and forced compactions.
    threads.emplace_back([&] {
        std::mt19937_64 rng(seed + 7);
        int n = 0;
        while (!done.load()) {
            if (n % 5 == 0) kv.compact();
            if (snaps.size() < 40) {
                snaps.push_back(kv.snapshot());
            } else {
                snaps[rng() % snaps.size()] = kv.snapshot();
            }
            ++n;
            std::this_thread::sleep_for(std::chrono::microseconds(300));
        }
    });

    for (std::uint64_t w = 0; w < writer_count; ++w) threads[w].join();
    done.store(true);
    for (std::size_t t = writer_count; t < threads.size(); ++t) threads[t].join();

    INFO("snapshots " << snaps.size() << " compactions " << kv.stats().compactions << " merges " << kv.stats().delta_merges);
    REQUIRE(bad_reads.load() == 0);
    const memkv::hybrid_stats st = kv.stats();
    INFO("stats: flushes " << st.flushes << ", run merges " << st.run_merges << ", delta merges " << st.delta_merges
                           << ", compactions " << st.compactions);
    REQUIRE(st.failed_compactions == 0);
    REQUIRE(st.flushes > 0);
    REQUIRE(st.sealed_deltas <= o.max_sealed_deltas);

    // Final contents: exactly the union of what the writers wrote.
    Map expected;
    for (std::uint64_t w = 0; w < writer_count; ++w) {
        Map m = replay(logs[w]);
        expected.insert(m.begin(), m.end());
        expected[writer_prefix(w) + "~"] = ops_per_writer;
    }
    REQUIRE(kv.size() == expected.size());
    Map got;
    for (const auto& [k, v] : kv.items()) got.emplace(k, v);
    REQUIRE(got == expected);
    for (const auto& [k, v] : expected) REQUIRE(kv.get(k) == v);

    // Every snapshot: per writer, the data keys after op m or m+1. The log is
    // replayed once per writer, visiting the snapshots in marker order.
    REQUIRE(!snaps.empty());
    for (const auto& snap : snaps) {
        std::size_t items = 0;
        for ([[maybe_unused]] const auto& kvp : snap.items()) ++items;
        REQUIRE(items == snap.size());
    }
    for (std::uint64_t w = 0; w < writer_count; ++w) {
        const std::string prefix = writer_prefix(w);
        std::vector<std::pair<std::size_t, std::size_t>> order;  // (marker, snapshot)
        for (std::size_t i = 0; i < snaps.size(); ++i) {
            order.emplace_back(static_cast<std::size_t>(snaps[i].get(prefix + "~").value_or(0)), i);
        }
        std::sort(order.begin(), order.end());
        Map state;
        std::size_t applied = 0;
        auto apply = [&](Map& m, const op& entry) {
            if (entry.value) {
                m[entry.key] = *entry.value;
            } else {
                m.erase(entry.key);
            }
        };
        for (const auto& [m, i] : order) {
            for (; applied < m; ++applied) apply(state, logs[w][applied]);
            Map seen;
            for (const auto& [k, v] : snaps[i].prefix(prefix + "d")) seen.emplace(k, v);
            bool ok = seen == state;
            if (!ok && m < logs[w].size()) {
                Map next = state;
                apply(next, logs[w][m]);
                ok = seen == next;
            }
            INFO("writer " << w << " marker " << m);
            REQUIRE(ok);
        }
    }
    kv.compact();
    Map after;
    for (const auto& [k, v] : kv.items()) after.emplace(k, v);
    REQUIRE(after == expected);
    memkv::test::report_run("HybridKV concurrent stress (writes)", seed, ops_per_writer * writer_count);
}

TEST_CASE("HybridKV: destructor stops a busy compactor", "[hybrid][concurrency]") {
    for (int round = 0; round < 3; ++round) {
        memkv::hybrid_options o;
        o.compaction_keys = 64;
        o.gate_bits_per_key = round == 0 ? std::size_t{0} : std::size_t{8};  // stopped mid-build too
        KV kv(o);
        for (std::uint64_t i = 0; i < 3000; ++i) kv.insert("key:" + std::to_string(i), i);
        REQUIRE(kv.size() == 3000);
        // Destroyed here with compactions likely pending or running.
    }
}

TEST_CASE("HybridKV: save while writers run writes a consistent checkpoint", "[hybrid][concurrency][checkpoint]") {
    namespace fs = std::filesystem;
    // In-memory runs, and file-backed runs (hard-linked into the checkpoint).
    const bool files = GENERATE(false, true);
    const fs::path dir = fs::temp_directory_path() / ("memkv_hybrid_conc_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::string path = (dir / "store").string();

    {
        // The store is destroyed before its directory goes: its merges
        // unlink their input runs' files, which would race remove_all.
        memkv::hybrid_options o;
        o.compaction_keys = 500;
        if (files) o.directory = (dir / "runs").string();
        KV kv(o);
        constexpr std::uint64_t writers = 2;
        const std::uint64_t per_writer = 6000;
        std::vector<std::thread> threads;
        std::atomic<bool> done{false};
        for (std::uint64_t w = 0; w < writers; ++w) {
            threads.emplace_back([&, w] {
                // Keys of writer w appear in order 0, 1, 2, ...: any consistent
                // state holds a prefix of them.
                for (std::uint64_t i = 0; i < per_writer; ++i) kv.insert(writer_prefix(w) + std::to_string(1000000 + i), i);
            });
        }
        std::vector<std::string> saved;
        threads.emplace_back([&] {
            int n = 0;
            // At least one save, even if the writers finish first (a loaded
            // machine may not schedule this thread before they do).
            do {
                const std::string p = path + std::to_string(n++ % 3);
                kv.save(p);
                saved.push_back(p);
            } while (!done.load());
        });
        for (std::uint64_t w = 0; w < writers; ++w) threads[w].join();
        done.store(true);
        threads.back().join();
        REQUIRE(!saved.empty());

        for (std::size_t i = saved.size() >= 3 ? saved.size() - 3 : 0; i < saved.size(); ++i) {
            KV back = KV::open(saved[i]);
            std::uint64_t total = 0;
            for (std::uint64_t w = 0; w < writers; ++w) {
                std::uint64_t expect = 0;
                for (const auto& [k, v] : back.prefix(writer_prefix(w))) {
                    REQUIRE(k == writer_prefix(w) + std::to_string(1000000 + expect));
                    REQUIRE(v == expect);
                    ++expect;
                }
                total += expect;
            }
            REQUIRE(back.size() == total);
        }
    }
    fs::remove_all(dir);
}
