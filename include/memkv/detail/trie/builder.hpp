#pragma once

// Builds a v3 trie (layout.hpp) from keys in strictly increasing order, in
// one pass: a node is written when the first key outside its subtree
// arrives, so the builder holds the open path (one node per branching depth
// of the last key, each with its edges and links) and, until the link code
// is trained, the edges written so far. The parts that grow with the keys
// (blocks, jumps, link offsets, links) stream into byte sinks as they are
// made: the caller's (files, for a FrozenLayer built to disk), or the
// builder's own in memory, copied into the image at finish().
//
// The link code is trained on the first links (options::sample_links, or
// sample_bytes of them): sorted input gives a sample of one end of the key
// range, which DESIGN.md weighs ("FrozenLayer v2 (in progress)"). Links
// that do not code in the sample (the code table and codes above the raw
// bytes: random keys, small sets) are kept plain. The sample also sets the
// offsets' low bits (log2 of its mean link length), which lets them stream.

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <memkv/detail/assert.hpp>
#include <memkv/detail/common_prefix.hpp>
#include <memkv/detail/frozen/packed_column.hpp>
#include <memkv/detail/io/byte_sink.hpp>
#include <memkv/detail/succinct/context_codec.hpp>
#include <memkv/detail/trie/image.hpp>
#include <memkv/detail/trie/layout.hpp>

namespace memkv::detail::trie {

struct builder_options {
    // 262,144 links hold 17-25 MiB more than 65,536 did (URL set, paths)
    // and code a set that fits whole (words.txt, uuid.txt) with its own code,
    // not its first links': 0.95x the bytes a key on words.txt, 0.98x on
    // uuid.txt, 0.99x on the URL set (bench/RESULTS.md, fiftieth session);
    // 1,048,576 cost the URL set's build a third of its speed for 0.3% more.
    std::size_t sample_links = 262144;
    std::size_t sample_bytes = std::size_t{16} << 20;
    // Edges held for the sample, with or without links: a set whose edges
    // carry few links (dense integers: none) trains here, or it held every
    // edge to finish() - 50 bytes a key, a streaming build's memory growing
    // with the keys (fiftieth session).
    std::size_t sample_edges = std::size_t{1} << 20;
    // Links that do not code in the first probe_links (random keys) stay
    // plain at once: their build holds and weighs no more links than it did
    // with the smaller sample (ints:1M built 2x faster than from 262,144).
    std::size_t probe_links = 65536;
    unsigned bucket_bits = succinct::context_code::default_bucket_bits;
    bool try_more_buckets = true;  // also train with bucket_bits + 1, keep the cheaper
    // A sample that is not every link is weighed as sample_repeats samples
    // when a bucket's own code is weighed against its tables
    // (context_code::train), or as what it stands for if that is less: the
    // keys the whole build will hold (expected_keys, if the caller knows;
    // 0: not known) over the keys sampled. Not more: a sorted sample is one
    // end of the key range, and what its codes save there they save less
    // on the keys past it (the URL set's user names): the URL set weighed
    // as its 7 samples took 10.281 B/key, as 4 10.143, and paths:7.3M
    // weighed as 64 gained 0.012 B/key over 4 (bench/RESULTS.md, fifty-first
    // session). Too high a weight pays for tables the set does not use (the
    // old fixed 16 on words.txt, 3 samples' worth: 0.5 bytes a key).
    std::uint64_t expected_keys = 0;
    std::uint64_t sample_repeats = 4;
    bool force_plain = false;  // keep links as bytes whatever the sample says
    bool force_coded = false;  // code links whatever the sample says (tests)
};

// Where the parts that grow with the keys go (each written once, in order;
// finish() leaves them finished, padded as image.hpp says).
struct trie_sinks {
    byte_sink* blocks;
    byte_sink* jumps;
    byte_sink* link_lows;
    byte_sink* link_highs;
    byte_sink* links;
};

class trie_builder {
public:
    // Parts into the builder's own memory sinks: finish() returns them in
    // the image.
    explicit trie_builder(builder_options opt = {}) : opt_(opt) {
        for (auto& o : owned_) o = std::make_unique<memory_sink>();
        sinks_ = {owned_[0].get(), owned_[1].get(), owned_[2].get(), owned_[3].get(), owned_[4].get()};
    }
    // Parts into the caller's sinks (they must outlive the builder's use):
    // finish() leaves those parts of the image empty.
    trie_builder(builder_options opt, trie_sinks sinks) : opt_(opt), sinks_(sinks) {}
    trie_builder(const trie_builder&) = delete;
    trie_builder& operator=(const trie_builder&) = delete;

