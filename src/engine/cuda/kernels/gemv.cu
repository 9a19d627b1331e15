// gemv.cu: decode projections Y = X W^T for batch B <= 64 on tensor cores (mma.sync m16n8k16).
// FLOPs 2*B*N*K; bytes N*K*2 (weights, streamed exactly once for the whole batch) + B*K*2 + B*N*(2|4|8).
//
// A warp owns 16 weight rows and a slice of K; the batch is the mma's N side (8 sequences per
// tile, NT tiles). Each lane loads 16 contiguous bytes of its rows, which breaks the mma's k
// order, so the activations are loaded with the same permutation: the dot product does not care.
// Eight warps split K, reduce through shared memory, and the epilogue stores, accumulates into
// the fp32 residual stream, or applies SiLU(gate) * up for the fused gate/up projection.
// Fused RMSNorm (NORM): the input is the fp32 residual stream and its per-row rsqrt(mean(x^2) +
// eps), left by the producer; the block builds bf16(x * rs * gamma) fragment by fragment, so no
// normalised copy of x goes through memory. An accumulating GEMV is such a producer: each block
// writes the sums of squares of the 16 residual columns it updated, and the last block to finish
// (ticket counter) adds them up into rs for the next projection.
#include "../kernels.h"

#define GEMV_WARPS 8

// Per batch width (NT tiles of 8 sequences):
//  U   32-element chunks per lane in flight (x2 rows), double buffered with the activations (PX);
//  RO  16-row output tiles per block (the activations' L2 traffic is B/(16*RO) of the weight
//      bytes; measured: more rows per block leave too few warps streaming on the smaller
//      projections, so it stays 1);
//  MIN_BLOCKS resident blocks per SM the registers must allow.
template <int NT> struct gemv_cfg {
    static constexpr int U = NT == 1 ? 3 : 2; // measured: batch <= 8 streams best with 3 chunks in flight
    static constexpr int RO = 1;
    static constexpr bool PX = NT == 2 || NT == 4; // and gains nothing from prefetching activations
    static constexpr int MIN_BLOCKS = NT == 1 ? 3 : 2;
};

// ST > 0: the weights stream through shared memory with cp.async, ST 32-element chunks per lane
// in flight (x2 rows) without the registers the register path needs for them, so more bytes
// are in flight per SM. Each lane reads back exactly the 16-byte slots it copied, so no
// barrier is needed, only its own cp.async.wait_group.
template <int NT, int ST> struct gemv_blocks {
    static constexpr int value = ST ? (NT == 1 ? 3 : 2) : gemv_cfg<NT>::MIN_BLOCKS;
};

