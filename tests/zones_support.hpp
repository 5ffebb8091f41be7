#pragma once

// Shrunk arena zones for FastArt's tests: while a small_zones object lives,
// every FastArt (or engine) whose arena opens its first zone gets zones of
// 2^bits slots instead of 2^16, so a few MB of keys cross many zone
// boundaries (bits 1: 4 KiB per zone, 2: 28 KiB, 3: 508 KiB, 4: ~2 MiB; see
// slab_arena::new_chunk). Not thread-safe against trees built concurrently.

#include <cstddef>

#include <memkv/detail/art/arena.hpp>

namespace memkv::test {

class small_zones {
public:
    explicit small_zones(unsigned bits) { detail::slab_arena::test_zone_bits.store(bits); }
    ~small_zones() { detail::slab_arena::test_zone_bits.store(0); }
    small_zones(const small_zones&) = delete;
    small_zones& operator=(const small_zones&) = delete;
};

// While a table_zones object lives, arenas open zones that are not flat
// (arena.hpp), as where the address range cannot be reserved: every block
// address is read through the slot table, and chunks are allocations of
// their own that can fail.
class table_zones {
public:
    table_zones() { detail::slab_arena::test_table_zones.store(true); }
    ~table_zones() { detail::slab_arena::test_table_zones.store(false); }
    table_zones(const table_zones&) = delete;
    table_zones& operator=(const table_zones&) = delete;
};

// Sets the process's flat-zone budget (slab_arena::flat_budget) while it
// lives, and restores the old one.
class flat_budget {
public:
    explicit flat_budget(std::size_t bytes) : old_(detail::slab_arena::flat_budget.load()) {
        detail::slab_arena::flat_budget.store(bytes);
    }
    ~flat_budget() { detail::slab_arena::flat_budget.store(old_); }
    flat_budget(const flat_budget&) = delete;
    flat_budget& operator=(const flat_budget&) = delete;

private:
    std::size_t old_;
};

}  // namespace memkv::test
