// memkv-frozen-study: where FrozenLayer's bytes go, per key shape, and how far
// a symbol table could shrink the unique tails (the FrozenLayer v2 issue asks
// which parts of the v1 format to compress; this answers it with numbers).
//
//   memkv-frozen-study INPUT...      INPUT: a key file (one key per line) or
//                                    SHAPE:N (urls, names, paths, binary, ints)
//
// For each input, keys only (ordinal values, stored in no bytes):
//   v1 file B/key   the file's bytes per key written as format version 1
//   file B/key      the same, format version 2 (FrozenLayerBuilder, defaults);
//                   the columns after it describe this file
//   chain           one-byte chain nodes (a single label from the 128-entry
//                   table, or a pair node: two labels in one byte) per key
//   single          other one-transition nodes (header + label + target) per key
//   runs            run nodes (header, a length byte past 16 labels, a byte per label;
//                   version 2)
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
//
// A second table models the alternative to v1's automaton that marisa-trie
// and SuRF take: a succinct trie (nodes in depth-first order, so a key's
// ordinal is the number of keys before its node: no counts stored) that
// stops at the node where each key becomes unique and keeps the rest of the
// key (its tail) outside the trie. The figures are sizes computed from the
// key set, not files:
//   trie        edges of the plain trie (one per byte down to each key's
//               unique node); at 8 label bits + 3.5 bits of structure,
//               terminal flag and rank/select directories per edge
//   pat         the same trie path-compressed: edges of a Patricia trie,
//               12.5 bits each (one more: "has a link"), whose longer labels
//               and tails ("links") go to a string store
//   links raw   the store as plain bytes, plus an Elias-Fano offset per link
//   links fsst  the store coded with the 1-8-byte table above
//   links sfx   distinct links, each kept once as a suffix of a longer one
//               where it is one, with a fixed-width pointer per link and an
//               end bit per stored byte
//   sfx+fsst    the kept strings of "sfx" coded as "fsst" (a lower bound:
//               a shared suffix can be pointed at only where a code starts)
//   links o1    the store coded a byte at a time with a Huffman code chosen
//               by the byte before it (order 1: 256 codes), 1.5 bytes of
//               table per used symbol, links found by Elias-Fano bit offsets
//   links o2    the same with the code chosen by the two bytes before it,
//               hashed into 1,024 codes (order 2); a link's first contexts
//               are the key bytes before it, which a lookup has in hand
// B/key totals: trie + raw tails (plain), pat + the cheapest store.

#include <memkv/frozen_builder.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
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

std::size_t lcp(std::string_view a, std::string_view b) {
    std::size_t l = 0;
    while (l < a.size() && l < b.size() && a[l] == b[l]) ++l;
    return l;
}

// Walks the Patricia trie of sorted unique keys without building it: a node
// is a prefix that two or more keys share up to a byte where they differ (or
// where one ends); its children are the groups of keys by the next byte.
struct trie_model {
    const std::vector<std::string_view>& keys;
    std::uint64_t pat_nodes = 1;     // the root
    std::uint64_t plain_edges = 0;   // the plain trie's edges, to each key's unique node
    std::uint64_t tail_bytes = 0;    // bytes below each key's unique node
    std::vector<std::string_view> links;  // Patricia edge labels past their first byte, and tails
    std::vector<unsigned> contexts;       // per link: the two key bytes before it (see context_coded_bytes)

    // keys[lo, hi) share their first `depth` bytes; hi - lo >= 2 or lo is the only key.
    void node(std::size_t lo, std::size_t hi, std::size_t depth) {
        if (keys[lo].size() == depth) ++lo;  // a key ends here
        while (lo < hi) {
            const unsigned char c = static_cast<unsigned char>(keys[lo][depth]);
            const std::size_t b = static_cast<std::size_t>(
                std::partition_point(keys.begin() + static_cast<std::ptrdiff_t>(lo), keys.begin() + static_cast<std::ptrdiff_t>(hi),
                                     [&](std::string_view k) { return static_cast<unsigned char>(k[depth]) <= c; }) -
                keys.begin());
            ++pat_nodes;
            if (b - lo == 1) {
                const std::string_view rest = keys[lo].substr(depth + 1);
                ++plain_edges;
                tail_bytes += rest.size();
                if (!rest.empty()) add_link(keys[lo], depth, rest);
            } else {
                const std::size_t l = lcp(keys[lo], keys[b - 1]);
                plain_edges += l - depth;
                if (l > depth + 1) add_link(keys[lo], depth, keys[lo].substr(depth + 1, l - depth - 1));
                node(lo, b, l);
            }
            lo = b;
        }
    }

