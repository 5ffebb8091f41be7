#pragma once

// The key sets memkv-bench measures: a file with one key per line, or
// deterministic synthetic keys (URL-like here; the other shapes in shapes.hpp). Both end up in the same shape: one
// contiguous buffer holding every key followed by a '\0' byte, and a vector of
// views into it, so no key is allocated separately and every view is also a C
// string (see the guarantees in adapter.hpp).
//
//   buffer_:  h t t p s : / / a . o r g \0 h t t p : / / b . d e \0 ...
//             ^---------- keys[0] -------^   ^------ keys[1] ----^
//
// Policy for files (documented in DESIGN.md):
//   * a line ends at '\n'; one '\r' before it is dropped (CRLF files);
//   * the last line needs no trailing newline;
//   * empty lines are skipped and counted;
//   * duplicate keys are removed, the first occurrence wins, and counted;
//   * every other byte, '\0' included, belongs to the key.
// The value of a key is its index in `keys`, i.e. its position among the kept
// lines, in file order.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace memkv::bench {

// splitmix64: a tiny generator whose output is fixed by its seed on every
// platform, unlike std::shuffle and the std distributions, whose results vary
// between standard libraries. Benchmark orders must be reproducible.
class Rng {
public:
    explicit Rng(std::uint64_t seed) : state_(seed) {}

    std::uint64_t next() {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    // Uniform in [0, n); the modulo bias is below 2^-40 for the sizes used here.
    std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }
    // Uniform in [0, 1).
    double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

private:
    std::uint64_t state_;
};

// Fisher-Yates with Rng, so an order depends on the seed only.
template <class T>
void shuffle(std::vector<T>& v, Rng& rng) {
    for (std::size_t i = v.size(); i > 1; --i) {
        const auto j = static_cast<std::size_t>(rng.below(i));
        std::swap(v[i - 1], v[j]);
    }
}

class Dataset {
public:
    Dataset() = default;
    Dataset(Dataset&&) noexcept = default;
    Dataset& operator=(Dataset&&) noexcept = default;
    Dataset(const Dataset&) = delete;
    Dataset& operator=(const Dataset&) = delete;

    // Reads a file with one key per line. Throws std::runtime_error if it
    // cannot be read or holds no key.
    static Dataset load_file(const std::string& path) {
        std::FILE* f = std::fopen(path.c_str(), "rb");
        if (f == nullptr) throw std::runtime_error("cannot open data set " + path);
        std::string content;
        char chunk[1 << 16];
        for (std::size_t got; (got = std::fread(chunk, 1, sizeof chunk, f)) > 0;) {
            content.append(chunk, got);
        }
        const bool failed = std::ferror(f) != 0;
        std::fclose(f);
        if (failed) throw std::runtime_error("cannot read data set " + path);
        Dataset d = from_lines(content);
        d.name_ = path;
        if (d.keys_.empty()) throw std::runtime_error("data set " + path + " holds no key");
        return d;
    }

    // Splits `content` into keys under the file policy above.
    static Dataset from_lines(std::string_view content) {
        // Also tells GCC's -Wstringop-overflow the size is sane.
        if (content.size() >= (std::size_t{1} << 48)) throw std::length_error("data set too large");
        Dataset d;
        d.name_ = "memory";
        // One spare byte: a last line without '\n' still gets its '\0'.
        d.buffer_ = std::make_unique<char[]>(content.size() + 1);
        char* const buf = d.buffer_.get();
        if (!content.empty()) std::memcpy(buf, content.data(), content.size());
        buf[content.size()] = '\0';

        std::vector<std::string_view> lines;
        std::size_t start = 0;
        while (start < content.size()) {
            std::size_t end = content.find('\n', start);
            if (end == std::string_view::npos) end = content.size();
            std::size_t key_end = end;
            if (key_end > start && buf[key_end - 1] == '\r') --key_end;
            // Terminate in place: the '\n' (or '\r', or the spare byte) becomes '\0'.
            buf[key_end] = '\0';
            if (key_end == start) {
                ++d.empty_lines_;
            } else {
                lines.emplace_back(buf + start, key_end - start);
            }
            start = end + 1;
        }
        d.adopt(std::move(lines));
        return d;
    }

