#pragma once

// A fresh temporary directory for one test, removed with everything in it at
// scope exit; names() lists what a failed operation may have left behind.

#include <filesystem>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>

#include <stdlib.h>

namespace memkv::test {

struct scratch_dir {
    std::filesystem::path path;
    explicit scratch_dir(const std::string& stem = "memkv-test") {
        std::string t = (std::filesystem::temp_directory_path() / (stem + "-XXXXXX")).string();
        if (::mkdtemp(t.data()) == nullptr) throw std::runtime_error("cannot create a directory like " + t);
        path = t;
    }
    ~scratch_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    std::string file(const std::string& name) const { return (path / name).string(); }
    std::set<std::string> names() const {
        std::set<std::string> out;
        for (const auto& e : std::filesystem::directory_iterator(path)) out.insert(e.path().filename().string());
        return out;
    }
};

}  // namespace memkv::test
