#!/usr/bin/env bash
# Prints results/<gpu> for `make lab`: h100, h200, ... from nvidia-smi, or cpu without a GPU.
name=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n1 | tr 'A-Z' 'a-z')
case "$name" in
  *h200*) echo results/h200 ;;
  *h100*pcie*) echo results/h100-pcie ;;
  *h100*) echo results/h100 ;;
  *a100*) echo results/a100 ;;
  *l40s*) echo results/l40s ;;
  "") echo results/cpu ;;
  *) echo "results/$(echo "$name" | sed 's/nvidia //; s/[^a-z0-9]\+/-/g; s/-$//')" ;;
esac
