#pragma once

// The body shared by the HybridKV fuzz target (fuzz_hybrid.cpp) and its
// replay unit test (test_hybrid_fuzz.cpp): bytes are decoded into operations
// on a MemKV<std::uint64_t> and a std::map, and every answer is compared.
// Compaction triggers are tiny and background compaction is off, so one input
// always takes the same path through flushes, delta merges and run merges
// (a background thread would make a crash unreproducible). A mismatch throws
// memkv::test::hybrid_mismatch naming the operation; anything else escaping,
// a crash or a sanitizer report is a bug too.
//
// Input: byte 0 picks the options (file-backed runs or not, the triggers),
// then operations follow until the bytes run out: one op byte, a key, and
// whatever the op needs.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <unistd.h>

#include <memkv/hybrid_kv.hpp>

#include "fast_art_ops.hpp"  // byte_reader

namespace memkv::test {

struct hybrid_mismatch : std::logic_error {
    using std::logic_error::logic_error;
};

inline void hy_check(bool ok, const char* what) {
    if (!ok) throw hybrid_mismatch(std::string("HybridKV differs from std::map: ") + what);
}

// A scratch directory per body and process (checkpoints, file-backed runs),
// emptied at the start of every input so inputs stay independent, removed
// at exit.
struct fuzz_scratch {
    std::filesystem::path path;
    explicit fuzz_scratch(const char* what)
        : path(std::filesystem::temp_directory_path() /
               ("memkv_fuzz_" + std::string(what) + "_" + std::to_string(::getpid()))) {
        std::filesystem::create_directories(path);
    }
    ~fuzz_scratch() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    fuzz_scratch(const fuzz_scratch&) = delete;
    fuzz_scratch& operator=(const fuzz_scratch&) = delete;
};

inline void empty_directory(const std::filesystem::path& dir) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) std::filesystem::remove_all(e.path(), ec);
}

using hybrid_model = std::map<std::string, std::uint64_t>;

// The view [b, e) against the model range [mb, me): forward with the
// accessors, then backwards with --it from end() (a hand loop: this body is
// built with clang 14, which cannot instantiate libstdc++ 12's views).
template <class View, class MIt>
void hy_compare_view(const View& v, MIt mb, MIt me, const char* what) {
    auto it = v.begin();
    for (MIt mi = mb; mi != me; ++mi, ++it) {
        hy_check(it != v.end(), what);
        hy_check(it.key() == mi->first && it.value() == mi->second, what);
        const auto e = *it;
        hy_check(e.first == mi->first && e.second == mi->second, what);
    }
    hy_check(it == v.end(), what);
    it = v.end();
    for (MIt mi = me; mi != mb;) {
        --mi;
        --it;
        hy_check(it.key() == mi->first && it.value() == mi->second, what);
    }
    hy_check(it == v.begin(), what);
}

// Every read member of a store or snapshot against the model.
template <class Store>
void hy_compare_all(const Store& s, const hybrid_model& m, const char* what) {
    hy_check(s.size() == m.size() && s.empty() == m.empty(), what);
    hy_compare_view(s.items(), m.begin(), m.end(), what);
    for (const auto& [k, v] : m) hy_check(s.get(k) == v && s.contains(k), what);
}

// The model's keys under prefix p: [lower_bound(p), first key past p).
inline std::pair<hybrid_model::const_iterator, hybrid_model::const_iterator> hy_model_prefix(const hybrid_model& m,
                                                                                            std::string_view p) {
    auto b = m.lower_bound(std::string(p));
    auto e = b;
    while (e != m.end() && std::string_view(e->first).substr(0, p.size()) == p) ++e;
    return {b, e};
}

template <class Store>
void hy_check_get(const Store& s, const hybrid_model& m, const std::string& k, const char* what) {
    const auto it = m.find(k);
    const bool present = it != m.end();
    const std::uint64_t want = present ? it->second : 0;
    const std::optional<std::uint64_t> got = s.get(k);
    hy_check(got.has_value() == present && (!present || *got == want), what);
    hy_check(s.contains(k) == present && s.count(k) == (present ? 1U : 0U), what);
    bool threw = false;
    try {
        hy_check(s.at(k) == want, what);
    } catch (const std::out_of_range&) {
        threw = true;
    }
    hy_check(threw == !present, what);
}

template <class Store>
void hy_check_longest_prefix(const Store& s, const hybrid_model& m, const std::string& k) {
    std::optional<std::pair<std::string, std::uint64_t>> want;
    for (std::size_t n = k.size() + 1; n-- > 0;) {
        const auto it = m.find(k.substr(0, n));
        if (it != m.end()) {
            want.emplace(it->first, it->second);
            break;
        }
    }
    hy_check(s.longest_prefix(k) == want, "longest_prefix");
}

