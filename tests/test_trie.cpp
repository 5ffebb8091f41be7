// Tests of FrozenLayer v3's trie (detail/trie/): built from sorted keys in
// one pass, every key's ordinal and every miss checked against the sorted
// keys, on the edge keys, on generated shapes and on random keys, with links
// coded and plain, and with the link code trained before, during and after
// the last key; cursors both ways; then the trie inside FrozenLayer (format
// version 3): its payload directory's checks and the streaming build's
// memory. (test_frozen_v3 runs every FrozenLayer test on version 3.)

#include <algorithm>
#include <limits>
#include <cstdint>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <memkv/detail/trie/builder.hpp>
#include <memkv/detail/trie/view.hpp>
#include <memkv/frozen_builder.hpp>
#include <memkv/frozen_layer.hpp>

#include "memkv_catch.hpp"
#include "shapes.hpp"

namespace trie = memkv::detail::trie;

namespace {

struct built {
    trie::trie_image image;
    trie::trie_view view;
};

std::unique_ptr<built> build(const std::vector<std::string>& sorted, trie::builder_options opt = {}) {
    trie::trie_builder b(opt);
    for (const std::string& k : sorted) b.push(k);
    auto out = std::make_unique<built>();
    out->image = b.finish();
    out->view = trie::trie_view(out->image);
    return out;
}

// Every key's ordinal; every prefix and extension of some keys, and random
// strings, missed unless they are keys.
void check(const std::vector<std::string>& sorted, trie::builder_options opt = {}) {
    const auto t = build(sorted, opt);
    const trie::trie_view& v = t->view;
    REQUIRE(v.size() == sorted.size());
    for (std::size_t i = 0; i < sorted.size(); ++i) {
        INFO("key " << i << " of " << sorted.size() << " (size " << sorted[i].size() << ")");
        REQUIRE(v.find(sorted[i]) == i);
        REQUIRE(v.find_as<false>(sorted[i]) == i);  // find() takes find_as<true> where the CPU has POPCNT
    }
    const std::set<std::string> keys(sorted.begin(), sorted.end());
    auto expect = [&](const std::string& q) {
        const auto it = keys.find(q);
        const std::uint64_t want =
            it == keys.end() ? trie::npos : static_cast<std::uint64_t>(std::distance(keys.begin(), it));
        INFO("probe of size " << q.size());
        REQUIRE(v.find(q) == want);
        REQUIRE(v.find_as<false>(q) == want);
    };
    std::mt19937_64 rng(sorted.size());
    const std::size_t step = std::max<std::size_t>(1, sorted.size() / 2000);
    for (std::size_t i = 0; i < sorted.size(); i += step) {
        const std::string& k = sorted[i];
        for (std::size_t n = 0; n <= k.size(); n += 1 + k.size() / 8) expect(k.substr(0, n));
        expect(k + '\0');
        expect(k + 'a');
        expect(k + '\xff');
        if (!k.empty()) {
            std::string m = k;
            m[rng() % m.size()] ^= static_cast<char>(1 + rng() % 255);
            expect(m);
            m = k;
            m.pop_back();
            expect(m + static_cast<char>(rng()));
        }
    }
    for (int i = 0; i < 500; ++i) {
        std::string q(rng() % 12, '\0');
        for (char& c : q) c = static_cast<char>(rng() % 4 == 0 ? rng() : 'a' + rng() % 4);
        expect(q);
    }
}

std::vector<std::string> sorted_unique(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
}

std::vector<std::string> edge_keys() {
    using namespace std::string_literals;
    std::vector<std::string> ks = {""s, "a"s, "ab"s, "abc"s, "abcd"s, "abd"s, "b"s, "\0"s, "\0\0"s, "\0a"s, "\xff"s,
                                   "\xff\xff"s, "a\xff"s, "a\0"s, "a\0b"s, std::string(300, 'x'),
                                   std::string(300, 'x') + "y", std::string(5000, 'q'), "user:1001"s, "user:1002"s};
    for (int c = 0; c < 256; ++c) ks.push_back("n" + std::string(1, static_cast<char>(c)));
    for (int c = 0; c < 256; ++c) ks.push_back("m" + std::string(1, static_cast<char>(c)) + "tail");
    return sorted_unique(ks);
}

std::vector<std::string> shape(memkv::bench::KeyShape s, std::size_t n) {
    const memkv::bench::Dataset d = memkv::bench::synthetic_keys(s, n, 11);
    std::vector<std::string> v;
    for (const std::string_view k : d.keys()) v.emplace_back(k);
    return sorted_unique(std::move(v));
}

std::vector<std::string> random_keys(std::size_t n, unsigned alphabet, std::size_t max_len, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<std::string> v;
    for (std::size_t i = 0; i < n; ++i) {
        std::string k(rng() % (max_len + 1), '\0');
        for (char& c : k) c = static_cast<char>(rng() % alphabet);
        v.push_back(std::move(k));
    }
    return sorted_unique(std::move(v));
}

}  // namespace

