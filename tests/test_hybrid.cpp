// HybridKV, single thread: hand-checked cases and a model-based test against
// std::map with compactions, delta merges and snapshots at random points.

#include <memkv/hybrid_kv.hpp>

#include "memkv_catch.hpp"
#include "test_support.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <ranges>
#include <type_traits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using Map = std::map<std::string, std::uint64_t>;
using KV = memkv::HybridKV<std::uint64_t>;
using Pairs = std::vector<std::pair<std::string, std::uint64_t>>;

using memkv::test::test_scale;

template <class Range>
std::vector<typename Range::value_type> collect(const Range& r) {
    std::vector<typename Range::value_type> out;
    for (const auto& [k, v] : r) out.emplace_back(k, v);
    return out;
}

Pairs model_prefix(const Map& m, const std::string& p) {
    Pairs out;
    for (auto it = m.lower_bound(p); it != m.end() && it->first.starts_with(p); ++it) out.emplace_back(*it);
    return out;
}

Pairs model_range(const Map& m, const std::string& lo, const std::string& hi) {
    Pairs out;
    for (auto it = m.lower_bound(lo); it != m.end() && it->first < hi; ++it) out.emplace_back(*it);
    return out;
}

Pairs model_from(const Map& m, const std::string& lo) { return Pairs(m.lower_bound(lo), m.end()); }

// The view walked backwards from its end (views::reverse), in forward order.
template <class Range>
Pairs collect_backwards(const Range& r) {
    Pairs out;
    for (const auto& [k, v] : r | std::views::reverse) out.emplace_back(k, v);
    std::reverse(out.begin(), out.end());
    return out;
}

memkv::hybrid_options quiet() {
    memkv::hybrid_options o;
    o.background_compaction = false;
    return o;
}

static_assert(std::bidirectional_iterator<KV::view_type::iterator>);
static_assert(std::ranges::bidirectional_range<KV::view_type>);
static_assert(std::ranges::common_range<KV::view_type>);
static_assert(std::ranges::view<KV::view_type>);
static_assert(std::is_nothrow_move_constructible_v<KV>);
static_assert(!std::is_copy_constructible_v<KV>);

}  // namespace

TEST_CASE("HybridKV: ranges work with <algorithm> and <ranges>", "[hybrid]") {
    KV kv(quiet());
    for (std::uint64_t i = 0; i < 10; ++i) kv.insert("n" + std::to_string(i), i);
    auto r = kv.prefix("n");
    REQUIRE(std::ranges::count_if(r, [](const auto& p) { return p.second % 2 == 0; }) == 5);
    const auto it = std::ranges::find_if(r, [](const auto& p) { return p.first == "n7"; });
    REQUIRE(it != r.end());
    REQUIRE(it->second == 7);
}

TEST_CASE("HybridKV: quick start from the README", "[hybrid]") {
    memkv::MemKV<std::uint64_t> kv;
    kv.insert("user:1001", 1001);
    kv.insert("user:1500", 1500);
    kv.insert("user:2500", 2500);
    kv.insert("item:7", 7);
    REQUIRE(kv.get("user:1001") == 1001);
    REQUIRE(collect(kv.prefix("user:")) == Pairs{{"user:1001", 1001}, {"user:1500", 1500}, {"user:2500", 2500}});
    REQUIRE(collect(kv.range("user:1000", "user:2000")) == Pairs{{"user:1001", 1001}, {"user:1500", 1500}});
}

