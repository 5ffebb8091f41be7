#pragma once

// memkv::FrozenLayerBuilder<V>: builds a FrozenLayer from keys in strictly
// increasing byte order, in memory or streaming to a file.

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <memkv/detail/frozen/compiler.hpp>
#include <memkv/detail/frozen/format.hpp>
#include <memkv/detail/frozen/options.hpp>
#include <memkv/detail/fwd.hpp>
#include <memkv/detail/io/crc32c.hpp>
#include <memkv/detail/io/file.hpp>
#include <memkv/errors.hpp>
#include <memkv/frozen_layer.hpp>

namespace memkv {

// FrozenLayerBuilder<V> — contract
//
// insert(key, value) takes keys in strictly increasing byte order (unsigned
// lexicographic, a prefix before its extensions). An out-of-order or
// duplicate key throws memkv::build_error naming both the previous and the
// offending key; the builder is left unchanged and stays usable (strong
// guarantee). finish() / finish(path) end the builder: any later call throws
// std::logic_error.
//
// Memory: bounded independently of the number of keys by the registry
// (options.registry_rows x registry_ways cells), the unfinished path (one node
// per byte of the longest key), the label sample (options.table_sample_keys
// keys, at most 16 MiB), plus — for an in-memory builder — the output
// automaton and the values (sizeof(V) per key). A streaming builder
// (constructed with a path) writes both to disk as it goes and holds neither.
//
// Complexity: O(total key bytes) node compilations, each O(fan-out) plus a
// registry probe.
template <class V>
class FrozenLayerBuilder {
    static_assert(std::is_trivially_copyable_v<V>, "FrozenLayer<V> needs a trivially copyable V");

public:
    // In-memory builder: finish() returns an owning layer; finish(path) writes
    // the file and returns it memory-mapped.
    explicit FrozenLayerBuilder(frozen_layer_options opt = {}) : opt_(opt) {}

    // Streaming builder: automaton and values go to path + ".tmp" and
    // path + ".values.tmp" while keys arrive; finish() completes the file at
    // `path` and returns it memory-mapped.
    explicit FrozenLayerBuilder(std::string path, frozen_layer_options opt = {})
        : opt_(opt), stream_path_(std::move(path)) {
        file_ = detail::file_writer(stream_path_ + ".tmp");
        unsigned char zero[detail::frozen_header_size] = {};
        file_.write(zero, sizeof zero);
        values_file_ = detail::file_writer(stream_path_ + ".values.tmp");
    }

    FrozenLayerBuilder(FrozenLayerBuilder&&) = delete;  // the compiler points into *this
    FrozenLayerBuilder& operator=(FrozenLayerBuilder&&) = delete;

    ~FrozenLayerBuilder() {
        if (!stream_path_.empty() && !finished_) {
            file_ = detail::file_writer();
            values_file_ = detail::file_writer();
            detail::remove_file_noexcept(stream_path_ + ".tmp");
            detail::remove_file_noexcept(stream_path_ + ".values.tmp");
        }
    }

