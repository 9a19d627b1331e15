// attn_prefill.cu: causal prefill attention, flash style (FA2): never forms the L x L scores.
// A block takes 64 queries of one head (16 per warp) and walks the key tiles up to the diagonal:
// S = Q K^T and O += P V on tensor cores (mma.sync m16n8k16 bf16, fp32 accumulators), online
// softmax in registers, K/V tiles double-buffered through shared memory with cp.async.
// With a sliding window (window > 0) a query at position p sees keys p - window + 1 .. p: the key
// tiles wholly below a block's window are not loaded, the rest are masked per row.
// FLOPs 4*D per (query, visible key) pair = 2*nseq*H*D*n*(2*p0 + n + 1) without a window;
// bytes: Q and O nseq*n*H*D*2 each; K and V nseq*KVH*(p0+n)*D*2 each (re-reads come from L2).
#include "../kernels.h"


#include <stdlib.h>

#include "mma_tile.cuh"

// D: head_dim; DP: D rounded up to the mma's k step (16); the padding dims are zeros.
// WARPS warps per block, each owning MT 16-row m-tiles: BQ = WARPS * 16 * MT queries per block.
// MT = 1 keeps Q's fragments in registers; MT = 2 re-reads them from shared memory per k-step
// but loads each K/V fragment once for two m-tiles (half the ldmatrix traffic per mma).
template <int D, int DP, int WARPS, int MT, int FA_BK>
__global__ void __launch_bounds__(WARPS * 32) attn_prefill_kernel(const bf16 *__restrict__ qkv, int qkv_ld,
                                                                  const bf16 *__restrict__ kc, const bf16 *__restrict__ vc,
                                                                  bf16 *__restrict__ out, int n, int p0, int slot0, int H,
                                                                  int KVH, int max_ctx, float scale_log2, int flat,
                                                                  int window)
{
    pdl_trigger();
    constexpr int CPR = D / 8;   // real 16-byte chunks per row
    constexpr int CPRP = DP / 8; // chunks per row in shared memory
    constexpr int BQ = WARPS * 16 * MT, THREADS = WARPS * 32;
    extern __shared__ __align__(128) unsigned char fa_smem[];
    bf16 *sq = reinterpret_cast<bf16 *>(fa_smem);
    bf16 *sk = sq + BQ * DP; // [2][FA_BK][DP]
    bf16 *sv = sk + 2 * FA_BK * DP;

    const int nq = (n + BQ - 1) / BQ;
    // flat = 0: grid (q tile, head): longest rows first within each head only, so the longest
    // tiles of the last heads start late and finish alone (the causal tail). flat = 1: grid
    // (q tile * H + head): longest first over all heads (attn_prefill_v2.cu's order).
    const int qt = flat ? nq - 1 - (int)blockIdx.x / H : nq - 1 - (int)blockIdx.x;
    const int h = flat ? (int)blockIdx.x % H : (int)blockIdx.y, seq = blockIdx.z;
    const int kvh = h / (H / KVH);
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const int q_first = qt * BQ;
    const int q_last = min(n, q_first + BQ) - 1;
    const int n_keys = p0 + q_last + 1;
    const int n_kt = (n_keys + FA_BK - 1) / FA_BK;
    // The first key tile any row of this block sees (its first query's window start).
    const int kt0 = window > 0 && p0 + q_first >= window ? (p0 + q_first - window + 1) / FA_BK : 0;
    const bf16 *kbase = kc + ((size_t)(slot0 + seq) * KVH + kvh) * max_ctx * D;
    const bf16 *vbase = vc + ((size_t)(slot0 + seq) * KVH + kvh) * max_ctx * D;
    const bf16 *qbase = qkv + (size_t)seq * n * qkv_ld + (size_t)h * D;
    pdl_wait();

    for (int i = tid; i < BQ * CPRP; i += THREADS) {
        const int r = i / CPRP, c = i % CPRP;
        const bool ok = q_first + r < n && c < CPR;
        cp_async16_zfill(sq + fa_off<DP>(r, c), qbase + (size_t)(ok ? q_first + r : 0) * qkv_ld + (ok ? c * 8 : 0), ok);
    }
    auto load_kv = [&](int kt, int buf) {
        for (int i = tid; i < FA_BK * CPRP; i += THREADS) {
            const int r = i / CPRP, c = i % CPRP;
            const int key = kt * FA_BK + r;
            const bool ok = key < n_keys && c < CPR; // zero-fill past the end: 0 * garbage could be NaN
            const size_t off = ok ? (size_t)key * D + c * 8 : 0;
            cp_async16_zfill(sk + buf * FA_BK * DP + fa_off<DP>(r, c), kbase + off, ok);
            cp_async16_zfill(sv + buf * FA_BK * DP + fa_off<DP>(r, c), vbase + off, ok);
        }
    };
    load_kv(kt0, 0);
    cp_async_commit();
    cp_async_wait<0>();
    __syncthreads();

    const int row0 = warp * 16 * MT; // first query row (in the block) of this warp
    uint32_t qf[MT == 1 ? DP / 16 : 1][4];
    if (MT == 1) {
#pragma unroll
        for (int ks = 0; ks < DP / 16; ks++)
            ldsm_x4(qf[MT == 1 ? ks : 0], sq + fa_off<DP>(row0 + (lane & 7) + ((lane >> 3) & 1) * 8, ks * 2 + (lane >> 4)));
    }

    float o[MT][DP / 8][4];
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int i = 0; i < DP / 8; i++) o[mt][i][0] = o[mt][i][1] = o[mt][i][2] = o[mt][i][3] = 0.f;
    float m_i[MT][2], l_i[MT][2];
