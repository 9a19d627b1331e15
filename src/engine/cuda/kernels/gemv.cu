// gemv.cu: decode projections Y = X W^T for batch B <= 64 on tensor cores (mma.sync m16n8k16):
// the sm_80 path (A100, L40S; gemm_stream.cu is the Hopper one).
// FLOPs 2*B*N*K; bytes N*K*2 (weights, streamed exactly once for the whole batch) + B*K*2 + B*N*(2|4|8).
//
// A warp owns 16 weight rows and a slice of K; the batch is the mma's N side (8 sequences per
// tile, NT tiles). Each lane loads 16 contiguous bytes of its rows, which breaks the mma's k
// order, so the activations are loaded with the same permutation: the dot product does not care.
// Eight warps split K, reduce through shared memory, and the epilogue stores, accumulates into
// the fp32 residual stream, or applies SiLU(gate) * up for the fused gate/up projection.
#include "../kernels.h"

#define GEMV_WARPS 8

// Per batch width (NT tiles of 8 sequences):
//  U   32-element chunks per lane in flight (x2 rows), double buffered with the activations (PX);
//  MIN_BLOCKS resident blocks per SM the registers must allow.
template <int NT> struct gemv_cfg {
    static constexpr int U = NT == 1 ? 3 : 2; // measured: batch <= 8 streams best with 3 chunks in flight
    static constexpr bool PX = NT == 2 || NT == 4; // and gains nothing from prefetching activations
    static constexpr int MIN_BLOCKS = NT == 1 ? 3 : 2;
};

template <int NT, int MODE>
__global__ void __launch_bounds__(GEMV_WARPS * 32, (gemv_cfg<NT>::MIN_BLOCKS))
    gemv_tc_kernel(const bf16 *__restrict__ W, const bf16 *__restrict__ X, void *__restrict__ Y, int N, int K, int B,
                   int ldy, int up_off)
{
    constexpr int U = gemv_cfg<NT>::U;
    constexpr bool PX = gemv_cfg<NT>::PX;
    constexpr int PT = MODE == GEMV_SILU_BF16 ? 2 : 1; // weight row tiles per block (gate, up)
    constexpr int S = GEMV_WARPS / PT;                 // K splits per row tile
    constexpr int COLS = 8 * NT;
    __shared__ float red[GEMV_WARPS][16][COLS + 1];

    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int pt = warp / S, split = warp % S;
    const int q = lane & 3, r = lane >> 2;
    int ra = min((int)blockIdx.x * 16 + r, N - 1), rb = min((int)blockIdx.x * 16 + r + 8, N - 1);
    if (MODE == GEMV_SILU_BF16 && pt == 1) ra += up_off, rb += up_off;
    const int chunks = K >> 5;
    const int c0 = split * chunks / S, c1 = (split + 1) * chunks / S;
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

    // Weights never change: start streaming them before waiting for the previous kernel.
    uint4 A[U], Bw[U], Xv[U][PX ? NT : 1];
#pragma unroll
    for (int j = 0; j < U; j++) {
        if (c0 + j < c1) {
            A[j] = ld_stream16(wa + (size_t)(c0 + j) * 32);
            Bw[j] = ld_stream16(wb + (size_t)(c0 + j) * 32);
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
#pragma unroll
                for (int t = 0; t < NT; t++) {
                    const uint4 xv = PX ? Xv[j][PX ? t : 0] : load_x(c + j, t);
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

    for (int idx = threadIdx.x; idx < 16 * COLS; idx += GEMV_WARPS * 32) {
        const int row = idx & 15, col = idx >> 4;
        const int n = blockIdx.x * 16 + row;
        if (col >= B || n >= N) continue;
        float v = 0.f;
#pragma unroll
        for (int s = 0; s < S; s++) v += red[s][row][col];
        const size_t o = (size_t)col * ldy + n;
        if (MODE == GEMV_SILU_BF16) {
            float u = 0.f;
#pragma unroll
            for (int s = 0; s < S; s++) u += red[S + s][row][col];
            reinterpret_cast<bf16 *>(Y)[o] = __float2bfloat16_rn(v / (1.f + __expf(-v)) * u);
        } else if (MODE == GEMV_STORE_BF16) {
            reinterpret_cast<bf16 *>(Y)[o] = __float2bfloat16_rn(v);
        } else if (MODE == GEMV_STORE_F32) {
            reinterpret_cast<float *>(Y)[o] = v;
        } else {
            reinterpret_cast<float *>(Y)[o] += v;
        }
    }
}

int rl_gemv_supported(int N, int K, int B) { return N > 0 && K > 0 && K % 32 == 0 && B >= 1 && B <= RL_GEMV_MAX_BATCH; }

template <int NT>
static cudaError_t launch_nt(cudaStream_t st, int pdl, int mode, const bf16 *W, const bf16 *X, void *Y, int N, int K,
                             int B, int ldy, int up_off)
{
    const dim3 grid((N + 15) / 16), block(GEMV_WARPS * 32);
    switch (mode) {
    case GEMV_STORE_BF16: return rl_launch(gemv_tc_kernel<NT, GEMV_STORE_BF16>, grid, block, 0, st, pdl, W, X, Y, N, K, B, ldy, up_off);
    case GEMV_STORE_F32: return rl_launch(gemv_tc_kernel<NT, GEMV_STORE_F32>, grid, block, 0, st, pdl, W, X, Y, N, K, B, ldy, up_off);
    case GEMV_ADD_F32: return rl_launch(gemv_tc_kernel<NT, GEMV_ADD_F32>, grid, block, 0, st, pdl, W, X, Y, N, K, B, ldy, up_off);
    case GEMV_SILU_BF16: return rl_launch(gemv_tc_kernel<NT, GEMV_SILU_BF16>, grid, block, 0, st, pdl, W, X, Y, N, K, B, ldy, up_off);
    }
    return cudaErrorInvalidValue;
}

cudaError_t rl_gemv(cudaStream_t st, int pdl, int mode, const bf16 *W, const bf16 *X, void *Y, int N, int K, int B,
                    int ldy, int up_off)
{
    if (!rl_gemv_supported(N, K, B)) return cudaErrorInvalidValue;
    if (B <= 8) return launch_nt<1>(st, pdl, mode, W, X, Y, N, K, B, ldy, up_off);
    if (B <= 16) return launch_nt<2>(st, pdl, mode, W, X, Y, N, K, B, ldy, up_off);
    if (B <= 32) return launch_nt<4>(st, pdl, mode, W, X, Y, N, K, B, ldy, up_off);
    return launch_nt<8>(st, pdl, mode, W, X, Y, N, K, B, ldy, up_off);
}
