#!/usr/bin/env bash
# Mutation check: every patch in tests/mutants/ plants one deliberate bug
# (a dropped gradient, a planner rounding rule, a dequantiser). Each mutant is
# built in its own copy of the tree under build-mutants/ and the unit and CLI
# tests must FAIL on it; the run fails when a patch does not apply, a mutant
# does not build, or the tests pass with the bug in place (the mutant
# "survived"). A control copy with no patch runs first and must pass, so
# that a mutant counts as caught only for its bug, not for a copy that lacks
# a file.
# Usage: tests/mutants/run.sh   (from the repository root, after `make`)
set -u
ROOT=$(pwd)
OUT=$ROOT/build-mutants
rm -rf "$OUT"
# the tests' temporary files live under OUT too: a mutant that fails a test
# half-way leaves its scratch there, not in the system's /tmp
mkdir -p "$OUT/tmp"
export TMPDIR=$OUT/tmp
caught=0
survived=0
broken=0
# copy DIR: the tracked files and the current build (timestamps kept, so only
# a patched file and what depends on it are rebuilt)
copy() {
    mkdir -p "$1"
    git ls-files -z | xargs -0 cp --parents -a -t "$1"
    if [ -d build ]; then cp -a build "$1/"; fi
}
copy "$OUT/control"
if ! make -C "$OUT/control" -s --no-print-directory qkvplan test-unit test-cli >"$OUT/control.log" 2>&1; then
    echo "mutants: the unmutated copy fails its tests (see $OUT/control.log); nothing to measure"
    exit 1
fi
echo "control (no mutation): tests pass"
rm -rf "$OUT/control"
for patch in tests/mutants/*.patch; do
    name=$(basename "$patch" .patch)
    dir=$OUT/$name
    copy "$dir"
    if ! (cd "$dir" && patch -p1 -s --no-backup-if-mismatch <"$ROOT/$patch") >"$dir.log" 2>&1; then
        echo "mutant $name: patch does not apply ($(head -c 200 "$dir.log"))"
        broken=$((broken + 1))
        continue
    fi
    # a mutant is wrong on purpose and may well warn: warnings are not errors here
    if ! make -C "$dir" -s WERROR= qkvplan build/run-tests >>"$dir.log" 2>&1; then
        echo "mutant $name: does not build (see $dir.log)"
        broken=$((broken + 1))
        continue
    fi
    start=$(date +%s)
    if make -C "$dir" -s --no-print-directory WERROR= test-unit test-cli >>"$dir.log" 2>&1; then
        echo "mutant $name: SURVIVED — the tests pass with this bug (see $dir.log)"
        survived=$((survived + 1))
    else
        first=$(grep -m1 -E "^[^ ]*:[0-9]+:[EF]:|^FAIL" "$dir.log" | cut -c1-160)
        echo "mutant $name: caught in $(($(date +%s) - start)) s: $first"
        caught=$((caught + 1))
    fi
done
echo "mutants: $caught caught, $survived survived, $broken could not be built"
[ "$survived" -eq 0 ] && [ "$broken" -eq 0 ] && [ "$caught" -gt 0 ] && rm -rf "$OUT"
