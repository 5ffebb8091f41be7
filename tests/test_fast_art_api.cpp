// FastArt's standard vocabulary (docs-draft-vocabulary.md): C++20 iterators
// whose *it is a memkv::entry, std::reverse_iterator, the prefix / range /
// from views with std::ranges, memkv::key_view keys, the type requirements,
// the moved-from state, and the debug generation checks.
//
// Cases tagged [regression] failed on c98fe64 (the last commit before this
// API). Except for the std::reverse_iterator one, which ran there (spelled
// it->key()) and failed under ASan, they did not compile there: its *it
// returned the iterator itself (a const basic_iterator&), so there was no
// .first, no structured binding, no std::indirectly_readable (no common
// reference between that and the value_type pair), hence no std::ranges
// algorithm, views::reverse, views::keys or container construction from an
// iterator pair, and there was no from(). Each case says which.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <ranges>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#define MEMKV_TEST_CAN_FORK 1
#else
#define MEMKV_TEST_CAN_FORK 0
#endif

#include <memkv/fast_art.hpp>
#include <memkv/frozen_layer.hpp>

#include "memkv_catch.hpp"

using namespace std::string_literals;

namespace {

using Art = memkv::FastArt<std::uint64_t>;
using UArt = memkv::FastArt<std::unique_ptr<int>>;
using Model = std::map<std::string, std::uint64_t>;

// ---- compile-time contract ----------------------------------------------

static_assert(std::bidirectional_iterator<Art::iterator>);
static_assert(std::bidirectional_iterator<Art::const_iterator>);
static_assert(std::bidirectional_iterator<UArt::iterator>);
static_assert(std::bidirectional_iterator<UArt::const_iterator>);
static_assert(std::bidirectional_iterator<Art::reverse_iterator>);
static_assert(std::bidirectional_iterator<Art::const_reverse_iterator>);
static_assert(std::same_as<Art::reverse_iterator, std::reverse_iterator<Art::iterator>>);
static_assert(std::same_as<Art::iterator::iterator_concept, std::bidirectional_iterator_tag>);
// The reference is a prvalue: the classic category must not claim forward.
static_assert(std::same_as<Art::iterator::iterator_category, std::input_iterator_tag>);
static_assert(std::same_as<std::iterator_traits<Art::iterator>::iterator_category, std::input_iterator_tag>);
static_assert(std::same_as<Art::iterator::value_type, std::pair<std::string, std::uint64_t>>);
static_assert(std::same_as<Art::iterator::reference, const memkv::entry<std::uint64_t&>>);
static_assert(std::same_as<Art::const_iterator::reference, const memkv::entry<const std::uint64_t&>>);
static_assert(std::same_as<std::iter_reference_t<Art::iterator>, const memkv::entry<std::uint64_t&>>);
static_assert(std::same_as<Art::iterator::pointer, memkv::detail::arrow_proxy<memkv::entry<std::uint64_t&>>>);
static_assert(
    std::same_as<Art::const_iterator::pointer, memkv::detail::arrow_proxy<memkv::entry<const std::uint64_t&>>>);
static_assert(std::same_as<Art::iterator::difference_type, std::ptrdiff_t>);
static_assert(std::convertible_to<Art::iterator, Art::const_iterator>);
static_assert(!std::convertible_to<Art::const_iterator, Art::iterator>);

template <class R>
constexpr bool bidi_common = std::ranges::bidirectional_range<R> && std::ranges::common_range<R>;
static_assert(bidi_common<Art> && bidi_common<const Art> && bidi_common<UArt> && bidi_common<const UArt>);
static_assert(bidi_common<Art::view> && bidi_common<Art::const_view> && bidi_common<UArt::view>);
static_assert(std::ranges::view<Art::view> && std::ranges::view<Art::const_view> && std::ranges::view<UArt::view>);
static_assert(std::ranges::borrowed_range<Art::view> && std::ranges::borrowed_range<Art::const_view>);
static_assert(std::derived_from<Art::view, std::ranges::view_base>);
static_assert(std::same_as<decltype(std::declval<Art&>().prefix("")), Art::view>);
static_assert(std::same_as<decltype(std::declval<const Art&>().range("", "")), Art::const_view>);
static_assert(std::same_as<decltype(std::declval<Art&>().from("")), Art::view>);
static_assert(std::convertible_to<Art::view, Art::const_view>);
// Borrowed: an algorithm on a temporary view returns a usable iterator.
static_assert(std::same_as<decltype(std::ranges::find_if(std::declval<Art&>().prefix("a"),
                                                         [](const auto&) { return true; })),
                           Art::iterator>);

// Copyable exactly when V is; always nothrow-movable.
static_assert(std::is_copy_constructible_v<Art> && std::is_copy_assignable_v<Art>);
static_assert(!std::is_copy_constructible_v<UArt> && !std::is_copy_assignable_v<UArt>);
static_assert(std::is_nothrow_move_constructible_v<UArt> && std::is_nothrow_move_assignable_v<UArt>);
static_assert(std::is_nothrow_move_constructible_v<Art> && std::is_nothrow_move_assignable_v<Art>);

// erase(iterator), erase(const_iterator) and erase(key) do not collide.
static_assert(std::same_as<decltype(std::declval<Art&>().erase(std::declval<Art::iterator>())), Art::iterator>);
static_assert(
    std::same_as<decltype(std::declval<Art&>().erase(std::declval<Art::const_iterator>())), Art::iterator>);
static_assert(std::same_as<decltype(std::declval<Art&>().erase("k")), std::size_t>);
static_assert(std::same_as<decltype(std::declval<Art&>().erase(std::string())), std::size_t>);
static_assert(std::same_as<decltype(std::declval<Art&>().erase(std::vector<unsigned char>())), std::size_t>);

#if !MEMKV_DEBUG_ITERATORS
// Release iterators carry no generation: the tree pointer, the cursor and
// the lazy flag, nothing more.
struct release_iterator_layout {
    const void* tree;
    memkv::detail::art::cursor c;
    bool lazy;
};
static_assert(sizeof(Art::iterator) == sizeof(release_iterator_layout));
#endif

// ---- helpers --------------------------------------------------------------

constexpr auto same_element = [](const auto& a, const auto& b) { return a.first == b.first && a.second == b.second; };

// A small tree and its model: shared prefixes, a key that is a prefix of
// others, the empty key, NUL and 0xFF bytes, a key past the small buffer.
std::pair<Art, Model> sample() {
    Model m;
    std::uint64_t v = 1;
    for (const std::string& k : {""s, "a"s, "ab"s, "abc"s, "abd"s, "b"s, "ba"s, "bandana"s, "c"s, "c\0"s,
                                 "c\xff"s, "d/a/very/long/key/past/the/small/buffer"s, "d/b"s}) {
        m.emplace(k, v++);
    }
    Art t;
    for (const auto& [k, val] : m) t.insert(k, val);
    return {std::move(t), std::move(m)};
}

std::vector<std::string> model_keys(const Model& m) {
    std::vector<std::string> out;
    for (const auto& kv : m) out.push_back(kv.first);
    return out;
}

}  // namespace

