#pragma once

/// @file
/// @brief memkv's version, as macros (for the preprocessor) and as a constant.
///
/// Kept in step with project(VERSION) in CMakeLists.txt (a test checks the
/// two agree).

/// Major version.
#define MEMKV_VERSION_MAJOR 0
/// Minor version.
#define MEMKV_VERSION_MINOR 1
/// Patch version.
#define MEMKV_VERSION_PATCH 0

namespace memkv {

/// The three parts of a version number (see memkv::version).
struct version_info {
    /// MEMKV_VERSION_MAJOR.
    int major;
    /// MEMKV_VERSION_MINOR.
    int minor;
    /// MEMKV_VERSION_PATCH.
    int patch;
};

/// The version of the headers in use: {MEMKV_VERSION_MAJOR, MEMKV_VERSION_MINOR, MEMKV_VERSION_PATCH}.
inline constexpr version_info version{MEMKV_VERSION_MAJOR, MEMKV_VERSION_MINOR,
                                      MEMKV_VERSION_PATCH};

}  // namespace memkv
