// HybridKV (MemKV<std::uint64_t>) under allocation failure (alloc_fault.hpp).
//
// Foreground: one operation at a time runs with the k-th allocation of the
// calling thread failing (scope this_thread, so the background threads'
// allocations do not shift k), for k = 0, 1, ... until it completes, with
// background compaction on and off. The store is small (~2,600 keys) but has
// every layer kind: runs on two levels, one with tombstones, a checkpoint's
// delta, a sealed delta and an active one. After each attempt: the store
// equals the std::map model as the contract says (insert, insert_or_assign,
// erase: strong; compact, snapshot, views: contents unchanged; save: no new
// file; erase_prefix: some keys of the prefix may be gone), verify()
// passes, and a few more writes, a compact() and a reopen still work.
//
// Background: the k-th allocation of the other threads (the flusher, the
// merger and their niced helpers) fails while this thread's writes trigger a
// flush and a run merge. A failed compaction must show in
// stats().failed_compactions and change nothing visible.
//
// Regressions (each failed before its fix):
//   * insert() of a key visible in a lower layer undoes its delta entry with
//     an erase; when that erase needed memory (a node merge relocating a
//     long-suffix sibling) the bad_alloc escaped with the new value left in
//     the delta: insert() had overwritten the key ("insert of a key held by
//     a run, next to a long key": the store showed the new value).
//   * save() hard-linked a run file of the opened checkpoint and then listed
//     it for removal; a bad_alloc from that push_back left the link behind
//     ("save": a db.mkv.run.* file after the throw).
//   * save()'s garbage collection walked the directory with
//     std::filesystem::directory_iterator, which (libstdc++ 12) builds each
//     entry inside a noexcept function: a bad_alloc there terminated the
//     process ("save" aborted).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <memkv/hybrid_kv.hpp>

#include "alloc_fault.hpp"
#include "memkv_catch.hpp"
#include "scratch_dir.hpp"
#include "test_support.hpp"

namespace {

namespace af = memkv::test::alloc_fault;
namespace fs = std::filesystem;
using KV = memkv::MemKV<std::uint64_t>;
using Map = std::map<std::string, std::uint64_t>;

using memkv::test::scratch_dir;

std::string key(std::uint64_t i) {
    const std::uint64_t h = (i * 0x9E3779B97F4A7C15ULL) >> 52;
    return "https://example.org/u" + std::to_string(h) + "/" + std::to_string(i) + "/profile";
}
// Keys past FastArt's 4 KiB blocks: their leaves are allocations of their
// own, so relocating one (a node merge on erase) can fail.
std::string long_key(std::uint64_t i) { return "https://example.org/long/" + std::to_string(i) + std::string(5000, 'z'); }

void wait_until(const char* what, auto&& done) {
    INFO("waiting for " << what);
    REQUIRE(memkv::test::wait_until(done));
}

Map contents(const KV& kv) {
    Map m;
    for (const auto& [k, v] : kv.items()) m.emplace(k, v);
    return m;
}

void require_model(const KV& kv, const Map& m) {
    REQUIRE_NOTHROW(kv.verify());
    REQUIRE(kv.size() == m.size());
    REQUIRE(contents(kv) == m);
}

constexpr std::size_t flush_keys = 400;

KV::options store_options(bool background) {
    KV::options o;
    o.background_compaction = background;
    o.compaction_bytes = 0;
    o.compaction_keys = flush_keys;
    o.run_fanout = 4;
    o.compaction_nice = 0;
    return o;
}

// A checkpoint with runs on two levels (one holding tombstones) and a delta,
// made once per process: flushes of flush_keys entries, each waited for.
struct seed_store {
    scratch_dir dir;
    std::string path = dir.file("seed.mkv");
    Map model;

