# qkvplan: longest context that fits per variant. Re-draw with: gnuplot max_ctx.gp
# Data: max_ctx.dat; tokens, plotted on a log 2 axis.
if (!exists("outpng")) outpng = "max_ctx.png"
if (!exists("outsvg")) outsvg = "max_ctx.svg"
set encoding utf8
set grid lc rgb "#dddddd"
ctx = 32768  # requested context, tokens
trained = 2048  # trained context (0: unknown)
floor = 2**10  # bottom of the axis: where 'fits at no context' is drawn
set title "paper-1.2B: longest context that fits in 8GB (f16 cache, exact engine, 1 seq; * = as built)" noenhanced
set ylabel "longest context (tokens, log scale)"
set xlabel "variant"
set logscale y 2
set yrange [2**10:2**16]
set ytics ("1k" 2**10, "2k" 2**11, "4k" 2**12, "8k" 2**13, "16k" 2**14, "32k" 2**15, "64k" 2**16)
set xtics rotate by -35 noenhanced nomirror
set grid xtics ytics
set xrange [-0.6:9.6]
set key below horizontal
set terminal pngcairo size 1100,650 font "DejaVu Sans,11"
set output outpng
plot "max_ctx.dat" using 0:($3 == 0 && $2 > 0 ? $2 : NaN):xtic(1) with points pt 7 ps 1.8 lc rgb "#4C72B0" title "longest context that fits", '' using 0:($3 == 1 ? $2 : NaN) with points pt 9 ps 2 lc rgb "#55A868" title "fits at the cap (memory does not bound it)", '' using 0:($2 == 0 ? floor : NaN) with points pt 2 ps 1.8 lc rgb "#C00000" title "fits at no context", '' using 0:($2 > 0 ? $2 : floor):4 with labels offset 0,1.1 noenhanced notitle, ctx with lines lw 2 dt 2 lc rgb "#555555" title "requested 32k", trained with lines lw 2 dt 3 lc rgb "#2F6F3F" title "trained 2k"
set terminal svg size 1100,650 font "DejaVu Sans,11"
set output outsvg
plot "max_ctx.dat" using 0:($3 == 0 && $2 > 0 ? $2 : NaN):xtic(1) with points pt 7 ps 1.8 lc rgb "#4C72B0" title "longest context that fits", '' using 0:($3 == 1 ? $2 : NaN) with points pt 9 ps 2 lc rgb "#55A868" title "fits at the cap (memory does not bound it)", '' using 0:($2 == 0 ? floor : NaN) with points pt 2 ps 1.8 lc rgb "#C00000" title "fits at no context", '' using 0:($2 > 0 ? $2 : floor):4 with labels offset 0,1.1 noenhanced notitle, ctx with lines lw 2 dt 2 lc rgb "#555555" title "requested 32k", trained with lines lw 2 dt 3 lc rgb "#2F6F3F" title "trained 2k"
set output