// ---- entries and iterators -------------------------------------------------

TEST_CASE("FastArt: *it is an entry that owns its key and refers to the value", "[fast_art][api]") {
    auto [t, m] = sample();
    auto it = t.find("ab");
    const auto e = *it;
    REQUIRE(e.first == "ab");
    REQUIRE(e.key() == "ab");
    REQUIRE(&e.second == t.get_if("ab"));  // a reference into the tree
    e.second = 99;
    REQUIRE(t.at("ab") == 99);
    ++it;  // the entry does not depend on the iterator
    REQUIRE(e.first == "ab");
    REQUIRE(it->first == "abc");
    REQUIRE(it->second == m.at("abc"));
    // The cheap accessors stay.
    std::string buf = "reused";
    it.key(buf);
    REQUIRE(buf == "abc");
    REQUIRE(it.key() == "abc");
    REQUIRE(&it.value() == t.get_if("abc"));
    // const_iterator: a const reference.
    const Art& ct = t;
    auto cit = ct.find("b");
    static_assert(std::same_as<decltype((*cit).second), const std::uint64_t&>);
    REQUIRE(cit->second == m.at("b"));
    // Entries compare with std::map's elements and the value_type.
    REQUIRE(*cit == *m.find("b"));
    REQUIRE(*cit == std::pair<std::string, std::uint64_t>("b", m.at("b")));
    // iterator and const_iterator compare.
    REQUIRE(t.find("b") == cit);
    REQUIRE(cit == t.find("b"));
    REQUIRE(cit != t.end());
}

