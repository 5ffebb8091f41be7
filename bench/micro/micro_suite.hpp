#pragma once

// Google Benchmark cases for one adapter type, registered by
// MEMKV_BENCH_REGISTER when an adapter file is compiled into
// memkv-micro-bench. For developers' inner loops: short, repeatable,
// filterable (--benchmark_filter=std_map/find), no memory accounting (use
// memkv-bench for that).
//
// Cases per structure S, over MEMKV_MICRO_KEYS synthetic keys (default
// 100000), seed 42:
//   S/insert   build the whole structure (or build() from sorted keys); items = keys
//   S/find     one present-key lookup per iteration, shuffled order
//   S/miss     one absent-key lookup per iteration
//   S/iterate  one full for_each per iteration; items = keys visited
//   S/prefix   one prefix scan per iteration (structures with a prefix index)

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>

#include "adapter.hpp"
#include "dataset.hpp"
#include "workload.hpp"

namespace memkv::bench::micro {

struct MicroData {
    Dataset data;
    Workload workload;
};

// Built on first use (inside a benchmark's setup, never in a timed loop).
inline const MicroData& micro_data() {
    static const MicroData* d = [] {
        std::size_t n = 100'000;
        if (const char* env = std::getenv("MEMKV_MICRO_KEYS")) {
            n = static_cast<std::size_t>(std::strtoull(env, nullptr, 10));
            if (n == 0) n = 100'000;
        }
        auto* md = new MicroData{Dataset::synthetic(n, 42), {}};
        WorkloadOptions opt;
        opt.misses = n;
        opt.prefixes = 1000;
        md->workload = make_workload(md->data, opt);
        return md;
    }();
    return *d;
}

inline const Workload& workload() { return micro_data().workload; }

// True (and the case marked skipped) when S cannot hold the data set's keys.
template <Structure S>
bool unsupported(benchmark::State& state) {
    if (needs_nul_terminator_v<S> && micro_data().data.nul_terminator_ambiguous()) {
        state.SkipWithError("a key followed by NUL begins another key: a NUL terminator cannot separate them");
        return true;
    }
    return false;
}


// One built instance per type, shared by the read-only cases.
template <Structure S>
const S& built() {
    static const std::unique_ptr<S> s = load_structure<S>(workload());
    return *s;
}

template <Structure S>
void bench_insert(benchmark::State& state) {
    if (unsupported<S>(state)) return;
    const Workload& w = workload();
    for (auto _ : state) {
        auto s = load_structure<S>(w);
        benchmark::DoNotOptimize(s.get());
        state.PauseTiming();
        s.reset();
        state.ResumeTiming();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(w.size()));
}

template <Structure S>
void bench_find(benchmark::State& state) {
    if (unsupported<S>(state)) return;
    const Workload& w = workload();
    const S& s = built<S>();
    std::size_t i = 0;
    for (auto _ : state) {
        const Entry& e = w.lookup_order[i];
        auto v = s.find(e.key);
        benchmark::DoNotOptimize(v);
        if (++i == w.lookup_order.size()) i = 0;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

template <Structure S>
void bench_miss(benchmark::State& state) {
    if (unsupported<S>(state)) return;
    const Workload& w = workload();
    const S& s = built<S>();
    if (w.misses.empty()) {
        state.SkipWithError("no absent keys");
        return;
    }
    std::size_t i = 0;
    for (auto _ : state) {
        auto v = s.find(w.misses[i]);
        benchmark::DoNotOptimize(v);
        if (++i == w.misses.size()) i = 0;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

template <Structure S>
void bench_iterate(benchmark::State& state) {
    if (unsupported<S>(state)) return;
    const S& s = built<S>();
    std::int64_t visited = 0;
    for (auto _ : state) {
        std::uint64_t sum = 0;
        s.for_each([&](std::string_view k, std::uint64_t v) {
            ++visited;
            sum += v + k.size();
        });
        benchmark::DoNotOptimize(sum);
    }
    state.SetItemsProcessed(visited);
}

template <Structure S>
void bench_prefix(benchmark::State& state) {
    if (unsupported<S>(state)) return;
    const Workload& w = workload();
    const S& s = built<S>();
    if (w.prefixes.empty()) {
        state.SkipWithError("no prefixes");
        return;
    }
    std::size_t i = 0;
    std::int64_t visited = 0;
    for (auto _ : state) {
        std::uint64_t sum = 0;
        s.for_each_prefix(w.prefixes[i].prefix, [&](std::string_view k, std::uint64_t v) {
            ++visited;
            sum += v + k.size();
        });
        benchmark::DoNotOptimize(sum);
        if (++i == w.prefixes.size()) i = 0;
    }
    state.SetItemsProcessed(visited);
}

template <Structure S>
void register_micro() {
    const std::string name(S::name);
    benchmark::RegisterBenchmark((name + "/insert").c_str(), &bench_insert<S>)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark((name + "/find").c_str(), &bench_find<S>);
    benchmark::RegisterBenchmark((name + "/miss").c_str(), &bench_miss<S>);
    benchmark::RegisterBenchmark((name + "/iterate").c_str(), &bench_iterate<S>)->Unit(benchmark::kMillisecond);
    if constexpr (has_prefix_index_v<S>) {
        benchmark::RegisterBenchmark((name + "/prefix").c_str(), &bench_prefix<S>);
    }
}

}  // namespace memkv::bench::micro
