# qkvplan: total memory against the usable budget per variant over context. Re-draw with: gnuplot total_vs_ctx.gp
# Data: total_vs_ctx.dat, exact bytes; x in tokens (log 2), y in GiB (2^30 bytes).
# Variants with equal curves are one series ("A, B" in the key).
if (!exists("outpng")) outpng = "total_vs_ctx.png"
if (!exists("outsvg")) outsvg = "total_vs_ctx.svg"
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
ctx = 32768  # requested context, tokens
trained = 2048  # the model's trained context (0: unknown)
set logscale x 2
set xrange [512:2097152]
set xlabel "context (tokens, log scale)"
set xtics ("512" 2**9, "1k" 2**10, "2k" 2**11, "4k" 2**12, "8k" 2**13, "16k" 2**14, "32k" 2**15, "64k" 2**16, "128k" 2**17, "256k" 2**18, "512k" 2**19, "1M" 2**20, "2M" 2**21)
set title "paper-1.2B in 8GB: total memory vs context (f16 cache, exact engine, 1 seq; * = as built)" noenhanced
set ylabel "weights + KV cache + scratch (GiB)"
set yrange [0:10.5]
set key outside right top noenhanced title "variant"
set label 3 "usable 7.00 GiB" at graph 0.01, first usable/2**30 offset 0,0.7 tc rgb "#C00000"
set arrow 1 from ctx, graph 0 to ctx, graph 1 nohead dt 2 lc rgb "#555555"
set label 1 "requested 32k" at ctx, graph 0.97 right offset -0.5,0 tc rgb "#555555"
set arrow 2 from trained, graph 0 to trained, graph 1 nohead dt 3 lw 1.5 lc rgb "#2F6F3F"
set label 2 "trained 2k" at trained, graph 0.91 right offset -0.5,0 tc rgb "#2F6F3F"
set terminal pngcairo size 1100,650 font "DejaVu Sans,11"
set output outpng
plot for [i=2:11] "total_vs_ctx.dat" using 1:(column(i)/2**30) with linespoints lt (i-1) lw 2 ps 0.9 title columnheader(i), usable/2**30 with lines lw 2.5 dt 2 lc rgb "#C00000" title "usable (device - reserve)"
set terminal svg size 1100,650 font "DejaVu Sans,11"
set output outsvg
plot for [i=2:11] "total_vs_ctx.dat" using 1:(column(i)/2**30) with linespoints lt (i-1) lw 2 ps 0.9 title columnheader(i), usable/2**30 with lines lw 2.5 dt 2 lc rgb "#C00000" title "usable (device - reserve)"
set output
