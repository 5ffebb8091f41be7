// Tests of bench/keygen.hpp (memkv::bench::url_keygen), the key generator of
// memkv-scale: byte order of sorted(i), the shuffled order being a
// permutation, misses being absent, determinism. Sizes are chosen to keep the
// whole file within a few seconds under ASan.

#include <algorithm>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "keygen.hpp"
#include "memkv_catch.hpp"

using memkv::bench::url_keygen;

namespace {

// splitmix64, for test positions independent of the generator's own hashing.
std::uint64_t next_random(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

// Every consecutive pair of keys in [from, to) is strictly increasing.
std::uint64_t order_violations(const url_keygen& g, std::uint64_t from, std::uint64_t to) {
    std::string prev, key;
    std::uint64_t bad = 0;
    for (std::uint64_t i = from; i < to; ++i) {
        g.sorted(i, key);
        if (i > from && !(prev < key)) ++bad;
        prev.swap(key);
    }
    return bad;
}

void check_permutation(const url_keygen& g) {
    std::vector<bool> seen(g.size(), false);
    for (std::uint64_t j = 0; j < g.size(); ++j) {
        const std::uint64_t i = g.shuffled_index(j);
        REQUIRE(i < g.size());
        REQUIRE(!seen[i]);
        seen[i] = true;
    }
}

}  // namespace

TEST_CASE("url_keygen: consecutive keys are strictly increasing", "[bench][keygen]") {
    for (const std::uint64_t n : {1ULL, 2ULL, 63ULL, 64ULL, 65ULL, 1000ULL, 12345ULL, 200000ULL}) {
        INFO("n = " << n);
        const url_keygen g(n);
        CHECK(order_violations(g, 0, n) == 0);
    }
    SECTION("another seed") {
        const url_keygen g(100000, 77);
        CHECK(order_violations(g, 0, g.size()) == 0);
    }
}

TEST_CASE("url_keygen: byte order over the whole range at 4e9 keys", "[bench][keygen]") {
    const url_keygen g(4000000000ULL, 3);
    std::uint64_t state = 12345;
    // Random pairs across the whole range: the order of the keys is the order of the ranks.
    std::string a, b;
    for (int k = 0; k < 20000; ++k) {
        const std::uint64_t i = next_random(state) % g.size();
        const std::uint64_t j = next_random(state) % g.size();
        g.sorted(i, a);
        g.sorted(j, b);
        INFO(i << " " << a << " / " << j << " " << b);
        REQUIRE((i < j) == (a < b));
        REQUIRE((i == j) == (a == b));
    }
    // Runs of consecutive keys from random starts, and across every host
    // boundary (the shares are fixed: 1%, 0.5%, 1%, 95%, 2.5%).
    for (int k = 0; k < 20; ++k) {
        const std::uint64_t start = next_random(state) % (g.size() - 2000);
        CHECK(order_violations(g, start, start + 2000) == 0);
    }
    for (const std::uint64_t boundary : {40000000ULL, 60000000ULL, 100000000ULL, 3900000000ULL}) {
        CHECK(order_violations(g, boundary - 500, boundary + 500) == 0);
    }
    CHECK(order_violations(g, g.size() - 1000, g.size()) == 0);
    // The largest size supported.
    const url_keygen big(url_keygen::max_keys, 1);
    for (int k = 0; k < 2000; ++k) {
        const std::uint64_t i = next_random(state) % big.size();
        const std::uint64_t j = next_random(state) % big.size();
        big.sorted(i, a);
        big.sorted(j, b);
        REQUIRE((i < j) == (a < b));
    }
    CHECK(order_violations(big, big.size() - 500, big.size()) == 0);
}

TEST_CASE("url_keygen: shuffled_index is a permutation", "[bench][keygen]") {
    SECTION("exhaustive, small n (odd and even bit counts, powers of two and one more)") {
        for (const std::uint64_t n : {1ULL, 2ULL, 3ULL, 5ULL, 1000ULL, 1024ULL, 1025ULL, 12345ULL, 65536ULL}) {
            INFO("n = " << n);
            check_permutation(url_keygen(n, 9));
        }
    }
    SECTION("it shuffles") {
        const url_keygen g(1000000);
        std::uint64_t ascending = 0;
        for (std::uint64_t j = 1; j < 10000; ++j) ascending += g.shuffled_index(j) > g.shuffled_index(j - 1);
        CHECK(ascending > 4000);
        CHECK(ascending < 6000);
        CHECK(url_keygen(1000000, 1).shuffled_index(5) != g.shuffled_index(5));
    }
    SECTION("sampled, large n: in range and no collisions") {
        for (const std::uint64_t n : {std::uint64_t{4000000000}, std::uint64_t{4294967297}, url_keygen::max_keys}) {
            const url_keygen g(n, 5);
            std::set<std::uint64_t> images;
            std::uint64_t state = n;
            for (int k = 0; k < 20000; ++k) {
                const std::uint64_t j = k < 10000 ? static_cast<std::uint64_t>(k) : next_random(state) % n;
                const std::uint64_t i = g.shuffled_index(j);
                REQUIRE(i < n);
                images.insert(i);
            }
            std::set<std::uint64_t> sources;
            state = n;
            for (int k = 0; k < 20000; ++k) {
                sources.insert(k < 10000 ? static_cast<std::uint64_t>(k) : next_random(state) % n);
            }
            CHECK(images.size() == sources.size());
        }
    }
}

TEST_CASE("url_keygen: misses are absent, keys are distinct", "[bench][keygen]") {
    const url_keygen g(100000, 4);
    std::set<std::string> keys;
    std::string key;
    for (std::uint64_t i = 0; i < g.size(); ++i) {
        g.sorted(i, key);
        REQUIRE(key.find('#') == std::string::npos);
        keys.insert(key);
    }
    CHECK(keys.size() == g.size());
    std::uint64_t found = 0, at_end = 0, inside = 0;
    for (std::uint64_t i = 0; i < g.size(); ++i) {
        const std::string m = g.miss(i);
        found += keys.count(m);
        g.sorted(i, key);
        const std::size_t hash_at = m.find('#');
        REQUIRE(hash_at != std::string::npos);
        REQUIRE(m.size() == key.size() + 1);
        CHECK(m.substr(0, hash_at) + m.substr(hash_at + 1) == key);
        (hash_at + 1 == m.size() ? at_end : inside) += 1;
    }
    CHECK(found == 0);
    // The '#' lands at every depth after the host, not only at the end.
    CHECK(inside > at_end);
    CHECK_THROWS_AS(g.miss(g.size()), std::out_of_range);
}

TEST_CASE("url_keygen: determinism and shape", "[bench][keygen]") {
    const url_keygen a(50000, 11), b(50000, 11), c(50000, 12);
    std::uint64_t differ = 0;
    std::uint64_t bytes = 0;
    for (std::uint64_t i = 0; i < a.size(); ++i) {
        const std::string k = a.sorted(i);
        REQUIRE(k == b.sorted(i));
        REQUIRE(a.shuffled_index(i) == b.shuffled_index(i));
        REQUIRE(a.miss(i) == b.miss(i));
        differ += k != c.sorted(i);
        bytes += k.size();
    }
    CHECK(differ > a.size() / 2);
    const double avg = static_cast<double>(bytes) / static_cast<double>(a.size());
    CHECK(avg >= 40.0);
    CHECK(avg <= 50.0);
}

TEST_CASE("url_keygen: shape of the keys", "[bench][keygen]") {
    const url_keygen a(50000, 11);
    SECTION("hosts in their fixed shares, then owner/repository") {
        std::uint64_t per_host[url_keygen::host_count] = {};
        for (std::uint64_t i = 0; i < a.size(); ++i) {
            const std::string k = a.sorted(i);
            std::size_t h = 0;
            while (h < url_keygen::host_count && !k.starts_with(url_keygen::host(h))) ++h;
            REQUIRE(h < url_keygen::host_count);
            ++per_host[h];
            const std::string rest = k.substr(url_keygen::host(h).size());
            const std::size_t slash = rest.find('/');
            REQUIRE(slash != std::string::npos);
            REQUIRE(slash > 0);
            for (std::size_t p = 0; p < slash; ++p) {
                const char ch = rest[p];
                REQUIRE(((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')));
            }
            REQUIRE(slash + 1 < rest.size());
        }
        CHECK(per_host[0] == 500);    // bitbucket.org, 1%
        CHECK(per_host[1] == 250);    // codeberg.org, 0.5%
        CHECK(per_host[2] == 500);    // gitee.com, 1%
        CHECK(per_host[3] == 47500);  // github.com, 95%
        CHECK(per_host[4] == 1250);   // gitlab.com, 2.5%
    }
    SECTION("owner_span: an owner's keys are consecutive and share the owner prefix") {
        std::uint64_t owners = 0;
        for (std::uint64_t i = 0; i < a.size();) {
            const auto [first, count] = a.owner_span(i);
            REQUIRE(first == i);
            REQUIRE(count >= 1);
            REQUIRE(count <= 64);
            const std::string k = a.sorted(i);
            const std::size_t host_end = k.find('/', k.find("//") + 2);
            const std::string prefix = k.substr(0, k.find('/', host_end + 1) + 1);  // "https://host/owner/"
            for (std::uint64_t r = 0; r < count; ++r) {
                REQUIRE(a.owner_span(i + r) == std::make_pair(first, count));
                REQUIRE(a.sorted(i + r).starts_with(prefix));
            }
            if (i + count < a.size()) CHECK(!a.sorted(i + count).starts_with(prefix));
            i += count;
            ++owners;
        }
        const double per_owner = static_cast<double>(a.size()) / static_cast<double>(owners);
        CHECK(per_owner > 1.8);
        CHECK(per_owner < 3.0);
    }
    SECTION("limits") {
        CHECK_THROWS_AS(url_keygen(url_keygen::max_keys + 1), std::invalid_argument);
        CHECK_THROWS_AS(a.sorted(a.size()), std::out_of_range);
        CHECK_THROWS_AS(a.shuffled_index(a.size()), std::out_of_range);
        const url_keygen empty(0);
        CHECK(empty.size() == 0);
        CHECK_THROWS_AS(empty.sorted(0), std::out_of_range);
    }
}
