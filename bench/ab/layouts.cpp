// What a lookup would gain from leaves held inside their parent node, before
// any tree code is written (issue #14; bench/RESULTS.md, twenty-first
// session). A static model: the sorted, distinct keys are laid out as
// read-only ART images with FastArt's node layout (16-byte header, linear
// kinds of 3..48 children with a SIMD search, full nodes of 256 refs,
// 32-bit references, leaves holding the value, a length byte and the suffix
// below their parent), each block placed at a random position of one
// huge-page arena, as a tree built from shuffled inserts is. Variants:
//
//   plain   every leaf a block of its own (FastArt today); a node's second
//           line is prefetched with its first, as FastArt's descent does;
//   inline  a node's leaf children (and its terminal) stored right after
//           it, in the same block, when the block stays within 512 bytes;
//           the reference to such a node carries its line count, and the
//           descent requests all of its lines as soon as it has the
//           reference, so the leaf's line is in flight with the node's
//           first line instead of after it;
//   bottom  the same layout, but only nodes whose children are all leaves
//           have their lines requested (less traffic on mixed nodes);
//   p32     the same layout, lines requested as plain does (nothing in the
//           references: what an implementation without spare bits gets);
//   four    the same layout, every node's first four lines requested;
//   rowed   plain's image read through a slot table as FastArt's arena is
//           (an entry per 256 KiB), instead of base + offset.
//
// FastArt itself is timed too (built from the shuffled keys), to check that
// plain stands for it. Lookups (every key, shuffled) and misses (the last
// byte changed, one appended) are timed in slices of 2^15 keys that the
// structures take turns on; printed: median ns per key and the median over
// rounds of each variant's speed over plain. Exits non-zero on any wrong
// answer.
//
//   g++ -std=c++20 -O3 -DNDEBUG -Iinclude -Ibench bench/ab/layouts.cpp -o layouts
//   ./layouts INPUT [ROUNDS]      INPUT: a key file or SHAPE:N
#include "common.hpp"

#include <memkv/fast_art.hpp>

