// memkv-fastart-churn: does FastArt's memory come back under churn? Keeps LIVE
// keys of a data set in the tree and, for ROUNDS rounds, erases SWAP random
// keys and inserts SWAP keys that are not in the tree. Prints memory_usage()
// and process RSS every 5 rounds, verify()s the tree, then erases everything
// and prints memory_usage() again (it must equal that of an empty tree; exit 1
// otherwise).
//
//   memkv-fastart-churn --dataset FILE|SHAPE:N [--live 800000] [--swap 200000] [--rounds 30]
//
// SHAPE:N generates keys as memkv-bench --synthetic-shape does (seed 42).

#include <memkv/fast_art.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "dataset.hpp"
#include "shapes.hpp"

namespace {

double rss_mib() {
    std::ifstream s("/proc/self/status");
    for (std::string line; std::getline(s, line);) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
    }
    return -1;
}

constexpr double mib = 1024.0 * 1024.0;

}  // namespace

int main(int argc, char** argv) {
    std::string path;
    std::size_t live = 800'000, swap = 200'000, rounds = 30;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        const char* v = argv[i + 1];
        if (a == "--dataset") path = v;
        else if (a == "--live") live = std::strtoull(v, nullptr, 10);
        else if (a == "--swap") swap = std::strtoull(v, nullptr, 10);
        else if (a == "--rounds") rounds = std::strtoull(v, nullptr, 10);
    }
    if (path.empty()) {
        std::fprintf(stderr, "usage: %s --dataset FILE|SHAPE:N [--live N] [--swap N] [--rounds N]\n", argv[0]);
        return 2;
    }
    const auto data = memkv::bench::load_keys(path, 42);
    const auto& keys = data.keys();
    live = std::min(live, keys.size() / 2);
    swap = std::min(swap, live);
    std::vector<std::size_t> inside(keys.size());
    for (std::size_t i = 0; i < inside.size(); ++i) inside[i] = i;
    std::mt19937_64 rng(7);
    std::shuffle(inside.begin(), inside.end(), rng);
    std::vector<std::size_t> outside(inside.begin() + static_cast<std::ptrdiff_t>(live), inside.end());
    inside.resize(live);

    memkv::FastArt<std::uint64_t> tree;
    const std::size_t empty_usage = tree.memory_usage();
    for (const std::size_t i : inside) tree.insert(keys[i], i);
    std::printf("%zu live keys of %s, %zu swapped per round\n", live, path.c_str(), swap);
    std::printf("round 0: memory_usage %.1f MiB, RSS %.1f MiB\n", static_cast<double>(tree.memory_usage()) / mib, rss_mib());
    for (std::size_t round = 1; round <= rounds; ++round) {
        std::shuffle(inside.begin(), inside.end(), rng);
        std::shuffle(outside.begin(), outside.end(), rng);
        for (std::size_t j = 0; j < swap; ++j) {
            tree.erase(keys[inside[j]]);
            tree.insert(keys[outside[j]], outside[j]);
            std::swap(inside[j], outside[j]);
        }
        if (round % 5 == 0 || round == rounds) {
            std::printf("round %zu: memory_usage %.1f MiB, RSS %.1f MiB\n", round,
                        static_cast<double>(tree.memory_usage()) / mib, rss_mib());
        }
    }
    tree.verify();
    if (tree.size() != live) {
        std::fprintf(stderr, "size %zu, expected %zu\n", tree.size(), live);
        return 1;
    }
    for (const std::size_t i : inside) tree.erase(keys[i]);
    std::printf("after erasing all: memory_usage %zu bytes (empty tree: %zu), RSS %.1f MiB\n",
                tree.memory_usage(), empty_usage, rss_mib());
    return tree.memory_usage() == empty_usage ? 0 : 1;
}
