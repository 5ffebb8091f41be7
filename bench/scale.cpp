// memkv-scale: FrozenLayer and HybridKV on N generated URL-like keys
// (bench/keygen.hpp), for key counts no file we keep can reach.
//
//   memkv-scale --keys N [--structures frozen,hybrid] [--dir DIR] [--json FILE]
//               [--lookups 1000000] [--misses 1000000] [--seed S] [--gate-bits B]
//               [--random-access 0|1]
//   memkv-scale --describe --keys N [--seed S]
//   memkv-scale --calibrate FILE [--keys 2000000] [--seed S]
//   memkv-scale --print-keys --keys N [--seed S] > FILE
//
// The first form runs each structure in turn, in this process:
//
//   frozen  streams the N keys in byte order into FrozenLayerBuilder<uint64_t>(DIR/frozen.frz),
//           opens the file (FrozenLayer::open), then does --lookups random lookups
//           (each checked for the right value) and --misses lookups of absent keys
//           (each checked absent).
//   hybrid  inserts the N keys in pseudo-random order (url_keygen::shuffled_index)
//           into one MemKV<uint64_t> with default options and background
//           compaction (with --dir: hybrid_options::directory = DIR/hybrid-runs;
//           with --gate-bits: hybrid_options::gate_bits_per_key = B, 0 for no gate;
//           with --random-access: hybrid_options::random_access_runs),
//           then the same checked lookups and misses, waits for background
//           compaction to go idle, saves a checkpoint (DIR/ckpt.mkv), destroys the
//           store, opens the checkpoint and checks 10,000 lookups there.
//
// The value of the key of rank i is value_of(i) = i * 0x9E3779B97F4A7C15 (mod
// 2^64): a full-width, non-ordinal value, so FrozenLayer stores 8 bytes per key
// in its value column (an ordinal value would cost it nothing) and a value
// read from the wrong key is caught.
//
// Without --dir, files go to a fresh mkdtemp directory under /tmp that is
// removed at the end; with --dir they stay there. Timings exclude key
// generation: keys are generated in batches of 4096 outside the timed calls
// (insert_mops_by_tenth, lookup_mops, miss_mops); build_s is the wall clock of
// the whole build, generation and FrozenLayerBuilder::finish included.
//
// Memory: before each structure /proc/self/clear_refs gets "5", which resets
// VmHWM to the current RSS, so peak_rss_bytes is that structure's peak
// (peak_rss_reset says whether the reset worked; when it did not, the figure
// is the process's peak so far, and rss_at_start_bytes, VmRSS when the
// structure began, gives the baseline to subtract). A sampler thread reads
// RssAnon every 50 ms: peak_anon_rss_bytes (file-backed pages, e.g. a mapped
// FrozenLayer, are not anonymous).
//
// JSON: an array with one object per structure: structure, keys, build_s,
// build_keys_per_s, insert_mops_by_tenth (Mops/s of each tenth of the
// inserts, the timed calls only), insert_busy_by_tenth (the inserting
// thread's CPU time / wall time in those calls: below 1 it waited; hybrid
// adds runs_by_tenth, backpressure_waits_by_tenth, run_merges_by_tenth,
// flushes_by_tenth, writer_seals_by_tenth, gate_builds_by_tenth,
// gate_mib_by_tenth (stats().gate_bytes) and trigger_mib_by_tenth (the
// flush trigger, MiB), stats() at the end of each tenth), peak_rss_bytes, peak_rss_reset,
// rss_at_start_bytes, peak_anon_rss_bytes, bytes_per_key (frozen: file bytes /
// N; hybrid: memory_usage() / N right after the inserts), file_bytes (frozen:
// the file; hybrid: the checkpoint's manifest + base file),
// write_amplification (hybrid: stats().bytes_written / stats().base_bytes
// once compaction is idle; null when the engine reports no bytes written, as
// the pre-v2 engine does, and for frozen), lookup_mops, miss_mops, save_s,
// open_s (null where not applicable), keygen_s (key generation inside the
// build), verified. hybrid adds settle_s (until the last compaction ended,
// once none ran for 5 s),
// settled_bytes_per_key (memory_usage() / N then), reopened_lookup_mops and
// stats() after the inserts and once settled.
//
// Progress goes to stderr: a line redrawn in place on a terminal, otherwise a
// plain line every 10 s (for nohup logs). A table goes to stdout, JSON to
// --json. Exit status: 0 when every answer was right, 1 on any wrong answer,
// 2 on a usage error or an exception.
//
// --describe prints the distribution of the generated keys (lengths, hosts,
// keys per owner, ...) and checks the order: every consecutive pair of the N
// keys, and 1M random pairs over the whole range of N and of 4e9 keys.
// --calibrate compares FastArt's and FrozenLayer's bytes/key on a file of keys
// (one per line) and on N generated keys (bench/RESULTS.md).
// --print-keys writes the N keys to stdout, one per line, in the same
// pseudo-random order the hybrid run inserts them: an unsorted key file of any
// size for `memkv build` (the external sort) without storing one.

#include <memkv/fast_art.hpp>
#include <memkv/frozen_builder.hpp>
#include <memkv/frozen_layer.hpp>
#include <memkv/hybrid_kv.hpp>

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "dataset.hpp"
#include "keygen.hpp"

