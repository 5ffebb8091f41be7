// Registers the std::map baseline (std_map.hpp).

#include "std_map.hpp"

#include "registry.hpp"

MEMKV_BENCH_REGISTER(memkv::bench::adapters::StdMap)
