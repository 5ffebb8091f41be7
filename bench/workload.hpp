#pragma once

// Everything a measurement needs, prepared once in the parent before any child
// is forked: the orders of the timed loops, the absent keys and the prefixes
// with their expected results. Children inherit it copy-on-write, so it sits
// in the RSS baseline of every measurement and never in a structure's delta.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "adapter.hpp"
#include "dataset.hpp"

namespace memkv::bench {

struct WorkloadOptions {
    std::uint64_t seed = 42;
    std::size_t misses = 1'000'000;  // absent lookups
    std::size_t prefixes = 10'000;   // prefix scans
    bool iterate = true;             // measure the full ordered iteration
    // Each key's value: its index in the data set (file order, so values
    // arrive in random order against the keys), or with ordinal_values its
    // rank in byte order (what an order-preserving dictionary such as
    // marisa-trie or FrozenLayer gives a key for free: issue #13 compares
    // sizes with them).
    bool ordinal_values = false;
};

// A prefix scan and what it must visit: the keys sorted[lo, hi).
struct PrefixQuery {
    std::string_view prefix;
    std::uint32_t lo = 0;
    std::uint32_t hi = 0;
};

struct Workload {
    const Dataset* data = nullptr;
    WorkloadOptions options;
    std::vector<Entry> insert_order;  // shuffled with seed
    std::vector<Entry> lookup_order;  // shuffled again, independently
    std::vector<Entry> sorted;        // increasing byte order, for build() and checks
    std::unique_ptr<char[]> miss_buffer;
    std::vector<std::string_view> misses;  // each '\0'-terminated in miss_buffer
    std::vector<PrefixQuery> prefixes;

    std::size_t size() const noexcept { return sorted.size(); }
};

// A prefix is the first 60% of a key drawn at random. Prefixes that would
// match more than max(1000, keys/100) keys are redrawn (a handful of
// attempts): "http" matches everything, and a few such scans would otherwise
// dominate the phase and measure full iteration a second time.
inline Workload make_workload(const Dataset& data, const WorkloadOptions& options) {
    Workload w;
    w.data = &data;
    w.options = options;
    const std::size_t n = data.size();
    const auto& keys = data.keys();

    // value[i]: keys[i]'s value. Either way the values are 0..n-1.
    std::vector<std::uint32_t> value(n);
    for (std::size_t r = 0; r < n; ++r) {
        const std::uint32_t i = data.sorted()[r];
        value[i] = options.ordinal_values ? static_cast<std::uint32_t>(r) : i;
    }
    w.sorted.reserve(n);
    for (const std::uint32_t i : data.sorted()) w.sorted.push_back({keys[i], value[i]});

    Rng rng(options.seed);
    w.insert_order.reserve(n);
    for (std::size_t i = 0; i < n; ++i) w.insert_order.push_back({keys[i], value[i]});
    shuffle(w.insert_order, rng);
    w.lookup_order = w.insert_order;
    shuffle(w.lookup_order, rng);

    auto find_range = [&](std::string_view p) {
        const auto lo = std::lower_bound(w.sorted.begin(), w.sorted.end(), p,
                                         [](const Entry& e, std::string_view k) { return e.key < k; });
        // Keys starting with p form one run beginning at lo.
        const auto hi = std::partition_point(lo, w.sorted.end(),
                                             [&](const Entry& e) { return e.key.starts_with(p); });
        return std::pair{static_cast<std::uint32_t>(lo - w.sorted.begin()),
                         static_cast<std::uint32_t>(hi - w.sorted.begin())};
    };
    auto present = [&](std::string_view k) {
        const auto it = std::lower_bound(w.sorted.begin(), w.sorted.end(), k,
                                         [](const Entry& e, std::string_view x) { return e.key < x; });
        return it != w.sorted.end() && it->key == k;
    };

    // Absent keys: a present key with one byte (1..255) appended, checked
    // absent; '\0' is never appended so a NUL-terminated key stays one string.
    if (n > 0 && options.misses > 0) {
        std::size_t bytes = 0;
        std::vector<std::pair<std::uint32_t, unsigned char>> picks;
        picks.reserve(options.misses);
        std::string probe;
        for (std::size_t attempts = 0; picks.size() < options.misses && attempts < options.misses * 4;
             ++attempts) {
            const auto i = static_cast<std::uint32_t>(rng.below(n));
            const auto byte = static_cast<unsigned char>(1 + rng.below(255));
            probe.assign(keys[i]);
            probe.push_back(static_cast<char>(byte));
            if (present(probe)) continue;
            picks.emplace_back(i, byte);
            bytes += keys[i].size() + 2;
        }
        w.miss_buffer = std::make_unique<char[]>(bytes);
        char* out = w.miss_buffer.get();
        w.misses.reserve(picks.size());
        for (const auto& [i, byte] : picks) {
            const std::string_view k = keys[i];
            std::copy(k.begin(), k.end(), out);
            out[k.size()] = static_cast<char>(byte);
            out[k.size() + 1] = '\0';
            w.misses.emplace_back(out, k.size() + 1);
            out += k.size() + 2;
        }
    }

    if (n > 0 && options.prefixes > 0) {
        const std::size_t cap = std::max<std::size_t>(1000, n / 100);
        w.prefixes.reserve(options.prefixes);
        for (std::size_t q = 0; q < options.prefixes; ++q) {
            PrefixQuery best;
            for (int attempt = 0; attempt < 8; ++attempt) {
                const std::string_view key = keys[rng.below(n)];
                const std::size_t len = std::max<std::size_t>(1, (key.size() * 6 + 9) / 10);
                const std::string_view p = key.substr(0, len);
                const auto [lo, hi] = find_range(p);
                if (attempt == 0 || hi - lo < best.hi - best.lo) best = {p, lo, hi};
                if (hi - lo <= cap) break;
            }
            w.prefixes.push_back(best);
        }
    }
    return w;
}

// Builds S from the workload the way every phase that needs a loaded
// structure does: build() from sorted keys for sorted builders, otherwise
// insert() in the shuffled insert order; then finish() when S has one.
template <Structure S>
std::unique_ptr<S> load_structure(const Workload& w) {
    auto s = std::make_unique<S>();
    if constexpr (S::sorted_build) {
        s->build(std::span<const Entry>(w.sorted));
    } else {
        for (const Entry& e : w.insert_order) s->insert(e.key, e.value);
    }
    if constexpr (HasFinish<S>) s->finish();
    return s;
}

}  // namespace memkv::bench
