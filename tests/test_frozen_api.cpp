// FrozenLayer's standard vocabulary: real C++20 iterators and views, find /
// get / at / count, key_view keys, the moved-from state, wide values, the
// builder's failed-finish retry, open() messages and the unchanged format.
// Everything is compared against a std::map model.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <ranges>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "memkv_catch.hpp"
#include "test_support.hpp"

#include <memkv/detail/io/crc32c.hpp>
#include <memkv/frozen_layer.hpp>

namespace {

using memkv::FrozenLayer;
using memkv::FrozenLayerBuilder;
using layer = FrozenLayer<std::uint64_t>;
using model = std::map<std::string, std::uint64_t>;

// --- compile-time: the iterator and view concepts -------------------------

using iter = layer::const_iterator;
static_assert(std::same_as<layer::iterator, layer::const_iterator>);
static_assert(std::bidirectional_iterator<iter>);
static_assert(std::same_as<iter::iterator_category, std::input_iterator_tag>);
static_assert(std::same_as<iter::iterator_concept, std::bidirectional_iterator_tag>);
static_assert(std::same_as<std::iter_value_t<iter>, std::pair<std::string, std::uint64_t>>);
static_assert(std::same_as<std::iter_reference_t<iter>, const memkv::entry<std::uint64_t>>);
static_assert(std::same_as<iter::pointer, memkv::detail::arrow_proxy<memkv::entry<std::uint64_t>>>);
static_assert(std::same_as<layer::const_reverse_iterator, std::reverse_iterator<iter>>);
static_assert(std::bidirectional_iterator<layer::const_reverse_iterator>);
static_assert(std::ranges::bidirectional_range<const layer&>);
static_assert(std::ranges::common_range<const layer&>);
using view = decltype(std::declval<const layer&>().prefix(""));
static_assert(std::same_as<view, layer::view>);
static_assert(std::same_as<decltype(std::declval<const layer&>().range("", "")), view>);
static_assert(std::same_as<decltype(std::declval<const layer&>().from("")), view>);
static_assert(std::ranges::view<view>);
static_assert(std::derived_from<view, std::ranges::view_base>);
static_assert(std::ranges::bidirectional_range<view>);
static_assert(std::ranges::common_range<view>);
static_assert(std::ranges::borrowed_range<view>);
static_assert(std::ranges::sized_range<view>);
static_assert(std::ranges::view<decltype(std::declval<view>() | std::views::reverse)>);
static_assert(std::same_as<decltype(std::declval<const layer&>().find("")), iter>);
static_assert(std::same_as<decltype(std::declval<const layer&>().get("")), std::optional<std::uint64_t>>);
static_assert(std::same_as<decltype(std::declval<const layer&>().at("")), std::uint64_t>);
static_assert(std::same_as<decltype(std::declval<const layer&>().longest_prefix("")), iter>);
static_assert(std::same_as<decltype(std::declval<const layer&>().equal_range("")), std::pair<iter, iter>>);
static_assert(std::is_nothrow_move_constructible_v<layer>);
static_assert(std::is_nothrow_move_assignable_v<layer>);
static_assert(std::is_nothrow_default_constructible_v<layer>);
static_assert(!std::is_copy_constructible_v<layer>);

std::string temp_path(const std::string& name) {
    return "/tmp/memkv_test_frozen_api_" + std::to_string(::getpid()) + "_" + name;
}

struct temp_file {
    std::string path;
    explicit temp_file(const std::string& name) : path(temp_path(name)) {}
    ~temp_file() {
        std::remove(path.c_str());
        std::remove((path + ".tmp").c_str());
    }
};

// Keys with shared prefixes, prefix keys, NUL and 0xFF bytes, the empty key.
model make_model(std::uint64_t seed, std::size_t n) {
    std::mt19937_64 rng(seed);
    model m;
    const char alphabet[] = {'a', 'b', 'c', '/', '\0', '\xff'};
    m.emplace("", rng() % 1000);
    while (m.size() < n) {
        std::string k = (rng() % 3 == 0) ? std::string("https://x/") : std::string();
        for (std::size_t i = 1 + rng() % 6; i > 0; --i) k.push_back(alphabet[rng() % sizeof alphabet]);
        m.emplace(k, rng() % 100000);
    }
    return m;
}

std::vector<std::pair<std::string, std::uint64_t>> items_of(const model& m) { return {m.begin(), m.end()}; }

template <class R>
std::vector<std::pair<std::string, std::uint64_t>> collect(R&& r) {
    std::vector<std::pair<std::string, std::uint64_t>> out;
    for (auto&& [k, v] : r) out.emplace_back(k, v);
    return out;
}

std::vector<std::string> probes_of(const model& m) {
    std::vector<std::string> p{"", std::string(1, '\0'), "\xff", "\xff\xff", "https://x/", "https://x/a", "zz"};
    std::size_t i = 0;
    for (const auto& [k, v] : m) {
        if (i++ % 5 != 0) continue;
        p.push_back(k);
        p.push_back(k + '\0');
        p.push_back(k.substr(0, k.size() / 2));
        if (!k.empty()) {
            std::string c = k;
            c.back() = static_cast<char>(c.back() + 1);
            p.push_back(c);
        }
    }
    return p;
}

}  // namespace

