#pragma once

// The measurement routine, instantiated once per adapter type by
// MEMKV_BENCH_REGISTER, so every timed loop calls the structure directly (no
// virtual call, no std::function). It runs inside a forked child (see
// main.cpp): the process holds nothing but the shared workload and this one
// structure, so the RSS delta around the build phase is the structure's.
//
// Phases, in order (after an untimed warm-up: the workload's pages touched,
// then a 64-key instance built, used and destroyed):
//   build    insert every key in a shuffled order (or build() from sorted keys
//            for sorted_build structures), then finish() if present. Timed;
//            anonymous RSS read before and after, VmHWM reset before and read
//            after; the process's kernel time and minor page faults too
//            (first touches of fresh memory, which some VMs make costly).
//   lookup   find() every key in a second shuffled order; every value checked
//            inside the timed loop (one compare, negligible next to a lookup).
//   miss     find() of absent keys (a present key plus one byte); timed.
//   iterate  for_each over everything: a timed pass with a light callback
//            (count and a checksum), then an untimed pass that checks every key
//            and value, and the order when the structure is ordered.
//   prefix   for_each_prefix for every query: timed light pass, then an
//            untimed checking pass (only a few queries, untimed, for
//            structures without a prefix index).

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "adapter.hpp"
#include "progress.hpp"
#include "workload.hpp"

