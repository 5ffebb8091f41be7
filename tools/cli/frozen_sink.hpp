#pragma once

// Where `build` and `union` put their merged keys: a streaming
// FrozenLayerBuilder writing OUT's temporary files beside OUT; finish()
// renames the complete file into place (FrozenLayerBuilder's contract), so
// OUT is either the old file or the whole new one, and a builder destroyed
// unfinished (any error) removes its temporaries.

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include <memkv/frozen_builder.hpp>
#include <memkv/frozen_layer.hpp>

namespace memkv::cli {

class frozen_sink {
public:
    // values == false: each key's value is its ordinal, the value column
    // FrozenLayer stores in no bytes at all.
    frozen_sink(const std::string& path, bool values) : builder_(path), values_(values) {}
    void add(std::string_view key, std::uint64_t value) {
        builder_.insert(key, values_ ? value : count_);
        ++count_;
    }
    FrozenLayer<std::uint64_t> finish(const std::string& path) { return builder_.finish(path); }
    std::uint64_t size() const noexcept { return count_; }

private:
    FrozenLayerBuilder<std::uint64_t> builder_;
    bool values_;
    std::uint64_t count_ = 0;
};

// The line a successful build or union ends with, on stderr (stdout stays
// free for scripts): "<out>: N keys, B bytes, X bytes/key (how)".
inline void report_built(const std::string& out, const FrozenLayer<std::uint64_t>& f, const std::string& how) {
    const std::uint64_t keys = f.size();
    const std::uint64_t bytes = f.bytes().size();
    std::fprintf(stderr, "%s: %llu keys, %llu bytes, %.2f bytes/key (%s)\n", out.c_str(),
                 static_cast<unsigned long long>(keys), static_cast<unsigned long long>(bytes),
                 keys == 0 ? 0.0 : static_cast<double>(bytes) / static_cast<double>(keys), how.c_str());
}

}  // namespace memkv::cli