TEST_CASE("FastArt regression: std::reverse_iterator dereferences safely", "[fast_art][api][regression]") {
    // c98fe64: *it returned the iterator itself, so std::reverse_iterator's
    // operator-> (tmp = current; --tmp; return tmp.operator->()) returned a
    // pointer into its destroyed copy: this loop, spelled it->key(), failed
    // under ASan with stack-use-after-scope there (run against c98fe64's
    // headers). it->first did not compile.
    auto [art, m] = sample();
    std::vector<std::string> seen;
    std::vector<std::uint64_t> values;
    for (auto it = std::make_reverse_iterator(art.end()); it != std::make_reverse_iterator(art.begin()); ++it) {
        seen.push_back(it->first);
        values.push_back((*it).second);
    }
    std::vector<std::string> expect = model_keys(m);
    std::reverse(expect.begin(), expect.end());
    REQUIRE(seen == expect);
    REQUIRE(values.front() == m.rbegin()->second);
    // rbegin()/rend() are the same std::reverse_iterator.
    std::vector<std::string> seen2;
    for (auto it = art.rbegin(); it != art.rend(); ++it) seen2.push_back(it->first);
    REQUIRE(seen2 == expect);
    const Art& c = art;
    REQUIRE(std::distance(c.crbegin(), c.crend()) == static_cast<std::ptrdiff_t>(m.size()));
    // rbegin().base() is end().
    REQUIRE(art.rbegin().base() == art.end());
}

TEST_CASE("FastArt: --end() is the last element; begin/end of an empty map", "[fast_art][api]") {
    Art empty;
    REQUIRE(empty.begin() == empty.end());
    REQUIRE(empty.rbegin() == empty.rend());
    REQUIRE(empty.prefix("").empty());
    REQUIRE(empty.from("").empty());
    auto [t, m] = sample();
    auto e = t.end();
    --e;
    REQUIRE(e.key() == m.rbegin()->first);
    REQUIRE(std::ranges::prev(t.end())->first == m.rbegin()->first);
    REQUIRE(std::ranges::prev(t.cend())->first == m.rbegin()->first);
    // (std::prev would not do: it dispatches on the classic category, which
    // is input; std::ranges::prev uses iterator_concept.)
    REQUIRE(std::ranges::prev(t.end(), 2)->first == std::ranges::prev(m.end(), 2)->first);
    auto adv = t.end();
    std::ranges::advance(adv, -3);
    REQUIRE(adv->first == std::ranges::prev(m.end(), 3)->first);
    // Walk the whole map backwards from end().
    std::vector<std::string> back;
    for (auto it = t.end(); it != t.begin();) back.push_back((--it).key());
    std::vector<std::string> expect = model_keys(m);
    std::reverse(expect.begin(), expect.end());
    REQUIRE(back == expect);
    // A lazy iterator (from find) steps both ways.
    auto f = t.find("bandana");
    REQUIRE((--f).key() == "ba");
    f = t.find("bandana");
    REQUIRE((++f).key() == "c");
    REQUIRE(std::next(t.find("d/b")) == t.end());
}

