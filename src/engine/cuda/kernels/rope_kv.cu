// rope_kv.cu: RoPE on Q (in place) and K, fused with the KV-cache append of K and V.
// FLOPs ~6*T*(H+KVH)*D/2; bytes T*(H+2*KVH)*D*2 read + T*(H+2*KVH)*D*2 written (Q back, K and V to the cache).
// HF's rotate_half pairing: element j rotates with element j + D/2 of the same head.
#include "../kernels.h"

__global__ void rope_kv_kernel(bf16 *__restrict__ qkv, int n_per_seq, const int *__restrict__ pos_dev, int pos_base,
                               int slot0, const float2 *__restrict__ rope_cs, bf16 *__restrict__ kc,
                               bf16 *__restrict__ vc, int H, int KVH, int D, int max_ctx)
{
    pdl_trigger();
    pdl_wait();
    const int t = blockIdx.x;
    const int pos = (pos_dev ? *pos_dev : pos_base) + t % n_per_seq;
    const int slot = slot0 + t / n_per_seq;
    const int half = D / 2;
    bf16 *row = qkv + (size_t)t * (H + 2 * KVH) * D;
    const float2 *cs = rope_cs + (size_t)pos * half;
    for (int p = threadIdx.x; p < (H + KVH) * half; p += blockDim.x) {
        const int head = p / half, j = p % half;
        bf16 *src = row + head * D;
        const float x1 = __bfloat162float(src[j]), x2 = __bfloat162float(src[j + half]);
        const float2 e = cs[j];
        const bf16 o1 = __float2bfloat16_rn(x1 * e.x - x2 * e.y);
        const bf16 o2 = __float2bfloat16_rn(x2 * e.x + x1 * e.y);
        if (head < H) {
            src[j] = o1;
            src[j + half] = o2;
        } else {
            bf16 *dst = kc + (((size_t)slot * KVH + (head - H)) * max_ctx + pos) * D;
            dst[j] = o1;
            dst[j + half] = o2;
        }
    }
    const bf16 *v = row + (size_t)(H + KVH) * D;
    for (int p = threadIdx.x; p < KVH * D; p += blockDim.x) {
        const int kh = p / D, d = p % D;
        vc[(((size_t)slot * KVH + kh) * max_ctx + pos) * D + d] = v[p];
    }
}

cudaError_t rl_rope_kv(cudaStream_t st, int pdl, bf16 *qkv, int T, int n_per_seq, const int *pos_dev, int pos_base,
                       int slot0, const float2 *rope_cs, bf16 *kc, bf16 *vc, int H, int KVH, int D, int max_ctx)
{
    if (T <= 0 || n_per_seq <= 0 || D % 2) return cudaErrorInvalidValue;
    return rl_launch(rope_kv_kernel, dim3(T), dim3(256), 0, st, pdl, qkv, n_per_seq, pos_dev, pos_base, slot0, rope_cs,
                     kc, vc, H, KVH, D, max_ctx);
}
