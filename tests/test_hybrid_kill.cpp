// Kill consistency of HybridKV checkpoints: a forked child opens the
// checkpoint (if any), mutates the store with a seeded random sequence and
// save()s it to the same path again and again, telling the parent through a
// pipe before and after each save; the parent SIGKILLs it at a random moment,
// opens the path and requires exactly the contents of the last checkpoint the
// child reported committed, or of the one it was writing (the rename may
// have happened just before the kill). The parent knows those contents by
// replaying the child's seeded sequence on a std::map. The next child starts
// from what the kill left (temporary files and unreferenced runs included).
// Rounds alternate in-memory and file-backed runs, with background
// compaction off and on.
//
// Not under TSan (fork() of a process with sanitizer threads; the target is
// not built there anyway).

#include <memkv/hybrid_kv.hpp>

#include "memkv_catch.hpp"
#include "test_support.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

using KV = memkv::MemKV<std::uint64_t>;
using Map = std::map<std::string, std::uint64_t>;

// One batch of writes between two checkpoints, applied to the model and,
// in the child, to the store. The same rng state gives the same batch.
void write_batch(std::mt19937_64& rng, Map& m, KV* kv) {
    const std::size_t n = 1 + rng() % 24;
    for (std::size_t i = 0; i < n; ++i) {
        const std::string k = "k" + std::to_string(rng() % 160);
        const std::uint64_t v = rng();
        const unsigned dice = static_cast<unsigned>(rng() % 100);
        if (dice < 55) {
            m.insert_or_assign(k, v);
            if (kv != nullptr) kv->insert_or_assign(k, v);
        } else if (dice < 70) {
            m.insert({k, v});
            if (kv != nullptr) kv->insert(k, v);
        } else if (dice < 98) {
            m.erase(k);
            if (kv != nullptr) kv->erase(k);
        } else {
            // A prefix such as "k1": a tenth of the keys.
            const std::string p = k.substr(0, 2);
            for (auto it = m.lower_bound(p); it != m.end() && it->first.starts_with(p);) it = m.erase(it);
            if (kv != nullptr) kv->erase_prefix(p);
        }
    }
}

struct report {
    std::uint32_t kind;  // 1: about to save checkpoint n; 2: checkpoint n committed
    std::uint32_t n;
};

memkv::hybrid_options round_options(std::size_t round, const fs::path& dir) {
    memkv::hybrid_options o;
    o.background_compaction = round % 4 >= 2;
    o.compaction_bytes = 0;
    o.compaction_keys = 24;  // flushes and merges: saves write run files
    o.release_memory = false;
    if (round % 2 == 1) o.directory = (dir / "runs").string();
    return o;
}

// The child: never returns (SIGKILLed while it works, or _exit on an error).
[[noreturn]] void child(int fd, const std::string& path, const memkv::hybrid_options& opt, std::uint64_t seed) {
    try {
        std::mt19937_64 rng(seed);
        KV kv = fs::exists(path) ? KV::open(path, opt) : KV(opt);
        Map unused;
        for (std::uint32_t n = 1; n <= 400; ++n) {
            write_batch(rng, unused, &kv);
            unused.clear();  // only the parent needs the model
            const report before{1, n};
            if (::write(fd, &before, sizeof before) != sizeof before) ::_exit(3);
            kv.save(path);
            const report after{2, n};
            if (::write(fd, &after, sizeof after) != sizeof after) ::_exit(3);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "kill-test child: %s\n", e.what());
        ::_exit(2);
    }
    for (;;) ::pause();  // done: wait for the kill
}

Map contents(const KV& kv) {
    Map m;
    for (const auto& [k, v] : kv.items()) m.emplace(k, v);
    return m;
}

}  // namespace