TEST_CASE("FastArt regression: range-for with structured bindings", "[fast_art][api][regression]") {
    // c98fe64: *it was the iterator; `auto& [k, v]` did not compile.
    auto [art, m] = sample();
    for (auto& [k, v] : art) v = k.size();
    for (const auto& [k, v] : m) REQUIRE(art.at(k) == k.size());
    std::vector<std::string> keys;
    for (const auto& [k, v] : std::as_const(art)) {
        static_assert(std::same_as<decltype(v), const std::uint64_t&>);
        keys.push_back(k);
        REQUIRE(v == k.size());
    }
    REQUIRE(keys == model_keys(m));
    // `auto [k, v]` copies the entry, and the entry's second is a
    // reference (as with zip_view's tuples): v still names the value.
    for (auto [k, v] : art) v += 1;
    for (const auto& [k, v] : m) REQUIRE(art.at(k) == k.size() + 1);
    for (auto&& [k, v] : art.prefix("a")) v = 0;
    REQUIRE(art.at("abd") == 0);
    REQUIRE(art.at("b") == 2);
}

TEST_CASE("FastArt regression: it->first, it->second", "[fast_art][api][regression]") {
    // c98fe64: operator-> returned the iterator; no .first.
    auto [art, m] = sample();
    auto it = art.find("bandana");
    REQUIRE(it->first == "bandana");
    REQUIRE(it->second == m.at("bandana"));
    it->second = 5;  // the proxy's entry refers to the value
    REQUIRE(art.at("bandana") == 5);
}

TEST_CASE("FastArt regression: containers from an iterator pair", "[fast_art][api][regression]") {
    // c98fe64: constructing a pair from *it (the iterator) did not compile.
    auto [art, m] = sample();
    std::vector<std::pair<std::string, std::uint64_t>> v(art.begin(), art.end());
    REQUIRE(v == std::vector<std::pair<std::string, std::uint64_t>>(m.begin(), m.end()));
    Model back(art.cbegin(), art.cend());
    REQUIRE(back == m);
    std::vector<std::pair<std::string, std::uint64_t>> r(art.rbegin(), art.rend());
    REQUIRE(std::equal(r.begin(), r.end(), m.rbegin(), m.rend(), same_element));
    REQUIRE(std::ranges::equal(art, v));
}

TEST_CASE("FastArt regression: std::ranges algorithms", "[fast_art][api][regression]") {
    // c98fe64: the iterator was not std::indirectly_readable; no std::ranges
    // algorithm accepted it.
    auto [art, m] = sample();
    auto it = std::ranges::find_if(art, [](const auto& e) { return e.first.size() > 10; });
    REQUIRE(it != art.end());
    REQUIRE(it->first == "d/a/very/long/key/past/the/small/buffer");
    const auto cit = std::ranges::find_if(std::as_const(art), [](const auto& e) { return e.second == 3; });
    REQUIRE(cit->first == "ab");
    REQUIRE(std::ranges::count_if(art, [](const auto& e) { return e.first.starts_with("a"); }) == 4);
    REQUIRE(std::ranges::distance(art) == static_cast<std::ptrdiff_t>(m.size()));
    REQUIRE(std::ranges::equal(art, m, same_element));
    REQUIRE(std::ranges::is_sorted(art, {}, [](const auto& e) { return e.first; }));
    auto found = std::ranges::find(art.prefix("ba"), "bandana"s, [](const auto& e) { return e.first; });
    REQUIRE(found->first == "bandana");  // borrowed: the view was a temporary
}

TEST_CASE("FastArt regression: views::reverse of the map equals the reversed std::map", "[fast_art][api][regression]") {
    // c98fe64: views::reverse needs a bidirectional_range; it did not compile.
    auto [art, m] = sample();
    REQUIRE(std::ranges::equal(art | std::views::reverse, m | std::views::reverse, same_element));
    REQUIRE(std::ranges::equal(std::as_const(art) | std::views::reverse, m | std::views::reverse, same_element));
    std::vector<std::string> keys;
    for (const auto& [k, v] : art | std::views::reverse) keys.push_back(k);
    std::vector<std::string> expect = model_keys(m);
    std::reverse(expect.begin(), expect.end());
    REQUIRE(keys == expect);
}

