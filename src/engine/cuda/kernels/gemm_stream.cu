// gemm_stream.cu: the Hopper (sm_90a) projection kernel for few tokens (decode batches, short
// prefills): Y[t, n] (=, +=) sum_k X[t, k] W[n, k], weights streamed from HBM exactly once.
// FLOPs 2*T*N*K; bytes N*K*2 (weights) + T*K*2 per 64*MT weight rows (activations, from L2) + Y.
//
// Why this shape: a decode step is a chain of weight-streaming projections, and what keeps it
// from the read roof is the time lost at every boundary, not the streaming itself. So:
// - one producer warp streams W through a ring of shared-memory stages with TMA (no registers
//   hold the data in flight), and issues the first ring-full of weight loads BEFORE
//   griddepcontrol.wait: weights never depend on the previous kernel. Every kernel triggers its
//   dependents at entry and takes ~100 KB of shared memory, so the next kernel's CTAs sit beside
//   this one's and have their rings full when it ends;
// - the grid is persistent (one CTA per SM) and the work is handed out dynamically: a unit is a
//   tile of 64*MT weight rows and a range of its k iterations, taken from a counter by whichever
//   producer needs more. SMs do not stream equally fast (measured: CTAs with equal static shares
//   finished up to 5 us apart on a 20 us projection), so a static split leaves the HBM idle at the
//   end of every kernel; units of ~1 us keep the tail below that. A tile cut into several units
//   is summed by the last of them to finish, in unit order (ticket), so the result does not
//   depend on timing;
// - one warpgroup multiplies on the tensor cores with wgmma m64nNk16: weights are the 64-row A
//   operand, the tokens (padded to N = 8..64 by TMA's zero fill) the B operand, so a batch of
//   one costs no more smem traffic than a batch of eight.
#include "../kernels.h"
#include "sm90.cuh"

#define GS_THREADS 160 // warps 0-3: the consumer warpgroup; warp 4: the producer
#define GS_DONE 0x7fffffff // stage header: no more units

// Per token-tile width NTOK: weight sub-tiles of 64 rows per stage (MT), stages in the ring (ST).
// Shared memory stays near 100 KB so that two launches' CTAs fit on one SM.
template <int NTOK> struct gs_cfg {
    static constexpr int MT = 2;
    static constexpr int ST = NTOK <= 16 ? 6 : NTOK <= 32 ? 5 : 4;
    static constexpr int W_BYTES = MT * 64 * 128; // MT boxes of 64 rows x 64 bf16
    static constexpr int X_BYTES = NTOK * 128;    // one box of NTOK rows x 64 bf16
    static constexpr int STAGE_BYTES = W_BYTES + X_BYTES;
    static constexpr int SMEM_BYTES = ST * STAGE_BYTES + 1024; // + alignment slack
    static constexpr int SLOT = MT * (NTOK / 2) * 128;         // floats of one unit's partial tile
};

struct gs_params {
    void *y;
    float *ws;      // [tiles * cpt][SLOT] partial tiles (fp32), when cpt > 1
    int *tickets;   // [tiles], zero between launches
    unsigned *ctr;  // units handed out (+ one failed take per CTA); zero between launches
    unsigned long long *trace;
    int N, K, T, ldy, up_off;
    int tiles_t, k_iters, cpt, units; // cpt: units (k ranges) per tile
};