template <int NT, int MODE, bool NORM, int ST>
__global__ void __launch_bounds__(GEMV_WARPS * 32, (gemv_blocks<NT, ST>::value))
    gemv_tc_kernel(const bf16 *__restrict__ W, const bf16 *__restrict__ X, void *__restrict__ Y, int N, int K, int B,
                   int ldy, int up_off, gemv_norm norm, gemv_ss ss, int l2pf)
{
    constexpr int U = gemv_cfg<NT>::U, RO = gemv_cfg<NT>::RO;
    constexpr bool PX = gemv_cfg<NT>::PX && !NORM;
    static_assert(ST == 0 || (!NORM && ST >= 2), "the cp.async path takes bf16 activations");
    constexpr int PT = MODE == GEMV_SILU_BF16 ? 2 * RO : RO; // weight row tiles per block (gate, up)
    constexpr int S = GEMV_WARPS / PT;                        // K splits per row tile
    constexpr int COLS = 8 * NT;
    __shared__ float red[GEMV_WARPS][16][COLS + 1];

    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int pt = warp / S, split = warp % S;
    const int q = lane & 3, r = lane >> 2;
    const int out_tile = blockIdx.x * RO + pt % RO; // 16-row output tile this warp feeds
    int ra = min(out_tile * 16 + r, N - 1), rb = min(out_tile * 16 + r + 8, N - 1);
    if (MODE == GEMV_SILU_BF16 && pt >= RO) ra += up_off, rb += up_off;
    // gridDim.y > 1 (accumulating epilogue only): K is split over that many blocks as well, each
    // adding its partial sums to Y atomically, so short, wide-K projections fill more SMs.
    const int chunks = K >> 5, S_all = S * gridDim.y, sk = blockIdx.y * S + split;
    const int c0 = sk * chunks / S_all, c1 = (sk + 1) * chunks / S_all;
    const bf16 *wa = W + (size_t)ra * K + q * 8;
    const bf16 *wb = W + (size_t)rb * K + q * 8;

    float acc[NT][4];
#pragma unroll
    for (int t = 0; t < NT; t++) acc[t][0] = acc[t][1] = acc[t][2] = acc[t][3] = 0.f;
    // Activations of sequence n at chunk c (zero past the batch).
    auto load_x = [&](int c, int t) {
        const int n = t * 8 + r;
        return n < B ? __ldg(reinterpret_cast<const uint4 *>(X + (size_t)n * K + c * 32 + q * 8)) : make_uint4(0, 0, 0, 0);
    };

    if constexpr (ST > 0) {
        extern __shared__ __align__(16) unsigned char gemv_stage[];
        // This warp's ring: [ST][16 rows][32 bf16]; lane (r, q) owns 16 bytes of rows r and r+8.
        uint4 *ring = reinterpret_cast<uint4 *>(gemv_stage) + (size_t)warp * ST * 64;
        auto issue = [&](int c, int stg) {
            if (c < c1) {
                cp_async16(ring + stg * 64 + r * 4 + q, wa + (size_t)c * 32);
                cp_async16(ring + stg * 64 + (r + 8) * 4 + q, wb + (size_t)c * 32);
            }
            cp_async_commit(); // empty groups keep the count uniform
        };
        // Weights never change: start streaming them before waiting for the previous kernel.
#pragma unroll
        for (int j = 0; j < ST - 1; j++) issue(c0 + j, j);
        pdl_wait();
        int stg = 0;
        for (int c = c0; c < c1; c++) {
            uint4 xv[NT];
#pragma unroll
            for (int t = 0; t < NT; t++) xv[t] = load_x(c, t);
            cp_async_wait<ST - 2>(); // chunk c's group has landed
            const uint4 a = ring[stg * 64 + r * 4 + q], bw = ring[stg * 64 + (r + 8) * 4 + q];
#pragma unroll
            for (int t = 0; t < NT; t++) {
                mma_bf16_16816(acc[t], a.x, bw.x, a.y, bw.y, xv[t].x, xv[t].y);
                mma_bf16_16816(acc[t], a.z, bw.z, a.w, bw.w, xv[t].z, xv[t].w);
            }
            // Refill the slot read one iteration ago (its mma consumed the data already).
            issue(c + ST - 1, stg == 0 ? ST - 1 : stg - 1);
            stg = stg == ST - 1 ? 0 : stg + 1;
        }
        cp_async_wait<0>();
    } else {
    // Weights never change: start streaming them before waiting for the previous kernel.
    uint4 A[U], Bw[U], Xv[U][PX ? NT : 1];
#pragma unroll
    for (int j = 0; j < U; j++) {
        if (c0 + j < c1) {
            A[j] = ld_stream16(wa + (size_t)(c0 + j) * 32);
            Bw[j] = ld_stream16(wb + (size_t)(c0 + j) * 32);
        }
    }
    // While the previous kernel finishes (often a small one that leaves HBM idle: attention,
    // a norm), pull the rest of this warp's weights into L2: one prefetch per 128-byte line.
    if (l2pf && q == 0) {
        for (int c = (c0 + U + 1) & ~1; c < c1; c += 2) {
            asm volatile("prefetch.global.L2 [%0];" ::"l"(wa - q * 8 + (size_t)c * 32));
            asm volatile("prefetch.global.L2 [%0];" ::"l"(wb - q * 8 + (size_t)c * 32));
        }
    }
    pdl_wait();
    if (PX) {
#pragma unroll
        for (int j = 0; j < U; j++)
#pragma unroll
            for (int t = 0; t < NT; t++)
                if (c0 + j < c1) Xv[j][t] = load_x(c0 + j, t);
    }
    float rsv[NT]; // rs of the sequences this lane feeds to the mma
    if (NORM) {
#pragma unroll
        for (int t = 0; t < NT; t++) rsv[t] = t * 8 + r < B ? norm.rs[t * 8 + r] : 0.f;
    }

    for (int c = c0; c < c1; c += U) {
        uint4 nA[U], nB[U], nX[U][PX ? NT : 1];
#pragma unroll
        for (int j = 0; j < U; j++) {
            if (c + U + j < c1) {
                nA[j] = ld_stream16(wa + (size_t)(c + U + j) * 32);
                nB[j] = ld_stream16(wb + (size_t)(c + U + j) * 32);
                if (PX) {
#pragma unroll
                    for (int t = 0; t < NT; t++) nX[j][t] = load_x(c + U + j, t);
                }
            } else {
                nA[j] = nB[j] = make_uint4(0, 0, 0, 0);
                if (PX) {
#pragma unroll
                    for (int t = 0; t < NT; t++) nX[j][t] = make_uint4(0, 0, 0, 0);
                }
            }
        }
#pragma unroll
        for (int j = 0; j < U; j++) {
            if (c + j < c1) {
                const int k = (c + j) * 32 + q * 8;
#pragma unroll
                for (int t = 0; t < NT; t++) {
                    const int n = t * 8 + r;
                    uint4 xv;
                    if (PX) {
                        xv = Xv[j][PX ? t : 0];
                    } else if (NORM) {
                        xv = make_uint4(0, 0, 0, 0);
                        if (n < B) {
                            const float *xr = norm.x + (size_t)n * K + k;
                            const float4 a = __ldg(reinterpret_cast<const float4 *>(xr));
                            const float4 c2 = __ldg(reinterpret_cast<const float4 *>(xr + 4));
                            const uint4 g = __ldg(reinterpret_cast<const uint4 *>(norm.gamma + k));
                            const float r0 = rsv[t];
                            const float2 g0 = bf2_to_f2(g.x), g1 = bf2_to_f2(g.y), g2 = bf2_to_f2(g.z),
                                         g3 = bf2_to_f2(g.w);
                            xv.x = f2_to_bf2(a.x * r0 * g0.x, a.y * r0 * g0.y);
                            xv.y = f2_to_bf2(a.z * r0 * g1.x, a.w * r0 * g1.y);
                            xv.z = f2_to_bf2(c2.x * r0 * g2.x, c2.y * r0 * g2.y);
                            xv.w = f2_to_bf2(c2.z * r0 * g3.x, c2.w * r0 * g3.y);
                        }
                    } else {
                        xv = load_x(c + j, t);
                    }
                    mma_bf16_16816(acc[t], A[j].x, Bw[j].x, A[j].y, Bw[j].y, xv.x, xv.y);
                    mma_bf16_16816(acc[t], A[j].z, Bw[j].z, A[j].w, Bw[j].w, xv.z, xv.w);
                }
            }
        }
#pragma unroll
        for (int j = 0; j < U; j++) {
            A[j] = nA[j], Bw[j] = nB[j];
            if (PX) {
#pragma unroll
                for (int t = 0; t < NT; t++) Xv[j][t] = nX[j][t];
            }
        }
    }
    } // register path

    // Every weight byte of this block has arrived: let the next kernel start streaming its own
    // weights while this one reduces (triggering earlier lets future kernels crowd the SMs).
    pdl_trigger();
    // C fragment: rows r and r+8, columns (sequences) 2q and 2q+1 of each 8-wide tile.
#pragma unroll
    for (int t = 0; t < NT; t++) {
        red[warp][r][t * 8 + 2 * q] = acc[t][0];
        red[warp][r][t * 8 + 2 * q + 1] = acc[t][1];
        red[warp][r + 8][t * 8 + 2 * q] = acc[t][2];
        red[warp][r + 8][t * 8 + 2 * q + 1] = acc[t][3];
    }
    __syncthreads();

    // RO * 16 * COLS is a multiple of 32: every lane of a warp runs every iteration it enters, so
    // the 16 lanes of one column can reduce with shuffles.
    const int n_tiles = (N + 15) / 16;
    for (int idx = threadIdx.x; idx < RO * 16 * COLS; idx += GEMV_WARPS * 32) {
        const int row = idx & 15, col = (idx >> 4) % COLS, ot = idx / (16 * COLS);
        const int tile = blockIdx.x * RO + ot;
        const int n = tile * 16 + row;
        const bool ok = col < B && n < N;
        float v = 0.f;
#pragma unroll
        for (int s = 0; s < S; s++) v += red[ot * S + s][row][col];
        const size_t o = (size_t)col * ldy + n;
        if (MODE == GEMV_SILU_BF16) {
            float u = 0.f;
#pragma unroll
            for (int s = 0; s < S; s++) u += red[(RO + ot) * S + s][row][col];
            if (ok) reinterpret_cast<bf16 *>(Y)[o] = __float2bfloat16_rn(v / (1.f + __expf(-v)) * u);
        } else if (MODE == GEMV_STORE_BF16) {
            if (ok) reinterpret_cast<bf16 *>(Y)[o] = __float2bfloat16_rn(v);
        } else if (MODE == GEMV_STORE_F32) {
            if (ok) reinterpret_cast<float *>(Y)[o] = v;
        } else if (gridDim.y > 1) {
            if (ok) atomicAdd(reinterpret_cast<float *>(Y) + o, v);
        } else {
            float x_new = 0.f;
            if (ok) {
                x_new = reinterpret_cast<float *>(Y)[o] + v;
                reinterpret_cast<float *>(Y)[o] = x_new;
            }
            if (ss.part) {
                float sq = x_new * x_new;
#pragma unroll
                for (int m = 8; m > 0; m >>= 1) sq += __shfl_xor_sync(0xffffffffu, sq, m);
                if (row == 0 && col < B && tile < n_tiles) ss.part[(size_t)col * n_tiles + tile] = sq;
            }
        }
    }
    if (MODE != GEMV_ADD_F32 || !ss.part) return;
    // The last block to finish turns the partial sums of squares into rs for the next norm.
    __shared__ int last;
    __threadfence();
    __syncthreads();
    if (threadIdx.x == 0) {
        last = atomicAdd(ss.ticket, 1) == (int)gridDim.x - 1;
        if (last) *ss.ticket = 0;
    }
    __syncthreads();
    if (!last) return;
    __threadfence();
    for (int b = warp; b < B; b += GEMV_WARPS) {
        float t = 0.f;
        for (int p = lane; p < n_tiles; p += 32) t += __ldcg(ss.part + (size_t)b * n_tiles + p);
        t = warp_sum(t);
        if (lane == 0) ss.rs[b] = rsqrtf(t / (float)N + ss.eps);
    }
}

