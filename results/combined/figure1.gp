# figure1.gp: written by `ridgeline report`; re-run with `gnuplot figure1.gp` in this directory.
set encoding utf8
set termoption noenhanced
set terminal svg size 1280,540 dynamic font 'Sans,11' background rgb 'white'
set output 'figure1.svg'
$d0 << EOD
1 4.41077
4 4.88943
16 4.87694
64 5.32539
128 6.34129
256 9.60997
512 16.8215
EOD
$d1 << EOD
1 3.34192
4 3.36351
16 3.44987
64 3.79531
128 4.25591
256 6.41414
512 12.8282
EOD
$d2 << EOD
1 7.54979
4 8.41885
16 10.4952
64 17.532
128 26.8024
256 46.1577
512 86.8722
EOD
$d3 << EOD
1 3.59576
4 3.61899
16 3.71192
64 4.0836
128 4.57918
256 6.60871
512 13.2173
EOD
$d4 << EOD
1 5.78
4 6.01
16 6.37
64 8.37
128 10.91
256 16.47
512 29.39
EOD
$d5 << EOD
1 6.05823
4 6.24001
16 6.40756
64 6.86421
128 7.69256
256 10.2579
512 17.2073
EOD
$d6 << EOD
1 4.90389
4 4.93557
16 5.06229
64 5.56919
128 6.24506
256 7.5968
512 14.2208
EOD
$d7 << EOD
1 9.02761
4 9.94956
16 12.218
64 19.5584
128 29.4448
256 49.3294
512 91.4239
EOD
$d8 << EOD
1 5.05843
4 5.09111
16 5.22183
64 5.74471
128 6.44188
256 7.83622
512 14.6705
EOD
$d9 << EOD
1 7.06
4 7.42
16 7.93
64 9.81
128 12.42
256 17.87
512 30.81
EOD
$d10 << EOD
1 11.97
4 12.54
16 13.35
64 18.69
128 23.52
256 35.02
512 69.69
EOD
$d11 << EOD
1 7.77377
4 7.82399
16 8.02488
64 8.82843
128 9.89984
256 15.8735
512 31.7468
EOD
$d12 << EOD
1 22.06
4 23.31
16 23.88
64 28.56
128 32.39
256 41.55
512 81.53
EOD
$d13 << EOD
1 17.41
4 17.5225
16 17.9724
64 19.772
128 22.1715
256 26.9705
512 37.394
EOD
$d14 << EOD
64 5.36198
128 5.71603
256 7.70365
512 13.494
1024 25.0297
2048 51.6614
4096 110.429
EOD
$d15 << EOD
64 3.48242
128 3.62988
256 5.083
512 9.94607
1024 19.8348
2048 40.1414
4096 82.8718
EOD
$d16 << EOD
64 24.0679
128 31.2754
256 35.0033
512 32.7197
1024 33.4953
2048 61.4938
4096 122.174
EOD
$d17 << EOD
64 3.74694
128 3.9056
256 5.19695
512 10.152
1024 20.2316
2048 40.9288
4096 84.474
EOD
$d18 << EOD
64 6.92
128 7.02
256 7.22
512 7.47
1024 8.56
2048 9.72
4096 12.14
EOD
$d19 << EOD
64 6.83338
128 7.04585
256 8.28128
512 13.2864
1024 25.6369
2048 51.5179
4096 112.96
EOD
$d20 << EOD
64 5.11005
128 5.32644
256 5.75922
512 10.2935
1024 20.3771
2048 41.1142
4096 84.6973
EOD
$d21 << EOD
64 19.3565
128 19.2075
256 18.6607
512 19.8575
1024 32.692
2048 62.7651
4096 127.678
EOD
$d22 << EOD
64 5.2711
128 5.49431
256 5.94072
512 10.6194
1024 21.0224
2048 42.4161
4096 87.3795
EOD
$d23 << EOD
64 8.51
128 8.76
256 9.1
512 9.77
1024 10.4
2048 12.29
4096 14.86
EOD
$d24 << EOD
64 13.33
128 13.36
256 13.56
512 14.05
1024 14.88
2048 16.4
4096 19.88
EOD
$d25 << EOD
64 8.10059
128 8.44362
256 12.7104
512 24.9264
1024 49.7539
2048 100.743
4096 208.06
EOD
$d26 << EOD
64 24.33
128 24.45
256 24.73
512 25.06
1024 26.09
2048 27.74
4096 30.34
EOD
$d27 << EOD
64 18.142
128 18.9102
256 20.4466
512 24.3451
1024 47.0924
2048 94.482
4096 193.88
EOD
$d28 << EOD
1024 8.56 "H200" 2062260
2048 9.72 "H200" 2062260
4096 12.14 "H200" 2062260
1024 10.4 "H100" 2924588
2048 12.29 "H100" 2924588
4096 14.86 "H100" 2924588
512 14.05 "A100-PCIe" 16744206
1024 14.88 "A100-PCIe" 16744206
2048 16.4 "A100-PCIe" 16744206
4096 19.88 "A100-PCIe" 16744206
1024 26.09 "L40S" 9725885
2048 27.74 "L40S" 9725885
4096 30.34 "L40S" 9725885
EOD
set multiplot layout 1,2
unset arrow
unset label
set logscale x 2
set xtics (1,4,16,64,128,256,512)
set xrange [0.8:700]
set logscale y 10
set grid
set key top left font ',9' spacing 1.0 box opaque title 'GPU (colour)'
set title "Decode: time per step vs batch (context 160)"
set xlabel "batch B (sequences)"
set ylabel "ms per decode step, log scale (imported CSV: seed ms/token)"
set yrange [2.089:1243]
plot $d0 with linespoints lw 2.2 pt 7 ps 0.9 lc rgb '#1f77b4' notitle, \
     $d1 with lines dt 2 lw 1.5 lc rgb '#1f77b4' notitle, \
     $d2 with linespoints lw 1.3 pt 5 ps 0.9 lc rgb '#1f77b4' notitle, \
     $d4 with linespoints dt 3 lw 1 pt 6 ps 1.2 lc rgb '#1f77b4' notitle, \
     $d5 with linespoints lw 2.2 pt 7 ps 0.9 lc rgb '#2ca02c' notitle, \
     $d6 with lines dt 2 lw 1.5 lc rgb '#2ca02c' notitle, \
     $d7 with linespoints lw 1.3 pt 5 ps 0.9 lc rgb '#2ca02c' notitle, \
     $d9 with linespoints dt 3 lw 1 pt 6 ps 1.2 lc rgb '#2ca02c' notitle, \
     $d10 with linespoints dt 3 lw 1 pt 6 ps 1.2 lc rgb '#ff7f0e' notitle, \
     $d11 with lines dt 2 lw 1.5 lc rgb '#ff7f0e' notitle, \
     $d12 with linespoints dt 3 lw 1 pt 6 ps 1.2 lc rgb '#9467bd' notitle, \
     $d13 with lines dt 2 lw 1.5 lc rgb '#9467bd' notitle, \
     NaN with lines lw 4 lc rgb '#1f77b4' title "H200", \
     NaN with lines lw 4 lc rgb '#2ca02c' title "H100", \
     NaN with lines lw 4 lc rgb '#ff7f0e' title "A100-PCIe", \
     NaN with lines lw 4 lc rgb '#9467bd' title "L40S"
