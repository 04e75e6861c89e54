# fits_agree.awk: the total-memory figure's data agree with the plan's "fits".
# Usage: awk -f tests/fits_agree.awk plan.csv plots/total_vs_ctx.dat
# For every variant of plan.csv the engine accepts: its curve's value at the
# requested context is at most the usable budget exactly when fits is 1, and
# equals its total_bytes. Prints one line per disagreement; exit 1 on any.
BEGIN { FS = "," }
FNR == 1 && NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
NR == FNR {
    label = $col["label"] ($col["as_built"] == 1 ? " *" : "")
    if ($col["engine_refusal"] != "") next
    want_fits[label] = $col["fits"]; want_total[label] = $col["total_bytes"]; n_want++
    next
}
/^# usable / { usable = $0; sub(/^# usable /, "", usable); sub(/ .*/, "", usable)
               req = $0; sub(/.*requested context /, "", req); sub(/;.*/, "", req); next }
/^#/ { next }
/^"context"/ {
    n = split($0, q, "\"")
    ns = 0
    for (i = 4; i <= n; i += 2) { ns++; name[ns] = q[i] }
    next
}
{
    split($0, v, " ")
    if (v[1] != req) next
    seen_req = 1
    for (s = 1; s <= ns; s++) {
        m = split(name[s], labels, ", ")
        for (k = 1; k <= m; k++) {
            l = labels[k]; got++
            if (!(l in want_fits)) { print "series label not in the plan: " l; bad = 1; continue }
            fits = (v[s + 1] + 0 <= usable + 0) ? 1 : 0
            if (fits != want_fits[l]) { print l ": curve " v[s + 1] " vs usable " usable " but fits=" want_fits[l]; bad = 1 }
            if (v[s + 1] != want_total[l]) { print l ": curve " v[s + 1] " but total_bytes " want_total[l]; bad = 1 }
        }
    }
}
END {
    if (!seen_req) { print "no data line at the requested context " req; bad = 1 }
    if (got != n_want) { print got " curves for " n_want " accepted variants"; bad = 1 }
    exit bad
}