int rl_gemv_supported(int N, int K, int B) { return N > 0 && K > 0 && K % 32 == 0 && B >= 1 && B <= RL_GEMV_MAX_BATCH; }

template <int NT, bool NORM, int ST>
static cudaError_t launch_norm(cudaStream_t st, int pdl, int ksplit, int mode, const bf16 *W, const bf16 *X, void *Y,
                               int N, int K, int B, int ldy, int up_off, gemv_norm nm, gemv_ss ss)
{
    dim3 grid((N + 16 * gemv_cfg<NT>::RO - 1) / (16 * gemv_cfg<NT>::RO), ksplit), block(GEMV_WARPS * 32);
    const size_t smem = (size_t)ST * GEMV_WARPS * 1024; // per warp and stage: 16 rows x 64 bytes
    auto go = [&](auto kern) -> cudaError_t {
        if (smem > 48 * 1024) {
            cudaError_t e = cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
            if (e != cudaSuccess) return e;
        }
        // pdl 2: programmatic launch and L2 prefetch of the weights before the wait
        return rl_launch(kern, grid, block, smem, st, pdl != 0, W, X, Y, N, K, B, ldy, up_off, nm, ss, pdl == 2 ? 1 : 0);
    };
    switch (mode) {
    case GEMV_STORE_BF16: return go(gemv_tc_kernel<NT, GEMV_STORE_BF16, NORM, ST>);
    case GEMV_STORE_F32: return go(gemv_tc_kernel<NT, GEMV_STORE_F32, NORM, ST>);
    case GEMV_ADD_F32: // accumulates into the residual stream, whose input is never normalised here
        return NORM ? cudaErrorInvalidValue : go(gemv_tc_kernel<NT, GEMV_ADD_F32, false, ST>);
    case GEMV_SILU_BF16: return go(gemv_tc_kernel<NT, GEMV_SILU_BF16, NORM, ST>);
    }
    return cudaErrorInvalidValue;
}

