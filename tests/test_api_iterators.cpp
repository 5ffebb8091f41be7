// The iterators of all three maps are C++20 bidirectional iterators whose
// dereference stays valid on its own: concept checks at compile time, and at
// run time (under ASan in the sanitizer build) std::reverse_iterator,
// structured bindings, entries kept past their iterator, random walks.

#include <iterator>
#include <random>
#include <ranges>
#include <string>
#include <type_traits>
#include <vector>

#include "api_support.hpp"
#include "memkv_catch.hpp"

using namespace memkv::test;

namespace {

template <class It>
constexpr bool honest_iterator() {
    using traits = std::iterator_traits<It>;
    // A prvalue reference may not claim forward_iterator_tag (C++17 forward
    // iterators return true references); the C++20 concept says bidirectional.
    constexpr bool true_reference = std::is_reference_v<typename traits::reference>;
    return std::bidirectional_iterator<It> &&
           (true_reference || !std::is_base_of_v<std::forward_iterator_tag, typename traits::iterator_category>) &&
           std::is_same_v<typename It::iterator_concept, std::bidirectional_iterator_tag>;
}

template <class View>
constexpr bool good_view() {
    return std::ranges::bidirectional_range<View> && std::ranges::common_range<View> && std::ranges::view<View> &&
           honest_iterator<std::ranges::iterator_t<View>>();
}

}  // namespace

// FastArt: the map itself, both iterator kinds, every view; also for a
// move-only value type.
static_assert(honest_iterator<fast_art_t::iterator>());
static_assert(honest_iterator<fast_art_t::const_iterator>());
static_assert(honest_iterator<memkv::FastArt<std::unique_ptr<int>>::iterator>());
static_assert(honest_iterator<memkv::FastArt<std::unique_ptr<int>>::const_iterator>());
static_assert(std::ranges::bidirectional_range<fast_art_t> && std::ranges::common_range<fast_art_t>);
static_assert(std::ranges::bidirectional_range<const fast_art_t> && std::ranges::common_range<const fast_art_t>);
static_assert(good_view<decltype(std::declval<fast_art_t&>().prefix(""))>());
static_assert(good_view<decltype(std::declval<const fast_art_t&>().prefix(""))>());
static_assert(good_view<decltype(std::declval<const fast_art_t&>().range("", ""))>());
static_assert(good_view<decltype(std::declval<const fast_art_t&>().from(""))>());
static_assert(std::is_same_v<std::iter_value_t<fast_art_t::iterator>, std::pair<std::string, V>>);
// FrozenLayer.
static_assert(honest_iterator<frozen_t::const_iterator>());
static_assert(std::ranges::bidirectional_range<const frozen_t> && std::ranges::common_range<const frozen_t>);
static_assert(good_view<decltype(std::declval<const frozen_t&>().prefix(""))>());
static_assert(good_view<decltype(std::declval<const frozen_t&>().range("", ""))>());
static_assert(good_view<decltype(std::declval<const frozen_t&>().from(""))>());
// HybridKV and its snapshot.
static_assert(good_view<decltype(std::declval<const hybrid_t&>().prefix(""))>());
static_assert(good_view<decltype(std::declval<const hybrid_t&>().range("", ""))>());
static_assert(good_view<decltype(std::declval<const hybrid_t&>().from(""))>());
static_assert(good_view<decltype(std::declval<const hybrid_t&>().items())>());
static_assert(good_view<decltype(std::declval<const hybrid_t&>().snapshot().items())>());

TEMPLATE_TEST_CASE("api iterators: std::reverse_iterator and structured bindings", "[api]", fast_art_t, frozen_t,
                   hybrid_t) {
    const model_t model = api_model(800, 111);
    const TestType m = make<TestType>(model);
    const auto view = all(m);

    // std::reverse_iterator dereferences a temporary copy of the base
    // iterator: the entry must not point into it.
    std::vector<std::pair<std::string, V>> back;
    for (auto it = std::make_reverse_iterator(view.end()); it != std::make_reverse_iterator(view.begin()); ++it) {
        back.emplace_back(it->first, it->second);
        CHECK((*it).first == it->first);
    }
    CHECK(back == reversed(model_from(model, "")));

    std::size_t n = 0;
    for (auto& [k, v] : view) {
        CHECK(model.at(k) == v);
        ++n;
    }
    for (const auto& [k, v] : view) CHECK(model.at(k) == v);
    for (auto [k, v] : view) CHECK(model.at(k) == v);
    for (auto&& [k, v] : view | std::views::reverse) CHECK(model.at(k) == v);
    CHECK(n == model.size());

    // Entries outlive the iterators that made them, and do not alias.
    std::vector<std::decay_t<decltype(*view.begin())>> kept;
    for (auto it = view.begin(); it != view.end(); ++it) kept.push_back(*it);
    REQUIRE(kept.size() == model.size());
    auto mit = model.begin();
    for (const auto& e : kept) {
        CHECK(e.first == mit->first);
        CHECK(e.second == mit->second);
        ++mit;
    }
}

TEMPLATE_TEST_CASE("api iterators: random walks back and forth", "[api]", fast_art_t, frozen_t, hybrid_t) {
    const model_t model = api_model(600, 121);
    const TestType m = make<TestType>(model);
    std::mt19937_64 rng(122);
    const auto view = all(m);
    for (int walk = 0; walk < 40; ++walk) {
        const bool from_end = walk % 2 == 1;
        auto it = from_end ? view.end() : view.begin();
        auto mit = from_end ? model.end() : model.begin();
        for (int step = 0; step < 300; ++step) {
            const bool forward = rng() % 2 == 0;
            if (forward && mit != model.end()) {
                ++it;
                ++mit;
            } else if (!forward && mit != model.begin()) {
                --it;
                --mit;
            }
            REQUIRE((it == view.end()) == (mit == model.end()));
            if (mit != model.end()) {
                REQUIRE(it->first == mit->first);
                REQUIRE(it->second == mit->second);
            }
        }
    }
}

TEST_CASE("api iterators: FastArt values are modified through bindings", "[api]") {
    const model_t model = api_model(200, 131);
    fast_art_t m = make<fast_art_t>(model);
    for (auto& [k, v] : m) v += 1000;
    for (auto&& [k, v] : m.prefix("a") | std::views::reverse) v += 1;
    for (auto& v : m | std::views::values) v *= 2;
    for (const auto& [k, v] : model) {
        const V bumped = v + 1000 + (std::string_view(k).starts_with("a") ? 1 : 0);
        CHECK(m.at(k) == bumped * 2);
    }
    // Through operator-> and std::reverse_iterator too.
    for (auto it = m.rbegin(); it != m.rend(); ++it) it->second = 5;
    for (const auto& [k, v] : m) CHECK(v == 5);
}
