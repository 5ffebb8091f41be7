#pragma once

// A slab arena owned by one container: blocks of 8-byte units addressed by
// a zone number and a 32-bit reference, size-class free lists, exact memory
// accounting.
//
// Why: one malloc per node and per leaf costs libart about 15 bytes per key in
// malloc headers and rounding, and 64-bit pointers double the size of every
// child slot. Here a reference is a 31-bit unit index within a zone (bit 31
// is left to the caller as a tag), blocks are carved from chunks by bumping a
// pointer, and a freed block goes on its zone's free list of its exact size,
// so a tree that churns reuses its own memory and memory_usage() is the sum
// of what the arena holds.
//
// Reference layout (bit 31 belongs to the caller and must be clear here):
//
//    31  30                  15 14                0
//   +---+----------------------+-------------------+
//   | 0 |  slot (16 bits)      | unit offset (15)  |
//   +---+----------------------+-------------------+
//
// A slot is one entry of a zone's chunk table: the base address of a chunk of
// at most 2^15 units (256 KiB), or one 256 KiB window of a larger chunk or
// block. Slot 0 of every zone is never used, so reference 0 is the null
// reference. Small blocks (at most max_small_units) never straddle two slots;
// a large block gets ceil(n / 2^15) consecutive slots of its own, so ptr() is
// the same load and add for every block.
//
// Zones: one reference space of 2^16 slots * 256 KiB = 16 GiB is one zone;
// the arena has up to max_zones = 128 of them (2 TiB). A reference means
// nothing without its zone, and the caller keeps the zone elsewhere (FastArt:
// a node's header names the one zone all its children live in, node.hpp). The
// slot tables of all zones are one flat vector, zone z's slot s at index
// (z << zone_bits) + s, so ptr(z, r) is still one load and one add: the table
// row of zone z can be computed before r is known. Zones open in order and
// only when the last one ran out of slots (allocate() says so by returning
// 0, and the caller moves things to another zone): every zone below the last
// has its full 2^16-entry row, the last one grows like a single zone did.
// Each zone has its own bump chunk, free lists and free slots.
//
// Flat zones (Linux): a zone first tries to reserve its whole address range
// (16 GiB of address space, no memory: MAP_NORESERVE) and puts every chunk
// and large block of slot s at base + s * 256 KiB. The table entries are then
// all `base`, and a lookup's descent skips the table: the address of block r
// is base + r * 8, one add after r arrives instead of a dependent load of the
// table entry first (lookups 2-8% faster on every key shape,
// bench/RESULTS.md, twenty-first session). Pages are committed by touching
// them; a freed large block's pages are returned with MADV_DONTNEED. Where
// the reservation fails (address space exhausted, strict overcommit) the zone
// takes its memory block by block as elsewhere, and every path reads it
// through the table. So that many trees cannot take a process's address space
// (or a sanitizer's smaller application range) from its other mappings, the
// reservations of all arenas in a process stay within flat_budget (1 TiB,
// about 60 zones); zones opened beyond that are table zones.
//
// A released arena's reservation is kept for the next arena (up to
// max_kept_reservations in the process), with the pages of its chunks under
// 2 MiB still committed and everything else given back: a tree's first 2 MiB
// come from chunks of 4 KiB doubling, which a fresh reservation commits page
// by page, and a 4 KiB page fault cost 10-12 us on the VMs measured (~45x a
// 2 MiB fault per byte; bench/RESULTS.md, twenty-second session), where
// operator new's chunks came warm from the heap. So a process that builds
// and drops trees (HybridKV's deltas, benchmarks' rounds) keeps at most
// 4 x 2 MiB committed for them, as malloc keeps freed memory.
//
// Free blocks of other sizes: a tree of random keys grows its nodes in
// lockstep (3, 6, 11, 16 slots ...), and each growth frees a block of a size
// that little asks for again (3-7 bytes/key of binary keys and integers at
// 1-4M keys). So when a new chunk opens, the sizes whose lists still hold
// blocks become splittable: a request with no block of its size takes the
// smallest of those that leaves a rest of at least the owner's smallest
// request (the constructor's argument), and the rest goes on its own list.
// Only blocks that waited through a chunk: on text keys the exact lists are
// emptied by later requests of the same size, and splitting them earlier
// only cut them into tails (0.5-1 bytes/key more on the URL set and names).
//
// Tests may shrink zones (test_zone_bits) so that a few MB of keys cross many
// zone boundaries; the address arithmetic is the same at every size.

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

#include <memkv/detail/assert.hpp>
#include <memkv/detail/huge_pages.hpp>

