// Registers HybridKV whose FrozenLayer runs are written in file format
// version 3, the succinct trie (hybrid.hpp; issue #13), for comparing the
// bases in one run.

#include "hybrid.hpp"

#include "registry.hpp"

MEMKV_BENCH_REGISTER(memkv::bench::adapters::Hybrid<3>)
