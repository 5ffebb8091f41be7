// Tests of the succinct building blocks (detail/succinct/): the rank/select
// bit vector and Elias-Fano sequences, against plain models, at the sizes
// where their directories change shape (block and sample boundaries), and on
// images that lie.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <tuple>
#include <vector>

#include <memkv/detail/popcount.hpp>
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

TEST_CASE("popcount64 and select_in_word against bit-by-bit counts", "[succinct]") {
    std::mt19937_64 rng(memkv::test::test_seed(0x5E1EC7));
    std::vector<std::uint64_t> words = {0, 1, ~std::uint64_t{0}, std::uint64_t{1} << 63, 0x8000000000000001ULL,
                                        0x00FF00FF00FF00FFULL, 0xFF00000000000000ULL, 0x0101010101010101ULL};
    for (int i = 0; i < 20000; ++i) {
        // Dense, sparse and clustered words.
        const std::uint64_t a = rng(), b = rng(), c = rng();
        words.push_back(i % 3 == 0 ? a : i % 3 == 1 ? a & b & c : (a & b) << (c % 64));
    }
    for (const std::uint64_t w : words) {
        unsigned ones = 0;
        for (unsigned bit = 0; bit < 64; ++bit) ones += static_cast<unsigned>((w >> bit) & 1);
        REQUIRE(memkv::detail::popcount64(w) == ones);
        unsigned r = 0;
        for (unsigned bit = 0; bit < 64; ++bit) {
            if (((w >> bit) & 1) == 0) continue;
            INFO("word " << w << ", one " << r);
            REQUIRE(succinct::select_in_word(w, r) == bit);
            ++r;
        }
    }
}

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

#include <memkv/detail/succinct/context_codec.hpp>

namespace {

// The context a string coded at key[at] starts after.
succinct::byte_context context_at(std::string_view key, std::size_t at) {
    succinct::byte_context c;
    for (std::size_t i = 0; i < at; ++i) c = c.next(static_cast<unsigned char>(key[i]));
    return c;
}

// Each key cut at a random place: the tail as a string to code, after the
// context of the bytes before it (as a trie's link follows its key's bytes).
struct cut_keys {
    std::vector<std::string_view> strings;
    std::vector<succinct::byte_context> contexts;
    cut_keys(const std::vector<std::string>& keys, std::mt19937_64& rng) {
        for (const std::string& k : keys) {
            const std::size_t at = k.empty() ? 0 : rng() % (k.size() + 1);
            strings.push_back(std::string_view(k).substr(at));
            contexts.push_back(context_at(k, at));
        }
    }
};

}  // namespace

