#pragma once

// HybridKV's scan bounds and the bidirectional k-way merge over a layer stack
// (memkv::detail), plus the consistency check built on it (layers_verify).

#include <memkv/detail/assert.hpp>
#include <memkv/detail/hybrid/layers.hpp>
#include <memkv/errors.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace memkv::detail {

// The keys a scan covers: [lo, hi), or [lo, +inf) when !has_hi. prefix(p),
// range(lo, hi) and from(k) all reduce to this form, so both ends of every
// scan are plain key comparisons (no starts_with per key).
struct scan_bounds {
    std::string lo;
    std::string hi;
    bool has_hi = false;
};

// Keys starting with p: [p, p') where p' is p without its trailing 0xFF
// bytes, last byte incremented; unbounded above if p is empty or all 0xFF.
inline scan_bounds prefix_bounds(std::string_view p) {
    scan_bounds b{std::string(p), std::string(p), true};
    while (!b.hi.empty() && static_cast<unsigned char>(b.hi.back()) == 0xFF) b.hi.pop_back();
    if (b.hi.empty()) {
        b.has_hi = false;
    } else {
        b.hi.back() = static_cast<char>(static_cast<unsigned char>(b.hi.back()) + 1);
    }
    return b;
}
// [lo, hi); empty when hi <= lo (normalized to [lo, lo), so every source's
// lower_bound(hi) equals its lower_bound(lo)).
inline scan_bounds range_bounds(std::string_view lo, std::string_view hi) {
    return {std::string(lo), std::string(hi <= lo ? lo : hi), true};
}
inline scan_bounds from_bounds(std::string_view lo) { return {std::string(lo), std::string(), false}; }

// Where a scan of a layer stack starts: its bounds, and each layer's first
// key >= lo (its lower_bound(lo)). Computed once; every cursor made from it
// (each begin() and --end() of a view, and every copy of their iterators)
// shares it instead of seeking again or copying those iterators. Immutable
// after construction; the layers must outlive it.
//
// Sources, newest first: the given sealed deltas, then for each given run its
// live layer and its tombstone layer (disjoint key sets, so their relative
// order does not matter).
template <class V>
class hybrid_scan_origin {
public:
    using delta_ptr = std::shared_ptr<const hybrid_delta<V>>;
    using run_ptr = std::shared_ptr<const hybrid_run<V>>;
    using delta_iter = decltype(std::declval<const hybrid_delta<V>&>().lower_bound(std::string_view{}));
    using base_iter = decltype(std::declval<const FrozenLayer<V>&>().lower_bound(std::string_view{}));

    // A whole stack (include_runs == false: its deltas only).
    hybrid_scan_origin(const hybrid_layers<V>* layers, scan_bounds bounds, bool include_runs)
        : bounds_(std::move(bounds)) {
        if (layers == nullptr) return;
        add(layers->sealed, include_runs ? std::span<const run_ptr>(layers->runs) : std::span<const run_ptr>());
    }
    // Some of a stack's layers (a compaction's inputs).
    hybrid_scan_origin(std::span<const delta_ptr> deltas, std::span<const run_ptr> runs, scan_bounds bounds)
        : bounds_(std::move(bounds)) {
        add(deltas, runs);
    }
    hybrid_scan_origin(const hybrid_scan_origin&) = delete;  // cursors point into it
    hybrid_scan_origin& operator=(const hybrid_scan_origin&) = delete;

    const scan_bounds& bounds() const noexcept { return bounds_; }

private:
    template <class>
    friend class hybrid_merge_cursor;

    struct frozen_start {
        const FrozenLayer<V>* layer;
        base_iter first;
        bool tomb;
    };

    void add(std::span<const delta_ptr> deltas, std::span<const run_ptr> runs) {
        const std::string_view lo(bounds_.lo);
        deltas_.reserve(deltas.size());
        for (const auto& d : deltas) deltas_.emplace_back(d.get(), d->lower_bound(lo));
        frozen_.reserve(2 * runs.size());
        for (const auto& r : runs) {
            if (r->live) frozen_.push_back({r->live.get(), r->live->lower_bound(lo), false});
            if (r->tombstones) frozen_.push_back({r->tombstones.get(), r->tombstones->lower_bound(lo), true});
        }
    }

