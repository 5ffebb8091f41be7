#pragma once

// Turning measurements into what memkv-bench prints and writes: the markdown
// table on stdout, the JSON file and the gnuplot chart.

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dataset.hpp"
#include "registry.hpp"

namespace memkv::bench {

enum class Status { ok, failed, skipped };

// One structure's result over all its runs: each figure is the median of the
// runs (not all taken from the same run), so one noisy run moves nothing.
struct Summary {
    const StructureInfo* info = nullptr;
    Status status = Status::ok;
    std::string message;  // why it failed or was skipped
    std::size_t runs = 0;
    bool verified = false;
    bool has_memory_usage = false;
    bool prefix_timed = false;
    bool hwm_reset = false;
    double rss_delta = 0;     // bytes
    double memory_usage = 0;  // bytes, when has_memory_usage
    double peak_rss = 0;      // bytes
    double build_peak = 0;    // bytes: peak_rss above the VmRSS before the build
    double build_s = 0;
    double build_sys_s = -1;  // negative: not measured
    double build_faults = 0;
    double lookup_s = 0;
    double chained_s = -1;  // negative: not measured
    double miss_s = 0;
    double iterate_s = -1;  // negative: not measured
    double prefix_s = -1;
    std::uint64_t misses = 0;
    std::uint64_t prefix_scans = 0;
    std::uint64_t prefix_keys = 0;
    std::vector<Measurement> per_run;  // in run order, for the paired ratios

