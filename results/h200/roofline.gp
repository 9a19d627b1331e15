# roofline.gp: written by `ridgeline report`; re-run with `gnuplot roofline.gp` in this directory.
set encoding utf8
set termoption noenhanced
set terminal svg size 1280,720 dynamic font 'Sans,11' background rgb 'white'
set output 'roofline.svg'
$d0 << EOD
0.666667 0.00279973
0.999593 2.34789
3.75055 0.157419
0.99939 1.84286
0.666667 0.00274026
0.999721 3.63385
0.833333 0.0136403
0.999651 2.96196
0.666667 0.00345946
0.999504 4.07971
0.249998 0.00706878
0.992248 0.156457
62.3756 122.294
3.75055 4.68706
61.1418 94.3857
0.992248 0.148734
62.8772 220.168
0.833333 0.617765
62.4684 164.589
0.992248 0.15384
62.0306 243.014
0.249998 0.370682
0.999512 1.32521
722.824 573.229
0.535714 1.00986
414.004 144.004
585.214 511.231
0.999512 1.36289
796.444 696.006
0.833333 2.82646
735.205 644.18
0.666667 0.00239252
0.999504 4.07465
EOD
$d1 << EOD
1.00376 3.47789
3.98927 12.0776
15.5576 50.4493
56.5663 184.368
100.889 306.825
165.874 413.651
244.676 472.806
EOD
$d2 << EOD
57.1475 174.113
109.72 317.82
203.382 486.724
355.275 567.657
568.717 597.316
819.499 591.333
1072.08 577.899
EOD
$d3 << EOD
1.00376 1.99485
3.98927 7.17267
15.5576 23.01
56.5663 55.0882
100.889 72.0819
165.874 83.7323
244.676 89.0047
EOD
$d4 << EOD
57.1475 44.221
109.72 90.8528
203.382 175.737
355.275 211.586
568.717 465.754
819.499 496.625
1072.08 514.451
EOD
$d5 << EOD
1.00376 2.61225
3.98927 10.0491
15.5576 37.9248
56.5663 115.451
100.889 177.144
165.874 234.687
244.676 263.034
EOD
$d6 << EOD
57.1475 129.446
109.72 255.364
203.382 497.635
355.275 966.466
568.717 1702.89
819.499 3056.33
1072.08 5076.98
EOD
$d7 << EOD
1.00376 2.13864
3.98927 8.13951
15.5576 30.4641
56.5663 98.5038
100.889 155.608
165.874 216.301
244.676 250.911
EOD
$d8 << EOD
57.1475 105.261
109.72 204.641
203.382 394.827
355.275 738.946
568.717 1401.61
819.499 2417.21
1072.08 4147.68
EOD
$d9 << EOD
1.00376 1.26139
3.98927 4.8162
15.5576 18.0959
56.5663 51.7027
100.889 82.1703
165.874 110.374
244.676 110.928
EOD
$d10 << EOD
57.1475 67.1993
109.72 134.181
203.382 264.965
355.275 513.843
568.717 979.619
819.499 1811.43
1072.08 3100.33
EOD
$d11 << EOD
1.00376 0.684442
3.98927 2.59096
15.5576 10.1164
56.5663 33.8348
100.889 59.668
165.874 93.0275
244.676 94.8189
EOD
$d12 << EOD
57.1475 36.8174
109.72 73.3191
203.382 145.286
355.275 288.089
568.717 558.709
819.499 1070.93
1072.08 2031.46
EOD
$d13 << EOD
568.717 1702.89 "H200 L=1024" 2062260
819.499 3056.33 "H200 L=2048" 2062260
1072.08 5076.98 "H200 L=4096" 2062260
568.717 1401.61 "H100 L=1024" 2924588
819.499 2417.21 "H100 L=2048" 2924588
1072.08 4147.68 "H100 L=4096" 2924588
355.275 513.843 "A100-PCIe L=512" 16744206
568.717 979.619 "A100-PCIe L=1024" 16744206
819.499 1811.43 "A100-PCIe L=2048" 16744206
1072.08 3100.33 "A100-PCIe L=4096" 16744206
568.717 558.709 "L40S L=1024" 9725885
819.499 1070.93 "L40S L=2048" 9725885
1072.08 2031.46 "L40S L=4096" 9725885
EOD
unset arrow
unset label
set logscale xy 10
set grid
set samples 800
set xrange [0.1:10000]
set yrange [*:*]
set format y '%g'
set format x '%g'
roof(x, bw, pk) = (x * bw / 1000.0 < pk) ? x * bw / 1000.0 : pk
set key outside right top font ',10' spacing 1.1 box
set title "Roofline: attainable TFLOP/s vs arithmetic intensity (each kernel and each sweep point on its GPU's roofs)"
set xlabel "arithmetic intensity (FLOP/byte)"
set ylabel "TFLOP/s (1e12 FLOP/s)"
plot roof(x, 4800, 989) with lines dt 2 lw 1.5 lc rgb '#1f77b4' notitle, \
     roof(x, 4602.8, 810.524) with lines dt 1 lw 2.5 lc rgb '#1f77b4' notitle, \
     roof(x, 4080.93, 770.752) with lines dt 1 lw 2.5 lc rgb '#1f77b4' notitle, \
     roof(x, 3350, 989) with lines dt 2 lw 1.5 lc rgb '#2ca02c' notitle, \
     roof(x, 1935, 312) with lines dt 2 lw 1.5 lc rgb '#ff7f0e' notitle, \
     roof(x, 864, 362) with lines dt 2 lw 1.5 lc rgb '#9467bd' notitle, \
     $d0 with points pt 7 ps 0.6 lc rgb '#1f77b4' notitle, \
     $d1 with points pt 9 ps 1.3 lw 1.5 lc rgb '#1f77b4' notitle, \
     $d2 with points pt 5 ps 1.3 lw 1.5 lc rgb '#1f77b4' notitle, \
     $d3 with points pt 9 ps 1.3 lw 1.5 lc rgb '#1f77b4' notitle, \
     $d4 with points pt 5 ps 1.3 lw 1.5 lc rgb '#1f77b4' notitle, \
     $d5 with points pt 8 ps 1.3 lw 1.5 lc rgb '#1f77b4' notitle, \
     $d6 with points pt 4 ps 1.3 lw 1.5 lc rgb '#1f77b4' notitle, \
     $d7 with points pt 8 ps 1.3 lw 1.5 lc rgb '#2ca02c' notitle, \
     $d8 with points pt 4 ps 1.3 lw 1.5 lc rgb '#2ca02c' notitle, \
     $d9 with points pt 8 ps 1.3 lw 1.5 lc rgb '#ff7f0e' notitle, \
     $d10 with points pt 4 ps 1.3 lw 1.5 lc rgb '#ff7f0e' notitle, \
     $d11 with points pt 8 ps 1.3 lw 1.5 lc rgb '#9467bd' notitle, \
     $d12 with points pt 4 ps 1.3 lw 1.5 lc rgb '#9467bd' notitle, \
     $d13 using 1:2 with points pt 2 ps 2 lw 2.5 lc rgb 'black' notitle, \
     NaN with lines lw 4 lc rgb '#1f77b4' title "H200", \
     NaN with lines lw 4 lc rgb '#2ca02c' title "H100", \
     NaN with lines lw 4 lc rgb '#ff7f0e' title "A100-PCIe", \
     NaN with lines lw 4 lc rgb '#9467bd' title "L40S", \
     NaN with lines lw 2.5 lc rgb 'gray20' title "measured roof", \
     NaN with lines dt 2 lw 1.5 lc rgb 'gray20' title "datasheet roof", \
     NaN with points pt 7 ps 0.6 lc rgb 'gray20' title "kernel", \
     NaN with points pt 9 ps 1.3 lc rgb 'gray20' title "decode step", \
     NaN with points pt 5 ps 1.3 lc rgb 'gray20' title "prefill", \
     NaN with points pt 8 ps 1.3 lc rgb 'gray20' title "decode, imported (seed ms/token)", \
     NaN with points pt 4 ps 1.3 lc rgb 'gray20' title "prefill, imported", \
     NaN with points pt 2 ps 2 lw 2.5 lc rgb 'black' title "faster than datasheet floor (impossible)"
