// Replays the FrozenLayer fuzz body (fuzz/frozen_ops.hpp) over deterministic
// inputs: random bytes, mutated valid images and random key sets, so every
// CI build exercises what the libFuzzer target does.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
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
        if (!in.empty()) in[0] = static_cast<std::uint8_t>(i % 4);
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
        opt.format_version = 2;
        const auto f = memkv::FrozenLayer<std::uint64_t>::from_sorted(m, opt);
        const auto img = f.bytes();
        // A version 3 image of the same keys, mutated in place, checksums valid.
        std::vector<std::uint8_t> lies{3, static_cast<std::uint8_t>(1 + rng() % 8)};
        for (const auto& kv : m) {
            lies.push_back(static_cast<std::uint8_t>(std::min<std::size_t>(kv.first.size(), 23)));
            lies.insert(lies.end(), kv.first.begin(), kv.first.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(kv.first.size(), 23)));
        }
        const std::size_t keys_end = lies.size();
        opt.format_version = 3;
        const auto f3 = memkv::FrozenLayer<std::uint64_t>::from_sorted(m, opt);
        opt.format_version = 2;
        for (int k = 0; k < 60; ++k) {
            if (k % 4 == 0) {
                lies.resize(keys_end);
                for (unsigned j = 0; j < 3u * (lies[1] % 16); ++j) lies.push_back(static_cast<std::uint8_t>(rng()));
                memkv::fuzz::frozen_fuzz_one(lies.data(), lies.size());
            }
            // The whole version 3 image with a flipped byte (mode 0).
            std::vector<std::uint8_t> whole3{0};
            whole3.insert(whole3.end(), f3.bytes().begin(), f3.bytes().end());
            whole3[1 + memkv::detail::frozen_header_size + rng() % (f3.bytes().size() - memkv::detail::frozen_header_size)] ^=
                static_cast<std::uint8_t>(1U << (rng() % 8));
            memkv::fuzz::frozen_fuzz_one(whole3.data(), whole3.size());
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

TEST_CASE("FrozenLayer fuzz body: committed corpus", "[frozen][fuzz]") {
    // A sample of the libFuzzer corpus (tests/fuzz/corpus/frozen), found
    // next to this file.
    const auto dir = std::filesystem::path(__FILE__).parent_path() / "fuzz" / "corpus" / "frozen";
    REQUIRE(std::filesystem::is_directory(dir));
    std::size_t n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        std::ifstream in(entry.path(), std::ios::binary);
        const std::vector<std::uint8_t> bytes(std::istreambuf_iterator<char>(in), {});
        memkv::fuzz::frozen_fuzz_one(bytes.data(), bytes.size());
        ++n;
    }
    REQUIRE(n >= 10);
}
