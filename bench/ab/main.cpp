// memkv A/B comparison of two FastArt source trees and libart, in one
// process (built and run by scripts/fastart-ab.sh; see variant.cpp for why).
//
//   fastart-ab INPUT [ROUNDS]
//
// INPUT is a key file (one key per line) or a generated shape SHAPE:N as in
// memkv-bench's --synthetic-shape. Each round builds both variants and
// libart from the same shuffled keys (the variants in alternating order),
// then times every key looked up (shuffled again) and as many misses (the
// key's last byte changed and one byte appended), twice, in slices that A,
// B take turns on, then by each of A, B and libart alone, each reading its
// own copy of the keys. Printed per operation: the median ns per key of A
// and B in the slices, the median over rounds of their paired speed ratio
// B/A (> 1: B is faster), the medians of the three alone, and each
// variant's speed against libart from those. Exits non-zero
// if the variants or libart disagree on any lookup.
#include "common.hpp"

extern "C" {
#include <art.h>
}

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

using keys_t = std::vector<std::string_view>;
void* ab_build_a(const keys_t&, double*);
void* ab_build_b(const keys_t&, double*);
void ab_free_a(void*);
void ab_free_b(void*);
double ab_lookup_a(const void*, const keys_t&, std::size_t, std::size_t, std::uint64_t*);
double ab_lookup_b(const void*, const keys_t&, std::size_t, std::size_t, std::uint64_t*);

namespace {
using memkv::bench::ab::clock_type;
using memkv::bench::ab::median;
using memkv::bench::ab::since;

// libart's keys carry a terminating NUL (the convention of memkv-bench's
// libart adapter; see ab::probe_copy), so no key is a prefix of another.
double libart_lookup(art_tree* t, const keys_t& probes, std::size_t begin, std::size_t end, std::uint64_t* checksum) {
    std::uint64_t s = 0;
    const auto t0 = clock_type::now();
    for (std::size_t i = begin; i < end; ++i) {
        const std::string_view k = probes[i];
        if (void* v = art_search(t, reinterpret_cast<const unsigned char*>(k.data()), static_cast<int>(k.size()) + 1)) {
            s += reinterpret_cast<std::uintptr_t>(v);
        }
    }
    const double secs = since(t0);
    *checksum += s;
    return secs;
}

// a, b: A's and B's times from the alternating slices (their ratio is
// what the pairing is for); solo_a, solo_b, lib: each timed alone over the
// whole set, as memkv-bench times one structure per process: libart
// interleaved with the variants shared the caches and the TLB with two
// other trees and lost more by it than they did (its nodes lie in 4 KiB
// pages, FastArt's in huge pages). The ratios against libart use those.
struct samples {
    std::vector<double> a, b, solo_a, solo_b, lib;
    void report(const char* op, std::size_t n) const {
        std::vector<double> paired;
        for (std::size_t i = 0; i < a.size(); ++i) paired.push_back(a[i] / b[i]);
        const auto ns = [n](const std::vector<double>& v) { return median(v) * 1e9 / double(n); };
        std::printf("  %-6s A %6.0f  B %6.0f ns/key | B/A speed %.3f | alone: A %6.0f  B %6.0f  libart %6.0f ns/key, "
                    "vs libart: A %.2f  B %.2f\n",
                    op, ns(a), ns(b), median(paired), ns(solo_a), ns(solo_b), ns(lib), median(lib) / median(solo_a),
                    median(lib) / median(solo_b));
    }
};
}  // namespace

