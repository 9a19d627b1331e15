#!/usr/bin/env bash
# CLI tests for probe and sweep on the CPU backend: the roofs file round trip through predict,
# sweep points and per-kernel rows, the ncu import, a failing point, and one-line errors for bad input.
# usage: cli_measure.sh RIDGELINE DATA_DIR
set -u
R=$1
D=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
expect_ok() { # description, command...
  local d=$1; shift
  if out=$("$@" 2>"$T/stderr"); then ok; else bad "$d: exit $?: $(tail -n 3 "$T/stderr")"; fi
}
expect_err() { # description, exit code, message fragment, command...
  local d=$1 want=$2 frag=$3; shift 3
  out=$("$@" 2>&1)
  rc=$?
  if [ $rc -ne "$want" ]; then bad "$d: exit $rc, want $want: $out"; return; fi
  if [ "$(printf '%s\n' "$out" | wc -l)" -ne 1 ]; then bad "$d: expected a one-line error, got: $out"; return; fi
  case "$out" in "ridgeline: "*"$frag"*) ok ;; *) bad "$d: message lacks '$frag': $out" ;; esac
}
num() { # first JSON number field NAME in $out
  printf '%s' "$out" | tr -d '\n' | grep -o "\"$1\":[[:space:]]*[-0-9.eE+]*" | head -n1 | sed 's/.*:[[:space:]]*//'
}
positive() { awk -v a="$1" 'BEGIN { exit !(a + 0 > 0) }'; }

# --- probe: roofs > 0, the file predict --roofs reads
expect_ok "probe --json" "$R" probe --backend cpu --quick --quiet --json
positive "$(num read_gbps)" && ok || bad "probe read_gbps '$(num read_gbps)'"
positive "$(num gemm_tflops)" && ok || bad "probe gemm_tflops '$(num gemm_tflops)'"
case "$out" in *'"dtype":'*'"fp32"'*) ok ;; *) bad "cpu probe dtype is not fp32" ;; esac
expect_ok "probe --out" "$R" probe --backend cpu --quick --quiet --out "$T/roofs.json"
case "$out" in *"read"*"GB/s"*"gemm"*) ok ;; *) bad "probe table: $out" ;; esac
expect_ok "predict --roofs probe file" "$R" predict --model tiny --decode --batch 2 --dtype fp32 --roofs "$T/roofs.json" --json
case "$out" in *'"roofs":'*'"measured"'*) ok ;; *) bad "predict did not use the measured roofs: $out" ;; esac

# --- the latency-aware estimate: the static table of the CUDA engine's kernels, t_min stated
expect_ok "predict estimated_ms" "$R" predict --gpu H200 --model llama-3.1-8b --decode --batch 1 --json
e=$(num estimated_ms); t=$(num time_ms)
awk -v e="$e" -v t="$t" 'BEGIN { exit !(e > t && e < t + 228 * 0.0025 + 1e-9) }' && ok || bad "estimated_ms $e vs time_ms $t"
case "$out" in *'"kernel_min_source":'*'"default (not measured)"'*) ok ;; *) bad "the default t_min is not stated" ;; esac
expect_ok "predict --kernel-min-us" "$R" predict --gpu H200 --model llama-3.1-8b --decode --batch 1 --kernel-min-us 5 --json
awk -v a="$(num estimated_ms)" -v b="$e" 'BEGIN { exit !(a > b) }' && ok || bad "a larger t_min gives a larger estimate"
expect_ok "predict text estimate" "$R" predict --gpu H100 --model llama-3.1-8b --prefill --length 1024
case "$out" in *"estimated"*"latency roof"*) ok ;; *) bad "predict text lacks the estimate: $out" ;; esac

# --- one step alone (for ncu) and the counters check on committed ncu output
expect_ok "step --plan-out" "$R" step --backend cpu --model tiny --decode --batch 2 --input-len 8 --plan-out "$T/step.json" --quiet
grep -q '"schema":[[:space:]]*"ridgeline-step/1"' "$T/step.json" && grep -q '"launches":' "$T/step.json" && ok || bad "step file"
expect_ok "ncu-check" "$R" ncu-check --case "$D/ncu/step_decode_b1.json,$D/ncu/decode_b1.csv" \
  --case "$D/ncu/step_prefill_l64.json,$D/ncu/prefill_l64_nvtx.csv" --out "$T/ncu-check.json" --quiet
for f in '"device":' '"commit":' '"command":' '"cases":' '"model_bytes":' '"dram_bytes":' '"op":'; do
  grep -q "$f" "$T/ncu-check.json" && ok || bad "ncu-check.json lacks $f"
done
expect_err "ncu-check mismatched files" 1 "different steps" "$R" ncu-check \
  --case "$D/ncu/step_decode_b1.json,$D/ncu/prefill_l64_nvtx.csv" --out "$T/x.json"
