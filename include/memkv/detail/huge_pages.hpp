#pragma once

// Memory for big tables read at random (FastArt's chunks, the frozen
// builder's registry, HybridKV's run filters): 2 MiB-aligned anonymous mappings marked for
// transparent huge pages.
//
// Why: a table of a few MiB probed at random misses the TLB on most probes
// with 4 KiB pages (the second-level TLB covers about 8 MiB); one entry per
// 2 MiB removes most of those page walks. Such blocks are mapped directly on
// Linux rather than taken from operator new: glibc serves a 2 MiB request from
// its heap once an earlier one of that size was freed (its mmap threshold
// rises), and heap pages that were already touched at 4 KiB are not turned
// into huge pages. A fresh, aligned mapping is. Elsewhere (and below 2 MiB)
// this is operator new.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace memkv::detail {

inline constexpr std::size_t huge_page_bytes = std::size_t{2} << 20;

// Whether allocate_huge(bytes) maps (and so costs mapped_huge_length(bytes)).
constexpr bool maps_huge(std::size_t bytes) noexcept {
#if defined(__linux__)
    return bytes >= huge_page_bytes;
#else
    (void)bytes;
    return false;
#endif
}
constexpr std::size_t mapped_huge_length(std::size_t bytes) noexcept {
    return (bytes + huge_page_bytes - 1) & ~(huge_page_bytes - 1);
}