template <int NT>
static cudaError_t launch_nt(cudaStream_t st, int pdl, int stages, int ksplit, int mode, const bf16 *W, const bf16 *X, void *Y,
                             int N, int K, int B, int ldy, int up_off, const gemv_norm *norm, const gemv_ss *ss)
{
    const gemv_norm no_norm = {nullptr, nullptr, nullptr};
    const gemv_ss no_ss = {nullptr, nullptr, nullptr, 0.f};
    if (norm) return launch_norm<NT, true, 0>(st, pdl, 1, mode, W, X, Y, N, K, B, ldy, up_off, *norm, ss ? *ss : no_ss);
    if constexpr (NT <= 2) {
        if (stages == 4)
            return launch_norm<NT, false, 4>(st, pdl, ksplit, mode, W, X, Y, N, K, B, ldy, up_off, no_norm, ss ? *ss : no_ss);
        if (stages == 8)
            return launch_norm<NT, false, 8>(st, pdl, ksplit, mode, W, X, Y, N, K, B, ldy, up_off, no_norm, ss ? *ss : no_ss);
    }
    return launch_norm<NT, false, 0>(st, pdl, ksplit, mode, W, X, Y, N, K, B, ldy, up_off, no_norm, ss ? *ss : no_ss);
}

int rl_gemv_stages_supported(int stages, int B, int fused_norm)
{
    return stages == 0 || ((stages == 4 || stages == 8) && B <= 16 && !fused_norm);
}

