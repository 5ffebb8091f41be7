#include <memkv/memkv.hpp>

#include <string>

#include "memkv_catch.hpp"

TEST_CASE("version header agrees with the CMake project version", "[package]") {
    const std::string header_version = std::to_string(memkv::version.major) + "." +
                                       std::to_string(memkv::version.minor) + "." +
                                       std::to_string(memkv::version.patch);
    CHECK(header_version == MEMKV_PROJECT_VERSION);
}