TEST_CASE("FastArt regression: prefix(p) | views::reverse", "[fast_art][api][regression]") {
    // c98fe64: the view was not a range std::ranges accepted.
    auto [art, m] = sample();
    for (const std::string& p : {""s, "a"s, "ab"s, "b"s, "ba"s, "c"s, "c\xff"s, "d/"s, "x"s, "abcd"s}) {
        INFO("prefix " << p);
        std::vector<std::pair<std::string, std::uint64_t>> expect;
        for (const auto& kv : m) {
            if (kv.first.starts_with(p)) expect.emplace_back(kv);
        }
        REQUIRE(std::ranges::equal(art.prefix(p), expect));
        std::reverse(expect.begin(), expect.end());
        REQUIRE(std::ranges::equal(art.prefix(p) | std::views::reverse, expect));
        REQUIRE(std::ranges::equal(std::as_const(art).prefix(p) | std::views::reverse, expect));
        REQUIRE(art.prefix(p).empty() == expect.empty());
        REQUIRE(static_cast<bool>(art.prefix(p)) == !expect.empty());
    }
}

TEST_CASE("FastArt regression: from(k) and range(lo, hi)", "[fast_art][api][regression]") {
    // c98fe64: there was no from().
    auto [art, m] = sample();
    for (const std::string& k : {""s, "a"s, "abc"s, "abca"s, "bb"s, "c\0"s, "d/b"s, "e"s}) {
        INFO("from " << k);
        REQUIRE(std::ranges::equal(art.from(k), std::ranges::subrange(m.lower_bound(k), m.end()), same_element));
        REQUIRE(std::ranges::equal(art.from(k) | std::views::reverse,
                                   std::ranges::subrange(m.lower_bound(k), m.end()) | std::views::reverse,
                                   same_element));
        for (const std::string& hi : {""s, "ab"s, "b"s, "c\xff"s, "zz"s}) {
            const auto r = art.range(k, hi);
            if (hi <= k) {
                REQUIRE(r.empty());
                continue;
            }
            const auto mr = std::ranges::subrange(m.lower_bound(k), m.lower_bound(hi));
            REQUIRE(std::ranges::equal(r, mr, same_element));
            REQUIRE(std::ranges::equal(r | std::views::reverse, mr | std::views::reverse, same_element));
        }
    }
    // A const_view from a view; rbegin/rend of a view.
    Art::const_view cv = art.from("b");
    REQUIRE(cv.begin()->first == "b");
    REQUIRE(cv.rbegin()->first == m.rbegin()->first);
}

TEST_CASE("FastArt regression: views::keys and views::values", "[fast_art][api][regression]") {
    // c98fe64: views::keys needs tuple-like references; it did not compile.
    auto [art, m] = sample();
    std::vector<std::string> keys;
    for (const std::string& k : art | std::views::keys) keys.push_back(k);
    REQUIRE(keys == model_keys(m));
    std::vector<std::uint64_t> values;
    for (const std::uint64_t v : art | std::views::values) values.push_back(v);
    REQUIRE(std::ranges::equal(values, m | std::views::values));
    REQUIRE(std::ranges::equal(art.prefix("a") | std::views::keys | std::views::reverse,
                               std::vector<std::string>{"abd", "abc", "ab", "a"}));
}

