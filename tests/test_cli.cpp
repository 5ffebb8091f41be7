// The memkv tool, end to end: the built binary (MEMKV_CLI_PATH) is run with
// posix_spawn on small files, and every read command's output is compared
// with a std::map model of the same random input. Builds of unsorted input
// use a tiny --memory so that many temporary runs are written and merged in
// several passes; every build, good or bad, must leave no temporary file.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memkv_catch.hpp"
#include "scratch_dir.hpp"
#include "test_support.hpp"

#include <memkv/hybrid_kv.hpp>

extern char** environ;

namespace {

using model = std::map<std::string, std::uint64_t>;

struct result {
    int status = -1;  // exit status, or 128 + signal
    std::string out;
    std::string err;
};

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void write_file(const std::string& path, const std::string& data) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << data;
}

// The CLI's escaping, written independently: \\ and \xHH for bytes outside
// printable ASCII.
std::string esc(std::string_view s) {
    static const char* hex = "0123456789abcdef";
    std::string o;
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '\\') {
            o += "\\\\";
        } else if (c >= 0x20 && c < 0x7F) {
            o.push_back(ch);
        } else {
            o += "\\x";
            o.push_back(hex[c >> 4]);
            o.push_back(hex[c & 15]);
        }
    }
    return o;
}

// One scratch directory per test: `work` holds the files the tool reads and
// writes (and must hold nothing else after a build); the captured streams
// live beside it.
class cli {
public:
    cli() : work_(dir_.file("work")) { std::filesystem::create_directory(work_); }

    std::string path(const std::string& name) const { return work_ + "/" + name; }
    std::set<std::string> files() const { return memkv::test::listing(work_); }

    result run(const std::vector<std::string>& args, const std::string& input = {}) {
        const std::string in = dir_.file("stdin"), out = dir_.file("stdout"), err = dir_.file("stderr");
        write_file(in, input);
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, in.c_str(), O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        result r;
        r.status = spawn(args, fa);
        posix_spawn_file_actions_destroy(&fa);
        r.out = read_file(out);
        r.err = read_file(err);
        return r;
    }

