#pragma once

// HybridKV's layer stack and the point lookups over it (memkv::detail); the
// k-way merge that scans it is in merge.hpp.
//
//   newest  active delta    FastArt<hybrid_slot<V>>   mutable, under the store's lock
//     |     sealed delta 0  shared_ptr<const delta>   immutable from the moment it is sealed
//     |     sealed delta 1  ...
//     v     base            shared_ptr<const FrozenLayer<V>>  (null: empty)
//   oldest
//
// A key's current state is the one recorded by the newest layer that mentions
// it; a tombstone in a delta hides every older layer. Everything under the
// active delta is immutable and shared by pointer, so readers that hold a
// hybrid_layers can walk it without any lock.

// FastArt and FrozenLayer are only named here; <memkv/hybrid_kv.hpp> includes
// their definitions before anything is instantiated.
#include <memkv/detail/fwd.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace memkv::detail {

// One entry of a delta layer.
//
//   +-----------+------+-------+
//   | V value   | live | below |
//   +-----------+------+-------+
//
// live  == false: a tombstone; `value` is meaningless.
// below == true : the key is visible (live) in the layers under this delta, as
//                 they were when the entry was created. Compaction of those
//                 lower layers preserves their visible content, so the bit
//                 stays true for the life of the entry. It gives the exact
//                 size() without a lookup on every update, and lets erase drop
//                 an entry instead of writing a tombstone when nothing below
//                 needs hiding.
template <class V>
struct hybrid_slot {
    V value{};
    bool live = false;
    bool below = false;
};
static_assert(sizeof(hybrid_slot<std::uint64_t>) == 16);

template <class V>
using hybrid_delta = FastArt<hybrid_slot<V>>;

template <class V>
struct hybrid_layers {
    std::shared_ptr<const FrozenLayer<V>> base;                    // null: empty base
    std::vector<std::shared_ptr<const hybrid_delta<V>>> sealed;    // newest first
};

// The state of `key` in the sealed deltas and the base: nullopt when absent
// or deleted. O(#sealed * delta lookup + base lookup).
template <class V>
std::optional<V> layers_get(const hybrid_layers<V>& layers, std::string_view key) {
    for (const auto& delta : layers.sealed) {
        if (const hybrid_slot<V>* slot = delta->get_if(key)) {
            if (!slot->live) return std::nullopt;
            return slot->value;
        }
    }
    if (layers.base) return layers.base->get(key);
    return std::nullopt;
}

// Whether `key` is visible in the sealed deltas and the base (no value decode).
template <class V>
bool layers_contain(const hybrid_layers<V>& layers, std::string_view key) {
    for (const auto& delta : layers.sealed) {
        if (const hybrid_slot<V>* slot = delta->get_if(key)) return slot->live;
    }
    return layers.base && layers.base->contains(key);
}

// The longest key that is a prefix of `key` and visible in the sealed deltas
// and the base, with its value. One layered lookup per candidate length,
// longest first: O(|key| * (#sealed + 1)) lookups of O(|key|) each.
template <class V>
std::optional<std::pair<std::string, V>> layers_longest_prefix(const hybrid_layers<V>& layers, std::string_view key) {
    for (std::size_t n = key.size() + 1; n-- > 0;) {
        const std::string_view k = key.substr(0, n);
        if (std::optional<V> v = layers_get(layers, k)) return std::pair<std::string, V>(std::string(k), *v);
    }
    return std::nullopt;
}

// Bytes held by the layers (the deltas' and the base's memory_usage()).
template <class V>
std::size_t layers_memory_usage(const hybrid_layers<V>& layers) {
    std::size_t total = sizeof(layers) + layers.sealed.capacity() * sizeof(layers.sealed[0]);
    for (const auto& d : layers.sealed) total += d->memory_usage();
    if (layers.base) total += layers.base->memory_usage();
    return total;
}

}  // namespace memkv::detail
