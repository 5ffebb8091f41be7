#pragma once

// A writer-preferring reader/writer lock for HybridKV (memkv::detail).
//
// Why not std::shared_mutex: on glibc it is a pthread_rwlock that prefers
// readers, so a steady stream of point reads (each holding the lock for well
// under a microsecond, but overlapping) keeps the shared count above zero and
// starves writers, seals and compaction swaps indefinitely. Here a writer
// that arrives blocks new readers at once and only waits for the readers
// already inside.
//
//   state_ (32 bits):  | W | P |            readers (30 bits)           |
//     W  a writer holds the lock
//     P  a writer is waiting for the readers inside to leave
//   writer_mu_ queues writers one at a time, so W|P belong to one writer.
//
// Meets the SharedMutex requirements (lock/unlock/lock_shared/unlock_shared),
// so std::unique_lock and std::shared_lock work with it. Waiting uses C++20
// atomic wait/notify (a futex on Linux).

#include <atomic>
#include <cstdint>
#include <mutex>

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

    void lock() {
        writer_mu_.lock();
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
        writer_mu_.unlock();
    }

private:
    static constexpr std::uint32_t held = 1U << 31;
    static constexpr std::uint32_t pending = 1U << 30;
    static constexpr std::uint32_t writer_bits = held | pending;
    static constexpr std::uint32_t reader_mask = pending - 1;

    std::atomic<std::uint32_t> state_{0};
    std::mutex writer_mu_;
};

}  // namespace memkv::detail