TEST_CASE("FastArt regression: FrozenLayer::from_sorted(art) round trip", "[fast_art][api][regression]") {
    // c98fe64: from_sorted's `const auto& [k, v] : items` did not compile
    // on a FastArt.
    auto [art, m] = sample();
    for (int i = 0; i < 500; ++i) art.insert("n/" + std::to_string(i * 7), static_cast<std::uint64_t>(i));
    const auto frozen = memkv::FrozenLayer<std::uint64_t>::from_sorted(art);
    REQUIRE(frozen.size() == art.size());
    for (const auto& [k, v] : art) {
        INFO("key " << k);
        REQUIRE(frozen.get(k) == std::optional<std::uint64_t>(v));
    }
    REQUIRE_FALSE(frozen.contains("n/1"));
    // And back: a FastArt from the same entries.
    Art again;
    for (const auto& [k, v] : art) REQUIRE(again.insert(k, v).second);
    REQUIRE(std::ranges::equal(again, art));
}

// ---- keys ------------------------------------------------------------------

TEMPLATE_TEST_CASE("FastArt: every key-taking member takes key_view", "[fast_art][api][key_view]", std::string,
                   std::string_view, const char*, std::vector<unsigned char>, std::span<const std::byte>,
                   std::span<const unsigned char>) {
    // Keys held in one spelling; binary ones carry NUL and 0xFF bytes.
    const std::vector<std::string> raw = {"alpha"s, "alphabet"s, "al\0pha"s, "beta\xff"s, "beta"s, "gamma/long/key/here"s};
    std::vector<std::string> store = raw;  // backing bytes for views and spans
    const bool text_only = std::is_same_v<TestType, const char*>;
    auto conv = [&](const std::string& s) -> TestType {
        if constexpr (std::is_same_v<TestType, std::string>) {
            return s;
        } else if constexpr (std::is_same_v<TestType, std::string_view>) {
            return std::string_view(s);
        } else if constexpr (std::is_same_v<TestType, const char*>) {
            return s.c_str();
        } else if constexpr (std::is_same_v<TestType, std::vector<unsigned char>>) {
            return std::vector<unsigned char>(s.begin(), s.end());
        } else if constexpr (std::is_same_v<TestType, std::span<const std::byte>>) {
            return std::span<const std::byte>(reinterpret_cast<const std::byte*>(s.data()), s.size());
        } else {
            return std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(s.data()), s.size());
        }
    };
    Art t;
    Model m;
    std::uint64_t v = 0;
    for (const auto& s : store) {
        if (text_only && s.find('\0') != std::string::npos) continue;  // a C string stops at NUL
        const TestType k = conv(s);
        ++v;
        switch (v % 4) {
            case 0: REQUIRE(t.insert(k, v).second); break;
            case 1: REQUIRE(t.try_emplace(k, v).second); break;
            case 2: REQUIRE(t.try_emplace_value(k, v).second); break;
            default: REQUIRE(t.insert_or_assign(k, v).second); break;
        }
        m.emplace(s, v);
    }
    REQUIRE(t.size() == m.size());
    for (const auto& [s, val] : m) {
        const TestType k = conv(s);
        REQUIRE(t.contains(k));
        REQUIRE(t.count(k) == 1);
        REQUIRE(t.find(k) != t.end());
        REQUIRE(t.find(k).key() == s);
        REQUIRE(std::as_const(t).find(k)->second == val);
        REQUIRE(t.get(k) == std::optional<std::uint64_t>(val));
        REQUIRE(*t.get_if(k) == val);
        REQUIRE(*std::as_const(t).get_if(k) == val);
        REQUIRE(t.at(k) == val);
        REQUIRE(std::as_const(t).at(k) == val);
        REQUIRE(t[k] == val);
        REQUIRE(t.lower_bound(k).key() == s);
        REQUIRE(t.upper_bound(k) == std::next(t.find(k)));
        REQUIRE(t.equal_range(k).first == t.find(k));
        REQUIRE(std::as_const(t).equal_range(k).second == std::next(t.find(k)));
        REQUIRE(t.longest_prefix(k).key() == s);
        REQUIRE(t.prefix(k).begin()->first == s);
        REQUIRE(t.from(k).begin()->first == s);
        REQUIRE(t.range(k, conv(store.back())).empty() == (s >= store.back()));
        std::size_t n = 0;
        t.for_each_prefix(k, [&](std::string_view fk, std::uint64_t&) { n += fk.starts_with(s); });
        REQUIRE(n == static_cast<std::size_t>(std::ranges::count_if(
                         m, [&](const auto& e) { return e.first.starts_with(s); })));
        REQUIRE_FALSE(t.insert(k, 1000).second);
        REQUIRE(t.insert_or_assign(k, val + 1).first->second == val + 1);
        t[k] = val;
    }
    REQUIRE(t.erase(conv("beta"s)) == 1);
    REQUIRE(t.erase(conv("beta"s)) == 0);
    REQUIRE(t.erase_prefix(conv("alpha"s)) == 2);
    REQUIRE_FALSE(t.contains(conv("alphabet"s)));
    REQUIRE(t.contains(conv("beta\xff"s)));
}

