#pragma once

// Population count with the POPCNT instruction wherever the CPU has it,
// whatever the compile flags. The library sets no -m flags (its users choose
// their targets), and without -mpopcnt std::popcount is a call into libgcc:
// 13% of a version 3 FrozenLayer lookup's instructions on the URL set
// (callgrind; bench/RESULTS.md, thirty-seventh session). Every x86-64 CPU
// since 2008 has POPCNT; the one test here is a load of a flag set once at
// start-up (before it is set, and on CPUs without it, std::popcount answers).

#include <bit>
#include <cstdint>

#if defined(__x86_64__) && !defined(__POPCNT__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define MEMKV_POPCNT_DISPATCH 1
#else
#define MEMKV_POPCNT_DISPATCH 0
#endif

namespace memkv::detail {

#if MEMKV_POPCNT_DISPATCH
inline const bool cpu_has_popcnt = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    return __get_cpuid(1, &a, &b, &c, &d) != 0 && (c & bit_POPCNT) != 0;
}();
#endif

inline unsigned popcount64(std::uint64_t x) noexcept {
#if MEMKV_POPCNT_DISPATCH
    if (cpu_has_popcnt) [[likely]] {
        std::uint64_t r;
        __asm__("popcnt %1, %0" : "=r"(r) : "r"(x) : "cc");
        return static_cast<unsigned>(r);
    }
#endif
    return static_cast<unsigned>(std::popcount(x));
}

// Whether popcount64_as<true> may be used: the CPU has POPCNT and the
// library dispatches (false where POPCNT is compiled in: popcount64 then
// needs no test).
inline bool popcnt_dispatch() noexcept {
#if MEMKV_POPCNT_DISPATCH
    return cpu_has_popcnt;
#else
    return false;
#endif
}

// popcount64 inside a function chosen once by popcnt_dispatch(): with Hw the
// instruction without the flag's test. A version 3 lookup counts 4-6 times
// a level, and those tests were 4-6% of its instructions (bench/RESULTS.md,
// forty-first session), so its descent is compiled twice and picked per call.
template <bool Hw>
inline unsigned popcount64_as(std::uint64_t x) noexcept {
#if MEMKV_POPCNT_DISPATCH
    if constexpr (Hw) {
        std::uint64_t r;
        __asm__("popcnt %1, %0" : "=r"(r) : "r"(x) : "cc");
        return static_cast<unsigned>(r);
    }
#endif
    return popcount64(x);
}

}  // namespace memkv::detail
