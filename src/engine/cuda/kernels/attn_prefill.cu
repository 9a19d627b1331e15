// attn_prefill.cu: causal prefill attention, flash style (FA2): never forms the L x L scores.
// A block takes 64 queries of one head (16 per warp) and walks the key tiles up to the diagonal:
// S = Q K^T and O += P V on tensor cores (mma.sync m16n8k16 bf16, fp32 accumulators), online
// softmax in registers, K/V tiles double-buffered through shared memory with cp.async.
// FLOPs 4*D per (query, visible key) pair = 2*nseq*H*D*n*(2*p0 + n + 1);
// bytes: Q and O nseq*n*H*D*2 each; K and V nseq*KVH*(p0+n)*D*2 each (re-reads come from L2).
#include "../kernels.h"

#define FA_BK 64

#include "mma_tile.cuh"

// D: head_dim; DP: D rounded up to the mma's k step (16); the padding dims are zeros.
// BQ: queries per block, 16 per warp (64: 4 warps; 128: 8 warps share each K/V tile load).
template <int D, int DP, int BQ>
__global__ void __launch_bounds__(BQ * 2) attn_prefill_kernel(const bf16 *__restrict__ qkv, int qkv_ld,
                                                                  const bf16 *__restrict__ kc, const bf16 *__restrict__ vc,
                                                                  bf16 *__restrict__ out, int n, int p0, int slot0, int H,
                                                                  int KVH, int max_ctx, float scale_log2)
{
    pdl_trigger();
    constexpr int CPR = D / 8;   // real 16-byte chunks per row
    constexpr int CPRP = DP / 8; // chunks per row in shared memory
    extern __shared__ __align__(128) unsigned char fa_smem[];
    bf16 *sq = reinterpret_cast<bf16 *>(fa_smem);
    constexpr int FA_BQ = BQ, FA_THREADS = BQ * 2;
    bf16 *sk = sq + FA_BQ * DP; // [2][FA_BK][DP]
    bf16 *sv = sk + 2 * FA_BK * DP;

    const int nq = (n + FA_BQ - 1) / FA_BQ;
    const int qt = nq - 1 - (int)blockIdx.x; // longest rows first
    const int h = blockIdx.y, seq = blockIdx.z;
    const int kvh = h / (H / KVH);
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const int q_first = qt * FA_BQ;
    const int q_last = min(n, q_first + FA_BQ) - 1;
    const int n_keys = p0 + q_last + 1;
    const int n_kt = (n_keys + FA_BK - 1) / FA_BK;
    const bf16 *kbase = kc + ((size_t)(slot0 + seq) * KVH + kvh) * max_ctx * D;
    const bf16 *vbase = vc + ((size_t)(slot0 + seq) * KVH + kvh) * max_ctx * D;
    const bf16 *qbase = qkv + (size_t)seq * n * qkv_ld + (size_t)h * D;
    pdl_wait();

    for (int i = tid; i < FA_BQ * CPRP; i += FA_THREADS) {
        const int r = i / CPRP, c = i % CPRP;
        const bool ok = q_first + r < n && c < CPR;
        cp_async16_zfill(sq + fa_off<DP>(r, c), qbase + (size_t)(ok ? q_first + r : 0) * qkv_ld + (ok ? c * 8 : 0), ok);
    }
    auto load_kv = [&](int kt, int buf) {
        for (int i = tid; i < FA_BK * CPRP; i += FA_THREADS) {
            const int r = i / CPRP, c = i % CPRP;
            const int key = kt * FA_BK + r;
            const bool ok = key < n_keys && c < CPR; // zero-fill past the end: 0 * garbage could be NaN
            const size_t off = ok ? (size_t)key * D + c * 8 : 0;
            cp_async16_zfill(sk + buf * FA_BK * DP + fa_off<DP>(r, c), kbase + off, ok);
            cp_async16_zfill(sv + buf * FA_BK * DP + fa_off<DP>(r, c), vbase + off, ok);
        }
    };
    load_kv(0, 0);
    cp_async_commit();
    cp_async_wait<0>();
    __syncthreads();

    uint32_t qf[DP / 16][4];
#pragma unroll
    for (int ks = 0; ks < DP / 16; ks++)
        ldsm_x4(qf[ks], sq + fa_off<DP>(warp * 16 + (lane & 7) + ((lane >> 3) & 1) * 8, ks * 2 + (lane >> 4)));

    float o[DP / 8][4];
#pragma unroll
    for (int i = 0; i < DP / 8; i++) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.f;
    float m_i[2] = {-INFINITY, -INFINITY}, l_i[2] = {0.f, 0.f};
    const int qpos = p0 + q_first + warp * 16 + (lane >> 2); // row r; row r+8 is qpos + 8
    const int warp_first_pos = p0 + q_first + warp * 16;

    for (int kt = 0; kt < n_kt; kt++) {
        const int buf = kt & 1;
        if (kt + 1 < n_kt) load_kv(kt + 1, buf ^ 1);
        cp_async_commit();
        cp_async_wait<1>();
        __syncthreads();
        const bf16 *K = sk + buf * FA_BK * DP;
        const bf16 *V = sv + buf * FA_BK * DP;

        float s[FA_BK / 8][4];
#pragma unroll
        for (int i = 0; i < FA_BK / 8; i++) s[i][0] = s[i][1] = s[i][2] = s[i][3] = 0.f;
#pragma unroll
        for (int ks = 0; ks < DP / 16; ks++) {
#pragma unroll
            for (int np = 0; np < FA_BK / 16; np++) {
                uint32_t b[4];
                ldsm_x4(b, K + fa_off<DP>(np * 16 + (lane & 7) + (lane >> 4) * 8, ks * 2 + ((lane >> 3) & 1)));
                mma_bf16_16816(s[2 * np], qf[ks][0], qf[ks][1], qf[ks][2], qf[ks][3], b[0], b[1]);
                mma_bf16_16816(s[2 * np + 1], qf[ks][0], qf[ks][1], qf[ks][2], qf[ks][3], b[2], b[3]);
            }
        }

        // Scores stay unscaled until the exponent: exp2(s * scale - m * scale) is one FFMA.
        const bool diag = kt * FA_BK + FA_BK - 1 > warp_first_pos;
        float mx[2] = {m_i[0], m_i[1]};
#pragma unroll
        for (int nt = 0; nt < FA_BK / 8; nt++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const int key = kt * FA_BK + nt * 8 + (lane & 3) * 2 + (e & 1);
                if (diag && key > qpos + (e >> 1) * 8) s[nt][e] = -INFINITY;
                mx[e >> 1] = fmaxf(mx[e >> 1], s[nt][e]);
            }
        }
        float alpha[2], rs[2] = {0.f, 0.f}, mscaled[2];
#pragma unroll
        for (int r = 0; r < 2; r++) {
            mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
            mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
            alpha[r] = exp2f((m_i[r] - mx[r]) * scale_log2); // key 0 is visible to every row: mx is finite
            m_i[r] = mx[r];
            mscaled[r] = mx[r] * scale_log2;
        }
#pragma unroll
        for (int nt = 0; nt < FA_BK / 8; nt++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                s[nt][e] = exp2f(fmaf(s[nt][e], scale_log2, -mscaled[e >> 1]));
                rs[e >> 1] += s[nt][e];
            }
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
        // P (C layout of S) is already in the A layout of the next mma: pack pairs to bf16.
#pragma unroll
        for (int kk = 0; kk < FA_BK / 16; kk++) {
            const uint32_t a0 = f2_to_bf2(s[2 * kk][0], s[2 * kk][1]);
            const uint32_t a1 = f2_to_bf2(s[2 * kk][2], s[2 * kk][3]);
            const uint32_t a2 = f2_to_bf2(s[2 * kk + 1][0], s[2 * kk + 1][1]);
            const uint32_t a3 = f2_to_bf2(s[2 * kk + 1][2], s[2 * kk + 1][3]);
#pragma unroll
            for (int dp = 0; dp < DP / 16; dp++) {
                uint32_t b[4];
                ldsm_x4_t(b, V + fa_off<DP>(kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8, dp * 2 + (lane >> 4)));
                mma_bf16_16816(o[2 * dp], a0, a1, a2, a3, b[0], b[1]);
                mma_bf16_16816(o[2 * dp + 1], a0, a1, a2, a3, b[2], b[3]);
            }
        }
        __syncthreads(); // this buffer is refilled by the next iteration's prefetch
    }

    const float inv0 = 1.f / l_i[0], inv1 = 1.f / l_i[1];
    const int qi = q_first + warp * 16 + (lane >> 2);
    bf16 *orow = out + ((size_t)seq * n + qi) * (size_t)(H * D) + (size_t)h * D;
