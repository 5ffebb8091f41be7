#pragma once

// HybridKV's checkpoint: a manifest file plus one FrozenLayer file per run
// layer beside it (memkv::detail).
//
// A checkpoint at PATH is files in PATH's directory:
//
//   PATH                      the manifest (below): header, run table, delta
//   <name>.run.<16 hex>       one per run layer (live entries, tombstones), in
//                             FrozenLayer's own format; <name> is PATH's file
//                             name. Immutable once written: a later save of
//                             the same store that still has the run names the
//                             same file again instead of writing it anew.
//   <run file>.filter         the run's Bloom filter (filter.hpp), named after
//                             its live layer's file (its tombstones' when it
//                             has no live layer). Optional: a run without one
//                             gets its filter rebuilt from its keys at open().
//                             The manifest does not list it (version 3 readers
//                             ignore it); it belongs to its run file.
//
// Manifest (version 3), all integers little-endian:
//
//   offset  size  field
//   0       8     magic "MKVHYBR1"
//   8       4     format version (3; 1 and 2 are still read)
//   12      4     sizeof(V)
//   16      8     size: visible keys in the whole store
//   24      8     delta record count
//   32      8     payload length in bytes (everything after the header)
//   40      4     run count
//   44      4     CRC-32C of the payload
//   48      8     value type tag (frozen_type_tag<V>(): size, alignment, kind)
//   56      4     run table length in bytes (the payload's first part)
//   60      4     CRC-32C of bytes 0..59
//   64            payload: run table, then the delta records
//
// Run entry (newest run first): u32 level | u16 length, live file name | u16
// length, tombstone file name (length 0: none of that layer).
// Delta record: u32 key length | u8 flags (bit 0 live, bit 1 below) | key
// bytes | sizeof(V) value bytes (live records only; V is trivially copyable
// and stored in host byte order, as FrozenLayer stores it).
//
// Versions 1 and 2 (memkv 0.1): a 56-byte header whose bytes 40..43 are the
// length of one base file name that starts the payload, no type tag (only
// sizeof(V) is checked; the base file's own tag is checked when it exists),
// CRC-32/IEEE (v1) or CRC-32C (v2) at bytes 52..55 over bytes 0..51.
//
// Commit protocol (crash safety): run files go to fresh names (written
// through a temporary file, fsynced, renamed, or hard-linked from a
// file-backed run), the manifest to a temporary file (write, fsync), then
// rename(temporary, PATH) is the single commit point, followed by an fsync of
// the directory. A crash at any step leaves the previous manifest and the
// files it names untouched.
//
// Ownership (garbage collection): after the commit, the save removes files
// "<name>.run.<16 hex>" and "<name>.base.<16 hex>" (and their ".tmp"
// leftovers, and filters "<name>.run.<16 hex>.filter" of runs no longer
// named) in PATH's directory that no manifest in that directory names -
// it reads the header and run table of every manifest there, so a copy of a
// checkpoint made beside it (backup-db.mkv naming db.mkv.run.*) keeps its
// files. A manifest kept in another directory does not protect them: keep a
// checkpoint's files together. Two stores must not save to one PATH at once.

#include <memkv/detail/frozen/format.hpp>
#include <memkv/detail/io/crc32c.hpp>
#include <memkv/detail/io/endian.hpp>
#include <memkv/detail/io/file.hpp>
#include <memkv/detail/io/file_kind.hpp>
#include <memkv/errors.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace memkv::detail {

inline constexpr const auto& hybrid_magic = hybrid_magic_bytes;  // detail/io/file_kind.hpp
inline constexpr std::uint32_t hybrid_format_version = 3;
inline constexpr std::size_t hybrid_header_size = 64;
inline constexpr std::size_t hybrid_v2_header_size = 56;
inline constexpr std::uint8_t hybrid_flag_live = 1;
inline constexpr std::uint8_t hybrid_flag_below = 2;

// One run of a manifest: its level and its files' names (in the manifest's
// directory; empty: no such layer).
struct hybrid_manifest_run {
    unsigned level = 0;
    std::string live;
    std::string tomb;
};

// A parsed, validated manifest up to its delta records.
struct hybrid_manifest {
    std::uint32_t version = hybrid_format_version;
    std::uint64_t size = 0;
    std::uint64_t record_count = 0;
    std::vector<hybrid_manifest_run> runs;
    std::size_t records_at = 0;  // offset of the first delta record
};

// The file holding a run's filter (see the layout above).
inline std::string hybrid_filter_name(const hybrid_manifest_run& r) {
    return (r.live.empty() ? r.tomb : r.live) + ".filter";
}

// A run file name must stay in the manifest's directory.
inline bool hybrid_plain_name(std::string_view n) {
    return !n.empty() && n != "." && n != ".." && n.find('/') == std::string_view::npos &&
           n.find('\0') == std::string_view::npos;
}

inline std::string encode_hybrid_run_table(const std::vector<hybrid_manifest_run>& runs) {
    std::string t;
    for (const auto& r : runs) {
        append_le(t, r.level, 4);
        append_le(t, r.live.size(), 2);
        t += r.live;
        append_le(t, r.tomb.size(), 2);
        t += r.tomb;
    }
    return t;
}

