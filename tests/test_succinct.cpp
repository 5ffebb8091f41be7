// Tests of the succinct building blocks (detail/succinct/): the rank/select
// bit vector and Elias-Fano sequences, against plain models, at the sizes
// where their directories change shape (block and sample boundaries), and on
// images that lie.

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include <memkv/detail/succinct/bit_vector.hpp>
#include <memkv/detail/succinct/elias_fano.hpp>

#include "memkv_catch.hpp"
#include "test_support.hpp"

namespace succinct = memkv::detail::succinct;

namespace {

struct built_bits {
    std::vector<bool> model;
    std::vector<unsigned char> image;
    succinct::bit_vector_geometry g;
    succinct::bit_vector_view view() const { return {image.data(), g}; }
};

built_bits build_bits(std::size_t n, double density, std::mt19937_64& rng, bool runs = false) {
    built_bits b;
    succinct::bit_vector_builder builder;
    std::bernoulli_distribution bit(density);
    // With runs, the bits come in stretches of one value (long runs of zeros
    // or ones put many select samples in one block, or none in many).
    bool cur = bit(rng);
    while (b.model.size() < n) {
        const std::size_t len = runs ? std::min<std::size_t>(n - b.model.size(), 1 + rng() % 5000) : 1;
        if (runs) cur = !cur; else cur = bit(rng);
        if (len == 1 || rng() % 2 == 0) {
            for (std::size_t i = 0; i < len; ++i) {
                builder.push_back(cur);
                b.model.push_back(cur);
            }
        } else {
            builder.append_run(cur, len);
            b.model.insert(b.model.end(), len, cur);
        }
    }
    b.g = builder.geometry();
    builder.write(b.image);
    REQUIRE(b.image.size() == b.g.image_bytes());
    return b;
}

void check_against_model(const built_bits& b) {
    const succinct::bit_vector_view v = b.view();
    const std::size_t n = b.model.size();
    REQUIRE(v.size() == n);
    REQUIRE(v.check());
    std::vector<std::uint64_t> ones, zeros;
    std::uint64_t rank = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (v.rank1(i) != rank) FAIL("rank1(" << i << ") = " << v.rank1(i) << ", expected " << rank);
        if (v[i] != b.model[i]) FAIL("bit " << i);
        (b.model[i] ? ones : zeros).push_back(i);
        rank += b.model[i] ? 1U : 0U;
    }
    REQUIRE(v.rank1(n) == rank);
    REQUIRE(v.ones() == ones.size());
    for (std::size_t k = 0; k < ones.size(); ++k) {
        if (v.select1(k) != ones[k]) FAIL("select1(" << k << ") = " << v.select1(k) << ", expected " << ones[k]);
    }
    for (std::size_t k = 0; k < zeros.size(); ++k) {
        if (v.select0(k) != zeros[k]) FAIL("select0(" << k << ") = " << v.select0(k) << ", expected " << zeros[k]);
    }
    REQUIRE(v.select1(ones.size()) == n);
    REQUIRE(v.select0(zeros.size()) == n);
}

}  // namespace

TEST_CASE("succinct bit vector: rank and select against a model at directory boundaries", "[succinct]") {
    std::mt19937_64 rng(memkv::test::test_seed(0x5ACC1));
    for (const std::size_t n : {0UL, 1UL, 2UL, 63UL, 64UL, 65UL, 511UL, 512UL, 513UL, 4095UL, 4096UL, 4097UL, 8191UL, 8193UL, 20000UL}) {
        for (const double density : {0.0, 0.01, 0.5, 0.99, 1.0}) {
            INFO("n = " << n << ", density " << density);
            check_against_model(build_bits(n, density, rng));
        }
    }
}

TEST_CASE("succinct bit vector: long runs and many samples", "[succinct]") {
    std::mt19937_64 rng(memkv::test::test_seed(0x5ACC2));
    for (int round = 0; round < 4 * static_cast<int>(memkv::test::test_scale()); ++round) {
        const std::size_t n = 1 + rng() % 300000;
        INFO("round " << round << ", n = " << n);
        check_against_model(build_bits(n, 0.5, rng, true));
        check_against_model(build_bits(n, 0.9, rng));
    }
}

