#pragma once

// A writer-preferring reader/writer lock for HybridKV (memkv::detail).
//
// Why not std::shared_mutex: on glibc it is a pthread_rwlock that prefers
// readers, so a steady stream of point reads (each holding the lock for well
// under a microsecond, but overlapping) keeps the shared count above zero and
// starves writers, seals and compaction swaps indefinitely. Here:
//
//   * a writer that arrives blocks new readers at once (P) and waits only for
//     the readers already inside;
//   * writers are served in arrival order (ticket lock), so the compaction
//     thread's seal and swap cannot be overtaken again and again by a busy
//     writer thread.
//
// (A phase-fair variant, where readers queued behind a writer all enter
// before the next writer, was tried: with one writer in a tight loop and two
// readers on 2 cores its write rate fell from ~300k/s to ~17k/s, every write
// paying two futex hand-offs, for no gain in read tail latency.)
//
//   state_ (32 bits):  | W | P |            readers (30 bits)           |
//     W  a writer holds the lock
//     P  a writer is waiting for the readers inside to leave
//   next_/serving_ writer tickets
//
// Meets the SharedMutex requirements (lock/unlock/lock_shared/unlock_shared),
// so std::unique_lock and std::shared_lock work with it. Waiting uses C++20
// atomic wait/notify (a futex on Linux). Not recursive.

#include <atomic>
#include <cstdint>

namespace memkv::detail {

class hybrid_rwlock {
public:
    void lock_shared() noexcept {
        std::uint32_t s = state_.load(std::memory_order_relaxed);
        for (;;) {
            if ((s & writer_bits) != 0) {
                state_.wait(s, std::memory_order_relaxed);
                s = state_.load(std::memory_order_relaxed);
                continue;
            }
            if (state_.compare_exchange_weak(s, s + 1, std::memory_order_acquire, std::memory_order_relaxed)) {
                return;
            }
        }
    }

    void unlock_shared() noexcept {
        const std::uint32_t s = state_.fetch_sub(1, std::memory_order_release) - 1;
        // The last reader out lets a waiting writer in.
        if ((s & reader_mask) == 0 && (s & pending) != 0) state_.notify_all();
    }

    void lock() noexcept {
        const std::uint32_t ticket = next_.fetch_add(1, std::memory_order_relaxed);
        for (std::uint32_t now = serving_.load(std::memory_order_acquire); now != ticket;
             now = serving_.load(std::memory_order_acquire)) {
            serving_.wait(now, std::memory_order_acquire);
        }
        std::uint32_t s = state_.fetch_or(pending, std::memory_order_relaxed) | pending;
        for (;;) {
            if ((s & reader_mask) != 0) {
                state_.wait(s, std::memory_order_relaxed);
                s = state_.load(std::memory_order_relaxed);
                continue;
            }
            if (state_.compare_exchange_weak(s, held, std::memory_order_acquire, std::memory_order_relaxed)) {
                return;
            }
        }
    }

    void unlock() noexcept {
        state_.store(0, std::memory_order_release);
        state_.notify_all();
        serving_.fetch_add(1, std::memory_order_release);
        serving_.notify_all();
    }

private:
    static constexpr std::uint32_t held = 1U << 31;
    static constexpr std::uint32_t pending = 1U << 30;
    static constexpr std::uint32_t writer_bits = held | pending;
    static constexpr std::uint32_t reader_mask = pending - 1;

    std::atomic<std::uint32_t> state_{0};
    std::atomic<std::uint32_t> next_{0};
    std::atomic<std::uint32_t> serving_{0};
};

}  // namespace memkv::detail