#include <emmintrin.h>
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {
using keys_t = std::vector<std::string_view>;
using memkv::bench::ab::clock_type;
using memkv::bench::ab::median;
using memkv::bench::ab::since;

// A reference: bit 31 leaf, bits 28..30 the lines of the block past its
// first to request on arrival, bits 0..27 the block's offset in 8-byte units.
constexpr std::uint32_t leaf_bit = 0x8000'0000u;
constexpr unsigned lines_shift = 28;
constexpr std::uint32_t offset_mask = (1u << lines_shift) - 1;
constexpr unsigned caps[] = {3, 6, 11, 16, 24, 32, 48};
constexpr std::size_t max_inline_block = 512;

std::size_t align8(std::size_t n) { return (n + 7) & ~std::size_t{7}; }

struct bnode {
    std::uint32_t depth = 0;   // key bytes above the node
    std::uint32_t plen = 0;    // prefix bytes, taken from keys[first]
    std::uint32_t first = 0;   // a key below the node
    std::int64_t term = -1;    // key index of the terminal leaf
    std::vector<unsigned char> bytes;
    std::vector<std::int64_t> kids;  // >= 0: node index; < 0: ~key index (a leaf)
    unsigned cap = 0;                // 0: full
    std::size_t own = 0;             // bytes of the node itself
    std::size_t size = 0;           // of its block (with inline leaves)
    bool inlined = false;
    bool bottom = false;
    std::size_t offset = 0;
};

struct image {
    unsigned char* base = nullptr;
    std::size_t bytes = 0;  // mapped
    std::size_t used = 0;
    std::uint32_t root = 0;
    std::vector<const unsigned char*> row;  // base + 256 KiB * i
    image() = default;
    image(const image&) = delete;
    image& operator=(const image&) = delete;
    ~image() {
        if (base != nullptr) munmap(base, bytes);
    }
};

class builder {
public:
    explicit builder(const keys_t& sorted) : keys_(sorted) {}

    // mode: 0 plain, 1 inline, 2 bottom, 3 inline-p32, 4 inline-4 (see the top)
    void build(image& im, int mode, std::uint64_t seed) {
        nodes_.clear();
        root_leaf_ = -1;
        if (keys_.size() == 1) root_leaf_ = 0;
        else make(0, keys_.size(), 0);
        // Blocks: nodes, then (plain, or a node that does not inline) leaves.
        struct block {
            bool leaf;
            std::size_t id;
            std::size_t depth;  // a leaf's suffix starts there
        };
        std::vector<block> blocks;
        leaf_depth_.assign(keys_.size(), 0);
        leaf_offset_.assign(keys_.size(), 0);
        for (std::size_t i = 0; i < nodes_.size(); ++i) {
            bnode& n = nodes_[i];
            const std::size_t count = n.kids.size();
            n.cap = 0;
            for (unsigned c : caps) {
                if (count <= c) {
                    n.cap = c;
                    break;
                }
            }
            n.own = 16 + (n.cap == 0 ? 1024 : ((n.cap + 3) & ~3u) + 4 * n.cap) + (n.term >= 0 ? 4 : 0) +
                    (n.plen > 8 ? n.plen - 8 : 0);
            n.own = align8(n.own);
            const std::size_t below = n.depth + n.plen + 1;
            std::size_t leaves = 0;
            n.bottom = true;
            for (std::int64_t k : n.kids) {
                if (k >= 0) {
                    n.bottom = false;
                    continue;
                }
                leaf_depth_[~k] = below;
                leaves += leaf_size(~k, below);
            }
            if (n.term >= 0) {
                leaf_depth_[n.term] = n.depth + n.plen;
                leaves += leaf_size(n.term, n.depth + n.plen);
            }
            n.inlined = mode != 0 && n.own + leaves <= max_inline_block;
            n.size = n.own + (n.inlined ? leaves : 0);
            blocks.push_back({false, i, 0});
            if (!n.inlined) {
                for (std::int64_t k : n.kids) {
                    if (k < 0) blocks.push_back({true, static_cast<std::size_t>(~k), below});
                }
                if (n.term >= 0) blocks.push_back({true, static_cast<std::size_t>(n.term), n.depth + n.plen});
            }
        }
        if (root_leaf_ >= 0) blocks.push_back({true, 0, 0});
        memkv::bench::Rng rng(seed);
        for (std::size_t i = blocks.size(); i > 1; --i) std::swap(blocks[i - 1], blocks[rng.next() % i]);
        std::size_t total = 64;  // offset 0 stays unused
        for (const block& b : blocks) {
            if (b.leaf) {
                leaf_offset_[b.id] = total;
                total += leaf_size(b.id, b.depth);
            } else {
                bnode& n = nodes_[b.id];
                n.offset = total;
                std::size_t at = total + n.own;
                if (n.inlined) {
                    for (std::int64_t k : n.kids) {
                        if (k < 0) {
                            leaf_offset_[~k] = at;
                            at += leaf_size(~k, leaf_depth_[~k]);
                        }
                    }
                    if (n.term >= 0) {
                        leaf_offset_[n.term] = at;
                        at += leaf_size(n.term, leaf_depth_[n.term]);
                    }
                }
                total += n.size;
            }
        }
        if (total / 8 > offset_mask) throw std::runtime_error("image over 2 GiB");
        const std::size_t huge = std::size_t{2} << 20;
        im.bytes = (total + 64 + huge - 1) / huge * huge;
        void* p = mmap(nullptr, im.bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::bad_alloc();
        madvise(p, im.bytes, MADV_HUGEPAGE);
        im.base = static_cast<unsigned char*>(p);
        im.used = total;
        for (std::size_t at = 0; at < im.bytes; at += std::size_t{1} << 18) im.row.push_back(im.base + at);
        for (std::size_t k = 0; k < keys_.size(); ++k) write_leaf(im.base + leaf_offset_[k], k, leaf_depth_[k]);
        for (const bnode& n : nodes_) write_node(im.base, n, mode);
        im.root = root_leaf_ >= 0 ? leaf_ref(0) : node_ref(nodes_[0], mode);
    }

private:
    const keys_t& keys_;
    std::vector<bnode> nodes_;
    std::vector<std::size_t> leaf_depth_, leaf_offset_;
    std::int64_t root_leaf_ = -1;

    std::size_t leaf_size(std::size_t k, std::size_t depth) const {
        const std::size_t s = keys_[k].size() - depth;
        return align8(8 + (s < 255 ? 1 : 5) + s);
    }
    std::uint32_t leaf_ref(std::size_t k) const { return leaf_bit | static_cast<std::uint32_t>(leaf_offset_[k] / 8); }
    std::uint32_t node_ref(const bnode& n, int mode) const {
        // The lines the block spans past the one holding its start.
        const std::size_t first_line = n.offset / 64;
        const std::size_t all_last = (n.offset + n.size - 1) / 64;
        // FastArt's descent requests the line holding p + 32.
        std::size_t extra = (n.offset + 32) / 64 - first_line;
        if (mode == 1 && n.inlined) extra = all_last - first_line;
        if (mode == 2 && n.inlined && n.bottom) extra = all_last - first_line;
        if (mode == 4) extra = 3;
        extra = std::min<std::size_t>(extra, 7);
        return static_cast<std::uint32_t>(extra << lines_shift) | static_cast<std::uint32_t>(n.offset / 8);
    }

    void write_leaf(unsigned char* p, std::size_t k, std::size_t depth) const {
        const std::uint64_t v = k + 1;
        std::memcpy(p, &v, 8);
        const std::string_view key = keys_[k];
        const std::size_t s = key.size() - depth;
        if (s < 255) {
            p[8] = static_cast<unsigned char>(s);
            std::memcpy(p + 9, key.data() + depth, s);
        } else {
            p[8] = 255;
            const auto s32 = static_cast<std::uint32_t>(s);
            std::memcpy(p + 9, &s32, 4);
            std::memcpy(p + 13, key.data() + depth, s);
        }
    }

    void write_node(unsigned char* base, const bnode& n, int mode) const {
        unsigned char* p = base + n.offset;
        p[0] = static_cast<unsigned char>(n.cap);
        p[1] = n.term >= 0 ? 1 : 0;
        const auto count = static_cast<std::uint16_t>(n.kids.size());
        std::memcpy(p + 2, &count, 2);
        std::memcpy(p + 4, &n.plen, 4);
        const std::string_view fk = keys_[n.first];
        std::memcpy(p + 8, fk.data() + n.depth, std::min<std::size_t>(n.plen, 8));
        auto ref = [&](std::int64_t k) { return k < 0 ? leaf_ref(static_cast<std::size_t>(~k)) : node_ref(nodes_[k], mode); };
        std::size_t after = 0;
        if (n.cap == 0) {
            for (std::size_t i = 0; i < n.kids.size(); ++i) {
                const std::uint32_t r = ref(n.kids[i]);
                std::memcpy(p + 16 + 4 * n.bytes[i], &r, 4);
            }
            after = 16 + 1024;
        } else {
            const std::size_t keys_bytes = (n.cap + 3) & ~3u;
            for (std::size_t i = 0; i < n.kids.size(); ++i) {
                p[16 + i] = n.bytes[i];
                const std::uint32_t r = ref(n.kids[i]);
                std::memcpy(p + 16 + keys_bytes + 4 * i, &r, 4);
            }
            after = 16 + keys_bytes + 4 * n.cap;
        }
        if (n.term >= 0) {
            const std::uint32_t r = leaf_ref(static_cast<std::size_t>(n.term));
            std::memcpy(p + after, &r, 4);
            after += 4;
        }
        if (n.plen > 8) std::memcpy(p + after, fk.data() + n.depth + 8, n.plen - 8);
    }

    // [lo, hi) at depth d, at least two keys: a node.
    std::int64_t make(std::size_t lo, std::size_t hi, std::size_t d) {
        const std::size_t id = nodes_.size();
        nodes_.emplace_back();
        const std::string_view a = keys_[lo], z = keys_[hi - 1];
        std::size_t e = d;
        while (e < a.size() && e < z.size() && a[e] == z[e]) ++e;
        std::size_t i = lo;
        std::int64_t term = -1;
        if (keys_[i].size() == e) term = static_cast<std::int64_t>(i++);
        std::vector<unsigned char> bytes;
        std::vector<std::int64_t> kids;
        while (i < hi) {
            const char c = keys_[i][e];
            std::size_t j = i + 1;
            while (j < hi && keys_[j][e] == c) ++j;
            bytes.push_back(static_cast<unsigned char>(c));
            kids.push_back(j - i == 1 ? ~static_cast<std::int64_t>(i) : make(i, j, e + 1));
            i = j;
        }
        bnode& n = nodes_[id];
        n.depth = static_cast<std::uint32_t>(d);
        n.plen = static_cast<std::uint32_t>(e - d);
        n.first = static_cast<std::uint32_t>(lo);
        n.term = term;
        n.bytes = std::move(bytes);
        n.kids = std::move(kids);
        return static_cast<std::int64_t>(id);
    }
};

// The descent: FastArt's, minus its multi-zone and short-key refinements.
// Rowed: block addresses through a slot table (FastArt's arena: a table
// entry per 256 KiB, then the offset within), instead of base + offset.
template <bool Rowed>
const std::uint64_t* find(const image& im, std::string_view key) {
    const auto* k = reinterpret_cast<const unsigned char*>(key.data());
    const std::size_t len = key.size();
    const unsigned char* const base = im.base;
    std::uint32_t r = im.root;
    std::size_t depth = 0;
    while ((r & leaf_bit) == 0) {
        const unsigned char* p = Rowed ? im.row[(r & offset_mask) >> 15] + std::size_t{r & 0x7fff} * 8
                                       : base + std::size_t{r & offset_mask} * 8;
        {
            const unsigned extra = (r >> lines_shift) & 7;
            const auto line = reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t{63};
            for (unsigned i = 1; i <= extra; ++i) __builtin_prefetch(reinterpret_cast<const void*>(line + 64 * i));
        }
        std::uint32_t plen = 0;
        std::memcpy(&plen, p + 4, 4);
        if (plen != 0) {
            if (plen > len - depth) return nullptr;
            const std::size_t inl = std::min<std::size_t>(plen, 8);
            if (std::memcmp(p + 8, k + depth, inl) != 0) return nullptr;
            if (plen > 8) {
                const unsigned cap = p[0];
                const std::size_t at = 16 + (cap == 0 ? 1024 : ((cap + 3) & ~3u) + 4 * cap) + (p[1] & 1 ? 4 : 0);
                if (std::memcmp(p + at, k + depth + 8, plen - 8) != 0) return nullptr;
            }
            depth += plen;
        }
        const unsigned cap = p[0];
        if (depth >= len) {
            if ((p[1] & 1) == 0) return nullptr;
            const std::size_t at = 16 + (cap == 0 ? 1024 : ((cap + 3) & ~3u) + 4 * cap);
            std::memcpy(&r, p + at, 4);
            break;
        }
        const unsigned char b = k[depth++];
        std::size_t i = b;
        if (cap != 0) {
            std::uint16_t count = 0;
            std::memcpy(&count, p + 2, 2);
            const __m128i needle = _mm_set1_epi8(static_cast<char>(b));
            unsigned m = static_cast<unsigned>(
                _mm_movemask_epi8(_mm_cmpeq_epi8(needle, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16)))));
            if (cap > 16) {
                m |= static_cast<unsigned>(_mm_movemask_epi8(
                         _mm_cmpeq_epi8(needle, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 32)))))
                     << 16;
                std::uint64_t m3 = static_cast<unsigned>(_mm_movemask_epi8(
                    _mm_cmpeq_epi8(needle, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 48)))));
                const std::uint64_t all = m | (m3 << 32);
                if (all == 0) return nullptr;
                i = static_cast<std::size_t>(__builtin_ctzll(all));
            } else {
                if (m == 0) return nullptr;
                i = static_cast<std::size_t>(__builtin_ctz(m));
            }
            if (i >= count) return nullptr;
            std::memcpy(&r, p + 16 + ((cap + 3) & ~3u) + 4 * i, 4);
        } else {
            std::memcpy(&r, p + 16 + 4 * i, 4);
            if (r == 0) return nullptr;
        }
    }
    const unsigned char* l = Rowed ? im.row[(r & offset_mask) >> 15] + std::size_t{r & 0x7fff} * 8
                                   : base + std::size_t{r & offset_mask} * 8;
    std::size_t slen = l[8];
    const unsigned char* s = l + 9;
    if (slen == 255) {
        std::uint32_t s32 = 0;
        std::memcpy(&s32, l + 9, 4);
        slen = s32;
        s += 4;
    }
    if (slen != len - depth || std::memcmp(s, k + depth, slen) != 0) return nullptr;
    return reinterpret_cast<const std::uint64_t*>(l);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace memkv::bench;
    if (argc < 2) {
        std::fprintf(stderr, "usage: layouts INPUT [ROUNDS]\n");
        return 2;
    }
    const std::string input = argv[1];
    const int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
    const Dataset d = ab::load_input("layouts", input);
    keys_t sorted = d.keys();
    std::sort(sorted.begin(), sorted.end());
    const keys_t shuffled = ab::shuffled(sorted, 42);
    const keys_t probes = ab::shuffled(sorted, 7);
    const ab::misses miss_set(probes);
    const keys_t& misses = miss_set.keys;

    // The answers: a key's value is its rank + 1 in every structure.
    memkv::FastArt<std::uint64_t> fa;
    for (const std::string_view k : shuffled) {
        fa.insert_or_assign(k, static_cast<std::uint64_t>(std::lower_bound(sorted.begin(), sorted.end(), k) - sorted.begin()) + 1);
    }
    builder b(sorted);
    // Rebuilt every round, in a rotating order: with identical code, two
    // images built one after the other timed up to 20% apart (where their
    // pages landed), so no image may keep one placement.
    std::unique_ptr<image> imgs[5];
    const auto rebuild = [&](int round) {
        for (auto& im : imgs) im.reset();
        for (int j = 0; j < 5; ++j) {
            const int m = (j + round) % 5;
            imgs[m] = std::make_unique<image>();
            b.build(*imgs[m], m, 1000 + static_cast<std::uint64_t>(round * 5 + m));
        }
    };
    rebuild(0);

    constexpr int n_struct = 7;
    const char* names[n_struct] = {"plain", "inline", "bottom", "p32", "four", "rowed", "FastArt"};
    const auto run = [&](int s, const keys_t& probe, std::size_t lo, std::size_t hi, std::uint64_t& sum) {
        std::uint64_t acc = 0;
        const auto t0 = clock_type::now();
        if (s == n_struct - 1) {
            for (std::size_t i = lo; i < hi; ++i) {
                if (const std::uint64_t* v = fa.get_if(probe[i])) acc += *v;
            }
        } else if (s == 5) {
            for (std::size_t i = lo; i < hi; ++i) {
                if (const std::uint64_t* v = find<true>(*imgs[0], probe[i])) acc += *v;
            }
        } else {
            for (std::size_t i = lo; i < hi; ++i) {
                if (const std::uint64_t* v = find<false>(*imgs[s], probe[i])) acc += *v;
            }
        }
        const double t = since(t0);
        sum += acc;
        return t;
    };

    std::vector<double> t[2][n_struct];
    std::vector<double> ratio[2][n_struct];
    constexpr std::size_t slice = std::size_t{1} << 15;
    for (int r = 0; r < rounds; ++r) {
        if (r > 0) rebuild(r);
        for (int op = 0; op < 2; ++op) {
            const keys_t& probe = op == 0 ? probes : misses;
            double tot[n_struct] = {};
            std::uint64_t sum[n_struct] = {};
            for (std::size_t at = 0, n = 0; at < probe.size(); at += slice, ++n) {
                const std::size_t end = std::min(probe.size(), at + slice);
                for (int j = 0; j < n_struct; ++j) {
                    const int s = static_cast<int>((j + n + static_cast<std::size_t>(r)) % n_struct);
                    tot[s] += run(s, probe, at, end, sum[s]);
                }
            }
            for (int s = 1; s < n_struct; ++s) {
                if (sum[s] != sum[0]) {
                    std::fprintf(stderr, "layouts: %s disagrees with plain on %s (%llu vs %llu)\n", names[s], input.c_str(),
                                 static_cast<unsigned long long>(sum[s]), static_cast<unsigned long long>(sum[0]));
                    return 1;
                }
            }
            if (op == 0) {
                // Every key found, each once: the sum of 1..n.
                const std::uint64_t n = probe.size();
                if (sum[0] != n * (n + 1) / 2) {
                    std::fprintf(stderr, "layouts: wrong lookups on %s\n", input.c_str());
                    return 1;
                }
            }
            for (int s = 0; s < n_struct; ++s) {
                t[op][s].push_back(tot[s]);
                ratio[op][s].push_back(tot[0] / tot[s]);
            }
        }
    }
    std::printf("%s (%zu keys, %d rounds; image MiB plain %.1f inline %.1f, FastArt %.1f)\n", input.c_str(), sorted.size(), rounds,
                double(imgs[0]->used) / 1048576.0, double(imgs[1]->used) / 1048576.0,
                double(fa.memory_usage()) / 1048576.0);
    for (int op = 0; op < 2; ++op) {
        std::printf("  %-6s", op == 0 ? "lookup" : "miss");
        for (int s = 0; s < n_struct; ++s) {
            std::printf(" | %s %5.0f ns (x%.3f)", names[s], median(t[op][s]) * 1e9 / double(sorted.size()), median(ratio[op][s]));
        }
        std::printf("\n");
    }
}
