// Tests of memkv-bench's support code: the data set loader, the synthetic key
// generator, the workload and the measurement checks (a broken adapter must
// be caught). Built from bench/CMakeLists.txt together with every adapter, so
// each registered adapter is also run through measure() here.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <new>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <utility>
#include <string>
#include <string_view>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "memkv_catch.hpp"
#include "registry.hpp"
#include "report.hpp"

using namespace memkv::bench;

// Assertions compare std::string, not std::string_view: Catch2 v2's
// string_view printer exists only when its main was compiled as C++17 or later.

namespace {

std::vector<std::string> as_strings(const Dataset& d) {
    return {d.keys().begin(), d.keys().end()};
}

}  // namespace

TEST_CASE("loader splits lines, drops CR, empty lines and duplicates", "[bench][dataset]") {
    SECTION("LF, no trailing newline") {
        const Dataset d = Dataset::from_lines("b\na\nc");
        CHECK(as_strings(d) == std::vector<std::string>{"b", "a", "c"});
        CHECK(d.raw_bytes() == 3);
        CHECK(d.sorted() == std::vector<std::uint32_t>{1, 0, 2});
    }
    SECTION("CRLF and empty lines") {
        const Dataset d = Dataset::from_lines("x\r\n\r\n\ny\r\nz\n\n");
        CHECK(as_strings(d) == std::vector<std::string>{"x", "y", "z"});
        CHECK(d.empty_lines_skipped() == 3);
    }
    SECTION("a lone CR inside a key is kept") {
        const Dataset d = Dataset::from_lines("a\rb\n");
        CHECK(as_strings(d) == std::vector<std::string>{"a\rb"});
    }
    SECTION("duplicates: first occurrence wins, values stay dense") {
        const Dataset d = Dataset::from_lines("k1\nk2\nk1\nk3\nk2\n");
        CHECK(as_strings(d) == std::vector<std::string>{"k1", "k2", "k3"});
        CHECK(d.duplicates_removed() == 2);
    }
    SECTION("NUL and high bytes are key bytes; order is unsigned") {
        const std::string text("a\0b\n\xff\nA\n", 7);
        const Dataset d = Dataset::from_lines(text);
        REQUIRE(d.size() == 3);
        CHECK(std::string(d.keys()[0]) == std::string("a\0b", 3));
        CHECK(d.has_nul());
        CHECK(std::string(d.keys()[d.sorted().back()]) == "\xff");
    }
    SECTION("every key is followed by a NUL byte") {
        const Dataset d = Dataset::from_lines("abc\r\nde\nf");
        for (const std::string_view k : d.keys()) CHECK(k.data()[k.size()] == '\0');
    }
    SECTION("empty input") {
        const Dataset d = Dataset::from_lines("");
        CHECK(d.size() == 0);
        CHECK(Dataset::from_lines("\n\n").size() == 0);
    }
    SECTION("a missing file throws") {
        CHECK_THROWS(Dataset::load_file("/nonexistent/memkv-bench-keys.txt"));
    }
}

TEST_CASE("synthetic keys are deterministic, unique and URL-like", "[bench][dataset]") {
    const Dataset a = Dataset::synthetic(5000, 7);
    const Dataset b = Dataset::synthetic(5000, 7);
    const Dataset c = Dataset::synthetic(5000, 8);
    REQUIRE(a.size() == 5000);
    CHECK(as_strings(a) == as_strings(b));
    CHECK(as_strings(a) != as_strings(c));
    CHECK(a.duplicates_removed() == 0);
    const std::set<std::string> unique(a.keys().begin(), a.keys().end());
    CHECK(unique.size() == a.size());
    for (const std::string_view k : a.keys()) {
        CHECK((k.starts_with("https://") || k.starts_with("http://")));
        CHECK(k.find('\n') == std::string_view::npos);
    }
    CHECK(!a.has_nul());
    // Zipf-like hosts: the most frequent host holds far more than its even share.
    std::map<std::string_view, std::size_t> per_host;
    for (const std::string_view k : a.keys()) {
        const std::string_view rest = k.substr(k.find("//") + 2);
        ++per_host[rest.substr(0, rest.find('/'))];
    }
    std::size_t top = 0;
    for (const auto& [host, count] : per_host) top = std::max(top, count);
    CHECK(top > 10 * a.size() / per_host.size());
}

