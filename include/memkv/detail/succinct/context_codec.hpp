#pragma once

// An order-2 byte coder for short strings: each byte is coded with a
// canonical Huffman code chosen by the two bytes before it. FrozenLayer v2
// codes its link strings (edge labels past their first byte, and tails) with
// it: a lookup knows a link's first context for free (the key's bytes just
// before the link), and on the URL set, words, names and paths the links take
// 0.77-0.82x the bytes of the FSST-like symbol table's codes
// (symbol_codec.hpp; bench/RESULTS.md, thirty-fourth session).
//
// Contexts. The pair (before, last) of the two preceding bytes, 256 standing
// for "no byte" (a string at the start of a key), is hashed into one of
// 2^bucket_bits buckets (8-15; 4,096 by default). A bucket has its own code
// over the 256 bytes, an escape and an end symbol, or shares the fallback
// code, which codes every byte and the end. A byte its own code lacks is
// coded as the escape followed by the byte in the fallback code. Codes are
// at most 12 bits (lengths limited by halving the counts).
//
// A bucket gets its own code in training only if the bits the code saves on
// the sample pay for its tables (an encoder row of 512 bytes and a decoding
// table): with every bucket its own code, the tables of 1,024 buckets cost
// 2.6 bytes a key on words.txt and 6.2 on uuid.txt (whose hex digits no
// context predicts). A shared bucket costs 2 bytes in the table and 2 in
// memory, so buckets are many: 4,096 code the URL set's links 2.7% smaller
// than 1,024, the paths' 4% (bench/RESULTS.md, thirty-seventh session).
// Buckets too rare to pay for a code alone are grouped by the byte their
// contexts mostly end in, and a group whose code pays shares it: an order-1
// code between the order-2 ones and the order-0 fallback, at no cost to a
// lookup (the bucket's row points at the group's code).
//
// With `ends`, a string is followed by the end symbol, so a reader needs no
// length; without, the caller keeps each string's bit range.
//
// Bit stream: most significant bit first (bit i of the stream is bit 7 - i % 8
// of byte i / 8); a code's first bit comes first.
//
// Serialized table (context_code::bytes() bytes; integers little-endian):
//
//   +---------+-----------------------------------------------------------+
//   | flags   | bit 0: strings end with the end symbol; bits 1-3:         |
//   | (u8)    | bucket_bits - 8; other bits zero                          |
//   +---------+-----------------------------------------------------------+
//   | 2^bucket_bits + 1 codes: the buckets, then the fallback, each       |
//   |   count m (u16), then m entries (u16): symbol (bits 0-8: a byte,    |
//   |   256 escape, 257 end) | length << 9 (1..12); a bucket with m = 0   |
//   |   shares the fallback; one with m = 0x8000 | j (no entries) shares   |
//   |   the code of bucket j < itself, which has one (or names one)       |
//   +---------------------------------------------------------------------+
//
// A code is valid if its symbols are distinct and below 258, its lengths
// 1..12 and its Kraft sum at most 1 (an incomplete code leaves bit patterns
// that decode to nothing: decoders reject them). The fallback holds no
// escape. The canonical codes follow from the lengths: symbols sorted by
// (length, symbol) take consecutive codes.

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <memkv/detail/assert.hpp>
#include <memkv/detail/io/endian.hpp>

namespace memkv::detail::succinct {

// The two bytes before a coded byte; 256: none (the start of a key).
struct byte_context {
    unsigned before = 256;
    unsigned last = 256;
    byte_context next(unsigned char b) const noexcept { return {last, b}; }
};

// Bits written most significant first.
class bit_writer {
public:
    // A byte's worth of the code per step: a bit per step held a v3 trie's
    // build to 0.60 M keys/s on uuid.txt and 1.60 on the URL set, against
    // 1.38 and 2.56 (bench/RESULTS.md, thirty-sixth session).
    void append(std::uint32_t code, unsigned len) {
        MEMKV_ASSERT(len <= 32);
        while (len > 0) {
            const auto used = static_cast<unsigned>(bits_ % 8);
            if (used == 0) bytes_.push_back(0);
            const unsigned room = 8 - used;
            const unsigned take = len < room ? len : room;
            const std::uint32_t chunk = (code >> (len - take)) & ((1u << take) - 1);
            bytes_.back() |= static_cast<unsigned char>(chunk << (room - take));
            bits_ += take;
            len -= take;
        }
    }
    std::uint64_t size() const noexcept { return bits_; }
    const std::vector<unsigned char>& bytes() const noexcept { return bytes_; }
    std::vector<unsigned char>& bytes() noexcept { return bytes_; }

private:
    std::vector<unsigned char> bytes_;
    std::uint64_t bits_ = 0;
};

// A coded stream: `size` bytes at `data`. Reads never leave them.
struct bit_span {
    const unsigned char* data = nullptr;
    std::uint64_t size = 0;
    std::uint64_t bits() const noexcept { return 8 * size; }

    // The 12 bits from bit position pos (zeros past the end), first bit
    // highest.
    unsigned peek12(std::uint64_t pos) const noexcept { return static_cast<unsigned>(peek(pos, 12)); }
    // The `width` bits from pos (1..57), the same way.
    std::uint64_t peek(std::uint64_t pos, unsigned width) const noexcept {
        MEMKV_ASSERT(width >= 1 && width <= 57);
        const std::uint64_t at = pos >> 3;
        std::uint64_t w = 0;
        if (at + 8 <= size) [[likely]] {
            w = load_be64(data + at);
        } else {
            for (std::uint64_t i = 0; i < 8; ++i) w = (w << 8) | (at + i < size ? data[at + i] : 0u);
        }
        return (w << (pos & 7)) >> (64 - width);
    }
};

class context_code {
public:
    static constexpr unsigned default_bucket_bits = 12;
    static constexpr unsigned max_len = 12;
    static constexpr unsigned escape = 256;
    static constexpr unsigned end = 257;
    static constexpr unsigned alphabet = 258;
    static constexpr unsigned fast_bits = 5;

