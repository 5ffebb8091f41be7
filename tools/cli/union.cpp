// memkv union OUT.frz IN.frz...: the k-way merge of FrozenLayer files.
// Every input is memory-mapped and read in order at once (no temporary
// runs: the inputs are sorted sources already); equal keys are combined by
// input position (the last file's value wins) or summed.

#include <memory>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/external_sort.hpp"
#include "cli/frozen_sink.hpp"
#include "cli/io.hpp"
#include "cli/progress.hpp"
#include "cli/store.hpp"

namespace memkv::cli {

int cmd_union(context& ctx, const args_t& argv) {
    const arguments args(argv, {{"sum", false}}, ctx);
    if (args.help()) {
        print_help("union");
        return exit_ok;
    }
    args.expect(2, ~std::size_t{0}, synopsis("union"));
    const std::string out = args.positionals()[0];
    if (out == "-") throw usage_error("OUT must be a file: the output is written beside it and renamed into place");
    const bool sum = args.has("sum");

    std::vector<std::unique_ptr<frozen_file>> inputs;
    bool all_keys_only = true;
    std::uint64_t total = 0;
    for (std::size_t i = 1; i < args.positionals().size(); ++i) {
        inputs.push_back(open_frozen(args.positionals()[i], "union"));
        all_keys_only = all_keys_only && keys_only(inputs.back()->layer);
        total += inputs.back()->layer.size();
    }
    // Files built without --values map each key to its ordinal; a union of
    // such sets is a set again, with its own ordinals.
    if (all_keys_only && sum) {
        throw usage_error("--sum: no input has values (they were built without --values)");
    }

    std::vector<std::unique_ptr<record_source>> sources;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        sources.push_back(std::make_unique<frozen_source>(inputs[i]->layer, i, false));
    }
    merger merged(std::move(sources), sum ? duplicates::sum : duplicates::last, "");
    progress meter(!ctx.quiet);
    meter.phase("merging", total);
    frozen_sink sink(out, !all_keys_only);
    record r;
    while (merged.next(r)) {
        sink.add(r.key, r.value);
        meter.update(sink.size(), merged.consumed());
    }
    meter.phase("finishing", std::nullopt);
    const FrozenLayer<std::uint64_t> result = sink.finish(out);
    sync_dir(parent_dir(out));
    meter.clear();
    if (!ctx.quiet) {
        report_built(out, result,
                     std::to_string(inputs.size()) + " inputs, " + std::to_string(total) + " keys in all" +
                         (all_keys_only ? ", keys only" : sum ? ", values summed" : ", last value wins"));
    }
    return exit_ok;
}

}  // namespace memkv::cli
