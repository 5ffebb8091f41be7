#pragma once

/// @file
/// @brief memkv::FrozenLayerBuilder, which builds a FrozenLayer from sorted keys.

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <memkv/detail/assert.hpp>
#include <memkv/detail/common_prefix.hpp>
#include <memkv/detail/frozen/compiler.hpp>
#include <memkv/detail/frozen/format.hpp>
#include <memkv/detail/frozen/options.hpp>
#include <memkv/detail/frozen/packed_column.hpp>
#include <memkv/detail/fwd.hpp>
#include <memkv/detail/io/byte_sink.hpp>
#include <memkv/detail/io/file.hpp>
#include <memkv/detail/trie/builder.hpp>
#include <memkv/detail/trie/format.hpp>
#include <memkv/errors.hpp>
#include <memkv/frozen_layer.hpp>
#include <memkv/key_view.hpp>

namespace memkv {

/// Builds a FrozenLayer from keys in strictly increasing byte order, in memory or streaming to a file.
///
/// @code
/// memkv::FrozenLayerBuilder<std::uint64_t> b("base.frz");  // streams to base.frz.tmp
/// for (const auto& [k, v] : sorted_input) b.insert(k, v);  // build_error if out of order
/// memkv::FrozenLayer<std::uint64_t> f = b.finish();         // renamed to base.frz, mapped
/// @endcode
///
/// @tparam V The value type; `std::uint64_t` by default.
///
/// @par Values
/// As FrozenLayer<V> (trivially copyable; the value column is chosen by
/// FrozenLayer's rule: packed for unsigned integers of at most 64 bits, raw
/// bytes otherwise).
///
/// @par Keys
/// insert(key, value) takes a memkv::key_view (std::string, string_view,
/// `const char*`, byte spans and vectors) in strictly increasing byte order
/// (unsigned lexicographic, a prefix before its extensions). An out-of-order
/// or duplicate key throws memkv::build_error naming both the previous and
/// the offending key; the builder is left unchanged and stays usable (strong
/// guarantee). Any other failure of insert (std::bad_alloc; io_error when a
/// streaming builder cannot write) spends the builder: every later call
/// throws std::logic_error saying so and why, and a streaming builder's
/// temporary files go with its destructor.
///
/// @par Output
/// Everything goes to a byte sink chosen once at construction
/// (detail/io/byte_sink.hpp): memory (a vector) for
/// `FrozenLayerBuilder(opt)`, the file `path + ".tmp"` for
/// `FrozenLayerBuilder(path, opt)`. The values go to a second sink (a vector,
/// or `path + ".values.tmp"`) while keys arrive and are packed into the
/// image's value column by finish().
///
/// @par Finishing
/// finish() / finish(path) end the builder: once one has succeeded, any
/// later call throws std::logic_error. A failed finish(path) does not lose
/// the build: on an in-memory builder a path that cannot be created fails
/// before anything changes (the builder stays usable, strong guarantee); a
/// failure later in writing or renaming leaves the finished image in memory,
/// and finish() or finish(other_path) may be called again (insert() then
/// throws std::logic_error). On a streaming builder a failed mapping or
/// rename can be retried the same way; a failure while completing the image
/// (std::bad_alloc, or a failed write of a streaming builder's file) spends
/// the builder as above. The rename into `path` is finish(path)'s last step:
/// when it fails, the file that was at `path` is untouched. A builder
/// destroyed unfinished leaves no temporary file behind.
///
/// @par Memory
/// Bounded independently of the number of keys by the registry
/// (frozen_layer_options::registry_rows x registry_ways cells), the
/// unfinished path (one node per byte of the longest key), the label sample
/// (frozen_layer_options::table_sample_keys keys, at most 16 MiB) and the
/// sinks' buffers (64 KiB stage, plus 1 MiB per file), plus, for an in-memory
/// builder, the output automaton and the values (`sizeof(V)` per key). A
/// streaming builder writes both to disk as it goes and holds neither.
/// Format version 3 has no registry and no label sample: its builder holds
/// the open path (one node per branching depth of the last key, with its
/// edges' labels), the edges written until the link code is trained (the
/// first 262,144 links, at most 16 MiB of them or 2^20 edges: about 35 MiB
/// on long paths, under 100 MiB whatever the keys) and 8 bytes per 65,536
/// edges; `opt.expected_keys` also tells it how much the link code's
/// tables may cost; a streaming builder writes the trie's parts to five more files
/// (`path + ".trie-blocks.tmp"` and so on, 1 MiB of buffer each).
///
/// @par Complexity
/// O(total key bytes) node compilations, each O(fan-out) plus a registry
/// probe.
///
/// @par Copy and move
/// Not copyable or movable.
///
/// @par Thread safety
/// None: one thread builds (const members may run concurrently with each
/// other, not with insert or finish).
template <class V>
class FrozenLayerBuilder {
    static_assert(std::is_trivially_copyable_v<V>,
                  "memkv::FrozenLayerBuilder<V> requires a trivially copyable V (values are stored as bytes)");
    static_assert(!std::is_const_v<V> && !std::is_volatile_v<V>,
                  "memkv::FrozenLayerBuilder<V> requires a V that is not const or volatile");
    static_assert(!std::is_array_v<V>,
                  "memkv::FrozenLayerBuilder<V> requires a V that is not an array (use std::array)");

public:
    /// An in-memory builder: finish() returns an owning layer; finish(path) writes the file and returns it memory-mapped.
    ///
    /// @param opt Tuning; `opt.expected_keys` and `opt.expected_bytes` reserve the buffers up front.
    /// @throws std::invalid_argument if `opt.format_version` is not a version this build writes (1 or 2).
    explicit FrozenLayerBuilder(frozen_layer_options opt = {})
        : opt_(checked(opt)), out_(std::make_unique<detail::memory_sink>()),
          values_(std::make_unique<detail::memory_sink>()) {
        if (opt_.expected_bytes != 0) static_cast<detail::memory_sink&>(*out_).reserve(opt_.expected_bytes);
        if (opt_.expected_keys != 0) {
            static_cast<detail::memory_sink&>(*values_).reserve(opt_.expected_keys * sizeof(V));
        }
        start_image();
    }

