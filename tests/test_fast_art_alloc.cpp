// FastArt's strong guarantee under allocation failure: a global operator new
// that throws std::bad_alloc at its k-th call (k = 0, 1, 2, ... until the
// operation completes without reaching it) around insert, try_emplace and
// insert_or_assign of long keys (past std::string's small buffer, so the
// returned iterator's copy of the key allocates). Whenever the call throws,
// the map must be exactly as before (size, keys, values, verify()).
//
// Regression: on c98fe64 the returned lazy iterator copied the key after the
// key was inserted, so a bad_alloc from that copy escaped with the key
// already in the map. This file compiles against c98fe64's headers
// unchanged, and there "strong guarantee of insert ... (from empty)" fails
// (the map holds the key after the throw); it passes now.
//
// The failures come from the shared seam (alloc_fault.hpp); the sweeps over
// erase, erase_prefix, copies and iterators are in test_fast_art_faults.cpp.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <map>
#include <new>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <memkv/fast_art.hpp>

#include "alloc_fault.hpp"
#include "memkv_catch.hpp"
#include "test_support.hpp"
#include "zones_support.hpp"

namespace {

using Art = memkv::FastArt<std::uint64_t>;
using Model = std::map<std::string, std::uint64_t>;

Model contents(const Art& t) {
    Model m;
    t.for_each([&](std::string_view k, const std::uint64_t& v) { m.emplace(std::string(k), v); });
    return m;
}

Model base_model(bool empty) {
    Model m;
    if (empty) return m;
    for (int i = 0; i < 40; ++i) {
        std::string k = "https://example.com/page/";
        k += std::to_string(i);
        k += "/tail-of-some-length";
        m.emplace(std::move(k), static_cast<std::uint64_t>(i));
    }
    m.emplace("short", 1000);
    m.emplace("https://example.com/", 1001);
    return m;
}

enum class op_kind { insert, try_emplace, insert_or_assign };

// Runs op with the k-th allocation failing, for k = 0, 1, ... until op runs
// to its end without reaching the failure.
void check_strong(op_kind op, const std::string& key, bool from_empty) {
    const Model before = base_model(from_empty);
    Model after = before;
    constexpr std::uint64_t value = 77;
    const bool present = before.count(key) != 0;
    if (op == op_kind::insert_or_assign) {
        after.insert_or_assign(key, value);
    } else {
        after.emplace(key, value);
    }
    for (long k = 0;; ++k) {
        Art t;
        for (const auto& [bk, bv] : before) t.insert(bk, bv);
        std::pair<Art::iterator, bool> r;
        const auto [threw, fired] = memkv::test::alloc_fault::fail_at(static_cast<std::uint64_t>(k), [&] {
            switch (op) {
                case op_kind::insert: r = t.insert(key, value); break;
                case op_kind::try_emplace: r = t.try_emplace(key, value); break;
                case op_kind::insert_or_assign: r = t.insert_or_assign(key, value); break;
            }
        });
        INFO("key " << key << ", failing allocation " << k << (from_empty ? " (from empty)" : ""));
        t.verify();
        if (threw) {
            REQUIRE(fired);
            REQUIRE(t.size() == before.size());
            REQUIRE(contents(t) == before);
            continue;
        }
        // Completed (perhaps past a failure it absorbs, such as a skipped
        // free-list table): the full effect, and a working iterator.
        REQUIRE(r.second == !present);
        REQUIRE(r.first.key() == key);
        REQUIRE(r.first.value() == after.at(key));
        REQUIRE(t.size() == after.size());
        REQUIRE(contents(t) == after);
        if (!fired) return;
    }
}

}  // namespace

TEST_CASE("FastArt: strong guarantee of insert, try_emplace, insert_or_assign under bad_alloc",
          "[fast_art][alloc][regression]") {
    // Each key is longer than std::string's 15-byte small buffer; together
    // they take every insertion shape: a first leaf, a new branch, a split
    // leaf (the key extends a key, is a prefix of one, or diverges inside a
    // suffix), a split node prefix, a grown node, an existing key.
    const std::vector<std::string> keys = {
        "https://example.com/page/7/tail-of-some-lengthX",  // extends a key
        "https://example.com/page/7/tail-of-some",          // prefix of a key
        "https://example.com/page/7/tail-of-other-length",  // diverges in a suffix
        "https://example.com/other/path/that/is/long",      // new branch
        "https://different.org/long/key/value",             // splits a node prefix
        "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",                   // new branch at the root
        "https://example.com/page/12/tail-of-some-length",  // present
    };
    for (const op_kind op : {op_kind::insert, op_kind::try_emplace, op_kind::insert_or_assign}) {
        for (const bool from_empty : {true, false}) {
            for (const auto& k : keys) {
                if (from_empty && k != keys.front()) continue;
                check_strong(op, k, from_empty);
            }
        }
    }
}

