// FastArt's top rows (see top_rows in detail/art/tree.hpp): the root's
// plain children laid out by byte, where point lookups start two bytes past
// the root's prefix. This executable is built with the rows' threshold
// lowered to 16 keys (MEMKV_FAST_ART_TOP_MIN_KEYS, CMakeLists.txt), together
// with the random-operation model of test_fast_art_model.cpp, so the rows sit
// under every small tree those tests build. Here: lookups through each kind
// of row (a full child's own array, a linear child's copy, no row for a
// leaf or a prefixed child), every event that must rebuild or drop them (the
// root growing, its prefix cut, a rezone, clear, erase_prefix above the rows,
// a copy that cannot be allocated), and swap/move keeping them valid.
// verify() checks the rows' invariant after each step.
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <utility>

#include <memkv/fast_art.hpp>

#include "alloc_fault.hpp"
#include "engine_pair.hpp"
#include "memkv_catch.hpp"
#include "zones_support.hpp"

namespace {

using engine = memkv::detail::art::tree<std::uint64_t>;
static_assert(MEMKV_FAST_ART_TOP_MIN_KEYS == 16, "built with the rows' threshold lowered");

class model_pair : public memkv::test::engine_pair {
public:
    // Values from int loop counters.
    void insert(const std::string& k, int v) { engine_pair::insert(k, static_cast<std::uint64_t>(v)); }
    void record(const std::string& k, int v) { engine_pair::record(k, static_cast<std::uint64_t>(v)); }
    // Every stored key, each key with one byte changed or cut (misses that
    // share the rows' two bytes), and the probes given.
    void check(const std::string& probe = {}) const {
        REQUIRE_NOTHROW(t_.verify());
        REQUIRE(t_.size() == m_.size());
        for (const auto& [k, v] : m_) {
            const std::byte* leaf = t_.find_leaf(k);
            REQUIRE(leaf != nullptr);
            REQUIRE(t_.value(t_.find(k)) == v);
            for (std::size_t cut = 0; cut < k.size(); cut += 3) {
                const std::string shorter = k.substr(0, cut);
                REQUIRE((t_.find_leaf(shorter) != nullptr) == (m_.count(shorter) != 0));
            }
            std::string other = k + '\x01';
            REQUIRE((t_.find_leaf(other) != nullptr) == (m_.count(other) != 0));
            if (!k.empty()) {
                other = k;
                other.back() = static_cast<char>(other.back() ^ 0x40);
                REQUIRE((t_.find_leaf(other) != nullptr) == (m_.count(other) != 0));
            }
        }
        if (!probe.empty()) REQUIRE((t_.find_leaf(probe) != nullptr) == (m_.count(probe) != 0));
    }
};

std::string bytes(std::initializer_list<int> b) {
    std::string s;
    for (int c : b) s.push_back(static_cast<char>(c));
    return s;
}

}  // namespace

TEST_CASE("FastArt top rows: built at the threshold, one per plain root child", "[fast_art][top]") {
    model_pair mp;
    // 15 keys: no rows yet.
    for (int i = 0; i < 15; ++i) mp.insert(bytes({'a', 'a' + i, 'x'}), i);
    REQUIRE_FALSE(mp.tree().has_top_rows());
    mp.check();
    mp.insert(bytes({'a', 'z', 'x'}), 15);
    REQUIRE(mp.tree().has_top_rows());
    mp.check();
    // Keys of the root's prefix length and one past it never use the rows;
    // a prefixed child ("b...") and a leaf child ("c") get no row.
    mp.insert("", 100);
    mp.insert("a", 101);
    mp.insert("bqrs1", 102);
    mp.insert("bqrs2", 103);
    mp.insert("c", 104);
    mp.check("bq");
    mp.check("bqrs");
    mp.check("aq");
}

TEST_CASE("FastArt top rows: full children read in place, linear ones copied", "[fast_art][top]") {
    model_pair mp;
    std::mt19937_64 rng(7);
    // Under 'f' a full node (all 256 second bytes), under 'l' a linear one
    // that grows through every kind and shrinks back by erasure.
    for (int b = 0; b < 256; ++b) mp.insert(bytes({'f', b}), b);
    for (int b = 0; b < 256; b += 5) {
        mp.insert(bytes({'l', b, 1}), 1000 + b);
        mp.insert(bytes({'l', b, 2}), 2000 + b);
        mp.check();
    }
    REQUIRE(mp.tree().has_top_rows());
    for (int b = 0; b < 256; b += 5) {
        mp.erase(bytes({'l', b, 1}));
        if (b % 3 == 0) mp.erase(bytes({'l', b, 2}));
        mp.check();
    }
    for (int b = 0; b < 256; b += 2) mp.erase(bytes({'f', b}));
    mp.check();
    // Random churn below both.
    for (int i = 0; i < 4000; ++i) {
        const int top = "fl"[rng() % 2];
        std::string k = bytes({top, static_cast<int>(rng() % 256)});
        for (std::size_t n = rng() % 4; n > 0; --n) k.push_back(static_cast<char>(rng() % 4));
        if (rng() % 3 == 0) {
            mp.erase(k);
        } else {
            mp.insert(k, i);
        }
        if (i % 500 == 0) mp.check();
    }
    mp.check();
}

