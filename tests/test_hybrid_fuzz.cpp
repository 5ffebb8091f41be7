// Replays the HybridKV fuzz bodies (fuzz/hybrid_ops.hpp: operations against
// std::map; fuzz/checkpoint_ops.hpp: checkpoint loading) as unit tests: over
// inputs drawn from fixed, printed seeds, over valid checkpoints made here
// and mutated, and over every file committed under fuzz/corpus/hybrid/ and
// fuzz/corpus/checkpoint/. The hidden case [.write-seeds] writes the seed
// corpora: MEMKV_FUZZ_SEED_DIR=tests/fuzz/corpus test_hybrid_v2 "[.write-seeds]".

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "fuzz/checkpoint_ops.hpp"
#include "fuzz/hybrid_ops.hpp"
#include "memkv_catch.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

using KV = memkv::HybridKV<std::uint64_t>;

std::vector<std::uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

void replay_corpus(const char* component, void (*body)(const std::uint8_t*, std::size_t)) {
    const fs::path dir = fs::path(MEMKV_FUZZ_CORPUS_DIR) / component;
    REQUIRE(fs::is_directory(dir));
    std::size_t files = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
        std::ifstream in(e.path(), std::ios::binary);
        const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        INFO("corpus file " << e.path().string());
        REQUIRE_NOTHROW(body(bytes.data(), bytes.size()));
        ++files;
    }
    REQUIRE(files >= 5);
}

// Valid checkpoints of every shape open() reads, each packed into one fuzz
// input with `flags`: empty; delta only (the empty key, NUL, 0xFF); one run
// under a delta of overrides and tombstones; several runs with tombstone
// layers (tiny triggers); file-backed runs.
std::vector<std::string> valid_checkpoints(int flags) {
    std::vector<std::string> out;
    const fs::path dir = fs::temp_directory_path() / ("memkv_fuzz_seeds_" + std::to_string(::getpid()));
    auto make = [&](const memkv::hybrid_options& opt, const std::function<void(KV&)>& fill) {
        fs::remove_all(dir);
        fs::create_directories(dir / "ckpt");
        {
            KV kv(opt);
            fill(kv);
            kv.save((dir / "ckpt" / "c.mkv").string());
        }
        out.push_back(memkv::test::pack_checkpoint(static_cast<std::uint8_t>(flags), dir / "ckpt" / "c.mkv"));
    };
    memkv::hybrid_options quiet;
    quiet.background_compaction = false;
    make(quiet, [](KV&) {});
    make(quiet, [](KV& kv) {
        kv.insert("", 1);
        kv.insert(std::string("a\0b", 3), 2);
        kv.insert("\xff", 3);
        kv.insert("ab", 4);
    });
    make(quiet, [](KV& kv) {
        for (std::uint64_t i = 0; i < 24; ++i) kv.insert("k" + std::to_string(i), i);
        kv.compact();
        for (std::uint64_t i = 0; i < 24; i += 5) kv.erase("k" + std::to_string(i));
        for (std::uint64_t i = 1; i < 24; i += 7) kv.insert_or_assign("k" + std::to_string(i), 100 + i);
        kv.insert("new", 9);
    });
    memkv::hybrid_options tiny = quiet;
    tiny.compaction_bytes = 0;
    tiny.compaction_keys = 4;
    tiny.run_fanout = 3;
    auto layered = [](KV& kv) {
        for (std::uint64_t i = 0; i < 30; ++i) {
            kv.insert_or_assign("r" + std::to_string(i % 13), i);
            if (i % 4 == 3) kv.erase("r" + std::to_string(i % 7));
        }
        kv.insert("tail", 1);
    };
    make(tiny, layered);
    memkv::hybrid_options files = tiny;
    files.directory = (fs::temp_directory_path() / ("memkv_fuzz_seed_runs_" + std::to_string(::getpid()))).string();
    make(files, layered);
    fs::remove_all(files.directory);
    // Runs of background flushes, each with its filter file.
    memkv::hybrid_options flushed;
    flushed.compaction_bytes = 0;
    flushed.compaction_keys = 4;
    flushed.run_fanout = 8;
    make(flushed, [](KV& kv) {
        for (std::uint64_t r = 0; r < 3; ++r) {
            for (std::uint64_t i = 0; i < 4; ++i) kv.insert("f" + std::to_string(r * 4 + i), r);
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
            while (kv.stats().delta_keys != 0 && std::chrono::steady_clock::now() < deadline) {
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
        }
        kv.insert("delta", 5);
    });
    fs::remove_all(dir);
    return out;
}

}  // namespace

TEST_CASE("HybridKV fuzz body replayed over seeded inputs", "[hybrid][fuzz]") {
    const std::uint64_t base = memkv::test::test_seed(1);
    // Sized for a few seconds in the Debug+ASan build, where every flush's
    // FrozenLayer build costs milliseconds.
    const std::size_t inputs = 12 * memkv::test::test_scale();
    for (std::uint64_t seed = base; seed < base + inputs; ++seed) {
        std::mt19937_64 rng(seed);
        const std::size_t len = static_cast<std::size_t>(rng() % 800);
        std::vector<std::uint8_t> bytes(len);
        for (auto& b : bytes) {
            // Skewed: small bytes make short keys, frequent reuse and the
            // common operations.
            const std::uint64_t r = rng();
            b = static_cast<std::uint8_t>((r & 3) == 0 ? r >> 8 : (r >> 8) % 8);
        }
        INFO("seed " << seed << ", " << len << " bytes");
        REQUIRE_NOTHROW(memkv::test::run_hybrid_ops(bytes.data(), bytes.size()));
    }
}

