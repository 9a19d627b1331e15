// gemm_stream.cu: the Hopper (sm_90a) projection kernel for few tokens (decode batches, short
// prefills): Y[t, n] (=, +=) sum_k X[t, k] W[n, k], weights streamed from HBM exactly once.
// FLOPs 2*T*N*K; bytes N*K*2 (weights) + T*K*2 per 64*MT weight rows (activations, from L2) + Y.
//
// Why this shape: a decode step is a chain of weight-streaming projections, and what keeps it
// from the read roof is the time lost at every boundary, not the streaming itself. So:
// - one producer warp streams W through a ring of shared-memory stages with TMA (no registers
//   hold the data in flight), and issues the first ring-full of weight loads BEFORE
//   griddepcontrol.wait: weights never depend on the previous kernel;
// - the ring is ~200 KB, so one CTA fills an SM: CTAs of the next kernel (which every kernel
//   lets launch at entry) take an SM as soon as this kernel's CTA there is done, and stream their
//   weights during this kernel's tail (SMs do not finish together: measured up to 5 us apart);
// - the grid is persistent (one CTA per SM) and split stream-K: CTA c takes the iterations
//   [c*total/G, (c+1)*total/G) of the (tile, k) space, so every SM moves the same bytes; tiles cut
//   between CTAs are summed in a fixed order by the last one to finish (ticket);
// - one warpgroup multiplies on the tensor cores with wgmma m64nNk16: weights are the 64-row A
//   operand, the tokens (padded to N = 8..64 by TMA's zero fill) the B operand, so a batch of
//   one costs no more smem traffic than a batch of eight.
#include "gemm_stream.cuh"

// Production: a ring of ~200 KB, one CTA per SM.
#define GS_RING_BYTES (200 * 1024)

// Longer inputs run as several 64-token tiles, each further token tile reading its weight tile
// again from L2. Wider tiles are not built: from 64 tokens on cuBLASLt is as fast or faster on
// every projection (the chooser's timings, results/bench/run13).
int rl_gs_tok_tile(int T) { return T <= 8 ? 8 : T <= 16 ? 16 : T <= 32 ? 32 : 64; }

size_t rl_gs_workspace_floats(int sm_count) { return (size_t)sm_count * 2 * GS_MT * (64 / 2) * 128; }

int rl_gs_supported(int N, int K, int T, int mode)
{
    if (N <= 0 || K <= 0 || K % 8 || T <= 0) return 0;
    const int rows_per_tile = gs_rows_per_tile(mode);
    const long long tiles = (long long)((N + rows_per_tile - 1) / rows_per_tile) * ((T + rl_gs_tok_tile(T) - 1) / rl_gs_tok_tile(T));
    return tiles <= RL_GS_MAX_TILES;
}

cudaError_t rl_gemm_stream(cudaStream_t st, int pdl, int mode, const CUtensorMap *tw, const CUtensorMap *tx, void *Y, int N,
                           int K, int T, int ldy, int up_off, const rl_gs_work *w)
{
    if (!rl_gs_supported(N, K, T, mode) || w->sm_count <= 0) return cudaErrorInvalidValue;
    return gs_run<GS_RING_BYTES, 1>(st, pdl, mode, tw, tx, Y, N, K, T, ldy, up_off, w);
}