TEST_CASE("context codec: codes round-trip and compare like the strings they stand for", "[succinct]") {
    std::mt19937_64 rng(memkv::test::test_seed(0xC0DEC2));
    for (const bool ends : {false, true}) {
        // Strings cut from keys at random places, each coded after the key
        // bytes before it; text and random bytes mixed, so that trained
        // buckets meet bytes they never saw (escapes) and the empty string.
        std::vector<std::string> keys;
        for (int i = 0; i < 4000; ++i) keys.push_back(random_string(rng, 80, i % 5 != 0));
        keys.push_back("");
        keys.push_back(std::string("\0\xff\0\xff", 4));
        const cut_keys pieces(keys, rng);
        const auto& strings = pieces.strings;
        const auto& contexts = pieces.contexts;
        for (const std::size_t train_on : {0UL, 1UL, 1000UL, 4000UL}) {
            INFO((ends ? "ends" : "no ends") << ", trained on " << train_on);
            const auto n = static_cast<std::ptrdiff_t>(train_on);
            const succinct::context_code code = succinct::context_code::train(
                std::span(strings.begin(), strings.begin() + n), std::span(contexts.begin(), contexts.begin() + n), ends);
            REQUIRE(code.ends() == ends);
            std::vector<unsigned char> table;
            code.write(table);
            REQUIRE(table.size() == code.bytes());
            const auto back = succinct::context_code::parse(table.data(), table.size());
            REQUIRE(back);
            REQUIRE_FALSE(back->can_encode());
            std::vector<unsigned char> again;
            back->write(again);
            REQUIRE(again == table);
            const auto encoder = *succinct::context_code::parse(table.data(), table.size(), true);
            REQUIRE(encoder.can_encode());

            // All strings in one stream; decoding and comparing by the parsed code.
            succinct::bit_writer w;
            std::vector<std::uint64_t> at{0};
            std::size_t raw = 0;
            for (std::size_t i = 0; i < strings.size(); ++i) {
                const std::uint64_t appended = code.encode(strings[i], contexts[i], w);
                REQUIRE(code.coded_bits(strings[i], contexts[i]) == appended);  // what a build weighs a code by
                at.push_back(w.size());
                raw += strings[i].size();
            }
            const succinct::bit_span bits{w.bytes().data(), w.bytes().size()};
            for (std::size_t i = 0; i < strings.size(); ++i) {
                const std::string_view s = strings[i];
                // With ends, a string needs no end position: the stream's end bounds it.
                const std::uint64_t to = ends ? bits.bits() : at[i + 1];
                std::string out;
                const auto after = back->decode(bits, at[i], to, contexts[i], out);
                REQUIRE(after);
                REQUIRE(*after == at[i + 1]);
                if (out != s) FAIL("string " << i << " does not round-trip");
                REQUIRE(back->skip(bits, at[i], to, contexts[i]) == after);
                // Two at once (decode2), beside the next string, whatever
                // their lengths; after what the outputs hold.
                if (!ends && i + 1 < strings.size()) {
                    std::string one = "x", two = "yz";
                    const auto [ok1, ok2] = back->decode2(bits, at[i], at[i + 1], contexts[i], one, at[i + 1], at[i + 2],
                                                          contexts[i + 1], two);
                    REQUIRE(ok1);
                    REQUIRE(ok2);
                    if (one != "x" + std::string(s) || two != "yz" + std::string(strings[i + 1]))
                        FAIL("strings " << i << " and " << i + 1 << " do not decode together");
                    // Either cut a bit short (its last code, if one that
                    // does not end the cut string, runs past its end): as
                    // each alone answers.
                    for (const bool cut_first : {true, false}) {
                        const std::uint64_t to1 = at[i + 1] - (cut_first && at[i + 1] > at[i] ? 1 : 0);
                        const std::uint64_t to2 = at[i + 2] - (!cut_first && at[i + 2] > at[i + 1] ? 1 : 0);
                        std::string got1, got2, want1, want2;
                        const auto [cut1, cut2] =
                            back->decode2(bits, at[i], to1, contexts[i], got1, at[i + 1], to2, contexts[i + 1], got2);
                        const auto alone1 = back->decode(bits, at[i], to1, contexts[i], want1);
                        const auto alone2 = back->decode(bits, at[i + 1], to2, contexts[i + 1], want2);
                        REQUIRE(cut1 == alone1.has_value());
                        REQUIRE(cut2 == alone2.has_value());
                        if (cut1) REQUIRE(got1 == want1);
                        if (cut2) REQUIRE(got2 == want2);
                    }
                }
                // With ends, a range that cuts the end symbol holds no string.
                if (ends && i < 300)
                    for (std::uint64_t cut = at[i]; cut < at[i + 1]; ++cut)
                        if (back->skip(bits, at[i], cut, contexts[i])) FAIL("string " << i << " read without its end at " << cut);
                const std::string other(strings[(i * 7 + 1) % strings.size()]);
                const std::string self(s);
                for (const std::string& key : {other, self, self.substr(0, self.size() / 2), self + "x",
                                               self + std::string(1, '\0'), std::string()}) {
                    const auto c = back->compare(bits, at[i], to, contexts[i], key);
                    REQUIRE(c);
                    const int want = s.compare(key);
                    REQUIRE((c->order < 0) == (want < 0));
                    REQUIRE((c->order > 0) == (want > 0));
                    std::size_t common = 0;
                    while (common < s.size() && common < key.size() && s[common] == key[common]) ++common;
                    REQUIRE(c->matched == common);
                    REQUIRE(c->prefix == (common == s.size()));
                    // coded_prefix: s's length exactly when key starts with s.
                    if (!ends) {
                        const auto p = encoder.coded_prefix(bits, at[i], to, contexts[i], key);
                        if (key.starts_with(s)) {
                            REQUIRE(p == s.size());
                        } else {
                            REQUIRE_FALSE(p);
                        }
                    }
                }
            }
            // Trained on the text, the stream is smaller than the bytes it
            // codes (a fifth of the keys are random bytes, which cannot shrink).
            if (train_on >= 1000) REQUIRE(w.size() < raw * 8 * 8 / 10);

            // Strings around and far past the lengths decode gathers bytes
            // in, appended after what out holds.
            for (const std::size_t len : {127UL, 128UL, 129UL, 256UL, 511UL, 512UL, 513UL, 1000UL, 5000UL}) {
                std::string s(len, '\0');
                for (std::size_t k = 0; k < len; ++k) s[k] = k % 3 == 0 ? static_cast<char>(rng()) : "abc/"[k % 4];
                succinct::bit_writer lw;
                const succinct::byte_context lc{'x', 'y'};
                code.encode(s, lc, lw);
                const std::uint64_t end = lw.size();
                const succinct::bit_span lb{lw.bytes().data(), lw.bytes().size()};
                std::string out = "held";
                REQUIRE(back->decode(lb, 0, ends ? lb.bits() : end, lc, out) == end);
                REQUIRE(out == "held" + s);
                // With the 8 bytes of padding a trie's stream has (decode's
                // loop without bounds, a chunk at a time).
                std::vector<unsigned char> padded = lw.bytes();
                padded.resize(padded.size() + 8, 0xA5);
                const succinct::bit_span pb{padded.data(), padded.size()};
                out = "held";
                REQUIRE(back->decode(pb, 0, ends ? pb.bits() : end, lc, out) == end);
                REQUIRE(out == "held" + s);
                if (!ends) {
                    // With itself and with its first bytes' coding, the
                    // two chunked together and the longer one alone.
                    std::string twice = "held";
                    out = "held";
                    REQUIRE(back->decode2(pb, 0, end, lc, out, 0, end, lc, twice) == std::pair{true, true});
                    REQUIRE(out == "held" + s);
                    REQUIRE(twice == "held" + s);
                    succinct::bit_writer sw;
                    code.encode(std::string_view(s).substr(0, len / 3), lc, sw);
                    const std::uint64_t short_end = sw.size();
                    out.clear();
                    twice.clear();
                    REQUIRE(back->decode2(pb, 0, end, lc, out, 0, short_end, lc, twice) == std::pair{true, true});
                    REQUIRE(out == s);
                    REQUIRE(twice == s.substr(0, len / 3));
                }
            }
        }
    }
}