TEST_CASE("v3 trie: a block's label search against label by label", "[trie]") {
    // at_least compares all 64 labels and masks lo..hi: every range, in one
    // 16-label group or across two to four, labels at and around c.
    std::mt19937_64 rng(11);
    unsigned char labels[trie::block_edges];
    for (int round = 0; round < 40; ++round) {
        for (auto& l : labels) l = static_cast<unsigned char>(round % 2 == 0 ? rng() : 120 + rng() % 16);
        for (unsigned lo = 0; lo < trie::block_edges; ++lo)
            for (unsigned hi = lo; hi < trie::block_edges; ++hi) {
                const auto c = static_cast<unsigned char>(round % 2 == 0 ? rng() : 120 + rng() % 16);
                std::uint64_t want = 0;
                for (unsigned i = lo; i <= hi; ++i) want |= std::uint64_t{labels[i] >= c} << i;
                INFO("c " << int(c) << ", lo " << lo << ", hi " << hi);
                REQUIRE(trie::at_least(labels, c, lo, hi) == want);
            }
    }
}

TEST_CASE("v3 trie: empty, one key, the empty key alone", "[trie]") {
    check({});
    check({""});
    check({"a"});
    check({"abcdef"});
    check({"", "a"});
    check({"a", "ab"});
    check({"ab", "ac"});
    check({std::string(1, '\0')});
}

TEST_CASE("v3 trie: edge keys, links coded and plain, trained early and late", "[trie]") {
    const auto ks = edge_keys();
    for (const std::size_t sample : {std::size_t{1}, std::size_t{7}, std::size_t{65536}}) {
        INFO("sample links " << sample);
        check(ks, {.sample_links = sample});
        check(ks, {.sample_links = sample, .force_plain = true});
        check(ks, {.sample_links = sample, .force_coded = true});
    }
}

TEST_CASE("v3 trie: a probe of the sample settles plain links and leaves coded ones to the whole sample", "[trie]") {
    using memkv::bench::KeyShape;
    for (const KeyShape s : {KeyShape::urls, KeyShape::names, KeyShape::binary, KeyShape::ints}) {
        INFO("shape " << memkv::bench::shape_name(s));
        const auto ks = shape(s, 20000);
        const auto probed = build(ks, {.sample_links = 8000, .probe_links = 1000});
        const auto unprobed = build(ks, {.sample_links = 8000, .probe_links = 0});
        // Text codes, random keys do not (in the probe as in the sample).
        CHECK(probed->image.plain_links == (s == KeyShape::binary || s == KeyShape::ints));
        CHECK(probed->image.plain_links == unprobed->image.plain_links);
        if (!probed->image.plain_links) {
            // The probe let the whole sample train the code: the same trie.
            CHECK(probed->image.code == unprobed->image.code);
            CHECK(probed->image.links == unprobed->image.links);
        }
        check(ks, {.sample_links = 8000, .probe_links = 1000});
    }
}