#if defined(__SANITIZE_THREAD__)
#define MEMKV_ARENA_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MEMKV_ARENA_TSAN 1
#endif
#endif
#ifndef MEMKV_ARENA_TSAN
#define MEMKV_ARENA_TSAN 0
#endif

namespace memkv::detail {

class slab_arena {
public:
    using ref = std::uint32_t;

    static constexpr std::size_t unit = 8;
    static constexpr unsigned offset_bits = 15;
    static constexpr std::uint32_t offset_mask = (1u << offset_bits) - 1;
    static constexpr std::size_t slot_units = std::size_t{1} << offset_bits;
    // Slots per zone: 2^zone_bits; a reference has 16 bits of slot.
    static constexpr unsigned max_zone_bits = 16;
    static constexpr std::size_t max_slots = std::size_t{1} << max_zone_bits;
    static constexpr std::size_t zone_bytes = max_slots * slot_units * unit;  // 16 GiB
    // FastArt keeps a zone number in 7 spare bits of a node header.
    static constexpr unsigned max_zones = 128;
    static constexpr std::size_t max_bytes = max_zones * zone_bytes;  // 2 TiB
    static_assert(zone_bytes == std::size_t{16} << 30 && max_bytes == std::size_t{2} << 40);
    // Blocks up to 4 KiB come from chunks and free lists; larger ones are
    // separate allocations (long keys, long prefixes).
    static constexpr std::size_t max_small_units = 512;
    static constexpr std::size_t first_chunk_units = 512;  // 4 KiB, doubling to 2 MiB
    // Chunks of 2 MiB span 8 consecutive slots (references stay linear across
    // them) and are 2 MiB-aligned and marked for transparent huge pages: a
    // large tree is read at random, and one TLB entry per 2 MiB instead of
    // per 4 KiB removes most of the page-walk misses of a lookup.
    static constexpr std::size_t max_chunk_units = 8 * slot_units;
    // What one operator new call costs beyond the bytes asked for (glibc:
    // 8-byte header, 16-byte rounding). Counted so memory_usage() is honest.
    static constexpr std::size_t malloc_overhead = 16;

    // Test hook: nonzero = zones of 2^test_zone_bits slots (at least 2) for
    // arenas that open their first zone while it is set. 0: full zones.
    static inline std::atomic<unsigned> test_zone_bits{0};
    // Test hook: true = zones opened while it is set are not flat (see the
    // top), as where the address range cannot be reserved.
    static inline std::atomic<bool> test_table_zones{false};
    // Address space all flat zones of the process may reserve together
    // (tests lower it).
    static inline std::atomic<std::size_t> flat_budget{std::size_t{1} << 40};
    // What they reserve now, kept reservations included (for tests).
    static std::size_t flat_bytes_reserved() noexcept { return flat_reserved_.load(std::memory_order_relaxed); }
    // Gives every kept reservation (see the top) back to the system.
    static void drop_kept_reservations() noexcept {
        std::lock_guard guard(kept().mu);
        while (kept().n != 0) {
            const kept_reservation k = kept().list[--kept().n];
            unmap_flat(k.mapping, k.bytes);
        }
    }
    static constexpr std::size_t max_kept_reservations = 4;

    slab_arena() = default;
    // smallest: the fewest units the owner ever asks for. A free block is
    // split for a smaller request only if the rest holds at least that many,
    // so a split never leaves a tail no request fits.
    explicit slab_arena(unsigned smallest) noexcept : smallest_(smallest < 1 ? 1 : smallest) {}
    slab_arena(const slab_arena&) = delete;
    slab_arena& operator=(const slab_arena&) = delete;
    slab_arena(slab_arena&& other) noexcept { swap(other); }
    slab_arena& operator=(slab_arena&& other) noexcept {
        if (this != &other) {
            release();
            swap(other);
        }
        return *this;
    }
    ~slab_arena() { release(); }

    void swap(slab_arena& o) noexcept {
        std::swap(bases_, o.bases_);
        std::swap(meta_, o.meta_);
        std::swap(zones_, o.zones_);
        std::swap(zone_bits_, o.zone_bits_);
        std::swap(held_bytes_, o.held_bytes_);
        std::swap(single_flat_, o.single_flat_);
        std::swap(smallest_, o.smallest_);
    }