TEST_CASE("context codec: a long link of one-bit codes fills decode's buffer exactly", "[succinct]") {
    // One byte a bit: a chunk of decode's bits is as many bytes, the most
    // its buffer holds (a chunk one bit longer writes past it: ASan).
    std::vector<std::string> sample(64, std::string(300, 'a'));
    const std::vector<succinct::byte_context> contexts(sample.size(), succinct::byte_context{'a', 'a'});
    const auto code = succinct::context_code::train(std::vector<std::string_view>(sample.begin(), sample.end()), contexts, false);
    for (const std::size_t len : {511UL, 512UL, 513UL, 1024UL, 1537UL, 4096UL}) {
        INFO("length " << len);
        const std::string s(len, 'a');
        succinct::bit_writer w;
        code.encode(s, {'a', 'a'}, w);
        REQUIRE(w.size() == len);  // one bit a byte
        std::vector<unsigned char> padded = w.bytes();
        padded.resize(padded.size() + 8, 0);
        const succinct::bit_span bits{padded.data(), padded.size()};
        std::string out;
        REQUIRE(code.decode(bits, 0, len, {'a', 'a'}, out) == len);
        REQUIRE(out == s);
        // A link cut short ends inside no code here (every code is one
        // bit), so it decodes to the shorter string.
        out.clear();
        REQUIRE(code.decode(bits, 0, len - 1, {'a', 'a'}, out) == len - 1);
        REQUIRE(out == std::string(len - 1, 'a'));
    }
}

TEST_CASE("context codec: skewed counts still fit 12-bit codes", "[succinct]") {
    // Fibonacci frequencies make a Huffman code as deep as the symbols are
    // many (24 here); the limit must keep every symbol in its bucket's code
    // (no escapes) at 12 bits or fewer, and the code must still round-trip.
    std::vector<std::string> symbols;
    symbols.reserve(25);  // the sample points into them
    std::vector<std::string_view> sample;
    const succinct::byte_context xx{'x', 'x'};
    std::uint64_t a = 1, b = 1;
    for (unsigned sym = 0; sym < 25; ++sym) {
        symbols.push_back(std::string(1, static_cast<char>('A' + sym)));
        for (std::uint64_t r = 0; r < a; ++r) sample.push_back(symbols.back());
        const std::uint64_t c = a + b;
        a = b;
        b = c;
    }
    // Each half of the sample like the other: train() measures each half's
    // code on the other.
    std::shuffle(sample.begin(), sample.end(), std::mt19937_64(7));
    const std::vector<succinct::byte_context> contexts(sample.size(), xx);
    const auto code = succinct::context_code::train(sample, contexts, false);
    // The table lists bucket xx's code: the 25 symbols and the escape.
    std::vector<unsigned char> table;
    code.write(table);
    std::size_t at = 1;
    for (unsigned bucket = 0; bucket < code.bucket_of(xx); ++bucket)
        at += 2 + 2 * (std::size_t{table[at]} | std::size_t{table[at + 1]} << 8);
    const unsigned m = unsigned{table[at]} | unsigned{table[at + 1]} << 8;
    REQUIRE(m == 26);
    unsigned longest = 0;
    for (unsigned i = 0; i < m; ++i) longest = std::max(longest, unsigned{table[at + 3 + 2 * i]} >> 1);
    REQUIRE(longest == succinct::context_code::max_len);  // limited, and as deep as allowed
    succinct::bit_writer w;
    std::vector<std::uint64_t> ends{0};
    for (const std::string& s : symbols) {
        code.encode(s, xx, w);
        ends.push_back(w.size());
    }
    const succinct::bit_span bits{w.bytes().data(), w.bytes().size()};
    for (std::size_t i = 0; i < symbols.size(); ++i) {
        std::string out;
        REQUIRE(code.decode(bits, ends[i], ends[i + 1], xx, out) == ends[i + 1]);
        REQUIRE(out == symbols[i]);
        REQUIRE(ends[i + 1] - ends[i] <= succinct::context_code::max_len);  // one code, no escape
    }
}

