#pragma once

// A bit vector with rank and select, stored as one flat image so that it can
// be memory-mapped inside a file and queried in place (the building block of
// FrozenLayer v2's succinct trie; see DESIGN.md, "FrozenLayer v2").
//
// Image layout (all integers little-endian u64; n = bits, m = ones):
//
//   +--------------------------------+  0
//   | words[W]  W = ceil(n / 64)     |  bit i is bit (i % 64) of words[i / 64];
//   |                                |  bits past n are zero
//   +--------------------------------+  8W
//   | ranks[B + 1]  B = ceil(W / 8)  |  ranks[b] = ones in words[0, 8b):
//   |                                |  one entry per 512-bit block, then m
//   +--------------------------------+  8(W + B + 1)
//   | ones_at[m / 4096 + 2]          |  block holding one number 4096 s;
//   |                                |  B where there is no such one
//   +--------------------------------+
//   | zeros_at[(n - m) / 4096 + 2]   |  the same for zeros
//   +--------------------------------+
//
// rank costs one directory load and at most 8 popcounts; select a binary
// search over the blocks between two samples, then at most 8 popcounts.
// The directory costs 12.5% of the bits plus a word per 4096 ones or zeros.
//
// Hostile images: a view never reads outside the image_bytes() it was given
// whatever the directory holds; a directory that lies gives wrong answers
// (positions are clamped to [0, n]), and check() finds it.

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#if defined(__BMI2__)
#include <immintrin.h>
#endif

#include <memkv/detail/assert.hpp>
#include <memkv/detail/io/endian.hpp>
#include <memkv/detail/popcount.hpp>

