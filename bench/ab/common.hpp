#pragma once

// What the bench/ab programs share: their input (a key file or SHAPE:N, as
// memkv-bench's --synthetic-shape), the probes and misses they time, and
// the timing helpers.

#include "../dataset.hpp"
#include "../shapes.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

namespace memkv::bench::ab {

using clock_type = std::chrono::steady_clock;

inline double since(clock_type::time_point t0) {
    return std::chrono::duration<double>(clock_type::now() - t0).count();
}

inline double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// The keys of `input`; on an unreadable file or a bad shape, the message
// (prefixed with the program's name) and exit status 2.
inline Dataset load_input(const char* program, const std::string& input) {
    try {
        return load_keys(input, 42);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", program, e.what());
        std::exit(2);
    }
}

// A copy of `keys` in a fixed pseudo-random order (seed: which order).
inline std::vector<std::string_view> shuffled(std::vector<std::string_view> keys, std::uint64_t seed) {
    Rng rng(seed);
    shuffle(keys, rng);
    return keys;
}

// One miss per probe: the key with its last byte changed and a byte
// appended (nearly always absent; the programs compare the structures'
// answers rather than assume it).
struct misses {
    std::vector<std::string> store;
    std::vector<std::string_view> keys;

    explicit misses(const std::vector<std::string_view>& probes) {
        store.reserve(probes.size());
        for (const std::string_view k : probes) {
            std::string m(k);
            if (!m.empty()) m.back() = static_cast<char>(m.back() ^ 0x5a);
            m.push_back('\x01');
            store.push_back(std::move(m));
        }
        keys.assign(store.begin(), store.end());
    }
    misses(const misses&) = delete;
    misses& operator=(const misses&) = delete;
};

}  // namespace memkv::bench::ab
