// FrozenLayer: hand-checked cases, model tests against std::map, builder
// errors, files (save/open/streaming), format errors.

#include <algorithm>
#include <atomic>
#include <thread>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "memkv_catch.hpp"
#include "frozen_fixture.hpp"
#include "test_support.hpp"

#include <memkv/frozen_layer.hpp>

namespace {

using memkv::FrozenLayer;
using memkv::FrozenLayerBuilder;

std::string temp_path(const std::string& name) {
    return "/tmp/memkv_test_frozen_" + std::to_string(::getpid()) + "_" + name;
}

struct temp_file {
    std::string path;
    explicit temp_file(const std::string& name) : path(temp_path(name)) {}
    ~temp_file() { std::remove(path.c_str()); }
};

std::vector<unsigned char> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<unsigned char>(std::istreambuf_iterator<char>(in), {});
}

// Checks every query of f against the model m, probing with the model's keys
// and with the extra probe strings.
template <class V>
void check_against(const FrozenLayer<V>& f, const std::map<std::string, V>& m,
                   const std::vector<std::string>& probes) {
    REQUIRE(f.size() == m.size());
    REQUIRE(f.empty() == m.empty());

    // Forward iteration, ordinal, key_at, find.
    std::size_t r = 0;
    auto it = f.begin();
    for (const auto& [k, v] : m) {
        REQUIRE(it != f.end());
        REQUIRE(it.key() == k);
        REQUIRE(it.value() == v);
        REQUIRE(it.ordinal() == r);
        REQUIRE(f.get(k) == v);
        REQUIRE(f.contains(k));
        REQUIRE(f.at(k) == v);
        REQUIRE(f.ordinal(k) == r);
        REQUIRE(f.key_at(r) == k);
        REQUIRE(f.nth(r).key() == k);
        ++it;
        ++r;
    }
    REQUIRE(it == f.end());
    REQUIRE_THROWS_AS(f.key_at(m.size()), std::out_of_range);

    // Reverse iteration.
    auto mr = m.rbegin();
    for (auto rit = f.rbegin(); rit != f.rend(); ++rit, ++mr) {
        REQUIRE(mr != m.rend());
        REQUIRE(std::string((*rit).first) == mr->first);
        REQUIRE((*rit).second == mr->second);
    }
    REQUIRE(mr == m.rend());

    for (const std::string& p : probes) {
        const auto mi = m.find(p);
        const auto fv = f.get(p);
        if (mi == m.end()) {
            REQUIRE_FALSE(fv);
            REQUIRE_FALSE(f.ordinal(p));
            REQUIRE_THROWS_AS(f.at(p), std::out_of_range);
        } else {
            REQUIRE(fv == mi->second);
        }
        const auto lb = f.lower_bound(p);
        const auto mlb = m.lower_bound(p);
        if (mlb == m.end()) {
            REQUIRE(lb == f.end());
        } else {
            REQUIRE(lb != f.end());
            REQUIRE(lb.key() == mlb->first);
            REQUIRE(lb.ordinal() == static_cast<std::size_t>(std::distance(m.begin(), mlb)));
        }
        const auto ub = f.upper_bound(p);
        const auto mub = m.upper_bound(p);
        if (mub == m.end()) {
            REQUIRE(ub == f.end());
        } else {
            REQUIRE(ub != f.end());
            REQUIRE(ub.key() == mub->first);
        }
        // prefix(p)
        std::vector<std::string> want, got;
        for (auto i = m.lower_bound(p); i != m.end() && i->first.compare(0, p.size(), p) == 0; ++i)
            want.push_back(i->first);
        for (auto i : f.prefix(p)) got.emplace_back(i.first);
        REQUIRE(got == want);
        // longest_prefix(p)
        std::string best;
        bool found = false;
        for (std::size_t len = 0; len <= p.size(); ++len) {
            if (m.count(p.substr(0, len))) {
                best = p.substr(0, len);
                found = true;
            }
        }
        const auto lp = f.longest_prefix(p);
        if (!found) {
            REQUIRE(lp == f.end());
        } else {
            REQUIRE(lp != f.end());
            REQUIRE(lp.key() == best);
        }
        // Stepping back from lower_bound reaches the model's predecessor.
        if (mlb != m.begin()) {
            auto prev = lb;
            --prev;
            REQUIRE(prev.key() == std::prev(mlb)->first);
        }
    }
    // range(lo, hi) over a few probe pairs.
    for (std::size_t i = 0; i + 1 < probes.size() && i < 20; i += 2) {
        std::string lo = probes[i], hi = probes[i + 1];
        if (hi < lo) std::swap(lo, hi);
        std::vector<std::string> want, got;
        for (auto j = m.lower_bound(lo); j != m.end() && j->first < hi; ++j) want.push_back(j->first);
        for (auto j : f.range(lo, hi)) got.emplace_back(j.first);
        REQUIRE(got == want);
    }
}