int rl_gemv_ksplit_supported(int ksplit, int mode, int K, int has_ss)
{
    (void)K; // warps left without a K slice add zeros
    return ksplit == 1 || (ksplit > 1 && ksplit <= 8 && mode == GEMV_ADD_F32 && !has_ss);
}

cudaError_t rl_gemv_st(cudaStream_t st, int pdl, int stages, int ksplit, int mode, const bf16 *W, const bf16 *X,
                       void *Y, int N, int K, int B, int ldy, int up_off, const gemv_norm *norm, const gemv_ss *ss)
{
    if (ss && mode != GEMV_ADD_F32) return cudaErrorInvalidValue;
    if (!rl_gemv_ksplit_supported(ksplit, mode, K, ss != NULL)) return cudaErrorInvalidValue;
    if (!rl_gemv_supported(N, K, B) || !rl_gemv_stages_supported(stages, B, norm != NULL)) return cudaErrorInvalidValue;
    if (B <= 8) return launch_nt<1>(st, pdl, stages, ksplit, mode, W, X, Y, N, K, B, ldy, up_off, norm, ss);
    if (B <= 16) return launch_nt<2>(st, pdl, stages, ksplit, mode, W, X, Y, N, K, B, ldy, up_off, norm, ss);
    if (B <= 32) return launch_nt<4>(st, pdl, 0, ksplit, mode, W, X, Y, N, K, B, ldy, up_off, norm, ss);
    return launch_nt<8>(st, pdl, 0, ksplit, mode, W, X, Y, N, K, B, ldy, up_off, norm, ss);
}

cudaError_t rl_gemv(cudaStream_t st, int pdl, int mode, const bf16 *W, const bf16 *X, void *Y, int N, int K, int B,
                    int ldy, int up_off, const gemv_norm *norm, const gemv_ss *ss)
{
    return rl_gemv_st(st, pdl, 0, 1, mode, W, X, Y, N, K, B, ldy, up_off, norm, ss);
}
