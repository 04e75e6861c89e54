#!/usr/bin/env bash
# Layout rules, checked on the #include lines (all written from the root):
#  - the planner (analyzer/, reports/ outside probe/, study/ and generate/) does not
#    include the runtime, training or probes (probes/), nor the CLI;
#  - library code (analyzer/, probes/, reports/) does not include cli/;
#  - analyzer/ never includes reports/ (analyzer never prints);
#  - no include cycle among the project's headers and sources.
# Usage: tests/layout_check.sh   (from the repository root)
set -u
fail=0
pass=0
rule() { # rule NAME FILE-PATTERN FORBIDDEN-INCLUDE-PATTERN
    local hits
    hits=$(git ls-files '*.c' '*.h' | grep -E "$2" | xargs grep -HnE "^#include \"($3)" 2>/dev/null)
    if [ -n "$hits" ]; then
        echo "FAIL: $1:"; echo "$hits" | sed 's/^/  /'; fail=$((fail + 1))
    else
        pass=$((pass + 1))
    fi
}
rule "the planner includes the runtime, training or probes" '^(analyzer/|reports/[a-z_]+\.[ch]$|reports/plan/)' 'probes/'
rule "library code includes the CLI" '^(analyzer|probes|reports)/' 'cli/'
rule "analyzer includes reports" '^analyzer/' 'reports/'
# include cycles: a depth-first search over the include graph
cycles=$(git ls-files '*.c' '*.h' | xargs grep -HE '^#include "' | sed -E 's/^([^:]+):#include "([^"]+)".*/\1 \2/' | awk '
    { edge[$1] = edge[$1] " " $2; nodes[$1] = 1 }
    function dfs(n, path,   i, k, parts) {
        if (state[n] == 1) { print "cycle: " path " -> " n; found = 1; return }
        if (state[n] == 2) return
        state[n] = 1
        k = split(edge[n], parts, " ")
        for (i = 1; i <= k; i++) dfs(parts[i], path " -> " n)
        state[n] = 2
    }
    END { for (n in nodes) dfs(n, ""); }')
if [ -n "$cycles" ]; then echo "FAIL: include cycles:"; echo "$cycles" | sed 's/^/  /'; fail=$((fail + 1)); else pass=$((pass + 1)); fi
# The planner builds without the runtime: no planner object needs a symbol
# that only an object under probes/ (or a probe/study writer) defines.
# Reads the objects of the current build (BUILD, default build/).
B=${BUILD:-build}
planner_objs=$(ls $B/analyzer/*.o $B/analyzer/*/*.o $B/reports/*.o $B/reports/plan/*.o \
    $B/cli/cmd_plan.o $B/cli/cmd_list.o $B/cli/options.o $B/cli/units.o $B/cli/cli_io.o 2>/dev/null)
other_objs=$(ls $B/probes/*.o $B/probes/*/*.o $B/reports/probe/*.o $B/reports/study/*.o $B/reports/generate/*.o 2>/dev/null)
if [ -z "$planner_objs" ] || [ -z "$other_objs" ]; then
    echo "FAIL: no objects under $B/ (build first)"; fail=$((fail + 1))
else
    need=$(nm -u $planner_objs | awk 'NF == 2 { print $2 }' | sort -u)
    have=$(nm --defined-only $planner_objs | awk 'NF == 3 && $2 ~ /[TDBR]/ { print $3 }' | sort -u)
    elsewhere=$(nm --defined-only $other_objs | awk 'NF == 3 && $2 ~ /[TDBR]/ { print $3 }' | sort -u)
    missing=$(comm -23 <(echo "$need") <(echo "$have") | comm -12 - <(echo "$elsewhere"))
    if [ -n "$missing" ]; then
        echo "FAIL: the planner needs the runtime's or the probe/study writers' code:"
        for sym in $missing; do
            echo "  $sym, used by: $(nm -A -u $planner_objs | awk -v s="$sym" '$NF == s { sub(/:.*/, "", $1); print $1 }' | sort -u | tr '\n' ' ')"
        done
        fail=$((fail + 1))
    else
        pass=$((pass + 1))
    fi
fi
echo "layout: $pass passed, $fail failed, 0 skipped"
[ "$fail" -eq 0 ]
