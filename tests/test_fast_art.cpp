// Hand-checked FastArt cases: the no-terminator key space, the container API,
// value types (move-only, throwing move, counted), memory accounting.
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <memkv/fast_art.hpp>
#include <memkv/memkv.hpp>

#include "memkv_catch.hpp"

using namespace std::string_literals;
using Art = memkv::FastArt<std::uint64_t>;

namespace {

// "k" + the number, spelled so that g++ 12 -O3 raises no false -Wrestrict
// positive on operator+(const char*, std::string&&).
std::string key_k(int i) {
    std::string k = "k";
    k += std::to_string(i);
    return k;
}

std::vector<std::string> keys_of(const Art& t) {
    std::vector<std::string> out;
    for (const auto& e : t) out.push_back(e.key());
    return out;
}

// Counts live instances so a test can see each destructor run exactly once.
struct counted {
    static inline long live = 0;
    int v = 0;
    explicit counted(int x) : v(x) { ++live; }
    counted(const counted& o) : v(o.v) { ++live; }
    counted(counted&& o) noexcept : v(o.v) { ++live; }
    counted& operator=(const counted&) = default;
    counted& operator=(counted&&) noexcept = default;
    ~counted() { --live; }
};

// Move may throw (so FastArt boxes it); construction throws on demand.
struct throwing_move {
    static inline long live = 0;
    static inline bool fail_next = false;
    int v = 0;
    explicit throwing_move(int x) : v(x) {
        if (fail_next) {
            fail_next = false;
            throw std::runtime_error("construction failed");
        }
        ++live;
    }
    throwing_move(throwing_move&& o) : v(o.v) { ++live; }  // NOLINT: deliberately not noexcept
    throwing_move& operator=(throwing_move&& o) {
        v = o.v;
        return *this;
    }
    ~throwing_move() { --live; }
};

}  // namespace

TEST_CASE("FastArt: empty tree", "[fast_art]") {
    Art t;
    REQUIRE(t.empty());
    REQUIRE(t.size() == 0);
    REQUIRE(t.begin() == t.end());
    REQUIRE(t.rbegin() == t.rend());
    REQUIRE(t.find("") == t.end());
    REQUIRE(t.lower_bound("a") == t.end());
    REQUIRE(t.erase("a") == 0);
    REQUIRE(t.longest_prefix("abc") == t.end());
    REQUIRE(t.prefix("").empty());
    REQUIRE_THROWS_AS(t.at("x"), std::out_of_range);
    t.verify();
}

TEST_CASE("FastArt: no terminator byte -- every byte string is a key", "[fast_art]") {
    Art t;
    const std::vector<std::string> keys = {""s, "a"s, "ab"s, "a\0"s, "a\0\0"s, "\xff"s, "\xff\xff"s,
                                           "\0"s, "abc"s, "abd"s, "b"s, "a\xff"s};
    std::uint64_t v = 0;
    for (const auto& k : keys) REQUIRE(t.insert(k, v++).second);
    REQUIRE(t.size() == keys.size());
    t.verify();
    v = 0;
    for (const auto& k : keys) {
        REQUIRE(t.contains(k));
        REQUIRE(t.at(k) == v++);
    }
    REQUIRE_FALSE(t.contains("abcd"));
    REQUIRE_FALSE(t.contains("a\0\0\0"s));
    std::vector<std::string> sorted = keys;
    std::sort(sorted.begin(), sorted.end());
    REQUIRE(keys_of(t) == sorted);
    // "a", "ab", "a\0" are three keys; erasing one leaves the others.
    REQUIRE(t.erase("a") == 1);
    REQUIRE(t.contains("ab"));
    REQUIRE(t.contains("a\0"s));
    REQUIRE_FALSE(t.contains("a"));
    REQUIRE(t.erase("") == 1);
    REQUIRE_FALSE(t.contains(""));
    t.verify();
}

TEST_CASE("FastArt: insert, try_emplace, insert_or_assign, operator[]", "[fast_art]") {
    Art t;
    auto [it, ins] = t.insert("key", 1);
    REQUIRE(ins);
    REQUIRE(it.key() == "key");
    REQUIRE(it.value() == 1);
    auto [it2, ins2] = t.insert("key", 2);
    REQUIRE_FALSE(ins2);
    REQUIRE(it2.value() == 1);  // insert does not overwrite
    auto [it3, ins3] = t.insert_or_assign("key", 3u);
    REQUIRE_FALSE(ins3);
    REQUIRE(it3.value() == 3);
    REQUIRE(t.try_emplace("other", 7u).second);
    t["third"] = 9;
    REQUIRE(t["third"] == 9);
    REQUIRE(t["fresh"] == 0);  // default-constructed
    REQUIRE(t.size() == 4);
    REQUIRE(t.get("other") == std::optional<std::uint64_t>(7));
    REQUIRE_FALSE(t.get("nothing").has_value());
    // An iterator from insert steps like any other.
    auto f = t.find("key");
    ++f;
    REQUIRE(f.key() == "other");
    --f;
    --f;
    REQUIRE(f.key() == "fresh");
}