    // "bytes" of the report: the structure's own figure when it has one.
    double bytes() const { return has_memory_usage ? memory_usage : rss_delta; }
    const char* bytes_source() const { return has_memory_usage ? "memory_usage" : "rss_delta"; }
};

struct RunInfo {
    std::string dataset;
    std::size_t keys = 0;
    std::size_t raw_bytes = 0;
    std::size_t runs = 1;
    std::uint64_t seed = 0;
    std::string values = "index";  // --values
};

namespace detail {

inline double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const std::size_t mid = v.size() / 2;
    return v.size() % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

inline std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

inline std::string mib(double bytes) { return fixed(bytes / (1024.0 * 1024.0), 1); }

inline std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += ch;
        } else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

inline std::string json_integer(double v) {
    if (!std::isfinite(v)) return "null";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
}

inline std::string json_number(double v) {
    if (!std::isfinite(v)) return "null";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

}  // namespace detail

// Medians over the runs of one structure; failed runs make the summary failed.
inline Summary summarize(const StructureInfo& info, const std::vector<Measurement>& runs,
                         const std::vector<std::string>& run_errors) {
    Summary s;
    s.info = &info;
    s.runs = runs.size();
    if (!run_errors.empty()) {
        s.status = Status::failed;
        s.message = run_errors.front();
    }
    if (runs.empty()) return s;
    auto med = [&](auto field) {
        std::vector<double> v;
        for (const Measurement& m : runs) v.push_back(static_cast<double>(field(m)));
        return detail::median(std::move(v));
    };
    s.verified = run_errors.empty() &&
                 std::all_of(runs.begin(), runs.end(), [](const Measurement& m) { return m.ok == 1; });
    s.has_memory_usage = runs.front().has_memory_usage == 1;
    s.prefix_timed = runs.front().prefix_timed == 1;
    s.hwm_reset = runs.front().hwm_reset == 1;
    s.rss_delta = med([](const Measurement& m) {
        return m.rss_after > m.rss_before ? static_cast<double>(m.rss_after - m.rss_before) : 0.0;
    });
    s.memory_usage = med([](const Measurement& m) { return m.memory_usage; });
    s.peak_rss = med([](const Measurement& m) { return m.peak_rss; });
    s.build_peak = med([](const Measurement& m) {
        return m.peak_rss > m.vm_rss_before ? static_cast<double>(m.peak_rss - m.vm_rss_before) : 0.0;
    });
    s.build_s = med([](const Measurement& m) { return m.build_s; });
    s.build_sys_s = med([](const Measurement& m) { return m.build_sys_s; });
    s.build_faults = med([](const Measurement& m) { return static_cast<double>(m.build_faults); });
    s.lookup_s = med([](const Measurement& m) { return m.lookup_s; });
    s.chained_s = med([](const Measurement& m) { return m.chained_s; });
    s.miss_s = med([](const Measurement& m) { return m.miss_s; });
    s.iterate_s = med([](const Measurement& m) { return m.iterate_s; });
    s.prefix_s = med([](const Measurement& m) { return m.prefix_s; });
    s.misses = runs.front().misses;
    s.prefix_scans = runs.front().prefix_scans;
    s.prefix_keys = runs.front().prefix_keys;
    s.per_run = runs;
    return s;
}

// One operation's speed against a baseline structure, paired by run: run r
// of every structure is taken back to back (main.cpp interleaves them), so
// the ratio of run r's two timings sees one state of a machine whose speed
// drifts, where the ratio of two medians mixes states. median/lo/hi are the
// median, least and greatest of baseline time / structure time over the runs
// both have (> 1: faster than the baseline); count 0: not measured.
struct PairedRatio {
    double median = 0;
    double lo = 0;
    double hi = 0;
    std::size_t count = 0;
};

// Run r's baseline time / structure time for every run both timed (> 0).
struct RunRatio {
    std::size_t run = 0;
    double ratio = 0;
};
inline std::vector<RunRatio> run_ratios(const Summary& s, const Summary& base, double Measurement::*field) {
    std::vector<RunRatio> out;
    const std::size_t n = std::min(s.per_run.size(), base.per_run.size());
    for (std::size_t r = 0; r < n; ++r) {
        const double t = s.per_run[r].*field;
        const double b = base.per_run[r].*field;
        if (t > 0 && b > 0) out.push_back({r, b / t});
    }
    return out;
}

inline PairedRatio paired_ratio(const Summary& s, const Summary& base, double Measurement::*field) {
    std::vector<double> ratios;
    for (const RunRatio& rr : run_ratios(s, base, field)) ratios.push_back(rr.ratio);
    PairedRatio out;
    out.count = ratios.size();
    if (ratios.empty()) return out;
    const auto [lo, hi] = std::minmax_element(ratios.begin(), ratios.end());
    out.lo = *lo;
    out.hi = *hi;
    out.median = detail::median(std::move(ratios));
    return out;
}

// The paired ratios of every operation both structures timed, named as the
// table names them ("insert" for a build from shuffled keys).
inline std::vector<std::pair<std::string, PairedRatio>> paired_ratios(const Summary& s, const Summary& base) {
    std::vector<std::pair<std::string, PairedRatio>> out;
    auto add = [&](std::string name, double Measurement::*field, bool timed) {
        if (!timed) return;
        const PairedRatio pr = paired_ratio(s, base, field);
        if (pr.count > 0) out.emplace_back(std::move(name), pr);
    };
    add(s.info->sorted_build ? "build" : "insert", &Measurement::build_s, true);
    add("lookup", &Measurement::lookup_s, true);
    add("miss", &Measurement::miss_s, s.misses > 0 && base.misses > 0);
    add("iterate", &Measurement::iterate_s, true);
    add("prefix", &Measurement::prefix_s, s.prefix_timed && base.prefix_timed);
    return out;
}

// The baseline's summary in results, or nullptr (none named, or it has no runs).
inline const Summary* find_baseline(const std::vector<Summary>& results, std::string_view name) {
    if (name.empty()) return nullptr;
    for (const Summary& s : results) {
        if (s.info->name == name && !s.per_run.empty()) return &s;
    }
    return nullptr;
}

inline double mops(std::size_t ops, double seconds) {
    return seconds > 0 ? static_cast<double>(ops) / seconds / 1e6 : 0.0;
}

inline void print_table(std::FILE* out, const RunInfo& run, const std::vector<Summary>& results,
                        std::string_view baseline = {}) {
    const double keys = static_cast<double>(run.keys);
    std::fprintf(out, "## memkv-bench: %s\n\n", run.dataset.c_str());
    std::fprintf(out, "%zu keys, %zu raw key bytes (%.1f bytes/key), %zu run(s) per structure, seed %llu, %s values\n\n",
                 run.keys, run.raw_bytes, keys > 0 ? static_cast<double>(run.raw_bytes) / keys : 0.0,
                 run.runs, static_cast<unsigned long long>(run.seed), run.values.c_str());

    const std::vector<std::string> header = {
        "structure", "bytes/key", "overhead/key", "bytes from", "RSS delta MiB", "memory_usage MiB",
        "peak RSS MiB", "build peak MiB", "build s", "insert Mops/s", "lookup Mops/s", "miss Mops/s", "iterate s",
        "prefix s", "verified"};
    std::vector<std::vector<std::string>> rows;
    for (const Summary& s : results) {
        std::vector<std::string> row{std::string(s.info->name)};
        if (s.runs == 0) {
            row.resize(header.size(), "-");
            row.back() = s.status == Status::skipped ? "skipped" : "FAILED";
            rows.push_back(std::move(row));
            continue;
        }
        const double bytes = s.bytes();
        row.push_back(detail::fixed(bytes / keys, 1));
        row.push_back(detail::fixed((bytes - static_cast<double>(run.raw_bytes)) / keys, 1));
        row.push_back(s.has_memory_usage ? "memory_usage" : "RSS");
        row.push_back(detail::mib(s.rss_delta));
        row.push_back(s.has_memory_usage ? detail::mib(s.memory_usage) : "-");
        row.push_back(detail::mib(s.peak_rss));
        row.push_back(s.hwm_reset ? detail::mib(s.build_peak) : "-");
        row.push_back(detail::fixed(s.build_s, 3));
        row.push_back(s.info->sorted_build ? "-" : detail::fixed(mops(run.keys, s.build_s), 2));
        row.push_back(detail::fixed(mops(run.keys, s.lookup_s), 2));
        row.push_back(s.misses > 0 ? detail::fixed(mops(s.misses, s.miss_s), 2) : "-");
        row.push_back(s.iterate_s >= 0 ? detail::fixed(s.iterate_s, 3) : "-");
        row.push_back(s.prefix_timed ? detail::fixed(s.prefix_s, 3) : "-");
        row.push_back(s.verified ? (s.info->ordered ? "yes (ordered)" : "yes") : "FAILED");
        rows.push_back(std::move(row));
    }

    std::vector<std::size_t> width(header.size());
    for (std::size_t c = 0; c < header.size(); ++c) {
        width[c] = header[c].size();
        for (const auto& row : rows) width[c] = std::max(width[c], row[c].size());
    }
    auto print_row = [&](const std::vector<std::string>& row) {
        std::fputs("|", out);
        for (std::size_t c = 0; c < row.size(); ++c) {
            // First column left-aligned, figures right-aligned.
            std::fprintf(out, c == 0 ? " %-*s |" : " %*s |", static_cast<int>(width[c]), row[c].c_str());
        }
        std::fputs("\n", out);
    };
    print_row(header);
    std::fputs("|", out);
    for (std::size_t c = 0; c < header.size(); ++c) {
        std::fprintf(out, "%s%s|", std::string(width[c] + 1, '-').c_str(), c == 0 ? "-" : ":");
    }
    std::fputs("\n", out);
    for (const auto& row : rows) print_row(row);

    std::fputs("\nbytes = memory_usage() where the structure reports it, else the resident (anonymous) "
               "memory delta around the build phase; overhead/key = (bytes - raw key bytes) / keys.\n"
               "peak RSS = the whole process's VmHWM during the build; build peak = that peak above the RSS "
               "before the build (transient build memory included).\n"
               "Figures are medians over the runs.\n",
               out);
    for (const Summary& s : results) {
        if (s.runs > 0 && s.prefix_timed) {
            std::fprintf(out, "prefix scans: %llu scans visiting %llu keys in total.\n",
                         static_cast<unsigned long long>(s.prefix_scans),
                         static_cast<unsigned long long>(s.prefix_keys));
            break;
        }
    }
    // The chained lookups (measure.hpp) in one line: a lookup's latency,
    // next to the table's throughput.
    std::string chained;
    for (const Summary& s : results) {
        if (s.runs == 0 || s.chained_s <= 0) continue;
        chained += (chained.empty() ? "" : ", ") + std::string(s.info->name) + " " +
                   detail::fixed(mops(run.keys, s.chained_s), 2);
    }
    if (!chained.empty()) {
        std::fprintf(out, "chained lookups (each waits for the previous answer: latency, not throughput), Mops/s: %s.\n",
                     chained.c_str());
    }
    // The build's kernel time: first touches of fresh memory, part of every
    // build's time, whose cost depends on the machine's state (a VM's host
    // may have to back the pages again), not only on the structure.
    std::string kernel;
    for (const Summary& s : results) {
        if (s.runs == 0 || s.build_sys_s < 0) continue;
        double lo = s.build_sys_s;
        double hi = s.build_sys_s;
        for (const Measurement& m : s.per_run) {
            if (m.build_sys_s < 0) continue;  // a run that failed before its build ended
            lo = std::min(lo, m.build_sys_s);
            hi = std::max(hi, m.build_sys_s);
        }
        kernel += (kernel.empty() ? "" : ", ") + std::string(s.info->name) + " " + detail::fixed(s.build_sys_s, 3) +
                  " s (" + detail::fixed(lo, 3) + "-" + detail::fixed(hi, 3) + "), " + detail::fixed(s.build_faults, 0) +
                  " faults";
    }
    if (!kernel.empty()) {
        std::fprintf(out, "build time in the kernel, median (least-greatest) over the runs, and minor page faults: %s.\n",
                     kernel.c_str());
    }
    if (const Summary* base = find_baseline(results, baseline)) {
        std::fprintf(out, "speed vs %s, paired by run (run r of each back to back; baseline time / time, median "
                          "(least-greatest) over the runs; > 1: faster):\n",
                     std::string(baseline).c_str());
        for (const Summary& s : results) {
            if (&s == base || s.per_run.empty()) continue;
            std::string line;
            for (const auto& [op, pr] : paired_ratios(s, *base)) {
                line += (line.empty() ? "" : ", ") + op + " " + detail::fixed(pr.median, 2) + " (" +
                        detail::fixed(pr.lo, 2) + "-" + detail::fixed(pr.hi, 2) + ")";
            }
            std::fprintf(out, "  %s: %s\n", std::string(s.info->name).c_str(), line.c_str());
            // Each run's build ratio beside the two builds' kernel time, so
            // that a low ratio from a build that waited on its first touches
            // of fresh memory shows as such (see the kernel line above).
            std::string by_run;
            for (const RunRatio& rr : run_ratios(s, *base, &Measurement::build_s)) {
                const double a_sys = s.per_run[rr.run].build_sys_s;
                const double b_sys = base->per_run[rr.run].build_sys_s;
                if (a_sys < 0 || b_sys < 0) continue;
                by_run += (by_run.empty() ? "" : ", ") + detail::fixed(rr.ratio, 2) + " (" + detail::fixed(a_sys, 3) +
                          "/" + detail::fixed(b_sys, 3) + ")";
            }
            if (!by_run.empty()) {
                std::fprintf(out, "    %s by run (kernel s, %s/%s): %s\n", s.info->sorted_build ? "build" : "insert",
                             std::string(s.info->name).c_str(), std::string(base->info->name).c_str(), by_run.c_str());
            }
        }
    }
    for (const Summary& s : results) {
        if (!s.message.empty()) {
            std::fprintf(out, "%s %s: %s\n", s.status == Status::skipped ? "skipped" : "FAILED",
                         std::string(s.info->name).c_str(), s.message.c_str());
        }
    }
}

// The JSON report. Fields required by issue 2 first, then extras; a figure
// that was not measured is null.
inline bool write_json(const std::string& path, const RunInfo& run, const std::vector<Summary>& results,
                       std::string_view baseline = {}) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return false;
    const double keys = static_cast<double>(run.keys);
    auto num = [](double v) { return detail::json_number(v); };
    std::fprintf(f, "{\n  \"dataset\": %s,\n  \"keys\": %zu,\n  \"raw_bytes\": %zu,\n  \"runs\": %zu,\n"
                    "  \"seed\": %llu,\n  \"values\": %s,\n  \"baseline\": %s,\n  \"results\": [",
                 detail::json_string(run.dataset).c_str(), run.keys, run.raw_bytes, run.runs,
                 static_cast<unsigned long long>(run.seed), detail::json_string(run.values).c_str(),
                 baseline.empty() ? "null" : detail::json_string(baseline).c_str());
    const Summary* base = find_baseline(results, baseline);
    const char* sep = "\n";
    for (const Summary& s : results) {
        const bool measured = s.runs > 0;
        const double nan = std::nan("");
        const double bytes = measured ? s.bytes() : nan;
        std::fprintf(f, "%s    {\"structure\": %s", sep, detail::json_string(s.info->name).c_str());
        std::fprintf(f, ", \"status\": \"%s\"",
                     s.status == Status::ok ? "ok" : s.status == Status::failed ? "failed" : "skipped");
        std::fprintf(f, ", \"bytes\": %s", detail::json_integer(bytes).c_str());
        std::fprintf(f, ", \"bytes_per_key\": %s", num(bytes / keys).c_str());
        std::fprintf(f, ", \"overhead_per_key\": %s",
                     num((bytes - static_cast<double>(run.raw_bytes)) / keys).c_str());
        std::fprintf(f, ", \"insert_mops\": %s",
                     num(measured && !s.info->sorted_build ? mops(run.keys, s.build_s) : nan).c_str());
        std::fprintf(f, ", \"lookup_mops\": %s", num(measured ? mops(run.keys, s.lookup_s) : nan).c_str());
        std::fprintf(f, ", \"chained_lookup_mops\": %s",
                     num(measured && s.chained_s > 0 ? mops(run.keys, s.chained_s) : nan).c_str());
        std::fprintf(f, ", \"miss_mops\": %s",
                     num(measured && s.misses > 0 ? mops(s.misses, s.miss_s) : nan).c_str());
        std::fprintf(f, ", \"iterate_s\": %s", num(measured && s.iterate_s >= 0 ? s.iterate_s : nan).c_str());
        std::fprintf(f, ", \"build_s\": %s", num(measured ? s.build_s : nan).c_str());
        std::fprintf(f, ", \"build_sys_s\": %s", num(measured && s.build_sys_s >= 0 ? s.build_sys_s : nan).c_str());
        std::fprintf(f, ", \"build_minor_faults\": %s", detail::json_integer(measured ? s.build_faults : nan).c_str());
        std::fprintf(f, ", \"peak_rss_bytes\": %s", detail::json_integer(measured ? s.peak_rss : nan).c_str());
        std::fprintf(f, ", \"verified\": %s", s.verified ? "true" : "false");
        std::fprintf(f, ", \"bytes_source\": \"%s\"", s.bytes_source());
        std::fprintf(f, ", \"rss_delta_bytes\": %s", detail::json_integer(measured ? s.rss_delta : nan).c_str());
        std::fprintf(f, ", \"memory_usage_bytes\": %s",
                     detail::json_integer(measured && s.has_memory_usage ? s.memory_usage : nan).c_str());
        std::fprintf(f, ", \"prefix_s\": %s", num(measured && s.prefix_timed ? s.prefix_s : nan).c_str());
        std::fprintf(f, ", \"prefix_scans\": %llu, \"prefix_keys\": %llu",
                     static_cast<unsigned long long>(s.prefix_scans),
                     static_cast<unsigned long long>(s.prefix_keys));
        std::fprintf(f, ", \"ordered\": %s, \"sorted_build\": %s", s.info->ordered ? "true" : "false",
                     s.info->sorted_build ? "true" : "false");
        std::fprintf(f, ", \"peak_rss_reset\": %s", s.hwm_reset ? "true" : "false");
        std::fprintf(f, ", \"build_peak_bytes\": %s",
                     detail::json_integer(measured && s.hwm_reset ? s.build_peak : nan).c_str());
        if (base != nullptr && base != &s && !s.per_run.empty()) {
            // {"lookup": {"median": m, "least": a, "greatest": b}, ...}
            std::fprintf(f, ", \"paired_vs_baseline\": {");
            const char* osep = "";
            for (const auto& [op, pr] : paired_ratios(s, *base)) {
                std::fprintf(f, "%s\"%s\": {\"median\": %s, \"least\": %s, \"greatest\": %s}", osep, op.c_str(),
                             num(pr.median).c_str(), num(pr.lo).c_str(), num(pr.hi).c_str());
                osep = ", ";
            }
            std::fputs("}", f);
        }
        std::fprintf(f, ", \"error\": %s}", s.message.empty() ? "null" : detail::json_string(s.message).c_str());
        sep = ",\n";
    }
    std::fputs("\n  ]\n}\n", f);
    return std::fclose(f) == 0;
}