TEST_CASE("workload: orders are permutations, misses absent, prefixes exact", "[bench][workload]") {
    const Dataset d = Dataset::synthetic(3000, 3);
    WorkloadOptions opt;
    opt.misses = 2000;
    opt.prefixes = 100;
    const Workload w = make_workload(d, opt);
    REQUIRE(w.size() == d.size());
    std::vector<std::uint64_t> values;
    for (const Entry& e : w.insert_order) {
        CHECK(std::string(d.keys()[e.value]) == std::string(e.key));
        values.push_back(e.value);
    }
    std::sort(values.begin(), values.end());
    for (std::size_t i = 0; i < values.size(); ++i) REQUIRE(values[i] == i);
    CHECK(std::is_sorted(w.sorted.begin(), w.sorted.end(),
                         [](const Entry& x, const Entry& y) { return x.key < y.key; }));
    CHECK(w.lookup_order.size() == d.size());

    const std::set<std::string_view> present(d.keys().begin(), d.keys().end());
    REQUIRE(w.misses.size() == 2000);
    for (const std::string_view m : w.misses) {
        CHECK(present.count(m) == 0);
        CHECK(m.data()[m.size()] == '\0');
    }
    REQUIRE(w.prefixes.size() == 100);
    for (const PrefixQuery& q : w.prefixes) {
        const auto expected = static_cast<std::size_t>(std::count_if(
            d.keys().begin(), d.keys().end(), [&](std::string_view k) { return k.starts_with(q.prefix); }));
        CHECK(q.hi - q.lo == expected);
        CHECK(expected >= 1);
    }
    // Same seed, same workload.
    const Workload again = make_workload(d, opt);
    CHECK(again.insert_order.front().value == w.insert_order.front().value);
    CHECK((again.misses == w.misses));  // parenthesized: no string_view printing
}

namespace {

enum class Fault { none, wrong_value, finds_absent, drops_key, repeats_key, wrong_order, throws };

// Fresh anonymous memory in 4 KiB pages, each written once: one minor fault
// a page (Linux; nothing elsewhere).
class fresh_pages {
public:
    fresh_pages() = default;
    fresh_pages(const fresh_pages&) = delete;
    fresh_pages& operator=(const fresh_pages&) = delete;
    ~fresh_pages() {
#if defined(__linux__)
        if (p_ != nullptr) ::munmap(p_, bytes_);
#endif
    }
    void touch(std::size_t pages) {
#if defined(__linux__)
        bytes_ = pages * 4096;
        void* p = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::bad_alloc();
        p_ = static_cast<char*>(p);
        ::madvise(p_, bytes_, MADV_NOHUGEPAGE);  // one fault a 4 KiB page also where THP is "always"
        for (std::size_t i = 0; i < bytes_; i += 4096) static_cast<volatile char*>(p_)[i] = 1;
#else
        (void)pages;
#endif
    }

private:
    char* p_ = nullptr;
    std::size_t bytes_ = 0;
};

// A reference adapter with switchable faults, to show the checks catch them.
template <bool Ordered>
struct Faulty {
    static constexpr std::string_view name = "faulty";
    static constexpr bool ordered = Ordered;
    static constexpr bool sorted_build = false;

    static inline Fault fault = Fault::none;
    // Pages of fresh memory the first insert touches (see fresh_pages).
    static inline std::size_t touch_pages = 0;

