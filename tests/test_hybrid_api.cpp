// HybridKV's vocabulary (docs-draft-vocabulary.md): insert never overwrites,
// insert_or_assign, get/at/contains/count, erase_prefix, longest_prefix,
// verify, key_view keys; the moved-from state; value-type requirements.

#include <memkv/hybrid_kv.hpp>

#include "memkv_catch.hpp"
#include "test_support.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <ranges>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <unistd.h>

namespace {

using KV = memkv::HybridKV<std::uint64_t>;
using Map = std::map<std::string, std::uint64_t>;
using Pairs = std::vector<std::pair<std::string, std::uint64_t>>;

static_assert(std::is_nothrow_move_constructible_v<KV>);
static_assert(std::is_nothrow_move_assignable_v<KV>);
static_assert(!std::is_copy_constructible_v<KV>);
static_assert(std::same_as<decltype(std::declval<KV&>().insert("k", 1)), bool>);
static_assert(std::same_as<decltype(std::declval<KV&>().insert_or_assign("k", 1)), bool>);
static_assert(std::same_as<decltype(std::declval<const KV&>().get("k")), std::optional<std::uint64_t>>);
static_assert(std::same_as<decltype(std::declval<const KV&>().at("k")), std::uint64_t>);
static_assert(std::same_as<decltype(std::declval<const KV&>().longest_prefix("k")),
                           std::optional<std::pair<std::string, std::uint64_t>>>);

// The requirements on V are static_asserts naming "memkv::HybridKV<V>" (a
// hard error, so not testable with a trait). Uncommenting this line must fail
// with "memkv::HybridKV<V>: alignof(V) must be at most 8":
//   memkv::MemKV<long double> too_aligned;

memkv::hybrid_options quiet() {
    memkv::hybrid_options o;
    o.background_compaction = false;
    return o;
}

template <class View>
Pairs collect(const View& v) {
    Pairs out;
    for (const auto& [k, val] : v) out.emplace_back(k, val);
    return out;
}

}  // namespace

TEST_CASE("HybridKV: insert of a present key keeps the old value", "[hybrid][api]") {
    // Regression: insert used to overwrite (insert_or_assign's meaning).
    KV kv(quiet());
    REQUIRE(kv.insert("k", 1));
    REQUIRE_FALSE(kv.insert("k", 2));  // in the active delta
    REQUIRE(kv.get("k") == 1);
    (void)kv.items();
    REQUIRE_FALSE(kv.insert("k", 3));  // in a sealed delta
    REQUIRE(kv.get("k") == 1);
    kv.compact();
    REQUIRE_FALSE(kv.insert("k", 4));  // in the base
    REQUIRE(kv.get("k") == 1);
    REQUIRE(kv.stats().delta_keys == 0);
    REQUIRE(kv.size() == 1);

    REQUIRE(kv.erase("k") == 1);  // a tombstone over the base
    REQUIRE(kv.insert("k", 5));   // absent again: inserted
    REQUIRE(kv.get("k") == 5);
    REQUIRE(kv.size() == 1);

    REQUIRE_FALSE(kv.insert_or_assign("k", 6));  // assigned
    REQUIRE(kv.get("k") == 6);
    REQUIRE(kv.insert_or_assign("j", 7));  // inserted
    REQUIRE(kv.size() == 2);
    REQUIRE(collect(kv.items()) == Pairs{{"j", 7}, {"k", 6}});
    kv.verify();
}

TEST_CASE("HybridKV: get, at, contains, count", "[hybrid][api]") {
    KV kv(quiet());
    REQUIRE(kv.insert("a", 1));
    kv.compact();
    REQUIRE(kv.insert("b", 2));
    REQUIRE(kv.at("a") == 1);
    REQUIRE(kv.at("b") == 2);
    REQUIRE_THROWS_AS(kv.at("c"), std::out_of_range);
    REQUIRE(kv.count("a") == 1);
    REQUIRE(kv.count("c") == 0);
    REQUIRE(kv.erase("a") == 1);
    REQUIRE_THROWS_AS(kv.at("a"), std::out_of_range);
    REQUIRE_FALSE(kv.contains("a"));
    REQUIRE(kv.count("a") == 0);

    const auto snap = kv.snapshot();
    REQUIRE(snap.at("b") == 2);
    REQUIRE_THROWS_AS(snap.at("a"), std::out_of_range);
    REQUIRE(snap.count("b") == 1);
    REQUIRE(snap.count("a") == 0);
}

TEST_CASE("HybridKV: binary keys through key_view", "[hybrid][api]") {
    KV kv(quiet());
    const std::vector<unsigned char> bin{0x00, 0xFF, 0x10};
    const std::array<std::byte, 2> bytes{std::byte{0x00}, std::byte{0xFF}};
    REQUIRE(kv.insert(bin, 1));
    REQUIRE(kv.get(std::span<const unsigned char>(bin)) == 1);
    REQUIRE(kv.contains(std::string("\x00\xff\x10", 3)));
    REQUIRE(collect(kv.prefix(std::span<const std::byte>(bytes))) == Pairs{{std::string("\x00\xff\x10", 3), 1}});
}