#pragma unroll
    for (int mt = 0; mt < MT; mt++) m_i[mt][0] = m_i[mt][1] = -INFINITY, l_i[mt][0] = l_i[mt][1] = 0.f;
    const int qpos = p0 + q_first + row0 + (lane >> 2); // m-tile mt, row r: qpos + 16*mt (+8)
    const int warp_first_pos = p0 + q_first + row0;

    const int warp_last_pos = warp_first_pos + 16 * MT - 1;
    for (int kt = kt0; kt < n_kt; kt++) {
        const int buf = (kt - kt0) & 1;
        if (kt + 1 < n_kt) load_kv(kt + 1, buf ^ 1);
        cp_async_commit();
        cp_async_wait<1>();
        __syncthreads();
        const bf16 *K = sk + buf * FA_BK * DP;
        const bf16 *V = sv + buf * FA_BK * DP;

        float s[MT][FA_BK / 8][4];
#pragma unroll
        for (int mt = 0; mt < MT; mt++)
#pragma unroll
            for (int i = 0; i < FA_BK / 8; i++) s[mt][i][0] = s[mt][i][1] = s[mt][i][2] = s[mt][i][3] = 0.f;
#pragma unroll
        for (int ks = 0; ks < DP / 16; ks++) {
            uint32_t a[MT][4];
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
                if (MT == 1) {
                    a[mt][0] = qf[MT == 1 ? ks : 0][0], a[mt][1] = qf[MT == 1 ? ks : 0][1];
                    a[mt][2] = qf[MT == 1 ? ks : 0][2], a[mt][3] = qf[MT == 1 ? ks : 0][3];
                } else {
                    ldsm_x4(a[mt], sq + fa_off<DP>(row0 + mt * 16 + (lane & 7) + ((lane >> 3) & 1) * 8,
                                                   ks * 2 + (lane >> 4)));
                }
            }
#pragma unroll
            for (int np = 0; np < FA_BK / 16; np++) {
                uint32_t b[4];
                ldsm_x4(b, K + fa_off<DP>(np * 16 + (lane & 7) + (lane >> 4) * 8, ks * 2 + ((lane >> 3) & 1)));
#pragma unroll
                for (int mt = 0; mt < MT; mt++) {
                    mma_bf16_16816(s[mt][2 * np], a[mt][0], a[mt][1], a[mt][2], a[mt][3], b[0], b[1]);
                    mma_bf16_16816(s[mt][2 * np + 1], a[mt][0], a[mt][1], a[mt][2], a[mt][3], b[2], b[3]);
                }
            }
        }

        // Scores stay unscaled until the exponent: exp2(s * scale - m * scale) is one FFMA.
        const bool diag = kt * FA_BK + FA_BK - 1 > warp_first_pos;
        const bool below = window > 0 && kt * FA_BK <= warp_last_pos - window; // keys under some row's window
#pragma unroll
        for (int mt = 0; mt < MT; mt++) {
            float mx[2] = {m_i[mt][0], m_i[mt][1]};
#pragma unroll
            for (int nt = 0; nt < FA_BK / 8; nt++) {
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    const int key = kt * FA_BK + nt * 8 + (lane & 3) * 2 + (e & 1);
                    const int rpos = qpos + mt * 16 + (e >> 1) * 8;
                    if ((diag && key > rpos) || (below && key <= rpos - window)) s[mt][nt][e] = -INFINITY;
                    mx[e >> 1] = fmaxf(mx[e >> 1], s[mt][nt][e]);
                }
            }
            float alpha[2], rs[2] = {0.f, 0.f}, mscaled[2];
#pragma unroll
            for (int r = 0; r < 2; r++) {
                mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
                mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
                // A row with no visible key yet (its window starts in a later tile) keeps m = -inf;
                // ms = 0 then keeps alpha and p at zero instead of NaN.
                const float ms = mx[r] == -INFINITY ? 0.f : mx[r];
                alpha[r] = exp2f((m_i[mt][r] - ms) * scale_log2);
                m_i[mt][r] = mx[r];
                mscaled[r] = ms * scale_log2;
            }