TEST_CASE("HybridKV: insert, assign, erase across layers", "[hybrid]") {
    KV kv(quiet());
    REQUIRE(kv.empty());
    REQUIRE(kv.insert("a", 1));
    REQUIRE(kv.insert("", 0));
    REQUIRE_FALSE(kv.insert("a", 2));  // present: unchanged
    REQUIRE(kv.get("a") == 1);
    REQUIRE_FALSE(kv.insert_or_assign("a", 2));  // assign
    REQUIRE(kv.size() == 2);
    REQUIRE(kv.get("a") == 2);
    REQUIRE(kv.contains(""));

    kv.compact();  // "a" and "" now live in the base
    REQUIRE(kv.stats().base_keys == 2);
    REQUIRE(kv.stats().delta_keys == 0);
    REQUIRE(kv.get("a") == 2);

    REQUIRE_FALSE(kv.insert("a", 3));  // in the base: unchanged
    REQUIRE(kv.get("a") == 2);
    REQUIRE(kv.stats().delta_keys == 0);  // and no delta entry left behind
    REQUIRE_FALSE(kv.insert_or_assign("a", 3));  // shadows the base
    REQUIRE(kv.get("a") == 3);
    REQUIRE(kv.size() == 2);

    REQUIRE(kv.erase("a") == 1);  // tombstone over the base
    REQUIRE(kv.erase("a") == 0);
    REQUIRE_FALSE(kv.get("a"));
    REQUIRE(kv.size() == 1);
    REQUIRE(kv.erase("zzz") == 0);

    REQUIRE(kv.insert("a", 4));  // re-insert over the tombstone
    REQUIRE(kv.get("a") == 4);
    REQUIRE(kv.size() == 2);
    REQUIRE(kv.erase("a") == 1);

    kv.compact();  // the tombstone and the key it shadowed are gone
    const auto s = kv.stats();
    REQUIRE(s.base_keys == 1);
    REQUIRE(s.delta_keys == 0);
    REQUIRE(s.compactions == 2);
    REQUIRE(kv.size() == 1);
    REQUIRE(collect(kv.items()) == Pairs{{"", 0}});

    REQUIRE(kv.erase("") == 1);
    kv.compact();  // empty base
    REQUIRE(kv.empty());
    REQUIRE(kv.stats().base_keys == 0);
    REQUIRE(collect(kv.items()).empty());
}

TEST_CASE("HybridKV: erase of a delta-only key leaves no tombstone", "[hybrid]") {
    KV kv(quiet());
    kv.insert("x", 1);
    REQUIRE(kv.erase("x") == 1);
    REQUIRE(kv.stats().delta_keys == 0);
    REQUIRE(kv.empty());
}

TEST_CASE("HybridKV: scans are point-in-time", "[hybrid]") {
    KV kv(quiet());
    for (std::uint64_t i = 0; i < 100; ++i) kv.insert("k" + std::to_string(1000 + i), i);
    auto r = kv.prefix("k");
    auto it = r.begin();
    REQUIRE(it->first == "k1000");
    kv.insert("k0", 7);   // before every key: must not appear
    kv.erase("k1050");    // must still appear
    kv.insert_or_assign("k1099", 99999);
    kv.compact();
    std::size_t n = 0;
    for (; it != r.end(); ++it, ++n) {
        REQUIRE(it->first == "k" + std::to_string(1000 + n));
        REQUIRE(it->second == n);
    }
    REQUIRE(n == 100);
    // A second pass over the same range sees the same point in time.
    REQUIRE(collect(r).size() == 100);
    REQUIRE(collect(kv.prefix("k")).size() == 100);  // k0 in, k1050 out
    REQUIRE(kv.get("k1099") == 99999);
}

TEST_CASE("HybridKV: a range outlives its store", "[hybrid]") {
    std::optional<KV::view_type> r;
    {
        KV kv;
        kv.insert("a", 1);
        kv.compact();
        kv.insert("b", 2);
        r.emplace(kv.items());
    }
    REQUIRE(collect(*r) == Pairs{{"a", 1}, {"b", 2}});
}

