// HybridKV views: the bidirectional merge over sealed deltas, the base and
// tombstones, compared with std::map forwards, backwards and in random
// back-and-forth walks; iterator and range concepts; <ranges> adaptors.

#include <memkv/hybrid_kv.hpp>

#include "memkv_catch.hpp"
#include "test_support.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <map>
#include <ranges>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using KV = memkv::HybridKV<std::uint64_t>;
using View = KV::view_type;
using It = View::iterator;
using Map = std::map<std::string, std::uint64_t>;
using Pairs = std::vector<std::pair<std::string, std::uint64_t>>;

static_assert(std::bidirectional_iterator<It>);
static_assert(std::bidirectional_iterator<std::reverse_iterator<It>>);
static_assert(std::ranges::bidirectional_range<View>);
static_assert(std::ranges::common_range<View>);
static_assert(std::ranges::view<View>);
static_assert(std::ranges::borrowed_range<View>);
static_assert(std::ranges::bidirectional_range<decltype(std::declval<View>() | std::views::reverse)>);
static_assert(std::same_as<std::iter_value_t<It>, std::pair<std::string, std::uint64_t>>);
static_assert(std::same_as<std::iter_reference_t<It>, const memkv::entry<std::uint64_t>>);
static_assert(std::same_as<It::pointer, memkv::detail::arrow_proxy<memkv::entry<std::uint64_t>>>);
static_assert(std::same_as<It::iterator_category, std::input_iterator_tag>);
static_assert(std::same_as<It::iterator_concept, std::bidirectional_iterator_tag>);
static_assert(std::same_as<KV::snapshot_type::view_type, View>);

std::size_t test_scale() {
    const char* s = std::getenv("MEMKV_TEST_SCALE");
    const long v = s != nullptr ? std::atol(s) : 1;
    return v > 0 ? static_cast<std::size_t>(v) : 1;
}

memkv::hybrid_options quiet() {
    memkv::hybrid_options o;
    o.background_compaction = false;
    o.max_sealed_deltas = 16;  // let sealed deltas pile up: more layers to merge
    return o;
}

Pairs model_bounds(const Map& m, const std::string& lo, const std::string* hi, const std::string* prefix) {
    Pairs out;
    for (auto it = m.lower_bound(lo); it != m.end(); ++it) {
        if (hi != nullptr && !(it->first < *hi)) break;
        if (prefix != nullptr && !it->first.starts_with(*prefix)) break;
        out.emplace_back(*it);
    }
    return out;
}

Pairs forward(const View& v) {
    Pairs out;
    for (auto [k, val] : v) out.emplace_back(k, val);
    return out;
}

// Through std::reverse_iterator directly (views::reverse is checked apart).
Pairs backward(const View& v) {
    Pairs out;
    for (auto it = std::make_reverse_iterator(v.end()); it != std::make_reverse_iterator(v.begin()); ++it) {
        out.emplace_back(it->first, it->second);
    }
    return out;
}

bool same(const memkv::entry<std::uint64_t>& e, const std::pair<std::string, std::uint64_t>& p) {
    return e.first == p.first && e.second == p.second;
}

// Random ++/-- walk over [begin, end], compared with the model at each step.
void random_walk(const View& v, const Pairs& want, memkv::test::key_generator& gen, std::size_t steps) {
    const std::size_t n = want.size();
    std::size_t pos = 0;
    It it = v.begin();
    if (n != 0 && gen.chance(0.5)) {  // start from the end
        it = v.end();
        pos = n;
    }
    for (std::size_t i = 0; i < steps; ++i) {
        if (pos == n) {
            REQUIRE(it == v.end());
        } else {
            REQUIRE(it != v.end());
            REQUIRE(it.key() == want[pos].first);
            REQUIRE(it.value() == want[pos].second);
            REQUIRE(same(*it, want[pos]));
        }
        if (n == 0) return;
        const bool back = pos == n || (pos != 0 && gen.chance(0.5));
        if (back) {
            if (gen.chance(0.5)) {
                --it;
            } else {
                const It old = it--;
                REQUIRE((pos == n ? old == v.end() : old.key() == want[pos].first));
            }
            --pos;
        } else {
            ++it;
            ++pos;
        }
    }
}