TEST_CASE("succinct bit vector: bits() reads any field", "[succinct]") {
    std::mt19937_64 rng(memkv::test::test_seed(0x5ACC3));
    const built_bits b = build_bits(1000, 0.5, rng);
    const succinct::bit_vector_view v = b.view();
    for (unsigned width = 0; width <= 64; ++width) {
        for (std::size_t i = 0; i + width <= 1000; i += 7) {
            std::uint64_t want = 0;
            for (unsigned k = 0; k < width; ++k) want |= std::uint64_t{b.model[i + k]} << k;
            if (v.bits(i, width) != want) FAIL("bits(" << i << ", " << width << ")");
        }
    }
}

TEST_CASE("succinct bit vector: an image that lies stays inside itself and fails check()", "[succinct]") {
    std::mt19937_64 rng(memkv::test::test_seed(0x5ACC4));
    const built_bits good = build_bits(50000, 0.3, rng);
    for (int trial = 0; trial < 300; ++trial) {
        built_bits bad = good;
        // Garble a byte of the directory or the samples. (A changed word is
        // a different bit vector, which only the file's checksum can tell.)
        const std::size_t dir = static_cast<std::size_t>(good.g.ranks_at());
        const std::size_t at = dir + rng() % (bad.image.size() - dir);
        const unsigned char was = bad.image[at];
        bad.image[at] = static_cast<unsigned char>(rng());
        if (bad.image[at] == was) bad.image[at] ^= 0x80;
        const succinct::bit_vector_view v = bad.view();
        INFO("byte " << at);
        REQUIRE_FALSE(v.check());
        // Every query answers inside [0, n] (ASan would catch a read outside
        // the image).
        for (std::uint64_t k = 0; k < 50000; k += 97) {
            REQUIRE(v.select1(k) <= v.size());
            REQUIRE(v.select0(k) <= v.size());
            (void)v.rank1(k);
        }
    }
}

TEST_CASE("Elias-Fano: values round-trip, duplicates and extremes included", "[succinct]") {
    std::mt19937_64 rng(memkv::test::test_seed(0x5ACC5));
    auto round_trip = [&](std::vector<std::uint64_t> values, std::uint64_t u) {
        std::sort(values.begin(), values.end());
        succinct::elias_fano_builder b(values.size(), u);
        for (const std::uint64_t v : values) b.push_back(v);
        std::vector<unsigned char> image;
        b.write(image);
        const succinct::elias_fano_geometry g = b.geometry();
        REQUIRE(image.size() == g.image_bytes());
        const succinct::elias_fano_view view(image.data(), g);
        REQUIRE(view.size() == values.size());
        REQUIRE(view.check());
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (view[i] != values[i]) FAIL("value " << i << " = " << view[i] << ", expected " << values[i]);
        }
        return image.size();
    };
    round_trip({}, 0);
    round_trip({0}, 1);
    round_trip({0, 0, 0}, 1);
    round_trip({5, 5, 9}, 10);
    for (const std::uint64_t u : {std::uint64_t{1}, std::uint64_t{100}, std::uint64_t{1} << 20,
                                   std::uint64_t{1} << 40, std::uint64_t{1} << 62}) {
        for (const std::size_t n : {1UL, 2UL, 100UL, 5000UL}) {
            INFO("u = " << u << ", n = " << n);
            std::vector<std::uint64_t> v(n);
            for (auto& x : v) x = rng() % u;
            v.back() = u - 1;
            round_trip(v, u);
        }
    }
    // Size: about 2 + log2(u / n) bits each.
    std::vector<std::uint64_t> v(100000);
    for (auto& x : v) x = rng() % (std::uint64_t{1} << 30);
    const std::size_t bytes = round_trip(v, std::uint64_t{1} << 30);
    INFO("bytes " << bytes);
    REQUIRE(bytes * 8 < v.size() * (2 + 14 + 1) * 9 / 8 + 1024);
}