TEST_CASE("context codec: malformed tables and codings are refused", "[succinct]") {
    const std::vector<std::string_view> sample = {"abcabc", "abd", "xyz"};
    const std::vector<succinct::byte_context> contexts(3);
    const auto code = succinct::context_code::train(sample, contexts, false);
    std::vector<unsigned char> good;
    code.write(good);
    REQUIRE(succinct::context_code::parse(good.data(), good.size()));
    REQUIRE_FALSE(succinct::context_code::parse(good.data(), 0));
    REQUIRE_FALSE(succinct::context_code::parse(good.data(), good.size() - 1));
    std::vector<unsigned char> bad = good;
    bad.push_back(0);  // a byte past the last code
    REQUIRE_FALSE(succinct::context_code::parse(bad.data(), bad.size()));
    bad = good;
    bad[0] = static_cast<unsigned char>(bad[0] | 0x10);  // an unknown flag
    REQUIRE_FALSE(succinct::context_code::parse(bad.data(), bad.size()));

    // Bucket 0's code, rewritten: flags, then count and entries.
    auto with_bucket0 = [&](std::vector<std::uint16_t> entries) {
        std::vector<unsigned char> t = {(succinct::context_code::default_bucket_bits - 8) << 1};
        t.push_back(static_cast<unsigned char>(entries.size()));
        t.push_back(static_cast<unsigned char>(entries.size() >> 8));
        for (const std::uint16_t e : entries) {
            t.push_back(static_cast<unsigned char>(e));
            t.push_back(static_cast<unsigned char>(e >> 8));
        }
        // The other 1,023 buckets share the fallback, an empty code.
        for (unsigned b = 1; b <= 1u << succinct::context_code::default_bucket_bits; ++b) {
            t.push_back(0);
            t.push_back(0);
        }
        return t;
    };
    auto entry = [](unsigned sym, unsigned len) { return static_cast<std::uint16_t>(sym | len << 9); };
    auto parses = [](const std::vector<unsigned char>& t) { return succinct::context_code::parse(t.data(), t.size()).has_value(); };
    REQUIRE(parses(with_bucket0({entry('a', 1), entry('b', 1)})));
    REQUIRE_FALSE(parses(with_bucket0({entry('a', 1), entry('b', 1), entry('c', 1)})));  // Kraft sum over 1
    REQUIRE_FALSE(parses(with_bucket0({entry('a', 0)})));                                 // length 0
    REQUIRE_FALSE(parses(with_bucket0({entry('a', 13)})));                                // longer than 12
    REQUIRE_FALSE(parses(with_bucket0({entry('a', 2), entry('a', 2)})));                  // a symbol twice
    REQUIRE_FALSE(parses(with_bucket0({entry(258, 2)})));                                 // no such symbol

    // An incomplete code: "0" is 'a', "1..." is nothing. Codings that use
    // it, run past their range, or lack their end are refused, and reads stay
    // inside the stream (ASan checks the last).
    const std::vector<unsigned char> incomplete = with_bucket0({entry('a', 1)});
    const auto bucket0 = succinct::context_code::parse(incomplete.data(), incomplete.size());
    REQUIRE(bucket0);
    succinct::byte_context c0;
    bool found = false;
    for (unsigned before = 0; before <= 256 && !found; ++before)
        for (unsigned last = 0; last <= 256 && !found; ++last) {
            c0 = {before, last};
            found = bucket0->bucket_of(c0) == 0 && bucket0->bucket_of(c0.next('a')) != 0;
        }
    REQUIRE(found);
    // After 'a' the context changes to a bucket with an empty code, so only
    // one symbol decodes: the stream "0" is "a" up to bit 1.
    const unsigned char zero[] = {0x00};
    const unsigned char one[] = {0x80};
    const succinct::bit_span z{zero, 1}, o{one, 1};
    std::string out;
    const auto first = bucket0->decode(z, 0, 1, c0, out);
    REQUIRE(first == 1u);
    REQUIRE(out == "a");
    REQUIRE_FALSE(bucket0->decode(o, 0, 1, c0, out));      // no code starts with 1
    REQUIRE_FALSE(bucket0->decode(z, 0, 2, c0, out));      // the next bucket's code is empty
    REQUIRE_FALSE(bucket0->decode(z, 0, 9, c0, out));      // past the stream
    REQUIRE_FALSE(bucket0->decode(z, 1, 0, c0, out));      // from > to
    REQUIRE_FALSE(bucket0->compare(o, 0, 1, c0, "a"));

    // A code that begins inside the range and ends past it is refused, in
    // the short codes' table as in the long ones' search: "0" 'a', "10"
    // 'b', "110" 'c' and "1110...": 'd' at 12 bits.
    const std::vector<unsigned char> four = with_bucket0({entry('a', 1), entry('b', 2), entry('c', 3), entry('d', 12)});
    const auto bucket0b = succinct::context_code::parse(four.data(), four.size());
    REQUIRE(bucket0b);
    const unsigned char bs[] = {0x80, 0x00};  // "10": 'b'
    const unsigned char cs[] = {0xC0, 0x00};  // "110": 'c'
    const unsigned char ds[] = {0xE0, 0x00};  // "111000000000": 'd'
    const succinct::bit_span sb{bs, 2}, sc{cs, 2}, sd{ds, 2};
    for (const auto& [span, len, sym] : {std::tuple{sb, 2u, 'b'}, std::tuple{sc, 3u, 'c'}, std::tuple{sd, 12u, 'd'}}) {
        out.clear();
        REQUIRE(bucket0b->decode(span, 0, len, c0, out) == len);
        REQUIRE(out == std::string(1, sym));
        for (unsigned to = 1; to < len; ++to) REQUIRE_FALSE(bucket0b->decode(span, 0, to, c0, out));
        // The same with 8 bytes after the code, as a trie's link stream has
        // (decode then reads without bounds, and checks `to` once at the end).
        std::vector<unsigned char> padded(span.data, span.data + span.size);
        padded.resize(span.size + 8, 0xFF);
        const succinct::bit_span sp{padded.data(), padded.size()};
        out.clear();
        REQUIRE(bucket0b->decode(sp, 0, len, c0, out) == len);
        REQUIRE(out == std::string(1, sym));
        for (unsigned to = 1; to < len; ++to) REQUIRE_FALSE(bucket0b->decode(sp, 0, to, c0, out));
    }

    // Random streams under a trained code: every answer is either a string
    // or a refusal, never a read outside the stream.
    std::mt19937_64 rng(memkv::test::test_seed(0xBADB17));
    std::vector<std::string_view> text = {"https://github.com/", "node_modules/react", "lib/src/index.js"};
    std::vector<succinct::byte_context> tc(text.size());
    for (const bool ends : {false, true}) {
        const auto trained = succinct::context_code::train(text, tc, ends);
        for (int i = 0; i < 2000; ++i) {
            std::vector<unsigned char> junk(1 + rng() % (i % 2 == 0 ? 12 : 40));
            for (auto& b : junk) b = static_cast<unsigned char>(rng());
            const succinct::bit_span j{junk.data(), junk.size()};
            const std::uint64_t from = rng() % (j.bits() + 1);
            const std::uint64_t to = from + rng() % (j.bits() - from + 1);
            std::string s;
            const auto r = trained.decode(j, from, to, {}, s);
            if (r) REQUIRE((*r <= to && *r >= from));
            (void)trained.compare(j, from, to, {}, "https://");
            if (!ends) {
                // Two ranges at once answer as each alone, refusals
                // included (the junk stream padded or not).
                std::vector<unsigned char> padded = junk;
                if (i % 3 == 0) padded.resize(padded.size() + 8, static_cast<unsigned char>(rng()));
                const succinct::bit_span pj{padded.data(), padded.size()};
                const std::uint64_t from2 = rng() % (j.bits() + 1);
                const std::uint64_t to2 = from2 + rng() % (j.bits() - from2 + 1);
                const succinct::byte_context c1{static_cast<unsigned>(rng() % 257), static_cast<unsigned>(rng() % 256)};
                const succinct::byte_context c2{c1.before, static_cast<unsigned>(rng() % 256)};
                std::string got1, got2, want1, want2;
                const auto [ok1, ok2] = trained.decode2(pj, from, to, c1, got1, from2, to2, c2, got2);
                const bool alone1 = trained.decode(pj, from, to, c1, want1).has_value();
                const bool alone2 = trained.decode(pj, from2, to2, c2, want2).has_value();
                REQUIRE(ok1 == alone1);
                REQUIRE(ok2 == alone2);
                if (ok1) REQUIRE(got1 == want1);
                if (ok2) REQUIRE(got2 == want2);
                // A key prefix that codes to the bits is what they decode to.
                const std::string key = i % 2 == 0 ? std::string("https://github.com/") : s;
                if (const auto p = trained.coded_prefix(j, from, to, {}, key)) {
                    std::string back;
                    REQUIRE(trained.decode(j, from, to, {}, back) == to);
                    REQUIRE(back == key.substr(0, *p));
                }
            }
        }
    }
}

