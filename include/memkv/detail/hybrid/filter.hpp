#pragma once

// A blocked Bloom filter over a run's keys (memkv::detail): lets a lookup of
// a key that a run does not hold - every miss, and the first insert of every
// new key - skip that run without walking its automaton.
//
//   bits: blocks of 512 bits (one cache line); a key sets `probes` bits in
//   the one block its hash picks, so a query touches one line.
//
// About 10 bits per key and 7 probes: ~1% false positives (a blocked filter
// pays a little over a plain one for touching one line). Built while the run
// is written (the key count is bounded by the run's inputs), kept in
// anonymous memory, never saved: open() rebuilds it from the run's keys.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace memkv::detail {

// A 64-bit hash of a byte string: 8-byte words mixed by multiply-xorshift,
// the length folded in. Not cryptographic; only needs to spread real keys.
inline std::uint64_t hybrid_key_hash(std::string_view key) noexcept {
    constexpr std::uint64_t m = 0x9E3779B97F4A7C15ULL;
    std::uint64_t h = 0x243F6A8885A308D3ULL ^ (key.size() * m);
    const char* p = key.data();
    std::size_t n = key.size();
    while (n >= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        h = (h ^ w) * m;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    if (n != 0) {
        std::uint64_t w = 0;
        std::memcpy(&w, p, n);
        h = (h ^ w ^ (std::uint64_t{n} << 56)) * m;
        h ^= h >> 29;
    }
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 31;
    return h;
}

class hybrid_filter {
public:
    static constexpr unsigned probes = 7;
    static constexpr std::size_t bits_per_key = 10;

    // Sized for at most `keys` keys.
    explicit hybrid_filter(std::size_t keys) {
        const std::size_t blocks = std::max<std::size_t>(1, (keys * bits_per_key + 511) / 512);
        words_.assign(blocks * 8, 0);
        blocks_ = blocks;
    }

    void add(std::uint64_t h) noexcept {
        std::uint64_t* b = block(h);
        std::uint32_t x = static_cast<std::uint32_t>(h);
        const std::uint32_t step = static_cast<std::uint32_t>(h >> 32) | 1U;
        for (unsigned i = 0; i < probes; ++i, x += step) b[(x >> 6) & 7] |= std::uint64_t{1} << (x & 63);
    }

    bool may_contain(std::uint64_t h) const noexcept {
        const std::uint64_t* b = block(h);
        std::uint32_t x = static_cast<std::uint32_t>(h);
        const std::uint32_t step = static_cast<std::uint32_t>(h >> 32) | 1U;
        for (unsigned i = 0; i < probes; ++i, x += step) {
            if ((b[(x >> 6) & 7] & (std::uint64_t{1} << (x & 63))) == 0) return false;
        }
        return true;
    }

    // Starts loading the block of `h`: a lookup through many runs prefetches
    // every filter's block first, so their cache misses overlap.
    void prefetch(std::uint64_t h) const noexcept {
#if defined(__GNUC__) || defined(__clang__)
        __builtin_prefetch(block(h));
#else
        (void)h;
#endif
    }

    std::size_t memory_usage() const noexcept { return sizeof(*this) + words_.capacity() * sizeof(words_[0]); }

private:
    // The block: 32 bits of a remixed hash scaled to [0, blocks) (Lemire's
    // multiply-shift reduction; blocks < 2^32, a 256 GiB filter).
    std::uint64_t* block(std::uint64_t h) noexcept {
        const std::uint64_t g = (h * 0xD6E8FEB86659FD93ULL) >> 32;
        return words_.data() + 8 * static_cast<std::size_t>((g * blocks_) >> 32);
    }
    const std::uint64_t* block(std::uint64_t h) const noexcept {
        return const_cast<hybrid_filter*>(this)->block(h);
    }

    std::vector<std::uint64_t> words_;
    std::uint64_t blocks_ = 1;
};

}  // namespace memkv::detail
