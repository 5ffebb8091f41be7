// How many ART levels a lookup passes, per key set, and how many it would
// pass if a node could absorb those of its children that branch on the very
// next byte (a compound node over two bytes), as long as the compound's
// fanout stays within CAP. A model of the key set's shape, not of FastArt's
// code: nodes are the branching points of the sorted, distinct keys; a
// leaf's level is its parent's. Measures what multi-byte spans could save
// before any tree code is written (issue #14; bench/RESULTS.md, twentieth
// session).
//
//   g++ -std=c++20 -O2 -Iinclude -Ibench bench/ab/levels.cpp -o levels
//   ./levels INPUT [CAP]      INPUT: a key file or SHAPE:N; CAP default 48
#include "common.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {
using range = std::pair<std::size_t, std::size_t>;

struct model {
    std::vector<std::string_view> keys;  // sorted, distinct
    std::size_t cap = 48;
    double levels = 0;           // summed over keys, plain ART
    double compound_levels = 0;  // summed over keys, with compounds
    std::size_t nodes = 0;
    std::size_t compound_nodes = 0;

    std::size_t common_from(std::string_view a, std::string_view b, std::size_t d) const {
        const std::size_t n = std::min(a.size(), b.size());
        while (d < n && a[d] == b[d]) ++d;
        return d;
    }
    // The children of [lo, hi) branching at byte d; a key of length d is
    // the node's terminal, a child of its own.
    std::vector<range> children(std::size_t lo, std::size_t hi, std::size_t d) const {
        std::vector<range> out;
        std::size_t i = lo;
        if (keys[i].size() == d) {
            out.push_back({i, i + 1});
            ++i;
        }
        while (i < hi) {
            const char c = keys[i][d];
            std::size_t j = i + 1;
            while (j < hi && keys[j][d] == c) ++j;
            out.push_back({i, j});
            i = j;
        }
        return out;
    }
    // [lo, hi) below `lv` plain levels and `clv` compound levels; absorbed:
    // this node is part of its parent's compound.
    void walk(std::size_t lo, std::size_t hi, std::size_t depth, std::size_t lv, std::size_t clv, bool absorbed) {
        const std::size_t d = common_from(keys[lo], keys[hi - 1], depth);
        const std::vector<range> kids = children(lo, hi, d);
        ++nodes;
        if (!absorbed) ++compound_nodes;
        const std::size_t here = absorbed ? 0 : 1;
        std::vector<char> absorb(kids.size(), 0);
        if (!absorbed) {
            std::size_t fanout = 0;
            for (std::size_t i = 0; i < kids.size(); ++i) {
                const auto [a, b] = kids[i];
                if (b - a > 1 && keys[a].size() > d && common_from(keys[a], keys[b - 1], d + 1) == d + 1) {
                    absorb[i] = 1;
                    fanout += children(a, b, d + 1).size();
                } else {
                    fanout += 1;
                }
            }
            if (fanout > cap) std::fill(absorb.begin(), absorb.end(), 0);
        }
        for (std::size_t i = 0; i < kids.size(); ++i) {
            const auto [a, b] = kids[i];
            if (b - a == 1) {
                levels += double(lv + 1);
                compound_levels += double(clv + here);
            } else {
                walk(a, b, d + 1, lv + 1, clv + here, absorb[i] != 0);
            }
        }
    }
};
}  // namespace

int main(int argc, char** argv) {
    using namespace memkv::bench;
    if (argc < 2) {
        std::fprintf(stderr, "usage: levels INPUT [CAP]\n");
        return 2;
    }
    const std::string input = argv[1];
    const Dataset d = ab::load_input("levels", input);
    model m;
    if (argc > 2) m.cap = std::strtoul(argv[2], nullptr, 10);
    m.keys = d.keys();
    std::sort(m.keys.begin(), m.keys.end());
    m.keys.erase(std::unique(m.keys.begin(), m.keys.end()), m.keys.end());
    if (m.keys.size() > 1) m.walk(0, m.keys.size(), 0, 0, 0, false);
    const double n = double(m.keys.size());
    std::printf("%-28s keys %zu  levels/key %.2f  with compounds (fanout <= %zu) %.2f  nodes %zu -> %zu\n",
                input.c_str(), m.keys.size(), m.levels / n, m.cap, m.compound_levels / n, m.nodes, m.compound_nodes);
}
