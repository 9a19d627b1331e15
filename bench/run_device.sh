#!/usr/bin/env bash
# bench/run_device.sh: one GPU session's build, CUDA tests and benchmarks in one call. Logs land
# in $OUT (the device tool brings them back); a short summary is printed last.
# Usage (repository root): bench/run_device.sh [quick]
set -u
OUT=${OUT:-/tmp/rl_out}
mkdir -p "$OUT"
Q=${1:-}
scripts/carry-deps.sh unpack >/dev/null || exit 1
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.draw,power.limit,temperature.gpu \
  --format=csv > "$OUT/env.txt" 2>&1
git log -1 --format='commit %H %s' >> "$OUT/env.txt" 2>/dev/null
t0=$(date +%s)
if ! { cmake -S . -B build-dev -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90a &&
       cmake --build build-dev -j16; } > "$OUT/build.log" 2>&1; then
  tail -40 "$OUT/build.log"; exit 1
fi
echo "build: $(( $(date +%s) - t0 )) s"
timeout 120 build-dev/bench/bench_gemv > "$OUT/bench_gemv.log" 2>&1; echo "bench_gemv rc=$? ($(( $(date +%s) - t0 )) s)"
timeout 120 build-dev/bench/bench_attention ${Q:+--prefill-only} > "$OUT/bench_attention.log" 2>&1
echo "bench_attention rc=$? ($(( $(date +%s) - t0 )) s)"
timeout 200 ctest --test-dir build-dev -R cuda -V > "$OUT/tests.log" 2>&1
echo "tests rc=$? ($(( $(date +%s) - t0 )) s)"
timeout 240 build-dev/bench/bench_decode_step --json "$OUT/bench_decode_step.json" ${Q:+--quick} \
  > "$OUT/bench_decode_step.log" 2>&1; echo "bench_decode_step rc=$? ($(( $(date +%s) - t0 )) s)"
nvidia-smi --query-gpu=clocks.sm,clocks.mem,power.draw,temperature.gpu --format=csv >> "$OUT/env.txt" 2>&1
echo "== tests"; grep -E "max\\|diff|vs |batch|Passed|Failed|CHECK|tests passed|FAIL" "$OUT/tests.log" | head -60
echo "== bench_gemv"; grep -E "mismatch|layer|B=|FAIL|ok:" "$OUT/bench_gemv.log" | head -40
echo "== bench_attention"; grep -E "prefill|FAIL|ok:" "$OUT/bench_attention.log" | head -30
echo "== bench_decode_step"; tail -c 3000 "$OUT/bench_decode_step.log"
