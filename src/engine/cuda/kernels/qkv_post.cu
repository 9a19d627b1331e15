// qkv_post.cu: what some families do to the QKV projection's output before RoPE, in place:
// add the q/k/v biases (qwen2), then RMSNorm every q and k head over head_dim with the q_norm /
// k_norm weights (qwen3). One block per token, a warp per head; launched only for models that
// have either (Llama pays nothing).
// FLOPs T*(H+2*KVH)*D (bias) + 4*T*(H+KVH)*D (norm); bytes 2*T*(H+2*KVH)*D*2 (read and write the row;
// the q and k heads only without biases) + the bias and norm weights.
#include "../kernels.h"

#define QP_THREADS 128
#define QP_MAX_PER_LANE 4 // head_dim <= 128

__global__ void __launch_bounds__(QP_THREADS) qkv_post_kernel(bf16 *__restrict__ qkv, int ld,
                                                              const bf16 *__restrict__ bias,
                                                              const bf16 *__restrict__ norm_w, int H, int KVH, int D,
                                                              float eps)
{
    pdl_trigger();
    pdl_wait();
    bf16 *row = qkv + (size_t)blockIdx.x * ld;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, warps = QP_THREADS / 32;
    const int heads = bias ? H + 2 * KVH : H + KVH; // without biases the v heads stay as they are
    for (int h = warp; h < heads; h += warps) {
        bf16 *v = row + (size_t)h * D;
        const bf16 *b = bias ? bias + (size_t)h * D : nullptr;
        float x[QP_MAX_PER_LANE];
        float ss = 0.f;
#pragma unroll
        for (int k = 0; k < QP_MAX_PER_LANE; k++) {
            const int d = lane + 32 * k;
            x[k] = d < D ? __bfloat162float(v[d]) + (b ? __bfloat162float(b[d]) : 0.f) : 0.f;
            ss += x[k] * x[k];
        }
        const int normed = norm_w && h < H + KVH; // q and k heads; v heads only take their bias
        float inv = 1.f;
        const bf16 *w = nullptr;
        if (normed) {
            inv = rsqrtf(warp_sum(ss) / (float)D + eps);
            w = norm_w + (h < H ? 0 : D);
        }
#pragma unroll
        for (int k = 0; k < QP_MAX_PER_LANE; k++) {
            const int d = lane + 32 * k;
            if (d < D) v[d] = __float2bfloat16_rn(normed ? __bfloat162float(w[d]) * (x[k] * inv) : x[k]);
        }
    }
}

cudaError_t rl_qkv_post(cudaStream_t st, int pdl, bf16 *qkv, int T, int ld, const bf16 *bias, const bf16 *norm_w, int H,
                        int KVH, int D, float eps)
{
    if (T <= 0 || D > 32 * QP_MAX_PER_LANE || (!bias && !norm_w)) return cudaErrorInvalidValue;
    return rl_launch(qkv_post_kernel, dim3(T), dim3(QP_THREADS), 0, st, pdl, qkv, ld, bias, norm_w, H, KVH, D, eps);
}
