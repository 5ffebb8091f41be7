// Tests of memkv-bench's generated key shapes (bench/shapes.hpp): the same
// keys for the same seed, exactly N distinct keys, the documented lengths and
// byte coverage, the SHAPE:N parser's messages, the shape's name in the
// printed table, and every registered adapter on each shape. Linked into
// test_bench_support (bench/CMakeLists.txt).

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <memkv/frozen_layer.hpp>
#include <unistd.h>

#include "memkv_catch.hpp"
#include "registry.hpp"
#include "report.hpp"
#include "shapes.hpp"

using namespace memkv::bench;

namespace {

std::vector<std::string> as_strings(const Dataset& d) { return {d.keys().begin(), d.keys().end()}; }

double mean_length(const Dataset& d) {
    return static_cast<double>(d.raw_bytes()) / static_cast<double>(d.size());
}

// The bands DESIGN.md states for each shape ("Input"), at a few thousand keys.
struct Band {
    KeyShape shape;
    double lo, hi;
};
constexpr Band bands[] = {
    {KeyShape::urls, 38, 50}, {KeyShape::names, 18, 23}, {KeyShape::paths, 54, 64},
    {KeyShape::binary, 16, 16}, {KeyShape::ints, 8, 8},
};

}  // namespace

TEST_CASE("generated shapes: deterministic, exactly N distinct keys, documented lengths", "[bench][shapes]") {
    for (const Band& band : bands) {
        const std::string shape(shape_name(band.shape));
        INFO("shape " << shape);
        const Dataset a = synthetic_keys(band.shape, 4000, 7);
        const Dataset b = synthetic_keys(band.shape, 4000, 7);
        const Dataset c = synthetic_keys(band.shape, 4000, 8);
        REQUIRE(a.size() == 4000);
        CHECK(as_strings(a) == as_strings(b));
        CHECK(as_strings(a) != as_strings(c));
        CHECK(a.duplicates_removed() == 0);
        const std::set<std::string> unique(a.keys().begin(), a.keys().end());
        CHECK(unique.size() == a.size());
        CHECK(mean_length(a) >= band.lo);
        CHECK(mean_length(a) <= band.hi);
        CHECK(a.name() == "synthetic:" + shape + ":4000:seed=7");
        // Small sets too: N is honoured however few keys the shape would share.
        for (const std::size_t n : {1U, 2U, 37U}) CHECK(synthetic_keys(band.shape, n, 3).size() == n);
    }
}

TEST_CASE("binary keys hold every byte value; ints are 8-byte big-endian", "[bench][shapes]") {
    SECTION("binary") {
        const Dataset d = synthetic_keys(KeyShape::binary, 4000, 1);
        std::set<unsigned char> seen;
        for (const std::string_view k : d.keys()) {
            REQUIRE(k.size() == 16);
            for (const char c : k) seen.insert(static_cast<unsigned char>(c));
        }
        CHECK(seen.size() == 256);
        CHECK(seen.count(0) == 1);
        CHECK(seen.count(255) == 1);
        CHECK(d.has_nul());
    }
    SECTION("ints") {
        const Dataset d = synthetic_keys(KeyShape::ints, 4000, 1);
        std::vector<std::uint64_t> in_byte_order;
        for (const std::uint32_t i : d.sorted()) {
            const std::string_view k = d.keys()[i];
            REQUIRE(k.size() == 8);
            std::uint64_t v = 0;
            for (const char c : k) v = v << 8 | static_cast<unsigned char>(c);
            in_byte_order.push_back(v);
        }
        // Big-endian: byte order is numeric order, and the values are distinct.
        CHECK(std::adjacent_find(in_byte_order.begin(), in_byte_order.end(),
                                 [](std::uint64_t x, std::uint64_t y) { return x >= y; }) == in_byte_order.end());
        // Random over the whole range, not a dense block: the top byte takes many values.
        std::set<std::uint64_t> top;
        for (const std::uint64_t v : in_byte_order) top.insert(v >> 56);
        CHECK(top.size() > 200);
    }
}

