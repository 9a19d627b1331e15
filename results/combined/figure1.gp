# figure1.gp: written by `ridgeline report`; re-run with `gnuplot figure1.gp` in this directory.
set encoding utf8
set termoption noenhanced
set terminal svg size 1280,540 dynamic font 'Sans,11' background rgb 'white'
set output 'figure1.svg'
$d0 << EOD
1 4.34136
4 5.0006
16 4.78858
64 5.24128
128 6.29884
256 9.34432
512 16.3504
EOD
$d1 << EOD
1 3.26806
4 3.28917
16 3.37363
64 3.71144
128 4.16185
256 6.23646
512 12.4728
EOD
$d2 << EOD
1 7.56889
4 8.42017
16 10.4989
64 17.5414
128 26.8118
256 46.1625
512 86.8559
EOD
$d3 << EOD
1 3.68598
4 3.7098
16 3.80505
64 4.18606
128 4.69407
256 6.67237
512 13.3446
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
1 6.08871
4 6.23519
16 6.33434
64 6.87812
128 7.67146
256 10.1617
512 17.1686
EOD
$d6 << EOD
1 4.89873
4 4.93038
16 5.05697
64 5.56334
128 6.2385
256 7.58881
512 14.087
EOD
$d7 << EOD
1 9.02136
4 9.9194
16 12.1663
64 19.5159
128 29.3794
256 49.3083
512 91.351
EOD
$d8 << EOD
1 4.96026
4 4.9923
16 5.12049
64 5.63321
128 6.31685
256 7.68413
512 14.3196
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
64 5.14476
128 5.64046
256 7.38186
512 12.7181
1024 24.4037
2048 50.2382
4096 106.653
EOD
$d15 << EOD
64 3.40546
128 3.54966
256 4.93726
512 9.6588
1024 19.2602
2048 38.9767
4096 80.4644
EOD
$d16 << EOD
64 20.2566
128 19.7314
256 20.4449
512 34.1209
1024 31.297
2048 59.8189
4096 119.806
EOD
$d17 << EOD
64 3.84095
128 4.0036
256 5.23234
512 10.2148
1024 20.3519
2048 41.1661
4096 84.9553
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
64 7.11333
128 6.98719
256 8.20369
512 13.559
1024 25.1431
2048 52.3263
4096 112.792
EOD
$d20 << EOD
64 5.10468
128 5.32084
256 5.75316
512 10.1722
1024 20.1304
2048 40.6118
4096 83.6556
EOD
$d21 << EOD
64 17.4315
128 17.5436
256 17.1666
512 19.6352
1024 32.305
2048 62.5123
4096 127.33
EOD
$d22 << EOD
64 5.1688
128 5.38767
256 5.82542
512 10.3517
1024 20.4887
2048 41.3368
4096 85.1523
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
set yrange [2.089:1242]
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
1 4.34136
4 5.0006
16 4.78858
64 5.24128
128 6.29884
256 9.34432
512 16.3504
EOD
$d1 << EOD
1 3.26806
4 3.28917
16 3.37363
64 3.71144
128 4.16185
256 6.23646
512 12.4728
EOD
$d2 << EOD
1 7.56889
4 8.42017
16 10.4989
64 17.5414
128 26.8118
256 46.1625
512 86.8559
EOD
$d3 << EOD
1 3.68598
4 3.7098
16 3.80505
64 4.18606
128 4.69407
256 6.67237
512 13.3446
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
1 6.08871
4 6.23519
16 6.33434
64 6.87812
128 7.67146
256 10.1617
512 17.1686
EOD
$d6 << EOD
1 4.89873
4 4.93038
16 5.05697
64 5.56334
128 6.2385
256 7.58881
512 14.087
EOD
$d7 << EOD
1 9.02136
4 9.9194
16 12.1663
64 19.5159
128 29.3794
256 49.3083
512 91.351
EOD
$d8 << EOD
1 4.96026
4 4.9923
16 5.12049
64 5.63321
128 6.31685
256 7.68413
512 14.3196
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
64 5.14476
128 5.64046
256 7.38186
512 12.7181
1024 24.4037
2048 50.2382
4096 106.653
EOD
$d15 << EOD
64 3.40546
128 3.54966
256 4.93726
512 9.6588
1024 19.2602
2048 38.9767
4096 80.4644
EOD
$d16 << EOD
64 20.2566
128 19.7314
256 20.4449
512 34.1209
1024 31.297
2048 59.8189
4096 119.806
EOD
$d17 << EOD
64 3.84095
128 4.0036
256 5.23234
512 10.2148
1024 20.3519
2048 41.1661
4096 84.9553
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
64 7.11333
128 6.98719
256 8.20369
512 13.559
1024 25.1431
2048 52.3263
4096 112.792
EOD
$d20 << EOD
64 5.10468
128 5.32084
256 5.75316
512 10.1722
1024 20.1304
2048 40.6118
4096 83.6556
EOD
$d21 << EOD
64 17.4315
128 17.5436
256 17.1666
512 19.6352
1024 32.305
2048 62.5123
4096 127.33
EOD
$d22 << EOD
64 5.1688
128 5.38767
256 5.82542
512 10.3517
1024 20.4887
2048 41.3368
4096 85.1523
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
set yrange [2.089:1242]
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
