// libFuzzer target for FastArt: the operation decoder in fast_art_ops.hpp
// against std::map. Build with clang and -DMEMKV_BUILD_FUZZERS=ON; run e.g.
//   ./fuzz_fast_art -max_total_time=300 tests/fuzz/corpus/fast_art
#include <cstdio>
#include <cstdlib>

#include "fast_art_ops.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        memkv::test::run_fast_art_ops(data, size);
    } catch (const memkv::test::fast_art_mismatch& e) {
        std::fprintf(stderr, "%s\n", e.what());
        std::abort();
    }
    return 0;
}