TEST_CASE("HybridKV fuzz body replayed over the committed corpus", "[hybrid][fuzz]") {
    replay_corpus("hybrid", memkv::test::run_hybrid_ops);
}

TEST_CASE("Checkpoint-loading fuzz body: valid checkpoints load and keep working", "[hybrid][fuzz][checkpoint]") {
    // Every flag combination but forged run checksums (bit 2), which turn
    // off the consistency checks these inputs are here to run.
    const std::vector<std::string> valid = valid_checkpoints(0);
    for (const int flags : {0x00, 0x01, 0x02, 0x03, 0x0A, 0x0B}) {
        for (const std::string& in : valid) {
            INFO("flags " << flags << ", " << in.size() << " bytes");
            auto b = bytes_of(in);
            b[0] = static_cast<std::uint8_t>(flags);
            REQUIRE_NOTHROW(memkv::test::run_checkpoint_load(b.data(), b.size()));
        }
    }
}

TEST_CASE("Checkpoint-loading fuzz body: mutated checkpoints", "[hybrid][fuzz][checkpoint]") {
    const std::uint64_t seed = memkv::test::test_seed(20260601);
    std::mt19937_64 rng(seed);
    const std::vector<std::string> valid = valid_checkpoints(0);
    const int rounds = 150 * static_cast<int>(memkv::test::test_scale());
    for (int round = 0; round < rounds; ++round) {
        std::string in = valid[rng() % valid.size()];
        in[0] = static_cast<char>(rng() % 16);
        // A few flipped bits, a changed byte or a cut: mostly in the
        // manifest, whose checksums bit 0 forges.
        for (int n = 1 + static_cast<int>(rng() % 3); n > 0; --n) {
            const std::size_t manifest_end = std::min(in.find(memkv::test::checkpoint_section_mark), in.size());
            // A cut may have left a byte or two: nothing more to mutate (and
            // the modulos below need at least two).
            if (manifest_end < 2 || in.size() < 2) break;
            const std::size_t at = 1 + rng() % (rng() % 4 == 0 ? in.size() - 1 : manifest_end - 1);
            switch (rng() % 3) {
                case 0: in[at] = static_cast<char>(in[at] ^ (1 << (rng() % 8))); break;
                case 1: in[at] = static_cast<char>(rng()); break;
                default: in.resize(at + (rng() % 2 ? 0 : (in.size() - at) / 2)); break;
            }
        }
        INFO("seed " << seed << ", round " << round);
        const auto b = bytes_of(in);
        REQUIRE_NOTHROW(memkv::test::run_checkpoint_load(b.data(), b.size()));
    }
}

TEST_CASE("Checkpoint-loading fuzz body replayed over the committed corpus", "[hybrid][fuzz][checkpoint]") {
    replay_corpus("checkpoint", memkv::test::run_checkpoint_load);
}

// Not run by default: writes the seed inputs of both fuzz targets into
// $MEMKV_FUZZ_SEED_DIR/{hybrid,checkpoint}.
TEST_CASE("Write the HybridKV fuzz seeds", "[.write-seeds]") {
    const char* out = std::getenv("MEMKV_FUZZ_SEED_DIR");
    REQUIRE(out != nullptr);
    auto write = [&](const char* component, const std::string& name, const std::string& bytes) {
        fs::create_directories(fs::path(out) / component);
        memkv::test::checkpoint_write(fs::path(out) / component / name, bytes);
    };
    std::size_t n = 0;
    for (const int flags : {0x00, 0x03, 0x0A}) {
        for (const std::string& in : valid_checkpoints(flags)) write("checkpoint", "seed-" + std::to_string(n++), in);
    }
    // Edge inputs: nothing, flags only, a bare header, an empty section list.
    write("checkpoint", "edge-empty", "");
    write("checkpoint", "edge-flags", std::string(1, '\x03'));
    write("checkpoint", "edge-header", std::string(1, '\x03') + "MKVHYBR1" + std::string(56, '\0'));
    write("checkpoint", "edge-marks", std::string(1, '\x01') + std::string(memkv::test::checkpoint_section_mark) +
                                          std::string(memkv::test::checkpoint_section_mark));
    // Operation sequences: each op byte with a short key, in both store kinds.
    for (const int setup : {0x01, 0x82}) {
        std::string ops(1, static_cast<char>(setup));
        for (int op = 0; op < 20; ++op) ops += {static_cast<char>(op), '\x02', 'a', static_cast<char>('a' + op % 3)};
        ops += {'\x10', '\x00', '\x00'};  // save and reopen
        write("hybrid", "seed-ops-" + std::to_string(setup), ops);
    }
    std::mt19937_64 rng(99);
    for (int i = 0; i < 4; ++i) {
        std::string s(200 + rng() % 400, '\0');
        for (auto& c : s) c = static_cast<char>(rng() % 4 == 0 ? rng() : rng() % 8);
        write("hybrid", "seed-random-" + std::to_string(i), s);
    }
    write("hybrid", "edge-empty", "");
}
