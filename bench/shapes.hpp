#pragma once

// Generated key sets of several shapes, so every structure can be measured on
// more than URLs (`memkv-bench --synthetic-shape SHAPE:N`):
//
//   urls    Dataset::synthetic (dataset.hpp): URL-like keys, ~50 bytes
//   names   package-like names, `@scope/name` half the time, ~20 bytes
//   paths   deep file-system paths under shared top directories, ~60 bytes
//   binary  uniformly random 16-byte keys: every byte value, '\0' included
//   ints    distinct uniformly random 64-bit integers, 8 bytes big-endian
//
// DESIGN.md ("Input") describes each distribution. Everything is drawn from
// Rng (splitmix64) with integer arithmetic only, so a (shape, n, seed) gives
// the same keys in the same order on every platform and standard library.
// Each set holds exactly n distinct keys: a candidate equal to an earlier
// key is dropped and drawn again.

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dataset.hpp"

namespace memkv::bench {

enum class KeyShape { urls, names, paths, binary, ints };

inline constexpr std::array<std::pair<KeyShape, std::string_view>, 5> key_shapes = {{
    {KeyShape::urls, "urls"},
    {KeyShape::names, "names"},
    {KeyShape::paths, "paths"},
    {KeyShape::binary, "binary"},
    {KeyShape::ints, "ints"},
}};

inline std::string_view shape_name(KeyShape shape) {
    for (const auto& [s, name] : key_shapes) {
        if (s == shape) return name;
    }
    return "?";
}

inline std::optional<KeyShape> shape_from_name(std::string_view name) {
    for (const auto& [s, n] : key_shapes) {
        if (n == name) return s;
    }
    return std::nullopt;
}

struct SyntheticSpec {
    KeyShape shape = KeyShape::urls;
    std::size_t keys = 0;
};

// Parses "SHAPE:N" (e.g. "names:4000000"). On a malformed text returns
// nullopt and sets `error` to a sentence naming the part that is wrong.
inline std::optional<SyntheticSpec> parse_synthetic_spec(std::string_view text, std::string& error) {
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos) {
        error = "expected SHAPE:N (e.g. names:4000000), got '" + std::string(text) + "'";
        return std::nullopt;
    }
    const std::string_view name = text.substr(0, colon), count = text.substr(colon + 1);
    const std::optional<KeyShape> shape = shape_from_name(name);
    if (!shape) {
        error = "unknown key shape '" + std::string(name) + "' (shapes:";
        for (const auto& [s, n] : key_shapes) error += " " + std::string(n);
        error += ")";
        return std::nullopt;
    }
    const bool digits = !count.empty() && std::all_of(count.begin(), count.end(), [](char c) {
        return c >= '0' && c <= '9';
    });
    if (!digits) {
        error = "key count '" + std::string(count) + "' of shape " + std::string(name) + " is not a number";
        return std::nullopt;
    }
    // Dataset indexes keys with 32 bits.
    std::uint64_t n = 0;
    for (const char c : count) {
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
        if (n > UINT32_MAX) break;
    }
    if (n == 0 || n > UINT32_MAX) {
        error = "key count " + std::string(count) + " of shape " + std::string(name) + " is not in [1, 2^32)";
        return std::nullopt;
    }
    return SyntheticSpec{*shape, static_cast<std::size_t>(n)};
}

namespace shapes_detail {

// The first n distinct keys offered, back to back. Duplicates are found with
// an open-addressing table of key indices compared by content, so no false
// positive can drop a key and the result does not depend on hash luck.
class UniqueKeys {
public:
    explicit UniqueKeys(std::size_t expected) {
        std::size_t cap = 64;
        while (cap < expected * 2) cap *= 2;
        slots_.assign(cap, 0);
        ends_.reserve(expected);
    }

    std::size_t size() const noexcept { return ends_.size(); }

    // Adds key unless it is already present; true when added.
    bool add(std::string_view key) {
        if ((ends_.size() + 1) * 2 > slots_.size()) grow();
        const std::uint64_t h = hash(key);
        for (std::size_t s = h & (slots_.size() - 1);; s = (s + 1) & (slots_.size() - 1)) {
            const std::uint64_t slot = slots_[s];
            if (slot == 0) {
                bytes_.append(key);
                ends_.push_back(bytes_.size());
                slots_[s] = (h & ~std::uint64_t{0xFFFFFFFF}) | ends_.size();
                return true;
            }
            if ((slot ^ h) >> 32 == 0 && this->key((slot & 0xFFFFFFFF) - 1) == key) return false;
        }
    }

