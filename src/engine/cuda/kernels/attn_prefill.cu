// attn_prefill.cu: causal prefill attention, flash style, on mma.sync (the sm_80 path; Hopper
// runs attn_prefill_sm90.cu). 4 warps x 16 query rows of one head, Q fragments in registers,
// S = Q K^T and O += P V on mma.sync m16n8k16 bf16, online softmax in registers, P packed to bf16
// A fragments straight from the S accumulators, V through ldmatrix.trans.
// FLOPs 4*H*D*(causal pairs); bytes Q, K, V read once per query tile's key range + O written.
//  - Work order: blocks run longest-first over ALL heads (x = q-tile-major, head-minor), so the
//    causal tail is short; neighbouring blocks are heads of one GQA group (K/V tiles hit L2).
//  - Shared memory: Q is staged through the last K/V pipeline slot and read into registers once:
//    a block holds 2 stages of 64 keys (64 KB at head dim 128), registers budgeted for 2 blocks/SM.
//  - One __syncthreads per key tile: wait for tile kt, barrier, then refill the slot every warp
//    finished with in the previous iteration.
//  - Key tiles a warp cannot see (beyond its last row's position, or below its sliding window)
//    are skipped by that warp; a block loads key tiles from its first query's window start on.
#include "../kernels.h"

#include "mma_tile.cuh"

