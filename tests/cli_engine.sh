#!/usr/bin/env bash
# CLI tests for logits and generate on the CPU backend: `logits --json` has one row of vocab
# floats per token and matches the golden logits (1e-3 of the largest |logit|, same argmax);
# generate reproduces transformers' greedy continuation; bad flags, models, tokens, config.json
# and checkpoints give a one-line error and a non-zero exit. Needs only coreutils and awk.
# usage: cli_engine.sh RIDGELINE DATA_DIR
set -u
R=$1
D=$2
G=$D/golden
. "$(dirname "$0")/lib.sh"
# A JSON array of integers from a meta.json field, as "1,2,3".
meta_list() { tr -d '\n ' <"$1" | grep -o "\"$2\":\[[-0-9,]*\]" | sed 's/.*\[//; s/\]//'; }
meta_shape() { meta_list "$1" shape | tr ',' ' '; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# --- logits --json against the golden logits, for every golden checkpoint
for m in untied tied untied_sharded_f32 tied_f16; do
  dir=$G/$m
  tokens=$(meta_list "$dir/meta.json" tokens)
  read -r rows vocab <<<"$(meta_shape "$dir/meta.json")"
  logits_file=$(tr -d '\n ' <"$dir/meta.json" | grep -o '"logits":"[^"]*"' | sed 's/.*:"//; s/"$//')
  if ! "$R" logits --weights "$dir" --tokens "$tokens" --backend cpu --json >"$T/$m.json" 2>"$T/err"; then
    bad "$m: logits failed: $(cat "$T/err")"
    continue
  fi
  od -An -v -t f4 -w4 "$dir/$logits_file" | tr -d ' ' >"$T/$m.golden"
  # JSON -> one value per line, after checking the row count and every row's length.
  if ! awk -v rows="$rows" -v vocab="$vocab" '
      { s = s $0 }
      END {
        gsub(/[ \t\r]/, "", s)
        if (s !~ /^\{"logits":\[\[.*\]\]\}$/) { print "not {\"logits\": [[...]]}" > "/dev/stderr"; exit 1 }
        sub(/^\{"logits":\[\[/, "", s); sub(/\]\]\}$/, "", s)
        n = split(s, r, /\],\[/)
        if (n != rows) { print n " rows, want " rows > "/dev/stderr"; exit 1 }
        for (i = 1; i <= n; i++) {
          k = split(r[i], v, ",")
          if (k != vocab) { print "row " i ": " k " values, want " vocab > "/dev/stderr"; exit 1 }
          for (j = 1; j <= k; j++) print v[j]
        }
      }' "$T/$m.json" >"$T/$m.values" 2>"$T/err"; then
    bad "$m: logits --json shape: $(cat "$T/err")"
    continue
  fi
  ok
  # Largest difference relative to the largest |golden|, and the argmax of every row.
  if res=$(paste "$T/$m.values" "$T/$m.golden" | awk -v vocab="$vocab" '
      function abs(x) { return x < 0 ? -x : x }
      {
        got = $1 + 0; want = $2 + 0; j = (NR - 1) % vocab
        if (abs(want) > maxw) maxw = abs(want)
        if (abs(got - want) > maxd) maxd = abs(got - want)
        if (j == 0 || got > bg) { bg = got; ag = j }
        if (j == 0 || want > bw) { bw = want; aw = j }
        if (j == vocab - 1 && ag != aw) mism++
      }
      END { printf "%.3g %d\n", maxd / maxw, mism; exit !(maxd <= 1e-3 * maxw && mism == 0) }'); then
    ok
  else
    bad "$m: logits --json vs golden: rel err, argmax mismatches = $res"
  fi
done

# --- the human summary: one line per position with the top 5
dir=$G/untied
tokens=$(meta_list "$dir/meta.json" tokens)
expect_ok "logits summary" "$R" logits --weights "$dir" --tokens "$tokens" --backend cpu
n_tok=$(printf '%s\n' "$tokens" | tr ',' '\n' | wc -l)
[ "$(printf '%s\n' "$out" | grep -c ':.*:.*:.*:.*:')" -eq "$n_tok" ] && ok || bad "logits summary: not one top-5 line per token: $out"
case "$out" in *"backend cpu"*) ok ;; *) bad "logits summary lacks the backend: $out" ;; esac

# --- generate: transformers' greedy continuation, batched, JSON, random weights
for m in untied tied; do
  dir=$G/$m
  tokens=$(meta_list "$dir/meta.json" tokens)
  greedy=$(meta_list "$dir/meta.json" greedy | tr ',' ' ')
  steps=$(printf '%s\n' $greedy | wc -l)
  expect_ok "generate $m" "$R" generate --weights "$dir" --tokens "$tokens" --steps "$steps" --backend cpu
  case "$out" in *"per sequence: $greedy"$'\n'*) ok ;; *) bad "generate $m: want greedy '$greedy', got: $out" ;; esac
  case "$out" in *"tokens/s"*) ok ;; *) bad "generate $m: no tokens/s: $out" ;; esac
done
expect_ok "generate batch 3" "$R" generate --weights "$G/untied" --tokens 5,6,7 --steps 6 --batch 3 --backend cpu
case "$out" in *"all 3 sequences generated the same tokens"*) ok ;; *) bad "generate batch 3: $out" ;; esac
expect_ok "generate --json" "$R" generate --model tiny --tokens 1,2,3 --steps 4 --backend cpu --json
for f in '"tokens"' '"prefill_ms"' '"decode_ms_per_step"' '"decode_tokens_per_s"' '"device"'; do
  case "$out" in *"$f"*) ok ;; *) bad "generate --json lacks $f: $out" ;; esac
