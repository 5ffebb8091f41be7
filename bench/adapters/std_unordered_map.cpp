// std::unordered_map<std::string, std::uint64_t>: the unordered baseline. No
// reserve(): the table grows as a user's would. It has no prefix index, so its
// prefix scans are filtered full scans, checked on a few prefixes but not
// timed.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "registry.hpp"

namespace {

// Transparent, so find() takes a string_view without building a std::string.
struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

class StdUnorderedMap {
public:
    static constexpr std::string_view name = "std_unordered_map";
    static constexpr bool ordered = false;
    static constexpr bool sorted_build = false;
    static constexpr bool has_prefix_index = false;

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
        for (const auto& [key, value] : map_) {
            if (std::string_view(key).starts_with(prefix)) f(std::string_view(key), value);
        }
    }

    std::optional<std::size_t> memory_usage() const { return std::nullopt; }

private:
    std::unordered_map<std::string, std::uint64_t, StringHash, std::equal_to<>> map_;
};

}  // namespace

MEMKV_BENCH_REGISTER(StdUnorderedMap)