set logscale x 2
set xtics (64,128,256,512,1024,2048,4096)
set xrange [50:9000]
set logscale y 10
set key top left font ',9' spacing 1.0 box opaque title 'line and mark'
set title "Prefill: whole-prefill time vs prompt length (batch 1)"
set xlabel "prompt length L (tokens)"
set ylabel "ms per prefill (log scale)"
set yrange [2.177:5893]
set arrow from 260, graph 0 to 260, graph 1 nohead dt 4 lw 1.5 lc rgb '#1f77b4'
set label "H200 ridge L=260" at 260, graph 0.36 rotate by 90 left offset char -0.6,0 font ',8' tc rgb '#1f77b4'
set arrow from 403, graph 0 to 403, graph 1 nohead dt 4 lw 1.5 lc rgb '#2ca02c'
set label "H100 ridge L=403" at 403, graph 0.36 rotate by 90 left offset char -0.6,0 font ',8' tc rgb '#2ca02c'
set arrow from 197, graph 0 to 197, graph 1 nohead dt 4 lw 1.5 lc rgb '#ff7f0e'
set label "A100-PCIe ridge L=197" at 197, graph 0.36 rotate by 90 left offset char -0.6,0 font ',8' tc rgb '#ff7f0e'
set arrow from 643, graph 0 to 643, graph 1 nohead dt 4 lw 1.5 lc rgb '#9467bd'
set label "L40S ridge L=643" at 643, graph 0.36 rotate by 90 left offset char -0.6,0 font ',8' tc rgb '#9467bd'
plot $d14 with linespoints lw 2.2 pt 7 ps 0.9 lc rgb '#1f77b4' notitle, \
     $d15 with lines dt 2 lw 1.5 lc rgb '#1f77b4' notitle, \
     $d16 with linespoints lw 1.3 pt 5 ps 0.9 lc rgb '#1f77b4' notitle, \
     $d18 with linespoints dt 3 lw 1 pt 6 ps 1.2 lc rgb '#1f77b4' notitle, \
     $d19 with linespoints lw 2.2 pt 7 ps 0.9 lc rgb '#2ca02c' notitle, \
     $d20 with lines dt 2 lw 1.5 lc rgb '#2ca02c' notitle, \
     $d21 with linespoints lw 1.3 pt 5 ps 0.9 lc rgb '#2ca02c' notitle, \
     $d23 with linespoints dt 3 lw 1 pt 6 ps 1.2 lc rgb '#2ca02c' notitle, \
     $d24 with linespoints dt 3 lw 1 pt 6 ps 1.2 lc rgb '#ff7f0e' notitle, \
     $d25 with lines dt 2 lw 1.5 lc rgb '#ff7f0e' notitle, \
     $d26 with linespoints dt 3 lw 1 pt 6 ps 1.2 lc rgb '#9467bd' notitle, \
     $d27 with lines dt 2 lw 1.5 lc rgb '#9467bd' notitle, \
     $d28 using 1:2 with points pt 2 ps 2 lw 2.5 lc rgb 'black' notitle, \
     $d28 using 1:2:3:4 with labels left offset char 1.2,0 font ',8' tc rgb variable notitle, \
     NaN with linespoints lw 2.2 pt 7 ps 0.9 lc rgb 'gray20' title "measured (ridgeline)", \
     NaN with linespoints lw 1.3 pt 5 ps 0.9 lc rgb 'gray20' title "measured (transformers)", \
     NaN with lines dt 2 lw 1.5 lc rgb 'gray20' title "predicted (cost model)", \
     NaN with linespoints dt 3 lw 1 pt 6 ps 1.2 lc rgb 'gray20' title "imported CSV (decode: seed ms/token)", \
     NaN with points pt 2 ps 2 lw 2.5 lc rgb 'black' title "faster than datasheet floor (impossible)", \
     NaN with lines dt 4 lw 1.5 lc rgb 'gray20' title "ridge: predicted prefill crossing"
