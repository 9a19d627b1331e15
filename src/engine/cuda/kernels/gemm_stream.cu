// gemm_stream.cu: the Hopper (sm_90a) projection kernel for few tokens (decode batches, short
// prefills): Y[t, n] (=, +=) sum_k X[t, k] W[n, k], weights streamed from HBM exactly once.
// FLOPs 2*T*N*K; bytes N*K*2 (weights) + T*K*2 per 64*MT weight rows (activations, from L2) + Y.
//
// Why this shape: a decode step is a chain of weight-streaming projections, and what keeps it
// from the read roof is the gap at every boundary, not the streaming itself. So:
// - one producer warp streams W through a ring of shared-memory stages with TMA (no registers
//   hold the data in flight); weights never depend on earlier work, so the producer runs ahead of
//   the activations: before griddepcontrol.wait at kernel entry, and across the phases of one
//   launch;
// - one launch may run several projections in sequence (phases), separated by a grid-wide
//   barrier (the grid is persistent and small enough to be co-resident). At the end of a phase
//   the ring is empty, so the producer fills it with the next phase's weights while the barrier
//   completes: the HBM stream does not stop between projections. Only the activations (TMA
//   loads of X) wait for the barrier;
// - every phase is split stream-K: CTA c takes the iterations [c*total/G, (c+1)*total/G) of the
//   phase's (tile, k) space, so every SM moves the same bytes; tiles cut between CTAs are summed in
//   a fixed order by the last one to finish (ticket), so results do not depend on timing;
// - one warpgroup multiplies on the tensor cores with wgmma m64nNk16: weights are the 64-row A
//   operand, the tokens (padded to N = 8..64 by TMA's zero fill) the B operand, so a batch of
//   one costs no more smem traffic than a batch of eight.
#include <string.h>

#include "../kernels.h"
#include "sm90.cuh"

#define GS_THREADS 160 // warps 0-3: the consumer warpgroup; warp 4: the producer

// Per token-tile width NTOK: weight sub-tiles of 64 rows per stage (MT), stages in the ring (ST).
// Shared memory stays near 100 KB so that two launches' CTAs fit on one SM (PDL overlap).
template <int NTOK, int KS> struct gs_cfg {
    static constexpr int MT = 2;
    static constexpr int W_BYTES = KS * MT * 64 * 128; // KS k-tiles of MT boxes of 64 rows x 64 bf16
    static constexpr int X_BYTES = KS * NTOK * 128;    // KS boxes of NTOK rows x 64 bf16
    static constexpr int STAGE_BYTES = W_BYTES + X_BYTES;
    static constexpr int ST = (104 * 1024) / STAGE_BYTES; // ~100 KB of ring
    static constexpr int SMEM_BYTES = ST * STAGE_BYTES + 1024; // + alignment slack
};

struct gs_phase_dev {
    CUtensorMap tw, tx;
    void *y;
    int mode, N, K, ldy, up_off;
    int tiles_t, k_iters, total;
};

struct gs_params {
    gs_phase_dev ph[RL_GS_MAX_PHASES];
    int n_phases, T, grid;
    float *ws;          // [grid][2][MT * NTOK / 2][128] partial tiles (fp32)
    int *tickets;       // [tiles], zero between uses
    unsigned *bar;      // phase barrier counter, zero between launches
    unsigned long long *trace; // optional: per CTA 8 globaltimer stamps: entry, X ready, first stage consumed,
                               // end of phases 0..3 (before the barrier), exit
};

#if RL_SM90A
// First iteration of CTA c's range of a phase, and the CTA that owns iteration i.
__device__ __forceinline__ int gs_start(int c, const gs_phase_dev &ph, int grid)
{
    return (int)((long long)c * ph.total / grid);
}
__device__ __forceinline__ int gs_owner(int i, const gs_phase_dev &ph, int grid)
{
    return (int)(((long long)(i + 1) * grid - 1) / ph.total);
}

