// prefix(p), range(lo, hi) and from(k) on all three maps: forward and
// reverse, against std::map, including the bounds' edge cases.

#include <algorithm>
#include <ranges>
#include <string>
#include <vector>

#include "api_support.hpp"
#include "memkv_catch.hpp"

using namespace memkv::test;

namespace {

template <class View>
void check_view(const View& view, const std::vector<std::pair<std::string, V>>& expected) {
    CHECK(collect(view) == expected);
    CHECK(collect(view | std::views::reverse) == reversed(expected));
    CHECK(view.empty() == expected.empty());
    // Both ends reachable from the other: --end() is the last element.
    if (!expected.empty()) {
        auto last = view.end();
        --last;
        CHECK(last->first == expected.back().first);
        CHECK(view.begin()->first == expected.front().first);
    }
}

}  // namespace

TEMPLATE_TEST_CASE("api views: prefix, range, from forward and reverse", "[api]", fast_art_t, frozen_t, hybrid_t) {
    const model_t model = api_model(1200, 101);
    const TestType m = make<TestType>(model);
    check_view(all(m), model_from(model, ""));

    std::vector<std::string> bounds = probes(model, 102);
    bounds.resize(std::min<std::size_t>(bounds.size(), 400));
    for (const std::string& p : {std::string(), std::string("a"), std::string("\xff"), std::string("\xff\xff"),
                                 std::string("a\xff"), std::string(1, '\0'), std::string("user:"),
                                 std::string("https://github.com/")})
        bounds.push_back(p);
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        const std::string& p = bounds[i];
        const std::string& q = bounds[(i * 7 + 3) % bounds.size()];
        INFO("bounds of " << p.size() << " and " << q.size() << " bytes");
        check_view(m.prefix(p), model_prefix(model, p));
        check_view(m.from(p), model_from(model, p));
        check_view(m.range(p, q), model_range(model, p, q));
        check_view(m.range(q, p), model_range(model, q, p));
    }
    // Empty and inverted ranges.
    CHECK(m.range("b", "b").empty());
    CHECK(m.range("b", "a").empty());
    CHECK(collect(m.range("b", "a") | std::views::reverse).empty());
}

TEMPLATE_TEST_CASE("api views: std::ranges algorithms and adaptors", "[api]", fast_art_t, frozen_t, hybrid_t) {
    const model_t model = api_model(300, 103);
    const TestType m = make<TestType>(model);
    const auto view = m.prefix("a");
    const auto expected = model_prefix(model, "a");
    REQUIRE(!expected.empty());

    const auto found = std::ranges::find_if(view, [&](const auto& e) { return e.first == expected.back().first; });
    REQUIRE(found != view.end());
    CHECK(found->second == expected.back().second);
    CHECK(std::ranges::distance(view) == static_cast<std::ptrdiff_t>(expected.size()));
    CHECK(std::ranges::equal(view, expected));
    CHECK(std::ranges::equal(view | std::views::reverse, reversed(expected)));

    std::vector<std::string> keys;
    for (const auto& k : view | std::views::keys) keys.push_back(k);
    std::vector<std::string> expected_keys;
    for (const auto& [k, v] : expected) expected_keys.push_back(k);
    CHECK(keys == expected_keys);
    std::vector<V> values;
    for (const V v : view | std::views::values) values.push_back(v);
    CHECK(values.size() == expected.size());

    // Filter and transform compose on top.
    auto odd = view | std::views::filter([](const auto& e) { return e.second % 2 == 1; }) |
               std::views::transform([](const auto& e) { return e.second; });
    std::size_t n_odd = 0;
    for (const auto& [k, v] : expected) n_odd += v % 2;
    CHECK(static_cast<std::size_t>(std::ranges::distance(odd)) == n_odd);

    // Containers from iterator pairs.
    const std::vector<std::pair<std::string, V>> copy(view.begin(), view.end());
    CHECK(copy == expected);
    const std::map<std::string, V> as_map(view.begin(), view.end());
    CHECK(as_map.size() == expected.size());
}