expect_err "ncu-check without --case" 2 "--case" "$R" ncu-check --out "$T/x.json"
expect_err "ncu-check bad case" 2 "STEP.json,NCU.csv" "$R" ncu-check --case only-one --out "$T/x.json"
expect_err "step without a kind" 2 "exactly one" "$R" step --backend cpu

# --- decode sweep with per-kernel rows, written to a file
expect_ok "sweep --decode" "$R" sweep --decode --backend cpu --batches 1,3 --input-len 8 --output-len 4 \
  --roofs "$T/roofs.json" --kernels --quiet --out "$T/decode.json" --trace "$T/trace.json"
grep -q '"traceEvents"' "$T/trace.json" && grep -q '"ph":[[:space:]]*"X"' "$T/trace.json" && ok || bad "sweep --trace"
grep -q '"profiles":' "$T/decode.json" && grep -q '"timing":[[:space:]]*"events"' "$T/decode.json" && ok || bad "profiles in decode.json"
case "$out" in *"decode sweep"*) ok ;; *) bad "no decode table: $out" ;; esac
n=$(grep -c "\"seed_ms_per_token\":" "$T/decode.json")
[ "$n" -eq 2 ] && ok || bad "decode.json has $n decode points, want 2"
grep -q '"seed_ms_per_token":' "$T/decode.json" && ok || bad "decode points lack seed_ms_per_token"
grep -q '"kernel":[[:space:]]*"' "$T/decode.json" && ok || bad "no kernel rows"
grep -q '"method":' "$T/decode.json" && ok || bad "analysis lacks the fit method"

# --- prefill sweep, JSON on stdout, ncu rows beside ours
expect_ok "sweep --prefill --json" "$R" sweep --prefill --backend cpu --lengths 8,16 -r 2 --warmup 1 \
  --roofs "$T/roofs.json" --kernels --ncu-csv "$D/ncu/long.csv" --json --quiet
case "$out" in *'"sweep":'*'"prefill"'*) ok ;; *) bad "no prefill points in --json" ;; esac
case "$out" in *'"ncu":'*'gemv_bf16'*) ok ;; *) bad "ncu rows missing" ;; esac
[ "$(num reps)" = "2" ] && ok || bad "prefill reps $(num reps), want 2"

# --- a first point that fails is recorded, and the sweep stops there with exit 1 (issue 14: every
# point failing the same way must not exit 0); here the prompt is beyond the model's positions
expect_err "failing first point" 1 "the sweep's first point, failed" "$R" sweep --decode --backend cpu \
  --batches 1,2,4 --input-len 5000 --output-len 2 --roofs "$T/roofs.json" --quiet --out "$T/failed.json"
out=$(cat "$T/failed.json" 2>/dev/null)
case "$out" in *'"status":'*'"failed"'*'"error":'*) ok ;; *) bad "failed point not recorded: $out" ;; esac
[ "$(grep -c '"sweep":' "$T/failed.json")" = 1 ] && ok || bad "the sweep went on after its first point failed"

# --- bad input: one-line errors, usage errors exit 2
expect_err "sweep without a kind" 2 "exactly one" "$R" sweep
expect_err "sweep both kinds" 2 "exactly one" "$R" sweep --decode --prefill
expect_err "batch 0" 2 "--batches" "$R" sweep --decode --batches 0
expect_err "malformed list" 2 "--batches" "$R" sweep --decode --batches 1,,2
expect_err "lengths with decode" 2 "--lengths" "$R" sweep --decode --lengths 8
expect_err "bad -r" 2 "-r" "$R" sweep --prefill -r x
expect_err "bad backend" 2 "unknown backend" "$R" sweep --decode --backend tpu
expect_err "probe unknown flag" 2 "unknown" "$R" probe --bogus
expect_err "lab without --out" 2 "--out" "$R" lab --backend cpu
expect_err "lab stray argument" 2 "unexpected" "$R" lab --out "$T/x" extra
expect_err "unknown model" 1 "unknown model" "$R" sweep --decode --backend cpu --model nope --quiet
expect_err "missing roofs file" 1 "/nonexistent/roofs.json" "$R" sweep --decode --backend cpu --roofs /nonexistent/roofs.json --quiet
expect_err "missing ncu file" 1 "/nonexistent/ncu.csv" "$R" sweep --prefill --backend cpu --lengths 8 --roofs "$T/roofs.json" --ncu-csv /nonexistent/ncu.csv --quiet
expect_err "bad ncu file" 1 "Kernel Name" "$R" sweep --prefill --backend cpu --lengths 8 --roofs "$T/roofs.json" --ncu-csv "$D/ncu/no_kernel_column.csv" --quiet
if ! nvidia-smi -L >/dev/null 2>&1; then
  expect_err "cuda without a GPU" 1 "--backend cpu" "$R" probe --backend cuda --quiet
fi

finish