__device__ __forceinline__ unsigned ld_acquire(const unsigned *p)
{
    unsigned v;
    asm volatile("ld.acquire.gpu.global.u32 %0, [%1];" : "=r"(v) : "l"(p) : "memory");
    return v;
}
// Non-blocking: has the phase of this parity completed?
__device__ __forceinline__ bool mbar_test(uint64_t *bar, uint32_t parity)
{
    uint32_t done;
    asm volatile("{\n.reg .pred p;\nmbarrier.test_wait.parity.shared::cta.b64 p, [%1], %2;\nselp.u32 %0, 1, 0, p;\n}\n"
                 : "=r"(done)
                 : "r"(smem_u32(bar)), "r"(parity)
                 : "memory");
    return done;
}

template <int NTOK>
__device__ __forceinline__ void gs_store(const gs_params &p, const gs_phase_dev &ph,
                                         float (&acc)[gs_cfg<NTOK, 1>::MT][NTOK / 2], int tile)
{
    constexpr int MT = gs_cfg<NTOK, 1>::MT;
    const bool silu = ph.mode == GEMV_SILU_BF16;
    const int rows = silu ? 64 * MT / 2 : 64 * MT; // output rows of a tile
    const int tw = tile / ph.tiles_t, tt = tile % ph.tiles_t;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int r0 = warp * 16 + (lane >> 2), c0 = (lane & 3) * 2;
#pragma unroll
    for (int mt = 0; mt < MT; mt++) {
        if (silu && mt >= MT / 2) break;
#pragma unroll
        for (int i = 0; i < NTOK / 2; i++) {
            const int n = tw * rows + mt * 64 + r0 + ((i >> 1) & 1) * 8;
            const int t = tt * NTOK + (i >> 2) * 8 + c0 + (i & 1);
            if (n >= ph.N || t >= p.T) continue;
            const size_t o = (size_t)t * ph.ldy + n;
            const float v = acc[mt][i];
            switch (ph.mode) {
            case GEMV_STORE_BF16: reinterpret_cast<bf16 *>(ph.y)[o] = __float2bfloat16_rn(v); break;
            case GEMV_STORE_F32: reinterpret_cast<float *>(ph.y)[o] = v; break;
            case GEMV_ADD_F32: {
                float *y = reinterpret_cast<float *>(ph.y) + o;
                *y = __ldcg(y) + v;
                break;
            }
            default: {
                const float u = acc[mt + MT / 2][i];
                reinterpret_cast<bf16 *>(ph.y)[o] = __float2bfloat16_rn(v / (1.f + __expf(-v)) * u);
            }
            }
        }
    }
}
#endif