    // bases_[(z << zone_bits) + s] is slot s's address minus the offset of its
    // first unit, so ptr() is one load and one add: it sits on the dependent
    // chain of every level of a descent. Kept as integers, since the biased
    // value points outside any object.
    std::byte* ptr(unsigned z, ref r) const noexcept { return ptr_in(row(z), r); }
    // The table row of zone z, for ptr_in(): a descent computes it from the
    // parent's header while the child reference is still being loaded.
    const std::uintptr_t* row(unsigned z) const noexcept {
        return reinterpret_cast<const std::uintptr_t*>(reinterpret_cast<std::uintptr_t>(bases_.data()) +
                                                       ((std::uintptr_t{z} << zone_bits_) * sizeof(std::uintptr_t)));
    }
    static std::byte* ptr_in(const std::uintptr_t* row, ref r) noexcept {
        return reinterpret_cast<std::byte*>(row[r >> offset_bits] + std::uintptr_t{r} * unit);
    }
    // Zone z's base address if it is flat (see the top), else 0.
    std::uintptr_t flat_base(unsigned z) const noexcept {
        return z < zones_.size() ? reinterpret_cast<std::uintptr_t>(zones_[z].flat) : 0;
    }
    // The base of the only zone when there is one and it is flat, else 0:
    // what a point lookup asks first. Compares the vector's ends rather
    // than its size, which divides by sizeof(zone_state).
    std::uintptr_t single_flat_base() const noexcept {
        MEMKV_ASSERT(single_flat_ == (zones_.size() == 1 ? reinterpret_cast<std::uintptr_t>(zones_[0].flat) : 0));
        return single_flat_;
    }
    static std::byte* ptr_flat(std::uintptr_t base, ref r) noexcept {
        return reinterpret_cast<std::byte*>(base + std::uintptr_t{r} * unit);
    }

    // A hint to start loading block r. always_inline: GCC otherwise deems a
    // function holding only a prefetch side-effect free and drops the call.
#if defined(__GNUC__) || defined(__clang__)
    [[gnu::always_inline]] void prefetch(unsigned z, ref r) const noexcept { __builtin_prefetch(ptr(z, r)); }
#else
    void prefetch(unsigned, ref) const noexcept {}
#endif

    static constexpr std::size_t units_for(std::size_t bytes) noexcept {
        return (bytes + unit - 1) / unit;
    }

    // Zones opened so far (zone 0 opens with the first allocation).
    unsigned zones() const noexcept { return static_cast<unsigned>(zones_.size()); }
    // Slots per zone (2^16 unless shrunk for a test).
    std::size_t slots_per_zone() const noexcept { return std::size_t{1} << zone_bits_; }

    // Opens the next zone and returns its number. Throws std::bad_alloc when
    // all max_zones are open (or memory is exhausted).
    unsigned open_zone() {
        if (zones_.empty()) {
            const unsigned t = test_zone_bits.load(std::memory_order_relaxed);
            zone_bits_ = t == 0 ? max_zone_bits : std::clamp(t, 1u, max_zone_bits);
        }
        if (zones_.size() >= max_zones) throw std::bad_alloc();
        const std::size_t z = zones_.size();
        const std::size_t first = z << zone_bits_;
        if (zones_.capacity() == zones_.size()) zones_.reserve(zones_.empty() ? 1 : 2 * zones_.size());
        if (bases_.empty()) {
            bases_.reserve(16);
            meta_.reserve(16);
        }
        // Every zone below the last gets its whole row (see the top), and the
        // new one its slot 0, the null reference. meta_ first: release()
        // reads meta_ for every entry of bases_.
        meta_.resize(first + 1);
        bases_.resize(first + 1, 0);
        zones_.emplace_back();  // capacity reserved above: cannot throw
        reserve_flat(zones_.back());
        single_flat_ = zones_.size() == 1 ? reinterpret_cast<std::uintptr_t>(zones_[0].flat) : 0;
        return static_cast<unsigned>(z);
    }

    // A block of n >= 1 units in zone z, 8-byte aligned, uninitialized; 0 when
    // the zone's slot table is exhausted (the caller picks another zone).
    // Throws std::bad_alloc when memory is exhausted. Zone 0 opens itself.
    //
    // The two common cases (a free block of the size, or room in the bump
    // chunk) are inline; the rest is out of line, so an insert does not pay
    // a call that saves and restores six registers for each block (names
    // shape: 964 -> 929 instructions per insert, bench/RESULTS.md,
    // seventeenth session).
    ref allocate(unsigned z, std::size_t n) {
        if (const ref r = allocate_fast(z, n); r != 0) [[likely]] return r;
        return allocate_slow(z, n);
    }

