// FastArt's jump node (see jump_state in detail/art/tree.hpp): a remembered
// full node below a long, popular path where lookups, inserts and prefix
// scans start. These
// tests drive the engine directly, so they can see whether a jump is active,
// and push it through every event that must drop it: its node growing out of
// place, shrinking, sinking under a split of its own prefix, being merged
// into by a parent, a key ending exactly on its path, and clear. verify()
// checks the jump's invariant (its path leads exactly to it) after each step.
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <memkv/fast_art.hpp>

#include "engine_pair.hpp"
#include "memkv_catch.hpp"

namespace {

using engine = memkv::detail::art::tree<std::uint64_t>;

std::string under(const std::string& base, int b, std::string_view tail = "") {
    std::string k = base;
    k.push_back(static_cast<char>(b));
    k.append(tail);
    return k;
}

class model_pair : public memkv::test::engine_pair {
public:
    void check_find(const std::string& k) const {
        const auto leaf = t_.find(k);
        const auto it = m_.find(k);
        REQUIRE((leaf != 0) == (it != m_.end()));
        if (leaf != 0) REQUIRE(t_.value(leaf) == it->second);
    }
    // verify() (which includes the jump invariant), then every key of the
    // model found and the whole tree walked in order.
    void check_all() const {
        REQUIRE_NOTHROW(t_.verify());
        REQUIRE(t_.size() == m_.size());
        for (const auto& [k, v] : m_) {
            const auto leaf = t_.find(k);
            REQUIRE(leaf != 0);
            REQUIRE(t_.value(leaf) == v);
        }
        auto it = m_.begin();
        t_.walk([&](std::string_view k, memkv::detail::art::loc_t leaf) {
            REQUIRE(it != m_.end());
            REQUIRE(k == it->first);
            REQUIRE(t_.value(leaf) == it->second);
            ++it;
        });
        REQUIRE(it == m_.end());
    }
    // The keys starting with p, walked in order against the model's. Scans
    // start at the jump when p reaches past its path, as lookups do.
    void check_prefix(const std::string& p) const {
        INFO("prefix of " << p.size() << " bytes");
        auto it = m_.lower_bound(p);
        t_.walk_prefix(p, [&](std::string_view k, memkv::detail::art::loc_t leaf) {
            REQUIRE(it != m_.end());
            REQUIRE(k == it->first);
            REQUIRE(t_.value(leaf) == it->second);
            ++it;
        });
        REQUIRE((it == m_.end() || it->first.compare(0, p.size(), p) != 0));
    }
    // Prefixes on the path, ending on it, one byte past it and deeper.
    void check_prefixes_around_path(const std::string& path) const {
        for (std::size_t i = 0; i <= path.size(); ++i) check_prefix(path.substr(0, i));
        for (int b = 0; b < 256; b += 7) {
            check_prefix(under(path, b));
            check_prefix(under(path, b, "/"));
            check_prefix(under(path, b, "/tail"));
            check_prefix(under(path, b, "/tails"));
        }
        check_prefix(path.substr(0, 10) + "~");
        check_prefix(path + "~");
    }
};

const std::string P = "https://host.example/";  // 21 bytes

// Keys that branch off P at every byte, so P is spelled by a chain of nodes,
// and a full node at the end of P.
void build_popular_path(model_pair& mp) {
    for (std::size_t i = 0; i < P.size(); ++i) mp.insert(P.substr(0, i) + "~other", i);
    for (int b = 0; b < 256; ++b) mp.insert(under(P, b), 1000 + static_cast<std::uint64_t>(b));
    // Inserts that pass through the full node (to a leaf below it) learn it.
    for (int b = 0; b < 256; b += 3) mp.insert(under(P, b, "/tail"), 2000 + static_cast<std::uint64_t>(b));
}

}  // namespace

TEST_CASE("FastArt learns a jump below a popular path and uses it", "[fast_art][jump]") {
    model_pair mp;
    REQUIRE(mp.tree().jump_depth() == 0);
    build_popular_path(mp);
    REQUIRE(mp.tree().jump_depth() == P.size());
    mp.check_all();
    mp.check_prefixes_around_path(P);
    // Lookups and inserts under the path, beside it and on it.
    for (int b = 0; b < 256; b += 5) {
        mp.check_find(under(P, b, "/tail"));
        mp.check_find(under(P, b, "/absent"));
        mp.insert(under(P, b, "/new"), 3000 + static_cast<std::uint64_t>(b));
    }
    mp.check_find(P);
    mp.check_find(P.substr(0, 10));
    mp.check_find("");
    mp.insert(P.substr(0, 10) + "zzz", 7);
    REQUIRE(mp.tree().jump_depth() == P.size());
    mp.check_all();
    mp.check_prefixes_around_path(P);
}

TEST_CASE("FastArt: a key equal to the jump path goes around the jump", "[fast_art][jump]") {
    model_pair mp;
    build_popular_path(mp);
    REQUIRE(mp.tree().jump_depth() == P.size());
    // P itself ends at the jump node: its terminal slot is added, which
    // rebuilds the node (a new block), so the jump must be dropped.
    mp.insert(P, 42);
    mp.check_find(P);
    REQUIRE(mp.tree().jump_depth() == 0);
    mp.check_all();
    mp.insert(under(P, 'q', "/again"), 43);  // learns the rebuilt node
    REQUIRE(mp.tree().jump_depth() == P.size());
    mp.check_all();
    mp.erase(P);
    mp.check_all();
}

