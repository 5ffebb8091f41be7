#pragma once

// memkv::HybridKV<std::uint64_t> with its default options but the format of
// its FrozenLayer runs (hybrid.cpp registers the default, version 2, as
// "hybrid"; hybrid_v3.cpp version 3's succinct trie as "hybrid-v3", so one
// run compares the bases; issue #13): inserts go through the FastArt delta
// with background compaction on (a compaction starts each time the delta
// reaches 64 MiB); finish() runs the final compact(), inside the timed build
// phase, so lookups and scans measure the compacted store (one FrozenLayer
// base, empty delta).

#include <memkv/hybrid_kv.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string_view>

#include "adapter.hpp"

namespace memkv::bench::adapters {

template <std::uint32_t Version>
class Hybrid {
public:
    static constexpr std::string_view name = Version == 3 ? "hybrid-v3" : "hybrid";
    static constexpr bool ordered = true;
    static constexpr bool sorted_build = false;

    // The harness's keys are unique, so insert (which never overwrites) and
    // insert_or_assign do the same work here.
    void insert(std::string_view key, std::uint64_t value) {
        if (inserts_++ == 0) start_ = std::chrono::steady_clock::now();
        kv_.insert(key, value);
    }

    // The insert phase alone (without the final compaction) is reported on
    // stderr, since the harness's build time includes finish().
    void finish() {
        const auto loaded = std::chrono::steady_clock::now();
        const auto during = kv_.stats();
        const bool running = kv_.compaction_running();
        kv_.compact();
        const auto done = std::chrono::steady_clock::now();
        if (inserts_ >= 100'000) {  // quiet for the harness's small self-checks
            const double load_s = std::chrono::duration<double>(loaded - start_).count();
            const double final_s = std::chrono::duration<double>(done - loaded).count();
            std::fprintf(stderr,
                         "%s: insert phase %.3f s (%.0f inserts/s; background compactions: %llu finished%s), "
                         "final compaction %.3f s\n",
                         name.data(), load_s, static_cast<double>(inserts_) / load_s,
                         static_cast<unsigned long long>(during.compactions), running ? ", 1 running" : "",
                         final_s);
        }
    }

    std::optional<std::uint64_t> find(std::string_view key) const { return kv_.get(key); }

    // it.key() / it.value() read the merge cursor in place; `*it` (range-for)
    // would copy each key into a memkv::entry (DESIGN.md, "Iterators and
    // views"), which is the API's convenience, not the structure's cost.
    template <class F>
    void for_each(F&& f) const {
        const auto all = kv_.items();
        for (auto it = all.begin(), end = all.end(); it != end; ++it) f(std::string_view(it.key()), it.value());
    }

    template <class F>
    void for_each_prefix(std::string_view prefix, F&& f) const {
        const auto r = kv_.prefix(prefix);
        for (auto it = r.begin(), end = r.end(); it != end; ++it) f(std::string_view(it.key()), it.value());
    }

    std::optional<std::size_t> memory_usage() const { return kv_.memory_usage(); }

private:
    static memkv::hybrid_options options() {
        memkv::hybrid_options o;
        o.frozen.format_version = Version;
        return o;
    }

    memkv::MemKV<std::uint64_t> kv_{options()};
    std::size_t inserts_ = 0;
    std::chrono::steady_clock::time_point start_{};
};

}  // namespace memkv::bench::adapters