TEST_CASE("v3 trie: the link sample's memory is given back once the code is trained", "[trie]") {
    // Regression: the pending edges and links were cleared by `= {}`, which
    // kept their capacity for the rest of the build.
    const auto ks = shape(memkv::bench::KeyShape::paths, 40000);
    trie::trie_builder b({.sample_links = 20000});
    std::size_t peak = 0;
    for (const std::string& k : ks) {
        b.push(k);
        peak = std::max(peak, b.memory_usage());
    }
    INFO("peak " << peak << ", at the end " << b.memory_usage());
    CHECK(b.memory_usage() < peak);
    const auto image = b.finish();
    CHECK(image.keys == ks.size());
}

TEST_CASE("v3 trie: keys without links do not hold the build's edges to the end", "[trie]") {
    // Regression: dense 4-byte integers have no links, so the sample never
    // filled and every edge waited for finish() (memory growing with the keys).
    std::vector<std::string> ks;
    for (std::uint32_t i = 0; i < 100000; ++i) {
        std::string k(4, '\0');
        for (int j = 0; j < 4; ++j) k[static_cast<std::size_t>(j)] = static_cast<char>(i >> (8 * (3 - j)));
        ks.push_back(std::move(k));
    }
    const trie::builder_options opt{.sample_links = 1000, .sample_edges = 5000};
    trie::trie_builder b(opt);
    std::size_t at_half = 0;
    for (std::size_t i = 0; i < ks.size(); ++i) {
        b.push(ks[i]);
        if (i + 1 == ks.size() / 2) at_half = b.memory_usage();
    }
    // What grows is the parts in the builder's own sinks (a few bytes a
    // key), not 48 bytes a pending edge.
    INFO("memory_usage at half the keys " << at_half << ", at the end " << b.memory_usage());
    CHECK(b.memory_usage() < at_half + 16 * ks.size() / 2);
    CHECK(b.finish().keys == ks.size());
    check(ks, opt);
}

TEST_CASE("v3 trie: a sample weighed by the keys expected", "[trie]") {
    // A sample of 20,000 links weighed as 64 samples pays for more own
    // codes than one weighed as itself; a hint that the set is little more
    // than the sample weighs it so, never above sample_repeats.
    const auto ks = shape(memkv::bench::KeyShape::urls, 30000);
    const auto own_codes = [&](const trie::builder_options& opt) {
        const auto t = build(ks, opt);
        REQUIRE_FALSE(t->image.plain_links);
        return memkv::detail::succinct::context_code::parse(t->image.code.data(), t->image.code.size())->codes();
    };
    const std::size_t alone = own_codes({.sample_links = 20000, .sample_repeats = 1});
    const std::size_t many = own_codes({.sample_links = 20000, .sample_repeats = 64});
    CHECK(many > alone);
    // The sample holds over a third of the keys: a hint of the keys
    // themselves weighs it as 2 or 3, below 64 and above 1.
    const std::size_t hinted = own_codes({.sample_links = 20000, .expected_keys = ks.size(), .sample_repeats = 64});
    CHECK(hinted > alone);
    CHECK(hinted < many);
    CHECK(own_codes({.sample_links = 20000, .expected_keys = 64 * ks.size(), .sample_repeats = 1}) == alone);
    // A hint below the keys already sampled is ignored.
    CHECK(own_codes({.sample_links = 20000, .expected_keys = 10, .sample_repeats = 64}) == many);
    check(ks, {.sample_links = 20000, .expected_keys = ks.size(), .sample_repeats = 64});
}