TEST_CASE("FastArt: erase by key, iterator and const_iterator", "[fast_art][api]") {
    auto [t, m] = sample();
    const std::string k = "abc";
    REQUIRE(t.erase(k) == 1);
    REQUIRE(t.erase("b") == 1);
    REQUIRE(t.erase(std::string_view("ab")) == 1);
    Art::iterator it = t.find("ba");
    REQUIRE(t.erase(it)->first == "bandana");
    Art::const_iterator cit = std::as_const(t).find("bandana");
    REQUIRE(t.erase(cit)->first == "c");
    REQUIRE(t.erase(t.find("c"), t.find("d/b"))->first == "d/b");
    REQUIRE(t.size() == 4);  // "", "a", "abd", "d/b"
    t.verify();
}

// ---- types -----------------------------------------------------------------

TEST_CASE("FastArt: a moved-from map is a valid empty map", "[fast_art][api]") {
    const std::size_t empty_usage = Art().memory_usage();
    auto check_empty_and_usable = [&](Art& a) {
        REQUIRE(a.size() == 0);
        REQUIRE(a.empty());
        REQUIRE(a.begin() == a.end());
        REQUIRE(a.rbegin() == a.rend());
        REQUIRE(a.find("a") == a.end());
        REQUIRE_FALSE(a.contains("a"));
        REQUIRE(a.memory_usage() == empty_usage);
        a.verify();
        REQUIRE(a.insert("a", 1).second);
        REQUIRE(a.insert("abc/long/key/past/the/buffer", 2).second);
        REQUIRE(a.find("a")->second == 1);
        REQUIRE(a.at("abc/long/key/past/the/buffer") == 2);
        REQUIRE(a.size() == 2);
        a.verify();
    };
    SECTION("move construction") {
        auto [a, m] = sample();
        Art b(std::move(a));
        REQUIRE(b.size() == m.size());
        REQUIRE(std::ranges::equal(b, m, same_element));
        check_empty_and_usable(a);  // NOLINT(bugprone-use-after-move): the point
    }
    SECTION("move assignment") {
        auto [a, m] = sample();
        auto [b, mb] = sample();
        b.insert("extra", 1);
        b = std::move(a);
        REQUIRE(b.size() == m.size());
        REQUIRE(std::ranges::equal(b, m, same_element));
        check_empty_and_usable(a);  // NOLINT(bugprone-use-after-move): the point
    }
    SECTION("move-only values") {
        UArt a;
        a.insert("k/long/enough/to/allocate", std::make_unique<int>(1));
        UArt b(std::move(a));
        REQUIRE(*b.at("k/long/enough/to/allocate") == 1);
        REQUIRE(a.empty());  // NOLINT(bugprone-use-after-move)
        REQUIRE(a.begin() == a.end());
        a.insert("x", std::make_unique<int>(2));
        REQUIRE(*a.find("x")->second == 2);
        b = std::move(a);
        REQUIRE(b.size() == 1);
        REQUIRE(a.empty());  // NOLINT(bugprone-use-after-move)
    }
}