// D = A * B + D (m16n8k16, bf16 in, fp32 accumulate); a pure register op, hence not volatile.
__device__ __forceinline__ void mma16816(float d[4], const uint32_t a[4], uint32_t b0, uint32_t b1)
{
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// D: head_dim, DP: D rounded up to 16 (zero padding). BK keys per tile, STAGES K/V slots in
// shared memory (each slot: K [BK][DP] then V [BK][DP]); MINB: blocks per SM to budget registers for.
template <int D, int DP, int BK, int STAGES, int MINB>
__global__ void __launch_bounds__(128, MINB) attn_prefill_kernel(const bf16 *__restrict__ qkv, int qkv_ld,
                                                                    const bf16 *__restrict__ kc,
                                                                    const bf16 *__restrict__ vc, bf16 *__restrict__ out,
                                                                    int n, int p0, int slot0, int H, int KVH,
                                                                    int max_ctx, float scale_log2, int window)
{
    pdl_trigger();
    constexpr int BQ = 64, THREADS = 128;
    constexpr int CPR = D / 8, CPRP = DP / 8;
    constexpr int SLOT = 2 * BK * DP;
    static_assert(2 * BK >= BQ, "Q is staged in one K/V slot");
    static_assert(STAGES >= 2, "at least double buffering");
    extern __shared__ __align__(128) unsigned char fa_smem[];
    bf16 *sm = reinterpret_cast<bf16 *>(fa_smem);

    const int nq = (n + BQ - 1) / BQ;
    const int qt = nq - 1 - (int)blockIdx.x / H; // longest tiles of every head first
    const int h = (int)blockIdx.x % H;           // heads sharing a KV head run side by side (L2)
    const int seq = blockIdx.y;
    const int kvh = h / (H / KVH);
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const int q_first = qt * BQ;
    const int q_last = min(n, q_first + BQ) - 1;
    const int n_keys = p0 + q_last + 1;
    const int n_kt = (n_keys + BK - 1) / BK;
    // Sliding window: the block's first query sees keys from p0 + q_first - window + 1 on, so its
    // key tiles start at kt0 (0 without a window); n_it tiles in all, iteration i holds tile kt0 + i.
    const int kt0 = window > 0 && p0 + q_first >= window ? (p0 + q_first - window + 1) / BK : 0;
    const int n_it = n_kt - kt0;
    const bf16 *kbase = kc + ((size_t)(slot0 + seq) * KVH + kvh) * max_ctx * D;
    const bf16 *vbase = vc + ((size_t)(slot0 + seq) * KVH + kvh) * max_ctx * D;
    const bf16 *qbase = qkv + (size_t)seq * n * qkv_ld + (size_t)h * D;
    pdl_wait();

    bf16 *sq = sm + (STAGES - 1) * SLOT; // free until iteration 0 refills that slot
    for (int i = tid; i < BQ * CPRP; i += THREADS) {
        const int r = i / CPRP, c = i % CPRP;
        const bool ok = q_first + r < n && c < CPR;
        cp_async16_zfill(sq + fa_off<DP>(r, c), qbase + (size_t)(ok ? q_first + r : 0) * qkv_ld + (ok ? c * 8 : 0), ok);
    }
    cp_async_commit();
    auto load_kv = [&](int kt, int slot) {
        bf16 *K = sm + slot * SLOT, *V = K + BK * DP;
        for (int i = tid; i < BK * CPRP; i += THREADS) {
            const int r = i / CPRP, c = i % CPRP;
            const int key = kt * BK + r;
            const bool ok = key < n_keys && c < CPR; // zero-fill past the end: 0 * garbage could be NaN
            const size_t off = ok ? (size_t)key * D + c * 8 : 0;
            cp_async16_zfill(K + fa_off<DP>(r, c), kbase + off, ok);
            cp_async16_zfill(V + fa_off<DP>(r, c), vbase + off, ok);
        }
    };
#pragma unroll
    for (int s = 0; s < STAGES - 1; s++) {
        if (s < n_it) load_kv(kt0 + s, s);
        cp_async_commit(); // empty groups keep the wait counts uniform
    }
    cp_async_wait<STAGES - 1>(); // the Q group
    __syncthreads();

    const int row0 = warp * 16;
    uint32_t qf[DP / 16][4];
#pragma unroll
    for (int ks = 0; ks < DP / 16; ks++)
        ldsm_x4(qf[ks], sq + fa_off<DP>(row0 + (lane & 7) + ((lane >> 3) & 1) * 8, ks * 2 + (lane >> 4)));

    float o[DP / 8][4];
#pragma unroll
    for (int i = 0; i < DP / 8; i++) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.f;
    float m_i[2] = {-INFINITY, -INFINITY}, l_i[2] = {0.f, 0.f};
    const int qpos = p0 + q_first + row0 + (lane >> 2); // rows qpos and qpos + 8
    const int warp_first_pos = p0 + q_first + row0;
    const int warp_last_pos = warp_first_pos + 15;

    for (int it = 0; it < n_it; it++) {
        const int kt = kt0 + it;
        cp_async_wait<STAGES - 2>(); // tile kt has landed (this thread's copies) ...
        __syncthreads();             // ... everyone's; and every warp is done with tile kt-1's slot
        {
            const int nx = it + STAGES - 1;
            if (nx < n_it) load_kv(kt0 + nx, nx % STAGES);
            cp_async_commit();
        }
        if (kt * BK > warp_last_pos) continue; // the whole tile is in this warp's future
        if (window > 0 && kt * BK + BK - 1 <= warp_first_pos - window) continue; // ... or below its window
        const bf16 *K = sm + (it % STAGES) * SLOT;
        const bf16 *V = K + BK * DP;

        float s[BK / 8][4];
#pragma unroll
        for (int i = 0; i < BK / 8; i++) s[i][0] = s[i][1] = s[i][2] = s[i][3] = 0.f;
#pragma unroll
        for (int ks = 0; ks < DP / 16; ks++) {
#pragma unroll
            for (int np = 0; np < BK / 16; np++) {
                uint32_t b[4];
                ldsm_x4(b, K + fa_off<DP>(np * 16 + (lane & 7) + (lane >> 4) * 8, ks * 2 + ((lane >> 3) & 1)));
                mma16816(s[2 * np], qf[ks], b[0], b[1]);
                mma16816(s[2 * np + 1], qf[ks], b[2], b[3]);
            }
        }

        // Scores stay unscaled until the exponent: exp2(s * scale - m * scale) is one FFMA.
        float mx[2] = {m_i[0], m_i[1]};
        if (kt * BK + BK - 1 > warp_first_pos) { // only tiles crossing the diagonal need the mask
#pragma unroll
            for (int nt = 0; nt < BK / 8; nt++)
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    const int key = kt * BK + nt * 8 + (lane & 3) * 2 + (e & 1);
                    if (key > qpos + (e >> 1) * 8) s[nt][e] = -INFINITY;
                }
        }
        if (window > 0 && kt * BK <= warp_last_pos - window) { // tiles reaching below a row's window
#pragma unroll
            for (int nt = 0; nt < BK / 8; nt++)
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    const int key = kt * BK + nt * 8 + (lane & 3) * 2 + (e & 1);
                    if (key <= qpos + (e >> 1) * 8 - window) s[nt][e] = -INFINITY;
                }
        }
#pragma unroll
        for (int nt = 0; nt < BK / 8; nt++) {
            mx[0] = fmaxf(mx[0], fmaxf(s[nt][0], s[nt][1]));
            mx[1] = fmaxf(mx[1], fmaxf(s[nt][2], s[nt][3]));
        }
        float alpha[2], rs[2] = {0.f, 0.f}, mscaled[2];
#pragma unroll
        for (int r = 0; r < 2; r++) {
            mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
            mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
            // A row with no visible key yet (its sliding window starts in a later tile) keeps
            // m = -inf; ms = 0 then keeps alpha and p at zero instead of NaN. Without a window key 0
            // is visible to every row and tile 0 is never skipped: ms = mx.
            const float ms = mx[r] == -INFINITY ? 0.f : mx[r];
            alpha[r] = exp2f((m_i[r] - ms) * scale_log2);
            m_i[r] = mx[r];
            mscaled[r] = ms * scale_log2;
        }
#pragma unroll
        for (int nt = 0; nt < BK / 8; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                s[nt][e] = exp2f(fmaf(s[nt][e], scale_log2, -mscaled[e >> 1]));
                rs[e >> 1] += s[nt][e];
            }
        // The row sums stay per thread (a quarter of each row) until the end: one quad
        // reduction per row in the epilogue instead of two shuffles per tile.
        l_i[0] = l_i[0] * alpha[0] + rs[0];
        l_i[1] = l_i[1] * alpha[1] + rs[1];
#pragma unroll
        for (int dt = 0; dt < DP / 8; dt++) {
            o[dt][0] *= alpha[0], o[dt][1] *= alpha[0];
            o[dt][2] *= alpha[1], o[dt][3] *= alpha[1];
        }
        // P (C layout of S) is already in the A layout of the next mma: pack pairs to bf16.
#pragma unroll
        for (int kk = 0; kk < BK / 16; kk++) {
            uint32_t a[4];
            a[0] = f2_to_bf2(s[2 * kk][0], s[2 * kk][1]);
            a[1] = f2_to_bf2(s[2 * kk][2], s[2 * kk][3]);
            a[2] = f2_to_bf2(s[2 * kk + 1][0], s[2 * kk + 1][1]);
            a[3] = f2_to_bf2(s[2 * kk + 1][2], s[2 * kk + 1][3]);
#pragma unroll
            for (int dp = 0; dp < DP / 16; dp++) {
                uint32_t b[4];
                ldsm_x4_t(b, V + fa_off<DP>(kk * 16 + (lane & 7) + ((lane >> 3) & 1) * 8, dp * 2 + (lane >> 4)));
                mma16816(o[2 * dp], a, b[0], b[1]);
                mma16816(o[2 * dp + 1], a, b[2], b[3]);
            }
        }
    }
    cp_async_wait<0>(); // no copy may still target shared memory when the block exits