TEST_CASE("HybridKV checkpoint: SIGKILL at random moments leaves exactly a reported checkpoint",
          "[hybrid][checkpoint][kill]") {
#if defined(__SANITIZE_THREAD__)
    WARN("skipped under TSan");
    return;
#endif
    const std::uint64_t seed = memkv::test::test_seed(0x6b111);
    // 200 per 3 units of MEMKV_TEST_SCALE: the optimized CI build runs at 3,
    // and a round costs a fork and fsyncs there as much as in the ASan build.
    const std::size_t kills = 200 * ((memkv::test::test_scale() + 2) / 3);
    INFO("seed " << seed);
    std::mt19937_64 rng(seed);
    const fs::path dir = fs::temp_directory_path() / ("memkv_kill_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::string path = (dir / "store.mkv").string();

    Map on_disk;           // what the last round left at `path` (checked)
    bool exists = false;   // whether there is a checkpoint at all yet
    std::size_t commits = 0, torn = 0, newer = 0, idle = 0;
    for (std::size_t round = 0; round < kills; ++round) {
        const memkv::hybrid_options opt = round_options(round, dir);
        const std::uint64_t child_seed = rng();
        // Mostly within the first few saves, a quarter later; near 0 kills
        // it before it has done anything.
        const auto delay = std::chrono::microseconds(rng() % 4 == 0 ? rng() % 80'000 : rng() % 15'000);
        INFO("round " << round << ", child seed " << child_seed << ", delay " << delay.count() << " us, directory '"
                      << opt.directory << "', background " << opt.background_compaction);

        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::close(fds[0]);
            child(fds[1], path, opt, child_seed);
        }
        ::close(fds[1]);
        std::this_thread::sleep_for(delay);
        ::kill(pid, SIGKILL);
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        // An exit or another signal: the child failed (see its stderr).
        REQUIRE(WIFSIGNALED(status));
        REQUIRE(WTERMSIG(status) == SIGKILL);

        std::uint32_t announced = 0, committed = 0;
        for (report r{}; ::read(fds[0], &r, sizeof r) == static_cast<ssize_t>(sizeof r);) {
            (r.kind == 1 ? announced : committed) = r.n;
        }
        ::close(fds[0]);
        REQUIRE(committed <= announced);
        REQUIRE(announced <= committed + 1);

        // The contents the child had at its last committed checkpoint and at
        // the one it was writing.
        std::mt19937_64 replay(child_seed);
        Map m = on_disk;
        Map at_committed = m;
        for (std::uint32_t n = 1; n <= announced; ++n) {
            write_batch(replay, m, nullptr);
            if (n == committed) at_committed = m;
        }
        const Map& at_announced = m;

        INFO("reported: announced " << announced << ", committed " << committed);
        if (!fs::exists(path)) {
            REQUIRE_FALSE(exists);  // a checkpoint, once there, stays
            REQUIRE(committed == 0);
        } else {
            memkv::hybrid_options ro;
            ro.background_compaction = false;
            const KV back = KV::open(path, ro);
            REQUIRE_NOTHROW(back.verify());
            const Map got = contents(back);
            REQUIRE(back.size() == got.size());
            const bool is_committed = (committed > 0 || exists) && got == at_committed;
            const bool is_announced = announced > committed && got == at_announced;
            REQUIRE((is_committed || is_announced));
            on_disk = is_committed ? at_committed : at_announced;
            exists = true;
            torn += announced > committed ? 1 : 0;
            newer += is_announced && !is_committed ? 1 : 0;
        }
        commits += committed;
        idle += announced == 0 ? 1 : 0;
    }
    fs::remove_all(dir);
    memkv::test::report_run("HybridKV kill consistency (kills)", seed, kills);
    if (std::getenv("MEMKV_TEST_SCALE") != nullptr || std::getenv("MEMKV_TEST_SEED") != nullptr) {
        std::fprintf(stderr,
                     "memkv-test: %zu kills, %zu checkpoints committed, %zu kills during a save (%zu after its "
                     "commit), %zu before the first save\n",
                     kills, commits, torn, newer, idle);
    }
}