    unsigned bucket_bits() const noexcept { return bits_; }
    unsigned buckets() const noexcept { return 1u << bits_; }
    unsigned bucket_of(byte_context c) const noexcept {
        MEMKV_ASSERT(c.before <= 256 && c.last <= 256);
        return hash(c.before, c.last, bits_);
    }

    // A sample's byte counts per context bucket, each bucket's split into
    // the first and the second half of the strings (train() measures each
    // half's code on the other half), and over all buckets. fold() turns the counts at
    // bits into those at bits - 1: a bucket is the hash's top bits, so
    // buckets 2b and 2b + 1 are bucket b with one bit fewer. 32-bit counts
    // (a sample under 4 GiB) halve the table zeroed per count (17 MiB at
    // 13 bits).
    class sample_counts {
    public:
        sample_counts(std::span<const std::string_view> strings, std::span<const byte_context> contexts, bool ends,
                      unsigned bucket_bits)
            : bits_(bucket_bits),
              ends_(ends),
              halves_(std::size_t{2} << bucket_bits),
              lasts_(std::size_t{1} << bucket_bits) {
            MEMKV_ASSERT(strings.size() == contexts.size() && bucket_bits >= 8 && bucket_bits <= 15);
            [[maybe_unused]] std::uint64_t total = 0;
            const unsigned shift = 32 - bits_;
            for (std::size_t i = 0; i < strings.size(); ++i) {
                byte_context c = contexts[i];
                const std::size_t second = 2 * i >= strings.size() ? 1 : 0;
                const auto count = [&](unsigned sym) {
                    const unsigned bucket = hash_from(hash_term(c.before), c.last, shift);
                    ++halves_[2 * std::size_t{bucket} + second][sym];
                    ++all_[sym];
                    lasts_[bucket].add(c.last, 1);
                };
                for (const char ch : strings[i]) {
                    const auto b = static_cast<unsigned char>(ch);
                    count(b);
                    c = c.next(b);
                }
                if (ends) count(end);
                total += strings[i].size() + 1;
            }
            MEMKV_ASSERT(total < (std::uint64_t{1} << 32));
        }
        unsigned bucket_bits() const noexcept { return bits_; }
        // The same bytes counted in the same buckets and halves (the votes
        // for a bucket's last byte may differ: a fold merges votes, which
        // finds a majority if there is one, not always the same candidate).
        bool same_bytes(const sample_counts& o) const noexcept {
            return bits_ == o.bits_ && ends_ == o.ends_ && halves_ == o.halves_ && all_ == o.all_;
        }
        void fold() {
            MEMKV_ASSERT(bits_ > 8);
            // Bucket b's halves (2b, 2b + 1) gather 4b + {0, 2} and
            // 4b + 1 + {0, 2}: all at or after 2b, so in place.
            for (std::size_t b = 0; b < (std::size_t{1} << (bits_ - 1)); ++b)
                for (std::size_t h = 0; h < 2; ++h)
                    for (unsigned s = 0; s < alphabet; ++s)
                        halves_[2 * b + h][s] = halves_[4 * b + h][s] + halves_[4 * b + 2 + h][s];
            for (std::size_t b = 0; b < (std::size_t{1} << (bits_ - 1)); ++b) {
                majority m = lasts_[2 * b];
                m.add(lasts_[2 * b + 1].last, lasts_[2 * b + 1].lead);
                lasts_[b] = m;
            }
            --bits_;
            halves_.resize(std::size_t{2} << bits_);
            lasts_.resize(std::size_t{1} << bits_);
        }

    private:
        friend class context_code;
        // A bucket's most frequent last byte, if one is more than half its
        // bytes (a majority vote: `lead` is how far the candidate leads; two
        // votes merge the same way, so folds keep it).
        struct majority {
            std::uint16_t last = 0;
            std::uint32_t lead = 0;
            void add(unsigned l, std::uint32_t n) noexcept {
                if (l == last) {
                    lead += n;
                } else if (n > lead) {
                    last = static_cast<std::uint16_t>(l);
                    lead = n - lead;
                } else {
                    lead -= n;
                }
            }
        };
        unsigned bits_;
        bool ends_;
        std::vector<std::array<std::uint32_t, alphabet>> halves_;  // [2 * bucket + half]
        std::vector<majority> lasts_;
        std::array<std::uint64_t, alphabet> all_{};
    };

    // Trains the codes on strings[i] coded after contexts[i] (see train()
    // on counts below).
    static context_code train(std::span<const std::string_view> strings, std::span<const byte_context> contexts,
                              bool ends, unsigned bucket_bits = default_bucket_bits, std::uint64_t repeats = 1) {
        return train(sample_counts(strings, contexts, ends, bucket_bits), repeats);
    }

