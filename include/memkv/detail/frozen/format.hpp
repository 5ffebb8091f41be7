#pragma once

// FrozenLayer's serialized form: the file header and the automaton's node
// encoding, with bounds-checked decoders. See DESIGN.md "## FrozenLayer" for
// the byte-by-byte description; this file is its executable form.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include <memkv/detail/frozen/packed_column.hpp>
#include <memkv/detail/io/endian.hpp>
#include <memkv/detail/io/crc32c.hpp>
#include <memkv/errors.hpp>

namespace memkv::detail {

// ---------------------------------------------------------------------------
// File layout (all integers little-endian):
//
//   offset  size  field
//   0       8     magic "MKVFROZN"
//   8       4     format version (1)
//   12      4     header size (320)
//   16      8     value type tag (frozen_type_tag<V>())
//   24      8     user tag (FrozenLayerBuilder options; 0 by default)
//   32      8     number of keys n
//   40      8     root node address (automaton offset; 0 when n == 0)
//   48      8     automaton size A in bytes
//   56      8     value column size C in bytes
//   64      1     value column kind (0 ordinal identity, 1 packed, 2 raw)
//   65      1     packed width in bits (kind 1)
//   66      2     reserved, 0
//   68      4     sizeof(V)
//   72      8     packed base (kind 1: value = base + packed[i])
//   80      4     CRC-32C of the payload (bytes 320 .. 320+A+C)
//   84      4     CRC-32C of header bytes 0..84 and 88..320
//   88      64    single-label table of the one-byte nodes
//   152     128   label-pair table (64 pairs) of the one-byte pair nodes
//   280     40    reserved, 0
//   320     A     automaton
//   320+A   C     value column
//
// File size must be exactly 320 + A + C.
// ---------------------------------------------------------------------------

inline constexpr unsigned char frozen_magic[8] = {'M', 'K', 'V', 'F', 'R', 'O', 'Z', 'N'};
inline constexpr std::uint32_t frozen_version = 1;
inline constexpr std::size_t frozen_header_size = 320;
inline constexpr std::size_t frozen_table_offset = 88;
// 64 single labels, then 64 label pairs (2 bytes each).
inline constexpr std::size_t frozen_singles = 64;
inline constexpr std::size_t frozen_pairs = 64;
inline constexpr std::size_t frozen_table_size = frozen_singles + 2 * frozen_pairs;

enum class frozen_value_kind : std::uint8_t { ordinal = 0, packed = 1, raw = 2 };

// Values that take the packed column: unsigned integers other than bool.
template <class V>
inline constexpr bool frozen_packable =
    std::is_integral_v<V> && std::is_unsigned_v<V> && !std::is_same_v<V, bool>;

// A fingerprint of V's representation: a file built for one V is refused by
// FrozenLayer<W> for a W with a different size, alignment or kind.
template <class V>
constexpr std::uint64_t frozen_type_tag() noexcept {
    std::uint64_t t = 0x4D4B5646ULL << 32;  // "MKVF"
    t |= static_cast<std::uint64_t>(sizeof(V) & 0xFFFF);
    t |= static_cast<std::uint64_t>(alignof(V) & 0xFF) << 16;
    t |= static_cast<std::uint64_t>(std::is_integral_v<V>) << 24;
    t |= static_cast<std::uint64_t>(std::is_signed_v<V>) << 25;
    t |= static_cast<std::uint64_t>(std::is_floating_point_v<V>) << 26;
    t |= static_cast<std::uint64_t>(std::is_same_v<V, bool>) << 27;
    return t;
}

struct frozen_header {
    std::uint32_t version = frozen_version;
    std::uint64_t type_tag = 0;
    std::uint64_t user_tag = 0;
    std::uint64_t num_keys = 0;
    std::uint64_t root = 0;
    std::uint64_t automaton_size = 0;
    std::uint64_t values_size = 0;
    frozen_value_kind value_kind = frozen_value_kind::ordinal;
    std::uint8_t value_bits = 0;
    std::uint32_t value_size = 0;
    std::uint64_t value_base = 0;
    std::uint32_t payload_crc = 0;
    std::array<unsigned char, frozen_table_size> table{};
};

inline std::uint32_t frozen_header_crc(const unsigned char* h) noexcept {
    const std::uint32_t c = crc32c_update(0, h, 84);
    return crc32c_update(c, h + 88, frozen_header_size - 88);
}

inline void encode_frozen_header(const frozen_header& f, unsigned char* h) noexcept {
    for (std::size_t i = 0; i < frozen_header_size; ++i) h[i] = 0;
    for (std::size_t i = 0; i < 8; ++i) h[i] = frozen_magic[i];
    store_le(h + 8, f.version, 4);
    store_le(h + 12, frozen_header_size, 4);
    store_le(h + 16, f.type_tag, 8);
    store_le(h + 24, f.user_tag, 8);
    store_le(h + 32, f.num_keys, 8);
    store_le(h + 40, f.root, 8);
    store_le(h + 48, f.automaton_size, 8);
    store_le(h + 56, f.values_size, 8);
    h[64] = static_cast<unsigned char>(f.value_kind);
    h[65] = f.value_bits;
    store_le(h + 68, f.value_size, 4);
    store_le(h + 72, f.value_base, 8);
    store_le(h + 80, f.payload_crc, 4);
    for (std::size_t i = 0; i < frozen_table_size; ++i) h[frozen_table_offset + i] = f.table[i];
    store_le(h + 84, frozen_header_crc(h), 4);
}

[[noreturn]] inline void frozen_corrupt(const std::string& what) {
    throw format_error("FrozenLayer: " + what);
}

// Parses and validates a header against the total image size. Checks
// everything that is O(1): magic, version, header checksum, value type, and
// that every section lies inside the image. The payload checksum is left to
// verify(), which reads every byte.
inline frozen_header decode_frozen_header(const unsigned char* h, std::size_t image_size,
                                          std::uint64_t expected_type_tag,
                                          std::uint32_t expected_value_size) {
    if (image_size < frozen_header_size) {
        frozen_corrupt("truncated: " + std::to_string(image_size) +
                       " bytes is smaller than the " + std::to_string(frozen_header_size) + "-byte header");
    }
    for (std::size_t i = 0; i < 8; ++i)
        if (h[i] != frozen_magic[i]) frozen_corrupt("bad magic (not a FrozenLayer file)");
    frozen_header f;
    f.version = load_le32(h + 8);
    if (f.version != frozen_version) {
        frozen_corrupt("unsupported format version " + std::to_string(f.version) +
                       " (this build reads version " + std::to_string(frozen_version) + ")");
    }
    if (load_le32(h + 12) != frozen_header_size) frozen_corrupt("bad header size");
    if (load_le32(h + 84) != frozen_header_crc(h)) frozen_corrupt("header checksum mismatch");
    f.type_tag = load_le64(h + 16);
    f.user_tag = load_le64(h + 24);
    f.num_keys = load_le64(h + 32);
    f.root = load_le64(h + 40);
    f.automaton_size = load_le64(h + 48);
    f.values_size = load_le64(h + 56);
    f.value_kind = static_cast<frozen_value_kind>(h[64]);
    f.value_bits = h[65];
    f.value_size = load_le32(h + 68);
    f.value_base = load_le64(h + 72);
    f.payload_crc = load_le32(h + 80);
    for (std::size_t i = 0; i < frozen_table_size; ++i) f.table[i] = h[frozen_table_offset + i];

    if (f.type_tag != expected_type_tag || f.value_size != expected_value_size) {
        frozen_corrupt("value type mismatch: file was built for a value of " +
                       std::to_string(f.value_size) + " bytes (type tag " +
                       std::to_string(f.type_tag) + "), opened as one of " +
                       std::to_string(expected_value_size) + " bytes (type tag " +
                       std::to_string(expected_type_tag) + ")");
    }
    const std::uint64_t payload = image_size - frozen_header_size;
    if (f.automaton_size > payload || f.values_size != payload - f.automaton_size) {
        frozen_corrupt("section sizes (automaton " + std::to_string(f.automaton_size) +
                       ", values " + std::to_string(f.values_size) +
                       ") do not match the file size " + std::to_string(image_size));
    }
    if (f.num_keys != 0 && f.root >= f.automaton_size) frozen_corrupt("root address out of bounds");
    if (f.num_keys == 0 && f.automaton_size != 0) frozen_corrupt("empty layer with an automaton");
    // Keeps n * 64 (packed column bits) free of overflow.
    if (f.num_keys > (std::uint64_t{1} << 56)) frozen_corrupt("key count out of range");
    std::uint64_t expect_values = 0;
    switch (f.value_kind) {
    case frozen_value_kind::ordinal:
        if (f.value_bits != 0) frozen_corrupt("bad value width");
        break;
    case frozen_value_kind::packed:
        if (f.value_bits > 64) frozen_corrupt("bad value width");
        expect_values = packed_column::byte_size(f.num_keys, f.value_bits);
        break;
    case frozen_value_kind::raw:
        if (f.value_bits != 0) frozen_corrupt("bad value width");
        if (f.value_size == 0 || f.values_size % f.value_size != 0 ||
            f.values_size / f.value_size != f.num_keys)
            frozen_corrupt("value column size does not match key count");
        expect_values = f.values_size;
        break;
    default:
        frozen_corrupt("unknown value column kind " + std::to_string(h[64]));
    }
    if (f.values_size != expect_values) frozen_corrupt("value column size does not match key count");
    return f;
}

// ---------------------------------------------------------------------------
// Automaton nodes. Nodes are written children-first (post-order); a node's
// address is the offset of its LAST byte and it is read backwards, so logical
// byte k of the node at address a is automaton[a - k]. That makes "the node
// written just before me" addressable as a - len: single-transition chains
// cost no target field. Every target address is smaller than the address of
// the node that points to it, so any walk terminates. Address 0 always holds
// the final leaf (the accepting state with no transitions, header 0x08); a
// stored delta of 0 means "target = the leaf", so the transitions that end
// keys need no long pointer.
//
// Logical byte 0, the header h, selects the kind:
//
//   10LLLLLL                 one-next: non-final, one transition labelled
//                            table[L], target = a - 1.            (1 byte)
//   11PPPPPP                 pair-next: non-final, two chained transitions
//                            labelled pair[P] (the inner state has no
//                            address), target = a - 1.            (1 byte)
//   01NIIIII [label] [delta] one: non-final, one transition; I = 0: explicit
//                            label byte follows, else label = table[I - 1];
//                            N = 1: target = a - len, else a LEB128 delta
//                            follows: target = delta ? a - delta : 0.
//   001IIIII [label]         one-to-leaf: non-final, one transition to the
//                            leaf (address 0); I < 31: label = table[I],
//                            I == 31: explicit label byte follows.
//   0001FLAC labels[2] deltas[...] count
//                            two: n = 2 without the S byte: F = final, L =
//                            last target is a - len, aw = 1 + A, cw = 1 + C;
//                            then as general below.
//   00000CCC / 00001CCC [n-7] S labels[n] deltas[...] counts[n-1]
//                            general (bit 3 = F, final): C < 7: n = C,
//                            C == 7: the next byte holds n - 7 (n <= 256).
//                            n == 0: a leaf (header only). S: bits 0-3 aw (1..8) =
//                            bytes per delta, bits 4-6 cw = bytes per count,
//                            bit 7 = the last transition's target is a - len
//                            (its delta is omitted). labels ascending.
//                            deltas (aw bytes each, LE): target_i = a -
//                            delta_i, or the leaf for delta_i == 0. counts
//                            (cw bytes, LE): counts[i-1] = count_before(i)
//                            for i >= 1.
//
// count_before(i) = F + number of keys below transitions 0..i-1: the rank of
// the first key through transition i among the keys below this node, so
// ordinal(key) is the sum of count_before along its path.
// ---------------------------------------------------------------------------

inline constexpr unsigned char node_one_next = 0x80;
inline constexpr unsigned char node_pair_next = 0x40;  // within one-next
inline constexpr unsigned char node_one = 0x40;
inline constexpr unsigned char node_one_is_next = 0x20;
inline constexpr unsigned char node_to_leaf = 0x20;
inline constexpr unsigned char node_two = 0x10;
inline constexpr unsigned char node_final = 0x08;  // in general and two nodes
inline constexpr unsigned node_max_inline_n = 7;
inline constexpr unsigned char node_leaf = node_final;  // general, final, n = 0

// True if the header byte h starts a final node.
inline constexpr bool frozen_header_final(unsigned char h) noexcept {
    return h < node_to_leaf && (h & node_final) != 0;
}

// A decoded node. Cheap to construct (a few byte reads); transitions are
// decoded lazily by index.
struct frozen_node {
    const unsigned char* base = nullptr;  // automaton bytes
    std::uint64_t addr = 0;
    std::uint32_t n = 0;
    bool final = false;
    bool general = false;
    // one-transition kinds
    bool pair = false;  // the transition spells two labels
    unsigned char one_label = 0;
    unsigned char one_label2 = 0;
    std::uint64_t one_target = 0;
    // general kind
    std::uint64_t labels_at = 0;  // logical offsets
    std::uint64_t deltas_at = 0;
    std::uint64_t counts_at = 0;
    std::uint64_t len = 0;
    unsigned aw = 0;
    unsigned cw = 0;
    bool last_next = false;

