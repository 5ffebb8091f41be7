#pragma once

// The body shared by the checkpoint-loading fuzz target
// (fuzz_checkpoint.cpp) and its replay unit test (test_hybrid_fuzz.cpp):
// the input becomes a checkpoint directory - a manifest and the run files it
// may name - and MemKV<std::uint64_t>::open must either throw a memkv::error
// or give a store that behaves. Anything else escaping, a crash, a hang or a
// sanitizer report (an over-read) is a bug.
//
// Input layout:
//   byte 0     flags: bit 0 recompute the manifest's lengths and checksums
//              (so mutations reach the run table and the delta records),
//              bit 1 hybrid_options::verify_on_open, bit 2 recompute the run
//              files' header and payload checksums (runs that lie inside),
//              bit 3 file-backed runs (hybrid_options::directory)
//   then       sections separated by checkpoint_section_mark: the first is
//              the manifest, written as "c.mkv"; each other is one byte of
//              name length, the name, and the file's bytes.
//
// When open() succeeds: if verify() passes and no checksum was forged, the
// store must be consistent (iteration strictly increasing, as long as
// size(), both directions alike, every key's get() equal to its iterated
// value, keys next to them absent unless iterated) and keep working (writes,
// compact(), save and reopen) against a std::map of what it held. With
// forged checksums or a failed verify(), every query may only answer or
// throw memkv::error.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <memkv/errors.hpp>
#include <memkv/hybrid_kv.hpp>

#include "hybrid_ops.hpp"

namespace memkv::test {

inline constexpr std::string_view checkpoint_section_mark = "@@mkv@";
inline constexpr std::string_view checkpoint_manifest_name = "c.mkv";

// Packs a checkpoint directory into a fuzz input (used to make the seeds):
// the manifest at `manifest` and every other regular file of its directory.
inline std::string pack_checkpoint(std::uint8_t flags, const std::filesystem::path& manifest) {
    auto slurp = [](const std::filesystem::path& p) {
        std::ifstream in(p, std::ios::binary);
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    };
    std::string out(1, static_cast<char>(flags));
    out += slurp(manifest);
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(manifest.parent_path())) {
        if (e.is_regular_file() && e.path() != manifest) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        const std::string name = f.filename().string();
        out += checkpoint_section_mark;
        out.push_back(static_cast<char>(name.size()));
        out += name;
        out += slurp(f);
    }
    return out;
}

