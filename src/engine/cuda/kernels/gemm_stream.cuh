// gemm_stream.cuh: the gemm_stream kernel as a template over its shared-memory ring (RING_BYTES)
// and the CTAs an SM holds (CTAS): gemm_stream.cu builds the production configuration, and
// bench/gemm_stream_v1.cu the lost variant with a ring half the size (two CTAs per SM), from this
// one body. The design is described at the top of gemm_stream.cu.
#pragma once
#include "../kernels.h"
#include "sm90.cuh"

#define GS_THREADS 160 // warps 0-3: the consumer warpgroup; warp 4: the producer

#define GS_MT 2 // weight sub-tiles of 64 rows per stage

// Per token-tile width NTOK: the stages of GS_MT weight sub-tiles and one activation box, as many
// as RING_BYTES of shared memory hold.
template <int NTOK, int RING_BYTES> struct gs_cfg {
    static constexpr int MT = GS_MT;
    static constexpr int ST = RING_BYTES / (MT * 64 * 128 + NTOK * 128);
    static constexpr int W_BYTES = MT * 64 * 128; // MT boxes of 64 rows x 64 bf16
    static constexpr int X_BYTES = NTOK * 128;    // one box of NTOK rows x 64 bf16
    static constexpr int STAGE_BYTES = W_BYTES + X_BYTES;
    static constexpr int SMEM_BYTES = ST * STAGE_BYTES + 1024; // + alignment slack
};

// Output rows of one weight tile: MT sub-tiles of 64 rows, or half of them with SiLU (gate and up
// rows pair up into one output row).
__host__ __device__ constexpr int gs_rows_per_tile(int mode)
{
    return mode == GEMV_SILU_BF16 ? 64 * GS_MT / 2 : 64 * GS_MT;
}

struct gs_params {
    void *y;
    float *ws;    // [grid][2][MT * NTOK / 2][128] partial tiles (fp32)
    int *tickets; // [tiles], zero between launches
    unsigned long long *trace;
    int N, K, T, ldy, up_off;
    int tiles_t, k_iters, total, grid;
};

#if RL_SM90A
// First iteration of CTA c's range, and the CTA that owns iteration i.
__device__ __forceinline__ int gs_start(int c, const gs_params &p) { return (int)((long long)c * p.total / p.grid); }
__device__ __forceinline__ int gs_owner(int i, const gs_params &p)
{
    return (int)(((long long)(i + 1) * p.grid - 1) / p.total);
}

template <int NTOK, int MODE>
__device__ __forceinline__ void gs_store(const gs_params &p, float (&acc)[GS_MT][NTOK / 2], int tile)
{
    constexpr int MT = GS_MT;
    constexpr int ROWS = gs_rows_per_tile(MODE);
    const int tw = tile / p.tiles_t, tt = tile % p.tiles_t;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int r0 = warp * 16 + (lane >> 2), c0 = (lane & 3) * 2;
#pragma unroll
    for (int mt = 0; mt < (MODE == GEMV_SILU_BF16 ? MT / 2 : MT); mt++)
#pragma unroll
        for (int i = 0; i < NTOK / 2; i++) {
            const int n = tw * ROWS + mt * 64 + r0 + ((i >> 1) & 1) * 8;
            const int t = tt * NTOK + (i >> 2) * 8 + c0 + (i & 1);
            if (n >= p.N || t >= p.T) continue;
            const size_t o = (size_t)t * p.ldy + n;
            const float v = acc[mt][i];
            if (MODE == GEMV_STORE_BF16) {
                reinterpret_cast<bf16 *>(p.y)[o] = __float2bfloat16_rn(v);
            } else if (MODE == GEMV_STORE_F32) {
                reinterpret_cast<float *>(p.y)[o] = v;
            } else if (MODE == GEMV_ADD_F32) {
                float *y = reinterpret_cast<float *>(p.y) + o;
                *y = __ldcg(y) + v;
            } else {
                const float u = acc[mt + MT / 2][i];
                reinterpret_cast<bf16 *>(p.y)[o] = __float2bfloat16_rn(v / (1.f + __expf(-v)) * u);
            }
        }
}
#endif

