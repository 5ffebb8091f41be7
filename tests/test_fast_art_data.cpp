// libart's own test data (words.txt, uuid.txt) run through FastArt: the checks
// libart's test suite makes (insert, search, ordered iteration, minimum and
// maximum, delete one by one), plus the ones FastArt adds.
#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

#include <memkv/fast_art.hpp>

#include "memkv_catch.hpp"
#include "test_support.hpp"

namespace {

void libart_style_checks(const std::vector<std::string>& lines) {
    memkv::FastArt<std::uint64_t> t;
    const std::size_t empty_usage = t.memory_usage();
    // Insert: line number as the value, like libart's tests.
    // Per-key checks count mismatches (a REQUIRE per key would dominate the
    // run time); the count is asserted after each phase.
    std::size_t bad = 0;
    std::uint64_t line = 1;
    for (const auto& k : lines) {
        const auto [leaf, inserted] = t.try_emplace_value(k, line);
        bad += !inserted || t.size() != line;
        ++line;
    }
    REQUIRE(bad == 0);
    t.verify();
    // Search.
    line = 1;
    for (const auto& k : lines) {
        const std::uint64_t* v = t.get_if(k);
        bad += v == nullptr || *v != line;
        ++line;
    }
    REQUIRE(bad == 0);
    // Ordered iteration visits every key once, sorted.
    std::vector<std::string> sorted = lines;
    std::sort(sorted.begin(), sorted.end());
    std::size_t i = 0;
    std::string key;
    for (auto it = t.begin(); it != t.end(); ++it) {
        it.key(key);  // the cheap accessor: reuses the buffer
        bad += i >= sorted.size() || key != sorted[i];
        ++i;
    }
    REQUIRE(bad == 0);
    REQUIRE(i == sorted.size());
    // The same through range-for's entries (each owns a copy of its key).
    i = 0;
    for (const auto& [k, v] : t) {
        bad += i >= sorted.size() || k != sorted[i];
        ++i;
    }
    REQUIRE(bad == 0);
    REQUIRE(i == sorted.size());
    // Minimum and maximum.
    REQUIRE(t.begin().key() == sorted.front());
    REQUIRE(t.rbegin()->first == sorted.back());
    REQUIRE(std::ranges::prev(t.end()).key() == sorted.back());
    // Prefix iteration: libart's art_iter_prefix check on the first key's
    // first two bytes.
    const std::string p = sorted[sorted.size() / 2].substr(0, 2);
    const auto expected = static_cast<std::size_t>(std::count_if(
        sorted.begin(), sorted.end(), [&](const std::string& s) { return s.compare(0, p.size(), p) == 0; }));
    std::size_t seen = 0;
    for (const auto& e : t.prefix(p)) {
        REQUIRE(e.key().compare(0, p.size(), p) == 0);
        ++seen;
    }
    REQUIRE(seen == expected);
    // Delete one by one; the rest stays findable, min/max stay right.
    line = 1;
    for (const auto& k : lines) {
        bad += t.erase(k) != 1 || t.size() != lines.size() - line || t.contains(k);
        if (line % 40'000 == 0) {
            t.verify();
            // Survivors are all still there.
            for (std::size_t j = line; j < lines.size(); j += 97) bad += !t.contains(lines[j]);
        }
        ++line;
    }
    REQUIRE(bad == 0);
    REQUIRE(t.empty());
    REQUIRE(t.begin() == t.end());
    REQUIRE(t.memory_usage() == empty_usage);
}

}  // namespace

TEST_CASE("FastArt on libart's words.txt", "[fast_art][data]") {
    const auto lines = memkv::test::read_lines(memkv::test::data_path("words.txt"));
    REQUIRE(lines.size() > 200000);
    libart_style_checks(lines);
}

TEST_CASE("FastArt on libart's uuid.txt", "[fast_art][data]") {
    const auto lines = memkv::test::read_lines(memkv::test::data_path("uuid.txt"));
    REQUIRE(lines.size() >= 100000);
    libart_style_checks(lines);
}