#pragma unroll
    for (int dt = 0; dt < DP / 8; dt++) {
        const int d = dt * 8 + (lane & 3) * 2;
        if (d >= D) continue;
        if (qi < n) *reinterpret_cast<uint32_t *>(orow + d) = f2_to_bf2(o[dt][0] * inv0, o[dt][1] * inv0);
        if (qi + 8 < n)
            *reinterpret_cast<uint32_t *>(orow + (size_t)8 * H * D + d) = f2_to_bf2(o[dt][2] * inv1, o[dt][3] * inv1);
    }
}

template <int D, int BQ>
static cudaError_t launch_d(cudaStream_t st, int pdl, const bf16 *qkv, int qkv_ld, const bf16 *kc, const bf16 *vc,
                            bf16 *out, int nseq, int n, int p0, int slot0, int H, int KVH, int max_ctx)
{
    constexpr int DP = (D + 15) / 16 * 16;
    const size_t smem = (size_t)(BQ + 4 * FA_BK) * DP * sizeof(bf16);
    cudaError_t e =
        cudaFuncSetAttribute(attn_prefill_kernel<D, DP, BQ>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (e != cudaSuccess) return e;
    const float scale_log2 = 1.4426950408889634f / sqrtf((float)D);
    return rl_launch(attn_prefill_kernel<D, DP, BQ>, dim3((n + BQ - 1) / BQ, H, nseq), dim3(BQ * 2), smem, st, pdl,
                     qkv, qkv_ld, kc, vc, out, n, p0, slot0, H, KVH, max_ctx, scale_log2);
}

template <int BQ>
static cudaError_t launch_bq(cudaStream_t st, int pdl, const bf16 *qkv, int qkv_ld, const bf16 *kc, const bf16 *vc,
                             bf16 *out, int nseq, int n, int p0, int slot0, int H, int KVH, int D, int max_ctx)
{
    switch (D) {
    case 16: return launch_d<16, BQ>(st, pdl, qkv, qkv_ld, kc, vc, out, nseq, n, p0, slot0, H, KVH, max_ctx);
    case 24: return launch_d<24, BQ>(st, pdl, qkv, qkv_ld, kc, vc, out, nseq, n, p0, slot0, H, KVH, max_ctx);
    case 32: return launch_d<32, BQ>(st, pdl, qkv, qkv_ld, kc, vc, out, nseq, n, p0, slot0, H, KVH, max_ctx);
    case 64: return launch_d<64, BQ>(st, pdl, qkv, qkv_ld, kc, vc, out, nseq, n, p0, slot0, H, KVH, max_ctx);
    case 128: return launch_d<128, BQ>(st, pdl, qkv, qkv_ld, kc, vc, out, nseq, n, p0, slot0, H, KVH, max_ctx);
    }
    return cudaErrorInvalidValue;
}

cudaError_t rl_attn_prefill_bq(cudaStream_t st, int pdl, int bq, const bf16 *qkv, int qkv_ld, const bf16 *kc,
                               const bf16 *vc, bf16 *out, int nseq, int n, int p0, int slot0, int H, int KVH, int D,
                               int max_ctx)
{
    if (nseq <= 0 || n <= 0 || H % KVH) return cudaErrorInvalidValue;
    if (bq == 128) return launch_bq<128>(st, pdl, qkv, qkv_ld, kc, vc, out, nseq, n, p0, slot0, H, KVH, D, max_ctx);
    return launch_bq<64>(st, pdl, qkv, qkv_ld, kc, vc, out, nseq, n, p0, slot0, H, KVH, D, max_ctx);
}

cudaError_t rl_attn_prefill(cudaStream_t st, int pdl, const bf16 *qkv, int qkv_ld, const bf16 *kc, const bf16 *vc,
                            bf16 *out, int nseq, int n, int p0, int slot0, int H, int KVH, int D, int max_ctx)
{
    // 128-query blocks halve the K/V tile traffic once there are enough of them to fill the GPU.
    const int bq = (long long)((n + 127) / 128) * H * nseq >= 264 ? 128 : 64;
    return rl_attn_prefill_bq(st, pdl, bq, qkv, qkv_ld, kc, vc, out, nseq, n, p0, slot0, H, KVH, D, max_ctx);
}