namespace memkv::detail::succinct {

inline constexpr std::uint64_t words_per_block = 8;
inline constexpr std::uint64_t select_sample = 4096;

// select_in_byte[b << 3 | r]: the position of the (r+1)-th one of byte b
// (8 where b has fewer ones).
inline constexpr auto select_in_byte = [] {
    std::array<unsigned char, 256 * 8> t{};
    for (unsigned b = 0; b < 256; ++b)
        for (unsigned r = 0; r < 8; ++r) {
            unsigned seen = 0, at = 8;
            for (unsigned i = 0; i < 8; ++i)
                if (((b >> i) & 1) != 0 && seen++ == r) { at = i; break; }
            t[b << 3 | r] = static_cast<unsigned char>(at);
        }
    return t;
}();

// Position of the r-th set bit of w (r < popcount(w)), 0-based.
inline unsigned select_in_word(std::uint64_t w, unsigned r) noexcept {
    MEMKV_ASSERT(r < static_cast<unsigned>(std::popcount(w)));
#if defined(__BMI2__)
    return static_cast<unsigned>(std::countr_zero(_pdep_u64(std::uint64_t{1} << r, w)));
#else
    // The byte that holds it, from the bytes' running counts (one multiply:
    // byte i of `sums` counts the ones in bytes 0..i, at most 64), then the
    // one inside the byte from a 2 KiB table. Clearing the ones below it one
    // by one took r steps (3% of a version 3 lookup's instructions on the
    // URL set), and a loop over the byte's ones mispredicted its exit.
    std::uint64_t s = w - ((w >> 1) & 0x5555555555555555ULL);
    s = (s & 0x3333333333333333ULL) + ((s >> 2) & 0x3333333333333333ULL);
    s = (s + (s >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
    const std::uint64_t sums = s * 0x0101010101010101ULL;
    // Bit 7 of byte i set where sums_i > r (no borrow crosses a byte: each is >= 128 before the subtraction).
    const std::uint64_t above = ((sums | 0x8080808080808080ULL) - (std::uint64_t{r} + 1) * 0x0101010101010101ULL) &
                                0x8080808080808080ULL;
    const auto shift = static_cast<unsigned>(std::countr_zero(above)) & ~7u;  // 8 * the byte's index
    const auto before = static_cast<unsigned>(((sums << 8) >> shift) & 0xFF);
    return shift + select_in_byte[((w >> shift) & 0xFF) << 3 | (r - before)];
#endif
}

struct bit_vector_geometry {
    std::uint64_t bits = 0;
    std::uint64_t ones = 0;

    std::uint64_t words() const noexcept { return (bits + 63) / 64; }
    std::uint64_t blocks() const noexcept { return (words() + words_per_block - 1) / words_per_block; }
    std::uint64_t zeros() const noexcept { return bits - ones; }
    std::uint64_t ranks_at() const noexcept { return 8 * words(); }
    std::uint64_t ones_at() const noexcept { return ranks_at() + 8 * (blocks() + 1); }
    // Samples: one per 4096 ones (zeros), and one past the last, which
    // bounds the search for the last ones (zeros).
    std::uint64_t one_samples() const noexcept { return ones / select_sample + 2; }
    std::uint64_t zero_samples() const noexcept { return zeros() / select_sample + 2; }
    std::uint64_t zeros_at() const noexcept { return ones_at() + 8 * one_samples(); }
    std::uint64_t image_bytes() const noexcept { return zeros_at() + 8 * zero_samples(); }
};

// Appends bits, then writes the image.
class bit_vector_builder {
public:
    void push_back(bool b) {
        if (bits_ % 64 == 0) words_.push_back(0);
        if (b) {
            words_.back() |= std::uint64_t{1} << (bits_ % 64);
            ++ones_;
        }
        ++bits_;
    }
    // The low `width` bits of v, least significant first (width <= 64).
    void append(std::uint64_t v, unsigned width) {
        MEMKV_ASSERT(width <= 64);
        if (width < 64) v &= (std::uint64_t{1} << width) - 1;
        if (width == 0) return;
        const unsigned used = static_cast<unsigned>(bits_ % 64);
        if (used == 0) words_.push_back(0);
        words_.back() |= v << used;
        if (used + width > 64) words_.push_back(v >> (64 - used));
        bits_ += width;
        ones_ += std::uint64_t{popcount64(v)};
    }
    // n copies of b.
    void append_run(bool b, std::uint64_t n) {
        for (; n >= 64; n -= 64) append(b ? ~std::uint64_t{0} : 0, 64);
        if (n > 0) append(b ? ~std::uint64_t{0} : 0, static_cast<unsigned>(n));
    }

    std::uint64_t size() const noexcept { return bits_; }
    std::uint64_t ones() const noexcept { return ones_; }
    bit_vector_geometry geometry() const noexcept { return {bits_, ones_}; }

    // Appends the image (geometry().image_bytes() bytes) to out.
    void write(std::vector<unsigned char>& out) const {
        const bit_vector_geometry g = geometry();
        const std::size_t start = out.size();
        out.resize(start + static_cast<std::size_t>(g.image_bytes()));
        unsigned char* p = out.data() + start;
        for (std::uint64_t w = 0; w < g.words(); ++w) store_le(p + 8 * w, words_[w], 8);
        std::uint64_t rank = 0;
        std::uint64_t zero_rank = 0;
        std::uint64_t next_one = 0;
        std::uint64_t next_zero = 0;
        unsigned char* ranks = p + g.ranks_at();
        unsigned char* ones_at = p + g.ones_at();
        unsigned char* zeros_at = p + g.zeros_at();
        for (std::uint64_t b = 0; b < g.blocks(); ++b) {
            store_le(ranks + 8 * b, rank, 8);
            std::uint64_t block_ones = 0;
            const std::uint64_t end = std::min(g.words(), (b + 1) * words_per_block);
            for (std::uint64_t w = b * words_per_block; w < end; ++w)
                block_ones += std::uint64_t{popcount64(words_[w])};
            const std::uint64_t block_bits = std::min(g.bits, (b + 1) * 512) - b * 512;
            const std::uint64_t block_zeros = block_bits - block_ones;
            // Samples: the block holding one number next_one, while it falls here.
            for (; next_one < rank + block_ones; next_one += select_sample)
                store_le(ones_at + 8 * (next_one / select_sample), b, 8);
            for (; next_zero < zero_rank + block_zeros; next_zero += select_sample)
                store_le(zeros_at + 8 * (next_zero / select_sample), b, 8);
            rank += block_ones;
            zero_rank += block_zeros;
        }
        store_le(ranks + 8 * g.blocks(), rank, 8);
        // Samples of ones (zeros) that do not exist: past the last block.
        for (; next_one / select_sample < g.one_samples(); next_one += select_sample)
            store_le(ones_at + 8 * (next_one / select_sample), g.blocks(), 8);
        for (; next_zero / select_sample < g.zero_samples(); next_zero += select_sample)
            store_le(zeros_at + 8 * (next_zero / select_sample), g.blocks(), 8);
    }

private:
    std::vector<std::uint64_t> words_;
    std::uint64_t bits_ = 0;
    std::uint64_t ones_ = 0;
};

// Queries over an image of geometry g (the caller checked that
// g.image_bytes() bytes are readable at p).
class bit_vector_view {
public:
    bit_vector_view() = default;
    bit_vector_view(const unsigned char* p, bit_vector_geometry g) noexcept : p_(p), g_(g) {}

    std::uint64_t size() const noexcept { return g_.bits; }
    std::uint64_t ones() const noexcept { return g_.ones; }
    std::uint64_t zeros() const noexcept { return g_.zeros(); }

    bool operator[](std::uint64_t i) const noexcept {
        MEMKV_ASSERT(i < g_.bits);
        return ((word(i / 64) >> (i % 64)) & 1) != 0;
    }
    // The `width` bits from position i (i + width <= size(), width <= 64).
    std::uint64_t bits(std::uint64_t i, unsigned width) const noexcept {
        MEMKV_ASSERT(width <= 64 && i + width <= g_.bits);
        if (width == 0) return 0;
        const unsigned off = static_cast<unsigned>(i % 64);
        std::uint64_t v = word(i / 64) >> off;
        if (off + width > 64) v |= word(i / 64 + 1) << (64 - off);
        return width == 64 ? v : v & ((std::uint64_t{1} << width) - 1);
    }

    // Ones in [0, i), i <= size().
    std::uint64_t rank1(std::uint64_t i) const noexcept {
        MEMKV_ASSERT(i <= g_.bits);
        if (i >= g_.bits) return g_.ones;
        const std::uint64_t w = i / 64;
        const std::uint64_t b = w / words_per_block;
        std::uint64_t r = rank_entry(b);
        for (std::uint64_t k = b * words_per_block; k < w; ++k) r += std::uint64_t{popcount64(word(k))};
        const unsigned off = static_cast<unsigned>(i % 64);
        if (off != 0) r += std::uint64_t{popcount64(word(w) << (64 - off))};
        return r;
    }
    std::uint64_t rank0(std::uint64_t i) const noexcept { return i - rank1(i); }

    // Position of one number k (0-based), or size() if k >= ones().
    std::uint64_t select1(std::uint64_t k) const noexcept { return select<true>(k); }
    // Position of zero number k (0-based), or size() if k >= zeros().
    std::uint64_t select0(std::uint64_t k) const noexcept { return select<false>(k); }

    // Rebuilds the image from the words: true if the directory and samples
    // are what bit_vector_builder writes for these bits (and no bit past
    // size() is set). O(size()) time and a copy of the image.
    bool check() const {
        if (g_.ones > g_.bits) return false;
        bit_vector_builder b;
        for (std::uint64_t w = 0; w < g_.words(); ++w) {
            const std::uint64_t left = g_.bits - 64 * w;
            b.append(word(w), left >= 64 ? 64U : static_cast<unsigned>(left));
        }
        if (b.ones() != g_.ones) return false;
        std::vector<unsigned char> image;
        b.write(image);
        return image.size() == g_.image_bytes() && std::equal(image.begin(), image.end(), p_);
    }

private:
    std::uint64_t word(std::uint64_t w) const noexcept { return load_le64(p_ + 8 * w); }
    std::uint64_t rank_entry(std::uint64_t b) const noexcept { return load_le64(p_ + g_.ranks_at() + 8 * b); }
    // Ones (or zeros) before block b.
    template <bool One>
    std::uint64_t before(std::uint64_t b) const noexcept {
        const std::uint64_t r = rank_entry(b);
        return One ? r : std::min(b * 512, g_.bits) - std::min(r, b * 512);
    }
    template <bool One>
    std::uint64_t sample(std::uint64_t s) const noexcept {
        const std::uint64_t at = One ? g_.ones_at() : g_.zeros_at();
        return std::min(load_le64(p_ + at + 8 * s), g_.blocks());
    }

    template <bool One>
    std::uint64_t select(std::uint64_t k) const noexcept {
        const std::uint64_t count = One ? g_.ones : g_.zeros();
        if (k >= count) return g_.bits;
        // The last block b in [lo, hi] with before(b) <= k holds it.
        std::uint64_t lo = sample<One>(k / select_sample);
        std::uint64_t hi = sample<One>(k / select_sample + 1);
        if (hi >= g_.blocks()) hi = g_.blocks() - 1;
        if (lo > hi) lo = hi;
        while (lo < hi) {
            const std::uint64_t mid = lo + (hi - lo + 1) / 2;
            if (before<One>(mid) <= k) lo = mid; else hi = mid - 1;
        }
        std::uint64_t r = before<One>(lo);
        if (r > k) return g_.bits;  // a directory that lies
        const std::uint64_t end = std::min(g_.words(), (lo + 1) * words_per_block);
        for (std::uint64_t w = lo * words_per_block; w < end; ++w) {
            std::uint64_t x = word(w);
            if (!One) {
                x = ~x;
                if (w + 1 == g_.words() && g_.bits % 64 != 0) x &= (std::uint64_t{1} << (g_.bits % 64)) - 1;
            }
            const auto c = std::uint64_t{popcount64(x)};
            if (r + c > k) return std::min(g_.bits, 64 * w + select_in_word(x, static_cast<unsigned>(k - r)));
            r += c;
        }
        return g_.bits;
    }
    const unsigned char* p_ = nullptr;
    bit_vector_geometry g_{};
};

}  // namespace memkv::detail::succinct