    seed_store() {
        KV kv(store_options(true));
        std::uint64_t next = 0;
        auto batch = [&](std::size_t n) {
            const std::uint64_t flushes = kv.stats().flushes;
            for (std::size_t i = 0; i < n; ++i, ++next) {
                kv.insert(key(next), next);
                model.emplace(key(next), next);
            }
            wait_until("a flush", [&] { return kv.stats().flushes > flushes && !kv.compaction_running(); });
        };
        // Four flushes merge into a level-1 run. The merge is waited for
        // before the fifth flush: a merger that woke only after it took all
        // five level-0 runs (one group of one level), which left the seed
        // with two runs (CI, fifteenth session).
        for (int b = 0; b < 4; ++b) batch(flush_keys);
        wait_until("a run merge", [&] { return kv.stats().run_merges >= 1 && !kv.compaction_running(); });
        batch(flush_keys);
        // A run of tombstones and updates above them.
        const std::uint64_t flushes = kv.stats().flushes;
        for (std::uint64_t i = 0; i < flush_keys; ++i) {
            const std::string k = key(i * 3);
            if (i % 2 == 0) {
                REQUIRE(kv.erase(k) == model.erase(k));
            } else {
                kv.insert_or_assign(k, i + 1'000'000);
                model[k] = i + 1'000'000;
            }
        }
        wait_until("a flush", [&] { return kv.stats().flushes > flushes && !kv.compaction_running(); });
        // The checkpoint's delta: a few more writes, long keys among them.
        for (std::uint64_t i = 0; i < 60; ++i, ++next) {
            const std::string k = i % 10 == 0 ? long_key(i) : key(next);
            kv.insert(k, next);
            model.emplace(k, next);
        }
        REQUIRE(kv.erase(key(1)) == model.erase(key(1)));
        const memkv::hybrid_stats s = kv.stats();
        INFO("seed store: runs " << s.runs << ", flushes " << s.flushes << ", merges " << s.run_merges);
        REQUIRE(s.runs >= 3);
        REQUIRE(s.failed_compactions == 0);
        kv.save(path);
        require_model(kv, model);
    }
};

const seed_store& seed() {
    static const seed_store s;
    return s;
}

// The seed checkpoint opened, plus a sealed delta and an active one.
std::unique_ptr<KV> open_store(KV::options opt, Map& model) {
    model = seed().model;
    opt.verify_on_open = false;  // checked once, by the seed; the open sweep checks the CRCs
    auto kv = std::make_unique<KV>(KV::open(seed().path, opt));
    for (std::uint64_t i = 0; i < 20; ++i) {
        kv->insert_or_assign(key(5000 + i), i);
        model[key(5000 + i)] = i;
    }
    (void)kv->prefix("x");  // seals the active delta
    for (std::uint64_t i = 0; i < 20; ++i) {
        kv->insert(key(6000 + i), i);
        model.emplace(key(6000 + i), i);
    }
    kv->insert(long_key(900), 900);  // a long leaf in the active delta
    model.emplace(long_key(900), 900);
    return kv;
}

// The store keeps working: writes, and (when `deep`) a compaction and a
// reopen, each compared.
void keep_working(std::unique_ptr<KV>& kv, Map& m, const KV::options& opt, const scratch_dir& dir, bool deep) {
    REQUIRE(kv->insert(key(7001), 1) == m.emplace(key(7001), 1).second);
    const bool fresh = !m.contains(key(2));
    REQUIRE(kv->insert_or_assign(key(2), 2) == fresh);
    m[key(2)] = 2;
    REQUIRE(kv->erase(key(4)) == m.erase(key(4)));
    REQUIRE(kv->size() == m.size());
    REQUIRE(kv->get(key(7001)) == std::optional<std::uint64_t>(m.at(key(7001))));
    REQUIRE(kv->get(key(2)) == std::optional<std::uint64_t>(2));
    REQUIRE_FALSE(kv->contains(key(4)));
    if (!deep) return;  // the full comparison (every key) is require_model's, after the operation
    kv->compact();
    require_model(*kv, m);
    kv->save(dir.file("after.mkv"));
    kv.reset();
    kv = std::make_unique<KV>(KV::open(dir.file("after.mkv"), opt));
    require_model(*kv, m);
}

// Every attempt opens a store of ~2,600 keys, so sampled sweeps here step
// sooner than alloc_fault.hpp's: every k below 8 x MEMKV_TEST_SCALE, then
// by about k / (2 x scale); every k at MEMKV_TEST_SCALE >= 10.
std::uint64_t store_next_k(std::uint64_t k, af::sweep how) {
    const std::uint64_t s = af::scale();
    if (how == af::sweep::full || s >= 10 || k < 8 * s) return k + 1;
    return k + 1 + k / (2 * s);
}

enum class op_kind { insert_new, insert_below, insert_long_below, assign_below, erase_below, erase_delta, snapshot,
                     compact, erase_prefix, save, open };

const char* name(op_kind o) {
    switch (o) {
        case op_kind::insert_new: return "insert of a new key";
        case op_kind::insert_below: return "insert of a key held by a run";
        case op_kind::insert_long_below: return "insert of a key held by a run, next to a long key";
        case op_kind::assign_below: return "insert_or_assign of a key held by a run";
        case op_kind::erase_below: return "erase of a key held by a run";
        case op_kind::erase_delta: return "erase of a key only in the delta";
        case op_kind::snapshot: return "snapshot and a read through it";
        case op_kind::compact: return "compact";
        case op_kind::erase_prefix: return "erase_prefix";
        case op_kind::save: return "save";
        case op_kind::open: return "open";
    }
    return "?";
}

}  // namespace

