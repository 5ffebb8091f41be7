#include "cli/progress.hpp"

#include <cstdio>
#include <iterator>

#include <unistd.h>

namespace memkv::cli {

progress::progress(bool wanted) : enabled_(wanted && ::isatty(STDERR_FILENO) == 1) {}

progress::~progress() { clear(); }

void progress::phase(std::string_view name, std::optional<std::uint64_t> total, std::uint64_t keys,
                     std::uint64_t done) {
    name_ = name;
    total_ = total;
    started_ = last_ = clock::now();
    keys_at_start_ = keys;
    done_at_start_ = done;
}

void progress::clear() {
    if (!shown_) return;
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    shown_ = false;
}

void progress::redraw(std::uint64_t keys, std::uint64_t done) {
    const clock::time_point now = clock::now();
    if (now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    const double secs = std::chrono::duration<double>(now - started_).count();
    if (secs <= 0) return;
    const double rate = static_cast<double>(keys - keys_at_start_) / secs;
    char line[200];
    int n = std::snprintf(line, sizeof line, "memkv: %s: %llu keys, %.0f keys/s", name_.c_str(),
                          static_cast<unsigned long long>(keys), rate);
    if (total_ && *total_ > 0 && n > 0 && static_cast<std::size_t>(n) < sizeof line) {
        const double frac = static_cast<double>(done) / static_cast<double>(*total_);
        n += std::snprintf(line + n, sizeof line - static_cast<std::size_t>(n), ", %.1f%%", 100.0 * frac);
        const double speed = static_cast<double>(done - done_at_start_) / secs;
        if (speed > 0 && done < *total_ && static_cast<std::size_t>(n) < sizeof line) {
            const auto eta = static_cast<long long>(static_cast<double>(*total_ - done) / speed);
            char* at = line + n;
            const std::size_t room = sizeof line - static_cast<std::size_t>(n);
            if (eta < 60) {
                std::snprintf(at, room, ", ETA %llds", eta);
            } else if (eta < 3600) {
                std::snprintf(at, room, ", ETA %lldm%02llds", eta / 60, eta % 60);
            } else {
                std::snprintf(at, room, ", ETA %lldh%02lldm", eta / 3600, eta / 60 % 60);
            }
        }
    }
    std::fprintf(stderr, "\r%s\033[K", line);
    std::fflush(stderr);
    shown_ = true;
}

std::string human_bytes(std::uint64_t n) {
    static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = static_cast<double>(n);
    std::size_t u = 0;
    while (v >= 1024 && u + 1 < std::size(units)) {
        v /= 1024;
        ++u;
    }
    char s[32];
    if (u == 0) {
        std::snprintf(s, sizeof s, "%llu B", static_cast<unsigned long long>(n));
    } else {
        std::snprintf(s, sizeof s, "%.1f %s", v, units[u]);
    }
    return s;
}

}  // namespace memkv::cli