    // Standard output is a pipe whose reader has gone.
    result run_into_closed_pipe(const std::vector<std::string>& args) {
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        ::close(fds[0]);
        const std::string err = dir_.file("stderr");
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
        posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        result r;
        r.status = spawn(args, fa);
        posix_spawn_file_actions_destroy(&fa);
        ::close(fds[1]);
        r.err = read_file(err);
        return r;
    }

private:
    static int spawn(const std::vector<std::string>& args, const posix_spawn_file_actions_t& fa) {
        std::vector<std::string> owned;
        owned.push_back(MEMKV_CLI_PATH);
        owned.insert(owned.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (std::string& a : owned) argv.push_back(a.data());
        argv.push_back(nullptr);
        pid_t pid = 0;
        REQUIRE(posix_spawn(&pid, MEMKV_CLI_PATH, &fa, nullptr, argv.data(), environ) == 0);
        int st = 0;
        REQUIRE(::waitpid(pid, &st, 0) == pid);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }

    memkv::test::scratch_dir dir_{"memkv-cli"};
    std::string work_;
};

// "memkv: ...", one line: what every failure must print.
bool one_error_line(const result& r) {
    return r.err.starts_with("memkv: ") && r.err.back() == '\n' &&
           std::count(r.err.begin(), r.err.end(), '\n') == 1;
}

#define REQUIRE_FAILS(r, status_, text)                        \
    do {                                                       \
        const result& r_ = (r);                                \
        INFO("stderr: " << r_.err);                            \
        CHECK(r_.status == (status_));                         \
        CHECK(one_error_line(r_));                             \
        CHECK(r_.err.find(text) != std::string::npos);         \
    } while (0)

std::string tsv(const model& m) {
    std::string s;
    for (const auto& [k, v] : m) s += esc(k) + "\t" + std::to_string(v) + "\n";
    return s;
}

template <class It>
std::string tsv(It first, It last, bool reverse, std::size_t limit) {
    std::vector<std::pair<std::string, std::uint64_t>> items(first, last);
    if (reverse) std::reverse(items.begin(), items.end());
    if (items.size() > limit) items.resize(limit);
    std::string s;
    for (const auto& [k, v] : items) s += esc(k) + "\t" + std::to_string(v) + "\n";
    return s;
}

// Keys over a small alphabet that includes NUL, 0xFF, tab, newline and
// backslash, so that prefixes, shared suffixes and escapes all occur; plus
// the edge keys.
std::vector<std::string> random_keys(std::mt19937_64& rng, std::size_t n) {
    static const std::string alphabet("ab\0c\t\n\\\x7f\xff" "z", 10);
    std::vector<std::string> keys = {"",   "a",    "ab",  "abc",          std::string(1, '\0'), "\xff",
                                     "\xff\xff", std::string("a\0b", 3), std::string(1000, 'q') + "end"};
    std::uniform_int_distribution<std::size_t> len(0, 12), pick(0, alphabet.size() - 1);
    while (keys.size() < n) {
        std::string k;
        for (std::size_t i = len(rng); i > 0; --i) k.push_back(alphabet[pick(rng)]);
        keys.push_back(std::move(k));
    }
    return keys;
}

// A model of distinct random keys with random values (0 and the maximum
// included).
model random_model(std::mt19937_64& rng, std::size_t n) {
    model m;
    std::uint64_t i = 0;
    for (const std::string& k : random_keys(rng, n)) {
        const std::uint64_t v = i % 7 == 0 ? UINT64_MAX : i % 5 == 0 ? 0 : rng() >> (rng() % 64);
        m.emplace(k, v);
        ++i;
    }
    return m;
}

// Input lines "escaped key<TAB>value", in the given order.
std::string input_lines(const std::vector<std::pair<std::string, std::uint64_t>>& items) {
    std::string s;
    for (const auto& [k, v] : items) s += esc(k) + "\t" + std::to_string(v) + "\n";
    return s;
}

}  // namespace

TEST_CASE("cli: help and usage errors", "[cli]") {
    cli c;
    const result overview = c.run({"help"});
    CHECK(overview.status == 0);
    CHECK(overview.out.find("EXIT STATUS") != std::string::npos);
    CHECK(overview.out.find("longest-prefix") != std::string::npos);
    CHECK(c.run({"--help"}).out == overview.out);
    for (const char* command : {"build", "get", "range", "prefix", "longest-prefix", "rank", "key-at", "dump",
                                "stats", "verify", "union"}) {
        CAPTURE(command);
        const result page = c.run({"help", command});
        CHECK(page.status == 0);
        CHECK(page.out.find("SYNOPSIS") != std::string::npos);
        CHECK(c.run({command, "--help"}).out == page.out);
    }
    CHECK(c.run({"--version"}).out.starts_with("memkv "));

    REQUIRE_FAILS(c.run({}), 2, "no command");
    REQUIRE_FAILS(c.run({"frobnicate"}), 2, "no command 'frobnicate'");
    REQUIRE_FAILS(c.run({"help", "frobnicate"}), 2, "frobnicate");
    REQUIRE_FAILS(c.run({"get"}), 2, "memkv: get: missing arguments");
    REQUIRE_FAILS(c.run({"build", "in.txt"}), 2, "usage: memkv build");
    REQUIRE_FAILS(c.run({"stats", "a", "b"}), 2, "unexpected argument \"b\"");
    REQUIRE_FAILS(c.run({"dump", "f.frz", "--bogus"}), 2, "unknown option --bogus");
    REQUIRE_FAILS(c.run({"dump", "f.frz", "-x"}), 2, "unknown option \"-x\"");
    REQUIRE_FAILS(c.run({"range", "f.frz", "--limit", "ten"}), 2, "--limit \"ten\"");
    REQUIRE_FAILS(c.run({"range", "f.frz", "--limit"}), 2, "--limit needs a value");
    REQUIRE_FAILS(c.run({"build", "--memory", "12Q", "-", c.path("o.frz")}), 2, "--memory \"12Q\"");
    REQUIRE_FAILS(c.run({"build", "--memory", "1K", "-", c.path("o.frz")}), 2, "at least 4K");
    REQUIRE_FAILS(c.run({"build", "--dedup", "middle", "-", c.path("o.frz")}), 2, "'first' or 'last'");
    REQUIRE_FAILS(c.run({"build", "-", "-"}), 2, "OUT must be a file");
    REQUIRE_FAILS(c.run({"key-at", "f.frz", "-1"}), 2, "unknown option \"-1\"");
    REQUIRE_FAILS(c.run({"get", "--unescape", "f.frz", "bad\\q"}), 2, "bad escape");
    CHECK(c.files().empty());
}

