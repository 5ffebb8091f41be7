// memkv-bench: measures every registered structure on one key set and reports
// memory per key and operation rates. See DESIGN.md, "The benchmark harness".
//
// Each run of each structure happens in its own forked child, so the child's
// RSS holds nothing but the shared, already loaded workload and that one
// structure; the child sends its Measurement back through a pipe. A crash, a
// wrong result or an exception marks the structure failed and makes the exit
// status non-zero.

#include <malloc.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dataset.hpp"
#include "measure.hpp"
#include "progress.hpp"
#include "registry.hpp"
#include "report.hpp"
#include "shapes.hpp"
#include "workload.hpp"

namespace {

using namespace memkv::bench;

constexpr int exit_failure = 1;  // a structure failed
constexpr int exit_usage = 2;    // bad command line or unreadable input

struct Options {
    std::string dataset;
    std::optional<SyntheticSpec> synthetic;
    std::size_t inputs = 0;  // how many of --dataset, --synthetic, --synthetic-shape were given
    std::string structures = "all";
    std::size_t runs = 1;
    WorkloadOptions workload;
    std::string json;
    std::string chart;
    std::string baseline;  // --baseline: paired speed ratios against this structure
    bool progress = true;
    bool list = false;
};

void usage(std::FILE* out) {
    std::fputs(
        "usage: memkv-bench (--dataset FILE | --synthetic N | --synthetic-shape SHAPE:N) [options]\n"
        "\n"
        "Measures memory per key and operation rates of string-key structures.\n"
        "\n"
        "input (one of):\n"
        "  --dataset FILE       one key per line (CRLF accepted; empty lines skipped,\n"
        "                       duplicates removed, first occurrence kept)\n"
        "  --synthetic N        N deterministic URL-like keys (= --synthetic-shape urls:N)\n"
        "  --synthetic-shape SHAPE:N\n"
        "                       N deterministic keys of one shape: urls, names\n"
        "                       (@scope/package-name, ~20 B), paths (deep file paths,\n"
        "                       ~60 B), binary (random 16 B), ints (random 64-bit,\n"
        "                       8 B big-endian); e.g. names:4000000\n"
        "options:\n"
        "  --structures LIST    comma-separated adapter names, or 'all' (default)\n"
        "  --runs K             repeat each structure K times, report medians (default 1)\n"
        "  --seed S             seed of the shuffles, misses and prefixes (default 42);\n"
        "                       also seeds --synthetic and --synthetic-shape\n"
        "  --misses N           absent-key lookups (default 1000000)\n"
        "  --prefixes N         prefix scans (default 10000; 0 disables)\n"
        "  --no-iterate         skip the full-iteration phase\n"
        "  --values KIND        each key's value: index (its line in the data set,\n"
        "                       default) or ordinal (its rank in byte order, what\n"
        "                       order-preserving dictionaries store for free)\n"
        "  --baseline NAME      also print each structure's speed against NAME (one of\n"
        "                       the structures run), paired run by run: the runs\n"
        "                       take turns, so run r of each sees the same machine\n"
        "  --json FILE          write the results as JSON\n"
        "  --chart FILE.png     draw bytes/key and lookups/s with gnuplot\n"
        "  --no-progress        no progress line on stderr\n"
        "  --list               list the registered structures and exit\n"
        "  --help               this text\n"
        "exit status: 0 all verified, 1 a structure failed, 2 usage or input error\n",
        out);
}

// Parses a non-negative decimal integer; false on anything else.
bool parse_size(std::string_view text, std::size_t& out) {
    if (text.empty() || text.size() > 19) return false;
    std::size_t v = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<std::size_t>(c - '0');
    }
    out = v;
    return true;
}