    std::uint64_t size() const noexcept { return keys_; }

    // Bytes held: the parts so far, the open path, the links waiting for
    // the code.
    std::size_t memory_usage() const noexcept {
        std::size_t m = sizeof(*this) + out_.jump_bases.capacity() + coded_.bytes().capacity() +
                        pending_links_.capacity() + pending_.capacity() * sizeof(pending_edge) + prev_.capacity();
        for (const auto& o : owned_)
            if (o) m += o->memory_usage();
        for (const open_node& n : path_) m += sizeof n + n.edges.capacity() * sizeof(edge) + n.link_bytes.capacity();
        return m;
    }

    // key > every key before it (the caller checks).
    void push(std::string_view key) {
        MEMKV_ASSERT(keys_ == 0 || std::string_view(prev_) < key);
        if (keys_ == 0) {
            open(0);
        } else {
            const std::size_t l = common_prefix_length(prev_, key);
            done child{};
            bool has_child = false;
            while (path_[top_].depth > l) {
                close_edge(top_, has_child ? &child : nullptr);
                child = write_node(top_);
                has_child = true;
                --top_;
            }
            if (path_[top_].depth < l) open(l);
            close_edge(top_, has_child ? &child : nullptr);
        }
        prev_.assign(key);
        ++keys_;
    }

    trie_image finish() {
        if (keys_ != 0) {
            done child{};
            for (bool has_child = false;; --top_) {
                close_edge(top_, has_child ? &child : nullptr);
                child = write_node(top_);
                has_child = true;
                if (top_ == 0) break;
            }
            out_.root_start = child.start;
            out_.lone_key_end = keys_ == 1 && prev_.empty();
        }
        if (!trained_) train(true);
        flush_block();  // the partial block, or the one past the last edge
        out_.keys = keys_;
        out_.edges = edges_;
        out_.link_count = links_;
        add_offset(stream_size());
        lows_->finish();
        out_.link_high_bits = high_bits_;
        out_.link_stream_size = stream_size();
        sinks_.link_highs->push(highs_byte_);
        pad(*sinks_.link_highs);
        if (!out_.plain_links) {
            const std::vector<unsigned char>& v = coded_.bytes();
            sinks_.links->write(v.data(), v.size());  // the last byte, partial, too
            code_.write(out_.code);
        }
        pad(*sinks_.links);
        jump_writer_.finish();
        for (byte_sink* k : {sinks_.blocks, sinks_.jumps, sinks_.link_lows, sinks_.link_highs, sinks_.links})
            k->finish();
        if (owned_[0]) {
            std::vector<unsigned char>* to[5] = {&out_.blocks, &out_.jumps, &out_.link_lows, &out_.link_highs,
                                                 &out_.links};
            for (std::size_t i = 0; i < 5; ++i) {
                const std::span<const unsigned char> c = owned_[i]->contents();
                to[i]->assign(c.begin(), c.end());
                owned_[i].reset();
            }
        }
        for (const candidate& c : candidates_) {
            if (2 * c.keys >= keys_ && c.prefix.size() > out_.jump_prefix.size()) {
                out_.jump_prefix = c.prefix;
                out_.jump_end = c.end;
                out_.jump_sub_start = c.sub_start;
                out_.jump_after = keys_ - c.before - c.keys;
            }
        }
        return std::move(out_);
    }

private:
    // An edge of an open node, in ascending order (a key end first).
    struct edge {
        unsigned char label = 0;
        bool key_end = false;
        bool inner = false;
        std::size_t link_at = 0, link_size = 0;  // in the node's link bytes
        succinct::byte_context context;
        std::uint64_t child_end = 0;
    };
    struct open_node {
        std::size_t depth = 0;
        std::vector<edge> edges;
        std::string link_bytes;
        std::uint64_t sub_start = npos;
        std::uint64_t keys = 0;
    };
    // A written node, as its parent's edge needs it.
    struct done {
        std::size_t depth = 0;
        std::uint64_t start = 0, end = 0, sub_start = 0, keys = 0;
    };
    // An edge in position order, as a block takes it.
    struct edge_record {
        unsigned char label = 0;
        bool child = false, first = false;
        std::uint64_t jump = 0;
        std::string_view link;
        succinct::byte_context context;
    };
    struct pending_edge {
        edge_record rec;
        std::size_t link_at = 0;  // in pending_links_
    };
    struct candidate {
        std::string prefix;
        std::uint64_t end, sub_start, before, keys;
    };

