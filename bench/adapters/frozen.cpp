// Registers FrozenLayer in the default file format, version 2 (frozen.hpp).

#include "frozen.hpp"

#include "registry.hpp"

MEMKV_BENCH_REGISTER(memkv::bench::adapters::Frozen<2>)