bool parse_args(int argc, char** argv, Options& opt) {
    std::vector<std::string_view> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view a = args[i];
        auto value = [&](std::string_view& out) {
            if (i + 1 >= args.size()) {
                std::fprintf(stderr, "memkv-bench: %.*s needs a value\n", static_cast<int>(a.size()), a.data());
                return false;
            }
            out = args[++i];
            return true;
        };
        auto number = [&](std::size_t& out) {
            std::string_view v;
            if (!value(v)) return false;
            if (!parse_size(v, out)) {
                std::fprintf(stderr, "memkv-bench: %.*s expects a number, got '%.*s'\n",
                             static_cast<int>(a.size()), a.data(), static_cast<int>(v.size()), v.data());
                return false;
            }
            return true;
        };
        std::string_view v;
        std::size_t n = 0;
        if (a == "--help" || a == "-h") {
            usage(stdout);
            std::exit(0);
        } else if (a == "--dataset") {
            if (!value(v)) return false;
            opt.dataset = v;
            ++opt.inputs;
        } else if (a == "--synthetic") {
            if (!number(n)) return false;
            opt.synthetic = SyntheticSpec{KeyShape::urls, n};
            ++opt.inputs;
        } else if (a == "--synthetic-shape") {
            if (!value(v)) return false;
            std::string error;
            opt.synthetic = parse_synthetic_spec(v, error);
            if (!opt.synthetic) {
                std::fprintf(stderr, "memkv-bench: --synthetic-shape: %s\n", error.c_str());
                return false;
            }
            ++opt.inputs;
        } else if (a == "--structures") {
            if (!value(v)) return false;
            opt.structures = v;
        } else if (a == "--runs") {
            if (!number(opt.runs)) return false;
        } else if (a == "--seed") {
            if (!number(n)) return false;
            opt.workload.seed = n;
        } else if (a == "--misses") {
            if (!number(opt.workload.misses)) return false;
        } else if (a == "--prefixes") {
            if (!number(opt.workload.prefixes)) return false;
        } else if (a == "--no-iterate") {
            opt.workload.iterate = false;
        } else if (a == "--values") {
            if (!value(v)) return false;
            if (v != "index" && v != "ordinal") {
                std::fprintf(stderr, "memkv-bench: --values must be index or ordinal, not '%.*s'\n", static_cast<int>(v.size()), v.data());
                return false;
            }
            opt.workload.ordinal_values = v == "ordinal";
        } else if (a == "--json") {
            if (!value(v)) return false;
            opt.json = v;
        } else if (a == "--baseline") {
            if (!value(v)) return false;
            opt.baseline = v;
        } else if (a == "--chart") {
            if (!value(v)) return false;
            opt.chart = v;
        } else if (a == "--no-progress") {
            opt.progress = false;
        } else if (a == "--list") {
            opt.list = true;
        } else {
            std::fprintf(stderr, "memkv-bench: unknown argument '%.*s'\n", static_cast<int>(a.size()), a.data());
            return false;
        }
    }
    if (opt.list) return true;
    if (opt.inputs != 1 || (opt.synthetic && opt.synthetic->keys == 0) || (!opt.synthetic && opt.dataset.empty())) {
        std::fputs("memkv-bench: give exactly one of --dataset FILE, --synthetic N and --synthetic-shape SHAPE:N "
                   "(N > 0)\n",
                   stderr);
        return false;
    }
    if (opt.runs == 0) {
        std::fputs("memkv-bench: --runs must be at least 1\n", stderr);
        return false;
    }
    return true;
}

std::vector<const StructureInfo*> sorted_registry() {
    std::vector<const StructureInfo*> all;
    for (const StructureInfo& s : registry()) all.push_back(&s);
    std::sort(all.begin(), all.end(), [](auto* a, auto* b) { return a->name < b->name; });
    return all;
}

