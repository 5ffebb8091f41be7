#pragma once

// The key set of tests/data/frozen_v1.frz, a FrozenLayer<std::uint64_t>
// file written by memkv before format version 2 (commit 32f237c's headers,
// streaming builder, default options). Deterministic everywhere: only
// std::mt19937_64's raw output, whose sequence the standard fixes.

#include <cstdint>
#include <iterator>
#include <map>
#include <random>
#include <string>

namespace memkv::test {

inline std::map<std::string, std::uint64_t> frozen_v1_fixture_keys() {
    std::mt19937_64 rng(20261204);
    std::map<std::string, std::uint64_t> m{{"", 7}, {std::string(1, '\0'), 8}, {"\xff", 9}, {"\xff\xff", 10}};
    while (m.size() < 400) {
        std::string k;
        switch (rng() % 4) {
            case 0:  // text under a shared prefix
                k = "https://example.com/" + std::to_string(rng() % 100000) + "/item";
                break;
            case 1:  // random bytes
                for (std::uint64_t n = 1 + rng() % 20; n > 0; --n) k.push_back(static_cast<char>(rng() & 0xFF));
                break;
            case 2: {  // a prefix of an earlier key, or it extended
                const std::string& b = std::next(m.begin(), static_cast<std::ptrdiff_t>(rng() % m.size()))->first;
                k = b.substr(0, rng() % (b.size() + 1));
                if (rng() % 2) k += "\x01z";
                break;
            }
            default:  // words of a small alphabet
                for (std::uint64_t n = 1 + rng() % 9; n > 0; --n) k.push_back("etaoinsh"[rng() % 8]);
                break;
        }
        m.emplace(std::move(k), rng() % 1000000);
    }
    return m;
}

}  // namespace memkv::test
