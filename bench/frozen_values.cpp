// memkv-frozen-values: FrozenLayer's size, build rate and lookup rate for the
// three value shapes the FrozenLayer issue is judged on, on one data set:
//
//   ordinal   value = the key's rank in byte order (the column is omitted)
//   index     value = the key's position in the data set file (bit-packed)
//   random    value = a random 64-bit integer (fixed seed; 64 bits per key)
//
// memkv-bench uses the "index" shape for every structure; this program adds
// the other two. bytes/key = automaton + value column (what memory_usage()
// counts, less the fixed header). Every lookup is checked; exit 1 on a wrong one.
//
//   memkv-frozen-values --dataset FILE | --synthetic N [--save DIR]

#include <memkv/frozen_layer.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "dataset.hpp"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
    using memkv::bench::Dataset;
    std::string dataset_path;
    std::size_t synthetic = 0;
    std::string save_dir;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--dataset" && i + 1 < argc) {
            dataset_path = argv[++i];
        } else if (a == "--synthetic" && i + 1 < argc) {
            synthetic = std::strtoull(argv[++i], nullptr, 10);
        } else if (a == "--save" && i + 1 < argc) {
            save_dir = argv[++i];
        } else {
            std::fprintf(stderr, "usage: %s --dataset FILE | --synthetic N [--save DIR]\n", argv[0]);
            return 2;
        }
    }
    if (dataset_path.empty() == (synthetic == 0)) {
        std::fprintf(stderr, "give exactly one of --dataset FILE and --synthetic N\n");
        return 2;
    }
    const Dataset data = synthetic ? Dataset::synthetic(synthetic) : Dataset::load_file(dataset_path);
    const auto& keys = data.keys();
    const auto& sorted = data.sorted();
    const std::size_t n = data.size();
    std::printf("## memkv-frozen-values: %s\n\n%zu keys, %.1f raw bytes/key\n\n", data.name().c_str(), n,
                static_cast<double>(data.raw_bytes()) / static_cast<double>(n));
    std::printf("| values | bytes/key | automaton B/key | column B/key | value bits | build s | build Mkeys/s | lookup Mops/s | file bytes |\n");
    std::printf("|---|--:|--:|--:|--:|--:|--:|--:|--:|\n");

    std::mt19937_64 rng(42);
    std::vector<std::uint32_t> lookup_order(sorted.begin(), sorted.end());
    std::shuffle(lookup_order.begin(), lookup_order.end(), rng);
    std::vector<std::size_t> rank_of(n);
    for (std::size_t r = 0; r < n; ++r) rank_of[sorted[r]] = r;

    int failures = 0;
    for (const char* mode : {"ordinal", "index", "random"}) {
        std::vector<std::uint64_t> value(n);  // by key index
        for (std::size_t i = 0; i < n; ++i) {
            value[i] = mode[0] == 'o' ? rank_of[i] : mode[0] == 'i' ? i : rng();
        }
        const auto t0 = std::chrono::steady_clock::now();
        memkv::FrozenLayerBuilder<std::uint64_t> b;
        for (const std::uint32_t i : sorted) b.insert(keys[i], value[i]);
        memkv::FrozenLayer<std::uint64_t> f = b.finish();
        const double build_s = seconds_since(t0);

        const auto t1 = std::chrono::steady_clock::now();
        std::size_t bad = 0;
        for (const std::uint32_t i : lookup_order) {
            const auto v = f.get(keys[i]);
            bad += !(v && *v == value[i]);
        }
        const double lookup_s = seconds_since(t1);
        if (bad != 0) {
            std::fprintf(stderr, "%s: %zu wrong lookups\n", mode, bad);
            ++failures;
        }
        std::uintmax_t file_bytes = 0;
        if (!save_dir.empty()) {
            const auto path = std::filesystem::path(save_dir) / (std::string("frozen_") + mode + ".frz");
            f.save(path.string());
            file_bytes = std::filesystem::file_size(path);
        }
        const double dn = static_cast<double>(n);
        std::printf("| %s | %.2f | %.2f | %.2f | %u | %.3f | %.2f | %.2f | %s |\n", mode,
                    static_cast<double>(f.automaton_size() + f.value_column_size()) / dn,
                    static_cast<double>(f.automaton_size()) / dn,
                    static_cast<double>(f.value_column_size()) / dn, f.value_bits(), build_s,
                    dn / build_s / 1e6, dn / lookup_s / 1e6,
                    file_bytes ? std::to_string(file_bytes).c_str() : "-");
    }
    return failures ? 1 : 0;
}