TEST_CASE("FrozenLayer iterators: views::reverse yields the right keys (regression)", "[frozen][api]") {
    // The old reference, pair<string_view, V>, pointed into the iterator
    // std::reverse_iterator had just destroyed: garbage keys.
    const model m = make_model(1, 600);
    const layer f = layer::from_sorted(m);
    std::vector<std::pair<std::string, std::uint64_t>> got;
    for (auto [k, v] : f | std::views::reverse) got.emplace_back(k, v);
    const std::vector<std::pair<std::string, std::uint64_t>> want(m.rbegin(), m.rend());
    REQUIRE(got == want);
    // The same through rbegin/rend and std::reverse_iterator directly.
    got.clear();
    for (auto it = f.rbegin(); it != f.rend(); ++it) {
        REQUIRE(it->first == (*it).first);
        got.emplace_back(it->first, it->second);
    }
    REQUIRE(got == want);
    got.clear();
    for (auto it = std::make_reverse_iterator(f.end()); it != std::make_reverse_iterator(f.begin()); ++it)
        got.emplace_back((*it).first, (*it).second);
    REQUIRE(got == want);
    // A view reversed.
    const auto mlo = m.lower_bound("https://x/");
    const std::vector<std::pair<std::string, std::uint64_t>> want_pre(
        std::make_reverse_iterator(m.lower_bound("https://x0")), std::make_reverse_iterator(mlo));
    REQUIRE(collect(f.prefix("https://x/") | std::views::reverse) == want_pre);
}

TEST_CASE("FrozenLayer iterators: collected entries own their keys (regression)", "[frozen][api]") {
    // The old reference's keys all aliased the iterator's one key buffer.
    const model m = make_model(2, 300);
    const layer f = layer::from_sorted(m);
    std::vector<std::remove_cvref_t<decltype(*f.begin())>> kept;
    for (auto it = f.begin(); it != f.end(); ++it) kept.push_back(*it);
    REQUIRE(kept.size() == m.size());
    auto mi = m.begin();
    for (const auto& e : kept) {
        REQUIRE(std::string(e.first) == mi->first);
        REQUIRE(e.second == mi->second);
        ++mi;
    }
    // Into the value_type, through the iterator-pair constructor.
    const std::vector<std::pair<std::string, std::uint64_t>> values(f.begin(), f.end());
    REQUIRE(values == items_of(m));
    // An entry outlives its iterator.
    auto e = [&] {
        auto it = f.lower_bound("b");
        return *it;
    }();
    REQUIRE(e.first == m.lower_bound("b")->first);
}

