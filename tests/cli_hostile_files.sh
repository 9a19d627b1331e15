#!/usr/bin/env bash
# cli_hostile_files.sh (issue 14): special files where files are expected, and outputs that
# cannot be written.
#  - a FIFO as --model, --roofs, --gpu-file, report FILE, --import-csv, --ncu-csv, a checkpoint's
#    config.json or a shard in --weights: refused with one line, never a hang (each run under a
#    timeout, so a hang fails the test instead of blocking it);
#  - a directory where a file is expected: a clear message, not "out of memory reading ... bytes";
#  - config.json over the 16 MiB cap: refused before it is parsed;
#  - --out naming a character device (mknod; skipped with a message where not root) stays a
#    device; --out /dev/full fails; stdout into /dev/full exits non-zero for gpus, models,
#    predict, generate --json, sweep --json and logits.
# usage: cli_hostile_files.sh RIDGELINE DATA_DIR
set -u
R=$1
D=$2
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
G=$D/golden

# no_hang DESCRIPTION FRAGMENT COMMAND...: finishes within 20 s with a one-line error holding FRAGMENT.
no_hang() {
  local d=$1 frag=$2; shift 2
  out=$(timeout 20 "$@" 2>&1 </dev/null)
  local rc=$?
  if [ $rc -eq 124 ]; then bad "$d: hung (killed after 20 s)"; return; fi
  if [ $rc -eq 0 ]; then bad "$d: expected failure, got exit 0"; return; fi
  if [ $rc -ge 128 ]; then bad "$d: crashed (exit $rc)"; return; fi
  if [ "$(printf '%s\n' "$out" | wc -l)" -ne 1 ]; then bad "$d: expected a one-line error, got: $out"; return; fi
  case "$out" in *"$frag"*) ok ;; *) bad "$d: message lacks '$frag': $out" ;; esac
}

# --- FIFOs: refused before anything blocks on them
mkfifo "$T/fifo.json" "$T/fifo.csv"
no_hang "predict --model FIFO" "FIFO" "$R" predict --gpu H100 --model "$T/fifo.json" --decode --batch 1
no_hang "models FIFO" "FIFO" "$R" models "$T/fifo.json"
no_hang "predict --roofs FIFO" "FIFO" "$R" predict --gpu H100 --model tiny --decode --roofs "$T/fifo.json"
no_hang "gpus --gpu-file FIFO" "FIFO" "$R" gpus --gpu-file "$T/fifo.json"
no_hang "report FIFO" "FIFO" "$R" report "$T/fifo.json" --out "$T/r1"
no_hang "report --import-csv FIFO" "FIFO" "$R" report --import-csv "$T/fifo.csv" --out "$T/r2"
no_hang "sweep --ncu-csv FIFO" "FIFO" "$R" sweep --prefill --backend cpu --lengths 8 --ncu-csv "$T/fifo.csv" --quiet
mkdir "$T/ck_cfg"
cp "$G/tied/model.safetensors" "$T/ck_cfg/"
mkfifo "$T/ck_cfg/config.json"
no_hang "logits --weights with a FIFO config.json" "FIFO" "$R" logits --weights "$T/ck_cfg" --tokens 1 --backend cpu
no_hang "lab --weights with a FIFO config.json" "FIFO" "$R" lab --backend cpu --weights "$T/ck_cfg" --out "$T/lab1" --quiet
mkdir "$T/ck_single"
cp "$G/tied/config.json" "$T/ck_single/"
mkfifo "$T/ck_single/model.safetensors"
no_hang "logits --weights with a FIFO model.safetensors" "model.safetensors: is a FIFO" \
  "$R" logits --weights "$T/ck_single" --tokens 1 --backend cpu
mkdir "$T/ck_shard"
cp "$G/tied/config.json" "$T/ck_shard/"
printf '{"weight_map": {"model.embed_tokens.weight": "shard-1.safetensors"}}\n' >"$T/ck_shard/model.safetensors.index.json"
mkfifo "$T/ck_shard/shard-1.safetensors"
no_hang "logits --weights with a FIFO shard" "FIFO" "$R" logits --weights "$T/ck_shard" --tokens 1 --backend cpu
no_hang "sweep --weights with a FIFO shard" "FIFO" "$R" sweep --decode --backend cpu --weights "$T/ck_shard" --quiet

# --- a directory where a file is expected
mkdir "$T/adir.json" "$T/adir.csv"
no_hang "report DIR" "is a directory, expected a regular file" "$R" report "$T/adir.json" --out "$T/r3"
no_hang "--import-csv DIR" "is a directory, expected a regular file" "$R" report --import-csv "$T/adir.csv" --out "$T/r4"
no_hang "--gpu-file DIR" "is a directory, expected a regular file" "$R" gpus --gpu-file "$T/adir.json"
no_hang "--roofs DIR" "is a directory, expected a regular file" "$R" predict --model tiny --decode --roofs "$T/adir.json"
case "$out" in *"out of memory"*) bad "a directory still reads as 'out of memory': $out" ;; *) ok ;; esac