// The structures named by --structures, in the order named; "all" is every
// registered one in name order. Reports unknown names and returns false.
bool select_structures(const std::string& list, std::vector<const StructureInfo*>& out) {
    const auto all = sorted_registry();
    if (list == "all") {
        out = all;
        return true;
    }
    std::string_view rest(list);
    while (!rest.empty()) {
        const std::size_t comma = rest.find(',');
        const std::string_view name = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        if (name.empty()) continue;
        const auto it = std::find_if(all.begin(), all.end(), [&](auto* s) { return s->name == name; });
        if (it == all.end()) {
            std::fprintf(stderr, "memkv-bench: unknown structure '%.*s'; built in:",
                         static_cast<int>(name.size()), name.data());
            for (auto* s : all) std::fprintf(stderr, " %.*s", static_cast<int>(s->name.size()), s->name.data());
            if (name == "libart") {
                std::fputs("\n  (libart is built in only with -DMEMKV_BENCH_LIBART=ON and an installed libart)",
                           stderr);
            }
            if (name == "marisa") {
                std::fputs("\n  (marisa is built in only with -DMEMKV_BENCH_MARISA=ON and libmarisa-dev installed)",
                           stderr);
            }
            std::fputs("\n", stderr);
            return false;
        }
        if (std::find(out.begin(), out.end(), *it) == out.end()) out.push_back(*it);
    }
    if (out.empty()) {
        std::fputs("memkv-bench: --structures names no structure\n", stderr);
        return false;
    }
    return true;
}

bool write_all(int fd, const void* data, std::size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t put = ::write(fd, p, size);
        if (put < 0 && errno == EINTR) continue;
        if (put <= 0) return false;
        p += put;
        size -= static_cast<std::size_t>(put);
    }
    return true;
}

std::size_t read_all(int fd, void* data, std::size_t size) {
    char* p = static_cast<char*>(data);
    std::size_t got = 0;
    while (got < size) {
        const ssize_t r = ::read(fd, p + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += static_cast<std::size_t>(r);
    }
    return got;
}

// Runs one measurement in a forked child. On failure to get a result, returns
// false with the reason in `error`.
bool run_in_child(const StructureInfo& info, const Workload& w, Measurement& m, std::string& error) {
    int fds[2];
    if (::pipe(fds) != 0) {
        error = std::string("pipe: ") + std::strerror(errno);
        return false;
    }
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        error = std::string("fork: ") + std::strerror(errno);
        ::close(fds[0]);
        ::close(fds[1]);
        return false;
    }
    if (pid == 0) {
        ::close(fds[0]);
        const Measurement result = info.run(w);
        const bool sent = write_all(fds[1], &result, sizeof result);
        ::close(fds[1]);
        // _exit: no atexit handlers or static destructors of the parent's state
        // run twice, and the structure is already destroyed.
        ::_exit(sent ? 0 : 3);
    }
    ::close(fds[1]);
    const std::size_t got = read_all(fds[0], &m, sizeof m);
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status)) {
        error = std::string("child killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
                strsignal(WTERMSIG(status)) + ")";
        return false;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || got != sizeof m) {
        error = "child exited with status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                " without a complete result";
        return false;
    }
    m.error[sizeof m.error - 1] = '\0';
    return true;
}

