// FastArt past 16 GiB: the arena's zones (arena.hpp, node.hpp). The address
// arithmetic is checked at the real boundary (zone numbers up to the maximum
// encode and decode, the default capacity is >= 1 TiB); the zone machinery
// (allocation in a parent's child zone, rezoning a holder when its zone is
// full, iterators and walks that follow zones) runs with zones shrunk to a few
// KiB or a few hundred KiB, so a few MB of keys cross dozens of zone
// boundaries without 16 GiB of RAM.
#include <cstdint>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <ranges>
#include <string>
#include <vector>

#include <memkv/fast_art.hpp>

#include "fuzz/fast_art_ops.hpp"
#include "memkv_catch.hpp"
#include "test_support.hpp"
#include "zones_support.hpp"

namespace {

using arena = memkv::detail::slab_arena;
using engine = memkv::detail::art::tree<std::uint64_t>;
using Art = memkv::FastArt<std::uint64_t>;
using Model = std::map<std::string, std::uint64_t>;
namespace art = memkv::detail::art;
using memkv::test::fa_check;
using memkv::test::fa_compare_all;
using memkv::test::small_zones;

constexpr std::size_t TiB = std::size_t{1} << 40;

// The real sizes, not the shrunk test ones.
static_assert(arena::zone_bytes == std::size_t{16} << 30);
static_assert(arena::max_zones * arena::zone_bytes >= TiB);
static_assert(arena::max_bytes == 2 * TiB);
static_assert(art::max_zones == arena::max_zones);
// The largest zone-local reference still leaves bit 31 to the leaf tag.
static_assert(((arena::max_slots - 1) << arena::offset_bits | arena::offset_mask) == 0x7FFF'FFFFu);

Model contents(const engine& t) {
    Model m;
    t.walk([&](std::string_view k, art::loc_t leaf) { m.emplace(std::string(k), t.value(leaf)); });
    return m;
}

// URL-like keys: long shared prefixes, nodes of every kind.
std::string url_key(memkv::test::key_generator& gen, std::size_t i) {
    static const char* const hosts[] = {"https://github.com/", "https://gitlab.com/", "http://example.org/a/"};
    std::string k = hosts[gen.pick(3)];
    k += "user" + std::to_string(gen.pick(400)) + "/";
    k += "repo" + std::to_string(gen.pick(50)) + "/";
    if (gen.pick(3) == 0) k += std::to_string(i);
    return k;
}

}  // namespace

TEST_CASE("FastArt zones: the address arithmetic at the real boundary", "[fast_art][zones]") {
    // Zone numbers 0..127 in the flags byte, next to the terminal bit.
    alignas(8) std::byte block[32] = {};
    const art::node_ref nd{block};
    for (unsigned z = 0; z < art::max_zones; ++z) {
        for (const bool term : {false, true}) {
            nd.h().flags = term ? art::has_terminal : 0;
            nd.set_zone(z);
            REQUIRE(nd.zone() == z);
            REQUIRE(nd.terminal() == term);
        }
    }
    // A loc keeps the zone and the tagged reference apart.
    const art::ref_t top = art::leaf_tag | 0x7FFF'FFFFu;
    const art::loc_t l = art::make_loc(art::max_zones - 1, top);
    REQUIRE(art::zone_of(l) == art::max_zones - 1);
    REQUIRE(art::ref_of(l) == top);
    REQUIRE(art::make_loc(0, 0) == 0);
    // A default arena's zones are full size: 2^16 slots of 256 KiB.
    arena a;
    const arena::ref r = a.allocate(0, 1);
    REQUIRE(r != 0);
    REQUIRE(a.slots_per_zone() == arena::max_slots);
    REQUIRE(a.slots_per_zone() * arena::slot_units * arena::unit * arena::max_zones >= TiB);
}

TEST_CASE("FastArt zones: a flat zone's blocks lie at base + 8 r; table zones have no base", "[fast_art][zones]") {
    // Small blocks through chunks of every size (4 KiB doubling to 2 MiB)
    // and large ones (keys over 4 KiB): each is where the table says, and in
    // a flat zone also at base + 8 r, the address a lookup computes. A freed
    // large block gives its memory back in both kinds of zone.
    for (const bool table : {false, true}) {
        INFO((table ? "table zone" : "flat zone"));
        std::optional<memkv::test::table_zones> guard;
        if (table) guard.emplace();
        arena a;
        struct block {
            arena::ref r;
            std::size_t units;
        };
        std::vector<block> blocks;
        for (std::size_t i = 0; i < 300'000; ++i) {
            const std::size_t n = 2 + i % 37;  // first and last unit apart
            blocks.push_back({a.allocate(0, n), n});
        }
        for (const std::size_t n : {std::size_t{600}, std::size_t{40'000}, std::size_t{300'000}}) {
            blocks.push_back({a.allocate(0, n), n});
        }
        const std::uintptr_t base = a.flat_base(0);
        if (table) {
            REQUIRE(base == 0);
        } else if (base == 0) {
            WARN("no address range could be reserved: the zone is a table zone");
        }
        for (std::size_t i = 0; i < blocks.size(); ++i) {
            const auto [r, n] = blocks[i];
            REQUIRE(r != 0);
            auto* first = reinterpret_cast<std::uint64_t*>(a.ptr(0, r));
            if (base != 0) REQUIRE(arena::ptr_flat(base, r) == a.ptr(0, r));
            first[0] = i;
            first[n - 1] = ~std::uint64_t{i};
        }
        for (std::size_t i = 0; i < blocks.size(); ++i) {
            const auto [r, n] = blocks[i];
            const auto* first = reinterpret_cast<const std::uint64_t*>(a.ptr(0, r));
            REQUIRE(first[0] == i);
            REQUIRE(first[n - 1] == ~std::uint64_t{i});
        }
        const std::size_t before = a.memory_usage();
        a.deallocate(0, blocks.back().r, blocks.back().units);
        REQUIRE(a.memory_usage() + blocks.back().units * arena::unit <= before);
        a.release();
        REQUIRE(a.flat_base(0) == 0);
    }
}

TEST_CASE("FastArt zones: flat reservations stay within the process budget", "[fast_art][zones]") {
    // Arenas with memory, each with one flat zone (of 508 KiB here), until
    // one is refused its reservation by the budget (lowered to what five
    // more zones need): the refused arena still works, as a table zone, and
    // a reservation given back is granted again.
    const small_zones zones(3);
    std::vector<std::unique_ptr<arena>> arenas;
    const auto add = [&] {
        arenas.push_back(std::make_unique<arena>());
        REQUIRE(arenas.back()->allocate(0, 4) != 0);
        return arenas.back()->flat_base(0) != 0;
    };
    arena::drop_kept_reservations();  // so the first arena reserves afresh
    const std::size_t before = arena::flat_bytes_reserved();
    if (!add()) {
        WARN("no address range could be reserved: flat zones untested");
        return;
    }
    const std::size_t one = arena::flat_bytes_reserved() - before;
    REQUIRE(one >= (std::size_t{1} << 3) * arena::slot_units * arena::unit);
    const memkv::test::flat_budget budget(before + 5 * one);
    for (int i = 0; i < 4; ++i) REQUIRE(add());
    REQUIRE(arena::flat_bytes_reserved() == before + 5 * one);
    REQUIRE_FALSE(add());
    REQUIRE(arena::flat_bytes_reserved() == before + 5 * one);
    auto& table = *arenas.back();
    auto* p = reinterpret_cast<std::uint64_t*>(table.ptr(0, table.allocate(0, 2)));
    p[1] = 42;
    REQUIRE(p[1] == 42);
    arenas.erase(arenas.begin());  // a flat one: its reservation is kept
    REQUIRE(arena::flat_bytes_reserved() == before + 5 * one);
    REQUIRE(add());
    REQUIRE(arena::flat_bytes_reserved() == before + 5 * one);
    arenas.clear();
    REQUIRE(arena::flat_bytes_reserved() <= before + arena::max_kept_reservations * one);
    arena::drop_kept_reservations();
    REQUIRE(arena::flat_bytes_reserved() == before);
}

TEST_CASE("FastArt zones: a released zone's reservation is kept, with its small chunks' pages only",
          "[fast_art][zones]") {
    // A tree's first chunks (4 KiB doubling) would cost a fresh reservation
    // a page fault per 4 KiB; the next arena gets the reservation back with
    // those pages committed, and everything else given back (its 2 MiB
    // chunks and large blocks read as zeros). At most max_kept_reservations
    // are kept; the rest are unmapped.
    arena::drop_kept_reservations();
    const std::size_t before = arena::flat_bytes_reserved();
    auto a = std::make_unique<arena>();
    std::vector<arena::ref> small;
    for (int i = 0; i < 200'000; ++i) small.push_back(a->allocate(0, 4));  // 6.4 MB: chunks up to 2 MiB
    const arena::ref large = a->allocate(0, 40'000);
    const std::uintptr_t base = a->flat_base(0);
    if (base == 0) {
        WARN("no address range could be reserved: flat zones untested");
        return;
    }
    const std::size_t one = arena::flat_bytes_reserved() - before;
    auto* first = reinterpret_cast<std::uint64_t*>(a->ptr(0, small.front()));  // the 4 KiB chunk
    auto* mid = reinterpret_cast<std::uint64_t*>(a->ptr(0, small[50'000]));    // the 1 MiB chunk
    auto* last = reinterpret_cast<std::uint64_t*>(a->ptr(0, small.back()));    // a 2 MiB chunk
    auto* big = reinterpret_cast<std::uint64_t*>(a->ptr(0, large));
    first[0] = 0x1234;
    mid[0] = 0x4321;
    last[0] = 0x5678;
    big[0] = 0x9abc;
    a.reset();
    REQUIRE(arena::flat_bytes_reserved() == before + one);  // kept, still charged
    // Read where the blocks were: the kept reservation is still mapped.
    CHECK(first[0] == 0x1234);
    CHECK(mid[0] == 0x4321);
    CHECK(last[0] == 0);
    CHECK(big[0] == 0);

    arena b;
    REQUIRE(b.allocate(0, 4) != 0);
    REQUIRE(b.flat_base(0) == base);  // the same reservation
    REQUIRE(arena::flat_bytes_reserved() == before + one);
    b.release();
    // b used one slot: the pages a's chunks left above it go now, so kept
    // pages never add up over a reservation's owners.
    CHECK(mid[0] == 0);

    std::vector<std::unique_ptr<arena>> many;
    for (std::size_t i = 0; i < arena::max_kept_reservations + 3; ++i) {
        many.push_back(std::make_unique<arena>());
        REQUIRE(many.back()->allocate(0, 4) != 0);
    }
    REQUIRE(arena::flat_bytes_reserved() == before + many.size() * one);
    many.clear();
    REQUIRE(arena::flat_bytes_reserved() == before + arena::max_kept_reservations * one);
    arena::drop_kept_reservations();
    REQUIRE(arena::flat_bytes_reserved() == before);
}

TEST_CASE("FastArt zones: kept reservations are given up before the budget refuses one", "[fast_art][zones]") {
    // Two zones of one size released (kept, charged), then a zone of another
    // size that the budget has room for only once they are unmapped.
    arena::drop_kept_reservations();
    const std::size_t before = arena::flat_bytes_reserved();
    std::size_t one = 0;
    {
        const small_zones zones(3);
        arena a;
        arena b;
        REQUIRE(a.allocate(0, 4) != 0);
        if (a.flat_base(0) == 0) {
            WARN("no address range could be reserved: flat zones untested");
            return;
        }
        one = arena::flat_bytes_reserved() - before;
        REQUIRE(b.allocate(0, 4) != 0);
        REQUIRE(b.flat_base(0) != 0);
    }
    REQUIRE(arena::flat_bytes_reserved() == before + 2 * one);
    const memkv::test::flat_budget budget(before + 2 * one);
    const small_zones zones(4);  // a bigger zone: not one of the kept ones
    arena c;
    REQUIRE(c.allocate(0, 4) != 0);
    REQUIRE(c.flat_base(0) != 0);
    const std::size_t two = arena::flat_bytes_reserved() - before;
    REQUIRE(two > one);
    REQUIRE(two <= 2 * one);
    c.release();
    arena::drop_kept_reservations();
    REQUIRE(arena::flat_bytes_reserved() == before);
}

TEST_CASE("FastArt zones: a full-size zone fills and the next one opens", "[fast_art][zones]") {
    // Real 16 GiB zones, sparse: blocks of about 2 GiB are fresh mappings
    // that are never touched (but for a few bytes), so filling zone 0's whole
    // slot table costs 16 GiB of address space, not of memory. Where the
    // system refuses that much address space (strict overcommit), skip.
    arena a;
    const std::size_t big = (arena::max_slots / 8 - 1) * arena::slot_units;  // 8191 slots
    std::vector<arena::ref> blocks;
    try {
        for (int i = 0; i < 8; ++i) {
            const arena::ref r = a.allocate(0, big);
            REQUIRE(r != 0);
            blocks.push_back(r);
        }
    } catch (const std::bad_alloc&) {
        WARN("no 16 GiB of address space for sparse blocks; test skipped");
        return;
    }
    // 8 * 8191 + slot 0 = 65529 slots used: a block of 8 slots no longer fits
    // zone 0, whose references are used up to the last slots.
    REQUIRE(a.allocate(0, 8 * arena::slot_units) == 0);
    REQUIRE(blocks.back() >> arena::offset_bits == 1 + 7 * 8191);
    REQUIRE(a.memory_usage() >= 8 * big * arena::unit);  // ~16 GiB, all counted
    REQUIRE(a.open_zone() == 1);
    const arena::ref r1 = a.allocate(1, 8 * arena::slot_units);
    REQUIRE(r1 != 0);
    const arena::ref small = a.allocate(1, 2);
    REQUIRE(small != 0);
    // Each block is where its own zone's row says; write the first and the
    // last unit of every block and read them back.
    auto touch = [&](unsigned z, arena::ref r, std::size_t units, std::uint64_t tag) {
        auto* first = reinterpret_cast<std::uint64_t*>(a.ptr(z, r));
        auto* last = first + (units - 1);
        *first = tag;
        *last = ~tag;
    };
    auto check = [&](unsigned z, arena::ref r, std::size_t units, std::uint64_t tag) {
        const auto* first = reinterpret_cast<const std::uint64_t*>(a.ptr(z, r));
        REQUIRE(first[0] == tag);
        REQUIRE(first[units - 1] == ~tag);
    };
    for (std::size_t i = 0; i < blocks.size(); ++i) touch(0, blocks[i], big, i);
    touch(1, r1, 8 * arena::slot_units, 100);
    touch(1, small, 2, 101);
    for (std::size_t i = 0; i < blocks.size(); ++i) check(0, blocks[i], big, i);
    check(1, r1, 8 * arena::slot_units, 100);
    check(1, small, 2, 101);
    // The same reference means different blocks in different zones.
    REQUIRE(a.ptr(0, blocks[0]) != a.ptr(1, blocks[0]));
    REQUIRE(a.plausible(1, small));
    REQUIRE(!a.plausible(2, small));
    a.release();
    REQUIRE(a.memory_usage() == 0);
}

TEST_CASE("FastArt zones: every zone up to the maximum is addressable", "[fast_art][zones]") {
    // Zones of 2 slots (one usable): all 128 open, a block in each, each
    // readable through its own zone's row; the 129th does not open.
    const small_zones tiny(1);
    arena a;
    std::vector<arena::ref> refs;
    for (unsigned z = 0; z < arena::max_zones; ++z) {
        if (z > 0) REQUIRE(a.open_zone() == z);
        const arena::ref r = a.allocate(z, 3);
        REQUIRE(r != 0);
        REQUIRE(a.plausible(z, r));
        auto* p = reinterpret_cast<std::uint64_t*>(a.ptr(z, r));
        p[0] = z;
        p[2] = ~std::uint64_t{z};
        refs.push_back(r);
    }
    REQUIRE(a.zones() == arena::max_zones);
    REQUIRE_THROWS_AS(a.open_zone(), std::bad_alloc);
    for (unsigned z = 0; z < arena::max_zones; ++z) {
        const auto* p = reinterpret_cast<const std::uint64_t*>(a.ptr(z, refs[z]));
        REQUIRE(p[0] == z);
        REQUIRE(p[2] == ~std::uint64_t{z});
    }
    // A zone's slot table ends: a zone with one usable slot and its 4 KiB
    // chunk used up says so with 0 (the tree then moves to another zone).
    REQUIRE(a.allocate(5, 512) == 0);
    REQUIRE(a.plausible(5, refs[5]));
    a.deallocate(5, refs[5], 3);
    REQUIRE(a.allocate(5, 3) == refs[5]);  // the zone's own free list
}

TEST_CASE("FastArt zones: the engine crosses many small zones", "[fast_art][zones]") {
    for (const unsigned bits : {2u, 3u}) {
        const small_zones zs(bits);
        INFO("zone bits " << bits);
        engine t;
        Model m;
        memkv::test::key_generator gen(0x20AE5 + bits);
        for (std::size_t i = 0; i < 20'000; ++i) {
            const std::string k = url_key(gen, i);
            const auto [leaf, inserted] = t.emplace(k, i);
            REQUIRE(inserted == m.emplace(k, i).second);
            REQUIRE(t.value(leaf) == m.at(k));
        }
        REQUIRE_NOTHROW(t.verify());
        INFO("zones " << t.zones() << ", rezones " << t.rezones());
        REQUIRE(t.zones() >= (bits == 2 ? 20u : 2u));
        REQUIRE(t.rezones() > 0);
        REQUIRE(contents(t) == m);
        for (const auto& [k, v] : m) {
            const auto leaf = t.find(k);
            REQUIRE(leaf != 0);
            REQUIRE(t.value(leaf) == v);
        }
        // Prefix scans across zones: a whole key (the search ends at its
        // leaf), most of one, and a short one, each against the model.
        std::size_t sample = 0;
        for (const auto& [k, v] : m) {
            if (sample++ % 97 != 0) continue;
            for (const std::string& p : {k, k.substr(0, k.size() * 3 / 5), k.substr(0, 12), k + "x"}) {
                std::vector<std::pair<std::string, std::size_t>> got;
                t.walk_prefix(p, [&](std::string_view fk, std::byte* block) {
                    got.emplace_back(std::string(fk), static_cast<std::size_t>(t.value_at(block)));
                });
                std::vector<std::pair<std::string, std::size_t>> want;
                for (auto it = m.lower_bound(p); it != m.end() && it->first.compare(0, p.size(), p) == 0; ++it) {
                    want.emplace_back(it->first, it->second);
                }
                INFO("prefix " << p);
                REQUIRE(got == want);
            }
        }
        // Erase every other key, then whole prefixes.
        std::size_t j = 0;
        for (auto it = m.begin(); it != m.end(); ++j) {
            if (j % 2 == 0) {
                REQUIRE(t.erase(it->first) == 1);
                it = m.erase(it);
            } else {
                ++it;
            }
        }
        REQUIRE_NOTHROW(t.verify());
        REQUIRE(contents(t) == m);
        for (const std::string p : {"https://github.com/user1", "http://", "https://gitlab.com/user33/"}) {
            std::size_t n = 0;
            for (auto it = m.lower_bound(p); it != m.end() && it->first.compare(0, p.size(), p) == 0; ++n) {
                it = m.erase(it);
            }
            REQUIRE(t.erase_prefix(p) == n);
            REQUIRE_NOTHROW(t.verify());
        }
        REQUIRE(contents(t) == m);
        // Insert again into the holes the erases left.
        for (std::size_t i = 0; i < 5'000; ++i) {
            const std::string k = url_key(gen, i);
            REQUIRE(t.emplace(k, i).second == m.emplace(k, i).second);
        }
        REQUIRE_NOTHROW(t.verify());
        REQUIRE(contents(t) == m);
        t.clear();
        REQUIRE(t.memory_usage() == engine().memory_usage());
        REQUIRE(t.zones() == 0);
    }
}

TEST_CASE("FastArt zones: the map under random operations with small zones", "[fast_art][zones][model]") {
    for (const unsigned bits : {2u, 3u}) {
        const small_zones zs(bits);
        INFO("zone bits " << bits);
        memkv::test::key_generator::options opt;
        opt.max_len = 24;
        // Long keys: over 4 KiB they are large blocks with a slot of their
        // own, which zones of 3 usable slots cannot hold several of.
        opt.long_len = bits == 2 ? 1'000 : 5'000;
        opt.long_probability = 0.002;
        memkv::test::key_generator gen(0x20AE5 * bits, opt);
        Art t;
        Model m;
        const std::size_t empty_usage = t.memory_usage();
        for (std::size_t i = 0; i < 60'000; ++i) {
            const std::string k = i % 3 == 0 ? url_key(gen, i) : gen.next();
            const std::size_t op = gen.pick(100);
            if (op < 45) {
                const auto v = gen.next_u64();
                fa_check(t.insert(k, v).second == m.insert({k, v}).second, "insert");
            } else if (op < 55) {
                const auto v = gen.next_u64();
                t.insert_or_assign(k, v);
                m.insert_or_assign(k, v);
            } else if (op < 75) {
                fa_check(t.erase(k) == m.erase(k), "erase");
            } else if (op < 85) {
                const std::uint64_t* v = t.get_if(k);
                const auto mit = m.find(k);
                fa_check((v != nullptr) == (mit != m.end()), "find");
                if (v != nullptr) fa_check(*v == mit->second, "find value");
            } else if (op < 95) {
                auto it = t.lower_bound(k);
                auto mit = m.lower_bound(k);
                for (int s = 0; s < 6 && mit != m.end(); ++s, ++it, ++mit) {
                    fa_check(it != t.end() && it.key() == mit->first && it.value() == mit->second, "lower_bound");
                }
                fa_check((it == t.end()) == (mit == m.end()), "lower_bound end");
                for (int s = 0; s < 6 && mit != m.begin(); ++s) {
                    --it;
                    --mit;
                    fa_check(it.key() == mit->first && it.value() == mit->second, "lower_bound backwards");
                }
            } else if (op < 98) {
                const std::string p = k.substr(0, gen.pick(k.size() + 1));
                if (p.size() < 2) continue;
                std::size_t n = 0;
                for (auto mi = m.lower_bound(p); mi != m.end() && mi->first.compare(0, p.size(), p) == 0; ++n) {
                    mi = m.erase(mi);
                }
                fa_check(t.erase_prefix(p) == n, "erase_prefix");
            } else {
                // A copy (made with the same small zones) is equal and
                // independent.
                if (gen.pick(20) != 0) continue;
                Art c(t);
                fa_compare_all(c, m);
                c.insert("only in the copy", 1);
                fa_check(!t.contains("only in the copy") || m.count("only in the copy") != 0, "copy independent");
            }
            fa_check(t.size() == m.size(), "size");
            if (i % 10'000 == 0) fa_compare_all(t, m);
        }
        fa_compare_all(t, m);
        // More bytes than several zones hold: the tree spans zones.
        const std::size_t zone_capacity = bits == 2 ? 28 << 10 : 508 << 10;
        INFO("memory_usage " << t.memory_usage());
        REQUIRE(t.memory_usage() > (bits == 2 ? 10 : 1) * zone_capacity);
        fa_check(std::ranges::equal(t | std::views::reverse, m | std::views::reverse, memkv::test::fa_same_element),
                 "whole map | views::reverse");
        Art copy(t);
        fa_compare_all(copy, m);
        t.clear();
        fa_check(t.empty() && t.memory_usage() == empty_usage, "clear gives memory back");
        fa_compare_all(copy, m);
    }
}

TEST_CASE("FastArt zones: all zones full is std::bad_alloc, strong guarantee", "[fast_art][zones][alloc]") {
    // Zones of 4 KiB: 128 of them hold about half a MB; keep inserting until
    // the tree runs out. Every failed insert leaves the tree as it was.
    const small_zones tiny(1);
    engine t;
    Model m;
    memkv::test::key_generator gen(0xF011);
    std::size_t failures = 0;
    for (std::size_t i = 0; i < 200'000 && failures < 50; ++i) {
        const std::string k = url_key(gen, i);
        bool threw = false;
        bool ins = false;
        try {
            ins = t.emplace(k, i).second;
        } catch (const std::bad_alloc&) {
            threw = true;
            ++failures;
        }
        if (!threw) REQUIRE(ins == m.emplace(k, i).second);
        if (threw || i % 1000 == 0) {
            REQUIRE_NOTHROW(t.verify());
            REQUIRE(t.size() == m.size());
            if (threw) REQUIRE(contents(t) == m);
        }
    }
    REQUIRE(failures > 0);
    REQUIRE(t.zones() == arena::max_zones);
    REQUIRE(contents(t) == m);
    // Erasing mostly works; an erase that must merge a node into a new
    // block of a full zone may throw std::bad_alloc, changing nothing.
    std::size_t j = 0;
    std::size_t erased = 0;
    std::size_t refused = 0;
    for (auto it = m.begin(); it != m.end(); ++j) {
        if (j % 3 != 0) {
            ++it;
            continue;
        }
        std::size_t n = 0;
        try {
            n = t.erase(it->first);
        } catch (const std::bad_alloc&) {
            ++refused;
            ++it;
            continue;
        }
        REQUIRE(n == 1);
        it = m.erase(it);
        ++erased;
    }
    INFO("erased " << erased << ", refused " << refused);
    REQUIRE(erased > 10 * refused);
    REQUIRE_NOTHROW(t.verify());
    REQUIRE(contents(t) == m);
    // The room they freed takes new keys.
    std::size_t added = 0;
    for (std::size_t i = 0; i < 2'000; ++i) {
        const std::string k = url_key(gen, i);
        try {
            if (t.emplace(k, i).second) {
                m.emplace(k, i);
                ++added;
            }
        } catch (const std::bad_alloc&) {
        }
    }
    REQUIRE(added > 0);
    REQUIRE_NOTHROW(t.verify());
    REQUIRE(contents(t) == m);
}

namespace {

// Move may throw, so FastArt boxes it: the box never moves, whatever zone
// its leaf moves to.
struct boxed_value {
    static inline long live = 0;
    std::uint64_t v = 0;
    explicit boxed_value(std::uint64_t x) : v(x) { ++live; }
    boxed_value(boxed_value&& o) : v(o.v) { ++live; }  // NOLINT: deliberately not noexcept
    boxed_value& operator=(boxed_value&& o) {
        v = o.v;
        return *this;
    }
    ~boxed_value() { --live; }
};

}  // namespace

TEST_CASE("FastArt zones: values across rezones (moved args, boxed values)", "[fast_art][zones]") {
    const small_zones zs(2);
    memkv::test::key_generator gen(0xB0CED);
    std::vector<std::string> keys;
    for (std::size_t i = 0; i < 8'000; ++i) keys.push_back(url_key(gen, i) + "/" + std::to_string(i));

    SECTION("an insert retried after a rezone builds V from the same, unmoved arguments") {
        memkv::FastArt<std::string> t;
        for (std::size_t i = 0; i < keys.size(); ++i) {
            std::string v = "value of some length, past the small buffer: " + keys[i];
            const std::string expect = v;
            REQUIRE(t.try_emplace(keys[i], std::move(v)).second);
            REQUIRE(*t.get_if(keys[i]) == expect);
        }
        t.verify();
        for (const auto& k : keys) REQUIRE(*t.get_if(k) == "value of some length, past the small buffer: " + k);
    }
    SECTION("boxed values never move and are destroyed once") {
        boxed_value::live = 0;
        {
            memkv::FastArt<boxed_value> t;
            std::vector<const boxed_value*> where;
            for (std::size_t i = 0; i < keys.size(); ++i) {
                t.try_emplace(keys[i], i);
                where.push_back(t.get_if(keys[i]));
            }
            t.verify();
            REQUIRE(boxed_value::live == static_cast<long>(keys.size()));
            // Erasing every other key merges nodes and moves leaves; the
            // boxes stay where they were.
            for (std::size_t i = 0; i < keys.size(); i += 2) REQUIRE(t.erase(keys[i]) == 1);
            t.verify();
            for (std::size_t i = 1; i < keys.size(); i += 2) {
                REQUIRE(t.get_if(keys[i]) == where[i]);
                REQUIRE(where[i]->v == i);
            }
            REQUIRE(boxed_value::live == static_cast<long>(keys.size() / 2));
            memkv::FastArt<boxed_value> copy;
            t.for_each([&](std::string_view k, const boxed_value& v) { copy.try_emplace(k, v.v); });
            copy.verify();
            REQUIRE(copy.size() == t.size());
        }
        REQUIRE(boxed_value::live == 0);
    }
}
