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

#include <memkv/detail/succinct/symbol_codec.hpp>

namespace {

std::string random_string(std::mt19937_64& rng, std::size_t max_len, bool text) {
    std::string s(rng() % (max_len + 1), '\0');
    static const char* words[] = {"https://", "github.com/", "-js", "react", "node_modules/", ".json", "lib", "/src/"};
    if (text) {
        s.clear();
        while (s.size() < max_len && rng() % 6 != 0) s += words[rng() % 8];
        if (rng() % 3 == 0) s += static_cast<char>(rng());
    } else {
        for (char& c : s) c = static_cast<char>(rng());
    }
    return s;
}

}  // namespace

TEST_CASE("symbol codec: codes round-trip and compare like the strings they stand for", "[succinct]") {
    std::mt19937_64 rng(memkv::test::test_seed(0x5ACC6));
    for (const bool text : {true, false}) {
        std::vector<std::string> strings;
        for (int i = 0; i < 3000; ++i) strings.push_back(random_string(rng, 60, text));
        strings.push_back("");
        strings.push_back(std::string("\0\xff\0", 3));
        for (const std::size_t train_on : {0UL, 1UL, 500UL, 3000UL}) {
            INFO((text ? "text" : "binary") << ", trained on " << train_on);
            const std::vector<std::string_view> sample(strings.begin(), strings.begin() + static_cast<std::ptrdiff_t>(train_on));
            const succinct::symbol_table t = succinct::symbol_table::train(sample);
            REQUIRE(t.size() <= succinct::max_symbols);
            // The serialized table reads back as the same table.
            std::vector<unsigned char> table_bytes;
            t.write(table_bytes);
            REQUIRE(table_bytes.size() == t.bytes());
            const auto back = succinct::symbol_table::parse(table_bytes.data(), table_bytes.size());
            REQUIRE(back);
            REQUIRE(back->size() == t.size());
            std::size_t raw = 0, coded = 0;
            for (std::size_t i = 0; i < strings.size(); ++i) {
                const std::string& s = strings[i];
                std::vector<unsigned char> codes;
                const std::size_t appended = t.encode(s, codes);
                REQUIRE(appended == codes.size());
                REQUIRE(t.encoded_size(s) == codes.size());
                raw += s.size();
                coded += codes.size();
                std::string out;
                REQUIRE(back->decode(codes.data(), codes.size(), out));
                if (out != s) FAIL("string " << i << " does not round-trip");
                // compare() against a neighbour, a prefix and the string itself.
                const std::string& other = strings[(i * 7 + 1) % strings.size()];
                for (const std::string& key : {other, s, s.substr(0, s.size() / 2), s + "x"}) {
                    const auto c = t.compare(codes.data(), codes.size(), key);
                    REQUIRE(c);
                    const int want = s.compare(key);
                    REQUIRE((c->order < 0) == (want < 0));
                    REQUIRE((c->order > 0) == (want > 0));
                    std::size_t common = 0;
                    while (common < s.size() && common < key.size() && s[common] == key[common]) ++common;
                    REQUIRE(c->matched == common);
                }
            }
            // Text repeats its words: a table trained on it codes it in
            // fewer bytes than it has. (Random bytes cannot shrink.)
            if (text && train_on >= 500) REQUIRE(coded * 10 < raw * 6);
            if (train_on == 0) REQUIRE(coded == 2 * raw);
        }
    }
}

TEST_CASE("symbol codec: malformed tables and codes are refused", "[succinct]") {
    const std::vector<std::string> sample_strings = {"abcabc", "abd", "xyz"};
    const std::vector<std::string_view> sample(sample_strings.begin(), sample_strings.end());
    const succinct::symbol_table t = succinct::symbol_table::train(sample);
    REQUIRE(t.size() > 0);
    std::vector<unsigned char> good;
    t.write(good);
    REQUIRE_FALSE(succinct::symbol_table::parse(good.data(), 0));
    REQUIRE_FALSE(succinct::symbol_table::parse(good.data(), good.size() - 1));
    std::vector<unsigned char> bad = good;
    bad[1] = 0;  // a symbol of length 0
    REQUIRE_FALSE(succinct::symbol_table::parse(bad.data(), bad.size()));
    bad = good;
    bad[1] = 9;  // longer than 8
    REQUIRE_FALSE(succinct::symbol_table::parse(bad.data(), bad.size()));
    bad = good;
    bad[1 + t.size() + 7] = 'q';  // a byte past symbol 0's length (all are shorter than 8 here)
    if (t.symbol(0).size() < 8) REQUIRE_FALSE(succinct::symbol_table::parse(bad.data(), bad.size()));
    bad = {255};
    REQUIRE_FALSE(succinct::symbol_table::parse(bad.data(), bad.size()));

    std::string out;
    const unsigned char truncated[] = {succinct::symbol_escape};
    REQUIRE_FALSE(t.decode(truncated, 1, out));
    REQUIRE_FALSE(t.compare(truncated, 1, "a"));
    const unsigned char unknown[] = {static_cast<unsigned char>(t.size())};
    if (t.size() < succinct::max_symbols) {
        REQUIRE_FALSE(t.decode(unknown, 1, out));
        REQUIRE_FALSE(t.compare(unknown, 1, "a"));
    }
}
