// HybridKV checkpoints: round trips, crash safety (a save interrupted at any
// byte leaves the previous checkpoint readable) and corrupt manifests.

#include <memkv/hybrid_kv.hpp>

#include "memkv_catch.hpp"
#include "scratch_dir.hpp"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <chrono>
#include <map>
#include <thread>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace fs = std::filesystem;

namespace {

using KV = memkv::HybridKV<std::uint64_t>;
using Map = std::map<std::string, std::uint64_t>;

struct temp_dir : memkv::test::scratch_dir {
    temp_dir() : scratch_dir("memkv-ckpt") {}
};

Map contents(const KV& kv) {
    Map m;
    for (const auto& [k, v] : kv.items()) m.emplace(k, v);
    return m;
}

std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void spit(const std::string& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::size_t count_files(const fs::path& dir) {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
    return n;
}

// A store with keys in the base, overrides and tombstones in the delta.
Map fill(KV& kv, std::uint64_t salt) {
    Map m;
    for (std::uint64_t i = 0; i < 500; ++i) {
        const std::string k = "key/" + std::to_string(i);
        REQUIRE(kv.insert(k, i + salt));
        m[k] = i + salt;
    }
    kv.insert(std::string("nul\0key", 7), 7);
    m[std::string("nul\0key", 7)] = 7;
    kv.compact();
    for (std::uint64_t i = 0; i < 500; i += 7) {
        const std::string k = "key/" + std::to_string(i);
        kv.erase(k);
        m.erase(k);
    }
    for (std::uint64_t i = 3; i < 500; i += 11) {
        const std::string k = "key/" + std::to_string(i);
        kv.insert_or_assign(k, 1000000 + i);  // overrides the base (or a tombstone)
        m[k] = 1000000 + i;
    }
    kv.insert("new", 42);
    m["new"] = 42;
    kv.insert("", 1);
    m[""] = 1;
    return m;
}

}  // namespace

TEST_CASE("HybridKV checkpoint: round trip", "[hybrid][checkpoint]") {
    temp_dir dir;
    const std::string path = dir.file("store.mkv");
    KV kv;
    const Map m = fill(kv, 0);
    REQUIRE(contents(kv) == m);
    kv.save(path);

    KV back = KV::open(path);
    REQUIRE(back.size() == m.size());
    REQUIRE(contents(back) == m);
    REQUIRE(back.get("key/3") == 1000003);
    REQUIRE_FALSE(back.contains("key/7"));
    REQUIRE(back.stats().base_keys > 0);
    REQUIRE(back.stats().delta_keys > 0);

    // The restored store keeps working: writes, erases, compaction.
    REQUIRE(back.insert("key/7", 77));
    REQUIRE(back.erase("key/1") == 1);
    back.compact();
    Map m2 = m;
    m2["key/7"] = 77;
    m2.erase("key/1");
    REQUIRE(contents(back) == m2);
    REQUIRE(back.size() == m2.size());
}

TEST_CASE("HybridKV checkpoint: empty store and delta-only store", "[hybrid][checkpoint]") {
    temp_dir dir;
    const std::string path = dir.file("s");
    {
        KV kv;
        kv.save(path);
        KV back = KV::open(path);
        REQUIRE(back.empty());
        REQUIRE(contents(back).empty());
    }
    {
        KV kv;
        kv.insert("only", 5);
        kv.save(path);
        KV back = KV::open(path);
        REQUIRE(contents(back) == Map{{"only", 5}});
        REQUIRE(back.stats().base_keys == 0);
    }
}

TEST_CASE("HybridKV checkpoint: a new save replaces the old one and its base", "[hybrid][checkpoint]") {
    temp_dir dir;
    const std::string path = dir.file("store");
    KV a;
    fill(a, 0);
    a.save(path);
    const std::size_t files = count_files(dir.path);
    REQUIRE(files == 2);  // manifest + base

    KV b;
    const Map mb = fill(b, 5);
    b.save(path);
    REQUIRE(count_files(dir.path) == 2);  // the old base is gone
    REQUIRE(contents(KV::open(path)) == mb);
}

TEST_CASE("HybridKV checkpoint: an interrupted save leaves the previous one readable",
          "[hybrid][checkpoint]") {
    temp_dir dir;
    const std::string path = dir.file("store");
    KV a;
    const Map ma = fill(a, 0);
    a.save(path);

    // The bytes a second save would write, produced elsewhere.
    temp_dir scratch;
    KV b;
    fill(b, 9);
    b.insert("only-in-b", 1);
    b.save(scratch.file("store"));
    const std::string manifest = slurp(scratch.file("store"));
    std::string base_name;
    for (const auto& e : fs::directory_iterator(scratch.path)) {
        if (e.path().filename() != "store") base_name = e.path().filename().string();
    }
    REQUIRE(!base_name.empty());
    const std::string base = slurp(scratch.file(base_name));

    // A crash at any point of the manifest write: PATH.tmp holds a prefix.
    for (std::size_t cut = 0; cut < manifest.size(); cut += 1 + manifest.size() / 50) {
        spit(path + ".tmp", manifest.substr(0, cut));
        spit(dir.file(base_name + ".tmp"), base.substr(0, cut * base.size() / manifest.size()));
        REQUIRE(contents(KV::open(path)) == ma);
    }
    // A crash after the new base was renamed in, before the commit.
    spit(dir.file(base_name), base);
    REQUIRE(contents(KV::open(path)) == ma);

    // The next successful save sweeps the leftovers (and the old base).
    spit(dir.file("store.base.notahexname"), "keep me");
    a.insert("after", 1);
    a.save(path);
    REQUIRE(count_files(dir.path) == 3);  // manifest, its base, the unrelated file
    Map ma2 = ma;
    ma2["after"] = 1;
    REQUIRE(contents(KV::open(path)) == ma2);
}

TEST_CASE("HybridKV checkpoint: corrupt manifests are rejected", "[hybrid][checkpoint]") {
    temp_dir dir;
    const std::string path = dir.file("store");
    KV kv;
    fill(kv, 0);
    kv.save(path);
    const std::string good = slurp(path);

    SECTION("truncated") {
        for (std::size_t cut = 0; cut < good.size(); cut += 1 + good.size() / 40) {
            spit(path, good.substr(0, cut));
            REQUIRE_THROWS_AS(KV::open(path), memkv::format_error);
        }
    }
    SECTION("a flipped byte anywhere") {
        for (std::size_t at = 0; at < good.size(); at += 1 + good.size() / 60) {
            std::string bad = good;
            bad[at] = static_cast<char>(bad[at] ^ 0x10);
            spit(path, bad);
            REQUIRE_THROWS_AS(KV::open(path), memkv::format_error);
        }
    }
    SECTION("a newer format version (with a valid header checksum)") {
        std::string bad = good;
        bad[8] = static_cast<char>(memkv::detail::hybrid_format_version + 1);
        const std::uint32_t crc =
            memkv::detail::crc32c(reinterpret_cast<const unsigned char*>(bad.data()), 60);
        for (int i = 0; i < 4; ++i) bad[60 + static_cast<std::size_t>(i)] = static_cast<char>((crc >> (8 * i)) & 0xFFU);
        spit(path, bad);
        REQUIRE_THROWS_WITH(KV::open(path), Catch::Contains("unsupported format version"));
    }
    SECTION("a size field that no layer count allows (with a valid header checksum)") {
        // open() no longer counts through a merge of the runs; the bound
        // (the runs' live keys, the delta's records) must still refuse this.
        // Also a store of several runs, where the bound (not a count) applies.
        KV::options o;
        o.compaction_keys = 500;
        // No merges: a batch may flush in one or two runs (the flusher can
        // take its first 500 keys alone), and eight level-0 runs, under the
        // default fanout of 8, merged into one (CI saw runs == 1 once).
        o.run_fanout = 64;
        KV many(o);
        // Batches of 1,000 keys, each at least half flushed before the next:
        // at least one run per batch, none merged.
        for (std::uint64_t b = 0; b < 6; ++b) {
            for (std::uint64_t i = b * 1000; i < (b + 1) * 1000; ++i) many.insert("m" + std::to_string(i), i);
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
            while (many.stats().delta_keys >= 500 && std::chrono::steady_clock::now() < deadline) {
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
            }
        }
        REQUIRE(many.stats().runs >= 2);
        const std::string path2 = dir.file("many");
        many.save(path2);
        const std::string good2 = slurp(path2);
        for (const auto& [file, image] : {std::pair{path, good}, std::pair{path2, good2}})
        for (const std::uint64_t size : {std::uint64_t{1} << 40, std::uint64_t{0}}) {
            std::string bad = image;
            for (int i = 0; i < 8; ++i) bad[16 + static_cast<std::size_t>(i)] = static_cast<char>((size >> (8 * i)) & 0xFFU);
            const std::uint32_t crc =
                memkv::detail::crc32c(reinterpret_cast<const unsigned char*>(bad.data()), 60);
            for (int i = 0; i < 4; ++i) bad[60 + static_cast<std::size_t>(i)] = static_cast<char>((crc >> (8 * i)) & 0xFFU);
            spit(file, bad);
            REQUIRE_THROWS_WITH(KV::open(file), Catch::Contains("size does not match"));
        }
    }
    SECTION("format versions 1 and 2 (memkv 0.1) still open") {
        // The same checkpoint as 0.1 wrote it: a 56-byte header naming one
        // base file, then the same delta records; version 1 checksums with
        // CRC-32/IEEE, version 2 with CRC-32C.
        const auto at = [&](std::size_t off, int n) {
            std::uint64_t v = 0;
            for (int i = n; i-- > 0;) v = (v << 8) | static_cast<unsigned char>(good[off + static_cast<std::size_t>(i)]);
            return v;
        };
        REQUIRE(at(40, 4) == 1);  // fill() leaves one run (no tombstones)
        const std::size_t table = at(56, 4);
        const std::size_t name_len = at(64 + 4, 2);
        const std::string base_name = good.substr(64 + 6, name_len);
        const std::string records = good.substr(64 + table);
        for (int version : {1, 2}) {
            const auto crc = version == 1 ? memkv::detail::crc32_ieee : memkv::detail::crc32c;
            const std::string payload = base_name + records;
            std::string old = good.substr(0, 8);
            memkv::detail::append_le(old, static_cast<std::uint64_t>(version), 4);
            old += good.substr(12, 20);  // sizeof(V), size, record count
            memkv::detail::append_le(old, payload.size(), 8);
            memkv::detail::append_le(old, base_name.size(), 4);
            memkv::detail::append_le(old, crc(reinterpret_cast<const unsigned char*>(payload.data()), payload.size()), 4);
            memkv::detail::append_le(old, 0, 4);
            memkv::detail::append_le(old, crc(reinterpret_cast<const unsigned char*>(old.data()), 52), 4);
            REQUIRE(old.size() == 56);
            old += payload;
            spit(path, old);
            CHECK(contents(KV::open(path)) == contents(kv));
            KV::open(path).verify();
            // The other version's checksum on this version's header is corrupt.
            std::string mixed = old;
            mixed[8] = static_cast<char>(3 - version);
            spit(path, mixed);
            REQUIRE_THROWS_AS(KV::open(path), memkv::format_error);
        }
    }
    SECTION("a missing base file") {
        for (const auto& e : fs::directory_iterator(dir.path)) {
            if (e.path().filename() != "store") fs::remove(e.path());
        }
        REQUIRE_THROWS_AS(KV::open(path), memkv::error);
    }
    SECTION("wrong value type") {
        REQUIRE_THROWS_AS(memkv::HybridKV<std::uint32_t>::open(path), memkv::format_error);
    }
    SECTION("missing file") {
        REQUIRE_THROWS_AS(KV::open(dir.file("nope")), memkv::io_error);
    }
}

TEST_CASE("HybridKV checkpoint: open says what a wrong file is (regression)", "[hybrid][checkpoint]") {
    // Before: a directory was "is a directory" already; a FrozenLayer file,
    // random bytes and a text file were all "not a memkv checkpoint (bad
    // magic)", an empty file "(0 bytes is shorter than a header)".
    temp_dir dir;
    const std::string sub = dir.file("sub");
    fs::create_directory(sub);
    REQUIRE_THROWS_WITH(KV::open(sub), "memkv: open '" + sub + "': is a directory");

    // A FrozenLayer file, e.g. one of the checkpoint's own run files.
    const std::string path = dir.file("store");
    KV kv;
    fill(kv, 0);
    kv.save(path);
    std::string run;
    for (const auto& e : fs::directory_iterator(dir.path)) {
        if (e.path().filename().string().rfind("store.run.", 0) == 0) run = e.path().string();
    }
    REQUIRE(!run.empty());
    REQUIRE_THROWS_WITH(KV::open(run), "memkv: open '" + run + "': not a memkv checkpoint (it is a FrozenLayer file)");

    const std::pair<std::string, std::string> files[] = {
        {"", "not a memkv checkpoint (an empty file)"},
        {"key,value\nalpha,1\n", "not a memkv checkpoint (not a memkv file: it starts with \"key,valu\")"},
        {std::string("\x00\x01\xfe\xff", 4) + std::string(100, 'r'),
         "not a memkv checkpoint (not a memkv file: it starts with \"\\x00\\x01\\xfe\\xffrrrr\")"},
        // A manifest cut inside its magic is a truncated manifest.
        {"MKVHY", "truncated: 5 bytes is shorter than a header"},
    };
    for (const auto& [bytes, why] : files) {
        const std::string f = dir.file("foreign");
        spit(f, bytes);
        try {
            (void)KV::open(f);
            FAIL("no exception");
        } catch (const memkv::format_error& e) {
            CHECK(std::string(e.what()) == "memkv: open '" + f + "': " + why);
        }
    }
}

namespace {

// A store of `runs` runs, each a flush (so each has a filter), and a delta
// of one key. Returns its contents.
Map several_runs(KV& kv, std::size_t runs) {
    Map m;
    std::uint64_t i = 0;
    for (std::size_t r = 0; r < runs; ++r) {
        // Exactly compaction_keys: the last insert calls for a flush of
        // them all, and nothing is left to call for another one later.
        for (std::uint64_t end = i + 1000; i < end; ++i) {
            const std::string k = "run-key/" + std::to_string(i * 7919 % 1000003);
            kv.insert(k, i);
            m[k] = i;
        }
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (kv.stats().delta_keys != 0 && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        REQUIRE(kv.stats().runs == r + 1);
    }
    kv.insert("in the delta", 7);
    m["in the delta"] = 7;
    return m;
}

KV::options several_runs_options() {
    KV::options opt;
    opt.compaction_keys = 1000;
    opt.run_fanout = 64;  // flushes only: no run merges
    opt.max_runs = 100;
    return opt;
}

// The filter files of the checkpoint at `path` that exist, newest run first.
std::vector<std::string> filter_files(const std::string& path) {
    std::vector<std::string> names;
    REQUIRE(memkv::detail::hybrid_manifest_names(path, names));
    std::vector<std::string> filters;
    for (const std::string& n : names) {
        if (n.ends_with(".filter") && fs::exists(fs::path(path).parent_path() / n)) filters.push_back(n);
    }
    return filters;
}

// The runs the checkpoint at `path` names.
std::size_t manifest_runs(const std::string& path) {
    std::vector<std::string> names;
    REQUIRE(memkv::detail::hybrid_manifest_names(path, names));
    return static_cast<std::size_t>(std::count_if(names.begin(), names.end(),
                                                  [](const std::string& n) { return n.ends_with(".filter"); }));
}

// Iteration and every key's get() agree with m: the filters hide nothing.
void require_lookups(const KV& kv, const Map& m) {
    REQUIRE(contents(kv) == m);
    for (const auto& [k, v] : m) REQUIRE(kv.get(k) == v);
}

void flip_byte(const std::string& file, std::size_t at) {
    std::string bytes = slurp(file);
    REQUIRE(bytes.size() > at);
    bytes[at] = static_cast<char>(bytes[at] ^ 0x10);
    spit(file, bytes);
}

}  // namespace

TEST_CASE("HybridKV checkpoint: run filters are saved and read back, not rebuilt (regression)",
          "[hybrid][checkpoint]") {
    // Before: open() rebuilt the filter of every run but the oldest from the
    // run's keys (45 s of a 10^8-key open()); now each run's filter is a file
    // beside its run files, written once, read at open().
    temp_dir dir;
    const std::string path = dir.file("store");
    KV kv(several_runs_options());
    const Map m = several_runs(kv, 4);
    kv.save(path);
    // Every run of the checkpoint has its filter file (each is a flush's).
    const std::size_t runs = manifest_runs(path);
    REQUIRE(runs == 4);
    const std::vector<std::string> filters = filter_files(path);
    REQUIRE(filters.size() == runs);

    {
        KV back = KV::open(path, several_runs_options());
        CHECK(back.stats().filters_loaded == runs);
        CHECK(back.stats().filters_rebuilt == 0);
        require_lookups(back, m);
        CHECK_FALSE(back.contains("run-key/absent"));
        back.verify();
    }

    // A second save of the unchanged store writes no filter again.
    struct ::stat before {};
    REQUIRE(::stat((dir.path / filters[0]).c_str(), &before) == 0);
    kv.save(path);
    struct ::stat after {};
    REQUIRE(::stat((dir.path / filters[0]).c_str(), &after) == 0);
    CHECK(before.st_ino == after.st_ino);

    SECTION("a damaged filter file is rebuilt from its run") {
        flip_byte(dir.file(filters[0]), 100);  // in the words: the newest run's
        KV back = KV::open(path, several_runs_options());
        CHECK(back.stats().filters_loaded == runs - 1);
        CHECK(back.stats().filters_rebuilt == 1);
        require_lookups(back, m);
        back.verify();
    }
    SECTION("a filter file renamed onto another run is not taken for its own") {
        fs::rename(dir.path / filters[0], dir.path / "swap");
        fs::rename(dir.path / filters[1], dir.path / filters[0]);
        fs::rename(dir.path / "swap", dir.path / filters[1]);
        KV back = KV::open(path, several_runs_options());
        CHECK(back.stats().filters_loaded == runs - 2);
        CHECK(back.stats().filters_rebuilt == 2);
        require_lookups(back, m);
    }
    SECTION("a missing filter file is rebuilt, the oldest run's is not") {
        fs::remove(dir.path / filters.front());
        fs::remove(dir.path / filters.back());
        KV back = KV::open(path, several_runs_options());
        CHECK(back.stats().filters_loaded == runs - 2);
        CHECK(back.stats().filters_rebuilt == 1);
        require_lookups(back, m);
    }
    SECTION("a filter that lies (checksums forged) is caught by verify()") {
        // Every word zero, checksums recomputed: open() takes it (it trusts
        // CRC-valid files, like run files); verify() finds the keys it hides.
        std::string bytes = slurp(dir.file(filters[0]));
        const std::size_t header = memkv::detail::hybrid_filter::file_header_size;
        std::fill(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end(), '\0');
        auto* p = reinterpret_cast<unsigned char*>(bytes.data());
        memkv::detail::store_le(p + 32, memkv::detail::crc32c(p + header, bytes.size() - header), 4);
        memkv::detail::store_le(p + 36, memkv::detail::crc32c(p, 36), 4);
        spit(dir.file(filters[0]), bytes);
        KV back = KV::open(path, several_runs_options());
        CHECK(back.stats().filters_loaded == runs);
        REQUIRE_THROWS_AS(back.verify(), memkv::format_error);
    }
    SECTION("compacted into one run, the next save drops the old filters") {
        kv.compact();
        kv.save(path);
        INFO("runs " << kv.stats().runs << ", files: " << memkv::test::join(memkv::test::listing(dir.path)));
        CHECK(filter_files(path).empty());  // a lone compacted run has no filter
        for (const std::string& f : filters) CHECK_FALSE(fs::exists(dir.path / f));
        CHECK(count_files(dir.path) == 2);
        KV back = KV::open(path, several_runs_options());
        REQUIRE(contents(back) == m);
    }
}