TEST_CASE("cli: build sorted and unsorted input, every read command against a model", "[cli]") {
    const std::uint64_t seed = memkv::test::test_seed(71);
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    cli c;
    const model m = random_model(rng, 3000);
    std::vector<std::pair<std::string, std::uint64_t>> items(m.begin(), m.end());

    // Sorted: one streaming pass.
    write_file(c.path("sorted.tsv"), input_lines(items));
    const result sorted = c.run({"build", "--values", "--unescape", c.path("sorted.tsv"), c.path("sorted.frz")});
    INFO(sorted.err);
    REQUIRE(sorted.status == 0);
    CHECK(sorted.err.find("input was sorted") != std::string::npos);
    CHECK(sorted.err.find("bytes/key") != std::string::npos);

    // Shuffled, with 4 KiB of memory: dozens of runs and several merge
    // passes. The builder sees the same keys in the same order, so the
    // files are byte for byte the same.
    std::shuffle(items.begin(), items.end(), rng);
    write_file(c.path("shuffled.tsv"), input_lines(items));
    const result shuffled = c.run(
        {"build", "--values", "--unescape", "--memory", "4K", c.path("shuffled.tsv"), c.path("shuffled.frz")});
    INFO(shuffled.err);
    REQUIRE(shuffled.status == 0);
    CHECK(shuffled.err.find("sorted externally") != std::string::npos);
    CHECK(read_file(c.path("shuffled.frz")) == read_file(c.path("sorted.frz")));
    // The same from standard input, temporary runs in --tmp.
    std::filesystem::create_directory(c.path("tmp"));
    const result piped = c.run({"build", "--values", "--unescape", "--memory", "16K", "--tmp", c.path("tmp"), "-",
                                c.path("piped.frz")},
                               input_lines(items));
    INFO(piped.err);
    REQUIRE(piped.status == 0);
    CHECK(read_file(c.path("piped.frz")) == read_file(c.path("sorted.frz")));
    CHECK(memkv::test::listing(c.path("tmp")).empty());
    CHECK(c.files() == std::set<std::string>{"piped.frz", "shuffled.frz", "shuffled.tsv", "sorted.frz",
                                             "sorted.tsv", "tmp"});

    const std::string f = c.path("shuffled.frz");
    SECTION("dump, forward and reverse") {
        const result d = c.run({"dump", "--escape", f});
        CHECK(d.status == 0);
        CHECK(d.out == tsv(m));
        CHECK(c.run({"dump", "--escape", "--reverse", "--limit", "5", f}).out == tsv(m.begin(), m.end(), true, 5));
        std::string keys;
        for (const auto& [k, v] : m) keys += esc(k) + "\n";
        CHECK(c.run({"dump", "--escape", "--keys", f}).out == keys);
        // Raw output: the bytes themselves.
        const result raw = c.run({"dump", "--limit", "3", f});
        std::string expect;
        for (auto it = m.begin(); it != std::next(m.begin(), 3); ++it) {
            expect += it->first + "\t" + std::to_string(it->second) + "\n";
        }
        CHECK(raw.out == expect);
    }
    SECTION("get: present and absent keys, exit 1 if any is absent") {
        std::vector<std::string> args = {"get", "--unescape", f};
        std::string expect;
        std::size_t i = 0;
        for (const auto& [k, v] : m) {
            if (i++ % 97 != 0) continue;
            args.push_back(esc(k));
            expect += std::to_string(v) + "\n";
        }
        args.push_back(esc(std::string(1000, 'q')) + "end");
        expect += std::to_string(m.at(std::string(1000, 'q') + "end")) + "\n";
        const result all = c.run(args);
        CHECK(all.status == 0);
        CHECK(all.out == expect);
        CHECK(all.err.empty());

        // '-', 'k' and so on are not in the keys' alphabet.
        const result some = c.run({"get", "--unescape", f, "a", "absent-key", "\\xff"});
        CHECK(some.status == 1);
        CHECK(some.out == std::to_string(m.at("a")) + "\n\n" + std::to_string(m.at("\xff")) + "\n");
        CHECK(some.err.find("not found") != std::string::npos);
        CHECK(c.run({"get", "--quiet", f, "nope\\x01"}).err.empty());
    }
    SECTION("range: bounds, --reverse, --limit") {
        std::vector<std::string> probes = random_keys(rng, 40);
        for (std::size_t q = 0; q < 30; ++q) {
            const std::string lo = probes[q], hi = probes[(q * 7 + 3) % probes.size()];
            const bool reverse = q % 3 == 1;
            const std::size_t limit = q % 4 == 2 ? q : SIZE_MAX;
            INFO("from " << esc(lo) << " to " << esc(hi) << " reverse " << reverse << " limit " << limit);
            std::vector<std::string> args = {"range", "--escape", "--unescape", f, "--from", esc(lo)};
            if (q % 5 != 4) args.insert(args.end(), {"--to", esc(hi)});
            if (reverse) args.push_back("--reverse");
            if (limit != SIZE_MAX) args.insert(args.end(), {"--limit", std::to_string(limit)});
            const auto first = m.lower_bound(lo);
            const auto last = q % 5 == 4 ? m.end() : hi <= lo ? first : m.lower_bound(hi);
            const result r = c.run(args);
            CHECK(r.status == 0);
            CHECK(r.out == tsv(first, last, reverse, limit));
        }
        CHECK(c.run({"range", "--escape", f}).out == tsv(m));
        CHECK(c.run({"range", f, "--from", "b", "--to", "a"}).out.empty());
    }
    SECTION("prefix") {
        for (const std::string& p : {std::string(), std::string("a"), std::string("ab"), std::string("\xff"),
                                    std::string(1, '\0'), std::string("qqqq"), std::string("\\"),
                                    std::string("nothing")}) {
            CAPTURE(esc(p));
            std::string expect;
            for (auto it = m.lower_bound(p); it != m.end() && it->first.starts_with(p); ++it) {
                expect += esc(it->first) + "\t" + std::to_string(it->second) + "\n";
            }
            const result r = c.run({"prefix", "--escape", "--unescape", f, esc(p)});
            CHECK(r.status == 0);
            CHECK(r.out == expect);
        }
    }
    SECTION("longest-prefix") {
        std::vector<std::string> args = {"longest-prefix", "--escape", "--unescape", f};
        std::string expect;
        for (const std::string& k : random_keys(rng, 60)) {
            std::string q = k + "zz";
            args.push_back(esc(q));
            for (;;) {
                if (const auto it = m.find(q); it != m.end()) {
                    expect += esc(it->first) + "\t" + std::to_string(it->second) + "\n";
                    break;
                }
                q.pop_back();  // the empty key is in the model: it ends here
            }
        }
        const result r = c.run(args);
        CHECK(r.status == 0);
        CHECK(r.out == expect);
    }
    SECTION("rank and key-at") {
        std::size_t ordinal = 0;
        for (const auto& [k, v] : m) {
            if (ordinal % 301 == 0 || ordinal + 1 == m.size()) {
                INFO("ordinal " << ordinal << " key " << esc(k));
                const result r = c.run({"rank", "--unescape", f, esc(k)});
                CHECK(r.status == 0);
                CHECK(r.out == std::to_string(ordinal) + "\n");
                CHECK(c.run({"key-at", "--escape", f, std::to_string(ordinal)}).out == esc(k) + "\n");
            }
            ++ordinal;
        }
        const result absent = c.run({"rank", f, "not-a-key"});
        CHECK(absent.status == 1);
        CHECK(absent.out.empty());
        const result past = c.run({"key-at", f, std::to_string(m.size())});
        CHECK(past.status == 1);
        CHECK(past.err.find("out of range") != std::string::npos);
    }
    SECTION("stats and verify") {
        const result s = c.run({"stats", f});
        CHECK(s.status == 0);
        CHECK(s.out.find("keys            " + std::to_string(m.size()) + "\n") != std::string::npos);
        CHECK(s.out.find("automaton") != std::string::npos);
        CHECK(s.out.find("packed") != std::string::npos);
        const result v = c.run({"verify", f});
        CHECK(v.status == 0);
        CHECK(v.out == f + ": ok, " + std::to_string(m.size()) + " keys\n");
    }
    SECTION("a FrozenLayer image on standard input") {
        const result r = c.run({"get", "-", "a"}, read_file(f));
        CHECK(r.status == 0);
        CHECK(r.out == std::to_string(m.at("a")) + "\n");
    }
    SECTION("dump --escape rebuilds the same file") {
        const result d = c.run({"dump", "--escape", f});
        const result b = c.run({"build", "--values", "--unescape", "--sorted", "-", c.path("again.frz")}, d.out);
        CHECK(b.status == 0);
        CHECK(read_file(c.path("again.frz")) == read_file(f));
    }
    SECTION("a closed output pipe ends quietly") {
        const result r = c.run_into_closed_pipe({"dump", f});
        CHECK(r.status == 0);
        CHECK(r.err.empty());
    }
}

