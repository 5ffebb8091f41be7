// memkv-hot-prototype: would compound nodes (HOT's idea: Binna et al., "HOT: A
// Height Optimized Trie Index for Main-Memory Database Systems") make FastArt's
// lookups faster where its trees are deep? Issue #14 misses its 1.5x lookup
// target on names, paths, uuid, words and integers, and a lookup there waits
// on memory once a level (bench/RESULTS.md, forty-ninth session: names and
// paths pass ~9 nodes). This builds a static trie of compound nodes from the
// sorted keys and times its lookups beside FastArt built from the same keys,
// once in the input's order and once in key order (the static trie's own
// layout follows key order, which FastArt's arena gets only from sorted
// inserts).
//
//   memkv-hot-prototype [--fanout K] [--wide W] [--rounds R] INPUT...
//       INPUT: a key file or SHAPE:N; K: entries a node (2-32, default 32);
//       W (default 0, off): a key range whose keys take W or more values at
//       the first byte where they differ gets a 256-way node on that byte
//       (FastArt's full node) instead of a compound one
//
// Every key is looked up and checked before anything is timed; a wrong
// answer exits 1. Needs AVX2 and BMI2 at run time (it says so and exits 0
// without them): the node search is built for them, as HOT's is.
//
// Compound node: the binary Patricia trie of a key range, split top-down at
// its first discriminating bit, the largest part first, until K entries
// (keys and child nodes). The bits the splits used are the node's
// discriminating bits; an entry's sparse partial key holds its path's
// 1-decisions among them. A lookup gathers the key's bits at those positions
// (8-byte windows, one pext each: the dense partial key) and takes the last
// entry whose sparse key is a subset of the dense one; the leaf then
// compares the whole key (Patricia skips bits). Keys are read with a
// virtual 0 byte past their end, so text keys must not hold a 0 byte that
// makes one a prefix of another (such an input is refused).
//
//   node (at a multiple of 64 bytes in one vector): n u8 | windows u8 | pad u16 | narrow u8 | pad[3]
//                           windows x (mask u64, first byte u32, pad u32)
//                           sparse keys: n x u16 (m <= 16) or n x u32, to 8 bytes
//                           children: n x u32 (bit 31: a leaf's offset)
//   wide node (same alignment): 0 u8 | pad[3] | byte position u32 | children: 256 x u32
//                               (~0: no key has that byte)
//   leaf: len u16 | key bytes | value u64 (the key's rank)
#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <memkv/fast_art.hpp>

#include "shapes.hpp"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define MEMKV_HOT_X86 1
#define MEMKV_HOT_TARGET __attribute__((target("avx2,bmi,bmi2,popcnt")))
#else
#define MEMKV_HOT_X86 0
#define MEMKV_HOT_TARGET
#endif

namespace {

#if MEMKV_HOT_X86

constexpr std::uint32_t leaf_bit = 0x8000'0000u;

class hot_trie {
public:
    MEMKV_HOT_TARGET hot_trie(std::vector<std::string> sorted, int fanout, unsigned wide)
        : keys_(std::move(sorted)), fanout_(fanout), wide_(wide) {
        if (keys_.empty()) throw std::invalid_argument("no keys");
        dbit_.resize(keys_.size());
        for (std::size_t i = 0; i + 1 < keys_.size(); ++i) dbit_[i] = first_difference(keys_[i], keys_[i + 1]);
        root_ = build(0, static_cast<std::uint32_t>(keys_.size()));
        mem_.resize(mem_.size() + 64);  // a node search reads whole vectors past a small node
    }

