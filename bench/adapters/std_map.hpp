#pragma once

// std::map<std::string, std::uint64_t>: the ordered baseline every memkv
// structure is compared with. One heap node per key (red-black links, the
// std::string and the value) plus a second allocation for keys longer than
// the string's inline buffer (15 bytes in libstdc++). Registered by
// std_map.cpp; the self-test's broken adapters derive from it.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace memkv::bench::adapters {

class StdMap {
public:
    static constexpr std::string_view name = "std_map";
    static constexpr bool ordered = true;
    static constexpr bool sorted_build = false;

    void insert(std::string_view key, std::uint64_t value) { map_.emplace(std::string(key), value); }

    std::optional<std::uint64_t> find(std::string_view key) const {
        const auto it = map_.find(key);
        if (it == map_.end()) return std::nullopt;
        return it->second;
    }

    template <class F>
    void for_each(F&& f) const {
        for (const auto& [key, value] : map_) f(std::string_view(key), value);
    }

    template <class F>
    void for_each_prefix(std::string_view prefix, F&& f) const {
        for (auto it = map_.lower_bound(prefix); it != map_.end(); ++it) {
            const std::string_view key = it->first;
            if (!key.starts_with(prefix)) break;
            f(key, it->second);
        }
    }

    // The allocator's per-node overhead is invisible from here; the RSS delta
    // is the honest figure.
    std::optional<std::size_t> memory_usage() const { return std::nullopt; }

    std::size_t size() const { return map_.size(); }

private:
    std::map<std::string, std::uint64_t, std::less<>> map_;
};

}  // namespace memkv::bench::adapters