TEST_CASE("FrozenLayer iterators: range-for bindings, algorithms, views::keys against std::map", "[frozen][api]") {
    const model m = make_model(3, 800);
    const layer f = layer::from_sorted(m);
    const auto want = items_of(m);
    {
        std::vector<std::pair<std::string, std::uint64_t>> got;
        for (auto& [k, v] : f) got.emplace_back(k, v);
        REQUIRE(got == want);
    }
    {
        std::vector<std::pair<std::string, std::uint64_t>> got;
        for (const auto& [k, v] : f) got.emplace_back(k, v);
        REQUIRE(got == want);
    }
    {
        std::vector<std::pair<std::string, std::uint64_t>> got;
        for (auto [k, v] : f) got.emplace_back(std::move(k), v);
        REQUIRE(got == want);
    }
    {
        std::vector<std::pair<std::string, std::uint64_t>> got;
        for (auto it = f.begin(); it != f.end(); ++it) got.emplace_back(it->first, it->second);
        REQUIRE(got == want);
    }
    {
        std::vector<std::string> keys;
        for (const std::string& k : f | std::views::keys) keys.push_back(k);
        std::vector<std::uint64_t> values;
        for (std::uint64_t v : f | std::views::values) values.push_back(v);
        REQUIRE(keys.size() == m.size());
        std::size_t i = 0;
        for (const auto& [k, v] : m) {
            REQUIRE(keys[i] == k);
            REQUIRE(values[i] == v);
            ++i;
        }
    }
    // <algorithm> and std::ranges algorithms.
    const auto target = std::next(m.begin(), static_cast<std::ptrdiff_t>(m.size() / 3));
    auto hit = std::ranges::find_if(f, [&](const auto& e) { return e.second == target->second && e.first == target->first; });
    REQUIRE(hit != f.end());
    REQUIRE(hit.key() == target->first);
    REQUIRE(hit.ordinal() == m.size() / 3);
    REQUIRE(std::ranges::distance(f) == static_cast<std::ptrdiff_t>(m.size()));
    REQUIRE(std::distance(f.begin(), f.end()) == static_cast<std::ptrdiff_t>(m.size()));
    REQUIRE(std::ranges::equal(f, m, [](const auto& a, const auto& b) { return a.first == b.first && a.second == b.second; }));
    REQUIRE(std::count_if(f.begin(), f.end(), [](const auto& e) { return e.first.empty(); }) == 1);
    // --end() is the last key; both ends of a walk back meet.
    auto last = f.end();
    --last;
    REQUIRE(last.key() == m.rbegin()->first);
    // The classic std::prev follows iterator_category (input): std::ranges::prev.
    REQUIRE(std::ranges::prev(f.end())->second == m.rbegin()->second);
    REQUIRE(std::ranges::next(f.begin(), 2).ordinal() == 2);
    auto first = last;
    for (std::size_t i = 1; i < m.size(); ++i) --first;
    REQUIRE(first == f.begin());
    REQUIRE(first.key() == m.begin()->first);
}

TEST_CASE("FrozenLayer views: prefix, range, from against std::map", "[frozen][api]") {
    const model m = make_model(4, 1500);
    const layer f = layer::from_sorted(m);
    const auto probes = probes_of(m);
    for (const std::string& p : probes) {
        CAPTURE(p);
        // prefix(p), and its old name
        std::vector<std::pair<std::string, std::uint64_t>> want;
        for (auto i = m.lower_bound(p); i != m.end() && i->first.compare(0, p.size(), p) == 0; ++i)
            want.emplace_back(*i);
        const auto pv = f.prefix(p);
        REQUIRE(collect(pv) == want);
        REQUIRE(collect(f.equal_prefix_range(p)) == want);
        REQUIRE(pv.empty() == want.empty());
        REQUIRE(pv.size() == want.size());
        REQUIRE(std::ranges::distance(pv) == static_cast<std::ptrdiff_t>(want.size()));
        std::reverse(want.begin(), want.end());
        REQUIRE(collect(pv | std::views::reverse) == want);
        // from(p)
        const std::vector<std::pair<std::string, std::uint64_t>> want_from(m.lower_bound(p), m.end());
        REQUIRE(collect(f.from(p)) == want_from);
    }
    for (std::size_t i = 0; i + 1 < probes.size(); ++i) {
        const std::string& lo = probes[i];
        const std::string& hi = probes[i + 1];
        CAPTURE(lo, hi);
        std::vector<std::pair<std::string, std::uint64_t>> want;
        if (lo < hi) want.assign(m.lower_bound(lo), m.lower_bound(hi));
        const auto rv = f.range(lo, hi);
        REQUIRE(collect(rv) == want);
        REQUIRE(rv.empty() == want.empty());
        std::reverse(want.begin(), want.end());
        REQUIRE(collect(rv | std::views::reverse) == want);
    }
    REQUIRE(f.range("b", "a").empty());
    REQUIRE(f.range("b", "b").empty());
    // Borrowed: iterators of a temporary view stay valid (they point to f).
    auto it = std::ranges::begin(f.prefix("https://x/"));
    REQUIRE(it != f.end());
    REQUIRE(it.key().rfind("https://x/", 0) == 0);
    // A view is default-constructible, copyable, and front/back work.
    view v;
    REQUIRE(v.empty());
    v = f.from("b");
    REQUIRE(v.front().first == m.lower_bound("b")->first);
    REQUIRE(v.back().first == m.rbegin()->first);
}

