// The mutable maps (FastArt, HybridKV): insert never overwrites,
// insert_or_assign does, erase and erase_prefix return what they removed;
// a long random operation sequence against std::map, verify() throughout.

#include <random>
#include <string>

#include "api_support.hpp"
#include "memkv_catch.hpp"

using namespace memkv::test;

TEMPLATE_TEST_CASE("api modifiers: insert keeps, insert_or_assign overwrites", "[api]", fast_art_t, hybrid_t) {
    TestType m = make<TestType>({{"k", 1}});
    CHECK(!inserted(m.insert("k", V{2})));
    CHECK(m.get("k") == 1);  // std::map::insert: the old value stays
    CHECK(!inserted(m.insert_or_assign("k", V{3})));
    CHECK(m.get("k") == 3);
    CHECK(inserted(m.insert_or_assign("new", V{4})));
    CHECK(m.get("new") == 4);
    CHECK(inserted(m.insert("other", V{5})));
    CHECK(m.size() == 3);
    CHECK(m.erase("k") == 1);
    CHECK(m.erase("k") == 0);
    CHECK(m.size() == 2);
    CHECK(inserted(m.insert("k", V{6})));
    CHECK(m.get("k") == 6);
}

TEMPLATE_TEST_CASE("api modifiers: erase_prefix", "[api]", fast_art_t, hybrid_t) {
    model_t model = api_model(1500, 151);
    TestType m = make<TestType>(model);
    for (const std::string& p : {std::string("ab"), std::string("\xff"), std::string(1, '\0'), std::string("user:"),
                                 std::string("zzz-none"), std::string("a"), std::string()}) {
        INFO("prefix of " << p.size() << " bytes");
        std::size_t expected = 0;
        for (auto it = model.lower_bound(p); it != model.end() && std::string_view(it->first).starts_with(p);) {
            it = model.erase(it);
            ++expected;
        }
        CHECK(m.erase_prefix(p) == expected);
        CHECK(m.size() == model.size());
        CHECK(collect(all(m)) == model_from(model, ""));
        m.verify();
    }
    CHECK(m.empty());
}

TEMPLATE_TEST_CASE("api modifiers: random operations against std::map", "[api][model]", fast_art_t, hybrid_t) {
    const std::uint64_t seed = 161;
    INFO("seed " << seed);
    key_generator::options opt;
    opt.max_len = 6;
    opt.long_probability = 0.0;
    key_generator gen(seed, opt);
    model_t model;
    TestType m = make<TestType>({});
    const int ops = 20000;
    for (int i = 0; i < ops; ++i) {
        const std::string k = gen.next();
        const V v = gen.next_u64() % 1000;
        switch (gen.pick(10)) {
        case 0: case 1: case 2: {
            const bool fresh = model.emplace(k, v).second;
            REQUIRE(inserted(m.insert(k, v)) == fresh);
            break;
        }
        case 3: case 4: {
            const bool fresh = model.insert_or_assign(k, v).second;
            REQUIRE(inserted(m.insert_or_assign(k, v)) == fresh);
            break;
        }
        case 5: case 6:
            REQUIRE(m.erase(k) == model.erase(k));
            break;
        case 7:
            if (gen.pick(20) == 0) {
                const std::string p = k.substr(0, 2);
                std::size_t n = 0;
                for (auto it = model.lower_bound(p); it != model.end() && std::string_view(it->first).starts_with(p);) {
                    it = model.erase(it);
                    ++n;
                }
                REQUIRE(m.erase_prefix(p) == n);
            }
            break;
        default: {
            const auto it = model.find(k);
            REQUIRE(m.get(k) == (it == model.end() ? std::nullopt : std::optional<V>(it->second)));
            if constexpr (is_hybrid<TestType>) {
                if (gen.pick(50) == 0) m.compact();
            }
        }
        }
        REQUIRE(m.size() == model.size());
        if (i % 2000 == 0) {
            REQUIRE(collect(all(m)) == model_from(model, ""));
            REQUIRE(collect(all(m) | std::views::reverse) == reversed(model_from(model, "")));
            m.verify();
        }
    }
    REQUIRE(collect(all(m)) == model_from(model, ""));
    m.verify();
}