    // The key's rank, or `none`.
    static constexpr std::uint64_t none = ~std::uint64_t{0};
    template <bool Count = false>
    MEMKV_HOT_TARGET std::uint64_t find(std::string_view key) const {
        const auto* k = reinterpret_cast<const unsigned char*>(key.data());
        std::uint32_t r = root_;
        while ((r & leaf_bit) == 0) {
            if constexpr (Count) ++levels_;
            const std::uint8_t* p = &mem_[r];
            const unsigned n = p[0];
            if (n == 0) {  // a wide node: a child for each value of one byte
                std::uint32_t at = 0;
                std::memcpy(&at, p + 4, sizeof at);
                const unsigned b = at < key.size() ? k[at] : 0u;
                std::memcpy(&r, p + 8 + 4 * b, sizeof r);
                if (r == absent) return none;
                continue;
            }
            const unsigned nw = p[1];
            const std::uint32_t d = dense_key(p, k, key.size());
            const std::uint8_t* sparse = p + 8 + 16 * nw;
            std::uint64_t hits = 0;
            if (p[4] != 0) {
                const __m256i dv = _mm256_set1_epi16(static_cast<short>(d));
                for (unsigned i = 0; i < n; i += 16) {
                    const __m256i s = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(sparse + 2 * i));
                    const __m256i eq = _mm256_cmpeq_epi16(_mm256_and_si256(s, dv), s);
                    hits |= std::uint64_t{_pext_u32(static_cast<std::uint32_t>(_mm256_movemask_epi8(eq)),
                                                    0xAAAA'AAAAu)}
                            << i;
                }
            } else {
                const __m256i dv = _mm256_set1_epi32(static_cast<int>(d));
                for (unsigned i = 0; i < n; i += 8) {
                    const __m256i s = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(sparse + 4 * i));
                    const __m256i eq = _mm256_cmpeq_epi32(_mm256_and_si256(s, dv), s);
                    hits |= std::uint64_t{static_cast<std::uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(eq)))}
                            << i;
                }
            }
            hits &= (std::uint64_t{1} << n) - 1;
            // The entry 0's sparse key is 0, a subset of every key: hits != 0.
            const auto idx = static_cast<unsigned>(63 - std::countl_zero(hits));
            std::memcpy(&r, sparse + sparse_bytes(p[4] != 0, n) + 4 * idx, sizeof r);
        }
        const std::uint8_t* l = &leaves_[r & ~leaf_bit];
        std::uint16_t len = 0;
        std::memcpy(&len, l, sizeof len);
        if (len != key.size() || std::memcmp(l + 2, key.data(), len) != 0) return none;
        std::uint64_t v = 0;
        std::memcpy(&v, l + 2 + len, sizeof v);
        return v;
    }

    std::size_t nodes() const { return nodes_; }
    std::size_t windows() const { return windows_; }
    std::size_t wide_nodes() const { return wide_nodes_; }
    std::size_t node_bytes() const { return mem_.size(); }
    std::size_t leaf_bytes() const { return leaves_.size(); }
    std::size_t levels() const { return levels_; }