    scan_bounds bounds_;
    std::vector<std::pair<const hybrid_delta<V>*, delta_iter>> deltas_;  // newest first
    std::vector<frozen_start> frozen_;                                   // newest first
};

// K-way merge over the sources of a hybrid_scan_origin (sealed deltas newest
// first, then the runs' layers), restricted to a scan_bounds, that steps both
// ways. Each key appears once, in byte order, with the state of the newest
// layer that mentions it (tombstones included: the caller skips them). A
// key's slot carries the `below` bit of its oldest delta entry (the one
// relative to the layers under all of the merged deltas); an entry from a
// run has below == false.
//
// Every source keeps an iterator `it`, the iterator `first` of its first key
// >= lo, and a state:
//
//   at     it is on a key in [lo, hi), cached in `key`
//   above  no key of the source in bounds at or after the cursor position;
//          it = the source's first key >= hi, or its end()
//   below  no key of the source in bounds at or before the position; it = first
//
// Invariants (cur = the current key):
//   forward   every source is at its first key >= cur (or above)
//   reverse   every source is at its last key <= cur (or below)
// A step advances (retreats) the sources on cur and takes the minimum
// (maximum) of the rest. On a change of direction the sources not on cur are
// first moved one key across cur (LevelDB's MergingIterator::Prev does the
// same with a re-seek); a source never steps before `first`, so no layer
// iterator is ever decremented past its begin.
//
// Sources are few (the compactor keeps the sealed-delta count small), so the
// minimum is a linear pass, not a heap. Cost per step: O(#sources) key
// comparisons plus one step of each source on the key; a direction change
// adds one step per source. The cursor owns nothing: the layers and the
// origin must outlive it. A copy costs one iterator and one key per source.
template <class V>
class hybrid_merge_cursor {
    using delta_iter = typename hybrid_scan_origin<V>::delta_iter;
    using base_iter = typename hybrid_scan_origin<V>::base_iter;

    enum class where : std::uint8_t { at, above, below };

    template <class Layer, class It>
    struct source {
        const Layer* layer = nullptr;
        It it;
        const It* first = nullptr;  // in the origin
        It end;
        std::string key;  // valid when state == at, unless on_cur (then cur_ holds it)
        where state = where::above;
        bool on_cur = false;  // at, on the current key (set by pick)
        bool tomb = false;    // a run's tombstone layer
    };
    using delta_source = source<hybrid_delta<V>, delta_iter>;
    using base_source = source<FrozenLayer<V>, base_iter>;

public:
    hybrid_merge_cursor() = default;

    // Positions nothing yet: call seek_first() or seek_last().
    explicit hybrid_merge_cursor(const hybrid_scan_origin<V>& origin) : bounds_(&origin.bounds_) {
        deltas_.reserve(origin.deltas_.size());
        for (const auto& [d, first] : origin.deltas_) deltas_.push_back({d, first, &first, d->end(), {}, where::above});
        frozen_.reserve(origin.frozen_.size());
        for (const auto& f : origin.frozen_) {
            frozen_.push_back({f.layer, f.first, &f.first, f.layer->end(), {}, where::above, false, f.tomb});
        }
    }

    // The first key in bounds (tombstones included); false if there is none.
    bool seek_first() {
        for_each_source([this](auto& s) {
            s.it = *s.first;
            this->load_forward(s);
        });
        forward_ = true;
        valid_ = false;
        return pick();
    }

    // The last key in bounds; false if there is none.
    bool seek_last() {
        for_each_source([this](auto& s) {
            s.it = bounds_->has_hi ? s.layer->lower_bound(std::string_view(bounds_->hi)) : s.end;
            this->step_back(s);
        });
        forward_ = false;
        valid_ = false;
        return pick();
    }

    // The next key in bounds; false (and invalid) when there is none.
    bool next() {
        MEMKV_ASSERT(valid_);
        if (!forward_) {
            for_each_source([this](auto& s) {
                if (s.state == where::below) {
                    s.it = *s.first;
                    this->load_forward(s);
                } else if (s.state == where::at && !s.on_cur) {
                    ++s.it;  // its last key < cur: the next one is > cur
                    this->load_forward(s);
                }
            });
            forward_ = true;
        }
        for_each_source([this](auto& s) {
            if (s.on_cur) {
                ++s.it;
                this->load_forward(s);
            }
        });
        return pick();
    }