std::vector<std::string> make_probes(const std::map<std::string, std::uint64_t>& m,
                                     memkv::test::key_generator& gen, std::size_t n) {
    std::vector<std::string> probes{"", std::string(1, '\0'), std::string(1, '\xff'), "\xff\xff"};
    std::size_t i = 0;
    for (const auto& kv : m) {
        if (i++ % 7 != 0) continue;
        const std::string& k = kv.first;
        probes.push_back(k);
        probes.push_back(k + '\0');
        probes.push_back(k.substr(0, k.size() / 2));
        if (!k.empty()) {
            std::string c = k;
            c.back() = static_cast<char>(c.back() + 1);
            probes.push_back(c);
        }
        if (probes.size() > n) break;
    }
    for (std::size_t j = 0; j < n / 4; ++j) probes.push_back(gen.next());
    return probes;
}

}  // namespace

TEST_CASE("FrozenLayer: small hand-checked map with prefix keys, NUL and 0xFF", "[frozen]") {
    const std::map<std::string, std::uint64_t> m = {
        {"", 10},
        {std::string(1, '\0'), 11},
        {std::string("a\0b", 3), 12},
        {"a", 13},
        {"ab", 14},
        {"abc", 15},
        {"abd", 16},
        {"b", 17},
        {"\xff", 18},
        {"\xff\xff", 19},
    };
    const auto f = FrozenLayer<std::uint64_t>::from_sorted(m);
    REQUIRE(f.size() == 10);
    REQUIRE(f.get("") == 10U);
    REQUIRE(f.get("ab") == 14U);
    REQUIRE_FALSE(f.get("abe"));
    REQUIRE_FALSE(f.get("c"));
    REQUIRE(f.ordinal("a") == 2U);
    REQUIRE(f.key_at(5) == "abc");
    REQUIRE(f.lower_bound("aa").key() == "ab");
    REQUIRE(f.upper_bound("ab").key() == "abc");
    REQUIRE(f.longest_prefix("abzzz").key() == "ab");
    REQUIRE(f.longest_prefix("zzz").key() == "");
    std::vector<std::string> pre;
    for (auto e : f.prefix("ab")) pre.emplace_back(e.first);
    REQUIRE(pre == std::vector<std::string>{"ab", "abc", "abd"});
    memkv::test::key_generator gen(1);
    check_against(f, m, make_probes(m, gen, 40));
}

TEST_CASE("FrozenLayer: empty layers", "[frozen]") {
    const FrozenLayer<std::uint64_t> a;
    REQUIRE(a.empty());
    REQUIRE(a.begin() == a.end());
    REQUIRE_FALSE(a.get(""));
    REQUIRE(a.lower_bound("x") == a.end());
    REQUIRE(a.longest_prefix("x") == a.end());
    FrozenLayerBuilder<std::uint64_t> b;
    const auto f = b.finish();
    REQUIRE(f.size() == 0);
    REQUIRE(f.prefix("").empty());
    f.verify();
    const auto g = FrozenLayer<std::uint64_t>::from_bytes(f.bytes());
    REQUIRE(g.empty());

    // Only the empty key.
    std::map<std::string, std::uint64_t> m{{"", 7}};
    const auto h = FrozenLayer<std::uint64_t>::from_sorted(m);
    memkv::test::key_generator gen(2);
    check_against(h, m, {"", "a", std::string(1, '\0')});
}