// The whole manifest file.
inline std::string encode_hybrid_manifest(std::uint32_t value_size, std::uint64_t type_tag, std::uint64_t size,
                                          const std::vector<hybrid_manifest_run>& runs, std::uint64_t records,
                                          std::string_view delta_records) {
    const std::string table = encode_hybrid_run_table(runs);
    std::string payload = table;
    payload.append(delta_records);
    std::string out(hybrid_magic, sizeof hybrid_magic);
    append_le(out, hybrid_format_version, 4);
    append_le(out, value_size, 4);
    append_le(out, size, 8);
    append_le(out, records, 8);
    append_le(out, payload.size(), 8);
    append_le(out, runs.size(), 4);
    append_le(out, crc32c(reinterpret_cast<const unsigned char*>(payload.data()), payload.size()), 4);
    append_le(out, type_tag, 8);
    append_le(out, table.size(), 4);
    append_le(out, crc32c(reinterpret_cast<const unsigned char*>(out.data()), out.size()), 4);
    out += payload;
    return out;
}

// Parses the run table at `p` (length n) into `runs`; false when malformed.
inline bool decode_hybrid_run_table(const unsigned char* p, std::size_t n, std::uint64_t count,
                                    std::vector<hybrid_manifest_run>& runs) {
    std::size_t pos = 0;
    auto name = [&](std::string& out) {
        if (n - pos < 2) return false;
        const std::size_t len = static_cast<std::size_t>(load_le(p + pos, 2));
        pos += 2;
        if (n - pos < len) return false;
        out.assign(reinterpret_cast<const char*>(p + pos), len);
        pos += len;
        return out.empty() || hybrid_plain_name(out);
    };
    for (std::uint64_t i = 0; i < count; ++i) {
        hybrid_manifest_run r;
        if (n - pos < 4) return false;
        r.level = static_cast<unsigned>(load_le(p + pos, 4));
        pos += 4;
        if (!name(r.live) || !name(r.tomb)) return false;
        if (r.live.empty() && r.tomb.empty()) return false;
        runs.push_back(std::move(r));
    }
    return pos == n;
}

// Validates everything that can be checked without the run files: magic,
// version, value type, both checksums, lengths against the file size, the
// run table. `fail(reason)` returns the exception to throw.
template <class Fail>
hybrid_manifest decode_hybrid_manifest(std::string_view file, std::uint32_t value_size, std::uint64_t type_tag,
                                       Fail&& fail) {
    const auto* p = reinterpret_cast<const unsigned char*>(file.data());
    // Another file says what it is; one that starts like a manifest is a
    // truncated manifest.
    if (!starts_like(p, file.size(), hybrid_magic)) {
        throw fail("not a memkv checkpoint (" + describe_foreign_file(p, file.size()) + ")");
    }
    if (file.size() < hybrid_v2_header_size) {
        throw fail("truncated: " + std::to_string(file.size()) + " bytes is shorter than a header");
    }
    hybrid_manifest m;
    m.version = static_cast<std::uint32_t>(load_le(p + 8, 4));
    if (m.version == 1 || m.version == 2) {
        const auto crc = m.version == 1 ? crc32_ieee : crc32c;
        if (load_le(p + 52, 4) != crc(p, 52)) throw fail("header checksum mismatch");
        if (load_le(p + 12, 4) != value_size) {
            throw fail("value type mismatch: saved with sizeof(V) = " + std::to_string(load_le(p + 12, 4)) +
                       ", opened with " + std::to_string(value_size));
        }
        m.size = load_le(p + 16, 8);
        m.record_count = load_le(p + 24, 8);
        const std::uint64_t payload_length = load_le(p + 32, 8);
        const std::uint64_t name_length = load_le(p + 40, 4);
        if (payload_length != file.size() - hybrid_v2_header_size) throw fail("truncated or oversized payload");
        if (name_length > payload_length) throw fail("base name out of bounds");
        if (crc(p + hybrid_v2_header_size, file.size() - hybrid_v2_header_size) != load_le(p + 44, 4)) {
            throw fail("payload checksum mismatch");
        }
        if (name_length != 0) {
            hybrid_manifest_run r;
            r.live.assign(file.substr(hybrid_v2_header_size, name_length));
            if (!hybrid_plain_name(r.live)) throw fail("bad base file name");
            m.runs.push_back(std::move(r));
        }
        m.records_at = hybrid_v2_header_size + name_length;
        return m;
    }
    if (file.size() < hybrid_header_size) throw fail("truncated header");
    if (load_le(p + 60, 4) != crc32c(p, 60)) throw fail("header checksum mismatch");
    if (m.version != hybrid_format_version) throw fail("unsupported format version " + std::to_string(m.version));
    if (load_le(p + 12, 4) != value_size || load_le(p + 48, 8) != type_tag) {
        throw fail("value type mismatch: saved for a different V (sizeof " + std::to_string(load_le(p + 12, 4)) +
                   ", type tag " + std::to_string(load_le(p + 48, 8)) + "; expected sizeof " +
                   std::to_string(value_size) + ", type tag " + std::to_string(type_tag) + ")");
    }
    m.size = load_le(p + 16, 8);
    m.record_count = load_le(p + 24, 8);
    const std::uint64_t payload_length = load_le(p + 32, 8);
    const std::uint64_t run_count = load_le(p + 40, 4);
    const std::uint64_t table_length = load_le(p + 56, 4);
    if (payload_length != file.size() - hybrid_header_size) throw fail("truncated or oversized payload");
    if (table_length > payload_length) throw fail("run table out of bounds");
    if (crc32c(p + hybrid_header_size, file.size() - hybrid_header_size) != load_le(p + 44, 4)) {
        throw fail("payload checksum mismatch");
    }
    if (!decode_hybrid_run_table(p + hybrid_header_size, static_cast<std::size_t>(table_length), run_count, m.runs)) {
        throw fail("malformed run table");
    }
    m.records_at = hybrid_header_size + static_cast<std::size_t>(table_length);
    return m;
}