    /// A streaming builder: the automaton and the values go to disk while keys arrive.
    ///
    /// They go to `path + ".tmp"` and `path + ".values.tmp"`; finish()
    /// completes the file at `path` and returns it memory-mapped.
    /// @param path The file finish() produces.
    /// @param opt  Tuning.
    /// @throws io_error if a temporary file cannot be created (none is left behind).
    /// @throws std::invalid_argument if `opt.format_version` is not 1 or 2 (before any file is created).
    explicit FrozenLayerBuilder(std::string path, frozen_layer_options opt = {})
        : opt_(checked(opt)), stream_path_(std::move(path)), tmp_path_(stream_path_ + ".tmp"),
          values_tmp_path_(stream_path_ + ".values.tmp") {
        try {
            // Inside the try: a sink can fail (std::bad_alloc) after it
            // created its file.
            out_ = std::make_unique<detail::file_sink>(tmp_path_);
            values_ = std::make_unique<detail::file_sink>(values_tmp_path_);
            if (opt_.format_version >= 3) {
                // The trie's growing parts stream to files of their own.
                static constexpr const char* parts[trie_parts_streamed] = {"blocks", "jumps", "link-lows",
                                                                           "link-highs", "links"};
                for (std::size_t i = 0; i < trie_parts_streamed; ++i)
                    trie_tmp_paths_[i] = stream_path_ + ".trie-" + parts[i] + ".tmp";
                for (std::size_t i = 0; i < trie_parts_streamed; ++i)
                    trie_files_[i] = std::make_unique<detail::file_sink>(trie_tmp_paths_[i]);
            }
            start_image();
        } catch (...) {
            out_.reset();
            values_.reset();
            detail::remove_file_noexcept(tmp_path_);
            detail::remove_file_noexcept(values_tmp_path_);
            drop_trie_files();
            throw;
        }
    }