TEST_CASE("cli: keys-only builds store each key's ordinal", "[cli]") {
    cli c;
    // Unsorted, with a key holding a tab (a keys-only line is all key).
    const std::string input = "pear\nap\tple\nfig\n\nbanana\n";
    const result b = c.run({"build", "--memory", "4K", "-", c.path("k.frz")}, input);
    INFO(b.err);
    REQUIRE(b.status == 0);
    CHECK(c.run({"dump", "--escape", c.path("k.frz")}).out == "\t0\nap\\x09ple\t1\nbanana\t2\nfig\t3\npear\t4\n");
    CHECK(c.run({"get", c.path("k.frz"), "fig"}).out == "3\n");
    const result s = c.run({"stats", c.path("k.frz")});
    CHECK(s.out.find("keys only") != std::string::npos);
    CHECK(s.out.find(" 0 (0.0%), 0.00 bytes/key; keys only") != std::string::npos);
    // The last line needs no newline; a '\r' is part of the key.
    REQUIRE(c.run({"build", "-", c.path("crlf.frz")}, "a\r\nb").status == 0);
    CHECK(c.run({"dump", "--escape", "--keys", c.path("crlf.frz")}).out == "a\\x0d\nb\n");
    // An empty input is an empty file.
    REQUIRE(c.run({"build", "-", c.path("empty.frz")}, "").status == 0);
    CHECK(c.run({"stats", c.path("empty.frz")}).out.find("keys            0\n") != std::string::npos);
    CHECK(c.run({"dump", c.path("empty.frz")}).out.empty());
}

