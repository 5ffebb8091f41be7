#pragma once

// One body shared by the libFuzzer target (fuzz_frozen.cpp) and the replay
// unit test (test_frozen_fuzz.cpp). The first input byte picks a mode:
//
//   0: the rest is a whole image for FrozenLayer::from_bytes (exercises the
//      header checks; random bytes rarely pass them).
//   1: the rest is an automaton + value column behind a header that this
//      function makes valid (magic, version, checksum, sizes), with n, root
//      and value layout taken from the input: a file that passed open() but
//      lies inside. Every query must either answer or throw format_error.
//   2: the rest is a list of keys (length-prefixed); they are sorted, built
//      into a layer (format version 1, 2 or 3) and every query is checked
//      against std::map.
//   3: a version 3 image that lies inside: the rest is a flip count, keys
//      (as mode 2) built into a valid image, then (position, mask) byte
//      pairs flipped in its trie payload; the checksums are made valid
//      again, so only the trie's own checks stand between the lies and a
//      crash. Every query must answer or throw format_error.
//
// Anything other than memkv::format_error escaping, a crash, a sanitizer
// report or a hang is a bug.

#include <algorithm>
#include <iterator>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <memkv/frozen_layer.hpp>

namespace memkv::fuzz {

inline void frozen_check(bool ok) {
    if (!ok) std::abort();
}

// Queries that must not crash on any layer; bounded work per call.
inline void frozen_probe(const FrozenLayer<std::uint64_t>& f, std::string_view keys) {
    std::vector<std::string_view> probes{std::string_view{}, keys};
    for (std::size_t i = 0; i + 1 < keys.size() && probes.size() < 12; i += 3)
        probes.push_back(keys.substr(i, 1 + static_cast<unsigned char>(keys[i + 1]) % 8U));
    try {
        f.verify();
    } catch (const format_error&) {
    }
    for (std::string_view k : probes) {
        try { (void)f.get(k); } catch (const format_error&) {}
        try {
            // find's lazy iterator builds its frames on the first ++ / --.
            auto it = f.find(k);
            if (it != f.end()) {
                (void)it.value();
                auto back = it;
                ++it;
                --back;
            }
        } catch (const format_error&) {}
        try { (void)f.ordinal(k); } catch (const format_error&) {}
        try {
            auto it = f.lower_bound(k);
            for (int s = 0; s < 8 && it != f.end(); ++s) {
                (void)it.value();
                ++it;
            }
        } catch (const format_error&) {}
        try { (void)f.upper_bound(k); } catch (const format_error&) {}
        try {
            auto r = f.prefix(k);
            int s = 0;
            for (auto it = r.begin(); it != r.end() && s < 8; ++it, ++s) (void)it.key();
        } catch (const format_error&) {}
        try {
            auto it = f.longest_prefix(k);
            if (it != f.end()) (void)it.key();
        } catch (const format_error&) {}
    }
    try {
        int s = 0;
        for (auto it = f.begin(); it != f.end() && s < 64; ++it, ++s) (void)it.value();
    } catch (const format_error&) {}
    try {
        auto it = f.end();
        for (int s = 0; s < 64 && !f.empty(); ++s) {
            --it;
            (void)it.key();
            if (it == f.begin()) break;
        }
    } catch (const format_error&) {}
    for (std::size_t i = 0; i < f.size() && i < 16; ++i) {
        try { (void)f.key_at(i); } catch (const format_error&) {}
    }
}

inline void frozen_mode_image(const std::uint8_t* data, std::size_t size) {
    try {
        auto f = FrozenLayer<std::uint64_t>::from_bytes(std::span<const unsigned char>(data, size));
        frozen_probe(f, std::string_view(reinterpret_cast<const char*>(data), std::min<std::size_t>(size, 64)));
    } catch (const format_error&) {
    }
}

inline void frozen_mode_lying(const std::uint8_t* data, std::size_t size) {
    if (size < 12) return;
    detail::frozen_header h;
    h.type_tag = detail::frozen_type_tag<std::uint64_t>();
    h.value_size = 8;
    h.num_keys = detail::load_le(data, 3);
    const std::uint64_t root = detail::load_le(data + 3, 3);
    const unsigned bits = data[6] % 66;  // 65: ordinal column
    for (std::size_t i = 0; i < detail::frozen_table_size; ++i)
        h.table[i] = static_cast<unsigned char>(data[7] + i * 37);
    h.value_base = data[8];
    const std::size_t body = size - 12;
    std::uint64_t vsize = 0;
    if (bits == 65) {
        h.value_kind = detail::frozen_value_kind::ordinal;
    } else {
        h.value_kind = detail::frozen_value_kind::packed;
        h.value_bits = static_cast<std::uint8_t>(bits);
        vsize = detail::packed_column::byte_size(h.num_keys, bits);
    }
    if (vsize > body) return;
    h.automaton_size = body - vsize;
    h.values_size = vsize;
    h.root = h.automaton_size ? root % h.automaton_size : 0;
    if (h.automaton_size == 0) h.num_keys = 0;
    std::vector<unsigned char> img(detail::frozen_header_size + body);
    std::copy(data + 12, data + size, img.begin() + detail::frozen_header_size);
    h.payload_crc = detail::crc32c(img.data() + detail::frozen_header_size, body);
    detail::encode_frozen_header(h, img.data());
    try {
        auto f = FrozenLayer<std::uint64_t>::from_bytes(std::span<const unsigned char>(img));
        frozen_probe(f, std::string_view(reinterpret_cast<const char*>(data + 12), std::min<std::size_t>(body, 64)));
    } catch (const format_error&) {
    }
}

inline void frozen_mode_model(const std::uint8_t* data, std::size_t size) {
    std::map<std::string, std::uint64_t> model;
    std::size_t i = 0;
    std::uint64_t v = 0;
    while (i < size) {
        const std::size_t len = std::min<std::size_t>(data[i] % 16, size - i - 1);
        model.emplace(std::string(reinterpret_cast<const char*>(data + i + 1), len), v);
        v = v * 31 + data[i];
        i += 1 + len;
    }
    const unsigned seed = size > 0 ? data[0] : 0U;
    const bool ordinal_values = !model.empty() && (seed & 1U);
    if (ordinal_values) {
        std::uint64_t r = 0;
        for (auto& kv : model) kv.second = r++;
    }
    frozen_layer_options opt;
    opt.registry_rows = 1 + seed % 4;
    opt.registry_ways = 1 + seed % 3;
    opt.table_sample_keys = 1 + (size % 7);
    opt.pair_nodes = (seed & 2U) ? frozen_layer_options::pairs_mode::always
                                 : frozen_layer_options::pairs_mode::automatic;
    opt.format_version = 1 + (seed >> 2) % 3;  // 2: run nodes; 3: the succinct trie
    auto f = FrozenLayer<std::uint64_t>::from_sorted(model, opt);
    frozen_check(f.size() == model.size());
    std::size_t r = 0;
    auto it = f.begin();
    for (const auto& kv : model) {
        frozen_check(it != f.end() && it.key() == kv.first && it.value() == kv.second);
        frozen_check(f.get(kv.first) == kv.second);
        frozen_check(f.ordinal(kv.first) == r);
        frozen_check(f.key_at(r) == kv.first);
        ++it;
        ++r;
    }
    frozen_check(it == f.end());
    // Probes: every key with its last byte dropped / changed / extended.
    for (const auto& kv : model) {
        std::string probes[3] = {kv.first.substr(0, kv.first.size() / 2), kv.first + '\0', kv.first};
        if (!probes[2].empty()) probes[2].back() = static_cast<char>(probes[2].back() + 1);
        for (const std::string& p : probes) {
            auto m = model.find(p);
            auto fv = f.get(p);
            frozen_check(m == model.end() ? !fv : (fv && *fv == m->second));
            // find: lazy; stepping it either way agrees with the model.
            auto fi = f.find(p);
            if (m == model.end()) {
                frozen_check(fi == f.end() && !f.contains(p));
            } else {
                frozen_check(fi != f.end() && fi.key() == p && fi.value() == m->second &&
                             (*fi).first == p && fi->second == m->second);
                auto nx = fi;
                ++nx;
                frozen_check(std::next(m) == model.end() ? nx == f.end() : (nx != f.end() && nx.key() == std::next(m)->first));
                if (m != model.begin()) {
                    --fi;
                    frozen_check(fi.key() == std::prev(m)->first);
                }
            }
            auto lb = f.lower_bound(p);
            auto mlb = model.lower_bound(p);
            frozen_check(mlb == model.end() ? lb == f.end() : (lb != f.end() && lb.key() == mlb->first));
            auto ub = f.upper_bound(p);
            auto mub = model.upper_bound(p);
            frozen_check(mub == model.end() ? ub == f.end() : (ub != f.end() && ub.key() == mub->first));
        }
    }
}

inline void frozen_mode_trie_lies(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return;
    const std::size_t flips = data[0] % 16;
    const std::size_t keys_end = size - std::min(size - 1, 3 * flips);
    std::map<std::string, std::uint64_t> model;
    for (std::size_t i = 1; i < keys_end;) {
        const std::size_t len = std::min<std::size_t>(data[i] % 24, keys_end - i - 1);
        model.emplace(std::string(reinterpret_cast<const char*>(data + i + 1), len), model.size() * 7);
        i += 1 + len;
    }
    frozen_layer_options opt;
    opt.format_version = 3;
    const auto valid = FrozenLayer<std::uint64_t>::from_sorted(model, opt);
    std::vector<unsigned char> img(valid.bytes().begin(), valid.bytes().end());
    const std::size_t payload = valid.automaton_size();
    if (payload == 0) return;
    for (std::size_t i = keys_end; i + 3 <= size; i += 3) {
        const std::size_t at = (std::size_t{data[i]} | std::size_t{data[i + 1]} << 8) % payload;
        img[detail::frozen_header_size + at] ^= static_cast<unsigned char>(data[i + 2] | 1U);
    }
    detail::frozen_header h = detail::decode_frozen_header(img.data(), img.size(), detail::frozen_type_tag<std::uint64_t>(), 8);
    h.payload_crc = detail::crc32c(img.data() + detail::frozen_header_size, img.size() - detail::frozen_header_size);
    detail::encode_frozen_header(h, img.data());
    try {
        auto f = FrozenLayer<std::uint64_t>::from_bytes(std::span<const unsigned char>(img));
        frozen_probe(f, std::string_view(reinterpret_cast<const char*>(data + 1), std::min<std::size_t>(keys_end - 1, 64)));
    } catch (const format_error&) {
    }
}

inline void frozen_fuzz_one(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return;
    switch (data[0] % 4) {
    case 0: frozen_mode_image(data + 1, size - 1); break;
    case 1: frozen_mode_lying(data + 1, size - 1); break;
    case 2: frozen_mode_model(data + 1, size - 1); break;
    default: frozen_mode_trie_lies(data + 1, size - 1); break;
    }
}

}  // namespace memkv::fuzz