#pragma unroll
            for (int nt = 0; nt < FA_BK / 8; nt++) {
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    s[mt][nt][e] = exp2f(fmaf(s[mt][nt][e], scale_log2, -mscaled[e >> 1]));
                    rs[e >> 1] += s[mt][nt][e];
                }
            }
#pragma unroll
            for (int r = 0; r < 2; r++) {
                rs[r] += __shfl_xor_sync(0xffffffffu, rs[r], 1);
                rs[r] += __shfl_xor_sync(0xffffffffu, rs[r], 2);
                l_i[mt][r] = l_i[mt][r] * alpha[r] + rs[r];
            }
#pragma unroll
            for (int dt = 0; dt < DP / 8; dt++) {
                o[mt][dt][0] *= alpha[0], o[mt][dt][1] *= alpha[0];
                o[mt][dt][2] *= alpha[1], o[mt][dt][3] *= alpha[1];
            }
        }
        // P (C layout of S) is already in the A layout of the next mma: pack pairs to bf16.
#pragma unroll
        for (int kk = 0; kk < FA_BK / 16; kk++) {
            uint32_t a[MT][4];
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
                a[mt][0] = f2_to_bf2(s[mt][2 * kk][0], s[mt][2 * kk][1]);
                a[mt][1] = f2_to_bf2(s[mt][2 * kk][2], s[mt][2 * kk][3]);
                a[mt][2] = f2_to_bf2(s[mt][2 * kk + 1][0], s[mt][2 * kk + 1][1]);
                a[mt][3] = f2_to_bf2(s[mt][2 * kk + 1][2], s[mt][2 * kk + 1][3]);
            }
#pragma unroll
            for (int dp = 0; dp < DP / 16; dp++) {
                uint32_t b[4];
                ldsm_x4_t(b, V + fa_off<DP>(kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8, dp * 2 + (lane >> 4)));
#pragma unroll
                for (int mt = 0; mt < MT; mt++) {
                    mma_bf16_16816(o[mt][2 * dp], a[mt][0], a[mt][1], a[mt][2], a[mt][3], b[0], b[1]);
                    mma_bf16_16816(o[mt][2 * dp + 1], a[mt][0], a[mt][1], a[mt][2], a[mt][3], b[2], b[3]);
                }
            }
        }
        __syncthreads(); // this buffer is refilled by the next iteration's prefetch
    }

#pragma unroll
    for (int mt = 0; mt < MT; mt++) {
        const float inv0 = 1.f / l_i[mt][0], inv1 = 1.f / l_i[mt][1];
        const int qi = q_first + row0 + mt * 16 + (lane >> 2);
        bf16 *orow = out + ((size_t)seq * n + qi) * (size_t)(H * D) + (size_t)h * D;
#pragma unroll
        for (int dt = 0; dt < DP / 8; dt++) {
            const int d = dt * 8 + (lane & 3) * 2;
            if (d >= D) continue;
            if (qi < n) *reinterpret_cast<uint32_t *>(orow + d) = f2_to_bf2(o[mt][dt][0] * inv0, o[mt][dt][1] * inv0);
            if (qi + 8 < n)
                *reinterpret_cast<uint32_t *>(orow + (size_t)8 * H * D + d) =
                    f2_to_bf2(o[mt][dt][2] * inv1, o[mt][dt][3] * inv1);
        }
    }
}