    // Trains the codes on a sample's counts: the fallback from all bytes,
    // each counted at least once; each bucket's own code from the counts of
    // the bytes (and ends) it saw, plus an escape, if the bits it saves over
    // the fallback, counted `repeats` times (the data the code will code, in
    // samples), pay for its tables (own_code_cost()); else the bucket shares
    // the fallback. The saving is measured on strings the code was not
    // trained on (the first half's code on the second half, and the other
    // way round): a code measured on its own sample always looks better than
    // the fallback (uuid.txt's hex digits: every bucket, though order-2
    // contexts tell nothing there). Halves, not alternate strings: a sorted
    // sample's neighbours share contexts that the keys past the sample do
    // not (the URL set's user names), so alternate strings overrate codes
    // for the keys the sample stands for (the URL set at a weight of 8:
    // 10.212 B/key with halves, 10.281 with alternate strings;
    // bench/RESULTS.md, fifty-first session). Deterministic. With sample_bits: the
    // bits the code takes for the counted sample (coded_bits() summed over
    // it), from the counts.
    static context_code train(const sample_counts& counts, std::uint64_t repeats = 1,
                              std::uint64_t* sample_bits = nullptr) {
        context_code code;
        code.bits_ = counts.bits_;
        code.ends_ = counts.ends_;
        const unsigned buckets = code.buckets();
        const auto& halves = counts.halves_;
        std::array<std::uint64_t, alphabet> all = counts.all_;
        for (unsigned s = 0; s < 256; ++s) ++all[s];
        if (code.ends_) ++all[end];
        std::array<unsigned char, alphabet> fallback{}, lens{};
        limited_lengths(all, fallback);
        code.tables_.clear();
        code.fast_.clear();
        code.rows_ = std::vector<std::uint16_t>(buckets, shared_row);  // not assign(): the default holds 2^default_bucket_bits
        const auto empty = [](const std::array<std::uint32_t, alphabet>& a) {
            return std::all_of(a.begin(), a.end(), [](std::uint32_t n) { return n == 0; });
        };
        using counts_t = std::array<std::uint64_t, alphabet>;
        // The bytes a code is weighed on, in two halves.
        counts_t h0{}, h1{};
        // Whether a code of its own pays for the bytes counted in h0 and h1:
        // each half coded with the other half's code against the fallback,
        // the saving counted `repeats` times against the tables. Sets lens to
        // the code of both halves.
        const auto pays = [&] {
            std::uint64_t own_bits = 0, fallback_bits = 0;
            counts_t own{};
            for (unsigned half = 0; half < 2; ++half) {
                own = half == 0 ? h0 : h1;
                own[escape] = 1;
                limited_lengths(own, lens);
                const counts_t& other = half == 0 ? h1 : h0;
                for (unsigned s = 0; s < alphabet; ++s) {
                    own_bits += other[s] * (lens[s] != 0 ? lens[s] : lens[escape] + fallback[s]);
                    fallback_bits += other[s] * fallback[s];
                }
            }
            for (unsigned s = 0; s < alphabet; ++s) own[s] = h0[s] + h1[s];
            own[escape] = 1;
            limited_lengths(own, lens);
            const auto m = static_cast<unsigned>(std::count_if(lens.begin(), lens.end(), [](unsigned char l) { return l != 0; }));
            return fallback_bits > own_bits && (fallback_bits - own_bits) * repeats >= 8 * own_code_cost(m);
        };
        // Counts the bits of h0 and h1 in the code of lengths lens.
        std::uint64_t bits = 0;
        const auto add_bits = [&] {
            for (unsigned s = 0; s < alphabet; ++s)
                if (s != escape) bits += (h0[s] + h1[s]) * (lens[s] != 0 ? lens[s] : lens[escape] + fallback[s]);
        };
        // Buckets without a code of their own, by their most frequent last byte.
        std::vector<std::pair<std::uint16_t, std::uint32_t>> shared;
        for (unsigned b = 0; b < buckets; ++b) {
            // A bucket the sample never reached shares: no Huffman codes to build.
            if (empty(halves[2 * b]) && empty(halves[2 * b + 1])) continue;
            std::copy(halves[2 * b].begin(), halves[2 * b].end(), h0.begin());
            std::copy(halves[2 * b + 1].begin(), halves[2 * b + 1].end(), h1.begin());
            if (!pays()) {
                shared.push_back({counts.lasts_[b].last, b});
                continue;
            }
            add_bits();
            code.add_own(b, lens);
        }
        // Shared buckets whose contexts end in the same byte mostly code
        // alike (an order-1 context): such a group shares a code of its own
        // where that pays, the first bucket's, which the others name.
        std::sort(shared.begin(), shared.end());
        for (std::size_t i = 0, j = 0; i < shared.size(); i = j) {
            h0.fill(0);
            h1.fill(0);
            for (j = i; j < shared.size() && shared[j].first == shared[i].first; ++j)
                for (unsigned s = 0; s < alphabet; ++s) {
                    h0[s] += halves[2 * shared[j].second][s];
                    h1[s] += halves[2 * shared[j].second + 1][s];
                }
            if (j - i > 1 && pays()) {
                add_bits();
                code.add_own(shared[i].second, lens);
                for (std::size_t k = i + 1; k < j; ++k) code.rows_[shared[k].second] = code.rows_[shared[i].second];
            } else {
                for (unsigned s = 0; s < alphabet; ++s) bits += (h0[s] + h1[s]) * fallback[s];
            }
        }
        code.add_fallback(fallback);
        code.build_encoder();
        if (sample_bits != nullptr) *sample_bits = bits;
        return code;
    }

    // The bytes a bucket's own code of m symbols costs: its encoder row and
    // decoding tables in memory, its entries in the serialized table.
    static constexpr std::size_t own_code_cost(unsigned m) noexcept {
        return 2 * (256 + 2) + sizeof(table) + (2u << fast_bits) + 3 * std::size_t{m} + 2 * std::size_t{m};
    }
    // The codes: the buckets' own, then the fallback.
    std::size_t codes() const noexcept { return tables_.size(); }

