#pragma once

// A slab arena owned by one container: blocks of 8-byte units addressed by
// 32-bit references, size-class free lists, exact memory accounting.
//
// Why: one malloc per node and per leaf costs libart about 15 bytes per key in
// malloc headers and rounding, and 64-bit pointers double the size of every
// child slot. Here a reference is a 31-bit unit index (bit 31 is left to the
// caller as a tag), blocks are carved from chunks by bumping a pointer, and a
// freed block goes on the free list of its exact size, so a tree that churns
// reuses its own memory and memory_usage() is the sum of what the arena holds.
//
// Reference layout (bit 31 belongs to the caller and must be clear here):
//
//    31  30                  15 14                0
//   +---+----------------------+-------------------+
//   | 0 |  slot (16 bits)      | unit offset (15)  |
//   +---+----------------------+-------------------+
//
// A slot is one entry of the chunk table: the base address of a chunk of at
// most 2^15 units (256 KiB), or one 256 KiB window of a larger chunk or block. Slot 0 is
// never used, so reference 0 is the null reference. Small blocks (at most
// max_small_units) never straddle two slots; a large block gets ceil(n / 2^15)
// consecutive slots of its own, so ptr() is the same load and add for every block.
// The arena addresses at most 2^16 slots * 256 KiB = 16 GiB.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <utility>
#include <vector>

#include <memkv/detail/assert.hpp>
#include <memkv/detail/huge_pages.hpp>

namespace memkv::detail {

class slab_arena {
public:
    using ref = std::uint32_t;

    static constexpr std::size_t unit = 8;
    static constexpr unsigned offset_bits = 15;
    static constexpr std::uint32_t offset_mask = (1u << offset_bits) - 1;
    static constexpr std::size_t slot_units = std::size_t{1} << offset_bits;
    static constexpr std::size_t max_slots = std::size_t{1} << 16;
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

    slab_arena() = default;
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
        std::swap(free_heads_, o.free_heads_);
        std::swap(free_slots_, o.free_slots_);
        std::swap(bump_, o.bump_);
        std::swap(bump_end_, o.bump_end_);
        std::swap(last_chunk_units_, o.last_chunk_units_);
        std::swap(held_bytes_, o.held_bytes_);
    }

    // bases_[s] is slot s's address minus the offset of its first unit, so
    // ptr() is one load and one add: it sits on the dependent chain of every
    // level of a descent. Kept as integers, since the biased value points
    // outside any object.
    std::byte* ptr(ref r) const noexcept {
        return reinterpret_cast<std::byte*>(bases_[r >> offset_bits] + std::uintptr_t{r} * unit);
    }

    // A hint to start loading block r. always_inline: GCC otherwise deems a
    // function holding only a prefetch side-effect free and drops the call.
#if defined(__GNUC__) || defined(__clang__)
    [[gnu::always_inline]] void prefetch(ref r) const noexcept { __builtin_prefetch(ptr(r)); }
#else
    void prefetch(ref) const noexcept {}
#endif

    static constexpr std::size_t units_for(std::size_t bytes) noexcept {
        return (bytes + unit - 1) / unit;
    }

    // A block of n >= 1 units, 8-byte aligned, uninitialized. Throws
    // std::bad_alloc when memory or the 16 GiB address space is exhausted.
    ref allocate(std::size_t n) {
        MEMKV_ASSERT(n >= 1);
        if (n <= max_small_units) {
            if (!free_heads_.empty() && free_heads_[n] != 0) {
                const ref r = free_heads_[n];
                std::memcpy(&free_heads_[n], ptr(r), sizeof(ref));
                return r;
            }
            if (bump_end_ - bump_ < n) new_chunk();
            const ref r = bump_;
            bump_ += static_cast<ref>(n);
            return r;
        }
        return allocate_large(n);
    }

    // Returns a block of n units. A large block is released whole, whatever n
    // says (it may have been shrunk in place).
    void deallocate(ref r, std::size_t n) noexcept {
        MEMKV_ASSERT(plausible(r) && n >= 1);
        const std::size_t s = r >> offset_bits;
        if (meta_[s].kind == slot_kind::large_head) {
            release_large(s);
            return;
        }
        push_free(r, n);
    }

    // Gives every byte back to the system.
    void release() noexcept {
        for (std::size_t s = 1; s < bases_.size(); ++s) {
            if (meta_[s].kind == slot_kind::chunk || meta_[s].kind == slot_kind::large_head) {
                free_memory(slot_address(s), meta_[s].units);
            }
        }
        // Assigning {} would keep the capacity; swapping with a fresh vector
        // gives it back.
        std::vector<std::uintptr_t>().swap(bases_);
        std::vector<slot_meta>().swap(meta_);
        std::vector<ref>().swap(free_heads_);
        std::vector<std::uint32_t>().swap(free_slots_);
        bump_ = bump_end_ = 0;
        last_chunk_units_ = 0;
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
        vec(free_heads_);
        vec(free_slots_);
        return bytes;
    }

    // True if r could have been returned by allocate() (for verify()).
    bool plausible(ref r) const noexcept {
        const std::size_t s = r >> offset_bits;
        if (r == 0 || s >= bases_.size()) return false;
        const auto k = meta_[s].kind;
        if (k == slot_kind::chunk) return (r & offset_mask) < meta_[s].units;
        if (k == slot_kind::chunk_tail) return true;
        return k == slot_kind::large_head && (r & offset_mask) == 0;
    }

private:
    enum class slot_kind : std::uint8_t { unused, chunk, chunk_tail, large_head, large_tail };

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