// True when an executable named `program` is on PATH.
inline bool on_path(const std::string& program) {
    const char* path = std::getenv("PATH");
    if (path == nullptr) return false;
    std::string_view rest(path);
    while (true) {
        const std::size_t colon = rest.find(':');
        std::string dir(rest.substr(0, colon));
        if (dir.empty()) dir = ".";
        if (::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
        if (colon == std::string_view::npos) return false;
        rest.remove_prefix(colon + 1);
    }
}

// Draws bytes/key and lookups/s per structure with gnuplot into a PNG.
// Returns an empty string on success, else why no chart was drawn.
inline std::string write_chart(const std::string& png, const RunInfo& run, const std::vector<Summary>& results) {
    if (!on_path("gnuplot")) return "gnuplot not found on PATH; chart skipped";
    char dir_template[] = "/tmp/memkv-bench-chart.XXXXXX";
    const char* dir = ::mkdtemp(dir_template);
    if (dir == nullptr) return "cannot create a temporary directory; chart skipped";
    const std::string data = std::string(dir) + "/data.txt";
    const std::string script = std::string(dir) + "/chart.gp";
    const double keys = static_cast<double>(run.keys);

    std::FILE* f = std::fopen(data.c_str(), "wb");
    if (f == nullptr) return "cannot write " + data;
    std::size_t rows = 0;
    for (const Summary& s : results) {
        if (s.runs == 0) continue;
        std::fprintf(f, "\"%s\" %.3f %.4f\n", std::string(s.info->name).c_str(), s.bytes() / keys,
                     mops(run.keys, s.lookup_s));
        ++rows;
    }
    std::fclose(f);
    if (rows == 0) return "no measured structure; chart skipped";

    auto quoted = [](const std::string& s) {
        std::string out = "'";
        for (const char c : s) {
            if (c == '\'') out += "''";
            else out += c;
        }
        return out + "'";
    };
    std::string title = run.dataset;
    if (const std::size_t slash = title.rfind('/'); slash != std::string::npos) title = title.substr(slash + 1);
    f = std::fopen(script.c_str(), "wb");
    if (f == nullptr) return "cannot write " + script;
    const double raw_per_key = keys > 0 ? static_cast<double>(run.raw_bytes) / keys : 0;
    std::fprintf(f,
                 "set terminal pngcairo size 1400,560 noenhanced font 'sans,11'\n"
                 "set output %s\n"
                 "set multiplot layout 1,2 title %s\n"
                 "set style fill solid 0.85 border -1\n"
                 "set boxwidth 0.65\n"
                 "set grid ytics\n"
                 "set xtics rotate by 20 right nomirror\n"
                 "set xrange [-0.6:%zu-0.4]\n"
                 "set yrange [0:*]\n"
                 "set offsets 0,0,graph 0.15,0\n"
                 "set key top left\n"
                 "set title 'Memory: bytes per key (lower is better)'\n"
                 "set ylabel 'bytes/key'\n"
                 "plot %s using 0:2:xtic(1) with boxes lc rgb '#4477aa' notitle, \\\n"
                 "     '' using 0:2:(sprintf('%%.1f', $2)) with labels offset 0,0.8 notitle, \\\n"
                 "     %.3f with lines dt 2 lw 2 lc rgb '#cc3311' title 'raw key bytes (%.1f)'\n"
                 "set title 'Point lookups: million per second (higher is better)'\n"
                 "set ylabel 'Mlookups/s'\n"
                 "plot %s using 0:3:xtic(1) with boxes lc rgb '#228833' notitle, \\\n"
                 "     '' using 0:3:(sprintf('%%.2f', $3)) with labels offset 0,0.8 notitle\n"
                 "unset multiplot\n",
                 quoted(png).c_str(),
                 quoted(title + " - " + std::to_string(run.keys) + " keys, medians of " +
                        std::to_string(run.runs) + " run(s)")
                     .c_str(),
                 rows, quoted(data).c_str(), raw_per_key, raw_per_key, quoted(data).c_str());
    std::fclose(f);

    const std::string command = "gnuplot " + quoted(script) + " 2>&1";
    const int status = std::system(command.c_str());
    std::remove(data.c_str());
    std::remove(script.c_str());
    ::rmdir(dir);
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return "gnuplot failed (status " + std::to_string(status) + "); chart not written";
    }
    return {};
}

}  // namespace memkv::bench
