// libFuzzer target for FrozenLayer: from_bytes + queries on arbitrary and
// lying images, and build-vs-std::map on arbitrary key sets. Built only with
// clang and -DMEMKV_BUILD_FUZZERS=ON; the same body is replayed by
// test_frozen_fuzz.
#include <cstddef>
#include <cstdint>

#include "frozen_ops.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    memkv::fuzz::frozen_fuzz_one(data, size);
    return 0;
}
