#!/usr/bin/env bash
# Times two versions of FastArt against each other and against libart in one
# process (bench/ab/): the way to tell a change of a few percent from this
# machine's drift. REV is a git revision, or `.` for the working tree.
# Needs libart built by hand: LIBART_PREFIX=/path/to/prefix (include/art.h,
# lib/libart.a).
# Usage: scripts/fastart-ab.sh REV_A REV_B [ROUNDS [INPUT...]]
#   INPUT: a key file or SHAPE:N (default: data/urls.txt when present,
#   ../shared/data/{words,uuid}.txt when present, names, paths, binary and
#   ints at 10^6 keys).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if [ $# -lt 2 ] || [ -z "${LIBART_PREFIX:-}" ]; then
    echo "usage: LIBART_PREFIX=DIR scripts/fastart-ab.sh REV_A REV_B [ROUNDS [INPUT...]]" >&2
    exit 2
fi
rev_a=$1 rev_b=$2
rounds=${3:-6}
shift $(($# < 3 ? $# : 3))
inputs=("$@")
if [ ${#inputs[@]} -eq 0 ]; then
    for f in "$MEMKV_ROOT/data/urls.txt" "$MEMKV_ROOT/../shared/data/words.txt" "$MEMKV_ROOT/../shared/data/uuid.txt"; do
        [ -f "$f" ] && inputs+=("$f")
    done
    inputs+=(names:1000000 paths:1000000 binary:1000000 ints:1000000)
fi

out=${MEMKV_BUILD_DIR:-$MEMKV_ROOT/build}/ab
rm -rf "$out"
mkdir -p "$out/a" "$out/b"
tree_of() {  # REV DIR: the library's headers of REV in DIR/include
    if [ "$1" = . ]; then
        cp -r "$MEMKV_ROOT/include" "$2/"
    else
        git -C "$MEMKV_ROOT" archive "$1" include | tar -x -C "$2"
    fi
}
tree_of "$rev_a" "$out/a"
tree_of "$rev_b" "$out/b"

flags=(-std=c++20 -O3 -DNDEBUG)
log "building fastart-ab: A = $rev_a, B = $rev_b"
g++ "${flags[@]}" -Dmemkv=memkv_a -DMEMKV_AB_TAG=a -I"$out/a/include" -c "$MEMKV_ROOT/bench/ab/variant.cpp" -o "$out/a.o" &
pid_a=$!
g++ "${flags[@]}" -Dmemkv=memkv_b -DMEMKV_AB_TAG=b -I"$out/b/include" -c "$MEMKV_ROOT/bench/ab/variant.cpp" -o "$out/b.o" &
pid_b=$!
g++ "${flags[@]}" -I"$MEMKV_ROOT/include" -I"$LIBART_PREFIX/include" -c "$MEMKV_ROOT/bench/ab/main.cpp" -o "$out/main.o"
wait $pid_a
wait $pid_b
g++ "$out/a.o" "$out/b.o" "$out/main.o" "$LIBART_PREFIX/lib/libart.a" -o "$out/fastart-ab"

for input in "${inputs[@]}"; do
    "$out/fastart-ab" "$input" "$rounds"
done
