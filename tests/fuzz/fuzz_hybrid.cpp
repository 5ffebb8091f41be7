// libFuzzer target for HybridKV: the operation decoder in hybrid_ops.hpp
// against std::map. Built only with clang and -DMEMKV_BUILD_FUZZERS=ON
// (scripts/fuzz.sh); the same body is replayed by test_hybrid_fuzz.cpp.
#include <cstdio>
#include <cstdlib>

#include "hybrid_ops.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        memkv::test::run_hybrid_ops(data, size);
    } catch (const memkv::test::hybrid_mismatch& e) {
        std::fprintf(stderr, "%s\n", e.what());
        std::abort();
    }
    return 0;
}