    // allocate's inline part: a free block of n units or the bump region's,
    // else 0 (the caller then calls allocate). Callers that keep their own
    // slow path out of line use it to keep the common case free of calls.
    ref allocate_fast(unsigned z, std::size_t n) noexcept {
        MEMKV_ASSERT(n >= 1);
        if (n <= max_small_units && !zones_.empty()) [[likely]] {
            MEMKV_ASSERT(z < zones_.size());
            zone_state& zs = zones_[z];
            if (!zs.free_heads.empty() && zs.free_heads[n] != 0) {
                const ref r = zs.free_heads[n];
                std::memcpy(&zs.free_heads[n], ptr(z, r), sizeof(ref));
                return r;
            }
            if (n < zs.split_below) [[unlikely]] return split_or_bump(z, n);
            if (zs.bump_end - zs.bump >= n) [[likely]] return take_bump(zs, n);
        }
        return 0;
    }

    // Returns a block of n units. A large block is released whole, whatever n
    // says (it may have been shrunk in place).
    void deallocate(unsigned z, ref r, std::size_t n) noexcept {
        MEMKV_ASSERT(plausible(z, r) && n >= 1);
        const std::size_t s = index(z, r);
        if (meta_[s].kind == slot_kind::large_head) {
            release_large(z, s);
            return;
        }
        push_free(z, r, n);
    }

    // Gives every byte back to the system.
    void release() noexcept {
        for (std::size_t s = 1; s < bases_.size(); ++s) {
            if ((meta_[s].kind == slot_kind::chunk || meta_[s].kind == slot_kind::large_head) &&
                zones_[s >> zone_bits_].flat == nullptr) {
                free_memory(slot_address(s), meta_[s].units);
            }
        }
        for (std::size_t z = 0; z < zones_.size(); ++z) unreserve_flat(static_cast<unsigned>(z));
        // Assigning {} would keep the capacity; swapping with a fresh vector
        // gives it back.
        std::vector<std::uintptr_t>().swap(bases_);
        std::vector<slot_meta>().swap(meta_);
        std::vector<zone_state>().swap(zones_);
        single_flat_ = 0;
        held_bytes_ = 0;
    }

    // Bytes held: chunks, large blocks and the bookkeeping vectors, each with
    // the allocator's per-allocation overhead.
    std::size_t memory_usage() const noexcept {
        std::size_t bytes = held_bytes_;
        auto vec = [&bytes](const auto& v) {
            if (v.capacity() != 0) {
                bytes += v.capacity() * sizeof(v[0]) + malloc_overhead;
            }
        };
        vec(bases_);
        vec(meta_);
        vec(zones_);
        for (const zone_state& zs : zones_) {
            vec(zs.free_heads);
            vec(zs.free_slots);
        }
        return bytes;
    }

    // Bytes on the free lists (walks them: for tests and diagnostics).
    std::size_t free_bytes() const noexcept {
        std::size_t bytes = 0;
        for (unsigned z = 0; z < zones_.size(); ++z) {
            const std::vector<ref>& heads = zones_[z].free_heads;
            for (std::size_t n = 1; n < heads.size(); ++n) {
                for (ref r = heads[n]; r != 0; std::memcpy(&r, ptr(z, r), sizeof r)) bytes += n * unit;
            }
        }
        return bytes;
    }

    // True if r could have been returned by allocate(z, ...) (for verify()).
    bool plausible(unsigned z, ref r) const noexcept {
        if (z >= zones_.size() || r == 0) return false;
        const std::size_t local = r >> offset_bits;
        if (local >= slots_per_zone()) return false;
        const std::size_t s = index(z, r);
        if (s >= bases_.size()) return false;
        const auto k = meta_[s].kind;
        if (k == slot_kind::chunk) return (r & offset_mask) < meta_[s].units;
        if (k == slot_kind::chunk_tail) return true;
        return k == slot_kind::large_head && (r & offset_mask) == 0;
    }

private:
    enum class slot_kind : std::uint8_t { unused, chunk, chunk_tail, large_head, large_tail };

    struct zone_state {
        std::vector<ref> free_heads;  // index: block size in units; 0 = empty list
        // Sizes whose lists take_larger may split (mark_splittable; a bit is
        // cleared lazily, when a search finds its list empty), and a bound
        // on the largest of them.
        std::array<std::uint64_t, (max_small_units + 64) / 64> free_mask{};
        std::size_t max_free = 0;
        // Requests of fewer units may find a block to split: max_free + 1 -
        // smallest_, or 0 (one compare on allocate's inline path).
        std::size_t split_below = 0;
        std::vector<std::uint32_t> free_slots;  // local slot numbers
        ref bump = 0;
        ref bump_end = 0;
        std::size_t last_chunk_units = 0;
        std::uint32_t next_slot = 1;  // local; slot 0 is the null reference
        // A kept reservation's slots that earlier arenas used (and may have
        // left small chunks' pages in): given back with this zone's.
        std::uint32_t touched_slots = 0;
        std::byte* flat = nullptr;     // a flat zone's base (see the top)
        void* mapping = nullptr;       // its reservation, as mapped
        std::size_t mapping_bytes = 0;
    };