TEST_CASE("FastArt: a split inside the jump node's own prefix drops the jump", "[fast_art][jump]") {
    model_pair mp;
    // The full node under P carries the prefix "ZZ": its keys are P + "ZZ" + b.
    for (std::size_t i = 0; i < P.size(); ++i) mp.insert(P.substr(0, i) + "~other", i);
    for (int b = 0; b < 256; ++b) mp.insert(under(P + "ZZ", b, "x"), static_cast<std::uint64_t>(b));
    for (int b = 0; b < 256; b += 7) mp.insert(under(P + "ZZ", b, "xy"), static_cast<std::uint64_t>(b) + 500);
    REQUIRE(mp.tree().jump_depth() == P.size());
    mp.check_all();
    // Diverges inside "ZZ": a new node above the jump node, whose prefix
    // (and so its depth) changes.
    mp.insert(P + "Zq", 9);
    REQUIRE(mp.tree().jump_depth() == 0);
    mp.check_all();
    // Diverges right at P: same, one level up.
    for (int b = 0; b < 256; b += 11) mp.insert(under(P + "ZZ", b, "xyz"), static_cast<std::uint64_t>(b) + 900);
    mp.check_all();
    mp.insert(P + "A", 10);
    mp.check_all();
}

TEST_CASE("FastArt: shrinking or merging the jump node drops the jump", "[fast_art][jump]") {
    model_pair mp;
    build_popular_path(mp);
    REQUIRE(mp.tree().jump_depth() == P.size());
    // Erase under P until the full node shrinks to a linear kind.
    for (int b = 0; b < 256; ++b) {
        if (b % 16 == 0) continue;
        mp.erase(under(P, b));
        mp.erase(under(P, b, "/tail"));
        if (b % 32 == 1) mp.check_all();
    }
    REQUIRE(mp.tree().jump_depth() == 0);
    mp.check_all();
    // Regrow it, learn it again, then erase the keys that branch off P so
    // that the chain above collapses into the node (a merge re-writes it).
    for (int b = 0; b < 256; ++b) mp.insert(under(P, b), static_cast<std::uint64_t>(b));
    mp.insert(under(P, 'k', "/tail2"), 1);
    REQUIRE(mp.tree().jump_depth() == P.size());
    for (std::size_t i = 0; i < P.size(); ++i) {
        mp.erase(P.substr(0, i) + "~other");
        mp.check_all();
    }
    // Everything gone, then clear() on a learnt tree.
    mp.insert(under(P, 'k', "/tail3"), 1);
    const std::vector<std::string> keys = [&] {
        std::vector<std::string> v;
        for (const auto& kv : mp.model()) v.push_back(kv.first);
        return v;
    }();
    for (const auto& k : keys) mp.erase(k);
    REQUIRE(mp.tree().jump_depth() == 0);
    mp.check_all();
    build_popular_path(mp);
    REQUIRE(mp.tree().jump_depth() == P.size());
    // The whole subtree under the jump in one erase_prefix: its node is freed.
    mp.erase_prefix(P);
    REQUIRE(mp.tree().jump_depth() == 0);
    mp.check_all();
    build_popular_path(mp);
    REQUIRE(mp.tree().jump_depth() == P.size());
    mp.erase_prefix(P.substr(0, 5));  // from above the path
    mp.check_all();
    build_popular_path(mp);
    mp.tree().clear();
    REQUIRE(mp.tree().jump_depth() == 0);
    REQUIRE_NOTHROW(mp.tree().verify());
}

TEST_CASE("FastArt: random operations around a popular path", "[fast_art][jump][model]") {
    // Most keys under P (the next byte anything), the rest diverging inside
    // P or ending on it; inserts, erases and lookups mirrored in std::map.
    for (const std::uint64_t seed : {0x1A3Bu, 0x2C4Du, 0x3E5Fu}) {
        INFO("seed " << seed);
        std::mt19937_64 rng(seed);
        auto pick = [&rng](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
        auto key = [&] {
            const std::size_t r = pick(100);
            if (r < 85) {
                std::string k = under(P, static_cast<int>(pick(256)));
                for (std::size_t i = pick(3); i > 0; --i) k.push_back("ab/\0\xff"[pick(5)]);
                return k;
            }
            std::string k = P.substr(0, pick(P.size() + 1));
            if (r < 95) k.push_back(static_cast<char>(pick(256)));
            return k;
        };
        model_pair mp;
        std::size_t learnt = 0;
        for (std::size_t i = 0; i < 30'000; ++i) {
            const std::string k = key();
            const std::size_t op = pick(100);
            if (op < 45) {
                mp.insert(k, rng());
            } else if (op < 79) {
                mp.erase(k);
            } else if (op < 80) {
                // A subtree at once: mostly below the jump node, sometimes
                // on P or inside it (which takes the jump node with it).
                const std::size_t cut = pick(4) != 0 ? P.size() + 1 + pick(3) : pick(k.size() + 1);
                mp.erase_prefix(k.substr(0, cut));
            } else if (op < 95) {
                mp.check_find(k);
            } else {
                mp.check_prefix(k.substr(0, pick(k.size() + 1)));
            }
            if (mp.tree().jump_depth() != 0) ++learnt;
            if (i % 2'500 == 0) mp.check_all();
        }
        mp.check_all();
        INFO("operations with a jump in place: " << learnt);
        REQUIRE(learnt > 10'000);  // the jump was in use for most of the run
    }
}