namespace memkv::bench {

// The result of one run of one structure. Trivially copyable: a child sends it
// to the parent through a pipe as raw bytes.
struct Measurement {
    std::uint32_t ok = 0;                // 1: every check passed
    std::uint32_t has_memory_usage = 0;  // memory_usage() returned a value
    std::uint32_t hwm_reset = 0;         // VmHWM was reset before the build phase
    std::uint32_t prefix_timed = 0;      // prefix scans were timed
    double build_s = -1;                 // negative: not measured
    double build_sys_s = -1;             // kernel time during the build (getrusage)
    double lookup_s = -1;
    double chained_s = -1;  // the lookups again, each waiting for the previous answer
    double miss_s = -1;
    double iterate_s = -1;
    double prefix_s = -1;
    std::uint64_t build_faults = 0;  // minor page faults during the build
    std::uint64_t rss_before = 0;  // resident anonymous memory just before the build phase
    std::uint64_t rss_after = 0;   // and just after it (see anon_rss_bytes)
    std::uint64_t peak_rss = 0;    // VmHWM just after it (whole process)
    std::uint64_t vm_rss_before = 0;  // VmRSS just before the build phase (peak's baseline)
    std::uint64_t memory_usage = 0;
    std::uint64_t misses = 0;        // absent lookups done
    std::uint64_t prefix_scans = 0;  // prefix scans timed
    std::uint64_t prefix_keys = 0;   // keys those scans visited
    char error[512] = {};            // first failed check, or the exception
};
static_assert(std::is_trivially_copyable_v<Measurement>);

namespace detail {

// A field of /proc/self/status in bytes ("VmRSS", "VmHWM"); 0 if unreadable.
// Reads into a stack buffer: allocating here would disturb what it measures.
inline std::uint64_t proc_status_bytes(const char* field) {
    const int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char buf[8192];
    std::size_t len = 0;
    for (ssize_t got; len + 1 < sizeof buf && (got = ::read(fd, buf + len, sizeof buf - 1 - len)) > 0;) {
        len += static_cast<std::size_t>(got);
    }
    ::close(fd);
    buf[len] = '\0';
    const std::size_t flen = std::strlen(field);
    for (const char* line = buf; line != nullptr && *line != '\0';) {
        if (std::strncmp(line, field, flen) == 0 && line[flen] == ':') {
            return std::strtoull(line + flen + 1, nullptr, 10) * 1024;
        }
        line = std::strchr(line, '\n');
        if (line != nullptr) ++line;
    }
    return 0;
}

// The anonymous part of VmRSS (RssAnon + RssShmem): what a structure's
// allocations make resident. The file-backed rest is program code, which a
// forked child faults in lazily (fork does not copy page tables of file
// mappings), so the first run of a code path would otherwise count a few
// hundred KiB of library code as structure memory. Falls back to VmRSS on
// kernels without RssAnon (< 4.5).
inline std::uint64_t anon_rss_bytes() {
    const std::uint64_t anon = proc_status_bytes("RssAnon");
    if (anon == 0) return proc_status_bytes("VmRSS");
    return anon + proc_status_bytes("RssShmem");
}

// Resets VmHWM to the current RSS (Linux >= 4.0); false where not permitted.
inline bool reset_peak_rss() {
    const int fd = ::open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool ok = ::write(fd, "5", 1) == 1;
    ::close(fd);
    return ok;
}

// The process's kernel time (s) and minor page faults so far: around the
// build they say how much of it was the first touch of fresh memory, whose
// cost on this project's VMs depends on the host (DESIGN.md, memkv-bench
// Method).
struct KernelUse {
    double sys_s = 0;
    std::uint64_t faults = 0;
};
inline KernelUse kernel_use() {
    rusage u{};
    if (::getrusage(RUSAGE_SELF, &u) != 0) return {};
    return {static_cast<double>(u.ru_stime.tv_sec) + static_cast<double>(u.ru_stime.tv_usec) * 1e-6,
            static_cast<std::uint64_t>(u.ru_minflt)};
}

// Keeps a checksum alive so the light callbacks are not optimized away.
inline volatile std::uint64_t sink_store = 0;
inline void sink(std::uint64_t value) { sink_store = value; }

inline double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A key for an error message: printable ASCII kept, other bytes as \xNN,
// long keys cut.
inline std::string printable(std::string_view key) {
    std::string out;
    for (std::size_t i = 0; i < key.size() && out.size() < 96; ++i) {
        const auto c = static_cast<unsigned char>(key[i]);
        if (c >= 0x20 && c < 0x7F && c != '\\') {
            out += static_cast<char>(c);
        } else {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02X", c);
            out += hex;
        }
    }
    if (out.size() >= 96) out += "...";
    return "\"" + out + "\"";
}

// Records the first failure of a run; later ones are counted by their phase.
class Failures {
public:
    explicit Failures(Measurement& m) : m_(m) {}
    bool any() const noexcept { return failed_; }
    void fail(const std::string& what) {
        if (failed_) return;
        failed_ = true;
        std::snprintf(m_.error, sizeof m_.error, "%s", what.c_str());
    }

private:
    Measurement& m_;
    bool failed_ = false;
};

// The chained lookups: the same keys as the lookup phase, but which one
// comes next depends on the previous answer (a 0 or 1 the compiler cannot
// know is 0), so no lookup can start before the previous one has finished.
// The independent loop measures throughput, which the core raises by
// overlapping lookups; this one measures the latency of one. Out of line:
// inlined into measure(), it changed the code of the lookup phase's own
// loop, which made libart's independent lookups on uuid.txt 30% slower
// (bench/RESULTS.md, 2026-12-01 seventh session).
template <Structure S>
#if defined(__GNUC__) || defined(__clang__)
[[gnu::noinline]]
#endif
double time_chained_lookups(const S& s, const Workload& w, Failures& f) {
    const auto start = std::chrono::steady_clock::now();
    const std::size_t count = w.lookup_order.size();
    std::size_t next = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t at = std::min(i + next, count - 1);
        const std::optional<std::uint64_t> v = s.find(w.lookup_order[at].key);
        next = static_cast<std::size_t>((v ? *v : 0) >> 63);
    }
    const double secs = seconds_since(start);
    if (next != 0) f.fail("chained lookup: a value with its top bit set");
    return secs;
}

template <Structure S>
void check_lookups(const S& s, const Workload& w, Failures& f) {
    std::size_t bad = 0;
    std::string first;
    for (const Entry& e : w.lookup_order) {
        const auto v = s.find(e.key);
        if (v && *v == e.value) continue;
        if (bad++ == 0) {
            first = "find(" + printable(e.key) + ") returned " +
                    (v ? std::to_string(*v) : std::string("nothing")) + ", expected " +
                    std::to_string(e.value);
        }
    }
    f.fail("lookup: " + std::to_string(bad) + " wrong; first: " + first);
}

template <Structure S>
void check_misses(const S& s, const Workload& w, Failures& f) {
    std::size_t bad = 0;
    std::string first;
    for (const std::string_view k : w.misses) {
        const auto v = s.find(k);
        if (!v) continue;
        if (bad++ == 0) first = "find(" + printable(k) + ") of an absent key returned " + std::to_string(*v);
    }
    f.fail("miss: " + std::to_string(bad) + " wrong; first: " + first);
}

// Checks a visit sequence against sorted[lo, hi): exactly, in order, for
// ordered structures; as a set otherwise.
class VisitChecker {
public:
    VisitChecker(const Workload& w, bool ordered, std::size_t lo, std::size_t hi, std::string_view prefix)
        : w_(w), ordered_(ordered), lo_(lo), hi_(hi), next_(lo), prefix_(prefix) {}