    // Big blocks (the 2 MiB chunks, huge keys) are huge-page mappings
    // (detail/huge_pages.hpp says why).
    static constexpr bool maps_directly(std::size_t bytes) noexcept { return maps_huge(bytes); }
    static constexpr std::size_t mapped_length(std::size_t bytes) noexcept { return mapped_huge_length(bytes); }
    // What a block of `units` costs: the mapping, or the bytes plus the
    // allocator's per-allocation overhead.
    static constexpr std::size_t footprint(std::size_t units) noexcept {
        const std::size_t bytes = units * unit;
        return maps_directly(bytes) ? mapped_length(bytes) : bytes + malloc_overhead;
    }
    // In a flat zone, the pages a block touches.
    static constexpr std::size_t page_bytes = 4096;
    static constexpr std::size_t flat_footprint(std::size_t units) noexcept {
        return (units * unit + page_bytes - 1) & ~(page_bytes - 1);
    }
    std::size_t footprint(unsigned z, std::size_t units) const noexcept {
        return zones_[z].flat != nullptr ? flat_footprint(units) : footprint(units);
    }

    // Memory for a chunk or large block of `units` at local slot s of zone z.
    std::byte* get_memory(unsigned z, std::size_t s, std::size_t units) {
        zone_state& zs = zones_[z];
        if (zs.flat == nullptr) return static_cast<std::byte*>(allocate_huge(units * unit));
        std::byte* const p = zs.flat + s * slot_units * unit;
        // Only big blocks: a small tree's first chunks stay in 4 KiB pages.
        if (units * unit >= huge_page_bytes) advise_huge_pages(p, mapped_huge_length(units * unit));
        return p;
    }
    static void free_memory(std::byte* p, std::size_t units) noexcept { free_huge(p, units * unit); }

