#pragma once

// Keys are bytes. --escape prints every byte outside printable ASCII as
// \xHH and a backslash as "\\"; --unescape reads the same two escapes back,
// so `memkv dump --escape` output rebuilds the same file with `--unescape`.

#include <string>
#include <string_view>

namespace memkv::cli {

void append_escaped(std::string& out, std::string_view key);
std::string escaped(std::string_view key);

// A key for a message: escaped, in double quotes, cut after 100 bytes with
// its length noted, so that one bad line cannot flood the terminal.
std::string quoted(std::string_view key);

// Decodes "\\" and "\xHH" (either case) from `in` into `out` (replaced).
// Returns an empty string, or why `in` is not valid (an unknown escape or a
// short \x).
std::string unescape(std::string_view in, std::string& out);

// A key given on the command line: unescaped when `enabled` (a bad escape is
// a usage_error naming `what`, e.g. "KEY"), else the bytes as given.
std::string key_argument(std::string_view arg, bool enabled, std::string_view what);

}  // namespace memkv::cli
