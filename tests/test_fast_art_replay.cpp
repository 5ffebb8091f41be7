// Replays the FastArt fuzz body (fuzz/fast_art_ops.hpp) as a unit test: over
// byte strings drawn from fixed, printed seeds, and over every file committed
// under fuzz/corpus/fast_art/.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <vector>

#include "fuzz/fast_art_ops.hpp"
#include "memkv_catch.hpp"

TEST_CASE("FastArt fuzz body replayed over seeded inputs", "[fast_art][fuzz]") {
    for (std::uint64_t seed = 1; seed <= 200; ++seed) {
        std::mt19937_64 rng(seed);
        // Lengths from tiny to a few thousand operations' worth.
        const std::size_t len = static_cast<std::size_t>(rng() % (seed % 10 == 0 ? 20000 : 2000));
        std::vector<std::uint8_t> bytes(len);
        for (auto& b : bytes) {
            // Skewed bytes: small values make short keys and frequent reuse.
            const std::uint64_t r = rng();
            b = static_cast<std::uint8_t>((r & 3) == 0 ? r >> 8 : (r >> 8) % 8);
        }
        INFO("seed " << seed << ", " << len << " bytes");
        REQUIRE_NOTHROW(memkv::test::run_fast_art_ops(bytes.data(), bytes.size()));
    }
}

TEST_CASE("FastArt fuzz body replayed over the committed corpus", "[fast_art][fuzz]") {
    const std::filesystem::path dir = std::filesystem::path(MEMKV_FUZZ_CORPUS_DIR) / "fast_art";
    std::size_t files = 0;
    if (std::filesystem::exists(dir)) {
        for (const auto& e : std::filesystem::directory_iterator(dir)) {
            std::ifstream in(e.path(), std::ios::binary);
            const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            INFO("corpus file " << e.path().string());
            REQUIRE_NOTHROW(memkv::test::run_fast_art_ops(bytes.data(), bytes.size()));
            ++files;
        }
    }
    SUCCEED("replayed " << files << " corpus files");
}
