#pragma once

// The engine of FrozenLayerBuilder: incremental construction of a minimal
// counting automaton from sorted keys (the sorted-input minimization of
// Daciuk et al.), with a bounded registry of compiled nodes.
//
// The unfinished path holds one node per byte of the last key. When a new
// key arrives, the part of the path below the common prefix can never change
// again: those nodes are "frozen" bottom-up. Freezing a node first asks the
// registry whether an identical node (same finality, same labels, same
// targets) was already written; if so the existing address is reused (suffix
// sharing), otherwise the node is encoded (node.hpp) and appended to the
// output, a byte sink.

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <memkv/detail/assert.hpp>
#include <memkv/detail/frozen/format.hpp>
#include <memkv/detail/frozen/node.hpp>
#include <memkv/detail/huge_pages.hpp>
#include <memkv/detail/io/byte_sink.hpp>

namespace memkv::detail {

// Fixed-capacity, set-associative cache from node content to address.
// rows x ways cells; a hit moves the cell to the front of its row, a miss
// evicts the row's last cell (LRU within a row). Memory is bounded by the
// cell count, independent of the number of keys; a node that fell out is
// simply written again (the automaton stays correct, only less than
// minimal).
//
// Most nodes (one or two transitions) have at most 15 bytes of content and
// live in 32-byte POD cells, two per cache line:
//
//   small cell: [hash u64][addr u64][len u8][content: len bytes, <= 15, zero-padded]
//
// Wider nodes go to a second, smaller table whose cells own a std::string.
class frozen_registry {
public:
    static constexpr std::size_t small_content = 15;
    struct small_cell {
        std::uint64_t hash;  // 0: empty
        std::uint64_t addr;
        unsigned char key[16];  // key[0] = content length, then content, zero-padded
    };
    static_assert(sizeof(small_cell) == 32, "two registry cells per cache line");
    struct large_cell {
        std::uint64_t hash = 0;
        std::uint64_t addr = 0;
        std::string content;
    };

    frozen_registry(std::size_t rows, std::size_t ways)
        : rows_(std::bit_ceil(std::max<std::size_t>(rows, 1))), ways_(std::max<std::size_t>(ways, 1)),
          large_rows_(std::max<std::size_t>(rows_ / 16, 1)), small_(rows_ * ways_),
          large_(large_rows_ * ways_) {}

    // Returns the address of a registered node equal to `content`, or npos.
    std::uint64_t find(std::uint64_t hash, std::string_view content) {
        if (content.size() <= small_content && pending_count_ > 0) {
            small_cell probe;
            fill(probe, hash, content, 0);
            for (std::size_t i = 0; i < pending_count_; ++i) {
                const small_cell& c = pending_[(pending_head_ + pending_count_ - 1 - i) % pending_size];
                if (same(c, probe)) return c.addr;
            }
        }
        if (content.size() > small_content) {
            large_cell* row = &large_[(hash & (large_rows_ - 1)) * ways_];
            for (std::size_t w = 0; w < ways_; ++w) {
                if (row[w].hash == hash && row[w].content == content) {
                    std::rotate(row, row + w, row + w + 1);
                    return row[0].addr;
                }
            }
            return npos;
        }
        small_cell* row = &small_[(hash & (rows_ - 1)) * ways_];
        small_cell probe;
        fill(probe, hash, content, 0);
        for (std::size_t w = 0; w < ways_; ++w) {
            if (same(row[w], probe)) {
                const small_cell hit = row[w];
                shift_row(row, w);
                row[0] = hit;
                return hit.addr;
            }
        }
        return npos;
    }

    // Starts loading the row a node with this hash will use.
    void prefetch(std::uint64_t hash) const noexcept {
#if defined(__GNUC__) || defined(__clang__)
        __builtin_prefetch(&small_[(hash & (rows_ - 1)) * ways_], 1);
#else
        (void)hash;
#endif
    }

    // Inserts through a short queue: the row is prefetched now and written
    // pending_size inserts later, so the cache miss overlaps other work.
    // find() searches the queue too, so nothing is lost meanwhile.
    void insert(std::uint64_t hash, std::string_view content, std::uint64_t addr) {
        if (content.size() <= small_content) {
            if (pending_count_ == pending_size) {
                commit(pending_[pending_head_]);
                pending_head_ = (pending_head_ + 1) % pending_size;
                --pending_count_;
            }
            fill(pending_[(pending_head_ + pending_count_) % pending_size], hash, content, addr);
            ++pending_count_;
            prefetch(hash);
            return;
        }
        insert_now(hash, content, addr);
    }