    // Reads a serialized table of `size` bytes at p; nullopt if it is not one
    // (see the layout above). A parsed code decodes; it encodes only with
    // `for_encoding` (the encoder's table: 0.5 KiB per own code).
    static std::optional<context_code> parse(const unsigned char* p, std::size_t size, bool for_encoding = false) {
        context_code code;
        if (size < 1 || (p[0] & ~0xfu) != 0) return std::nullopt;
        code.ends_ = (p[0] & 1) != 0;
        code.bits_ = 8 + ((p[0] >> 1) & 7u);
        const unsigned buckets = code.buckets();
        code.tables_.clear();
        code.fast_.clear();
        code.rows_ = std::vector<std::uint16_t>(buckets, shared_row);  // not assign(): the default holds 2^default_bucket_bits
        std::size_t at = 1;
        for (unsigned b = 0; b <= buckets; ++b) {
            if (size - at < 2) return std::nullopt;
            const auto m = static_cast<unsigned>(load_le(p + at, 2));
            at += 2;
            if (b < buckets && m == 0) continue;  // shares the fallback
            if (b < buckets && (m & shares_bucket) != 0) {
                // Names an earlier bucket with a code of its own (or naming one).
                const unsigned j = m & ~shares_bucket;
                if (j >= b || code.rows_[j] == shared_row) return std::nullopt;
                code.rows_[b] = code.rows_[j];
                continue;
            }
            if (m > alphabet || size - at < 2 * std::size_t{m}) return std::nullopt;
            std::array<unsigned char, alphabet> lens{};
            std::uint64_t kraft = 0;
            for (unsigned i = 0; i < m; ++i, at += 2) {
                const auto e = static_cast<unsigned>(load_le(p + at, 2));
                const unsigned sym = e & 0x1ff, len = e >> 9;
                if (sym >= alphabet || len < 1 || len > max_len || lens[sym] != 0) return std::nullopt;
                if (b == buckets && sym == escape) return std::nullopt;
                lens[sym] = static_cast<unsigned char>(len);
                kraft += std::uint64_t{1} << (max_len - len);
            }
            if (kraft > (std::uint64_t{1} << max_len)) return std::nullopt;
            if (b == buckets) {
                code.add_fallback(lens);
            } else {
                code.add_own(b, lens);
            }
        }
        if (at != size) return std::nullopt;
        if (for_encoding) code.build_encoder();
        return code;
    }

    bool ends() const noexcept { return ends_; }
    // Heap bytes held: the decoding tables, the buckets' codes and, once
    // built, the encoder's (2 bytes per code and byte).
    std::size_t memory_usage() const noexcept {
        return tables_.capacity() * sizeof(table) + lengths_.capacity() +
               (symbols_.capacity() + rows_.capacity() + fast_.capacity() + encoder_.capacity() + special_.capacity()) *
                   sizeof(std::uint16_t);
    }
    bool can_encode() const noexcept { return !encoder_.empty(); }
    std::size_t bytes() const noexcept { return 1 + 2 * (std::size_t{buckets()} + 1) + 2 * symbols_.size(); }

    // Appends the serialized table to out.
    void write(std::vector<unsigned char>& out) const {
        out.push_back(static_cast<unsigned char>((ends_ ? 1u : 0u) | (bits_ - 8) << 1));
        unsigned char two[2];
        // The first bucket of each code: later buckets with that code name it.
        std::vector<std::uint16_t> first(tables_.size(), shared_row);
        for (unsigned b = 0; b <= buckets(); ++b) {
            const unsigned r = b < buckets() ? rows_[b] : fallback_;
            if (b < buckets() && (r == fallback_ || first[r] != shared_row)) {
                store_le(two, r == fallback_ ? 0u : (shares_bucket | first[r]), 2);
                out.insert(out.end(), two, two + 2);
                continue;
            }
            if (b < buckets()) first[r] = static_cast<std::uint16_t>(b);
            const table& t = tables_[r];
            store_le(two, t.count, 2);
            out.insert(out.end(), two, two + 2);
            for (unsigned i = 0; i < t.count; ++i) {
                const std::uint16_t sym = symbols_[t.symbols_at + i];
                store_le(two, sym | unsigned{lengths_[t.symbols_at + i]} << 9, 2);
                out.insert(out.end(), two, two + 2);
            }
        }
    }

    // Appends the codes of s, coded after context c (and the end symbol
    // with ends()); returns the bits appended.
    std::uint64_t encode(std::string_view s, byte_context c, bit_writer& w) const {
        const std::uint64_t start = w.size();
        for_each_code(s, c, [&w](unsigned e) { w.append(e >> 4, e & 15); });
        return w.size() - start;
    }

    // The bits encode() would append for s after context c.
    std::uint64_t coded_bits(std::string_view s, byte_context c) const {
        std::uint64_t bits = 0;
        for_each_code(s, c, [&bits](unsigned e) { bits += e & 15; });
        return bits;
    }

    // Decodes the string coded at bit `from` after context c, ending at bit
    // `to` or (with ends()) at its end symbol before `to`; appends it to out
    // and returns the bit position after it. nullopt if the bits in
    // [from, to) are not such a coding.
    std::optional<std::uint64_t> decode(bit_span bits, std::uint64_t from, std::uint64_t to, byte_context c,
                                        std::string& out) const {
        if (!unbounded(bits, from, to)) [[unlikely]] {
            // Codes with ends, and a link without the stream's 8 bytes of
            // padding after it (a stream built by hand): bounds tested
            // per byte.
            if (from > to || to > bits.bits()) return std::nullopt;
            return walk(bits, from, to, c, [&](unsigned char b) {
                out.push_back(static_cast<char>(b));
                return true;
            });
        }
        // Without ends (the v3 trie's links): run(), where a scan's
        // decoding goes, each byte waiting on the one before it.
        chain ch{from, hash_term(c.before), c.last};
        if (!run(ch, bits, to, out) || ch.pos != to) return std::nullopt;
        return to;
    }

