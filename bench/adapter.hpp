#pragma once

// The adapter interface of memkv-bench. One file per structure in bench/adapters/
// defines a type that satisfies memkv::bench::Structure and registers it with
// MEMKV_BENCH_REGISTER(Type). The harness instantiates its measurement loops per
// adapter type (no virtual call inside a timed loop), so every structure pays the
// same, near-zero, harness cost per operation.
//
//   struct StdMap {
//       static constexpr std::string_view name = "std_map";
//       static constexpr bool ordered = true;        // for_each visits keys in byte order
//       static constexpr bool sorted_build = false;  // true: build() from sorted keys
//       void insert(std::string_view key, std::uint64_t value);          // !sorted_build
//       void build(std::span<const memkv::bench::Entry> sorted);         //  sorted_build
//       std::optional<std::uint64_t> find(std::string_view key) const;
//       template <class F> void for_each(F&& f) const;                   // f(key, value)
//       template <class F> void for_each_prefix(std::string_view p, F&& f) const;
//       std::optional<std::size_t> memory_usage() const;  // nullopt: structure cannot tell
//   };
//
// Optional members, detected with `requires` (leave them out when the default fits):
//
//       void finish();          // called after the last insert()/build(), inside the timed
//                               // build phase (e.g. a final merge or compaction)
//       static constexpr bool has_prefix_index = false;   // default true. false: for_each_prefix
//                               // is a filtered full scan; the harness then checks it on a
//                               // few prefixes and does not time prefix scans
//       static constexpr bool needs_nul_terminator = true;  // default false. true: the structure
//                               // stores each key with the '\0' the harness puts after it
//                               // (libart), so it cannot hold a set in which a key followed
//                               // by '\0' begins another key; it is skipped, not failed, on
//                               // such a data set (Dataset::nul_terminator_ambiguous)
//
// Guarantees the harness gives every adapter:
//   * Every key view passed to insert(), build() and find() stays valid for the whole run
//     (keys live in one contiguous buffer loaded before measuring), and the byte just past
//     its end is '\0', so key.data() is also a C string (libart relies on it). Prefix views
//     passed to for_each_prefix() carry no such guarantee.
//   * Keys are unique and never empty; values are the key's index in the data set.
//   * build() gets the keys strictly increasing in byte order (unsigned comparison).
//   * for_each()/for_each_prefix() callbacks only read their arguments; the key view must
//     stay valid until the callback returns.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace memkv::bench {

struct Entry {
    std::string_view key;
    std::uint64_t value;
};

namespace detail {
struct visit_probe {
    void operator()(std::string_view, std::uint64_t) const noexcept {}
};
}  // namespace detail

template <class S>
concept Structure = std::default_initializable<S> &&
    requires(S& s, const S& cs, std::string_view key, std::uint64_t value,
             std::span<const Entry> sorted, detail::visit_probe f) {
        { S::name } -> std::convertible_to<std::string_view>;
        { S::ordered } -> std::convertible_to<bool>;
        { S::sorted_build } -> std::convertible_to<bool>;
        { cs.find(key) } -> std::same_as<std::optional<std::uint64_t>>;
        cs.for_each(f);
        cs.for_each_prefix(key, f);
        { cs.memory_usage() } -> std::same_as<std::optional<std::size_t>>;
        requires(S::sorted_build ? requires { s.build(sorted); }
                                 : requires { s.insert(key, value); });
    };

// The optional members above, with their defaults.
template <Structure S>
inline constexpr bool has_prefix_index_v = [] {
    if constexpr (requires { S::has_prefix_index; }) {
        return static_cast<bool>(S::has_prefix_index);
    } else {
        return true;
    }
}();

template <Structure S>
inline constexpr bool needs_nul_terminator_v = [] {
    if constexpr (requires { S::needs_nul_terminator; }) {
        return static_cast<bool>(S::needs_nul_terminator);
    } else {
        return false;
    }
}();

template <class S>
concept HasFinish = requires(S& s) { s.finish(); };

}  // namespace memkv::bench
