#pragma once

// The tests' temporary directories and what they list: one helper for every
// test that writes files.

#include <filesystem>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>

#include <stdlib.h>
#include <unistd.h>

namespace memkv::test {

// A fresh directory "<stem>-XXXXXX" (mkdtemp: unique across processes and
// tests), removed with everything in it at scope exit, including
// subdirectories a failed test left read-only.
struct scratch_dir {
    enum class medium { temp, memory };

    std::filesystem::path path;

    // medium::memory puts it in /dev/shm where that is writable: tests that
    // count and fail file calls do not measure disks, and thousands of fsyncs
    // on a busy disk took seconds.
    explicit scratch_dir(const std::string& stem = "memkv-test", medium where = medium::temp) {
        std::error_code ec;
        const std::filesystem::path base =
            where == medium::memory && std::filesystem::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0
                ? std::filesystem::path("/dev/shm")
                : std::filesystem::temp_directory_path();
        std::string t = (base / (stem + "-XXXXXX")).string();
        if (::mkdtemp(t.data()) == nullptr) throw std::runtime_error("cannot create a directory like " + t);
        path = t;
    }
    ~scratch_dir() {
        namespace fs = std::filesystem;
        std::error_code ec;
        for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
             it.increment(ec)) {
            if (it->is_directory(ec)) fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
        }
        fs::remove_all(path, ec);
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;

    std::string file(const std::string& name) const { return (path / name).string(); }
    std::set<std::string> names() const;
};

// The names in `dir` (empty when it does not exist).
inline std::set<std::string> listing(const std::filesystem::path& dir) {
    std::set<std::string> out;
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec)) return out;
    for (const auto& e : std::filesystem::directory_iterator(dir)) out.insert(e.path().filename().string());
    return out;
}

// Every path under `dir`, relative to it, directories marked with a trailing '/'.
inline std::set<std::string> tree_listing(const std::filesystem::path& dir) {
    std::set<std::string> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
        std::string rel = std::filesystem::relative(e.path(), dir).string();
        if (e.is_directory()) rel += '/';
        out.insert(std::move(rel));
    }
    return out;
}

// "a, b, c" (or "(empty)"), for failure messages.
inline std::string join(const std::set<std::string>& names) {
    std::string out;
    for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
    return out.empty() ? "(empty)" : out;
}

inline std::set<std::string> scratch_dir::names() const { return listing(path); }

}  // namespace memkv::test