    /// Not movable (nor copyable).
    FrozenLayerBuilder(FrozenLayerBuilder&&) = delete;
    /// Not movable (nor copyable).
    FrozenLayerBuilder& operator=(FrozenLayerBuilder&&) = delete;

    /// Abandons an unfinished build; a streaming builder removes its temporary files.
    ~FrozenLayerBuilder() {
        if (!stream_path_.empty() && state_ != state::finished) {
            compiler_.reset();
            trie_.reset();
            out_.reset();
            values_.reset();
            detail::remove_file_noexcept(tmp_path_);
            detail::remove_file_noexcept(values_tmp_path_);
            drop_trie_files();
        }
    }

    /// Adds the next key and its value; keys must arrive in strictly increasing byte order.
    ///
    /// @throws build_error if `k` is not greater than the previous key (the
    ///         message names both; "(duplicate)" when equal). The builder is
    ///         unchanged and stays usable.
    /// @throws std::logic_error after finish(), or once the builder is spent.
    /// @throws std::bad_alloc, or io_error for a streaming builder that
    ///         cannot write: the builder is spent (see the class).
    void insert(key_view k, const V& value) {
        check_live();
        const std::string_view key = k.view();
        std::size_t common = 0;
        if (count_ > 0) {
            common = detail::common_prefix_length(key, last_);
            const bool ok = common == last_.size()
                                ? key.size() > last_.size()
                                : common < key.size() && static_cast<unsigned char>(key[common]) >
                                                             static_cast<unsigned char>(last_[common]);
            if (!ok) {
                throw build_error("FrozenLayerBuilder: keys must be inserted in strictly increasing order; got " +
                                  quote(key) + " after " + quote(last_) +
                                  (key == last_ ? " (duplicate)" : ""));
            }
        }
        // Past the order check a failure (std::bad_alloc, or an io_error of
        // a streaming builder) may leave the sample, the unfinished path or
        // the sinks half-updated: the builder is spent from then on.
        state_ = state::broken;
        try {
            add(key, value, common);
            // The shared prefix is in place already.
            last_.resize(common);
            last_.append(key.data() + common, key.size() - common);
        } catch (const std::exception& e) {
            note_broken(e);
            throw;
        }
        state_ = state::building;
        ++count_;
        MEMKV_ASSERT(pushed_ + sample_.size() == count_);
    }


    /// The number of keys inserted so far.
    std::size_t size() const noexcept { return static_cast<std::size_t>(count_); }

    /// Output statistics so far (node kinds and bytes, registry hits), for tuning and benchmarks.
    ///
    /// The counters are the encoder's own (detail/frozen/node.hpp) and may
    /// change with the format; all zero until the label sample is complete.
    detail::frozen_build_stats stats() const {
        return compiler_ ? compiler_->stats() : detail::frozen_build_stats{};
    }

    /// Bytes held by the builder now (registry, path, sample, sinks).
    std::size_t memory_usage() const noexcept {
        std::size_t m = sizeof(*this);
        if (out_) m += out_->memory_usage();
        if (values_) m += values_->memory_usage();
        if (compiler_) m += compiler_->memory_usage();
        if (trie_) m += trie_->memory_usage();
        for (const auto& t : trie_files_)
            if (t) m += t->memory_usage();
        for (const auto& s : sample_) m += s.first.capacity() + sizeof(s);
        return m;
    }

