# qkvplan: longest context that fits per variant. Re-draw with: gnuplot max_ctx.gp
# Data: max_ctx.dat, exact bytes; plotted in GiB (2^30 bytes).
if (!exists("outpng")) outpng = "max_ctx.png"
if (!exists("outsvg")) outsvg = "max_ctx.svg"
set encoding utf8
set grid lc rgb "#dddddd"
ctx = 32768  # requested context
set title "paper-1.2B: longest context that fits in 8GB (f16 cache, exact engine, 1 seq)" noenhanced
set ylabel "longest context (tokens)"
set logscale y 2
set format y "2^{%L}"
set style fill solid 0.85 border -1
set boxwidth 0.7
set xtics rotate by -35 noenhanced nomirror
set xrange [-0.6:9.6]
set yrange [256:*]
set key outside right top
set terminal pngcairo size 1100,650 font "DejaVu Sans,11"
set output outpng
plot "max_ctx.dat" using 0:($2 > 0 ? $2 : NaN):xtic(1) with boxes lc rgb "#4C72B0" title "max context", ctx with lines lw 2.5 dt 2 lc rgb "#C00000" title "requested context"
set terminal svg size 1100,650 font "DejaVu Sans,11"
set output outsvg
plot "max_ctx.dat" using 0:($2 > 0 ? $2 : NaN):xtic(1) with boxes lc rgb "#4C72B0" title "max context", ctx with lines lw 2.5 dt 2 lc rgb "#C00000" title "requested context"
set output