TEST_CASE("FastArt: strong guarantee when moving to another zone fails", "[fast_art][alloc][zones]") {
    // Zones of 28 KiB (zones_support.hpp): once a few are full, most inserts
    // find their zone full and move the holder's children to the open zone
    // or a new one first (tree::rezone). Every allocation of every insert is
    // made to fail in turn; those of a rezone are the new zone's table and
    // the chunks of the zone it moves to. Each failure must leave the tree
    // as it was.
    // Table zones: a flat zone's chunks are carved from its reserved range
    // and cannot fail, so only table zones have chunk allocations to fail.
    using engine = memkv::detail::art::tree<std::uint64_t>;
    const memkv::test::small_zones zones(2);
    const memkv::test::table_zones table;
    engine t;
    Model m;
    auto contents_of = [&t] {
        Model c;
        t.walk([&](std::string_view k, memkv::detail::art::loc_t leaf) { c.emplace(std::string(k), t.value(leaf)); });
        return c;
    };
    memkv::test::key_generator gen(0xA110C);
    auto next_key = [&gen](std::size_t i) {
        std::string k = gen.pick(2) == 0 ? "https://github.com/" : "https://example.org/x/";
        k += "user" + std::to_string(gen.pick(300)) + "/repo" + std::to_string(gen.pick(40));
        if (gen.pick(2) == 0) k += "/" + std::to_string(i);
        return k;
    };
    for (std::size_t i = 0; i < 3'000; ++i) {
        const std::string k = next_key(i);
        t.emplace(k, i);
        m.emplace(k, i);
    }
    REQUIRE(t.zones() >= 4);
    std::size_t rezoned = 0;
    std::size_t failed = 0;
    for (std::size_t i = 0; i < 4'000; ++i) {
        const std::string k = next_key(i) + "/new" + std::to_string(i);
        for (long c = 0;; ++c) {
            const std::size_t rezones_before = t.rezones();
            std::pair<memkv::detail::art::loc_t, bool> r{};
            const auto [threw, fired] =
                memkv::test::alloc_fault::fail_at(static_cast<std::uint64_t>(c), [&] { r = t.emplace(k, i); });
            INFO("key " << k << ", failing allocation " << c);
            if (threw) {
                ++failed;
                REQUIRE(fired);
                REQUIRE_NOTHROW(t.verify());
                REQUIRE(t.size() == m.size());
                REQUIRE(contents_of() == m);
                continue;
            }
            REQUIRE(r.second == m.emplace(k, i).second);
            REQUIRE(t.value(r.first) == m.at(k));
            if (t.rezones() > rezones_before && c > 0) ++rezoned;
            break;
        }
    }
    INFO("inserts that rezoned after failures: " << rezoned << ", failed attempts: " << failed << ", zones "
                                                       << t.zones() << ", rezones " << std::to_string(t.rezones()));
    REQUIRE(rezoned >= 10);
    REQUIRE_NOTHROW(t.verify());
    REQUIRE(contents_of() == m);
}

// ---- sweeps over the other operations ----------------------------------------
//
// Each case runs one operation with the k-th allocation failing, for every k
// until it completes without reaching k, on a tree of a few hundred keys with
// every node shape (shared prefixes, keys that are prefixes of others, long
// suffixes, a full node). After a throw the tree must equal its model (the
// documented strong guarantee) and pass verify(); after every attempt a few
// more operations must work.

namespace {

namespace af = memkv::test::alloc_fault;

Model sweep_model() {
    Model m;
    for (std::uint64_t i = 0; i < 120; ++i) {
        const std::string n = std::to_string(i);
        m.emplace("https://example.com/a/" + n + "/some-long-tail", i);
        if (i % 3 == 0) m.emplace("https://example.com/a/" + n, 1000 + i);  // a prefix of a key
        if (i % 5 == 0) m.emplace("https://example.com/b" + n, 2000 + i);
    }
    for (unsigned c = 0; c < 256; c += 3) m.emplace("https://x/" + std::string(1, static_cast<char>(c)) + "/leaf", c);
    m.emplace("", 7);
    m.emplace("h", 8);
    return m;
}

Art build(const Model& m) {
    Art t;
    for (const auto& [k, v] : m) t.insert(k, v);
    return t;
}

void require_model(const Art& t, const Model& m) {
    REQUIRE_NOTHROW(t.verify());
    REQUIRE(t.size() == m.size());
    REQUIRE(contents(t) == m);
}

// A few more operations on t (and m), compared after each: the tree keeps
// working after a failure.
void keep_working(Art& t, Model& m) {
    const std::string a = "https://example.com/a/7/some-long-tail-added-after";
    REQUIRE(t.insert(a, 99).second == m.emplace(a, 99).second);
    REQUIRE(t.erase("https://example.com/a/8/some-long-tail") == m.erase("https://example.com/a/8/some-long-tail"));
    REQUIRE(t.erase_prefix("https://example.com/b1") == [&] {
        std::size_t n = 0;
        for (auto it = m.lower_bound("https://example.com/b1");
             it != m.end() && it->first.starts_with("https://example.com/b1");) {
            it = m.erase(it);
            ++n;
        }
        return n;
    }());
    require_model(t, m);
}

}  // namespace

