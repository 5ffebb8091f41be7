// The manual: `memkv help` (the overview) and `memkv help COMMAND`, one
// man-style page per command. The text is the documentation of record for
// the tool's behaviour; README.md shows examples and DESIGN.md the design.

#include <cstdio>
#include <string_view>

#include "cli/commands.hpp"

namespace memkv::cli {

namespace {

struct page {
    std::string_view command;
    std::string_view synopsis;
    std::string_view text;
};

constexpr std::string_view overview = R"~(NAME
    memkv - build, query and merge FrozenLayer files; read memkv checkpoints

SYNOPSIS
    memkv COMMAND [OPTIONS] ARGUMENTS...
    memkv help [COMMAND]
    memkv --version

COMMANDS
    build INPUT OUT.frz          keys, or KEY<TAB>VALUE lines, to a FrozenLayer file
    get FILE KEY...              the value of each KEY
    range FILE                   keys in [--from, --to), forward or --reverse
    prefix FILE PREFIX           keys that start with PREFIX
    longest-prefix FILE KEY...   the longest key that is a prefix of each KEY
    rank FILE KEY                KEY's ordinal (0-based position in key order)
    key-at FILE ORDINAL          the key at an ordinal
    dump FILE                    every key and value, tab-separated
    stats FILE                   keys, bytes, bytes/key and where the bytes go
    verify FILE                  checksums and a full walk of the file
    union OUT.frz IN.frz...      merge FrozenLayer files (last value wins, or --sum)
    help [COMMAND]               this page, or a command's page

FILES
    FILE is a FrozenLayer file with 64-bit unsigned values (written by build
    or union, or by FrozenLayerBuilder<std::uint64_t>) or a memkv checkpoint
    (MemKV<std::uint64_t>::save: a manifest and the run files beside it).
    The kind is told by the file's first bytes, never by its name. rank and
    key-at need a FrozenLayer file (a checkpoint has no ordinals). A FILE of
    "-" reads a FrozenLayer image from standard input; build's INPUT "-"
    reads the key lines from standard input.

KEYS
    Keys are byte strings, ordered bytewise as unsigned bytes, a prefix
    before its extensions; the empty key and any byte (NUL, 0xFF, invalid
    UTF-8) are ordinary. Results go to standard output as raw bytes, one
    per line, "KEY<TAB>VALUE" where a value is shown: use --escape when keys
    may hold tabs, newlines or other control bytes.

OPTIONS (every command)
    --escape       print each byte outside printable ASCII as \xHH and a
                   backslash as \\ (so every key is one printable line)
    --unescape     read \xHH and \\ in KEY arguments, --from/--to and
                   build's input lines (any other backslash escape is an
                   error); the way back from --escape, and the only way to
                   give a key that holds a newline
    -q, --quiet    no progress line, summary or not-found notes on stderr
    -h, --help     the command's page
    --             ends the options: later arguments starting with '-' are
                   keys or files

EXIT STATUS
    0   success
    1   not found: a KEY of get or longest-prefix, rank's KEY, or key-at's
        ORDINAL (the other keys are still answered)
    2   usage error, bad input, unreadable, foreign or corrupt file, I/O
        error, out of memory. stderr gets one line,
        "memkv: FILE:LINE: REASON" for a bad input line and
        "memkv: COMMAND: REASON" otherwise.
    A closed output pipe (memkv dump f.frz | head) ends the command quietly
    with status 0. On SIGINT, SIGTERM or SIGHUP, build and union remove
    their temporary files and then die of the signal.

EXAMPLES
    memkv build words.txt words.frz        # sorted or not; prints bytes/key
    memkv build --values counts.tsv counts.frz --memory 1G
    memkv get counts.frz apple banana
    memkv prefix words.frz 'inter' --limit 10
    memkv range words.frz --from b --to c --reverse
    memkv dump --escape words.frz | memkv build --unescape - copy.frz
    memkv stats store.mkv                  # a checkpoint works too
    memkv union all.frz jan.frz feb.frz --sum

Run "memkv help COMMAND" for a command's options and examples.
)~";

