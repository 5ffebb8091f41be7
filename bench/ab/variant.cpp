// One FastArt variant of the A/B comparison (scripts/fastart-ab.sh): this
// file is compiled once per source tree, with -Dmemkv=memkv_<tag> so that two
// versions of the header-only library live in one program, and
// -DMEMKV_AB_TAG=<tag> naming the functions below (ab_build_a, ...).
//
// Why in one program: on a shared VM a tree's lookup time moves by 40%
// between runs of the same binary, while both variants timed in alternation
// in one process see the same machine (bench/RESULTS.md, twentieth session).
#include <memkv/fast_art.hpp>

#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

#define MEMKV_AB_CAT2(a, b) a##b
#define MEMKV_AB_CAT(a, b) MEMKV_AB_CAT2(a, b)
#define MEMKV_AB_FN(name) MEMKV_AB_CAT(name, MEMKV_AB_TAG)

namespace {
using map_type = memkv::FastArt<std::uint64_t>;
using clock_type = std::chrono::steady_clock;
volatile std::uint64_t sink;

double since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }
}  // namespace

// Inserts keys[i] -> i in order; *seconds gets the time taken.
void* MEMKV_AB_FN(ab_build_)(const std::vector<std::string_view>& keys, double* seconds) {
    auto* m = new map_type;
    const auto t0 = clock_type::now();
    for (std::size_t i = 0; i < keys.size(); ++i) m->try_emplace_value(keys[i], i);
    *seconds = since(t0);
    return m;
}

void MEMKV_AB_FN(ab_free_)(void* m) { delete static_cast<map_type*>(m); }

// Looks probes[begin, end) up; adds to *checksum the sum of (value + 1) over
// the hits, so both variants (and libart) can be checked against each other.
double MEMKV_AB_FN(ab_lookup_)(const void* m, const std::vector<std::string_view>& probes, std::size_t begin,
                                std::size_t end, std::uint64_t* checksum) {
    const map_type& t = *static_cast<const map_type*>(m);
    std::uint64_t s = 0;
    const auto t0 = clock_type::now();
    for (std::size_t i = begin; i < end; ++i) {
        if (const std::uint64_t* v = t.get_if(probes[i])) s += *v + 1;
    }
    const double secs = since(t0);
    sink = s;
    *checksum += s;
    return secs;
}