    void visit(std::string_view key, std::uint64_t value) {
        ++count_;
        if (!error_.empty()) return;
        if (ordered_) {
            if (next_ >= hi_) {
                error_ = "extra key " + printable(key) + " after the last expected one";
            } else if (w_.sorted[next_].key != key || w_.sorted[next_].value != value) {
                error_ = "visited " + printable(key) + " = " + std::to_string(value) + " where " +
                         printable(w_.sorted[next_].key) + " = " + std::to_string(w_.sorted[next_].value) +
                         " comes in byte order";
            }
            ++next_;
            return;
        }
        if (value >= w_.size() || key_of(value) != key) {
            error_ = "visited " + printable(key) + " with wrong value " + std::to_string(value);
        } else if (!key.starts_with(prefix_)) {
            error_ = "visited " + printable(key) + " outside the prefix";
        } else if (seen_.size() <= hi_ - lo_) {
            // Bounded: a structure that repeats keys endlessly still fails below.
            seen_.push_back(value);
        }
    }

    // The key whose value is v (v < the keys).
    std::string_view key_of(std::uint64_t v) const {
        return w_.options.ordinal_values ? w_.sorted[v].key : w_.data->keys()[v];
    }

    // Empty when the whole sequence was right.
    std::string finish() {
        if (error_.empty() && !ordered_) {
            std::sort(seen_.begin(), seen_.end());
            const auto twice = std::adjacent_find(seen_.begin(), seen_.end());
            if (twice != seen_.end()) {
                error_ = "visited " + printable(key_of(*twice)) + " twice";
            }
        }
        if (error_.empty() && count_ != hi_ - lo_) {
            error_ = "visited " + std::to_string(count_) + " keys, expected " + std::to_string(hi_ - lo_);
        }
        return error_;
    }

private:
    const Workload& w_;
    bool ordered_;
    std::size_t lo_, hi_, next_;
    std::string_view prefix_;
    std::size_t count_ = 0;
    std::vector<std::uint64_t> seen_;  // values visited, unordered structures
    std::string error_;
};

// Reads one byte of every page of [p, p + bytes).
inline std::uint64_t touch_pages(const void* p, std::size_t bytes) {
    const auto* b = static_cast<const volatile unsigned char*>(p);
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < bytes; i += 4096) sum += b[i];
    if (bytes > 0) sum += b[bytes - 1];
    return sum;
}

template <class T>
std::uint64_t touch_vector(const std::vector<T>& v) {
    return touch_pages(v.data(), v.size() * sizeof(T));
}

// fork() hands the child the parent's pages marked "not yet accessed", and
// the first access to each of them then costs the child ~4 us on this VM
// (no page fault: the page walk's update of the entry). Untouched, the
// timed loops paid it for the workload's pages: the lookup phase's first
// pass over a 24 MiB order array of 1M keys was 25-45 ns per lookup slower
// than the second, for every structure alike, which compressed every
// ratio towards 1 (bench/RESULTS.md, twenty-sixth session). A user's own
// process does not pay it, so the child touches everything the phases read
// before any of them is timed.
inline void touch_workload(const Workload& w) {
    std::uint64_t sum = 0;
    for (const std::string_view k : w.data->keys()) sum += static_cast<unsigned char>(k.empty() ? 0 : k.front() ^ k.back());
    sum += touch_vector(w.data->keys()) + touch_vector(w.data->sorted());
    sum += touch_vector(w.insert_order) + touch_vector(w.lookup_order) + touch_vector(w.sorted);
    for (const std::string_view k : w.misses) sum += static_cast<unsigned char>(k.empty() ? 0 : k.front() ^ k.back());
    sum += touch_vector(w.misses) + touch_vector(w.prefixes);
    sink(sum);
}

}  // namespace detail

