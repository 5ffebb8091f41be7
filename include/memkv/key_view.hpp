#pragma once

/// @file
/// @brief memkv::key_view, the key parameter type of every memkv member.

#include <concepts>
#include <cstddef>
#include <span>
#include <string_view>

namespace memkv {

/// A non-owning view of a key's bytes: what every memkv member that takes a key accepts.
///
/// Keys are byte strings; callers hold them as std::string,
/// std::string_view, string literals, or as binary buffers
/// (`std::span<const std::byte>`, `std::span<const unsigned char>`,
/// `std::vector<unsigned char>`, ...). key_view converts implicitly from all
/// of them without copying, so one signature serves every spelling (no
/// overload set per key type).
///
/// Like std::string_view it does not own the bytes: the source must outlive
/// the key_view (a memkv call that takes one copies what it keeps).
class key_view {
public:
    /// The empty key.
    constexpr key_view() noexcept = default;

    /// From anything that converts to std::string_view: std::string,
    /// `const char*`, string literals, std::string_view itself.
    template <class T>
        requires std::convertible_to<const T&, std::string_view>
    constexpr key_view(const T& s) noexcept(noexcept(std::string_view(s)))  // NOLINT: implicit by design
        : sv_(s) {}

    /// From a contiguous range of `unsigned char` (a binary key).
    ///
    /// Excluded when the type also converts to string_view, so no call is
    /// ambiguous.
    template <class T>
        requires(!std::convertible_to<const T&, std::string_view> &&
                 std::convertible_to<const T&, std::span<const unsigned char>>)
    key_view(const T& bytes) noexcept  // NOLINT: implicit by design
        : key_view(std::span<const unsigned char>(bytes), 0) {}

    /// From a contiguous range of `std::byte` (a binary key).
    template <class T>
        requires(!std::convertible_to<const T&, std::string_view> &&
                 !std::convertible_to<const T&, std::span<const unsigned char>> &&
                 std::convertible_to<const T&, std::span<const std::byte>>)
    key_view(const T& bytes) noexcept  // NOLINT: implicit by design
        : sv_(reinterpret_cast<const char*>(std::span<const std::byte>(bytes).data()),
              std::span<const std::byte>(bytes).size()) {}

    /// The key's bytes as a std::string_view.
    constexpr operator std::string_view() const noexcept { return sv_; }  // NOLINT: implicit by design
    /// The key's bytes as a std::string_view.
    constexpr std::string_view view() const noexcept { return sv_; }
    /// Pointer to the first byte (not NUL-terminated).
    constexpr const char* data() const noexcept { return sv_.data(); }
    /// Length in bytes.
    constexpr std::size_t size() const noexcept { return sv_.size(); }
    /// Whether this is the empty key (a valid key in every memkv container).
    constexpr bool empty() const noexcept { return sv_.empty(); }

private:
    key_view(std::span<const unsigned char> b, int) noexcept
        : sv_(reinterpret_cast<const char*>(b.data()), b.size()) {}

    std::string_view sv_;
};

}  // namespace memkv