    Dataset finish(std::string name) const {
        Dataset d = Dataset::from_packed(bytes_, ends_);
        d.set_name(std::move(name));
        return d;
    }

private:
    std::string_view key(std::size_t i) const {
        const std::size_t start = i == 0 ? 0 : ends_[i - 1];
        return std::string_view(bytes_).substr(start, ends_[i] - start);
    }

    // FNV-1a over the bytes, then a splitmix64 finalizer: the high half tags
    // a slot, the low bits place it. Byte-wise, so the same on any endianness.
    static std::uint64_t hash(std::string_view key) noexcept {
        std::uint64_t h = 0xCBF29CE484222325ULL;
        for (const char c : key) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001B3ULL;
        h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ULL;
        h = (h ^ (h >> 27)) * 0x94D049BB133111EBULL;
        return h ^ (h >> 31);
    }

    void grow() {
        std::vector<std::uint64_t> old(slots_.size() * 2, 0);
        old.swap(slots_);
        for (std::size_t i = 0; i < ends_.size(); ++i) {
            const std::uint64_t h = hash(key(i));
            std::size_t s = h & (slots_.size() - 1);
            while (slots_[s] != 0) s = (s + 1) & (slots_.size() - 1);
            slots_[s] = (h & ~std::uint64_t{0xFFFFFFFF}) | (i + 1);
        }
    }