TEST_CASE("names are half scoped with skewed scopes; paths share deep directories", "[bench][shapes]") {
    SECTION("names") {
        const Dataset d = synthetic_keys(KeyShape::names, 20000, 5);
        std::map<std::string_view, std::size_t> per_scope;
        std::size_t scoped = 0;
        for (const std::string_view k : d.keys()) {
            CHECK(k.find_first_of(std::string_view("\0\n ", 3)) == std::string_view::npos);
            if (!k.starts_with('@')) {
                CHECK(k.find('/') == std::string_view::npos);
                continue;
            }
            ++scoped;
            const std::size_t slash = k.find('/');
            REQUIRE(slash != std::string_view::npos);
            CHECK(slash > 1);
            CHECK(slash + 1 < k.size());
            CHECK(k.find('/', slash + 1) == std::string_view::npos);
            ++per_scope[k.substr(0, slash)];
        }
        CHECK(scoped > d.size() * 2 / 5);
        CHECK(scoped < d.size() * 3 / 5);
        std::size_t top = 0;
        for (const auto& [scope, count] : per_scope) top = std::max(top, count);
        CHECK(top > 20 * scoped / per_scope.size());
    }
    SECTION("paths") {
        const Dataset d = synthetic_keys(KeyShape::paths, 20000, 5);
        for (const std::string_view k : d.keys()) {
            CHECK(k.starts_with('/'));
            const std::string_view file = k.substr(k.rfind('/') + 1);
            CHECK(file.find('.') != std::string_view::npos);  // an extension
            CHECK(std::count(k.begin(), k.end(), '/') >= 3);
        }
        // Deep sharing: a key shares, on average, a long prefix with the key
        // before it in byte order (URL-like keys: about 20 bytes).
        std::size_t shared = 0;
        for (std::size_t i = 1; i < d.sorted().size(); ++i) {
            const std::string_view x = d.keys()[d.sorted()[i - 1]], y = d.keys()[d.sorted()[i]];
            shared += static_cast<std::size_t>(std::mismatch(x.begin(), x.end(), y.begin(), y.end()).first - x.begin());
        }
        CHECK(shared > 18 * d.size());
    }
}

TEST_CASE("packed keys keep every byte; the NUL-terminator conflict is found exactly", "[bench][shapes]") {
    auto packed = [](const std::vector<std::string>& keys) {
        std::string bytes;
        std::vector<std::size_t> ends;
        for (const std::string& k : keys) ends.push_back((bytes += k).size());
        return Dataset::from_packed(bytes, ends);
    };
    const Dataset lines = packed({"a\nb", std::string("\0", 1), "", "a\nb"});
    CHECK(as_strings(lines) == std::vector<std::string>{"a\nb", std::string("\0", 1), ""});
    CHECK(lines.duplicates_removed() == 1);
    for (const std::string_view k : lines.keys()) CHECK(k.data()[k.size()] == '\0');

    CHECK(!packed({"ab", "abc"}).nul_terminator_ambiguous());                    // no NUL at all
    CHECK(!packed({std::string("a\0", 2), std::string("b\0", 2)}).nul_terminator_ambiguous());  // one length
    CHECK(!packed({"a", std::string("a\1\0", 3)}).nul_terminator_ambiguous());  // NUL, but not after "a"
    CHECK(packed({"a", std::string("a\0", 2)}).nul_terminator_ambiguous());
    // The conflicting pair need not be adjacent in insertion order.
    CHECK(packed({"key", "zz", "kex", std::string("key\0\0z", 6), "kez"}).nul_terminator_ambiguous());
    const Dataset bin = synthetic_keys(KeyShape::binary, 2000, 9);
    CHECK(bin.has_nul());
    CHECK(!bin.nul_terminator_ambiguous());
}

TEST_CASE("SHAPE:N parsing names what is wrong", "[bench][shapes]") {
    std::string error;
    const auto ok = parse_synthetic_spec("names:4000000", error);
    REQUIRE(ok.has_value());
    CHECK(ok->shape == KeyShape::names);
    CHECK(ok->keys == 4000000);
    for (const auto& [name, shape] : {std::pair{"urls:1", KeyShape::urls}, std::pair{"paths:2", KeyShape::paths},
                                      std::pair{"binary:3", KeyShape::binary}, std::pair{"ints:4", KeyShape::ints}}) {
        const auto spec = parse_synthetic_spec(name, error);
        REQUIRE(spec.has_value());
        CHECK(spec->shape == shape);
    }
    struct Bad {
        const char* text;
        const char* must_mention;
    };
    for (const Bad& bad : {Bad{"names", "SHAPE:N"}, Bad{"words:10", "'words'"}, Bad{":10", "''"},
                           Bad{"names:", "''"}, Bad{"names:12x", "'12x'"}, Bad{"names:-1", "'-1'"},
                           Bad{"names:0", "0"}, Bad{"ints:4294967296", "4294967296"},
                           Bad{"ints:99999999999999999999999", "99999999999999999999999 of shape ints is not in"}}) {
        INFO(bad.text);
        error.clear();
        CHECK(!parse_synthetic_spec(bad.text, error).has_value());
        CHECK(error.find(bad.must_mention) != std::string::npos);
    }
}