    void insert(std::string_view key, std::uint64_t value) {
        if (fault == Fault::throws) throw std::runtime_error("out of cheese");
        if (touch_pages != 0 && map.empty()) touched.touch(touch_pages);
        map.emplace(std::string(key), value);
    }
    std::optional<std::uint64_t> find(std::string_view key) const {
        const auto it = map.find(key);
        if (it == map.end()) {
            if (fault == Fault::finds_absent && key.size() % 2 == 0) return 0;
            return std::nullopt;
        }
        if (fault == Fault::wrong_value && it->second == 5) return 6;
        return it->second;
    }
    template <class F>
    void for_each(F&& f) const {
        if (fault == Fault::wrong_order) {
            for (auto it = map.rbegin(); it != map.rend(); ++it) f(std::string_view(it->first), it->second);
            return;
        }
        std::size_t i = 0;
        for (const auto& [k, v] : map) {
            const std::size_t at = i++;
            if (fault == Fault::drops_key && at == 0) continue;
            // Visits the first key twice instead of the second: the count stays right.
            if (fault == Fault::repeats_key && at == 1) {
                f(std::string_view(map.begin()->first), map.begin()->second);
                continue;
            }
            f(std::string_view(k), v);
        }
    }
    template <class F>
    void for_each_prefix(std::string_view p, F&& f) const {
        for (auto it = map.lower_bound(p); it != map.end() && std::string_view(it->first).starts_with(p); ++it) {
            f(std::string_view(it->first), it->second);
        }
    }
    std::optional<std::size_t> memory_usage() const { return map.size() * 100; }

    std::map<std::string, std::uint64_t, std::less<>> map;
    fresh_pages touched;
};
static_assert(Structure<Faulty<true>>);
static_assert(Structure<Faulty<false>>);

}  // namespace

TEST_CASE("measure() verifies results and reports faults", "[bench][measure]") {
    const Dataset d = Dataset::synthetic(2000, 5);
    WorkloadOptions opt;
    opt.misses = 2000;
    opt.prefixes = 50;
    const Workload w = make_workload(d, opt);

    using Ordered = Faulty<true>;
    using Unordered = Faulty<false>;
    Ordered::fault = Fault::none;
    Measurement m = measure<Ordered>(w);
    CHECK(m.ok == 1);
    CHECK(std::string(m.error).empty());
    CHECK(m.has_memory_usage == 1);
    CHECK(m.memory_usage == 2000 * 100);
    CHECK(m.prefix_timed == 1);
    CHECK(m.build_s >= 0);
    CHECK(m.build_sys_s >= 0);
#if defined(__linux__)
    // The build's minor faults are the build's: 16 MiB of fresh pages touched
    // by its first insert are counted, and not by a build that touches none.
    const std::uint64_t quiet_faults = m.build_faults;
    Ordered::touch_pages = 4096;
    m = measure<Ordered>(w);
    Ordered::touch_pages = 0;
    CHECK(m.ok == 1);
    CHECK(m.build_faults >= 4096);
    CHECK(quiet_faults < 4096);
#endif

    for (const Fault fault :
         {Fault::wrong_value, Fault::finds_absent, Fault::drops_key, Fault::repeats_key, Fault::wrong_order,
          Fault::throws}) {
        Ordered::fault = fault;
        m = measure<Ordered>(w);
        INFO("fault " << static_cast<int>(fault) << ": " << m.error);
        CHECK(m.ok == 0);
        CHECK(!std::string(m.error).empty());
    }
    Ordered::fault = Fault::none;

    // Unordered structures are checked as sets: order is free, repeats are not.
    Unordered::fault = Fault::wrong_order;
    m = measure<Unordered>(w);
    CHECK(m.ok == 1);
    for (const Fault fault : {Fault::drops_key, Fault::repeats_key}) {
        Unordered::fault = fault;
        m = measure<Unordered>(w);
        INFO("unordered, fault " << static_cast<int>(fault) << ": " << m.error);
        CHECK(m.ok == 0);
    }
    Unordered::fault = Fault::none;
}

TEST_CASE("every registered adapter passes the harness on a small set", "[bench][adapters]") {
    const Dataset d = Dataset::synthetic(3000, 11);
    WorkloadOptions opt;
    opt.misses = 3000;
    opt.prefixes = 50;
    const Workload w = make_workload(d, opt);
    REQUIRE(!registry().empty());
    for (const StructureInfo& s : registry()) {
        const Measurement m = s.run(w);
        INFO(s.name << ": " << m.error);
        CHECK(m.ok == 1);
    }
}

