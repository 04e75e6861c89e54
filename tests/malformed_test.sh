#!/usr/bin/env bash
# Runs every line of tests/malformed/MANIFEST: the exit code, a one-line
# error on stderr holding the expected text, and nothing on stdout.
# Usage: tests/malformed_test.sh ./qkvplan   (from the repository root)
set -u
BIN=${1:-./qkvplan}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/qkvplan-malformed.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
pass=0
fail=0
while IFS='|' read -r code text args; do
    case "$code" in ''|\#*) continue ;; esac
    # shellcheck disable=SC2086
    "$BIN" $args >"$TMP/out" 2>"$TMP/err"
    got=$?
    if [ "$got" -ne "$code" ]; then
        echo "FAIL: qkvplan $args -> exit $got, want $code: $(head -c 300 "$TMP/err")" >&2
        fail=$((fail + 1))
    elif ! grep -qF -- "$text" "$TMP/err" || [ "$(wc -l <"$TMP/err")" -ne 1 ] || [ -s "$TMP/out" ]; then
        echo "FAIL: qkvplan $args -> stderr '$(cat "$TMP/err")' lacks '$text' or stdout not empty" >&2
        fail=$((fail + 1))
    else
        pass=$((pass + 1))
    fi
done < tests/malformed/MANIFEST
echo "malformed: $pass passed, $fail failed, 0 skipped"
[ "$fail" -eq 0 ] && [ "$pass" -ge 40 ]