namespace {

using memkv::bench::url_keygen;
using clock_type = std::chrono::steady_clock;

constexpr std::uint64_t value_of(std::uint64_t i) noexcept { return i * 0x9E3779B97F4A7C15ULL; }

double seconds_since(clock_type::time_point t0) {
    return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// ---- /proc/self/status -------------------------------------------------------

std::uint64_t status_kib(const char* field) {
    std::ifstream s("/proc/self/status");
    const std::size_t len = std::strlen(field);
    for (std::string line; std::getline(s, line);) {
        if (line.compare(0, len, field) == 0 && line.size() > len && line[len] == ':') {
            return std::strtoull(line.c_str() + len + 1, nullptr, 10);
        }
    }
    return 0;
}

bool reset_peak_rss() {
    std::FILE* f = std::fopen("/proc/self/clear_refs", "w");
    if (f == nullptr) return false;
    const bool ok = std::fputs("5", f) >= 0;
    return std::fclose(f) == 0 && ok;
}

// Samples RssAnon every 50 ms and keeps the maximum since the last reset().
class anon_sampler {
public:
    anon_sampler() : thread_([this] { run(); }) {}
    ~anon_sampler() {
        {
            std::lock_guard lock(m_);
            stop_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }
    void reset() { peak_.store(status_kib("RssAnon"), std::memory_order_relaxed); }
    std::uint64_t peak_bytes() {
        sample();
        return peak_.load(std::memory_order_relaxed) * 1024;
    }

private:
    void sample() {
        const std::uint64_t v = status_kib("RssAnon");
        std::uint64_t cur = peak_.load(std::memory_order_relaxed);
        while (v > cur && !peak_.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
        }
    }
    void run() {
        std::unique_lock lock(m_);
        while (!stop_) {
            lock.unlock();
            sample();
            lock.lock();
            cv_.wait_for(lock, std::chrono::milliseconds(50), [this] { return stop_; });
        }
    }
    std::atomic<std::uint64_t> peak_{0};
    std::mutex m_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::thread thread_;
};

// ---- progress ----------------------------------------------------------------

// On a terminal: one line redrawn (at most 5 times a second) with keys done,
// rate and ETA. Otherwise a plain line every 10 s, so nohup logs show progress.
class progress_line {
public:
    progress_line(std::string label, std::uint64_t total)
        : label_(std::move(label)), total_(total), tty_(::isatty(STDERR_FILENO) == 1), t0_(clock_type::now()),
          last_(t0_) {}
    void update(std::uint64_t done) {
        const auto now = clock_type::now();
        const double since = std::chrono::duration<double>(now - last_).count();
        if (since < (tty_ ? 0.2 : 10.0)) return;
        last_ = now;
        draw(done, false);
    }
    void finish(std::uint64_t done) { draw(done, true); }

private:
    void draw(std::uint64_t done, bool last) {
        const double el = seconds_since(t0_);
        const double rate = el > 0 ? static_cast<double>(done) / el : 0;
        const double eta = rate > 0 ? static_cast<double>(total_ - std::min(done, total_)) / rate : 0;
        char line[256];
        std::snprintf(line, sizeof line, "%s: %llu/%llu keys (%.1f%%), %.0f keys/s, %s %.0f s", label_.c_str(),
                      static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_),
                      total_ ? 100.0 * static_cast<double>(done) / static_cast<double>(total_) : 100.0, rate,
                      last ? "took" : "ETA", last ? el : eta);
        if (tty_) {
            std::fprintf(stderr, "\r\033[K%s%s", line, last ? "\n" : "");
        } else {
            std::fprintf(stderr, "%s\n", line);
        }
        std::fflush(stderr);
    }
    std::string label_;
    std::uint64_t total_;
    bool tty_;
    clock_type::time_point t0_, last_;
};

// ---- key batches -------------------------------------------------------------

// Keys generated ahead of the timed calls: one buffer, offsets into it.
class key_batch {
public:
    static constexpr std::size_t capacity = 4096;
    void clear() {
        bytes_.clear();
        ends_.clear();
        ids_.clear();
    }
    void add(const std::string& key, std::uint64_t id) {
        bytes_ += key;
        ends_.push_back(bytes_.size());
        ids_.push_back(id);
    }
    std::size_t size() const { return ends_.size(); }
    std::string_view key(std::size_t k) const {
        const std::size_t b = k == 0 ? 0 : ends_[k - 1];
        return std::string_view(bytes_).substr(b, ends_[k] - b);
    }
    std::uint64_t id(std::size_t k) const { return ids_[k]; }

private:
    std::string bytes_;
    std::vector<std::size_t> ends_;
    std::vector<std::uint64_t> ids_;
};

// ---- results -----------------------------------------------------------------

struct result {
    std::string structure;
    std::uint64_t keys = 0;
    double build_s = 0;
    double keygen_s = 0;
    std::vector<double> tenths;
    // The inserting thread's CPU time over its timed calls' wall time, per
    // tenth: below 1 it waited (a lock, backpressure) or was preempted.
    std::vector<double> tenth_busy;
    std::string tenth_notes;  // per-tenth JSON members, already formatted
    std::uint64_t peak_rss = 0;
    bool peak_rss_reset = false;
    std::uint64_t rss_at_start = 0;
    std::uint64_t peak_anon = 0;
    double bytes_per_key = 0;
    std::optional<std::uint64_t> file_bytes;
    std::optional<double> write_amp;
    double lookup_mops = 0;
    double miss_mops = 0;
    std::optional<double> save_s, open_s;
    bool verified = true;
    std::uint64_t wrong = 0;
    std::string notes;  // extra JSON members, already formatted (", \"a\": 1")
};

std::string json_number(std::optional<double> v) {
    if (!v || !std::isfinite(*v)) return "null";
    char b[64];
    std::snprintf(b, sizeof b, "%.6g", *v);
    return b;
}

std::string to_json(const result& r) {
    std::string s = "  {\"structure\": \"" + r.structure + "\", \"keys\": " + std::to_string(r.keys);
    s += ", \"build_s\": " + json_number(r.build_s);
    s += ", \"build_keys_per_s\": " + json_number(r.build_s > 0 ? static_cast<double>(r.keys) / r.build_s : 0.0);
    s += ", \"insert_mops_by_tenth\": [";
    for (std::size_t k = 0; k < r.tenths.size(); ++k) s += (k ? ", " : "") + json_number(r.tenths[k]);
    s += "], \"insert_busy_by_tenth\": [";
    for (std::size_t k = 0; k < r.tenth_busy.size(); ++k) s += (k ? ", " : "") + json_number(r.tenth_busy[k]);
    s += "]" + r.tenth_notes;
    s += ", \"peak_rss_bytes\": " + std::to_string(r.peak_rss);
    s += ", \"peak_rss_reset\": " + std::string(r.peak_rss_reset ? "true" : "false");
    s += ", \"rss_at_start_bytes\": " + std::to_string(r.rss_at_start);
    s += ", \"peak_anon_rss_bytes\": " + std::to_string(r.peak_anon);
    s += ", \"bytes_per_key\": " + json_number(r.bytes_per_key);
    s += ", \"file_bytes\": " + (r.file_bytes ? std::to_string(*r.file_bytes) : std::string("null"));
    s += ", \"write_amplification\": " + json_number(r.write_amp);
    s += ", \"lookup_mops\": " + json_number(r.lookup_mops);
    s += ", \"miss_mops\": " + json_number(r.miss_mops);
    s += ", \"save_s\": " + json_number(r.save_s);
    s += ", \"open_s\": " + json_number(r.open_s);
    s += ", \"keygen_s\": " + json_number(r.keygen_s);
    s += ", \"verified\": " + std::string(r.verified ? "true" : "false");
    s += r.notes + "}";
    return s;
}

// ---- shared phases -------------------------------------------------------------

struct run_options {
    std::uint64_t keys = 0;
    std::uint64_t lookups = 1000000;
    std::uint64_t misses = 1000000;
    std::uint64_t seed = 0;
    std::optional<std::size_t> gate_bits;  // hybrid_options::gate_bits_per_key, when given
    std::optional<bool> random_access;     // hybrid_options::random_access_runs, when given
};

// Times `check` over `count` keys drawn at random from [0, N), each made by
// make_key(i, key); check(key, i) returns whether the answer was wrong. Wrong
// answers count into r (the first batch with one is reported as `what`).
// Returns Mops/s of the checks alone (key generation is outside the timing).
template <class MakeKey, class Check>
double timed_checks(const url_keygen& g, std::uint64_t count, std::uint64_t seed, MakeKey&& make_key, Check&& check,
                    result& r, const char* label, const char* what) {
    memkv::bench::Rng rng(seed);
    key_batch batch;
    std::string key;
    double timed = 0;
    progress_line p(label, count);
    for (std::uint64_t done = 0; done < count;) {
        batch.clear();
        while (batch.size() < key_batch::capacity && done + batch.size() < count) {
            const std::uint64_t i = rng.below(g.size());
            make_key(i, key);
            batch.add(key, i);
        }
        const auto t0 = clock_type::now();
        std::uint64_t wrong = 0;
        for (std::size_t k = 0; k < batch.size(); ++k) wrong += check(batch.key(k), batch.id(k)) ? 1U : 0U;
        timed += seconds_since(t0);
        if (wrong != 0 && r.wrong == 0) {
            std::fprintf(stderr, "\nmemkv-scale: %s: %s (in the batch at %llu)\n", r.structure.c_str(), what,
                         static_cast<unsigned long long>(done));
        }
        r.wrong += wrong;
        done += batch.size();
        p.update(done);
    }
    p.finish(count);
    return timed > 0 ? static_cast<double>(count) / timed / 1e6 : 0;
}

// Checked lookups of random present keys: get(key) must give value_of(i).
template <class Get>
double checked_lookups(const url_keygen& g, std::uint64_t count, std::uint64_t seed, Get&& get, result& r,
                       const char* label) {
    return timed_checks(
        g, count, seed, [&](std::uint64_t i, std::string& key) { g.sorted(i, key); },
        [&](std::string_view key, std::uint64_t i) {
            const std::optional<std::uint64_t> v = get(key);
            return !v || *v != value_of(i);
        },
        r, label, "wrong value for a present key");
}

// Checked misses: contains(key) must be false for every generated miss.
template <class Contains>
double checked_misses(const url_keygen& g, std::uint64_t count, std::uint64_t seed, Contains&& contains, result& r,
                      const char* label) {
    return timed_checks(
        g, count, seed, [&](std::uint64_t i, std::string& key) { g.miss(i, key); },
        [&](std::string_view key, std::uint64_t) { return contains(key); }, r, label, "an absent key was found");
}

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Feeds all N keys, in batches, to insert(key, value); fills build timing.
// on_tenth(k) runs after the last insert of tenth k (untimed).
template <class Order, class Insert, class OnTenth = void (*)(std::size_t)>
void timed_build(const url_keygen& g, Order&& rank_of, Insert&& insert, result& r, const char* label,
                 OnTenth&& on_tenth = [](std::size_t) {}) {
    const std::uint64_t n = g.size();
    std::vector<double> tenth_cpu(10, 0.0);
    key_batch batch;
    std::string key;
    std::vector<double> tenth_s(10, 0.0);
    std::vector<std::uint64_t> tenth_keys(10, 0);
    double gen = 0;
    progress_line p(label, n);
    for (std::uint64_t done = 0; done < n;) {
        const auto g0 = clock_type::now();
        batch.clear();
        // A batch never straddles a tenth, so each tenth's rate is its own.
        const std::uint64_t tenth = done * 10 / n;
        const std::uint64_t tenth_end = (tenth + 1) * n / 10;
        while (batch.size() < key_batch::capacity && done + batch.size() < tenth_end) {
            const std::uint64_t i = rank_of(done + batch.size());
            g.sorted(i, key);
            batch.add(key, i);
        }
        const auto t0 = clock_type::now();
        gen += std::chrono::duration<double>(t0 - g0).count();
        const double c0 = thread_cpu_seconds();
        for (std::size_t k = 0; k < batch.size(); ++k) insert(batch.key(k), value_of(batch.id(k)));
        tenth_s[tenth] += seconds_since(t0);
        tenth_cpu[tenth] += thread_cpu_seconds() - c0;
        tenth_keys[tenth] += batch.size();
        done += batch.size();
        p.update(done);
        if (done == tenth_end) on_tenth(static_cast<std::size_t>(tenth));
    }
    p.finish(n);
    r.keygen_s = gen;
    r.tenths.clear();
    for (std::size_t k = 0; k < 10; ++k) {
        r.tenths.push_back(tenth_s[k] > 0 ? static_cast<double>(tenth_keys[k]) / tenth_s[k] / 1e6 : 0.0);
        r.tenth_busy.push_back(tenth_s[k] > 0 ? tenth_cpu[k] / tenth_s[k] : 0.0);
    }
}

std::uint64_t file_size_or_zero(const std::filesystem::path& p) {
    std::error_code ec;
    const auto s = std::filesystem::file_size(p, ec);
    return ec ? 0 : static_cast<std::uint64_t>(s);
}

// ---- frozen ---------------------------------------------------------------------

result run_frozen(const url_keygen& g, const run_options& o, const std::string& dir, anon_sampler& sampler) {
    result r;
    r.structure = "frozen";
    r.keys = g.size();
    r.rss_at_start = status_kib("VmRSS") * 1024;
    r.peak_rss_reset = reset_peak_rss();
    sampler.reset();
    const std::string path = dir + "/frozen.frz";
    const auto t0 = clock_type::now();
    {
        memkv::FrozenLayerBuilder<std::uint64_t> builder(path);
        timed_build(
            g, [](std::uint64_t k) { return k; },
            [&](std::string_view k, std::uint64_t v) { builder.insert(k, v); }, r, "frozen build");
        std::fprintf(stderr, "frozen: finish()...\n");
        (void)builder.finish();
    }
    r.build_s = seconds_since(t0);
    r.file_bytes = file_size_or_zero(path);
    r.bytes_per_key = r.keys ? static_cast<double>(*r.file_bytes) / static_cast<double>(r.keys) : 0;

    const auto o0 = clock_type::now();
    const auto layer = memkv::FrozenLayer<std::uint64_t>::open(path);
    r.open_s = seconds_since(o0);
    if (layer.size() != g.size()) {
        std::fprintf(stderr, "memkv-scale: frozen: size() %zu, expected %llu\n", static_cast<std::size_t>(layer.size()),
                     static_cast<unsigned long long>(g.size()));
        ++r.wrong;
    }
    if (g.size() > 0) {
        r.lookup_mops = checked_lookups(
            g, o.lookups, o.seed + 11, [&](std::string_view k) { return layer.get(k); }, r, "frozen lookups");
        r.miss_mops = checked_misses(
            g, o.misses, o.seed + 12, [&](std::string_view k) { return layer.contains(k); }, r, "frozen misses");
    }
    r.peak_rss = status_kib("VmHWM") * 1024;
    r.peak_anon = sampler.peak_bytes();
    r.verified = r.wrong == 0;
    return r;
}

// ---- hybrid ---------------------------------------------------------------------

result run_hybrid(const url_keygen& g, const run_options& o, const std::string& dir, bool user_dir,
                  anon_sampler& sampler) {
    using kv_type = memkv::MemKV<std::uint64_t>;
    result r;
    r.structure = "hybrid";
    r.keys = g.size();
    r.rss_at_start = status_kib("VmRSS") * 1024;
    r.peak_rss_reset = reset_peak_rss();
    sampler.reset();
    memkv::hybrid_options opt;
    if (user_dir) opt.directory = dir + "/hybrid-runs";
    if (o.gate_bits) opt.gate_bits_per_key = *o.gate_bits;
    if (o.random_access) opt.random_access_runs = *o.random_access;

    auto kv = std::make_unique<kv_type>(opt);
    const auto t0 = clock_type::now();
    // The store's shape at the end of each tenth: what the writer probes, and
    // how often it waited for a flush.
    std::vector<memkv::hybrid_stats> at_tenth;
    timed_build(
        g, [&](std::uint64_t j) { return g.shuffled_index(j); },
        [&](std::string_view k, std::uint64_t v) { kv->insert(k, v); }, r, "hybrid inserts",
        [&](std::size_t) { at_tenth.push_back(kv->stats()); });
    {
        auto series = [&](const char* name, auto field) {
            std::string s = std::string(", \"") + name + "\": [";
            for (std::size_t k = 0; k < at_tenth.size(); ++k) s += (k ? ", " : "") + std::to_string(field(at_tenth[k]));
            return s + "]";
        };
        r.tenth_notes += series("runs_by_tenth", [](const memkv::hybrid_stats& s) { return s.runs; });
        r.tenth_notes += series("backpressure_waits_by_tenth",
                                [](const memkv::hybrid_stats& s) { return s.backpressure_waits; });
        r.tenth_notes += series("run_merges_by_tenth", [](const memkv::hybrid_stats& s) { return s.run_merges; });
        r.tenth_notes += series("flushes_by_tenth", [](const memkv::hybrid_stats& s) { return s.flushes; });
        r.tenth_notes += series("writer_seals_by_tenth", [](const memkv::hybrid_stats& s) { return s.writer_seals; });
        r.tenth_notes += series("gate_builds_by_tenth", [](const memkv::hybrid_stats& s) { return s.gate_builds; });
        r.tenth_notes += series("gate_mib_by_tenth", [](const memkv::hybrid_stats& s) { return s.gate_bytes >> 20; });
        r.tenth_notes += series("trigger_mib_by_tenth",
                                [](const memkv::hybrid_stats& s) { return s.compaction_trigger_bytes >> 20; });
    }
    r.build_s = seconds_since(t0);
    r.bytes_per_key = r.keys ? static_cast<double>(kv->memory_usage()) / static_cast<double>(r.keys) : 0;
    const memkv::hybrid_stats after_inserts = kv->stats();
    if (kv->size() != g.size()) {
        std::fprintf(stderr, "memkv-scale: hybrid: size() %zu, expected %llu\n", static_cast<std::size_t>(kv->size()),
                     static_cast<unsigned long long>(g.size()));
        ++r.wrong;
    }
    if (g.size() > 0) {
        r.lookup_mops = checked_lookups(
            g, o.lookups, o.seed + 21, [&](std::string_view k) { return kv->get(k); }, r, "hybrid lookups");
        r.miss_mops = checked_misses(
            g, o.misses, o.seed + 22, [&](std::string_view k) { return kv->contains(k); }, r, "hybrid misses");
    }

    // Let background compaction finish, so the final stats are final:
    // settled = no compaction for 5 s, longer than the flusher waits before
    // it takes the deltas of a store whose writes paused (an idle flush).
    const auto s0 = clock_type::now();
    auto last_busy = s0;
    for (auto now = s0; now - last_busy < std::chrono::milliseconds(5000); now = clock_type::now()) {
        if (kv->compaction_running()) last_busy = now;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const double settle_s = std::chrono::duration<double>(last_busy - s0).count();
    const memkv::hybrid_stats st = kv->stats();
    const double settled_bytes_per_key =
        r.keys ? static_cast<double>(kv->memory_usage()) / static_cast<double>(r.keys) : 0;
    if (st.bytes_written > 0 && st.run_bytes > 0) {
        r.write_amp = static_cast<double>(st.bytes_written) / static_cast<double>(st.run_bytes);
    }

    const std::string ckpt = dir + "/ckpt.mkv";
    const auto w0 = clock_type::now();
    kv->save(ckpt);
    r.save_s = seconds_since(w0);
    std::uint64_t ckpt_bytes = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        const std::string name = e.path().filename().string();
        if (name == "ckpt.mkv" || ((name.starts_with("ckpt.mkv.run.") || name.starts_with("ckpt.mkv.base.")) && !name.ends_with(".tmp"))) {
            ckpt_bytes += file_size_or_zero(e.path());
        }
    }
    r.file_bytes = ckpt_bytes;
    kv.reset();

    const auto o0 = clock_type::now();
    memkv::hybrid_options reopen;
    if (o.random_access) reopen.random_access_runs = *o.random_access;
    kv = std::make_unique<kv_type>(kv_type::open(ckpt, reopen));
    r.open_s = seconds_since(o0);
    if (kv->size() != g.size()) {
        std::fprintf(stderr, "memkv-scale: hybrid: reopened size() %zu, expected %llu\n",
                     static_cast<std::size_t>(kv->size()), static_cast<unsigned long long>(g.size()));
        ++r.wrong;
    }
    double reopened_mops = 0;
    if (g.size() > 0) {
        reopened_mops = checked_lookups(
            g, std::min<std::uint64_t>(10000, o.lookups), o.seed + 23, [&](std::string_view k) { return kv->get(k); },
            r, "hybrid reopened lookups");
    }
    kv.reset();

    r.peak_rss = status_kib("VmHWM") * 1024;
    r.peak_anon = sampler.peak_bytes();
    r.verified = r.wrong == 0;
    char notes[1024];
    std::snprintf(notes, sizeof notes,
                  ", \"settle_s\": %.3f, \"settled_bytes_per_key\": %.4g, \"reopened_lookup_mops\": %.4g, \"after_inserts\": {\"delta_keys\": %zu, "
                  "\"base_keys\": %zu, \"runs\": %zu, \"compactions\": %llu}, \"final\": {\"delta_keys\": %zu, "
                  "\"base_keys\": %zu, \"base_bytes\": %zu, \"runs\": %zu, \"compactions\": %llu, "
                  "\"bytes_written\": %llu}",
                  settle_s, settled_bytes_per_key, reopened_mops, after_inserts.delta_keys, after_inserts.base_keys, after_inserts.runs,
                  static_cast<unsigned long long>(after_inserts.compactions), st.delta_keys, st.base_keys,
                  st.base_bytes, st.runs, static_cast<unsigned long long>(st.compactions),
                  static_cast<unsigned long long>(st.bytes_written));
    r.notes = notes;
    return r;
}

// ---- --describe -------------------------------------------------------------------

// Distribution figures of a key sequence in byte order (for the generator and,
// with --calibrate, for a file).
struct key_stats {
    std::uint64_t keys = 0, bytes = 0, lcp = 0;
    std::map<std::size_t, std::uint64_t> lengths;
    std::map<std::string, std::uint64_t> hosts;
    std::map<std::uint64_t, std::uint64_t> owner_sizes;  // keys of an owner -> owners
    std::uint64_t owner_bytes = 0, repo_bytes = 0, owners_with_digits = 0, owners_with_upper = 0;
    std::uint64_t repos_with_dash = 0, deep_paths = 0;
    std::string prev_owner_prefix;
    std::uint64_t run = 0;
    std::string prev;

    void add(std::string_view k) {
        ++keys;
        bytes += k.size();
        ++lengths[k.size()];
        std::size_t l = 0;
        while (l < k.size() && l < prev.size() && k[l] == prev[l]) ++l;
        lcp += l;
        prev.assign(k);
        // scheme://host/owner/repo...
        const std::size_t host_begin = k.find("//");
        const std::size_t host_end = host_begin == std::string_view::npos ? k.size() : k.find('/', host_begin + 2);
        if (host_end == std::string_view::npos) {
            ++hosts[std::string(k.substr(host_begin == std::string_view::npos ? 0 : host_begin + 2))];
            close_owner("");
            return;
        }
        ++hosts[std::string(k.substr(host_begin + 2, host_end - host_begin - 2))];
        const std::size_t owner_end = k.find('/', host_end + 1);
        const std::string_view owner = k.substr(host_end + 1, owner_end == std::string_view::npos
                                                                  ? std::string_view::npos
                                                                  : owner_end - host_end - 1);
        const std::string_view repo = owner_end == std::string_view::npos ? std::string_view() : k.substr(owner_end + 1);
        if (repo.find('/') != std::string_view::npos) ++deep_paths;
        const std::string_view prefix = k.substr(0, host_end + 1 + owner.size());
        if (prefix != prev_owner_prefix) {
            close_owner(prefix);
            owner_bytes += owner.size();
            owners_with_digits += owner.find_first_of("0123456789") != std::string_view::npos;
            owners_with_upper += std::any_of(owner.begin(), owner.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
        }
        ++run;
        repo_bytes += repo.size();
        repos_with_dash += repo.find('-') != std::string_view::npos;
    }
    void close_owner(std::string_view next) {
        if (run > 0) ++owner_sizes[run];
        run = 0;
        prev_owner_prefix.assign(next);
    }
    void finish() { close_owner(""); }

    std::uint64_t owners() const {
        std::uint64_t o = 0;
        for (const auto& [size, count] : owner_sizes) o += count;
        return o;
    }
    std::size_t length_quantile(double q) const {
        const auto target = static_cast<std::uint64_t>(q * static_cast<double>(keys));
        std::uint64_t seen = 0;
        for (const auto& [len, count] : lengths) {
            seen += count;
            if (seen > target) return len;
        }
        return lengths.empty() ? 0 : lengths.rbegin()->first;
    }

    void print(const char* title) const {
        const double n = static_cast<double>(keys);
        const double ow = static_cast<double>(owners());
        std::printf("%s: %llu keys, %.2f bytes/key (min %zu, p1 %zu, p10 %zu, p50 %zu, p90 %zu, p99 %zu, max %zu)\n",
                    title, static_cast<unsigned long long>(keys), static_cast<double>(bytes) / n,
                    lengths.empty() ? 0 : lengths.begin()->first, length_quantile(0.01), length_quantile(0.10),
                    length_quantile(0.5), length_quantile(0.9), length_quantile(0.99),
                    lengths.empty() ? 0 : lengths.rbegin()->first);
        std::printf("  length histogram:");
        std::map<std::size_t, std::uint64_t> by10;
        for (const auto& [len, count] : lengths) by10[std::min<std::size_t>(len / 10 * 10, 100)] += count;
        for (const auto& [b, count] : by10) std::printf(" %zu%s:%.1f%%", b, b == 100 ? "+" : "s", 100.0 * static_cast<double>(count) / n);
        std::printf("\n  avg common prefix with the previous key: %.1f bytes; distinct tail %.1f bytes\n",
                    static_cast<double>(lcp) / n, static_cast<double>(bytes - lcp) / n);
        std::printf("  hosts:");
        std::vector<std::pair<std::uint64_t, std::string>> h;
        for (const auto& [name, count] : hosts) h.emplace_back(count, name);
        std::sort(h.rbegin(), h.rend());
        for (std::size_t k = 0; k < h.size() && k < 6; ++k) {
            std::printf(" %s %.2f%%", h[k].second.c_str(), 100.0 * static_cast<double>(h[k].first) / n);
        }
        std::printf("%s\n", h.size() > 6 ? " ..." : "");
        std::printf("  owners: %llu, %.2f keys/owner, owner %.1f bytes, repo %.1f bytes; owners with digits %.1f%%, "
                    "with upper case %.1f%%; repos with '-' %.1f%%; deeper paths %.2f%%\n",
                    static_cast<unsigned long long>(owners()), n / ow, static_cast<double>(owner_bytes) / ow,
                    static_cast<double>(repo_bytes) / n, 100.0 * static_cast<double>(owners_with_digits) / ow,
                    100.0 * static_cast<double>(owners_with_upper) / ow,
                    100.0 * static_cast<double>(repos_with_dash) / n, 100.0 * static_cast<double>(deep_paths) / n);
        std::printf("  keys per owner (share of owners):");
        const std::uint64_t edges[] = {1, 2, 3, 4, 5, 10, 20, 40, ~std::uint64_t{0}};
        for (std::size_t e = 0; e + 1 < std::size(edges); ++e) {
            std::uint64_t c = 0;
            for (const auto& [size, count] : owner_sizes) c += (size >= edges[e] && size < edges[e + 1]) ? count : 0;
            if (edges[e + 1] == edges[e] + 1) {
                std::printf(" %llu:%.1f%%", static_cast<unsigned long long>(edges[e]), 100.0 * static_cast<double>(c) / ow);
            } else {
                std::printf(" %llu+:%.1f%%", static_cast<unsigned long long>(edges[e]), 100.0 * static_cast<double>(c) / ow);
            }
        }
        std::printf(" (largest %llu)\n", owner_sizes.empty() ? 0ULL : static_cast<unsigned long long>(owner_sizes.rbegin()->first));
    }
};

// Random pairs (i, j) across [0, n): sorted(i) < sorted(j) exactly when i < j,
// and consecutive keys at random places. Returns the number of violations.
std::uint64_t check_order(const url_keygen& g, std::uint64_t pairs, std::uint64_t seed) {
    memkv::bench::Rng rng(seed);
    std::string a, b;
    std::uint64_t bad = 0;
    for (std::uint64_t k = 0; k < pairs; ++k) {
        const std::uint64_t i = rng.below(g.size());
        const std::uint64_t j = (k & 1) ? std::min(i + 1, g.size() - 1) : rng.below(g.size());
        g.sorted(i, a);
        g.sorted(j, b);
        const bool ok = i < j ? a < b : i > j ? a > b : a == b;
        if (!ok && bad++ < 5) {
            std::fprintf(stderr, "order violated: %llu '%s' vs %llu '%s'\n", static_cast<unsigned long long>(i),
                         a.c_str(), static_cast<unsigned long long>(j), b.c_str());
        }
    }
    return bad;
}

int describe(const run_options& o) {
    const url_keygen g(o.keys, o.seed);
    key_stats s;
    std::string key, prev, miss;
    std::uint64_t bad = 0;
    progress_line p("describe", o.keys);
    for (std::uint64_t i = 0; i < o.keys; ++i) {
        g.sorted(i, key);
        if (i > 0 && !(prev < key)) {
            if (bad++ < 5) std::fprintf(stderr, "order violated at %llu: '%s' !< '%s'\n", static_cast<unsigned long long>(i), prev.c_str(), key.c_str());
        }
        if (key.find('#') != std::string::npos) ++bad;
        s.add(key);
        prev.swap(key);
        if ((i & 0xFFFF) == 0) p.update(i);
    }
    p.finish(o.keys);
    s.finish();
    char title[128];
    std::snprintf(title, sizeof title, "url_keygen(%llu, seed %llu)", static_cast<unsigned long long>(o.keys),
                  static_cast<unsigned long long>(o.seed));
    s.print(title);
    std::printf("  owner digits per host:");
    for (std::size_t h = 0; h < url_keygen::host_count; ++h) std::printf(" %u", g.owner_digits(h));
    std::printf("\n  examples:");
    memkv::bench::Rng rng(o.seed + 5);
    for (int k = 0; k < 8 && o.keys > 0; ++k) std::printf(" %s", g.sorted(rng.below(o.keys)).c_str());
    std::printf("\n");
    std::printf("order: %llu consecutive pairs checked, %llu violations\n",
                static_cast<unsigned long long>(o.keys ? o.keys - 1 : 0), static_cast<unsigned long long>(bad));
    if (o.keys > 1) {
        const std::uint64_t b1 = check_order(g, 1000000, o.seed + 1);
        std::printf("order: 1M random and adjacent pairs over [0, %llu): %llu violations\n",
                    static_cast<unsigned long long>(o.keys), static_cast<unsigned long long>(b1));
        bad += b1;
    }
    const url_keygen big(4000000000ULL, o.seed);
    const std::uint64_t b2 = check_order(big, 1000000, o.seed + 2);
    std::printf("order: 1M random and adjacent pairs over [0, 4e9): %llu violations\n", static_cast<unsigned long long>(b2));
    bad += b2;
    {
        // 1M consecutive keys of the 4e9 set, from a random start.
        memkv::bench::Rng r2(o.seed + 3);
        const std::uint64_t start = r2.below(big.size() - 1000000);
        std::uint64_t b3 = 0;
        big.sorted(start, prev);
        for (std::uint64_t i = start + 1; i < start + 1000000; ++i) {
            big.sorted(i, key);
            b3 += !(prev < key);
            prev.swap(key);
        }
        std::printf("order: 1M consecutive keys of 4e9 from %llu: %llu violations\n",
                    static_cast<unsigned long long>(start), static_cast<unsigned long long>(b3));
        bad += b3;
        key_stats s4;
        for (std::uint64_t k = 0; k < 200000; ++k) {
            s4.add(big.sorted(r2.below(big.size())));
        }
        s4.finish();
        std::printf("at 4e9 keys (200k random keys; owner figures meaningless for random picks):\n");
        std::printf("  %.2f bytes/key, owner digits per host:", static_cast<double>(s4.bytes) / 200000.0);
        for (std::size_t h = 0; h < url_keygen::host_count; ++h) std::printf(" %u", big.owner_digits(h));
        std::printf("\n  examples:");
        for (int k = 0; k < 6; ++k) std::printf(" %s", big.sorted(r2.below(big.size())).c_str());
        std::printf("\n");
    }
    return bad == 0 ? 0 : 1;
}

// ---- --calibrate ---------------------------------------------------------------------

struct footprint {
    double raw = 0, fastart = 0, frozen_rank = 0, frozen_rank_automaton = 0, frozen_index = 0;
};

// keys in byte order with a second value per key ("input index": the
// position in the order FastArt gets them), fed through the callbacks.
template <class ForEachInput, class ForEachSorted>
footprint measure_footprint(std::uint64_t n, std::uint64_t raw_bytes, ForEachInput&& for_each_input,
                            ForEachSorted&& for_each_sorted) {
    footprint f;
    const double dn = static_cast<double>(n);
    f.raw = static_cast<double>(raw_bytes) / dn;
    {
        memkv::FastArt<std::uint64_t> art;
        for_each_input([&](std::string_view k, std::uint64_t input_index) { art.insert(k, input_index); });
        f.fastart = static_cast<double>(art.memory_usage()) / dn;
    }
    {
        memkv::FrozenLayerBuilder<std::uint64_t> b;
        std::uint64_t rank = 0;
        for_each_sorted([&](std::string_view k, std::uint64_t) { b.insert(k, rank++); });
        const auto layer = b.finish();
        f.frozen_rank = static_cast<double>(layer.memory_usage()) / dn;
        f.frozen_rank_automaton = static_cast<double>(layer.automaton_size()) / dn;
    }
    {
        memkv::FrozenLayerBuilder<std::uint64_t> b;
        for_each_sorted([&](std::string_view k, std::uint64_t input_index) { b.insert(k, input_index); });
        const auto layer = b.finish();
        f.frozen_index = static_cast<double>(layer.memory_usage()) / dn;
    }
    return f;
}

int calibrate(const std::string& file, const run_options& o) {
    footprint real, gen;
    std::uint64_t real_n = 0;
    {
        const memkv::bench::Dataset d = memkv::bench::Dataset::load_file(file);
        real_n = d.size();
        key_stats s;
        for (const std::uint32_t k : d.sorted()) s.add(d.keys()[k]);
        s.finish();
        s.print(file.c_str());
        // FastArt gets the file's order; the input index is the line's index.
        real = measure_footprint(
            d.size(), d.raw_bytes(),
            [&](auto&& f) {
                for (std::size_t k = 0; k < d.size(); ++k) f(d.keys()[k], k);
            },
            [&](auto&& f) {
                for (const std::uint32_t k : d.sorted()) f(d.keys()[k], k);
            });
    }
    const url_keygen g(o.keys, o.seed);
    {
        key_stats s;
        std::string key;
        std::uint64_t raw = 0;
        for (std::uint64_t i = 0; i < g.size(); ++i) {
            g.sorted(i, key);
            raw += key.size();
            s.add(key);
        }
        s.finish();
        s.print("generated");
        // FastArt gets the shuffled order; the input index of rank i is a
        // random permutation value (shuffled_index(i)), as a file's line
        // index is for its sorted keys.
        gen = measure_footprint(
            g.size(), raw,
            [&](auto&& f) {
                std::string k;
                for (std::uint64_t j = 0; j < g.size(); ++j) {
                    g.sorted(g.shuffled_index(j), k);
                    f(k, j);
                }
            },
            [&](auto&& f) {
                std::string k;
                for (std::uint64_t i = 0; i < g.size(); ++i) {
                    g.sorted(i, k);
                    f(k, g.shuffled_index(i));
                }
            });
    }
    auto row = [](const char* what, double a, double b, bool judged) {
        const double ratio = b / a;
        std::printf("| %s | %.2f | %.2f | %.3f | %s |\n", what, a, b, ratio,
                    judged ? (std::fabs(ratio - 1) <= 0.30 ? "yes" : "NO") : "-");
        return !judged || std::fabs(ratio - 1) <= 0.30;
    };
    std::printf("\n| bytes/key | %s (%llu keys) | generated (%llu keys, seed %llu) | ratio | within +-30%% |\n",
                file.c_str(), static_cast<unsigned long long>(real_n), static_cast<unsigned long long>(g.size()),
                static_cast<unsigned long long>(o.seed));
    std::printf("|---|--:|--:|--:|---|\n");
    bool ok = row("raw key bytes", real.raw, gen.raw, false);
    ok &= row("FastArt, value = input index", real.fastart, gen.fastart, true);
    ok &= row("FrozenLayer, value = rank (memory_usage)", real.frozen_rank, gen.frozen_rank, true);
    ok &= row("FrozenLayer, value = rank (automaton only)", real.frozen_rank_automaton, gen.frozen_rank_automaton, false);
    ok &= row("FrozenLayer, value = input index", real.frozen_index, gen.frozen_index, true);
    return ok ? 0 : 1;
}

// ---- --print-keys --------------------------------------------------------------------

int print_keys(const run_options& o) {
    const url_keygen g(o.keys, o.seed);
    std::vector<char> buf(std::size_t{1} << 20);
    std::setvbuf(stdout, buf.data(), _IOFBF, buf.size());
    std::string key;
    progress_line p("print-keys", o.keys);
    for (std::uint64_t j = 0; j < o.keys; ++j) {
        g.sorted(g.shuffled_index(j), key);
        key.push_back('\n');
        if (std::fwrite(key.data(), 1, key.size(), stdout) != key.size()) {
            std::fprintf(stderr, "memkv-scale: writing keys to stdout failed at key %llu: %s\n",
                         static_cast<unsigned long long>(j), std::strerror(errno));
            return 2;
        }
        if ((j & 0xFFFF) == 0) p.update(j);
    }
    p.finish(o.keys);
    if (std::fflush(stdout) != 0) {
        std::fprintf(stderr, "memkv-scale: writing keys to stdout failed: %s\n", std::strerror(errno));
        return 2;
    }
    return 0;
}

// ---- main -----------------------------------------------------------------------------

[[noreturn]] void usage(const char* why) {
    if (why) std::fprintf(stderr, "memkv-scale: %s\n", why);
    std::fprintf(stderr,
                 "usage: memkv-scale --keys N [--structures frozen,hybrid] [--dir DIR] [--json FILE]\n"
                 "                   [--lookups 1000000] [--misses 1000000] [--seed S] [--gate-bits B]\n"
                 "                   [--random-access 0|1]\n"
                 "       memkv-scale --describe --keys N [--seed S]\n"
                 "       memkv-scale --calibrate FILE [--keys 2000000] [--seed S]\n"
                 "       memkv-scale --print-keys --keys N [--seed S] > FILE\n");
    std::exit(2);
}

// A non-negative integer: digits (any size up to 2^64 - 1), or a float such as 2e6.
std::uint64_t parse_count(const char* s) {
    char* end = nullptr;
    if (*s >= '0' && *s <= '9') {
        errno = 0;
        const unsigned long long v = std::strtoull(s, &end, 10);
        if (*end == '\0' && errno == 0) return v;
    }
    const double v = std::strtod(s, &end);
    if (end == s || *end != '\0' || !(v >= 0) || v > 1e18 || v != std::floor(v)) usage("bad number");
    return static_cast<std::uint64_t>(v);
}

void print_table(const std::vector<result>& rs) {
    std::printf("\n| structure | keys | build s | build keys/s | insert Mops/s by tenth | bytes/key | file bytes | "
                "peak RSS MiB | peak anon MiB | write amp | lookup Mops/s | miss Mops/s | save s | open s | verified |\n");
    std::printf("|---|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|\n");
    auto opt = [](std::optional<double> v, const char* fmt) {
        if (!v) return std::string("-");
        char b[32];
        std::snprintf(b, sizeof b, fmt, *v);
        return std::string(b);
    };
    for (const result& r : rs) {
        std::string tenths;
        for (std::size_t k = 0; k < r.tenths.size(); ++k) {
            char b[16];
            std::snprintf(b, sizeof b, "%s%.2f", k ? " " : "", r.tenths[k]);
            tenths += b;
        }
        std::printf("| %s | %llu | %.2f | %.0f | %s | %.2f | %s | %.1f%s | %.1f | %s | %.3f | %.3f | %s | %s | %s |\n",
                    r.structure.c_str(), static_cast<unsigned long long>(r.keys), r.build_s,
                    r.build_s > 0 ? static_cast<double>(r.keys) / r.build_s : 0.0, tenths.c_str(), r.bytes_per_key,
                    r.file_bytes ? std::to_string(*r.file_bytes).c_str() : "-",
                    static_cast<double>(r.peak_rss) / 1048576.0, r.peak_rss_reset ? "" : " (process)",
                    static_cast<double>(r.peak_anon) / 1048576.0, opt(r.write_amp, "%.2f").c_str(), r.lookup_mops,
                    r.miss_mops, opt(r.save_s, "%.2f").c_str(), opt(r.open_s, "%.3f").c_str(),
                    r.verified ? "yes" : "NO");
    }
}

}  // namespace

int main(int argc, char** argv) {
    run_options o;
    bool have_keys = false, do_describe = false, do_print = false;
    std::string structures = "frozen,hybrid", dir, json, calibrate_file;
    for (int a = 1; a < argc; ++a) {
        const std::string_view arg = argv[a];
        auto value = [&]() -> const char* {
            if (a + 1 >= argc) usage("missing value");
            return argv[++a];
        };
        if (arg == "--keys") {
            o.keys = parse_count(value());
            have_keys = true;
        } else if (arg == "--structures") {
            structures = value();
        } else if (arg == "--dir") {
            dir = value();
        } else if (arg == "--json") {
            json = value();
        } else if (arg == "--lookups") {
            o.lookups = parse_count(value());
        } else if (arg == "--misses") {
            o.misses = parse_count(value());
        } else if (arg == "--seed") {
            o.seed = parse_count(value());
        } else if (arg == "--gate-bits") {
            o.gate_bits = static_cast<std::size_t>(parse_count(value()));
        } else if (arg == "--random-access") {
            const std::string v = value();
            if (v != "0" && v != "1") usage("--random-access takes 0 or 1");
            o.random_access = v == "1";
        } else if (arg == "--describe") {
            do_describe = true;
        } else if (arg == "--print-keys") {
            do_print = true;
        } else if (arg == "--calibrate") {
            calibrate_file = value();
        } else if (arg == "--help" || arg == "-h") {
            usage(nullptr);
        } else {
            usage("unknown argument");
        }
    }
    try {
        if (!calibrate_file.empty()) {
            if (!have_keys) o.keys = 2000000;
            return calibrate(calibrate_file, o);
        }
        if (!have_keys) usage("--keys N is required");
        if (o.keys > url_keygen::max_keys) usage("--keys: at most 2^40");
        if (do_describe) return describe(o);
        if (do_print) return print_keys(o);

        bool want_frozen = false, want_hybrid = false;
        for (std::size_t pos = 0; pos <= structures.size();) {
            const std::size_t comma = std::min(structures.find(',', pos), structures.size());
            const std::string_view s = std::string_view(structures).substr(pos, comma - pos);
            if (s == "frozen") {
                want_frozen = true;
            } else if (s == "hybrid") {
                want_hybrid = true;
            } else if (s == "all") {
                want_frozen = want_hybrid = true;
            } else {
                usage("--structures: frozen, hybrid or all");
            }
            pos = comma + 1;
        }

        const bool user_dir = !dir.empty();
        if (user_dir) {
            std::filesystem::create_directories(dir);
        } else {
            char tmpl[] = "/tmp/memkv-scale-XXXXXX";
            if (::mkdtemp(tmpl) == nullptr) {
                std::perror("memkv-scale: mkdtemp");
                return 2;
            }
            dir = tmpl;
        }
        struct cleanup {
            std::string dir;
            ~cleanup() {
                if (dir.empty()) return;
                std::error_code ec;
                std::filesystem::remove_all(dir, ec);
            }
        } remove_tmp{user_dir ? std::string() : dir};

        const url_keygen g(o.keys, o.seed);
        std::fprintf(stderr, "memkv-scale: %llu keys, seed %llu, files in %s%s\n",
                     static_cast<unsigned long long>(o.keys), static_cast<unsigned long long>(o.seed), dir.c_str(),
                     user_dir ? "" : " (removed at the end)");
        anon_sampler sampler;
        std::vector<result> results;
        if (want_frozen) results.push_back(run_frozen(g, o, dir, sampler));
        if (want_hybrid) results.push_back(run_hybrid(g, o, dir, user_dir, sampler));

        print_table(results);
        if (!json.empty()) {
            std::FILE* f = std::fopen(json.c_str(), "w");
            if (f == nullptr) {
                std::perror(("memkv-scale: " + json).c_str());
                return 2;
            }
            std::fputs("[\n", f);
            for (std::size_t k = 0; k < results.size(); ++k) {
                std::fprintf(f, "%s%s\n", to_json(results[k]).c_str(), k + 1 < results.size() ? "," : "");
            }
            std::fputs("]\n", f);
            std::fclose(f);
        }
        bool ok = true;
        for (const result& r : results) ok &= r.verified;
        if (!ok) std::fprintf(stderr, "memkv-scale: WRONG ANSWERS\n");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "memkv-scale: %s\n", e.what());
        return 2;
    }
}