unset multiplot
set terminal pngcairo size 1280,540 font 'Sans,10' background rgb 'white'
set output 'figure1.png'
$d0 << EOD
1 4.41077
4 4.88943
16 4.87694
64 5.32539
128 6.34129
256 9.60997
512 16.8215
EOD
$d1 << EOD
1 3.34192
4 3.36351
16 3.44987
64 3.79531
128 4.25591
256 6.41414
512 12.8282
EOD
$d2 << EOD
1 7.54979
4 8.41885
16 10.4952
64 17.532
128 26.8024
256 46.1577
512 86.8722
EOD
$d3 << EOD
1 3.59576
4 3.61899
16 3.71192
64 4.0836
128 4.57918
256 6.60871
512 13.2173
EOD
$d4 << EOD
1 5.78
4 6.01
16 6.37
64 8.37
128 10.91
256 16.47
512 29.39
EOD
$d5 << EOD
1 6.05823
4 6.24001
16 6.40756
64 6.86421
128 7.69256
256 10.2579
512 17.2073
EOD
$d6 << EOD
1 4.90389
4 4.93557
16 5.06229
64 5.56919
128 6.24506
256 7.5968
512 14.2208
EOD
$d7 << EOD
1 9.02761
4 9.94956
16 12.218
64 19.5584
128 29.4448
256 49.3294
512 91.4239
EOD
$d8 << EOD
1 5.05843
4 5.09111
16 5.22183
64 5.74471
128 6.44188
256 7.83622
512 14.6705
EOD
$d9 << EOD
1 7.06
4 7.42
16 7.93
64 9.81
128 12.42
256 17.87
512 30.81
EOD
$d10 << EOD
1 11.97
4 12.54
16 13.35
64 18.69
128 23.52
256 35.02
512 69.69
EOD
$d11 << EOD
1 7.77377
4 7.82399
16 8.02488
64 8.82843
128 9.89984
256 15.8735
512 31.7468
EOD
$d12 << EOD
1 22.06
4 23.31
16 23.88
64 28.56
128 32.39
256 41.55
512 81.53
EOD
$d13 << EOD
1 17.41
4 17.5225
16 17.9724
64 19.772
128 22.1715
256 26.9705
512 37.394
EOD
$d14 << EOD
64 5.36198
128 5.71603
256 7.70365
512 13.494
1024 25.0297
2048 51.6614
4096 110.429
EOD
$d15 << EOD
64 3.48242
128 3.62988
256 5.083
512 9.94607
1024 19.8348
2048 40.1414
4096 82.8718
EOD
$d16 << EOD
64 24.0679
128 31.2754
256 35.0033
512 32.7197
1024 33.4953
2048 61.4938
4096 122.174
EOD
$d17 << EOD
64 3.74694
128 3.9056
256 5.19695
512 10.152
1024 20.2316
2048 40.9288
4096 84.474
EOD
$d18 << EOD
64 6.92
128 7.02
256 7.22
512 7.47
1024 8.56
2048 9.72
4096 12.14
EOD
$d19 << EOD
64 6.83338
128 7.04585
256 8.28128
512 13.2864
1024 25.6369
2048 51.5179
4096 112.96
EOD
$d20 << EOD
64 5.11005
128 5.32644
256 5.75922
512 10.2935
1024 20.3771
2048 41.1142
4096 84.6973
EOD
$d21 << EOD
64 19.3565
128 19.2075
256 18.6607
512 19.8575
1024 32.692
2048 62.7651
4096 127.678
EOD
$d22 << EOD
64 5.2711
128 5.49431
256 5.94072
512 10.6194
1024 21.0224
2048 42.4161
4096 87.3795
EOD
$d23 << EOD
64 8.51
128 8.76
256 9.1
512 9.77
1024 10.4
2048 12.29
4096 14.86
EOD
$d24 << EOD
64 13.33
128 13.36
256 13.56
512 14.05
1024 14.88
2048 16.4
4096 19.88
EOD
$d25 << EOD
64 8.10059
128 8.44362
256 12.7104
512 24.9264
1024 49.7539
2048 100.743
4096 208.06
EOD
$d26 << EOD
64 24.33
128 24.45
256 24.73
512 25.06
1024 26.09
2048 27.74
4096 30.34
EOD
$d27 << EOD
64 18.142
128 18.9102
256 20.4466
512 24.3451
1024 47.0924
2048 94.482
4096 193.88
EOD
$d28 << EOD
1024 8.56 "H200" 2062260
2048 9.72 "H200" 2062260
4096 12.14 "H200" 2062260
1024 10.4 "H100" 2924588
2048 12.29 "H100" 2924588
4096 14.86 "H100" 2924588
512 14.05 "A100-PCIe" 16744206
1024 14.88 "A100-PCIe" 16744206
2048 16.4 "A100-PCIe" 16744206
4096 19.88 "A100-PCIe" 16744206
1024 26.09 "L40S" 9725885
2048 27.74 "L40S" 9725885
4096 30.34 "L40S" 9725885
EOD
set multiplot layout 1,2
unset arrow
unset label
set logscale x 2
set xtics (1,4,16,64,128,256,512)
set xrange [0.8:700]
set logscale y 10
set grid
set key top left font ',9' spacing 1.0 box opaque title 'GPU (colour)'
set title "Decode: time per step vs batch (context 160)"
set xlabel "batch B (sequences)"
set ylabel "ms per decode step, log scale (imported CSV: seed ms/token)"
set yrange [2.089:1243]
plot $d0 with linespoints lw 2.2 pt 7 ps 0.9 lc rgb '#1f77b4' notitle, \
     $d1 with lines dt 2 lw 1.5 lc rgb '#1f77b4' notitle, \
     $d2 with linespoints lw 1.3 pt 5 ps 0.9 lc rgb '#1f77b4' notitle, \
     $d4 with linespoints dt 3 lw 1 pt 6 ps 1.2 lc rgb '#1f77b4' notitle, \
     $d5 with linespoints lw 2.2 pt 7 ps 0.9 lc rgb '#2ca02c' notitle, \
     $d6 with lines dt 2 lw 1.5 lc rgb '#2ca02c' notitle, \
     $d7 with linespoints lw 1.3 pt 5 ps 0.9 lc rgb '#2ca02c' notitle, \
     $d9 with linespoints dt 3 lw 1 pt 6 ps 1.2 lc rgb '#2ca02c' notitle, \
     $d10 with linespoints dt 3 lw 1 pt 6 ps 1.2 lc rgb '#ff7f0e' notitle, \
     $d11 with lines dt 2 lw 1.5 lc rgb '#ff7f0e' notitle, \
     $d12 with linespoints dt 3 lw 1 pt 6 ps 1.2 lc rgb '#9467bd' notitle, \
     $d13 with lines dt 2 lw 1.5 lc rgb '#9467bd' notitle, \
     NaN with lines lw 4 lc rgb '#1f77b4' title "H200", \
     NaN with lines lw 4 lc rgb '#2ca02c' title "H100", \
     NaN with lines lw 4 lc rgb '#ff7f0e' title "A100-PCIe", \
     NaN with lines lw 4 lc rgb '#9467bd' title "L40S"
