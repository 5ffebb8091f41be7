#pragma once

// HybridKV's checkpoint: a small manifest file plus the base's own FrozenLayer
// file beside it (memkv::detail).
//
// A checkpoint at PATH is two files in PATH's directory:
//
//   PATH                      the manifest (below): header, base file name, delta
//   <name>.base.<16 hex>      the base, in FrozenLayer's own format (absent when
//                             the base is empty); <name> is PATH's file name
//
// Manifest, all integers little-endian:
//
//   offset  size  field
//   0       8     magic "MKVHYBR1"
//   8       4     format version (2; 1 is still read)
//   12      4     sizeof(V)
//   16      8     size: visible keys in the whole store
//   24      8     delta record count
//   32      8     payload length in bytes (everything after the header)
//   40      4     base file name length (0: empty base)
//   44      4     CRC-32C of the payload
//   48      4     reserved, 0
//   52      4     CRC-32C of bytes 0..51
//   56            payload: base file name, then the delta records
//
// Delta record: u32 key length | u8 flags (bit 0 live, bit 1 below) | key
// bytes | sizeof(V) value bytes (live records only; V is trivially copyable
// and stored in host byte order, as FrozenLayer stores it).
//
// Commit protocol (crash safety): the base goes to a fresh, never-used name
// (temp file, fsync, rename), the manifest to PATH.tmp (write, fsync), then
// rename(PATH.tmp, PATH) is the single commit point, followed by an fsync of
// the directory. Only after that are the previous checkpoint's base file and
// leftovers of crashed saves ("<name>.base.<16 hex>[.tmp]") removed. A crash at any step leaves the previous manifest and the base it
// names untouched; leftovers of the failed save are ignored by open().

#include <memkv/detail/io/crc32c.hpp>
#include <memkv/detail/io/endian.hpp>
#include <memkv/errors.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>


namespace memkv::detail {

inline constexpr char hybrid_magic[8] = {'M', 'K', 'V', 'H', 'Y', 'B', 'R', '1'};
// Version 2 checksums with CRC-32C (detail/io); version 1 (memkv 0.1.0) used
// CRC-32/IEEE and is still read.
inline constexpr std::uint32_t hybrid_format_version = 2;
inline constexpr std::size_t hybrid_header_size = 56;
inline constexpr std::uint8_t hybrid_flag_live = 1;
inline constexpr std::uint8_t hybrid_flag_below = 2;

// The parsed, validated fixed header of a manifest.
struct hybrid_manifest_header {
    std::uint64_t size = 0;
    std::uint64_t record_count = 0;
    std::uint64_t payload_length = 0;
    std::uint32_t base_name_length = 0;
    std::uint32_t payload_crc = 0;
};

inline std::string encode_hybrid_header(std::uint32_t value_size, const hybrid_manifest_header& h) {
    std::string out(hybrid_magic, sizeof hybrid_magic);
    append_le(out, hybrid_format_version, 4);
    append_le(out, value_size, 4);
    append_le(out, h.size, 8);
    append_le(out, h.record_count, 8);
    append_le(out, h.payload_length, 8);
    append_le(out, h.base_name_length, 4);
    append_le(out, h.payload_crc, 4);
    append_le(out, 0, 4);
    append_le(out, crc32c(reinterpret_cast<const unsigned char*>(out.data()), out.size()), 4);
    return out;
}

// Validates everything that can be checked without the base: magic, version,
// value size, both checksums, lengths against the file size.
inline hybrid_manifest_header decode_hybrid_manifest(std::string_view file, std::uint32_t value_size,
                                                     const std::string& path) {
    auto fail = [&](const std::string& why) {
        return format_error("memkv::HybridKV checkpoint " + path + ": " + why);
    };
    if (file.size() < hybrid_header_size) throw fail("truncated header");
    const auto* p = reinterpret_cast<const unsigned char*>(file.data());
    if (std::memcmp(p, hybrid_magic, sizeof hybrid_magic) != 0) throw fail("bad magic");
    const std::uint64_t version = load_le(p + 8, 4);
    const auto crc = version == 1 ? crc32_ieee : crc32c;
    if (load_le(p + 52, 4) != crc(p, 52)) throw fail("header checksum mismatch");
    if (version != 1 && version != hybrid_format_version) {
        throw fail("unsupported format version " + std::to_string(version));
    }
    if (load_le(p + 12, 4) != value_size) throw fail("value size mismatch");
    hybrid_manifest_header h;
    h.size = load_le(p + 16, 8);
    h.record_count = load_le(p + 24, 8);
    h.payload_length = load_le(p + 32, 8);
    h.base_name_length = static_cast<std::uint32_t>(load_le(p + 40, 4));
    h.payload_crc = static_cast<std::uint32_t>(load_le(p + 44, 4));
    if (h.payload_length != file.size() - hybrid_header_size) throw fail("truncated or oversized payload");
    if (h.base_name_length > h.payload_length) throw fail("base name out of bounds");
    if (crc(p + hybrid_header_size, file.size() - hybrid_header_size) != h.payload_crc) {
        throw fail("payload checksum mismatch");
    }
    return h;
}

// Removes the files "<name>.base.<16 hex>" (and their ".tmp") in `dir`
// except `keep`: bases of earlier checkpoints of `name` and leftovers of
// interrupted saves. Best effort; errors are ignored.
inline void remove_stale_bases(const std::string& dir, const std::string& name, const std::string& keep) {
    std::error_code ec;
    const std::string stem = name + ".base.";
    try {
        for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
            const std::string f = entry.path().filename().string();
            if (f == keep || f.size() < stem.size() + 16 || f.compare(0, stem.size(), stem) != 0) continue;
            const std::string_view rest = std::string_view(f).substr(stem.size());
            const std::string_view hex = rest.substr(0, 16);
            const bool is_hex = hex.find_first_not_of("0123456789abcdef") == std::string_view::npos;
            if (is_hex && (rest.size() == 16 || rest.substr(16) == ".tmp")) std::filesystem::remove(entry.path(), ec);
        }
    } catch (const std::exception&) {
        // A directory that changes under us: what is left goes next time.
    }
}

}  // namespace memkv::detail