constexpr page pages[] = {
    {"build", "memkv build INPUT OUT.frz [--values] [--sorted] [--dedup first|last] [--memory SIZE] [--tmp DIR]",
     R"~(NAME
    memkv build - build a FrozenLayer file from a key file

SYNOPSIS
    memkv build [OPTIONS] INPUT OUT.frz

DESCRIPTION
    Reads INPUT ("-": standard input), one key per line, or KEY<TAB>VALUE
    lines with --values, and writes the FrozenLayer file OUT.frz (a
    FrozenLayer<std::uint64_t>). A line is everything up to '\n' (a '\r' is
    kept: keys are bytes); the last line needs no '\n'; an empty line is the
    empty key. A key that holds a newline can only be given with --unescape.

    Without --values every key's value is its ordinal (its 0-based position
    in key order). FrozenLayer stores that value column in no bytes at all,
    so this is the smallest file; get prints the ordinal.

    Input that is already sorted (bytewise, strictly increasing) streams
    straight into the builder in one pass. At the first key out of order
    the keys read so far become a temporary sorted run, and the rest is
    sorted externally: chunks of at most --memory bytes are sorted in
    memory and written as temporary run files, then all runs are merged
    (in several passes when there are many) into the builder.
    Equal keys stay in input order throughout, so --dedup is exact.

    OUT.frz is written atomically: the builder writes OUT.frz.tmp (and
    OUT.frz.values.tmp) beside it, syncs it and renames it into place, so
    OUT.frz is the old file or the complete new one. The sorted prefix goes
    to OUT.frz.prefix.tmp and runs to a fresh directory
    .OUT.frz.sort-XXXXXX beside OUT.frz (or memkv-sort-XXXXXX in --tmp
    DIR). Every temporary file is removed when the command ends: on
    success, on an error, and on SIGINT, SIGTERM or SIGHUP.

    On a terminal, stderr shows progress (keys, keys/s, and the share done
    and the ETA when the input's size is known). At the end stderr gets
    one line: "OUT.frz: N keys, B bytes, X bytes/key (how it was built)".

OPTIONS
    --values        lines are KEY<TAB>VALUE; VALUE is an unsigned 64-bit
                    decimal integer. The line is split at its last tab, so
                    a key may hold tabs.
    --sorted        the input must be sorted: a key out of order is an
                    error naming its line (no temporary files at all)
    --dedup first|last
                    keep the first or the last occurrence (in input order)
                    of a key that appears more than once. Without it a
                    duplicate is an error naming its line.
    --memory SIZE   memory for sorting unsorted input (default 256M;
                    suffixes K, M, G, T are powers of 1024; at least 4K).
                    The merge reads runs with buffers from the same
                    budget. The builder itself needs about 10-30 MB more.
    --tmp DIR       where the temporary runs go (default: beside OUT.frz,
                    not /tmp, which is often in memory). They take about
                    the input's size, less what keys' shared prefixes save.
    --unescape      decode \xHH and \\ in each key

EXIT STATUS
    0 built; 2 usage error or bad input. Bad input lines are reported as
    "memkv: INPUT:LINE: REASON": a duplicate key (with the line of its
    first occurrence), a key out of order under --sorted, a missing tab or
    a bad value under --values, a bad escape under --unescape.

EXAMPLES
    memkv build words.txt words.frz
    sort -u words.txt | memkv build --sorted - words.frz
    memkv build --values --dedup last counts.tsv counts.frz --memory 1G --tmp /data/tmp
    memkv dump --escape old.frz | memkv build --unescape --values - new.frz
)~"},
    {"get", "memkv get FILE KEY...", R"~(NAME
    memkv get - look keys up

SYNOPSIS
    memkv get [OPTIONS] FILE KEY...

DESCRIPTION
    Prints one line per KEY, in the order given: its value, or an empty
    line when FILE does not hold it (then stderr says "not found", unless
    --quiet). A key file built without --values maps each key to its
    ordinal.

EXIT STATUS
    0 every KEY found; 1 some KEY not found; 2 error.

EXAMPLES
    memkv get counts.frz apple banana
    memkv get --unescape bin.frz '\x00\xffkey'
    memkv get store.mkv user:1001
)~"},
    {"range", "memkv range FILE [--from A] [--to B] [--reverse] [--limit N] [--keys]", R"~(NAME
    memkv range - keys in a half-open range

SYNOPSIS
    memkv range [OPTIONS] FILE

DESCRIPTION
    Prints KEY<TAB>VALUE for every key k with A <= k < B, in key order:
    --from is inclusive (std::map::lower_bound), --to is exclusive (the
    range ends at lower_bound(B), like fst's range and FrozenLayer::range).
    Without --from the range starts at the first key, without --to it runs
    to the last. If B <= A the range is empty. To include B itself, end at
    B followed by a NUL byte: --unescape --to 'B\x00'.

OPTIONS
    --from A       first key (inclusive)
    --to B         end key (exclusive)
    --reverse      from the last key of the range down
    --limit N      at most N keys (the first N in the chosen direction)
    --keys         keys only, no values

EXIT STATUS
    0 (an empty range is not an error); 2 error.

EXAMPLES
    memkv range words.frz --from apple --to apricot
    memkv range words.frz --reverse --limit 1          # the last key
)~"},
    {"prefix", "memkv prefix FILE PREFIX [--reverse] [--limit N] [--keys]", R"~(NAME
    memkv prefix - keys that start with a prefix

SYNOPSIS
    memkv prefix [OPTIONS] FILE PREFIX

DESCRIPTION
    Prints KEY<TAB>VALUE for every key that starts with PREFIX (PREFIX
    itself included), in key order. An empty PREFIX lists every key.

OPTIONS
    --reverse, --limit N, --keys    as for range

EXAMPLES
    memkv prefix urls.frz https://github.com/ --limit 20 --keys
)~"},
    {"longest-prefix", "memkv longest-prefix FILE KEY...", R"~(NAME
    memkv longest-prefix - the longest stored key that is a prefix of a key

SYNOPSIS
    memkv longest-prefix [OPTIONS] FILE KEY...

DESCRIPTION
    For each KEY prints MATCH<TAB>VALUE, where MATCH is the longest key in
    FILE that KEY starts with (KEY itself, or the empty key, may be the
    match), or an empty line when there is none. Routing tables and
    tokenizers ask this question.

EXIT STATUS
    0 every KEY matched; 1 some KEY has no match; 2 error.

EXAMPLES
    memkv longest-prefix routes.frz /api/v1/users/42
)~"},
    {"rank", "memkv rank FILE KEY", R"~(NAME
    memkv rank - the ordinal of a key

SYNOPSIS
    memkv rank [OPTIONS] FILE KEY

DESCRIPTION
    Prints KEY's ordinal: its 0-based position among FILE's keys in key
    order. FILE must be a FrozenLayer file. The inverse is key-at.

EXIT STATUS
    0 found; 1 KEY not in FILE; 2 error.
)~"},
    {"key-at", "memkv key-at FILE ORDINAL", R"~(NAME
    memkv key-at - the key at an ordinal

SYNOPSIS
    memkv key-at [OPTIONS] FILE ORDINAL

DESCRIPTION
    Prints the key whose ordinal (0-based position in key order) is
    ORDINAL. FILE must be a FrozenLayer file.

EXIT STATUS
    0 found; 1 ORDINAL >= the number of keys; 2 error.

EXAMPLES
    memkv key-at words.frz 0                  # the first key
)~"},
    {"dump", "memkv dump FILE [--reverse] [--limit N] [--keys]", R"~(NAME
    memkv dump - every key and value

SYNOPSIS
    memkv dump [OPTIONS] FILE

DESCRIPTION
    Prints KEY<TAB>VALUE for every key, in key order (TSV). With --escape
    the output rebuilds the same map with build --unescape --values.

OPTIONS
    --reverse, --limit N, --keys    as for range

EXAMPLES
    memkv dump --escape words.frz > words.tsv
    memkv dump store.mkv --keys | wc -l
)~"},
    {"stats", "memkv stats FILE", R"~(NAME
    memkv stats - what a file holds and what its bytes are spent on

SYNOPSIS
    memkv stats [OPTIONS] FILE

DESCRIPTION
    For a FrozenLayer file: the number of keys, the file's bytes and bytes
    per key, split into the header, the automaton (the keys) and the value
    column (its encoding: none for a keys-only file, else the packed width
    and base). For a checkpoint: keys, the bytes of the manifest (which
    holds the unflushed delta), the run files and their Bloom filters, and
    the memory the open store uses.

EXAMPLES
    memkv stats words.frz
    memkv stats store.mkv
)~"},
    {"verify", "memkv verify FILE", R"~(NAME
    memkv verify - check a file end to end

SYNOPSIS
    memkv verify [OPTIONS] FILE

DESCRIPTION
    Checks the header, the payload checksum (CRC-32C of every byte) and
    then walks every key: keys strictly increasing, their number as the
    header says, and (FrozenLayer) each key's lookup agreeing with the walk.
    A checkpoint's manifest and every run file are checked likewise.
    Prints "FILE: ok, N keys" on success.

EXIT STATUS
    0 the file is sound; 2 it is not (stderr names the file and the fault).
)~"},
    {"union", "memkv union OUT.frz IN.frz... [--sum]", R"~(NAME
    memkv union - merge FrozenLayer files

SYNOPSIS
    memkv union [OPTIONS] OUT.frz IN.frz...

DESCRIPTION
    Writes every key of the inputs to OUT.frz, in one k-way merge of the
    memory-mapped inputs (no temporary runs). A key in several inputs gets
    the value of the last input that holds it, or with --sum the sum of
    its values (an overflow of 64 bits is an error). If no input has
    values (all were built without --values) the output is keys-only too,
    its values its own ordinals. OUT.frz is written atomically as by build
    and may be one of the inputs.

OPTIONS
    --sum          add the values of equal keys

EXAMPLES
    memkv union all.frz a.frz b.frz c.frz
    memkv union --sum totals.frz jan.frz feb.frz mar.frz
)~"},
    {"help", "memkv help [COMMAND]", R"~(NAME
    memkv help - the manual

SYNOPSIS
    memkv help [COMMAND]
    memkv COMMAND --help
)~"},
};

}  // namespace

bool print_help(std::string_view command) {
    std::string_view text;
    if (command.empty()) {
        text = overview;
    } else {
        for (const page& p : pages) {
            if (p.command == command) text = p.text;
        }
        if (text.empty()) return false;
    }
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return true;
}

std::string_view synopsis(std::string_view command) {
    for (const page& p : pages) {
        if (p.command == command) return p.synopsis;
    }
    return "memkv COMMAND [OPTIONS] ARGUMENTS...";
}

}  // namespace memkv::cli