TEST_CASE("HybridKV: many sealed deltas are merged", "[hybrid]") {
    memkv::hybrid_options o = quiet();
    o.max_sealed_deltas = 2;
    KV kv(o);
    kv.insert("base", 1);
    kv.compact();
    std::vector<KV::snapshot_type> snaps;
    for (int i = 0; i < 10; ++i) {
        kv.insert("k" + std::to_string(i), static_cast<std::uint64_t>(i));
        if (i == 3) kv.erase("base");
        snaps.push_back(kv.snapshot());  // seals
        REQUIRE(kv.stats().sealed_deltas <= 2);
    }
    REQUIRE(kv.stats().delta_merges > 0);
    REQUIRE(kv.size() == 10);
    REQUIRE_FALSE(kv.contains("base"));
    REQUIRE(snaps[2].contains("base"));
    REQUIRE(snaps[2].size() == 4);
    REQUIRE_FALSE(snaps[3].contains("base"));
    REQUIRE(collect(snaps[9].items()).size() == 10);
}

TEST_CASE("HybridKV: background compaction by key count", "[hybrid]") {
    const int nice = GENERATE(0, 10);  // merge in the worker itself, or in the niced helper
    INFO("compaction_nice " << nice);
    memkv::hybrid_options o;
    o.compaction_nice = nice;
    o.compaction_keys = 100;
    KV kv(o);
    Map model;
    for (std::uint64_t i = 0; i < 2000; ++i) {
        const std::string k = "key" + std::to_string(i * 7919 % 2000);
        kv.insert(k, i);
        model[k] = i;
    }
    kv.compact();
    REQUIRE(kv.stats().compactions >= 1);
    REQUIRE(kv.size() == model.size());
    REQUIRE(collect(kv.items()) == Pairs(model.begin(), model.end()));
}

#if defined(__linux__)
namespace {
// Nice value of every thread of this process (field 19 of
// /proc/self/task/<tid>/stat, the 17th after the command's closing ')').
std::multiset<int> thread_nice_values() {
    std::multiset<int> out;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/task")) {
        std::ifstream in(e.path() / "stat");
        std::string line;
        if (!std::getline(in, line)) continue;  // the thread ended meanwhile
        std::istringstream fields(line.substr(line.rfind(')') + 1));
        std::string f;
        for (int i = 0; i < 17 && fields >> f; ++i) {}
        out.insert(std::stoi(f));
    }
    return out;
}
}  // namespace

