#pragma once

// MEMKV_ASSERT(cond): an invariant check in debug builds, nothing in Release.
// On when NDEBUG is not defined or when MEMKV_DEBUG is defined to 1 (memkv's
// own sanitizer builds define it, so the ASan+UBSan and TSan test runs check
// invariants even when optimized). Release code pays nothing: the condition
// is not evaluated.
//
// MEMKV_DEBUG_ITERATORS is 1 under the same conditions: FastArt iterators then
// carry the tree's modification generation and a use after an insert or erase
// fails an assertion (as abseil's btree does with its generations).

#include <cstdio>
#include <cstdlib>

#if !defined(MEMKV_DEBUG)
#if defined(NDEBUG)
#define MEMKV_DEBUG 0
#else
#define MEMKV_DEBUG 1
#endif
#endif

#define MEMKV_DEBUG_ITERATORS MEMKV_DEBUG

namespace memkv::detail {
[[noreturn]] inline void assertion_failed(const char* cond, const char* file, int line,
                                          const char* func) noexcept {
    std::fprintf(stderr, "memkv: assertion failed: %s\n  at %s:%d in %s\n", cond, file, line, func);
    std::abort();
}
}  // namespace memkv::detail

#if MEMKV_DEBUG
#define MEMKV_ASSERT(cond) \
    ((cond) ? static_cast<void>(0) : ::memkv::detail::assertion_failed(#cond, __FILE__, __LINE__, __func__))
#else
#define MEMKV_ASSERT(cond) static_cast<void>(0)
#endif
