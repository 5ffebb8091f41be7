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

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
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

}  // namespace memkv::detail
