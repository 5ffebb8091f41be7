// Registers HybridKV with its default options: FrozenLayer runs in the
// default format, version 2 (hybrid.hpp).

#include "hybrid.hpp"

#include "registry.hpp"

MEMKV_BENCH_REGISTER(memkv::bench::adapters::Hybrid<2>)
