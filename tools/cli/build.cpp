// memkv build INPUT OUT.frz: keys (or key<TAB>value lines) to a FrozenLayer
// file.
//
// Input that is already sorted streams straight into a streaming
// FrozenLayerBuilder: one pass, memory bounded by the builder. At the first
// key out of order the keys so far are a sorted run already, so they are
// not thrown away: the builder is finished into a temporary FrozenLayer
// file (the "prefix"), the rest of the input is sorted externally
// (external_sort.hpp), and the prefix joins the final merge as one more
// sorted source. Standard input cannot be read twice, so this is also the
// only way that works for a pipe.

#include <memory>
#include <optional>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

#include <memkv/frozen_layer.hpp>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/escape.hpp"
#include "cli/external_sort.hpp"
#include "cli/frozen_sink.hpp"
#include "cli/io.hpp"
#include "cli/progress.hpp"

namespace memkv::cli {

namespace {

constexpr std::uint64_t default_memory = std::uint64_t{256} << 20;
constexpr std::uint64_t min_memory = 4096;

struct build_options {
    std::string input;
    std::string out;
    bool values = false;
    bool sorted_only = false;
    duplicates dedup = duplicates::error;
    std::uint64_t memory = default_memory;
    std::optional<std::string> tmp;
};

// The input's records: the key (unescaped with --unescape) and the value
// (with --values), or a failure naming file:line.
class input_records {
public:
    input_records(line_reader& r, bool values, bool decode) : r_(r), values_(values), unescape_(decode) {}

    bool next(std::string_view& key, std::uint64_t& value) {
        std::string_view line;
        if (!r_.next(line)) return false;
        check_interrupt();
        value = 0;
        if (values_) {
            const std::size_t tab = line.rfind('\t');
            if (tab == std::string_view::npos) {
                throw failure("no tab: --values reads KEY<TAB>VALUE lines", where());
            }
            const std::string_view text = line.substr(tab + 1);
            if (!parse_u64(text, value)) {
                std::string why = "bad value " + quoted(text) + " (want an unsigned 64-bit decimal integer)";
                if (!text.empty() && text.back() == '\r') why += "; CRLF line ends? lines end at '\\n' only";
                throw failure(why, where());
            }
            line = line.substr(0, tab);
        }
        key = line;
        if (unescape_) {
            const std::string why = unescape(line, buf_);
            if (!why.empty()) throw failure(why + " (--unescape)", where());
            key = buf_;
        }
        return true;
    }

