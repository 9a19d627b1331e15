#!/usr/bin/env bash
# cli_hostile_runs.sh (issue 14): interrupted and careless runs of the CPU lab and sweep.
#  - SIGTERM during `lab --backend cpu`: exit 143, every finished point kept, "interrupted": true,
#    and report.md says so; meanwhile a second lab (and a report) into the same --out DIR is refused;
#  - a file or directory named like a preset (./tiny) never shadows the preset; `lab --model tiny
#    --out tiny` works twice; a path must say so ('/' or .json), and the errors say what was tried;
#  - fail fast: a checkpoint the config does not fit, a missing --ncu-csv or --roofs fail before
#    anything is measured (and before --out is written);
#  - --seed 0 and --threads 0 mean the same in every command (a seed like any other; every core).
# usage: cli_hostile_runs.sh RIDGELINE DATA_DIR
set -u
R=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
D=$(cd "$2" && pwd)
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
G=$D/golden

# --- SIGTERM during a CPU lab, and a second writer into its directory
many=$(printf '32,%.0s' $(seq 1 60))32
"$R" lab --backend cpu --quick --no-kernels --batches "$many" --output-len 64 --out "$T/term" >"$T/term.out" 2>"$T/term.err" &
pid=$!
wait_for_point "$T/term/results.json" || bad "the lab wrote no point within 60 s"
expect_err "a second lab into a running lab's DIR" "is in use by another ridgeline run" \
  "$R" lab --backend cpu --quick --quiet --out "$T/term"
expect_err "a report into a running lab's DIR" "is in use by another ridgeline run" \
  "$R" report "$D/fixtures/h100_results.json" --out "$T/term"
kill -TERM "$pid" 2>/dev/null
wait "$pid"
check_interrupted SIGTERM $? 143 "$T/term/results.json" "$T/term.err"
n=$(grep -c '"sweep":' "$T/term/results.json" 2>/dev/null || echo 0)
grep -qi 'interrupted' "$T/term/report.md" 2>/dev/null && ok || bad "SIGTERM: report.md missing or silent about the interruption"
grep -q 'interrupted (Terminated)' "$T/term.err" && ok || bad "SIGTERM: no closing line on stderr: $(tail -n 2 "$T/term.err")"
# The lab that was refused wrote nothing into the directory it did not own.
[ "$(grep -c '"sweep":' "$T/term/results.json")" = "$n" ] && ok || bad "the refused lab touched results.json"

# --- presets win over same-named files and directories in the working directory
mkdir "$T/cwd"
cd "$T/cwd" || exit 1
expect_ok "lab --model tiny --out tiny (1)" "$R" lab --backend cpu --quick --no-kernels --quiet --model tiny --out tiny
expect_ok "lab --model tiny --out tiny (2)" "$R" lab --backend cpu --quick --no-kernels --quiet --model tiny --out tiny
echo 'not json' >llama-3.2-1b
expect_ok "predict --model PRESET beside a file of that name" "$R" predict --gpu H100 --model llama-3.2-1b --decode --json
printf '%s' "$out" | grep -q '"model":[[:space:]]*"llama-3.2-1b"' && ok || bad "preset not used: $out"
expect_err "a path says so: ./llama-3.2-1b" "./llama-3.2-1b" "$R" predict --gpu H100 --model ./llama-3.2-1b --decode
cp "$G/tied/config.json" mymodel
expect_err "a non-preset name beside a file: the error says what was tried" "write ./mymodel" \
  "$R" predict --gpu H100 --model mymodel --decode
expect_ok "... and ./mymodel reads it" "$R" predict --gpu H100 --model ./mymodel --decode --json
cd "$T" || exit 1

# --- fail fast: bad inputs are found before anything is measured
mkdir "$T/bad_ck"
cp "$G/tied/model.safetensors" "$T/bad_ck/"
sed 's/"intermediate_size": *[0-9]*/"intermediate_size": 48/' "$G/tied/config.json" >"$T/bad_ck/config.json"
expect_err "lab with a checkpoint the config does not fit" "shape mismatch" \
  "$R" lab --backend cpu --quick --quiet --weights "$T/bad_ck" --out "$T/bad_lab"
