#pragma once

// One self-rewriting status line on stderr while a build runs, shown only
// when stderr is a terminal (a log file gets no carriage returns) and not
// with --quiet.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace memkv::cli {

class progress {
public:
    explicit progress(bool wanted);
    ~progress();
    progress(const progress&) = delete;
    progress& operator=(const progress&) = delete;

    // A new phase ("reading", "merging", ...) starting at these counts;
    // `total` is the `done` that ends it (bytes or keys), if known, for an
    // ETA.
    void phase(std::string_view name, std::optional<std::uint64_t> total, std::uint64_t keys = 0,
               std::uint64_t done = 0);
    // Cheap enough to call per key: it looks at the clock every 4096 calls
    // and redraws at most four times a second.
    void update(std::uint64_t keys, std::uint64_t done) {
        if (!enabled_ || (++calls_ & 4095) != 0) return;
        redraw(keys, done);
    }
    // Erases the line (before a summary or an error is printed).
    void clear();

private:
    void redraw(std::uint64_t keys, std::uint64_t done);

    using clock = std::chrono::steady_clock;
    bool enabled_ = false;
    bool shown_ = false;
    std::uint64_t calls_ = 0;
    std::string name_;
    std::optional<std::uint64_t> total_;
    clock::time_point started_;
    clock::time_point last_;
    std::uint64_t keys_at_start_ = 0;
    std::uint64_t done_at_start_ = 0;
};

// "1.5 GiB", "812 KiB", "97 B".
std::string human_bytes(std::uint64_t n);

}  // namespace memkv::cli
