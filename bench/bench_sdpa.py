#!/usr/bin/env python3
"""bench_sdpa.py: torch's scaled_dot_product_attention at the shapes of bench_attention's prefill
cases (Llama-3.1-8B heads: 32 query / 8 KV heads, head_dim 128, bf16, batch 1, causal), per
backend (FlashAttention-2 and cuDNN where torch has them), so our Hopper kernel is compared with
the library kernels in the same device call. FLOPs = 4 * heads * head_dim * L(L+1)/2 (the causal
pairs, as bench_attention counts them); % of the GEMM roof given with --gemm-tflops (the roof the
same call measured; bench_attention prints it). Times: median of 20 CUDA-event-timed calls after
3 warm-ups. GQA: K and V are expanded to 32 heads (enable_gqa where torch supports it).

usage: python3 bench/bench_sdpa.py [--gemm-tflops X] [--lengths 512,1024,2048,4096]
"""
import argparse
import statistics
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gemm-tflops", type=float, default=0.0)
    ap.add_argument("--lengths", default="512,1024,2048,4096")
    a = ap.parse_args()
    try:
        import torch
        from torch.nn.attention import SDPBackend, sdpa_kernel
        import torch.nn.functional as F
    except ImportError as e:
        print(f"bench_sdpa: torch is not importable ({e}); nothing measured", file=sys.stderr)
        return 1
    if not torch.cuda.is_available():
        print("bench_sdpa: no CUDA GPU; nothing measured", file=sys.stderr)
        return 1
    H, KVH, D = 32, 8, 128
    dev = torch.device("cuda")
    print(f"device: {torch.cuda.get_device_name(0)}; torch {torch.__version__}")
    backends = [("flash", SDPBackend.FLASH_ATTENTION), ("cudnn", SDPBackend.CUDNN_ATTENTION)]
    for L in [int(x) for x in a.lengths.split(",")]:
        g = torch.Generator(device=dev).manual_seed(L)
        q = torch.randn(1, H, L, D, device=dev, dtype=torch.bfloat16, generator=g)
        k = torch.randn(1, KVH, L, D, device=dev, dtype=torch.bfloat16, generator=g)
        v = torch.randn(1, KVH, L, D, device=dev, dtype=torch.bfloat16, generator=g)
        ke, ve = k.repeat_interleave(H // KVH, dim=1), v.repeat_interleave(H // KVH, dim=1)
        ref = F.scaled_dot_product_attention(q.float(), ke.float(), ve.float(), is_causal=True)
        flops = 4.0 * H * D * L * (L + 1) / 2
        for name, be in backends:
            try:
                with sdpa_kernel([be]):
                    def call():
                        return F.scaled_dot_product_attention(q, ke, ve, is_causal=True)
                    out = call()
                    err = ((out.float() - ref).norm() / ref.norm()).item()
                    for _ in range(3):
                        call()
                    torch.cuda.synchronize()
                    ts = []
                    for _ in range(20):
                        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                        e0.record()
                        call()
                        e1.record()
                        e1.synchronize()
                        ts.append(e0.elapsed_time(e1))
                ms = statistics.median(ts)
                tf = flops / (ms * 1e-3) / 1e12
                roof = f" {100 * tf / a.gemm_tflops:5.1f}% of GEMM roof" if a.gemm_tflops > 0 else ""
                print(f"sdpa L={L:5d} {name:5s} | {ms * 1e3:9.1f} us {tf:7.1f} TFLOP/s{roof} | rel.err {err:.1e}")
            except Exception as e:  # a backend this torch or GPU lacks: say so and go on
                print(f"sdpa L={L:5d} {name:5s} | not available: {str(e).splitlines()[0][:100]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