TEST_CASE("v3 trie: the link code keeps the cheaper of two bucket counts", "[trie]") {
    using memkv::bench::KeyShape;
    namespace succinct = memkv::detail::succinct;
    const unsigned bits = succinct::context_code::default_bucket_bits;
    std::set<unsigned> chosen;
    for (const KeyShape s : {KeyShape::urls, KeyShape::names, KeyShape::paths}) {
        INFO("shape " << memkv::bench::shape_name(s));
        const auto ks = shape(s, 20000);
        // The whole set in the sample: a code's price is its links and its tables once.
        const auto price = [&](bool try_more) {
            const auto t = build(ks, {.try_more_buckets = try_more});
            REQUIRE_FALSE(t->image.plain_links);
            const auto code = succinct::context_code::parse(t->image.code.data(), t->image.code.size());
            REQUIRE(code);
            chosen.insert(code->bucket_bits());
            return std::pair{t->image.links.size() + code->bytes() + code->memory_usage(), code->bucket_bits()};
        };
        const auto [narrow, narrow_bits] = price(false);
        const auto [tried, tried_bits] = price(true);
        CHECK(narrow_bits == bits);
        CHECK((tried_bits == bits || tried_bits == bits + 1));
        CHECK(tried <= narrow);
        if (tried_bits == bits) CHECK(tried == narrow);
        // Sampled links standing for 64 samples: own codes pay more often.
        const trie::builder_options hinted{
            .sample_links = 20000, .expected_keys = 64 * ks.size(), .sample_repeats = 64};
        const auto t = build(ks, hinted);
        chosen.insert(succinct::context_code::parse(t->image.code.data(), t->image.code.size())->bucket_bits());
        check(ks, hinted);
    }
    // Both counts win somewhere, so both are exercised.
    CHECK(chosen == std::set<unsigned>{bits, bits + 1});
}

TEST_CASE("v3 trie: generated shapes across block and jump-base boundaries", "[trie]") {
    using memkv::bench::KeyShape;
    // 60,000 keys are over 65,536 edges (1,024 blocks: a second jump base)
    // on every shape; links coded as the sample says, plain and coded.
    int variant = 0;
    for (const KeyShape s : {KeyShape::urls, KeyShape::names, KeyShape::paths, KeyShape::binary, KeyShape::ints}) {
        INFO("shape " << memkv::bench::shape_name(s));
        const auto ks = shape(s, 60000);
        const auto t = build(ks);
        REQUIRE(t->image.edges > 65536);
        check(ks, {.sample_links = 3000, .force_plain = variant % 3 == 1, .force_coded = variant % 3 == 2});
        ++variant;
    }
}

TEST_CASE("v3 trie: links of very different lengths in one block", "[trie]") {
    // Link offsets whose low bits come from a sample of short links, with
    // 20,000-byte links among 1-byte ones in the same blocks (and trained
    // on the short ones only).
    std::vector<std::string> ks;
    for (int i = 0; i < 400; ++i) {
        std::string k = "k" + std::to_string(1000 + i);
        if (i % 97 == 5) k += std::string(static_cast<std::size_t>(20000 + i), static_cast<char>('a' + i % 26));
        else if (i % 3 == 0) k += static_cast<char>('A' + i % 26);
        ks.push_back(std::move(k));
    }
    ks = sorted_unique(std::move(ks));
    check(ks, {.force_plain = true});
    check(ks, {.force_coded = true});
    check(ks, {.sample_links = 3, .force_coded = true});
}

TEST_CASE("v3 trie: random keys over small and full alphabets", "[trie]") {
    check(random_keys(20000, 2, 24, 1));
    check(random_keys(20000, 3, 10, 2), {.sample_links = 100});
    check(random_keys(5000, 256, 40, 3));
    check(random_keys(3000, 26, 3, 4));
}

TEST_CASE("v3 trie: a dominant prefix takes the jump", "[trie]") {
    std::vector<std::string> ks;
    for (int i = 0; i < 3000; ++i) ks.push_back("https://example.com/" + std::to_string(i * 7919 % 100000));
    for (int i = 0; i < 500; ++i) ks.push_back("zz" + std::to_string(i));
    for (int i = 0; i < 500; ++i) ks.push_back("a" + std::to_string(i));
    ks = sorted_unique(ks);
    const auto t = build(ks);
    REQUIRE(t->image.jump_prefix == "https://example.com/");
    check(ks);
}