    /// Completes the build and returns the layer.
    ///
    /// An in-memory builder returns a layer that owns the image; a streaming
    /// builder completes its file and returns it memory-mapped, as
    /// finish(path) with the constructor's path.
    /// @throws std::logic_error if the builder is finished or spent.
    /// @throws io_error (streaming builder) as finish(path).
    FrozenLayer<V> finish() {
        if (!stream_path_.empty()) return finish(stream_path_);
        check_finishable();
        complete_once();
        auto& sink = static_cast<detail::memory_sink&>(*out_);
        FrozenLayer<V> f{typename FrozenLayer<V>::no_init{}};
        f.owned_ = sink.take();
        try {
            // Allocates (a version 3 layer's link code tables): on failure
            // the image goes back to the sink and finish() can be retried.
            f.attach(f.owned_.data(), f.owned_.size(), opt_.user_tag);
        } catch (...) {
            sink.restore(std::move(f.owned_));
            throw;
        }
        out_.reset();
        state_ = state::finished;
        return f;
    }

    /// Completes the build into the file `path` and returns it memory-mapped.
    ///
    /// The file is mapped before it is renamed into place (the mapping
    /// follows the file), so the rename is the last step: a failed
    /// finish(path) leaves the file that was at `path` as it was. Which
    /// failures can be retried is in the class's Finishing paragraph.
    /// @throws io_error "FrozenLayerBuilder: finish '<path>': <what failed>".
    /// @throws std::logic_error if the builder is finished or spent.
    FrozenLayer<V> finish(const std::string& path) {
        check_finishable();
        try {
            FrozenLayer<V> f;
            if (stream_path_.empty()) {
                const std::string tmp = path + ".tmp";
                // Created first: a path that cannot be written fails here,
                // with the builder untouched.
                detail::file_writer w(tmp);
                try {
                    complete_once();
                    const std::span<const unsigned char> image = out_->contents();
                    w.write(image.data(), image.size());
                    w.close();
                    f = FrozenLayer<V>::open(tmp, opt_.user_tag);
                    detail::rename_file(tmp, path);
                } catch (...) {
                    w = detail::file_writer();
                    detail::remove_file_noexcept(tmp);
                    throw;
                }
                out_.reset();
            } else {
                complete_once();
                f = FrozenLayer<V>::open(tmp_path_, opt_.user_tag);
                detail::rename_file(tmp_path_, path);
            }
            state_ = state::finished;
            return f;
        } catch (const io_error& e) {
            throw io_error("FrozenLayerBuilder: finish '" + path + "': " + e.what());
        }
    }

private:
    // building -> completed (image done, not yet handed out) -> finished;
    // broken when an insert or the completion failed halfway.
    enum class state { building, completed, finished, broken };

    // Records why the builder is spent; saying why must not throw again.
    void note_broken(const std::exception& e) noexcept {
        try {
            broken_why_ = e.what();
        } catch (...) {
            broken_why_.clear();
        }
    }
    void check_live() const {
        if (state_ == state::broken) check_finishable();
        if (state_ != state::building) throw std::logic_error("FrozenLayerBuilder: insert() after finish()");
    }
    void check_finishable() const {
        if (state_ == state::finished) throw std::logic_error("FrozenLayerBuilder: used after finish()");
        if (state_ == state::broken) {
            throw std::logic_error(
                "FrozenLayerBuilder: spent by an earlier failure in insert() or finish() (the build is lost; start a "
                "new builder): " +
                (broken_why_.empty() ? std::string("out of memory") : broken_why_));
        }
    }

    // The key's nodes (or its place in the label sample) and its value.
    void add(std::string_view key, const V& value, std::size_t common) {
        if (opt_.format_version >= 3) {
            if (!trie_) start_trie();
            trie_->push(key);
            push_value(value);
            return;
        }
        if (!compiler_) {
            sample_.emplace_back(std::string(key), value);
            sample_bytes_ += key.size() + sizeof(V) + 32;
            sample_tail_bytes_ += key.size() - common;
            for (std::size_t i = common; i < key.size(); ++i) {
                ++freq_[static_cast<unsigned char>(key[i])];
                if (i + 1 < key.size()) {
                    if (pair_freq_.empty()) pair_freq_.assign(std::size_t{1} << 16, 0);
                    ++pair_freq_[std::size_t{static_cast<unsigned char>(key[i])} << 8 |
                                 static_cast<unsigned char>(key[i + 1])];
                }
            }
            if (sample_.size() >= opt_.table_sample_keys || sample_bytes_ >= (std::size_t{16} << 20)) start_compiler();
        } else {
            compiler_->add(key, common);
            push_value(value);
        }
    }

