# qkvplan: KV cache per variant over context. Re-draw with: gnuplot kv_vs_ctx.gp
# Data: kv_vs_ctx.dat, exact bytes; plotted in GiB (2^30 bytes).
if (!exists("outpng")) outpng = "kv_vs_ctx.png"
if (!exists("outsvg")) outsvg = "kv_vs_ctx.svg"
set encoding utf8
set grid lc rgb "#dddddd"
set linetype 1 lc rgb "#1f77b4" pt 4
set linetype 2 lc rgb "#ff7f0e" pt 5
set linetype 3 lc rgb "#2ca02c" pt 6
set linetype 4 lc rgb "#d62728" pt 7
set linetype 5 lc rgb "#9467bd" pt 8
set linetype 6 lc rgb "#8c564b" pt 9
set linetype 7 lc rgb "#e377c2" pt 10
set linetype 8 lc rgb "#7f7f7f" pt 11
set linetype 9 lc rgb "#bcbd22" pt 12
set linetype 10 lc rgb "#17becf" pt 13
set linetype 11 lc rgb "#393b79" pt 4
set linetype 12 lc rgb "#637939" pt 5
usable = 7516192768.0  # device - reserve, bytes
ctx = 32768  # requested context
set title "paper-1.2B: KV cache vs context (f16 cache, exact engine, 1 seq)" noenhanced
set xlabel "context (tokens)"
set ylabel "KV cache"
set logscale x 2
set logscale y 2
set format x "2^{%L}"
set ytics ("1 MiB" 2**20, "4 MiB" 2**22, "16 MiB" 2**24, "64 MiB" 2**26, "256 MiB" 2**28, "1 GiB" 2**30, "4 GiB" 2**32, "16 GiB" 2**34)
set key outside right top noenhanced
set arrow 1 from ctx, graph 0 to ctx, graph 1 nohead dt 2 lc rgb "#555555"
set label 1 sprintf("requested %d", ctx) at ctx, graph 0.04 right offset -0.5,0 tc rgb "#555555"
# Variants with equal caches overlap: earlier series are drawn wider so they show
# beneath later ones.
set terminal pngcairo size 1100,650 font "DejaVu Sans,11"
set output outpng
plot for [i=2:11] "kv_vs_ctx.dat" using 1:i with linespoints lt (i-1) ps 0.9 lw (1.5 + 3.0*(11-i)/9.0) title columnheader(i), usable with lines lw 2.5 dt 2 lc rgb "#C00000" title "usable memory"
set terminal svg size 1100,650 font "DejaVu Sans,11"
set output outsvg
plot for [i=2:11] "kv_vs_ctx.dat" using 1:i with linespoints lt (i-1) ps 0.9 lw (1.5 + 3.0*(11-i)/9.0) title columnheader(i), usable with lines lw 2.5 dt 2 lc rgb "#C00000" title "usable memory"
set output
