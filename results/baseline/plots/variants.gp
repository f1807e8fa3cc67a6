# Variant comparison: median per benchmark and variant, whisker up to the p99.
# Written by scripts/bench_plot.py from ../summary.csv; edit freely and re-run:
#   cd <run dir>/plots && gnuplot variants.gp
# Columns of summary.csv used: variant=1 benchmark=2 median=4 p99=6
set terminal pngcairo size 15080,600 noenhanced font ',9'
set output 'variants-gnuplot.png'
set datafile separator ','
set title 'variant comparison'
set ylabel 'median per operation (instructions); whisker: p99'
set xlabel 'benchmark'
set logscale y
set grid ytics
set key outside top center horizontal title 'variant'
set style fill solid 0.7 border -1
set xtics rotate by -40 scale 0 ('context_switch/kernel_thread' 0, 'frame_alloc/order:0' 1, 'frame_alloc/order:9' 2, 'frame_free/order:0' 3, 'kmem_alloc/size:1024' 4, 'kmem_alloc/size:64' 5, 'kmem_free/size:64' 6, 'page_map' 7, 'page_unmap' 8, 'sched_decision/put_prev+pick_next' 9, 'cap/check' 10, 'cap/info' 11, 'ipc/call/inter_as/oneway/fast' 12, 'ipc/call_reply/inter_as/as_booted' 13, 'ipc/call_reply/inter_as/fast' 14, 'ipc/call_reply/inter_as/slow' 15, 'ipc/call_reply/intra_as/fast' 16, 'ipc/call_reply/intra_as/slow' 17, 'ipc/nop_baseline' 18, 'ipc/notify/signal_wait/intra_as' 19, 'ipc/reply_recv/inter_as/oneway/fast' 20, 'process/spawn' 21, 'process/spawn_wait' 22, 'ring/notify/batch:1' 23, 'ring/notify/batch:16' 24, 'ring/notify/batch:32' 25, 'ring/poll/batch:1' 26, 'ring/poll/batch:16' 27, 'ring/poll/batch:32' 28, 'ring/proc/notify/batch:1' 29, 'ring/proc/notify/batch:16' 30, 'ring/proc/poll/batch:1' 31, 'ring/proc/poll/batch:16' 32, 'syscall/getpid' 33, 'syscall/nop_baseline' 34, 'syscall/null' 35, 'transport/fastpath/call_reply/size:512' 36, 'transport/fastpath/call_reply/size:56' 37, 'transport/fastpath/call_reply/size:64' 38, 'transport/ring/call_reply/size:512' 39, 'transport/ring/call_reply/size:56' 40, 'transport/ring/call_reply/size:64' 41, 'transport/zcopy/call_reply/size:4096' 42, 'transport/zcopy/call_reply/size:512' 43, 'transport/zcopy/call_reply/size:56' 44, 'transport/zcopy/call_reply/size:64' 45, 'transport/zcopy/call_reply/size:65536' 46, 'xfer/copy/size:1024' 47, 'xfer/copy/size:1048576' 48, 'xfer/copy/size:4096' 49, 'xfer/copy/size:64' 50, 'xfer/copy/size:65536' 51, 'xfer/grant/size:1048576' 52, 'xfer/grant/size:4096' 53, 'xfer/grant/size:65536' 54, 'xfer/pool/size:1024' 55, 'xfer/pool/size:1048576' 56, 'xfer/pool/size:4096' 57, 'xfer/pool/size:64' 58, 'xfer/pool/size:65536' 59, 'yield/cross_as' 60, 'yield/same_as' 61)
set xrange [-0.6:61.6]
# x position of a benchmark name (one slot per benchmark, in CSV order)
bx(s) = (s eq 'context_switch/kernel_thread') ? 0 : (s eq 'frame_alloc/order:0') ? 1 : (s eq 'frame_alloc/order:9') ? 2 : (s eq 'frame_free/order:0') ? 3 : (s eq 'kmem_alloc/size:1024') ? 4 : (s eq 'kmem_alloc/size:64') ? 5 : (s eq 'kmem_free/size:64') ? 6 : (s eq 'page_map') ? 7 : (s eq 'page_unmap') ? 8 : (s eq 'sched_decision/put_prev+pick_next') ? 9 : (s eq 'cap/check') ? 10 : (s eq 'cap/info') ? 11 : (s eq 'ipc/call/inter_as/oneway/fast') ? 12 : (s eq 'ipc/call_reply/inter_as/as_booted') ? 13 : (s eq 'ipc/call_reply/inter_as/fast') ? 14 : (s eq 'ipc/call_reply/inter_as/slow') ? 15 : (s eq 'ipc/call_reply/intra_as/fast') ? 16 : (s eq 'ipc/call_reply/intra_as/slow') ? 17 : (s eq 'ipc/nop_baseline') ? 18 : (s eq 'ipc/notify/signal_wait/intra_as') ? 19 : (s eq 'ipc/reply_recv/inter_as/oneway/fast') ? 20 : (s eq 'process/spawn') ? 21 : (s eq 'process/spawn_wait') ? 22 : (s eq 'ring/notify/batch:1') ? 23 : (s eq 'ring/notify/batch:16') ? 24 : (s eq 'ring/notify/batch:32') ? 25 : (s eq 'ring/poll/batch:1') ? 26 : (s eq 'ring/poll/batch:16') ? 27 : (s eq 'ring/poll/batch:32') ? 28 : (s eq 'ring/proc/notify/batch:1') ? 29 : (s eq 'ring/proc/notify/batch:16') ? 30 : (s eq 'ring/proc/poll/batch:1') ? 31 : (s eq 'ring/proc/poll/batch:16') ? 32 : (s eq 'syscall/getpid') ? 33 : (s eq 'syscall/nop_baseline') ? 34 : (s eq 'syscall/null') ? 35 : (s eq 'transport/fastpath/call_reply/size:512') ? 36 : (s eq 'transport/fastpath/call_reply/size:56') ? 37 : (s eq 'transport/fastpath/call_reply/size:64') ? 38 : (s eq 'transport/ring/call_reply/size:512') ? 39 : (s eq 'transport/ring/call_reply/size:56') ? 40 : (s eq 'transport/ring/call_reply/size:64') ? 41 : (s eq 'transport/zcopy/call_reply/size:4096') ? 42 : (s eq 'transport/zcopy/call_reply/size:512') ? 43 : (s eq 'transport/zcopy/call_reply/size:56') ? 44 : (s eq 'transport/zcopy/call_reply/size:64') ? 45 : (s eq 'transport/zcopy/call_reply/size:65536') ? 46 : (s eq 'xfer/copy/size:1024') ? 47 : (s eq 'xfer/copy/size:1048576') ? 48 : (s eq 'xfer/copy/size:4096') ? 49 : (s eq 'xfer/copy/size:64') ? 50 : (s eq 'xfer/copy/size:65536') ? 51 : (s eq 'xfer/grant/size:1048576') ? 52 : (s eq 'xfer/grant/size:4096') ? 53 : (s eq 'xfer/grant/size:65536') ? 54 : (s eq 'xfer/pool/size:1024') ? 55 : (s eq 'xfer/pool/size:1048576') ? 56 : (s eq 'xfer/pool/size:4096') ? 57 : (s eq 'xfer/pool/size:64') ? 58 : (s eq 'xfer/pool/size:65536') ? 59 : (s eq 'yield/cross_as') ? 60 : (s eq 'yield/same_as') ? 61 : NaN
variants = 'rr rr-nofast prio prio-nofast'
nv = words(variants)
w = 0.8 / nv
xpos(s, i) = bx(s) - 0.4 + w * (i - 0.5)
sel(i) = (strcol(1) eq word(variants, i))
plot for [i=1:nv] '../summary.csv' every ::1 \
        using (sel(i) ? xpos(strcol(2), i) : NaN):4:(w) \
        with boxes title word(variants, i), \
     for [i=1:nv] '../summary.csv' every ::1 \
        using (sel(i) ? xpos(strcol(2), i) : NaN):4:4:6 \
        with yerrorbars lc rgb 'black' pt 7 ps 0 notitle
