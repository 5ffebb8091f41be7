#pragma once

// FrozenLayer's value column: a fixed-width bit-packed integer column.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <memkv/detail/io/endian.hpp>

namespace memkv::detail {

// A column of n integers of `bits` bits each (0..64), packed LSB-first.
// Widths 57..63 are stored as 64 so that any element is one unaligned 8-byte
// load; the column carries 8 bytes of zero padding so that load never runs
// past the end.
//
//   byte:  0        1        2            (bits = 5)
//          [11122222][23333344][44455555]...
//           ^ LSB of element 0 is bit 0 of byte 0
struct packed_column {
    static unsigned storage_bits(unsigned bits) noexcept { return bits > 56 ? 64 : bits; }
    static std::uint64_t byte_size(std::uint64_t n, unsigned bits) noexcept {
        const unsigned b = storage_bits(bits);
        if (b == 0) return 0;
        return (n * b + 7) / 8 + 8;
    }
    // p points at a column of at least byte_size(i + 1, bits) bytes.
    static std::uint64_t get(const unsigned char* p, std::uint64_t i, unsigned bits) noexcept {
        const unsigned b = storage_bits(bits);
        if (b == 0) return 0;
        if (b == 64) return load_u64_unaligned(p + i * 8);
        const std::uint64_t bit = i * b;
        const std::uint64_t w = load_u64_unaligned(p + bit / 8);
        return (w >> (bit % 8)) & ((std::uint64_t{1} << b) - 1);
    }
};

// Streams elements into a packed column through a sink callable
// sink(const unsigned char*, size_t); finish() writes the tail and padding.
template <class Sink>
class packed_writer {
public:
    packed_writer(unsigned bits, Sink& sink) : bits_(packed_column::storage_bits(bits)), sink_(sink) {}
    void push(std::uint64_t v) {
        if (bits_ == 0) return;
        if (bits_ == 64) {
            unsigned char b[8];
            store_le(b, v, 8);
            sink_(b, 8);
            return;
        }
        acc_ |= v << fill_;
        const unsigned room = 64 - fill_;
        if (bits_ >= room) {
            emit(acc_, 8);
            acc_ = room == 64 ? 0 : v >> room;
            fill_ = bits_ - room;
        } else {
            fill_ += bits_;
        }
    }
    void finish() {
        if (bits_ == 0) return;
        if (fill_ > 0) emit(acc_, (fill_ + 7) / 8);
        unsigned char zero[8] = {};
        sink_(zero, 8);
    }

private:
    void emit(std::uint64_t v, unsigned nbytes) {
        unsigned char b[8];
        store_le(b, v, 8);
        sink_(b, nbytes);
    }
    unsigned bits_;
    Sink& sink_;
    std::uint64_t acc_ = 0;
    unsigned fill_ = 0;
};

}  // namespace memkv::detail
