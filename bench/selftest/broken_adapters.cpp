// Deliberately broken adapters, linked only into memkv-bench-selftest, so CTest
// can check end to end that memkv-bench reports a wrong result or a crashing
// structure as FAILED and exits with status 1 while still measuring the rest.

#include <csignal>
#include <cstdint>
#include <optional>
#include <string_view>

#include "adapters/std_map.hpp"
#include "registry.hpp"

namespace {

using MapBase = memkv::bench::adapters::StdMap;

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