TEST_CASE("HybridKV: background merges run niced, big merges lower still", "[hybrid]") {
    // compaction_nice 0 leaves every thread at the process's priority.
    const auto [nice, big_nice] = GENERATE(std::pair{10, 15}, std::pair{17, 19}, std::pair{0, 0});
    INFO("compaction_nice " << nice);
    if (const int base = *thread_nice_values().begin(); base != 0) {
        // Nice values are absolute: from a niced test run, the helpers' may
        // not be reachable (lowering one needs privileges).
        WARN("the test runs at nice " << base << ": thread priorities not checked");
        return;
    }
    memkv::hybrid_options o;
    o.compaction_nice = nice;
    o.merge_threads = 2;
    o.gate_bits_per_key = 8;
    KV kv(o);
    // The helpers renice themselves once started: wait for them (2 s at most).
    std::multiset<int> seen;
    for (int i = 0; i < 200; ++i) {
        seen = thread_nice_values();
        if (nice == 0 || (seen.count(big_nice) >= 3 && seen.count(nice) >= 3)) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (nice == 0) {
        REQUIRE(seen.count(0) == seen.size());
    } else {
        // The flusher's helper and one small-merge helper per lane at
        // `nice`, one big-merge helper per lane and the gate's builder at
        // `big_nice`.
        REQUIRE(seen.count(nice) == 3);
        REQUIRE(seen.count(big_nice) == 3);
    }
}
#endif

TEST_CASE("HybridKV layers: a sealed delta's filter never changes a lookup, and skips most misses", "[hybrid]") {
    // The flusher gives each sealed delta a filter over its keys; a lookup
    // then skips the delta when the filter says absent. A tombstone must be
    // found like a live key (it hides the run below).
    namespace d = memkv::detail;
    using V = std::uint64_t;
    std::mt19937_64 rng(memkv::test::test_seed(7));
    Map run_keys;
    auto delta = std::make_shared<d::hybrid_delta<V>>();
    for (V i = 0; i < 12000; ++i) {  // > 4096 keys in the delta: stop() is asked
        const std::string k = "k" + std::to_string(rng() % 30000);
        if (i % 2 == 0) {
            run_keys[k] = i;
        } else {
            // Live and deleted entries, some over keys of the run.
            delta->insert_or_assign(k, d::hybrid_slot<V>{i, i % 3 != 0, false});
        }
    }
    auto run = std::make_shared<d::hybrid_run<V>>();
    run->live = std::make_shared<const memkv::FrozenLayer<V>>(memkv::FrozenLayer<V>::from_sorted(run_keys));
    auto run_filter = std::make_unique<d::hybrid_filter>(run_keys.size());
    for (const auto& [k, v] : run_keys) run_filter->add(d::hybrid_key_hash(k));
    run->filter = std::move(run_filter);

    d::hybrid_layers<V> plain;
    plain.sealed.push_back(delta);
    plain.runs.push_back(run);
    // Answers without the delta's filter, for every key that may be asked.
    std::map<std::string, std::pair<d::layer_state, V>> expected;
    std::vector<std::string> asked;
    for (int i = 0; i < 40000; ++i) asked.push_back("k" + std::to_string(i));
    asked.push_back("");
    for (const std::string& k : asked) {
        V v = 0;
        const d::layer_state st = d::layers_find(plain, k, &v);
        expected[k] = {st, st == d::layer_state::live ? v : 0};
    }

    REQUIRE(delta->size() > 4096);
    REQUIRE(d::hybrid_delta_filter(*delta, [] { return true; }) == nullptr);  // gave up when told
    delta->attach_filter(d::hybrid_delta_filter(*delta, [] { return false; }));
    REQUIRE(delta->filter() != nullptr);
    REQUIRE(delta->filter_bytes() > 0);
    std::size_t absent = 0;
    std::size_t passed = 0;
    for (const std::string& k : asked) {
        V v = 0;
        const d::layer_state st = d::layers_find(plain, k, &v);
        INFO(k);
        REQUIRE(st == expected[k].first);
        if (st == d::layer_state::live) REQUIRE(v == expected[k].second);
        if (delta->get_if(k) == nullptr) {
            ++absent;
            if (delta->filter()->may_contain(d::hybrid_key_hash(k))) ++passed;
        } else {
            REQUIRE(delta->filter()->may_contain(d::hybrid_key_hash(k)));
        }
    }
    INFO("keys absent from the delta " << absent << ", let through by its filter " << passed);
    CHECK(passed * 20 < absent);  // ~1% expected
}

TEST_CASE("HybridKV: memory_usage and stats move with compaction", "[hybrid]") {
    KV kv(quiet());
    for (std::uint64_t i = 0; i < 5000; ++i) kv.insert("https://example.org/p/" + std::to_string(i), i);
    const auto before = kv.stats();
    REQUIRE(before.delta_keys == 5000);
    REQUIRE(before.delta_bytes > 0);
    REQUIRE(kv.memory_usage() >= before.delta_bytes);
    kv.compact();
    const auto after = kv.stats();
    REQUIRE(after.delta_keys == 0);
    REQUIRE(after.base_keys == 5000);
    REQUIRE(after.last_compaction_keys == 5000);
    REQUIRE(after.last_compaction_finished > std::chrono::system_clock::time_point{});
    REQUIRE(before.last_compaction_finished == std::chrono::system_clock::time_point{});
    REQUIRE(kv.memory_usage() >= after.base_bytes);
}

TEST_CASE("HybridKV: model test against std::map", "[hybrid][model]") {
    const std::uint64_t seed = memkv::test::test_seed(GENERATE(1u, 2u, 3u, 4u));
    const bool background = GENERATE(false, true);
    INFO("seed " << seed << " background " << background);
    memkv::test::key_generator gen(seed);
    std::vector<std::string> pool;
    for (int i = 0; i < 400; ++i) pool.push_back(gen.next());

    memkv::hybrid_options o;
    o.background_compaction = background;
    o.compaction_keys = background ? 64 : 0;
    o.max_sealed_deltas = 3;
    KV kv(o);
    Map model;
    std::vector<std::pair<KV::snapshot_type, Map>> snaps;

    auto check_scans = [&](const auto& view, const Map& m) {
        const std::string a = pool[gen.pick(pool.size())];
        const std::string b = pool[gen.pick(pool.size())];
        const std::string p = a.substr(0, gen.pick(std::min<std::size_t>(a.size(), 3) + 1));
        REQUIRE(collect(view.prefix(p)) == model_prefix(m, p));
        REQUIRE(collect(view.range(std::min(a, b), std::max(a, b))) ==
                model_range(m, std::min(a, b), std::max(a, b)));
        REQUIRE(collect(view.from(a)) == model_from(m, a));
        REQUIRE(collect_backwards(view.prefix(p)) == model_prefix(m, p));
        REQUIRE(collect_backwards(view.range(std::min(a, b), std::max(a, b))) ==
                model_range(m, std::min(a, b), std::max(a, b)));
        REQUIRE(collect_backwards(view.from(a)) == model_from(m, a));
    };

    const std::size_t steps = 3000 * test_scale();
    for (std::size_t step = 0; step < steps; ++step) {
        const std::string& key = pool[gen.pick(pool.size())];
        const std::size_t op = gen.pick(100);
        if (op < 20) {
            const std::uint64_t v = gen.next_u64();
            const bool fresh = model.insert({key, v}).second;  // never overwrites
            REQUIRE(kv.insert(key, v) == fresh);
            REQUIRE(kv.get(key) == model.at(key));
        } else if (op < 45) {
            const std::uint64_t v = gen.next_u64();
            const bool fresh = model.insert_or_assign(key, v).second;
            REQUIRE(kv.insert_or_assign(key, v) == fresh);
        } else if (op < 70) {
            REQUIRE(kv.erase(key) == model.erase(key));
        } else if (op < 90) {
            const auto it = model.find(key);
            const auto got = kv.get(key);
            if (it == model.end()) {
                REQUIRE_FALSE(got);
            } else {
                REQUIRE(got == it->second);
            }
        } else if (op < 93) {
            kv.compact();
        } else if (op < 96) {
            if (snaps.size() < 6) {
                snaps.emplace_back(kv.snapshot(), model);
            } else {
                snaps[gen.pick(snaps.size())] = {kv.snapshot(), model};
            }
        } else if (op < 98) {
            check_scans(kv, model);
        } else if (!snaps.empty()) {
            const auto& [snap, m] = snaps[gen.pick(snaps.size())];
            REQUIRE(snap.size() == m.size());
            for (int i = 0; i < 20; ++i) {
                const std::string& k = pool[gen.pick(pool.size())];
                const auto it = m.find(k);
                REQUIRE(snap.get(k) == (it == m.end() ? std::nullopt : std::optional(it->second)));
            }
            check_scans(snap, m);
        }
        REQUIRE(kv.size() == model.size());
    }
    REQUIRE(collect(kv.items()) == Pairs(model.begin(), model.end()));
    REQUIRE(collect_backwards(kv.items()) == Pairs(model.begin(), model.end()));
    kv.verify();
    for (const auto& [snap, m] : snaps) {
        REQUIRE(collect(snap.items()) == Pairs(m.begin(), m.end()));
        snap.verify();
    }
    kv.compact();
    REQUIRE(collect(kv.items()) == Pairs(model.begin(), model.end()));
    REQUIRE(kv.stats().delta_keys == 0);
    memkv::test::report_run(background ? "HybridKV model (background compaction)" : "HybridKV model", seed, steps);
}

TEST_CASE("HybridKV: erase then re-insert across compactions", "[hybrid][model]") {
    KV kv(quiet());
    Map model;
    for (int round = 0; round < 6; ++round) {
        for (std::uint64_t i = 0; i < 300; ++i) {
            const std::string k = "k/" + std::to_string(i);
            if ((i + static_cast<std::uint64_t>(round)) % 3 == 0) {
                REQUIRE(kv.erase(k) == model.erase(k));
            } else {
                kv.insert_or_assign(k, i * 10 + static_cast<std::uint64_t>(round));
                model[k] = i * 10 + static_cast<std::uint64_t>(round);
            }
        }
        if (round % 2 == 0) kv.compact();
        REQUIRE(kv.size() == model.size());
        REQUIRE(collect(kv.items()) == Pairs(model.begin(), model.end()));
    }
}

TEST_CASE("HybridKV: a struct value type", "[hybrid]") {
    struct point {
        std::int32_t x;
        std::int32_t y;
    };
    memkv::HybridKV<point> kv;
    kv.insert("p", point{3, -4});
    kv.compact();
    kv.insert("q", point{1, 2});
    const auto p = kv.get("p");
    REQUIRE(p);
    REQUIRE(p->x == 3);
    REQUIRE(p->y == -4);
    REQUIRE(collect(kv.items()).size() == 2);
}

TEST_CASE("HybridKV: move", "[hybrid]") {
    KV a;
    a.insert("x", 1);
    KV b(std::move(a));
    REQUIRE(b.get("x") == 1);
    KV c;
    c = std::move(b);
    REQUIRE(c.get("x") == 1);
    REQUIRE(c.size() == 1);
}

TEST_CASE("HybridKV layers: a filter fed a few keys late holds exactly the keys added directly", "[hybrid][filter]") {
    // hybrid_filter_feeder sets each hash's bits `lag` adds later (after a
    // prefetch); once finished - explicitly or by its destructor - the
    // filter must answer exactly as one filled by add() at once, for every
    // count around the lag.
    namespace d = memkv::detail;
    std::mt19937_64 rng(0xfeed);
    for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{15}, std::size_t{16}, std::size_t{17},
                                std::size_t{33}, std::size_t{5000}}) {
        for (const bool by_destructor : {false, true}) {
            INFO("keys " << n << (by_destructor ? ", finished by the destructor" : ", finish()"));
            std::vector<std::uint64_t> hashes(n);
            for (auto& h : hashes) h = rng();
            d::hybrid_filter direct(std::max<std::size_t>(n, 1));
            d::hybrid_filter fed(std::max<std::size_t>(n, 1));
            for (std::uint64_t h : hashes) direct.add(h);
            {
                d::hybrid_filter_feeder feed(fed);
                for (std::uint64_t h : hashes) feed.add(h);
                if (!by_destructor) feed.finish();
            }
            for (std::uint64_t h : hashes) REQUIRE(fed.may_contain(h));
            for (int i = 0; i < 20000; ++i) {
                const std::uint64_t h = rng();
                REQUIRE(fed.may_contain(h) == direct.may_contain(h));
            }
        }
    }
}

