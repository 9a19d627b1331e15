#!/usr/bin/env bash
# The whole lab on a GPU machine without internet, as the project runs it on its lent H100/H200:
#   scripts/carry-deps.sh download            (here, once: fetches the cJSON .debs into .deps/)
#   copy the tree with .deps/ to the GPU machine, then there:
#   RL_GIT_COMMIT=<commit> scripts/device-lab.sh [OUTDIR_FOR_TARBALL]
# It unpacks the carried packages, builds, runs `make lab` (timed), runs the two transformers peers
# on the same shapes (eager with a CUDA-graphed static cache, then the torch.compile one, bounded to
# PEER_COMPILE_S seconds, default 300: it starts no batch after 240 s and is stopped with SIGTERM at
# the limit, keeping the points it finished), re-renders the report with the peers and the seed's
# published table beside ours, and packs results/<gpu>/ into OUTDIR/lab.tgz.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-.}
gpu_dir=$(scripts/lab-out-dir.sh)
scripts/carry-deps.sh unpack >/dev/null || { echo "device-lab: cannot unpack .deps (run scripts/carry-deps.sh download first)" >&2; exit 1; }
make build CMAKE_FLAGS="-DCMAKE_CUDA_ARCHITECTURES=90a" >build.log 2>&1 || { tail -30 build.log; exit 1; }
t0=$(date +%s.%N)
make lab LAB_OUT="$gpu_dir" 2>&1 | tee lab.log
lab_rc=${PIPESTATUS[0]}
t1=$(date +%s.%N)
lab_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
echo "device-lab: make lab took ${lab_s} s (exit ${lab_rc})" | tee -a lab.log
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,power.limit --format=csv >"$gpu_dir/nvidia-smi.csv" 2>&1
PYTHONUNBUFFERED=1 python3 scripts/peer_transformers.py --out "$gpu_dir/peer_transformers.json" 2>&1 | tee peer.log | tail -20
compile_s=${PEER_COMPILE_S:-300}
PYTHONUNBUFFERED=1 timeout -s TERM -k 20 "$compile_s" python3 scripts/peer_transformers.py --compile \
  --max-seconds $((compile_s * 4 / 5)) --out "$gpu_dir/peer_compile.json" 2>&1 | tee peer_compile.log | tail -20
peers=()
for f in "$gpu_dir/peer_transformers.json" "$gpu_dir/peer_compile.json"; do [ -s "$f" ] && peers+=("$f"); done
./build/ridgeline report "$gpu_dir/results.json" "${peers[@]}" \
  --import-csv tests/data/seed_measurements.csv --out "$gpu_dir" 2>&1 | tail -5
printf 'make lab: %s s (exit %s)\ncommit: %s\n' "$lab_s" "$lab_rc" "${RL_GIT_COMMIT:-unknown}" >"$gpu_dir/lab-time.txt"
cp lab.log peer.log peer_compile.log "$gpu_dir/" 2>/dev/null
tar czf "$out/lab.tgz" "$gpu_dir"
exit "$lab_rc"
