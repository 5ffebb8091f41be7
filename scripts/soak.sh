#!/usr/bin/env bash
# memkv's long model runs, one command:
#
#   scripts/soak.sh [OPS]   runs the randomized model tests against std::map for
#                           at least OPS operations per structure (default
#                           10,000,000): FastArt's model, FrozenLayer's
#                           build/query rounds, HybridKV's single-threaded model
#                           and its multi-threaded stress (writers, readers,
#                           snapshots, compactions), plus the checkpoint kill test
#                           at the same scale as the stress. Each test prints its
#                           seeds and operation counts; the script adds them up
#                           per structure and fails if a test fails or a total
#                           falls short.
#
# The tests' lengths are multiplied by MEMKV_TEST_SCALE, computed here per test
# from OPS; their seeds come from MEMKV_TEST_SEED (default: the current time,
# printed first; set it to repeat a run). The test binaries are those of
# scripts/test.sh's optimized build (build/test, configured the same way, so
# nothing is rebuilt after it); MEMKV_SOAK_DEBUG=1 builds them in build/soak
# with invariant assertions on (-DMEMKV_DEBUG=1) instead.
# MEMKV_SOAK_NICE=1 runs everything under chrt -i 0 nice -n 19.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ops=${1:-10000000}
case $ops in ''|*[!0-9]*) echo "usage: scripts/soak.sh [OPS]" >&2; exit 2 ;; esac
seed=${MEMKV_TEST_SEED:-$(date +%s)}
build_root=${MEMKV_BUILD_DIR:-$MEMKV_ROOT/build}
low=()
[ "${MEMKV_SOAK_NICE:-0}" = 1 ] && low=(chrt -i 0 nice -n 19)

ensure_packages cmake ninja-build g++ catch2

config=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=g++ -DMEMKV_WERROR=ON -DMEMKV_BUILD_TESTS=ON
        -DMEMKV_BUILD_EXAMPLES=ON -DMEMKV_BUILD_BENCHMARKS=ON)
if [ "${MEMKV_SOAK_DEBUG:-0}" = 1 ]; then
    build=$build_root/soak
    config+=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g -DNDEBUG -DMEMKV_DEBUG=1")
else
    build=$build_root/test
fi
if [ -n "${MEMKV_TEST_DATA_DIR:-}" ]; then config+=("-DMEMKV_TEST_DATA_DIR=$MEMKV_TEST_DATA_DIR"); fi
log "building the model tests in $build"
"${low[@]}" cmake -S "$MEMKV_ROOT" -B "$build" -G Ninja "${config[@]}" >/dev/null
"${low[@]}" cmake --build "$build" -j "$MEMKV_JOBS" \
    --target test_fast_art test_frozen test_hybrid test_hybrid_concurrency test_hybrid_v2 >&2

echo "memkv soak: MEMKV_TEST_SEED=$seed, at least $ops operations per structure"
logdir=$build_root/soak-logs
mkdir -p "$logdir"
failed=0

# run NAME BINARY FILTER OPS_PER_SCALE: one test case at the scale that
# reaches $ops (OPS_PER_SCALE: its operations at MEMKV_TEST_SCALE=1).
run() {
    local name=$1 bin=$2 filter=$3 unit=$4
    local scale=$(( (ops + unit - 1) / unit ))
    local out=$logdir/$name.log
    log "$name: $filter, MEMKV_TEST_SCALE=$scale"
    local start=$SECONDS status=0
    MEMKV_TEST_SCALE=$scale MEMKV_TEST_SEED=$seed "${low[@]}" "$build/tests/$bin" "$filter" >"$out" 2>&1 || status=$?
    local total
    total=$(sed -nE 's/^memkv-test: .*, ([0-9]+) operations$/\1/p' "$out" | awk '{s += $1} END {print s + 0}')
    { grep -E '^memkv-test: ' "$out" || true; } | head -n 8 | sed "s/^/    /"
    local verdict=ok
    if [ "$status" -ne 0 ]; then
        verdict="FAILED (exit $status, $out)"
        tail -n 40 "$out" >&2
        failed=1
    elif [ "$total" -lt "$ops" ]; then
        verdict="SHORT of $ops"
        failed=1
    fi
    printf '%-28s %12d operations in %6ds  %s\n' "$name" "$total" $((SECONDS - start)) "$verdict" | tee -a "$logdir/summary"
}

: >"$logdir/summary"
# Operations per unit of MEMKV_TEST_SCALE, at most (the tests print what they
# ran; FrozenLayer's depend a little on the keys drawn: 23,682 at seed 12345).
# Catch2 splits test names at commas: a name with one is given up to it, with *.
run fastart_model      test_fast_art            "FastArt matches std::map under random operations"           400000
run frozen_build_query test_frozen              "FrozenLayer: random key sets against std::map"              23000
run hybrid_model       test_hybrid              "HybridKV: model test against std::map"                      24000
run hybrid_concurrent  test_hybrid_concurrency  "HybridKV: concurrent writers*"                             60000
# The kill test at the stress's scale: 200 kills per 3 units.
scale=$(( (ops + 59999) / 60000 ))
log "hybrid_kill: MEMKV_TEST_SCALE=$scale"
if MEMKV_TEST_SCALE=$scale MEMKV_TEST_SEED=$seed "${low[@]}" "$build/tests/test_hybrid_v2" "[kill]" \
        >"$logdir/hybrid_kill.log" 2>&1; then
    { grep -E '^memkv-test: ' "$logdir/hybrid_kill.log" || true; } | sed 's/^/    /'
else
    tail -n 40 "$logdir/hybrid_kill.log" >&2
    echo "hybrid_kill FAILED ($logdir/hybrid_kill.log)"
    failed=1
fi

log "summary (MEMKV_TEST_SEED=$seed)"
cat "$logdir/summary"
exit "$failed"