// MEMKV_TEST_SCALE=<n> builds and checks n rounds of the six layers (each
// round other keys), MEMKV_TEST_SEED other sequences (test_support.hpp).
TEST_CASE("FrozenLayer: random key sets against std::map", "[frozen][model]") {
    for (std::uint64_t round = 0; round < memkv::test::test_scale(); ++round)
    for (std::uint64_t seed : {1U, 2U, 3U, 4U, 5U, 6U}) {
        const std::uint64_t gen_seed = memkv::test::test_seed(seed + 1000 * round);
        CAPTURE(seed, round, gen_seed);
        memkv::test::key_generator::options go;
        go.long_probability = seed == 3 ? 0.002 : 0.0;
        memkv::test::key_generator gen(gen_seed, go);
        std::map<std::string, std::uint64_t> m;
        const std::size_t n = seed % 2 ? 3000 : 500;
        while (m.size() < n) m.emplace(gen.next(), gen.next_u64() >> (seed * 9 % 64));
        if (seed == 4) {  // ordinal values: no value column at all
            std::uint64_t r = 0;
            for (auto& kv : m) kv.second = r++;
        }
        memkv::frozen_layer_options opt;
        opt.table_sample_keys = seed * 50;
        opt.registry_rows = seed == 5 ? 1 : std::size_t{1} << 10;  // tiny registry still correct
        opt.registry_ways = seed == 5 ? 1 : 4;
        // Short random keys would switch pair nodes off automatically.
        opt.pair_nodes = seed % 3 == 0 ? memkv::frozen_layer_options::pairs_mode::never
                                       : memkv::frozen_layer_options::pairs_mode::always;
        FrozenLayerBuilder<std::uint64_t> b(opt);
        for (const auto& [k, v] : m) b.insert(k, v);
        const auto f = b.finish();
        if (seed == 4) REQUIRE(f.value_column_size() == 0);
        f.verify();
        const auto probes = make_probes(m, gen, 400);
        check_against(f, m, probes);
        // Operations: each key inserted, each key's lookups, each probe's.
        memkv::test::report_run("FrozenLayer build/query", gen_seed, 2 * m.size() + probes.size());
    }
}

TEST_CASE("FrozenLayer: run nodes (format version 2) agree with std::map and version 1", "[frozen][model][runs]") {
    // Random bytes make unbranched tails of labels outside the one-byte
    // table, which version 2 folds into run nodes: short and long ones (over
    // 255 labels: split), to the leaf and to a node below, keys that end
    // inside another key's run, and over 64 KiB of automaton, so folds meet
    // the byte sink's stage drains. Probes diverge inside runs at every side.
    for (std::uint64_t round = 0; round < memkv::test::test_scale(); ++round)
    for (std::uint64_t seed : {1U, 2U, 3U, 4U}) {
        const std::uint64_t gen_seed = memkv::test::test_seed(seed + 77 + 1000 * round);
        CAPTURE(seed, round, gen_seed);
        std::mt19937_64 rng(gen_seed);
        auto random_bytes = [&](std::size_t len) {
            std::string k(len, '\0');
            for (char& c : k) c = static_cast<char>(rng());
            return k;
        };
        std::map<std::string, std::uint64_t> m;
        std::vector<std::string> made;
        const std::size_t n = seed % 2 ? 3000 : 1000;
        while (m.size() < n) {
            std::string k;
            switch (rng() % 8) {
                case 0: k = random_bytes(200 + rng() % 500); break;  // runs longer than 255
                case 1: k = "shared/text/prefix/" + random_bytes(rng() % 20); break;
                case 2:  // a prefix of an earlier key: ends inside its run
                    if (!made.empty()) {
                        const std::string& b = made[rng() % made.size()];
                        k = b.substr(0, rng() % (b.size() + 1));
                    }
                    break;
                case 3:  // an earlier key with a different tail from some point
                    if (!made.empty()) {
                        const std::string& b = made[rng() % made.size()];
                        k = b.substr(0, rng() % (b.size() + 1)) + random_bytes(1 + rng() % 12);
                    }
                    break;
                default: k = random_bytes(1 + rng() % 24); break;
            }
            made.push_back(k);
            m.emplace(std::move(k), rng() >> (seed * 13 % 64));
        }
        std::vector<std::string> probes{"", std::string(1, '\0'), std::string(1, '\xff'), "\xff\xff"};
        std::size_t i = 0;
        for (const auto& [k, v] : m) {
            if (i++ % 5 != 0 || k.empty()) continue;
            const std::size_t at = rng() % k.size();
            std::string p = k;
            p[at] = static_cast<char>(p[at] + 1);  // diverges above at `at`
            probes.push_back(p.substr(0, at + 1 + rng() % 3));
            p[at] = static_cast<char>(k[at] - 1);  // ... and below
            probes.push_back(p);
            probes.push_back(k.substr(0, at));      // ends inside
            probes.push_back(k + random_bytes(1));  // runs past the end
        }
        memkv::frozen_layer_options opt;
        opt.format_version = 2;  // the automaton's nodes (version 3 has none)
        opt.table_sample_keys = 200;
        opt.pair_nodes = seed % 2 ? memkv::frozen_layer_options::pairs_mode::always
                                  : memkv::frozen_layer_options::pairs_mode::never;
        opt.registry_rows = seed == 4 ? 1 : std::size_t{1} << 10;
        opt.registry_ways = seed == 4 ? 1 : 4;
        memkv::frozen_layer_options opt1 = opt;
        opt1.format_version = 1;
        temp_file t("runs");
        auto build = [&](const memkv::frozen_layer_options& o, bool streaming, memkv::detail::frozen_build_stats& st) {
            auto b = streaming ? std::make_unique<FrozenLayerBuilder<std::uint64_t>>(t.path, o)
                               : std::make_unique<FrozenLayerBuilder<std::uint64_t>>(o);
            for (const auto& [k, v] : m) b->insert(k, v);
            st = b->stats();  // (finish() drops the compiler; its last cascade is not counted)
            return b->finish();
        };
        memkv::detail::frozen_build_stats s2, s1;
        const auto f2 = build(opt, seed >= 3, s2);
        f2.verify();
        REQUIRE(f2.bytes()[8] == 2);
        REQUIRE(s2.run_nodes > 0);
        REQUIRE(s2.run_labels > 2 * s2.run_nodes);
        check_against(f2, m, probes);
        const auto f1 = build(opt1, false, s1);
        REQUIRE(f1.bytes()[8] == 1);
        REQUIRE(s1.run_nodes == 0);
        CHECK(f2.bytes().size() < f1.bytes().size());
        check_against(f1, m, probes);
        memkv::test::report_run("FrozenLayer runs build/query", gen_seed, 2 * m.size() + probes.size());
    }
}