TEST_CASE("FastArt: move-only values through iterators and views", "[fast_art][api]") {
    UArt t;
    for (int i = 0; i < 50; ++i) t.try_emplace("k" + std::to_string(i), std::make_unique<int>(i));
    int sum = 0;
    for (const auto& [k, p] : t) sum += *p;
    REQUIRE(sum == 50 * 49 / 2);
    for (auto& [k, p] : t.prefix("k1")) p = std::make_unique<int>(-1);
    REQUIRE(*t.at("k13") == -1);
    REQUIRE(*t.at("k2") == 2);
    REQUIRE(std::ranges::distance(t | std::views::reverse) == 50);
    REQUIRE(*(*std::ranges::prev(t.end())).second == 9);  // "k9" is last
}

// ---- debug generations --------------------------------------------------------

namespace {

#if MEMKV_DEBUG_ITERATORS && MEMKV_TEST_CAN_FORK
// Runs f in a child process; true if it died of SIGABRT (a failed
// MEMKV_ASSERT). Catch2 v2 has no death tests; this is portable to POSIX.
template <class F>
bool aborts(F&& f) {
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        // The child dies quietly: no Catch2 fatal-signal report (the default
        // action instead of its handler), no assertion message.
        std::signal(SIGABRT, SIG_DFL);
        const int fd = ::open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            ::dup2(fd, 1);
            ::dup2(fd, 2);
        }
        f();
        ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}
#endif

}  // namespace

TEST_CASE("FastArt: debug builds catch iterators used after a modification", "[fast_art][api][debug]") {
#if MEMKV_DEBUG_ITERATORS && MEMKV_TEST_CAN_FORK
    // Each of these uses an invalidated iterator: the child must abort.
    REQUIRE(aborts([] {
        auto [t, m] = sample();
        auto it = t.find("ab");
        t.insert("new", 1);
        (void)*it;
    }));
    REQUIRE(aborts([] {
        auto [t, m] = sample();
        auto it = t.begin();
        t.erase("b");
        ++it;
    }));
    REQUIRE(aborts([] {
        auto [t, m] = sample();
        auto it = t.lower_bound("b");
        t.clear();
        --it;
    }));
    REQUIRE(aborts([] {
        auto [t, m] = sample();
        auto it = t.find("ba");
        t.erase_prefix("x");  // nothing erased: still valid
        (void)it.key();
        t.erase_prefix("a");
        (void)it.key();
    }));
    REQUIRE(aborts([] {
        auto [t, m] = sample();
        auto it = t.find("ba");
        Art other;
        t.swap(other);
        (void)it.value();
    }));
    REQUIRE(aborts([] {
        auto [t, m] = sample();
        auto it = t.find("ba");
        Art moved(std::move(t));
        (void)it->first;
    }));
    REQUIRE(aborts([] {
        auto [t, m] = sample();
        auto v = t.prefix("a");
        t.erase(t.find("abc"));
        for (const auto& e : v) (void)e;
    }));
    REQUIRE(aborts([] {
        auto [t, m] = sample();
        (void)*t.end();  // dereference of end()
    }));
    REQUIRE(aborts([] {
        Art::iterator it;  // default-constructed
        ++it;
    }));
    // Controls: none of these abort.
    REQUIRE_FALSE(aborts([] {
        auto [t, m] = sample();
        auto it = t.find("ab");
        t.insert("ab", 5);             // present: nothing changes
        t.insert_or_assign("ab", 6u);  // assigns: the shape is the same
        t.erase("not there");          // erases nothing
        if (it->second != 6) std::abort();
        auto e = t.end();
        t.insert("zzz", 1);            // end() stays valid
        --e;
        if (e.key() != "zzz") std::abort();
        auto fresh = t.find("ab");     // made after the change
        ++fresh;
    }));
#else
    WARN("MEMKV_DEBUG_ITERATORS is 0 in this build: the generation checks are compiled out");
    SUCCEED();
#endif
}
