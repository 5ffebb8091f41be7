// Registers FrozenLayer written in file format version 3, the succinct trie
// (frozen.hpp; issue #13), for comparing the formats in one run.

#include "frozen.hpp"

#include "registry.hpp"

MEMKV_BENCH_REGISTER(memkv::bench::adapters::Frozen<3>)
