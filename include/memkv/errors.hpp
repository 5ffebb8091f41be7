#pragma once

/// @file
/// @brief memkv's exception types.
///
/// One style for the whole library: precondition violations of the standard
/// kind use the standard exceptions (std::out_of_range from `at()`,
/// std::length_error for oversized keys); errors that are memkv's own derive
/// from memkv::error.

#include <stdexcept>
#include <string>

namespace memkv {

/// Base of every exception type memkv defines.
class error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A builder was fed input it cannot accept (keys out of order, duplicates).
///
/// The message names both the previous and the offending key.
class build_error : public error {
public:
    using error::error;
};

/// A serialized structure (file or byte span) is malformed.
///
/// Wrong magic, wrong version or value type, truncated, out-of-bounds
/// offsets, bad checksum.
class format_error : public error {
public:
    using error::error;
};

/// An operating-system call failed (open, mmap, write, rename, fsync).
///
/// The message names the path and the operation.
class io_error : public error {
public:
    using error::error;
};

}  // namespace memkv
