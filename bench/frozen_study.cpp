// memkv-frozen-study: where FrozenLayer's bytes go, per key shape, and how far
// a symbol table could shrink the unique tails (the FrozenLayer v2 issue asks
// which parts of the v1 format to compress; this answers it with numbers).
//
//   memkv-frozen-study INPUT...      INPUT: a key file (one key per line) or
//                                    SHAPE:N (urls, names, paths, binary, ints)
//
// For each input, keys only (ordinal values, stored in no bytes):
//   file B/key      the automaton's bytes per key (FrozenLayerBuilder, defaults)
//   chain           one-byte chain nodes (a single label from the 128-entry
//                   table, or a pair node: two labels in one byte) per key
//   single          other one-transition nodes (header + label + target) per key
//   branching       nodes with two or more transitions or a final mark, and
//                   of those the target deltas and the counts
// and, for the unique tails (the bytes of each key after its longest common
// prefix with either sorted neighbour, less the byte that branches there):
//   tail raw        their bytes per key: what a trie stores once per key
//   codes/2         codes per key with a static table of 192 symbols of 1-2
//                   bytes (about what the chain table's singles + pairs do)
//   codes/8         the same with 255 symbols of 1-8 bytes (FSST-like)
// Tables are trained on a sample of the tails: start from nothing, encode the
// sample with greedy longest match, score every used symbol and every
// concatenation of two neighbouring symbols by the bytes it covered, keep the
// best, six rounds (the scheme of Boncz, Neumann and Leis, "FSST", VLDB 2020,
// simplified). A byte no symbol covers costs two codes (escape + byte).
// Tail figures ignore the automaton's suffix sharing, so compare codes/8 with
// codes/2, not with "chain".

#include <memkv/frozen_builder.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "dataset.hpp"
#include "shapes.hpp"

namespace {

using memkv::bench::Dataset;

class symbol_table {
public:
    explicit symbol_table(std::size_t max_len) : max_len_(max_len) {}

    // Calls on(symbol found?, start, length) for each code of s's greedy
    // longest-match encoding; returns the number of codes.
    template <class F>
    std::size_t encode(std::string_view s, F&& on) const {
        std::size_t codes = 0;
        for (std::size_t i = 0; i < s.size();) {
            std::size_t len = 0;
            for (std::size_t l = std::min(max_len_, s.size() - i); l >= 1; --l) {
                if (symbols_.count(std::string(s.substr(i, l))) != 0) {
                    len = l;
                    break;
                }
            }
            if (len == 0) {
                on(i, std::size_t{1});
                codes += 2;
                i += 1;
            } else {
                on(i, len);
                codes += 1;
                i += len;
            }
        }
        return codes;
    }

    void train(const std::vector<std::string_view>& sample, std::size_t capacity) {
        for (int round = 0; round < 6; ++round) {
            std::unordered_map<std::string, double> covered;
            for (const std::string_view s : sample) {
                std::size_t prev_at = 0, prev_len = 0;
                encode(s, [&](std::size_t at, std::size_t len) {
                    covered[std::string(s.substr(at, len))] += static_cast<double>(len);
                    if (prev_len > 0 && prev_len + len <= max_len_)
                        covered[std::string(s.substr(prev_at, prev_len + len))] += static_cast<double>(prev_len + len);
                    prev_at = at;
                    prev_len = len;
                });
            }
            std::vector<std::pair<double, std::string>> ranked;
            ranked.reserve(covered.size());
            for (auto& [sym, bytes] : covered) ranked.emplace_back(bytes, sym);
            std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
                return a.first != b.first ? a.first > b.first : a.second < b.second;
            });
            symbols_.clear();
            for (std::size_t i = 0; i < ranked.size() && symbols_.size() < capacity; ++i) symbols_.insert(ranked[i].second);
        }
    }

private:
    std::size_t max_len_;
    std::unordered_set<std::string> symbols_;
};

std::size_t tail_codes(const std::vector<std::string_view>& tails, std::size_t max_len, std::size_t capacity) {
    std::vector<std::string_view> sample;
    const std::size_t step = std::max<std::size_t>(1, tails.size() / 50000);
    for (std::size_t i = 0; i < tails.size(); i += step) sample.push_back(tails[i]);
    symbol_table t(max_len);
    t.train(sample, capacity);
    std::size_t codes = 0;
    for (const std::string_view s : tails) codes += t.encode(s, [](std::size_t, std::size_t) {});
    return codes;
}

void study(const std::string& name, const Dataset& d) {
    std::vector<std::string_view> keys;
    keys.reserve(d.size());
    for (const std::uint32_t i : d.sorted()) keys.push_back(d.keys()[i]);
    const double n = static_cast<double>(keys.size());

    memkv::FrozenLayerBuilder<std::uint64_t> builder;
    for (std::size_t i = 0; i < keys.size(); ++i) builder.insert(keys[i], i);
    // Read before finish(), which frees the encoder: only the last key's own
    // path (a few nodes) is not counted yet.
    const auto st = builder.stats();
    const auto layer = builder.finish();
    const double file = static_cast<double>(layer.bytes().size());

    auto lcp = [](std::string_view a, std::string_view b) {
        std::size_t l = 0;
        while (l < a.size() && l < b.size() && a[l] == b[l]) ++l;
        return l;
    };
    std::vector<std::string_view> tails;
    tails.reserve(keys.size());
    std::size_t tail_bytes = 0;
    for (std::size_t i = 0; i < keys.size(); ++i) {
        std::size_t l = 0;
        if (i > 0) l = std::max(l, lcp(keys[i - 1], keys[i]));
        if (i + 1 < keys.size()) l = std::max(l, lcp(keys[i], keys[i + 1]));
        const std::string_view t = l + 1 <= keys[i].size() ? keys[i].substr(l + 1) : std::string_view();
        tails.push_back(t);
        tail_bytes += t.size();
    }
    const std::size_t c2 = tail_codes(tails, 2, 192);
    const std::size_t c8 = tail_codes(tails, 8, 255);

    std::printf("| %s | %.0f | %.1f | %.2f | %.2f | %.2f | %.2f (%.2f + %.2f) | %.2f | %.2f | %.2f | %.2f |\n", name.c_str(), n,
                static_cast<double>(d.raw_bytes()) / n, file / n, static_cast<double>(st.one_next_nodes) / n,
                static_cast<double>(st.one_bytes) / n, static_cast<double>(st.general_bytes) / n,
                static_cast<double>(st.general_delta_bytes) / n, static_cast<double>(st.general_count_bytes) / n,
                static_cast<double>(tail_bytes) / n, static_cast<double>(c2) / n, static_cast<double>(c8) / n,
                c8 > 0 ? static_cast<double>(c2) / static_cast<double>(c8) : 0.0);
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: memkv-frozen-study (FILE | SHAPE:N)...\n");
        return 2;
    }
    std::printf("| input | keys | raw B/key | file B/key | chain | single | branching (deltas + counts) | tail raw | codes/2 | codes/8 | codes/2 / codes/8 |\n");
    std::printf("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    try {
        for (int a = 1; a < argc; ++a) {
            const std::string arg = argv[a];
            std::string error;
            if (const auto spec = memkv::bench::parse_synthetic_spec(arg, error)) {
                study(arg, memkv::bench::synthetic_keys(spec->shape, spec->keys, 42));
            } else {
                study(arg.substr(arg.rfind('/') + 1), Dataset::load_file(arg));
            }
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "memkv-frozen-study: %s\n", e.what());
        return 2;
    }
    return 0;
}
