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
#include <cstring>
#include <exception>
#include <memory>
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

// A probe's miss, written at out (k.size() + 1 bytes): the key with its last
// byte changed and a byte appended (nearly always absent; the programs
// compare the structures' answers rather than assume it).
inline std::string_view write_miss(std::string_view k, char* out) {
    std::memcpy(out, k.data(), k.size());
    if (!k.empty()) out[k.size() - 1] = static_cast<char>(out[k.size() - 1] ^ 0x5a);
    out[k.size()] = '\x01';
    return {out, k.size() + 1};
}

// One miss per probe (write_miss).
struct misses {
    std::vector<std::string> store;
    std::vector<std::string_view> keys;

    explicit misses(const std::vector<std::string_view>& probes) {
        store.reserve(probes.size());
        for (const std::string_view k : probes) {
            std::string m(k.size() + 1, '\0');
            write_miss(k, m.data());
            store.push_back(std::move(m));
        }
        keys.assign(store.begin(), store.end());
    }
    misses(const misses&) = delete;
    misses& operator=(const misses&) = delete;
};

// One contender's own copy of the probes and the misses. With one copy
// shared by the contenders timed in turns on a slice, the second found the
// slice's key bytes, and their pages' TLB entries, already cached by the
// first: libart, timed alone over the whole set, never did, so FastArt
// looked up to 25% faster against libart than memkv-bench (one structure
// per process) measures (bench/RESULTS.md, thirtieth session). As in
// memkv-bench, the probes keep the dataset's layout (their order is random
// over it) and the misses lie in the order they are probed; every key is
// followed by a '\0' (libart's terminator).
struct probe_copy {
    std::unique_ptr<char[]> bytes;
    std::vector<std::string_view> probes;
    std::vector<std::string_view> misses;

    // keys: the dataset's keys in its order; order: the probe order, as
    // indexes into keys. The misses are write_miss's.
    probe_copy(const std::vector<std::string_view>& keys, const std::vector<std::uint32_t>& order) {
        std::size_t total = 0;
        for (const std::string_view k : keys) total += 2 * k.size() + 3;
        bytes = std::make_unique<char[]>(total);
        char* out = bytes.get();
        std::vector<std::string_view> copied;
        copied.reserve(keys.size());
        for (const std::string_view k : keys) {
            std::memcpy(out, k.data(), k.size());
            out[k.size()] = '\0';
            copied.emplace_back(out, k.size());
            out += k.size() + 1;
        }
        probes.reserve(order.size());
        misses.reserve(order.size());
        for (const std::uint32_t i : order) {
            probes.push_back(copied[i]);
            misses.push_back(write_miss(keys[i], out));
            out[keys[i].size() + 1] = '\0';
            out += keys[i].size() + 2;
        }
    }
};

}  // namespace memkv::bench::ab
