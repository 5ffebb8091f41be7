#pragma once

// Command-line parsing shared by the commands: long options ("--name VALUE"
// or "--name=VALUE"), "--" before positional arguments that start with '-',
// and "-" as an ordinary positional (standard input).

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/common.hpp"

namespace memkv::cli {

struct option_spec {
    std::string_view name;  // without the leading "--"
    bool takes_value = false;
};

class arguments {
public:
    // Parses the arguments after the command name. Besides `known`, every
    // command accepts --escape, --unescape, --quiet (-q) and --help (-h);
    // the first three are stored in `ctx`.
    arguments(const std::vector<std::string_view>& args, std::initializer_list<option_spec> known, context& ctx);

    bool help() const noexcept { return help_; }
    bool has(std::string_view name) const { return values_.count(std::string(name)) != 0; }
    std::optional<std::string> value(std::string_view name) const;
    const std::vector<std::string>& positionals() const noexcept { return positionals_; }

    // Usage errors for a wrong number of positionals; `synopsis` is shown.
    void expect(std::size_t min, std::size_t max, std::string_view synopsis) const;

private:
    bool help_ = false;
    std::map<std::string, std::string> values_;  // flags map to ""
    std::vector<std::string> positionals_;
};

// "123" -> 123; anything else (signs, spaces, overflow) is a usage error
// naming `what`.
std::uint64_t parse_count(std::string_view text, std::string_view what);

// "1G", "512M", "64k", "4096", "1.5G" (K/M/G/T are powers of 1024; a
// trailing "B" or "iB" is allowed) -> bytes.
std::uint64_t parse_size(std::string_view text, std::string_view what);

// An unsigned 64-bit decimal; false for anything else (the caller says
// where).
bool parse_u64(std::string_view text, std::uint64_t& out) noexcept;

}  // namespace memkv::cli
