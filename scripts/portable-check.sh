#!/usr/bin/env bash
# The A100 / L40S code path proven on the GPU at hand: for each CUDA target (default 80-virtual:
# compute_80 PTX only, which the driver JIT-compiles, the code path an A100 runs) a build of its
# own, every CUDA test and a quick lab, with the logs under OUTDIR/<target>/:
#   build.log, cuda-tests.log (ctest -R cuda -V), lab.log and lab/ (results.json, report.md, charts),
#   summary.txt (one line per step: exit status, seconds, log); OUTDIR/env.txt: GPU, driver, nvcc, commit.
# On the lent GPU machine (no internet), after `scripts/carry-deps.sh download` here (carry .deps):
#   RL_GIT_COMMIT=<commit> scripts/portable-check.sh results/h200/portable [TARGET...]
# TARGET: any CMAKE_CUDA_ARCHITECTURES entry, e.g. 89-virtual (the L40S's compute_89 PTX: the
# same source as compute_80, no kernel branches on sm_89) or 90-virtual (the sm90 path). Each
# target takes a few minutes; run them in separate calls where a call is time-limited.
# Exits 0 only when every build, test and lab passed, no CUDA test was skipped, and every lab ran
# the code path its target implies (results.json device.code_path).
set -uo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ] || [ "$1" = "--help" ]; then
  echo "usage: scripts/portable-check.sh OUTDIR [CUDA_TARGET...]   (default target 80-virtual)" >&2
  exit 2
fi
out=$1
shift
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(80-virtual)
mkdir -p "$out" || { echo "portable-check: cannot create $out" >&2; exit 1; }
if [ ! -f /usr/include/cjson/cJSON.h ]; then
  scripts/carry-deps.sh unpack >/dev/null ||
    { echo "portable-check: cJSON missing and .deps cannot be unpacked (run scripts/carry-deps.sh download first)" >&2; exit 1; }
fi
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: ${RL_GIT_COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}"
  echo "targets: ${targets[*]}"
  nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv 2>&1
  nvcc --version 2>&1 | tail -2
} >"$out/env.txt"

# The code path results.json must name for a target: below 90 the sm80 path, 90a the Hopper one.
expected_path() {
  case $1 in
    *a|*a-*) echo sm90a ;;
    *) [ "${1%%[!0-9]*}" -lt 90 ] 2>/dev/null && echo sm80 || echo sm90 ;;
  esac
}

# step SUMMARY NAME LOG COMMAND...: runs COMMAND with its output in LOG, records status and time.
step() {
  local summary=$1 name=$2 log=$3
  shift 3
  local t0 rc
  t0=$(date +%s)
  "$@" >"$log" 2>&1
  rc=$?
  printf '%-12s %-11s exit %3d %6d s  %s\n' "$target" "$name" "$rc" "$(($(date +%s) - t0))" "$log" | tee -a "$summary"
  return "$rc"
}

build_target() { # build_target BUILD_DIR TARGET
  cmake -S . -B "$1" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$2" && cmake --build "$1" -j "$(nproc)"
}

failed=0
for target in "${targets[@]}"; do
  case $target in *[!0-9a-z-]*|"") echo "portable-check: bad target '$target'" >&2; failed=1; continue ;; esac
  dir=$out/$target
  bdir=build-portable-$target
  mkdir -p "$dir"
  summary=$dir/summary.txt
  : >"$summary"
  if ! step "$summary" build "$dir/build.log" build_target "$bdir" "$target"; then failed=1; continue; fi
  step "$summary" cuda-tests "$dir/cuda-tests.log" ctest --test-dir "$bdir" -R cuda -V || failed=1
  if grep -q -- '\*\*\*Skipped\|Not Run' "$dir/cuda-tests.log"; then
    echo "$target: a CUDA test was skipped (no GPU seen?)" | tee -a "$summary"
    failed=1
  fi
  step "$summary" lab "$dir/lab.log" "$bdir/ridgeline" lab --out "$dir/lab" --batches 1,16,64 --lengths 128,1024 ||
    failed=1
  want=$(expected_path "$target")
  if grep -Eq "\"code_path\":[[:space:]]*\"$want\"" "$dir/lab/results.json" 2>/dev/null; then
    echo "$target: results.json device.code_path is $want" | tee -a "$summary"
  else
    echo "$target: results.json device.code_path is not $want: $(grep -o '"code_path":[^,]*' "$dir/lab/results.json" 2>&1)" |
      tee -a "$summary"
    failed=1
  fi
done
[ "$failed" -eq 0 ] && echo "portable-check: all passed (${targets[*]})" || echo "portable-check: FAILED, see $out/*/summary.txt"
exit "$failed"