TEST_CASE("FastArt: erase and erase_prefix under bad_alloc keep the strong guarantee", "[fast_art][alloc]") {
    const Model base = sweep_model();
    // Erases that remove a terminal, leave a node with one entry (merged
    // into its parent's slot: the one allocation), shrink a node, or miss.
    const std::vector<std::string> keys = {
        "https://example.com/a/3",                  // terminal of a node
        "https://example.com/a/3/some-long-tail",   // leaves the terminal alone: merge
        "https://example.com/a/11/some-long-tail",  // sibling of others
        "https://x/\x03/leaf",                      // in a full node
        "",                                         // the empty key
        "https://example.com/absent",
    };
    const std::vector<std::string> prefixes = {"https://example.com/a/3", "https://example.com/b", "https://x/",
                                               "https://example.com/a/1", "", "nothing-here"};
    std::size_t failures = 0;
    auto sweep = [&](const std::string& what, auto&& op, auto&& apply) {
        Model after = base;
        apply(after);
        for (std::uint64_t k = 0;; ++k) {
            Art t = build(base);
            const af::outcome r = af::fail_at(k, [&] { op(t); });
            INFO(what << ", failing allocation " << k);
            Model m = r.threw ? base : after;
            if (r.threw) {
                REQUIRE(r.fired);
                ++failures;
            }
            require_model(t, m);
            keep_working(t, m);
            if (!r.fired) break;
        }
    };
    for (const std::string& key : keys) {
        std::size_t n = 0;
        sweep(
            "erase " + key, [&](Art& t) { n = t.erase(key); }, [&](Model& m) { m.erase(key); });
        REQUIRE(n == base.count(key));
        // erase(iterator): the returned iterator is the next key.
        if (base.count(key) == 0) continue;
        const auto next = std::next(base.find(key));
        std::string got;
        sweep(
            "erase(iterator) " + key,
            [&](Art& t) {
                auto pos = t.find(key);
                Art::iterator it = t.erase(pos);  // moved out: no allocation after the erase
                af::disarm();
                got = it == t.end() ? "<end>" : it.key();
            },
            [&](Model& m) { m.erase(key); });
        REQUIRE(got == (next == base.end() ? std::string("<end>") : next->first));
    }
    for (const std::string& p : prefixes) {
        std::size_t n = 0;
        std::size_t want = 0;
        sweep(
            "erase_prefix " + p, [&](Art& t) { n = t.erase_prefix(p); },
            [&](Model& m) {
                want = 0;
                for (auto it = m.lower_bound(p); it != m.end() && it->first.starts_with(p);) {
                    it = m.erase(it);
                    ++want;
                }
            });
        REQUIRE(n == want);
    }
    CHECK(failures > 0);
}

TEST_CASE("FastArt: copy construction and assignment under bad_alloc", "[fast_art][alloc]") {
    const Model base = sweep_model();
    const Model other = base_model(false);
    for (std::uint64_t k = 0;; ++k) {
        const Art src = build(base);
        std::optional<Art> copy;
        const af::outcome r = af::fail_at(k, [&] { copy.emplace(src); });
        INFO("copy construction, failing allocation " << k);
        require_model(src, base);
        REQUIRE(copy.has_value() == !r.threw);
        if (copy) {
            Model m = base;
            require_model(*copy, m);
            keep_working(*copy, m);
            require_model(src, base);  // independent of the copy
        }
        if (!r.fired) break;
    }
    for (std::uint64_t k = 0;; k = af::next_k(k, af::sweep::sampled)) {
        const Art src = build(base);
        Art dst = build(other);
        const af::outcome r = af::fail_at(k, [&] { dst = src; });
        INFO("copy assignment, failing allocation " << k);
        require_model(src, base);
        Model m = r.threw ? other : base;
        require_model(dst, m);  // strong: the old contents after a throw
        keep_working(dst, m);
        if (!r.fired) break;
    }
}