    // Keys that may hold any byte, '\n' and '\0' included, back to back in
    // `packed`: key i is packed[ends[i-1], ends[i]) (ends[-1] = 0).
    // Duplicates are removed and counted as for files; the keys are copied.
    static Dataset from_packed(std::string_view packed, const std::vector<std::size_t>& ends) {
        if (!ends.empty() && ends.back() != packed.size()) {
            throw std::invalid_argument("from_packed: ends do not cover the bytes");
        }
        Dataset d;
        d.name_ = "memory";
        d.buffer_ = std::make_unique<char[]>(packed.size() + ends.size() + 1);
        char* out = d.buffer_.get();
        std::vector<std::string_view> keys;
        keys.reserve(ends.size());
        std::size_t start = 0;
        for (const std::size_t end : ends) {
            if (end < start) throw std::invalid_argument("from_packed: ends must not decrease");
            const std::size_t len = end - start;
            if (len > 0) std::memcpy(out, packed.data() + start, len);
            out[len] = '\0';
            keys.emplace_back(out, len);
            out += len + 1;
            start = end;
        }
        d.adopt(std::move(keys));
        return d;
    }

    // `n` unique URL-like keys: a scheme, a host drawn from a Zipf-like list
    // (a few hosts hold most keys, so keys share long prefixes as real URL
    // sets do), and zero to five path segments of pseudo-words, numbers,
    // dates and file names. The same (n, seed) gives the same keys in the same
    // order on every platform.
    static Dataset synthetic(std::size_t n, std::uint64_t seed = 1) {
        Rng rng(seed ^ 0x5EED5EED5EEDULL);
        static constexpr std::string_view syllables[] = {
            "ka", "lo", "mi", "net", "dat", "tor", "ben", "sha", "ri", "po", "zen", "qu",
            "an", "el", "ix", "or", "um", "bra", "cli", "dro", "fy", "gle", "hub", "jo",
            "kit", "lux", "mo", "nova", "pix", "ro", "sol", "tek", "ver", "wa", "xo", "yu"};
        static constexpr std::string_view tlds[] = {
            ".com", ".com", ".com", ".org", ".net", ".io", ".de", ".co.uk", ".fr", ".jp",
            ".edu", ".gov", ".info", ".dev"};
        auto word = [&](std::string& out, std::size_t max_syllables) {
            const std::size_t count = 1 + static_cast<std::size_t>(rng.below(max_syllables));
            for (std::size_t i = 0; i < count; ++i) {
                out += syllables[rng.below(std::size(syllables))];
            }
        };

        // Hosts: about one per 20 keys, at least 64.
        const std::size_t host_count = std::clamp<std::size_t>(n / 20, 64, 200'000);
        std::vector<std::string> hosts;
        {
            std::unordered_set<std::string> seen;
            while (hosts.size() < host_count) {
                std::string h;
                if (rng.unit() < 0.3) h += "www.";
                word(h, 3);
                if (rng.unit() < 0.2) {
                    h += '-';
                    word(h, 2);
                }
                if (rng.unit() < 0.15) {
                    h += '.';
                    word(h, 2);
                }
                h += tlds[rng.below(std::size(tlds))];
                if (seen.insert(h).second) hosts.push_back(std::move(h));
            }
        }
        // Zipf(s = 1) over host ranks, sampled by binary search in the CDF.
        std::vector<double> cdf(hosts.size());
        double total = 0;
        for (std::size_t r = 0; r < hosts.size(); ++r) {
            total += 1.0 / static_cast<double>(r + 1);
            cdf[r] = total;
        }

        std::string text;
        std::unordered_set<std::string> seen;
        std::size_t produced = 0;
        std::string key;
        while (produced < n) {
            key.clear();
            key += rng.unit() < 0.8 ? "https://" : "http://";
            const double u = rng.unit() * total;
            const auto host = static_cast<std::size_t>(
                std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
            key += hosts[std::min(host, hosts.size() - 1)];
            const auto segments = static_cast<std::size_t>(rng.below(6));
            for (std::size_t s = 0; s < segments; ++s) {
                key += '/';
                const double kind = rng.unit();
                if (kind < 0.5) {
                    word(key, 4);
                } else if (kind < 0.65) {
                    key += std::to_string(rng.below(100'000));
                } else if (kind < 0.8) {
                    word(key, 2);
                    key += '-';
                    word(key, 3);
                } else if (kind < 0.9) {
                    key += std::to_string(2000 + rng.below(26));
                    key += '/';
                    key += std::to_string(1 + rng.below(12));
                } else {
                    word(key, 3);
                    key += rng.unit() < 0.7 ? ".html" : ".php";
                }
            }
            if (rng.unit() < 0.1) {
                key += "?id=";
                key += std::to_string(rng.below(1'000'000));
            }
            if (!seen.insert(key).second) continue;
            text += key;
            text += '\n';
            ++produced;
        }
        Dataset d = from_lines(text);
        d.name_ = "synthetic:urls:" + std::to_string(n) + ":seed=" + std::to_string(seed);
        return d;
    }

    const std::string& name() const noexcept { return name_; }
    void set_name(std::string name) { name_ = std::move(name); }
    // Unique keys; keys()[i] has value i.
    const std::vector<std::string_view>& keys() const noexcept { return keys_; }
    std::size_t size() const noexcept { return keys_.size(); }
    // Indices into keys() in increasing byte order.
    const std::vector<std::uint32_t>& sorted() const noexcept { return sorted_; }
    // The keys themselves in increasing byte order (what a sorted build takes).
    std::vector<std::string_view> sorted_keys() const {
        std::vector<std::string_view> out;
        out.reserve(sorted_.size());
        for (const std::uint32_t i : sorted_) out.push_back(keys_[i]);
        return out;
    }
    // Sum of the key lengths (the '\0' terminators are not key bytes).
    std::size_t raw_bytes() const noexcept { return raw_bytes_; }
    bool has_nul() const noexcept { return has_nul_; }
    // True when some key followed by '\0' begins another key: then a '\0'
    // appended to every key (libart's convention) cannot keep them apart.
    // Never true without a '\0' in the keys, nor when all keys have one length.
    bool nul_terminator_ambiguous() const noexcept { return nul_ambiguous_; }
    std::size_t duplicates_removed() const noexcept { return duplicates_; }
    std::size_t empty_lines_skipped() const noexcept { return empty_lines_; }

private:
    // Removes duplicates (first occurrence wins) and computes the sorted order,
    // both with one sort of (key, position) pairs.
    void adopt(std::vector<std::string_view> lines) {
        if (lines.size() > UINT32_MAX) throw std::runtime_error("data set has more than 2^32 keys");
        std::vector<std::uint32_t> order(lines.size());
        std::iota(order.begin(), order.end(), 0U);
        std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
            const int c = lines[a].compare(lines[b]);
            return c != 0 ? c < 0 : a < b;
        });
        std::vector<bool> duplicate(lines.size(), false);
        for (std::size_t i = 1; i < order.size(); ++i) {
            if (lines[order[i]] == lines[order[i - 1]]) duplicate[order[i]] = true;
        }
        std::vector<std::uint32_t> new_index(lines.size(), 0);
        keys_.reserve(lines.size());
        for (std::size_t i = 0; i < lines.size(); ++i) {
            if (duplicate[i]) {
                ++duplicates_;
                continue;
            }
            new_index[i] = static_cast<std::uint32_t>(keys_.size());
            keys_.push_back(lines[i]);
            raw_bytes_ += lines[i].size();
            if (!has_nul_ && lines[i].find('\0') != std::string_view::npos) has_nul_ = true;
        }
        sorted_.reserve(keys_.size());
        for (const std::uint32_t i : order) {
            if (!duplicate[i]) sorted_.push_back(new_index[i]);
        }
        // Keys that begin with k + '\0' sort right after k (nothing but such
        // keys lies between), so comparing neighbours finds every case.
        for (std::size_t i = 1; has_nul_ && !nul_ambiguous_ && i < sorted_.size(); ++i) {
            const std::string_view a = keys_[sorted_[i - 1]], b = keys_[sorted_[i]];
            nul_ambiguous_ = b.size() > a.size() && b[a.size()] == '\0' && b.starts_with(a);
        }
    }

    std::string name_;
    std::unique_ptr<char[]> buffer_;
    std::vector<std::string_view> keys_;
    std::vector<std::uint32_t> sorted_;
    std::size_t raw_bytes_ = 0;
    bool has_nul_ = false;
    bool nul_ambiguous_ = false;
    std::size_t duplicates_ = 0;
    std::size_t empty_lines_ = 0;
};

}  // namespace memkv::bench