    // A link starts after the edge's label key[depth]; the byte before the
    // label (256 at the key's start) and the label are its first context.
    void add_link(std::string_view key, std::size_t depth, std::string_view link) {
        links.push_back(link);
        const unsigned before = depth == 0 ? 256u : static_cast<unsigned char>(key[depth - 1]);
        contexts.push_back(before * 257 + static_cast<unsigned char>(key[depth]));
    }
};

double log2_ceil(double x) { return x <= 1 ? 0 : std::ceil(std::log2(x)); }

// Bits of an Elias-Fano sequence of m increasing values below u.
double elias_fano_bits(double m, double u) { return m == 0 ? 0 : m * (2 + std::max(0.0, log2_ceil(u / m))); }

// Bits of a Huffman code for these symbol counts (a lone symbol: 1 bit each).
double huffman_bits(const std::vector<std::uint64_t>& counts) {
    std::vector<std::uint64_t> heap;
    for (const std::uint64_t c : counts)
        if (c != 0) heap.push_back(c);
    if (heap.size() <= 1) return heap.empty() ? 0 : static_cast<double>(heap[0]);
    const auto greater = std::greater<std::uint64_t>();
    std::make_heap(heap.begin(), heap.end(), greater);
    double bits = 0;
    while (heap.size() > 1) {
        std::pop_heap(heap.begin(), heap.end(), greater);
        const std::uint64_t a = heap.back();
        heap.pop_back();
        std::pop_heap(heap.begin(), heap.end(), greater);
        const std::uint64_t b = heap.back();
        heap.pop_back();
        bits += static_cast<double>(a + b);
        heap.push_back(a + b);
        std::push_heap(heap.begin(), heap.end(), greater);
    }
    return bits;
}

// Bytes of the links coded byte by byte with one Huffman code per context,
// the context being the two bytes before the coded one (order 2) hashed into
// `buckets`, or the one byte before it (order 1, buckets = 0). Each used
// symbol of each context costs 1.5 bytes of table (symbol and code length);
// the links' ends are bit offsets in Elias-Fano.
double context_coded_bytes(const std::vector<std::string_view>& links, const std::vector<unsigned>& contexts,
                           unsigned buckets) {
    const unsigned k = buckets == 0 ? 256 : buckets;
    std::vector<std::vector<std::uint64_t>> counts(k, std::vector<std::uint64_t>(256));
    for (std::size_t i = 0; i < links.size(); ++i) {
        unsigned c = contexts[i];  // before * 257 + last
        for (const char ch : links[i]) {
            const unsigned x = static_cast<unsigned char>(ch);
            const unsigned bucket = buckets == 0 ? c % 257 : static_cast<unsigned>((c * 2654435761u >> 8) % buckets);
            ++counts[bucket][x];
            c = (c % 257) * 257 + x;
        }
    }
    double bits = 0, table = 0;
    for (const auto& v : counts) {
        bits += huffman_bits(v);
        for (const std::uint64_t c : v) table += c != 0 ? 1.5 : 0;
    }
    return bits / 8 + table + elias_fano_bits(static_cast<double>(links.size()), bits) / 8;
}

// The strings a store keeps when each distinct string is kept once, inside
// a longer one when it is a suffix of it (sorted by the reversed string, a
// string is a suffix of its successor when it is one of any).
std::vector<std::string> suffix_merged(const std::vector<std::string_view>& v) {
    std::vector<std::string> rev;
    rev.reserve(v.size());
    for (const std::string_view s : v) rev.emplace_back(s.rbegin(), s.rend());
    std::sort(rev.begin(), rev.end());
    rev.erase(std::unique(rev.begin(), rev.end()), rev.end());
    std::vector<std::string> kept;
    for (std::size_t i = 0; i < rev.size(); ++i) {
        const bool inside = i + 1 < rev.size() && rev[i + 1].compare(0, rev[i].size(), rev[i]) == 0;
        if (!inside) kept.emplace_back(rev[i].rbegin(), rev[i].rend());
    }
    return kept;
}

struct model_row {
    std::string name;
    double n, v1, trie, tails, pat, links, raw, fsst, sfx, sfx_fsst, o1, o2;
};
std::vector<model_row> model_rows;

