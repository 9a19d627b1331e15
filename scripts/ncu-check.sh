#!/usr/bin/env bash
# Counters check: the cost model's bytes against the hardware's DRAM counters (Nsight Compute) for
# one graphed decode step at B = 1 and B = 64 and one prefill at L = 1024, into OUT/ncu-check.json
# (the schema of shared/CONTRACT.md; the report shows it when it sits beside results.json).
#
#   scripts/ncu-check.sh [OUT]          OUT defaults to results/<gpu> (scripts/lab-out-dir.sh)
#
# Each case runs `ridgeline step` under ncu: the step's warm-up (kernel choice timing, graph capture)
# happens outside a cudaProfilerStart/Stop range and ncu (--profile-from-start off) profiles only the
# step inside it, every kernel node of the decode graph one by one (--graph-profiling node), clocks
# left alone (--clock-control none) and caches not flushed between kernels (--cache-control none:
# the L2 keeps what the real step would). The prefill's kernels are named after the engine's launch
# ranges (--nvtx --print-nvtx-rename kernel) so library kernels are attributed exactly.
# Everything ncu and ridgeline print goes to OUT/ncu-check/*.log; a failure names the case, the log
# and the remedy. Environment: RIDGELINE (default build/ridgeline), NCU (default: ncu on PATH, else
# the newest /usr/local/cuda*/bin/ncu or /opt/nvidia/nsight-compute/*/ncu), STEP_ARGS (extra
# arguments of `ridgeline step`, e.g. "--model llama-3.1-8b").
set -uo pipefail
cd "$(dirname "$0")/.."
fail() { echo "ncu-check: $*" >&2; exit 1; }

R=${RIDGELINE:-build/ridgeline}
[ -x "$R" ] || fail "$R not found or not executable: build first (make), or set RIDGELINE=/path/to/ridgeline"
NCU=${NCU:-$(command -v ncu || true)}
if [ -z "$NCU" ]; then
  for c in /usr/local/cuda*/bin/ncu /opt/nvidia/nsight-compute/*/ncu; do [ -x "$c" ] && NCU=$c; done
fi
[ -n "$NCU" ] && [ -x "$NCU" ] || fail "Nsight Compute (ncu) not found: install it (apt-get install nsight-compute, or the CUDA toolkit's) or set NCU=/path/to/ncu"
nvidia-smi -L >/dev/null 2>&1 || fail "no NVIDIA GPU visible (nvidia-smi -L failed)"
out=${1:-$(scripts/lab-out-dir.sh)}
work=$out/ncu-check
mkdir -p "$work" || fail "cannot create $work"
log=$work/ncu-check.log
: >"$log" || fail "cannot write $log"
say() { echo "$*" | tee -a "$log"; }

say "ncu-check: $("$NCU" --version | tail -n1) on $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -n1)"
say "ncu-check: $("$R" --version)"
metrics=dram__bytes_read.sum,dram__bytes_write.sum,gpu__time_duration.sum
common=(--clock-control none --cache-control none --profile-from-start off --graph-profiling node
        --target-processes all --metrics "$metrics" --csv)
rename=()
if "$NCU" --help 2>&1 | grep -q -- '--print-nvtx-rename'; then
  rename=(--nvtx --print-nvtx-rename kernel)
else
  say "ncu-check: this ncu has no --print-nvtx-rename; prefill kernels are matched by position (may not add up)"
fi
read -r -a extra <<<"${STEP_ARGS:-}"

cases=()
commands=""
run_case() { # name, [rename], step arguments...
  local name=$1 ren=$2
  shift 2
  local csv=$work/$name.csv step=$work/$name.step.json clog=$work/$name.log
  local args=("$NCU" "${common[@]}")
  [ "$ren" = rename ] && args+=("${rename[@]}")
  args+=(--log-file "$csv" "$R" step "$@" "${extra[@]}" --plan-out "$step" --quiet)
  say "ncu-check: $name: ${args[*]}"
  rm -f "$csv" "$step"
  "${args[@]}" >"$clog" 2>&1
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    cat "$clog" >>"$log"
    if grep -q 'ERR_NVGPUCTRPERM' "$clog" "$csv" 2>/dev/null; then
      fail "$name: ncu may not read the GPU's counters (ERR_NVGPUCTRPERM): run as root or set NVreg_RestrictProfilingToAdminUsers=0 (log: $clog)"
    fi
    fail "$name: ncu or ridgeline step failed (exit $rc); last lines of $clog: $(tail -n 3 "$clog" | tr '\n' ' ')"
  fi
  cat "$clog" >>"$log"
  [ -s "$step" ] || fail "$name: ridgeline step wrote no step file ($step; log: $clog)"
  if ! grep -q '"Kernel Name"' "$csv" 2>/dev/null; then
    # Some ncu versions print the CSV report on stdout despite --log-file: take it from there.
    if grep -q '"Kernel Name"' "$clog"; then
      cp "$clog" "$csv"
    else
      fail "$name: no CSV with a \"Kernel Name\" column in $csv or $clog: did ncu profile anything inside the cudaProfilerStart/Stop range? (log: $clog)"
    fi
  fi
  cases+=(--case "$step,$csv")
  commands="$commands${commands:+; }${args[*]}"
}

run_case decode-1 plain --decode --batch 1
run_case decode-64 plain --decode --batch 64
run_case prefill-1024 rename --prefill --length 1024

say "ncu-check: joining with the cost model"
"$R" ncu-check "${cases[@]}" --out "$out/ncu-check.json" --command "$commands" 2>&1 | tee -a "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "ridgeline ncu-check failed (see $log)"
say "ncu-check: wrote $out/ncu-check.json (logs and CSVs in $work)"