    void open(std::size_t depth) {
        const std::size_t at = path_.empty() ? 0 : top_ + 1;
        if (at == path_.size()) path_.emplace_back();
        top_ = at;
        path_[at].depth = depth;
    }

    // Closes node i's edge toward prev_ (a leaf for prev_, or the edge to the
    // node just written).
    void close_edge(std::size_t i, const done* child) {
        open_node& n = path_[i];
        const std::size_t d = n.depth;
        edge e;
        if (child == nullptr && prev_.size() == d) {
            e.key_end = true;
        } else {
            const std::size_t link_end = child != nullptr ? child->depth : prev_.size();
            e.label = static_cast<unsigned char>(prev_[d]);
            e.link_at = n.link_bytes.size();
            e.link_size = link_end - d - 1;
            n.link_bytes.append(prev_, d + 1, e.link_size);
            e.context = {d >= 1 ? static_cast<unsigned char>(prev_[d - 1]) : 256u, e.label};
            if (child != nullptr) {
                e.inner = true;
                e.child_end = child->end;
                if (n.sub_start == npos) n.sub_start = child->sub_start;
            }
        }
        n.keys += child != nullptr ? child->keys : 1;
        n.edges.push_back(e);
    }

    done write_node(std::size_t i) {
        open_node& n = path_[i];
        const std::uint64_t s = written_;
        const bool has_end = n.edges.front().key_end;
        const std::size_t count = n.edges.size();
        MEMKV_ASSERT(count >= 2 || i == 0);
        bool first = true;
        for (std::size_t j = count; j-- > (has_end ? 1 : 0);) {
            const edge& e = n.edges[j];
            edge_record r;
            r.label = e.label;
            r.child = e.inner;
            r.first = first;
            r.jump = e.inner ? s - e.child_end : 0;
            r.link = std::string_view(n.link_bytes).substr(e.link_at, e.link_size);
            r.context = e.context;
            emit(r);
            first = false;
        }
        if (has_end) {
            edge_record r;
            r.label = count >= 2 ? n.edges[1].label : 0;
            r.first = first;
            emit(r);
        }
        const done d{n.depth, s, s + count, n.sub_start == npos ? s : n.sub_start, n.keys};
        if (n.depth >= 8 && n.depth <= 64) note_candidate(d);
        n.edges.clear();
        n.link_bytes.clear();
        n.sub_start = npos;
        n.keys = 0;
        return d;
    }

    // The dominant prefix's node holds at least half of all keys; a node
    // that holds fewer than half of the keys so far never will.
    void note_candidate(const done& d) {
        std::erase_if(candidates_, [&](const candidate& c) { return 2 * c.keys < keys_; });
        if (2 * d.keys >= keys_) candidates_.push_back({prev_.substr(0, d.depth), d.end, d.sub_start, keys_ - d.keys, d.keys});
    }