[ ! -e "$T/bad_lab/results.json" ] && ok || bad "a lab with a bad checkpoint measured (results.json written)"
expect_err "sweep with a checkpoint the config does not fit" "shape mismatch" \
  "$R" sweep --decode --backend cpu --quiet --weights "$T/bad_ck" --out "$T/bad_sweep.json"
expect_err "sweep --ncu-csv /missing" "--ncu-csv" "$R" sweep --decode --backend cpu --batches 1,2 --ncu-csv "$T/nope.csv" \
  --out "$T/ncu_sweep.json"
[ ! -e "$T/ncu_sweep.json" ] && ok || bad "sweep measured before finding --ncu-csv missing"
expect_err "lab --ncu-csv /missing" "--ncu-csv" "$R" lab --backend cpu --quick --ncu-csv "$T/nope.csv" --out "$T/ncu_lab"
[ ! -e "$T/ncu_lab/results.json" ] && ok || bad "lab measured before finding --ncu-csv missing"
expect_err "lab --roofs /missing" "--roofs" "$R" lab --backend cpu --quick --roofs "$T/nope.json" --out "$T/roofs_lab"
[ ! -e "$T/roofs_lab/results.json" ] && ok || bad "lab wrote results.json before finding --roofs missing"

# --- one rule for --seed and --threads
"$R" probe --backend cpu --quick --quiet --threads 0 --out "$T/roofs.json" >/dev/null 2>&1 && ok || bad "probe --threads 0 refused"
expect_ok "logits --seed 0 --threads 0" "$R" logits --model tiny --tokens 1,2 --backend cpu --seed 0 --threads 0 --json
seed0=$out
expect_ok "logits (default seed)" "$R" logits --model tiny --tokens 1,2 --backend cpu --json
default=$out
expect_ok "logits --seed 1" "$R" logits --model tiny --tokens 1,2 --backend cpu --seed 1 --json
[ "$out" = "$default" ] && ok || bad "logits: the default seed is not 1"
[ "$seed0" != "$default" ] && ok || bad "logits: --seed 0 gives the default weights"
expect_ok "generate --seed 0 --threads 0" "$R" generate --model tiny --tokens 1 --steps 2 --backend cpu --seed 0 --threads 0
expect_ok "sweep --seed 0 --threads 0" "$R" sweep --prefill --backend cpu --lengths 8 -r 1 --warmup 0 --roofs "$T/roofs.json" \
  --seed 0 --threads 0 --quiet --out "$T/seed0.json"
grep -q '"random (seed 0)"' "$T/seed0.json" && ok || bad "sweep --seed 0 not recorded as seed 0"
expect_ok "lab --seed 0 --threads 0" "$R" lab --backend cpu --quick --no-kernels --no-report --quiet --seed 0 --threads 0 \
  --roofs "$T/roofs.json" --out "$T/seed0_lab"
expect_ok "lab (default seed)" "$R" lab --backend cpu --quick --no-kernels --no-report --quiet --roofs "$T/roofs.json" \
  --out "$T/seed1_lab"
grep -q '"random (seed 1)"' "$T/seed1_lab/results.json" && ok || bad "lab: the default seed is not 1"
for c in lab sweep logits generate; do
  "$R" $c --help | grep -q -- '--seed S .*0..2^63-1 (default 1' && ok || bad "$c --help does not state the --seed rule"
done
for c in lab sweep logits generate probe; do
  "$R" $c --help | grep -q -- '--threads N .*0 (the default) = every core' && ok || bad "$c --help does not state the --threads rule"
done
expect_err "--seed -1" "--seed" "$R" logits --model tiny --tokens 1 --backend cpu --seed -1
expect_err "--threads 1025" "--threads" "$R" sweep --decode --backend cpu --threads 1025

finish
