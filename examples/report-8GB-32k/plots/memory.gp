# qkvplan: memory breakdown per variant. Re-draw with: gnuplot memory.gp
# Data: memory.dat; exact bytes, plotted in GiB (2^30 bytes).
if (!exists("outpng")) outpng = "memory.png"
if (!exists("outsvg")) outsvg = "memory.svg"
set encoding utf8
set grid lc rgb "#dddddd"
device = 8589934592.0  # bytes
set title "paper-1.2B at 32768 tokens: memory per variant (f16 cache, exact engine, 1 seq; * = as built)" noenhanced
set ylabel "memory (GiB)"
set xlabel "variant"
set style data histograms
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.7
set xtics rotate by -35 noenhanced nomirror
set xrange [-0.6:9.6]
set yrange [0:*]
set key outside right top
set terminal pngcairo size 1100,650 font "DejaVu Sans,11"
set output outpng
plot "memory.dat" using ($2/2**30):xtic(1) title "weights" lc rgb "#4C72B0", '' using ($3/2**30) title "KV cache" lc rgb "#DD8452", '' using ($4/2**30) title "scratch" lc rgb "#55A868", '' using ($5/2**30) title "reserve" lc rgb "#BBBBBB", device/2**30 with lines lw 2.5 dt 2 lc rgb "#C00000" title "device"
set terminal svg size 1100,650 font "DejaVu Sans,11"
set output outsvg
plot "memory.dat" using ($2/2**30):xtic(1) title "weights" lc rgb "#4C72B0", '' using ($3/2**30) title "KV cache" lc rgb "#DD8452", '' using ($4/2**30) title "scratch" lc rgb "#55A868", '' using ($5/2**30) title "reserve" lc rgb "#BBBBBB", device/2**30 with lines lw 2.5 dt 2 lc rgb "#C00000" title "device"
set output
