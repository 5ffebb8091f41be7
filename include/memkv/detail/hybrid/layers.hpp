#pragma once

// HybridKV's layer stack and the k-way merge over it (memkv::detail).
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

// Bounds of a scan: every key >= lo, and then either below `hi` or starting
// with `prefix` (whichever is set).
struct scan_bounds {
    enum class kind : std::uint8_t { unbounded, below, prefix };
    std::string lo;
    std::string limit;  // hi (exclusive) or the prefix
    kind k = kind::unbounded;

    bool past_end(std::string_view key) const noexcept {
        switch (k) {
        case kind::unbounded: return false;
        case kind::below: return key >= std::string_view(limit);
        case kind::prefix: return !key.starts_with(limit);
        }
        return false;
    }
};

// K-way merge over a hybrid_layers stack (deltas newest first, then the base),
// yielding each key once in byte order with the state of its newest layer.
// With `include_base == false` only the deltas are merged; the result then
// carries tombstones and, per key, the `below` bit of its oldest delta entry
// (the one relative to the layers under all the merged deltas).
//
// Sources are few (the sealed-delta count is kept small by the compactor), so
// the minimum is found by a linear pass instead of a heap. Cost per step:
// O(#sources) key comparisons plus one iterator increment per source that held
// the key. The cursor owns nothing: the layers must outlive it.
template <class V>
class hybrid_merge_cursor {
    using delta_iter = decltype(std::declval<const hybrid_delta<V>&>().lower_bound(std::string_view{}));
    using base_iter = decltype(std::declval<const FrozenLayer<V>&>().lower_bound(std::string_view{}));

    struct delta_source {
        delta_iter it;
        delta_iter end;
        std::string key;
        bool done = false;
    };
    struct base_source {
        base_iter it;
        base_iter end;
        std::string key;
        bool done = false;
    };

public:
    struct entry {
        std::string key;
        hybrid_slot<V> slot;
    };

    hybrid_merge_cursor() = default;

    hybrid_merge_cursor(const hybrid_layers<V>& layers, std::string_view lo, bool include_base) {
        deltas_.reserve(layers.sealed.size());
        for (const auto& d : layers.sealed) {
            delta_source s{d->lower_bound(lo), d->end(), {}, false};
            load(s);
            deltas_.push_back(std::move(s));
        }
        if (include_base && layers.base) {
            base_.emplace(base_source{layers.base->lower_bound(lo), layers.base->end(), {}, false});
            load(*base_);
        }
    }

    // Moves to the next key (tombstones included) and stores it in `out`.
    // Returns false when every source is exhausted.
    bool next(entry& out) {
        const std::string* min = nullptr;
        for (const auto& s : deltas_) {
            if (!s.done && (min == nullptr || s.key < *min)) min = &s.key;
        }
        if (base_ && !base_->done && (min == nullptr || base_->key < *min)) min = &base_->key;
        if (min == nullptr) return false;
        out.key = *min;  // copy before the sources move on

        bool found = false;
        for (auto& s : deltas_) {
            if (s.done || s.key != out.key) continue;
            const hybrid_slot<V>& slot = s.it.value();
            if (!found) {
                out.slot = slot;
                found = true;
            } else {
                out.slot.below = slot.below;  // the oldest delta entry decides `below`
            }
            ++s.it;
            load(s);
        }
        if (base_ && !base_->done && base_->key == out.key) {
            if (!found) {
                out.slot = hybrid_slot<V>{base_->it.value(), true, false};
                found = true;
            }
            ++base_->it;
            load(*base_);
        }
        return true;
    }

private:
    template <class Source>
    static void load(Source& s) {
        if (s.it == s.end) {
            s.done = true;
            s.key.clear();
        } else {
            if constexpr (requires { s.it.key(s.key); }) {
                s.it.key(s.key);  // reuses the buffer
            } else {
                s.key = s.it.key();
            }
        }
    }

    std::vector<delta_source> deltas_;
    std::optional<base_source> base_;
};

}  // namespace memkv::detail
