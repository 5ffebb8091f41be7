#pragma once

// memkv::bench::url_keygen: N deterministic URL-like keys, enumerable in byte
// order and in a pseudo-random order, with no memory per key (a few KiB of
// word tables per generator). Used by memkv-scale (bench/scale.cpp) for key
// sets larger than any file we keep, up to billions of keys.
//
//   url_keygen g(n, seed);
//   g.sorted(i)           the key of rank i, i in [0, n): strictly increasing in i
//   g.shuffled_index(j)   a bijection of [0, n): g.sorted(g.shuffled_index(j)),
//                         j = 0, 1, ..., visits every key once in a random order
//   g.miss(i)             a key that is not among the n keys (near key i)
//
// Each call costs O(key length): no state is kept between calls, every
// member is const and safe to call from any number of threads.
//
// Shape of a key
//
//   https://github.com/  bella  us  er  53  /  parser  -react-utils
//   \_ host ___________/ \P___/ \R/ \Q/ \T/    \W____/  \decoration_/
//                        \_ owner _______/     \_ repository ______/
//
//   host   one of five, in fixed shares of n: bitbucket.org 1%, codeberg.org
//          0.5%, gitee.com 1%, github.com 95%, gitlab.com 2.5%
//   owner  P[a] R[b] Q[c] T(e), letters and digits only: a word from P (364
//          names and nouns, a fifth of them capitalized), a syllable from R
//          (45: "berg", "ov", "ia", ...), a tail from Q ("" and 68 like "dev",
//          "js", "hq", "labs"), then digits T (none for most owners while the
//          1.13M letter combinations outnumber the owners; see 3. below)
//   repo   W[s] + decoration: a word from W (407 package-ish words), then 0-3
//          more words of W joined by '-' (rarely '.' or '_'), a common suffix
//          for a quarter ("-js", ".js", "-core", "-cli", "-plugin", ...), ".git"
//          for 1%, a monorepo path "/tree/master/packages/<word>" for 1.2%
//
// How one function of i can be both sorted and random-looking (the argument
// the tests check):
//
//  1. i -> (host h, local index l): hosts are taken in byte order, each owning
//     the contiguous block [n*cum(h)/1000, n*cum(h+1)/1000) of indices. Host
//     strings are distinct and end in '/', so keys of different hosts compare
//     by host.
//  2. l -> (owner, repository): l is cut into blocks of 64; a hash of (h, block)
//     gives a 64-bit mask whose set bits (bit 0 always) start an owner, so an
//     owner is a run of consecutive l, and its repository index is r = l -
//     (its first l). The mask's density is drawn per block (3/4, 1/4 or 1/32),
//     which gives two thirds of one-repository owners and a tail of owners
//     with dozens (at most 64).
//  3. owner -> position x, strictly increasing in (block g, rank of the owner
//     in its block), in a space of C x |T| positions: C = |P|*|R|*|Q| letter
//     combinations, each followed by the |T| digit strings of length 0..d
//     (T(0) = "", T(1) = "0", T(2) = "00", ...: a preorder walk of a complete
//     10-ary tree, which is byte order). d >= 2 is the least depth giving at
//     least 64 positions per block. While C >= G (the host's block count:
//     up to about 10^8 keys), block g owns the combinations [g*C/G, (g+1)*C/G);
//     if they are at least as many as its owners, each owner takes one
//     combination of its own slice, without digits (with random digits for
//     one in ten); otherwise consecutive owners share a combination, the
//     first without digits, the others with increasing digit strings. Beyond
//     (C < G), block g owns positions [g*S/G, (g+1)*S/G), S = C*|T|, and its
//     owners split them evenly: every owner has digits, d grows with n.
//  4. position -> string: x = ((a*|R| + b)*|Q| + c)*|T| + e, and the string
//     P[a] R[b] Q[c] T(e) increases with x: P and R are prefix-free and
//     sorted, so a, then b decide first; Q is sorted and prefix-free apart
//     from its first entry "", its other entries start with a lower-case
//     letter, and whatever can follow "" (a digit, or the '/' after the
//     owner) is below every letter, so c decides next; then T(e). After an
//     owner comes '/' (0x2F), below every owner byte, so an owner that is a
//     proper prefix of another sorts first, as its string does.
//  5. repository -> string, strictly increasing in r within its owner: the
//     owner's k repositories take words from k disjoint, consecutive slices
//     of the sorted list W (one word per slice, chosen by hash). W holds
//     lower-case letters and digits only; every decoration starts with '-',
//     '.' or '/' (all below '0') or is empty, so a word that is a prefix of
//     another's word still sorts first, whatever the decorations.
//
//  So sorted(i) < sorted(i') exactly when i < i', and keys are distinct.
//  No key contains '#': miss(i) is sorted(i) with one '#' inserted at a hashed
//  position after the host, which is therefore never a key.
//
//  shuffled_index is a Feistel network over the smallest power of two >= n
//  (8 rounds, unbalanced halves when the bit count is odd; each round is a
//  bijection whatever its round function) with cycle walking: values >= n are
//  permuted again until they fall below n (fewer than 2 steps on average,
//  since the power of two is < 2n).
//
// Distribution (seed 0; `memkv-scale --describe --keys N` prints it; the URL
// set is data/urls.txt, 1,685,458 keys, for comparison):
//
//                      URL set      2M keys      100k        5M          4e9 (sampled)
//   bytes/key          44.47        44.02        43.92       44.45       47.5
//   length p1/p50/p99  30/43/74     32/43/65     32/43/65    32/44/65
//   length max         264          99           87          98
//   lengths 30-39 / 40-49 / 50-59 / 60+:
//                      31/44/18/6%  28/52/18/2%
//   common prefix with the previous key: 29.2 (URL set), 28.4 (2M) bytes
//   hosts              github 98.2% github 95%, gitlab 2.5%, gitee 1%, bitbucket 1%, codeberg 0.5%
//   keys/owner         2.42         2.35         2.34        2.36
//   1-repo owners      65.2%        67.6%        68.1%       67.5%
//   owners with 10+    2.0%         1.6%         1.5%        1.6%     (largest: 10,533 vs 64)
//   owner / repo bytes 10.0 / 14.8  9.7 / 14.4   9.6 / 14.4  10.5 / 14.4
//   owners w/ digits   17.6%        19.1%        10.0%       58.2%       all (4 digits)
//   owners w/ capitals 25.7%        19.3%
//   repos with '-'     71.1%        83.1%
//
// Calibration (bench/RESULTS.md, "2026-11-30 memkv-scale"; `memkv-scale
// --calibrate data/urls.txt --keys 2000000`), bytes/key, URL set vs 2M
// generated keys: FastArt 43.56 vs 44.05 (1.01x), FrozenLayer with rank
// values 14.28 vs 13.61 (0.95x), FrozenLayer with input-index values 16.91 vs
// 16.24 (0.96x).
//
// Limits: n <= 2^40 (std::invalid_argument beyond). Keys depend on n and the
// seed: the same i gives another key for another n.

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace memkv::bench {

class url_keygen {
public:
    static constexpr std::uint64_t max_keys = std::uint64_t{1} << 40;

    explicit url_keygen(std::uint64_t n, std::uint64_t seed = 0) : n_(n), seed_(mix(seed ^ 0x6B657967656E2D31ULL)) {
        if (n > max_keys) throw std::invalid_argument("url_keygen: at most 2^40 keys");
        build_tables();
        // Host blocks.
        std::uint64_t cum = 0;
        for (std::size_t h = 0; h < host_count; ++h) {
            host_start_[h] = scale(n_, cum, 1000);
            cum += hosts[h].permille;
        }
        host_start_[host_count] = n_;
        const std::uint64_t combos = static_cast<std::uint64_t>(owner_words_.size()) * owner_tails_.size() *
                                     owner_mids_.size();
        for (std::size_t h = 0; h < host_count; ++h) {
            host_info& hi = host_[h];
            hi.keys = host_start_[h + 1] - host_start_[h];
            hi.blocks = (hi.keys + 63) / 64;
            hi.combos = combos;
            // At least 2 digits (room for a random digit tail and for up to 64
            // owners in one letter combination), and at least 64 positions per block.
            hi.depth = 2;
            hi.tsize = 111;
            while (combos * hi.tsize < 64 * hi.blocks) {
                ++hi.depth;
                hi.tsize = hi.tsize * 10 + 1;
            }
        }
        // Feistel halves and round keys.
        bits_ = n_ <= 1 ? 0 : static_cast<unsigned>(std::bit_width(n_ - 1));
        for (std::size_t r = 0; r < rounds; ++r) round_key_[r] = mix(seed_ + 0x100 + r);
    }

    std::uint64_t size() const noexcept { return n_; }

    // The key of rank i (i < size()); strictly increasing in i.
    std::string sorted(std::uint64_t i) const {
        std::string out;
        sorted(i, out);
        return out;
    }
    void sorted(std::uint64_t i, std::string& out) const { (void)build(i, out); }

    // A bijection of [0, size()): j -> the rank of the j-th key in shuffled order.
    std::uint64_t shuffled_index(std::uint64_t j) const {
        check(j);
        std::uint64_t x = j;
        do x = permute(x);
        while (x >= n_);
        return x;
    }

    // A key that is absent from the set: sorted(i) with a '#' inserted after the host.
    std::string miss(std::uint64_t i) const {
        std::string out;
        miss(i, out);
        return out;
    }
    void miss(std::uint64_t i, std::string& out) const {
        const std::size_t host_len = build(i, out);
        const std::size_t span = out.size() - host_len + 1;
        const std::size_t at = host_len + static_cast<std::size_t>(hash(tag_miss, i, 0) % span);
        out.insert(out.begin() + static_cast<std::ptrdiff_t>(at), '#');
    }

    // The owner of key i: {rank of its first key, its number of keys}. Keys of
    // one owner are consecutive ranks and share everything up to the '/'
    // after the owner.
    std::pair<std::uint64_t, std::uint64_t> owner_span(std::uint64_t i) const {
        const located o = locate(i);
        return {i - o.repo, o.repos};
    }

    // Number of hosts and host h's URL prefix ("https://github.com/").
    static constexpr std::size_t host_count = 5;
    static std::string_view host(std::size_t h) { return hosts[h].prefix; }
    // Digits in the owner tails of host h (grows with n).
    unsigned owner_digits(std::size_t h) const { return host_[h].depth; }

private:
    static constexpr std::size_t rounds = 8;
    static constexpr std::uint64_t tag_block = 1, tag_jitter = 2, tag_repo = 3, tag_miss = 4;

    struct host_entry {
        std::string_view prefix;
        std::uint64_t permille;
    };
    // In byte order; shares sum to 1000.
    static constexpr host_entry hosts[host_count] = {
        {"https://bitbucket.org/", 10}, {"https://codeberg.org/", 5}, {"https://gitee.com/", 10},
        {"https://github.com/", 950},   {"https://gitlab.com/", 25},
    };

    struct host_info {
        std::uint64_t keys = 0;    // M: keys of this host
        std::uint64_t blocks = 0;  // G = ceil(M / 64)
        std::uint64_t combos = 1;  // C = |P| * |Q| * |R|: letter combinations
        unsigned depth = 2;        // d: longest digit tail of an owner
        std::uint64_t tsize = 111; // |T| = number of digit strings of length 0..d
    };

    struct located {
        std::size_t host;
        std::uint64_t block;  // g
        std::uint64_t owner;  // u: the owner's first local index
        std::uint64_t repo;   // r: index of the key within its owner
        std::uint64_t repos;  // k: keys of the owner
        std::uint64_t rank;   // rho: owners before it in its block
        std::uint64_t owners; // m: owners in its block
    };

    static constexpr std::uint64_t mix(std::uint64_t z) noexcept {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    std::uint64_t hash(std::uint64_t tag, std::uint64_t a, std::uint64_t b) const noexcept {
        return mix(mix(mix(seed_ + tag) ^ a) + b);
    }
    // floor(a * b / c) without overflow (c > 0).
    static std::uint64_t scale(std::uint64_t a, std::uint64_t b, std::uint64_t c) noexcept {
        __extension__ using u128 = unsigned __int128;
        return static_cast<std::uint64_t>(static_cast<u128>(a) * b / c);
    }
    static constexpr std::uint64_t low_mask(unsigned bits) noexcept {
        return bits == 0 ? 0 : ~std::uint64_t{0} >> (64 - bits);
    }

    void check(std::uint64_t i) const {
        if (i >= n_) throw std::out_of_range("url_keygen: index out of range");
    }

    std::uint64_t permute(std::uint64_t x) const noexcept {
        // x = L << wr | R with L of wl bits and R of wr bits. One round maps
        // (L, R) to (R, L ^ F(R)), whose halves have wr and wl bits: a
        // bijection (the inverse is R = L', L = R' ^ F(L')). An even number of
        // rounds brings the widths back.
        unsigned wl = bits_ / 2, wr = bits_ - bits_ / 2;
        std::uint64_t l = x >> wr, r = x & low_mask(wr);
        for (std::size_t k = 0; k < rounds; ++k) {
            const std::uint64_t f = mix(r ^ round_key_[k]) & low_mask(wl);
            const std::uint64_t nl = r;
            r = l ^ f;
            l = nl;
            std::swap(wl, wr);
        }
        return (l << wr) | r;
    }

    located locate(std::uint64_t i) const {
        check(i);
        std::size_t h = 0;
        while (host_start_[h + 1] <= i) ++h;
        const std::uint64_t l = i - host_start_[h];
        const std::uint64_t block = l >> 6;
        const unsigned t = static_cast<unsigned>(l & 63);
        const std::uint64_t in_block = std::min<std::uint64_t>(64, host_[h].keys - (block << 6));
        const std::uint64_t mask = owner_mask(h, block) & low_mask(static_cast<unsigned>(in_block));
        const std::uint64_t below = mask & low_mask(t + 1);  // starts at or before t
        const unsigned first = static_cast<unsigned>(63 - std::countl_zero(below));
        const std::uint64_t above = t == 63 ? 0 : mask >> (t + 1);
        const std::uint64_t end = above == 0 ? in_block : t + 1 + static_cast<unsigned>(std::countr_zero(above));
        return {h,
                block,
                (block << 6) + first,
                t - first,
                end - first,
                static_cast<std::uint64_t>(std::popcount(mask & low_mask(first))),
                static_cast<std::uint64_t>(std::popcount(mask))};
    }

    // Set bits start owners. Per block one of three densities: 3/4 (48% of
    // blocks: mostly one-repository owners), 1/4 (17%), 1/32 (35%: a couple
    // of owners with dozens of repositories).
    std::uint64_t owner_mask(std::size_t h, std::uint64_t block) const noexcept {
        const std::uint64_t h0 = hash(tag_block, h, block);
        const std::uint64_t a = mix(h0 + 1), b = mix(h0 + 2);
        const std::uint64_t regime = h0 % 100;
        std::uint64_t m;
        if (regime < 48) {
            m = a | b;
        } else if (regime < 65) {
            m = a & b;
        } else {
            m = a & b & mix(h0 + 3) & mix(h0 + 4) & mix(h0 + 5);
        }
        return m | 1;
    }

    // The owner's position x in [0, C * |T|), strictly increasing in (block,
    // rank): x = combo * |T| + e, where e = 0 means "no digits".
    std::uint64_t owner_position(const located& o, const host_info& hi, std::uint64_t z) const noexcept {
        const std::uint64_t t = hi.tsize;
        const std::uint64_t m = o.owners, rho = o.rank;
        if (hi.combos >= hi.blocks) {
            // Block g owns the letter combinations [c0, c1), at least one.
            const std::uint64_t c0 = scale(o.block, hi.combos, hi.blocks);
            const std::uint64_t nc = scale(o.block + 1, hi.combos, hi.blocks) - c0;
            if (nc >= m) {
                // A slice of combinations per owner: one of them, without digits
                // (with digits for about one owner in ten).
                const std::uint64_t lo = rho * nc / m, hi_c = (rho + 1) * nc / m;
                const std::uint64_t combo = c0 + lo + z % (hi_c - lo);
                const std::uint64_t e = (z >> 32) % 10 == 0 ? 1 + (z >> 40) % (t - 1) : 0;
                return combo * t + e;
            }
            // Fewer combinations than owners: consecutive owners share one; the
            // first of them goes without digits, the k-th (k >= 1) takes the
            // k-th of s - 1 slices of [1, |T|) (s <= m <= 64 < |T|).
            const std::uint64_t kappa = rho * nc / m;
            const std::uint64_t first = (kappa * m + nc - 1) / nc;
            const std::uint64_t s = ((kappa + 1) * m + nc - 1) / nc - first;
            const std::uint64_t k = rho - first;
            std::uint64_t e = 0;
            if (k > 0) {
                const std::uint64_t lo = (k - 1) * (t - 1) / (s - 1), hi_e = k * (t - 1) / (s - 1);
                e = 1 + lo + z % (hi_e - lo);
            }
            return (c0 + kappa) * t + e;
        }
        // More blocks than combinations (about 10^9 keys and up): block g owns
        // the positions [g * S / G, (g + 1) * S / G), at least 64 of them, and
        // its owners share them evenly.
        const std::uint64_t space = hi.combos * t;
        const std::uint64_t p0 = scale(o.block, space, hi.blocks);
        const std::uint64_t len = scale(o.block + 1, space, hi.blocks) - p0;
        const std::uint64_t lo = rho * len / m, hi_p = (rho + 1) * len / m;
        return p0 + lo + z % (hi_p - lo);
    }

    // Writes key i to out; returns the host prefix's length.
    std::size_t build(std::uint64_t i, std::string& out) const {
        const located o = locate(i);
        const host_info& hi = host_[o.host];
        out.clear();
        out += hosts[o.host].prefix;
        const std::size_t host_len = out.size();

        // Owner: x strictly increasing in u, read as (a, b, c, e).
        const std::uint64_t owner_id = (static_cast<std::uint64_t>(o.host) << 48) ^ o.owner;
        const std::uint64_t x = owner_position(o, hi, hash(tag_jitter, owner_id, 0));
        std::uint64_t e = x % hi.tsize;
        std::uint64_t y = x / hi.tsize;
        const std::size_t c = static_cast<std::size_t>(y % owner_tails_.size());
        y /= owner_tails_.size();
        const std::size_t b = static_cast<std::size_t>(y % owner_mids_.size());
        out += owner_words_[static_cast<std::size_t>(y / owner_mids_.size())];
        out += owner_mids_[b];
        out += owner_tails_[c];
        // T(e): preorder rank in the complete 10-ary tree of depth d.
        unsigned d = hi.depth;
        while (e != 0) {
            --e;
            --d;
            const std::uint64_t sub = tree_size_[d];
            out.push_back(static_cast<char>('0' + e / sub));
            e %= sub;
        }
        out.push_back('/');

        // Repository: a word from slice r of k of W, then the decoration.
        const std::uint64_t nw = repo_words_.size();
        const std::uint64_t lo = o.repo * nw / o.repos, hi_w = (o.repo + 1) * nw / o.repos;
        std::uint64_t z = hash(tag_repo, owner_id, o.repo);
        out += repo_words_[static_cast<std::size_t>(lo + z % (hi_w - lo))];
        z = mix(z);
        const std::uint64_t more = z % 100;
        const int extra = more < 20 ? 0 : more < 62 ? 1 : more < 88 ? 2 : 3;
        for (int w = 0; w < extra; ++w) {
            z = mix(z);
            const std::uint64_t sep = z % 100;
            out.push_back(sep < 95 ? '-' : (sep < 98 || w == 0) ? '.' : '_');
            out += repo_words_[static_cast<std::size_t>((z >> 8) % nw)];
        }
        z = mix(z);
        const std::uint64_t tail = z % 1000;
        if (tail < 250) {
            out += suffixes[static_cast<std::size_t>((z >> 10) % std::size(suffixes))];
        } else if (tail < 260) {
            out += ".git";
        } else if (tail < 272) {
            out += "/tree/master/packages/";
            out += repo_words_[static_cast<std::size_t>((z >> 10) % nw)];
        }
        return host_len;
    }

    // Sorted, deduplicated; when one entry is a prefix of another, the longer goes.
    static std::vector<std::string> prefix_free(std::vector<std::string> v) {
        std::sort(v.begin(), v.end());
        std::vector<std::string> out;
        for (std::string& s : v) {
            if (!out.empty() && s.starts_with(out.back())) continue;
            out.push_back(std::move(s));
        }
        return out;
    }

    void build_tables() {
        std::vector<std::string> p;
        for (const std::string_view w : owner_base) {
            p.emplace_back(w);
            // A quarter also capitalized, chosen by the word (not the seed).
            std::uint64_t f = 1469598103934665603ULL;
            for (const char c : w) f = (f ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
            if (mix(f) % 4 == 0) {
                std::string cap(w);
                cap[0] = static_cast<char>(cap[0] - 'a' + 'A');
                p.push_back(std::move(cap));
            }
        }
        owner_words_ = prefix_free(std::move(p));
        owner_tails_ = prefix_free({std::begin(owner_tail_base), std::end(owner_tail_base)});
        owner_tails_.insert(owner_tails_.begin(), std::string());
        owner_mids_ = prefix_free({std::begin(owner_mid_base), std::end(owner_mid_base)});
        std::vector<std::string> w(std::begin(repo_base), std::end(repo_base));
        std::sort(w.begin(), w.end());
        w.erase(std::unique(w.begin(), w.end()), w.end());
        repo_words_ = std::move(w);
        tree_size_[0] = 1;
        for (std::size_t d = 1; d < tree_size_.size(); ++d) tree_size_[d] = tree_size_[d - 1] * 10 + 1;
    }

    // Word lists (written for this generator). Owners: lower-case letters
    // (made prefix-free above); owner tails: lower-case letters; repository
    // words: lower-case letters and digits.
    static constexpr std::string_view owner_base[] = {
        "aaron", "abel", "acme", "adam", "adrian", "agent", "aiden", "akira", "alba", "aleks", "alex", "alice",
        "alpha", "amber", "amir", "anand", "andre", "angel", "anna", "anton", "apex", "arc", "ari", "arjun",
        "arrow", "ash", "astro", "atlas", "aurora", "axel", "azure", "bao", "bard", "basil", "bear", "beck",
        "bella", "ben", "bit", "blaze", "bloom", "blue", "bolt", "boris", "brave", "brick", "bruno", "byte",
        "cade", "cairo", "calvin", "carl", "cedar", "chen", "chip", "chris", "cipher", "clara", "cloud", "cobalt",
        "coco", "comet", "coral", "craig", "crow", "cyber", "dai", "dale", "dana", "dark", "dash", "dawn", "deep",
        "delta", "deno", "derek", "dima", "dino", "dmitri", "drake", "dusk", "echo", "eddy", "elena", "eli",
        "ember", "emil", "emma", "enzo", "epic", "eric", "ethan", "evan", "falcon", "felix", "fern", "finn",
        "flux", "fox", "frank", "frost", "fuji", "gabe", "gala", "gary", "gene", "geo", "gina", "glen", "glow",
        "gold", "grace", "gray", "greg", "grid", "guo", "hale", "hana", "hans", "haru", "hawk", "helix", "henry",
        "hiro", "holly", "hugo", "hyper", "ian", "igor", "ilya", "indigo", "ion", "iris", "iron", "isaac",
        "ivan", "ivy", "jack", "jade", "jake", "jamal", "jan", "jay", "jens", "jet", "jia", "jin", "joel",
        "john", "jonas", "jose", "juan", "jules", "juno", "kai", "kaito", "karl", "kate", "keith", "ken", "kiara",
        "kim", "kira", "kite", "koji", "kong", "kumar", "kyle", "lab", "lars", "laura", "leaf", "lee", "lena",
        "leo", "liam", "lily", "lin", "liu", "lobo", "logan", "loki", "lora", "lucas", "luna", "lynx", "mach",
        "maya", "mega", "mei", "milo", "ming", "mint", "misha", "moon", "moss", "nadia", "nano", "neo", "nico",
        "nikita", "nina", "noah", "noel", "nova", "oak", "olga", "omar", "onyx", "opal", "orbit", "oscar", "otto",
        "owen", "pablo", "paul", "pedro", "pei", "penny", "pixel", "pluto", "polar", "prism", "qiang", "quill",
        "raj", "ravi", "ray", "rei", "remy", "rex", "rio", "river", "robin", "rocket", "rosa", "ruby", "rune",
        "ryan", "sage", "sam", "sara", "scott", "sean", "sergei", "shadow", "shin", "silva", "simon", "sky",
        "sol", "sonic", "stan", "storm", "sun", "swift", "taro", "tech", "theo", "tiger", "tim", "tina", "tom",
        "tony", "trent", "ueda", "ultra", "uma", "uri", "vale", "vega", "vera", "vic", "vivek", "volt", "wade",
        "wang", "wave", "wei", "will", "wolf", "xander", "xeno", "xin", "yan", "yuki", "yuri", "zack", "zain",
        "zed", "zen", "zhang", "zoe", "zora"};
    static constexpr std::string_view owner_tail_base[] = {
        "ai", "app", "bot", "box", "cat", "cloud", "code", "craft", "data", "dev", "dog", "er", "fan", "fire",
        "forge", "fx", "go", "guy", "hack", "hq", "hub", "inc", "io", "jr", "js", "kid", "kit", "lab", "land",
        "ly", "man", "max", "me", "mind", "net", "ninja", "nut", "one", "ops", "org", "ov", "pi", "pro", "py",
        "qa", "ray", "rs", "sec", "sen", "set", "ski", "sky", "son", "sr", "star", "sun", "tech", "ton", "top",
        "ui", "up", "vi", "web", "wiz", "works", "x", "yo", "z"};
    static constexpr std::string_view owner_mid_base[] = {
        "ah", "an", "ard", "ax", "berg", "by", "den", "ee", "el", "em", "en", "et", "ez", "ford", "gren",
        "ia", "ic", "ie", "il", "in", "io", "is", "ki", "la", "ley", "ma", "mo", "na", "ne", "ni", "ov", "rey",
        "ri", "ro", "sa", "shi", "ta", "ti", "um", "us", "ux", "va", "wick", "yn", "za"};
    static constexpr std::string_view repo_base[] = {
        "about", "access", "action", "adapter", "admin", "agent", "ai", "ajax", "alert", "algo", "analytics",
        "angular", "animate", "api", "app", "archive", "array", "assert", "asset", "astro", "async", "atom",
        "audio", "auth", "auto", "avatar", "aws", "axios", "azure", "babel", "backend", "badge", "base", "basic",
        "batch", "bench", "binary", "bind", "bit", "blob", "blog", "board", "boiler", "bot", "box", "bridge",
        "browser", "buffer", "build", "bundle", "button", "cache", "calendar", "camera", "canvas", "card",
        "cart", "chain", "chart", "chat", "check", "class", "cli", "client", "clock", "cloud", "cluster",
        "code", "codec", "color", "common", "compiler", "component", "compose", "config", "connect", "console",
        "context", "cookie", "copy", "core", "counter", "cron", "crypto", "css", "csv", "cursor", "dash",
        "data", "date", "db", "debug", "deep", "demo", "deploy", "design", "dev", "diff", "discord", "dns",
        "doc", "docker", "dom", "draft", "drag", "drive", "dropdown", "dynamo", "easy", "editor", "electron",
        "element", "email", "ember", "emitter", "emoji", "encode", "engine", "entity", "env", "error",
        "eslint", "event", "example", "excel", "express", "extract", "fast", "feed", "fetch", "field", "file",
        "filter", "firebase", "flag", "flow", "font", "form", "format", "frame", "fs", "gallery", "game",
        "gateway", "generator", "geo", "git", "github", "glob", "graph", "graphql", "grid", "grunt", "gulp",
        "hash", "header", "helper", "hook", "hooks", "html", "http", "i18n", "icon", "icons", "image", "import",
        "index", "infinite", "init", "input", "inspect", "intl", "ios", "jest", "job", "jquery", "js", "json",
        "jwt", "kafka", "key", "kit", "koa", "lambda", "lang", "layout", "lazy", "lib", "lint", "list", "lite",
        "live", "loader", "locale", "lodash", "log", "logger", "login", "lru", "mail", "map", "markdown",
        "match", "math", "mcp", "md", "media", "memo", "menu", "merge", "meta", "micro", "middleware", "mini",
        "mobile", "mock", "modal", "model", "module", "mongo", "monitor", "motion", "mqtt", "multi", "music",
        "mysql", "native", "nav", "net", "next", "ng", "node", "notify", "npm", "number", "nuxt", "oauth",
        "object", "observer", "open", "openai", "orm", "pack", "package", "page", "pager", "panel", "parse",
        "parser", "path", "pay", "pdf", "perf", "picker", "pipe", "pixel", "player", "plugin", "pool", "popup",
        "port", "post", "postcss", "preact", "preset", "prettier", "print", "promise", "proto", "proxy", "pub",
        "query", "queue", "quick", "random", "range", "rate", "react", "reader", "redis", "redux", "regex",
        "render", "report", "request", "resize", "rest", "retry", "rollup", "route", "router", "rpc", "rss",
        "rx", "s3", "safe", "sass", "scan", "schema", "scroll", "sdk", "search", "select", "semver", "sentry",
        "seo", "serve", "server", "service", "session", "shell", "shop", "signal", "simple", "site", "sketch",
        "slack", "slider", "slug", "smart", "socket", "solid", "sort", "sound", "spa", "spec", "sql", "sqlite",
        "stack", "starter", "state", "static", "stats", "storage", "store", "stream", "string", "style",
        "styled", "super", "svelte", "svg", "swagger", "sync", "table", "tabs", "tag", "tailwind", "task",
        "telegram", "template", "term", "test", "text", "theme", "thread", "time", "timer", "toast", "token",
        "tool", "tools", "tooltip", "touch", "trace", "tree", "trigger", "ts", "tslint", "twitter", "type",
        "types", "ui", "unit", "upload", "url", "user", "utils", "uuid", "v2", "validate", "validator", "value",
        "vector", "video", "view", "virtual", "vite", "vue", "wallet", "wasm", "watch", "web", "webpack",
        "websocket", "widget", "window", "wiki", "worker", "wrapper", "ws", "xml", "yaml", "yarn", "zip",
        "zod", "zone"};
    static constexpr std::string_view suffixes[] = {
        "-js", ".js", "-core", "-cli", "-plugin", "-utils", "-api", "-sdk", "-ui", "-react", "-node", "-ts",
        "-server", "-client", "-lib", "-kit", "-config", "-v2", "-demo", "-example"};

    std::uint64_t n_;
    std::uint64_t seed_;
    std::array<std::uint64_t, host_count + 1> host_start_{};
    std::array<host_info, host_count> host_{};
    unsigned bits_ = 0;
    std::array<std::uint64_t, rounds> round_key_{};
    std::array<std::uint64_t, 20> tree_size_{};
    std::vector<std::string> owner_words_;  // P: prefix-free, sorted
    std::vector<std::string> owner_tails_;  // Q: "" then prefix-free, sorted, lower-case initials
    std::vector<std::string> owner_mids_;   // R: prefix-free, sorted, lower case
    std::vector<std::string> repo_words_;   // W: sorted, unique
};

}  // namespace memkv::bench