    // Reserves zs's address range; leaves the zone table-read when that fails.
    void reserve_flat(zone_state& zs) const noexcept {
        if (test_table_zones.load(std::memory_order_relaxed)) return;
#if MEMKV_ARENA_TSAN
        // ThreadSanitizer keeps applications' mappings in a range of about
        // 1.5 TiB and intercepts every mmap and munmap: table zones there.
        return;
#endif
        const std::size_t span = slots_per_zone() * slot_units * unit;
        // Over-reserved by a huge page, so that the base (and with it every
        // 8-slot chunk) is 2 MiB-aligned.
        const std::size_t len = span + huge_page_bytes;
        void* raw = take_kept(len, &zs.touched_slots);
        if (raw == nullptr) {
            if (!charge_flat(len)) {
                // Kept reservations are the first to go.
                drop_kept_reservations();
                if (!charge_flat(len)) return;
            }
            raw = reserve_address_range(len);
            if (raw == nullptr) {
                flat_reserved_.fetch_sub(len, std::memory_order_relaxed);
                return;
            }
            // A small tree's chunks stay in 4 KiB pages, as from operator
            // new, also where huge pages are the system's default; its 2 MiB
            // chunks are marked for them one by one (get_memory).
            advise_no_huge_pages(raw, len);
        }
        const auto at = reinterpret_cast<std::uintptr_t>(raw);
        zs.flat = reinterpret_cast<std::byte*>((at + huge_page_bytes - 1) & ~std::uintptr_t{huge_page_bytes - 1});
        zs.mapping = raw;
        zs.mapping_bytes = len;
    }
    static bool charge_flat(std::size_t len) noexcept {
        if (flat_reserved_.fetch_add(len, std::memory_order_relaxed) + len > flat_budget.load(std::memory_order_relaxed)) {
            flat_reserved_.fetch_sub(len, std::memory_order_relaxed);
            return false;
        }
        return true;
    }
    // Zone z's reservation given back (release()): kept (see the top) with
    // its chunks under 2 MiB still committed, or unmapped when the process
    // keeps enough already.
    void unreserve_flat(unsigned z) noexcept {
        zone_state& zs = zones_[z];
        if (zs.mapping == nullptr) return;
        // Checked first so that a release past the limit skips the discards.
        if (kept_count() < max_kept_reservations) {
            // Every page but the small chunks' goes back: the slots in use,
            // between those chunks, in as few calls as there are chunks.
            const std::size_t first = std::size_t{z} << zone_bits_;
            const std::size_t mine = std::min(meta_.size() - first, std::size_t{zs.next_slot});
            // Pages an earlier arena kept above this one's slots go too.
            const std::size_t used = std::max<std::size_t>(mine, zs.touched_slots);
            const std::size_t slot_bytes = slot_units * unit;
            std::size_t from = 0;  // local slot where the pages to give back start
            for (std::size_t s = 1; s < mine; ++s) {
                const slot_meta& m = meta_[first + s];
                if (m.kind != slot_kind::chunk || m.units * unit >= huge_page_bytes) continue;
                if (s > from) discard_pages(zs.flat + from * slot_bytes, (s - from) * slot_bytes);
                from = s + (m.units * unit + slot_bytes - 1) / slot_bytes;
            }
            if (used > from) discard_pages(zs.flat + from * slot_bytes, (used - from) * slot_bytes);
            // Its 2 MiB chunks' marks go too (and the split areas merge).
            advise_no_huge_pages(zs.mapping, zs.mapping_bytes);
            if (!keep(zs.mapping, zs.mapping_bytes, static_cast<std::uint32_t>(mine))) {
                unmap_flat(zs.mapping, zs.mapping_bytes);
            }
        } else {
            unmap_flat(zs.mapping, zs.mapping_bytes);
        }
        zs.flat = nullptr;
        zs.mapping = nullptr;
    }
    static void unmap_flat(void* mapping, std::size_t bytes) noexcept {
        release_address_range(mapping, bytes);
        flat_reserved_.fetch_sub(bytes, std::memory_order_relaxed);
    }
    static std::size_t kept_count() noexcept {
        std::lock_guard guard(kept().mu);
        return kept().n;
    }
    // Adds k to the kept list; false when it is full.
    static bool keep(void* mapping, std::size_t bytes, std::uint32_t touched_slots) noexcept {
        std::lock_guard guard(kept().mu);
        if (kept().n == max_kept_reservations) return false;
        kept().list[kept().n++] = {mapping, bytes, touched_slots};
        return true;
    }
    // A kept reservation of `bytes` (still charged to the budget), or null.
    static void* take_kept(std::size_t bytes, std::uint32_t* touched_slots) noexcept {
        std::lock_guard guard(kept().mu);
        for (std::size_t i = kept().n; i-- != 0;) {
            if (kept().list[i].bytes == bytes) {
                void* p = kept().list[i].mapping;
                *touched_slots = kept().list[i].touched_slots;
                kept().list[i] = kept().list[--kept().n];
                return p;
            }
        }
        return nullptr;
    }
    // A flat zone's freed large block: its pages go back, its addresses stay.
    static void discard_flat(std::byte* p, std::size_t units) noexcept { discard_pages(p, flat_footprint(units)); }

    std::size_t index(unsigned z, ref r) const noexcept {
        return (std::size_t{z} << zone_bits_) + (r >> offset_bits);
    }
    std::size_t local_slot(std::size_t s) const noexcept { return s & (slots_per_zone() - 1); }
    void set_slot(std::size_t s, std::byte* address) noexcept {
        bases_[s] = reinterpret_cast<std::uintptr_t>(address) - (std::uintptr_t{local_slot(s)} << offset_bits) * unit;
    }
    std::byte* slot_address(std::size_t s) const noexcept {
        return reinterpret_cast<std::byte*>(bases_[s] + (std::uintptr_t{local_slot(s)} << offset_bits) * unit);
    }

    struct slot_meta {
        std::size_t units = 0;  // chunk size or large block size, in units
        std::uint32_t span = 0;  // slots covered by a large block
        slot_kind kind = slot_kind::unused;
    };

    void push_free(unsigned z, ref r, std::size_t n) noexcept {
        zone_state& zs = zones_[z];
        if (zs.free_heads.empty()) {
            // First free: the head table is small and allocated once; if that
            // allocation fails the block is simply not reused.
            try {
                zs.free_heads.assign(max_small_units + 1, 0);
            } catch (...) {
                return;
            }
        }
        std::memcpy(ptr(z, r), &zs.free_heads[n], sizeof(ref));
        zs.free_heads[n] = r;
    }

    // Marks the sizes whose free lists hold blocks now as splittable (see
    // take_larger): called when a new chunk opens, so a block becomes
    // splittable only once it has waited on its list for a chunk's worth of
    // allocations that could have taken it whole.
    void mark_splittable(zone_state& zs) noexcept {
        zs.free_mask = {};
        zs.max_free = 0;
        for (std::size_t m = 1; m < zs.free_heads.size(); ++m) {
            if (zs.free_heads[m] == 0) continue;
            zs.free_mask[m / 64] |= std::uint64_t{1} << (m % 64);
            zs.max_free = m;
        }
        zs.split_below = zs.max_free >= smallest_ ? zs.max_free + 1 - smallest_ : 0;
    }
    // allocate_fast when a free block may be split for n: the split, else
    // the bump chunk's units, else 0.
    [[gnu::noinline]] ref split_or_bump(unsigned z, std::size_t n) noexcept {
        if (const ref r = take_larger(z, n); r != 0) return r;
        zone_state& zs = zones_[z];
        return zs.bump_end - zs.bump >= n ? take_bump(zs, n) : 0;
    }