template <int NTOK, int KS>
__global__ void __launch_bounds__(GS_THREADS, 2) gemm_stream_kernel(const __grid_constant__ gs_params p)
{
#if RL_SM90A
    using C = gs_cfg<NTOK, KS>;
    constexpr int MT = C::MT, ST = C::ST;
    __shared__ __align__(8) uint64_t full[ST], empty[ST];
    __shared__ int last_flag;
    extern __shared__ unsigned char gs_smem_raw[];
    unsigned char *ring = reinterpret_cast<unsigned char *>((reinterpret_cast<uintptr_t>(gs_smem_raw) + 1023) & ~(uintptr_t)1023);

    pdl_trigger();
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int cta = blockIdx.x;
    unsigned long long *trace = p.trace ? p.trace + (size_t)cta * 8 : nullptr;
    if (threadIdx.x == 0) {
        for (int s = 0; s < ST; s++) mbar_init(&full[s], 1), mbar_init(&empty[s], 4);
        mbar_init_fence();
        if (trace) trace[0] = globaltimer_ns();
    }
    __syncthreads();

    if (warp == 4) { // ---- producer: one thread issues every TMA load ----
        if (lane != 0) return;
        const uint64_t evict_first = l2_policy_evict_first();
        int n_stages = 0;
        for (int q = 0; q < p.n_phases; q++) {
            n_stages += gs_start(cta + 1, p.ph[q], p.grid) - gs_start(cta, p.ph[q], p.grid);
            tma_prefetch_desc(&p.ph[q].tw);
            tma_prefetch_desc(&p.ph[q].tx);
        }
        // Two cursors walk this CTA's stages in order (phase by phase, its range of each phase's
        // iterations): one loads weights as far ahead as the ring allows, the other the activations
        // once each phase's input is complete. Incremental, so no division per stage.
        struct cursor {
            int g, q, it, end, tile, k;
        };
        auto enter = [&](cursor &c, int q) {
            c.q = q;
            if (q >= p.n_phases) return;
            c.it = gs_start(cta, p.ph[q], p.grid), c.end = gs_start(cta + 1, p.ph[q], p.grid);
            c.tile = c.it / p.ph[q].k_iters, c.k = c.it % p.ph[q].k_iters;
        };
        auto advance = [&](cursor &c) {
            c.g++, c.it++;
            if (++c.k == p.ph[c.q].k_iters) c.k = 0, c.tile++;
            if (c.it == c.end) enter(c, c.q + 1);
        };
        cursor w = {0, 0, 0, 0, 0, 0}, x = {0, 0, 0, 0, 0, 0};
        enter(w, 0);
        enter(x, 0);
        unsigned passed = 0; // phases whose input this thread has seen complete (phase 0: the PDL wait)
        while (x.g < n_stages) {
            bool moved = false;
            // Weights as far ahead as the ring allows (a slot is free once its last use was consumed).
            while (w.g < n_stages && w.g < x.g + ST) {
                const int s = w.g % ST;
                if (w.g >= ST && !mbar_test(&empty[s], (w.g / ST - 1) & 1)) break;
                const gs_phase_dev &ph = p.ph[w.q];
                const int tw_idx = ph.tiles_t == 1 ? w.tile : w.tile / ph.tiles_t;
                unsigned char *st = ring + s * C::STAGE_BYTES;
                mbar_arrive_expect_tx(&full[s], C::STAGE_BYTES);
#pragma unroll
                for (int mt = 0; mt < MT; mt++) {
                    // SiLU: sub-tiles [0, MT/2) are gate rows, [MT/2, MT) the matching up rows.
                    const int row = ph.mode == GEMV_SILU_BF16
                                        ? tw_idx * (64 * MT / 2) + (mt % (MT / 2)) * 64 + (mt >= MT / 2 ? ph.up_off : 0)
                                        : tw_idx * 64 * MT + mt * 64;
#pragma unroll
                    for (int kk = 0; kk < KS; kk++)
                        tma_load_2d_hint(st + (kk * MT + mt) * 8192, &ph.tw, (w.k * KS + kk) * 64, row, &full[s],
                                         evict_first);
                }
                advance(w);
                moved = true;
            }
            // Activations in order, each once its phase's input is complete.
            if (x.g < w.g) {
                if (passed < (unsigned)x.q + 1) {
                    if (passed == 0) {
                        pdl_wait(); // phase 0 reads the previous kernel's output
                        passed = 1;
                        if (trace) trace[1] = globaltimer_ns();
                    } else if (ld_acquire(p.bar) >= (unsigned)x.q * p.grid) {
                        passed = x.q + 1;
                    }
                }
                if (passed >= (unsigned)x.q + 1) {
                    const gs_phase_dev &ph = p.ph[x.q];
                    const int tt = ph.tiles_t == 1 ? 0 : x.tile % ph.tiles_t;
#pragma unroll
                    for (int kk = 0; kk < KS; kk++)
                        tma_load_2d(ring + (x.g % ST) * C::STAGE_BYTES + C::W_BYTES + kk * NTOK * 128, &ph.tx,
                                    (x.k * KS + kk) * 64, tt * NTOK, &full[x.g % ST]);
                    advance(x);
                    moved = true;
                }
            }
            if (moved) continue;
            if (x.g == w.g) // everything issued is waiting for its slot to be consumed: sleep on the slot
                mbar_wait(&empty[w.g % ST], (w.g / ST - 1) & 1);
            // else: spin on the phase barrier (and keep checking for a free slot)
        }
        return;
    }

    // ---- consumer warpgroup ----
    float acc[MT][NTOK / 2];
    int prev = -1, g = 0; // g: this CTA's stage counter across phases
    for (int q = 0; q < p.n_phases; q++) {
        const gs_phase_dev &ph = p.ph[q];
        const int it0 = gs_start(cta, ph, p.grid), it1 = gs_start(cta + 1, ph, p.grid);
        bool ordered = false; // this phase's stores are ordered after the previous phases' (acquire done)
        for (int it = it0; it < it1;) {
            const int tile = it / ph.k_iters;
            const int seg_end = min(it1, (tile + 1) * ph.k_iters);
            for (int i = it; i < seg_end; i++, g++) {
                const int s = g % ST;
                mbar_wait(&full[s], (g / ST) & 1);
                if (trace && g == 0 && threadIdx.x == 0) trace[2] = globaltimer_ns();
                const unsigned char *st = ring + s * C::STAGE_BYTES;
                wgmma_fence();
#pragma unroll
                for (int kk = 0; kk < KS; kk++)
#pragma unroll
                    for (int k = 0; k < 4; k++) {
                        const uint64_t db = wgmma_desc(st + C::W_BYTES + kk * NTOK * 128 + k * 32, 16, 1024);
#pragma unroll
                        for (int mt = 0; mt < MT; mt++)
                            wgmma_op<NTOK>::template ss<0>(acc[mt], wgmma_desc(st + (kk * MT + mt) * 8192 + k * 32, 16, 1024),
                                                           db, i > it || kk > 0 || k > 0);
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
            if (!ordered) { // long satisfied; orders our stores after the predecessors' (kernel or phase)
                if (q == 0) pdl_wait();
                else if (threadIdx.x == 0)
                    while (ld_acquire(p.bar) < (unsigned)q * p.grid) __nanosleep(32);
                named_sync(1, 128);
                ordered = true;
            }

            const int c_first = gs_owner(tile * ph.k_iters, ph, p.grid);
            const int c_last = gs_owner((tile + 1) * ph.k_iters - 1, ph, p.grid);
            if (c_first != c_last) {
                // Part of a tile: park the partial sums, and the last contributor adds them all up in
                // CTA order (the same sum whoever finishes last).
                constexpr int SLOT = MT * (NTOK / 2) * 128;
                const int which = tile == it0 / ph.k_iters ? 0 : 1;
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
                    if (last_flag) p.tickets[tile] = 0; // ready for the next use
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
                    const int wc = tile == gs_start(c, ph, p.grid) / ph.k_iters ? 0 : 1;
                    const float *src = p.ws + ((size_t)c * 2 + wc) * SLOT + threadIdx.x;
#pragma unroll
                    for (int mt = 0; mt < MT; mt++)
#pragma unroll
                        for (int i = 0; i < NTOK / 2; i++) acc[mt][i] += __ldcg(src + (mt * (NTOK / 2) + i) * 128);
                }
            }
            gs_store<NTOK>(p, ph, acc, tile);
            it = seg_end;
        }
        // Phase done: count this CTA in the grid barrier (the last one of the last phase resets it).
        if (trace && threadIdx.x == 0) trace[3 + q] = globaltimer_ns();
        __threadfence();
        named_sync(1, 128);
        if (threadIdx.x == 0) {
            const unsigned n = atomicAdd(p.bar, 1u);
            if (n == (unsigned)p.n_phases * p.grid - 1) *p.bar = 0;
        }
    }
    if (trace && threadIdx.x == 0) trace[7] = globaltimer_ns();
#endif
}

// Longer inputs run as several 64-token tiles: a 128-token tile needs more registers than two
// CTAs per SM allow (its weight tile then comes from L2 for the second token tile).
int rl_gs_tok_tile(int T) { return T <= 8 ? 8 : T <= 16 ? 16 : T <= 32 ? 32 : 64; }

size_t rl_gs_workspace_floats(int sm_count) { return (size_t)sm_count * 2 * gs_cfg<64, 1>::MT * (64 / 2) * 128; }

int rl_gs_supported(int N, int K, int T, int mode)
{
    (void)mode;
    if (N <= 0 || K <= 0 || K % 8 || T <= 0) return 0;
    const long long tiles = (long long)((N + 63) / 64) * ((T + rl_gs_tok_tile(T) - 1) / rl_gs_tok_tile(T));
    return tiles <= RL_GS_MAX_TILES;
}

template <int NTOK, int KS>
static cudaError_t gs_launch(cudaStream_t st, int pdl, const rl_gs_phase *phases, int n_phases, int T, const rl_gs_work *w)
{
    using C = gs_cfg<NTOK, KS>;
    gs_params p;
    memset(&p, 0, sizeof p);
    p.n_phases = n_phases, p.T = T;
    p.ws = w->ws, p.tickets = w->tickets, p.bar = w->bar, p.trace = w->trace;
    int grid = w->sm_count;
    for (int q = 0; q < n_phases; q++) {
        const rl_gs_phase &in = phases[q];
        gs_phase_dev &ph = p.ph[q];
        ph.tw = *in.tw, ph.tx = *in.tx, ph.y = in.y;
        ph.mode = in.mode, ph.N = in.N, ph.K = in.K, ph.ldy = in.ldy, ph.up_off = in.up_off;
        const int rows_per_tile = in.mode == GEMV_SILU_BF16 ? 64 * C::MT / 2 : 64 * C::MT;
        ph.tiles_t = (T + NTOK - 1) / NTOK;
        ph.k_iters = (in.K + 64 * KS - 1) / (64 * KS);
        ph.total = (in.N + rows_per_tile - 1) / rows_per_tile * ph.tiles_t * ph.k_iters;
        if (ph.total < grid) grid = ph.total; // every CTA gets work in every phase
    }
    p.grid = grid;
    auto kern = gemm_stream_kernel<NTOK, KS>;
    cudaError_t e = cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, C::SMEM_BYTES);
    if (e != cudaSuccess) return e;
    return rl_launch(kern, dim3(grid), dim3(GS_THREADS), (size_t)C::SMEM_BYTES, st, pdl, p);
}