TEST_CASE("FrozenLayer: find is a lazy iterator; get, at, count, contains, equal_range, longest_prefix", "[frozen][api]") {
    const model m = make_model(5, 1200);
    const layer f = layer::from_sorted(m);
    for (const std::string& p : probes_of(m)) {
        CAPTURE(p);
        const auto mi = m.find(p);
        auto it = f.find(p);
        REQUIRE(f.contains(p) == (mi != m.end()));
        REQUIRE(f.count(p) == m.count(p));
        const auto [elo, ehi] = f.equal_range(p);
        const auto [mlo, mhi] = m.equal_range(p);
        REQUIRE(elo.ordinal() == static_cast<std::size_t>(std::distance(m.begin(), mlo)));
        REQUIRE(ehi.ordinal() == static_cast<std::size_t>(std::distance(m.begin(), mhi)));
        if (mi == m.end()) {
            REQUIRE(it == f.end());
            REQUIRE_FALSE(f.get(p));
            REQUIRE_THROWS_AS(f.at(p), std::out_of_range);
        } else {
            REQUIRE(it != f.end());
            REQUIRE(f.get(p) == mi->second);
            REQUIRE(f.at(p) == mi->second);
            // Lazy: everything answers before the first step...
            REQUIRE(it.key() == p);
            REQUIRE(it.value() == mi->second);
            REQUIRE(it.ordinal() == static_cast<std::size_t>(std::distance(m.begin(), mi)));
            REQUIRE(it->first == p);
            REQUIRE((*it).second == mi->second);
            REQUIRE(it == f.lower_bound(p));
            // ...and stepping builds the frames.
            auto next = it;
            ++next;
            if (std::next(mi) == m.end()) {
                REQUIRE(next == f.end());
            } else {
                REQUIRE(next.key() == std::next(mi)->first);
            }
            auto prev = f.find(p);
            if (mi != m.begin()) {
                --prev;
                REQUIRE(prev.key() == std::prev(mi)->first);
                ++prev;
                REQUIRE(prev.key() == p);
            }
            auto back = f.find(p);
            back++;
            back--;
            REQUIRE(back.key() == p);
        }
        // longest_prefix, lazy as well.
        std::optional<std::string> best;
        for (std::size_t len = 0; len <= p.size(); ++len)
            if (m.count(p.substr(0, len))) best = p.substr(0, len);
        auto lp = f.longest_prefix(p);
        if (!best) {
            REQUIRE(lp == f.end());
        } else {
            REQUIRE(lp != f.end());
            REQUIRE(lp.key() == *best);
            REQUIRE(lp.value() == m.at(*best));
            REQUIRE(lp == f.find(*best));
            auto mb = m.find(*best);
            ++lp;
            if (std::next(mb) == m.end()) {
                REQUIRE(lp == f.end());
            } else {
                REQUIRE(lp.key() == std::next(mb)->first);
            }
        }
    }
}