TEST_CASE("context codec: 256 and 4,096 buckets code and parse", "[succinct]") {
    std::mt19937_64 rng(memkv::test::test_seed(0xB0C4E7));
    std::vector<std::string> keys;
    for (int i = 0; i < 1500; ++i) keys.push_back(random_string(rng, 60, i % 4 != 0));
    const cut_keys pieces(keys, rng);
    const auto& strings = pieces.strings;
    const auto& contexts = pieces.contexts;
    for (const unsigned bits : {8u, 12u, 15u}) {
        INFO("bucket bits " << bits);
        const auto code = succinct::context_code::train(strings, contexts, bits == 12, bits);
        REQUIRE(code.bucket_bits() == bits);
        for (const auto& c : contexts) REQUIRE(code.bucket_of(c) < code.buckets());
        std::vector<unsigned char> table;
        code.write(table);
        REQUIRE(table.size() == code.bytes());
        const auto back = succinct::context_code::parse(table.data(), table.size(), true);
        REQUIRE(back);
        REQUIRE(back->bucket_bits() == bits);
        succinct::bit_writer w;
        std::vector<std::uint64_t> at{0};
        for (std::size_t i = 0; i < strings.size(); ++i) {
            code.encode(strings[i], contexts[i], w);
            at.push_back(w.size());
        }
        const succinct::bit_span stream{w.bytes().data(), w.bytes().size()};
        for (std::size_t i = 0; i < strings.size(); ++i) {
            std::string out;
            REQUIRE(back->decode(stream, at[i], at[i + 1], contexts[i], out) == at[i + 1]);
            REQUIRE(out == strings[i]);
            if (bits != 12) REQUIRE(back->coded_prefix(stream, at[i], at[i + 1], contexts[i], std::string(strings[i]) + "z") == strings[i].size());
        }
        // A table read with another bucket count is another table: its size no longer fits.
        std::vector<unsigned char> other = table;
        other[0] = static_cast<unsigned char>(other[0] ^ (1u << 1));
        REQUIRE_FALSE(succinct::context_code::parse(other.data(), other.size()));
    }
}