// Uninitialized for operator new; zero-filled when mapped. Throws
// std::bad_alloc.
inline void* allocate_huge(std::size_t bytes) {
#if defined(__linux__)
    if (maps_huge(bytes)) {
        // Over-map by one huge page and trim both ends to align.
        const std::size_t len = mapped_huge_length(bytes);
        void* raw = ::mmap(nullptr, len + huge_page_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (raw == MAP_FAILED) throw std::bad_alloc();
        const auto base = reinterpret_cast<std::uintptr_t>(raw);
        const std::uintptr_t aligned = (base + huge_page_bytes - 1) & ~std::uintptr_t{huge_page_bytes - 1};
        if (aligned != base) ::munmap(raw, aligned - base);
        const std::size_t tail = huge_page_bytes - (aligned - base);
        if (tail != 0) ::munmap(reinterpret_cast<void*>(aligned + len), tail);
#if defined(MADV_HUGEPAGE)
        ::madvise(reinterpret_cast<void*>(aligned), len, MADV_HUGEPAGE);  // a hint
#endif
        return reinterpret_cast<void*>(aligned);
    }
#endif
    return ::operator new(bytes);
}

inline void free_huge(void* p, std::size_t bytes) noexcept {
    if (p == nullptr) return;
#if defined(__linux__)
    if (maps_huge(bytes)) {
        ::munmap(p, mapped_huge_length(bytes));
        return;
    }
#endif
    ::operator delete(p);
}

// Address space without memory (FastArt's flat zones, art/arena.hpp): a
// reservation of `bytes` whose pages are committed by touching them, or
// nullptr where none can be had (not Linux, address space exhausted, strict
// overcommit, which charges even MAP_NORESERVE mappings).
inline void* reserve_address_range(std::size_t bytes) noexcept {
#if defined(__linux__) && defined(MAP_NORESERVE)
    void* raw = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return raw == MAP_FAILED ? nullptr : raw;
#else
    (void)bytes;
    return nullptr;
#endif
}
inline void release_address_range(void* p, std::size_t bytes) noexcept {
#if defined(__linux__)
    if (p != nullptr) ::munmap(p, bytes);
#else
    (void)p;
    (void)bytes;
#endif
}
// Inside a reservation: the pages of [p, p + bytes) marked for huge pages
// (p 2 MiB-aligned), or given back to the system (their addresses stay
// reserved and read as zeros when touched again).
inline void advise_huge_pages(void* p, std::size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    ::madvise(p, bytes, MADV_HUGEPAGE);  // a hint
#else
    (void)p;
    (void)bytes;
#endif
}
// Never huge pages there (unless advise_huge_pages says so later for a part):
// where transparent huge pages are "always", the first touch of a fresh
// reservation would otherwise commit 2 MiB.
inline void advise_no_huge_pages(void* p, std::size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_NOHUGEPAGE)
    ::madvise(p, bytes, MADV_NOHUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}
inline void discard_pages(void* p, std::size_t bytes) noexcept {
#if defined(__linux__)
    ::madvise(p, bytes, MADV_DONTNEED);
#else
    (void)p;
    (void)bytes;
#endif
}

// A fixed-size, zero-filled array of a trivial T in such memory.
template <class T>
class huge_array {
    static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

public:
    huge_array() = default;
    explicit huge_array(std::size_t n) : n_(n) {
        if (n == 0) return;
        p_ = static_cast<T*>(allocate_huge(n * sizeof(T)));
        if (!maps_huge(n * sizeof(T))) std::memset(static_cast<void*>(p_), 0, n * sizeof(T));
    }
    huge_array(huge_array&& o) noexcept : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
    huge_array& operator=(huge_array&& o) noexcept {
        std::swap(p_, o.p_);
        std::swap(n_, o.n_);
        return *this;
    }
    ~huge_array() { free_huge(p_, n_ * sizeof(T)); }

    T& operator[](std::size_t i) noexcept { return p_[i]; }
    const T& operator[](std::size_t i) const noexcept { return p_[i]; }
    T* data() noexcept { return p_; }
    const T* data() const noexcept { return p_; }
    std::size_t size() const noexcept { return n_; }
    // What it holds: the mapping, or the bytes.
    std::size_t memory_usage() const noexcept {
        return maps_huge(n_ * sizeof(T)) ? mapped_huge_length(n_ * sizeof(T)) : n_ * sizeof(T);
    }

private:
    T* p_ = nullptr;
    std::size_t n_ = 0;
};

// A growable byte buffer (what a vector<unsigned char> is to a builder that
// appends) whose storage, from 2 MiB on, is a huge-page mapping that grows
// and shrinks without copying: in place when the address space after it is
// free, else by moving its pages (mremap) into a bigger aligned mapping.
//
// Why: in-memory FrozenLayer images are walked at random by every lookup,
// and a HybridKV store's merges stream through memory beside those walks:
// there, runs in huge pages were walked in half the time (DESIGN.md,
// FrozenLayer "Reading"). A vector also copies its bytes at every doubling
// and at shrink_to_fit, and faults every 4 KiB of the copies.
//
// Under 2 MiB it is operator new, grown by copying. Everything that needs
// memory throws std::bad_alloc and leaves the buffer as it was.
class huge_buffer {
public:
    huge_buffer() = default;
    huge_buffer(const huge_buffer&) = delete;
    huge_buffer& operator=(const huge_buffer&) = delete;
    huge_buffer(huge_buffer&& o) noexcept
        : p_(std::exchange(o.p_, nullptr)), size_(std::exchange(o.size_, 0)), cap_(std::exchange(o.cap_, 0)),
          mapped_(std::exchange(o.mapped_, false)) {}
    huge_buffer& operator=(huge_buffer&& o) noexcept {
        huge_buffer(std::move(o)).swap(*this);
        return *this;
    }
    ~huge_buffer() { release(p_, cap_, mapped_); }

    void swap(huge_buffer& o) noexcept {
        std::swap(p_, o.p_);
        std::swap(size_, o.size_);
        std::swap(cap_, o.cap_);
        std::swap(mapped_, o.mapped_);
    }

    unsigned char* data() noexcept { return p_; }
    const unsigned char* data() const noexcept { return p_; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    // Bytes held: the mapping's length, or the block's.
    std::size_t capacity() const noexcept { return cap_; }

    void reserve(std::size_t n) {
        if (n > cap_) grow_to(n);
    }
    void append(const unsigned char* p, std::size_t n) {
        if (n == 0) return;
        if (n > cap_ - size_) grow_to(std::max(size_ + n, cap_ + cap_ / 2 + 64));
        std::memcpy(p_ + size_, p, n);
        size_ += n;
    }
    // Gives back what is beyond size(): a mapping unmaps its tail from the
    // first page boundary (no copy; the last huge page is split, so an image
    // costs at most one base page more than its size, not 2 MiB); a block
    // below 2 MiB is copied to an exact one. Never throws: out of memory,
    // the block stays as it is.
    void shrink_to_fit() noexcept {
        if (mapped_) {
#if defined(__linux__)
            static const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
            const std::size_t keep = std::max((size_ + page - 1) / page * page, page);
            if (keep < cap_ && ::munmap(p_ + keep, cap_ - keep) == 0) cap_ = keep;
#endif
            return;
        }
        if (cap_ == size_) return;
        unsigned char* q = nullptr;
        if (size_ != 0) {
            q = static_cast<unsigned char*>(::operator new(size_, std::nothrow));
            if (q == nullptr) return;
            std::memcpy(q, p_, size_);
        }
        release(p_, cap_, false);
        p_ = q;
        cap_ = size_;
    }

private:
    static void release(unsigned char* p, std::size_t cap, bool mapped) noexcept {
        if (p == nullptr) return;
#if defined(__linux__)
        if (mapped) {
            ::munmap(p, cap);
            return;
        }
#endif
        (void)mapped;
        ::operator delete(p);
    }

    void grow_to(std::size_t n) {
        const std::size_t len = maps_huge(n) ? mapped_huge_length(n) : n;
#if defined(__linux__) && defined(MREMAP_MAYMOVE)
        if (mapped_) {
            // In place: the mapping keeps its address, alignment and advice.
            if (::mremap(p_, cap_, len, 0) != MAP_FAILED) {
                cap_ = len;
                return;
            }
            // Else move it, grown, onto a new aligned mapping (one area, so
            // that it can grow in place again); copy only if that fails.
            void* fresh = allocate_huge(len);
            if (::mremap(p_, cap_, len, MREMAP_MAYMOVE | MREMAP_FIXED, fresh) != MAP_FAILED) {
                p_ = static_cast<unsigned char*>(fresh);
                cap_ = len;
                return;
            }
            free_huge(fresh, len);
        }
#endif
        // allocate_huge: operator new below 2 MiB, a mapping from there on.
        auto* q = static_cast<unsigned char*>(allocate_huge(len));
        if (size_ != 0) std::memcpy(q, p_, size_);
        release(p_, cap_, mapped_);
        p_ = q;
        cap_ = len;
        mapped_ = maps_huge(len);
    }

    unsigned char* p_ = nullptr;
    std::size_t size_ = 0;
    std::size_t cap_ = 0;
    bool mapped_ = false;  // p_ is a mapping of cap_ bytes (else operator new)
};

}  // namespace memkv::detail
