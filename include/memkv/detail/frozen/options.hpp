#pragma once

/// @file
/// @brief memkv::frozen_layer_options, the tuning of FrozenLayerBuilder, and
/// memkv::access_pattern, FrozenLayer::advise()'s hint.
///
/// Public types; they live here so that both public headers and the hybrid
/// engine can include them without including a public header from detail/.
/// Include <memkv/frozen_builder.hpp> (or <memkv/memkv.hpp>) to use them.

#include <cstddef>
#include <cstdint>

/// The FrozenLayer format version builders write by default (frozen_layer_options::format_version).
///
/// A test hook: the test suite builds its FrozenLayer and HybridKV tests a
/// second time with 3. Define it before including memkv to change the
/// default.
#ifndef MEMKV_FROZEN_DEFAULT_VERSION
#define MEMKV_FROZEN_DEFAULT_VERSION 2
#endif

namespace memkv {

/// Tuning of FrozenLayerBuilder (and of the builder behind each HybridKV compaction).
///
/// Apart from user_tag, none of them changes what a layer answers, only its
/// size and the build's speed and memory.
struct frozen_layer_options {
    /// Rows of the registry of compiled nodes used for suffix sharing.
    ///
    /// The registry has rows x ways cells of 32 bytes (plus a 1/16-size
    /// table for wide nodes): 8.5 MiB by default. Bigger finds more shared
    /// suffixes (smaller output) but builds slower once it outgrows the
    /// caches.
    std::size_t registry_rows = std::size_t{1} << 16;
    /// Ways (cells per row) of the registry; see registry_rows.
    std::size_t registry_ways = 4;
    /// Unbranched suffixes longer than this are not cached in the registry.
    ///
    /// A long unique tail would fill it with nodes no key repeats, evicting
    /// short shared ones.
    std::size_t max_registered_chain = 16;
    /// How many of the first keys are sampled to choose the one-byte node labels.
    ///
    /// The first keys (at most this many, and at most 16 MiB of them) are
    /// buffered to choose the 64 labels and 64 label pairs that get one-byte
    /// chain nodes.
    std::size_t table_sample_keys = 8192;
    /// A tag stored in the header, for telling apart value types of equal layout.
    ///
    /// FrozenLayer::open(path, user_tag) and FrozenLayer::from_bytes refuse
    /// an image whose tag differs (format_error).
    std::uint64_t user_tag = 0;
    /// Whether to use one-byte pair nodes (see pair_nodes).
    ///
    /// - `automatic`: when the sampled keys' unshared tails average at least 8 bytes;
    /// - `always`;
    /// - `never`.
    enum class pairs_mode { automatic, always, never };
    /// One-byte pair nodes for frequent label pairs.
    ///
    /// They pay off on long unshared tails (URLs: -1.5 bytes/key) and cost a
    /// little where nearly every suffix is shared (words.txt: +0.2), so
    /// `automatic` enables them when the sampled keys' unshared tails
    /// average at least 8 bytes.
    pairs_mode pair_nodes = pairs_mode::automatic;
    /// Size hint: the number of keys (0: none).
    ///
    /// An in-memory builder reserves its value buffer up front. Buffers past
    /// 2 MiB grow by remapping their pages, never by copying, so the hint
    /// only saves those remaps; reserved pages that are never written cost
    /// address space, not resident memory, and finish() gives back what the
    /// image did not use. In format version 3 (either builder) it weighs the
    /// link code's tables against what they save on the whole set, not on
    /// the sample alone: 0.4% fewer bytes a key on names:4.5M, 0.7% on
    /// paths:7.3M (bench/RESULTS.md, fiftieth session). A wrong hint costs
    /// bytes, never correctness.
    std::size_t expected_keys = 0;
    /// Size hint for an in-memory builder: the bytes of the image (0: none).
    ///
    /// The image buffer is reserved up front, as for expected_keys.
    std::size_t expected_bytes = 0;
    /// The file format version to write: 2 (the default), 1 or 3.
    ///
    /// Version 2 adds run nodes, one byte per label along unbranched tails
    /// of labels outside the one-byte table (random binary keys: 27 -> 19
    /// bytes/key); version 1 files open in every memkv release, version 2
    /// files only in those that read it. Version 3 (in progress, issue #13)
    /// stores the keys in a succinct trie with coded links instead of an
    /// automaton: 0.63-0.85x version 2's bytes, slower lookups for now
    /// (DESIGN.md, "FrozenLayer v2 (in progress)"); its build holds the
    /// trie in memory until finish(). All three are read. Other values: the
    /// builder throws std::invalid_argument.
    std::uint32_t format_version = MEMKV_FROZEN_DEFAULT_VERSION;
};

/// How a memory-mapped FrozenLayer will be read, for FrozenLayer::advise().
enum class access_pattern {
    normal,      ///< the kernel's default: each page fault also reads pages around it
    random,      ///< point lookups: a page fault reads only its page
    sequential,  ///< one pass in file order: read ahead aggressively
};

}  // namespace memkv