private:
    // The sparse keys' bytes in a node of n entries, to 8.
    static std::size_t sparse_bytes(bool narrow, std::size_t n) { return ((narrow ? 2 : 4) * n + 7) & ~std::size_t{7}; }
    // The position in [lo, hi - 1) of the range's first difference (its smallest dbit_).
    std::uint32_t first_split(std::uint32_t lo, std::uint32_t hi) const {
        std::uint32_t at = lo;
        for (std::uint32_t i = lo; i + 1 < hi; ++i) {
            if (dbit_[i] < dbit_[at]) at = i;
        }
        return at;
    }
    static unsigned byte_at(const std::string& k, std::size_t i) {
        return i < k.size() ? static_cast<unsigned char>(k[i]) : 0u;
    }
    static std::uint32_t first_difference(const std::string& a, const std::string& b) {
        const std::size_t end = std::max(a.size(), b.size()) + 1;
        std::size_t i = 0;
        while (i < end && byte_at(a, i) == byte_at(b, i)) ++i;
        if (i == end) throw std::invalid_argument("two keys equal up to trailing 0 bytes");
        const unsigned x = byte_at(a, i) ^ byte_at(b, i);
        return static_cast<std::uint32_t>(i * 8 + static_cast<std::size_t>(std::countl_zero(x) - 24));
    }
    // 8 bytes from byte `at` as a big-endian word (the key's first bit is bit
    // 63), bytes past its end 0.
    MEMKV_HOT_TARGET static std::uint64_t window(const unsigned char* k, std::size_t len, std::uint32_t at) {
        std::uint64_t w = 0;
        if (at + 8 <= len) {
            std::memcpy(&w, k + at, 8);
        } else if (at < len) {
            std::memcpy(&w, k + at, len - at);
        }
        return __builtin_bswap64(w);
    }
    MEMKV_HOT_TARGET static std::uint32_t dense_key(const std::uint8_t* p, const unsigned char* k, std::size_t len) {
        const unsigned nw = p[1];
        std::uint32_t d = 0;
        for (unsigned w = 0; w < nw; ++w) {
            std::uint64_t mask = 0;
            std::uint32_t at = 0;
            std::memcpy(&mask, p + 8 + 16 * w, sizeof mask);
            std::memcpy(&at, p + 16 + 16 * w, sizeof at);
            // Shifting by 32 is undefined; a node has at most 31 bits.
            const std::uint64_t bits = _pext_u64(window(k, len, at), mask);
            d = static_cast<std::uint32_t>((std::uint64_t{d} << std::popcount(mask)) | bits);
        }
        return d;
    }
    std::uint32_t leaf(std::size_t i) {
        const std::string& k = keys_[i];
        if (k.size() > 0xFFFF) throw std::invalid_argument("key over 65,535 bytes");
        const auto off = static_cast<std::uint32_t>(leaves_.size());
        const auto len = static_cast<std::uint16_t>(k.size());
        const std::uint64_t v = i;
        leaves_.resize(leaves_.size() + 2 + k.size() + 8);
        std::memcpy(&leaves_[off], &len, 2);
        std::memcpy(&leaves_[off + 2], k.data(), k.size());
        std::memcpy(&leaves_[off + 2 + k.size()], &v, 8);
        return off | leaf_bit;
    }
    struct entry {
        std::uint32_t lo, hi;  // keys [lo, hi)
        std::vector<std::uint32_t> ones;  // bits where its path went right
    };
    static constexpr std::uint32_t absent = ~std::uint32_t{0};
    MEMKV_HOT_TARGET std::uint32_t build(std::uint32_t lo, std::uint32_t hi) {
        if (hi - lo == 1) return leaf(lo);
        if (wide_ != 0) {
            // The first byte where the range's keys differ: with at least
            // `wide_` values there, one 256-way node on it (FastArt's full
            // node) instead of a compound one.
            const std::uint32_t at = dbit_[first_split(lo, hi)] / 8;
            unsigned values = 1;
            for (std::uint32_t i = lo; i + 1 < hi; ++i) values += byte_at(keys_[i], at) != byte_at(keys_[i + 1], at);
            if (values >= wide_) return build_wide(lo, hi, at);
        }
        std::vector<entry> es{{lo, hi, {}}};
        std::vector<std::uint32_t> bits;
        while (static_cast<int>(es.size()) < fanout_) {
            std::size_t best = es.size();
            for (std::size_t i = 0; i < es.size(); ++i) {
                const std::uint32_t span = es[i].hi - es[i].lo;
                if (span > 1 && (best == es.size() || span > es[best].hi - es[best].lo)) best = i;
            }
            if (best == es.size()) break;
            entry left = es[best];
            const std::uint32_t at = first_split(left.lo, left.hi);
            bits.push_back(dbit_[at]);
            entry right{at + 1, left.hi, left.ones};
            right.ones.push_back(dbit_[at]);
            left.hi = at + 1;
            es[best] = std::move(left);
            es.insert(es.begin() + static_cast<std::ptrdiff_t>(best) + 1, std::move(right));
        }
        std::sort(bits.begin(), bits.end());
        bits.erase(std::unique(bits.begin(), bits.end()), bits.end());
        std::vector<std::pair<std::uint32_t, std::uint64_t>> windows;  // first byte, mask
        for (const std::uint32_t b : bits) {
            if (windows.empty() || b / 8 >= windows.back().first + 8) windows.push_back({b / 8, 0});
            windows.back().second |= std::uint64_t{1} << (63 - (b - windows.back().first * 8));
        }
        std::vector<std::uint32_t> child(es.size());
        for (std::size_t i = 0; i < es.size(); ++i) child[i] = build(es[i].lo, es[i].hi);
        // Children first, so nodes lie in key order below their parent.
        const std::size_t n = es.size();
        const std::size_t nw = windows.size();
        const bool narrow = bits.size() <= 16;
        const std::size_t sbytes = sparse_bytes(narrow, n);
        const std::size_t off = (mem_.size() + 63) & ~std::size_t{63};
        if (off + 8 + 16 * nw + sbytes + 4 * n >= leaf_bit) throw std::length_error("prototype limit");
        mem_.resize(off + 8 + 16 * nw + sbytes + 4 * n);
        std::uint8_t* p = &mem_[off];
        p[0] = static_cast<std::uint8_t>(n);
        p[1] = static_cast<std::uint8_t>(nw);
        p[4] = narrow ? 1 : 0;
        for (std::size_t w = 0; w < nw; ++w) {
            std::memcpy(p + 8 + 16 * w, &windows[w].second, 8);
            std::memcpy(p + 16 + 16 * w, &windows[w].first, 4);
        }
        std::uint8_t* sparse = p + 8 + 16 * nw;
        for (std::size_t i = 0; i < n; ++i) {
            // The sparse key is the dense key of a string whose only 1 bits
            // are the entry's right turns.
            std::string ones(bits.back() / 8 + 1, '\0');
            for (const std::uint32_t b : es[i].ones) ones[b / 8] = static_cast<char>(ones[b / 8] | (0x80 >> (b % 8)));
            const std::uint32_t s = dense_key(p, reinterpret_cast<const unsigned char*>(ones.data()), ones.size());
            if (narrow) {
                const auto s16 = static_cast<std::uint16_t>(s);
                std::memcpy(sparse + 2 * i, &s16, 2);
            } else {
                std::memcpy(sparse + 4 * i, &s, 4);
            }
            std::memcpy(sparse + sbytes + 4 * i, &child[i], 4);
        }
        ++nodes_;
        windows_ += nw;
        return static_cast<std::uint32_t>(off);
    }

    MEMKV_HOT_TARGET std::uint32_t build_wide(std::uint32_t lo, std::uint32_t hi, std::uint32_t at) {
        std::vector<std::uint32_t> child(256, absent);
        for (std::uint32_t i = lo; i < hi;) {
            std::uint32_t j = i + 1;
            while (j < hi && byte_at(keys_[j], at) == byte_at(keys_[i], at)) ++j;
            child[byte_at(keys_[i], at)] = build(i, j);
            i = j;
        }
        const std::size_t off = (mem_.size() + 63) & ~std::size_t{63};
        if (off + 8 + 4 * 256 >= leaf_bit) throw std::length_error("prototype limit");
        mem_.resize(off + 8 + 4 * 256);
        mem_[off] = 0;
        std::memcpy(&mem_[off + 4], &at, sizeof at);
        std::memcpy(&mem_[off + 8], child.data(), 4 * 256);
        ++nodes_;
        ++wide_nodes_;
        return static_cast<std::uint32_t>(off);
    }

    std::vector<std::string> keys_;
    int fanout_;
    unsigned wide_;
    std::size_t wide_nodes_ = 0;
    std::vector<std::uint32_t> dbit_;  // first differing bit of keys i and i + 1
    std::vector<std::uint8_t> mem_;
    std::vector<std::uint8_t> leaves_;
    std::uint32_t root_ = 0;
    std::size_t nodes_ = 0;
    std::size_t windows_ = 0;
    mutable std::size_t levels_ = 0;
};

