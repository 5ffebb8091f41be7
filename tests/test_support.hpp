#pragma once

// Shared helpers for memkv's tests: deterministic key generators that stress
// tries, and access to the test data directory configured by CMake.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace memkv::test {

// Polls done() every 2 ms until it holds or `limit` has passed; returns
// whether it held. Background compactions finish at their own pace: tests
// wait for the state they need, never for a fixed time.
template <class Done>
bool wait_until(Done&& done, std::chrono::milliseconds limit = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
}

// One memory mapping of this process as /proc/self/smaps describes it.
struct mapping_info {
    std::uintptr_t begin = 0;
    std::uintptr_t end = 0;
    std::string path;                   // the mapped file ("" when anonymous)
    std::vector<std::string> vm_flags;  // "rd", "rr" (random read advised), "sr" (sequential), ...
    bool has_flag(std::string_view f) const {
        for (const std::string& x : vm_flags) {
            if (x == f) return true;
        }
        return false;
    }
};

// Every mapping of this process (Linux; empty elsewhere).
inline std::vector<mapping_info> process_mappings() {
    std::vector<mapping_info> out;
    std::ifstream in("/proc/self/smaps");
    std::string line;
    while (std::getline(in, line)) {
        // A mapping's first line: "begin-end perms offset dev inode [path]".
        const std::size_t dash = line.find('-');
        const std::size_t space = line.find(' ');
        if (dash != std::string::npos && space != std::string::npos && dash < space &&
            line.find_first_not_of("0123456789abcdef") == dash) {
            mapping_info m;
            m.begin = std::stoull(line.substr(0, dash), nullptr, 16);
            m.end = std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16);
            std::istringstream fields(line);
            std::string skip;
            for (int i = 0; i < 5; ++i) fields >> skip;
            std::getline(fields >> std::ws, m.path);
            out.push_back(std::move(m));
        } else if (line.rfind("VmFlags:", 0) == 0 && !out.empty()) {
            std::istringstream flags(line.substr(8));
            for (std::string f; flags >> f;) out.back().vm_flags.push_back(f);
        }
    }
    return out;
}

// The mapping that holds address p (begin == end == 0 when none does).
inline mapping_info mapping_of(const void* p) {
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    for (mapping_info& m : process_mappings()) {
        if (m.begin <= a && a < m.end) return m;
    }
    return {};
}

// MEMKV_TEST_SCALE=<n> (default 1) multiplies the lengths of the randomized
// tests: scripts/test.sh runs the optimized build at 3, scripts/soak.sh at
// whatever reaches its operation target.
inline std::size_t test_scale() {
    const char* s = std::getenv("MEMKV_TEST_SCALE");
    const long v = s != nullptr ? std::strtol(s, nullptr, 10) : 1;
    return v > 0 ? static_cast<std::size_t>(v) : 1;
}

// The seed of a randomized test: its own constant `fixed` (CI runs are
// reproducible), or, when MEMKV_TEST_SEED=<s> is set, a mix of s and
// `fixed`, so soak runs explore new sequences while the cases of one test
// stay distinct. Rerunning with the same MEMKV_TEST_SEED repeats a run.
inline std::uint64_t test_seed(std::uint64_t fixed) {
    const char* s = std::getenv("MEMKV_TEST_SEED");
    if (s == nullptr || *s == '\0') return fixed;
    std::uint64_t z = std::strtoull(s, nullptr, 0) ^ (fixed * 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;  // splitmix64's finalizer
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

// One line per randomized run on stderr, "memkv-test: <what>: seed <seed>,
// <ops> operations", which scripts/soak.sh adds up per structure; printed
// only when MEMKV_TEST_SCALE or MEMKV_TEST_SEED is set (CI logs stay quiet).
inline void report_run(const char* what, std::uint64_t seed, std::uint64_t ops) {
    if (std::getenv("MEMKV_TEST_SCALE") == nullptr && std::getenv("MEMKV_TEST_SEED") == nullptr) return;
    std::fprintf(stderr, "memkv-test: %s: seed %llu, %llu operations\n", what, static_cast<unsigned long long>(seed),
                 static_cast<unsigned long long>(ops));
}

// Path of a file in the test data directory (MEMKV_TEST_DATA_DIR, set by CMake).
inline std::string data_path(const std::string& name) {
    return std::string(MEMKV_TEST_DATA_DIR) + "/" + name;
}

// One line per element, without the newline. Throws if the file cannot be read,
// so a missing data set fails the test instead of silently testing nothing.
inline std::vector<std::string> read_lines(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open test data file " + path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
    return lines;
}

// Generates keys that exercise every awkward case of a byte-string trie: a
// small alphabet (so keys share long prefixes and many keys are prefixes of
// others), the bytes 0x00 and 0xFF, the empty key, and occasional long keys.
// Deterministic for a given seed; print the seed in the test so a failure can
// be replayed.
class key_generator {
public:
    struct options {
        std::size_t max_len = 12;         // length of ordinary keys: 0..max_len
        std::size_t long_len = 70'000;    // length of the rare long key (> 64 KiB)
        double long_probability = 0.0005;  // chance that a key is long
        double reuse_probability = 0.3;    // chance of deriving from an earlier key
    };

    explicit key_generator(std::uint64_t seed) : key_generator(seed, options{}) {}
    key_generator(std::uint64_t seed, options opt) : rng_(seed), opt_(opt) {}

    std::string next() {
        std::string key;
        if (!history_.empty() && chance(opt_.reuse_probability)) {
            // A prefix of an earlier key, optionally extended: makes prefix keys
            // and long shared paths common.
            const std::string& base = history_[pick(history_.size())];
            key = base.substr(0, pick(base.size() + 1));
            const std::size_t extra = pick(4);
            for (std::size_t i = 0; i < extra; ++i) key.push_back(byte());
        } else if (chance(opt_.long_probability)) {
            key.assign(opt_.long_len, 'L');
            key[pick(key.size())] = static_cast<char>(pick(256));
        } else {
            const std::size_t len = pick(opt_.max_len + 1);
            for (std::size_t i = 0; i < len; ++i) key.push_back(byte());
        }
        if (history_.size() < 4096) {
            history_.push_back(key);
        } else {
            history_[pick(history_.size())] = key;
        }
        return key;
    }

    std::uint64_t next_u64() { return rng_(); }
    std::size_t pick(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(rng_() % n); }
    bool chance(double p) { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < p; }

private:
    // Mostly a 4-letter alphabet, sometimes the extreme bytes or any byte.
    char byte() {
        static constexpr unsigned char alphabet[] = {'a', 'b', 'c', 'd', 0x00, 0xFF};
        if (chance(0.05)) return static_cast<char>(pick(256));
        return static_cast<char>(alphabet[pick(sizeof alphabet)]);
    }

    std::mt19937_64 rng_;
    options opt_;
    std::vector<std::string> history_;
};

}  // namespace memkv::test
