#pragma once

// A one-line progress display on stderr, drawn only when stderr is a terminal.
// The parent sets the line's prefix before forking a child; the child names
// its phases, so a long phase on a big data set shows where the time goes.

#include <unistd.h>

#include <cstdio>
#include <string>
#include <string_view>

namespace memkv::bench {

class Progress {
public:
    void enable(bool on) noexcept { enabled_ = on && ::isatty(STDERR_FILENO) == 1; }
    bool enabled() const noexcept { return enabled_; }

    // done of total units, and a label such as "std_map run 2/3".
    void step(std::size_t done, std::size_t total, std::string_view label) {
        if (!enabled_) return;
        constexpr std::size_t width = 24;
        const std::size_t filled = total == 0 ? width : done * width / total;
        prefix_ = "[";
        prefix_.append(filled, '#');
        prefix_.append(width - filled, '.');
        prefix_ += "] " + std::to_string(done) + "/" + std::to_string(total) + " ";
        prefix_ += label;
        draw("");
    }
    void phase(std::string_view name) {
        if (enabled_) draw(name);
    }
    void clear() {
        if (!enabled_) return;
        std::fputs("\r\033[K", stderr);
        std::fflush(stderr);
    }

private:
    void draw(std::string_view phase) {
        std::fprintf(stderr, "\r\033[K%s%s%.*s", prefix_.c_str(), phase.empty() ? "" : ": ",
                     static_cast<int>(phase.size()), phase.data());
        std::fflush(stderr);
    }

    bool enabled_ = false;
    std::string prefix_;
};

inline Progress& progress() {
    static Progress p;
    return p;
}

}  // namespace memkv::bench
