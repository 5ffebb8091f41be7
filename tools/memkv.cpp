// memkv: the command-line tool. main() dispatches to one function per
// command (cli/commands.hpp) and is the one place that turns every failure
// into an exit status and one line on stderr: no exception leaves main, so
// a user never sees std::terminate's abort or a stack trace.

#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <unistd.h>

#include <memkv/errors.hpp>
#include <memkv/version.hpp>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/io.hpp"

extern "C" void memkv_cli_on_signal(int sig) { memkv::cli::pending_signal = sig; }

namespace {

using namespace memkv::cli;

struct command {
    std::string_view name;
    int (*run)(context&, const args_t&);
    bool writes_files;  // build and union: interruptible, with cleanup
};

constexpr command commands[] = {
    {"build", cmd_build, true},
    {"get", cmd_get, false},
    {"range", cmd_range, false},
    {"prefix", cmd_prefix, false},
    {"longest-prefix", cmd_longest_prefix, false},
    {"rank", cmd_rank, false},
    {"key-at", cmd_key_at, false},
    {"dump", cmd_dump, false},
    {"stats", cmd_stats, false},
    {"verify", cmd_verify, false},
    {"union", cmd_union, true},
};

// Commands that write files turn SIGINT, SIGTERM and SIGHUP into a flag
// their loops poll (cli::check_interrupt), so that an interrupted build
// unwinds and removes its temporary files. No SA_RESTART: a read blocked on
// a terminal or pipe returns EINTR and the reader sees the flag. The read
// commands keep the default actions: they leave nothing behind.
void catch_signals() {
    struct sigaction sa {};
    sa.sa_handler = memkv_cli_on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    for (const int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
}

void die_of(int sig) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}

void report(const std::string& where, const std::string& what) {
    std::fprintf(stderr, "memkv: %s: %s\n", where.c_str(), what.c_str());
}

int run(int argc, char** argv, std::string& name) {
    if (argc < 2) throw usage_error("no command given; see 'memkv help'");
    const std::string_view first = argv[1];
    if (first == "--version") {
        std::printf("memkv %d.%d.%d\n", memkv::version.major, memkv::version.minor, memkv::version.patch);
        return exit_ok;
    }
    if (first == "help" || first == "--help" || first == "-h") {
        const std::string_view topic = first == "help" && argc > 2 ? std::string_view(argv[2]) : std::string_view();
        if (!print_help(topic)) throw usage_error("no command '" + std::string(topic) + "'; see 'memkv help'");
        return exit_ok;
    }
    const command* cmd = nullptr;
    for (const command& c : commands) {
        if (c.name == first) cmd = &c;
    }
    if (cmd == nullptr) throw usage_error("no command '" + std::string(first) + "'; see 'memkv help'");
    name = cmd->name;
    if (cmd->writes_files) catch_signals();

    output out(STDOUT_FILENO);
    context ctx;
    ctx.command = name;
    ctx.out = &out;
    const args_t args(argv + 2, argv + argc);
    int rc = exit_error;
    try {
        rc = cmd->run(ctx, args);
    } catch (...) {
        // What was printed before the failure still reaches the reader
        // (a dump that meets a corrupt node shows the keys before it).
        try {
            out.flush();
        } catch (...) {
        }
        throw;
    }
    out.flush();
    return rc;
}

}  // namespace

int main(int argc, char** argv) {
    // A closed pipe is an EPIPE error from write(), which output turns into
    // a quiet exit, rather than a signal that kills the process.
    std::signal(SIGPIPE, SIG_IGN);
    std::string name;
    try {
        return run(argc, argv, name);
    } catch (const usage_error& e) {
        report(e.where().empty() ? (name.empty() ? std::string("usage") : name) : e.where(),
               std::string(e.what()) + (name.empty() ? "" : " (see 'memkv help " + name + "')"));
    } catch (const failure& e) {
        report(e.where().empty() ? name : e.where(), e.what());
    } catch (const broken_pipe&) {
        return exit_ok;
    } catch (const interrupted& i) {
        die_of(i.signal);
    } catch (const std::bad_alloc&) {
        report(name, "out of memory");
    } catch (const memkv::error& e) {
        report(name, e.what());
    } catch (const std::exception& e) {
        report(name, e.what());
    } catch (...) {
        report(name, "unknown error");
    }
    return exit_error;
}
