#pragma once

// The body shared by the FastArt fuzz target (fuzz_fast_art.cpp) and its
// replay unit test: bytes are decoded into a sequence of operations applied to
// a FastArt and to a std::map, and every result is compared. A mismatch throws
// memkv::test::fast_art_mismatch naming the operation.

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <memkv/fast_art.hpp>

namespace memkv::test {

struct fast_art_mismatch : std::logic_error {
    using std::logic_error::logic_error;
};

inline void fa_check(bool ok, const char* what) {
    if (!ok) throw fast_art_mismatch(std::string("FastArt differs from std::map: ") + what);
}

// An element of FastArt (an entry) equals one of std::map.
inline constexpr auto fa_same_element = [](const auto& e, const auto& me) {
    return e.first == me.first && e.second == me.second;
};

// Full comparison: size, forward iteration (accessors and entries),
// backward iteration (std::reverse_iterator, --it from end()), for_each,
// verify(). (No std::views here: this body is also the libFuzzer target,
// built with clang, and clang 14 cannot instantiate libstdc++ 12's views.
// The unit tests apply views::reverse.)
template <class V>
void fa_compare_all(const FastArt<V>& t, const std::map<std::string, V>& m) {
    t.verify();
    fa_check(t.size() == m.size(), "size");
    fa_check(t.empty() == m.empty(), "empty");
    auto it = t.begin();
    std::string k;
    for (const auto& [mk, mv] : m) {
        fa_check(it != t.end(), "forward iteration ended early");
        it.key(k);
        fa_check(k == mk, "forward iteration key");
        fa_check(it.value() == mv, "forward iteration value");
        const auto e = *it;
        fa_check(e.first == mk && e.second == mv, "forward iteration entry");
        ++it;
    }
    fa_check(it == t.end(), "forward iteration too long");
    auto rit = t.rbegin();
    const auto rend = t.rend();
    for (auto mi = m.rbegin(); mi != m.rend(); ++mi) {
        fa_check(rit != rend, "reverse iteration ended early");
        fa_check(rit->first == mi->first && (*rit).second == mi->second, "reverse iteration element");
        ++rit;
    }
    fa_check(rit == rend, "reverse iteration too long");
    // --it from end() to begin().
    it = t.end();
    for (auto mi = m.rbegin(); mi != m.rend(); ++mi) {
        --it;
        it.key(k);
        fa_check(k == mi->first && it.value() == mi->second, "--it from end()");
    }
    fa_check(it == t.begin(), "--it from end() reaches begin()");
    fa_check(std::equal(t.rbegin(), t.rend(), m.rbegin(), m.rend(), fa_same_element), "std::equal backwards");
    std::size_t n = 0;
    auto mi = m.begin();
    t.for_each([&](std::string_view fk, const V& v) {
        fa_check(mi != m.end() && fk == mi->first && v == mi->second, "for_each");
        ++mi;
        ++n;
    });
    fa_check(n == m.size(), "for_each count");
}

// it (into t) and mit (into m) stand at the same key, or both at the end.
template <class T, class It, class M, class MIt>
void fa_check_position(const T& t, const It& it, const M& m, const MIt& mit, const char* what) {
    fa_check((it == t.end()) == (mit == m.end()), what);
    if (mit != m.end()) fa_check(it.key() == mit->first, what);
}

// Compares the iterator range [b, e) of t with [mb, me) of m, or only their
// first `limit` elements.
template <class It, class MIt>
void fa_compare_range(It b, const It& e, MIt mb, const MIt& me, const char* what,
                      std::size_t limit = static_cast<std::size_t>(-1)) {
    std::string k;
    for (std::size_t n = 0; mb != me; ++mb, ++b, ++n) {
        if (n == limit) {
            fa_check(b != e, what);
            return;
        }
        fa_check(b != e, what);
        b.key(k);
        fa_check(k == mb->first && b.value() == mb->second, what);
    }
    fa_check(b == e, what);
}

// Compares [rb, re), a FastArt range walked backwards (reverse iterators
// of a view, or views::reverse of one), with [mb, me) of m walked
// backwards, or only their last `limit` elements.
template <class RIt, class MIt>
void fa_compare_reversed_range(RIt rb, const RIt& re, MIt mb, MIt me, const char* what,
                               std::size_t limit = static_cast<std::size_t>(-1)) {
    for (std::size_t n = 0; mb != me; ++n, ++rb) {
        --me;
        fa_check(rb != re, what);
        if (n == limit) return;
        fa_check(fa_same_element(*rb, *me), what);
    }
    fa_check(rb == re, what);
}

// A FastArt view walked backwards with std::reverse_iterator.
template <class View, class MIt>
void fa_compare_reversed(const View& v, MIt mb, MIt me, const char* what,
                         std::size_t limit = static_cast<std::size_t>(-1)) {
    fa_compare_reversed_range(std::make_reverse_iterator(v.end()), std::make_reverse_iterator(v.begin()), mb, me,
                              what, limit);
}

class byte_reader {
public:
    byte_reader(const std::uint8_t* data, std::size_t size) : p_(data), end_(data + size) {}
    bool done() const { return p_ == end_; }
    std::uint8_t byte() { return p_ == end_ ? 0 : *p_++; }
    std::string bytes(std::size_t n) {
        const std::size_t avail = static_cast<std::size_t>(end_ - p_);
        if (n > avail) n = avail;
        std::string s(reinterpret_cast<const char*>(p_), n);
        p_ += n;
        return s;
    }

private:
    const std::uint8_t* p_;
    const std::uint8_t* end_;
};

// Decodes and runs operations until the bytes run out.
inline void run_fast_art_ops(const std::uint8_t* data, std::size_t size) {
    byte_reader in(data, size);
    FastArt<std::uint64_t> t;
    std::map<std::string, std::uint64_t> m;
    std::vector<std::string> seen;  // earlier keys: reuse makes hits and shared prefixes likely
    std::uint64_t counter = 0;

    auto next_key = [&]() -> std::string {
        const std::uint8_t mode = in.byte();
        std::string k;
        if ((mode & 0xC0) != 0 && !seen.empty()) {
            // An earlier key, cut and/or extended.
            const std::string& base = seen[in.byte() % seen.size()];
            k = base.substr(0, (mode & 0x80) ? base.size() : in.byte() % (base.size() + 1));
            k += in.bytes(mode & 0x03);
        } else if ((mode & 0x3F) == 0x3F) {
            k.assign(300 + in.byte() * 4u, 'x');  // long: past the one-byte length form
            k += in.bytes(2);
        } else if ((mode & 0x30) == 0x30) {
            // Under one 21-byte prefix with any next byte: enough of these
            // make a full node deep enough for the tree to learn its jump.
            k = "https://jump.example/";
            k.push_back(static_cast<char>(in.byte()));
            k += in.bytes(mode & 0x03);
        } else {
            k = in.bytes(mode & 0x0F);
        }
        if (seen.size() < 64) {
            seen.push_back(k);
        } else {
            seen[counter % seen.size()] = k;
        }
        return k;
    };

    while (!in.done()) {
        const std::uint8_t op = in.byte() % 16;
        const std::string k = next_key();
        ++counter;
        switch (op) {
            case 0:
            case 1:
            case 2: {
                const auto [it, ins] = t.insert(k, counter);
                const auto [mit, mins] = m.insert({k, counter});
                fa_check(ins == mins, "insert: inserted flag");
                fa_check(it.key() == k && it.value() == mit->second, "insert: iterator");
                break;
            }
            case 3:
            case 4: {
                const auto [it, ins] = t.insert_or_assign(k, counter);
                const auto [mit, mins] = m.insert_or_assign(k, counter);
                fa_check(ins == mins && it.value() == counter, "insert_or_assign");
                break;
            }
            case 5:
            case 6:
                fa_check(t.erase(k) == m.erase(k), "erase(key)");
                break;
            case 7: {
                const auto it = t.find(k);
                const auto mit = m.find(k);
                fa_check((it == t.end()) == (mit == m.end()), "find");
                if (mit != m.end()) fa_check(it.key() == k && it.value() == mit->second, "find: value");
                fa_check(t.contains(k) == (mit != m.end()), "contains");
                if (mit != m.end()) {
                    // erase(iterator) returns the successor.
                    auto nx = t.erase(it);
                    auto mnx = m.erase(mit);
                    fa_check_position(t, nx, m, mnx, "erase(iterator): next");
                }
                break;
            }
            case 8: {
                auto lb = t.lower_bound(k);
                auto mlb = m.lower_bound(k);
                // A few steps both ways from the bound.
                std::string kk;
                for (int i = 0; i < 3 && mlb != m.end(); ++i, ++lb, ++mlb) {
                    fa_check(lb != t.end(), "lower_bound: end");
                    lb.key(kk);
                    fa_check(kk == mlb->first, "lower_bound: key");
                }
                fa_check((lb == t.end()) == (mlb == m.end()), "lower_bound: walk end");
                if (mlb != m.begin()) {
                    --lb;
                    --mlb;
                    fa_check(lb.key() == mlb->first, "lower_bound: step back");
                }
                // from(k): the keys >= k, both ways (the first and last few).
                const auto fv = t.from(k);
                fa_compare_range(fv.begin(), fv.end(), m.lower_bound(k), m.end(), "from view", 3);
                fa_compare_reversed(fv, m.lower_bound(k), m.end(), "from view reversed", 3);
                break;
            }
            case 9: {
                auto ub = t.upper_bound(k);
                auto mub = m.upper_bound(k);
                fa_check_position(t, ub, m, mub, "upper_bound");
                break;
            }
            case 10: {
                const auto v = t.prefix(k);
                auto mb = m.lower_bound(k);
                auto me = mb;
                while (me != m.end() && me->first.compare(0, k.size(), k) == 0) ++me;
                fa_compare_range(v.begin(), v.end(), mb, me, "prefix view");
                fa_compare_reversed(v, mb, me, "prefix view reversed");
                auto mi = mb;
                t.for_each_prefix(k, [&](std::string_view fk, const std::uint64_t& fv) {
                    fa_check(mi != me && fk == mi->first && fv == mi->second, "for_each_prefix");
                    ++mi;
                });
                fa_check(mi == me, "for_each_prefix: count");
                break;
            }
            case 11: {
                const std::string hi = next_key();
                const auto v = t.range(k, hi);
                if (hi <= k) {
                    fa_check(v.empty(), "range: empty");
                } else {
                    fa_compare_range(v.begin(), v.end(), m.lower_bound(k), m.lower_bound(hi), "range view");
                    fa_compare_reversed(v, m.lower_bound(k), m.lower_bound(hi), "range view reversed");
                }
                break;
            }
            case 12: {
                auto it = t.longest_prefix(k);
                std::string best;
                bool found = false;
                for (std::size_t n = 0; n <= k.size(); ++n) {
                    if (m.count(k.substr(0, n)) != 0) {
                        best = k.substr(0, n);
                        found = true;
                    }
                }
                fa_check((it != t.end()) == found, "longest_prefix: found");
                if (found) fa_check(it.key() == best, "longest_prefix: key");
                break;
            }
            case 13: {
                const std::uint8_t which = in.byte() % 8;
                if (which == 1) {
                    // erase(first, last) over [lower_bound(k), lower_bound(k2)).
                    const std::string k2 = next_key();
                    if (k2 < k) break;
                    auto nx = t.erase(t.lower_bound(k), t.lower_bound(k2));
                    m.erase(m.lower_bound(k), m.lower_bound(k2));
                    const auto mnx = m.lower_bound(k2);
                    fa_check_position(t, nx, m, mnx, "erase(first, last): next");
                    break;
                }
                if (which != 0) break;  // rare: it can empty the tree
                std::size_t n = 0;
                for (auto mi = m.lower_bound(k); mi != m.end() && mi->first.compare(0, k.size(), k) == 0;) {
                    mi = m.erase(mi);
                    ++n;
                }
                fa_check(t.erase_prefix(k) == n, "erase_prefix");
                break;
            }
            case 14: {
                auto v = t.get(k);
                auto mit = m.find(k);
                fa_check(v.has_value() == (mit != m.end()), "get");
                if (v) fa_check(*v == mit->second, "get: value");
                break;
            }
            default: {
                // Copies must be deep and equal; the original must not change.
                if (in.byte() % 4 != 0) break;
                FastArt<std::uint64_t> c(t);
                c.verify();
                fa_check(c.size() == t.size(), "copy: size");
                if (!c.empty()) c.erase(c.begin().key());
                fa_check(t.size() == m.size(), "copy: original unchanged");
                break;
            }
        }
        fa_check(t.size() == m.size(), "size after operation");
    }
    fa_compare_all(t, m);
    // Erasing everything gives all memory back.
    const std::size_t empty_usage = FastArt<std::uint64_t>().memory_usage();
    for (const auto& kv : m) fa_check(t.erase(kv.first) == 1, "final erase");
    fa_check(t.empty() && t.memory_usage() == empty_usage, "memory back to empty");
}

}  // namespace memkv::test
