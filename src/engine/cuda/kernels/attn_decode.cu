// attn_decode.cu: decode attention, split-KV (flash-decoding) on tensor cores. One block per
// (split, kv head, sequence) loads each K/V row of its slice of the cache once (cp.async, double
// buffered) for the whole GQA group: the group's query heads are the rows of one m16n8k16 tile
// (G <= 8 of 16 used; the tensor cores have time to spare, the loads are what counts). Each warp
// takes 16 keys of every 64-key tile with its own online softmax; the warps merge in shared
// memory, and the last block of a (sequence, kv head) to finish merges the splits' partials (a
// ticket counter instead of a second launch). With rope_cs set the kernel also applies RoPE to
// the new token's Q and K and appends K and V to the cache (no separate rope kernel in decode).
// With a sliding window the splits cover the last `window` keys only.
// FLOPs 4*B*H*D*ctx; bytes B*KVH*ctx*D*2*2 (K and V read once) + B*(H+2*KVH)*D*2 + B*H*D*2
// (ctx = min(pos + 1, window) with a window).
#include "mma_tile.cuh"

#define AD_BK 64
#define AD_THREADS 128

template <int D, int DP>
__global__ void __launch_bounds__(AD_THREADS) attn_decode_kernel(const bf16 *__restrict__ qkv, int qkv_ld, bf16 *kc,
                                                                 bf16 *vc, const int *__restrict__ pos_dev,
                                                                 const float2 *__restrict__ rope_cs, bf16 *__restrict__ out,
                                                                 float *__restrict__ partial, int *__restrict__ tickets,
                                                                 int H, int KVH, int max_ctx, int splits, float scale_log2,
                                                                 int window)
{
    pdl_trigger();
    constexpr int CPR = D / 8, CPRP = DP / 8;
    extern __shared__ __align__(128) unsigned char ad_smem[];
    bf16 *sq = reinterpret_cast<bf16 *>(ad_smem); // [16][DP]
    bf16 *sk = sq + 16 * DP;                      // [2][AD_BK][DP]
    bf16 *sv = sk + 2 * AD_BK * DP;               // [2][AD_BK][DP]

    const int split = blockIdx.x, kvh = blockIdx.y, b = blockIdx.z;
    const int G = H / KVH, half = D / 2;
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const size_t kv_off = ((size_t)b * KVH + kvh) * max_ctx * D;
    bf16 *kbase = kc + kv_off, *vbase = vc + kv_off;
    const bf16 *row = qkv + (size_t)b * qkv_ld;
    pdl_wait();
    const int pos = *pos_dev, ctx = pos + 1;
    const int lo = window > 0 && ctx > window ? ctx - window : 0; // first key the query sees
    const int chunk = (ctx - lo + splits - 1) / splits;
    const int t0 = lo + split * chunk, t1 = min(ctx, t0 + chunk);
    const float2 *cs = rope_cs ? rope_cs + (size_t)pos * half : nullptr;

    // The group's query heads as rows 0..G-1 of a zero-padded 16 x DP tile (rotated here when
    // rope_cs is set, rounded to bf16 like the prefill path stores them).
    for (int i = tid; i < 16 * DP; i += AD_THREADS) {
        const int r = i / DP, d = i % DP;
        float v = 0.f;
        if (r < G && d < D) {
            const bf16 *q = row + (size_t)(kvh * G + r) * D;
            if (cs) {
                const int j = d < half ? d : d - half;
                const float x1 = __bfloat162float(q[j]), x2 = __bfloat162float(q[j + half]);
                v = d < half ? x1 * cs[j].x - x2 * cs[j].y : x2 * cs[j].x + x1 * cs[j].y;
            } else {
                v = __bfloat162float(q[d]);
            }
        }
        sq[fa_off<DP>(r, d / 8) + d % 8] = __float2bfloat16_rn(v);
    }
    // The new token's K (rotated) and V go into the cache, by the block whose slice holds pos,
    // before its own tile loads read them back.
    if (cs && t0 <= pos && pos < t1) {
        const bf16 *k = row + (size_t)(H + kvh) * D, *v = row + (size_t)(H + KVH + kvh) * D;
        for (int d = tid; d < D; d += AD_THREADS) {
            const int j = d < half ? d : d - half;
            const float x1 = __bfloat162float(k[j]), x2 = __bfloat162float(k[j + half]);
            kbase[(size_t)pos * D + d] =
                __float2bfloat16_rn(d < half ? x1 * cs[j].x - x2 * cs[j].y : x2 * cs[j].x + x1 * cs[j].y);
            vbase[(size_t)pos * D + d] = v[d];
        }
        __threadfence();
    }
    __syncthreads();

    uint32_t qf[DP / 16][4];
#pragma unroll
    for (int ks = 0; ks < DP / 16; ks++)
        ldsm_x4(qf[ks], sq + fa_off<DP>((lane & 7) + ((lane >> 3) & 1) * 8, ks * 2 + (lane >> 4)));

    auto load = [&](int tt, int buf) {
        for (int i = tid; i < AD_BK * CPRP; i += AD_THREADS) {
            const int r = i / CPRP, c = i % CPRP;
            const int key = tt + r;
            const bool ok = key < t1 && c < CPR; // zero-fill: 0 * garbage could be NaN
            const size_t off = ok ? (size_t)key * D + c * 8 : 0;
            cp_async16_zfill(sk + buf * AD_BK * DP + fa_off<DP>(r, c), kbase + off, ok);
            cp_async16_zfill(sv + buf * AD_BK * DP + fa_off<DP>(r, c), vbase + off, ok);
        }
    };
    float o[DP / 8][4];
#pragma unroll
    for (int i = 0; i < DP / 8; i++) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.f;
    float m_i[2] = {-INFINITY, -INFINITY}, l_i[2] = {0.f, 0.f};
    const int n_tiles = t1 > t0 ? (t1 - t0 + AD_BK - 1) / AD_BK : 0;
    if (n_tiles) load(t0, 0);
    cp_async_commit();
    for (int it = 0; it < n_tiles; it++) {
        const int buf = it & 1, tt = t0 + it * AD_BK;
        if (it + 1 < n_tiles) load(tt + AD_BK, buf ^ 1);
        cp_async_commit();
        cp_async_wait<1>();
        __syncthreads();
        const bf16 *K = sk + buf * AD_BK * DP, *V = sv + buf * AD_BK * DP;

        float s[2][4] = {{0.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 0.f, 0.f}};
#pragma unroll
        for (int ks = 0; ks < DP / 16; ks++) {
            uint32_t kb[4];
            ldsm_x4(kb, K + fa_off<DP>(warp * 16 + (lane & 7) + (lane >> 4) * 8, ks * 2 + ((lane >> 3) & 1)));
            mma_bf16_16816(s[0], qf[ks][0], qf[ks][1], qf[ks][2], qf[ks][3], kb[0], kb[1]);
            mma_bf16_16816(s[1], qf[ks][0], qf[ks][1], qf[ks][2], qf[ks][3], kb[2], kb[3]);
        }
        float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
        for (int nt = 0; nt < 2; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int key = tt + warp * 16 + nt * 8 + (lane & 3) * 2 + (e & 1);
                const float v = key < t1 ? s[nt][e] * scale_log2 : -INFINITY;
                s[nt][e] = v;
                mx[e >> 1] = fmaxf(mx[e >> 1], v);
            }
        float alpha[2], rs[2] = {0.f, 0.f}, msafe[2];
#pragma unroll
        for (int r = 0; r < 2; r++) {
            mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
            mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
            const float mn = fmaxf(m_i[r], mx[r]);
            msafe[r] = mn == -INFINITY ? 0.f : mn; // nothing seen yet: keep everything at zero
            alpha[r] = exp2f(m_i[r] - msafe[r]);
            m_i[r] = mn;
        }
#pragma unroll
        for (int nt = 0; nt < 2; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                s[nt][e] = exp2f(s[nt][e] - msafe[e >> 1]);
                rs[e >> 1] += s[nt][e];
            }
#pragma unroll
        for (int r = 0; r < 2; r++) {
            rs[r] += __shfl_xor_sync(0xffffffffu, rs[r], 1);
            rs[r] += __shfl_xor_sync(0xffffffffu, rs[r], 2);
            l_i[r] = l_i[r] * alpha[r] + rs[r];
        }
#pragma unroll
        for (int dt = 0; dt < DP / 8; dt++) {
            o[dt][0] *= alpha[0], o[dt][1] *= alpha[0];
            o[dt][2] *= alpha[1], o[dt][3] *= alpha[1];
        }
        const uint32_t a0 = f2_to_bf2(s[0][0], s[0][1]), a1 = f2_to_bf2(s[0][2], s[0][3]);
        const uint32_t a2 = f2_to_bf2(s[1][0], s[1][1]), a3 = f2_to_bf2(s[1][2], s[1][3]);
#pragma unroll
        for (int dp = 0; dp < DP / 16; dp++) {
            uint32_t vb[4];
            ldsm_x4_t(vb, V + fa_off<DP>(warp * 16 + (lane & 7) + ((lane >> 3) & 1) * 8, dp * 2 + (lane >> 4)));
            mma_bf16_16816(o[2 * dp], a0, a1, a2, a3, vb[0], vb[1]);
            mma_bf16_16816(o[2 * dp + 1], a0, a1, a2, a3, vb[2], vb[3]);
        }
        __syncthreads(); // this buffer is refilled by the next iteration's prefetch
    }
    cp_async_wait<0>();
    __syncthreads();

    // Merge the 4 warps' (max, sum, acc) for rows 0..7 (the C fragment's first half) in shared
    // memory; the K buffer is free now.
    float *cm = reinterpret_cast<float *>(sk); // [4][8]
    float *cl = cm + 32;                        // [4][8]
    float *co = cl + 32;                        // [4][8][DP]
    const int r = lane >> 2;
    if ((lane & 3) == 0) cm[warp * 8 + r] = m_i[0], cl[warp * 8 + r] = l_i[0];
#pragma unroll
    for (int dt = 0; dt < DP / 8; dt++) {
        co[(warp * 8 + r) * DP + dt * 8 + (lane & 3) * 2] = o[dt][0];
        co[(warp * 8 + r) * DP + dt * 8 + (lane & 3) * 2 + 1] = o[dt][1];
    }
    __syncthreads();
    for (int i = tid; i < G * D; i += AD_THREADS) {
        const int h = i / D, d = i % D;
        float M = -INFINITY;
#pragma unroll
        for (int w = 0; w < 4; w++) M = fmaxf(M, cm[w * 8 + h]);
        float num = 0.f, den = 0.f;
#pragma unroll
        for (int w = 0; w < 4; w++) {
            const float m = cm[w * 8 + h];
            const float wt = m == -INFINITY ? 0.f : exp2f(m - M);
            num += wt * co[(w * 8 + h) * DP + d];
            den += wt * cl[w * 8 + h];
        }
        const int qh = kvh * G + h;
        if (splits == 1) {
            out[((size_t)b * H + qh) * D + d] = __float2bfloat16_rn(num / den);
        } else {
            float *pp = partial + (((size_t)b * H + qh) * splits + split) * (D + 4);
            pp[d] = num;
            if (d == 0) pp[D] = M, pp[D + 1] = den;
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
    // Enough blocks to cover the SMs eight times, but no slice shorter than 256 keys: a split
    // costs a partial write and a merge, which only pays for long contexts (measured at batch 1
    // and 16, context 191: one split is fastest). Each block walks its slice tile by tile, so at
    // long context short slices are what keeps enough bytes in flight (bench_attention: with
    // twice the SMs, batch 1 at 32768 keys reached 48% of the read roof).
    const int want = (8 * sm_count + B * KVH - 1) / (B * KVH);
    const int most = max_ctx / 256 > 1 ? max_ctx / 256 : 1;
    return want < 1 ? 1 : (want > most ? most : want);
}

size_t rl_attn_decode_partial_floats(int B, int H, int D, int splits)
{
    return splits > 1 ? (size_t)B * H * splits * (D + 4) : 0; // pitch D+4 keeps float4 stores aligned
}

template <int D>
static cudaError_t launch_d(cudaStream_t st, int pdl, const bf16 *qkv, int qkv_ld, bf16 *kc, bf16 *vc,
                            const int *pos_dev, const float2 *rope_cs, bf16 *out, float *partial, int *tickets, int B,
                            int H, int KVH, int max_ctx, int splits, int window)
{
    constexpr int DP = (D + 15) / 16 * 16;
    const size_t smem = (size_t)(16 + 4 * AD_BK) * DP * sizeof(bf16);
    cudaError_t e =
        cudaFuncSetAttribute(attn_decode_kernel<D, DP>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (e != cudaSuccess) return e;
    const float scale_log2 = 1.4426950408889634f / sqrtf((float)D);
    return rl_launch(attn_decode_kernel<D, DP>, dim3(splits, KVH, B), dim3(AD_THREADS), smem, st, pdl, qkv, qkv_ld,
                     kc, vc, pos_dev, rope_cs, out, partial, tickets, H, KVH, max_ctx, splits, scale_log2, window);
}

cudaError_t rl_attn_decode(cudaStream_t st, int pdl, const bf16 *qkv, int qkv_ld, bf16 *kc, bf16 *vc,
                           const int *pos_dev, const float2 *rope_cs, bf16 *out, float *partial, int *tickets, int B,
                           int H, int KVH, int D, int max_ctx, int splits, int window)
{
    if (H % KVH || H / KVH > 8 || splits < 1 || D % 8) return cudaErrorInvalidValue;
    switch (D) {
    case 16: return launch_d<16>(st, pdl, qkv, qkv_ld, kc, vc, pos_dev, rope_cs, out, partial, tickets, B, H, KVH, max_ctx, splits, window);
    case 24: return launch_d<24>(st, pdl, qkv, qkv_ld, kc, vc, pos_dev, rope_cs, out, partial, tickets, B, H, KVH, max_ctx, splits, window);
    case 32: return launch_d<32>(st, pdl, qkv, qkv_ld, kc, vc, pos_dev, rope_cs, out, partial, tickets, B, H, KVH, max_ctx, splits, window);
    case 64: return launch_d<64>(st, pdl, qkv, qkv_ld, kc, vc, pos_dev, rope_cs, out, partial, tickets, B, H, KVH, max_ctx, splits, window);
    case 128: return launch_d<128>(st, pdl, qkv, qkv_ld, kc, vc, pos_dev, rope_cs, out, partial, tickets, B, H, KVH, max_ctx, splits, window);
    }
    return cudaErrorInvalidValue;
}