TEST_CASE("HybridKV: erase_prefix across layers", "[hybrid][api]") {
    const std::uint64_t seed = GENERATE(21u, 22u, 23u);
    INFO("seed " << seed);
    memkv::test::key_generator::options go;
    go.max_len = 6;
    go.long_probability = 0;
    memkv::test::key_generator gen(seed, go);
    memkv::hybrid_options o = quiet();
    o.max_sealed_deltas = 8;
    KV kv(o);
    Map model;
    for (int round = 0; round < 40; ++round) {
        for (int i = 0; i < 150; ++i) {
            const std::string k = gen.next();
            const std::uint64_t v = gen.next_u64();
            if (gen.chance(0.2)) {
                REQUIRE(kv.erase(k) == model.erase(k));
            } else {
                REQUIRE(kv.insert_or_assign(k, v) == model.insert_or_assign(k, v).second);
            }
        }
        if (round % 10 == 0) kv.compact();
        if (round % 3 == 0) (void)kv.items();  // a sealed delta
        std::string p = gen.next();
        p.resize(std::min<std::size_t>(p.size(), gen.pick(4)));
        std::size_t expect = 0;
        for (auto it = model.lower_bound(p); it != model.end() && it->first.starts_with(p);) {
            it = model.erase(it);
            ++expect;
        }
        INFO("prefix '" << p << "'");
        REQUIRE(kv.erase_prefix(p) == expect);
        REQUIRE(kv.size() == model.size());
        REQUIRE(kv.prefix(p).empty());
        REQUIRE(kv.erase_prefix(p) == 0);
    }
    REQUIRE(collect(kv.items()) == Pairs(model.begin(), model.end()));
    kv.verify();
    kv.compact();
    kv.verify();
    REQUIRE(kv.erase_prefix("") == model.size());
    REQUIRE(kv.empty());
    REQUIRE(kv.items().empty());
    kv.verify();
}

TEST_CASE("HybridKV: longest_prefix respects tombstones and layers", "[hybrid][api]") {
    KV kv(quiet());
    REQUIRE_FALSE(kv.longest_prefix("abc"));
    REQUIRE(kv.insert("", 0));
    REQUIRE(kv.insert("a", 1));
    REQUIRE(kv.insert("abc", 3));
    kv.compact();
    REQUIRE(kv.insert("ab", 2));
    using P = std::pair<std::string, std::uint64_t>;
    REQUIRE(kv.longest_prefix("abcd") == P{"abc", 3});
    REQUIRE(kv.longest_prefix("abc") == P{"abc", 3});
    REQUIRE(kv.longest_prefix("abx") == P{"ab", 2});
    REQUIRE(kv.erase("abc") == 1);  // tombstone over the base
    REQUIRE(kv.longest_prefix("abcd") == P{"ab", 2});
    const auto snap = kv.snapshot();
    REQUIRE(kv.erase("ab") == 1);
    REQUIRE(kv.longest_prefix("abcd") == P{"a", 1});
    REQUIRE(snap.longest_prefix("abcd") == P{"ab", 2});
    REQUIRE(kv.longest_prefix("zzz") == P{"", 0});
    REQUIRE(kv.erase("") == 1);
    REQUIRE_FALSE(kv.longest_prefix("zzz"));

    // Against the model on random keys.
    memkv::test::key_generator::options go;
    go.max_len = 5;
    go.long_probability = 0;
    memkv::test::key_generator gen(31, go);
    Map model{{"a", 1}};
    for (int i = 0; i < 2000; ++i) {
        const std::string k = gen.next();
        if (gen.chance(0.3)) {
            REQUIRE(kv.erase(k) == model.erase(k));
        } else {
            REQUIRE(kv.insert(k, static_cast<std::uint64_t>(i)) == model.insert({k, static_cast<std::uint64_t>(i)}).second);
        }
        if (i % 500 == 0) kv.compact();
        if (i % 170 == 0) (void)kv.items();
    }
    for (int i = 0; i < 500; ++i) {
        const std::string q = gen.next();
        std::optional<P> want;
        for (std::size_t n = q.size() + 1; n-- > 0 && !want;) {
            const auto it = model.find(q.substr(0, n));
            if (it != model.end()) want = *it;
        }
        REQUIRE(kv.longest_prefix(q) == want);
    }
}

TEST_CASE("HybridKV: verify checks the base's checksum", "[hybrid][api]") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::temp_directory_path() / ("memkv_hybrid_api_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    {
        KV kv(quiet());
        for (std::uint64_t i = 0; i < 1000; ++i) REQUIRE(kv.insert("key/" + std::to_string(i), i));
        kv.compact();
        REQUIRE(kv.erase("key/5") == 1);
        kv.verify();
        kv.snapshot().verify();
        kv.save((dir / "store").string());
        KV::open((dir / "store").string()).verify();
    }
    // Flip the last byte of the base file (covered by its payload CRC).
    fs::path base;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().filename().string().starts_with("store.run.")) base = e.path();
    }
    REQUIRE(!base.empty());
    {
        std::fstream f(base, std::ios::in | std::ios::out | std::ios::binary);
        f.seekg(-1, std::ios::end);
        char c = 0;
        f.get(c);
        f.seekp(-1, std::ios::end);
        f.put(static_cast<char>(c ^ 0x5A));
    }
    // open() checks every run's checksum; without that check, verify() does.
    REQUIRE_THROWS_AS(KV::open((dir / "store").string(), quiet()), memkv::format_error);
    memkv::hybrid_options unchecked = quiet();
    unchecked.verify_on_open = false;
    KV back = KV::open((dir / "store").string(), unchecked);
    REQUIRE_THROWS_AS(back.verify(), memkv::format_error);
    fs::remove_all(dir);
}