// The file names a manifest at `path` refers to, read from its header and
// run table only (no payload checksum: this protects files, it loads
// nothing). False when `path` is not a manifest: not a regular file, gone
// since the listing, or one this process may not open (it cannot be one of
// its saves). io_error when reading it fails, since it may be one.
inline bool hybrid_manifest_names(const std::string& path, std::vector<std::string>& names) {
    file_reader f(path, true);
    if (!f.exists() || !f.is_regular()) return false;
    unsigned char h[hybrid_header_size];
    const std::size_t got = f.read(h, sizeof h);
    if (got < hybrid_v2_header_size || std::memcmp(h, hybrid_magic, sizeof hybrid_magic) != 0) return false;
    const std::uint64_t version = load_le(h + 8, 4);
    if (version == 1 || version == 2) {
        const std::size_t len = static_cast<std::size_t>(load_le(h + 40, 4));
        if (len == 0 || len > 4096) return len == 0;
        // The name starts the payload, right after the 56-byte header.
        std::string name(h + hybrid_v2_header_size, h + got);
        if (name.size() < len) {
            const std::size_t at = name.size();
            name.resize(len);
            if (f.read(name.data() + at, len - at) != len - at) return false;
        }
        name.resize(len);
        names.push_back(std::move(name));
        return true;
    }
    if (got < hybrid_header_size || load_le(h + 60, 4) != crc32c(h, 60)) return false;
    const std::size_t table_length = static_cast<std::size_t>(load_le(h + 56, 4));
    if (table_length > (std::size_t{1} << 26)) return false;
    std::vector<unsigned char> table(table_length);
    if (f.read(table.data(), table_length) != table_length) return false;
    std::vector<hybrid_manifest_run> runs;
    if (!decode_hybrid_run_table(table.data(), table_length, load_le(h + 40, 4), runs)) return false;
    for (auto& r : runs) {
        names.push_back(hybrid_filter_name(r));
        if (!r.live.empty()) names.push_back(std::move(r.live));
        if (!r.tomb.empty()) names.push_back(std::move(r.tomb));
    }
    return true;
}

// "<name>.run.<16 hex>" or "<name>.base.<16 hex>", optionally + ".tmp", or
// "<name>.run.<16 hex>.filter" (+ ".tmp"): a file a save of checkpoint
// `name` may have made.
inline bool hybrid_checkpoint_file(std::string_view f, std::string_view name) {
    if (f.size() < name.size() + 1 || f.substr(0, name.size()) != name || f[name.size()] != '.') return false;
    std::string_view rest = f.substr(name.size() + 1);
    bool run = false;
    if (rest.substr(0, 4) == "run.") {
        rest.remove_prefix(4);
        run = true;
    } else if (rest.substr(0, 5) == "base.") {
        rest.remove_prefix(5);
    } else {
        return false;
    }
    if (rest.size() < 16 || rest.substr(0, 16).find_first_not_of("0123456789abcdef") != std::string_view::npos) {
        return false;
    }
    rest.remove_prefix(16);
    if (run && rest.substr(0, 7) == ".filter") rest.remove_prefix(7);
    return rest.empty() || rest == ".tmp";
}

// Removes the files of checkpoint `name` in `dir` that no manifest in `dir`
// names (see "Ownership" above). Best effort: errors are ignored and what is
// left goes next time. A file that cannot be read might be a manifest naming
// some of the candidates, so then nothing is removed at all (a backup's runs
// are worth more than the space).
inline void collect_checkpoint_garbage(const std::string& dir, const std::string& name) {
    std::vector<std::string> candidates;
    std::set<std::string> named;
    try {
        for (const std::string& f : list_directory(dir)) {
            if (hybrid_checkpoint_file(f, name)) {
                candidates.push_back(f);
                continue;
            }
            std::vector<std::string> names;
            if (hybrid_manifest_names(dir + "/" + f, names)) named.insert(names.begin(), names.end());
        }
    } catch (const std::exception&) {
        return;  // an unreadable file or listing, or no memory: nothing removed
    }
    for (const std::string& f : candidates) {
        if (named.count(f) == 0) remove_file_noexcept(dir + "/" + f);
    }
}

}  // namespace memkv::detail
