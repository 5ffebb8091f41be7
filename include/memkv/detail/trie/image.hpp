#pragma once

// The parts of a v3 trie (layout.hpp draws the blocks), as the builder
// leaves them and a view reads them.
//
//   blocks       (edges / 64 + 1) blocks of layout.hpp
//   jump_bases   u64 per 1,024 blocks: jump bits before them
//   jumps        LSB-first bits, + 8 bytes of padding
//   link_lows    the link offsets' low bits (packed_column, link_low_bits)
//   link_highs   their high bits, LSB-first: offset i's one at
//                (offset_i >> link_low_bits) + i; + 8 bytes of padding
//   links        the link stream: bytes (plain) or context_code bits
//                (coded), + 8 bytes of padding
//   code         context_code's serialized table (empty when plain)
//
// Link i is [offset_i, offset_{i+1}) of the stream (bytes or bits); there
// are links + 1 offsets, the last the stream's length.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace memkv::detail::trie {

// What a view reads: the scalars and the parts in place (an image's, or a
// file's once format.hpp has checked them).
struct trie_parts {
    std::uint64_t keys = 0, edges = 0, link_count = 0, root_start = 0;
    bool lone_key_end = false, plain_links = false;
    unsigned link_low_bits = 0;
    std::uint64_t link_high_bits = 0, link_stream_size = 0;
    std::string_view jump_prefix;
    std::uint64_t jump_end = 0, jump_sub_start = 0, jump_after = 0;
    std::span<const unsigned char> blocks, jump_bases, jumps, link_lows, link_highs, links, code;
};

struct trie_image {
    std::uint64_t keys = 0;
    std::uint64_t edges = 0;
    std::uint64_t link_count = 0;
    std::uint64_t root_start = 0;  // the root node's first edge (it ends at `edges`)
    bool lone_key_end = false;     // the only key is the empty one
    bool plain_links = false;
    unsigned link_low_bits = 0;
    std::uint64_t link_high_bits = 0;
    std::uint64_t link_stream_size = 0;  // bits (coded) or bytes (plain)

    // The dominant prefix (empty: none): the deepest node 8-64 bytes deep
    // that holds at least half of the keys; a key with its bytes starts the
    // descent there.
    std::string jump_prefix;
    std::uint64_t jump_end = 0;        // the node's end
    std::uint64_t jump_sub_start = 0;  // its subtree's first edge
    std::uint64_t jump_after = 0;      // keys after its subtree

    std::vector<unsigned char> blocks, jump_bases, jumps, link_lows, link_highs, links, code;

    trie_parts parts() const noexcept {
        return {keys, edges, link_count, root_start, lone_key_end, plain_links, link_low_bits, link_high_bits,
                link_stream_size, jump_prefix, jump_end, jump_sub_start, jump_after, blocks, jump_bases, jumps,
                link_lows, link_highs, links, code};
    }
};

}  // namespace memkv::detail::trie
