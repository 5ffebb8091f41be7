// The replaceable global allocation functions of a test executable, with the
// failure injection of alloc_fault.hpp. Every form is replaced, so that
// nothing mixes these with another allocator's (ASan's) operator delete.
#include "alloc_fault.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <thread>

#include <execinfo.h>
#include <unistd.h>

namespace memkv::test::alloc_fault {
namespace {

// Plain atomics, constant-initialized: usable before main() and from any
// thread, and nothing here allocates.
std::atomic<bool> armed{false};
std::atomic<int> armed_scope{0};
std::atomic<std::thread::id> owner{};
// Counted allocations that still succeed; the one that finds it at 0 fails.
std::atomic<std::int64_t> left{-1};
std::atomic<bool> has_fired{false};
std::atomic<std::uint64_t> seen{0};

bool counts_here() noexcept {
    const auto s = static_cast<scope>(armed_scope.load(std::memory_order_relaxed));
    if (s == scope::all_threads) return true;
    const bool mine = owner.load(std::memory_order_relaxed) == std::this_thread::get_id();
    return s == scope::this_thread ? mine : !mine;
}

// Whether this allocation is the one to fail.
bool should_fail() noexcept {
    if (!armed.load(std::memory_order_acquire) || !counts_here()) return false;
    seen.fetch_add(1, std::memory_order_relaxed);
    // Exactly one caller takes the counter from 0 to -1, even when several
    // threads allocate at once.
    if (left.fetch_sub(1, std::memory_order_acq_rel) != 0) return false;
    has_fired.store(true, std::memory_order_release);
    armed.store(false, std::memory_order_release);
    // MEMKV_ALLOC_FAULT_TRACE=1: where each failure is injected (stderr;
    // backtrace_symbols_fd allocates nothing).
    static const bool trace = std::getenv("MEMKV_ALLOC_FAULT_TRACE") != nullptr;
    if (trace) {
        void* frames[32];
        const int n = ::backtrace(frames, 32);
        ::backtrace_symbols_fd(frames, n, 2);
        static const char line[] = "---- injected std::bad_alloc\n";
        (void)!::write(2, line, sizeof line - 1);
    }
    return true;
}

void* raw_alloc(std::size_t n, std::size_t align) noexcept {
    if (n == 0) n = 1;
    return align <= alignof(std::max_align_t) ? std::malloc(n)
                                              : std::aligned_alloc(align, (n + align - 1) / align * align);
}

void* alloc_or_throw(std::size_t n, std::size_t align) {
    if (should_fail()) throw std::bad_alloc();
    void* p = raw_alloc(n, align);
    if (p == nullptr) throw std::bad_alloc();
    return p;
}

void* alloc_or_null(std::size_t n, std::size_t align) noexcept {
    if (should_fail()) return nullptr;
    return raw_alloc(n, align);
}

}  // namespace

void arm(std::uint64_t skip, scope s) noexcept {
    armed.store(false, std::memory_order_release);
    armed_scope.store(static_cast<int>(s), std::memory_order_relaxed);
    owner.store(std::this_thread::get_id(), std::memory_order_relaxed);
    left.store(static_cast<std::int64_t>(skip), std::memory_order_relaxed);
    has_fired.store(false, std::memory_order_relaxed);
    seen.store(0, std::memory_order_relaxed);
    armed.store(true, std::memory_order_release);
}

bool disarm() noexcept {
    armed.store(false, std::memory_order_release);
    return has_fired.load(std::memory_order_acquire);
}

bool fired() noexcept { return has_fired.load(std::memory_order_acquire); }

std::uint64_t counted() noexcept { return seen.load(std::memory_order_relaxed); }

}  // namespace memkv::test::alloc_fault

namespace af = memkv::test::alloc_fault;

void* operator new(std::size_t n) { return af::alloc_or_throw(n, 0); }
void* operator new[](std::size_t n) { return af::alloc_or_throw(n, 0); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return af::alloc_or_null(n, 0); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return af::alloc_or_null(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return af::alloc_or_throw(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return af::alloc_or_throw(n, static_cast<std::size_t>(a)); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return af::alloc_or_null(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return af::alloc_or_null(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
