#pragma once

// External sort with bounded memory, and the k-way merge that `build` and
// `union` share (DESIGN.md, "The memkv tool").
//
// run_builder fills one buffer of --memory bytes with records, sorts it and
// writes it to a temporary run file; merge_runs() merges the runs (and any
// other sorted sources, such as a FrozenLayer) by (key, order), in several
// passes when there are more runs than one pass may open, and the merger
// resolves equal keys by a policy. `order` is a record's input line in a
// build and its input file's index in a union, so that "first" and "last"
// mean first and last in the input, exactly.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <memkv/frozen_layer.hpp>

namespace memkv::cli {

class progress;

struct record {
    std::string key;
    std::uint64_t value = 0;
    std::uint64_t order = 0;
};

// What a merge does with records of equal keys.
enum class duplicates {
    error,  // throws failure naming the key and both input lines
    first,  // keeps the one of lowest order
    last,   // keeps the one of highest order
    sum,    // adds the values (overflow is an error)
};

// Records in (key, order) order.
class record_source {
public:
    virtual ~record_source() = default;
    // The next record into r (reusing its key's capacity); false at the end.
    virtual bool next(record& r) = 0;
};

// A FrozenLayer's entries. order = order_base, plus the key's ordinal when
// per_key (a build's sorted prefix, where ordinal + 1 is the input line).
class frozen_source final : public record_source {
public:
    frozen_source(const FrozenLayer<std::uint64_t>& layer, std::uint64_t order_base, bool per_key)
        : layer_(layer), it_(layer.begin()), base_(order_base), per_key_(per_key) {}
    bool next(record& r) override;

private:
    const FrozenLayer<std::uint64_t>& layer_;
    FrozenLayer<std::uint64_t>::const_iterator it_;
    std::uint64_t base_;
    bool per_key_;
};

// A fresh directory (mkdtemp) for run files. It removes the files it named
// and itself when destroyed, whatever path ends the program short of a
// crash or SIGKILL.
class temp_dir {
public:
    // "<parent>/<stem>XXXXXX".
    temp_dir(const std::string& parent, const std::string& stem);
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::string& path() const noexcept { return path_; }
    // A new file name in the directory (the caller creates the file).
    std::string new_file();
    // Removes a file named by new_file() now (a run merged into another).
    void remove(const std::string& file) noexcept;

private:
    std::string path_;
    std::set<std::string> files_;
    std::uint64_t next_ = 0;
};

// Collects records in one buffer of `memory` bytes; each time it is full it
// sorts it by (key, order) and writes it as a run file into `dir`.
class run_builder {
public:
    run_builder(temp_dir& dir, std::uint64_t memory, bool values);
    ~run_builder();
    run_builder(const run_builder&) = delete;
    run_builder& operator=(const run_builder&) = delete;

    void add(std::string_view key, std::uint64_t value, std::uint64_t order);
    // Writes the last run, frees the buffer and returns every run's path.
    std::vector<std::string> finish();

    std::uint64_t records() const noexcept { return records_; }
    std::size_t runs() const noexcept { return runs_.size(); }

private:
    struct entry;
    void spill();
    entry* entries() noexcept;

    temp_dir& dir_;
    bool values_;
    std::size_t capacity_;
    std::size_t slots_end_;
    std::unique_ptr<unsigned char[]> buf_;
    std::size_t key_bytes_ = 0;  // used from the front of buf_
    std::size_t count_ = 0;      // entries, stored backwards from slots_end_
    std::uint64_t records_ = 0;
    std::vector<std::string> runs_;
};

// Merges sorted sources by (key, order) and combines equal keys.
class merger {
public:
    // `input` names the input in duplicate-key errors ("<file>:<order>").
    merger(std::vector<std::unique_ptr<record_source>> sources, duplicates policy, std::string input);
    ~merger();
    merger(const merger&) = delete;
    merger& operator=(const merger&) = delete;

    bool next(record& out);
    // Records taken from the sources so far (before combining).
    std::uint64_t consumed() const noexcept { return consumed_; }

private:
    bool pop(record& out);
    void combine(record& kept, record& later);
    bool less(std::uint32_t a, std::uint32_t b) const noexcept;

    std::vector<std::unique_ptr<record_source>> sources_;
    std::vector<record> current_;
    std::vector<std::uint32_t> heap_;  // a min-heap of source indexes
    duplicates policy_;
    std::string input_;
    record pending_;
    record look_;
    bool have_pending_ = false;
    std::uint64_t consumed_ = 0;
};

// How many runs one merge pass reads, and the read buffer of each, for a
// memory budget: at least 4 and at most 128 runs per pass (well under the
// usual 1024 open files), buffers of 4 KiB to 1 MiB.
struct merge_shape {
    std::size_t fan_in;
    std::size_t buffer;
};
merge_shape shape_for(std::uint64_t memory) noexcept;

// The final merger over `first` (if any) and the runs: runs are merged in
// passes of shape.fan_in into new runs (removing the old ones) until one
// pass remains. `first` joins the final pass only.
std::unique_ptr<merger> merge_runs(std::unique_ptr<record_source> first, std::vector<std::string> runs, temp_dir& dir,
                                   bool values, duplicates policy, const std::string& input, merge_shape shape,
                                   progress& meter);

}  // namespace memkv::cli