set logscale x 2
set xtics (64,128,256,512,1024,2048,4096)
set xrange [50:9000]
set logscale y 10
set key top left font ',9' spacing 1.0 box opaque title 'line and mark'
set title "Prefill: whole-prefill time vs prompt length (batch 1)"
set xlabel "prompt length L (tokens)"
set ylabel "ms per prefill (log scale)"
set yrange [2.177:5893]
set arrow from 260, graph 0 to 260, graph 1 nohead dt 4 lw 1.5 lc rgb '#1f77b4'
set label "H200 ridge L=260" at 260, graph 0.36 rotate by 90 left offset char -0.6,0 font ',8' tc rgb '#1f77b4'
set arrow from 403, graph 0 to 403, graph 1 nohead dt 4 lw 1.5 lc rgb '#2ca02c'
set label "H100 ridge L=403" at 403, graph 0.36 rotate by 90 left offset char -0.6,0 font ',8' tc rgb '#2ca02c'
set arrow from 197, graph 0 to 197, graph 1 nohead dt 4 lw 1.5 lc rgb '#ff7f0e'
set label "A100-PCIe ridge L=197" at 197, graph 0.36 rotate by 90 left offset char -0.6,0 font ',8' tc rgb '#ff7f0e'
set arrow from 643, graph 0 to 643, graph 1 nohead dt 4 lw 1.5 lc rgb '#9467bd'
set label "L40S ridge L=643" at 643, graph 0.36 rotate by 90 left offset char -0.6,0 font ',8' tc rgb '#9467bd'
plot $d14 with linespoints lw 2.2 pt 7 ps 0.9 lc rgb '#1f77b4' notitle, \
     $d15 with lines dt 2 lw 1.5 lc rgb '#1f77b4' notitle, \
     $d16 with linespoints lw 1.3 pt 5 ps 0.9 lc rgb '#1f77b4' notitle, \
     $d18 with linespoints dt 3 lw 1 pt 6 ps 1.2 lc rgb '#1f77b4' notitle, \
     $d19 with linespoints lw 2.2 pt 7 ps 0.9 lc rgb '#2ca02c' notitle, \
     $d20 with lines dt 2 lw 1.5 lc rgb '#2ca02c' notitle, \
     $d21 with linespoints lw 1.3 pt 5 ps 0.9 lc rgb '#2ca02c' notitle, \
     $d23 with linespoints dt 3 lw 1 pt 6 ps 1.2 lc rgb '#2ca02c' notitle, \
     $d24 with linespoints dt 3 lw 1 pt 6 ps 1.2 lc rgb '#ff7f0e' notitle, \
     $d25 with lines dt 2 lw 1.5 lc rgb '#ff7f0e' notitle, \
     $d26 with linespoints dt 3 lw 1 pt 6 ps 1.2 lc rgb '#9467bd' notitle, \
     $d27 with lines dt 2 lw 1.5 lc rgb '#9467bd' notitle, \
     $d28 using 1:2 with points pt 2 ps 2 lw 2.5 lc rgb 'black' notitle, \
     $d28 using 1:2:3:4 with labels left offset char 1.2,0 font ',8' tc rgb variable notitle, \
     NaN with linespoints lw 2.2 pt 7 ps 0.9 lc rgb 'gray20' title "measured (ridgeline)", \
     NaN with linespoints lw 1.3 pt 5 ps 0.9 lc rgb 'gray20' title "measured (transformers)", \
     NaN with lines dt 2 lw 1.5 lc rgb 'gray20' title "predicted (cost model)", \
     NaN with linespoints dt 3 lw 1 pt 6 ps 1.2 lc rgb 'gray20' title "imported CSV (decode: seed ms/token)", \
     NaN with points pt 2 ps 2 lw 2.5 lc rgb 'black' title "faster than datasheet floor (impossible)", \
     NaN with lines dt 4 lw 1.5 lc rgb 'gray20' title "ridge: predicted prefill crossing"
unset multiplot
set output
