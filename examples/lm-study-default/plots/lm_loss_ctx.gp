# qkvplan study --tasks lm: training loss, mean over seeds. Re-draw: gnuplot lm_loss_ctx.gp
if (!exists("outpng")) outpng = "lm_loss_ctx.png"
if (!exists("outsvg")) outsvg = "lm_loss_ctx.svg"
set title "LM study: training loss (mean over 2 seeds), QKV vs Q-K=V by context" noenhanced
set xlabel "step"
set ylabel "cross-entropy (nats/token)"
set logscale y
set grid
set key outside right top noenhanced
set terminal pngcairo size 1000,600 font "DejaVu Sans,11"
set output outpng
plot for [i=2:7] "lm_loss_ctx.dat" using 1:i with lines lw 2 title columnheader(i), "lm_loss_ctx.dat" using 1:8 with lines dt 2 lc rgb "black" title columnheader(8)
set terminal svg size 1000,600 font "DejaVu Sans,11"
set output outsvg
plot for [i=2:7] "lm_loss_ctx.dat" using 1:i with lines lw 2 title columnheader(i), "lm_loss_ctx.dat" using 1:8 with lines dt 2 lc rgb "black" title columnheader(8)
set output