namespace {

// Iteration both ways, nth and seek against the sorted keys.
void check_order(const std::vector<std::string>& sorted, trie::builder_options opt = {}) {
    const auto t = build(sorted, opt);
    const trie::trie_view& v = t->view;
    trie::trie_cursor c;
    v.first(c);
    for (std::size_t i = 0; i < sorted.size(); ++i) {
        INFO("forward " << i);
        REQUIRE(!c.at_end());
        REQUIRE(c.key == sorted[i]);
        REQUIRE(c.ordinal == i);
        REQUIRE(v.ordinal_of(c) == i);
        v.next(c);
    }
    REQUIRE(c.at_end());
    REQUIRE(c.ordinal == sorted.size());
    for (std::size_t i = sorted.size(); i-- > 0;) {
        INFO("backward " << i);
        v.prev(c);
        REQUIRE(!c.at_end());
        REQUIRE(c.key == sorted[i]);
        REQUIRE(c.ordinal == i);
    }
    const std::size_t step = std::max<std::size_t>(1, sorted.size() / 3000);
    for (std::size_t i = 0; i < sorted.size(); i += step) {
        INFO("nth " << i);
        v.nth(c, i);
        REQUIRE(c.key == sorted[i]);
        REQUIRE(c.ordinal == i);
        if (i + 1 < sorted.size()) {
            v.next(c);
            REQUIRE(c.key == sorted[i + 1]);
            v.prev(c);
        }
        if (i > 0) {
            v.prev(c);
            REQUIRE(c.key == sorted[i - 1]);
            REQUIRE(c.ordinal == i - 1);
        }
    }
    std::mt19937_64 rng(sorted.size() + 1);
    auto expect_seek = [&](const std::string& q) {
        const auto it = std::lower_bound(sorted.begin(), sorted.end(), q);
        INFO("seek of size " << q.size());
        v.seek(c, q);
        if (it == sorted.end()) {
            REQUIRE(c.at_end());
            REQUIRE(c.ordinal == sorted.size());
            return;
        }
        REQUIRE(!c.at_end());
        REQUIRE(c.key == *it);
        REQUIRE(c.ordinal == static_cast<std::uint64_t>(it - sorted.begin()));
        v.next(c);
        if (it + 1 == sorted.end()) REQUIRE(c.at_end());
        else REQUIRE(c.key == *(it + 1));
    };
    expect_seek("");
    expect_seek(std::string(1, '\xff') + std::string(1, '\xff') + "\xff\xff");
    for (std::size_t i = 0; i < sorted.size(); i += step) {
        const std::string& k = sorted[i];
        expect_seek(k);
        for (std::size_t n = 0; n < k.size(); n += 1 + k.size() / 6) expect_seek(k.substr(0, n));
        expect_seek(k + '\0');
        expect_seek(k + '\xff');
        if (!k.empty()) {
            std::string m = k;
            const std::size_t at = rng() % m.size();
            m[at] = static_cast<char>(static_cast<unsigned char>(m[at]) + 1);
            expect_seek(m);
            m = k;
            m[at] = static_cast<char>(static_cast<unsigned char>(m[at]) - 1);
            expect_seek(m);
            expect_seek(k.substr(0, at) + std::string(3, '\xff'));
        }
    }
    for (int i = 0; i < 300; ++i) {
        std::string q(rng() % 10, '\0');
        for (char& ch : q) ch = static_cast<char>(rng() % 3 == 0 ? rng() : 'a' + rng() % 4);
        expect_seek(q);
    }
}

}  // namespace

TEST_CASE("v3 trie: iteration both ways, nth and seek", "[trie]") {
    check_order({});
    check_order({""});
    check_order({"a"});
    check_order({"", "a", "ab", "b"});
    check_order(edge_keys());
    check_order(edge_keys(), {.sample_links = 5, .force_plain = true});
    check_order(edge_keys(), {.sample_links = 5, .force_coded = true});
    using memkv::bench::KeyShape;
    for (const KeyShape s : {KeyShape::urls, KeyShape::names, KeyShape::paths, KeyShape::binary, KeyShape::ints}) {
        INFO("shape " << memkv::bench::shape_name(s));
        check_order(shape(s, 20000), {.sample_links = 1000});
    }
    check_order(random_keys(20000, 2, 24, 5));
    check_order(random_keys(3000, 256, 30, 6));
}