// A store with a base, several sealed deltas (newest shadowing older ones)
// and tombstones at every level, and its model.
void build(KV& kv, Map& model, memkv::test::key_generator& gen, const std::vector<std::string>& pool,
           std::size_t deltas) {
    auto mutate = [&](std::size_t ops) {
        for (std::size_t i = 0; i < ops; ++i) {
            const std::string& k = pool[gen.pick(pool.size())];
            const std::uint64_t v = gen.next_u64();
            if (gen.chance(0.35)) {
                REQUIRE(kv.erase(k) == model.erase(k));
            } else if (gen.chance(0.5)) {
                REQUIRE(kv.insert(k, v) == model.insert({k, v}).second);
            } else {
                REQUIRE(kv.insert_or_assign(k, v) == model.insert_or_assign(k, v).second);
            }
        }
    };
    mutate(pool.size());
    kv.compact();
    for (std::size_t d = 0; d < deltas; ++d) {
        mutate(pool.size() / 4);
        (void)kv.items();  // seals the active delta: one more layer
    }
    mutate(pool.size() / 8);  // and an active delta that the views seal
    REQUIRE(kv.size() == model.size());
}

}  // namespace

TEST_CASE("HybridKV views: hand-checked layers and tombstones at the edges", "[hybrid][views]") {
    KV kv(quiet());
    for (const char* k : {"a", "b", "ba", "c", "d"}) REQUIRE(kv.insert(k, static_cast<std::uint64_t>(k[0])));
    kv.compact();                       // base: a b ba c d
    REQUIRE(kv.erase("a") == 1);        // tombstone on the first key
    REQUIRE(kv.insert("bb", 7));
    (void)kv.items();                   // sealed delta 1
    REQUIRE(kv.erase("d") == 1);        // tombstone on the last key
    REQUIRE(kv.erase("bb") == 1);       // tombstone over a delta key
    REQUIRE(kv.insert_or_assign("c", 9) == false);
    (void)kv.items();                   // sealed delta 0
    REQUIRE(kv.insert("e", 5));         // active delta
    REQUIRE(kv.stats().sealed_deltas == 2);

    const Pairs all{{"b", 'b'}, {"ba", 'b'}, {"c", 9}, {"e", 5}};
    const View v = kv.items();
    REQUIRE(forward(v) == all);
    REQUIRE(backward(v) == Pairs(all.rbegin(), all.rend()));
    REQUIRE((--v.end()).key() == "e");
    REQUIRE(std::ranges::prev(v.end(), 4) == v.begin());

    REQUIRE(forward(kv.prefix("b")) == Pairs{{"b", 'b'}, {"ba", 'b'}});
    REQUIRE(backward(kv.prefix("b")) == Pairs{{"ba", 'b'}, {"b", 'b'}});
    REQUIRE((--kv.prefix("b").end()).key() == "ba");  // "bb" is a tombstone
    REQUIRE(backward(kv.range("a", "c")) == Pairs{{"ba", 'b'}, {"b", 'b'}});
    REQUIRE(backward(kv.range("b", "d")) == Pairs{{"c", 9}, {"ba", 'b'}, {"b", 'b'}});
    REQUIRE(backward(kv.from("bb")) == Pairs{{"e", 5}, {"c", 9}});
    REQUIRE(forward(kv.range("c", "b")).empty());  // hi <= lo
    REQUIRE(kv.range("c", "b").empty());
    REQUIRE(kv.range("c", "c").begin() == kv.range("c", "c").end());
    REQUIRE(kv.prefix("a").empty());  // only a tombstone
    REQUIRE(kv.prefix("d").begin() == kv.prefix("d").end());
    REQUIRE(View{}.begin() == View{}.end());

    // Direction changes in the middle, across tombstones.
    It it = v.begin();  // b
    ++it;               // ba
    ++it;               // c
    REQUIRE(it.key() == "c");
    --it;
    REQUIRE(it.key() == "ba");
    ++it;
    ++it;
    REQUIRE(it.key() == "e");
    --it;
    --it;
    --it;
    REQUIRE(it == v.begin());
    ++it;
    REQUIRE(it.key() == "ba");
}

TEST_CASE("HybridKV views: 0xFF prefixes and the empty prefix", "[hybrid][views]") {
    KV kv(quiet());
    const std::string ff = "\xff";
    for (const std::string& k : {std::string(), std::string("a"), ff, ff + "a", ff + ff, ff + ff + "\x01"}) {
        REQUIRE(kv.insert(k, k.size()));
    }
    kv.compact();
    REQUIRE(kv.erase(ff + "a") == 1);
    REQUIRE(kv.insert(ff + "b", 2));
    REQUIRE(backward(kv.prefix(ff)) == Pairs{{ff + ff + "\x01", 3}, {ff + ff, 2}, {ff + "b", 2}, {ff, 1}});
    REQUIRE(forward(kv.prefix(ff + ff)) == Pairs{{ff + ff, 2}, {ff + ff + "\x01", 3}});
    REQUIRE(forward(kv.prefix("")).size() == 6);
    REQUIRE(backward(kv.prefix("")).back() == std::pair<std::string, std::uint64_t>("", 0));
}

