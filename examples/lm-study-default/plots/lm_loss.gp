# qkvplan study --tasks lm: training loss, mean over seeds. Re-draw: gnuplot lm_loss.gp
if (!exists("outpng")) outpng = "lm_loss.png"
if (!exists("outsvg")) outsvg = "lm_loss.svg"
set title "LM study: training loss (mean over 2 seeds)" noenhanced
set xlabel "step"
set ylabel "cross-entropy (nats/token)"
set logscale y
set grid
set key outside right top noenhanced
set terminal pngcairo size 1000,600 font "DejaVu Sans,11"
set output outpng
plot for [i=2:9] "lm_loss.dat" using 1:i with lines lw 2 title columnheader(i), "lm_loss.dat" using 1:10 with lines dt 2 lc rgb "black" title columnheader(10)
set terminal svg size 1000,600 font "DejaVu Sans,11"
set output outsvg
plot for [i=2:9] "lm_loss.dat" using 1:i with lines lw 2 title columnheader(i), "lm_loss.dat" using 1:10 with lines dt 2 lc rgb "black" title columnheader(10)
set output