TEST_CASE("FrozenLayer: a version 1 file written by memkv before version 2 opens and answers", "[frozen][compat]") {
    // tests/data/frozen_v1.frz: see frozen_fixture.hpp for how it was made.
    const std::string path = std::string(MEMKV_TEST_FIXTURE_DIR) + "/frozen_v1.frz";
    const auto m = memkv::test::frozen_v1_fixture_keys();
    const auto f = FrozenLayer<std::uint64_t>::open(path);
    REQUIRE(f.bytes()[8] == 1);
    f.verify();
    memkv::test::key_generator gen(5);
    check_against(f, m, make_probes(m, gen, 200));
    // This build writes version 1 byte for byte as the old code did; version
    // 2 answers the same (the fixture's random-byte keys make runs).
    memkv::frozen_layer_options opt;
    opt.format_version = 1;
    const auto again = FrozenLayer<std::uint64_t>::from_sorted(m, opt);
    const std::vector<unsigned char> fixture(f.bytes().begin(), f.bytes().end());
    REQUIRE(std::vector<unsigned char>(again.bytes().begin(), again.bytes().end()) == fixture);
    memkv::frozen_layer_options opt2;
    opt2.format_version = 2;
    opt2.table_sample_keys = 100;  // compiles while inserting: stats() sees the runs
    FrozenLayerBuilder<std::uint64_t> b2(opt2);
    for (const auto& [k, v] : m) b2.insert(k, v);
    REQUIRE(b2.stats().run_nodes > 0);
    const auto v2 = b2.finish();
    REQUIRE(v2.bytes()[8] == 2);
    CHECK(v2.bytes().size() < fixture.size());
    check_against(v2, m, make_probes(m, gen, 200));
}

TEST_CASE("FrozenLayerBuilder: an unknown format version is refused before anything is written", "[frozen]") {
    for (const std::uint32_t v : {0U, memkv::detail::frozen_max_version + 1}) {
        memkv::frozen_layer_options opt;
        opt.format_version = v;
        REQUIRE_THROWS_AS(FrozenLayerBuilder<std::uint64_t>(opt), std::invalid_argument);
        temp_file t("badversion");
        REQUIRE_THROWS_WITH(FrozenLayerBuilder<std::uint64_t>(t.path, opt), Catch::Contains("format_version"));
        std::ifstream tmp(t.path + ".tmp");
        REQUIRE_FALSE(tmp.good());
    }
}