TEST_CASE("cli: duplicates, --dedup first|last, bad values, --sorted", "[cli]") {
    const std::uint64_t seed = memkv::test::test_seed(72);
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    cli c;

    SECTION("errors name the line") {
        REQUIRE_FAILS(c.run({"build", "-", c.path("o.frz")}, "a\nb\nb\nc\n"), 2,
                      "memkv: <stdin>:3: duplicate key \"b\" (first on line 2");
        write_file(c.path("in.txt"), "c\nb\na\nb\n");
        REQUIRE_FAILS(c.run({"build", c.path("in.txt"), c.path("o.frz")}), 2,
                      "memkv: " + c.path("in.txt") + ":4: duplicate key \"b\" (first on line 2");
        // The second copy in the sorted prefix, the first in a run.
        REQUIRE_FAILS(c.run({"build", "-", c.path("o.frz")}, "a\nb\nc\na\n"), 2,
                      "<stdin>:4: duplicate key \"a\" (first on line 1");
        REQUIRE_FAILS(c.run({"build", "--sorted", "-", c.path("o.frz")}, "a\nc\nb\n"), 2,
                      "<stdin>:3: key \"b\" is out of order (after \"c\" on line 2)");
        REQUIRE_FAILS(c.run({"build", "--values", "-", c.path("o.frz")}, "a\t1\nb\tx\n"), 2,
                      "<stdin>:2: bad value \"x\"");
        REQUIRE_FAILS(c.run({"build", "--values", "-", c.path("o.frz")}, "a\t1\nb\t18446744073709551616\n"), 2,
                      "<stdin>:2: bad value");
        REQUIRE_FAILS(c.run({"build", "--values", "-", c.path("o.frz")}, "a\t-1\n"), 2, "<stdin>:1: bad value");
        REQUIRE_FAILS(c.run({"build", "--values", "-", c.path("o.frz")}, "a\t1\r\n"), 2, "CRLF");
        REQUIRE_FAILS(c.run({"build", "--values", "-", c.path("o.frz")}, "a\t1\nb\n"), 2, "<stdin>:2: no tab");
        REQUIRE_FAILS(c.run({"build", "--unescape", "-", c.path("o.frz")}, "a\nb\\x4\n"), 2,
                      "<stdin>:2: bad escape");
        REQUIRE_FAILS(c.run({"build", c.path("missing.txt"), c.path("o.frz")}), 2, "missing.txt");
        CHECK(c.files() == std::set<std::string>{"in.txt"});
        // The largest value is fine.
        REQUIRE(c.run({"build", "--values", "-", c.path("max.frz")}, "k\t18446744073709551615\n").status == 0);
        CHECK(c.run({"get", c.path("max.frz"), "k"}).out == "18446744073709551615\n");
    }

    SECTION("first and last occurrence, sorted and unsorted, across runs") {
        // Few distinct keys, many repeats: equal keys land in different runs.
        std::vector<std::pair<std::string, std::uint64_t>> items;
        model first, last;
        std::uniform_int_distribution<int> pick(0, 199);
        for (std::uint64_t i = 0; i < 3000; ++i) {
            const std::string k = "key" + std::to_string(pick(rng));
            items.emplace_back(k, i);
            first.emplace(k, i);
            last[k] = i;
        }
        const std::string input = input_lines(items);
        for (const char* mode : {"first", "last"}) {
            CAPTURE(mode);
            const model& expect = std::string_view(mode) == "first" ? first : last;
            const result r = c.run({"build", "--values", "--dedup", mode, "--memory", "4K", "-", c.path("d.frz")}, input);
            INFO(r.err);
            REQUIRE(r.status == 0);
            CHECK(c.run({"dump", c.path("d.frz")}).out == tsv(expect));
            // Sorted input with adjacent duplicates (stable: input order kept).
            std::vector<std::pair<std::string, std::uint64_t>> sorted_items = items;
            std::stable_sort(sorted_items.begin(), sorted_items.end(),
                             [](const auto& a, const auto& b) { return a.first < b.first; });
            const result s = c.run({"build", "--values", "--dedup", mode, "--sorted", "-", c.path("s.frz")},
                                   input_lines(sorted_items));
            REQUIRE(s.status == 0);
            CHECK(c.run({"dump", c.path("s.frz")}).out == tsv(expect));
        }
        // Without --dedup the same input fails, and leaves nothing behind.
        const result dup = c.run({"build", "--values", "--memory", "4K", "-", c.path("d2.frz")}, input);
        REQUIRE_FAILS(dup, 2, "duplicate key");
        CHECK(c.files() == std::set<std::string>{"d.frz", "s.frz"});
    }

    SECTION("a failed build leaves the old output and no temporary file") {
        REQUIRE(c.run({"build", "-", c.path("o.frz")}, "x\ny\n").status == 0);
        const std::string before = read_file(c.path("o.frz"));
        std::string input;
        for (int i = 2000; i > 0; --i) input += "k" + std::to_string(i) + "\n";
        input += "k1000\n";  // a duplicate at the very end, found in the merge
        REQUIRE_FAILS(c.run({"build", "--memory", "4K", "-", c.path("o.frz")}, input), 2,
                      "<stdin>:2001: duplicate key \"k1000\" (first on line 1001");
        CHECK(read_file(c.path("o.frz")) == before);
        CHECK(c.files() == std::set<std::string>{"o.frz"});
    }
}