TEST_CASE("FastArt top rows: a full root's full children read in place", "[fast_art][top]") {
    // Random binary keys and integers: a full root whose children are full.
    // Their rows are the children's own arrays, so lookups skip both
    // levels' headers (they read the same two references either way).
    model_pair mp;
    for (int b = 0; b < 256; ++b) mp.insert(bytes({b, 'y', 'z'}), b);  // a full root of leaves
    for (int c = 0; c < 256; ++c) mp.insert(bytes({7, c}), 1000 + c);
    for (int c = 0; c < 256; ++c) mp.insert(bytes({200, c, 1}), 2000 + c);
    for (int c = 0; c < 10; ++c) mp.insert(bytes({9, c * 3}), 3000 + c);
    // Full children at 7 and 200, a linear one (copied) at 9; leaves elsewhere.
    REQUIRE(mp.tree().top_row_count() == 3);
    mp.check(bytes({200, 5, 2}));
    mp.check(bytes({7}));
    // A full child that shrinks to a linear node: its row becomes a copy.
    for (int c = 0; c < 256; c += 2) mp.erase(bytes({7, c}));
    REQUIRE(mp.tree().top_row_count() == 3);
    mp.check(bytes({7, 4}));
    // And grows back to full: its own array again.
    for (int c = 0; c < 256; c += 2) mp.insert(bytes({7, c}), 4000 + c);
    mp.check(bytes({7, 1, 1}));
    // The root shrinks below full (a new root block): rows rebuilt, still right.
    for (int b = 100; b < 256; ++b) {
        if (b != 200) mp.erase(bytes({b, 'y', 'z'}));
    }
    mp.check(bytes({150, 'y', 'z'}));
}

TEST_CASE("FastArt top rows: inserts start at the rows' entries", "[fast_art][top]") {
    // An insert whose entry is set starts its descent there (emplace_once),
    // holding the entry's slot for a full child's row (its own array); for
    // a copied row the slot is looked up in the child only by a change that
    // rewrites it (slot_of). Every change at the entry's level -- a
    // leaf split into a node, a node grown into a new block, a split of its
    // prefix, a terminal added -- rewrites that slot, and a copied row must
    // follow (verify() compares each row with the child it stands for).
    model_pair mp;
    for (int c = 0; c < 256; ++c) mp.insert(bytes({'f', c}), c);  // full child: its own array
    for (int c = 0; c < 40; c += 4) mp.insert(bytes({'l', c}), 100 + c);  // linear child: a copy
    REQUIRE(mp.tree().top_row_count() == 2);
    mp.check();
    for (const int top : {'f', 'l'}) {
        INFO("under " << static_cast<char>(top));
        for (const int c : {0, 8, 36}) {
            // The entry is the leaf {top, c}: the split makes a node at the
            // entry that keeps it as its terminal.
            mp.insert(bytes({top, c, 'a'}), 1);
            mp.check(bytes({top, c}));
            // That node grows through 3, 6, 11, 16, 24 in scrambled byte
            // order (new children land between old ones), its terminal
            // copied along at each grow.
            for (int j = 0; j < 20; ++j) {
                mp.insert(bytes({top, c, 'a' + (j * 7) % 20, 'q'}), 10 + j);
                if (j % 3 == 0) mp.check(bytes({top, c, 'a' + (j * 7) % 20}));
            }
            // A key already there, then a leaf split one level below.
            mp.insert(bytes({top, c}), 2);
            mp.insert(bytes({top, c, 'b', 'q', 'z'}), 3);
            mp.check(bytes({top, c, 'b', 'q'}));
        }
    }
    // An empty entry under the linear child: the child itself takes the key.
    mp.insert(bytes({'l', 1, 'n'}), 4);
    mp.check(bytes({'l', 1}));
    // The second key splits the entry's leaf into a node with a prefix
    // ("prefix"); a key that leaves that prefix splits it; a key that ends
    // at the new node (past its prefix "pre") adds its terminal.
    mp.insert(bytes({'l', 44, 'p', 'r', 'e', 'f', 'i', 'x', 1}), 5);
    mp.insert(bytes({'l', 44, 'p', 'r', 'e', 'f', 'i', 'x', 2}), 6);
    mp.check(bytes({'l', 44, 'p', 'r', 'e', 'f', 'i', 'x'}));
    mp.insert(bytes({'l', 44, 'p', 'r', 'e', 'X'}), 7);
    mp.check(bytes({'l', 44, 'p', 'r', 'e'}));
    mp.insert(bytes({'l', 44, 'p', 'r', 'e'}), 8);
    mp.check(bytes({'l', 44, 'p', 'r'}));
}