TEST_CASE("FrozenLayer: every key spelling goes through key_view", "[frozen][api]") {
    FrozenLayerBuilder<std::uint64_t> b;
    const std::string k0 = "alpha";
    const char* k1 = "beta";
    const std::vector<unsigned char> k2{'g', 'a', 0x00, 0xFF};
    const std::byte k3raw[] = {std::byte{'z'}, std::byte{0x01}};
    b.insert(k0, 1);
    b.insert(k1, 2);
    b.insert(k2, 3);
    b.insert(std::span<const std::byte>(k3raw), 4);
    const layer f = b.finish();
    REQUIRE(f.size() == 4);
    REQUIRE(f.get(k0) == 1U);
    REQUIRE(f.get(std::string_view("alpha")) == 1U);
    REQUIRE(f.at(k1) == 2U);
    REQUIRE(f.contains("beta"));
    REQUIRE(f.get(k2) == 3U);
    REQUIRE(f.get(std::span<const unsigned char>(k2)) == 3U);
    REQUIRE(f.get(std::span<const std::byte>(k3raw)) == 4U);
    REQUIRE(f.find(k2).key() == std::string("ga\0\xff", 4));
    REQUIRE(f.count(std::span<const std::byte>(k3raw)) == 1U);
    REQUIRE(f.lower_bound(k2).value() == 3U);
    REQUIRE(f.upper_bound(k2).value() == 4U);
    REQUIRE(f.ordinal(k2) == 2U);
    REQUIRE(f.prefix(std::vector<unsigned char>{'g'}).size() == 1U);
    REQUIRE(f.range(k0, k2).size() == 2U);
    REQUIRE(f.from(std::span<const unsigned char>(k2)).size() == 2U);
    REQUIRE(f.longest_prefix(std::string("betamax")).key() == "beta");
    REQUIRE(f.equal_range(k1).first.value() == 2U);
}

TEST_CASE("FrozenLayer: a moved-from layer is a valid empty layer (regression)", "[frozen][api]") {
    const model m = make_model(6, 200);
    SECTION("move construction, then the target dies") {
        layer a = layer::from_sorted(m);
        {
            layer b = std::move(a);
            REQUIRE(b.size() == m.size());
            REQUIRE(b.get(m.begin()->first) == m.begin()->second);
        }
        // Was a heap-use-after-free: a still pointed into b's buffer.
        REQUIRE_FALSE(a.contains("x"));
        REQUIRE(a.empty());
        REQUIRE(a.size() == 0);
        REQUIRE(a.begin() == a.end());
        REQUIRE(a.rbegin() == a.rend());
        REQUIRE(a.prefix("").empty());
        REQUIRE(a.find(m.begin()->first) == a.end());
        REQUIRE_FALSE(a.longest_prefix("abc") != a.end());
        a.verify();
        REQUIRE(a.bytes().size() == memkv::detail::frozen_header_size);
        // Usable again as a target.
        a = layer::from_sorted(m);
        REQUIRE(a.size() == m.size());
    }
    SECTION("move assignment, then the target dies") {
        layer a = layer::from_sorted(m);
        {
            layer b;
            b = std::move(a);
            REQUIRE(b.size() == m.size());
        }
        REQUIRE_FALSE(a.contains("x"));
        REQUIRE(a.empty());
        REQUIRE(a.lower_bound("") == a.end());
    }
    SECTION("a mapped layer moves its mapping") {
        temp_file t("moved_mapped");
        layer::from_sorted(m).save(t.path);
        layer a = layer::open(t.path);
        layer b = std::move(a);
        REQUIRE(a.empty());
        REQUIRE(collect(b) == items_of(m));
        a = std::move(b);
        REQUIRE(b.empty());
        REQUIRE(collect(a) == items_of(m));
    }
    SECTION("self-move leaves the layer as it was") {
        layer a = layer::from_sorted(m);
        layer& r = a;
        a = std::move(r);
        REQUIRE(a.size() == m.size());
    }
    SECTION("default and moved-from layers of other value types") {
        FrozenLayer<double> d;
        FrozenLayer<double> e = std::move(d);
        REQUIRE(d.empty());
        REQUIRE(e.empty());
        REQUIRE_FALSE(d.get("a"));
        // The empty image is a valid image of its type.
        REQUIRE(FrozenLayer<double>::from_bytes(d.bytes()).empty());
    }
}

