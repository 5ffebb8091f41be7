// Model-based test of FastArt: random operations mirrored into std::map, size
// checked after each, bounds, views and iteration compared, verify() and a
// full comparison periodically. Fixed seeds, printed on failure. 400k
// operations by default (kept short for sanitizer CI); set
// MEMKV_TEST_SCALE=<n> to run n times as many (10: 4 million), and
// MEMKV_TEST_SEED=<s> for other sequences (test_support.hpp).
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <map>
#include <ranges>
#include <string>

#include <memkv/fast_art.hpp>

#include "fuzz/fast_art_ops.hpp"
#include "memkv_catch.hpp"
#include "test_support.hpp"
#include "zones_support.hpp"

namespace {

using memkv::test::test_scale;

using memkv::test::fa_check;
using memkv::test::fa_compare_all;
using memkv::test::fa_compare_range;

// A view through views::reverse against [mb, me) of the model, backwards.
template <class View, class MIt>
void compare_views_reverse(const View& v, MIt mb, MIt me, const char* what, std::size_t limit) {
    auto r = v | std::views::reverse;
    memkv::test::fa_compare_reversed_range(r.begin(), r.end(), mb, me, what, limit);
}

void run_model(std::uint64_t seed, std::size_t ops, memkv::test::key_generator::options opt) {
    memkv::test::key_generator gen(seed, opt);
    memkv::FastArt<std::uint64_t> t;
    std::map<std::string, std::uint64_t> m;
    const std::size_t empty_usage = t.memory_usage();
    for (std::size_t i = 0; i < ops; ++i) {
        const std::string k = gen.next();
        const std::size_t op = gen.pick(100);
        if (op < 30) {
            const auto v = gen.next_u64();
            const bool ins = t.insert(k, v).second;
            fa_check(ins == m.insert({k, v}).second, "insert");
        } else if (op < 40) {
            const auto v = gen.next_u64();
            t.insert_or_assign(k, v);
            m.insert_or_assign(k, v);
        } else if (op < 45) {
            const auto v = gen.next_u64();
            t[k] = v;
            m[k] = v;
        } else if (op < 70) {
            fa_check(t.erase(k) == m.erase(k), "erase");
        } else if (op < 80) {
            const std::uint64_t* v = t.get_if(k);
            const auto mit = m.find(k);
            fa_check((v != nullptr) == (mit != m.end()), "find");
            if (v != nullptr) fa_check(*v == mit->second, "find value");
        } else if (op < 88) {
            // lower_bound and a short walk in both directions.
            auto it = t.lower_bound(k);
            auto mit = m.lower_bound(k);
            for (int s = 0; s < 4 && mit != m.end(); ++s, ++it, ++mit) {
                fa_check(it != t.end() && it.key() == mit->first && it.value() == mit->second, "lower_bound");
            }
            fa_check((it == t.end()) == (mit == m.end()), "lower_bound end");
            for (int s = 0; s < 4 && mit != m.begin(); ++s) {
                --it;
                --mit;
                fa_check(it.key() == mit->first, "lower_bound backwards");
            }
            // from(k): keys >= k, the first and the last few.
            const auto fv = t.from(k);
            fa_compare_range(fv.begin(), fv.end(), m.lower_bound(k), m.end(), "from", 4);
            memkv::test::fa_compare_reversed(fv, m.lower_bound(k), m.end(), "from reversed", 4);
            compare_views_reverse(fv, m.lower_bound(k), m.end(), "from | views::reverse", 4);
        } else if (op < 92) {
            auto it = t.upper_bound(k);
            auto mit = m.upper_bound(k);
            memkv::test::fa_check_position(t, it, m, mit, "upper_bound");
        } else if (op < 96) {
            // Short prefixes select many keys; the generator's keys are
            // short. Long views are compared on their first 100 elements.
            const std::string p = k.substr(0, 1 + gen.pick(3));
            auto mb = m.lower_bound(p);
            auto me = mb;
            while (me != m.end() && me->first.compare(0, p.size(), p) == 0) ++me;
            const auto v = t.prefix(p);
            fa_compare_range(v.begin(), v.end(), mb, me, "prefix", 100);
            compare_views_reverse(v, mb, me, "prefix | views::reverse", 100);
            std::size_t n = 0;
            auto mi = mb;
            if (p.size() >= 2) t.for_each_prefix(p, [&](std::string_view fk, std::uint64_t& fv) {
                if (n++ < 100) fa_check(mi != me && fk == mi->first && fv == mi->second, "for_each_prefix");
                if (mi != me) ++mi;
            });
            if (p.size() >= 2) {
                fa_check(n == static_cast<std::size_t>(std::distance(mb, me)), "for_each_prefix count");
            }
        } else if (op < 99) {
            const std::string hi = gen.next();
            const auto v = t.range(k, hi);
            if (hi > k) {
                fa_compare_range(v.begin(), v.end(), m.lower_bound(k), m.lower_bound(hi), "range", 100);
                compare_views_reverse(v, m.lower_bound(k), m.lower_bound(hi), "range | views::reverse", 100);
            } else {
                fa_check(v.empty(), "empty range");
            }
        } else if (gen.pick(4) == 0) {
            // erase_prefix of a short prefix of k (rare: it can empty much of the tree).
            const std::string p = k.substr(0, gen.pick(k.size() + 1));
            if (p.empty() && gen.pick(8) != 0) continue;
            std::size_t n = 0;
            for (auto mi = m.lower_bound(p); mi != m.end() && mi->first.compare(0, p.size(), p) == 0;) {
                mi = m.erase(mi);
                ++n;
            }
            fa_check(t.erase_prefix(p) == n, "erase_prefix");
        } else {
            // erase(iterator) at a random bound.
            auto it = t.lower_bound(k);
            auto mit = m.lower_bound(k);
            if (mit != m.end()) {
                auto nx = t.erase(it);
                auto mnx = m.erase(mit);
                memkv::test::fa_check_position(t, nx, m, mnx, "erase(iterator) next");
            }
        }
        fa_check(t.size() == m.size(), "size");
        if (i % 50'000 == 0) {
            fa_compare_all(t, m);
            compare_views_reverse(t.from(""), m.begin(), m.end(), "views::reverse", static_cast<std::size_t>(-1));
        }
    }
    fa_compare_all(t, m);
    fa_check(std::ranges::equal(t | std::views::reverse, m | std::views::reverse, memkv::test::fa_same_element),
             "whole map | views::reverse");
    t.clear();
    fa_check(t.empty() && t.memory_usage() == empty_usage, "clear gives memory back");
}

}  // namespace