# --- config.json size cap (a 17 MiB file: refused with its size, not parsed)
{ printf '{"model_type": "llama", "pad": "'; head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' 'x'; printf '"}\n'; } >"$T/huge.json"
no_hang "config.json over the cap" "limit" "$R" models "$T/huge.json"

# --- --out naming a device: written in place (or refused), never replaced by a file
no_full() { # DESCRIPTION COMMAND...: a non-zero exit and one line naming the write failure
  local d=$1; shift
  out=$(timeout 60 "$@" 2>&1 </dev/null)
  local rc=$?
  if [ $rc -eq 0 ]; then bad "$d: exit 0 although nothing could be written"; return; fi
  if [ $rc -ge 124 ]; then bad "$d: hung or crashed (exit $rc)"; return; fi
  case "$out" in *"No space left"*|*"write"*) ok ;; *) bad "$d: message does not name the write failure: $out" ;; esac
}
"$R" probe --backend cpu --quick --quiet --out "$T/roofs.json" >/dev/null 2>&1 || bad "probe --out FILE failed"
# Our own nodes of /dev/full (1,7) and /dev/null (1,3): a build that replaces its --out target
# then replaces a file of this test, never the machine's /dev/full.
if [ "$(id -u)" = 0 ] && mknod "$T/full_dev" c 1 7 2>/dev/null && mknod "$T/null_dev" c 1 3 2>/dev/null; then
  no_full "sweep --out FULL-DEVICE" "$R" sweep --prefill --backend cpu --lengths 8 -r 1 --warmup 0 \
    --roofs "$T/roofs.json" --quiet --out "$T/full_dev"
  [ -c "$T/full_dev" ] && ok || bad "sweep --out replaced the full device by a file"
  no_full "probe --out FULL-DEVICE" "$R" probe --backend cpu --quick --quiet --out "$T/full_dev"
  [ -c "$T/full_dev" ] && ok || bad "probe --out replaced the full device by a file"
  mkdir "$T/rdev"
  mknod "$T/rdev/report.json" c 1 3
  expect_ok "report into a DIR whose report.json is a device" "$R" report "$D/fixtures/h100_results.json" \
    --out "$T/rdev" --quiet
  [ -c "$T/rdev/report.json" ] && ok || bad "report replaced the device report.json by a file"
  expect_ok "sweep --out DEVICE" "$R" sweep --prefill --backend cpu --lengths 8 -r 1 --warmup 0 --roofs "$T/roofs.json" \
    --quiet --out "$T/null_dev"
  [ -c "$T/null_dev" ] && ok || bad "sweep --out replaced the device by a file"
else
  echo "SKIP: mknod device checks (not root, or mknod refused here)"
fi
# A FIFO nobody reads as --out: refused at once, not waited on.
mkfifo "$T/out_fifo"
no_hang "sweep --out FIFO without a reader" "FIFO" "$R" sweep --prefill --backend cpu --lengths 8 -r 1 --warmup 0 \
  --roofs "$T/roofs.json" --quiet --out "$T/out_fifo"

# --- stdout into /dev/full: a non-zero exit, never truncated output with exit 0
no_full "gpus > /dev/full" sh -c '"$0" gpus >/dev/full' "$R"
no_full "gpus --json > /dev/full" sh -c '"$0" gpus --json >/dev/full' "$R"
no_full "models > /dev/full" sh -c '"$0" models >/dev/full' "$R"
no_full "predict > /dev/full" sh -c '"$0" predict --gpu H100 --model tiny --decode --json >/dev/full' "$R"
no_full "generate --json > /dev/full" sh -c '"$0" generate --model tiny --tokens 1,2 --steps 2 --backend cpu --json >/dev/full' "$R"
no_full "sweep --json > /dev/full" sh -c '"$0" sweep --prefill --backend cpu --lengths 8 -r 1 --warmup 0 --roofs "$1" --quiet --json >/dev/full' "$R" "$T/roofs.json"
no_full "logits > /dev/full" sh -c '"$0" logits --model tiny --tokens 1,2 --backend cpu >/dev/full' "$R"
no_full "logits --json > /dev/full" sh -c '"$0" logits --model tiny --tokens 1,2 --backend cpu --json >/dev/full' "$R"
no_full "--help > /dev/full" sh -c '"$0" predict --help >/dev/full' "$R"

finish
