// memkv-hybrid-scenarios: the ordinary-use cases of issue #10 (periodic scans,
// a write+scan loop, scans without a background thread), measured - the tests
// assert the same properties without timing.
#include <memkv/memkv.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
using clk = std::chrono::steady_clock;
static double secs(clk::time_point a) { return std::chrono::duration<double>(clk::now() - a).count(); }
static std::string key(std::uint64_t i) { return "https://github.com/user" + std::to_string(i % 99991) + "/repo-" + std::to_string(i); }
int main() {
    {   // (a) periodic scans
        memkv::MemKV<std::uint64_t> kv;
        for (std::uint64_t i = 0; i < 2000000; ++i) {
            kv.insert(key(i), i);
            if (i % 10000 == 0) { auto v = kv.prefix("https://github.com/user1/"); (void)v.begin(); }
        }
        for (int i = 0; i < 300 && kv.compaction_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        auto s = kv.stats();
        std::printf("(a) 2M inserts, prefix scan every 10k: compactions %llu, sealed %zu, %.1f B/key\n",
                    (unsigned long long)s.compactions, s.sealed_deltas, static_cast<double>(kv.memory_usage()) / static_cast<double>(kv.size()));
    }
    {   // (b) insert + prefix loop for 2 s on a 300k-key store, then a missing-key get, then the destructor
        auto kv = std::make_unique<memkv::MemKV<std::uint64_t>>();
        for (std::uint64_t i = 0; i < 300000; ++i) kv->insert(key(i), i);
        auto t = clk::now();
        std::uint64_t n = 0;
        std::size_t max_sealed = 0;
        while (secs(t) < 2.0) {
            kv->insert_or_assign(key(1000000 + n), n);
            ++n;
            auto v = kv->prefix("https://github.com/user7/");
            (void)v.begin();
            max_sealed = std::max(max_sealed, kv->stats().sealed_deltas);
        }
        auto s = kv->stats();
        t = clk::now();
        std::size_t hits = 0;
        for (int i = 0; i < 1000; ++i) hits += kv->get("https://nowhere/" + std::to_string(i)).has_value();
        const double miss_ns = secs(t) / 1000 * 1e9;
        if (hits != 0) std::printf("unexpected hits\n");
        t = clk::now();
        kv.reset();
        std::printf("(b) %llu write+scan pairs in 2 s: max sealed %zu, delta merges %llu, missing get %.0f ns, destructor %.1f ms\n",
                    (unsigned long long)n, max_sealed, (unsigned long long)s.delta_merges, miss_ns, secs(t) * 1e3);
    }
    {   // (c) no background thread: 200 write+scan pairs on a 300k-key delta
        memkv::hybrid_options o;
        o.background_compaction = false;
        memkv::MemKV<std::uint64_t> kv(o);
        for (std::uint64_t i = 0; i < 300000; ++i) kv.insert(key(i), i);
        auto t = clk::now();
        for (std::uint64_t i = 0; i < 200; ++i) {
            kv.insert_or_assign(key(2000000 + i), i);
            auto v = kv.prefix("https://github.com/user7/");
            (void)v.begin();
        }
        std::printf("(c) background off, 200 write+scan pairs on a 300k-key delta: %.3f s\n", secs(t));
    }
}