#ifdef __SIZEOF_INT128__
TEST_CASE("FrozenLayer: unsigned __int128 values keep all 128 bits (regression)", "[frozen][api]") {
    // Under -std=gnu++20 unsigned __int128 is an integral type; the packed
    // column (64-bit words) used to keep only the low 64 bits.
    __extension__ typedef unsigned __int128 u128;
    static_assert(!memkv::detail::frozen_packable<u128>);
    static_assert(memkv::detail::frozen_packable<std::uint64_t>);
    std::map<std::string, u128> m;
    for (unsigned i = 0; i < 300; ++i) {
        const u128 v = (static_cast<u128>(i * 2654435761U + 1) << 64) | (i * 40503U);
        m.emplace("key" + std::to_string(i), v);
    }
    m.emplace("ordinal-like", 3);  // small values too
    const auto f = FrozenLayer<u128>::from_sorted(m);
    const auto g = FrozenLayer<u128>::from_bytes(f.bytes());
    temp_file t("u128");
    {
        FrozenLayerBuilder<u128> b(t.path);
        for (const auto& [k, v] : m) b.insert(k, v);
        (void)b.finish();
    }
    const auto h = FrozenLayer<u128>::open(t.path);
    for (const auto* l : {&f, &g, &h}) {
        REQUIRE(l->size() == m.size());
        for (const auto& [k, v] : m) {
            const auto got = l->get(k);
            REQUIRE(got.has_value());
            REQUIRE(static_cast<std::uint64_t>(*got >> 64) == static_cast<std::uint64_t>(v >> 64));
            REQUIRE(static_cast<std::uint64_t>(*got) == static_cast<std::uint64_t>(v));
        }
        auto mi = m.begin();
        for (const auto& [k, v] : *l) {
            REQUIRE(k == mi->first);
            REQUIRE(static_cast<std::uint64_t>(v >> 64) == static_cast<std::uint64_t>(mi->second >> 64));
            ++mi;
        }
    }
    REQUIRE(f.value_column_size() == m.size() * sizeof(u128));
}
#endif

TEST_CASE("FrozenLayer: values need not be default-constructible", "[frozen][api]") {
    struct money {
        explicit money(std::int64_t c) : cents(c) {}
        std::int64_t cents;
    };
    static_assert(!std::is_default_constructible_v<money>);
    std::vector<std::pair<std::string, money>> items{{"a", money(5)}, {"b", money(-7)}};
    const auto f = FrozenLayer<money>::from_sorted(items);
    REQUIRE(f.at("b").cents == -7);
    REQUIRE(f.begin()->second.cents == 5);
}

TEST_CASE("FrozenLayerBuilder: a failed finish(path) can be retried (regression)", "[frozen][api]") {
    const model m = make_model(7, 500);
    const std::string bad = "/nonexistent-memkv-dir/x.frz";
    SECTION("bad path, then finish()") {
        FrozenLayerBuilder<std::uint64_t> b;
        for (const auto& [k, v] : m) b.insert(k, v);
        REQUIRE_THROWS_AS(b.finish(bad), memkv::io_error);
        // Nothing changed: inserting still works (strong guarantee).
        b.insert(std::string(10, '\xff'), 9);
        model m2 = m;
        m2.emplace(std::string(10, '\xff'), 9);
        const auto f = b.finish();
        REQUIRE(collect(f) == items_of(m2));
        REQUIRE_THROWS_AS(b.finish(), std::logic_error);
    }
    SECTION("bad path, then another path") {
        FrozenLayerBuilder<std::uint64_t> b;
        for (const auto& [k, v] : m) b.insert(k, v);
        REQUIRE_THROWS_AS(b.finish(bad), memkv::io_error);
        temp_file t("retry");
        const auto f = b.finish(t.path);
        f.verify();
        REQUIRE(collect(f) == items_of(m));
        REQUIRE_THROWS_AS(b.finish(t.path), std::logic_error);
    }
    SECTION("a failure after the image is complete (rename onto a directory)") {
        const std::string dir = temp_path("a_dir");
        REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
        const std::string inner = dir + "/keep";
        std::ofstream(inner) << "x";  // non-empty: rename cannot replace it
        FrozenLayerBuilder<std::uint64_t> b;
        for (const auto& [k, v] : m) b.insert(k, v);
        REQUIRE_THROWS_AS(b.finish(dir), memkv::io_error);
        REQUIRE_FALSE(std::ifstream(dir + ".tmp").good());  // the temporary is removed
        REQUIRE_THROWS_AS(b.insert(std::string(10, '\xff'), 1), std::logic_error);  // the image is complete
        temp_file t("retry_after_complete");
        const auto f = b.finish(t.path);
        REQUIRE(collect(f) == items_of(m));
        std::remove(inner.c_str());
        ::rmdir(dir.c_str());
    }
    SECTION("a streaming builder retries its rename") {
        temp_file s("stream_retry");
        FrozenLayerBuilder<std::uint64_t> b(s.path);
        for (const auto& [k, v] : m) b.insert(k, v);
        REQUIRE_THROWS_AS(b.finish(bad), memkv::io_error);
        const auto f = b.finish();
        f.verify();
        REQUIRE(collect(f) == items_of(m));
    }
}

