#!/usr/bin/env bash
# The sm_90-only instructions stay behind their guards (common.cuh): compiled to PTX for compute_80
# and compute_89 an engine kernel holds no griddepcontrol (a PTX-only build such as
# -DCMAKE_CUDA_ARCHITECTURES=80-virtual never runs ptxas, so nothing else would notice before the
# driver's JIT fails on the GPU), and for sm_90a it still holds both PDL instructions.
# usage: cuda_arch_guards.sh NVCC SOURCE_DIR
set -u
nvcc=$1
src=$2
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
kernel=$src/src/engine/cuda/kernels/argmax.cu
for arch in compute_80 compute_89 compute_90a; do
  if ! "$nvcc" -ptx -arch="$arch" -I"$src/src" "$kernel" -o "$tmp/$arch.ptx" 2>"$tmp/$arch.err"; then
    bad "nvcc -ptx -arch=$arch $kernel: $(head -3 "$tmp/$arch.err")"
    continue
  fi
  n=$(grep -c 'griddepcontrol' "$tmp/$arch.ptx")
  case $arch in
    compute_90a) grep -q 'griddepcontrol.wait' "$tmp/$arch.ptx" && grep -q 'griddepcontrol.launch_dependents' "$tmp/$arch.ptx" \
                   && ok || bad "$arch: PDL instructions missing from the Hopper build ($n griddepcontrol)" ;;
    *) [ "$n" -eq 0 ] && ok || bad "$arch: $n griddepcontrol instructions in a pre-Hopper target" ;;
  esac
done
finish