// Variants (the benchmark compares them): 64 = 4 warps x 16 rows, 128 = 8 warps x 16 rows,
// 129 = 4 warps x 32 rows (128 queries, two m-tiles per warp), 130 = the same with 32-key tiles
// (half the score registers: no spills).
template <int D, int WARPS, int MT, int BK>
static cudaError_t launch_d(cudaStream_t st, int pdl, const bf16 *qkv, int qkv_ld, const bf16 *kc, const bf16 *vc,
                            bf16 *out, int nseq, int n, int p0, int slot0, int H, int KVH, int max_ctx, int flat,
                            int window)
{
    constexpr int DP = (D + 15) / 16 * 16, BQ = WARPS * 16 * MT;
    const size_t smem = (size_t)(BQ + 4 * BK) * DP * sizeof(bf16);
    cudaError_t e = cudaFuncSetAttribute(attn_prefill_kernel<D, DP, WARPS, MT, BK>,
                                         cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (e != cudaSuccess) return e;
    const float scale_log2 = 1.4426950408889634f / sqrtf((float)D);
    const int nq = (n + BQ - 1) / BQ;
    return rl_launch(attn_prefill_kernel<D, DP, WARPS, MT, BK>, flat ? dim3(nq * H, 1, nseq) : dim3(nq, H, nseq),
                     dim3(WARPS * 32), smem, st, pdl, qkv, qkv_ld, kc, vc, out, n, p0, slot0, H, KVH, max_ctx,
                     scale_log2, flat, window);
}

template <int WARPS, int MT, int BK>
static cudaError_t launch_bq(cudaStream_t st, int pdl, const bf16 *qkv, int qkv_ld, const bf16 *kc, const bf16 *vc,
                             bf16 *out, int nseq, int n, int p0, int slot0, int H, int KVH, int D, int max_ctx,
                             int flat, int window)
{
    switch (D) {
    case 16: return launch_d<16, WARPS, MT, BK>(st, pdl, qkv, qkv_ld, kc, vc, out, nseq, n, p0, slot0, H, KVH, max_ctx, flat, window);
    case 24: return launch_d<24, WARPS, MT, BK>(st, pdl, qkv, qkv_ld, kc, vc, out, nseq, n, p0, slot0, H, KVH, max_ctx, flat, window);
    case 32: return launch_d<32, WARPS, MT, BK>(st, pdl, qkv, qkv_ld, kc, vc, out, nseq, n, p0, slot0, H, KVH, max_ctx, flat, window);
    case 64: return launch_d<64, WARPS, MT, BK>(st, pdl, qkv, qkv_ld, kc, vc, out, nseq, n, p0, slot0, H, KVH, max_ctx, flat, window);
    case 128: return launch_d<128, WARPS, MT, BK>(st, pdl, qkv, qkv_ld, kc, vc, out, nseq, n, p0, slot0, H, KVH, max_ctx, flat, window);
    }
    return cudaErrorInvalidValue;
}

cudaError_t rl_attn_prefill_bq(cudaStream_t st, int pdl, int bq, const bf16 *qkv, int qkv_ld, const bf16 *kc,
                               const bf16 *vc, bf16 *out, int nseq, int n, int p0, int slot0, int H, int KVH, int D,
                               int max_ctx, int window)
{
    if (nseq <= 0 || n <= 0 || H % KVH) return cudaErrorInvalidValue;
    if (bq >= 200 && bq < 300)
        return rl_attn_prefill_v2(st, pdl, bq - 200, qkv, qkv_ld, kc, vc, out, nseq, n, p0, slot0, H, KVH, D, max_ctx,
                                  window);
    const int flat = bq >= 1000; // 1000 + shape: the same shape in the flat (all heads) order
    if (flat) bq -= 1000;
    if (bq == 128) return launch_bq<8, 1, 64>(st, pdl, qkv, qkv_ld, kc, vc, out, nseq, n, p0, slot0, H, KVH, D, max_ctx, flat, window);
    if (bq == 129) return launch_bq<4, 2, 64>(st, pdl, qkv, qkv_ld, kc, vc, out, nseq, n, p0, slot0, H, KVH, D, max_ctx, flat, window);
    if (bq == 130) return launch_bq<4, 2, 32>(st, pdl, qkv, qkv_ld, kc, vc, out, nseq, n, p0, slot0, H, KVH, D, max_ctx, flat, window);
    return launch_bq<4, 1, 64>(st, pdl, qkv, qkv_ld, kc, vc, out, nseq, n, p0, slot0, H, KVH, D, max_ctx, flat, window);
}

// The engine's kernel when RL_CUDA_FLASH_BQ is unset: attn_prefill_v2 variant 4 (64-key tiles,
// 2 stages, 2 blocks/SM, longest-first over all heads). Measured against the old 64-row kernel in
// the same calls (bench_attention, H200, runs 12b/12c): 257 vs 222 TFLOP/s at L = 4096, 1.3x at
// L = 1024, same error; the CUDA tests pass with it (results/bench/run12b, run12c tests_bq204.log).
#define RL_FLASH_BQ_DEFAULT 204

cudaError_t rl_attn_prefill(cudaStream_t st, int pdl, const bf16 *qkv, int qkv_ld, const bf16 *kc, const bf16 *vc,
                            bf16 *out, int nseq, int n, int p0, int slot0, int H, int KVH, int D, int max_ctx,
                            int window)
{
    // Measured (bench_attention, H100): 4 warps x 16 rows beat 8 warps x 16 at every length among
    // the first kernel's shapes. RL_CUDA_FLASH_BQ: 64 (the first kernel), 128, 129, 130 (see launch_d), 1000 + those (flat order), 200..204
    // (attn_prefill_v2.cu variants), for A/B runs.
    const char *v = getenv("RL_CUDA_FLASH_BQ");
    const int bq = v && atoi(v) > 0 ? atoi(v) : RL_FLASH_BQ_DEFAULT;
    return rl_attn_prefill_bq(st, pdl, bq, qkv, qkv_ld, kc, vc, out, nseq, n, p0, slot0, H, KVH, D, max_ctx, window);
}