    std::string bytes_;
    std::vector<std::size_t> ends_;
    std::vector<std::uint64_t> slots_;  // (hash high half << 32) | (key index + 1); 0 = empty
};

// A Zipf(1)-like rank in [0, 2^hi): an exponent k uniform in [lo, hi], then a
// rank uniform below 2^k. P(rank r) falls off about as 1/r beyond 2^lo, and
// the 2^lo first ranks share the head evenly (lo > 0 keeps one rank from
// taking a fixed share of every set).
inline std::uint64_t skewed(Rng& rng, unsigned lo, unsigned hi) {
    const auto k = static_cast<unsigned>(lo + rng.below(hi - lo + 1));
    return rng.below(std::uint64_t{1} << k);
}

inline std::uint64_t mix(std::uint64_t z) noexcept {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

// A pronounceable invented word of `syllables` syllables (onset, vowel,
// sometimes a coda: "dravel", "quoston"), all drawn from h.
inline void append_word(std::string& out, std::uint64_t h, std::size_t syllables) {
    static constexpr std::string_view onsets[] = {
        "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z",
        "br", "ch", "cl", "cr", "dr", "fl", "gr", "pl", "qu", "sh", "sk", "sp", "st", "th", "tr", ""};
    static constexpr std::string_view vowels[] = {"a", "e", "i", "o", "u", "a", "e", "o", "y", "ai", "ea", "ou", "io"};
    static constexpr std::string_view codas[] = {"n", "r", "s", "t", "l", "x", "m", "ck", "st", "nd", "rt", "ng"};
    for (std::size_t s = 0; s < syllables; ++s) {
        h = mix(h + s);
        out += onsets[h % std::size(onsets)];
        out += vowels[(h >> 8) % std::size(vowels)];
        if ((h >> 16) % 4 == 0) out += codas[(h >> 24) % std::size(codas)];
    }
}

inline void append_number(std::string& out, std::uint64_t v) { out += std::to_string(v); }

// Words real package names and directories are made of; the generators mix
// them with invented words.
inline constexpr std::string_view package_words[] = {
    "react", "plugin", "eslint", "config", "types", "vue", "babel", "webpack", "loader", "utils", "core",
    "cli", "node", "js", "api", "client", "server", "ui", "components", "preset", "parser", "router", "test",
    "mock", "data", "json", "http", "auth", "cache", "store", "theme", "icons", "style", "css", "sdk", "tools",
    "lib", "kit", "native", "angular", "svelte", "next", "vite", "rollup", "jest", "lint", "format", "logger",
    "graphql", "redux", "hooks", "form", "table", "chart", "date", "stream", "fs", "path", "url", "query", "db",
    "sql", "mongo", "redis", "aws", "cloud", "docker", "jwt", "crypto", "hash", "image", "video", "markdown",
    "i18n", "schema", "validator", "generator", "template", "starter", "demo", "app", "web", "mobile",
    "wrapper", "adapter", "binding", "polyfill", "transform", "compiler", "runtime", "bundle", "build", "dev",
    "helper", "common", "shared", "base", "mini", "simple", "fast", "super", "my", "open", "easy", "smart"};

inline constexpr std::string_view directory_words[] = {
    "src", "lib", "include", "test", "tests", "docs", "build", "bin", "share", "local", "assets", "components",
    "utils", "config", "scripts", "node_modules", "vendor", "packages", "internal", "cmd", "pkg", "api",
    "core", "modules", "static", "images", "css", "js", "data", "logs", "cache", "tmp", "backup", "projects",
    "Documents", "Downloads", "Pictures", "music", "photos", "work", "dist", "public", "resources", "main",
    "java", "python3", "site-packages", "dev", "release", "debug", "fixtures", "models", "views", "styles",
    "templates", "examples", "tools", "third_party", "web", "server", "client", "common", "platform"};

inline constexpr std::string_view extensions[] = {
    ".c", ".h", ".py", ".js", ".json", ".md", ".txt", ".ts", ".cpp", ".hpp", ".go", ".rs", ".java", ".html",
    ".css", ".png", ".jpg", ".svg", ".xml", ".yaml", ".log", ".so", ".o", ".gz", ".csv", ".sh", ".pdf", ".tsx"};

// Package-like names: `@scope/` on half of them, then 1-4 parts joined by
// '-' (now and then '.' or '_'), each a common package word (40%) or an
// invented word, a trailing digit on one in ten. Scopes and invented words
// are ranks drawn with `skewed`, so a few scopes hold many names and a few
// words recur often, as in npm's registry.
inline Dataset names(std::size_t n, std::uint64_t seed) {
    Rng rng(seed ^ 0x6E616D6573ULL);
    const unsigned scope_bits = std::max(6U, static_cast<unsigned>(std::bit_width(n / 16)));
    UniqueKeys keys(n);
    std::string key;
    auto part = [&] {
        if (rng.below(10) < 4) {
            key += package_words[skewed(rng, 3, 7) % std::size(package_words)];
        } else {
            append_word(key, mix(seed + skewed(rng, 4, 17)), 1 + rng.below(3));
        }
    };
    while (keys.size() < n) {
        key.clear();
        if (rng.below(2) == 0) {
            const std::uint64_t scope = skewed(rng, 2, scope_bits);
            key += '@';
            // The scope's name is a function of its rank: every name of a scope shares it.
            append_word(key, mix(seed ^ (scope * 0x9E3779B97F4A7C15ULL)), 2 + scope % 2);
            if (scope % 5 == 0) {
                key += '-';
                append_word(key, mix(seed + scope), 1 + scope % 3);
            }
            key += '/';
        }
        const std::uint64_t r = rng.below(100);
        const std::size_t parts = r < 25 ? 1 : r < 65 ? 2 : r < 90 ? 3 : 4;
        for (std::size_t p = 0; p < parts; ++p) {
            if (p > 0) {
                const std::uint64_t sep = rng.below(100);
                key += sep < 92 ? '-' : sep < 97 ? '.' : '_';
            }
            part();
        }
        if (rng.below(10) == 0) append_number(key, rng.below(20));
        keys.add(key);
    }
    return keys.finish("synthetic:names:" + std::to_string(n) + ":seed=" + std::to_string(seed));
}

// File-system paths: a top directory ("/home/", "/usr/", ...), then 2-9
// directory levels, then a file name with an extension. The directory tree is
// implicit and shared by all keys: at each level the child is a rank drawn
// with `skewed` (few children near the top, more below), and a directory's
// name is a function of its parent and its rank, so popular directories
// recur in many keys with identical prefixes ("deep sharing").
inline Dataset paths(std::size_t n, std::uint64_t seed) {
    Rng rng(seed ^ 0x7061746873ULL);
    static constexpr std::string_view tops[] = {"/home/", "/home/", "/home/", "/usr/",  "/usr/",
                                                "/var/",  "/opt/",  "/srv/",  "/data/", "/mnt/backup/"};
    // Child ranks per level: [lo, hi] bits for `skewed`.
    static constexpr unsigned level_lo[] = {1, 1, 2, 2, 3, 3, 3, 3, 3};
    static constexpr unsigned level_hi[] = {4, 6, 8, 9, 10, 10, 10, 10, 10};
    static constexpr unsigned depth_weight[] = {0, 0, 5, 12, 19, 22, 17, 12, 8, 5};  // depth 2..9, in %
    UniqueKeys keys(n);
    std::string key;
    while (keys.size() < n) {
        key.clear();
        const std::size_t top = rng.below(std::size(tops));
        key += tops[top];
        std::uint64_t r = rng.below(100);
        std::size_t depth = 0;
        while (r >= depth_weight[depth]) r -= depth_weight[depth++];
        std::uint64_t dir = mix(seed ^ (top + 1));
        for (std::size_t level = 0; level < depth; ++level) {
            dir = mix(dir ^ (skewed(rng, level_lo[level], level_hi[level]) + 1) * 0x9E3779B97F4A7C15ULL);
            // Under /home/ the first level is a user: an invented word.
            const std::uint64_t kind = level == 0 && top < 3 ? 50 : dir % 100;
            if (kind < 40) {
                key += directory_words[(dir >> 8) % std::size(directory_words)];
            } else if (kind < 88) {
                append_word(key, dir >> 8, 1 + (dir >> 40) % 3);
                if ((dir >> 20) % 4 == 0) {
                    key += (dir >> 24) % 2 == 0 ? '-' : '_';
                    append_word(key, dir >> 28, 1 + (dir >> 44) % 2);
                }
            } else if (kind < 95) {
                key += 'v';
                append_number(key, (dir >> 8) % 5);
                key += '.';
                append_number(key, (dir >> 16) % 20);
                key += '.';
                append_number(key, (dir >> 24) % 10);
            } else {
                append_number(key, 2010 + (dir >> 8) % 16);
                key += '-';
                const std::uint64_t month = 1 + (dir >> 16) % 12;
                if (month < 10) key += '0';
                append_number(key, month);
            }
            key += '/';
        }
        append_word(key, rng.next(), 1 + rng.below(3));
        const std::uint64_t shape = rng.below(100);
        if (shape < 35) {
            key += shape < 25 ? '_' : '-';
            append_word(key, rng.next(), 1 + rng.below(2));
        }
        if (rng.below(100) < 15) append_number(key, rng.below(100));
        key += extensions[skewed(rng, 2, 5) % std::size(extensions)];
        keys.add(key);
    }
    return keys.finish("synthetic:paths:" + std::to_string(n) + ":seed=" + std::to_string(seed));
}

// n distinct keys of 16 uniformly random bytes.
inline Dataset binary(std::size_t n, std::uint64_t seed) {
    Rng rng(seed ^ 0x62696E617279ULL);
    UniqueKeys keys(n);
    char key[16];
    while (keys.size() < n) {
        for (std::size_t half = 0; half < 2; ++half) {
            const std::uint64_t v = rng.next();
            for (std::size_t b = 0; b < 8; ++b) key[half * 8 + b] = static_cast<char>((v >> (8 * b)) & 0xFF);
        }
        keys.add(std::string_view(key, sizeof key));
    }
    return keys.finish("synthetic:binary:" + std::to_string(n) + ":seed=" + std::to_string(seed));
}

// n distinct uniformly random 64-bit integers, each as 8 bytes big-endian
// (so byte order is numeric order): the "sparse" integer keys of the ART
// paper. Dense ranges are not covered by this shape.
inline Dataset ints(std::size_t n, std::uint64_t seed) {
    Rng rng(seed ^ 0x696E7473ULL);
    UniqueKeys keys(n);
    char key[8];
    while (keys.size() < n) {
        const std::uint64_t v = rng.next();
        for (std::size_t b = 0; b < 8; ++b) key[b] = static_cast<char>((v >> (56 - 8 * b)) & 0xFF);
        keys.add(std::string_view(key, sizeof key));
    }
    return keys.finish("synthetic:ints:" + std::to_string(n) + ":seed=" + std::to_string(seed));
}

}  // namespace shapes_detail

// n distinct keys of the given shape; the same (shape, n, seed) gives the
// same keys in the same order everywhere. The data set's name is
// "synthetic:SHAPE:N:seed=S".
inline Dataset synthetic_keys(KeyShape shape, std::size_t n, std::uint64_t seed) {
    switch (shape) {
    case KeyShape::urls: return Dataset::synthetic(n, seed);
    case KeyShape::names: return shapes_detail::names(n, seed);
    case KeyShape::paths: return shapes_detail::paths(n, seed);
    case KeyShape::binary: return shapes_detail::binary(n, seed);
    case KeyShape::ints: return shapes_detail::ints(n, seed);
    }
    throw std::invalid_argument("synthetic_keys: unknown shape");
}

// The keys an input names: a key file (a name with a '/' or without a ':')
// or SHAPE:N, generated with `seed`. Throws std::runtime_error saying what
// is wrong with the input.
inline Dataset load_keys(const std::string& input, std::uint64_t seed) {
    if (input.find('/') != std::string::npos || input.find(':') == std::string::npos) {
        return Dataset::load_file(input);
    }
    std::string error;
    const auto spec = parse_synthetic_spec(input, error);
    if (!spec) throw std::runtime_error(error);
    return synthetic_keys(spec->shape, spec->keys, seed);
}

}  // namespace memkv::bench