    std::string where() const { return at_line(r_.name(), r_.line_number()); }

private:
    line_reader& r_;
    bool values_;
    bool unescape_;
    std::string buf_;
};

// Removes a file when the build ends, however it ends.
struct file_remover {
    std::string path;
    ~file_remover() {
        if (!path.empty()) ::unlink(path.c_str());
    }
};

build_options parse(const arguments& args) {
    build_options o;
    o.input = args.positionals()[0];
    o.out = args.positionals()[1];
    o.values = args.has("values");
    o.sorted_only = args.has("sorted");
    if (auto d = args.value("dedup")) {
        if (*d == "first") {
            o.dedup = duplicates::first;
        } else if (*d == "last") {
            o.dedup = duplicates::last;
        } else {
            throw usage_error("--dedup takes 'first' or 'last', not " + quoted(*d));
        }
    }
    if (auto m = args.value("memory")) {
        o.memory = parse_size(*m, "--memory");
        if (o.memory < min_memory) throw usage_error("--memory must be at least 4K");
    }
    o.tmp = args.value("tmp");
    if (o.out == "-") throw usage_error("OUT must be a file: the output is written beside it and renamed into place");
    struct ::stat st {};
    if (::stat(o.out.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        throw usage_error("OUT '" + o.out + "' is a directory");
    }
    return o;
}

}  // namespace

int cmd_build(context& ctx, const args_t& argv) {
    const arguments args(argv,
                         {{"values", false}, {"sorted", false}, {"dedup", true}, {"memory", true}, {"tmp", true}}, ctx);
    if (args.help()) {
        print_help("build");
        return exit_ok;
    }
    args.expect(2, 2, synopsis("build"));
    const build_options o = parse(args);

    line_reader reader(o.input);
    input_records in(reader, o.values, ctx.unescape);
    progress meter(!ctx.quiet);
    meter.phase("reading", reader.size());

    // Sorted so far: stream into the builder. `prev` is held back one
    // record, so that --dedup last can still replace its value.
    auto sink = std::make_unique<frozen_sink>(o.out, o.values);
    std::string prev;
    std::uint64_t prev_value = 0;
    std::uint64_t prev_line = 0;
    bool have_prev = false;
    std::string_view key;
    std::uint64_t value = 0;
    bool out_of_order = false;
    while (in.next(key, value)) {
        const std::uint64_t line = reader.line_number();
        meter.update(line, reader.bytes_consumed());
        if (!have_prev) {
            prev.assign(key);
            prev_value = value;
            prev_line = line;
            have_prev = true;
            continue;
        }
        const int c = key.compare(prev);  // bytes compare as unsigned char
        if (c > 0) {
            sink->add(prev, prev_value);
            prev.assign(key);
            prev_value = value;
            prev_line = line;
        } else if (c == 0) {
            if (o.dedup == duplicates::error) {
                throw failure("duplicate key " + quoted(key) + " (first on line " + std::to_string(prev_line) +
                                  "; use --dedup first|last to keep one)",
                              in.where());
            }
            if (o.dedup == duplicates::last) {
                prev_value = value;
                prev_line = line;
            }
        } else if (o.sorted_only) {
            throw failure("key " + quoted(key) + " is out of order (after " + quoted(prev) + " on line " +
                              std::to_string(prev_line) + "); --sorted takes sorted input only",
                          in.where());
        } else {
            out_of_order = true;
            break;
        }
    }

    FrozenLayer<std::uint64_t> result;
    std::size_t run_count = 0;
    if (!out_of_order) {
        if (have_prev) sink->add(prev, prev_value);
        meter.phase("finishing", std::nullopt);
        result = sink->finish(o.out);
    } else {
        // The keys so far, a sorted run, become a FrozenLayer beside OUT
        // (the builder's own temporary files are there, so this is a rename).
        sink->add(prev, prev_value);
        file_remover prefix_file{o.out + ".prefix.tmp"};
        const FrozenLayer<std::uint64_t> prefix = sink->finish(prefix_file.path);
        sink.reset();

        temp_dir dir(o.tmp ? *o.tmp : parent_dir(o.out), o.tmp ? "memkv-sort-" : "." + base_name(o.out) + ".sort-");
        run_builder runs(dir, o.memory, o.values);
        runs.add(key, value, reader.line_number());
        meter.phase("reading", reader.size(), reader.line_number(), reader.bytes_consumed());
        while (in.next(key, value)) {
            runs.add(key, value, reader.line_number());
            meter.update(reader.line_number(), reader.bytes_consumed());
        }
        std::vector<std::string> files = runs.finish();
        run_count = files.size() + 1;
        const std::uint64_t total = prefix.size() + runs.records();

        std::unique_ptr<merger> merged =
            merge_runs(std::make_unique<frozen_source>(prefix, 1, true), std::move(files), dir, o.values, o.dedup,
                       reader.name(), shape_for(o.memory), meter);
        sink = std::make_unique<frozen_sink>(o.out, o.values);
        meter.phase("merging", total);
        record r;
        while (merged->next(r)) {
            sink->add(r.key, r.value);
            meter.update(sink->size(), merged->consumed());
        }
        merged.reset();
        meter.phase("finishing", std::nullopt);
        result = sink->finish(o.out);
    }
    // The builder synced the file before renaming it.
    sync_dir(parent_dir(o.out));
    meter.clear();
    if (!ctx.quiet) {
        report_built(o.out, result,
                     run_count == 0 ? "input was sorted"
                                    : "sorted externally: " + std::to_string(run_count) + " runs merged");
    }
    return exit_ok;
}

}  // namespace memkv::cli
