#pragma once

// Declarations of memkv's public class templates, with their default
// arguments (given here once). Lets a detail/ header name a public class
// without including its header: detail/ never includes a public header.

#include <cstdint>

namespace memkv {

template <class V = std::uint64_t>
class FastArt;
template <class V = std::uint64_t>
class FrozenLayer;
template <class V = std::uint64_t>
class FrozenLayerBuilder;
template <class V = std::uint64_t>
class HybridKV;

}  // namespace memkv
