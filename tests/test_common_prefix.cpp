// detail::common_prefix_length, which FrozenLayerBuilder uses to split each
// key from the one before it: against a byte loop, with the difference at
// every position of the first and second word and past them, one string a
// prefix of the other, and bytes whose order differs signed and unsigned.
#include <cstddef>
#include <string>
#include <string_view>

#include <memkv/detail/common_prefix.hpp>

#include "memkv_catch.hpp"

namespace {

std::size_t byte_loop(std::string_view a, std::string_view b) {
    std::size_t i = 0;
    while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
    return i;
}

}  // namespace

TEST_CASE("common_prefix_length: every difference position, prefixes, edge bytes", "[common_prefix]") {
    using memkv::detail::common_prefix_length;
    CHECK(common_prefix_length("", "") == 0);
    CHECK(common_prefix_length("", "a") == 0);
    CHECK(common_prefix_length("abc", "") == 0);
    const std::string base = std::string("https://github.com/\0\xff", 21) + std::string(40, 'x') + "tail";
    for (std::size_t len = 0; len <= base.size(); ++len) {
        const std::string a = base.substr(0, len);
        // Equal strings, and one a prefix of the other.
        CHECK(common_prefix_length(a, a) == len);
        for (std::size_t cut = 0; cut <= len; ++cut) {
            CHECK(common_prefix_length(a, a.substr(0, cut)) == cut);
            CHECK(common_prefix_length(a.substr(0, cut), a) == cut);
        }
        // One byte changed at every position, to a bigger and a smaller
        // byte, '\0' and '\xff' included.
        for (std::size_t at = 0; at < len; ++at) {
            for (const char c : {'\0', '\x01', '\x7f', '\x80', '\xff'}) {
                std::string b = a;
                if (b[at] == c) continue;
                b[at] = c;
                INFO("len " << len << " at " << at);
                CHECK(common_prefix_length(a, b) == at);
                CHECK(common_prefix_length(b, a) == at);
                CHECK(common_prefix_length(a, b) == byte_loop(a, b));
            }
        }
    }
}

TEST_CASE("common_prefix_length: the first of two differences", "[common_prefix]") {
    // The last word of a string whose length is not a multiple of 8 overlaps
    // the word before it, and a short string is read as two overlapping
    // halves: a second difference in the overlap must not hide the first.
    using memkv::detail::common_prefix_length;
    const std::string base = "0123456789abcdefghijklmnopq";
    for (std::size_t len = 2; len <= base.size(); ++len) {
        const std::string a = base.substr(0, len);
        for (std::size_t first = 0; first < len; ++first) {
            for (std::size_t second = first + 1; second < len; ++second) {
                std::string b = a;
                b[first] = '\x80';
                b[second] = '\0';
                INFO("len " << len << " differences at " << first << " and " << second);
                CHECK(common_prefix_length(a, b) == first);
                CHECK(common_prefix_length(b, a) == first);
                CHECK(common_prefix_length(a + "zz", b) == first);
            }
        }
    }
}

