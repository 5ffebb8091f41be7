// marisa-trie (Debian's libmarisa-dev), a static recursive-tail trie: the
// size bar of issue #13, as a comparison peer only. CMake compiles this file
// only with -DMEMKV_BENCH_MARISA=ON and an installed marisa (marisa.h,
// libmarisa).
//
// What is measured, and how the adapter deals with marisa's model:
//   * marisa stores keys only and numbers them itself (key ids 0..n-1 in its
//     own order). The harness checks that find() returns each key's value, so
//     the adapter keeps the values in a vector indexed by key id. memory_usage()
//     is the trie alone (Trie::io_size(), what marisa saves to a file): the
//     "keys only" bar. The RSS figures include the vector (8 bytes per key).
//   * Default configuration (3 tries, text tails, weight order): marisa's own
//     defaults, the figures its users get. Keys holding '\0' switch marisa's
//     tails to binary by itself.
//   * Iteration is a predictive search from the empty prefix, in marisa's
//     order, not byte order: ordered = false (checked as a set).
//   * build() gets the keys sorted (sorted_build), like FrozenLayer's, and the
//     whole build (keyset, trie) is timed.

#include <marisa.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "registry.hpp"

namespace {

class Marisa {
public:
    static constexpr std::string_view name = "marisa";
    static constexpr bool ordered = false;
    static constexpr bool sorted_build = true;

    void build(std::span<const memkv::bench::Entry> sorted) {
        marisa::Keyset keys;
        for (const auto& e : sorted) keys.push_back(e.key.data(), e.key.size());
        trie_.build(keys);
        values_.assign(sorted.size(), 0);
        for (std::size_t i = 0; i < sorted.size(); ++i) values_[keys[i].id()] = sorted[i].value;
    }

    std::optional<std::uint64_t> find(std::string_view key) const {
        // One agent reused (the harness is single-threaded): a lookup
        // allocates nothing once it has grown.
        agent_.set_query(key.data(), key.size());
        if (!trie_.lookup(agent_)) return std::nullopt;
        return values_[agent_.key().id()];
    }

    template <class F>
    void for_each(F&& f) const {
        for_each_prefix(std::string_view{}, f);
    }

    template <class F>
    void for_each_prefix(std::string_view prefix, F&& f) const {
        marisa::Agent agent;
        agent.set_query(prefix.data(), prefix.size());
        while (trie_.predictive_search(agent)) {
            const marisa::Key& k = agent.key();
            f(std::string_view(k.ptr(), k.length()), values_[k.id()]);
        }
    }

    std::optional<std::size_t> memory_usage() const { return trie_.io_size(); }

private:
    marisa::Trie trie_;
    mutable marisa::Agent agent_;
    std::vector<std::uint64_t> values_;
};

}  // namespace

MEMKV_BENCH_REGISTER(Marisa)