TEST_CASE("cli: union, last value wins or --sum", "[cli]") {
    const std::uint64_t seed = memkv::test::test_seed(73);
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    cli c;
    std::vector<model> parts(3);
    model last, sum;
    std::uniform_int_distribution<int> pick(0, 999);
    for (std::size_t p = 0; p < parts.size(); ++p) {
        for (int i = 0; i < 400; ++i) parts[p]["k" + std::to_string(pick(rng))] = rng() >> 40;
        const std::vector<std::pair<std::string, std::uint64_t>> items(parts[p].begin(), parts[p].end());
        REQUIRE(c.run({"build", "--values", "-", c.path("p" + std::to_string(p) + ".frz")}, input_lines(items))
                    .status == 0);
        for (const auto& [k, v] : parts[p]) {
            last[k] = v;
            sum[k] += v;
        }
    }
    const result u = c.run({"union", c.path("u.frz"), c.path("p0.frz"), c.path("p1.frz"), c.path("p2.frz")});
    INFO(u.err);
    REQUIRE(u.status == 0);
    CHECK(c.run({"dump", c.path("u.frz")}).out == tsv(last));
    REQUIRE(c.run({"union", "--sum", c.path("s.frz"), c.path("p0.frz"), c.path("p1.frz"), c.path("p2.frz")}).status ==
            0);
    CHECK(c.run({"dump", c.path("s.frz")}).out == tsv(sum));
    // The output may be an input.
    REQUIRE(c.run({"union", c.path("p0.frz"), c.path("p0.frz"), c.path("p1.frz")}).status == 0);
    model p01 = parts[0];
    for (const auto& [k, v] : parts[1]) p01[k] = v;
    CHECK(c.run({"dump", c.path("p0.frz")}).out == tsv(p01));

    // Keys-only inputs give a keys-only union.
    REQUIRE(c.run({"build", "-", c.path("a.frz")}, "b\nd\n").status == 0);
    REQUIRE(c.run({"build", "-", c.path("b.frz")}, "a\nd\ne\n").status == 0);
    REQUIRE(c.run({"union", c.path("ab.frz"), c.path("a.frz"), c.path("b.frz")}).status == 0);
    CHECK(c.run({"dump", c.path("ab.frz")}).out == "a\t0\nb\t1\nd\t2\ne\t3\n");
    REQUIRE_FAILS(c.run({"union", "--sum", c.path("x.frz"), c.path("a.frz")}), 2, "no input has values");
    // An overflowing sum.
    REQUIRE(c.run({"build", "--values", "-", c.path("big.frz")}, "k\t18446744073709551615\n").status == 0);
    REQUIRE_FAILS(c.run({"union", "--sum", c.path("x.frz"), c.path("big.frz"), c.path("big.frz")}), 2,
                  "overflows");
    CHECK(!std::filesystem::exists(c.path("x.frz")));
    for (const std::string& name : c.files()) CHECK(name.find(".tmp") == std::string::npos);
}