    void emit(const edge_record& r) {
        ++written_;
        if (trained_) {
            place(r);
            return;
        }
        pending_edge p{r, pending_links_.size()};
        pending_links_.append(r.link);
        pending_.push_back(p);
        if (!r.link.empty() && ++pending_link_count_ >= opt_.sample_links) train(false);
        else if (pending_links_.size() >= opt_.sample_bytes || pending_.size() >= opt_.sample_edges) train(false);
        else if (!r.link.empty() && pending_link_count_ == opt_.probe_links) train(false, true);
    }

    // Chooses the links' form from the links pending (all of them: `whole`),
    // then places them. A `probe` settles only plain links: links that code
    // stay pending for the whole sample.
    void train(bool whole, bool probe = false) {
        std::vector<std::string_view> sample;
        std::vector<succinct::byte_context> contexts;
        std::uint64_t raw = 0;
        for (pending_edge& p : pending_) {
            p.rec.link = std::string_view(pending_links_).substr(p.link_at, p.rec.link.size());
            if (p.rec.link.empty()) continue;
            sample.push_back(p.rec.link);
            contexts.push_back(p.rec.context);
            raw += p.rec.link.size();
        }
        std::uint64_t mean_bits = 8 * raw;
        out_.plain_links = true;
        // A table costs 2 bytes per bucket before its codes: links fewer
        // bytes than that stay plain without training one.
        const std::uint64_t table_floor = 2 * ((std::uint64_t{1} << opt_.bucket_bits) + 1);
        if (!opt_.force_plain && !sample.empty() && (raw > table_floor || opt_.force_coded)) {
            const std::uint64_t repeats = whole ? 1 : sample_weight(probe);
            // A code's price: its coded bytes as often as the sample stands
            // for, plus its table in the file and in a reader's memory.
            const auto price = [&](const succinct::context_code& code, std::uint64_t coded) {
                return (coded + 7) / 8 * repeats + code.bytes() + code.memory_usage();
            };
            // Twice the buckets split more contexts (fewer collisions) for
            // 4 more bytes a bucket: the cheaper of the two (the fewer on a
            // tie), both from one count.
            const bool wider = !probe && opt_.try_more_buckets && opt_.bucket_bits < 15;
            succinct::context_code::sample_counts counts(sample, contexts, false, opt_.bucket_bits + (wider ? 1 : 0));
            std::uint64_t coded = 0, cost = std::numeric_limits<std::uint64_t>::max();
            for (;;) {
                std::uint64_t bits = 0;
                auto code = succinct::context_code::train(counts, repeats, &bits);
                if (const std::uint64_t c = price(code, bits); c <= cost) {
                    code_ = std::move(code);
                    coded = bits;
                    cost = c;
                }
                if (counts.bucket_bits() == opt_.bucket_bits) break;
                counts.fold();
            }
            MEMKV_ASSERT(coded == [&] {
                std::uint64_t sum = 0;
                for (std::size_t k = 0; k < sample.size(); ++k) sum += code_.coded_bits(sample[k], contexts[k]);
                return sum;
            }());
            if (cost < raw * repeats || opt_.force_coded) {
                out_.plain_links = false;
                mean_bits = coded;
            }
        }
        if (probe && !out_.plain_links) {
            out_.plain_links = true;
            return;
        }
        const std::uint64_t per_link =
            sample.empty() ? 0 : (out_.plain_links ? mean_bits / 8 : mean_bits) / sample.size();
        low_bits_ = per_link > 1 ? static_cast<unsigned>(std::bit_width(per_link) - 1) : 0;
        out_.link_low_bits = low_bits_;
        lows_.emplace(low_bits_, lows_sink_);
        lows_sink_.to = sinks_.link_lows;
        trained_ = true;
        for (const pending_edge& p : pending_) place(p.rec);
        // Not `= {}`: that assigns an empty list and keeps the sample's capacity (tens of MiB) for the rest of the build.
        std::vector<pending_edge>().swap(pending_);
        std::string().swap(pending_links_);
    }

