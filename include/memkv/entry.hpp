#pragma once

// memkv::entry<VRef>: what dereferencing any memkv iterator yields. It is a
// std::pair<std::string, VRef> (so std::get, views::keys/values/elements,
// pair's converting constructors and structured bindings all apply) with
// the few extras an iterator's reference needs.
//
// memkv's tries never store a key whole (its bytes are spread over the path
// from the root), so there is no stable std::pair to return a reference to.
// An iterator's operator* therefore returns a `const entry` by value that owns
// a copy of the key (`first`) and holds the value (`second`): a reference
// into the container for FastArt (V& or const V&), a copy for FrozenLayer and
// HybridKV (V), whose values are decoded rather than stored as objects.
//
// Because the entry owns its key, it stays valid after the iterator that
// made it moves on or dies: std::reverse_iterator (which dereferences a
// temporary copy), views::reverse and values collected into containers are
// safe. Returning it const lets `for (auto& [k, v] : m)` bind (auto deduces
// `const entry`), as well as `const auto&`, `auto&&` and `auto`.
//
// The cost: one key copy per dereference (an allocation when the key is
// longer than the std::string small buffer). Loops that only need the bytes
// use it.key(buf) (reuses a buffer) and it.value().

#include <concepts>
#include <cstddef>
#include <tuple>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace memkv {

template <class VRef>
struct entry : std::pair<std::string, VRef> {
    using base = std::pair<std::string, VRef>;
    using value_type = std::remove_cvref_t<VRef>;

    entry(std::string k, VRef v) : base(std::move(k), static_cast<VRef>(v)) {}

    // entry<V&> -> entry<const V&> or entry<V> (the common reference and
    // copies).
    template <class U>
        requires(!std::same_as<U, VRef> && std::convertible_to<const U&, VRef>)
    entry(const entry<U>& o) : base(o.first, o.second) {}  // NOLINT: implicit like pair's

    // From the value_type, std::pair<std::string, V>: a reference member
    // binds to the pair's value.
    template <class K, class U>
        requires std::convertible_to<const K&, std::string> && std::convertible_to<U&, VRef>
    entry(std::pair<K, U>& p) : base(p.first, p.second) {}  // NOLINT
    template <class K, class U>
        requires std::convertible_to<const K&, std::string> && std::convertible_to<const U&, VRef>
    entry(const std::pair<K, U>& p) : base(p.first, p.second) {}  // NOLINT

    const std::string& key() const noexcept { return this->first; }
    const VRef& value() const noexcept { return this->second; }

    // Compares with std::map's elements, value_type and other entries.
    template <class K, class U>
    friend bool operator==(const entry& e, const std::pair<K, U>& p) {
        return std::string_view(e.first) == std::string_view(p.first) && e.second == p.second;
    }
};

namespace detail {
// What operator-> returns for a proxy-reference iterator: it owns the entry,
// so `it->first` is valid for the full expression.
template <class E>
struct arrow_proxy {
    E e;
    const E* operator->() const noexcept { return &e; }
};

// The common reference of entry<VRef> and the value_type pair: an entry that
// refers to a const value (FastArt) or copies it (by-value entries).
template <class VRef>
using entry_common_t = entry<std::conditional_t<std::is_reference_v<VRef>,
                                                const std::remove_reference_t<VRef>&, VRef>>;
}  // namespace detail

}  // namespace memkv

// entry is tuple-like exactly as its pair base is.
template <class VRef>
struct std::tuple_size<memkv::entry<VRef>> : std::integral_constant<std::size_t, 2> {};
template <std::size_t I, class VRef>
struct std::tuple_element<I, memkv::entry<VRef>> : std::tuple_element<I, std::pair<std::string, VRef>> {};

// Lets entry<VRef> (an iterator's reference) and std::pair<std::string, V>
// (its value_type) have a common reference, as std::indirectly_readable
// requires (the same device as zip_view's tuples in C++23).
template <class VRef, class V, template <class> class TQ, template <class> class UQ>
    requires std::same_as<V, std::remove_cvref_t<VRef>>
struct std::basic_common_reference<memkv::entry<VRef>, std::pair<std::string, V>, TQ, UQ> {
    using type = memkv::detail::entry_common_t<VRef>;
};
template <class VRef, class V, template <class> class TQ, template <class> class UQ>
    requires std::same_as<V, std::remove_cvref_t<VRef>>
struct std::basic_common_reference<std::pair<std::string, V>, memkv::entry<VRef>, TQ, UQ> {
    using type = memkv::detail::entry_common_t<VRef>;
};