cudaError_t rl_gemm_stream_phases(cudaStream_t st, int pdl, const rl_gs_phase *phases, int n_phases, int T,
                                  const rl_gs_work *w)
{
    if (n_phases < 1 || n_phases > RL_GS_MAX_PHASES || w->sm_count <= 0) return cudaErrorInvalidValue;
    for (int q = 0; q < n_phases; q++)
        if (!rl_gs_supported(phases[q].N, phases[q].K, T, phases[q].mode)) return cudaErrorInvalidValue;
    const int ks = w->stage_k_tiles == 2 ? 2 : 1;
    switch (rl_gs_tok_tile(T) * 10 + ks) {
    case 81: return gs_launch<8, 1>(st, pdl, phases, n_phases, T, w);
    case 82: return gs_launch<8, 2>(st, pdl, phases, n_phases, T, w);
    case 161: return gs_launch<16, 1>(st, pdl, phases, n_phases, T, w);
    case 162: return gs_launch<16, 2>(st, pdl, phases, n_phases, T, w);
    case 321: return gs_launch<32, 1>(st, pdl, phases, n_phases, T, w);
    case 322: return gs_launch<32, 2>(st, pdl, phases, n_phases, T, w);
    case 642: return gs_launch<64, 2>(st, pdl, phases, n_phases, T, w);
    default: return gs_launch<64, 1>(st, pdl, phases, n_phases, T, w);
    }
}

cudaError_t rl_gemm_stream(cudaStream_t st, int pdl, int mode, const CUtensorMap *tw, const CUtensorMap *tx, void *Y, int N,
                           int K, int T, int ldy, int up_off, const rl_gs_work *w)
{
    const rl_gs_phase ph = {tw, tx, Y, mode, N, K, ldy, up_off};
    return rl_gemm_stream_phases(st, pdl, &ph, 1, T, w);
}