TEST_CASE("v3 trie: a cursor's copy or assignment drops the links read ahead", "[trie]") {
    // Two tries of one shape whose links differ: each byte of the second's
    // keys is the first's plus one, so edges sit at the same positions.
    std::mt19937_64 rng(11);
    std::vector<std::string> a;
    for (int i = 0; i < 400; ++i) {
        std::string k(1 + rng() % 3, 'a');
        for (char& ch : k) ch = static_cast<char>('a' + rng() % 3);
        for (int j = 0; j < 24; ++j) k.push_back(static_cast<char>('a' + rng() % 20));
        a.push_back(k);
    }
    a = sorted_unique(a);
    std::vector<std::string> b = a;
    for (std::string& k : b)
        for (char& ch : k) ++ch;
    const auto ta = build(a, {.sample_links = 100, .force_coded = true});
    const auto tb = build(b, {.sample_links = 100, .force_coded = true});
    REQUIRE(ta->view.edges() == tb->view.edges());
    for (std::size_t i = 0; i + 1 < a.size(); i += 7) {
        INFO("key " << i);
        trie::trie_cursor c;  // scanned to key i: it holds links read ahead
        ta->view.first(c);
        for (std::size_t n = 0; n < i; ++n) ta->view.next(c);
        REQUIRE(c.key == a[i]);
        trie::trie_cursor copy = c;
        REQUIRE(copy.ahead.entries.empty());
        ta->view.next(copy);
        REQUIRE(copy.key == a[i + 1]);
        trie::trie_cursor other;
        tb->view.nth(other, i);
        c = other;  // from the other trie: c's entries are not its links
        for (std::size_t n = i + 1; n < b.size(); ++n) {
            tb->view.next(c);
            REQUIRE(c.key == b[n]);
        }
    }
}

TEST_CASE("v3 trie: longest prefix", "[trie]") {
    for (const auto& ks : {edge_keys(), shape(memkv::bench::KeyShape::paths, 5000), random_keys(3000, 3, 8, 7)}) {
        const auto t = build(ks, {.sample_links = 500});
        std::mt19937_64 rng(9);
        auto expect = [&](const std::string& q) {
            std::uint64_t want_len = trie::npos, want_ord = trie::npos;
            for (std::size_t n = q.size() + 1; n-- > 0;) {
                const auto it = std::lower_bound(ks.begin(), ks.end(), q.substr(0, n));
                if (it != ks.end() && *it == q.substr(0, n)) {
                    want_len = n;
                    want_ord = static_cast<std::uint64_t>(it - ks.begin());
                    break;
                }
            }
            const auto [len, ord] = t->view.longest_prefix(q);
            INFO("query of size " << q.size());
            REQUIRE(len == want_len);
            REQUIRE(ord == want_ord);
        };
        for (std::size_t i = 0; i < ks.size(); i += 1 + ks.size() / 500) {
            expect(ks[i]);
            expect(ks[i] + "zz");
            expect(ks[i] + '\0');
            if (!ks[i].empty()) expect(ks[i].substr(0, rng() % ks[i].size()));
        }
        expect("");
        expect("nothing here at all");
    }
}

// --- FrozenLayer format version 3 -------------------------------------------

namespace {

// A version 3 image with its payload directory's field at `at` (a u64)
// replaced, checksums made valid again: only the directory's checks stand.
std::vector<unsigned char> with_directory_field(std::span<const unsigned char> good, std::size_t at, std::uint64_t v) {
    std::vector<unsigned char> b(good.begin(), good.end());
    memkv::detail::store_le(b.data() + memkv::detail::frozen_header_size + at, v, 8);
    auto h = memkv::detail::decode_frozen_header(b.data(), b.size(), memkv::detail::frozen_type_tag<std::uint64_t>(), 8);
    h.payload_crc = memkv::detail::crc32c(b.data() + memkv::detail::frozen_header_size,
                                          b.size() - memkv::detail::frozen_header_size);
    memkv::detail::encode_frozen_header(h, b.data());
    return b;
}

}  // namespace