TEST_CASE("workload: ordinal values are the keys' ranks, and every adapter passes with them", "[bench][workload]") {
    const Dataset d = Dataset::synthetic(3000, 5);
    WorkloadOptions opt;
    opt.misses = 1000;
    opt.prefixes = 50;
    opt.ordinal_values = true;
    const Workload w = make_workload(d, opt);
    for (std::size_t r = 0; r < w.sorted.size(); ++r) REQUIRE(w.sorted[r].value == r);
    std::map<std::string_view, std::uint64_t> rank;
    for (const Entry& e : w.sorted) rank[e.key] = e.value;
    for (const Entry& e : w.insert_order) REQUIRE(rank.at(e.key) == e.value);
    for (const Entry& e : w.lookup_order) REQUIRE(rank.at(e.key) == e.value);
    WorkloadOptions by_index = opt;
    by_index.ordinal_values = false;
    const Workload wi = make_workload(d, by_index);
    for (const StructureInfo& s : registry()) {
        const Measurement m = s.run(w);
        INFO(s.name << ": " << m.error);
        CHECK(m.ok == 1);
        // FrozenLayer stores ordinal values in no column at all.
        if (s.name == "frozen") {
            const Measurement mi = s.run(wi);
            REQUIRE(mi.ok == 1);
            CHECK(m.memory_usage + 3000 * 11 / 8 <= mi.memory_usage);
        }
    }
}

namespace {

// A sorted_build adapter (a sorted vector with binary search) with a finish()
// hook, for the build() path of the harness.
struct SortedVector {
    static constexpr std::string_view name = "sorted_vector";
    static constexpr bool ordered = true;
    static constexpr bool sorted_build = true;
    static inline int finished = 0;

    void build(std::span<const Entry> sorted) {
        for (const Entry& e : sorted) {
            if (!entries.empty() && !(entries.back().first < e.key)) throw std::logic_error("unsorted build input");
            entries.emplace_back(std::string(e.key), e.value);
        }
    }
    void finish() { ++finished; }

    std::optional<std::uint64_t> find(std::string_view key) const {
        const auto it = lower(key);
        if (it == entries.end() || it->first != key) return std::nullopt;
        return it->second;
    }
    template <class F>
    void for_each(F&& f) const {
        for (const auto& [k, v] : entries) f(std::string_view(k), v);
    }
    template <class F>
    void for_each_prefix(std::string_view p, F&& f) const {
        for (auto it = lower(p); it != entries.end() && std::string_view(it->first).starts_with(p); ++it) {
            f(std::string_view(it->first), it->second);
        }
    }
    std::optional<std::size_t> memory_usage() const { return std::nullopt; }

    std::vector<std::pair<std::string, std::uint64_t>>::const_iterator lower(std::string_view key) const {
        return std::lower_bound(entries.begin(), entries.end(), key,
                                [](const auto& e, std::string_view k) { return std::string_view(e.first) < k; });
    }

    std::vector<std::pair<std::string, std::uint64_t>> entries;
};
static_assert(Structure<SortedVector>);
static_assert(HasFinish<SortedVector>);

}  // namespace

TEST_CASE("measure() builds sorted_build structures from sorted keys", "[bench][measure]") {
    const Dataset d = Dataset::from_lines("delta\nalpha\ncharlie\nbravo\nalphabet\n\xc3\xa9t\xc3\xa9\n");
    WorkloadOptions opt;
    opt.misses = 100;
    opt.prefixes = 20;
    const Workload w = make_workload(d, opt);
    SortedVector::finished = 0;
    const Measurement m = measure<SortedVector>(w);
    INFO(m.error);
    CHECK(m.ok == 1);
    CHECK(SortedVector::finished == 2);  // the warm-up instance and the measured one
    CHECK(m.has_memory_usage == 0);
    CHECK(m.misses == 100);
}

