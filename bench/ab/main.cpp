// memkv A/B comparison of two FastArt source trees and libart, in one
// process (built and run by scripts/fastart-ab.sh; see variant.cpp for why).
//
//   fastart-ab INPUT [ROUNDS]
//
// INPUT is a key file (one key per line) or a generated shape SHAPE:N as in
// memkv-bench's --synthetic-shape. Each round builds both variants and
// libart from the same shuffled keys (the variants in alternating order),
// then times every key looked up (shuffled again) and as many misses (the
// key's last byte changed and one byte appended), twice, in slices that A
// and B take turns on. Printed per operation: median ns per key of A, B and
// libart, the median over rounds of the paired speed ratio B/A (> 1: B is
// faster), and each variant's median speed against libart. Exits non-zero
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

// libart's keys carry the dataset's terminating NUL (the convention of
// memkv-bench's libart adapter), so no key is a prefix of another; the
// misses are copies that carry their own.
double libart_lookup(art_tree* t, const keys_t& probes, std::uint64_t* checksum) {
    std::uint64_t s = 0;
    const auto t0 = clock_type::now();
    for (const std::string_view k : probes) {
        if (void* v = art_search(t, reinterpret_cast<const unsigned char*>(k.data()), static_cast<int>(k.size()) + 1)) {
            s += reinterpret_cast<std::uintptr_t>(v);
        }
    }
    const double secs = since(t0);
    *checksum = s;
    return secs;
}

struct samples {
    std::vector<double> a, b, lib;
    void report(const char* op, std::size_t n) const {
        std::vector<double> paired;
        for (std::size_t i = 0; i < a.size(); ++i) paired.push_back(a[i] / b[i]);
        std::printf("  %-6s A %6.0f  B %6.0f  libart %6.0f ns/key | B/A speed %.3f | vs libart: A %.2f  B %.2f\n", op,
                    median(a) * 1e9 / double(n), median(b) * 1e9 / double(n), median(lib) * 1e9 / double(n),
                    median(paired), median(lib) / median(a), median(lib) / median(b));
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
    const keys_t probes = ab::shuffled(keys, 7);
    const ab::misses miss_set(probes);
    const keys_t& misses = miss_set.keys;

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
        // The probes in slices of 2^15 keys, A and B taking turns to go
        // first: both see the machine of the same few milliseconds.
        constexpr std::size_t slice = std::size_t{1} << 15;
        for (int j = 0; j < 2; ++j) {
            for (auto [set, probe] : {std::pair{&look, &probes}, std::pair{&miss, &misses}}) {
                std::uint64_t ca = 0, cb = 0, cl = 0;
                double ta = 0, tb = 0;
                for (std::size_t at = 0, n = 0; at < probe->size(); at += slice, ++n) {
                    const std::size_t end = std::min(probe->size(), at + slice);
                    if ((r + j + n) % 2 == 0) {
                        ta += ab_lookup_a(A, *probe, at, end, &ca);
                        tb += ab_lookup_b(B, *probe, at, end, &cb);
                    } else {
                        tb += ab_lookup_b(B, *probe, at, end, &cb);
                        ta += ab_lookup_a(A, *probe, at, end, &ca);
                    }
                }
                set->a.push_back(ta);
                set->b.push_back(tb);
                set->lib.push_back(libart_lookup(&t, *probe, &cl));
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