TEST_CASE("HybridKV: every operation under bad_alloc keeps the store as its contract says", "[hybrid][alloc]") {
    const bool background = GENERATE(false, true);
    const KV::options opt = store_options(background);
    // The long key's sibling in the active delta: inserting a key that shares
    // its path and is held by a run splits the long leaf's parent, and the
    // undo merges it back (relocating the long leaf: an allocation).
    const std::string long_sibling = long_key(1).substr(0, 40) + "y";
    std::size_t failures = 0;
    std::vector<op_kind> ops = {op_kind::insert_new,   op_kind::insert_below, op_kind::insert_long_below,
                                op_kind::assign_below, op_kind::erase_below,  op_kind::erase_delta,
                                op_kind::snapshot,     op_kind::compact,      op_kind::erase_prefix,
                                op_kind::save,         op_kind::open};
    // With the background threads on, only the foreground thread's
    // allocations fail, so the same code paths run: in CI the writes and a
    // compaction racing the flusher; all of them at MEMKV_TEST_SCALE >= 10
    // (and under TSan only these: it runs every 'concurrency' test).
    if (background && af::scale() < 10) ops = {op_kind::insert_long_below, op_kind::erase_below, op_kind::compact};
#if defined(__SANITIZE_THREAD__)
    if (!background) return;
#endif
    for (const op_kind op : ops) {
        const bool heavy = op == op_kind::compact || op == op_kind::save || op == op_kind::open ||
                           op == op_kind::erase_prefix || op == op_kind::snapshot;
        for (std::uint64_t k = 0;; k = store_next_k(k, heavy ? af::sweep::sampled : af::sweep::full)) {
            scratch_dir dir;
            Map model;
            std::unique_ptr<KV> kv = open_store(opt, model);
            if (op == op_kind::insert_long_below) {
                // Held by a run, with the long key next to it in the delta.
                kv->insert(long_sibling, 77);
                model.emplace(long_sibling, 77);
                kv->compact();
                kv->insert(long_key(1), 1);
                model.emplace(long_key(1), 1);
            }
            Map after = model;
            const std::string ckpt = dir.file("db.mkv");
            if (op == op_kind::open) kv->save(ckpt);
            const std::set<std::string> files_before = dir.names();
            std::unique_ptr<KV> opened;
            bool result = false;
            std::size_t erased = 0;
            const af::outcome r = af::fail_at(k, [&] {
                switch (op) {
                    case op_kind::insert_new: result = kv->insert(key(8000), 8); break;
                    case op_kind::insert_below: result = kv->insert(key(10), 8); break;
                    case op_kind::insert_long_below: result = kv->insert(long_sibling, 8); break;
                    case op_kind::assign_below: result = kv->insert_or_assign(key(11), 8); break;
                    case op_kind::erase_below: erased = kv->erase(key(13)); break;
                    case op_kind::erase_delta: erased = kv->erase(key(6003)); break;
                    case op_kind::snapshot: {
                        const auto snap = kv->snapshot();
                        result = snap.get(key(10)).has_value() && snap.size() == after.size();
                        break;
                    }
                    case op_kind::compact: kv->compact(); break;
                    case op_kind::erase_prefix: erased = kv->erase_prefix("https://example.org/u1"); break;
                    case op_kind::save: kv->save(ckpt); break;
                    case op_kind::open: opened = std::make_unique<KV>(KV::open(ckpt, opt)); break;
                }
            });
            INFO(name(op) << ", background " << background << ", failing allocation " << k
                          << (r.threw ? " (threw)" : ""));
            // What the operation does when it completes.
            switch (op) {
                case op_kind::insert_new: after.emplace(key(8000), 8); break;
                case op_kind::assign_below: after[key(11)] = 8; break;
                case op_kind::erase_below: after.erase(key(13)); break;
                case op_kind::erase_delta: after.erase(key(6003)); break;
                case op_kind::erase_prefix:
                    for (auto it = after.lower_bound("https://example.org/u1");
                         it != after.end() && it->first.starts_with("https://example.org/u1");) {
                        it = after.erase(it);
                    }
                    break;
                default: break;
            }
            if (r.threw) {
                ++failures;
                REQUIRE(r.fired);
                if (op == op_kind::erase_prefix) {
                    // Not atomic: a failure may leave part of the prefix
                    // erased, nothing else touched.
                    const Map got = contents(*kv);
                    REQUIRE(kv->size() == got.size());
                    for (const auto& [mk, mv] : model) {
                        if (!got.contains(mk)) REQUIRE(mk.starts_with("https://example.org/u1"));
                    }
                    for (const auto& [gk, gv] : got) REQUIRE(model.at(gk) == gv);
                    model = got;
                    REQUIRE_NOTHROW(kv->verify());
                } else {
                    require_model(*kv, model);  // strong, or contents untouched
                }
                if (op == op_kind::save || op == op_kind::open) REQUIRE(dir.names() == files_before);
            } else {
                switch (op) {
                    case op_kind::insert_new: REQUIRE(result); break;
                    case op_kind::insert_below:
                    case op_kind::insert_long_below:
                    case op_kind::assign_below: REQUIRE_FALSE(result); break;
                    case op_kind::erase_below:
                    case op_kind::erase_delta: REQUIRE(erased == 1); break;
                    case op_kind::snapshot: REQUIRE(result); break;
                    case op_kind::erase_prefix: REQUIRE(erased == model.size() - after.size()); break;
                    default: break;
                }
                model = after;
                require_model(*kv, model);
                if (op == op_kind::save) require_model(KV::open(ckpt, opt), model);
                if (opened) require_model(*opened, model);
            }
            opened.reset();
            keep_working(kv, model, opt, dir, !r.fired);
            if (!r.fired) break;
        }
    }
    CHECK(failures > 0);
}

