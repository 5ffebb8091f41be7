// Safe states and types: moved-from maps are valid empty maps, copying is
// offered exactly when V can be copied, values wider than 64 bits keep every
// bit, memory_usage() and verify() exist everywhere.

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "api_support.hpp"
#include "memkv_catch.hpp"

using namespace memkv::test;

static_assert(std::is_copy_constructible_v<memkv::FastArt<std::uint64_t>>);
static_assert(!std::is_copy_constructible_v<memkv::FastArt<std::unique_ptr<int>>>);
static_assert(!std::is_copy_assignable_v<memkv::FastArt<std::unique_ptr<int>>>);
static_assert(std::is_nothrow_move_constructible_v<memkv::FastArt<std::unique_ptr<int>>>);
static_assert(!std::is_copy_constructible_v<frozen_t> && std::is_nothrow_move_constructible_v<frozen_t>);
static_assert(std::is_nothrow_move_assignable_v<frozen_t>);
static_assert(!std::is_copy_constructible_v<hybrid_t> && std::is_nothrow_move_constructible_v<hybrid_t>);
static_assert(std::is_nothrow_move_assignable_v<hybrid_t>);

namespace {

template <class M>
void check_empty(const M& m) {
    CHECK(m.size() == 0);
    CHECK(m.empty());
    CHECK(!m.contains("a"));
    CHECK(!m.get("a").has_value());
    CHECK(collect(all(m)).empty());
    CHECK(collect(m.prefix("a") | std::views::reverse).empty());
    CHECK(!longest(m, "abc").has_value());
    CHECK(m.memory_usage() > 0);
    m.verify();
}

}  // namespace

TEMPLATE_TEST_CASE("api types: a moved-from map is a valid empty map", "[api]", fast_art_t, frozen_t, hybrid_t) {
    const model_t model = api_model(300, 171);
    SECTION("move construction; the new owner is destroyed first") {
        TestType a = make<TestType>(model);
        {
            TestType b = std::move(a);
            CHECK(b.size() == model.size());
            CHECK(collect(all(b)) == model_from(model, ""));
        }
        check_empty(a);  // NOLINT(bugprone-use-after-move): the point of the test
        if constexpr (!is_frozen<TestType>) {
            CHECK(inserted(a.insert("x", V{1})));
            CHECK(a.get("x") == 1);
            CHECK(a.size() == 1);
        }
    }
    SECTION("move assignment") {
        TestType a = make<TestType>(model);
        TestType b = make<TestType>({{"old", 1}});
        b = std::move(a);
        CHECK(collect(all(b)) == model_from(model, ""));
        check_empty(a);  // NOLINT(bugprone-use-after-move)
        a = std::move(b);
        CHECK(a.size() == model.size());
        check_empty(b);  // NOLINT(bugprone-use-after-move)
    }
}

TEST_CASE("api types: FrozenLayer and HybridKV keep values wider than 64 bits", "[api]") {
    struct wide {
        std::uint64_t lo, hi;
        bool operator==(const wide&) const = default;
    };
    memkv::HybridKV<wide> kv(hybrid_manual());
    kv.insert("a", wide{1, ~std::uint64_t{0}});
    kv.compact();  // into the FrozenLayer base
    kv.insert("b", wide{2, 3});
    CHECK(kv.get("a") == wide{1, ~std::uint64_t{0}});
    CHECK(kv.get("b") == wide{2, 3});
#ifdef __SIZEOF_INT128__
    __extension__ typedef unsigned __int128 u128;
    const u128 big = (u128{0xDEADBEEF} << 64) | 42;
    std::map<std::string, u128> m{{"x", big}, {"y", u128{7}}, {"z", ~u128{0}}};
    const auto f = memkv::FrozenLayer<u128>::from_sorted(m);
    CHECK(f.get("x") == big);  // all 128 bits, not the low 64
    CHECK(f.get("z") == ~u128{0});
    CHECK(f.at("y") == u128{7});
#endif
}

TEST_CASE("api types: FastArt copies are deep and independent", "[api]") {
    const model_t model = api_model(300, 181);
    fast_art_t a = make<fast_art_t>(model);
    fast_art_t b = a;
    b.insert_or_assign("a", V{999});
    b.erase("ab");
    CHECK(a.get("a") == model.at("a"));
    CHECK(a.contains("ab"));
    CHECK(collect(all(a)) == model_from(model, ""));
    a.verify();
    b.verify();
}