    // The previous key in bounds; false (and invalid) when there is none.
    bool prev() {
        MEMKV_ASSERT(valid_);
        if (forward_) {
            for_each_source([this](auto& s) {
                // On its first key >= cur, which is > cur (or none in bounds).
                if (s.state == where::above || (s.state == where::at && !s.on_cur)) this->step_back(s);
            });
            forward_ = false;
        }
        for_each_source([this](auto& s) {
            if (s.on_cur) this->step_back(s);
        });
        return pick();
    }

    bool valid() const noexcept { return valid_; }
    const std::string& key() const noexcept { return cur_; }
    const hybrid_slot<V>& slot() const noexcept { return slot_; }

private:
    // The key order is the layers' invariant, but a run's comes from a file,
    // and a corrupt one (opened with verify_on_open = false, or with forged
    // checksums) can list its keys out of order. Release builds pass them on
    // as they come (no step here relies on the order for memory safety, and
    // a compaction's builder refuses them with build_error). Debug builds
    // check it, and say format_error rather than abort: what a corrupt file
    // can violate is never an assertion (DESIGN.md, "Debug checks").
    [[noreturn]] static void out_of_order() {
        throw format_error("memkv::HybridKV: a run lists its keys out of order (corrupt file)");
    }

    template <class F>
    void for_each_source(F&& f) {
        for (auto& s : deltas_) f(s);
        for (auto& s : frozen_) f(s);
    }

    template <class Source>
    static void read_key(Source& s) {
        if constexpr (requires { s.it.key(s.key); }) {
            s.it.key(s.key);  // reuses the buffer
        } else {
            s.key = s.it.key();
        }
    }

    // After `it` moved forward (or was set): at, or above when past the end.
    template <class Source>
    void load_forward(Source& s) {
        if (s.it == s.end) {
            s.state = where::above;
            return;
        }
        read_key(s);
        s.state = (bounds_->has_hi && std::string_view(s.key) >= std::string_view(bounds_->hi)) ? where::above
                                                                                                 : where::at;
    }

    // To the last key before `it`, or below when `it` is the first in bounds.
    template <class Source>
    void step_back(Source& s) {
        if (s.it == *s.first) {
            s.state = where::below;
            return;
        }
        --s.it;
        if (s.it == s.end) [[unlikely]] {
            // Stepped back past the layer's begin() (which a run's iterator
            // answers with end()) without meeting `first`: only a corrupt run
            // whose positions and ordinals disagree does that. Stopping here
            // keeps a reverse walk finite.
#if MEMKV_DEBUG
            out_of_order();
#endif
            s.state = where::below;
            return;
        }
        read_key(s);
#if MEMKV_DEBUG
        if (std::string_view(s.key) < std::string_view(bounds_->lo)) out_of_order();
#endif
        s.state = where::at;
    }

    // The smallest (forward) or largest (reverse) key among the sources, and
    // its state from the newest layer that has it. One three-way comparison
    // per source marks the sources on that key (on_cur), so a step moves them
    // without comparing keys again; the winning key is swapped, not copied,
    // into cur_ (its source reloads its key buffer when it moves, and every
    // source on cur moves before its key is read again).
    bool pick() {
        std::string* best = nullptr;
        for_each_source([&](auto& s) {
            s.on_cur = false;
            if (s.state != where::at) return;
            if (best != nullptr) {
                const int c = std::string_view(s.key).compare(std::string_view(*best));
                if (forward_ ? c > 0 : c < 0) return;
                if (c == 0) {
                    s.on_cur = true;
                    return;
                }
                this->for_each_source([](auto& t) { t.on_cur = false; });  // a new best
            }
            best = &s.key;
            s.on_cur = true;
        });
        if (best == nullptr) {
            valid_ = false;
            return false;
        }
        // Strictly increasing forward, strictly decreasing in reverse.
#if MEMKV_DEBUG
        if (valid_ && !(forward_ ? *best > cur_ : *best < cur_)) out_of_order();
#endif
        cur_.swap(*best);
        valid_ = true;
        bool found = false;
        for (auto& s : deltas_) {
            if (!s.on_cur) continue;
            const hybrid_slot<V>& slot = s.it.value();
            if (!found) {
                slot_ = slot;
                found = true;
            } else {
                slot_.below = slot.below;  // the oldest delta entry decides `below`
            }
        }
        if (!found) {
            for (auto& s : frozen_) {
                if (!s.on_cur) continue;
                slot_ = s.tomb ? hybrid_slot<V>{V{}, false, false} : hybrid_slot<V>{s.it.value(), true, false};
                found = true;
                break;
            }
            MEMKV_ASSERT(found);
        }
        return true;
    }

