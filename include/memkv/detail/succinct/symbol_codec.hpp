#pragma once

// A static symbol table for short strings: up to 255 symbols of 1-8 bytes,
// each coded as one byte; a byte no symbol starts with costs two (escape,
// byte). The scheme of Boncz, Neumann and Leis ("FSST", VLDB 2020), trained
// more simply; FrozenLayer v2 codes its link strings (edge labels past their
// first byte, and tails) with it: on the URL set it takes them from 14.7 to
// 9.2 bytes per key (bench/RESULTS.md, sixth session).
//
// Serialized table (symbol_table::bytes() bytes):
//
//   +-------+------------------+------------------------------------+
//   | count | lens[count]      | symbols[count], 8 bytes each,      |
//   | (u8)  | (u8, 1..8)       | zero past their length             |
//   +-------+------------------+------------------------------------+
//
// Code c < count: symbol c. Code 255: the next byte is literal. Codes in
// [count, 255) never occur; decoders reject them.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <memkv/detail/assert.hpp>
#include <memkv/detail/io/endian.hpp>

namespace memkv::detail::succinct {

inline constexpr unsigned char symbol_escape = 255;
inline constexpr std::size_t max_symbols = 255;
inline constexpr std::size_t max_symbol_len = 8;

class symbol_table {
public:
    symbol_table() { index(); }

    // Trains a table on sample strings: start from no symbols, code the
    // sample greedily (longest match), score every used symbol and every
    // pair of neighbouring codes that fits in 8 bytes by the bytes it
    // covered, keep the best 255; five rounds. Deterministic (ties break by
    // the bytes).
    static symbol_table train(std::span<const std::string_view> sample) {
        symbol_table t;
        for (int round = 0; round < 5; ++round) {
            std::map<std::string, std::uint64_t> gain;
            for (const std::string_view s : sample) {
                std::size_t prev_at = 0;
                std::size_t prev_len = 0;
                for (std::size_t i = 0; i < s.size();) {
                    const std::size_t matched = t.match(s.substr(i)).second;
                    const std::size_t len = std::max<std::size_t>(matched, 1);
                    // A byte that needed an escape saves two as a symbol.
                    gain[std::string(s.substr(i, len))] += matched == 0 ? 2 : len;
                    if (prev_len > 0 && prev_len + len <= max_symbol_len)
                        gain[std::string(s.substr(prev_at, prev_len + len))] += prev_len + len;
                    prev_at = i;
                    prev_len = len;
                    i += len;
                }
            }
            std::vector<std::pair<std::uint64_t, std::string>> ranked;
            ranked.reserve(gain.size());
            for (auto& [sym, g] : gain) ranked.emplace_back(g, sym);
            std::stable_sort(ranked.begin(), ranked.end(),
                             [](const auto& a, const auto& b) { return a.first > b.first; });
            if (ranked.size() > max_symbols) ranked.resize(max_symbols);
            t.count_ = 0;
            for (const auto& [g, sym] : ranked) t.set(t.count_++, sym);
            t.index();
        }
        return t;
    }

    // Reads a serialized table of `size` bytes at p; nullopt if it is not one
    // (a count over 255, a length outside 1..8, bytes past a symbol's length,
    // or the wrong size).
    static std::optional<symbol_table> parse(const unsigned char* p, std::size_t size) {
        if (size < 1) return std::nullopt;
        symbol_table t;
        t.count_ = p[0];
        if (t.count_ > max_symbols || size != bytes_for(t.count_)) return std::nullopt;
        for (std::size_t c = 0; c < t.count_; ++c) {
            const unsigned len = p[1 + c];
            if (len < 1 || len > max_symbol_len) return std::nullopt;
            const unsigned char* sym = p + 1 + t.count_ + 8 * c;
            for (unsigned k = len; k < 8; ++k)
                if (sym[k] != 0) return std::nullopt;
            t.set(c, std::string_view(reinterpret_cast<const char*>(sym), len));
        }
        t.index();
        return t;
    }

    static std::size_t bytes_for(std::size_t count) noexcept { return 1 + count + 8 * count; }
    std::size_t bytes() const noexcept { return bytes_for(count_); }
    std::size_t size() const noexcept { return count_; }
    std::string_view symbol(std::size_t c) const noexcept {
        MEMKV_ASSERT(c < count_);
        return {reinterpret_cast<const char*>(sym_[c].data()), len_[c]};
    }

    // Appends the serialized table to out.
    void write(std::vector<unsigned char>& out) const {
        out.push_back(static_cast<unsigned char>(count_));
        for (std::size_t c = 0; c < count_; ++c) out.push_back(len_[c]);
        for (std::size_t c = 0; c < count_; ++c) out.insert(out.end(), sym_[c].begin(), sym_[c].end());
    }