#pragma unroll
    for (int r = 0; r < 2; r++) {
        l_i[r] += __shfl_xor_sync(0xffffffffu, l_i[r], 1);
        l_i[r] += __shfl_xor_sync(0xffffffffu, l_i[r], 2);
    }
    const float inv0 = 1.f / l_i[0], inv1 = 1.f / l_i[1];
    const int qi = q_first + row0 + (lane >> 2);
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

template <int D, int BK, int STAGES, int MINB>
static cudaError_t launch_d(cudaStream_t st, int pdl, const bf16 *qkv, int qkv_ld, const bf16 *kc, const bf16 *vc,
                            bf16 *out, int nseq, int n, int p0, int slot0, int H, int KVH, int max_ctx, int window)
{
    constexpr int DP = (D + 15) / 16 * 16;
    const size_t smem = (size_t)STAGES * 2 * BK * DP * sizeof(bf16);
    auto kern = attn_prefill_kernel<D, DP, BK, STAGES, MINB>;
    cudaError_t e = cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (e != cudaSuccess) return e;
    const float scale_log2 = 1.4426950408889634f / sqrtf((float)D);
    const long long blocks = (long long)((n + 63) / 64) * H;
    if (blocks > 0x7fffffffLL) return cudaErrorInvalidValue;
    return rl_launch(kern, dim3((unsigned)blocks, nseq), dim3(128), smem, st, pdl, qkv, qkv_ld, kc, vc, out, n, p0,
                     slot0, H, KVH, max_ctx, scale_log2, window);
}

cudaError_t rl_attn_prefill(cudaStream_t st, int pdl, const bf16 *qkv, int qkv_ld, const bf16 *kc, const bf16 *vc,
                            bf16 *out, int nseq, int n, int p0, int slot0, int H, int KVH, int D, int max_ctx, int window)
{
    if (nseq <= 0 || n <= 0 || H % KVH) return cudaErrorInvalidValue;
    switch (D) {
    case 16: return launch_d<16, 64, 2, 2>(st, pdl, qkv, qkv_ld, kc, vc, out, nseq, n, p0, slot0, H, KVH, max_ctx, window);
    case 24: return launch_d<24, 64, 2, 2>(st, pdl, qkv, qkv_ld, kc, vc, out, nseq, n, p0, slot0, H, KVH, max_ctx, window);
    case 32: return launch_d<32, 64, 2, 2>(st, pdl, qkv, qkv_ld, kc, vc, out, nseq, n, p0, slot0, H, KVH, max_ctx, window);
    case 64: return launch_d<64, 64, 2, 2>(st, pdl, qkv, qkv_ld, kc, vc, out, nseq, n, p0, slot0, H, KVH, max_ctx, window);
    case 128: return launch_d<128, 64, 2, 2>(st, pdl, qkv, qkv_ld, kc, vc, out, nseq, n, p0, slot0, H, KVH, max_ctx, window);
    }
    return cudaErrorInvalidValue;
}
