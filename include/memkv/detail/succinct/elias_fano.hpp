#pragma once

// Elias-Fano coding of a non-decreasing integer sequence, as one flat image
// queried in place (FrozenLayer v2 keeps the offsets of its link strings
// this way: 2 + log2(average gap) bits each).
//
// n values below u are split into low = v mod 2^l, l = floor(log2(u / n))
// (0 when u <= n), and high = v >> l. The lows are a packed column; the
// highs are unary gaps in a bit vector of n + (u >> l) + 1 bits: value i's
// one sits at position high_i + i.
//
//   +---------------------------------------------+  0
//   | lows: packed_column, n x l bits (+8 pad)    |
//   +---------------------------------------------+  low_bytes()
//   | highs: bit_vector image                     |
//   +---------------------------------------------+
//
// get(i) = ((highs.select1(i) - i) << l) | low_i.

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <memkv/detail/assert.hpp>
#include <memkv/detail/frozen/packed_column.hpp>
#include <memkv/detail/succinct/bit_vector.hpp>

namespace memkv::detail::succinct {

struct elias_fano_geometry {
    std::uint64_t n = 0;
    unsigned low_bits = 0;
    std::uint64_t high_bits = 0;  // the high bit vector's length

    // For n values below u.
    static elias_fano_geometry for_values(std::uint64_t n, std::uint64_t u) noexcept {
        elias_fano_geometry g;
        g.n = n;
        g.low_bits = n > 0 && u > n ? static_cast<unsigned>(std::bit_width(u / n) - 1) : 0;
        g.high_bits = n + (u >> g.low_bits) + 1;
        return g;
    }
    std::uint64_t low_bytes() const noexcept { return packed_column::byte_size(n, low_bits); }
    bit_vector_geometry high() const noexcept { return {high_bits, n}; }
    std::uint64_t image_bytes() const noexcept { return low_bytes() + high().image_bytes(); }
};

class elias_fano_builder {
public:
    // n values, each below u, will follow in non-decreasing order.
    elias_fano_builder(std::uint64_t n, std::uint64_t u)
        : g_(elias_fano_geometry::for_values(n, u)), u_(u), lows_(g_.low_bits, sink_) {}
    elias_fano_builder(const elias_fano_builder&) = delete;
    elias_fano_builder& operator=(const elias_fano_builder&) = delete;

    void push_back(std::uint64_t v) {
        MEMKV_ASSERT(pushed_ < g_.n && v < std::max<std::uint64_t>(u_, 1) && v >= last_);
        const std::uint64_t high = v >> g_.low_bits;
        highs_.append_run(false, high - zeros_);
        zeros_ = high;
        highs_.push_back(true);
        lows_.push(v & ((std::uint64_t{1} << g_.low_bits) - 1));  // low_bits <= 63
        last_ = v;
        ++pushed_;
    }

    elias_fano_geometry geometry() const noexcept { return g_; }

    // Appends the image (geometry().image_bytes() bytes) to out; all n values
    // must have been pushed.
    // Once only.
    void write(std::vector<unsigned char>& out) {
        MEMKV_ASSERT(pushed_ == g_.n);
        lows_.finish();
        out.insert(out.end(), sink_.bytes.begin(), sink_.bytes.end());
        highs_.append_run(false, g_.high_bits - highs_.size());
        highs_.write(out);
    }

private:
    struct byte_sink {
        std::vector<unsigned char> bytes;
        void operator()(const unsigned char* p, std::size_t k) { bytes.insert(bytes.end(), p, p + k); }
    };
    elias_fano_geometry g_;
    std::uint64_t u_;
    byte_sink sink_;
    packed_writer<byte_sink> lows_;
    std::uint64_t pushed_ = 0;
    std::uint64_t zeros_ = 0;
    std::uint64_t last_ = 0;
    bit_vector_builder highs_;
};

class elias_fano_view {
public:
    elias_fano_view() = default;
    // The caller checked that g.image_bytes() bytes are readable at p.
    elias_fano_view(const unsigned char* p, elias_fano_geometry g) noexcept
        : lows_(p), g_(g), highs_(p + g.low_bytes(), g.high()) {}

    std::uint64_t size() const noexcept { return g_.n; }

    // Value i (i < size()). A corrupt image gives some value, never a read
    // outside it.
    std::uint64_t operator[](std::uint64_t i) const noexcept {
        MEMKV_ASSERT(i < g_.n);
        const std::uint64_t pos = highs_.select1(i);
        const std::uint64_t high = pos >= i ? pos - i : 0;
        return high << g_.low_bits | packed_column::get(lows_, i, g_.low_bits);
    }

    bool check() const { return highs_.check(); }

private:
    const unsigned char* lows_ = nullptr;
    elias_fano_geometry g_{};
    bit_vector_view highs_;
};

}  // namespace memkv::detail::succinct
