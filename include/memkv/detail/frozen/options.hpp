#pragma once

// memkv::frozen_layer_options: tuning of FrozenLayerBuilder (and of the
// builder behind each HybridKV compaction). A public type; it lives here so
// that both public headers and the hybrid engine can include it without
// including a public header from detail/.

#include <cstddef>
#include <cstdint>

namespace memkv {

struct frozen_layer_options {
    // Registry of compiled nodes used for suffix sharing: rows x ways cells
    // of 32 bytes (plus a 1/16-size table for wide nodes): 8.5 MiB by
    // default. Bigger finds more shared suffixes (smaller output) but builds
    // slower once it outgrows the caches.
    std::size_t registry_rows = std::size_t{1} << 16;
    std::size_t registry_ways = 4;
    // Unbranched suffixes longer than this are not cached in the registry
    // (a long unique tail would fill it with nodes no key repeats, evicting
    // short shared ones).
    std::size_t max_registered_chain = 16;
    // The first keys (at most this many, and at most 16 MiB of them) are
    // buffered to choose the 64 labels and 64 label pairs that get one-byte
    // chain nodes.
    std::size_t table_sample_keys = 8192;
    // Stored in the header; FrozenLayer::open(path, user_tag) refuses a file
    // whose tag differs. Lets callers tell apart value types of equal layout.
    std::uint64_t user_tag = 0;
    // One-byte pair nodes for frequent label pairs. They pay off on long
    // unshared tails (URLs: -1.5 bytes/key) and cost a little where nearly
    // every suffix is shared (words.txt: +0.2), so `automatic` enables them
    // when the sampled keys' unshared tails average at least 8 bytes.
    enum class pairs_mode { automatic, always, never };
    pairs_mode pair_nodes = pairs_mode::automatic;
    // Size hints for an in-memory builder (0: none): its image and value
    // buffers are reserved up front instead of grown by doubling, so a big
    // build never holds an old and a new copy of them at once. Reserved pages
    // that are never written cost address space, not resident memory.
    std::size_t expected_keys = 0;
    std::size_t expected_bytes = 0;
};

}  // namespace memkv