TEST_CASE("FrozenLayer::open names a directory and a foreign file (regression)", "[frozen][api]") {
    const std::string dir = temp_path("open_dir");
    REQUIRE(::mkdir(dir.c_str(), 0755) == 0);
    try {
        (void)layer::open(dir);
        FAIL("no exception");
    } catch (const memkv::io_error& e) {
        // Was "cannot mmap ...: No such device".
        CHECK(std::string(e.what()) == "FrozenLayer: cannot open '" + dir + "': it is a directory");
    }
    ::rmdir(dir.c_str());

    // Each file says what it is, and the message names it. A HybridKV
    // manifest (shorter than a FrozenLayer header) was "truncated: 98 bytes
    // ..." before the magic was checked first, then "bad magic"; an empty
    // file was "truncated: 0 bytes ...".
    const std::pair<std::string, std::string> files[] = {
        {"MKVHYBR1" + std::string(48, '\0'), "not a FrozenLayer file (it is a memkv checkpoint manifest)"},
        {"", "not a FrozenLayer file (an empty file)"},
        {"hello, world\n", "not a FrozenLayer file (not a memkv file: it starts with \"hello, w\")"},
        {std::string("\x7f" "ELF\x02\x01\x01\x00", 8) + std::string(400, 'x'),
         "not a FrozenLayer file (not a memkv file: it starts with \"\\x7fELF\\x02\\x01\\x01\\x00\")"},
    };
    for (const auto& [bytes, why] : files) {
        temp_file t("foreign");
        {
            std::ofstream out(t.path, std::ios::binary);
            out << bytes;
        }
        try {
            (void)layer::open(t.path);
            FAIL("no exception");
        } catch (const memkv::format_error& e) {
            CHECK(std::string(e.what()) == "FrozenLayer: open '" + t.path + "': " + why);
        }
    }
    // A short file with the right magic is still "truncated".
    const layer f = layer::from_sorted(model{{"a", 1}});
    try {
        (void)layer::from_bytes(f.bytes().first(100));
        FAIL("no exception");
    } catch (const memkv::format_error& e) {
        CHECK(std::string(e.what()).find("truncated") != std::string::npos);
    }
    try {
        (void)layer::from_bytes(f.bytes().first(3));
        FAIL("no exception");
    } catch (const memkv::format_error& e) {
        CHECK(std::string(e.what()).find("truncated") != std::string::npos);
    }
}

TEST_CASE("FrozenLayer: images are byte-identical to format version 1 as written before", "[frozen][api]") {
    // CRC-32C and size of whole images built from fixed inputs by the code
    // before the byte-sink builder (commit c98fe64): the format, the encoder
    // and the builder's choices are unchanged.
    std::vector<std::pair<std::string, std::uint64_t>> items;
    std::mt19937_64 rng(12345);
    for (unsigned i = 0; i < 20000; ++i) {
        std::string k = "https://example.com/" + std::to_string(rng() % 100000) + "/" + std::to_string(i % 37);
        items.emplace_back(std::move(k), rng() % 100000);
    }
    std::sort(items.begin(), items.end());
    items.erase(std::unique(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first == b.first; }),
                items.end());
    memkv::frozen_layer_options opt;
    opt.table_sample_keys = 500;
    opt.format_version = 1;  // version 2 adds run nodes; version 1 is still written on request
    const auto packed = layer::from_sorted(items, opt);
    std::vector<std::pair<std::string, double>> ditems;
    for (const auto& [k, v] : items) ditems.emplace_back(k, static_cast<double>(v) / 4);
    const auto raw = FrozenLayer<double>::from_sorted(ditems, opt);
    std::vector<std::pair<std::string, std::uint32_t>> oitems;
    for (const auto& [k, v] : items) oitems.emplace_back(k, static_cast<std::uint32_t>(oitems.size()));
    const auto ord = FrozenLayer<std::uint32_t>::from_sorted(oitems, opt);
    auto crc = [](std::span<const unsigned char> b) { return memkv::detail::crc32c(b.data(), b.size()); };
    // Printed by the same construction compiled against c98fe64's headers.
    constexpr std::size_t golden_packed_size = 161218, golden_raw_size = 278386,
                          golden_ord_size = 118826;
    constexpr std::uint32_t golden_packed_crc = 750676121U, golden_raw_crc = 8048488U,
                            golden_ord_crc = 1505557753U;
    CHECK(packed.bytes().size() == golden_packed_size);
    CHECK(crc(packed.bytes()) == golden_packed_crc);
    CHECK(raw.bytes().size() == golden_raw_size);
    CHECK(crc(raw.bytes()) == golden_raw_crc);
    CHECK(ord.bytes().size() == golden_ord_size);
    CHECK(crc(ord.bytes()) == golden_ord_crc);
    // The streaming builder writes the same bytes.
    temp_file t("golden");
    {
        FrozenLayerBuilder<double> b(t.path, opt);
        for (const auto& [k, v] : ditems) b.insert(k, v);
        (void)b.finish();
    }
    std::ifstream in(t.path, std::ios::binary);
    const std::vector<unsigned char> file(std::istreambuf_iterator<char>(in), {});
    CHECK(file.size() == golden_raw_size);
    CHECK(crc(file) == golden_raw_crc);
}