TEST_CASE("FastArt matches std::map under random operations", "[fast_art][model]") {
    const std::size_t scale = test_scale();
    struct config {
        std::uint64_t seed;
        std::size_t max_len;
        double long_probability;
    };
    // Short keys over a small alphabet: deep sharing, prefix keys, NUL/0xFF.
    // Longer keys: long compressed paths. Some >64 KiB keys in both.
    const config configs[] = {
        {0x5EED0001, 6, 0.0002},
        {0x5EED0002, 12, 0.0005},
        {0x5EED0003, 40, 0.0005},
        {0x5EED0004, 3, 0.0},
    };
    for (const auto& c : configs) {
        memkv::test::key_generator::options opt;
        opt.max_len = c.max_len;
        opt.long_probability = c.long_probability;
        const std::uint64_t seed = memkv::test::test_seed(c.seed);
        INFO("seed " << seed << " max_len " << c.max_len);
        REQUIRE_NOTHROW(run_model(seed, 100'000 * scale, opt));
        memkv::test::report_run("FastArt model", seed, 100'000 * scale);
    }
}

TEST_CASE("FastArt matches std::map under random operations, small zones", "[fast_art][model][zones]") {
    // The same model with the arena's zones shrunk (zones_support.hpp): the
    // trees cross zone boundaries and rezone holders all the time. Zones of
    // 28 KiB have 3 usable slots, too few for several >64 KiB keys (a slot
    // each) under one node: long keys only with the 508 KiB zones.
    struct config {
        unsigned bits;
        std::uint64_t seed;
        std::size_t max_len;
        double long_probability;
    };
    const config configs[] = {
        {2, 0x5EED0012, 12, 0.0},
        {2, 0x5EED0013, 40, 0.0},
        {3, 0x5EED0014, 40, 0.0005},
    };
    for (const auto& c : configs) {
        const memkv::test::small_zones zones(c.bits);
        memkv::test::key_generator::options opt;
        opt.max_len = c.max_len;
        opt.long_probability = c.long_probability;
        INFO("seed " << c.seed << " max_len " << c.max_len << " zone bits " << c.bits);
        REQUIRE_NOTHROW(run_model(c.seed, 100'000, opt));
    }
}

TEST_CASE("FastArt matches std::map under random operations, table zones", "[fast_art][model][zones]") {
    // Where a zone's address range cannot be reserved (arena.hpp), lookups
    // take the table-read descent; the same model, long keys included.
    const memkv::test::table_zones table;
    const std::uint64_t seeds[] = {0x5EED0021, 0x5EED0022};
    const std::size_t max_lens[] = {12, 40};
    for (std::size_t i = 0; i < 2; ++i) {
        memkv::test::key_generator::options opt;
        opt.max_len = max_lens[i];
        opt.long_probability = 0.0005;
        INFO("seed " << seeds[i] << " max_len " << max_lens[i]);
        REQUIRE_NOTHROW(run_model(seeds[i], 100'000, opt));
    }
}

TEST_CASE("FastArt grows and shrinks every node kind", "[fast_art][model]") {
    // All 256 bytes under one parent, at several depths, then erased in a
    // scrambled order: walks 3 -> 6 -> ... -> 48 -> full and back. The last
    // base gives the node a prefix past the 64-byte buffer of a rebuild.
    const std::string bases[] = {"", "x", "deep/shared/prefix/longer/than/eight/bytes/",
                                 "long/" + std::string(200, 'p') + "/"};
    memkv::FastArt<std::uint64_t> t;
    std::map<std::string, std::uint64_t> m;
    for (const std::string& base : bases) {
        for (int b = 0; b < 256; ++b) {
            std::string k = base;
            k.push_back(static_cast<char>(b));
            t.insert(k, static_cast<std::uint64_t>(b));
            m.insert({k, static_cast<std::uint64_t>(b)});
            if (b % 17 == 0) fa_compare_all(t, m);
        }
        t.insert(base, 1000);
        m.insert({base, 1000});
    }
    fa_compare_all(t, m);
    for (int j = 0; j < 256; ++j) {
        const int b = (j * 167) % 256;  // 167 is odd: a permutation
        for (const std::string& base : bases) {
            std::string k = base;
            k.push_back(static_cast<char>(b));
            fa_check(t.erase(k) == 1 && m.erase(k) == 1, "erase");
        }
        if (j % 13 == 0) fa_compare_all(t, m);
    }
    fa_compare_all(t, m);
}