    // Drops the most recent insert if it registered addr (the node at addr is
    // being folded into a run node and loses its address).
    void forget_newest(std::uint64_t addr) noexcept {
        if (pending_count_ == 0) return;
        if (pending_[(pending_head_ + pending_count_ - 1) % pending_size].addr == addr) --pending_count_;
    }

    // Renames the most recent insert if it registered addr (the node at addr
    // is being folded into a pair).
    void retarget_newest(std::uint64_t addr, std::uint64_t new_addr) noexcept {
        if (pending_count_ == 0) return;
        small_cell& c = pending_[(pending_head_ + pending_count_ - 1) % pending_size];
        if (c.addr == addr) c.addr = new_addr;
    }

    // Writes every queued insert (call before dropping the registry).
    void flush() {
        while (pending_count_ > 0) {
            commit(pending_[pending_head_]);
            pending_head_ = (pending_head_ + 1) % pending_size;
            --pending_count_;
        }
    }

private:
    void commit(const small_cell& c) {
        small_cell* row = &small_[(c.hash & (rows_ - 1)) * ways_];
        shift_row(row, ways_ - 1);
        row[0] = c;
    }

public:
    void insert_now(std::uint64_t hash, std::string_view content, std::uint64_t addr) {
        if (content.size() > small_content) {
            large_cell* row = &large_[(hash & (large_rows_ - 1)) * ways_];
            std::rotate(row, row + ways_ - 1, row + ways_);
            row[0].hash = hash;
            row[0].addr = addr;
            row[0].content.assign(content);
            return;
        }
        small_cell* row = &small_[(hash & (rows_ - 1)) * ways_];
        shift_row(row, ways_ - 1);
        fill(row[0], hash, content, addr);
    }

    std::size_t memory_usage() const noexcept {
        std::size_t m = small_.memory_usage() + large_.capacity() * sizeof(large_cell);
        for (const large_cell& c : large_)
            if (c.content.capacity() > 15) m += c.content.capacity() + 1;
        return m;
    }

    static constexpr std::uint64_t npos = ~std::uint64_t{0};

private:
    // Content is zero-padded so equality is three word compares.
    // content.data() must be followed by zero bytes up to 15 bytes past
    // its start (the compiler pads its buffer): one fixed-size copy, no
    // library call per node.
    static void fill(small_cell& c, std::uint64_t hash, std::string_view content, std::uint64_t addr) noexcept {
        MEMKV_ASSERT(content.size() <= small_content);
        c.hash = hash;
        c.addr = addr;
        c.key[0] = static_cast<unsigned char>(content.size());
        std::memcpy(c.key + 1, content.data(), small_content);
    }
    // Moves row[0 .. n-1] to row[1 .. n]; the common four-way row as
    // straight-line copies (a loop becomes a memmove call).
    void shift_row(small_cell* row, std::size_t n) noexcept {
        if (ways_ == 4 && n == 3) {
            row[3] = row[2];
            row[2] = row[1];
            row[1] = row[0];
            return;
        }
        for (std::size_t i = n; i > 0; --i) row[i] = row[i - 1];
    }
    static bool same(const small_cell& a, const small_cell& b) noexcept {
        return a.hash == b.hash && std::memcmp(a.key, b.key, sizeof a.key) == 0;  // inlined: fixed size
    }

    static constexpr std::size_t pending_size = 8;
    small_cell pending_[pending_size]{};
    std::size_t pending_head_ = 0;  // oldest queued insert
    std::size_t pending_count_ = 0;