    // Two links without ends decoded at once, each appended to its own
    // string: {whether the first decoded, whether the second did}. One
    // link's bytes wait on each other (run()), two links' do not, so a
    // scan that decodes a link and its next sibling's together overlaps
    // the two chains of loads (trie_view's cursors).
    std::pair<bool, bool> decode2(bit_span bits, std::uint64_t from1, std::uint64_t to1, byte_context c1, std::string& out1,
                                  std::uint64_t from2, std::uint64_t to2, byte_context c2, std::string& out2) const {
        const std::size_t n1 = out1.size(), n2 = out2.size();
        if (unbounded(bits, from1, to1) && unbounded(bits, from2, to2)) [[likely]] {
            const std::uint16_t* const rows = rows_.data();
            const unsigned shift = 32 - bits_;
            // Not address-taken (run() takes the two after the loop), so
            // that they stay in registers: a chain through memory adds a
            // store and reload to every byte.
            chain a{from1, hash_term(c1.before), c1.last};
            chain b{from2, hash_term(c2.before), c2.last};
            // Each chain's bytes in its half of one buffer.
            char r[512];
            constexpr std::size_t half = sizeof r / 2;
            bool ok = true;
            // Both chains step once a round, each in chunks of at most
            // `half` bits (so bytes), until either link ends; then the
            // other alone.
            while (ok && a.pos < to1 && b.pos < to2) {
                const std::uint64_t stop1 = std::min(to1, a.pos + half), stop2 = std::min(to2, b.pos + half);
                std::size_t n = 0;
                while (a.pos < stop1 && b.pos < stop2) {
                    const unsigned x = step(a, rows, shift, bits, to1);
                    const unsigned y = step(b, rows, shift, bits, to2);
                    if ((x | y) >= escape) [[unlikely]] {  // both < 512: either >= 256
                        ok = false;
                        break;
                    }
                    r[n] = static_cast<char>(x);
                    r[half + n] = static_cast<char>(y);
                    ++n;
                }
                out1.append(r, n);
                out2.append(r + half, n);
            }
            if (ok) {
                chain rest1 = a, rest2 = b;
                const bool first = run(rest1, bits, to1, out1) && rest1.pos == to1;
                const bool second = run(rest2, bits, to2, out2) && rest2.pos == to2;
                return {first, second};
            }
            // A symbol that is no code: each link again on its own, so
            // that each gets its own answer.
            out1.resize(n1);
            out2.resize(n2);
        }
        return {decode(bits, from1, to1, c1, out1).has_value(), decode(bits, from2, to2, c2, out2).has_value()};
    }
    // decode() without the string.
    std::optional<std::uint64_t> skip(bit_span bits, std::uint64_t from, std::uint64_t to, byte_context c) const {
        return walk(bits, from, to, c, [](unsigned char) { return true; });
    }

    // Compares the coded string (as decode() delimits it) with key, decoding
    // only as far as they agree: {bytes of key matched, order, prefix}, order
    // < 0, 0, > 0 as the coded string is below, equal to or above key in byte
    // order (a proper prefix is below), prefix: the coded string is a prefix
    // of key (or equal; what a trie's descent asks of an edge's label).
    // nullopt for an invalid coding.
    struct comparison {
        std::size_t matched;
        int order;
        bool prefix;
    };
    std::optional<comparison> compare(bit_span bits, std::uint64_t from, std::uint64_t to, byte_context c,
                                      std::string_view key) const {
        std::size_t k = 0;
        int order = 0;
        const auto r = walk(bits, from, to, c, [&](unsigned char b) {
            if (k == key.size()) {
                order = 1;  // key is a proper prefix
                return false;
            }
            const auto kb = static_cast<unsigned char>(key[k]);
            if (b != kb) {
                order = b < kb ? -1 : 1;
                return false;
            }
            ++k;
            return true;
        });
        if (!r) return std::nullopt;
        const bool prefix = order == 0;
        if (prefix && k != key.size()) order = -1;
        return comparison{k, order, prefix};
    }

    // The length of the prefix of key whose coding after context c is
    // exactly the bits [from, to) of a code without ends, or nullopt if no
    // prefix of key codes to them. What a lookup asks of a link: it encodes
    // the key instead of decoding the link, so no step waits for the one
    // before it (the contexts are the key's bytes), and compares 32 bits at
    // a time. Needs can_encode(). Inline in its caller (a version 3 lookup's
    // match_link): a call's prologue and arguments were a fifth of a short
    // link's compare (words.txt: 2.5 bytes a link).
    [[gnu::always_inline]] std::optional<std::size_t> coded_prefix(bit_span bits, std::uint64_t from, std::uint64_t to, byte_context c,
                                            std::string_view key) const noexcept {
        MEMKV_ASSERT(can_encode() && !ends_);
        if (from > to || to > bits.bits()) return std::nullopt;
        // The lookup's inner loop (a third of a paths lookup's
        // instructions): the next row follows from the last byte and this
        // one (hash()'s term of the last ready a byte early), an entry is
        // used as stored, and one compare of the bits gathered with those
        // left ends the loop (26 instructions a byte; 30 with the bytes
        // counted and the end recomputed). The link's bits are usually a
        // cache miss: they are asked for before the key is coded, not when
        // its first 32 bits are ready (lookups +2% on uuid, +12-18% on
        // paths and names; RESULTS, thirty-fifth session).
        __builtin_prefetch(bits.data + (from >> 3));
        const std::uint16_t* const enc = encoder_.data();
        const std::uint16_t* const rows = rows_.data();
        const unsigned shift = 32 - bits_;
        unsigned part = hash_term(c.last);
        unsigned row = unsigned{rows[bucket_of(c)]} << 8;
        std::uint64_t pos = from;       // stream bits before pos matched
        std::uint64_t rem = to - from;  // bits from pos to the link's end
        std::uint64_t acc = 0;          // its low n bits: coded bits not yet compared, the last lowest
        unsigned n = 0;
        const unsigned char* k = reinterpret_cast<const unsigned char*>(key.data());
        const unsigned char* const kend = k + key.size();
        while (n < rem) {
            if (k == kend) return std::nullopt;
            const unsigned byte = *k++;
            unsigned e = enc[row | byte];
            if (e == 0) [[unlikely]] {
                // Escaped; a byte no code holds (a parsed table may lack it) is in no link.
                const unsigned esc = special_[2 * (row >> 8)];
                e = enc[std::size_t{fallback_} << 8 | byte];
                if (esc == 0 || e == 0) return std::nullopt;
                acc = acc << (esc & 15) | esc >> 4;
                n += esc & 15;
            }
            acc = acc << (e & 15) | e >> 4;
            n += e & 15;
            row = unsigned{rows[hash_from(part, byte, shift)]} << 8;
            part = hash_term(byte);
            if (n >= 32) {
                n -= 32;
                if (rem < 32 || bits.peek(pos, 32) != (acc >> n & 0xffffffffu)) return std::nullopt;
                pos += 32;
                rem -= 32;
            }
        }
        if (n != rem || (n != 0 && bits.peek(pos, n) != (acc & ((std::uint64_t{1} << n) - 1)))) return std::nullopt;
        return static_cast<std::size_t>(k - reinterpret_cast<const unsigned char*>(key.data()));
    }

private:
    static constexpr unsigned hash_mul = 0x9E3779B1u;
    // hash() in the terms of its two bytes: the loops over a string compute
    // the earlier byte's term a byte ahead (hash_term), then the bucket.
    static unsigned hash_term(unsigned before) noexcept { return before * 257u * hash_mul; }
    static unsigned hash_from(unsigned term, unsigned last, unsigned shift) noexcept {
        return (term + last * hash_mul) >> shift;
    }
    static unsigned hash(unsigned before, unsigned last, unsigned bucket_bits) noexcept {
        return hash_from(hash_term(before), last, 32 - bucket_bits);
    }