TEST_CASE("CRC-32C: the hardware path equals the portable one at every length and alignment", "[frozen][crc]") {
    const unsigned char check[] = "123456789";
    CHECK(memkv::detail::crc32c_update_portable(0, check, 9) == 0xE3069283U);  // the standard check value
    CHECK(memkv::detail::crc32c(check, 9) == 0xE3069283U);
    std::mt19937_64 rng(7);
    std::vector<unsigned char> buf(4096 + 16);
    for (auto& b : buf) b = static_cast<unsigned char>(rng());
    for (std::size_t off = 0; off < 8; ++off) {
        for (std::size_t n = 0; n <= 300; ++n) {
            const std::uint32_t seed = static_cast<std::uint32_t>(rng());
            REQUIRE(memkv::detail::crc32c_update(seed, buf.data() + off, n) ==
                    memkv::detail::crc32c_update_portable(seed, buf.data() + off, n));
        }
    }
    // Continuation: two pieces give the CRC of the whole.
    const std::uint32_t whole = memkv::detail::crc32c(buf.data(), 4096);
    CHECK(memkv::detail::crc32c_update(memkv::detail::crc32c(buf.data(), 1001), buf.data() + 1001, 3095) == whole);
}

TEST_CASE("FrozenLayer: advise() sets the mapping's access hint; owned images ignore it", "[frozen][api][advise]") {
#if !defined(__linux__)
    SKIP("reads the hint back from /proc/self/smaps");
#endif
    const model m = make_model(31, 5000);
    temp_file t("advise.frz");
    layer::from_sorted(m).save(t.path);
    const layer f = layer::open(t.path);
    const void* at = f.bytes().data();
    auto flags = [&] { return memkv::test::mapping_of(at); };
    REQUIRE(flags().path == t.path);
    // Opened with the kernel's default: neither hint.
    CHECK_FALSE(flags().has_flag("rr"));
    CHECK_FALSE(flags().has_flag("sr"));
    f.advise(memkv::access_pattern::random);
    CHECK(flags().has_flag("rr"));
    CHECK_FALSE(flags().has_flag("sr"));
    f.advise(memkv::access_pattern::sequential);
    CHECK(flags().has_flag("sr"));
    CHECK_FALSE(flags().has_flag("rr"));
    f.advise(memkv::access_pattern::normal);
    CHECK_FALSE(flags().has_flag("rr"));
    CHECK_FALSE(flags().has_flag("sr"));
    // A hint changes no answer.
    f.advise(memkv::access_pattern::random);
    for (const auto& [k, v] : m) REQUIRE(f.get(k) == v);
    CHECK(std::ranges::equal(f | std::views::keys, m | std::views::keys));
    // An owned image and a moved-from layer: nothing to advise, no effect.
    const layer owned = layer::from_sorted(m);
    owned.advise(memkv::access_pattern::random);
    CHECK(owned.size() == m.size());
    layer moved = layer::open(t.path);
    const layer taken = std::move(moved);
    moved.advise(memkv::access_pattern::random);
    CHECK(taken.size() == m.size());
}