#if RL_SM90A
template <int NTOK, int MODE>
__device__ __forceinline__ void gs_store(const gs_params &p, float (&acc)[gs_cfg<NTOK>::MT][NTOK / 2], int tile)
{
    constexpr int MT = gs_cfg<NTOK>::MT;
    constexpr int ROWS = MODE == GEMV_SILU_BF16 ? 64 * MT / 2 : 64 * MT; // output rows of a tile
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

// The k iterations [k0, k1) of unit u.
__device__ __forceinline__ void gs_unit(const gs_params &p, int u, int &tile, int &k0, int &k1)
{
    tile = u / p.cpt;
    const int c = u % p.cpt;
    k0 = c * p.k_iters / p.cpt, k1 = (c + 1) * p.k_iters / p.cpt;
}
#endif

template <int NTOK, int MODE>
__global__ void __launch_bounds__(GS_THREADS, 2)
    gemm_stream_kernel(const __grid_constant__ CUtensorMap tw, const __grid_constant__ CUtensorMap tx, const gs_params p)
{
#if RL_SM90A
    using C = gs_cfg<NTOK>;
    constexpr int MT = C::MT, ST = C::ST;
    __shared__ __align__(8) uint64_t full[ST], empty[ST];
    __shared__ int unit_of[ST]; // the unit each stage belongs to (GS_DONE: none left)
    __shared__ int last_flag;
    extern __shared__ unsigned char gs_smem_raw[];
    unsigned char *ring = reinterpret_cast<unsigned char *>((reinterpret_cast<uintptr_t>(gs_smem_raw) + 1023) & ~(uintptr_t)1023);

    pdl_trigger();
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    unsigned long long *trace = p.trace ? p.trace + (size_t)blockIdx.x * 4 : nullptr;
    if (threadIdx.x == 0) {
        for (int s = 0; s < ST; s++) mbar_init(&full[s], 1), mbar_init(&empty[s], 4);
        mbar_init_fence();
        if (trace) trace[0] = globaltimer_ns();
    }
    __syncthreads();

    if (warp == 4) { // ---- producer: one thread takes units and issues every TMA load ----
        if (lane != 0) return;
        tma_prefetch_desc(&tw);
        tma_prefetch_desc(&tx);
        const uint64_t evict_first = l2_policy_evict_first();
        // Every producer takes units until a take fails; the last failed take of the grid (there is
        // one per CTA) leaves the counter at zero for the next launch that uses it.
        auto take = [&]() {
            const unsigned t = atomicAdd(p.ctr, 1u);
            if (t == (unsigned)(p.units + gridDim.x - 1)) *p.ctr = 0;
            return (int)t;
        };
        int u = take(), tile = 0, k = 0, k1 = 0;
        if (u < p.units) gs_unit(p, u, tile, k, k1);
        int g = 0;
        bool waited = false; // griddepcontrol.wait done (the activations are the previous kernel's output)
        // Stage g: wait for its slot, write its header, load W now and X once the wait is done.
        // The first ring-full of weights goes out before the wait.
        int pending_x = 0; // stages [g - pending_x, g) whose X is not loaded yet
        int pend_tile[ST], pend_k[ST];
        for (;; g++) {
            const int s = g % ST;
            if (g >= ST) {
                if (!waited) { // the ring is full of weights: now the activations
                    pdl_wait();
                    waited = true;
                    if (trace) trace[1] = globaltimer_ns();
                    for (int j = 0; j < pending_x; j++) {
                        const int gs = g - pending_x + j;
                        tma_load_2d(ring + (gs % ST) * C::STAGE_BYTES + C::W_BYTES, &tx, pend_k[j] * 64,
                                    (pend_tile[j] % p.tiles_t) * NTOK, &full[gs % ST]);
                    }
                    pending_x = 0;
                }
                mbar_wait(&empty[s], (g / ST - 1) & 1);
            }
            if (u >= p.units) { // no more work: tell the consumers
                unit_of[s] = GS_DONE;
                mbar_arrive(&full[s]);
                break;
            }
            unit_of[s] = u;
            unsigned char *st = ring + s * C::STAGE_BYTES;
            mbar_arrive_expect_tx(&full[s], C::STAGE_BYTES);
            const int tw_idx = tile / p.tiles_t;
#pragma unroll
            for (int mt = 0; mt < MT; mt++) {
                // SiLU: sub-tiles [0, MT/2) are gate rows, [MT/2, MT) the matching up rows.
                const int row = MODE == GEMV_SILU_BF16
                                    ? tw_idx * (64 * MT / 2) + (mt % (MT / 2)) * 64 + (mt >= MT / 2 ? p.up_off : 0)
                                    : tw_idx * 64 * MT + mt * 64;
                tma_load_2d_hint(st + mt * 8192, &tw, k * 64, row, &full[s], evict_first);
            }
            if (waited) {
                tma_load_2d(st + C::W_BYTES, &tx, k * 64, (tile % p.tiles_t) * NTOK, &full[s]);
            } else {
                pend_tile[pending_x] = tile, pend_k[pending_x] = k, pending_x++;
            }
            if (++k == k1) {
                u = take();
                if (u < p.units) gs_unit(p, u, tile, k, k1);
            }
        }
        if (!waited) { // less work than one ring-full
            pdl_wait();
            for (int j = 0; j < pending_x; j++) {
                const int gs = g - pending_x + j;
                tma_load_2d(ring + (gs % ST) * C::STAGE_BYTES + C::W_BYTES, &tx, pend_k[j] * 64,
                            (pend_tile[j] % p.tiles_t) * NTOK, &full[gs % ST]);
            }
        }
        return;
    }

    // ---- consumer warpgroup ----
    float acc[MT][NTOK / 2];
    int prev = -1;
    bool ordered = false;
    for (int g = 0;;) {
        const int s0 = g % ST;
        mbar_wait(&full[s0], (g / ST) & 1);
        const int u = unit_of[s0];
        if (u == GS_DONE) break;
        if (trace && g == 0 && threadIdx.x == 0) trace[2] = globaltimer_ns();
        int tile, k0, k1;
        gs_unit(p, u, tile, k0, k1);
        for (int k = k0; k < k1; k++, g++) {
            const int s = g % ST;
            if (k > k0) mbar_wait(&full[s], (g / ST) & 1);
            const unsigned char *st = ring + s * C::STAGE_BYTES;
            wgmma_fence();
#pragma unroll
            for (int kk = 0; kk < 4; kk++) {
                const uint64_t db = wgmma_desc(st + C::W_BYTES + kk * 32, 16, 1024);
#pragma unroll
                for (int mt = 0; mt < MT; mt++)
                    wgmma_op<NTOK>::template ss<0>(acc[mt], wgmma_desc(st + mt * 8192 + kk * 32, 16, 1024), db,
                                                   k > k0 || kk > 0);
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
        if (!ordered) { // long satisfied (the producer waited before loading X); orders our stores after the predecessor
            pdl_wait();
            ordered = true;
        }
        if (p.cpt > 1) {
            // Part of a tile: park the partial sums in the unit's slot; the last unit of the tile to
            // finish adds them all up in unit order.
            float *mine = p.ws + (size_t)u * C::SLOT + threadIdx.x;
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int i = 0; i < NTOK / 2; i++) __stcg(mine + (mt * (NTOK / 2) + i) * 128, acc[mt][i]);
            __threadfence();
            named_sync(1, 128);
            if (threadIdx.x == 0) {
                const int done = atomicAdd(p.tickets + tile, 1);
                last_flag = done == p.cpt - 1;
                if (last_flag) p.tickets[tile] = 0; // ready for the next launch
            }
            named_sync(1, 128);
            const int is_last = last_flag;
            named_sync(1, 128); // last_flag is read by all before the next unit may rewrite it
            if (is_last) {
                __threadfence();
#pragma unroll
                for (int mt = 0; mt < MT; mt++)
#pragma unroll
                    for (int i = 0; i < NTOK / 2; i++) acc[mt][i] = 0.f;
                for (int c = 0; c < p.cpt; c++) {
                    const float *src = p.ws + (size_t)(tile * p.cpt + c) * C::SLOT + threadIdx.x;
#pragma unroll
                    for (int mt = 0; mt < MT; mt++)
#pragma unroll
                        for (int i = 0; i < NTOK / 2; i++) acc[mt][i] += __ldcg(src + (mt * (NTOK / 2) + i) * 128);
                }
                gs_store<NTOK, MODE>(p, acc, tile);
            }
        } else {
            gs_store<NTOK, MODE>(p, acc, tile);
        }
    }
    if (trace && threadIdx.x == 0) trace[3] = globaltimer_ns();
#endif
}

// Longer inputs run as several 64-token tiles: a 128-token tile needs more registers than two
// CTAs per SM allow (its weight tile then comes from L2 for the second token tile).
int rl_gs_tok_tile(int T) { return T <= 8 ? 8 : T <= 16 ? 16 : T <= 32 ? 32 : 64; }

// Units per tile: enough units for ~16 per CTA (a balanced tail), none shorter than 3 k iterations
// (each cut tile costs a partial-sum round trip through L2).
static int gs_cpt(int tiles, int k_iters, int sm_count)
{
    int cpt = (16 * sm_count + tiles - 1) / tiles;
    if (cpt > k_iters / 3) cpt = k_iters / 3;
    return cpt < 1 ? 1 : cpt;
}

size_t rl_gs_workspace_floats(int sm_count)
{
    // The most partial slots any shape needs: tiles * cpt <= 16 * sm_count + tiles - 1 while cpt > 1,
    // which needs tiles < 16 * sm_count; SLOT is largest for 64-token tiles.
    return (size_t)(32 * sm_count) * gs_cfg<64>::SLOT;
}

int rl_gs_supported(int N, int K, int T, int mode)
{
    (void)mode;
    if (N <= 0 || K <= 0 || K % 8 || T <= 0) return 0;
    const long long tiles = (long long)((N + 63) / 64) * ((T + rl_gs_tok_tile(T) - 1) / rl_gs_tok_tile(T));
    return tiles <= RL_GS_MAX_TILES;
}

template <int NTOK, int MODE>
static cudaError_t gs_launch(cudaStream_t st, int pdl, const CUtensorMap *tw, const CUtensorMap *tx, void *Y, int N, int K,
                             int T, int ldy, int up_off, const rl_gs_work *w)
{
    using C = gs_cfg<NTOK>;
    const int rows_per_tile = MODE == GEMV_SILU_BF16 ? 64 * C::MT / 2 : 64 * C::MT;
    gs_params p;
    p.y = Y, p.ws = w->ws, p.tickets = w->tickets, p.ctr = w->counters + w->slot, p.trace = w->trace;
    p.N = N, p.K = K, p.T = T, p.ldy = ldy, p.up_off = up_off;
    p.tiles_t = (T + NTOK - 1) / NTOK;
    p.k_iters = (K + 63) / 64;
    const int tiles = (N + rows_per_tile - 1) / rows_per_tile * p.tiles_t;
    p.cpt = gs_cpt(tiles, p.k_iters, w->sm_count);
    p.units = tiles * p.cpt;
    if ((size_t)p.units * C::SLOT > rl_gs_workspace_floats(w->sm_count) && p.cpt > 1) return cudaErrorInvalidValue;
    const int grid = p.units < w->sm_count ? p.units : w->sm_count;
    auto kern = gemm_stream_kernel<NTOK, MODE>;
    cudaError_t e = cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, C::SMEM_BYTES);
    if (e != cudaSuccess) return e;
    return rl_launch(kern, dim3(grid), dim3(GS_THREADS), (size_t)C::SMEM_BYTES, st, pdl, *tw, *tx, p);
}

template <int NTOK>
static cudaError_t gs_mode(cudaStream_t st, int pdl, int mode, const CUtensorMap *tw, const CUtensorMap *tx, void *Y, int N,
                           int K, int T, int ldy, int up_off, const rl_gs_work *w)
{
    switch (mode) {
    case GEMV_STORE_BF16: return gs_launch<NTOK, GEMV_STORE_BF16>(st, pdl, tw, tx, Y, N, K, T, ldy, up_off, w);
    case GEMV_STORE_F32: return gs_launch<NTOK, GEMV_STORE_F32>(st, pdl, tw, tx, Y, N, K, T, ldy, up_off, w);
    case GEMV_ADD_F32: return gs_launch<NTOK, GEMV_ADD_F32>(st, pdl, tw, tx, Y, N, K, T, ldy, up_off, w);
    case GEMV_SILU_BF16: return gs_launch<NTOK, GEMV_SILU_BF16>(st, pdl, tw, tx, Y, N, K, T, ldy, up_off, w);
    }
    return cudaErrorInvalidValue;
}

cudaError_t rl_gemm_stream(cudaStream_t st, int pdl, int mode, const CUtensorMap *tw, const CUtensorMap *tx, void *Y, int N,
                           int K, int T, int ldy, int up_off, const rl_gs_work *w)
{
    if (!rl_gs_supported(N, K, T, mode) || w->sm_count <= 0 || w->slot < 0 || w->slot >= RL_GS_COUNTER_SLOTS)
        return cudaErrorInvalidValue;
    switch (rl_gs_tok_tile(T)) {
    case 8: return gs_mode<8>(st, pdl, mode, tw, tx, Y, N, K, T, ldy, up_off, w);
    case 16: return gs_mode<16>(st, pdl, mode, tw, tx, Y, N, K, T, ldy, up_off, w);
    case 32: return gs_mode<32>(st, pdl, mode, tw, tx, Y, N, K, T, ldy, up_off, w);
    default: return gs_mode<64>(st, pdl, mode, tw, tx, Y, N, K, T, ldy, up_off, w);
    }
}