    void insert(std::string_view key, const V& value) {
        check_live();
        std::size_t common = 0;
        if (count_ > 0) {
            const std::size_t m = std::min(key.size(), last_.size());
            while (common < m && key[common] == last_[common]) ++common;
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
        last_.assign(key);
        ++count_;
    }

    std::size_t size() const noexcept { return static_cast<std::size_t>(count_); }

    // Output statistics so far (node kinds and bytes, registry hits).
    detail::frozen_build_stats stats() const {
        return compiler_ ? compiler_->stats() : detail::frozen_build_stats{};
    }

    // Current memory held by the builder (registry, path, sample, output).
    std::size_t memory_usage() const noexcept {
        std::size_t m = sizeof(*this) + image_.capacity() + values_.capacity() * sizeof(V);
        if (compiler_) m += compiler_->memory_usage();
        for (const auto& s : sample_) m += s.first.capacity() + sizeof(s);
        return m;
    }

    FrozenLayer<V> finish() {
        check_live();
        if (!stream_path_.empty()) return finish(stream_path_);
        complete();
        finished_ = true;
        FrozenLayer<V> f{typename FrozenLayer<V>::no_init{}};
        image_.shrink_to_fit();  // memory_usage() reports capacity
        f.owned_ = std::move(image_);
        f.attach(f.owned_.data(), f.owned_.size(), opt_.user_tag);
        return f;
    }

    FrozenLayer<V> finish(const std::string& path) {
        check_live();
        complete();
        finished_ = true;
        if (stream_path_.empty()) {
            const std::string tmp = path + ".tmp";
            try {
                detail::file_writer w(tmp);
                w.write(image_.data(), image_.size());
                w.close();
                detail::rename_file(tmp, path);
            } catch (...) {
                detail::remove_file_noexcept(tmp);
                throw;
            }
            std::vector<unsigned char>().swap(image_);
        } else {
            detail::rename_file(stream_path_ + ".tmp", path);
        }
        return FrozenLayer<V>::open(path, opt_.user_tag);
    }

private:
    void check_live() const {
        if (finished_) throw std::logic_error("FrozenLayerBuilder: used after finish()");
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
        if (stream_path_.empty()) {
            image_.assign(detail::frozen_header_size, 0);
            compiler_.emplace(detail::frozen_output(&image_), opt_.registry_rows, opt_.registry_ways);
        } else {
            compiler_.emplace(detail::frozen_output(&file_), opt_.registry_rows, opt_.registry_ways);
        }
        compiler_->set_table(table, use_pairs_);
        compiler_->set_max_registered_chain(opt_.max_registered_chain);
        std::string_view prev;
        for (std::size_t i = 0; i < sample_.size(); ++i) {
            const std::string_view k = sample_[i].first;
            std::size_t common = 0;
            if (i > 0) {
                const std::size_t m = std::min(k.size(), prev.size());
                while (common < m && k[common] == prev[common]) ++common;
            }
            compiler_->add(k, common);
            push_value(sample_[i].second);
            prev = k;
        }
        // Keep last_ valid: it is a copy, not a view into the sample.
        std::vector<std::pair<std::string, V>>().swap(sample_);
    }

    void push_value(const V& v) {
        const std::uint64_t index = pushed_++;
        if constexpr (detail::frozen_packable<V>) {
            const auto u = static_cast<std::uint64_t>(v);
            if (u != index) identity_ = false;
            min_ = std::min(min_, u);
            max_ = std::max(max_, u);
            if (stream_path_.empty()) {
                values_.push_back(v);
            } else {
                unsigned char b[8];
                detail::store_le(b, u, 8);
                values_file_.write(b, 8);
            }
        } else {
            if (stream_path_.empty()) {
                values_.push_back(v);
            } else {
                unsigned char b[sizeof(V)];
                std::memcpy(b, &v, sizeof(V));
                values_file_.write(b, sizeof(V));
            }
        }
    }

    // Finishes the automaton and appends the value column and the header.
    void complete() {
        if (!compiler_) start_compiler();
        detail::frozen_header f;
        f.type_tag = detail::frozen_type_tag<V>();
        f.user_tag = opt_.user_tag;
        f.value_size = sizeof(V);
        f.num_keys = count_;
        f.table = compiler_->table();
        if (count_ > 0) f.root = compiler_->finish();
        f.automaton_size = compiler_->bytes_written();

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

        if (stream_path_.empty()) {
            const std::size_t values_at = image_.size();
            auto sink = [&](const unsigned char* p, std::size_t n) { image_.insert(image_.end(), p, p + n); };
            write_values(f, sink, nullptr);
            f.values_size = image_.size() - values_at;
            f.payload_crc = detail::crc32c(image_.data() + detail::frozen_header_size,
                                           image_.size() - detail::frozen_header_size);
            detail::encode_frozen_header(f, image_.data());
            std::vector<V>().swap(values_);
        } else {
            std::uint32_t crc = compiler_->output().file_crc();
            std::uint64_t written = 0;
            auto sink = [&](const unsigned char* p, std::size_t n) {
                crc = detail::crc32c_update(crc, p, n);
                file_.write(p, n);
                written += n;
            };
            values_file_.close();
            {
                detail::mapped_file raw(stream_path_ + ".values.tmp");
                write_values(f, sink, raw.data());
            }
            detail::remove_file_noexcept(stream_path_ + ".values.tmp");
            f.values_size = written;
            f.payload_crc = crc;
            unsigned char h[detail::frozen_header_size];
            detail::encode_frozen_header(f, h);
            file_.pwrite_at(0, h, sizeof h);
            file_.close();
        }
    }

    // Writes the value column; `raw` is the streamed values (or null: values_).
    template <class Sink>
    void write_values(const detail::frozen_header& f, Sink& sink, const unsigned char* raw) {
        if constexpr (detail::frozen_packable<V>) {
            if (f.value_kind == detail::frozen_value_kind::ordinal) return;
            detail::packed_writer<Sink> w(f.value_bits, sink);
            for (std::uint64_t i = 0; i < count_; ++i) {
                const std::uint64_t u =
                    raw ? detail::load_le64(raw + i * 8) : static_cast<std::uint64_t>(values_[i]);
                w.push(u - f.value_base);
            }
            w.finish();
        } else {
            if (raw) {
                for (std::uint64_t done = 0, total = count_ * sizeof(V); done < total;) {
                    const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(total - done, 1U << 20));
                    sink(raw + done, chunk);
                    done += chunk;
                }
            } else {
                for (const V& v : values_) {
                    unsigned char b[sizeof(V)];
                    std::memcpy(b, &v, sizeof(V));
                    sink(b, sizeof(V));
                }
            }
        }
    }

    frozen_layer_options opt_;
    std::string stream_path_;
    detail::file_writer file_;
    detail::file_writer values_file_;
    std::vector<unsigned char> image_;
    std::vector<V> values_;
    std::optional<detail::frozen_compiler> compiler_;
    std::vector<std::pair<std::string, V>> sample_;
    std::size_t sample_bytes_ = 0;
    std::array<std::uint64_t, 256> freq_{};
    std::vector<std::uint32_t> pair_freq_;  // during the sample only
    std::size_t sample_tail_bytes_ = 0;
    bool use_pairs_ = false;
    std::string last_;
    std::uint64_t count_ = 0;
    std::uint64_t pushed_ = 0;
    std::uint64_t min_ = ~std::uint64_t{0};
    std::uint64_t max_ = 0;
    bool identity_ = true;
    bool finished_ = false;
};

}  // namespace memkv