TEST_CASE("FastArt: ordered access", "[fast_art]") {
    Art t;
    for (const char* k : {"apple", "apply", "apt", "b", "banana", "band", "bandana", "c"}) t.insert(k, 1);
    REQUIRE(t.lower_bound("app").key() == "apple");
    REQUIRE(t.lower_bound("apple").key() == "apple");
    REQUIRE(t.upper_bound("apple").key() == "apply");
    REQUIRE(t.lower_bound("aq").key() == "b");
    REQUIRE(t.lower_bound("bandz").key() == "c");
    REQUIRE(t.lower_bound("d") == t.end());
    REQUIRE(t.upper_bound("c") == t.end());
    auto [lo, hi] = t.equal_range("band");
    REQUIRE(lo.key() == "band");
    REQUIRE(hi.key() == "bandana");
    std::vector<std::string> p;
    for (const auto& e : t.prefix("ban")) p.push_back(e.key());
    REQUIRE(p == std::vector<std::string>{"banana", "band", "bandana"});
    std::vector<std::string> q;
    t.for_each_prefix("ban", [&](std::string_view k, std::uint64_t&) { q.emplace_back(k); });
    REQUIRE(q == p);
    q.clear();
    t.for_each_prefix("bandanas", [&](std::string_view k, std::uint64_t&) { q.emplace_back(k); });
    REQUIRE(q.empty());
    t.for_each_prefix("a", [&](std::string_view k, std::uint64_t&) { q.emplace_back(k); });
    REQUIRE(q == std::vector<std::string>{"apple", "apply", "apt"});
    std::vector<std::string> r;
    for (const auto& e : t.range("apply", "band")) r.push_back(e.key());
    REQUIRE(r == std::vector<std::string>{"apply", "apt", "b", "banana"});
    REQUIRE(t.range("c", "a").empty());
    std::vector<std::string> rev;
    for (auto it = t.rbegin(); it != t.rend(); ++it) rev.push_back(it->first);
    std::vector<std::string> fwd = keys_of(t);
    std::reverse(fwd.begin(), fwd.end());
    REQUIRE(rev == fwd);
    // --end() is the last element; key(buffer) reuses the buffer.
    auto e = t.end();
    --e;
    std::string buf;
    e.key(buf);
    REQUIRE(buf == "c");
    REQUIRE(std::distance(t.begin(), t.end()) == 8);
}

TEST_CASE("FastArt: erase(first, last)", "[fast_art]") {
    Art t;
    for (int i = 0; i < 20; ++i) t.insert(key_k(i), static_cast<std::uint64_t>(i));
    // Keys sort as k0 k1 k10 k11 ... k19 k2 k3 ... k9.
    REQUIRE(t.erase(t.find("k3"), t.find("k3")) == t.find("k3"));  // empty range
    REQUIRE(t.size() == 20);
    auto it = t.erase(t.find("k10"), t.find("k15"));
    REQUIRE(it == t.find("k15"));
    REQUIRE(it.key() == "k15");
    REQUIRE(t.size() == 15);
    REQUIRE_FALSE(t.contains("k10"));
    REQUIRE_FALSE(t.contains("k14"));
    REQUIRE(t.contains("k1"));
    it = t.erase(t.find("k7"), t.end());
    REQUIRE(it == t.end());
    REQUIRE(keys_of(t) == (std::vector<std::string>{"k0", "k1", "k15", "k16", "k17", "k18", "k19", "k2", "k3",
                                                    "k4", "k5", "k6"}));
    it = t.erase(t.begin(), t.end());
    REQUIRE(it == t.end());
    REQUIRE(t.empty());
    REQUIRE(t.memory_usage() == Art().memory_usage());
}

TEST_CASE("FastArt: longest_prefix and erase_prefix", "[fast_art]") {
    Art t;
    for (const char* k : {"", "/", "/usr", "/usr/lib", "/usr/local/bin", "/var"}) t.insert(k, 1);
    REQUIRE(t.longest_prefix("/usr/lib/x86").key() == "/usr/lib");
    REQUIRE(t.longest_prefix("/usr/local").key() == "/usr");
    REQUIRE(t.longest_prefix("/us").key() == "/");
    REQUIRE(t.longest_prefix("x").key().empty());
    REQUIRE(t.erase_prefix("/usr") == 3);
    REQUIRE(keys_of(t) == std::vector<std::string>{"", "/", "/var"});
    REQUIRE(t.erase_prefix("") == 3);
    REQUIRE(t.empty());
    t.verify();
}

