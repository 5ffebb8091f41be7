#pragma once

// The API tests (tests/test_api_*.cpp) run one body against FastArt,
// FrozenLayer and HybridKV. This header builds each of them from a std::map
// model and gives the few differences one spelling:
//   make<M>(model)   a map holding exactly the model (HybridKV: spread over a
//                    base, a sealed delta with tombstones and an active delta)
//   all(m)           a view of every key (the map itself where it is a range)
//   longest(m, k)    longest_prefix as std::optional<std::pair<std::string, V>>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <ranges>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <memkv/memkv.hpp>

#include "test_support.hpp"

namespace memkv::test {

using V = std::uint64_t;
using model_t = std::map<std::string, V>;
using fast_art_t = FastArt<V>;
using frozen_t = FrozenLayer<V>;
using hybrid_t = HybridKV<V>;

template <class M>
inline constexpr bool is_hybrid = std::is_same_v<M, hybrid_t>;
template <class M>
inline constexpr bool is_frozen = std::is_same_v<M, frozen_t>;

inline hybrid_options hybrid_manual() {
    hybrid_options o;
    o.background_compaction = false;
    return o;
}

template <class M>
M make(const model_t& model) {
    if constexpr (std::is_same_v<M, fast_art_t>) {
        M m;
        for (const auto& [k, v] : model) m.insert(k, v);
        return m;
    } else if constexpr (is_frozen<M>) {
        return frozen_t::from_sorted(model);
    } else {
        // Every layer kind: half the keys (plus decoys) in the base, the
        // decoys erased (tombstones) and some values reassigned in a sealed
        // delta, the rest inserted into the active delta.
        M m(hybrid_manual());
        std::size_t i = 0;
        for (const auto& [k, v] : model) {
            if (i++ % 2 == 0) m.insert(k, v + 1);
            m.insert(k + "~decoy", 7);
        }
        m.compact();
        for (const auto& [k, v] : model) m.erase(k + "~decoy");
        i = 0;
        for (const auto& [k, v] : model) {
            if (i++ % 2 == 0) m.insert_or_assign(k, v);
        }
        (void)m.items();  // a scan seals the active delta
        for (const auto& [k, v] : model) m.insert(k, v);  // the other half
        return m;
    }
}

// Whether an insert inserted: FastArt returns std::map's pair<iterator, bool>,
// HybridKV (no iterators) the bool alone.
template <class R>
bool inserted(const R& r) {
    if constexpr (std::is_same_v<R, bool>) {
        return r;
    } else {
        return r.second;
    }
}

// Every element, as a view.
template <class M>
auto all(const M& m) {
    if constexpr (is_hybrid<M>) {
        return m.items();
    } else {
        return m.from(std::string_view{});
    }
}

// The elements of any range of memkv entries, in iteration order.
template <class R>
std::vector<std::pair<std::string, V>> collect(R&& r) {
    std::vector<std::pair<std::string, V>> out;
    for (const auto& [k, v] : r) out.emplace_back(k, v);
    return out;
}

// The model's elements in [first, last) of the model order.
inline std::vector<std::pair<std::string, V>> slice(model_t::const_iterator first, model_t::const_iterator last) {
    return {first, last};
}

// std::map's answers for the views.
inline std::vector<std::pair<std::string, V>> model_prefix(const model_t& m, std::string_view p) {
    std::vector<std::pair<std::string, V>> out;
    for (auto it = m.lower_bound(std::string(p)); it != m.end() && std::string_view(it->first).starts_with(p); ++it)
        out.emplace_back(*it);
    return out;
}
inline std::vector<std::pair<std::string, V>> model_range(const model_t& m, std::string_view lo, std::string_view hi) {
    if (hi <= lo) return {};
    return slice(m.lower_bound(std::string(lo)), m.lower_bound(std::string(hi)));
}
inline std::vector<std::pair<std::string, V>> model_from(const model_t& m, std::string_view lo) {
    return slice(m.lower_bound(std::string(lo)), m.end());
}
inline std::optional<std::pair<std::string, V>> model_longest(const model_t& m, std::string_view k) {
    for (std::size_t n = k.size() + 1; n-- > 0;) {
        auto it = m.find(std::string(k.substr(0, n)));
        if (it != m.end()) return *it;
    }
    return std::nullopt;
}

template <class M>
std::optional<std::pair<std::string, V>> longest(const M& m, std::string_view k) {
    if constexpr (is_hybrid<M>) {
        return m.longest_prefix(k);
    } else {
        auto it = m.longest_prefix(k);
        if (it == m.end()) return std::nullopt;
        return std::pair<std::string, V>(it->first, it->second);
    }
}

template <class T>
std::vector<T> reversed(std::vector<T> v) {
    return {v.rbegin(), v.rend()};
}

// Keys every API test uses: the trie's edge cases.
inline std::vector<std::string> edge_keys() {
    using namespace std::string_literals;
    return {""s,        "a"s,         "ab"s,           "abc"s,          "abd"s,   "b"s,
            "\0"s,      "\0\0"s,      "\0a"s,          "\xff"s,         "\xff\xff"s, "a\xff"s,
            "a\0"s,     "a\0b"s,      std::string(300, 'x'), std::string(300, 'x') + "y", "user:1001"s,
            "user:1002"s, "user:2000"s, "https://github.com/a/b"s, "https://github.com/a"s};
}

// The edge keys plus `n` generated ones, each with a distinct value.
inline model_t api_model(std::size_t n, std::uint64_t seed) {
    model_t m;
    V next = 1;
    for (const auto& k : edge_keys()) m.emplace(k, next++);
    key_generator::options opt;
    opt.long_probability = 0.0;
    key_generator gen(seed, opt);
    while (m.size() < edge_keys().size() + n) m.emplace(gen.next(), next++);
    return m;
}

// Probe keys: every model key, every prefix of a few of them, and misses.
inline std::vector<std::string> probes(const model_t& m, std::uint64_t seed) {
    std::vector<std::string> out;
    std::mt19937_64 rng(seed);
    for (const auto& [k, v] : m) {
        out.push_back(k);
        if (rng() % 8 == 0) {
            out.push_back(k.substr(0, k.size() / 2));
            out.push_back(k + "\x01");
            out.push_back(k + "zz");
            if (!k.empty()) {
                std::string s = k;
                s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) + 1);
                out.push_back(s);
            }
        }
    }
    out.emplace_back("\xff\xff\xff");
    out.emplace_back("zzzz");
    return out;
}

}  // namespace memkv::test
