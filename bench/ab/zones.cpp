// What a fresh page costs, and what FastArt's flat zones pay for it (issue
// #14; bench/RESULTS.md, twenty-second session).
//
//   1. the time of a first touch: 512 pages of 4 KiB in a fresh reservation
//      (as a flat zone's small chunks), then 2 MiB pages marked for
//      transparent huge pages, then the same bytes in 4 KiB pages;
//   2. FastArt trees built from INPUT (a key file or SHAPE:N, as memkv-bench's
//      --synthetic-shape), alternately in flat zones and in
//      table zones (slab_arena::test_table_zones), each round a new tree:
//      insert and lookup ns/key, the destructor's time, and minor faults.
//
// Build and run from the repository root (Linux):
//   g++ -std=c++20 -O3 -DNDEBUG -march=native -Iinclude -Ibench bench/ab/zones.cpp -o zones
//   ./zones INPUT [ROUNDS]
#include "common.hpp"

#include <memkv/fast_art.hpp>

#include <sys/mman.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace {

using memkv::bench::ab::clock_type;
using memkv::bench::ab::median;

double micros(clock_type::time_point a, clock_type::time_point b) {
    return std::chrono::duration<double, std::micro>(b - a).count();
}

long minor_faults() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
}

void page_costs() {
    constexpr std::size_t huge = std::size_t{2} << 20;
    constexpr std::size_t page = 4096;
    constexpr std::size_t huge_pages = 16;
    std::vector<double> small_us, huge_us, split_us;
    for (int round = 0; round < 5; ++round) {
        // 512 pages spread over 8 slots of 256 KiB, as a tree's first chunks.
        const std::size_t reserve = std::size_t{16} << 30;
        auto* r = static_cast<char*>(
            mmap(nullptr, reserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0));
        if (r == MAP_FAILED) return;
        madvise(r, reserve, MADV_NOHUGEPAGE);
        auto a = clock_type::now();
        for (std::size_t i = 0; i < 512; ++i) r[(i / 64) * (256 << 10) + (i % 64) * page] = 1;
        auto b = clock_type::now();
        munmap(r, reserve);
        small_us.push_back(micros(a, b) / 512);

        auto* raw = static_cast<char*>(mmap(nullptr, (huge_pages + 1) * huge, PROT_READ | PROT_WRITE,
                                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        if (raw == MAP_FAILED) return;
        auto* h = reinterpret_cast<char*>((reinterpret_cast<std::uintptr_t>(raw) + huge - 1) & ~(huge - 1));
        madvise(h, huge_pages * huge, MADV_HUGEPAGE);
        a = clock_type::now();
        for (std::size_t i = 0; i < huge_pages; ++i) h[i * huge] = 1;
        b = clock_type::now();
        munmap(raw, (huge_pages + 1) * huge);
        huge_us.push_back(micros(a, b) / huge_pages);

        auto* s = static_cast<char*>(
            mmap(nullptr, huge_pages * huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        if (s == MAP_FAILED) return;
        madvise(s, huge_pages * huge, MADV_NOHUGEPAGE);
        a = clock_type::now();
        for (std::size_t i = 0; i < huge_pages * huge; i += page) s[i] = 1;
        b = clock_type::now();
        munmap(s, huge_pages * huge);
        split_us.push_back(micros(a, b) / huge_pages);
    }
    std::printf("first touch (median of 5): 4 KiB page %.1f us; 2 MiB huge page %.0f us; 2 MiB as 4 KiB pages %.0f us\n",
                median(small_us), median(huge_us), median(split_us));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s INPUT [ROUNDS]\n", argv[0]);
        return 2;
    }
    const memkv::bench::Dataset d = memkv::bench::ab::load_input("zones", argv[1]);
    const std::vector<std::string_view> keys = memkv::bench::ab::shuffled(d.keys(), 42);
    page_costs();
    const int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 11;
    struct figures {
        std::vector<double> insert_ns, lookup_ns, destroy_us, faults;
    } f[2];
    std::uint64_t found = 0;
    for (int round = 0; round < rounds; ++round) {
        for (int table = 0; table < 2; ++table) {
            memkv::detail::slab_arena::test_table_zones.store(table == 1);
            const long faults = minor_faults();
            const auto a = clock_type::now();
            auto tree = std::make_unique<memkv::FastArt<std::uint64_t>>();
            std::uint64_t i = 0;
            for (const std::string_view k : keys) tree->insert(k, i++);
            const auto b = clock_type::now();
            for (const std::string_view k : keys) found += tree->find(k) != tree->end();
            const auto c = clock_type::now();
            tree.reset();
            const auto d = clock_type::now();
            f[table].insert_ns.push_back(micros(a, b) * 1e3 / keys.size());
            f[table].lookup_ns.push_back(micros(b, c) * 1e3 / keys.size());
            f[table].destroy_us.push_back(micros(c, d));
            f[table].faults.push_back(static_cast<double>(minor_faults() - faults));
        }
    }
    memkv::detail::slab_arena::test_table_zones.store(false);
    if (found != std::uint64_t{2} * static_cast<std::uint64_t>(rounds) * keys.size()) {
        std::fprintf(stderr, "wrong lookups\n");
        return 1;
    }
    std::printf("%zu keys, %d rounds, medians:\n", keys.size(), rounds);
    for (int table = 0; table < 2; ++table) {
        std::printf("  %s zones: insert %6.1f ns/key  lookup %6.1f ns/key  destroy %5.0f us  minor faults %5.0f\n",
                    table == 1 ? "table" : "flat ", median(f[table].insert_ns), median(f[table].lookup_ns),
                    median(f[table].destroy_us), median(f[table].faults));
    }
}