    const scan_bounds* bounds_ = nullptr;
    std::vector<delta_source> deltas_;
    std::vector<base_source> frozen_;
    std::string cur_;
    hybrid_slot<V> slot_{};
    bool forward_ = true;
    bool valid_ = false;
};

// Checks a layer stack: every delta's structure (FastArt::verify), every
// run's checksums (FrozenLayer::verify, throws format_error), that no delta
// keeps a tombstone with nothing below it, that every sealed delta's filter
// admits its keys, that the oldest run holds no
// tombstones, that runs' levels do not decrease towards the oldest, that the
// merged keys increase strictly, that `gate` (when given) admits each of
// them, and that `size` equals the number of visible keys. Throws
// std::logic_error naming the first violation. O(total entries).
template <class V>
void layers_verify(const hybrid_layers<V>& layers, std::size_t size, const hybrid_filter* gate = nullptr) {
    auto fail = [](const std::string& what) { throw std::logic_error("memkv::HybridKV::verify: " + what); };
    for (const auto& d : layers.sealed) {
        if (!d) fail("null sealed delta");
        if (d->size() == 0) fail("empty sealed delta");
        d->verify();
        // A delta keeps a tombstone only where something below is visible
        // (erase drops the entry otherwise; merges drop such ones).
        for (auto it = d->lower_bound(std::string_view{}), end = d->end(); it != end; ++it) {
            if (!it.value().live && !it.value().below) fail("a tombstone in a delta hides nothing");
        }
        // The writers fill a delta's filter key by key (layers.hpp).
        if (const hybrid_filter* f = d->filter(); f != nullptr && !hybrid_filter_admits_keys(*f, *d)) {
            fail("a sealed delta's filter misses one of its keys");
        }
    }
    for (std::size_t i = 0; i < layers.runs.size(); ++i) {
        const auto& r = layers.runs[i];
        if (!r) fail("null run");
        if (r->keys() == 0) fail("empty run");
        if (r->live) r->live->verify();
        if (r->tombstones) {
            r->tombstones->verify();
            if (i + 1 == layers.runs.size()) fail("the oldest run holds tombstones");
        }
        if (i > 0 && layers.runs[i - 1]->level > r->level) fail("run levels decrease towards the oldest");
        // A filter that misses a key of its run hides that key from lookups.
        // One read from a checkpoint is a file that lies (CRCs forged).
        if (r->filter) {
            for (const auto* layer : {r->live.get(), r->tombstones.get()}) {
                if (layer != nullptr && !hybrid_filter_admits_keys(*r->filter, *layer)) {
                    throw format_error("memkv::HybridKV::verify: the filter of run " + std::to_string(i) +
                                       " misses one of its keys (corrupt filter file)");
                }
            }
        }
    }
    const hybrid_scan_origin<V> origin(&layers, scan_bounds{}, true);
    hybrid_merge_cursor<V> cursor(origin);
    std::size_t visible = 0;
    std::string last;
    bool first = true;
    for (bool ok = cursor.seek_first(); ok; ok = cursor.next()) {
        if (!first && !(last < cursor.key())) fail("merged keys out of order");
        first = false;
        last = cursor.key();
        if (cursor.slot().live) ++visible;
        // A gate that refuses a key hides it from lookups and makes
        // insert() take it for new.
        if (gate != nullptr && !gate->may_contain(hybrid_key_hash(last))) fail("the gate misses a key of the layers");
    }
    if (visible != size) {
        fail("size() is " + std::to_string(size) + " but the layers hold " + std::to_string(visible) +
             " visible keys");
    }
}

}  // namespace memkv::detail