int main(int argc, char** argv) {
    using namespace memkv::bench;
    if (argc < 2) {
        std::fprintf(stderr, "usage: fastart-ab INPUT [ROUNDS]\n");
        return 2;
    }
    const std::string input = argv[1];
    const int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
    const Dataset d = ab::load_input("fastart-ab", input);
    const keys_t keys = ab::shuffled(d.keys(), 42);
    // The probe order, as indexes into the dataset; each contender reads
    // its own copy of the keys (ab::probe_copy says why).
    std::vector<std::uint32_t> order(d.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::uint32_t>(i);
    Rng order_rng(7);
    shuffle(order, order_rng);
    const ab::probe_copy copy_a(d.keys(), order);
    const ab::probe_copy copy_b(d.keys(), order);
    const ab::probe_copy copy_lib(d.keys(), order);

    samples ins, look, miss;
    for (int r = 0; r < rounds; ++r) {
        double s = 0;
        void* A = nullptr;
        void* B = nullptr;
        if (r % 2 == 0) {
            A = ab_build_a(keys, &s), ins.a.push_back(s);
            B = ab_build_b(keys, &s), ins.b.push_back(s);
        } else {
            B = ab_build_b(keys, &s), ins.b.push_back(s);
            A = ab_build_a(keys, &s), ins.a.push_back(s);
        }
        art_tree t;
        art_tree_init(&t);
        const auto t0 = clock_type::now();
        for (std::size_t i = 0; i < keys.size(); ++i) {
            art_insert(&t, reinterpret_cast<const unsigned char*>(keys[i].data()), static_cast<int>(keys[i].size()) + 1,
                       reinterpret_cast<void*>(std::uintptr_t{i + 1}));
        }
        ins.lib.push_back(since(t0));
        ins.solo_a.push_back(ins.a.back());
        ins.solo_b.push_back(ins.b.back());
        // The probes in slices of 2^15 keys, A and B taking turns to go
        // first: both see the machine of the same few milliseconds. Then
        // each of the three alone over all of them (samples says why).
        constexpr std::size_t slice = std::size_t{1} << 15;
        const std::size_t count = order.size();
        for (int j = 0; j < 2; ++j) {
            for (const bool hits : {true, false}) {
                samples& set = hits ? look : miss;
                const keys_t& pa = hits ? copy_a.probes : copy_a.misses;
                const keys_t& pb = hits ? copy_b.probes : copy_b.misses;
                const keys_t& pl = hits ? copy_lib.probes : copy_lib.misses;
                std::uint64_t ca = 0, cb = 0, cl = 0;
                double ta = 0, tb = 0;
                for (std::size_t at = 0, n = 0; at < count; at += slice, ++n) {
                    const std::size_t end = std::min(count, at + slice);
                    if ((r + j + n) % 2 == 0) {
                        ta += ab_lookup_a(A, pa, at, end, &ca);
                        tb += ab_lookup_b(B, pb, at, end, &cb);
                    } else {
                        tb += ab_lookup_b(B, pb, at, end, &cb);
                        ta += ab_lookup_a(A, pa, at, end, &ca);
                    }
                }
                set.a.push_back(ta);
                set.b.push_back(tb);
                for (int q = 0; q < 3; ++q) {
                    std::uint64_t unused = 0;
                    switch ((r + j + q) % 3) {
                        case 0: set.solo_a.push_back(ab_lookup_a(A, pa, 0, count, &unused)); break;
                        case 1: set.solo_b.push_back(ab_lookup_b(B, pb, 0, count, &unused)); break;
                        default: set.lib.push_back(libart_lookup(&t, pl, 0, count, &cl)); break;
                    }
                }
                if (ca != cb || ca != cl) {
                    std::fprintf(stderr, "fastart-ab: wrong answers on %s (A %llu, B %llu, libart %llu)\n", input.c_str(),
                                 static_cast<unsigned long long>(ca), static_cast<unsigned long long>(cb),
                                 static_cast<unsigned long long>(cl));
                    return 1;
                }
            }
        }
        ab_free_a(A);
        ab_free_b(B);
        art_tree_destroy(&t);
    }
    std::printf("%s (%zu keys, %d rounds)\n", input.c_str(), keys.size(), rounds);
    ins.report("insert", keys.size());
    look.report("lookup", keys.size());
    miss.report("miss", keys.size());
}
