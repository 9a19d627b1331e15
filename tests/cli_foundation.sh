#!/usr/bin/env bash
# CLI tests for gpus, models and predict: contract fields, the seed's numbers, and bad input.
# usage: cli_foundation.sh RIDGELINE DATA_DIR
set -u
R=$1
D=$2
. "$(dirname "$0")/lib.sh"
num() { # extract a top-level JSON number field from $out (first occurrence)
  printf '%s' "$out" | tr -d '\n' | grep -o "\"$1\":[[:space:]]*[-0-9.eE+]*" | head -n1 | sed 's/.*:[[:space:]]*//' 
}
within() { awk -v a="$1" -v b="$2" -v r="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= r * (b < 0 ? -b : b)) }'; }

# --- help and version
expect_ok "--help" "$R" --help
expect_ok "--version" "$R" --version
case "$out" in *commit*) ok ;; *) bad "--version lacks the commit: $out" ;; esac
for c in gpus models predict logits generate probe sweep lab report; do
  expect_ok "$c --help" "$R" "$c" --help
  case "$out" in *usage:*) ok ;; *) bad "$c --help has no usage line" ;; esac
done

# --- gpus --json: contract fields and the seed's ridges
out=$("$R" gpus --json)
for g in H200 H100 A100-PCIe L40S; do
  case "$out" in *"\"name\":	\"$g\""*|*"\"name\": \"$g\""*) ok ;; *) bad "gpus --json lacks $g" ;; esac
done
case "$out" in *bandwidth_gbps*peak_tflops*ridge*) ok ;; *) bad "gpus --json lacks contract fields" ;; esac
expect_ok "gpus --csv" "$R" gpus --csv
expect_ok "gpus --md" "$R" gpus --md
expect_ok "gpus --gpu-file" "$R" gpus --gpu-file "$D/configs/gpus_extra.json"
case "$out" in *MI300X*) ok ;; *) bad "gpu-file row missing" ;; esac

# --- models
expect_ok "models" "$R" models
case "$out" in *8,030,261,248*) ok ;; *) bad "models lacks the 8B parameter count" ;; esac
expect_ok "models --json config" "$R" models --model "$D/configs/llama31_8b_tf4.json" --json
[ "$(num params)" = "8030261248" ] && ok || bad "config.json params $(num params)"

# --- predict: the contract's decode point and prefill point
out=$("$R" predict --gpu H100 --model llama-3.1-8b --decode --batch 1 --context 160 --json)
within "$(num bytes)" 15.03e9 0.01 && ok || bad "decode bytes $(num bytes)"
case "$out" in *'"bound":'*'"memory"'*) ok ;; *) bad "decode bound" ;; esac
for f in flops bytes intensity ridge time_ms; do [ -n "$(num $f)" ] && ok || bad "predict lacks $f"; done
case "$out" in *'"ops":'*'"name":'*) ok ;; *) bad "predict lacks ops" ;; esac
out=$("$R" predict --gpu h100 --model llama-3.1-8b --prefill --length 4096 --json)
within "$(num flops)" 6.16e13 0.02 && ok || bad "prefill flops $(num flops)"
printf '%s' "$out" | tr -d '\n' | grep -q '"time_ms":[^,]*,[[:space:]]*"bound":[[:space:]]*"compute"[[:space:]]*,[[:space:]]*"ops"' && ok || bad "prefill bound compute"
expect_ok "predict via config.json" "$R" predict --gpu H200 --model "$D/configs/llama31_8b_tf4.json" --decode --batch 4 --context 128 --json
expect_ok "predict sweep decode all" "$R" predict --sweep decode --gpu all
case "$out" in *"predicted crossing"*) ok ;; *) bad "sweep lacks crossing" ;; esac
expect_ok "predict sweep prefill json" "$R" predict --sweep prefill --gpu L40S --json
# measured roofs file
tmp=$(mktemp -d)
printf '{"roofs": {"read_gbps": 3000, "gemm_tflops": 700}}' > "$tmp/roofs.json"
out=$("$R" predict --gpu H100 --decode --batch 1 --context 160 --roofs "$tmp/roofs.json" --json)
within "$(num ridge)" 233.33 0.001 && ok || bad "roofs file ridge $(num ridge)"

# --- bad input: one-line error, non-zero exit, no crash
expect_err "unknown gpu" "known: H200" "$R" predict --gpu Z9000 --decode --batch 1 --context 1
expect_err "unknown model" "llama-3.1-8b" "$R" predict --model gpt-5 --decode --batch 1 --context 1
expect_err "zero batch" "--batch" "$R" predict --decode --batch 0 --context 1
expect_err "negative batch" "--batch" "$R" predict --decode --batch -4 --context 1
expect_err "non-numeric length" "--length" "$R" predict --prefill --length abc
expect_err "no phase" "--decode" "$R" predict --batch 2
expect_err "both phases" "--decode" "$R" predict --decode --prefill --length 2
expect_err "bad dtype" "--dtype" "$R" predict --decode --dtype int3
expect_err "bad sweep" "--sweep" "$R" predict --sweep sideways
expect_err "bad option" "unknown" "$R" predict --frobnicate
expect_err "unknown command" "unknown command" "$R" frobnicate
expect_err "missing config" "cannot open" "$R" models --model /nonexistent/config.json
expect_err "malformed config" "bad_truncated.json" "$R" predict --model "$D/configs/bad_truncated.json" --decode
expect_err "config missing field" "hidden_size" "$R" models --model "$D/configs/bad_missing_hidden.json"
expect_err "config wrong type" "hidden_size" "$R" models --model "$D/configs/bad_type.json"
printf 'not json' > "$tmp/roofs_bad.json"
expect_err "malformed roofs" "roofs_bad.json" "$R" predict --decode --roofs "$tmp/roofs_bad.json"
printf '[{"name": "X1", "peak_tflops": {"bf16": 1}}]' > "$tmp/gpus_bad.json"
expect_err "gpu-file missing field" "bandwidth_gbps" "$R" gpus --gpu-file "$tmp/gpus_bad.json"
rm -rf "$tmp"

finish
