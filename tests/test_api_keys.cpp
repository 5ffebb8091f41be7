// Keys: every key-taking member accepts anything convertible to
// std::string_view, std::span<const std::byte> and
// std::span<const unsigned char> (memkv::key_view), with binary bytes intact.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api_support.hpp"
#include "memkv_catch.hpp"

using namespace memkv::test;

static_assert(std::is_convertible_v<std::string, memkv::key_view>);
static_assert(std::is_convertible_v<const char*, memkv::key_view>);
static_assert(std::is_convertible_v<std::string_view, memkv::key_view>);
static_assert(std::is_convertible_v<std::span<const std::byte>, memkv::key_view>);
static_assert(std::is_convertible_v<std::span<const unsigned char>, memkv::key_view>);
static_assert(std::is_convertible_v<std::vector<unsigned char>, memkv::key_view>);
static_assert(!std::is_convertible_v<int, memkv::key_view>);
static_assert(!std::is_convertible_v<std::span<const int>, memkv::key_view>);

namespace {

// The same bytes in every spelling the API accepts.
struct spellings {
    std::string s;
    std::vector<unsigned char> u;
    std::vector<std::byte> b;
    explicit spellings(std::string bytes) : s(std::move(bytes)) {
        for (char c : s) {
            u.push_back(static_cast<unsigned char>(c));
            b.push_back(static_cast<std::byte>(c));
        }
    }
    std::string_view sv() const { return s; }
    std::span<const unsigned char> us() const { return u; }
    std::span<const std::byte> bs() const { return b; }
};

template <class M, class K>
void check_lookups(const M& m, const K& key, const model_t& model, const std::string& bytes) {
    const auto it = model.find(bytes);
    CHECK(m.contains(key) == (it != model.end()));
    CHECK(m.get(key) == (it != model.end() ? std::optional<V>(it->second) : std::nullopt));
    CHECK(collect(m.prefix(key)) == model_prefix(model, bytes));
    CHECK(collect(m.from(key)) == model_from(model, bytes));
    CHECK(collect(m.range(key, std::string_view("\xff\xff"))) == model_range(model, bytes, "\xff\xff"));
    CHECK(longest(m, bytes) == model_longest(model, bytes));
}

}  // namespace

TEMPLATE_TEST_CASE("api keys: strings, literals, byte spans", "[api]", fast_art_t, frozen_t, hybrid_t) {
    const model_t model = api_model(200, 141);
    const TestType m = make<TestType>(model);
    std::vector<std::string> keys = probes(model, 142);
    keys.resize(std::min<std::size_t>(keys.size(), 150));
    keys.push_back(std::string("a\0b", 3));
    keys.push_back(std::string("\0", 1));
    for (const std::string& k : keys) {
        const spellings sp(k);
        check_lookups(m, sp.s, model, k);
        check_lookups(m, sp.sv(), model, k);
        check_lookups(m, sp.us(), model, k);
        check_lookups(m, sp.bs(), model, k);
        check_lookups(m, sp.u, model, k);
        check_lookups(m, k.c_str(), model, std::string(k.c_str()));  // up to the first NUL
    }
    CHECK(m.contains("abc"));
    CHECK(m.get("user:1001").has_value());
}

TEMPLATE_TEST_CASE("api keys: mutations take byte spans", "[api]", fast_art_t, hybrid_t) {
    TestType m = make<TestType>({});
    const spellings k1(std::string("\x00\xff\x01", 3));
    const spellings k2(std::string("\xff\x00", 2));
    CHECK(inserted(m.insert(k1.bs(), V{1})));
    CHECK(!inserted(m.insert(k1.us(), V{2})));
    CHECK(m.get(k1.s) == 1);
    m.insert_or_assign(k1.u, V{3});
    CHECK(m.get(k1.sv()) == 3);
    m.insert(k2.us(), V{4});
    CHECK(m.erase(k2.bs()) == 1);
    CHECK(m.erase_prefix(std::span<const unsigned char>(k1.u).first(1)) == 1);
    CHECK(m.empty());
}
