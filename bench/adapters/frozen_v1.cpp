// Registers FrozenLayer written in file format version 1 (frozen.hpp), for
// comparing the formats in one run.

#include "frozen.hpp"

#include "registry.hpp"

MEMKV_BENCH_REGISTER(memkv::bench::adapters::Frozen<1>)
