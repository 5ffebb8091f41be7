// Deliberately broken adapters, linked only into memkv-bench-selftest, so CTest
// can check end to end that memkv-bench reports a wrong result or a crashing
// structure as FAILED and exits with status 1 while still measuring the rest.

#include <csignal>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "registry.hpp"

namespace {

class MapBase {
public:
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
        for (const auto& [k, v] : map_) f(std::string_view(k), v);
    }
    template <class F>
    void for_each_prefix(std::string_view p, F&& f) const {
        for (auto it = map_.lower_bound(p); it != map_.end() && std::string_view(it->first).starts_with(p); ++it) {
            f(std::string_view(it->first), it->second);
        }
    }
    std::optional<std::size_t> memory_usage() const { return std::nullopt; }
    std::size_t size() const { return map_.size(); }

private:
    std::map<std::string, std::uint64_t, std::less<>> map_;
};

// Returns a wrong value for one key.
class BrokenLookup : public MapBase {
public:
    static constexpr std::string_view name = "broken_lookup";
    std::optional<std::uint64_t> find(std::string_view key) const {
        const auto v = MapBase::find(key);
        if (v && *v == 7) return 8;
        return v;
    }
};

// Killed by a signal mid-build, as a crash or the OOM killer would.
class Crashing : public MapBase {
public:
    static constexpr std::string_view name = "crashing";
    void insert(std::string_view key, std::uint64_t value) {
        MapBase::insert(key, value);
        if (size() == 1000) std::raise(SIGKILL);
    }
};

}  // namespace

MEMKV_BENCH_REGISTER(BrokenLookup)
MEMKV_BENCH_REGISTER(Crashing)