volatile std::uint64_t sink = 0;

template <class F>
double ns_a_lookup(const std::vector<std::string_view>& probe, F&& f) {
    std::uint64_t sum = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (const std::string_view k : probe) sum += f(k);
    const auto t1 = std::chrono::steady_clock::now();
    sink = sum;  // keeps the loop
    return std::chrono::duration<double>(t1 - t0).count() * 1e9 / static_cast<double>(probe.size());
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

MEMKV_HOT_TARGET int run(const std::string& input, int fanout, unsigned wide, int rounds) {
    const memkv::bench::Dataset ds = memkv::bench::load_keys(input, 42);
    const auto& keys = ds.keys();
    std::vector<std::string> sorted(keys.begin(), keys.end());
    std::sort(sorted.begin(), sorted.end());
    const hot_trie h(sorted, fanout, wide);
    memkv::FastArt<std::uint64_t> as_given;
    for (std::size_t i = 0; i < keys.size(); ++i) as_given.insert(keys[i], i);
    memkv::FastArt<std::uint64_t> in_order;
    for (std::size_t i = 0; i < sorted.size(); ++i) in_order.insert(sorted[i], i);

    // Checked first: every key's rank, and a miss.
    for (const std::string_view k : keys) {
        const std::uint64_t v = h.find<true>(k);
        if (v == hot_trie::none || sorted[v] != k) {
            std::printf("%s: wrong answer for a key\n", input.c_str());
            return 1;
        }
    }
    const std::string absent = sorted.back() + "\x01";
    if (h.find(absent) != hot_trie::none) {
        std::printf("%s: a miss found\n", input.c_str());
        return 1;
    }
    const double n = static_cast<double>(keys.size());
    const auto compound = static_cast<double>(h.nodes() - h.wide_nodes());
    std::printf("%s: %zu keys, fanout %d, wide %u: %.3f nodes/key (%.3f wide), %.2f levels a lookup, "
                "%.2f windows a compound node, nodes %.2f B/key, leaves %.2f B/key\n",
                input.c_str(), keys.size(), fanout, wide, static_cast<double>(h.nodes()) / n,
                static_cast<double>(h.wide_nodes()) / n, static_cast<double>(h.levels()) / n,
                compound != 0 ? static_cast<double>(h.windows()) / compound : 0.0,
                static_cast<double>(h.node_bytes()) / n, static_cast<double>(h.leaf_bytes()) / n);
    std::vector<std::string_view> probe(keys.begin(), keys.end());
    std::mt19937_64 rng(7);
    std::shuffle(probe.begin(), probe.end(), rng);
    std::vector<double> th;
    std::vector<double> tg;
    std::vector<double> to;
    for (int r = 0; r < rounds; ++r) {
        th.push_back(ns_a_lookup(probe, [&](std::string_view k) { return h.find(k); }));
        tg.push_back(ns_a_lookup(probe, [&](std::string_view k) {
            const std::uint64_t* v = as_given.get_if(k);
            return v != nullptr ? *v : hot_trie::none;
        }));
        to.push_back(ns_a_lookup(probe, [&](std::string_view k) {
            const std::uint64_t* v = in_order.get_if(k);
            return v != nullptr ? *v : hot_trie::none;
        }));
    }
    std::printf("  lookups (shuffled, median of %d), ns: compound %.1f, FastArt %.1f, FastArt built in key order "
                "%.1f; FastArt / compound %.2f, in key order %.2f\n",
                rounds, median(th), median(tg), median(to), median(tg) / median(th), median(to) / median(th));
    return 0;
}

#endif

}  // namespace