TEST_CASE("FrozenLayer: keys under a dominant prefix use the jump and agree with std::map", "[frozen]") {
    // 80% of the keys start with P; the others branch off along P, end on
    // it, or are P's own prefixes, so the automaton spells P a byte at a
    // time with side branches, and the jump starts lookups at P's end.
    const std::string P = "https://host.example/";
    for (const auto pairs : {memkv::frozen_layer_options::pairs_mode::always,
                             memkv::frozen_layer_options::pairs_mode::never}) {
        std::mt19937_64 rng(77);
        auto pick = [&rng](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
        std::map<std::string, std::uint64_t> m;
        while (m.size() < 4000) {
            std::string k;
            if (pick(10) < 8) {
                k = P;
            } else {
                k = P.substr(0, pick(P.size() + 1));
                if (pick(4) != 0) k.push_back(static_cast<char>(pick(256)));
            }
            for (std::size_t i = pick(8); i > 0; --i) k.push_back("abc/\0\xff"[pick(6)]);
            m.emplace(k, rng() % 1000);
        }
        memkv::frozen_layer_options opt;
        opt.pair_nodes = pairs;
        const auto f = FrozenLayer<std::uint64_t>::from_sorted(m, opt);
        f.verify();
        REQUIRE(f.jump_prefix() == P);
        std::vector<std::string> probes = {P, P + "zz", P + std::string(1, '\0'), P.substr(0, 20), ""};
        for (std::size_t i = 0; i < P.size(); ++i) probes.push_back(P.substr(0, i) + "#");
        for (const auto& kv : m) {
            if (pick(8) == 0) probes.push_back(kv.first + "a");
            if (pick(8) == 0 && !kv.first.empty()) probes.push_back(kv.first.substr(0, kv.first.size() - 1));
        }
        check_against(f, m, probes);
        // The jump is found again when the image is read back.
        const auto g = FrozenLayer<std::uint64_t>::from_bytes(f.bytes());
        REQUIRE(g.jump_prefix() == P);
        for (const auto& p : probes) REQUIRE(g.get(p) == f.get(p));
    }
    // No dominant path, or a short one: no jump.
    std::map<std::string, std::uint64_t> few{{"a", 1}, {"b", 2}, {"https://x", 3}};
    REQUIRE(FrozenLayer<std::uint64_t>::from_sorted(few).jump_prefix().empty());
    std::map<std::string, std::uint64_t> short_path{{"abc1", 1}, {"abc2", 2}, {"abc3", 3}};
    REQUIRE(FrozenLayer<std::uint64_t>::from_sorted(short_path).jump_prefix().empty());
}

TEST_CASE("FrozenLayer: suffix sharing keeps the automaton small", "[frozen]") {
    // 4096 keys from 16 prefixes x 256 suffixes share all their suffixes.
    std::map<std::string, std::uint64_t> m;
    for (int p = 0; p < 16; ++p)
        for (int s = 0; s < 256; ++s)
            m.emplace("prefix" + std::to_string(p * 7919) + "/suffix-" + std::to_string(s * 104729), m.size());
    memkv::frozen_layer_options opt;
    opt.format_version = 2;  // the automaton's nodes (version 3 has none)
    opt.pair_nodes = memkv::frozen_layer_options::pairs_mode::always;
    const auto f = FrozenLayer<std::uint64_t>::from_sorted(m, opt);
    CHECK(f.automaton_size() < m.size() * 3);
    memkv::test::key_generator gen(9);
    check_against(f, m, make_probes(m, gen, 100));
}

TEMPLATE_TEST_CASE("FrozenLayer: value types", "[frozen]", std::uint8_t, std::uint32_t, std::int64_t,
                   double) {
    std::map<std::string, TestType> m;
    memkv::test::key_generator gen(77);
    while (m.size() < 700) m.emplace(gen.next(), static_cast<TestType>(gen.next_u64() % 250));
    const auto f = FrozenLayer<TestType>::from_sorted(m);
    std::vector<std::string> probes{"", "zz"};
    check_against(f, m, probes);
    const auto g = FrozenLayer<TestType>::from_bytes(f.bytes());
    check_against(g, m, probes);
}

TEST_CASE("FrozenLayer: struct values", "[frozen]") {
    struct point {
        float x;
        std::int16_t y;
        bool operator==(const point&) const = default;
    };
    std::vector<std::pair<std::string, point>> items{{"b", {1.5f, 2}}, {"a", {3.f, -4}}, {"c", {0.f, 0}}};
    const auto f = FrozenLayer<point>::from_unsorted(items);
    REQUIRE(f.size() == 3);
    REQUIRE(f.at("a") == point{3.f, -4});
    REQUIRE(f.begin().key() == "a");
    items.push_back({"a", {0.f, 1}});
    REQUIRE_THROWS_AS(FrozenLayer<point>::from_unsorted(items), memkv::build_error);
}

TEST_CASE("FrozenLayerBuilder: order errors name both keys and leave the builder usable", "[frozen]") {
    FrozenLayerBuilder<std::uint64_t> b;
    b.insert("apple", 1);
    b.insert("banana", 2);
    try {
        b.insert("apricot", 3);
        FAIL("no exception");
    } catch (const memkv::build_error& e) {
        const std::string msg = e.what();
        CHECK(msg.find("\"apricot\"") != std::string::npos);
        CHECK(msg.find("\"banana\"") != std::string::npos);
    }
    try {
        b.insert("banana", 3);
        FAIL("no exception");
    } catch (const memkv::build_error& e) {
        CHECK(std::string(e.what()).find("duplicate") != std::string::npos);
    }
    REQUIRE_THROWS_AS(b.insert("ban", 3), memkv::build_error);    // a prefix of the last key
    REQUIRE_THROWS_AS(b.insert("", 3), memkv::build_error);       // empty after non-empty
    try {
        b.insert(std::string("\x01\xff", 2), 0);
    } catch (const memkv::build_error& e) {
        CHECK(std::string(e.what()).find("\\x01\\xff") != std::string::npos);
    }
    b.insert("cherry", 4);  // still usable
    const auto f = b.finish();
    REQUIRE(f.size() == 3);
    REQUIRE(f.get("cherry") == 4U);
    REQUIRE_THROWS_AS(b.insert("date", 5), std::logic_error);
    REQUIRE_THROWS_AS(b.finish(), std::logic_error);
}

TEST_CASE("FrozenLayer: save, open (mmap), from_bytes and streaming build agree", "[frozen]") {
    memkv::test::key_generator::options go;
    go.max_len = 40;  // enough bytes (12,000 keys) that the streaming writer drains its stage several times, in every version
    go.long_probability = 0;
    memkv::test::key_generator gen(31, go);
    std::map<std::string, std::uint64_t> m;
    while (m.size() < 12000) m.emplace(gen.next(), gen.next_u64() % 100000);
    memkv::frozen_layer_options opt;
    opt.pair_nodes = memkv::frozen_layer_options::pairs_mode::always;
    const auto f = FrozenLayer<std::uint64_t>::from_sorted(m, opt);
    REQUIRE(f.automaton_size() > 65536);

    temp_file saved("saved");
    f.save(saved.path);
    const auto bytes = read_file(saved.path);
    REQUIRE(bytes.size() == f.bytes().size());
    REQUIRE(std::equal(bytes.begin(), bytes.end(), f.bytes().begin()));

    auto g = FrozenLayer<std::uint64_t>::open(saved.path);
    g.verify();
    REQUIRE(g.memory_usage() >= bytes.size());
    std::vector<std::string> probes{"", "a", "zzz"};
    check_against(g, m, probes);
    auto moved = std::move(g);  // the mapping moves with the object
    REQUIRE(moved.get(m.begin()->first) == m.begin()->second);

    temp_file streamed("streamed");
    {
        FrozenLayerBuilder<std::uint64_t> b(streamed.path, opt);
        for (const auto& [k, v] : m) b.insert(k, v);
        const auto s = b.finish();
        s.verify();
        check_against(s, m, probes);
    }
    const auto sbytes = read_file(streamed.path);
    REQUIRE(sbytes == bytes);  // streaming and in-memory builds are byte-identical

    temp_file direct("direct");
    {
        FrozenLayerBuilder<std::uint64_t> b(opt);
        for (const auto& [k, v] : m) b.insert(k, v);
        const auto d = b.finish(direct.path);
        check_against(d, m, probes);
    }
    REQUIRE(read_file(direct.path) == bytes);
}

TEST_CASE("FrozenLayer: format errors", "[frozen]") {
    std::map<std::string, std::uint64_t> m{{"alpha", 1}, {"beta", 900}, {"gamma", 3}, {"", 4}};
    const auto f = FrozenLayer<std::uint64_t>::from_sorted(m);
    const std::vector<unsigned char> good(f.bytes().begin(), f.bytes().end());
    using span = std::span<const unsigned char>;

    SECTION("wrong magic") {
        auto b = good;
        b[0] = 'X';
        REQUIRE_THROWS_AS(FrozenLayer<std::uint64_t>::from_bytes(span(b)), memkv::format_error);
    }
    SECTION("wrong version") {
        auto b = good;
        b[8] = static_cast<unsigned char>(memkv::detail::frozen_max_version + 1);
        try {
            (void)FrozenLayer<std::uint64_t>::from_bytes(span(b));
            FAIL("no exception");
        } catch (const memkv::format_error& e) {
            CHECK(std::string(e.what()).find("version") != std::string::npos);
        }
    }
    SECTION("wrong value type and user tag") {
        REQUIRE_THROWS_AS(FrozenLayer<std::uint32_t>::from_bytes(span(good)), memkv::format_error);
        REQUIRE_THROWS_AS(FrozenLayer<double>::from_bytes(span(good)), memkv::format_error);
        REQUIRE_THROWS_AS(FrozenLayer<std::uint64_t>::from_bytes(span(good), 42), memkv::format_error);
    }
    SECTION("truncated at every length") {
        for (std::size_t len = 0; len < good.size(); ++len) {
            CAPTURE(len);
            REQUIRE_THROWS_AS(FrozenLayer<std::uint64_t>::from_bytes(span(good.data(), len)),
                              memkv::format_error);
        }
        auto longer = good;
        longer.push_back(0);
        REQUIRE_THROWS_AS(FrozenLayer<std::uint64_t>::from_bytes(span(longer)), memkv::format_error);
    }
    SECTION("every flipped byte is caught by open or verify") {
        for (std::size_t i = 0; i < good.size(); ++i) {
            for (int bit : {0x01, 0x80}) {
                CAPTURE(i, static_cast<int>(bit));
                auto b = good;
                b[i] = static_cast<unsigned char>(b[i] ^ bit);
                bool caught = false;
                try {
                    const auto g = FrozenLayer<std::uint64_t>::from_bytes(span(b));
                    g.verify();
                } catch (const memkv::format_error&) {
                    caught = true;
                }
                REQUIRE(caught);
            }
        }
    }
    SECTION("open on missing file and on a non-layer file") {
        REQUIRE_THROWS_AS(FrozenLayer<std::uint64_t>::open(temp_path("does-not-exist")), memkv::io_error);
        temp_file junk("junk");
        {
            std::ofstream out(junk.path, std::ios::binary);
            out << "this is not a frozen layer";
        }
        REQUIRE_THROWS_AS(FrozenLayer<std::uint64_t>::open(junk.path), memkv::format_error);
    }
}

TEST_CASE("FrozenLayer: words.txt round trip", "[frozen][data]") {
    auto words = memkv::test::read_lines(memkv::test::data_path("words.txt"));
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
    memkv::frozen_layer_options opt;
    opt.format_version = 2;  // the automaton's nodes (version 3 has none)
    opt.pair_nodes = memkv::frozen_layer_options::pairs_mode::always;
    FrozenLayerBuilder<std::uint64_t> b(opt);
    for (std::size_t i = 0; i < words.size(); ++i) b.insert(words[i], i * 3);
    const auto st = b.stats();
    CHECK(st.pair_nodes > 0);     // frequent label pairs were folded
    CHECK(st.registry_hits > 0);  // suffixes were shared
    const auto f = b.finish();
    REQUIRE(f.size() == words.size());
    std::size_t i = 0;
    for (auto it = f.begin(); it != f.end(); ++it, ++i) {
        REQUIRE(it.key() == words[i]);
        REQUIRE(it.value() == i * 3);
    }
    for (std::size_t j = 0; j < words.size(); j += 97) {
        REQUIRE(f.get(words[j]) == j * 3);
        REQUIRE(f.key_at(j) == words[j]);
    }
}

TEST_CASE("FrozenLayer: concurrent readers", "[frozen][threads]") {
    memkv::test::key_generator gen(55);
    std::map<std::string, std::uint64_t> m;
    while (m.size() < 3000) m.emplace(gen.next(), gen.next_u64() % 5000);
    const auto f = FrozenLayer<std::uint64_t>::from_sorted(m);
    std::vector<std::pair<std::string, std::uint64_t>> items(m.begin(), m.end());
    std::atomic<std::size_t> bad{0};
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (std::size_t i = t; i < items.size(); i += 2) {
                if (f.get(items[i].first) != items[i].second) ++bad;
                if (f.key_at(i) != items[i].first) ++bad;
            }
            std::size_t n = 0;
            for (auto it = f.begin(); it != f.end(); ++it) n += it.value() == items[it.ordinal()].second;
            if (n != items.size()) ++bad;
        });
    }
    for (auto& th : threads) th.join();
    REQUIRE(bad.load() == 0);
}