    static std::string quote(std::string_view s) {
        static constexpr char hex[] = "0123456789abcdef";
        std::string q = "\"";
        const std::size_t shown = std::min<std::size_t>(s.size(), 80);
        for (std::size_t i = 0; i < shown; ++i) {
            const auto c = static_cast<unsigned char>(s[i]);
            if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
                q.push_back(static_cast<char>(c));
            } else {
                q += "\\x";
                q.push_back(hex[c >> 4]);
                q.push_back(hex[c & 15]);
            }
        }
        q.push_back('"');
        if (shown < s.size()) q += "... (" + std::to_string(s.size()) + " bytes)";
        return q;
    }

    // The header's place, written when the rest is known; the payload checksum
    // covers everything after it.
    static frozen_layer_options checked(const frozen_layer_options& opt) {
        if (opt.format_version < detail::frozen_min_version || opt.format_version > detail::frozen_max_version) {
            throw std::invalid_argument("memkv::FrozenLayerBuilder: format_version " +
                                        std::to_string(opt.format_version) + " is not one of " +
                                        std::to_string(detail::frozen_min_version) + " to " +
                                        std::to_string(detail::frozen_max_version));
        }
        return opt;
    }

    void start_image() {
        unsigned char zero[detail::frozen_header_size] = {};
        out_->write(zero, sizeof zero);
        out_->begin_checksum();
    }

    // Chooses the one-byte-node labels from the sample and replays it.
    void start_compiler() {
        std::array<unsigned char, 256> order{};
        for (std::size_t i = 0; i < 256; ++i) order[i] = static_cast<unsigned char>(i);
        std::stable_sort(order.begin(), order.end(),
                         [&](unsigned char a, unsigned char b) { return freq_[a] > freq_[b]; });
        std::array<unsigned char, detail::frozen_table_size> table{};
        std::copy_n(order.begin(), detail::frozen_singles, table.begin());
        // The most frequent adjacent byte pairs become one-byte pair nodes.
        std::vector<std::uint32_t> pairs;
        for (std::uint32_t i = 0; i < pair_freq_.size(); ++i)
            if (pair_freq_[i] != 0) pairs.push_back(i);
        const std::size_t top = std::min(pairs.size(), detail::frozen_pairs);
        std::partial_sort(pairs.begin(), pairs.begin() + static_cast<std::ptrdiff_t>(top), pairs.end(),
                          [&](std::uint32_t a, std::uint32_t b) {
                              return pair_freq_[a] != pair_freq_[b] ? pair_freq_[a] > pair_freq_[b] : a < b;
                          });
        using pm = frozen_layer_options::pairs_mode;
        use_pairs_ = opt_.pair_nodes == pm::always ||
                               (opt_.pair_nodes == pm::automatic && !sample_.empty() &&
                                sample_tail_bytes_ >= 8 * sample_.size());
        if (!use_pairs_) pairs.clear();
        pairs.resize(detail::frozen_pairs, pairs.empty() ? 0U : pairs[0]);  // repeats are ignored
        for (std::size_t i = 0; i < detail::frozen_pairs; ++i) {
            table[detail::frozen_singles + 2 * i] = static_cast<unsigned char>(pairs[i] >> 8);
            table[detail::frozen_singles + 2 * i + 1] = static_cast<unsigned char>(pairs[i] & 0xFF);
        }
        std::vector<std::uint32_t>().swap(pair_freq_);
        compiler_.emplace(detail::frozen_output(*out_, detail::frozen_header_size), opt_.registry_rows,
                          opt_.registry_ways);
        compiler_->set_table(table, use_pairs_);
        compiler_->set_max_registered_chain(opt_.max_registered_chain);
        compiler_->set_runs(opt_.format_version >= 2);
        std::string_view prev;
        for (std::size_t i = 0; i < sample_.size(); ++i) {
            const std::string_view k = sample_[i].first;
            compiler_->add(k, detail::common_prefix_length(k, prev));
            push_value(sample_[i].second);
            prev = k;
        }
        // Keep last_ valid: it is a copy, not a view into the sample.
        std::vector<std::pair<std::string, V>>().swap(sample_);
    }