TEST_CASE("FastArt: erase(iterator) returns the next element", "[fast_art]") {
    Art t;
    for (const char* k : {"a", "b", "c"}) t.insert(k, 1);
    auto it = t.erase(t.find("b"));
    REQUIRE(it.key() == "c");
    it = t.erase(it);
    REQUIRE(it == t.end());
    REQUIRE(keys_of(t) == std::vector<std::string>{"a"});
}

TEST_CASE("FastArt: copy is deep, move and swap transfer", "[fast_art]") {
    Art a;
    for (int i = 0; i < 1000; ++i) a.insert("key" + std::to_string(i), static_cast<std::uint64_t>(i));
    Art b(a);
    b.verify();
    REQUIRE(keys_of(a) == keys_of(b));
    b.erase("key5");
    REQUIRE(a.contains("key5"));
    Art c(std::move(b));
    REQUIRE(c.size() == 999);
    Art d;
    d = c;
    REQUIRE(d.size() == 999);
    d = std::move(a);
    REQUIRE(d.size() == 1000);
    swap(c, d);
    REQUIRE(c.size() == 1000);
    REQUIRE(d.size() == 999);
    c.verify();
    d.verify();
}

TEST_CASE("FastArt: long keys and long shared prefixes", "[fast_art]") {
    Art t;
    const std::string big(70'000, 'L');
    t.insert(big, 1);
    t.insert(big + "x", 2);
    t.insert(big.substr(0, 300), 3);
    t.insert(big.substr(0, 300) + "\0"s, 4);
    t.verify();
    REQUIRE(t.at(big) == 1);
    REQUIRE(t.at(big + "x") == 2);
    REQUIRE(t.at(big.substr(0, 300)) == 3);
    REQUIRE(keys_of(t).size() == 4);
    REQUIRE(t.erase(big) == 1);
    REQUIRE(t.erase(big.substr(0, 300)) == 1);
    t.verify();
    REQUIRE(t.at(big + "x") == 2);
}

TEST_CASE("FastArt: splits at every byte of long suffixes and prefixes", "[fast_art]") {
    // A leaf's suffix is shortened in place by a word-wise move, a split
    // node is written with its prefix's first bytes inline and the rest in
    // its tail, and a prefix past the inline bytes is matched a word at a
    // time, its last word overlapping: keys leaving a 0-70-byte suffix or
    // prefix at each byte, to a bigger and a smaller byte or by ending there,
    // must keep every other key whole. Forward, each key splits the leaf
    // below the last split; backward, the first split makes a node with a
    // long prefix and each later key splits that prefix.
    const std::string base = "/srv/data/\0\xff"s + "project-alpha/src/components/widgets/deep/file-0001.txt";
    for (std::size_t len = 1; len <= base.size(); ++len) {
        for (const bool backward : {false, true}) {
            const std::string a = base.substr(0, len);
            Art t;
            std::map<std::string, std::uint64_t> model;
            auto put = [&](const std::string& k) {
                const auto v = static_cast<std::uint64_t>(model.size() + 1);
                const bool fresh = model.emplace(k, v).second;
                REQUIRE(t.insert(k, v).second == fresh);
            };
            put(a);
            for (std::size_t i = 0; i < len; ++i) {
                const std::size_t at = backward ? len - 1 - i : i;
                for (const char c : {'\0', '\x7f', '\xff'}) {
                    std::string b = a;
                    if (b[at] == c) continue;
                    b[at] = c;
                    put(b);
                }
                put(a.substr(0, at));
            }
            INFO("length " << len << (backward ? " backward" : " forward"));
            t.verify();
            REQUIRE(t.size() == model.size());
            for (const auto& [k, v] : model) REQUIRE(t.at(k) == v);
            std::vector<std::string> want;
            for (const auto& e : model) want.push_back(e.first);
            REQUIRE(keys_of(t) == want);
        }
    }
}

TEST_CASE("FastArt internals: move_bytes_down and mismatch against byte loops", "[fast_art]") {
    unsigned char buf[96];
    for (std::size_t n = 0; n <= 40; ++n) {
        for (std::size_t shift = 1; shift <= 24; ++shift) {
            for (std::size_t i = 0; i < sizeof buf; ++i) buf[i] = static_cast<unsigned char>(i * 37 + 11);
            unsigned char want[sizeof buf];
            std::copy(buf, buf + sizeof buf, want);
            std::copy(want + 8 + shift, want + 8 + shift + n, want + 8);
            memkv::detail::art::move_bytes_down(buf + 8, buf + 8 + shift, n);
            INFO("n " << n << " shift " << shift);
            REQUIRE(std::equal(buf, buf + sizeof buf, want));
        }
    }
    unsigned char x[40];
    unsigned char y[40];
    for (std::size_t n = 0; n <= sizeof x; ++n) {
        for (std::size_t at = 0; at <= n; ++at) {
            for (std::size_t i = 0; i < sizeof x; ++i) x[i] = y[i] = static_cast<unsigned char>(i + 1);
            if (at < n) y[at] = 0xff;
            // A second difference later must not hide the first.
            if (at + 3 < n) x[at + 3] = 0;
            INFO("n " << n << " at " << at);
            REQUIRE(memkv::detail::art::mismatch(x, y, n) == at);
        }
    }
}

TEST_CASE("FastArt: key length limit", "[fast_art]") {
    STATIC_REQUIRE(Art::max_key_size() == 0xFFFF'FFFFu);
    REQUIRE_NOTHROW(memkv::detail::art::check_key_size(0xFFFF'FFFFu));
    if constexpr (sizeof(std::size_t) > 4) {
        REQUIRE_THROWS_AS(memkv::detail::art::check_key_size(std::size_t{0xFFFF'FFFFu} + 1), std::length_error);
    }
}

TEST_CASE("FastArt: memory comes back", "[fast_art]") {
    Art t;
    const std::size_t empty = t.memory_usage();
    for (int i = 0; i < 50'000; ++i) t.insert("http://example.com/" + std::to_string(i * 7919), 1);
    REQUIRE(t.memory_usage() > empty + 50'000 * 8);
    for (int i = 0; i < 50'000; ++i) REQUIRE(t.erase("http://example.com/" + std::to_string(i * 7919)) == 1);
    REQUIRE(t.memory_usage() == empty);
    // Churn at a steady size reuses freed blocks instead of growing.
    for (int i = 0; i < 20'000; ++i) t.insert(key_k(i), 1);
    const std::size_t steady = t.memory_usage();
    for (int round = 0; round < 5; ++round) {
        for (int i = 0; i < 20'000; ++i) t.erase(key_k(i + round * 20'000));
        for (int i = 0; i < 20'000; ++i) t.insert(key_k(i + (round + 1) * 20'000), 1);
    }
    REQUIRE(t.memory_usage() < steady * 2);
    t.verify();
}

TEST_CASE("FastArt: move-only values", "[fast_art]") {
    memkv::FastArt<std::unique_ptr<int>> t;
    t.try_emplace("a", std::make_unique<int>(1));
    t.insert("b", std::make_unique<int>(2));
    t.insert_or_assign("a", std::make_unique<int>(3));
    REQUIRE(**t.get_if("a") == 3);
    REQUIRE(*t.at("b") == 2);
    for (int i = 0; i < 1000; ++i) t.try_emplace(key_k(i), std::make_unique<int>(i));
    for (int i = 0; i < 1000; i += 2) t.erase(key_k(i));
    REQUIRE(*t.find("k1").value() == 1);
    auto moved = std::move(t);
    REQUIRE(moved.size() == 502);
    moved.verify();
}

TEST_CASE("FastArt: every value destroyed exactly once", "[fast_art]") {
    counted::live = 0;
    {
        memkv::FastArt<counted> t;
        for (int i = 0; i < 2000; ++i) t.try_emplace("key" + std::to_string(i % 1500), i);
        REQUIRE(counted::live == 1500);
        for (int i = 0; i < 1500; i += 3) t.erase("key" + std::to_string(i));
        REQUIRE(counted::live == 1000);
        memkv::FastArt<counted> copy(t);
        REQUIRE(counted::live == 2000);
        copy.clear();
        REQUIRE(counted::live == 1000);
        t.insert_or_assign("key1", counted(5));
        REQUIRE(counted::live == 1000);
    }
    REQUIRE(counted::live == 0);
}

TEST_CASE("FastArt: throwing-move values and failed construction", "[fast_art]") {
    throwing_move::live = 0;
    {
        memkv::FastArt<throwing_move> t;
        for (int i = 0; i < 500; ++i) t.try_emplace(key_k(i), i);
        const std::size_t usage = t.memory_usage();
        // A failed construction leaves the tree as it was (strong guarantee),
        // in every insertion shape: new branch, split leaf, split prefix.
        for (const char* k : {"k1000", "k10x", "k5a", "j", "k", ""}) {
            throwing_move::fail_next = true;
            REQUIRE_THROWS_AS(t.try_emplace(k, 1), std::runtime_error);
            t.verify();
        }
        REQUIRE(t.size() == 500);
        REQUIRE(t.memory_usage() >= usage);
        REQUIRE(throwing_move::live == 500);
        // Erasures that merge nodes move nothing that could throw.
        for (int i = 0; i < 500; i += 2) t.erase(key_k(i));
        t.verify();
        REQUIRE(throwing_move::live == 250);
        REQUIRE(t.at("k1").v == 1);
    }
    REQUIRE(throwing_move::live == 0);
}