    // The smallest free block of at least n + smallest_ units, split: its
    // first n units are returned and the rest goes on the free list of its
    // size. 0 when there is none (max_free then drops below n + smallest_).
    ref take_larger(unsigned z, std::size_t n) noexcept {
        zone_state& zs = zones_[z];
        for (std::size_t m = n + smallest_; m <= zs.max_free;) {
            const std::size_t w = m / 64;
            const std::uint64_t bits = zs.free_mask[w] & (~std::uint64_t{0} << (m % 64));
            if (bits == 0) {
                m = (w + 1) * 64;
                continue;
            }
            m = w * 64 + static_cast<std::size_t>(std::countr_zero(bits));
            if (m > zs.max_free) break;
            const ref r = zs.free_heads[m];
            if (r == 0) {
                zs.free_mask[w] &= ~(std::uint64_t{1} << (m % 64));
                ++m;
                continue;
            }
            MEMKV_ASSERT(m - n >= smallest_);
            std::memcpy(&zs.free_heads[m], ptr(z, r), sizeof(ref));
            push_free(z, r + static_cast<ref>(n), m - n);
            return r;
        }
        zs.max_free = n + smallest_ - 1;
        zs.split_below = n;
        return 0;
    }

    // `count` consecutive local slots of zone z, or 0 when the zone has no
    // room left for them.
    std::size_t take_slots(unsigned z, std::size_t count, bool chunk) {
        zone_state& zs = zones_[z];
        if (count == 1 && !zs.free_slots.empty()) {
            const std::size_t s = zs.free_slots.back();
            zs.free_slots.pop_back();
            return s;
        }
        std::size_t s = zs.next_slot;
        // A flat zone's chunks of 2 MiB start on a 2 MiB boundary, so they
        // can be huge pages; the slots skipped hold no memory.
        constexpr std::size_t huge_slots = huge_page_bytes / (slot_units * unit);
        if (chunk && zs.flat != nullptr && count >= huge_slots) s = (s + huge_slots - 1) & ~(huge_slots - 1);
        if (s + count > slots_per_zone()) return 0;
        const std::size_t end = (std::size_t{z} << zone_bits_) + s + count;
        if (bases_.size() < end) {
            // Only the last zone's row grows.
            MEMKV_ASSERT(z + 1 == zones_.size());
            meta_.resize(end);
            bases_.resize(end, 0);
        }
        zs.next_slot = static_cast<std::uint32_t>(s + count);
        return s;
    }
    void give_back_slots(unsigned z, std::size_t s, std::size_t count) noexcept {
        zone_state& zs = zones_[z];
        if (s + count == zs.next_slot) {
            zs.next_slot = static_cast<std::uint32_t>(s);
        } else if (count == 1) {
            try {
                zs.free_slots.push_back(static_cast<std::uint32_t>(s));
            } catch (...) {
            }
        }
    }

    // A new bump chunk for zone z that holds at least n units; false when the
    // zone's table has no room for one.
    bool new_chunk(unsigned z, std::size_t n) {
        zone_state& zs = zones_[z];
        std::size_t units = zs.last_chunk_units == 0 ? first_chunk_units
                                                      : std::min(max_chunk_units, zs.last_chunk_units * 2);
        // A zone's last slots take smaller chunks (only shrunk test zones
        // ever get there with room for fewer than 8).
        const std::size_t room = (slots_per_zone() - zs.next_slot) * slot_units;
        if (units > room) {
            if (room >= n) {
                units = room;
            } else if (!zs.free_slots.empty()) {
                units = slot_units;  // a freed single slot
            } else {
                return false;
            }
        }
        const std::size_t span = (units + slot_units - 1) / slot_units;
        // Reserve table space first so nothing below can fail after the
        // chunk is allocated.
        const std::size_t s = take_slots(z, span, true);
        if (s == 0) return false;
        std::byte* mem = nullptr;
        try {
            mem = get_memory(z, s, units);
        } catch (...) {
            give_back_slots(z, s, span);
            throw;
        }
        // The old chunk's tail (smaller than any request that did not fit)
        // goes to its size class instead of being lost.
        if (zs.bump_end > zs.bump) push_free(z, zs.bump, zs.bump_end - zs.bump);
        mark_splittable(zs);
        const std::size_t first = std::size_t{z} << zone_bits_;
        for (std::size_t i = 0; i < span; ++i) {
            set_slot(first + s + i, mem + i * slot_units * unit);
            meta_[first + s + i] = {units, static_cast<std::uint32_t>(span),
                                    i == 0 ? slot_kind::chunk : slot_kind::chunk_tail};
        }
        held_bytes_ += footprint(z, units);
        zs.last_chunk_units = units;
        zs.bump = static_cast<ref>(s << offset_bits);
        zs.bump_end = zs.bump + static_cast<ref>(units);
        return true;
    }