TEST_CASE("context codec: counts folded to fewer buckets are the counts made there; the bits counted are the bits coded",
          "[succinct]") {
    std::mt19937_64 rng(memkv::test::test_seed(0xF01DED));
    std::vector<std::string> keys;
    for (int i = 0; i < 3000; ++i) keys.push_back(random_string(rng, 50, i % 3 != 0));
    const cut_keys pieces(keys, rng);
    for (const bool ends : {false, true}) {
        INFO("ends " << ends);
        succinct::context_code::sample_counts counts(pieces.strings, pieces.contexts, ends, 13);
        for (unsigned bits = 13; bits >= 8; --bits) {
            INFO("bucket bits " << bits);
            REQUIRE(counts.bucket_bits() == bits);
            const succinct::context_code::sample_counts direct(pieces.strings, pieces.contexts, ends, bits);
            REQUIRE(counts.same_bytes(direct));
            std::uint64_t sample_bits = 0;
            const auto folded = succinct::context_code::train(counts, 4, &sample_bits);
            // The bits counted are the bits the code writes for the sample.
            std::uint64_t coded = 0;
            succinct::bit_writer w;
            for (std::size_t i = 0; i < pieces.strings.size(); ++i) {
                coded += folded.coded_bits(pieces.strings[i], pieces.contexts[i]);
                folded.encode(pieces.strings[i], pieces.contexts[i], w);
            }
            REQUIRE(sample_bits == coded);
            REQUIRE(sample_bits == w.size());
            if (bits > 8) counts.fold();
            else break;
        }
    }
}

