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
//   8       4     format version (1)
//   12      4     sizeof(V)
//   16      8     size: visible keys in the whole store
//   24      8     delta record count
//   32      8     payload length in bytes (everything after the header)
//   40      4     base file name length (0: empty base)
//   44      4     CRC-32 of the payload
//   48      4     reserved, 0
//   52      4     CRC-32 of bytes 0..51
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

#include <memkv/errors.hpp>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

namespace memkv::detail {

inline constexpr char hybrid_magic[8] = {'M', 'K', 'V', 'H', 'Y', 'B', 'R', '1'};
inline constexpr std::uint32_t hybrid_format_version = 1;
inline constexpr std::size_t hybrid_header_size = 56;
inline constexpr std::uint8_t hybrid_flag_live = 1;
inline constexpr std::uint8_t hybrid_flag_below = 2;

// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), table-driven.
inline std::uint32_t hybrid_crc32(const unsigned char* data, std::size_t n,
                                  std::uint32_t crc = 0) noexcept {
    static constexpr auto table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1U) != 0 ? 0xEDB88320U ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    crc = ~crc;
    for (std::size_t i = 0; i < n; ++i) crc = table[(crc ^ data[i]) & 0xFFU] ^ (crc >> 8);
    return ~crc;
}

inline void put_le(std::string& out, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFU));
}

inline std::uint64_t get_le(const unsigned char* p, int bytes) noexcept {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
    return v;
}

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
    put_le(out, hybrid_format_version, 4);
    put_le(out, value_size, 4);
    put_le(out, h.size, 8);
    put_le(out, h.record_count, 8);
    put_le(out, h.payload_length, 8);
    put_le(out, h.base_name_length, 4);
    put_le(out, h.payload_crc, 4);
    put_le(out, 0, 4);
    put_le(out, hybrid_crc32(reinterpret_cast<const unsigned char*>(out.data()), out.size()), 4);
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
    if (get_le(p + 52, 4) != hybrid_crc32(p, 52)) throw fail("header checksum mismatch");
    if (get_le(p + 8, 4) != hybrid_format_version) throw fail("unsupported format version");
    if (get_le(p + 12, 4) != value_size) throw fail("value size mismatch");
    hybrid_manifest_header h;
    h.size = get_le(p + 16, 8);
    h.record_count = get_le(p + 24, 8);
    h.payload_length = get_le(p + 32, 8);
    h.base_name_length = static_cast<std::uint32_t>(get_le(p + 40, 4));
    h.payload_crc = static_cast<std::uint32_t>(get_le(p + 44, 4));
    if (h.payload_length != file.size() - hybrid_header_size) throw fail("truncated or oversized payload");
    if (h.base_name_length > h.payload_length) throw fail("base name out of bounds");
    if (hybrid_crc32(p + hybrid_header_size, file.size() - hybrid_header_size) != h.payload_crc) {
        throw fail("payload checksum mismatch");
    }
    return h;
}

// ---- small POSIX helpers, throwing io_error ------------------------------

inline io_error hybrid_io_error(const std::string& what, const std::string& path) {
    return io_error("memkv::HybridKV: " + what + " " + path + ": " + std::strerror(errno));
}

inline void write_file_synced(const std::string& path, std::string_view bytes) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw hybrid_io_error("cannot create", path);
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ::ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            ::close(fd);
            throw hybrid_io_error("cannot write", path);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
        ::close(fd);
        throw hybrid_io_error("cannot fsync", path);
    }
    if (::close(fd) != 0) throw hybrid_io_error("cannot close", path);
}

inline void fsync_path(const std::string& path, bool directory) {
    const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) throw hybrid_io_error("cannot open", path);
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) throw hybrid_io_error("cannot fsync", path);
}

inline std::string read_whole_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw hybrid_io_error("cannot open", path);
    std::string out;
    char buf[1 << 16];
    for (;;) {
        const ::ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            ::close(fd);
            throw hybrid_io_error("cannot read", path);
        }
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

inline void rename_path(const std::string& from, const std::string& to) {
    if (::rename(from.c_str(), to.c_str()) != 0) throw hybrid_io_error("cannot rename " + from + " to", to);
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

// Splits PATH into (directory, file name); the directory is "." for a bare name.
inline std::pair<std::string, std::string> split_path(const std::string& path) {
    const auto slash = path.find_last_of('/');
    if (slash == std::string::npos) return {".", path};
    return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

}  // namespace memkv::detail