    std::size_t rows_;
    std::size_t ways_;
    std::size_t large_rows_;
    huge_array<small_cell> small_;  // huge pages: probed at random
    std::vector<large_cell> large_;
};

// Where compiled node bytes go: a byte sink (memory or file, the builder's
// choice) whose automaton starts at sink offset `base` (after the file
// header). Addresses are automaton offsets.
class frozen_output {
public:
    frozen_output(byte_sink& sink, std::uint64_t base) noexcept : sink_(&sink), base_(base) {
        MEMKV_ASSERT(sink.size() == base);
    }
    void append(const unsigned char* p, std::size_t n) { sink_->write(p, n); }
    void push(unsigned char b) { sink_->push(b); }
    // Rewrites the last byte written (a byte sink keeps it patchable).
    void patch_last(unsigned char b) noexcept { sink_->patch_last(b); }
    // Rewrites the byte before the last one (still staged as well).
    void patch_back(std::size_t from_end, unsigned char b) noexcept { sink_->patch_back(from_end, b); }
    std::uint64_t size() const noexcept { return sink_->size() - base_; }

private:
    byte_sink* sink_;
    std::uint64_t base_;
};

class frozen_compiler {
public:
    frozen_compiler(frozen_output out, std::size_t registry_rows, std::size_t registry_ways)
        : out_(out), registry_(registry_rows, registry_ways) {
        table_index_.fill(0xFF);
        path_.emplace_back();
    }

    void set_reemit_slack(std::uint64_t s) noexcept { reemit_slack_ = s; }
    // Whether to write run nodes (format version 2; off: version 1's kinds only).
    void set_runs(bool on) noexcept { runs_ = on; }
    void set_max_registered_chain(std::uint64_t m) noexcept { max_registered_chain_ = m; }

    // The 128 labels that one-byte chain nodes can carry; must be set before
    // the first add().
    // With use_pairs false no pair node is ever written (the pair table is
    // then just filler).
    void set_table(const std::array<unsigned char, frozen_table_size>& table, bool use_pairs = true) {
        table_ = table;
        table_index_.fill(0xFF);
        for (std::size_t i = 0; i < frozen_singles; ++i)
            if (table_index_[table[i]] == 0xFF) table_index_[table[i]] = static_cast<unsigned char>(i);
        pair_index_.assign(std::size_t{1} << 16, 0xFF);
        for (std::size_t i = 0; use_pairs && i < frozen_pairs; ++i) {
            const std::size_t k = std::size_t{table[frozen_singles + 2 * i]} << 8 | table[frozen_singles + 2 * i + 1];
            if (pair_index_[k] == 0xFF) pair_index_[k] = static_cast<unsigned char>(i);
        }
    }
    const std::array<unsigned char, frozen_table_size>& table() const noexcept { return table_; }

    // Adds key, which the caller guarantees is greater than the previous key;
    // `common` is the length of their common prefix.
    void add(std::string_view key, std::size_t common) {
        if (keys_ == 0) {
            // Address 0 is the final leaf (see node.hpp).
            out_.append(&node_leaf, 1);
            ++stats_.general_nodes;
            ++stats_.general_bytes;
            last_addr_ = 0;
            have_last_ = true;
        }
        freeze_below(common);
        for (std::size_t i = common; i < key.size(); ++i) {
            path_[i].trans.push_back({static_cast<unsigned char>(key[i]), 0, 0});
            // Reuse the node object (and its vector's capacity) from earlier keys.
            if (path_.size() <= i + 1) path_.emplace_back();
            path_[i + 1].final = false;
            path_[i + 1].trans.clear();
        }
        depth_ = key.size();
        path_[depth_].final = true;
        prev_.assign(key);
        ++keys_;
    }

    // Freezes everything; returns the root address (only if keys were added).
    std::uint64_t finish() {
        freeze_below(0);
        std::uint64_t root = compile(path_[0], 0).addr;
        if (is_virtual(root)) root = materialize(root);
        return root;
    }

    std::uint64_t keys() const noexcept { return keys_; }
    const frozen_build_stats& stats() const noexcept { return stats_; }
    std::uint64_t bytes_written() const noexcept { return out_.size(); }

    std::size_t memory_usage() const noexcept {
        std::size_t m = registry_.memory_usage() + path_.capacity() * sizeof(unode);
        for (const unode& u : path_) m += u.trans.capacity() * sizeof(utrans);
        return m;
    }

private:
    using utrans = frozen_trans;
    struct unode {
        bool final = false;
        std::vector<utrans> trans;
    };
    struct compiled {
        std::uint64_t addr;
        std::uint64_t count;
    };