TEST_CASE("FrozenLayerBuilder: streaming builds for raw and ordinal value columns", "[frozen]") {
    memkv::test::key_generator gen(91);
    std::map<std::string, double> md;
    while (md.size() < 800) md.emplace(gen.next(), static_cast<double>(gen.next_u64() % 1000) / 8.0);
    temp_file a("stream_double");
    {
        FrozenLayerBuilder<double> b(a.path);
        for (const auto& [k, v] : md) b.insert(k, v);
        const auto f = b.finish();
        f.verify();
        check_against(f, md, {"", "zz"});
    }
    const auto reopened = FrozenLayer<double>::open(a.path);
    check_against(reopened, md, {"a"});

    std::map<std::string, std::uint32_t> mo;
    while (mo.size() < 800) mo.emplace(gen.next(), 0);
    std::uint32_t r = 0;
    for (auto& kv : mo) kv.second = r++;
    temp_file b_path("stream_ordinal");
    {
        FrozenLayerBuilder<std::uint32_t> b(b_path.path);
        for (const auto& [k, v] : mo) b.insert(k, v);
        const auto f = b.finish();
        REQUIRE(f.value_column_size() == 0);
        f.verify();
        check_against(f, mo, {"", "zz"});
    }
    // An abandoned streaming builder leaves no temporary files behind.
    temp_file c("stream_abandoned");
    {
        FrozenLayerBuilder<std::uint64_t> b(c.path);
        b.insert("x", 1);
    }
    REQUIRE_FALSE(std::ifstream(c.path + ".tmp").good());
    REQUIRE_FALSE(std::ifstream(c.path + ".values.tmp").good());
}