TEST_CASE("FastArt: iterator steps, seeks and views under bad_alloc", "[fast_art][alloc][iterators]") {
    // An iterator's ++ and -- may allocate (its path and key buffer grow);
    // the contract: the map is unchanged and an iterator whose step threw is
    // end(), from which -- finds the last element again.
    //
    // Regression: a lazy iterator (from find) whose first ++ failed while it
    // built its path kept a partial path and stayed lazy, and a materialized
    // one kept a half-updated path above its old leaf: later ++, -- or key()
    // gave wrong keys. Before the fix "after a failed step the iterator is
    // end()" failed here.
    const Model base = sweep_model();
    const Art t = build(base);
    std::string buf;
    buf.reserve(256);  // key(buf) into a reserved buffer: the test allocates nothing itself
    const std::string last_key = std::prev(base.end())->first;
    auto after_failure = [&](Art::const_iterator& it) {
        REQUIRE(it == t.end());
        --it;  // works again from end()
        REQUIRE(it.key() == last_key);
        require_model(t, base);
    };

    std::size_t failures = 0;
    for (const bool forward : {true, false}) {
        for (std::uint64_t k = 0;; ++k) {
            Art::const_iterator it;
            bool stepping = false;
            bool same = true;
            const af::outcome r = af::fail_at(k, [&] {
                it = forward ? t.begin() : t.end();
                stepping = true;
                if (forward) {
                    for (auto m = base.begin(); it != t.end(); ++it, ++m) {
                        it.key(buf);
                        same = same && buf == m->first && it.value() == m->second;
                    }
                } else {
                    for (auto m = base.rbegin(); m != base.rend(); ++m) {
                        --it;
                        it.key(buf);
                        same = same && buf == m->first && it.value() == m->second;
                    }
                }
            });
            INFO((forward ? "forward" : "backward") << " walk, failing allocation " << k);
            REQUIRE(same);
            if (r.threw) {
                ++failures;
                if (stepping) after_failure(it);
            }
            if (!r.fired) break;
        }
    }
    // Lazy iterators from find / lower_bound build their path on the first
    // step; a seek and a few steps from every 7th key.
    for (auto m = base.begin(); m != base.end(); std::advance(m, std::min<std::ptrdiff_t>(7, std::distance(m, base.end())))) {
        for (const int how : {0, 1, 2}) {
            for (std::uint64_t k = 0;; ++k) {
                Art::const_iterator it;
                bool stepping = false;
                bool same = true;
                const af::outcome r = af::fail_at(k, [&] {
                    it = how == 0 ? t.find(m->first) : how == 1 ? t.lower_bound(m->first) : t.upper_bound(m->first);
                    stepping = true;
                    auto mm = how == 2 ? std::next(m) : m;
                    if (how == 2 && mm == base.end()) return;
                    for (int s = 0; s < 3 && mm != base.end(); ++s, ++mm, ++it) {
                        it.key(buf);
                        same = same && buf == mm->first;
                    }
                    if (mm != base.begin()) {
                        --it;
                        --mm;
                        it.key(buf);
                        same = same && buf == mm->first;
                    }
                });
                INFO("seek " << how << " to " << m->first << ", failing allocation " << k);
                REQUIRE(same);
                if (r.threw) {
                    ++failures;
                    if (stepping) after_failure(it);
                }
                if (!r.fired) break;
            }
        }
    }
    // Views: built and walked both ways (views::reverse copies iterators).
    for (const std::string p : {"https://example.com/a/1", "https://x/", "", "zz"}) {
        Model want;
        for (auto it = base.lower_bound(p); it != base.end() && it->first.starts_with(p); ++it) want.insert(*it);
        for (std::uint64_t k = 0;; k = af::next_k(k, af::sweep::sampled)) {
            std::size_t fwd = 0;
            std::size_t back = 0;
            bool same = true;
            const af::outcome r = af::fail_at(k, [&] {
                const auto v = t.prefix(p);
                auto m = want.begin();
                for (auto it = v.begin(); it != v.end(); ++it, ++m, ++fwd) same = same && it.key() == m->first;
                auto rm = want.rbegin();
                for (const auto& e : v | std::views::reverse) {
                    same = same && e.first == rm->first && e.second == rm->second;
                    ++rm;
                    ++back;
                }
            });
            INFO("prefix view " << p << ", failing allocation " << k);
            REQUIRE(same);
            if (r.threw) ++failures;
            if (!r.threw) REQUIRE((fwd == want.size() && back == want.size()));
            require_model(t, base);
            if (!r.fired) break;
        }
    }
    CHECK(failures > 0);
}
