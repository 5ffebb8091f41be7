#pragma once

// Allocation-failure injection for memkv's tests: the k-th allocation after
// arm() throws std::bad_alloc (the nothrow forms return nullptr), once.
//
// The replaceable global operator new / delete forms are defined in
// alloc_fault.cpp, which is linked into each test executable that includes
// this header (CMake: memkv_add_alloc_fault). A program may define them only
// once, so no other file of such an executable may. Nothing of this reaches
// the library: it sees the ordinary global operator new. While no failure is
// armed they are malloc/free plus one atomic load.
//
// Which allocations count (scope):
//   this_thread    only those of the thread that called arm(): deterministic
//                  even while HybridKV's background threads allocate, so a
//                  sweep over k meets every allocation of one foreground call;
//   other_threads  only those of other threads (HybridKV's flusher, merger and
//                  their niced helpers) while the arming thread drives them;
//   all_threads    every thread.
// Allocations that std::malloc serves directly (libstdc++'s exception
// objects, the C library) are not seen; neither are mmap'ed blocks (FastArt's
// 2 MiB chunks, the builder's registry). MEMKV_ALLOC_FAULT_TRACE=1 prints a
// backtrace of every injected failure to stderr.

#include <cstdint>
#include <cstdlib>
#include <new>

namespace memkv::test::alloc_fault {

enum class scope { this_thread, other_threads, all_threads };

// From now on, `skip` counted allocations succeed and the next one fails.
void arm(std::uint64_t skip, scope s = scope::this_thread) noexcept;
// Stops counting; returns whether the failure happened.
bool disarm() noexcept;
// Whether the armed failure has happened (it disarms itself when it does).
bool fired() noexcept;
// Allocations counted since the last arm(), the failing one included.
std::uint64_t counted() noexcept;

// What fail_at() saw.
struct outcome {
    bool threw = false;  // op let std::bad_alloc escape
    bool fired = false;  // the armed allocation failed (threw is false if op absorbed it)
};

// Runs op() with the k-th counted allocation (from 0) failing and catches the
// std::bad_alloc it throws; any other exception propagates (disarmed first).
template <class F>
outcome fail_at(std::uint64_t k, F&& op, scope s = scope::this_thread) {
    struct guard {
        ~guard() { disarm(); }
    };
    outcome r;
    {
        guard g;
        arm(k, s);
        try {
            op();
        } catch (const std::bad_alloc&) {
            r.threw = true;
        }
        r.fired = fired();
    }
    return r;
}

// MEMKV_TEST_SCALE (default 1): how much longer the randomized and
// fault-injection tests run (scripts/test.sh: 3 in the optimized build).
inline unsigned scale() noexcept {
    const char* s = std::getenv("MEMKV_TEST_SCALE");
    const long v = s != nullptr ? std::strtol(s, nullptr, 10) : 1;
    return v > 0 ? static_cast<unsigned>(v) : 1U;
}

// How a sweep over k steps. A full sweep fails every allocation in turn; a
// sampled one (for operations that allocate hundreds of times) fails every
// one of the first 32 x scale, then steps by about 1/(8 x scale) of k, so a
// sweep stays at a few dozen attempts in CI. At MEMKV_TEST_SCALE >= 10 every
// sweep is full.
enum class sweep { full, sampled };
inline std::uint64_t next_k(std::uint64_t k, sweep how) noexcept {
    const std::uint64_t s = scale();
    if (how == sweep::full || s >= 10 || k < 32 * s) return k + 1;
    return k + 1 + k / (8 * s);
}

}  // namespace memkv::test::alloc_fault
