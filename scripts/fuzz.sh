#!/usr/bin/env bash
# memkv's libFuzzer campaigns, one command each:
#
#   scripts/fuzz.sh [SECONDS]   builds the fuzzers (clang, libFuzzer + ASan/UBSan,
#                               invariant assertions on) in build/fuzz, runs each
#                               target for SECONDS (default 60) from its working
#                               corpus (build/fuzz/corpus/<target>, kept between runs,
#                               topped up from the committed one), merges new edges
#                               back into tests/fuzz/corpus/<target>/ (minimized:
#                               merged by edge coverage alone into a fresh directory
#                               that replaces it, so CI replays stay short; files
#                               named regress-* are always kept), and prints per target the
#                               executions, the final cov: and any finding. Exits 1
#                               if a target found something (crash, leak, timeout,
#                               out-of-memory); the inputs are in
#                               build/fuzz/run/<target>/artifacts/.
#   scripts/fuzz.sh --replay    builds them and runs each over its committed corpus
#                               once (what the unit tests' replays do, but through
#                               libFuzzer with clang's sanitizers).
#
# Environment: MEMKV_FUZZ_TARGETS (default "fast_art frozen hybrid checkpoint"),
# MEMKV_FUZZ_JOBS (parallel fuzzing processes per target, default: the cores),
# MEMKV_FUZZ_NICE=1 (run everything under chrt -i 0 nice -n 19, beside other work),
# MEMKV_BUILD_DIR (default build/).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

mode=fuzz
seconds=60
case "${1:-}" in
    --replay) mode=replay ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    "") ;;
    *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS] | --replay" >&2; exit 2 ;;
    *) seconds=$1 ;;
esac

targets=${MEMKV_FUZZ_TARGETS:-fast_art frozen hybrid checkpoint}
jobs=${MEMKV_FUZZ_JOBS:-$MEMKV_JOBS}
build=${MEMKV_BUILD_DIR:-$MEMKV_ROOT/build}/fuzz
corpus_root=$MEMKV_ROOT/tests/fuzz/corpus
low=()
[ "${MEMKV_FUZZ_NICE:-0}" = 1 ] && low=(chrt -i 0 nice -n 19)

ensure_packages cmake ninja-build clang libclang-rt-14-dev catch2

log "building the fuzzers (clang) in $build"
"${low[@]}" cmake -S "$MEMKV_ROOT" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=clang++ -DMEMKV_BUILD_FUZZERS=ON -DMEMKV_BUILD_TESTS=ON \
    -DMEMKV_BUILD_BENCHMARKS=OFF -DMEMKV_BUILD_EXAMPLES=OFF -DMEMKV_WERROR=ON >/dev/null
fuzzers=()
for t in $targets; do fuzzers+=("fuzz_$t"); done
"${low[@]}" cmake --build "$build" -j "$MEMKV_JOBS" --target "${fuzzers[@]}" >&2

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
failed=0

if [ "$mode" = replay ]; then
    for t in $targets; do
        n=$(find "$corpus_root/$t" -type f | wc -l)
        if "${low[@]}" "$build/tests/fuzz_$t" -runs=0 "$corpus_root/$t" >"$build/replay_$t.log" 2>&1; then
            printf '%-12s replayed %d corpus files: ok\n' "$t" "$n"
        else
            printf '%-12s replayed %d corpus files: FAILED (%s)\n' "$t" "$n" "$build/replay_$t.log"
            tail -n 30 "$build/replay_$t.log" >&2
            failed=1
        fi
    done
    exit "$failed"
fi

# Per target: which max_len suits its inputs (a checkpoint carries its run files).
max_len() {
    case $1 in
        checkpoint) echo 16384 ;;
        *) echo 4096 ;;
    esac
}

summary=()
for t in $targets; do
    run=$build/run/$t
    work=$build/corpus/$t
    rm -rf "$run"
    mkdir -p "$run/artifacts" "$run/merged" "$work"
    cp -n "$corpus_root/$t"/* "$work/" 2>/dev/null || true
    before=$(find "$corpus_root/$t" -type f | wc -l)
    log "fuzz_$t: ${seconds}s, $jobs process(es)"
    args=(-max_total_time="$seconds" -timeout=25 -rss_limit_mb=4096 -max_len="$(max_len "$t")"
          -artifact_prefix="$run/artifacts/" -print_final_stats=1)
    [ "$jobs" -gt 1 ] && args+=(-fork="$jobs")
    status=0
    "${low[@]}" "$build/tests/fuzz_$t" "${args[@]}" "$work" >"$run/fuzz.log" 2>&1 || status=$?

    # The last status line: "#<execs>[:] ... cov: <n> ..." (plain and fork mode).
    last=$(grep -E '^#[0-9]+:? .*cov: [0-9]+' "$run/fuzz.log" | tail -n 1 || true)
    execs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$last")
    cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")
    stat_execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$run/fuzz.log" | tail -n 1)
    [ -n "$stat_execs" ] && execs=$stat_execs

    # Minimize the committed corpus plus the working one into a fresh
    # directory, then replace the committed one with it. -use_counters=0:
    # edges only, not hit counts (which keep every input that loops a
    # different number of times: hundreds of files a minute).
    merged=0
    "${low[@]}" "$build/tests/fuzz_$t" -merge=1 -use_counters=0 -timeout=25 -rss_limit_mb=4096 \
        -max_len="$(max_len "$t")" "$run/merged" "$corpus_root/$t" "$work" >"$run/merge.log" 2>&1 && merged=1
    if [ "$merged" = 1 ] && [ "$(find "$run/merged" -type f | wc -l)" -gt 0 ]; then
        find "$corpus_root/$t" -maxdepth 1 -type f -name 'regress-*' -exec cp {} "$run/merged/" \;
        rm -rf "${corpus_root:?}/$t"
        cp -r "$run/merged" "$corpus_root/$t"
    fi
    after=$(find "$corpus_root/$t" -type f | wc -l)

    findings=$(find "$run/artifacts" -type f | sort)
    if [ -n "$findings" ] || [ "$status" -ne 0 ]; then
        failed=1
        result="FINDING (exit $status): ${findings:-see $run/fuzz.log}"
        tail -n 40 "$run/fuzz.log" >&2
    else
        result="no findings"
    fi
    [ "$merged" = 1 ] || { failed=1; result="$result; merge FAILED, corpus unchanged ($run/merge.log)"; }
    summary+=("$(printf '%-12s %12s executions  cov: %-6s corpus %d -> %d files  %s' \
        "$t" "${execs:-?}" "${cov:-?}" "$before" "$after" "$result")")
done

log "summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
exit "$failed"