int run(const Options& opt) {
    std::vector<const StructureInfo*> chosen;
    if (!select_structures(opt.structures, chosen)) return exit_usage;
    if (!opt.baseline.empty() &&
        std::none_of(chosen.begin(), chosen.end(), [&](const StructureInfo* s) { return s->name == opt.baseline; })) {
        std::fprintf(stderr, "memkv-bench: --baseline %s is not one of the structures run\n", opt.baseline.c_str());
        return exit_usage;
    }

    Progress& pg = progress();
    pg.enable(opt.progress);
    const std::size_t total = chosen.size() * opt.runs;
    pg.step(0, total, "loading keys");

    Dataset data;
    try {
        data = opt.synthetic ? synthetic_keys(opt.synthetic->shape, opt.synthetic->keys, opt.workload.seed)
                             : Dataset::load_file(opt.dataset);
    } catch (const std::exception& e) {
        pg.clear();
        std::fprintf(stderr, "memkv-bench: %s\n", e.what());
        return exit_usage;
    }
    if (data.duplicates_removed() > 0 || data.empty_lines_skipped() > 0) {
        pg.clear();
        std::fprintf(stderr, "memkv-bench: %s: removed %zu duplicate key(s), skipped %zu empty line(s)\n",
                     data.name().c_str(), data.duplicates_removed(), data.empty_lines_skipped());
    }
    pg.step(0, total, "preparing the workload");
    const Workload workload = make_workload(data, opt.workload);
    // Hand freed loader memory back to the kernel, so a child cannot fill its
    // structure from free lists inherited from the parent, which would hide
    // part of the structure from the RSS delta.
    ::malloc_trim(0);

    // Round-robin over the structures (run 1 of each, then run 2, ...): the
    // speed of a shared VM drifts by 2x within minutes, and structures run
    // back to back would each see a different machine; interleaved, the
    // medians of their runs see the same mix of it.
    std::vector<const StructureInfo*> runnable;
    for (const StructureInfo* info : chosen) {
        if (!(info->needs_nul_terminator && data.nul_terminator_ambiguous())) runnable.push_back(info);
    }
    std::vector<std::vector<Measurement>> runs(chosen.size());
    std::vector<std::vector<std::string>> errors(chosen.size());
    std::size_t done = 0;
    for (std::size_t r = 0; r < opt.runs; ++r) {
        for (std::size_t c = 0; c < chosen.size(); ++c) {
            const StructureInfo* info = chosen[c];
            if (std::find(runnable.begin(), runnable.end(), info) == runnable.end()) continue;
            pg.step(done, runnable.size() * opt.runs,
                    std::string(info->name) + " run " + std::to_string(r + 1) + "/" + std::to_string(opt.runs));
            Measurement m;
            std::string error;
            if (!run_in_child(*info, workload, m, error)) {
                errors[c].push_back(std::move(error));
            } else {
                if (m.ok != 1) errors[c].push_back(m.error);
                runs[c].push_back(m);
            }
            ++done;
        }
    }
    std::vector<Summary> results;
    for (std::size_t c = 0; c < chosen.size(); ++c) {
        const StructureInfo* info = chosen[c];
        if (std::find(runnable.begin(), runnable.end(), info) == runnable.end()) {
            Summary s;
            s.info = info;
            s.status = Status::skipped;
            s.message = "a key followed by '\\0' begins another key, so this structure's '\\0' terminator cannot "
                        "separate them";
            results.push_back(std::move(s));
            continue;
        }
        results.push_back(summarize(*info, runs[c], errors[c]));
    }
    pg.clear();

    RunInfo run_info{data.name(), data.size(), data.raw_bytes(), opt.runs, opt.workload.seed,
                     opt.workload.ordinal_values ? "ordinal" : "index"};
    print_table(stdout, run_info, results, opt.baseline);
    std::fflush(stdout);

    int status = 0;
    for (const Summary& s : results) {
        if (s.status == Status::failed || (s.status == Status::ok && !s.verified)) status = exit_failure;
    }
    if (!opt.json.empty() && !write_json(opt.json, run_info, results, opt.baseline)) {
        std::fprintf(stderr, "memkv-bench: cannot write %s\n", opt.json.c_str());
        status = status != 0 ? status : exit_usage;
    }
    if (!opt.chart.empty()) {
        if (const std::string why = write_chart(opt.chart, run_info, results); !why.empty()) {
            std::fprintf(stderr, "memkv-bench: %s\n", why.c_str());
        }
    }
    return status;
}

}  // namespace

int main(int argc, char** argv) {
    Options opt;
    if (!parse_args(argc, argv, opt)) {
        usage(stderr);
        return exit_usage;
    }
    if (opt.list) {
        for (const StructureInfo* s : sorted_registry()) {
            std::printf("%.*s%s%s\n", static_cast<int>(s->name.size()), s->name.data(),
                        s->ordered ? " (ordered)" : "", s->sorted_build ? " (sorted build)" : "");
        }
        return 0;
    }
    try {
        return run(opt);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "memkv-bench: %s\n", e.what());
        return exit_usage;
    }
}
