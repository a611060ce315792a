#!/bin/sh
# Regenerates the core-file test data on an AVX-512 machine (AMD EPYC here; XCR0 0xe7).
#   tests/tools/make_core_data.sh BUILD_DIR
# Writes test-data/core-avx512.core, core-avx512-variant.core (whole kernel cores, ~50 KB
# thanks to coredump_filter 0), core-avx512-xstate.bin (main thread's NT_X86_XSTATE note),
# core-avx512-thread2-xstate.bin, core-gcore.core (gdb 13 gcore, ~35 KB) and
# core-gcore-xstate.bin (its main thread's note).
# Needs core_pattern "core" (or any relative name: the core is looked up as core*).
set -eu
build=${1:?usage: make_core_data.sh BUILD_DIR}
here=$(cd "$(dirname "$0")/../.." && pwd)
data=$here/test-data
crash=$build/tests/tools/zmm_crash
note=${CORE_NOTE:-$build/tests/tools/core_note}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

make_core() {   # $1 = output name, $2.. = zmm_crash flags
    out=$1; shift
    mkdir "$tmp/$out" && cd "$tmp/$out"
    (ulimit -c unlimited; "$crash" "$@") 2>/dev/null || true
    core=$(ls core* 2>/dev/null | head -n1)
    [ -n "$core" ] || { echo "no core written (core_pattern: $(cat /proc/sys/kernel/core_pattern))" >&2; exit 1; }
    cp "$core" "$data/$out" && chmod 644 "$data/$out"
    cd "$here"
}
make_core core-avx512.core
make_core core-avx512-variant.core --variant
"$note" "$data/core-avx512.core" 0 "$data/core-avx512-xstate.bin"
"$note" "$data/core-avx512.core" 1 "$data/core-avx512-thread2-xstate.bin"

# gdb 13 gcore of the same program, stopped at its fault.
gdb -nx -batch -ex run -ex "gcore $tmp/gcore.core" -ex kill --args "$crash" >/dev/null 2>&1
cp "$tmp/gcore.core" "$data/core-gcore.core" && chmod 644 "$data/core-gcore.core"
"$note" "$data/core-gcore.core" 0 "$data/core-gcore-xstate.bin"
"$note" "$data/core-avx512.core"
"$note" "$data/core-gcore.core"
