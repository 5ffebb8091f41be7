#pragma once

// memkv::key_view: what every memkv member that takes a key accepts. Keys are
// byte strings; callers hold them as std::string, std::string_view, string
// literals, or as binary buffers (std::span<const std::byte>,
// std::span<const unsigned char>, std::vector<unsigned char>, ...). key_view
// converts implicitly from all of them without copying, so one signature
// serves every spelling (no overload set per key type).

#include <concepts>
#include <cstddef>
#include <span>
#include <string_view>

namespace memkv {

class key_view {
public:
    constexpr key_view() noexcept = default;

    // Anything that converts to std::string_view: std::string, const char*,
    // string literals, std::string_view itself.
    template <class T>
        requires std::convertible_to<const T&, std::string_view>
    constexpr key_view(const T& s) noexcept(noexcept(std::string_view(s)))  // NOLINT: implicit by design
        : sv_(s) {}

    // Binary keys. Excluded when the type also converts to string_view, so no
    // call is ambiguous.
    template <class T>
        requires(!std::convertible_to<const T&, std::string_view> &&
                 std::convertible_to<const T&, std::span<const unsigned char>>)
    key_view(const T& bytes) noexcept  // NOLINT: implicit by design
        : key_view(std::span<const unsigned char>(bytes), 0) {}

    template <class T>
        requires(!std::convertible_to<const T&, std::string_view> &&
                 !std::convertible_to<const T&, std::span<const unsigned char>> &&
                 std::convertible_to<const T&, std::span<const std::byte>>)
    key_view(const T& bytes) noexcept  // NOLINT: implicit by design
        : sv_(reinterpret_cast<const char*>(std::span<const std::byte>(bytes).data()),
              std::span<const std::byte>(bytes).size()) {}

    constexpr operator std::string_view() const noexcept { return sv_; }  // NOLINT: implicit by design
    constexpr std::string_view view() const noexcept { return sv_; }
    constexpr const char* data() const noexcept { return sv_.data(); }
    constexpr std::size_t size() const noexcept { return sv_.size(); }
    constexpr bool empty() const noexcept { return sv_.empty(); }

private:
    key_view(std::span<const unsigned char> b, int) noexcept
        : sv_(reinterpret_cast<const char*>(b.data()), b.size()) {}

    std::string_view sv_;
};

}  // namespace memkv
