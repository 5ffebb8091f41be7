// The read commands: get, range, prefix, longest-prefix, rank, key-at,
// dump, stats, verify. Each works on a FrozenLayer file and, except rank and
// key-at (a checkpoint has no ordinals), on a memkv checkpoint: both offer
// the same read vocabulary (DESIGN.md, "One vocabulary"), so one template
// per command serves both.

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <memkv/detail/frozen/format.hpp>
#include <memkv/detail/hybrid/checkpoint.hpp>
#include <memkv/hybrid_kv.hpp>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/escape.hpp"
#include "cli/io.hpp"
#include "cli/progress.hpp"
#include "cli/store.hpp"

namespace memkv::cli {

namespace {

using frozen_t = FrozenLayer<std::uint64_t>;
using kv_t = MemKV<std::uint64_t>;

// A FrozenLayer file or a checkpoint, opened for reading.
struct store {
    std::string path;
    std::unique_ptr<frozen_file> frozen;
    std::unique_ptr<kv_t> kv;

    template <class F>
    decltype(auto) visit(F&& f) const {
        if (frozen) return f(frozen->layer);
        return f(*kv);
    }
};

// verify: a checkpoint's runs are checksummed as they are opened; the other
// commands open without (headers and bounds are still checked), so that a
// lookup in a large store does not read all of it.
store open_store(const std::string& path, const std::string& command, bool verify) {
    store s;
    s.path = path;
    if (detect_kind(path) == file_kind::frozen) {
        s.frozen = open_frozen(path, command);
        return s;
    }
    hybrid_options o;
    o.background_compaction = false;  // a reader needs no threads
    o.verify_on_open = verify;
    try {
        s.kv = std::make_unique<kv_t>(kv_t::open(path, o));
    } catch (const memkv::error& e) {
        throw about(path, e);
    }
    return s;
}

const frozen_t& frozen_only(const store& s, const std::string& command) {
    if (!s.frozen) {
        throw failure("'" + s.path + "' is a memkv checkpoint; " + command +
                      " needs a FrozenLayer file (a checkpoint has no ordinals)");
    }
    return s.frozen->layer;
}

void print_entry(const context& ctx, std::string_view key, std::uint64_t value, bool keys) {
    output& out = *ctx.out;
    out.put_key(key, ctx.escape);
    if (!keys) {
        out.put('\t');
        out.put_u64(value);
    }
    out.put('\n');
}

struct listing {
    bool reverse = false;
    std::optional<std::uint64_t> limit;
    bool keys = false;  // keys only, no values
};

listing listing_options(const arguments& args) {
    listing l;
    l.reverse = args.has("reverse");
    l.keys = args.has("keys");
    if (auto n = args.value("limit")) l.limit = parse_count(*n, "--limit");
    return l;
}

// Prints a view (FrozenLayer's or a checkpoint's) in either direction.
template <class View>
void print_view(const context& ctx, const View& v, const listing& l) {
    std::uint64_t left = l.limit.value_or(~std::uint64_t{0});
    if (!l.reverse) {
        for (auto it = v.begin(), end = v.end(); left > 0 && it != end; ++it, --left) {
            print_entry(ctx, it.key(), it.value(), l.keys);
        }
        return;
    }
    // A hand-written --it loop: std::reverse_iterator would copy the
    // iterator on every dereference.
    const auto first = v.begin();
    auto it = v.end();
    while (left > 0 && it != first) {
        --it;
        print_entry(ctx, it.key(), it.value(), l.keys);
        --left;
    }
}

// The KEY arguments after FILE, decoded before FILE is opened: a usage
// error is reported as one, whatever the file.
std::vector<std::string> key_arguments(const arguments& args, const context& ctx) {
    std::vector<std::string> keys;
    for (std::size_t i = 1; i < args.positionals().size(); ++i) {
        keys.push_back(key_argument(args.positionals()[i], ctx.unescape, "KEY"));
    }
    return keys;
}

template <class Fn>
int with_help(const arguments& args, std::string_view command, Fn&& fn) {
    if (args.help()) {
        print_help(command);
        return exit_ok;
    }
    return fn();
}

void not_found(const context& ctx, std::string_view what) {
    if (!ctx.quiet) std::fprintf(stderr, "memkv: %s: %s\n", ctx.command.c_str(), std::string(what).c_str());
}

std::optional<std::pair<std::string, std::uint64_t>> longest(const frozen_t& f, std::string_view key) {
    const auto it = f.longest_prefix(key);
    if (it == f.end()) return std::nullopt;
    return std::pair<std::string, std::uint64_t>(it.key(), it.value());
}
std::optional<std::pair<std::string, std::uint64_t>> longest(const kv_t& kv, std::string_view key) {
    return kv.longest_prefix(key);
}

// "  label       value": the stats table.
void row(output& out, std::string_view label, const std::string& value) {
    out.put(label);
    for (std::size_t i = label.size(); i < 16; ++i) out.put(' ');
    out.put(value);
    out.put('\n');
}

std::string fmt(const char* f, double v) {
    char s[64];
    std::snprintf(s, sizeof s, f, v);
    return s;
}

std::string bytes_text(std::uint64_t n) {
    return std::to_string(n) + (n >= 1024 ? " (" + human_bytes(n) + ")" : std::string());
}

// "N (P%), X bytes/key"
std::string part(std::uint64_t n, std::uint64_t total, std::uint64_t keys) {
    std::string s = std::to_string(n) + fmt(" (%.1f%%)", total == 0 ? 0.0 : 100.0 * static_cast<double>(n) /
                                                                                 static_cast<double>(total));
    if (keys != 0) s += fmt(", %.2f bytes/key", static_cast<double>(n) / static_cast<double>(keys));
    return s;
}

void frozen_stats(const context& ctx, const store& s) {
    const frozen_t& f = s.frozen->layer;
    const auto image = f.bytes();
    const detail::frozen_header h = detail::decode_frozen_header(
        image.data(), image.size(), detail::frozen_type_tag<std::uint64_t>(), sizeof(std::uint64_t));
    const std::uint64_t keys = f.size();
    const std::uint64_t total = image.size();
    output& out = *ctx.out;
    row(out, "file", s.frozen->path);
    row(out, "format", "FrozenLayer version " + std::to_string(h.version) + ", 64-bit unsigned values");
    row(out, "keys", std::to_string(keys));
    row(out, "file bytes", bytes_text(total));
    row(out, "bytes/key", keys == 0 ? "-" : fmt("%.2f", static_cast<double>(total) / static_cast<double>(keys)));
    row(out, "  header", part(detail::frozen_header_size, total, 0));
    row(out, "  automaton", part(f.automaton_size(), total, keys));
    std::string values = part(f.value_column_size(), total, keys);
    switch (h.value_kind) {
    case detail::frozen_value_kind::ordinal:
        values += "; keys only: each value is the key's ordinal, stored in no bytes";
        break;
    case detail::frozen_value_kind::packed:
        values += "; packed, " + std::to_string(h.value_bits) + " bits per value, base " + std::to_string(h.value_base);
        break;
    case detail::frozen_value_kind::raw:
        values += "; raw, " + std::to_string(h.value_size) + " bytes per value";
        break;
    }
    row(out, "  values", values);
    if (!f.jump_prefix().empty()) row(out, "jump prefix", quoted(f.jump_prefix()) + " (shared by most keys)");
}

void checkpoint_stats(const context& ctx, const store& s) {
    const kv_t& kv = *s.kv;
    const hybrid_stats st = kv.stats();
    // The files are the manifest and what its run table names.
    std::vector<std::string> names;
    detail::hybrid_manifest_names(s.path, names);
    const std::string dir = parent_dir(s.path);
    std::uint64_t run_bytes = 0;
    std::uint64_t filter_bytes = 0;
    std::size_t run_files = 0;
    std::size_t filter_files = 0;
    for (const std::string& n : names) {
        const std::optional<std::uint64_t> size = file_size(dir + "/" + n);
        if (!size) continue;  // a filter is optional
        if (n.ends_with(".filter")) {
            filter_bytes += *size;
            ++filter_files;
        } else {
            run_bytes += *size;
            ++run_files;
        }
    }
    const std::uint64_t manifest = file_size(s.path).value_or(0);
    const std::uint64_t total = manifest + run_bytes + filter_bytes;
    const std::uint64_t keys = kv.size();
    output& out = *ctx.out;
    row(out, "file", s.path);
    row(out, "format", "memkv checkpoint (MemKV<std::uint64_t>): a manifest and the run files it names");
    row(out, "keys", std::to_string(keys));
    row(out, "file bytes", bytes_text(total));
    row(out, "bytes/key", keys == 0 ? "-" : fmt("%.2f", static_cast<double>(total) / static_cast<double>(keys)));
    row(out, "  manifest", part(manifest, total, keys) + "; its delta holds " + std::to_string(st.delta_keys) +
                               " entries (tombstones included)");
    row(out, "  runs", part(run_bytes, total, keys) + "; " + std::to_string(st.runs) + " runs in " +
                           std::to_string(run_files) + " files, " + std::to_string(st.base_keys) +
                           " entries (tombstones included)");
    row(out, "  filters", part(filter_bytes, total, keys) + "; " + std::to_string(filter_files) + " Bloom filters");
    row(out, "memory (open)", bytes_text(kv.memory_usage()) + ", the runs mapped");
}

// Every key in order, strictly increasing, as many as size() says.
template <class Map>
std::uint64_t check_walk(const Map& m, const std::string& path) {
    std::uint64_t n = 0;
    std::string prev;
    const auto all = m.from(std::string_view());
    for (auto it = all.begin(), end = all.end(); it != end; ++it, ++n) {
        if (n > 0 && !(prev < it.key())) {
            throw failure("'" + path + "': corrupt: key " + quoted(it.key()) + " does not follow " + quoted(prev));
        }
        if constexpr (std::is_same_v<Map, frozen_t>) {
            // Lookups walk the automaton another way than iteration does.
            if (m.ordinal(it.key()) != n || m.get(it.key()) != it.value()) {
                throw failure("'" + path + "': corrupt: lookup of key " + quoted(it.key()) +
                              " disagrees with the iteration");
            }
        }
        prev = it.key();
    }
    if (n != m.size()) {
        throw failure("'" + path + "': corrupt: " + std::to_string(n) + " keys found, the file says " +
                      std::to_string(m.size()));
    }
    return n;
}

}  // namespace

int cmd_get(context& ctx, const args_t& argv) {
    const arguments args(argv, {}, ctx);
    return with_help(args, "get", [&] {
        args.expect(2, ~std::size_t{0}, synopsis("get"));
        const std::vector<std::string> keys = key_arguments(args, ctx);
        const store s = open_store(args.positionals()[0], "get", false);
        int rc = exit_ok;
        for (const std::string& key : keys) {
            const std::optional<std::uint64_t> v = s.visit([&](const auto& m) { return m.get(key); });
            if (v) {
                ctx.out->put_u64(*v);
            } else {
                rc = exit_not_found;
                not_found(ctx, "not found: " + quoted(key));
            }
            ctx.out->put('\n');
        }
        return rc;
    });
}

int cmd_range(context& ctx, const args_t& argv) {
    const arguments args(argv, {{"from", true}, {"to", true}, {"reverse", false}, {"limit", true}, {"keys", false}},
                         ctx);
    return with_help(args, "range", [&] {
        args.expect(1, 1, synopsis("range"));
        const listing l = listing_options(args);
        const std::string from = key_argument(args.value("from").value_or(""), ctx.unescape, "--from");
        std::optional<std::string> to;
        if (auto t = args.value("to")) to = key_argument(*t, ctx.unescape, "--to");
        const store s = open_store(args.positionals()[0], "range", false);
        s.visit([&](const auto& m) {
            if (to) {
                print_view(ctx, m.range(from, *to), l);
            } else {
                print_view(ctx, m.from(from), l);
            }
        });
        return exit_ok;
    });
}

int cmd_prefix(context& ctx, const args_t& argv) {
    const arguments args(argv, {{"reverse", false}, {"limit", true}, {"keys", false}}, ctx);
    return with_help(args, "prefix", [&] {
        args.expect(2, 2, synopsis("prefix"));
        const listing l = listing_options(args);
        const std::string p = key_argument(args.positionals()[1], ctx.unescape, "PREFIX");
        const store s = open_store(args.positionals()[0], "prefix", false);
        s.visit([&](const auto& m) { print_view(ctx, m.prefix(p), l); });
        return exit_ok;
    });
}

int cmd_dump(context& ctx, const args_t& argv) {
    const arguments args(argv, {{"reverse", false}, {"limit", true}, {"keys", false}}, ctx);
    return with_help(args, "dump", [&] {
        args.expect(1, 1, synopsis("dump"));
        const listing l = listing_options(args);
        const store s = open_store(args.positionals()[0], "dump", false);
        s.visit([&](const auto& m) { print_view(ctx, m.from(std::string_view()), l); });
        return exit_ok;
    });
}

int cmd_longest_prefix(context& ctx, const args_t& argv) {
    const arguments args(argv, {}, ctx);
    return with_help(args, "longest-prefix", [&] {
        args.expect(2, ~std::size_t{0}, synopsis("longest-prefix"));
        const std::vector<std::string> keys = key_arguments(args, ctx);
        const store s = open_store(args.positionals()[0], "longest-prefix", false);
        int rc = exit_ok;
        for (const std::string& key : keys) {
            const auto hit = s.visit([&](const auto& m) { return longest(m, key); });
            if (hit) {
                print_entry(ctx, hit->first, hit->second, false);
            } else {
                rc = exit_not_found;
                not_found(ctx, "no key is a prefix of " + quoted(key));
                ctx.out->put('\n');
            }
        }
        return rc;
    });
}

int cmd_rank(context& ctx, const args_t& argv) {
    const arguments args(argv, {}, ctx);
    return with_help(args, "rank", [&] {
        args.expect(2, 2, synopsis("rank"));
        const std::string key = key_argument(args.positionals()[1], ctx.unescape, "KEY");
        const store s = open_store(args.positionals()[0], "rank", false);
        const std::optional<std::size_t> r = frozen_only(s, "rank").ordinal(key);
        if (!r) {
            not_found(ctx, "not found: " + quoted(key));
            return exit_not_found;
        }
        ctx.out->put_u64(*r);
        ctx.out->put('\n');
        return exit_ok;
    });
}

int cmd_key_at(context& ctx, const args_t& argv) {
    const arguments args(argv, {}, ctx);
    return with_help(args, "key-at", [&] {
        args.expect(2, 2, synopsis("key-at"));
        const std::uint64_t i = parse_count(args.positionals()[1], "ORDINAL");
        const store s = open_store(args.positionals()[0], "key-at", false);
        const frozen_t& f = frozen_only(s, "key-at");
        if (i >= f.size()) {
            not_found(ctx, "ordinal " + std::to_string(i) + " is out of range (the file has " +
                               std::to_string(f.size()) + " keys)");
            return exit_not_found;
        }
        ctx.out->put_key(f.key_at(static_cast<std::size_t>(i)), ctx.escape);
        ctx.out->put('\n');
        return exit_ok;
    });
}

int cmd_stats(context& ctx, const args_t& argv) {
    const arguments args(argv, {}, ctx);
    return with_help(args, "stats", [&] {
        args.expect(1, 1, synopsis("stats"));
        const store s = open_store(args.positionals()[0], "stats", false);
        if (s.frozen) {
            frozen_stats(ctx, s);
        } else {
            checkpoint_stats(ctx, s);
        }
        return exit_ok;
    });
}

int cmd_verify(context& ctx, const args_t& argv) {
    const arguments args(argv, {}, ctx);
    return with_help(args, "verify", [&] {
        args.expect(1, 1, synopsis("verify"));
        const std::string& path = args.positionals()[0];
        const store s = open_store(path, "verify", true);
        std::uint64_t n = 0;
        try {
            if (s.frozen) {
                s.frozen->layer.verify();
            } else {
                s.kv->verify();
            }
            n = s.visit([&](const auto& m) { return check_walk(m, s.frozen ? s.frozen->path : path); });
        } catch (const memkv::error& e) {
            throw about(s.frozen ? s.frozen->path : path, e);
        } catch (const std::logic_error& e) {
            throw about(s.frozen ? s.frozen->path : path, e);
        }
        ctx.out->put((s.frozen ? s.frozen->path : path) + ": ok, " + std::to_string(n) + " keys");
        ctx.out->put('\n');
        return exit_ok;
    });
}

}  // namespace memkv::cli
