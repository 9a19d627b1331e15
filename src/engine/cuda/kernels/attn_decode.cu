// attn_decode.cu: decode attention, split-KV (flash-decoding). One block per (split, kv head,
// sequence): it loads each K/V row of its slice of the cache once and uses it for the whole GQA
// group of query heads; the last block of a (sequence, kv head) to finish merges the splits'
// (max, sum, acc) partials (a ticket counter instead of a second kernel launch).
// FLOPs 4*B*H*D*ctx; bytes B*KVH*ctx*D*2*2 (K and V read once) + B*H*D*2*2 (+ partials).
#include "../kernels.h"

#define AD_TILE 64
#define AD_THREADS 128
#define AD_GMAX 8

template <int D>
__global__ void __launch_bounds__(AD_THREADS) attn_decode_kernel(const bf16 *__restrict__ qkv, int qkv_ld,
                                                                 const bf16 *__restrict__ kc, const bf16 *__restrict__ vc,
                                                                 const int *__restrict__ pos_dev, bf16 *__restrict__ out,
                                                                 float *__restrict__ partial, int *__restrict__ tickets,
                                                                 int H, int KVH, int max_ctx, int splits, float scale_log2)
{
    pdl_trigger();
    constexpr int KP = D + 8; // K row pitch in shared memory: conflict-free 16-byte row reads
    constexpr int CPR = D / 8;
    constexpr int NS = (AD_GMAX * D / 4 + AD_THREADS - 1) / AD_THREADS;
    __shared__ __align__(16) bf16 ks[AD_TILE * KP];
    __shared__ __align__(16) bf16 vs[AD_TILE * D];
    __shared__ __align__(16) float qs[AD_GMAX][D];
    __shared__ float sc[AD_GMAX][AD_TILE];
    __shared__ float m_run[AD_GMAX], l_run[AD_GMAX], alpha[AD_GMAX];

    const int split = blockIdx.x, kvh = blockIdx.y, b = blockIdx.z;
    const int G = H / KVH;
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const bf16 *kbase = kc + ((size_t)b * KVH + kvh) * max_ctx * D;
    const bf16 *vbase = vc + ((size_t)b * KVH + kvh) * max_ctx * D;
    pdl_wait();
    const int ctx = *pos_dev + 1;
    const int chunk = (ctx + splits - 1) / splits;
    const int t0 = split * chunk, t1 = min(ctx, t0 + chunk);

    for (int i = tid; i < G * D; i += AD_THREADS) {
        const int h = i / D, d = i % D;
        qs[h][d] = __bfloat162float(qkv[(size_t)b * qkv_ld + (kvh * G + h) * D + d]) * scale_log2;
    }
    if (tid < AD_GMAX) m_run[tid] = -INFINITY, l_run[tid] = 0.f;
    float acc[NS][4];
#pragma unroll
    for (int s = 0; s < NS; s++) acc[s][0] = acc[s][1] = acc[s][2] = acc[s][3] = 0.f;
    __syncthreads();

    for (int tt = t0; tt < t1; tt += AD_TILE) {
        const int nt = min(AD_TILE, t1 - tt);
        for (int i = tid; i < nt * CPR; i += AD_THREADS) {
            const int row = i / CPR, c = i % CPR;
            cp_async16(&ks[row * KP + c * 8], kbase + (size_t)(tt + row) * D + c * 8);
            cp_async16(&vs[row * D + c * 8], vbase + (size_t)(tt + row) * D + c * 8);
        }
        cp_async_commit();
        cp_async_wait<0>();
        __syncthreads();

        // scores (already in log2 units): one (head, key) pair per thread and step
        for (int i = tid; i < G * AD_TILE; i += AD_THREADS) {
            const int h = i / AD_TILE, t = i % AD_TILE;
            float s = -INFINITY;
            if (t < nt) {
                s = 0.f;
                const bf16 *kr = &ks[t * KP];
                const float4 *q4 = reinterpret_cast<const float4 *>(qs[h]);
#pragma unroll
                for (int c = 0; c < CPR; c++) {
                    const uint4 kv = *reinterpret_cast<const uint4 *>(kr + c * 8);
                    const float4 qa = q4[2 * c], qb = q4[2 * c + 1];
                    const float2 k0 = bf2_to_f2(kv.x), k1 = bf2_to_f2(kv.y), k2 = bf2_to_f2(kv.z), k3 = bf2_to_f2(kv.w);
                    s += k0.x * qa.x + k0.y * qa.y + k1.x * qa.z + k1.y * qa.w;
                    s += k2.x * qb.x + k2.y * qb.y + k3.x * qb.z + k3.y * qb.w;
                }
            }
            sc[h][t] = s;
        }
        __syncthreads();

        // online softmax, one warp per head
        for (int h = warp; h < G; h += AD_THREADS / 32) {
            const float s0 = sc[h][lane], s1 = sc[h][lane + 32];
            const float mo = m_run[h];
            const float mn = fmaxf(mo, warp_max(fmaxf(s0, s1)));
            const float p0 = exp2f(s0 - mn), p1 = exp2f(s1 - mn);
            const float ls = warp_sum(p0 + p1);
            sc[h][lane] = p0;
            sc[h][lane + 32] = p1;
            if (lane == 0) {
                const float a = exp2f(mo - mn);
                alpha[h] = a;
                l_run[h] = l_run[h] * a + ls;
                m_run[h] = mn;
            }
        }
        __syncthreads();

        // acc = acc * alpha + P V: each thread owns 4 consecutive dims of one head
#pragma unroll
        for (int s = 0; s < NS; s++) {
            const int slot = tid + s * AD_THREADS;
            if (slot < G * D / 4) {
                const int h = slot / (D / 4), d = (slot % (D / 4)) * 4;
                const float a = alpha[h];
                float a0 = acc[s][0] * a, a1 = acc[s][1] * a, a2 = acc[s][2] * a, a3 = acc[s][3] * a;
                for (int t = 0; t < nt; t++) {
                    const float p = sc[h][t];
                    const uint2 v = *reinterpret_cast<const uint2 *>(&vs[t * D + d]);
                    const float2 v0 = bf2_to_f2(v.x), v1 = bf2_to_f2(v.y);
                    a0 += p * v0.x, a1 += p * v0.y, a2 += p * v1.x, a3 += p * v1.y;
                }
                acc[s][0] = a0, acc[s][1] = a1, acc[s][2] = a2, acc[s][3] = a3;
            }
        }
        __syncthreads();
    }

#pragma unroll
    for (int s = 0; s < NS; s++) {
        const int slot = tid + s * AD_THREADS;
        if (slot >= G * D / 4) continue;
        const int h = slot / (D / 4), d = (slot % (D / 4)) * 4;
        const int qh = kvh * G + h;
        if (splits == 1) {
            const float inv = 1.f / l_run[h];
            uint2 o;
            o.x = f2_to_bf2(acc[s][0] * inv, acc[s][1] * inv);
            o.y = f2_to_bf2(acc[s][2] * inv, acc[s][3] * inv);
            *reinterpret_cast<uint2 *>(out + ((size_t)b * H + qh) * D + d) = o;
        } else {
            float *pp = partial + (((size_t)b * H + qh) * splits + split) * (D + 4);
            *reinterpret_cast<float4 *>(pp + d) = make_float4(acc[s][0], acc[s][1], acc[s][2], acc[s][3]);
            if (d == 0) pp[D] = m_run[h], pp[D + 1] = l_run[h];
        }
    }
    if (splits == 1) return;

    // Last block of this (sequence, kv head) merges every split's partials.
    __shared__ int last;
    __threadfence();
    __syncthreads();
    if (tid == 0) {
        int *t = tickets + (size_t)b * KVH + kvh;
        last = atomicAdd(t, 1) == splits - 1;
        if (last) *t = 0; // ready for the next step
    }
    __syncthreads();
    if (!last) return;
    __threadfence();
    for (int i = tid; i < G * D; i += AD_THREADS) {
        const int h = i / D, d = i % D;
        const float *pp = partial + ((size_t)b * H + kvh * G + h) * splits * (D + 4);
        float M = -INFINITY;
        for (int s = 0; s < splits; s++) M = fmaxf(M, __ldcg(pp + s * (D + 4) + D));
        float num = 0.f, den = 0.f;
        for (int s = 0; s < splits; s++) {
            const float m = __ldcg(pp + s * (D + 4) + D);
            const float w = m == -INFINITY ? 0.f : exp2f(m - M);
            num += w * __ldcg(pp + s * (D + 4) + d);
            den += w * __ldcg(pp + s * (D + 4) + D + 1);
        }
        out[((size_t)b * H + kvh * G + h) * D + d] = __float2bfloat16_rn(num / den);
    }
}