    // Whether [from, to) is a range run() may decode: no ends, inside the
    // stream, and with the stream's 8 bytes of padding after it.
    bool unbounded(bit_span bits, std::uint64_t from, std::uint64_t to) const noexcept {
        return !ends_ && from <= to && to <= bits.bits() && (to >> 3) + 8 <= bits.size;
    }
    // A link's decoding between bytes: the bit position, hash_term of the
    // byte before the last (ready a byte early), and the last byte.
    struct chain {
        std::uint64_t pos;
        unsigned part;
        unsigned last;
    };
    // The next byte of a link without ends at ch.pos < to, with the
    // stream's 8 bytes of padding past `to` (no read needs a bound):
    // the context's row, one load, the fast table's entry. A value >=
    // escape: the bits are no code. A code that runs past `to` (a corrupt
    // stream) is the caller's to see, once, after its loop.
    [[gnu::always_inline]] unsigned step(chain& ch, const std::uint16_t* rows, unsigned shift, bit_span bits,
                                         std::uint64_t to) const noexcept {
        const unsigned b = rows[hash_from(ch.part, ch.last, shift)];
        unsigned sym = 0;
        const unsigned e = fast_[std::size_t{b} << fast_bits |
                                 static_cast<unsigned>((load_be64(bits.data + (ch.pos >> 3)) << (ch.pos & 7)) >> (64 - fast_bits))];
        if (e != 0) [[likely]] {
            ch.pos += e >> 9;
            sym = e & 0x1ff;
        } else {
            // By a copy: a position taken by address would live in
            // memory, and a store and reload on the chain from one byte to
            // the next.
            std::uint64_t at = ch.pos;
            sym = read(tables_[b], bits, at, to);
            ch.pos = at;
        }
        if (sym >= escape) [[unlikely]] {
            std::uint64_t at = ch.pos;
            if (sym == escape) sym = symbol(fallback_, bits, at, to);
            ch.pos = at;
            if (sym >= escape) return sym;
        }
        ch.part = hash_term(ch.last);
        ch.last = sym;
        return sym;
    }
    // Decodes from ch up to `to` (padded as step() needs), appending to
    // out; false at a symbol that is no code. Bytes gather in a local
    // buffer, appended a chunk of at most sizeof buf bits (so at most
    // sizeof buf bytes) at a time: no byte needs a test for room.
    // push_back's capacity test was a fifth of the work (fortieth
    // session); chunks, not a limit on the link's length, so that long
    // links take this loop too.
    bool run(chain& io, bit_span bits, std::uint64_t to, std::string& out) const {
        const std::uint16_t* const rows = rows_.data();
        const unsigned shift = 32 - bits_;
        chain ch = io;  // in registers, not through io (see decode2)
        char buf[512];
        while (ch.pos < to) {
            const std::uint64_t stop = std::min(to, ch.pos + sizeof buf);
            std::size_t n = 0;
            while (ch.pos < stop) {
                const unsigned sym = step(ch, rows, shift, bits, to);
                if (sym >= escape) [[unlikely]] {
                    out.append(buf, n);
                    io = ch;
                    return false;
                }
                buf[n++] = static_cast<char>(sym);
            }
            out.append(buf, n);
        }
        io = ch;
        return true;
    }

    // One code: its symbols sorted by (length, symbol) at symbols_at; the
    // first code of length l left-justified to 12 bits ends below limit[l]
    // (lengths 1..12; limit[l] = limit[l - 1] where no code has length l),
    // and code v of length l is symbol number (offset[l] + v) & 0xffff.
    // limit has 16 entries, 0 and 13-15 zero (no v is below them), so one
    // pair of 8-lane compares finds a code's length (code_length()).
    struct table {
        std::array<std::uint16_t, 16> limit{};
        std::array<std::uint16_t, max_len + 1> offset{};
        std::uint32_t symbols_at = 0;
        std::uint16_t count = 0;
    };

