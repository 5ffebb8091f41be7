#include "cli/escape.hpp"

#include "cli/common.hpp"

namespace memkv::cli {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

void append_escaped(std::string& out, std::string_view key) {
    for (const char ch : key) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '\\') {
            out += "\\\\";
        } else if (c >= 0x20 && c < 0x7F) {
            out.push_back(ch);
        } else {
            out += "\\x";
            out.push_back(hex_digits[c >> 4]);
            out.push_back(hex_digits[c & 15]);
        }
    }
}

std::string escaped(std::string_view key) {
    std::string s;
    append_escaped(s, key);
    return s;
}

std::string quoted(std::string_view key) {
    constexpr std::size_t shown = 100;
    std::string s = "\"";
    append_escaped(s, key.substr(0, shown));
    s.push_back('"');
    if (key.size() > shown) s += "... (" + std::to_string(key.size()) + " bytes)";
    return s;
}

std::string unescape(std::string_view in, std::string& out) {
    out.clear();
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '\\') {
            out.push_back(in[i]);
            continue;
        }
        if (i + 1 < in.size() && in[i + 1] == '\\') {
            out.push_back('\\');
            ++i;
            continue;
        }
        if (i + 1 < in.size() && in[i + 1] == 'x') {
            const int hi = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
            const int lo = i + 3 < in.size() ? hex_value(in[i + 3]) : -1;
            if (hi < 0 || lo < 0) {
                return "bad escape at byte " + std::to_string(i + 1) + ": \\x needs two hex digits";
            }
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 3;
            continue;
        }
        if (i + 1 == in.size()) return "bad escape at byte " + std::to_string(i + 1) + ": a lone backslash at the end";
        return "bad escape at byte " + std::to_string(i + 1) + ": \\" + escaped(in.substr(i + 1, 1)) +
               " (--unescape knows \\\\ and \\xHH)";
    }
    return {};
}

std::string key_argument(std::string_view arg, bool enabled, std::string_view what) {
    if (!enabled) return std::string(arg);
    std::string key;
    const std::string why = unescape(arg, key);
    if (!why.empty()) throw usage_error(std::string(what) + " " + quoted(arg) + ": " + why);
    return key;
}

}  // namespace memkv::cli