    // Format version 3: the trie's builder, streaming its parts to files
    // for a streaming builder.
    void start_trie() {
        detail::trie::builder_options to;
        to.expected_keys = opt_.expected_keys;
        if (!trie_files_[0]) {
            trie_.emplace(to);
            return;
        }
        trie_.emplace(to,
                      detail::trie::trie_sinks{trie_files_[0].get(), trie_files_[1].get(), trie_files_[2].get(),
                                               trie_files_[3].get(), trie_files_[4].get()});
    }
    void drop_trie_files() noexcept {
        for (std::size_t i = 0; i < trie_parts_streamed; ++i) {
            trie_files_[i].reset();
            if (!trie_tmp_paths_[i].empty()) detail::remove_file_noexcept(trie_tmp_paths_[i]);
        }
    }

    // Values are spooled as sizeof(V) bytes each: packable ones as
    // little-endian integers, others as their object representation.
    // While every value so far equals its key's rank (the ordinal column,
    // which stores nothing) nothing is spooled: a billion ordinal values
    // would otherwise be 8 GB written and thrown away. The first other value
    // spools the ranks before it.
    void push_value(const V& v) {
        const std::uint64_t index = pushed_;
        unsigned char b[sizeof(V)];
        if constexpr (detail::frozen_packable<V>) {
            const auto u = static_cast<std::uint64_t>(v);
            if (u != index && identity_) {
                // spooled_ counts what reached the spool, so a write that
                // throws halfway is resumed, not repeated.
                for (; spooled_ < index; ++spooled_) {
                    detail::store_le(b, spooled_, sizeof(V));
                    values_->write(b, sizeof(V));
                }
                identity_ = false;
            }
            min_ = std::min(min_, u);
            max_ = std::max(max_, u);
            if (!identity_) {
                detail::store_le(b, u, sizeof(V));
                values_->write(b, sizeof(V));
            }
        } else {
            std::memcpy(b, &v, sizeof(V));
            values_->write(b, sizeof(V));
        }
        ++pushed_;
    }

    void complete_once() {
        if (state_ == state::completed) return;
        MEMKV_ASSERT(state_ == state::building);
        state_ = state::broken;  // until it has succeeded
        try {
            complete();
        } catch (const std::exception& e) {
            note_broken(e);
            throw;
        }
        state_ = state::completed;
    }

