#pragma once

/// @file
/// @brief memkv::entry, what dereferencing any memkv iterator yields.

#include <concepts>
#include <cstddef>
#include <tuple>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace memkv {

/// What dereferencing any memkv iterator yields: a key and a value.
///
/// It is a `std::pair<std::string, VRef>` (so std::get,
/// `views::keys`/`values`/`elements`, pair's converting constructors and
/// structured bindings all apply) with the few extras an iterator's
/// reference needs; std::tuple_size and std::tuple_element are specialized
/// as for its pair base.
///
/// memkv's tries never store a key whole (its bytes are spread over the path
/// from the root), so there is no stable std::pair to return a reference to.
/// An iterator's `operator*` therefore returns a `const entry` by value that
/// owns a copy of the key (`first`) and holds the value (`second`): a
/// reference into the container for FastArt (`V&` or `const V&`), a copy for
/// FrozenLayer and HybridKV (`V`), whose values are decoded rather than
/// stored as objects.
///
/// Because the entry owns its key, it stays valid after the iterator that
/// made it moves on or dies: std::reverse_iterator (which dereferences a
/// temporary copy), `views::reverse` and values collected into containers
/// are safe. Returning it const lets `for (auto& [k, v] : m)` bind (auto
/// deduces `const entry`), as well as `const auto&`, `auto&&` and `auto`.
/// std::basic_common_reference is specialized so that an entry and the
/// iterator's `value_type` (`std::pair<std::string, V>`) have a common
/// reference, as std::indirectly_readable requires.
///
/// @par Cost
/// One key copy per dereference (an allocation when the key is longer than
/// the std::string small buffer). Loops that only need the bytes use the
/// iterators' `key(buf)` (reuses a buffer) and `value()`.
///
/// @tparam VRef The value member's type: `V&` or `const V&` for FastArt,
///              `V` for FrozenLayer and HybridKV.
template <class VRef>
struct entry : std::pair<std::string, VRef> {
    /// The std::pair this entry is.
    using base = std::pair<std::string, VRef>;
    /// The value type, VRef without reference or const.
    using value_type = std::remove_cvref_t<VRef>;

    /// An entry owning the key `k` and holding `v` (bound, if VRef is a reference).
    entry(std::string k, VRef v) : base(std::move(k), static_cast<VRef>(v)) {}

    /// Converts between entry kinds: `entry<V&>` to `entry<const V&>` or to
    /// `entry<V>` (the common reference, and copies).
    template <class U>
        requires(!std::same_as<U, VRef> && std::convertible_to<const U&, VRef>)
    entry(const entry<U>& o) : base(o.first, o.second) {}  // NOLINT: implicit like pair's

    /// From a `std::pair<std::string, V>` (the iterators' `value_type`): a
    /// reference member binds to the pair's value.
    template <class K, class U>
        requires std::convertible_to<const K&, std::string> && std::convertible_to<U&, VRef>
    entry(std::pair<K, U>& p) : base(p.first, p.second) {}  // NOLINT
    /// From a const `std::pair<std::string, V>`: a reference member binds to
    /// the pair's value, so it must be a const reference.
    template <class K, class U>
        requires std::convertible_to<const K&, std::string> && std::convertible_to<const U&, VRef>
    entry(const std::pair<K, U>& p) : base(p.first, p.second) {}  // NOLINT

    /// The key (`first`).
    const std::string& key() const noexcept { return this->first; }
    /// The value (`second`).
    const VRef& value() const noexcept { return this->second; }

    /// Equal when keys and values are: compares with std::map's elements,
    /// the iterators' `value_type` and other entries.
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