TEST_CASE("HybridKV views: <ranges> and <algorithm>", "[hybrid][views]") {
    KV kv(quiet());
    for (std::uint64_t i = 0; i < 20; ++i) REQUIRE(kv.insert("n" + std::to_string(100 + i), i));
    kv.compact();
    for (std::uint64_t i = 0; i < 20; i += 4) REQUIRE(kv.erase("n" + std::to_string(100 + i)) == 1);
    const View v = kv.prefix("n1");

    const auto found = std::ranges::find_if(v, [](const auto& e) { return e.second == 7; });
    REQUIRE(found != v.end());
    REQUIRE(found->first == "n107");
    REQUIRE((*std::ranges::prev(found)).first == "n106");

    std::vector<std::string> keys;
    for (const std::string& k : v | std::views::keys) keys.push_back(k);
    REQUIRE(keys.size() == 15);
    REQUIRE(std::ranges::is_sorted(keys));
    std::vector<std::string> rkeys;
    for (const std::string& k : v | std::views::reverse | std::views::keys) rkeys.push_back(k);
    REQUIRE(std::ranges::equal(rkeys, keys | std::views::reverse));
    REQUIRE(std::ranges::distance(v) == 15);

    std::uint64_t sum = 0;
    for (auto& [k, val] : v) {
        REQUIRE(k.starts_with("n1"));
        sum += val;
    }
    for (const auto& [k, val] : v | std::views::reverse) sum -= val;
    REQUIRE(sum == 0);

    // The entry owns its key: valid after the iterator moved on.
    It it = v.begin();
    const auto e = *it;
    ++it;
    REQUIRE(e.first == "n101");
    REQUIRE(it->first == "n102");

    // Iterators outlive their view, which outlives the store.
    It end_it;
    It last;
    {
        KV other(quiet());
        REQUIRE(other.insert("x", 1));
        REQUIRE(other.insert("y", 2));
        const View ov = other.items();
        end_it = ov.end();
        last = std::ranges::prev(ov.end());
    }
    REQUIRE(last.key() == "y");
    --last;
    REQUIRE(last.key() == "x");
    --end_it;
    REQUIRE(end_it.key() == "y");
}

TEST_CASE("HybridKV views: random layered stores, both directions, against std::map", "[hybrid][views][model]") {
    const std::uint64_t seed = GENERATE(11u, 12u, 13u, 14u, 15u, 16u);
    INFO("seed " << seed);
    memkv::test::key_generator::options go;
    go.max_len = 6;
    go.long_probability = 0;
    memkv::test::key_generator gen(seed, go);
    std::vector<std::string> pool;
    for (int i = 0; i < 600; ++i) pool.push_back(gen.next());

    KV kv(quiet());
    Map model;
    build(kv, model, gen, pool, 3 + seed % 4);
    const auto snap = kv.snapshot();
    REQUIRE(kv.stats().sealed_deltas >= 3);
    REQUIRE(kv.stats().base_keys > 0);

    const Pairs all(model.begin(), model.end());
    for (const View& v : {kv.items(), snap.items()}) {
        REQUIRE(forward(v) == all);
        REQUIRE(backward(v) == Pairs(all.rbegin(), all.rend()));
        REQUIRE(std::ranges::equal(v | std::views::reverse, all | std::views::reverse, same));
        random_walk(v, all, gen, 1500);
    }
    kv.verify();
    snap.verify();

    const std::size_t queries = 40 * test_scale();
    for (std::size_t q = 0; q < queries; ++q) {
        const std::string a = pool[gen.pick(pool.size())];
        const std::string b = pool[gen.pick(pool.size())];
        const std::string p = a.substr(0, gen.pick(std::min<std::size_t>(a.size(), 3) + 1));
        const bool from_snap = gen.chance(0.5);
        auto pick = [&](auto f) { return from_snap ? f(snap) : f(kv); };

        const Pairs want_p = model_bounds(model, p, nullptr, &p);
        const Pairs want_r = model_bounds(model, a, &b, nullptr);  // empty if b <= a
        const Pairs want_f = model_bounds(model, a, nullptr, nullptr);
        const View vp = pick([&](const auto& s) { return s.prefix(p); });
        const View vr = pick([&](const auto& s) { return s.range(a, b); });
        const View vf = pick([&](const auto& s) { return s.from(a); });
        INFO("prefix '" << p << "' range [" << a << ", " << b << ")");
        for (const auto& [v, want] : {std::pair{vp, want_p}, std::pair{vr, want_r}, std::pair{vf, want_f}}) {
            REQUIRE(forward(v) == want);
            REQUIRE(backward(v) == Pairs(want.rbegin(), want.rend()));
            REQUIRE(std::ranges::equal(v | std::views::reverse, want | std::views::reverse, same));
            REQUIRE(v.empty() == want.empty());
            random_walk(v, want, gen, 60);
        }
    }
}