done
expect_ok "generate tiny" "$R" generate --model tiny --tokens 1 --steps 1 --backend cpu --threads 1

# --- bad input: one-line errors, non-zero exit
expect_err "unknown model" "unknown model 'nope'" "$R" logits --model nope --tokens 1 --backend cpu
expect_err "token out of vocab" "outside the vocabulary" "$R" logits --model tiny --tokens 1,8192 --backend cpu
expect_err "negative token" "--tokens" "$R" logits --model tiny --tokens 1,-2 --backend cpu
expect_err "token not a number" "--tokens" "$R" logits --model tiny --tokens 1,x --backend cpu
expect_err "empty tokens" "--tokens" "$R" logits --model tiny --tokens "" --backend cpu
expect_err "no tokens" "--tokens is required" "$R" logits --model tiny --backend cpu
expect_err "weights and model" "exactly one of --weights" "$R" logits --model tiny --weights "$G/untied" --tokens 1
expect_err "unknown flag" "unknown or incomplete option" "$R" logits --model tiny --tokens 1 --bogus
expect_err "flag without value" "unknown or incomplete option" "$R" logits --model tiny --tokens
expect_err "unknown backend" "unknown backend 'tpu'" "$R" logits --model tiny --tokens 1 --backend tpu
expect_err "bad threads" "--threads" "$R" logits --model tiny --tokens 1 --backend cpu --threads -1
expect_err "generate unknown model" "unknown model" "$R" generate --model nope --tokens 1 --steps 2 --backend cpu
expect_err "generate token out of vocab" "outside the vocabulary" "$R" generate --weights "$G/tied" --tokens 320 --backend cpu
expect_err "generate steps 0" "--steps" "$R" generate --model tiny --tokens 1 --steps 0 --backend cpu
expect_err "generate batch 0" "--batch" "$R" generate --model tiny --tokens 1 --batch 0 --backend cpu
expect_err "generate past max positions" "max_position_embeddings" "$R" generate --weights "$G/tied" --tokens 1,2 --steps 200 --backend cpu
expect_err "generate stray argument" "unexpected argument" "$R" generate --model tiny --tokens 1 extra
long=$(seq -s, 1 300)
expect_err "longer than max positions" "max_position_embeddings" "$R" logits --weights "$G/untied" --tokens "$long" --backend cpu
# cuda where there is none: a clear message (on a GPU machine it simply works)
if out=$("$R" logits --model tiny --tokens 1 --backend cuda --json 2>&1); then ok; else
  case "$out" in *cuda*) ok ;; *) bad "--backend cuda without a GPU: $out" ;; esac
fi

# config.json problems, through the CLI
expect_err "no such directory" "not a directory" "$R" logits --weights "$T/nope" --tokens 1 --backend cpu
expect_err "generate: no such directory" "not a directory" "$R" generate --weights "$T/nope" --tokens 1 --backend cpu
mkdir -p "$T/nocfg"
expect_err "no config.json" "$T/nocfg/config.json" "$R" logits --weights "$T/nocfg" --tokens 1 --backend cpu
for c in "$D"/configs/bad_*.json; do
  mkdir -p "$T/cfg" && cp "$c" "$T/cfg/config.json"
  expect_err "bad config $(basename "$c")" "$T/cfg/config.json" "$R" logits --weights "$T/cfg" --tokens 1 --backend cpu
done
# checkpoint problems: none, truncated, not matching the config
mkdir -p "$T/nockpt" && cp "$G/untied/config.json" "$T/nockpt/"
expect_err "no checkpoint" "neither model.safetensors" "$R" logits --weights "$T/nockpt" --tokens 1 --backend cpu
mkdir -p "$T/trunc" && cp "$G/untied/config.json" "$T/trunc/"
head -c 100000 "$G/untied/model.safetensors" >"$T/trunc/model.safetensors"
expect_err "truncated checkpoint" "past the end of the data area" "$R" logits --weights "$T/trunc" --tokens 1 --backend cpu
head -c 6 "$G/untied/model.safetensors" >"$T/trunc/model.safetensors"
expect_err "6-byte checkpoint" "truncated file" "$R" logits --weights "$T/trunc" --tokens 1 --backend cpu
# Tensor parallelism is the cuda backend's; the group size is checked before anything runs.
expect_err "TP on the cpu backend" "cuda backend" "$R" sweep --decode --backend cpu --model tiny --tp 2 --batches 1
expect_err "TP beyond 8" "--tp" "$R" sweep --decode --backend cpu --model tiny --tp 9 --batches 1
expect_err "TP zero" "--tp" "$R" lab --backend cpu --tp 0 --out "$T/tp0"
expect_err "TP not splitting the heads" "num_attention_heads" "$R" lab --backend cuda --model qwen2.5-7b --tp 8 --out "$T/tp8"

mkdir -p "$T/mismatch" && cp "$G/tied/config.json" "$T/mismatch/" && cp "$G/untied/model.safetensors" "$T/mismatch/"
expect_err "checkpoint vs config" "shape mismatch" "$R" logits --weights "$T/mismatch" --tokens 1 --backend cpu
case "$out" in *"$T/mismatch/model.safetensors"*) ok ;; *) bad "shape mismatch does not name the file: $out" ;; esac

finish