    // What a sample that is not every link stands for (builder_options::
    // sample_repeats, expected_keys). A probe stands for the whole sample
    // too, so that it leaves plain only links the sample would leave plain.
    std::uint64_t sample_weight(bool probe) const noexcept {
        // A probe runs at probe_links links, so probe_links >= 1 here.
        const std::uint64_t probes = probe ? std::max<std::uint64_t>(1, opt_.sample_links / opt_.probe_links) : 1;
        const std::uint64_t weight = opt_.sample_repeats * probes;
        if (keys_ != 0 && opt_.expected_keys > keys_) return std::min(weight, (opt_.expected_keys + keys_ - 1) / keys_);
        return weight;
    }

    std::uint64_t stream_size() const noexcept { return out_.plain_links ? plain_bytes_ : coded_.size(); }

    // The offsets' high bits go out a byte at a time: the byte that holds
    // the last one set stays until a later one lands past it.
    void add_offset(std::uint64_t v) {
        const std::uint64_t pos = (v >> low_bits_) + offsets_;
        MEMKV_ASSERT(pos >= high_bits_);
        for (; highs_at_ < pos / 8; ++highs_at_) {
            sinks_.link_highs->push(highs_byte_);
            highs_byte_ = 0;
        }
        highs_byte_ |= static_cast<unsigned char>(1u << (pos % 8));
        high_bits_ = pos + 1;
        lows_->push(v & below(low_bits_));
        ++offsets_;
    }

    void place(const edge_record& r) {
        const unsigned i = fill_;
        if (i == 0) {
            if (edges_ + 2 * block_edges >= std::numeric_limits<std::uint32_t>::max())
                throw std::length_error("memkv::FrozenLayer: a v3 trie holds fewer than 2^32 edges (about 2^31 keys)");
            block_ = {};
            block_.inner_rank = static_cast<std::uint32_t>(inner_);
            block_.link_rank = static_cast<std::uint32_t>(links_);
            carry_ = !r.first && node_has_inner_;
            block_jumps_ = 0;
            width_ = 1;
        }
        const std::uint64_t m = std::uint64_t{1} << i;
        block_.labels[i] = r.label;
        if (r.first) block_.first |= m, node_has_inner_ = false;
        if (r.child) {
            block_.child |= m;
            ++inner_;
            node_has_inner_ = true;
            if (r.jump != 0) {
                block_jumps_ |= m;
                jumps_[i] = r.jump;
                width_ = std::max(width_, static_cast<unsigned>(std::bit_width(r.jump)));
            }
        }
        if (!r.link.empty()) {
            block_.link |= m;
            const std::uint64_t at = stream_size();
            if (block_.link == m) {
                const std::uint64_t pos = (at >> low_bits_) + offsets_;
                if (pos >= std::numeric_limits<std::uint32_t>::max())
                    throw std::length_error("memkv::FrozenLayer: a v3 trie's link offsets exceed 2^32 bits");
                block_.links_at = static_cast<std::uint32_t>(pos);
            }
            add_offset(at);
            if (out_.plain_links) {
                sinks_.links->write(reinterpret_cast<const unsigned char*>(r.link.data()), r.link.size());
                plain_bytes_ += r.link.size();
            } else {
                code_.encode(r.link, r.context, coded_);
                drain_coded(std::size_t{1} << 16);
            }
            ++links_;
        }
        ++edges_;
        if (++fill_ == block_edges) flush_block();
    }

