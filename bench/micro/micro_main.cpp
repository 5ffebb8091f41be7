// memkv-micro-bench: Google Benchmark cases for every adapter in
// bench/adapters/ (each adapter file registers its own; see
// micro/micro_suite.hpp). Example:
//   memkv-micro-bench --benchmark_filter='std_map/(find|miss)'
//   MEMKV_MICRO_KEYS=1000000 memkv-micro-bench

#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
