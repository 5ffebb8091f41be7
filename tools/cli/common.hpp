#pragma once

// What every part of the memkv tool shares: exit statuses, the failure types
// that main() turns into one line on stderr, interruption, and the context a
// command runs in.

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <unistd.h>

namespace memkv::cli {

class output;

// The documented exit statuses (help, DESIGN.md).
inline constexpr int exit_ok = 0;
inline constexpr int exit_not_found = 1;
inline constexpr int exit_error = 2;

// A failure reported as "memkv: <where>: <reason>". An empty `where` means
// the command's name; an input error names "<file>:<line>" instead, so the
// user can go straight to the offending line.
class failure : public std::runtime_error {
public:
    explicit failure(std::string reason, std::string where = {})
        : std::runtime_error(std::move(reason)), where_(std::move(where)) {}
    const std::string& where() const noexcept { return where_; }

private:
    std::string where_;
};

// A command line the tool cannot run; main() adds where to read about it.
class usage_error : public failure {
public:
    using failure::failure;
};

// Standard output went away (a reader like `head` exited). Not a
// std::exception, so no handler for ordinary errors reports it by mistake;
// main() exits quietly on it.
struct broken_pipe {};

// SIGINT, SIGTERM or SIGHUP arrived. Thrown from the loops that poll for it,
// so that unwinding removes every temporary file before main() re-raises the
// signal.
struct interrupted {
    int signal;
};

// Set by the signal handler (memkv.cpp); polled by long loops.
inline volatile std::sig_atomic_t pending_signal = 0;

inline void check_interrupt() {
    if (pending_signal != 0) throw interrupted{pending_signal};
}

// Writes all n bytes to fd, going on after short writes and EINTR (polling
// for a signal then); returns 0, or the errno of the write that failed, for
// the caller's message.
inline int write_fully(int fd, const char* p, std::size_t n) {
    while (n > 0) {
        const ::ssize_t w = ::write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) {
                check_interrupt();
                continue;
            }
            return errno;
        }
        p += w;
        n -= static_cast<std::size_t>(w);
    }
    return 0;
}

// Options that apply to every command, and where results go.
struct context {
    std::string command;  // for messages: "memkv: <command>: ..."
    output* out = nullptr;
    bool escape = false;    // --escape: print keys with \xHH and "\\"
    bool unescape = false;  // --unescape: read key arguments and input lines with them
    bool quiet = false;     // --quiet: no progress and no summary on stderr
};

// "file:line", the `where` of an input error.
inline std::string at_line(const std::string& file, std::uint64_t line) {
    return file + ":" + std::to_string(line);
}

}  // namespace memkv::cli