    // Finishes the automaton, appends the value column and writes the header.
    void complete() {
        const bool trie = opt_.format_version >= 3;
        if (trie && !trie_) start_trie();
        if (!trie && !compiler_) start_compiler();
        MEMKV_ASSERT(pushed_ == count_);
        detail::frozen_header f;
        f.type_tag = detail::frozen_type_tag<V>();
        f.user_tag = opt_.user_tag;
        f.version = opt_.format_version;
        f.value_size = sizeof(V);
        f.num_keys = count_;
        if (trie) {
            const detail::trie::trie_image image = trie_->finish();
            trie_.reset();
            detail::trie::trie_parts parts = image.parts();
            if (trie_files_[0]) {  // streamed: the parts are in their files
                std::span<const unsigned char>* streamed[trie_parts_streamed] = {
                    &parts.blocks, &parts.jumps, &parts.link_lows, &parts.link_highs, &parts.links};
                for (std::size_t i = 0; i < trie_parts_streamed; ++i) *streamed[i] = trie_files_[i]->contents();
            }
            detail::trie::write_payload(parts, [this](const unsigned char* p, std::size_t n) { out_->write(p, n); });
            f.automaton_size = detail::trie::payload_size(parts);
            drop_trie_files();
        } else {
            f.table = compiler_->table();
            if (count_ > 0) f.root = compiler_->finish();
            f.automaton_size = compiler_->bytes_written();
        }
        MEMKV_ASSERT(out_->size() == detail::frozen_header_size + f.automaton_size);

        if constexpr (detail::frozen_packable<V>) {
            if (identity_) {
                f.value_kind = detail::frozen_value_kind::ordinal;
            } else {
                f.value_kind = detail::frozen_value_kind::packed;
                f.value_base = min_;
                f.value_bits = static_cast<std::uint8_t>(std::bit_width(max_ - min_));
            }
        } else {
            f.value_kind = detail::frozen_value_kind::raw;
        }

        const std::uint64_t values_at = out_->size();
        write_values(f, values_->contents());
        f.values_size = out_->size() - values_at;
        f.payload_crc = out_->checksum();
        unsigned char h[detail::frozen_header_size];
        detail::encode_frozen_header(f, h);
        out_->patch(0, h, sizeof h);
        out_->finish();
        compiler_.reset();  // the registry's memory
        values_.reset();
        if (!stream_path_.empty()) detail::remove_file_noexcept(values_tmp_path_);
    }

    // Writes the value column from the spooled values.
    void write_values(const detail::frozen_header& f, std::span<const unsigned char> raw) {
        if constexpr (detail::frozen_packable<V>) {
            if (f.value_kind == detail::frozen_value_kind::ordinal) return;
            MEMKV_ASSERT(raw.size() == count_ * sizeof(V));
            auto sink = [this](const unsigned char* p, std::size_t n) { out_->write(p, n); };
            detail::packed_writer<decltype(sink)> w(f.value_bits, sink);
            for (std::uint64_t i = 0; i < count_; ++i) w.push(detail::load_le(raw.data() + i * sizeof(V), sizeof(V)) - f.value_base);
            w.finish();
        } else {
            MEMKV_ASSERT(raw.size() == count_ * sizeof(V));
            out_->write(raw.data(), raw.size());
        }
    }

    frozen_layer_options opt_;
    std::string stream_path_;                // empty: in memory
    // Its temporaries, named once: the destructor and the error paths that
    // remove them must not allocate.
    std::string tmp_path_;
    std::string values_tmp_path_;
    std::unique_ptr<detail::byte_sink> out_;     // the image
    std::unique_ptr<detail::byte_sink> values_;  // the values, until the column is written
    std::optional<detail::frozen_compiler> compiler_;
    std::optional<detail::trie::trie_builder> trie_;  // format version 3
    static constexpr std::size_t trie_parts_streamed = 5;
    std::string trie_tmp_paths_[trie_parts_streamed];  // a streaming version 3 builder's part files
    std::unique_ptr<detail::file_sink> trie_files_[trie_parts_streamed];
    std::vector<std::pair<std::string, V>> sample_;
    std::size_t sample_bytes_ = 0;
    std::array<std::uint64_t, 256> freq_{};
    std::vector<std::uint32_t> pair_freq_;  // during the sample only
    std::size_t sample_tail_bytes_ = 0;
    bool use_pairs_ = false;
    std::string last_;
    std::uint64_t count_ = 0;
    std::uint64_t pushed_ = 0;
    std::uint64_t spooled_ = 0;  // ranks spooled when the values stopped being ordinal
    std::uint64_t min_ = ~std::uint64_t{0};
    std::uint64_t max_ = 0;
    bool identity_ = true;
    state state_ = state::building;
    std::string broken_why_;  // what made completing fail
};

}  // namespace memkv