TEST_CASE("HybridKV: a moved-from store is a valid empty store", "[hybrid][api]") {
    // Regression: size() of a moved-from store used to dereference a null
    // engine (segfault).
    memkv::hybrid_options o = quiet();
    o.compaction_keys = 10;  // would compact if background compaction were on
    KV a(o);
    REQUIRE(a.insert("x", 1));
    KV b(std::move(a));
    REQUIRE(b.get("x") == 1);

    REQUIRE(a.size() == 0);  // NOLINT(bugprone-use-after-move): the point of the test
    REQUIRE(a.empty());
    REQUIRE_FALSE(a.get("x"));
    REQUIRE_FALSE(a.contains("x"));
    REQUIRE(a.count("x") == 0);
    REQUIRE_THROWS_AS(a.at("x"), std::out_of_range);
    REQUIRE_FALSE(a.longest_prefix("x"));
    REQUIRE(a.erase("x") == 0);
    REQUIRE(a.erase_prefix("") == 0);
    REQUIRE(a.items().empty());
    REQUIRE(a.prefix("x").begin() == a.prefix("x").end());
    REQUIRE(a.range("a", "z").empty());
    REQUIRE(a.from("").empty());
    REQUIRE(std::ranges::distance(a.items() | std::views::reverse) == 0);
    REQUIRE(a.snapshot().empty());
    REQUIRE(a.snapshot().items().empty());
    REQUIRE(a.stats().delta_keys == 0);
    REQUIRE_FALSE(a.compaction_running());
    REQUIRE(a.memory_usage() >= sizeof(KV));
    a.compact();
    a.verify();

    // It works again after a write, with its options kept.
    REQUIRE(a.insert("y", 2));
    REQUIRE_FALSE(a.insert("y", 3));
    for (std::uint64_t i = 0; i < 100; ++i) REQUIRE(a.insert("k" + std::to_string(i), i));
    REQUIRE(a.size() == 101);
    REQUIRE(a.get("y") == 2);
    REQUIRE(a.stats().compactions == 0);  // background_compaction stayed off
    a.verify();

    // Move assignment, both ways.
    KV c(quiet());
    c = std::move(a);
    REQUIRE(c.size() == 101);
    REQUIRE(a.size() == 0);  // NOLINT(bugprone-use-after-move)
    a = std::move(b);
    REQUIRE(a.get("x") == 1);
    REQUIRE(b.items().empty());  // NOLINT(bugprone-use-after-move)
}

TEST_CASE("HybridKV: first writes to a moved-from store race safely", "[hybrid][api][concurrency]") {
    KV a;
    KV b(std::move(a));
    std::vector<std::thread> threads;
    for (std::uint64_t t = 0; t < 4; ++t) {
        threads.emplace_back([&a, t] {
            for (std::uint64_t i = 0; i < 200; ++i) a.insert("t" + std::to_string(t) + "/" + std::to_string(i), i);
        });
    }
    for (auto& th : threads) th.join();
    REQUIRE(a.size() == 800);  // NOLINT(bugprone-use-after-move)
    a.verify();
}

TEST_CASE("HybridKV: a value type wider than 64 bits", "[hybrid][api]") {
    struct wide {
        std::uint64_t lo;
        std::uint64_t hi;
        bool operator==(const wide&) const = default;
    };
    static_assert(sizeof(wide) == 16);
    memkv::HybridKV<wide> kv(quiet());
    for (std::uint64_t i = 0; i < 300; ++i) REQUIRE(kv.insert("w" + std::to_string(i), wide{i, ~i}));
    kv.compact();  // into the base's raw column
    REQUIRE(kv.insert_or_assign("w7", wide{7, 7}) == false);
    REQUIRE(kv.erase("w8") == 1);
    REQUIRE(kv.get("w5") == wide{5, ~std::uint64_t{5}});
    REQUIRE(kv.at("w7") == wide{7, 7});
    REQUIRE_FALSE(kv.get("w8"));
    std::size_t n = 0;
    for (const auto& [k, v] : kv.items()) {
        REQUIRE(v.hi == (k == "w7" ? 7 : ~v.lo));
        ++n;
    }
    REQUIRE(n == 299);
    const auto last = *std::ranges::prev(kv.prefix("w").end());
    REQUIRE(last.first == "w99");
    REQUIRE(last.second == wide{99, ~std::uint64_t{99}});
    kv.verify();
}