    unsigned char at(std::uint64_t k) const noexcept { return base[addr - k]; }
    std::uint64_t field(std::uint64_t k, unsigned w) const noexcept {
        std::uint64_t v = 0;
        for (unsigned j = 0; j < w; ++j) v |= static_cast<std::uint64_t>(at(k + j)) << (8 * j);
        return v;
    }

    unsigned char label(std::uint32_t i) const noexcept {
        return general ? at(labels_at + i) : one_label;
    }
    std::uint64_t target(std::uint32_t i) const {
        if (!general) return one_target;
        if (last_next && i + 1 == n) return addr - len;  // len <= addr checked in decode
        const std::uint64_t d = field(deltas_at + std::uint64_t{i} * aw, aw);
        if (d > addr) frozen_corrupt("transition target out of bounds");
        return d == 0 ? 0 : addr - d;
    }
    std::uint64_t count_before(std::uint32_t i) const noexcept {
        if (i == 0 || !general) return final ? 1 : 0;
        return field(counts_at + std::uint64_t{i - 1} * cw, cw);
    }
    // Index of the transition labelled c, or n.
    std::uint32_t find(unsigned char c) const noexcept {
        if (!general) return (n == 1 && one_label == c) ? 0 : n;
        std::uint32_t lo = 0, hi = n;
        if (n <= 8) {
            for (std::uint32_t i = 0; i < n; ++i) {
                const unsigned char l = at(labels_at + i);
                if (l == c) return i;
                if (l > c) return n;
            }
            return n;
        }
        while (lo < hi) {
            const std::uint32_t mid = (lo + hi) / 2;
            if (at(labels_at + mid) < c) lo = mid + 1; else hi = mid;
        }
        return (lo < n && at(labels_at + lo) == c) ? lo : n;
    }
    // Index of the first transition with label >= c, or n.
    std::uint32_t lower(unsigned char c) const noexcept {
        std::uint32_t lo = 0, hi = n;
        while (lo < hi) {
            const std::uint32_t mid = (lo + hi) / 2;
            if (label(mid) < c) lo = mid + 1; else hi = mid;
        }
        return lo;
    }
    // Largest i with count_before(i) <= r (for key_at).
    std::uint32_t by_rank(std::uint64_t r) const noexcept {
        std::uint32_t lo = 0, hi = n;  // answer in [lo, hi)
        while (hi - lo > 1) {
            const std::uint32_t mid = (lo + hi) / 2;
            if (count_before(mid) <= r) lo = mid; else hi = mid;
        }
        return lo;
    }
};

// Decodes the node at addr of an automaton of `size` bytes, checking that
// every byte it will read lies inside [0, addr].
inline frozen_node decode_frozen_node(const unsigned char* base, std::uint64_t size,
                                      std::uint64_t addr, const unsigned char* table) {
    if (addr >= size) frozen_corrupt("node address out of bounds");
    frozen_node nd;
    nd.base = base;
    nd.addr = addr;
    const unsigned char h = base[addr];
    if (h & node_one_next) {
        if (addr < 1) frozen_corrupt("chain node has no successor");
        nd.n = 1;
        if (h & node_pair_next) {
            nd.pair = true;
            nd.one_label = table[frozen_singles + 2 * (h & 0x3F)];
            nd.one_label2 = table[frozen_singles + 2 * (h & 0x3F) + 1];
        } else {
            nd.one_label = table[h & 0x3F];
        }
        nd.one_target = addr - 1;
        return nd;
    }
    if (h & node_one) {
        nd.n = 1;
        std::uint64_t k = 1;
        if ((h & 0x1F) == 0) {
            if (addr < k) frozen_corrupt("truncated node");
            nd.one_label = nd.at(k++);
        } else {
            nd.one_label = table[(h & 0x1F) - 1];
        }
        if (h & node_one_is_next) {
            if (addr < k) frozen_corrupt("chain node has no successor");
            nd.one_target = addr - k;
            return nd;
        }
        std::uint64_t d = 0;
        for (unsigned shift = 0;; shift += 7) {
            if (addr < k || shift > 63) frozen_corrupt("truncated or overlong varint");
            const unsigned char b = nd.at(k++);
            d |= static_cast<std::uint64_t>(b & 0x7F) << shift;
            if (!(b & 0x80)) break;
        }
        if (d >= addr) frozen_corrupt("transition target out of bounds");
        nd.one_target = d == 0 ? 0 : addr - d;
        return nd;
    }
    if (h & node_to_leaf) {
        nd.n = 1;
        nd.one_target = 0;
        if ((h & 0x1F) == 0x1F) {
            if (addr < 1) frozen_corrupt("truncated node");
            nd.one_label = nd.at(1);
        } else {
            nd.one_label = table[h & 0x1F];
        }
        if (addr == 0) frozen_corrupt("transition target out of bounds");
        return nd;
    }
    nd.general = true;
    nd.final = (h & node_final) != 0;
    std::uint64_t k = 1;
    if (h & node_two) {
        nd.n = 2;
        nd.last_next = (h & 0x04) != 0;
        nd.aw = 1U + ((h >> 1) & 1U);
        nd.cw = 1U + (h & 1U);
        nd.labels_at = 1;
        nd.deltas_at = 3;
        nd.counts_at = 3 + (nd.last_next ? 1U : 2U) * nd.aw;
        nd.len = nd.counts_at + nd.cw;
        if (nd.len > addr + (nd.last_next ? 0U : 1U)) frozen_corrupt("truncated node");
        return nd;
    }
    std::uint32_t n = h & 0x07;
    if (n == node_max_inline_n) {
        if (addr < k) frozen_corrupt("truncated node");
        n += nd.at(k++);
        if (n > 256) frozen_corrupt("node has more than 256 transitions");
    }
    nd.n = n;
    if (n == 0) {
        nd.len = k;
        return nd;
    }
    if (addr < k) frozen_corrupt("truncated node");
    const unsigned char s = nd.at(k++);
    nd.aw = s & 0x0F;
    nd.cw = (s >> 4) & 0x07;
    nd.last_next = (s & 0x80) != 0;
    if (nd.aw == 0 || nd.aw > 8) frozen_corrupt("bad address width");
    nd.labels_at = k;
    nd.deltas_at = k + n;
    const std::uint64_t ndelta = n - (nd.last_next ? 1U : 0U);
    nd.counts_at = nd.deltas_at + ndelta * nd.aw;
    nd.len = nd.counts_at + std::uint64_t{n - 1} * nd.cw;
    // The node occupies logical bytes [0, len); a "next" target needs one more.
    if (nd.len > addr + (nd.last_next ? 0U : 1U)) frozen_corrupt("truncated node");
    return nd;
}

}  // namespace memkv::detail
