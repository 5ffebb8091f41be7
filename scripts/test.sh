#!/usr/bin/env bash
# memkv's whole test suite, from a fresh Debian machine:
#   1. a normal build (g++, warnings as errors) with the consumer-package tests,
#      the Doxygen warning check (docs_warnings) and a smoke run of memkv-bench;
#   2. an ASan+UBSan build (g++, Debug: invariant assertions and iterator
#      generations on; warnings as errors; LeakSanitizer included);
#   3. a TSan build of the tests labelled 'concurrency'.
# Usage: scripts/test.sh [extra ctest arguments]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ensure_packages cmake ninja-build g++ clang libclang-rt-14-dev catch2 libbenchmark-dev libmarisa-dev pkg-config doxygen

build=${MEMKV_BUILD_DIR:-$MEMKV_ROOT/build}
rm -f "$build"/{test,asan,tsan}/junit.xml
common=(-DMEMKV_WERROR=ON -DMEMKV_BUILD_EXAMPLES=ON -DMEMKV_BUILD_TESTS=ON)
# libart's words.txt/uuid.txt: ../shared/data by default, or this directory.
if [ -n "${MEMKV_TEST_DATA_DIR:-}" ]; then common+=("-DMEMKV_TEST_DATA_DIR=$MEMKV_TEST_DATA_DIR"); fi

log "normal build (g++, RelWithDebInfo)"
configure_and_build "$build/test" "${common[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=g++ -DMEMKV_BUILD_BENCHMARKS=ON -DMEMKV_BENCH_MARISA=ON
# The optimized build runs the randomized model tests at 3x their sanitizer
# length (FastArt: 1.2M operations against std::map).
MEMKV_TEST_SCALE=${MEMKV_TEST_SCALE:-3} ctest --test-dir "$build/test" --output-junit junit.xml --output-on-failure -j "$MEMKV_JOBS" "$@"

# g++, not clang: clang 14 cannot compile libstdc++ 12's <ranges> views, which
# the API tests use (std::views::reverse over every memkv range). clang still
# builds the fuzzers (-DMEMKV_BUILD_FUZZERS=ON).
log "ASan+UBSan build (g++)"
configure_and_build "$build/asan" "${common[@]}" -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_COMPILER=g++ -DMEMKV_BUILD_BENCHMARKS=OFF -DMEMKV_SANITIZE=address,undefined
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir "$build/asan" --output-junit junit.xml --output-on-failure -j "$MEMKV_JOBS" -LE package "$@"

log "TSan build (g++), concurrency tests"
# Only the executables behind the tests labelled 'concurrency'.
MEMKV_TARGETS="test_fast_art_threads test_frozen test_hybrid test_hybrid_checkpoint test_hybrid_concurrency" \
configure_and_build "$build/tsan" "${common[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=g++ -DMEMKV_BUILD_BENCHMARKS=OFF -DMEMKV_SANITIZE=thread
TSAN_OPTIONS=halt_on_error=1 \
    ctest --test-dir "$build/tsan" --output-junit junit.xml --output-on-failure -j "$MEMKV_JOBS" -L concurrency --no-tests=ignore "$@"

# One closing line over the three builds (ctest's own summaries are per build).
total=0
failed=0
for b in test asan tsan; do
    f="$build/$b/junit.xml"
    [ -f "$f" ] || continue
    n=$(tr '\n\t' '  ' <"$f" | grep -o '<testsuite [^>]*' | grep -o ' tests="[0-9]*"' | grep -o '[0-9]*' || echo 0)
    m=$(tr '\n\t' '  ' <"$f" | grep -o '<testsuite [^>]*' | grep -o ' failures="[0-9]*"' | grep -o '[0-9]*' || echo 0)
    total=$((total + n))
    failed=$((failed + m))
done
echo "memkv: $((total - failed)) passed, $failed failed"