TEST_CASE("HybridKV: a background flush or merge that runs out of memory is counted and changes nothing",
          "[hybrid][alloc][threads]") {
    // The k-th allocation of the background threads fails (scope
    // other_threads: this thread's writes are not counted) while the writes
    // below trigger one flush, which makes three level-0 runs, which the
    // merger merges (run_fanout 3), and a gate is built. A failed flush is retried (the deltas are
    // still over the trigger); a failed merge waits for the next flush.
    KV::options opt = store_options(true);
    opt.run_fanout = 3;
    // The gate's build too (it starts at open: three runs): its failures
    // are absorbed (the build is dropped and tried again), and the model
    // below must still hold.
    opt.gate_bits_per_key = 8;
    std::size_t failed_total = 0;
    std::size_t absorbed = 0;
    std::uint64_t attempts = 0;
    for (std::uint64_t k = 0;; k = store_next_k(k, af::sweep::sampled), ++attempts) {
        Map model = seed().model;
        KV::options quick = opt;
        quick.verify_on_open = false;
        auto kv = std::make_unique<KV>(KV::open(seed().path, quick));
        const memkv::hybrid_stats before = kv->stats();
        REQUIRE(before.runs == 3);
        af::arm(k, af::scope::other_threads);
        for (std::uint64_t i = 0; i < flush_keys - 40; ++i) {
            kv->insert(key(20'000 + i), i);
            model.emplace(key(20'000 + i), i);
        }
        // A failed merge waits for the next flush to be tried again: done
        // when the flush succeeded and the merge did, or something failed.
        wait_until("the flush and the run merge", [&] {
            const memkv::hybrid_stats s = kv->stats();
            return s.flushes > before.flushes &&
                   (s.run_merges > before.run_merges || s.failed_compactions > before.failed_compactions) &&
                   !kv->compaction_running();
        });
        const bool fired = af::disarm();
        const memkv::hybrid_stats s = kv->stats();
        const std::uint64_t failed = s.failed_compactions - before.failed_compactions;
        INFO("failing background allocation " << k << ": fired " << fired << ", failed compactions " << failed);
        REQUIRE(failed <= (fired ? 1U : 0U));
        if (fired) (failed == 1 ? failed_total : absorbed) += 1;
        require_model(*kv, model);
        // Whatever failed left nothing claimed or half done: compact()
        // waits for the merges in flight and for their runs' claims (a
        // failure between claiming runs and merging them once kept the
        // claims, and compact() then waited forever).
        kv->compact();
        require_model(*kv, model);
        if (!fired) break;
    }
    INFO("attempts " << attempts << ", failed compactions " << failed_total << ", absorbed " << absorbed);
    CHECK(failed_total > 0);
}