    // Appends the codes of s to out; returns how many bytes were appended.
    std::size_t encode(std::string_view s, std::vector<unsigned char>& out) const {
        const std::size_t start = out.size();
        for_each_code(s, [&](unsigned char code, std::size_t len, unsigned char byte) {
            if (len == 0) out.push_back(symbol_escape);
            out.push_back(len == 0 ? byte : code);
        });
        return out.size() - start;
    }
    // Bytes encode(s) would append.
    std::size_t encoded_size(std::string_view s) const noexcept {
        std::size_t n = 0;
        for_each_code(s, [&](unsigned char, std::size_t len, unsigned char) { n += len == 0 ? 2 : 1; });
        return n;
    }

    // Appends the string that codes[0, n) stand for to out; false (out
    // unspecified) if they are not a valid coding under this table.
    bool decode(const unsigned char* codes, std::size_t n, std::string& out) const {
        for (std::size_t i = 0; i < n;) {
            const auto sym = read_code(codes, n, i);
            if (!sym) return false;
            out.append(reinterpret_cast<const char*>(sym->first), sym->second);
        }
        return true;
    }

    // Compares the string coded by codes[0, n) with key, decoding only as far
    // as they agree: returns {bytes of key matched, order}, order < 0, 0, > 0
    // as the coded string is below, equal to or above key in byte order (a
    // proper prefix is below). nullopt for an invalid coding.
    struct comparison {
        std::size_t matched;
        int order;
    };
    std::optional<comparison> compare(const unsigned char* codes, std::size_t n, std::string_view key) const {
        std::size_t k = 0;
        for (std::size_t i = 0; i < n;) {
            const auto sym = read_code(codes, n, i);
            if (!sym) return std::nullopt;
            const auto [bytes, len] = *sym;
            for (std::size_t j = 0; j < len; ++j, ++k) {
                if (k == key.size()) return comparison{k, 1};  // key is a proper prefix
                const auto kb = static_cast<unsigned char>(key[k]);
                if (bytes[j] != kb) return comparison{k, bytes[j] < kb ? -1 : 1};
            }
        }
        return comparison{k, k == key.size() ? 0 : -1};
    }

private:
    // Calls on(code, symbol length, byte) for each code of s's greedy
    // longest-match coding; length 0: no symbol, `byte` goes escaped.
    template <class F>
    void for_each_code(std::string_view s, F&& on) const {
        for (std::size_t i = 0; i < s.size();) {
            const auto [code, len] = match(s.substr(i));
            on(code, len, static_cast<unsigned char>(s[i]));
            i += len == 0 ? 1 : len;
        }
    }
    // The bytes of the code at codes[i] (an escape and its byte, or a
    // symbol), advancing i past it; nullopt for a truncated escape or a code
    // with no symbol.
    std::optional<std::pair<const unsigned char*, std::size_t>> read_code(const unsigned char* codes, std::size_t n,
                                                                         std::size_t& i) const noexcept {
        const unsigned char c = codes[i++];
        if (c == symbol_escape) {
            if (i == n) return std::nullopt;
            return std::pair<const unsigned char*, std::size_t>{codes + i++, 1};
        }
        if (c >= count_) return std::nullopt;
        return std::pair<const unsigned char*, std::size_t>{sym_[c].data(), len_[c]};
    }

    void set(std::size_t c, std::string_view s) {
        MEMKV_ASSERT(c < max_symbols && !s.empty() && s.size() <= max_symbol_len);
        sym_[c].fill(0);
        std::memcpy(sym_[c].data(), s.data(), s.size());
        len_[c] = static_cast<unsigned char>(s.size());
    }
    // by_first_[b]: the codes of symbols starting with byte b, longest first.
    void index() {
        for (auto& v : by_first_) v.clear();
        for (std::size_t c = 0; c < count_; ++c) by_first_[sym_[c][0]].push_back(static_cast<unsigned char>(c));
        for (auto& v : by_first_) {
            std::stable_sort(v.begin(), v.end(), [&](unsigned char a, unsigned char b) { return len_[a] > len_[b]; });
        }
    }
    // The longest symbol that s starts with: {code, length}, length 0 if none.
    std::pair<unsigned char, std::size_t> match(std::string_view s) const noexcept {
        if (s.empty()) return {0, 0};
        for (const unsigned char c : by_first_[static_cast<unsigned char>(s[0])]) {
            const std::size_t len = len_[c];
            if (len <= s.size() && std::memcmp(sym_[c].data(), s.data(), len) == 0) return {c, len};
        }
        return {0, 0};
    }

    std::size_t count_ = 0;
    std::array<std::array<unsigned char, 8>, max_symbols> sym_{};
    std::array<unsigned char, max_symbols> len_{};
    std::array<std::vector<unsigned char>, 256> by_first_;
};

}  // namespace memkv::detail::succinct