TEST_CASE("the printed table names the key shape", "[bench][shapes]") {
    const Dataset d = synthetic_keys(KeyShape::paths, 100, 42);
    std::FILE* f = std::tmpfile();
    REQUIRE(f != nullptr);
    print_table(f, RunInfo{d.name(), d.size(), d.raw_bytes(), 1, 42}, {});
    std::rewind(f);
    std::string text;
    char buf[256];
    for (std::size_t got; (got = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, got);
    std::fclose(f);
    CHECK(text.find("## memkv-bench: synthetic:paths:100:seed=42\n") != std::string::npos);
}

TEST_CASE("every registered adapter passes the harness on every generated shape", "[bench][shapes][adapters]") {
    for (const KeyShape shape : {KeyShape::names, KeyShape::paths, KeyShape::binary, KeyShape::ints}) {
        const Dataset d = synthetic_keys(shape, 2000, 13);
        WorkloadOptions opt;
        opt.misses = 2000;
        opt.prefixes = 50;
        const Workload w = make_workload(d, opt);
        for (const StructureInfo& s : registry()) {
            if (s.needs_nul_terminator && d.nul_terminator_ambiguous()) continue;
            const Measurement m = s.run(w);
            INFO(shape_name(shape) << ", " << s.name << ": " << m.error);
            CHECK(m.ok == 1);
        }
    }
}

TEST_CASE("FrozenLayer round trips on every generated shape, in both file versions", "[bench][shapes][frozen]") {
    // Save, open (mapped), every key's value, ordinal and key_at, a miss
    // per key, and the same bytes when built again; version 2 is never
    // larger (runs only replace two-byte nodes).
    const std::string path = "/tmp/memkv_test_shapes_" + std::to_string(::getpid()) + ".frz";
    for (const KeyShape shape : {KeyShape::urls, KeyShape::names, KeyShape::paths, KeyShape::binary, KeyShape::ints}) {
        const Dataset d = synthetic_keys(shape, 3000, 17);
        std::vector<std::string_view> keys = d.sorted_keys();
        std::size_t sizes[2] = {};
        for (const std::uint32_t version : {1U, 2U}) {
            INFO(shape_name(shape) << ", version " << version);
            memkv::frozen_layer_options opt;
            opt.format_version = version;
            opt.table_sample_keys = 500;
            memkv::FrozenLayerBuilder<std::uint64_t> b(opt);
            for (std::size_t i = 0; i < keys.size(); ++i) b.insert(keys[i], i * 31);
            const auto built = b.finish();
            built.save(path);
            const auto f = memkv::FrozenLayer<std::uint64_t>::open(path);
            std::remove(path.c_str());
            REQUIRE(f.bytes()[8] == version);
            f.verify();
            REQUIRE(f.size() == keys.size());
            REQUIRE(std::equal(f.bytes().begin(), f.bytes().end(), built.bytes().begin(), built.bytes().end()));
            std::size_t i = 0;
            for (auto it = f.begin(); it != f.end(); ++it, ++i) {
                REQUIRE(it.key() == keys[i]);
                REQUIRE(it.value() == i * 31);
            }
            REQUIRE(i == keys.size());
            for (i = 0; i < keys.size(); ++i) {
                REQUIRE(f.get(keys[i]) == i * 31);
                REQUIRE(f.ordinal(keys[i]) == i);
                REQUIRE(f.key_at(i) == keys[i]);
                std::string miss(keys[i]);
                miss.back() = static_cast<char>(miss.back() ^ 0x5A);
                const bool present = std::binary_search(keys.begin(), keys.end(), std::string_view(miss));
                REQUIRE(f.contains(miss) == present);
            }
            sizes[version - 1] = f.bytes().size();
        }
        CHECK(sizes[1] <= sizes[0]);
    }
}