TEST_CASE("cli: a MemKV checkpoint is read by the same commands", "[cli]") {
    cli c;
    model m;
    {
        memkv::HybridKV<std::uint64_t>::options o;
        o.background_compaction = false;
        memkv::MemKV<std::uint64_t> kv(o);
        for (std::uint64_t i = 0; i < 500; ++i) {
            const std::string k = "user:" + std::to_string(i * 7919 % 1000);
            kv.insert_or_assign(k, i);
            m[k] = i;
        }
        kv.compact();  // a run file, then a delta over it with a tombstone
        kv.insert_or_assign("user:new", 42);
        m["user:new"] = 42;
        kv.erase("user:7");
        m.erase("user:7");
        kv.insert_or_assign(std::string(1, '\0'), 1);
        m[std::string(1, '\0')] = 1;
        kv.save(c.path("store.mkv"));
    }
    const std::string f = c.path("store.mkv");
    const result s = c.run({"stats", f});
    INFO(s.err);
    REQUIRE(s.status == 0);
    CHECK(s.out.find("memkv checkpoint") != std::string::npos);
    CHECK(s.out.find("keys            " + std::to_string(m.size()) + "\n") != std::string::npos);
    CHECK(c.run({"dump", "--escape", f}).out == tsv(m));
    CHECK(c.run({"dump", "--escape", "--reverse", "--limit", "3", f}).out == tsv(m.begin(), m.end(), true, 3));
    const result g = c.run({"get", f, "user:new", "user:7"});
    CHECK(g.status == 1);
    CHECK(g.out == "42\n\n");
    CHECK(c.run({"prefix", f, "user:99"}).out == tsv(m.lower_bound("user:99"), m.lower_bound("user:9:"), false, SIZE_MAX));
    CHECK(c.run({"range", f, "--from", "user:2", "--to", "user:3"}).out ==
          tsv(m.lower_bound("user:2"), m.lower_bound("user:3"), false, SIZE_MAX));
    CHECK(c.run({"longest-prefix", f, "user:newer"}).out == "user:new\t42\n");
    const result v = c.run({"verify", f});
    CHECK(v.status == 0);
    CHECK(v.out == f + ": ok, " + std::to_string(m.size()) + " keys\n");
    REQUIRE_FAILS(c.run({"rank", f, "user:new"}), 2, "is a memkv checkpoint");
    REQUIRE_FAILS(c.run({"union", c.path("u.frz"), f}), 2, "is a memkv checkpoint");
}

