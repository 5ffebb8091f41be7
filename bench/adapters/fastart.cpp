// memkv::FastArt<std::uint64_t>: memkv's mutable ordered map. Inserts go
// through try_emplace_value (no iterator is built), lookups through get_if,
// full iteration through for_each, prefix queries through for_each_prefix.
// memory_usage() is FastArt's own exact figure (arena chunks, bookkeeping and
// the allocator's per-allocation overhead).

#include <cstdint>
#include <optional>
#include <string_view>

#include <memkv/fast_art.hpp>

#include "registry.hpp"

namespace {

class FastArtAdapter {
public:
    static constexpr std::string_view name = "fastart";
    static constexpr bool ordered = true;
    static constexpr bool sorted_build = false;

    void insert(std::string_view key, std::uint64_t value) { tree_.try_emplace_value(key, value); }

    std::optional<std::uint64_t> find(std::string_view key) const {
        const std::uint64_t* v = tree_.get_if(key);
        if (v == nullptr) return std::nullopt;
        return *v;
    }

    template <class F>
    void for_each(F&& f) const {
        tree_.for_each([&f](std::string_view k, const std::uint64_t& v) { f(k, v); });
    }

    template <class F>
    void for_each_prefix(std::string_view prefix, F&& f) const {
        tree_.for_each_prefix(prefix, [&f](std::string_view k, const std::uint64_t& v) { f(k, v); });
    }

    std::optional<std::size_t> memory_usage() const { return tree_.memory_usage(); }

private:
    memkv::FastArt<std::uint64_t> tree_;
};

}  // namespace

MEMKV_BENCH_REGISTER(FastArtAdapter)