    // Freezes path_[depth_] .. path_[keep + 1], leaving path_[0..keep].
    void freeze_below(std::size_t keep) {
        child_chain_ = -1;
        // A node left from an earlier cascade is referenced by the unfinished
        // path: never fold it into a pair or a run.
        pairable_ = false;
        runnable_ = fold::none;
        while (depth_ > keep) {
            const compiled c = compile(path_[depth_], depth_);
            --depth_;
            utrans& t = path_[depth_].trans.back();
            t.addr = c.addr;
            // Two 8-byte stores, not one 16-byte store: GCC packs the pair
            // through the stack, and the 16-byte load that reads back two
            // 8-byte stores cannot be forwarded (a stall per node, two
            // thirds of add()'s time in a profile).
            std::atomic_signal_fence(std::memory_order_seq_cst);
            t.count = c.count;
        }
    }

    static std::uint64_t mix(std::uint64_t h, std::uint64_t v) noexcept {
        h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
        h *= 0xFF51AFD7ED558CCDULL;
        return h ^ (h >> 32);
    }

    // Compiles path_[depth]. child_chain_ says whether the node compiled just
    // before (this node's last child) is a pure chain to the leaf, and how
    // long: then this node's suffix is prev_[depth + 1 ..].
    compiled compile(unode& u, std::size_t depth) {
        const std::int64_t below = child_chain_;
        if (u.final && u.trans.empty()) {
            child_chain_ = 0;
            return {0, 1};  // the leaf
        }
        const bool single = !u.final && u.trans.size() == 1;
        child_chain_ = single && below >= 0 ? below + 1 : -1;
        std::uint64_t count = u.final ? 1 : 0;
        for (const utrans& t : u.trans) count += t.count;

        // A node whose last child is the node written last cannot equal any
        // registered node: a registered node points only to nodes written
        // before it. That skips the lookup for every fresh tail.
        const bool fresh = !u.trans.empty() && have_last_ && u.trans.back().addr == last_addr_;
        // Long unbranched suffixes almost never recur; caching them would
        // only evict the short, common ones (and cost a cache miss each). A
        // fresh one is not looked up either, so it needs no content or hash.
        const bool registered =
            child_chain_ < 0 || static_cast<std::uint64_t>(child_chain_) <= max_registered_chain_;
        if (fresh) ++stats_.fresh_skips;
        if (fresh && !registered) return {write_new(u, depth, below), count};
        std::uint64_t h = make_content(u);
        registry_.prefetch(h);
        if (!fresh) {
            const std::uint64_t found = registry_.find(h, content());
            if (found != frozen_registry::npos) {
                ++stats_.registry_hits;
                pairable_ = false;  // the found node may be the last one written
                runnable_ = fold::none;
                return {found, count};
            }
            ++stats_.registry_misses;
        }
        const std::uint64_t addr = write_new(u, depth, below);
        if (merged_) {
            // u now is the pair node at its child's old address; the child
            // lives on as a virtual address (see write()). Register u under
            // the content a later equal node will compute.
            u.trans[0].addr = virtual_addr(addr, merged_label_);
            h = make_content(u);
        }
        if (registered) registry_.insert(h, content(), addr);
        return {addr, count};
    }

    // Writes a node the registry does not have: real copies of children that
    // live only inside a pair node, a short old suffix written again when
    // cheaper than pointing at it, then the node itself, which becomes the
    // last node written (see `fresh` in compile()).
    std::uint64_t write_new(unode& u, std::size_t depth, std::int64_t below) {
        const bool single = !u.final && u.trans.size() == 1;
        // Children that survive only inside a pair node get a real copy now.
        for (utrans& t : u.trans)
            if (is_virtual(t.addr)) t.addr = materialize(t.addr);
        if (single && below > 0 && u.trans[0].addr != 0 && u.trans[0].addr + 1 != out_.size()) {
            // A new node pointing into an old short suffix: a pointer costs a
            // header plus a varint of the distance; writing the suffix again
            // as one-byte chain nodes is often cheaper.
            const std::uint64_t dist = out_.size() - u.trans[0].addr;
            if (static_cast<std::uint64_t>(below) <= frozen_varint_len(dist) + reemit_slack_) {
                u.trans[0].addr = emit_chain(std::string_view(prev_).substr(depth + 1, static_cast<std::size_t>(below)));
                ++stats_.reemitted_chains;
                stats_.reemitted_bytes += static_cast<std::uint64_t>(below);
            }
        }
        last_addr_ = write(u);
        have_last_ = true;
        return last_addr_;
    }