void study(const std::string& name, const Dataset& d) {
    const std::vector<std::string_view> keys = d.sorted_keys();
    const double n = static_cast<double>(keys.size());

    memkv::FrozenLayerBuilder<std::uint64_t> builder;
    for (std::size_t i = 0; i < keys.size(); ++i) builder.insert(keys[i], i);
    // Read before finish(), which frees the encoder: only the last key's own
    // path (a few nodes) is not counted yet.
    const auto st = builder.stats();
    const auto layer = builder.finish();
    const double file = static_cast<double>(layer.bytes().size());
    double file_v1 = 0;
    {
        memkv::frozen_layer_options o;
        o.format_version = 1;
        memkv::FrozenLayerBuilder<std::uint64_t> b1(o);
        for (std::size_t i = 0; i < keys.size(); ++i) b1.insert(keys[i], i);
        file_v1 = static_cast<double>(b1.finish().bytes().size());
    }

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

    std::printf("| %s | %.0f | %.1f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f (%.2f + %.2f) | %.2f | %.2f | %.2f | %.2f |\n",
                name.c_str(), n, static_cast<double>(d.raw_bytes()) / n, file_v1 / n, file / n,
                static_cast<double>(st.one_next_nodes) / n, static_cast<double>(st.one_bytes) / n,
                static_cast<double>(st.run_bytes) / n, static_cast<double>(st.general_bytes) / n,
                static_cast<double>(st.general_delta_bytes) / n, static_cast<double>(st.general_count_bytes) / n,
                static_cast<double>(tail_bytes) / n, static_cast<double>(c2) / n, static_cast<double>(c8) / n,
                c8 > 0 ? static_cast<double>(c2) / static_cast<double>(c8) : 0.0);
    std::fflush(stdout);

    trie_model m{keys, 1, 0, 0, {}, {}};
    if (!keys.empty()) m.node(0, keys.size(), 0);
    double link_bytes = 0;
    for (const std::string_view l : m.links) link_bytes += static_cast<double>(l.size());
    const double nl = static_cast<double>(m.links.size());
    const double trie = static_cast<double>(m.plain_edges) * 11.5 / 8;
    const double tail_store = static_cast<double>(m.tail_bytes) + elias_fano_bits(n, static_cast<double>(m.tail_bytes)) / 8;
    const double pat = static_cast<double>(m.pat_nodes) * 12.5 / 8;
    const double raw = link_bytes + elias_fano_bits(nl, link_bytes) / 8;
    const double fsst = static_cast<double>(tail_codes(m.links, 8, 255)) + elias_fano_bits(nl, link_bytes) / 8;
    const std::vector<std::string> kept = suffix_merged(m.links);
    double blob = 0;
    for (const std::string& k : kept) blob += static_cast<double>(k.size());
    const double sfx = blob * 9 / 8 + nl * log2_ceil(blob) / 8;
    // Coded after merging: a lower bound, since a suffix shared inside a
    // coded string can only be pointed at where a code starts.
    const std::vector<std::string_view> kept_views(kept.begin(), kept.end());
    const double coded = static_cast<double>(tail_codes(kept_views, 8, 255));
    const double sfx_fsst = coded * 9 / 8 + nl * log2_ceil(coded) / 8;
    const double o1 = context_coded_bytes(m.links, m.contexts, 0);
    const double o2 = context_coded_bytes(m.links, m.contexts, 1024);
    model_rows.push_back({name, n, file_v1 / n, trie / n, tail_store / n, pat / n, link_bytes / n, raw / n, fsst / n,
                          sfx / n, sfx_fsst / n, o1 / n, o2 / n});
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: memkv-frozen-study (FILE | SHAPE:N)...\n");
        return 2;
    }
    std::printf("| input | keys | raw B/key | v1 file B/key | file B/key | chain | single | runs | branching (deltas + counts) | tail raw | codes/2 | codes/8 | codes/2 / codes/8 |\n");
    std::printf("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
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
        std::printf("\n| input | v1 file B/key | trie | + tails | = B/key | pat | links (bytes) | links raw | links fsst | links sfx | sfx+fsst | links o1 | links o2 | = B/key |\n");
        std::printf("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
        for (const model_row& r : model_rows) {
            std::printf("| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n",
                        r.name.c_str(), r.v1, r.trie, r.tails, r.trie + r.tails, r.pat, r.links, r.raw, r.fsst, r.sfx,
                        r.sfx_fsst, r.o1, r.o2, r.pat + std::min({r.raw, r.fsst, r.sfx, r.sfx_fsst, r.o1, r.o2}));
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "memkv-frozen-study: %s\n", e.what());
        return 2;
    }
    return 0;
}
