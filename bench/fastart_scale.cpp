// memkv-fastart-scale N: FastArt alone on memkv-scale's keys, in the same
// pseudo-random order, insert rate per tenth (keys generated outside the timed
// part) - the reference for HybridKV's insert rate at N keys.
#include <memkv/memkv.hpp>
#include "keygen.hpp"
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>
int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: memkv-fastart-scale N\n");
        return 2;
    }
    const std::uint64_t n = std::strtoull(argv[1], nullptr, 10);
    memkv::bench::url_keygen g(n);
    memkv::FastArt<std::uint64_t> fa;
    std::string k;
    double total = 0;
    for (std::uint64_t t = 0; t < 10; ++t) {
        std::vector<std::string> keys;
        const std::uint64_t lo = n * t / 10, hi = n * (t + 1) / 10;
        keys.reserve(hi - lo);
        for (std::uint64_t j = lo; j < hi; ++j) { g.sorted(g.shuffled_index(j), k); keys.push_back(k); }
        auto s = std::chrono::steady_clock::now();
        for (std::uint64_t j = lo; j < hi; ++j) fa.insert(keys[j - lo], j);
        double d = std::chrono::duration<double>(std::chrono::steady_clock::now() - s).count();
        total += d;
        std::printf("%.2f ", static_cast<double>(hi - lo) / d / 1e6);
    }
    std::printf("\nFastArt %llu keys: %.3f Mops/s overall, %.1f B/key\n", (unsigned long long)n, static_cast<double>(n) / total / 1e6, static_cast<double>(fa.memory_usage()) / static_cast<double>(n));
}
