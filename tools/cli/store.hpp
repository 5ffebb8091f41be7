#pragma once

// Opening the files the commands read. The kind of a file is told by its
// first eight bytes (detail/io/file_kind.hpp), never by its name: a
// FrozenLayer file ("MKVFROZN") or a memkv checkpoint manifest ("MKVHYBR1").

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <memkv/errors.hpp>
#include <memkv/frozen_layer.hpp>

#include "cli/common.hpp"

namespace memkv::cli {

enum class file_kind { frozen, checkpoint };

// Throws failure for a file that cannot be read or is neither kind. "-"
// (standard input) is a FrozenLayer image.
file_kind detect_kind(const std::string& path);

// A FrozenLayer file memory-mapped, or a FrozenLayer image read from
// standard input ("-") into memory.
struct frozen_file {
    std::string path;
    std::vector<unsigned char> image;  // the bytes from standard input
    FrozenLayer<std::uint64_t> layer;
};

// Errors name the path; a checkpoint is refused with a message saying that
// `command` reads FrozenLayer files only.
std::unique_ptr<frozen_file> open_frozen(const std::string& path, const std::string& command);

// The failure to report for a library error about `path`: its message,
// with the path put in front when the message does not already name it.
failure about(const std::string& path, const std::exception& e);

// Whether the layer stores no values (built without --values: each key's
// value is its ordinal, so the value column is absent).
bool keys_only(const FrozenLayer<std::uint64_t>& layer);

}  // namespace memkv::cli
