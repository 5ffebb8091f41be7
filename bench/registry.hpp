#pragma once

// Registration of adapters. An adapter file ends with
//
//     MEMKV_BENCH_REGISTER(MyStructure)
//
// which checks the concept, instantiates the measurement routine for the type
// and records {name, traits, run function} in a static registry before main()
// runs. Adapter files are linked straight into the executable (not through a
// static library), so no registration is dropped by the linker.
//
// The same adapter files are compiled a second time into memkv-micro-bench with
// MEMKV_BENCH_MICRO defined; there the macro registers the type's Google
// Benchmark cases instead (micro/micro_suite.hpp).

#include <string_view>
#include <vector>

#include "adapter.hpp"
#include "measure.hpp"

#if defined(MEMKV_BENCH_MICRO)
#include "micro/micro_suite.hpp"
#endif

namespace memkv::bench {

struct StructureInfo {
    std::string_view name;
    bool ordered = false;
    bool sorted_build = false;
    bool has_prefix_index = true;
    bool needs_nul_terminator = false;
    Measurement (*run)(const Workload&) = nullptr;
};

inline std::vector<StructureInfo>& registry() {
    static std::vector<StructureInfo> structures;
    return structures;
}

template <Structure S>
bool register_structure() {
#if defined(MEMKV_BENCH_MICRO)
    micro::register_micro<S>();
#else
    registry().push_back({S::name, S::ordered, S::sorted_build, has_prefix_index_v<S>,
                          needs_nul_terminator_v<S>, &measure<S>});
#endif
    return true;
}

}  // namespace memkv::bench

#define MEMKV_BENCH_CONCAT_(a, b) a##b
#define MEMKV_BENCH_CONCAT(a, b) MEMKV_BENCH_CONCAT_(a, b)

// Registers an adapter type; use once per type, at namespace scope.
#define MEMKV_BENCH_REGISTER(Type)                                                         \
    static_assert(::memkv::bench::Structure<Type>,                                         \
                  #Type " does not satisfy memkv::bench::Structure (see bench/adapter.hpp)"); \
    namespace {                                                                            \
    [[maybe_unused]] const bool MEMKV_BENCH_CONCAT(memkv_bench_registered_, __LINE__) =    \
        ::memkv::bench::register_structure<Type>();                                        \
    }