    // Canonical content (finality, labels, target addresses) into content_;
    // returns its hash (never 0). Counts follow from targets.
    std::uint64_t make_content(const unode& u) {
        // A plain buffer: this runs for every node of every key, and a
        // string's push_back checks its capacity for each byte.
        char* out = content_.data();
        *out++ = u.final ? '\1' : '\0';
        std::uint64_t h = u.final ? 0x1234567ULL : 0x7654321ULL;
        for (const utrans& t : u.trans) {
            *out++ = static_cast<char>(t.label);
            std::uint64_t a = t.addr;
            while (a > 0x7F) {
                *out++ = static_cast<char>((a & 0x7F) | 0x80);
                a >>= 7;
            }
            *out++ = static_cast<char>(a);
            h = mix(h, (t.addr << 8) ^ t.addr >> 56 ^ t.label);
        }
        content_len_ = static_cast<std::size_t>(out - content_.data());
        std::memset(out, 0, content_pad);  // the registry's fixed-size copies read this far
        return h == 0 ? 1 : h;
    }

    // A state folded into a pair node at address a as its inner state, whose
    // (only) label is `label` and whose target is a - 1. Such states have no
    // address of their own; the builder names them by this value, and
    // materialize() writes a real copy when a node other than the pair needs
    // to point at one.
    static constexpr std::uint64_t virtual_bit = std::uint64_t{1} << 63;
    static std::uint64_t virtual_addr(std::uint64_t a, unsigned char label) noexcept {
        return virtual_bit | a << 8 | label;
    }
    static bool is_virtual(std::uint64_t a) noexcept { return (a & virtual_bit) != 0; }
    std::uint64_t materialize(std::uint64_t v) {
        const std::uint64_t a = (v & ~virtual_bit) >> 8;
        unode tmp;
        tmp.trans.assign(1, utrans{static_cast<unsigned char>(v & 0xFF), a - 1, 0});
        ++stats_.materialized;
        return write(tmp);
    }

    // Writes the chain of one-transition nodes spelling `labels` and ending
    // at the leaf; returns the address of its first node. Not registered.
    std::uint64_t emit_chain(std::string_view labels) {
        unode tmp;
        std::uint64_t target = 0;
        for (std::size_t i = labels.size(); i-- > 0;) {
            tmp.trans.assign(1, utrans{static_cast<unsigned char>(labels[i]), target, 0});
            target = write(tmp);
        }
        return target;
    }

    // Writes u (encoded by node.hpp) and returns its address (offset of its
    // last byte). The one-byte chain kinds and run nodes are chosen here,
    // since choosing them may fold the node written just before into a pair
    // or a run node.
    std::uint64_t write(const unode& u) {
        const std::uint64_t start = out_.size();
        const bool has_prev = start > 0;
        const std::size_t n = u.trans.size();
        merged_ = false;
        if (n == 1 && !u.final && has_prev && u.trans[0].addr == start - 1 && u.trans[0].addr != 0) {
            const unsigned char label = u.trans[0].label;
            if (runnable_ != fold::none) {
                if (const std::uint64_t a = fold_into_run(start, label); a != 0) return a;
            }
            if (pairable_ && last_single_addr_ == start - 1) {
                const unsigned p = pair_index_[std::size_t{label} << 8 | last_single_label_];
                if (p < frozen_pairs) {
                    // Fold this node and the single chain node below it into
                    // one pair node at the child's address. The child loses
                    // its identity: drop it from the registry, and the
                    // caller must not register the result.
                    out_.patch_last(frozen_pair_next_byte(p));
                    registry_.retarget_newest(start - 1, virtual_addr(start - 1, last_single_label_));
                    pairable_ = false;
                    merged_ = true;
                    merged_label_ = last_single_label_;
                    ++stats_.pair_nodes;
                    return start - 1;
                }
            }
            const unsigned idx = table_index_[label];
            if (idx < frozen_singles) {  // the common case, a one-byte chain node
                out_.push(frozen_one_next_byte(idx));
                ++stats_.one_next_nodes;
                pairable_ = true;
                runnable_ = fold::none;
                last_single_addr_ = start;
                last_single_label_ = label;
                return start;
            }
        }
        pairable_ = false;
        encode_frozen_node(buf_, start, u.final, u.trans, table_index_, stats_);
        // A label outside the table, to the leaf or to the node before: the
        // next node may turn it into a run.
        runnable_ = fold::none;
        if (runs_ && buf_.size() == 2) {
            if (buf_[0] == (node_one | node_one_is_next)) runnable_ = fold::single_next;
            if (buf_[0] == (node_to_leaf | 0x1F)) runnable_ = fold::single_to_leaf;
        }
        std::reverse(buf_.begin(), buf_.end());
        out_.append(buf_.data(), buf_.size());
        return start + buf_.size() - 1;
    }