TEST_CASE("context codec: rare contexts that end in the same byte share a code", "[succinct]") {
    // After 'x' comes 'q', whatever came before the 'x': each of the 24
    // contexts (b, 'x') is too rare for a code of its own (~540 times, ~2
    // bits saved each, against ~5,000 bits of tables), together they pay.
    // Other bytes are uniform: nothing else has a code.
    std::mt19937_64 rng(memkv::test::test_seed(0x6A0C0DE));
    std::vector<std::string> keys;
    for (int i = 0; i < 3000; ++i) {
        std::string k;
        while (k.size() < 30) {
            if (rng() % 6 == 0) k += "xq";
            else k.push_back(static_cast<char>('a' + rng() % 23));  // a-w
        }
        keys.push_back(k);
    }
    const std::vector<std::string_view> strings(keys.begin(), keys.end());
    const std::vector<succinct::byte_context> contexts(strings.size());
    std::uint64_t sample_bits = 0;
    const succinct::context_code::sample_counts counts(strings, contexts, false, 12);
    const auto code = succinct::context_code::train(counts, 1, &sample_bits);
    REQUIRE(code.codes() == 2);  // the group's code and the fallback
    unsigned in_group = 0;
    for (unsigned b = 'a'; b <= unsigned{'w'}; ++b) {
        succinct::bit_writer w;
        code.encode("q", {b, unsigned{'x'}}, w);
        in_group += w.size() == 1 ? 1u : 0u;
    }
    CHECK(in_group == 23);  // each context (b, 'x') codes 'q' in one bit
    std::vector<unsigned char> table;
    code.write(table);
    REQUIRE(table.size() == code.bytes());
    const auto back = succinct::context_code::parse(table.data(), table.size(), true);
    REQUIRE(back);
    std::vector<unsigned char> again;
    back->write(again);
    REQUIRE(again == table);
    succinct::bit_writer w;
    std::vector<std::uint64_t> at{0};
    for (const auto s : strings) {
        back->encode(s, {}, w);
        at.push_back(w.size());
    }
    CHECK(w.size() == sample_bits);
    const succinct::bit_span bits{w.bytes().data(), w.bytes().size()};
    for (std::size_t i = 0; i < strings.size(); ++i) {
        std::string out;
        REQUIRE(code.decode(bits, at[i], at[i + 1], {}, out) == at[i + 1]);
        REQUIRE(out == strings[i]);
    }
    // Buckets name only earlier buckets that have a code: the first bucket
    // naming the group's, pointed at itself, at a later bucket, or at a
    // bucket that shares the fallback, is not a table.
    std::size_t at_entry = 1;
    std::optional<unsigned> owner, naming, sharing;
    for (unsigned b = 0; b < 4096 && !naming; ++b, at_entry += 2) {
        const unsigned m = unsigned{table[at_entry]} | unsigned{table[at_entry + 1]} << 8;
        if (m >= 0x8000) naming = b;
        else if (m == 0 && !sharing) sharing = b;
        else if (m != 0 && !owner) owner = b;
        if (m != 0 && m < 0x8000) at_entry += 2 * m;
    }
    REQUIRE((owner && naming && sharing));
    at_entry -= 2;  // the naming bucket's entry
    REQUIRE(*sharing < *naming);
    for (const unsigned target : {*naming, *naming + 1, *sharing}) {
        INFO("naming bucket " << target);
        std::vector<unsigned char> bad = table;
        bad[at_entry] = static_cast<unsigned char>(target & 0xff);
        bad[at_entry + 1] = static_cast<unsigned char>(0x80 | target >> 8);
        CHECK_FALSE(succinct::context_code::parse(bad.data(), bad.size()));
    }
}