// Decodes and runs operations until the bytes run out.
inline void run_hybrid_ops(const std::uint8_t* data, std::size_t size) {
    using KV = HybridKV<std::uint64_t>;
    byte_reader in(data, size);
    static const fuzz_scratch scratch("hybrid");
    const std::filesystem::path& dir = scratch.path;
    empty_directory(dir);
    const std::string ckpt = (dir / "ckpt.mkv").string();

    const std::uint8_t setup = in.byte();
    hybrid_options opt;
    opt.background_compaction = false;
    opt.compaction_bytes = 0;
    // Flushes every 4 to 64 writes: runs and merges within a short input,
    // yet not a FrozenLayer build per write (the Debug+ASan replay pays
    // milliseconds for each).
    opt.compaction_keys = 4 + (setup & 0x0FU) * 4;
    opt.max_sealed_deltas = 2;                 // scans merge sealed deltas
    opt.run_fanout = 2 + ((setup >> 4) & 1);   // run merges early
    opt.max_runs = 0;                          // acts as run_fanout + 1
    opt.release_memory = false;
    if (setup & 0x80) opt.directory = (dir / "runs").string();

    std::optional<KV> kv(std::in_place, opt);
    hybrid_model m;
    std::vector<std::pair<KV::snapshot_type, hybrid_model>> snaps;
    std::vector<std::string> seen;
    std::uint64_t counter = 0;

    auto next_key = [&]() -> std::string {
        const std::uint8_t mode = in.byte();
        std::string k;
        if ((mode & 0xC0) != 0 && !seen.empty()) {
            // An earlier key, cut and/or extended: hits, prefixes, neighbours.
            const std::string& base = seen[in.byte() % seen.size()];
            k = base.substr(0, (mode & 0x80) ? base.size() : in.byte() % (base.size() + 1));
            k += in.bytes(mode & 0x03);
        } else {
            k = in.bytes(mode & 0x07);
        }
        if (seen.size() < 32) {
            seen.push_back(k);
        } else {
            seen[counter % seen.size()] = k;
        }
        return k;
    };

    while (!in.done()) {
        const std::uint8_t op = in.byte() % 20;
        const std::string k = next_key();
        ++counter;
        switch (op) {
            case 0:
            case 1:
            case 2: {
                const bool fresh = m.insert({k, counter}).second;
                hy_check(kv->insert(k, counter) == fresh, "insert");
                break;
            }
            case 3:
            case 4: {
                const bool fresh = m.insert_or_assign(k, counter).second;
                hy_check(kv->insert_or_assign(k, counter) == fresh, "insert_or_assign");
                break;
            }
            case 5:
            case 6:
                hy_check(kv->erase(k) == m.erase(k), "erase");
                break;
            case 7:
                hy_check_get(*kv, m, k, "get/contains/count/at");
                break;
            case 8: {
                const auto [b, e] = hy_model_prefix(m, k);
                hy_compare_view(kv->prefix(k), b, e, "prefix view");
                break;
            }
            case 9: {
                const std::string hi = next_key();
                if (hi <= k) {
                    hy_check(kv->range(k, hi).empty(), "range: empty");
                } else {
                    hy_compare_view(kv->range(k, hi), m.lower_bound(k), m.lower_bound(hi), "range view");
                }
                break;
            }
            case 10:
                hy_compare_view(kv->from(k), m.lower_bound(k), m.end(), "from view");
                break;
            case 11:
                hy_check_longest_prefix(*kv, m, k);
                break;
            case 12: {
                // Rare: it can empty the store.
                if (in.byte() % 4 != 0) break;
                const auto [b, e] = hy_model_prefix(m, k);
                const auto n = static_cast<std::size_t>(std::distance(b, e));
                m.erase(b, e);
                hy_check(kv->erase_prefix(k) == n, "erase_prefix");
                break;
            }
            case 13: {
                // A snapshot now, checked against its model copy later.
                if (snaps.size() < 3) {
                    snaps.emplace_back(kv->snapshot(), m);
                } else {
                    snaps[counter % snaps.size()] = {kv->snapshot(), m};
                }
                break;
            }
            case 14: {
                if (snaps.empty()) break;
                const auto& [snap, sm] = snaps[in.byte() % snaps.size()];
                hy_check(snap.size() == sm.size(), "snapshot: size");
                hy_check_get(snap, sm, k, "snapshot: get");
                const auto [b, e] = hy_model_prefix(sm, k);
                hy_compare_view(snap.prefix(k), b, e, "snapshot: prefix view");
                hy_check_longest_prefix(snap, sm, k);
                break;
            }
            case 15:
                kv->compact();
                break;
            case 16: {
                // Save, drop the store (one store per runs directory), open
                // the checkpoint: the reopened store must be the same.
                kv->save(ckpt);
                if (in.byte() % 2 == 0) {
                    kv.reset();
                    kv.emplace(KV::open(ckpt, opt));
                    hy_compare_all(*kv, m, "reopened store");
                } else {
                    // Or keep writing the saved store and check a reader
                    // of the checkpoint beside it (in-memory runs only).
                    hybrid_options ro = opt;
                    ro.directory.clear();
                    const KV back = KV::open(ckpt, ro);
                    back.verify();
                    hy_compare_all(back, m, "store opened beside its writer");
                }
                break;
            }
            case 17:
                kv->verify();
                break;
            case 18: {
                // A moved-from store is empty, keeps its options and works;
                // moving back restores the contents.
                KV other(std::move(*kv));
                hy_check(kv->size() == 0 && !kv->get(k) && kv->items().empty(), "moved-from store");
                *kv = std::move(other);
                break;
            }
            default:
                hy_compare_all(*kv, m, "full comparison");
                break;
        }
        hy_check(kv->size() == m.size(), "size after operation");
    }
    kv->verify();
    hy_compare_all(*kv, m, "at the end");
    for (const auto& [snap, sm] : snaps) {
        snap.verify();
        hy_compare_all(snap, sm, "snapshot at the end");
    }
    kv->compact();
    hy_compare_all(*kv, m, "after the final compact()");
    snaps.clear();
    kv.reset();
    empty_directory(dir);
}

}  // namespace memkv::test