inline void checkpoint_write(const std::filesystem::path& p, std::string_view bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Makes a manifest's lengths and checksums match its bytes (versions 1/2:
// the 56-byte header; otherwise version 3's 64-byte one).
inline void forge_manifest_checksums(std::string& f) {
    auto* p = reinterpret_cast<unsigned char*>(f.data());
    if (f.size() < detail::hybrid_v2_header_size) return;
    const std::uint64_t version = detail::load_le(p + 8, 4);
    if (version == 1 || version == 2) {
        const auto crc = version == 1 ? detail::crc32_ieee : detail::crc32c;
        const std::size_t h = detail::hybrid_v2_header_size;
        detail::store_le(p + 32, f.size() - h, 8);
        detail::store_le(p + 44, crc(p + h, f.size() - h), 4);
        detail::store_le(p + 52, crc(p, 52), 4);
        return;
    }
    const std::size_t h = detail::hybrid_header_size;
    if (f.size() < h) return;
    detail::store_le(p + 32, f.size() - h, 8);
    detail::store_le(p + 44, detail::crc32c(p + h, f.size() - h), 4);
    detail::store_le(p + 60, detail::crc32c(p, 60), 4);
}

// Makes a FrozenLayer file's header and payload checksums match its bytes.
inline void forge_frozen_checksums(std::string& f) {
    auto* p = reinterpret_cast<unsigned char*>(f.data());
    if (f.size() < detail::frozen_header_size) return;
    const std::size_t h = detail::frozen_header_size;
    detail::store_le(p + 80, detail::crc32c(p + h, f.size() - h), 4);
    detail::store_le(p + 84, detail::frozen_header_crc(p), 4);
}

// What must not crash on any store open() accepted, consistent or not:
// bounded reads both ways, then writes and a compaction. Answers are not
// checked. Backwards, over a run whose keys are out of order, `it !=
// begin()` can hold where nothing precedes it: a debug build says
// format_error there, and Release gives end(), which ends the walk.
template <class KV>
void checkpoint_probe(KV& kv) {
    try {
        std::size_t n = 0;
        for (auto it = kv.items().begin(), e = kv.items().end(); it != e && n < 256; ++it, ++n) {
            (void)kv.get(it.key());
        }
    } catch (const error&) {}
    try {
        const auto items = kv.items();
        const auto b = items.begin();
        auto it = items.end();
        for (std::size_t n = 0; it != b && n < 256; ++n) {
            --it;
            if (it == items.end()) break;
            (void)kv.get(it.key());
        }
    } catch (const error&) {}
    for (std::string_view k : {std::string_view{}, std::string_view("a"), std::string_view("\xff\xff")}) {
        try { (void)kv.get(k); } catch (const error&) {}
        try { (void)kv.longest_prefix(k); } catch (const error&) {}
    }
    try {
        std::vector<std::string> keys;
        for (auto it = kv.items().begin(), e = kv.items().end(); it != e && keys.size() < 8; ++it) keys.push_back(it.key());
        for (const std::string& k : keys) {
            kv.erase(k);
            kv.insert(k + "x", 1);
        }
        kv.insert_or_assign("", 2);
        kv.compact();
        (void)kv.size();
        (void)kv.get("");
    } catch (const error&) {}
}

// A store that verify() accepted: consistent, and it keeps working.
template <class KV>
void checkpoint_check_consistent(KV& kv, const hybrid_options& opt, const std::filesystem::path& dir) {
    hybrid_model m;
    std::string prev;
    for (const auto& [k, v] : kv.items()) {
        hy_check(m.empty() || prev < k, "loaded store: iteration strictly increasing");
        hy_check(kv.get(k) == v, "loaded store: get() of an iterated key");
        m.emplace(k, v);
        prev = k;
    }
    hy_check(kv.size() == m.size(), "loaded store: size() counts the iterated keys");
    hy_compare_view(kv.items(), m.begin(), m.end(), "loaded store: backwards iteration");
    // Keys next to each iterated one (and a few others) are absent unless
    // iterated themselves: get() sees nothing iteration does not.
    std::vector<std::string> probes{std::string{}, std::string("\xff")};
    for (const auto& [k, v] : m) {
        if (probes.size() > 512) break;
        probes.push_back(k + '\0');
        if (!k.empty()) probes.push_back(k.substr(0, k.size() - 1));
    }
    for (const std::string& p : probes) hy_check_get(kv, m, p, "loaded store: get() of a neighbour");

    // It keeps working: writes over every layer, compact(), a save and reopen.
    std::uint64_t v = 1;
    std::vector<std::string> keys;
    for (const auto& kv_pair : m) {
        if (keys.size() == 16) break;
        keys.push_back(kv_pair.first);
    }
    for (const std::string& k : keys) {
        if (v % 3 == 0) {
            hy_check(kv.erase(k) == m.erase(k), "loaded store: erase");
        } else {
            hy_check(kv.insert_or_assign(k, v) == !m.contains(k), "loaded store: insert_or_assign");
            m[k] = v;
        }
        ++v;
    }
    hy_check(kv.insert("fresh key", 7) == m.emplace("fresh key", 7).second, "loaded store: insert");
    hy_compare_all(kv, m, "loaded store after writes");
    kv.compact();
    kv.verify();
    hy_compare_all(kv, m, "loaded store after compact()");
    const std::string again = (dir / "again.mkv").string();
    kv.save(again);
    const KV back = KV::open(again, [&] {
        hybrid_options o = opt;
        o.directory.clear();
        return o;
    }());
    back.verify();
    hy_compare_all(back, m, "loaded store saved and reopened");
}

inline void run_checkpoint_load(const std::uint8_t* data, std::size_t size) {
    using KV = HybridKV<std::uint64_t>;
    if (size == 0) return;
    const std::uint8_t flags = data[0];
    const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    static const fuzz_scratch scratch("checkpoint");
    const std::filesystem::path& root = scratch.path;
    empty_directory(root);
    const std::filesystem::path dir = root / "ckpt";
    std::filesystem::create_directories(dir);

    // Split into sections and write the files.
    std::vector<std::string_view> sections;
    for (std::size_t pos = 0;;) {
        const std::size_t next = input.find(checkpoint_section_mark, pos);
        sections.push_back(input.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
        if (next == std::string_view::npos || sections.size() == 16) break;
        pos = next + checkpoint_section_mark.size();
    }
    std::string manifest(sections[0]);
    if (flags & 1U) forge_manifest_checksums(manifest);
    checkpoint_write(dir / checkpoint_manifest_name, manifest);
    for (std::size_t i = 1; i < sections.size(); ++i) {
        const std::string_view s = sections[i];
        if (s.empty()) continue;
        const std::size_t len = static_cast<unsigned char>(s[0]);
        if (s.size() - 1 < len) continue;
        const std::string name(s.substr(1, len));
        if (!detail::hybrid_plain_name(name) || name == checkpoint_manifest_name || name.size() > 64) continue;
        std::string bytes(s.substr(1 + len));
        if (flags & 4U) forge_frozen_checksums(bytes);
        checkpoint_write(dir / name, bytes);
    }

    hybrid_options opt;
    opt.background_compaction = false;
    opt.verify_on_open = (flags & 2U) != 0;
    opt.compaction_keys = 8;
    opt.compaction_bytes = 0;
    opt.release_memory = false;
    if (flags & 8U) opt.directory = (root / "runs").string();

    std::optional<KV> kv;
    try {
        kv.emplace(KV::open((dir / checkpoint_manifest_name).string(), opt));
    } catch (const error&) {
        empty_directory(root);
        return;  // refused, with a memkv error: fine
    }
    // verify() may refuse what open() let through: open() checks a
    // multi-run store's size only against bounds (counting would walk every
    // key), and trusts the CRC-checked files to fit together (a renamed run
    // file of another checkpoint does not).
    bool verified = true;
    try {
        kv->verify();
    } catch (const error&) {
        verified = false;
    } catch (const std::logic_error&) {
        verified = false;
    }
    if (verified && (flags & 4U) == 0) {
        checkpoint_check_consistent(*kv, opt, root);
    } else {
        checkpoint_probe(*kv);
    }
    kv.reset();
    empty_directory(root);
}

}  // namespace memkv::test
