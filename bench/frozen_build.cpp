// memkv-frozen-build: FrozenLayerBuilder's build time from sorted keys, with
// the default registry and with the 1024-row one HybridKV's draft runs use,
// on any number of key sets. The builder's speed sets what a flush and a run
// merge cost (issue #10) and the build rate issue #13 asks for. Prints the
// minimum and the median of --reps builds (the minimum is the steadier
// figure on a shared machine; compare two builds by alternating whole runs
// of this program), keys/s at the median, and bytes/key.
//
//   memkv-frozen-build [--reps R] (--dataset FILE | --synthetic-shape SHAPE:N)...

#include <memkv/frozen_layer.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dataset.hpp"
#include "shapes.hpp"

namespace {

double build_once(const std::vector<std::string_view>& keys, std::size_t rows, std::size_t& bytes) {
    memkv::frozen_layer_options fo;
    if (rows != 0) fo.registry_rows = rows;
    const auto t0 = std::chrono::steady_clock::now();
    memkv::FrozenLayerBuilder<std::uint64_t> b(fo);
    std::uint64_t i = 0;
    for (const std::string_view k : keys) b.insert(k, i++);
    const memkv::FrozenLayer<std::uint64_t> layer = b.finish();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    bytes = layer.bytes().size();
    return s;
}

int usage() {
    std::fprintf(stderr, "usage: memkv-frozen-build [--reps R] (--dataset FILE | --synthetic-shape SHAPE:N)...\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace memkv::bench;
    int reps = 5;
    std::vector<Dataset> sets;
    try {
        for (int i = 1; i < argc; ++i) {
            const std::string_view a = argv[i];
            if (i + 1 >= argc) return usage();
            if (a == "--reps") {
                reps = std::max(1, std::atoi(argv[++i]));
            } else if (a == "--dataset") {
                sets.push_back(Dataset::load_file(argv[++i]));
            } else if (a == "--synthetic-shape") {
                std::string error;
                const auto spec = parse_synthetic_spec(argv[++i], error);
                if (!spec) {
                    std::fprintf(stderr, "memkv-frozen-build: %s\n", error.c_str());
                    return 2;
                }
                sets.push_back(synthetic_keys(spec->shape, spec->keys, 42));
            } else {
                return usage();
            }
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "memkv-frozen-build: %s\n", e.what());
        return 1;
    }
    if (sets.empty()) return usage();
    std::printf("| keys | registry | min s | median s | keys/s (median) | bytes/key |\n|---|---|--:|--:|--:|--:|\n");
    for (const Dataset& d : sets) {
        std::vector<std::string_view> keys = d.keys();
        std::sort(keys.begin(), keys.end());
        for (const std::size_t rows : {std::size_t{0}, std::size_t{1024}}) {
            std::vector<double> t;
            std::size_t bytes = 0;
            for (int r = 0; r < reps; ++r) t.push_back(build_once(keys, rows, bytes));
            std::sort(t.begin(), t.end());
            const double median = t[t.size() / 2];
            std::printf("| %s (%zu) | %s | %.3f | %.3f | %.0f | %.2f |\n", d.name().c_str(), keys.size(),
                        rows == 0 ? "default" : "1024 rows", t.front(), median,
                        static_cast<double>(keys.size()) / median, static_cast<double>(bytes) / static_cast<double>(keys.size()));
            std::fflush(stdout);
        }
    }
    return 0;
}