TEST_CASE("FrozenLayerBuilder: values that stop being ranks late are all kept; ranks alone spool nothing",
          "[frozen]") {
    memkv::test::key_generator gen(77);
    std::map<std::string, std::uint64_t> keys;
    while (keys.size() < 20000) keys.emplace(gen.next(), 0);
    // The first value that is not its key's rank: at the first key, in the
    // label sample (8192 keys), after it, at the last key, never.
    for (const std::size_t first_other : {std::size_t{0}, std::size_t{1}, std::size_t{5000}, std::size_t{12345},
                                          std::size_t{19999}, std::size_t{20000}}) {
        std::map<std::string, std::uint64_t> m = keys;
        std::uint64_t r = 0;
        for (auto& kv : m) {
            kv.second = r < first_other ? r : r * 3 + 7;
            ++r;
        }
        for (const bool streaming : {false, true}) {
            CAPTURE(first_other, streaming);
            temp_file t("late_values");
            std::optional<FrozenLayerBuilder<std::uint64_t>> b;
            if (streaming) {
                b.emplace(t.path);
            } else {
                b.emplace();
            }
            std::size_t i = 0;
            for (const auto& [k, v] : m) {
                b->insert(k, v);
                if (streaming && ++i == first_other && first_other > 9000) {
                    // 9,000+ ordinal values so far (72 KB as raw values):
                    // none of them reached the spool file.
                    std::ifstream spool(t.path + ".values.tmp", std::ios::binary | std::ios::ate);
                    REQUIRE(spool.good());
                    CHECK(spool.tellg() == 0);
                }
            }
            const auto f = b->finish();
            f.verify();
            CHECK(f.size() == m.size());
            CHECK((f.value_column_size() == 0) == (first_other == m.size()));
            for (const auto& [k, v] : m) REQUIRE(f.get(k) == v);
        }
    }
}