TEST_CASE("context codec: a bucket has its own code only where the code pays for its tables", "[succinct]") {
    std::mt19937_64 rng(memkv::test::test_seed(0x5EA7ED));
    // Hex strings whose bytes are independent of the two before them (what
    // uuid.txt's links look like): no context predicts anything, so no own
    // code saves on strings it was not trained on, whatever it saves on its
    // own sample. And strings of eight letters in which each byte follows
    // from the two before it 19 times in 20: the contexts the strings visit
    // often save more with their own codes than their tables cost (~620
    // bytes each).
    std::vector<std::string> hex, chained;
    for (int i = 0; i < 10000; ++i) {
        std::string h, c = "ab";
        for (int j = 0; j < 30; ++j) h.push_back("0123456789abcdef"[rng() % 16]);
        for (int j = 0; j < 30; ++j) {
            const auto x = static_cast<unsigned char>(c[c.size() - 2]), y = static_cast<unsigned char>(c.back());
            const unsigned next = rng() % 20 != 0 ? (x * 7u + y * 3u) % 8u : static_cast<unsigned>(rng() % 8);
            c.push_back(static_cast<char>('a' + next));
        }
        hex.push_back(h);
        chained.push_back(c);
    }
    struct trained {
        std::size_t codes, memory, bits;
    };
    auto train = [](const std::vector<std::string>& keys, std::uint64_t repeats) {
        const std::vector<std::string_view> strings(keys.begin(), keys.end());
        const std::vector<succinct::byte_context> contexts(strings.size());
        const auto code = succinct::context_code::train(strings, contexts, false, succinct::context_code::default_bucket_bits, repeats);
        succinct::bit_writer w;
        std::vector<std::uint64_t> at{0};
        for (const auto s : strings) {
            code.encode(s, {}, w);
            at.push_back(w.size());
        }
        // Shared buckets round-trip: through the table and through the codes.
        std::vector<unsigned char> table;
        code.write(table);
        REQUIRE(table.size() == code.bytes());
        const auto back = succinct::context_code::parse(table.data(), table.size(), true);
        REQUIRE(back);
        REQUIRE(back->codes() == code.codes());
        std::vector<unsigned char> again;
        back->write(again);
        REQUIRE(again == table);
        const succinct::bit_span bits{w.bytes().data(), w.bytes().size()};
        for (std::size_t i = 0; i < strings.size(); i += 7) {
            std::string out;
            REQUIRE(back->decode(bits, at[i], at[i + 1], {}, out) == at[i + 1]);
            REQUIRE(out == strings[i]);
            REQUIRE(back->coded_prefix(bits, at[i], at[i + 1], {}, out + "q") == out.size());
        }
        return trained{code.codes(), code.memory_usage(), static_cast<std::size_t>(w.size())};
    };
    // Repeats 1: the sample is all the strings there are. Huge repeats:
    // every bucket whose code saves anything keeps it.
    const trained hex1 = train(hex, 1), hex_all = train(hex, 1u << 30);
    const trained chained1 = train(chained, 1), chained_all = train(chained, 1u << 30);
    INFO("own codes: hex " << hex1.codes - 1 << " (" << hex_all.codes - 1 << "), chained " << chained1.codes - 1 << " ("
                           << chained_all.codes - 1 << ")");
    // About 270 buckets see hex bytes; barely any code of theirs pays.
    CHECK(hex1.codes - 1 < 20);
    CHECK(hex1.memory < 64 * 1024);
    CHECK(chained1.codes - 1 >= 20);
    // What the rule minimizes: the stream and the tables together.
    auto total = [](const trained& t) { return t.bits / 8 + t.memory; };
    CHECK(total(hex1) < total(hex_all));
    CHECK(total(chained1) < total(chained_all));
    CHECK(chained1.bits < hex1.bits / 2);
}

TEST_CASE("context codec: coded_prefix with a table that lacks bytes", "[succinct]") {
    // A parsed table may hold fewer bytes than a trained one, even in its
    // fallback: here 'a' is coded in every bucket, 'b' and 'c' only through
    // the escape, nothing else. Keys are matched through escapes, and a key
    // byte no code holds ends the match (no link can hold it).
    std::vector<unsigned char> table{0};
    for (unsigned b = 0; b <= 256; ++b) {
        const unsigned first = b < 256 ? 'a' : 'b', second = b < 256 ? succinct::context_code::escape : 'c';
        for (const unsigned v : {2u, first | 1u << 9, second | 1u << 9}) {
            table.push_back(static_cast<unsigned char>(v));
            table.push_back(static_cast<unsigned char>(v >> 8));
        }
    }
    const auto code = succinct::context_code::parse(table.data(), table.size(), true);
    REQUIRE(code);
    std::mt19937_64 rng(memkv::test::test_seed(0xABCD));
    for (int i = 0; i < 2000; ++i) {
        std::string s(rng() % 70, 'a');
        for (char& c : s) c = "aabc"[rng() % 4];
        succinct::bit_writer w;
        code->encode(s, {}, w);
        const succinct::bit_span bits{w.bytes().data(), w.bytes().size()};
        // Every escaped byte costs two bits, 'a' one.
        std::uint64_t want_bits = 0;
        for (const char c : s) want_bits += c == 'a' ? 1 : 2;
        REQUIRE(w.size() == want_bits);
        REQUIRE(code->coded_prefix(bits, 0, w.size(), {}, s + "cab") == s.size());
        std::string back;
        REQUIRE(code->decode(bits, 0, w.size(), {}, back) == w.size());
        REQUIRE(back == s);
        if (!s.empty()) {
            std::string other = s;
            other[rng() % other.size()] = 'd';
            REQUIRE_FALSE(code->coded_prefix(bits, 0, w.size(), {}, other));
            other = s;
            other[rng() % other.size()] = static_cast<char>('a' + rng() % 3);
            REQUIRE(code->coded_prefix(bits, 0, w.size(), {}, other) == (other == s ? std::optional<std::size_t>(s.size()) : std::nullopt));
        }
    }
}
