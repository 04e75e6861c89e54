# qkvplan study: training loss of task reverse, mean over seeds. Re-draw: gnuplot loss_reverse_16.gp
if (!exists("outpng")) outpng = "loss_reverse_16.png"
if (!exists("outsvg")) outsvg = "loss_reverse_16.svg"
set title "reverse: training loss (mean over 3 seeds)" noenhanced
set xlabel "training step"
set ylabel "cross-entropy (nats, log scale)"
set logscale y
set format y "%g"
set grid
set mytics
set key outside right top noenhanced
set terminal pngcairo size 1000,600 font "DejaVu Sans,11"
set output outpng
plot for [i=2:7] "loss_reverse_16.dat" using 1:i with lines lw 2 title columnheader(i)
set terminal svg size 1000,600 font "DejaVu Sans,11"
set output outsvg
plot for [i=2:7] "loss_reverse_16.dat" using 1:i with lines lw 2 title columnheader(i)
set output
