#pragma once

// A blocked Bloom filter over a run's keys (memkv::detail): lets a lookup of
// a key that a run does not hold - every miss, and the first insert of every
// new key - skip that run without walking its automaton.
//
//   bits: blocks of 512 bits (one cache line); a key sets `probes` bits in
//   the one block its hash picks, so a query touches one line.
//
// 14 bits per key and 7 probes: ~0.19% false positives (a blocked filter pays
// a little over a plain one for touching one line). Every new key probes
// every run's filter and walks each run that answers yes: with 10 bits (~1%)
// and 18 runs those walks took a fifth of the inserting thread's time at
// 10^8 keys (bench/RESULTS.md, eighth session). The small layers - sealed
// deltas and the flushes' level-0 runs, many of the filters a key meets but
// few of the keys - get 18 bits (~0.05%): a walk costs the same whatever
// the run's size, so bits buy the most where they cover the fewest keys
// (the argument of Monkey, Dayan et al., SIGMOD 2017). The probe count is
// part of the file format; the size per key is not (a file records its
// blocks).
// Built while the run is written (the key count is bounded by the run's
// inputs) and kept in anonymous memory. A checkpoint saves it beside the
// run's files, so that open() reads 1.75-2.25 bytes per key instead of walking
// every key of the run (at 10^8 keys that walk took most of a 45 s open()).
//
// Filter file (version 2), all integers little-endian:
//
//   offset  size        field
//   0       8           magic "MKVBLOOM"
//   8       4           version (2: hybrid_key_hash, 512-bit blocks, 7 probes at
//                       9-bit slices of the hash; version 1 files, whose probes
//                       stepped by double hashing, are refused and rebuilt)
//   12      4           reserved (0)
//   16      8           blocks
//   24      8           the run's fingerprint (hybrid_run_fingerprint): a filter
//                       file renamed onto another run is not taken for its own
//   32      4           CRC-32C of the words
//   36      4           CRC-32C of bytes 0..35
//   40      64 x blocks the words, 8 per block
//
// A filter that says "absent" for a key its run holds would make lookups
// wrong, so open() takes a file only when all of it checks out (else it
// rebuilds the filter from the keys), and HybridKV::verify() checks every
// key of every run against its filter.

