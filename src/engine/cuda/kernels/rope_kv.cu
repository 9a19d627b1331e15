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
    // two neighbouring frequencies per thread: 4-byte accesses (half is even for every head_dim we take)
    const int hp = half / 2;
    for (int p = threadIdx.x; p < (H + KVH) * hp; p += blockDim.x) {
        const int head = p / hp, j = (p % hp) * 2;
        bf16 *src = row + head * D;
        const float2 a = bf2_to_f2(*reinterpret_cast<const uint32_t *>(src + j));
        const float2 b = bf2_to_f2(*reinterpret_cast<const uint32_t *>(src + j + half));
        const float4 e = *reinterpret_cast<const float4 *>(cs + j); // (cos j, sin j, cos j+1, sin j+1)
        const uint32_t o1 = f2_to_bf2(a.x * e.x - b.x * e.y, a.y * e.z - b.y * e.w);
        const uint32_t o2 = f2_to_bf2(b.x * e.x + a.x * e.y, b.y * e.z + a.y * e.w);
        bf16 *dst = head < H ? src : kc + (((size_t)slot * KVH + (head - H)) * max_ctx + pos) * D;
        *reinterpret_cast<uint32_t *>(dst + j) = o1;
        *reinterpret_cast<uint32_t *>(dst + j + half) = o2;
    }
    const uint4 *v = reinterpret_cast<const uint4 *>(row + (size_t)(H + KVH) * D);
    for (int p = threadIdx.x; p < KVH * D / 8; p += blockDim.x) {
        const int kh = p / (D / 8), d = (p % (D / 8)) * 8;
        *reinterpret_cast<uint4 *>(vc + (((size_t)slot * KVH + kh) * max_ctx + pos) * D + d) = v[p];
    }
}

cudaError_t rl_rope_kv(cudaStream_t st, int pdl, bf16 *qkv, int T, int n_per_seq, const int *pos_dev, int pos_base,
                       int slot0, const float2 *rope_cs, bf16 *kc, bf16 *vc, int H, int KVH, int D, int max_ctx)
{
    if (T <= 0 || n_per_seq <= 0 || D % 8) return cudaErrorInvalidValue; // 16-byte V rows, paired frequencies
    return rl_launch(rope_kv_kernel, dim3(T), dim3(256), 0, st, pdl, qkv, n_per_seq, pos_dev, pos_base, slot0, rope_cs,
                     kc, vc, H, KVH, D, max_ctx);
}
