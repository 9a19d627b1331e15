#!/usr/bin/env bash
# Prints results/<gpu> for `make lab`: the GPU-table row the driver's name matches, in lower case
# (h200, h100, h100-pcie, a100-pcie, a100-pcie-40gb, a100-sxm, a100-sxm-40gb, l40s, l4, rtx-4090,
# b200; `ridgeline gpus --match NAME` names the same row, tests/cli_gpu_names.sh checks both), else
# the name itself made a path ("NVIDIA RTX A6000" -> rtx-a6000), or results/cpu without a GPU.
# A tensor-parallel lab (`ridgeline lab --tp N`, `make lab TP=N`) writes results/<gpu>-tpN.
# usage: lab-out-dir.sh [--tp N] [DEVICE_NAME]   (default: GPU 0 as nvidia-smi reports it)
suffix=
if [ "${1:-}" = "--tp" ]; then
  case "${2:-}" in
    [1-9]|[1-9][0-9]) suffix=-tp$2 ;;
    *) echo "lab-out-dir.sh: --tp needs a GPU count (1..99), got '${2:-}'" >&2; exit 2 ;;
  esac
  shift 2
fi
if [ $# -gt 0 ]; then
  name=$1
else
  name=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n1)
fi
# Lower-case words, each between its own two spaces, so every pattern word is " word ":
# "NVIDIA A100-PCIE-40GB" -> " nvidia  a100  pcie  40gb ".
w=" $(printf '%s' "$name" | tr 'A-Z' 'a-z' | tr -s ' _-' '   ' | sed 's/^ //; s/ $//; s/ /  /g') "
case "$w" in
  "  ") d=results/cpu ;;
  *" h200 "*) d=results/h200 ;;
  *" h100 "*" pcie "*) d=results/h100-pcie ;;
  *" h100 "*) d=results/h100 ;;
  *" a100 "*" pcie "*" 40gb "*|*" a100 "*" 40gb "*" pcie "*) d=results/a100-pcie-40gb ;;
  *" a100 "*" pcie "*) d=results/a100-pcie ;;
  *" a100 "*" sxm"[0-9]" "*" 40gb "*) d=results/a100-sxm-40gb ;;
  *" a100 "*" sxm"[0-9]" "*) d=results/a100-sxm ;;
  *" l40s "*) d=results/l40s ;;
  *" l4 "*) d=results/l4 ;;
  *" rtx  4090 "*) d=results/rtx-4090 ;;
  *" b200 "*) d=results/b200 ;;
  *) slug=$(printf '%s' "$w" | sed 's/ nvidia / /; s/ geforce / /; s/[^a-z0-9]\+/-/g; s/^-//; s/-$//')
     d="results/${slug:-gpu}" ;;
esac
echo "$d$suffix"