TEST_CASE("HybridKV layers: a filter filled in block order holds exactly the bits of one filled by add()",
          "[hybrid][filter]") {
    // hybrid_filter_batch buffers the hashes of a big filter, radix-sorts
    // each batch by block and sweeps it; a small one it feeds directly. The
    // words must equal those add() sets, for every count around the batch
    // size, whether finish() or the destructor sets the last batch; drop()
    // forgets a big filter's batch.
    namespace d = memkv::detail;
    std::mt19937_64 rng(0xb10c);
    // 14 bits per key: 2M keys make a 3.4 MiB filter (batches of 65,536),
    // 40k keys a 70 KiB one (fed directly).
    for (const std::size_t capacity : {std::size_t{40'000}, std::size_t{2'000'000}}) {
        const std::size_t batch = capacity == 40'000 ? 0 : std::size_t{1} << 16;
        CHECK((d::hybrid_filter(capacity).blocks() * 64 > d::hybrid_filter_batch::big_filter_bytes) == (batch != 0));
        std::vector<std::size_t> counts = {0, 1, 17, 5000};
        if (batch != 0) counts.insert(counts.end(), {batch - 1, batch, batch + 1, 2 * batch + 5, 200'000});
        for (const std::size_t n : counts) {
            for (const bool by_destructor : {false, true}) {
                INFO("filter for " << capacity << " keys, " << n << " hashes"
                                   << (by_destructor ? ", finished by the destructor" : ", finish()"));
                std::vector<std::uint64_t> hashes(n);
                for (auto& h : hashes) h = rng();
                d::hybrid_filter direct(capacity);
                d::hybrid_filter filled(capacity);
                for (const std::uint64_t h : hashes) direct.add(h);
                {
                    d::hybrid_filter_batch fill(filled);
                    for (const std::uint64_t h : hashes) fill.add(h);
                    if (!by_destructor) fill.finish();
                }
                REQUIRE(std::ranges::equal(filled.words(), direct.words()));
                if (n != 0) REQUIRE(std::ranges::any_of(filled.words(), [](std::uint64_t w) { return w != 0; }));
            }
        }
        if (batch != 0) {
            // Dropped before a batch filled up: none of it is set.
            d::hybrid_filter dropped(capacity);
            {
                d::hybrid_filter_batch fill(dropped);
                for (std::size_t i = 0; i < batch / 2; ++i) fill.add(rng());
                fill.drop();
            }
            REQUIRE(std::ranges::all_of(dropped.words(), [](std::uint64_t w) { return w == 0; }));
        }
    }
    // block_order is the order of the blocks: hashes sorted by it set bits
    // front to back (the sweep's premise; the bits above hold either way).
    std::vector<std::uint64_t> sorted(2000);
    for (auto& h : sorted) h = rng();
    std::ranges::sort(sorted, {}, [](std::uint64_t h) { return d::hybrid_filter::block_order(h); });
    std::size_t last_block = 0;
    for (const std::uint64_t h : sorted) {
        d::hybrid_filter one(20'000);  // 547 blocks
        one.add(h);
        const auto w = one.words();
        const auto word = std::ranges::find_if(w, [](std::uint64_t x) { return x != 0; }) - w.begin();
        const auto block = static_cast<std::size_t>(word) / 8;
        REQUIRE(block >= last_block);
        last_block = block;
    }
    CHECK(last_block > 500);  // and they spread over the filter
}

TEST_CASE("HybridKV layers: run filters answer a foreign key yes at most ~0.3% of the time", "[hybrid][filter]") {
    // Every miss and every insert of a new key probes the filter of every
    // run, and walks each run whose filter says yes: at 18 runs, 10 bits per
    // key (~1% each) cost the inserting thread a fifth of its time at 10^8
    // keys (bench/RESULTS.md). 14 bits per key: ~0.19% in theory.
    namespace d = memkv::detail;
    std::mt19937_64 rng(0xf11e);
    const std::size_t keys = 200'000;
    d::hybrid_filter f(keys);
    for (std::size_t i = 0; i < keys; ++i) f.add(d::hybrid_key_hash("member/" + std::to_string(i)));
    std::size_t yes = 0;
    const std::size_t probes = 1'000'000;
    for (std::size_t i = 0; i < probes; ++i) yes += f.may_contain(d::hybrid_key_hash("other/" + std::to_string(i)));
    INFO("false positives " << yes << " of " << probes);
    CHECK(yes * 1000 <= probes * 3);
    CHECK(f.memory_usage() <= keys * 2 + 4096);  // 14 bits per key, not more
}