template <Structure S>
Measurement measure(const Workload& w) {
    using clock = std::chrono::steady_clock;
    Measurement m;
    detail::Failures failures(m);
    Progress& pg = progress();
    const std::size_t n = w.size();
    try {
        // Warm-up: a small instance built, used and destroyed first, so
        // first-use effects (allocator arenas, code pages, lazy binding) are
        // out of the way before the baseline.
        pg.phase("warm-up");
        detail::touch_workload(w);
        {
            const std::size_t few = std::min<std::size_t>(n, 64);
            auto warm = std::make_unique<S>();
            if constexpr (S::sorted_build) {
                warm->build(std::span<const Entry>(w.sorted).first(few));
            } else {
                for (std::size_t i = 0; i < few; ++i) warm->insert(w.insert_order[i].key, w.insert_order[i].value);
            }
            if constexpr (HasFinish<S>) warm->finish();
            std::uint64_t sum = 0;
            for (std::size_t i = 0; i < few; ++i) sum += std::as_const(*warm).find(w.insert_order[i].key).value_or(0);
            std::as_const(*warm).for_each([&](std::string_view k, std::uint64_t v) { sum += v + k.size(); });
            if (few > 0) {
                std::as_const(*warm).for_each_prefix(w.insert_order[0].key,
                                                     [&](std::string_view k, std::uint64_t v) { sum += v + k.size(); });
            }
            detail::sink(sum + std::as_const(*warm).memory_usage().value_or(0));
        }

        // build
        pg.phase(S::sorted_build ? "build" : "insert");
        m.rss_before = detail::anon_rss_bytes();
        m.vm_rss_before = detail::proc_status_bytes("VmRSS");
        m.hwm_reset = detail::reset_peak_rss() ? 1 : 0;
        const detail::KernelUse k0 = detail::kernel_use();
        auto start = clock::now();
        auto s = load_structure<S>(w);
        m.build_s = detail::seconds_since(start);
        const detail::KernelUse k1 = detail::kernel_use();
        m.build_sys_s = k1.sys_s - k0.sys_s;
        m.build_faults = k1.faults - k0.faults;
        m.rss_after = detail::anon_rss_bytes();
        m.peak_rss = detail::proc_status_bytes("VmHWM");
        if (const std::optional<std::size_t> bytes = std::as_const(*s).memory_usage()) {
            m.has_memory_usage = 1;
            m.memory_usage = *bytes;
        }
        const S& cs = *s;

        // lookup
        pg.phase("lookup");
        std::size_t bad = 0;
        start = clock::now();
        for (const Entry& e : w.lookup_order) {
            const std::optional<std::uint64_t> v = cs.find(e.key);
            bad += !(v && *v == e.value);
        }
        m.lookup_s = detail::seconds_since(start);
        if (bad != 0) detail::check_lookups(cs, w, failures);

        pg.phase("chained lookup");
        m.chained_s = detail::time_chained_lookups(cs, w, failures);

        // miss
        pg.phase("miss");
        bad = 0;
        start = clock::now();
        for (const std::string_view k : w.misses) bad += cs.find(k).has_value();
        m.miss_s = detail::seconds_since(start);
        m.misses = w.misses.size();
        if (bad != 0) detail::check_misses(cs, w, failures);

        // iterate
        if (w.options.iterate) {
            pg.phase("iterate");
            std::size_t count = 0;
            std::uint64_t sum = 0;
            start = clock::now();
            cs.for_each([&](std::string_view k, std::uint64_t v) {
                ++count;
                sum += v + k.size();
            });
            m.iterate_s = detail::seconds_since(start);
            // sum of the values 0..n-1 plus the key bytes
            const std::uint64_t expected =
                (n == 0 ? 0 : static_cast<std::uint64_t>(n) * (n - 1) / 2) + w.data->raw_bytes();
            pg.phase("iterate (checking)");
            detail::VisitChecker check(w, S::ordered, 0, n, {});
            cs.for_each([&](std::string_view k, std::uint64_t v) { check.visit(k, v); });
            if (std::string e = check.finish(); !e.empty()) {
                failures.fail(std::string("iterate: ") + e);
            } else if (count != n || sum != expected) {
                failures.fail("iterate: the timed pass saw " + std::to_string(count) + " keys, expected " +
                              std::to_string(n));
            }
        }

        // prefix
        if (!w.prefixes.empty()) {
            pg.phase("prefix");
            std::span<const PrefixQuery> checked(w.prefixes);
            if constexpr (has_prefix_index_v<S>) {
                std::uint64_t visited = 0;
                std::uint64_t sum = 0;
                start = clock::now();
                for (const PrefixQuery& q : w.prefixes) {
                    cs.for_each_prefix(q.prefix, [&](std::string_view k, std::uint64_t v) {
                        ++visited;
                        sum += v + k.size();
                    });
                }
                m.prefix_s = detail::seconds_since(start);
                m.prefix_timed = 1;
                m.prefix_scans = w.prefixes.size();
                m.prefix_keys = visited;
                std::uint64_t expected = 0;
                for (const PrefixQuery& q : w.prefixes) expected += q.hi - q.lo;
                if (visited != expected) {
                    failures.fail("prefix: the timed scans visited " + std::to_string(visited) +
                                  " keys, expected " + std::to_string(expected));
                }
                detail::sink(sum);
            } else {
                checked = checked.first(std::min<std::size_t>(checked.size(), 3));
            }
            pg.phase("prefix (checking)");
            for (const PrefixQuery& q : checked) {
                detail::VisitChecker check(w, S::ordered, q.lo, q.hi, q.prefix);
                cs.for_each_prefix(q.prefix, [&](std::string_view k, std::uint64_t v) { check.visit(k, v); });
                if (std::string e = check.finish(); !e.empty()) {
                    failures.fail("prefix " + detail::printable(q.prefix) + ": " + e);
                    break;
                }
            }
        }

        pg.phase("destroy");
        s.reset();
    } catch (const std::exception& e) {
        failures.fail(std::string("exception: ") + e.what());
    } catch (...) {
        failures.fail("unknown exception");
    }
    m.ok = failures.any() ? 0 : 1;
    return m;
}

}  // namespace memkv::bench