    // Folds the node written last (at start - 1, referenced only by the node
    // being written) and a transition labelled `label` above it into one run
    // node; returns the run's address, or 0 if it does not fold. Unbranched
    // tails of labels outside the table (random bytes, integers) then cost a
    // byte per label instead of two. The folded node loses its address, so
    // its registration (the newest, if any) goes too.
    //
    // A run is read backwards from its header: in memory a short run is
    // [labels in reverse][hdr], a long one [labels in reverse][len][hdr], so
    // the new label goes where the header (short) or the length byte (long)
    // was.
    std::uint64_t fold_into_run(std::uint64_t start, unsigned char label) {
        if (runnable_ == fold::run) {
            if (run_len_ >= node_run_max) return 0;
            registry_.forget_newest(start - 1);
            const unsigned short_max = frozen_short_run_max(run_to_leaf_);
            const unsigned len = ++run_len_;
            ++stats_.run_labels;
            if (len - 1 > short_max) {  // long stays long
                out_.patch_back(1, label);
                out_.patch_last(frozen_long_run_byte(len, run_to_leaf_));
                out_.push(node_long_run);
                ++stats_.run_bytes;
                return start;
            }
            out_.patch_last(label);
            if (len <= short_max) {
                out_.push(frozen_short_run_byte(len, run_to_leaf_));
                ++stats_.run_bytes;
                return start;
            }
            out_.push(frozen_long_run_byte(len, run_to_leaf_));  // short becomes long
            out_.push(node_long_run);
            stats_.run_bytes += 2;
            return start + 1;
        }
        // An explicit-label single, [label2][hdr] in memory, becomes a short
        // run of two, [label2][label][hdr]: a byte less, and a byte per
        // further label.
        if (table_index_[label] < frozen_singles) return 0;
        registry_.forget_newest(start - 1);
        run_to_leaf_ = runnable_ == fold::single_to_leaf;
        run_len_ = 2;
        out_.patch_last(label);
        out_.push(frozen_short_run_byte(2, run_to_leaf_));
        runnable_ = fold::run;
        --stats_.one_nodes;
        stats_.one_bytes -= 2;
        ++stats_.run_nodes;
        stats_.run_labels += 2;
        stats_.run_bytes += 3;
        return start;
    }

    frozen_output out_;
    frozen_registry registry_;
    std::array<unsigned char, frozen_table_size> table_{};
    std::array<unsigned char, 256> table_index_{};
    std::vector<unode> path_;
    std::size_t depth_ = 0;
    std::uint64_t keys_ = 0;
    std::uint64_t last_addr_ = 0;
    bool have_last_ = false;
    // Finality byte, then per transition a label and a varint address.
    // Followed by content_pad zero bytes (see frozen_registry).
    static constexpr std::size_t content_pad = 16;
    std::array<char, 1 + 256 * 11 + content_pad> content_{};
    std::size_t content_len_ = 0;
    std::string_view content() const noexcept { return {content_.data(), content_len_}; }
    std::vector<unsigned char> buf_;
    frozen_build_stats stats_;
    std::string prev_;
    std::int64_t child_chain_ = -1;
    std::uint64_t reemit_slack_ = 0;
    std::uint64_t max_registered_chain_ = ~std::uint64_t{0};
    std::vector<unsigned char> pair_index_;  // (first << 8 | second) -> pair, 0xFF: none
    bool pairable_ = false;                  // the last node written is a single chain node
    // What the node written last can be folded into (see fold_into_run).
    enum class fold : unsigned char { none, single_next, single_to_leaf, run };
    fold runnable_ = fold::none;
    bool runs_ = true;                       // write run nodes (format version 2)
    unsigned run_len_ = 0;                   // labels of the run written last
    bool run_to_leaf_ = false;               // ... and whether it ends at the leaf
    bool merged_ = false;                    // write() folded its node into a pair
    unsigned char merged_label_ = 0;         // ... whose inner state has this label
    std::uint64_t last_single_addr_ = 0;
    unsigned char last_single_label_ = 0;
};

}  // namespace memkv::detail
