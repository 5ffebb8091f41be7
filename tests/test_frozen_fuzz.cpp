// Replays the FrozenLayer fuzz body (fuzz/frozen_ops.hpp) over deterministic
// inputs: random bytes, mutated valid images and random key sets, so every
// CI build exercises what the libFuzzer target does.

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "fuzz/frozen_ops.hpp"
#include "memkv_catch.hpp"
#include "test_support.hpp"

TEST_CASE("FrozenLayer fuzz body: random inputs in every mode", "[frozen][fuzz]") {
    std::mt19937_64 rng(20261122);
    for (int i = 0; i < 3000; ++i) {
        std::vector<std::uint8_t> in(rng() % 600);
        for (auto& b : in) b = static_cast<std::uint8_t>(rng() % 8 == 0 ? rng() : rng() % 4 + 0x20);
        if (!in.empty()) in[0] = static_cast<std::uint8_t>(i % 3);
        memkv::fuzz::frozen_fuzz_one(in.data(), in.size());
    }
}

TEST_CASE("FrozenLayer fuzz body: mutated valid images", "[frozen][fuzz]") {
    std::mt19937_64 rng(7);
    memkv::test::key_generator::options go;
    go.long_probability = 0;  // 70 KB keys make every probe slow without adding coverage here
    memkv::test::key_generator gen(7, go);
    for (int round = 0; round < 40; ++round) {
        std::map<std::string, std::uint64_t> m;
        const std::size_t n = 1 + rng() % 60;
        while (m.size() < n) m.emplace(gen.next(), rng() % 1000);
        memkv::frozen_layer_options opt;
        opt.pair_nodes = memkv::frozen_layer_options::pairs_mode::always;  // images with pair nodes
        const auto f = memkv::FrozenLayer<std::uint64_t>::from_sorted(m, opt);
        const auto img = f.bytes();
        for (int k = 0; k < 60; ++k) {
            // Mode 1 input: 12 bytes of (n, root, layout) then the payload with
            // a few flipped bytes, so node decoding meets near-valid lies.
            std::vector<std::uint8_t> in(13);
            in[0] = 1;
            for (std::size_t j = 1; j < 13; ++j) in[j] = static_cast<std::uint8_t>(rng());
            in[1] = static_cast<std::uint8_t>(m.size() + rng() % 3);
            in[2] = in[3] = 0;
            in[7] = 65;  // ordinal column: the whole tail is automaton
            in.insert(in.end(), img.begin() + memkv::detail::frozen_header_size,
                      img.begin() + static_cast<std::ptrdiff_t>(memkv::detail::frozen_header_size + f.automaton_size()));
            const std::size_t root = f.automaton_size() - 1;
            in[4] = static_cast<std::uint8_t>(root);
            in[5] = static_cast<std::uint8_t>(root >> 8);
            in[6] = static_cast<std::uint8_t>(root >> 16);
            for (int flips = static_cast<int>(rng() % 4); flips > 0; --flips)
                in[13 + rng() % (in.size() - 13)] ^= static_cast<std::uint8_t>(1U << (rng() % 8));
            memkv::fuzz::frozen_fuzz_one(in.data(), in.size());
            // Mode 0: the whole image, mutated (mostly rejected by checks).
            std::vector<std::uint8_t> whole{0};
            whole.insert(whole.end(), img.begin(), img.end());
            whole[1 + rng() % img.size()] ^= static_cast<std::uint8_t>(1U << (rng() % 8));
            memkv::fuzz::frozen_fuzz_one(whole.data(), whole.size());
        }
    }
}