TEST_CASE("cli: corrupt, foreign and missing files", "[cli]") {
    cli c;
    std::string keys;
    for (int i = 0; i < 2000; ++i) keys += "key-" + std::to_string(i * 37 % 2000) + "\n";
    REQUIRE(c.run({"build", "-", c.path("good.frz")}, keys).status == 0);
    const std::string image = read_file(c.path("good.frz"));

    std::string flipped = image;
    flipped[image.size() / 2] = static_cast<char>(flipped[image.size() / 2] ^ 0x10);
    write_file(c.path("flipped.frz"), flipped);
    REQUIRE_FAILS(c.run({"verify", c.path("flipped.frz")}), 2, c.path("flipped.frz"));
    REQUIRE_FAILS(c.run({"verify", c.path("flipped.frz")}), 2, "checksum");

    std::string header = image;
    header[40] = static_cast<char>(header[40] ^ 1);
    write_file(c.path("header.frz"), header);
    REQUIRE_FAILS(c.run({"get", c.path("header.frz"), "key-1"}), 2, c.path("header.frz"));

    write_file(c.path("short.frz"), image.substr(0, 100));
    REQUIRE_FAILS(c.run({"stats", c.path("short.frz")}), 2, "truncated");

    write_file(c.path("words.txt"), "hello\nworld\n");
    REQUIRE_FAILS(c.run({"dump", c.path("words.txt")}), 2, "is not a FrozenLayer file or a memkv checkpoint");
    REQUIRE_FAILS(c.run({"dump", c.path("nope.frz")}), 2, "No such file");
    REQUIRE_FAILS(c.run({"dump", c.path("")}), 2, "directory");
    REQUIRE_FAILS(c.run({"get", "-", "k"}, "garbage"), 2, "<stdin>");
    CHECK(c.run({"verify", c.path("good.frz")}).status == 0);
}