TEST_CASE("FrozenLayer v3: a payload directory that lies is refused, naming what", "[trie][frozen]") {
    std::map<std::string, std::uint64_t> m;
    for (const std::string& k : shape(memkv::bench::KeyShape::names, 3000)) m.emplace(k, m.size() * 5);
    memkv::frozen_layer_options opt;
    opt.format_version = 3;
    const auto f = memkv::FrozenLayer<std::uint64_t>::from_sorted(m, opt);
    REQUIRE(f.bytes()[8] == 3);
    const auto good = f.bytes();
    const std::uint64_t edges = memkv::detail::load_le64(good.data() + memkv::detail::frozen_header_size);
    struct lie {
        std::size_t at;
        std::uint64_t value;
        const char* named;
    };
    const lie lies[] = {
        {0, edges + 64, "blocks"},                 // more edges than blocks
        {0, std::uint64_t{1} << 40, "edge count"},
        {8, edges, "root"},
        {16, edges + 1, "more links than edges"},
        {136, 7, "blocks"},                        // a part's offset not a multiple of 8
        {144, 8, "blocks"},                        // its size
        {136 + 16 * 5 + 8, 1, "links"},
        {136 + 16 * 6 + 8, std::uint64_t{1} << 50, "link code table"},
        {248, 1, "reserved"},
    };
    for (const lie& l : lies) {
        INFO("field at " << l.at << " = " << l.value);
        const auto b = with_directory_field(good, l.at, l.value);
        try {
            (void)memkv::FrozenLayer<std::uint64_t>::from_bytes(std::span<const unsigned char>(b));
            FAIL("opened");
        } catch (const memkv::format_error& e) {
            INFO(e.what());
            CHECK(std::string(e.what()).find("version 3 trie") != std::string::npos);
            CHECK(std::string(e.what()).find(l.named) != std::string::npos);
        }
    }
    // The directory unchanged: opens and answers.
    const auto same = with_directory_field(good, 0, edges);
    const auto g = memkv::FrozenLayer<std::uint64_t>::from_bytes(std::span<const unsigned char>(same));
    for (const auto& [k, v] : m) REQUIRE(g.get(k) == v);
}

TEST_CASE("FrozenLayer v3: a streaming build's memory does not grow with the keys", "[trie][frozen]") {
    const auto ks = shape(memkv::bench::KeyShape::paths, 240000);
    const std::string path = (std::filesystem::temp_directory_path() / "memkv-test-trie-stream.frz").string();
    memkv::frozen_layer_options opt;
    opt.format_version = 3;
    // memory_usage() with one key in, at its least after half the keys (the
    // link code's sample is held until it is trained, about 210,000 keys in,
    // then given back), and with all of them.
    auto measure = [&](bool streaming) {
        auto b = streaming ? std::make_unique<memkv::FrozenLayerBuilder<std::uint64_t>>(path, opt)
                           : std::make_unique<memkv::FrozenLayerBuilder<std::uint64_t>>(opt);
        std::size_t least = std::numeric_limits<std::size_t>::max(), first = 0;
        for (std::size_t i = 0; i < ks.size(); ++i) {
            b->insert(ks[i], i);
            if (i == 0) first = b->memory_usage();
            if (i + 1 >= ks.size() / 2) least = std::min(least, b->memory_usage());
        }
        const std::size_t at_end = b->memory_usage();
        const auto f = b->finish();
        REQUIRE(f.size() == ks.size());
        for (std::size_t i = 0; i < ks.size(); i += 997) REQUIRE(f.get(ks[i]) == i);
        INFO("memory_usage at its least after half the keys " << least << ", at all of them " << at_end);
        REQUIRE(at_end >= least);
        REQUIRE(at_end >= first);
        return std::pair{at_end - least, at_end - first};
    };
    // The parts go to files: what grows is the jump bases (8 bytes per
    // 1,024 blocks), the open path and the coded links' buffer (drained
    // past 64 KiB; its capacity may double once), not the parts (~16 bytes
    // a key on these paths, which an in-memory build holds).
    const auto streamed = measure(true);
    const auto in_memory = measure(false);
    CHECK(streamed.first < 256 * 1024);
    CHECK(streamed.second < 512 * 1024);
    CHECK(in_memory.second > 8 * ks.size());  // where the parts stay in memory, they show
    std::filesystem::remove(path);
}
