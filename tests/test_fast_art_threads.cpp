// FastArt's thread-safety contract is a standard container's: concurrent const
// calls are safe. Run under TSan (label 'concurrency'), this test is what checks
// that no const path writes shared state (caches, counters, lazy iterators).

#include <memkv/fast_art.hpp>

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "memkv_catch.hpp"
#include "test_support.hpp"
#include "zones_support.hpp"

namespace {

// min_bytes: the tree must be larger (to span several small zones).
void concurrent_readers(std::size_t min_bytes) {
    const std::uint64_t seed = 20261122;
    INFO("seed " << seed);
    memkv::test::key_generator gen(seed);
    std::map<std::string, std::uint64_t> model;
    memkv::FastArt<std::uint64_t> art;
    for (std::uint64_t i = 0; i < 20'000; ++i) {
        std::string k = gen.next();
        model.insert_or_assign(k, i);
        art.insert_or_assign(k, i);
    }
    std::vector<std::string> probes;
    for (int i = 0; i < 2'000; ++i) probes.push_back(gen.next());

    const memkv::FastArt<std::uint64_t>& ro = art;
    std::atomic<int> mismatches{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 4; ++t) {
        readers.emplace_back([&, t] {
            std::string buf;
            for (std::size_t i = static_cast<std::size_t>(t); i < probes.size(); i += 2) {
                const std::string& p = probes[i];
                const auto m = model.find(p);
                const auto f = ro.find(p);
                if ((m == model.end()) != (f == ro.end())) ++mismatches;
                if (m != model.end() && f != ro.end() && f.value() != m->second) ++mismatches;
                // lower_bound and a few steps of ++: iterators build their own
                // path state, never the tree's.
                auto mb = model.lower_bound(p);
                auto lb = ro.lower_bound(p);
                for (int step = 0; step < 8 && mb != model.end(); ++step, ++mb, ++lb) {
                    if (lb == ro.end()) {
                        ++mismatches;
                        break;
                    }
                    lb.key(buf);
                    if (buf != mb->first) {
                        ++mismatches;
                        break;
                    }
                }
            }
            std::size_t n = 0;
            for (auto it = ro.begin(); it != ro.end(); ++it) ++n;
            if (n != model.size()) ++mismatches;
        });
    }
    for (auto& r : readers) r.join();
    CHECK(mismatches.load() == 0);
    CHECK(art.size() == model.size());
    CHECK(art.memory_usage() > min_bytes);
}

}  // namespace

TEST_CASE("FastArt: concurrent const readers see the same tree", "[fast_art][threads]") { concurrent_readers(0); }

TEST_CASE("FastArt: concurrent const readers, tree over many small zones", "[fast_art][threads][zones]") {
    // Readers follow the zone of every frame (zones_support.hpp: 508 KiB
    // zones, so the 20k keys span several; 28 KiB zones cannot hold the
    // generator's 70 KB keys under one node).
    const memkv::test::small_zones zones(3);
    concurrent_readers(std::size_t{2} * (508 << 10));
}
