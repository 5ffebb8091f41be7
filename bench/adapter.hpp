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

}  // namespace memkv::bench