set terminal pngcairo size 1280,720 font 'Sans,10' background rgb 'white'
set output 'roofline.png'
$d0 << EOD
0.666667 0.00279973
0.999593 2.34789
3.75055 0.157419
0.99939 1.84286
0.666667 0.00274026
0.999721 3.63385
0.833333 0.0136403
0.999651 2.96196
0.666667 0.00345946
0.999504 4.07971
0.249998 0.00706878
0.992248 0.156457
62.3756 122.294
3.75055 4.68706
61.1418 94.3857
0.992248 0.148734
62.8772 220.168
0.833333 0.617765
62.4684 164.589
0.992248 0.15384
62.0306 243.014
0.249998 0.370682
0.999512 1.32521
722.824 573.229
0.535714 1.00986
414.004 144.004
585.214 511.231
0.999512 1.36289
796.444 696.006
0.833333 2.82646
735.205 644.18
0.666667 0.00239252
0.999504 4.07465
EOD
$d1 << EOD
1.00376 3.47789
3.98927 12.0776
15.5576 50.4493
56.5663 184.368
100.889 306.825
165.874 413.651
244.676 472.806
EOD
$d2 << EOD
57.1475 174.113
109.72 317.82
203.382 486.724
355.275 567.657
568.717 597.316
819.499 591.333
1072.08 577.899
EOD
$d3 << EOD
1.00376 1.99485
3.98927 7.17267
15.5576 23.01
56.5663 55.0882
100.889 72.0819
165.874 83.7323
244.676 89.0047
EOD
$d4 << EOD
57.1475 44.221
109.72 90.8528
203.382 175.737
355.275 211.586
568.717 465.754
819.499 496.625
1072.08 514.451
EOD
$d5 << EOD
1.00376 2.61225
3.98927 10.0491
15.5576 37.9248
56.5663 115.451
100.889 177.144
165.874 234.687
244.676 263.034
EOD
$d6 << EOD
57.1475 129.446
109.72 255.364
203.382 497.635
355.275 966.466
568.717 1702.89
819.499 3056.33
1072.08 5076.98
EOD
$d7 << EOD
1.00376 2.13864
3.98927 8.13951
15.5576 30.4641
56.5663 98.5038
100.889 155.608
165.874 216.301
244.676 250.911
EOD
$d8 << EOD
57.1475 105.261
109.72 204.641
203.382 394.827
355.275 738.946
568.717 1401.61
819.499 2417.21
1072.08 4147.68
EOD
$d9 << EOD
1.00376 1.26139
3.98927 4.8162
15.5576 18.0959
56.5663 51.7027
100.889 82.1703
165.874 110.374
244.676 110.928
EOD
$d10 << EOD
57.1475 67.1993
109.72 134.181
203.382 264.965
355.275 513.843
568.717 979.619
819.499 1811.43
1072.08 3100.33
EOD
$d11 << EOD
1.00376 0.684442
3.98927 2.59096
15.5576 10.1164
56.5663 33.8348
100.889 59.668
165.874 93.0275
244.676 94.8189
EOD
$d12 << EOD
57.1475 36.8174
109.72 73.3191
203.382 145.286
355.275 288.089
568.717 558.709
819.499 1070.93
1072.08 2031.46
EOD
$d13 << EOD
568.717 1702.89 "H200 L=1024" 2062260
819.499 3056.33 "H200 L=2048" 2062260
1072.08 5076.98 "H200 L=4096" 2062260
568.717 1401.61 "H100 L=1024" 2924588
819.499 2417.21 "H100 L=2048" 2924588
1072.08 4147.68 "H100 L=4096" 2924588
355.275 513.843 "A100-PCIe L=512" 16744206
568.717 979.619 "A100-PCIe L=1024" 16744206
819.499 1811.43 "A100-PCIe L=2048" 16744206
1072.08 3100.33 "A100-PCIe L=4096" 16744206
568.717 558.709 "L40S L=1024" 9725885
819.499 1070.93 "L40S L=2048" 9725885
1072.08 2031.46 "L40S L=4096" 9725885
EOD
unset arrow
unset label
set logscale xy 10
set grid
set samples 800
set xrange [0.1:10000]
set yrange [*:*]
set format y '%g'
set format x '%g'
roof(x, bw, pk) = (x * bw / 1000.0 < pk) ? x * bw / 1000.0 : pk
set key outside right top font ',10' spacing 1.1 box
set title "Roofline: attainable TFLOP/s vs arithmetic intensity (each kernel and each sweep point on its GPU's roofs)"
set xlabel "arithmetic intensity (FLOP/byte)"
set ylabel "TFLOP/s (1e12 FLOP/s)"
plot roof(x, 4800, 989) with lines dt 2 lw 1.5 lc rgb '#1f77b4' notitle, \
     roof(x, 4602.8, 810.524) with lines dt 1 lw 2.5 lc rgb '#1f77b4' notitle, \
     roof(x, 4080.93, 770.752) with lines dt 1 lw 2.5 lc rgb '#1f77b4' notitle, \
     roof(x, 3350, 989) with lines dt 2 lw 1.5 lc rgb '#2ca02c' notitle, \
     roof(x, 1935, 312) with lines dt 2 lw 1.5 lc rgb '#ff7f0e' notitle, \
     roof(x, 864, 362) with lines dt 2 lw 1.5 lc rgb '#9467bd' notitle, \
     $d0 with points pt 7 ps 0.6 lc rgb '#1f77b4' notitle, \
     $d1 with points pt 9 ps 1.3 lw 1.5 lc rgb '#1f77b4' notitle, \
     $d2 with points pt 5 ps 1.3 lw 1.5 lc rgb '#1f77b4' notitle, \
     $d3 with points pt 9 ps 1.3 lw 1.5 lc rgb '#1f77b4' notitle, \
     $d4 with points pt 5 ps 1.3 lw 1.5 lc rgb '#1f77b4' notitle, \
     $d5 with points pt 8 ps 1.3 lw 1.5 lc rgb '#1f77b4' notitle, \
     $d6 with points pt 4 ps 1.3 lw 1.5 lc rgb '#1f77b4' notitle, \
     $d7 with points pt 8 ps 1.3 lw 1.5 lc rgb '#2ca02c' notitle, \
     $d8 with points pt 4 ps 1.3 lw 1.5 lc rgb '#2ca02c' notitle, \
     $d9 with points pt 8 ps 1.3 lw 1.5 lc rgb '#ff7f0e' notitle, \
     $d10 with points pt 4 ps 1.3 lw 1.5 lc rgb '#ff7f0e' notitle, \
     $d11 with points pt 8 ps 1.3 lw 1.5 lc rgb '#9467bd' notitle, \
     $d12 with points pt 4 ps 1.3 lw 1.5 lc rgb '#9467bd' notitle, \
     $d13 using 1:2 with points pt 2 ps 2 lw 2.5 lc rgb 'black' notitle, \
     NaN with lines lw 4 lc rgb '#1f77b4' title "H200", \
     NaN with lines lw 4 lc rgb '#2ca02c' title "H100", \
     NaN with lines lw 4 lc rgb '#ff7f0e' title "A100-PCIe", \
     NaN with lines lw 4 lc rgb '#9467bd' title "L40S", \
     NaN with lines lw 2.5 lc rgb 'gray20' title "measured roof", \
     NaN with lines dt 2 lw 1.5 lc rgb 'gray20' title "datasheet roof", \
     NaN with points pt 7 ps 0.6 lc rgb 'gray20' title "kernel", \
     NaN with points pt 9 ps 1.3 lc rgb 'gray20' title "decode step", \
     NaN with points pt 5 ps 1.3 lc rgb 'gray20' title "prefill", \
     NaN with points pt 8 ps 1.3 lc rgb 'gray20' title "decode, imported (seed ms/token)", \
     NaN with points pt 4 ps 1.3 lc rgb 'gray20' title "prefill, imported", \
     NaN with points pt 2 ps 2 lw 2.5 lc rgb 'black' title "faster than datasheet floor (impossible)"
set output
