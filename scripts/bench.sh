#!/usr/bin/env bash
# The main job: builds memkv-bench (Release) and runs it on the real URL data
# set, printing the comparison table; JSON and a chart land in data/. When the
# real URL set was used (not the synthetic fallback) and the chart was drawn,
# the chart is also copied to docs/bench-urls.png, the image the README
# embeds: commit it together with the README's table from the same run.
# marisa-trie (Debian's libmarisa-dev, installed here) is always compared;
# libart when installed by hand: LIBART_PREFIX=/path/to/prefix (containing
# include/art.h and lib/libart.a or libart.so).
# Usage: scripts/bench.sh [extra memkv-bench arguments, e.g. --runs 3]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ensure_packages cmake ninja-build g++ libbenchmark-dev gnuplot-nox libmarisa-dev
# npm fetches the URL set; a machine may already have its own node/npm (not
# Debian's), so Debian's are installed only when there is none, and a failure
# there only means the synthetic fallback below.
command -v npm >/dev/null 2>&1 || (ensure_packages nodejs npm) || true

build=${MEMKV_BUILD_DIR:-$MEMKV_ROOT/build}/release
args=(-DCMAKE_BUILD_TYPE=Release -DMEMKV_BUILD_TESTS=OFF -DMEMKV_BUILD_EXAMPLES=OFF
      -DMEMKV_BUILD_BENCHMARKS=ON -DMEMKV_BENCH_MARISA=ON)
if [ -n "${LIBART_PREFIX:-}" ]; then
    args+=(-DMEMKV_BENCH_LIBART=ON "-DCMAKE_PREFIX_PATH=$LIBART_PREFIX")
fi
log "building memkv-bench (Release)"
MEMKV_TARGETS=memkv-bench configure_and_build "$build" "${args[@]}"

mkdir -p "$MEMKV_ROOT/data"
real_urls=0
if urls=$("$MEMKV_ROOT/scripts/fetch-urls.sh"); then
    input=(--dataset "$urls")
    real_urls=1
else
    echo "bench: the URL data set could not be fetched (npm unavailable or offline);" \
         "falling back to --synthetic 2000000" >&2
    input=(--synthetic 2000000)
fi
log "running memkv-bench ${input[*]}"
chart="$MEMKV_ROOT/data/results.png"
rm -f "$chart"
"$build/bench/memkv-bench" "${input[@]}" --structures all \
    --json "$MEMKV_ROOT/data/results.json" --chart "$chart" "$@"
if [ "$real_urls" = 1 ] && [ -s "$chart" ]; then
    mkdir -p "$MEMKV_ROOT/docs"
    cp "$chart" "$MEMKV_ROOT/docs/bench-urls.png"
    log "chart copied to docs/bench-urls.png (the README's image)"
fi
