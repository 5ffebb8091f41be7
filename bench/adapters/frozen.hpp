#pragma once

// memkv::FrozenLayer<std::uint64_t>: the immutable, compressed base layer,
// written in file format `Version` (frozen.cpp registers the default,
// version 2, as "frozen"; frozen_v1.cpp version 1 as "frozen-v1" and
// frozen_v3.cpp the succinct trie, version 3, as "frozen-v3", so one run
// compares the formats). Built from sorted keys (sorted_build): the
// harness times build() over the key-sorted entries. Values are the
// harness's (each key's index in the data set file), so they arrive in
// random order relative to the keys and take a bit-packed column of
// ceil(log2(n)) bits per key. memory_usage() is the serialized image
// (header + automaton + value column) plus the object.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include <memkv/frozen_layer.hpp>

#include "adapter.hpp"

namespace memkv::bench::adapters {

template <std::uint32_t Version>
class Frozen {
public:
    static constexpr std::string_view name = Version == 1 ? "frozen-v1" : Version == 3 ? "frozen-v3" : "frozen";
    static constexpr bool ordered = true;
    static constexpr bool sorted_build = true;

    void build(std::span<const memkv::bench::Entry> sorted) {
        memkv::frozen_layer_options opt;
        opt.format_version = Version;
        opt.expected_keys = sorted.size();  // the size hint a user with the keys in hand gives
        memkv::FrozenLayerBuilder<std::uint64_t> b(opt);
        for (const auto& e : sorted) b.insert(e.key, e.value);
        layer_ = b.finish();
    }

    std::optional<std::uint64_t> find(std::string_view key) const { return layer_.get(key); }

    template <class F>
    void for_each(F&& f) const {
        for (auto it = layer_.begin(), end = layer_.end(); it != end; ++it) f(std::string_view(it.key()), it.value());
    }

    template <class F>
    void for_each_prefix(std::string_view prefix, F&& f) const {
        const auto r = layer_.prefix(prefix);
        for (auto it = r.begin(); it != r.end(); ++it) f(std::string_view(it.key()), it.value());
    }

    std::optional<std::size_t> memory_usage() const { return layer_.memory_usage(); }

private:
    memkv::FrozenLayer<std::uint64_t> layer_;
};

}  // namespace memkv::bench::adapters