// CTAS: the CTAs one SM holds at once (the ring fits CTAS times in shared memory).
template <int NTOK, int MODE, int RING_BYTES, int CTAS>
__global__ void __launch_bounds__(GS_THREADS, CTAS)
    gemm_stream_kernel(const __grid_constant__ CUtensorMap tw, const __grid_constant__ CUtensorMap tx, const gs_params p)
{
#if RL_SM90A
    using C = gs_cfg<NTOK, RING_BYTES>;
    constexpr int MT = C::MT, ST = C::ST;
    __shared__ __align__(8) uint64_t full[ST], empty[ST];
    __shared__ int last_flag;
    extern __shared__ unsigned char gs_smem_raw[];
    unsigned char *ring = reinterpret_cast<unsigned char *>((reinterpret_cast<uintptr_t>(gs_smem_raw) + 1023) & ~(uintptr_t)1023);

    pdl_trigger();
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int cta = blockIdx.x;
    const int it0 = gs_start(cta, p), it1 = gs_start(cta + 1, p);
    unsigned long long *trace = p.trace ? p.trace + (size_t)cta * 8 : nullptr;
    if (threadIdx.x == 0) {
        for (int s = 0; s < ST; s++) mbar_init(&full[s], 1), mbar_init(&empty[s], 4);
        mbar_init_fence();
        if (trace) {
            unsigned smid;
            asm volatile("mov.u32 %0, %%smid;" : "=r"(smid));
            trace[0] = globaltimer_ns(), trace[4] = smid;
        }
    }
    __syncthreads();

    if (warp == 4) { // ---- producer: one thread issues every TMA load ----
        if (lane != 0) return;
        tma_prefetch_desc(&tw);
        tma_prefetch_desc(&tx);
        const uint64_t evict_first = l2_policy_evict_first();
        auto issue_w = [&](int it, int s) {
            const int tile = it / p.k_iters, k0 = (it % p.k_iters) * 64;
            const int tw_idx = tile / p.tiles_t;
            unsigned char *st = ring + s * C::STAGE_BYTES;
            mbar_arrive_expect_tx(&full[s], C::STAGE_BYTES);
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
                int row;
                if (MODE == GEMV_SILU_BF16) // sub-tiles [0, MT/2): gate rows; [MT/2, MT): the matching up rows
                    row = tw_idx * (64 * MT / 2) + (mt % (MT / 2)) * 64 + (mt >= MT / 2 ? p.up_off : 0);
                else
                    row = tw_idx * 64 * MT + mt * 64;
                tma_load_2d_hint(st + mt * 8192, &tw, k0, row, &full[s], evict_first);
            }
        };
        auto issue_x = [&](int it, int s) {
            const int tile = it / p.k_iters, k0 = (it % p.k_iters) * 64;
            tma_load_2d(ring + s * C::STAGE_BYTES + C::W_BYTES, &tx, k0, (tile % p.tiles_t) * NTOK, &full[s]);
        };
        const int pre = it1 - it0 < ST ? it1 - it0 : ST;
        for (int i = 0; i < pre; i++) issue_w(it0 + i, i);
        pdl_wait(); // the activations are the previous kernel's output
        if (trace) trace[1] = globaltimer_ns();
        for (int i = 0; i < pre; i++) issue_x(it0 + i, i);
        for (int it = it0 + pre; it < it1; it++) {
            const int j = it - it0, s = j % ST, use = j / ST;
            mbar_wait(&empty[s], (use - 1) & 1);
            issue_w(it, s);
            issue_x(it, s);
        }
        return;
    }

    // ---- consumer warpgroup ----
    float acc[MT][NTOK / 2];
    int prev = -1;
    for (int it = it0; it < it1;) {
        const int tile = it / p.k_iters;
        const int seg_end = min(it1, (tile + 1) * p.k_iters);
        for (int i = it; i < seg_end; i++) {
            const int j = i - it0, s = j % ST;
            mbar_wait(&full[s], (j / ST) & 1);
            if (trace && j == 0 && threadIdx.x == 0) trace[2] = globaltimer_ns();
            const unsigned char *st = ring + s * C::STAGE_BYTES;
            wgmma_fence();
#pragma unroll
            for (int k = 0; k < 4; k++) {
                const uint64_t db = wgmma_desc(st + C::W_BYTES + k * 32, 16, 1024);
#pragma unroll
                for (int mt = 0; mt < MT; mt++)
                    wgmma_op<NTOK>::template ss<0>(acc[mt], wgmma_desc(st + mt * 8192 + k * 32, 16, 1024), db,
                                                   i > it || k > 0);
            }
            wgmma_commit();
            if (prev >= 0) {
                wgmma_wait<1>(); // the previous stage's products are done: give its slot back
                if (lane == 0) mbar_arrive(&empty[prev]);
            }
            prev = s;
        }
        wgmma_wait<0>();
#pragma unroll
        for (int mt = 0; mt < MT; mt++) reg_fence(acc[mt]);
        if (lane == 0) mbar_arrive(&empty[prev]);
        prev = -1;
        pdl_wait(); // long satisfied (the producer waited before loading X); orders our stores after the predecessor

        const int c_first = gs_owner(tile * p.k_iters, p), c_last = gs_owner((tile + 1) * p.k_iters - 1, p);
        if (c_first != c_last) {
            // Part of a tile: park the partial sums, and the last contributor adds them all up in
            // CTA order (the same sum whoever finishes last).
            constexpr int SLOT = MT * (NTOK / 2) * 128;
            const int which = tile == gs_start(cta, p) / p.k_iters ? 0 : 1;
            float *mine = p.ws + ((size_t)cta * 2 + which) * SLOT + threadIdx.x;
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int i = 0; i < NTOK / 2; i++) __stcg(mine + (mt * (NTOK / 2) + i) * 128, acc[mt][i]);
            __threadfence();
            named_sync(1, 128);
            if (threadIdx.x == 0) {
                const int done = atomicAdd(p.tickets + tile, 1);
                last_flag = done == c_last - c_first;
                if (last_flag) p.tickets[tile] = 0; // ready for the next launch
            }
            named_sync(1, 128);
            const int is_last = last_flag;
            named_sync(1, 128); // last_flag is read by all before the next tile may rewrite it
            if (!is_last) {
                it = seg_end;
                continue;
            }
            __threadfence();
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int i = 0; i < NTOK / 2; i++) acc[mt][i] = 0.f;
            for (int c = c_first; c <= c_last; c++) {
                const int wc = tile == gs_start(c, p) / p.k_iters ? 0 : 1;
                const float *src = p.ws + ((size_t)c * 2 + wc) * SLOT + threadIdx.x;
#pragma unroll
                for (int mt = 0; mt < MT; mt++)
#pragma unroll
                    for (int i = 0; i < NTOK / 2; i++) acc[mt][i] += __ldcg(src + (mt * (NTOK / 2) + i) * 128);
            }
        }
        gs_store<NTOK, MODE>(p, acc, tile);
        it = seg_end;
    }
    if (trace && threadIdx.x == 0) trace[3] = globaltimer_ns();