#include <memkv/detail/io/crc32c.hpp>
#include <memkv/detail/io/endian.hpp>
#include <memkv/detail/io/file.hpp>
#include <memkv/detail/io/file_kind.hpp>
#include <memkv/detail/huge_pages.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
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
    static constexpr std::size_t bits_per_key = 14;
    static constexpr std::size_t small_bits_per_key = 18;

    // Sized for at most `keys` keys, `bits` per key.
    explicit hybrid_filter(std::size_t keys, std::size_t bits = bits_per_key) {
        const std::size_t blocks = blocks_for(keys, bits);
        words_ = huge_array<std::uint64_t>(blocks * 8);  // zero-filled
        blocks_ = blocks;
    }

    // The probes' bit positions in the block are 9-bit slices of the hash
    // (bits 0..62): independent positions. Version 1 stepped through the
    // block by double hashing (x, x + s, x + 2s, ...), whose correlated
    // positions gave 0.31% false positives at 14 bits and 0.13% at 18 on
    // URL-like keys, against 0.19% and 0.055% now - the rates of a blocked
    // filter with independent probes (bench/RESULTS.md, thirteenth session).
    void add(std::uint64_t h) noexcept {
        std::uint64_t* b = block(h);
        for (unsigned i = 0; i < probes; ++i, h >>= 9) b[(h >> 6) & 7] |= std::uint64_t{1} << (h & 63);
    }

    bool may_contain(std::uint64_t h) const noexcept {
        const std::uint64_t* b = block(h);
        for (unsigned i = 0; i < probes; ++i, h >>= 9) {
            if ((b[(h >> 6) & 7] & (std::uint64_t{1} << (h & 63))) == 0) return false;
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

    // The same for add(): the writer that will set bits in `h`'s block asks
    // for it with the other filters' blocks, before its descent.
    void prefetch_for_add(std::uint64_t h) const noexcept {
#if defined(__GNUC__) || defined(__clang__)
        __builtin_prefetch(block(h), 1);
#else
        (void)h;
#endif
    }

    std::size_t memory_usage() const noexcept { return sizeof(*this) + words_.memory_usage(); }
    std::size_t blocks() const noexcept { return static_cast<std::size_t>(blocks_); }
    // The bits, 8 words per block (tests compare filters filled two ways).
    std::span<const std::uint64_t> words() const noexcept { return {words_.data(), words_.size()}; }

    // A 22-bit key that orders hashes as their blocks do (the top bits of
    // the remix block() scales): sorting by it turns the adds of a batch
    // into one forward sweep (hybrid_filter_batch). Exact for filters of
    // up to 2^22 blocks (256 MiB); beyond, hashes of neighbouring blocks
    // may come in either order - the same lines, the same bits.
    static std::uint32_t block_order(std::uint64_t h) noexcept {
        return static_cast<std::uint32_t>((h * remix) >> (64 - block_order_bits));
    }
    static constexpr unsigned block_order_bits = 22;
    // The blocks a filter for `keys` keys at `bits` per key gets.
    static std::size_t blocks_for(std::size_t keys, std::size_t bits) noexcept {
        return std::max<std::size_t>(1, (keys * bits + 511) / 512);
    }

    static constexpr std::uint32_t file_version = 2;
    static constexpr std::size_t file_header_size = 40;

    // Writes the filter file to `path` (created or truncated) and fsyncs it.
    void save(const std::string& path, std::uint64_t fingerprint) const {
        unsigned char chunk[1 << 12];
        std::uint32_t crc = 0;
        for_each_chunk(chunk, [&](std::size_t n) { crc = crc32c_update(crc, chunk, n); });
        unsigned char h[file_header_size] = {};
        std::memcpy(h, filter_magic_bytes, 8);
        store_le(h + 8, file_version, 4);
        store_le(h + 16, blocks_, 8);
        store_le(h + 24, fingerprint, 8);
        store_le(h + 32, crc, 4);
        store_le(h + 36, crc32c(h, 36), 4);
        file_writer w(path);
        w.write(h, sizeof h);
        for_each_chunk(chunk, [&](std::size_t n) { w.write(chunk, n); });
        w.close();
    }

    // The filter saved at `path` for the run with `fingerprint`, or null when
    // there is no such file or it is not exactly that: short, foreign,
    // another version, another run's, or its words' checksum fails (always
    // checked: every word is read anyway, and the CRC costs little beside
    // the read). Errors reading it count as "no file" (the caller rebuilds
    // the filter from the run); std::bad_alloc propagates.
    static std::unique_ptr<hybrid_filter> load(const std::string& path, std::uint64_t fingerprint) {
        try {
            file_reader r(path, true);
            if (!r.exists() || !r.is_regular()) return nullptr;
            unsigned char h[file_header_size];
            if (r.read(h, sizeof h) != sizeof h || std::memcmp(h, filter_magic_bytes, 8) != 0 ||
                load_le(h + 36, 4) != crc32c(h, 36) || load_le(h + 8, 4) != file_version ||
                load_le(h + 24, 8) != fingerprint) {
                return nullptr;
            }
            const std::uint64_t blocks = load_le(h + 16, 8);
            // Bounded by the file's length before anything is allocated.
            if (blocks == 0 || blocks >= (std::uint64_t{1} << 32) || r.size() != file_header_size + 64 * blocks) {
                return nullptr;
            }
            auto f = std::unique_ptr<hybrid_filter>(new hybrid_filter());
            f->blocks_ = blocks;
            f->words_ = huge_array<std::uint64_t>(static_cast<std::size_t>(blocks) * 8);
            unsigned char chunk[1 << 12];
            std::uint32_t crc = 0;
            for (std::size_t at = 0; at < f->words_.size();) {
                const std::size_t words = std::min(sizeof chunk / 8, f->words_.size() - at);
                if (r.read(chunk, words * 8) != words * 8) return nullptr;
                crc = crc32c_update(crc, chunk, words * 8);
                for (std::size_t i = 0; i < words; ++i) f->words_[at + i] = load_le(chunk + 8 * i, 8);
                at += words;
            }
            if (crc != load_le(h + 32, 4)) return nullptr;
            return f;
        } catch (const io_error&) {
            return nullptr;
        }
    }

private:
    hybrid_filter() = default;

    // Calls emit(n) with the words in little-endian order, n bytes at a
    // time in `chunk`.
    template <class Emit>
    void for_each_chunk(unsigned char (&chunk)[1 << 12], Emit&& emit) const {
        for (std::size_t at = 0; at < words_.size();) {
            const std::size_t words = std::min(sizeof chunk / 8, words_.size() - at);
            for (std::size_t i = 0; i < words; ++i) store_le(chunk + 8 * i, words_[at + i], 8);
            emit(words * 8);
            at += words;
        }
    }

    // The block: 32 bits of a remixed hash scaled to [0, blocks) (Lemire's
    // multiply-shift reduction; blocks < 2^32, a 256 GiB filter).
    static constexpr std::uint64_t remix = 0xD6E8FEB86659FD93ULL;
    std::uint64_t* block(std::uint64_t h) noexcept {
        const std::uint64_t g = (h * remix) >> 32;
        return words_.data() + 8 * static_cast<std::size_t>((g * blocks_) >> 32);
    }
    const std::uint64_t* block(std::uint64_t h) const noexcept {
        return const_cast<hybrid_filter*>(this)->block(h);
    }

    // In huge pages when big: every insert of a new key and every miss
    // probes one block of every run's filter, at random, and with 4 KiB
    // pages nearly each of those probes also missed the TLB (at 10^9 keys
    // the filters hold 1.25 GB).
    huge_array<std::uint64_t> words_;
    std::uint64_t blocks_ = 1;
};

// Fills a filter a few keys late: each add() starts loading its block and
// sets the bits of the hash queued `lag` adds before, so the block's cache
// miss (a random block of a filter far bigger than the caches) overlaps the
// work that produces the next keys - a merge or a walk. finish() adds what is
// still queued.
class hybrid_filter_feeder {
public:
    explicit hybrid_filter_feeder(hybrid_filter& f) noexcept : f_(&f) {}
    hybrid_filter_feeder(const hybrid_filter_feeder&) = delete;
    hybrid_filter_feeder& operator=(const hybrid_filter_feeder&) = delete;
    ~hybrid_filter_feeder() { finish(); }

    void add(std::uint64_t h) noexcept {
        f_->prefetch(h);
        std::uint64_t& slot = queue_[n_ % lag];
        if (n_ >= lag) f_->add(slot);
        slot = h;
        ++n_;
    }
    void finish() noexcept {
        for (std::size_t i = n_ > lag ? n_ - lag : 0; i < n_; ++i) f_->add(queue_[i % lag]);
        n_ = 0;
    }

private:
    static constexpr std::size_t lag = 16;
    hybrid_filter* f_;
    std::uint64_t queue_[lag];
    std::size_t n_ = 0;
};

// Fills a filter the way its size calls for. Over big_filter_bytes (a
// filter well beyond the caches) it buffers the hashes, sorts each batch by
// block (hybrid_filter::block_order; an LSD radix sort of two 11-bit digits,
// both counted in one read) and sets them in one forward sweep: a batch of
// about one hash per block then costs a sequential pass over the filter
// instead of a random line and, past the TLB's reach, a page walk per hash,
// whatever else the filling thread's work does to the caches (alone on the
// machine the feeder hides most of that: a 68 MB filter took 16-19 against
// 18-23 ns per hash; bench/RESULTS.md, sixteenth session). A smaller filter
// stays in the caches and is fed a few hashes late (hybrid_filter_feeder)
// without a buffer. The bits are the same
// either way. The constructor allocates the buffer (std::bad_alloc);
// add() and finish() do not throw.
class hybrid_filter_batch {
public:
    static constexpr std::size_t big_filter_bytes = std::size_t{1} << 20;

    explicit hybrid_filter_batch(hybrid_filter& f) : f_(&f), feed_(f) {
        if (f.blocks() * 64 > big_filter_bytes) {
            // About one hash per block and at most 8 MiB per buffer (two:
            // the sort's source and destination), at least 512 KiB.
            cap_ = std::clamp<std::size_t>(f.blocks(), std::size_t{1} << 16, std::size_t{1} << 20);
            buf_.reset(new std::uint64_t[2 * cap_]);
        }
    }
    hybrid_filter_batch(const hybrid_filter_batch&) = delete;
    hybrid_filter_batch& operator=(const hybrid_filter_batch&) = delete;
    ~hybrid_filter_batch() { finish(); }

    void add(std::uint64_t h) noexcept {
        if (cap_ == 0) {
            feed_.add(h);
            return;
        }
        buf_[n_++] = h;
        if (n_ == cap_) apply();
    }
    // Sets the bits of everything added so far.
    void finish() noexcept {
        if (cap_ == 0) {
            feed_.finish();
        } else {
            apply();
        }
    }

    // Forgets the buffered batch of a big filter about to be thrown away
    // (an abandoned build should not sort and sweep it first).
    void drop() noexcept { n_ = 0; }

private:
    static constexpr unsigned digit_bits = hybrid_filter::block_order_bits / 2;
    static constexpr std::size_t radix = std::size_t{1} << digit_bits;
    static_assert(2 * digit_bits == hybrid_filter::block_order_bits);

    void apply() noexcept {
        std::uint64_t* const a = buf_.get();
        std::uint64_t* const b = a + cap_;
        std::uint32_t count[2][radix] = {};
        for (std::size_t i = 0; i < n_; ++i) {
            const std::uint32_t k = hybrid_filter::block_order(a[i]);
            ++count[0][k & (radix - 1)];
            ++count[1][k >> digit_bits];
        }
        for (auto& c : count) {
            std::uint32_t sum = 0;
            for (std::uint32_t& x : c) sum += std::exchange(x, sum);
        }
        for (std::size_t i = 0; i < n_; ++i) b[count[0][hybrid_filter::block_order(a[i]) & (radix - 1)]++] = a[i];
        for (std::size_t i = 0; i < n_; ++i) a[count[1][hybrid_filter::block_order(b[i]) >> digit_bits]++] = b[i];
        constexpr std::size_t ahead = 16;
        for (std::size_t i = 0; i < n_; ++i) {
            if (i + ahead < n_) f_->prefetch_for_add(a[i + ahead]);
            f_->add(a[i]);
        }
        n_ = 0;
    }

    hybrid_filter* f_;
    hybrid_filter_feeder feed_;
    std::unique_ptr<std::uint64_t[]> buf_;
    std::size_t cap_ = 0;  // 0: fed directly
    std::size_t n_ = 0;
};

}  // namespace memkv::detail