TEST_CASE("paired ratios pair run r of a structure with run r of the baseline", "[bench][report]") {
    StructureInfo a_info{};
    a_info.name = "a";
    StructureInfo b_info{};
    b_info.name = "base";
    // The machine drifts: run 1 is twice as slow for both. Paired, a is 2x
    // the baseline in every run; the medians (2, 4 vs 4, 8 per run) would
    // say the same here, but the spread is what pairing removes.
    auto run = [](double lookup, double miss, double prefix) {
        Measurement m;
        m.ok = 1;
        m.build_s = 1;
        m.lookup_s = lookup;
        m.miss_s = miss;
        m.iterate_s = -1;  // not measured
        m.prefix_s = prefix;
        m.prefix_timed = 1;
        m.misses = 10;
        return m;
    };
    const Summary a = summarize(a_info, {run(1, 3, 2), run(2, 6, 2), run(1.5, 3, 1)}, {});
    const Summary base = summarize(b_info, {run(2, 3, 1), run(4, 3, 1), run(3, 3, 1)}, {});

    const PairedRatio lookup = paired_ratio(a, base, &Measurement::lookup_s);
    CHECK(lookup.count == 3);
    CHECK(lookup.median == 2.0);
    CHECK(lookup.lo == 2.0);
    CHECK(lookup.hi == 2.0);
    const PairedRatio miss = paired_ratio(a, base, &Measurement::miss_s);
    CHECK(miss.median == 1.0);
    CHECK(miss.lo == 0.5);
    CHECK(miss.hi == 1.0);

    const auto all = paired_ratios(a, base);
    std::vector<std::string> names;
    for (const auto& [op, pr] : all) names.push_back(op);
    // iterate was not measured: no ratio; the build of a shuffled-insert
    // structure is its insert.
    CHECK(names == std::vector<std::string>{"insert", "lookup", "miss", "prefix"});
    CHECK(all.back().second.median == 0.5);
    CHECK(all.back().second.lo == 0.5);
    CHECK(all.back().second.hi == 1.0);

    // Fewer runs of one side (a failed run): only the pairs both have.
    const Summary short_base = summarize(b_info, {run(2, 3, 1)}, {});
    CHECK(paired_ratio(a, short_base, &Measurement::lookup_s).count == 1);

    std::vector<Summary> results{a, base};
    CHECK(find_baseline(results, "base") == &results[1]);
    CHECK(find_baseline(results, "other") == nullptr);
    CHECK(find_baseline(results, "") == nullptr);
}

TEST_CASE("the report shows each run's build ratio beside the builds' kernel time", "[bench][report]") {
    StructureInfo a_info{};
    a_info.name = "a";
    StructureInfo b_info{};
    b_info.name = "base";
    auto run = [](double build, double sys) {
        Measurement m;
        m.ok = 1;
        m.build_s = build;
        m.build_sys_s = sys;
        m.build_faults = 100;
        m.lookup_s = 1;
        m.miss_s = 1;
        m.misses = 10;
        return m;
    };
    // Run 2 of a waited 0.5 s in the kernel and read half the baseline's speed.
    const Summary a = summarize(a_info, {run(1, 0.001), run(4, 0.5), run(1, 0.002)}, {});
    const Summary base = summarize(b_info, {run(2, 0.01), run(2, 0.02), run(2, 0.03)}, {});
    RunInfo info;
    info.dataset = "test";
    info.keys = 10;
    info.runs = 3;
    std::FILE* f = std::tmpfile();
    REQUIRE(f != nullptr);
    print_table(f, info, {a, base}, "base");
    std::rewind(f);
    std::string text;
    for (int c; (c = std::fgetc(f)) != EOF;) text.push_back(static_cast<char>(c));
    std::fclose(f);
    INFO(text);
    CHECK(text.find("a 0.002 s (0.001-0.500), 100 faults, base 0.020 s (0.010-0.030), 100 faults") != std::string::npos);
    CHECK(text.find("    insert by run (kernel s, a/base): 2.00 (0.001/0.010), 0.50 (0.500/0.020), 2.00 (0.002/0.030)") !=
          std::string::npos);
}