#endif
}

template <int NTOK, int MODE, int RING_BYTES, int CTAS>
static cudaError_t gs_launch(cudaStream_t st, int pdl, const CUtensorMap *tw, const CUtensorMap *tx, void *Y, int N, int K,
                             int T, int ldy, int up_off, const rl_gs_work *w)
{
    using C = gs_cfg<NTOK, RING_BYTES>;
    const int rows_per_tile = gs_rows_per_tile(MODE);
    gs_params p;
    p.y = Y, p.ws = w->ws, p.tickets = w->tickets, p.trace = w->trace;
    const int sm_count = w->sm_count;
    p.N = N, p.K = K, p.T = T, p.ldy = ldy, p.up_off = up_off;
    p.tiles_t = (T + NTOK - 1) / NTOK;
    p.k_iters = (K + 63) / 64;
    p.total = (N + rows_per_tile - 1) / rows_per_tile * p.tiles_t * p.k_iters;
    p.grid = p.total < sm_count ? p.total : sm_count;
    auto kern = gemm_stream_kernel<NTOK, MODE, RING_BYTES, CTAS>;
    cudaError_t e = cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, C::SMEM_BYTES);
    if (e != cudaSuccess) return e;
    return rl_launch(kern, dim3(p.grid), dim3(GS_THREADS), (size_t)C::SMEM_BYTES, st, pdl, *tw, *tx, p);
}

template <int NTOK, int RING_BYTES, int CTAS>
static cudaError_t gs_mode(cudaStream_t st, int pdl, int mode, const CUtensorMap *tw, const CUtensorMap *tx, void *Y, int N,
                           int K, int T, int ldy, int up_off, const rl_gs_work *w)
{
    switch (mode) {
    case GEMV_STORE_BF16: return gs_launch<NTOK, GEMV_STORE_BF16, RING_BYTES, CTAS>(st, pdl, tw, tx, Y, N, K, T, ldy, up_off, w);
    case GEMV_STORE_F32: return gs_launch<NTOK, GEMV_STORE_F32, RING_BYTES, CTAS>(st, pdl, tw, tx, Y, N, K, T, ldy, up_off, w);
    case GEMV_ADD_F32: return gs_launch<NTOK, GEMV_ADD_F32, RING_BYTES, CTAS>(st, pdl, tw, tx, Y, N, K, T, ldy, up_off, w);
    case GEMV_SILU_BF16: return gs_launch<NTOK, GEMV_SILU_BF16, RING_BYTES, CTAS>(st, pdl, tw, tx, Y, N, K, T, ldy, up_off, w);
    }
    return cudaErrorInvalidValue;
}


// One projection: the token-tile width for T, then the epilogue mode.
template <int RING_BYTES, int CTAS>
static cudaError_t gs_run(cudaStream_t st, int pdl, int mode, const CUtensorMap *tw, const CUtensorMap *tx, void *Y, int N,
                          int K, int T, int ldy, int up_off, const rl_gs_work *w)
{
    switch (rl_gs_tok_tile(T)) {
    case 8: return gs_mode<8, RING_BYTES, CTAS>(st, pdl, mode, tw, tx, Y, N, K, T, ldy, up_off, w);
    case 16: return gs_mode<16, RING_BYTES, CTAS>(st, pdl, mode, tw, tx, Y, N, K, T, ldy, up_off, w);
    case 32: return gs_mode<32, RING_BYTES, CTAS>(st, pdl, mode, tw, tx, Y, N, K, T, ldy, up_off, w);
    default: return gs_mode<64, RING_BYTES, CTAS>(st, pdl, mode, tw, tx, Y, N, K, T, ldy, up_off, w);
    }
}
