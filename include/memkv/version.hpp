#pragma once

// memkv's version, kept in step with project(VERSION) in CMakeLists.txt (a test
// checks the two agree).
#define MEMKV_VERSION_MAJOR 0
#define MEMKV_VERSION_MINOR 1
#define MEMKV_VERSION_PATCH 0

namespace memkv {

struct version_info {
    int major;
    int minor;
    int patch;
};

inline constexpr version_info version{MEMKV_VERSION_MAJOR, MEMKV_VERSION_MINOR,
                                      MEMKV_VERSION_PATCH};

}  // namespace memkv