int rl_attn_decode_splits(int B, int KVH, int max_ctx, int sm_count)
{
    // Enough blocks to cover the SMs twice, but never slices shorter than 16 keys.
    const int want = (2 * sm_count + B * KVH - 1) / (B * KVH);
    const int most = max_ctx / 16 > 1 ? max_ctx / 16 : 1;
    return want < 1 ? 1 : (want > most ? most : want);
}

size_t rl_attn_decode_partial_floats(int B, int H, int D, int splits)
{
    return splits > 1 ? (size_t)B * H * splits * (D + 4) : 0; // pitch D+4 keeps float4 stores aligned
}

template <int D>
static cudaError_t launch_d(cudaStream_t st, int pdl, const bf16 *qkv, int qkv_ld, const bf16 *kc, const bf16 *vc,
                            const int *pos_dev, bf16 *out, float *partial, int *tickets, int B, int H, int KVH,
                            int max_ctx, int splits)
{
    const float scale_log2 = 1.4426950408889634f / sqrtf((float)D);
    return rl_launch(attn_decode_kernel<D>, dim3(splits, KVH, B), dim3(AD_THREADS), 0, st, pdl, qkv, qkv_ld, kc, vc,
                     pos_dev, out, partial, tickets, H, KVH, max_ctx, splits, scale_log2);
}

cudaError_t rl_attn_decode(cudaStream_t st, int pdl, const bf16 *qkv, int qkv_ld, const bf16 *kc, const bf16 *vc,
                           const int *pos_dev, bf16 *out, float *partial, int *tickets, int B, int H, int KVH, int D,
                           int max_ctx, int splits)
{
    if (H % KVH || H / KVH > AD_GMAX || splits < 1) return cudaErrorInvalidValue;
    switch (D) {
    case 16: return launch_d<16>(st, pdl, qkv, qkv_ld, kc, vc, pos_dev, out, partial, tickets, B, H, KVH, max_ctx, splits);
    case 24: return launch_d<24>(st, pdl, qkv, qkv_ld, kc, vc, pos_dev, out, partial, tickets, B, H, KVH, max_ctx, splits);
    case 32: return launch_d<32>(st, pdl, qkv, qkv_ld, kc, vc, pos_dev, out, partial, tickets, B, H, KVH, max_ctx, splits);
    case 64: return launch_d<64>(st, pdl, qkv, qkv_ld, kc, vc, pos_dev, out, partial, tickets, B, H, KVH, max_ctx, splits);
    case 128: return launch_d<128>(st, pdl, qkv, qkv_ld, kc, vc, pos_dev, out, partial, tickets, B, H, KVH, max_ctx, splits);
    }
    return cudaErrorInvalidValue;
}