    // Huffman lengths of counts (0 counts: absent), at most max_len: the
    // counts are halved (keeping every used symbol at 1 or more) until the
    // code fits.
    static void limited_lengths(std::array<std::uint64_t, alphabet> counts,
                                std::array<unsigned char, alphabet>& lens) {
        for (;;) {
            huffman_lengths(counts, lens);
            if (*std::max_element(lens.begin(), lens.end()) <= max_len) return;
            for (std::uint64_t& c : counts)
                if (c != 0) c = (c + 1) / 2;
        }
    }
    static void huffman_lengths(const std::array<std::uint64_t, alphabet>& counts,
                                std::array<unsigned char, alphabet>& lens) {
        lens.fill(0);
        // Nodes 0..alphabet-1 are the symbols, the rest inner nodes; a heap of
        // (count, node), ties broken by node for determinism.
        std::vector<std::pair<std::uint64_t, unsigned>> heap;
        std::vector<unsigned> parent(2 * alphabet, 0);
        for (unsigned s = 0; s < alphabet; ++s)
            if (counts[s] != 0) heap.emplace_back(counts[s], s);
        if (heap.empty()) return;
        if (heap.size() == 1) {
            lens[heap[0].second] = 1;
            return;
        }
        const auto greater = std::greater<std::pair<std::uint64_t, unsigned>>();
        std::make_heap(heap.begin(), heap.end(), greater);
        unsigned next = alphabet;
        while (heap.size() > 1) {
            std::pop_heap(heap.begin(), heap.end(), greater);
            const auto a = heap.back();
            heap.pop_back();
            std::pop_heap(heap.begin(), heap.end(), greater);
            const auto b = heap.back();
            heap.pop_back();
            parent[a.second] = next;
            parent[b.second] = next;
            heap.emplace_back(a.first + b.first, next++);
            std::push_heap(heap.begin(), heap.end(), greater);
        }
        const unsigned root = next - 1;
        std::vector<unsigned char> depth(2 * alphabet, 0);
        for (unsigned n = root; n-- > alphabet;) depth[n] = static_cast<unsigned char>(depth[parent[n]] + 1);
        for (unsigned s = 0; s < alphabet; ++s)
            if (counts[s] != 0) lens[s] = static_cast<unsigned char>(std::min(255, depth[parent[s]] + 1));
    }

    void set_code(unsigned b, const std::array<unsigned char, alphabet>& lens) {
        table& t = tables_[b];
        t.symbols_at = static_cast<std::uint32_t>(symbols_.size());
        std::array<unsigned, max_len + 2> per_len{};
        for (unsigned s = 0; s < alphabet; ++s) {
            MEMKV_ASSERT(lens[s] <= max_len);
            if (lens[s] == 0) continue;
            ++per_len[lens[s]];
            ++t.count;
        }
        for (unsigned l = 1; l <= max_len; ++l)
            for (unsigned s = 0; s < alphabet; ++s)
                if (lens[s] == l) {
                    symbols_.push_back(static_cast<std::uint16_t>(s));
                    lengths_.push_back(static_cast<std::uint8_t>(l));
                }
        unsigned code = 0, index = 0;
        for (unsigned l = 1; l <= max_len; ++l) {
            // Codes of length l: [code, code + per_len[l]); symbols from index.
            t.offset[l] = static_cast<std::uint16_t>(index - code);
            code += per_len[l];
            index += per_len[l];
            t.limit[l] = static_cast<std::uint16_t>(std::min(code << (max_len - l), 1u << max_len));
            code <<= 1;
        }
        MEMKV_ASSERT(fast_.size() == std::size_t{b} << fast_bits);
        fast_.resize(std::size_t{b + 1} << fast_bits, 0);
        for (unsigned x = 0; x < (1u << fast_bits); ++x) {
            const unsigned v = x << (max_len - fast_bits);
            const unsigned l = code_length(t, v);
            if (l == 0 || l > fast_bits) continue;  // a longer code, or none
            const unsigned i = (unsigned{t.offset[l]} + (v >> (max_len - l))) & 0xffffu;
            if (i < t.count) fast_[std::size_t{b} << fast_bits | x] = static_cast<std::uint16_t>(symbols_[t.symbols_at + i] | l << 9);
        }
    }
    // Appends bucket b's own code.
    void add_own(unsigned b, const std::array<unsigned char, alphabet>& lens) {
        rows_[b] = static_cast<std::uint16_t>(tables_.size());
        tables_.emplace_back();
        set_code(rows_[b], lens);
    }
    // Appends the fallback code and points the sharing buckets at it.
    void add_fallback(const std::array<unsigned char, alphabet>& lens) {
        fallback_ = static_cast<unsigned>(tables_.size());
        tables_.emplace_back();
        set_code(fallback_, lens);
        for (std::uint16_t& r : rows_)
            if (r == shared_row) r = static_cast<std::uint16_t>(fallback_);
    }
    void build_encoder() {
        encoder_.assign(tables_.size() << 8, 0);
        special_.assign(2 * tables_.size(), 0);
        for (unsigned b = 0; b < tables_.size(); ++b) {
            const table& t = tables_[b];
            unsigned i = 0;
            for (unsigned l = 1; l <= max_len; ++l) {
                const unsigned first = (l == 1 ? 0u : unsigned{t.limit[l - 1]}) >> (max_len - l);
                const unsigned last = unsigned{t.limit[l]} >> (max_len - l);
                for (unsigned v = first; v < last; ++v, ++i) entry(b, symbols_[t.symbols_at + i]) = static_cast<std::uint16_t>(v << 4 | l);
            }
        }
    }
    // The encoder's entry for symbol sym in code b: code << 4 | length, 0
    // if absent. Bytes in rows of 256 (a row is b << 8), escape and end
    // beside them.
    const std::uint16_t& entry(unsigned b, unsigned sym) const noexcept {
        return sym < 256 ? encoder_[std::size_t{b} << 8 | sym] : special_[2 * std::size_t{b} + (sym - escape)];
    }
    std::uint16_t& entry(unsigned b, unsigned sym) noexcept {
        return const_cast<std::uint16_t&>(std::as_const(*this).entry(b, sym));
    }
    // Calls f with the encoder entry (code word << 4 | length) of each code
    // s takes after context c: a byte its bucket's code lacks takes two (the
    // escape, then the byte in the fallback), then the end symbol with ends().
    template <class F>
    void for_each_code(std::string_view s, byte_context c, F&& f) const {
        MEMKV_ASSERT(can_encode());
        const auto code = [&](unsigned bucket, unsigned sym) {
            const unsigned b = rows_[bucket];
            const unsigned e = entry(b, sym);
            if (e != 0) {
                f(e);
                return;
            }
            const unsigned esc = entry(b, escape);
            const unsigned fb = entry(fallback_, sym);
            MEMKV_ASSERT(esc != 0 && fb != 0);
            f(esc);
            f(fb);
        };
        for (const char ch : s) {
            const auto b = static_cast<unsigned char>(ch);
            code(bucket_of(c), b);
            c = c.next(b);
        }
        if (ends_) code(bucket_of(c), end);
    }

