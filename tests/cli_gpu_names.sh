#!/usr/bin/env bash
# The lab's GPU naming: driver-reported names -> the GPU-table row (`ridgeline gpus --match`, the
# row whose datasheet roofs the lab and report use) and -> results/<gpu> (scripts/lab-out-dir.sh,
# where `make lab` writes); the directory is the row's name in lower case wherever a row matches.
# usage: cli_gpu_names.sh RIDGELINE DATA_DIR
set -u
R=$1
. "$(dirname "$0")/lib.sh"
dir_of=$(dirname "$0")/../scripts/lab-out-dir.sh

# driver name | table row | results dir
while IFS='|' read -r name row dir; do
  got_row=$("$R" gpus --match "$name" 2>&1)
  [ "$got_row" = "$row" ] && ok || bad "gpus --match '$name': got '$got_row', want '$row'"
  got=$(bash "$dir_of" "$name")
  [ "$got" = "$dir" ] && ok || bad "lab-out-dir.sh '$name': got '$got', want '$dir'"
  # the two tools agree: the results directory is the matched row in lower case
  lower=$(printf '%s' "$got_row" | tr 'A-Z' 'a-z')
  [ "$got" = "results/$lower" ] && ok || bad "'$name': lab-out-dir.sh gave $got, gpus --match gave the row $got_row"
done <<'NAMES'
NVIDIA H200|H200|results/h200
NVIDIA H200 NVL|H200|results/h200
NVIDIA H100 80GB HBM3|H100|results/h100
NVIDIA H100 PCIe|H100-PCIe|results/h100-pcie
NVIDIA A100-PCIE-40GB|A100-PCIe-40GB|results/a100-pcie-40gb
NVIDIA A100 80GB PCIe|A100-PCIe|results/a100-pcie
NVIDIA A100-SXM4-80GB|A100-SXM|results/a100-sxm
NVIDIA A100-SXM4-40GB|A100-SXM-40GB|results/a100-sxm-40gb
NVIDIA L40S|L40S|results/l40s
NVIDIA L4|L4|results/l4
NVIDIA GeForce RTX 4090|RTX-4090|results/rtx-4090
NVIDIA B200|B200|results/b200
NAMES

# A tensor-parallel lab: results/<gpu>-tpN; a --tp without a count is refused.
got=$(bash "$dir_of" --tp 4 "NVIDIA H200")
[ "$got" = "results/h200-tp4" ] && ok || bad "lab-out-dir.sh --tp 4 'NVIDIA H200': got '$got'"
got=$(bash "$dir_of" --tp 2 "NVIDIA RTX A6000")
[ "$got" = "results/rtx-a6000-tp2" ] && ok || bad "lab-out-dir.sh --tp 2 'NVIDIA RTX A6000': got '$got'"
bash "$dir_of" --tp 0 "NVIDIA H200" >/dev/null 2>&1 && bad "lab-out-dir.sh --tp 0 accepted" || ok

# Names no row matches: no datasheet row (one-line error, exit 1), a directory from the name.
for pair in "NVIDIA L40|results/l40" "NVIDIA GH200 480GB|results/gh200-480gb" \
            "NVIDIA GeForce RTX 3090|results/rtx-3090" "NVIDIA RTX A6000|results/rtx-a6000"; do
  name=${pair%%|*} dir=${pair#*|}
  expect_err "gpus --match '$name'" "no table row matches" "$R" gpus --match "$name"
  got=$(bash "$dir_of" "$name")
  [ "$got" = "$dir" ] && ok || bad "lab-out-dir.sh '$name': got '$got', want '$dir'"
done
# A name is never a path: separators and dots are dropped.
got=$(bash "$dir_of" "../../etc/x y")
[ "$got" = "results/etc-x-y" ] && ok || bad "lab-out-dir.sh keeps path characters: $got"

# Without an argument the script asks nvidia-smi (a stand-in here), and says cpu where there is none.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#!/bin/sh\necho "NVIDIA A100-SXM4-80GB"\n' >"$tmp/nvidia-smi"
chmod +x "$tmp/nvidia-smi"
got=$(PATH="$tmp:$PATH" bash "$dir_of")
[ "$got" = "results/a100-sxm" ] && ok || bad "lab-out-dir.sh via nvidia-smi: $got"
printf '#!/bin/sh\nexit 9\n' >"$tmp/nvidia-smi"
got=$(PATH="$tmp:$PATH" bash "$dir_of")
[ "$got" = "results/cpu" ] && ok || bad "lab-out-dir.sh with a failing nvidia-smi: $got"
finish