    // allocate() when neither a free block nor the bump chunk serves.
    [[gnu::noinline]] ref allocate_slow(unsigned z, std::size_t n) {
        if (zones_.empty()) {
            MEMKV_ASSERT(z == 0);
            open_zone();
        }
        MEMKV_ASSERT(z < zones_.size());
        if (n > max_small_units) return allocate_large(z, n);
        zone_state& zs = zones_[z];
        if (zs.bump_end - zs.bump < n && !new_chunk(z, n)) return 0;
        return take_bump(zs, n);
    }

    // The next n units of the zone's bump chunk, which has room for them.
    static ref take_bump(zone_state& zs, std::size_t n) noexcept {
        MEMKV_ASSERT(zs.bump_end - zs.bump >= n);
        const ref r = zs.bump;
        zs.bump += static_cast<ref>(n);
        return r;
    }

    ref allocate_large(unsigned z, std::size_t n) {
        const std::size_t span = (n + slot_units - 1) / slot_units;
        if (span >= slots_per_zone()) throw std::bad_alloc();  // would not fit even an empty zone
        const std::size_t s = take_slots(z, span, false);
        if (s == 0) return 0;
        std::byte* mem = nullptr;
        try {
            mem = get_memory(z, s, n);
        } catch (...) {
            give_back_slots(z, s, span);
            throw;
        }
        const std::size_t first = std::size_t{z} << zone_bits_;
        for (std::size_t i = 0; i < span; ++i) {
            set_slot(first + s + i, mem + i * slot_units * unit);
            meta_[first + s + i] = {n, static_cast<std::uint32_t>(span),
                                    i == 0 ? slot_kind::large_head : slot_kind::large_tail};
        }
        held_bytes_ += footprint(z, n);
        return static_cast<ref>(s << offset_bits);
    }

    void release_large(unsigned z, std::size_t s) noexcept {
        if (zones_[z].flat != nullptr) {
            discard_flat(slot_address(s), meta_[s].units);
        } else {
            free_memory(slot_address(s), meta_[s].units);
        }
        const std::size_t span = meta_[s].span;
        held_bytes_ -= footprint(z, meta_[s].units);
        for (std::size_t i = 0; i < span; ++i) {
            bases_[s + i] = 0;
            meta_[s + i] = {};
        }
        // Single slots are reused; the table entries of a multi-slot block
        // are not (8 bytes each, and only keys over 256 KiB need them).
        if (span == 1) {
            try {
                zones_[z].free_slots.push_back(static_cast<std::uint32_t>(local_slot(s)));
            } catch (...) {
            }
        }
    }

    static inline std::atomic<std::size_t> flat_reserved_{0};
    struct kept_reservation {
        void* mapping;
        std::size_t bytes;
        std::uint32_t touched_slots;  // slots its last arena used (zone_state::touched_slots)
    };
    struct kept_list {
        std::mutex mu;
        kept_reservation list[max_kept_reservations];
        std::size_t n = 0;
    };
    // Never destroyed: an arena of static storage duration may be released
    // after a function-local static made later would be gone.
    static kept_list& kept() noexcept {
        alignas(kept_list) static unsigned char storage[sizeof(kept_list)];
        static kept_list* const list = ::new (static_cast<void*>(storage)) kept_list;
        return *list;
    }

    std::vector<std::uintptr_t> bases_;  // biased slot addresses, see ptr()
    std::vector<slot_meta> meta_;
    std::vector<zone_state> zones_;
    // single_flat_base(), kept up to date by open_zone and release: read
    // first by every point lookup, one load instead of the vector's ends
    // and the zone's record.
    std::uintptr_t single_flat_ = 0;
    unsigned zone_bits_ = max_zone_bits;
    unsigned smallest_ = 1;  // see the constructor
    std::size_t held_bytes_ = 0;
};

}  // namespace memkv::detail