    static std::byte* get_memory(std::size_t units) { return static_cast<std::byte*>(allocate_huge(units * unit)); }
    static void free_memory(std::byte* p, std::size_t units) noexcept { free_huge(p, units * unit); }
    void set_slot(std::size_t s, std::byte* address) noexcept {
        bases_[s] = reinterpret_cast<std::uintptr_t>(address) - (std::uintptr_t{s} << offset_bits) * unit;
    }
    std::byte* slot_address(std::size_t s) const noexcept {
        return reinterpret_cast<std::byte*>(bases_[s] + (std::uintptr_t{s} << offset_bits) * unit);
    }

    struct slot_meta {
        std::size_t units = 0;  // chunk size or large block size, in units
        std::uint32_t span = 0;  // slots covered by a large block
        slot_kind kind = slot_kind::unused;
    };

    void push_free(ref r, std::size_t n) noexcept {
        if (free_heads_.empty()) {
            // First free: the head table is small and allocated once; if that
            // allocation fails the block is simply not reused.
            try {
                free_heads_.assign(max_small_units + 1, 0);
            } catch (...) {
                return;
            }
        }
        std::memcpy(ptr(r), &free_heads_[n], sizeof(ref));
        free_heads_[n] = r;
    }

    std::size_t take_slots(std::size_t count) {
        if (bases_.empty()) {
            bases_.reserve(16);
            meta_.reserve(16);
            bases_.push_back(0);  // slot 0: reference 0 stays null
            meta_.push_back({});
        }
        if (count == 1 && !free_slots_.empty()) {
            const std::size_t s = free_slots_.back();
            free_slots_.pop_back();
            return s;
        }
        if (bases_.size() + count > max_slots) throw std::bad_alloc();
        const std::size_t s = bases_.size();
        bases_.resize(s + count, 0);
        meta_.resize(s + count);
        return s;
    }

    void new_chunk() {
        const std::size_t units = last_chunk_units_ == 0
                                      ? first_chunk_units
                                      : std::min(max_chunk_units, last_chunk_units_ * 2);
        const std::size_t span = (units + slot_units - 1) / slot_units;
        // Reserve table space first so nothing below can fail after the
        // chunk is allocated.
        const std::size_t s = take_slots(span);
        std::byte* mem = nullptr;
        try {
            mem = get_memory(units);
        } catch (...) {
            if (span == 1) free_slots_.push_back(static_cast<std::uint32_t>(s));
            throw;
        }
        // The old chunk's tail (smaller than any request that did not fit)
        // goes to its size class instead of being lost.
        if (bump_end_ > bump_) push_free(bump_, bump_end_ - bump_);
        for (std::size_t i = 0; i < span; ++i) {
            set_slot(s + i, mem + i * slot_units * unit);
            meta_[s + i] = {units, static_cast<std::uint32_t>(span),
                            i == 0 ? slot_kind::chunk : slot_kind::chunk_tail};
        }
        held_bytes_ += footprint(units);
        last_chunk_units_ = units;
        bump_ = static_cast<ref>(s << offset_bits);
        bump_end_ = bump_ + static_cast<ref>(units);
    }

    ref allocate_large(std::size_t n) {
        const std::size_t span = (n + slot_units - 1) / slot_units;
        if (n > (max_slots * slot_units)) throw std::bad_alloc();
        const std::size_t s = take_slots(span);
        std::byte* mem = nullptr;
        try {
            mem = get_memory(n);
        } catch (...) {
            if (span == 1) free_slots_.push_back(static_cast<std::uint32_t>(s));
            throw;
        }
        for (std::size_t i = 0; i < span; ++i) {
            set_slot(s + i, mem + i * slot_units * unit);
            meta_[s + i] = {n, static_cast<std::uint32_t>(span),
                            i == 0 ? slot_kind::large_head : slot_kind::large_tail};
        }
        held_bytes_ += footprint(n);
        return static_cast<ref>(s << offset_bits);
    }

    void release_large(std::size_t s) noexcept {
        free_memory(slot_address(s), meta_[s].units);
        const std::size_t span = meta_[s].span;
        held_bytes_ -= footprint(meta_[s].units);
        for (std::size_t i = 0; i < span; ++i) {
            bases_[s + i] = 0;
            meta_[s + i] = {};
        }
        // Single slots are reused; the table entries of a multi-slot block
        // are not (8 bytes each, and only keys over 256 KiB need them).
        if (span == 1) {
            try {
                free_slots_.push_back(static_cast<std::uint32_t>(s));
            } catch (...) {
            }
        }
    }

    std::vector<std::uintptr_t> bases_;  // biased slot addresses, see ptr()
    std::vector<slot_meta> meta_;
    std::vector<ref> free_heads_;  // index: block size in units; 0 = empty list
    std::vector<std::uint32_t> free_slots_;
    ref bump_ = 0;
    ref bump_end_ = 0;
    std::size_t last_chunk_units_ = 0;
    std::size_t held_bytes_ = 0;
};

}  // namespace memkv::detail
