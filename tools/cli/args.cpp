#include "cli/args.hpp"

#include <cstdlib>

#include "cli/escape.hpp"

namespace memkv::cli {

arguments::arguments(const std::vector<std::string_view>& args, std::initializer_list<option_spec> known,
                     context& ctx) {
    bool only_positionals = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view a = args[i];
        if (only_positionals || a == "-" || a.empty() || a[0] != '-') {
            positionals_.emplace_back(a);
            continue;
        }
        if (a == "--") {
            only_positionals = true;
            continue;
        }
        if (a == "-h" || a == "--help") {
            help_ = true;
            continue;
        }
        if (a == "-q" || a == "--quiet") {
            ctx.quiet = true;
            continue;
        }
        if (a == "--escape") {
            ctx.escape = true;
            continue;
        }
        if (a == "--unescape") {
            ctx.unescape = true;
            continue;
        }
        if (!a.starts_with("--")) {
            throw usage_error("unknown option " + quoted(a) + " (put -- before an argument that starts with '-')");
        }
        const std::size_t eq = a.find('=');
        const std::string_view name = a.substr(2, eq == std::string_view::npos ? std::string_view::npos : eq - 2);
        const option_spec* spec = nullptr;
        for (const option_spec& s : known) {
            if (s.name == name) spec = &s;
        }
        if (spec == nullptr) {
            throw usage_error("unknown option --" + escaped(name) +
                              " (put -- before an argument that starts with '-')");
        }
        std::string v;
        if (spec->takes_value) {
            if (eq != std::string_view::npos) {
                v = a.substr(eq + 1);
            } else if (i + 1 < args.size()) {
                v = args[++i];
            } else {
                throw usage_error("option --" + std::string(name) + " needs a value");
            }
        } else if (eq != std::string_view::npos) {
            throw usage_error("option --" + std::string(name) + " takes no value");
        }
        values_[std::string(name)] = std::move(v);
    }
}

std::optional<std::string> arguments::value(std::string_view name) const {
    const auto it = values_.find(std::string(name));
    if (it == values_.end()) return std::nullopt;
    return it->second;
}

void arguments::expect(std::size_t min, std::size_t max, std::string_view synopsis) const {
    const std::size_t n = positionals_.size();
    if (n < min) throw usage_error("missing arguments; usage: " + std::string(synopsis));
    if (n > max) {
        throw usage_error("unexpected argument " + quoted(positionals_[max]) + "; usage: " + std::string(synopsis));
    }
}

bool parse_u64(std::string_view text, std::uint64_t& out) noexcept {
    if (text.empty() || text.size() > 20) return false;
    std::uint64_t v = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return false;
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    out = v;
    return true;
}

std::uint64_t parse_count(std::string_view text, std::string_view what) {
    std::uint64_t v = 0;
    if (!parse_u64(text, v)) {
        throw usage_error(std::string(what) + " " + quoted(text) + " is not an unsigned 64-bit decimal integer");
    }
    return v;
}

std::uint64_t parse_size(std::string_view text, std::string_view what) {
    const auto bad = [&] {
        return usage_error(std::string(what) + " " + quoted(text) +
                           " is not a size (examples: 4096, 64K, 512M, 1G, 1.5G)");
    };
    std::size_t i = 0;
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
    const std::string number(text.substr(0, i));
    std::string_view unit = text.substr(i);
    if (number.empty() || number == "." || number.find('.') != number.rfind('.')) throw bad();
    double scale = 1;
    if (!unit.empty()) {
        const char u = unit[0];
        unit.remove_prefix(1);
        switch (u) {
        case 'k': case 'K': scale = 1024.0; break;
        case 'm': case 'M': scale = 1024.0 * 1024; break;
        case 'g': case 'G': scale = 1024.0 * 1024 * 1024; break;
        case 't': case 'T': scale = 1024.0 * 1024 * 1024 * 1024; break;
        case 'b': case 'B': if (!unit.empty()) throw bad(); break;
        default: throw bad();
        }
        if (!unit.empty() && unit != "B" && unit != "iB") throw bad();
    }
    const double bytes = std::strtod(number.c_str(), nullptr) * scale;
    if (!(bytes >= 0) || bytes >= 1.8e19) throw bad();
    return static_cast<std::uint64_t>(bytes);
}

}  // namespace memkv::cli