int main(int argc, char** argv) {
    int fanout = 32;
    int rounds = 5;
    int wide = 0;
    std::vector<std::string> inputs;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if ((a == "--fanout" || a == "--rounds" || a == "--wide") && i + 1 < argc) {
            (a == "--fanout" ? fanout : a == "--rounds" ? rounds : wide) = std::atoi(argv[++i]);
        } else {
            inputs.push_back(a);
        }
    }
    if (inputs.empty() || fanout < 2 || fanout > 32 || rounds < 1 || wide < 0 || wide > 256) {
        std::fprintf(stderr,
                     "usage: memkv-hot-prototype [--fanout K (2-32)] [--wide W (0-256)] [--rounds R] INPUT...\n");
        return 2;
    }
#if MEMKV_HOT_X86
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("bmi2")) {
        std::printf("memkv-hot-prototype: this CPU has no AVX2 or BMI2; nothing measured\n");
        return 0;
    }
    try {
        for (const std::string& in : inputs) {
            if (const int rc = run(in, fanout, static_cast<unsigned>(wide), rounds); rc != 0) return rc;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "memkv-hot-prototype: %s\n", e.what());
        return 1;
    }
    return 0;
#else
    std::printf("memkv-hot-prototype: x86-64 only; nothing measured\n");
    return 0;
#endif
}