    // The length of the code whose first 12 bits (left-justified) are v,
    // 0 if none: the first l with v < limit[l] (limits ascend). Without a
    // branch per length: a decoded byte's length is what the data says, so
    // a loop's exit was mispredicted about once a byte.
    static unsigned code_length(const table& t, unsigned v) noexcept {
#if defined(__SSE2__)
        const __m128i x = _mm_set1_epi16(static_cast<short>(v));
        const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t.limit.data()));
        const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t.limit.data() + 8));
        // Lane l all ones where v < limit[l] (limits are at most 4096: signed compares hold).
        const auto above = static_cast<unsigned>(_mm_movemask_epi8(_mm_packs_epi16(_mm_cmpgt_epi16(lo, x), _mm_cmpgt_epi16(hi, x))));
        return above == 0 ? 0 : static_cast<unsigned>(std::countr_zero(above));
#else
        for (unsigned l = 1; l <= max_len; ++l)
            if (v < t.limit[l]) return l;
        return 0;
#endif
    }
    // The symbol at bit pos in code b, or alphabet if the bits are no code
    // or run past `to`; advances pos. Codes of up to fast_bits bits (most
    // of a skewed code's uses) from one entry of fast_, others by their
    // length (read()).
    [[gnu::always_inline]] unsigned symbol(unsigned b, bit_span bits, std::uint64_t& pos, std::uint64_t to) const noexcept {
        const unsigned e = fast_[std::size_t{b} << fast_bits | static_cast<unsigned>(bits.peek(pos, fast_bits))];
        if (e != 0 && to - pos >= e >> 9) [[likely]] {
            pos += e >> 9;
            return e & 0x1ff;
        }
        return read(tables_[b], bits, pos, to);
    }
    [[gnu::always_inline]] unsigned read(const table& t, bit_span bits, std::uint64_t& pos, std::uint64_t to) const noexcept {
        const unsigned v = bits.peek12(pos);
        const unsigned l = code_length(t, v);
        if (l == 0 || to - pos < l) return alphabet;
        pos += l;
        const unsigned i = (unsigned{t.offset[l]} + (v >> (max_len - l))) & 0xffffu;
        return i < t.count ? symbols_[t.symbols_at + i] : alphabet;
    }

    // Calls on(byte) for each byte of the string at [from, to) until it
    // returns false; the bit position after the string (or after the last
    // byte read), nullopt if the coding is invalid.
    template <class F>
    std::optional<std::uint64_t> walk(bit_span bits, std::uint64_t from, std::uint64_t to, byte_context c,
                                      F&& on) const {
        if (from > to || to > bits.bits()) return std::nullopt;
        std::uint64_t pos = from;
        for (;;) {
            if (pos == to) {
                if (ends_) return std::nullopt;  // no end symbol
                return pos;
            }
            unsigned sym = symbol(rows_[bucket_of(c)], bits, pos, to);
            if (sym == escape) sym = symbol(fallback_, bits, pos, to);
            if (sym >= alphabet || sym == escape) return std::nullopt;
            if (sym == end) {
                if (!ends_) return std::nullopt;
                return pos;
            }
            const auto b = static_cast<unsigned char>(sym);
            if (!on(b)) return pos;
            c = c.next(b);
        }
    }

    bool ends_ = false;
    unsigned bits_ = default_bucket_bits;
    static constexpr std::uint16_t shared_row = 0xffff;
    static constexpr unsigned shares_bucket = 0x8000;  // a bucket's count naming an earlier bucket
    // Code b's row of encoder_ and special_ is b; the fallback's is last.
    std::vector<table> tables_ = std::vector<table>(1);  // the buckets' own codes, then the fallback
    std::vector<std::uint16_t> rows_ = std::vector<std::uint16_t>(std::size_t{1} << default_bucket_bits, 0);  // bucket -> code
    unsigned fallback_ = 0;
    std::vector<std::uint16_t> symbols_;
    std::vector<std::uint8_t> lengths_;  // beside symbols_: each symbol's code length (for write())
    std::vector<std::uint16_t> encoder_;  // code << 8 | byte -> its code word << 4 | length; 0: absent
    std::vector<std::uint16_t> special_;  // 2 * code + (escape, end) -> the same
    // Code b's row (b << fast_bits): the next fast_bits bits of the stream
    // -> the symbol they begin with | its length << 9, where that code is
    // at most fast_bits long; 0 where it is longer (or there is none). A
    // scan decodes each link it passes, one byte waiting on the one before:
    // 5 bits (64 bytes a code, 0.3-1.3% of a v3 image's memory) take a
    // scan's decoding from ~40 cycles a byte to about half; 4 bits gain a
    // third less, 6 bits 3-5% more for twice the bytes (bench/RESULTS.md,
    // fortieth session).
    std::vector<std::uint16_t> fast_ = std::vector<std::uint16_t>(std::size_t{1} << fast_bits, 0);  // beside tables_
};

}  // namespace memkv::detail::succinct
