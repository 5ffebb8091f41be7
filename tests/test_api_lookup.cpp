// The lookup vocabulary on all three maps, against std::map: contains,
// count, get, at, find (where there are iterators), longest_prefix.

#include <optional>
#include <stdexcept>
#include <string>

#include "api_support.hpp"
#include "memkv_catch.hpp"

using namespace memkv::test;

TEMPLATE_TEST_CASE("api lookup: contains, count, get, at, find agree with std::map", "[api]", fast_art_t,
                   frozen_t, hybrid_t) {
    const model_t model = api_model(1500, 91);
    const TestType m = make<TestType>(model);
    REQUIRE(m.size() == model.size());
    REQUIRE(!m.empty());
    for (const std::string& k : probes(model, 92)) {
        INFO("key of " << k.size() << " bytes");
        const auto it = model.find(k);
        const bool present = it != model.end();
        CHECK(m.contains(k) == present);
        CHECK(m.count(k) == (present ? 1U : 0U));
        const std::optional<V> got = m.get(k);
        CHECK(got.has_value() == present);
        if (present) {
            CHECK(*got == it->second);
            CHECK(m.at(k) == it->second);
        } else {
            CHECK_THROWS_AS(m.at(k), std::out_of_range);
        }
        if constexpr (!is_hybrid<TestType>) {
            // find: an iterator at the element, or end().
            const auto f = m.find(k);
            CHECK((f != m.end()) == present);
            if (present && f != m.end()) {
                CHECK(f->first == k);
                CHECK(f->second == it->second);
                CHECK((*f).first == k);
                // A found iterator steps to its neighbours like any other.
                auto next = f;
                ++next;
                auto mnext = std::next(it);
                CHECK((next == m.end()) == (mnext == model.end()));
                if (next != m.end() && mnext != model.end()) CHECK(next->first == mnext->first);
                auto prev = f;
                if (it != model.begin()) {
                    --prev;
                    CHECK(prev->first == std::prev(it)->first);
                }
            }
        }
    }
}

TEMPLATE_TEST_CASE("api lookup: longest_prefix agrees with std::map", "[api]", fast_art_t, frozen_t, hybrid_t) {
    const model_t model = api_model(1500, 93);
    const TestType m = make<TestType>(model);
    for (const std::string& k : probes(model, 94)) {
        INFO("key of " << k.size() << " bytes");
        CHECK(longest(m, k) == model_longest(model, k));
    }
    // With no empty key, a key sharing no prefix has none.
    model_t no_empty = model;
    no_empty.erase("");
    const TestType n = make<TestType>(no_empty);
    CHECK(!longest(n, "q").has_value());
    CHECK(longest(n, "abc\xff")->first == "abc");
}

TEMPLATE_TEST_CASE("api lookup: an empty map answers everything", "[api]", fast_art_t, frozen_t, hybrid_t) {
    const TestType m = make<TestType>({});
    CHECK(m.size() == 0);
    CHECK(m.empty());
    CHECK(!m.contains(""));
    CHECK(!m.get("a").has_value());
    CHECK_THROWS_AS(m.at("a"), std::out_of_range);
    CHECK(!longest(m, "abc").has_value());
    CHECK(collect(all(m)).empty());
    CHECK(collect(all(m) | std::views::reverse).empty());
    CHECK(m.memory_usage() > 0);
    m.verify();
}