TEST_CASE("FastArt top rows: the root's prefix", "[fast_art][top]") {
    for (const std::string& prefix : {std::string("@"), std::string("\0\xff", 2), std::string("12345678"),
                                     std::string("123456789")}) {
        INFO("root prefix of " << prefix.size() << " bytes");
        model_pair mp;
        for (int i = 0; i < 64; ++i) mp.insert(prefix + bytes({i % 8, i / 8, 'v'}), i);
        // A prefix of up to 8 bytes is held by the rows; longer, no rows.
        REQUIRE(mp.tree().has_top_rows() == (prefix.size() <= 8));
        mp.check(prefix.substr(0, prefix.size() - 1) + "zz");
        mp.check(prefix + bytes({0, 0}));
        // A key off the prefix cuts it: a new root, rows rebuilt.
        mp.insert(prefix.substr(0, prefix.size() - 1) + "~~", 500);
        REQUIRE(mp.tree().has_top_rows());
        mp.check(prefix + bytes({3, 4, 'v'}));
        // Its erasure puts the old root's prefix back.
        mp.erase(prefix.substr(0, prefix.size() - 1) + "~~");
        REQUIRE(mp.tree().has_top_rows() == (prefix.size() <= 8));
        mp.check();
    }
}

TEST_CASE("FastArt top rows: erase_prefix above and below the rows, clear, swap, move", "[fast_art][top]") {
    model_pair mp;
    for (int a = 0; a < 6; ++a) {
        for (int b = 0; b < 40; ++b) mp.insert(bytes({'k', a, b, 'x'}), a * 100 + b);
    }
    REQUIRE(mp.tree().has_top_rows());
    mp.erase_prefix(bytes({'k', 2, 7}));  // below: one entry
    mp.check();
    mp.erase_prefix(bytes({'k', 3}));  // the root's child: its row goes
    mp.check(bytes({'k', 3, 1, 'x'}));
    mp.erase_prefix(bytes({'k'}));  // the root's prefix: everything
    REQUIRE_FALSE(mp.tree().has_top_rows());
    mp.check();

    engine a;
    engine b;
    for (int i = 0; i < 300; ++i) a.emplace(bytes({i % 7, i / 7, 'a'}), static_cast<std::uint64_t>(i));
    REQUIRE(a.has_top_rows());
    a.swap(b);
    REQUIRE(b.has_top_rows());
    REQUIRE_FALSE(a.has_top_rows());
    engine c(std::move(b));
    REQUIRE(c.has_top_rows());
    REQUIRE_NOTHROW(c.verify());
    for (int i = 0; i < 300; ++i) REQUIRE(c.value(c.find(bytes({i % 7, i / 7, 'a'}))) == static_cast<std::uint64_t>(i));
    REQUIRE(c.find_leaf(bytes({6, 43, 'a'})) == nullptr);
    c.clear();
    REQUIRE_FALSE(c.has_top_rows());
    REQUIRE(c.find_leaf(bytes({0, 0, 'a'})) == nullptr);
}

TEST_CASE("FastArt top rows: dropped by a rezone", "[fast_art][top][zones]") {
    const memkv::test::small_zones zones(2);
    model_pair mp;
    bool had_rows = false;
    for (int i = 0; i < 3000 && mp.tree().zones() < 2; ++i) {
        mp.insert(bytes({i % 5, (i / 5) % 251, i / 1255, 'z'}), i);
        had_rows = had_rows || mp.tree().has_top_rows();
    }
    REQUIRE(had_rows);
    REQUIRE(mp.tree().zones() >= 2);
    // Rows read every reference in the root's zone: none once there are two.
    REQUIRE_FALSE(mp.tree().has_top_rows());
    mp.check();
}

TEST_CASE("FastArt top rows: a copy that cannot be allocated leaves its row empty", "[fast_art][top][alloc]") {
    namespace af = memkv::test::alloc_fault;
    // Every allocation of the insert that crosses the threshold fails in
    // turn: the insert either throws (nothing changed) or succeeds, with
    // rows or without; lookups are right either way.
    for (std::uint64_t skip = 0;; ++skip) {
        model_pair mp;
        for (int i = 0; i < 15; ++i) mp.insert(bytes({i % 3, i, 'q'}), i);
        af::arm(skip);
        bool threw = false;
        try {
            mp.tree().emplace(bytes({2, 200, 'q'}), std::uint64_t{15});
        } catch (const std::bad_alloc&) {
            threw = true;
        }
        const bool fired = af::fired();
        af::disarm();
        if (threw) {
            REQUIRE(mp.tree().find_leaf(bytes({2, 200, 'q'})) == nullptr);
        } else {
            mp.record(bytes({2, 200, 'q'}), 15);
        }
        mp.check();
        // Later inserts and erases keep whatever rows exist right.
        mp.insert(bytes({1, 201, 'q'}), 16);
        mp.erase(bytes({0, 0, 'q'}));
        mp.check();
        if (!fired) break;
    }
}
