#pragma once

// The commands, one function each: they parse their own arguments, write
// results through ctx.out and return the exit status, or throw failure /
// usage_error for main() to report.

#include <string_view>
#include <vector>

#include "cli/common.hpp"

namespace memkv::cli {

using args_t = std::vector<std::string_view>;

int cmd_build(context& ctx, const args_t& args);   // build.cpp
int cmd_union(context& ctx, const args_t& args);   // union.cpp
int cmd_get(context& ctx, const args_t& args);     // read.cpp, from here on
int cmd_range(context& ctx, const args_t& args);
int cmd_prefix(context& ctx, const args_t& args);
int cmd_longest_prefix(context& ctx, const args_t& args);
int cmd_rank(context& ctx, const args_t& args);
int cmd_key_at(context& ctx, const args_t& args);
int cmd_dump(context& ctx, const args_t& args);
int cmd_stats(context& ctx, const args_t& args);
int cmd_verify(context& ctx, const args_t& args);

// help.cpp: the overview (empty command) or one command's page on stdout;
// false if there is no such command.
bool print_help(std::string_view command);
// "memkv build INPUT OUT.frz [options]": the synopsis line, for usage errors.
std::string_view synopsis(std::string_view command);

}  // namespace memkv::cli