    void flush_block() {
        if (fill_ == 0) {  // the block just past the last edge
            block_ = {};
            block_.inner_rank = static_cast<std::uint32_t>(inner_);
            block_.link_rank = static_cast<std::uint32_t>(links_);
            block_jumps_ = 0;
            width_ = 1;
            carry_ = false;
        }
        MEMKV_ASSERT(jump_mask(block_.child, block_.first, carry_) == block_jumps_);
        if (blocks_ % blocks_per_jump_base == 0) {
            jump_base_ = jump_writer_.size();
            unsigned char b[8];
            store_le(b, jump_base_, 8);
            out_.jump_bases.insert(out_.jump_bases.end(), b, b + 8);
        }
        const std::uint64_t rel = jump_writer_.size() - jump_base_;
        MEMKV_ASSERT(rel <= jump_at_mask && width_ <= 32);
        block_.jump_at = static_cast<std::uint32_t>(rel) | (carry_ ? jump_carry : 0u) | (width_ << jump_width_shift);
        for (std::uint64_t j = block_jumps_; j != 0; j &= j - 1) jump_writer_.push(jumps_[std::countr_zero(j)], width_);
        unsigned char b[block_bytes];
        block_.store(b);
        sinks_.blocks->write(b, block_bytes);
        ++blocks_;
        fill_ = 0;
    }

    static void pad(byte_sink& k) {
        static constexpr unsigned char zero[8] = {};
        k.write(zero, 8);
    }
    // Sends the coded links' complete bytes to their sink once more than
    // `keep` are held (the last, partial byte stays with the writer).
    void drain_coded(std::size_t keep) {
        std::vector<unsigned char>& v = coded_.bytes();
        if (v.size() <= keep) return;
        const std::size_t n = coded_.size() % 8 == 0 ? v.size() : v.size() - 1;
        sinks_.links->write(v.data(), n);
        v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n));
    }

    struct lows_sink {
        byte_sink* to = nullptr;
        void operator()(const unsigned char* p, std::size_t k) { to->write(p, k); }
    };
    // LSB-first bits of varying widths (<= 32).
    struct jump_writer {
        byte_sink** out;
        std::uint64_t acc = 0;
        unsigned fill = 0;
        std::uint64_t bits = 0;
        std::uint64_t size() const noexcept { return bits; }
        void push(std::uint64_t v, unsigned width) {
            acc |= v << fill;
            fill += width;
            bits += width;
            while (fill >= 8) {
                (*out)->push(static_cast<unsigned char>(acc));
                acc >>= 8;
                fill -= 8;
            }
        }
        void finish() {
            if (fill > 0) (*out)->push(static_cast<unsigned char>(acc));
            pad(**out);
            fill = 0;
            acc = 0;
        }
    };

    builder_options opt_;
    std::unique_ptr<memory_sink> owned_[5];  // the sinks, when the caller gave none
    trie_sinks sinks_;
    trie_image out_;
    std::string prev_;
    std::uint64_t keys_ = 0;
    std::vector<open_node> path_;
    std::size_t top_ = 0;
    std::vector<candidate> candidates_;

    bool trained_ = false;
    std::vector<pending_edge> pending_;
    std::string pending_links_;
    std::size_t pending_link_count_ = 0;
    succinct::context_code code_;
    succinct::bit_writer coded_;
    unsigned low_bits_ = 0;
    lows_sink lows_sink_;
    std::optional<packed_writer<lows_sink>> lows_;  // once trained
    std::uint64_t offsets_ = 0;
    std::uint64_t high_bits_ = 0;
    std::uint64_t highs_at_ = 0;     // the byte of the high bits being filled
    unsigned char highs_byte_ = 0;
    std::uint64_t plain_bytes_ = 0;

    block_fields block_;
    unsigned fill_ = 0;
    bool carry_ = false;
    bool node_has_inner_ = false;
    std::uint64_t block_jumps_ = 0;
    std::uint64_t jumps_[block_edges] = {};
    unsigned width_ = 1;
    std::uint64_t written_ = 0;  // edges emitted (placed, or pending until the code is trained)
    std::uint64_t edges_ = 0, inner_ = 0, links_ = 0, blocks_ = 0;  // edges placed in blocks
    std::uint64_t jump_base_ = 0;
    jump_writer jump_writer_{&sinks_.jumps};
};

}  // namespace memkv::detail::trie
