// libFuzzer target for HybridKV checkpoint loading: the input becomes a
// manifest and run files (layout in checkpoint_ops.hpp) that MemKV::open must
// refuse with a memkv::error or load into a consistent, working store. Built
// only with clang and -DMEMKV_BUILD_FUZZERS=ON (scripts/fuzz.sh); the same
// body is replayed by test_hybrid_fuzz.cpp.
#include <cstdio>
#include <cstdlib>

#include "checkpoint_ops.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        memkv::test::run_checkpoint_load(data, size);
    } catch (const memkv::test::hybrid_mismatch& e) {
        std::fprintf(stderr, "%s\n", e.what());
        std::abort();
    }
    return 0;
}
