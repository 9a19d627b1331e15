// gemm_stream_v1.cu: variant 1 of src/engine/cuda/kernels/gemm_stream.cu, kept for A/B runs in
// bench_gemv: the same kernel body with a ring of ~108 KB (6, 6, 5, 4 stages at 8, 16, 32, 64
// tokens) so that two CTAs share an SM and the next kernel's CTAs are resident while this one
// drains, instead of production's ~200 KB ring and one CTA per SM. It measured the same (run 19,
// docs/perf-notes.md); bench_gemv validates it against the CPU reference too.
#include "gemm_stream_v1.h"
#include "engine/cuda/kernels/gemm_stream.cuh"

#define GS1_RING_BYTES (108 * 1024)

cudaError_t rl_gemm_stream_v1(cudaStream_t st, int pdl, int mode, const CUtensorMap *tw, const CUtensorMap *tx, void *Y,
                              int N, int K, int T, int ldy, int up_off, float *ws, int *tickets, int sm_count)
{
    if (!rl_gs_supported(N, K, T, mode) || sm_count <= 0) return cudaErrorInvalidValue;
    const rl_gs_work w = {ws, tickets, nullptr, sm_count};
    return gs_run<GS1_RING_BYTES, 2>(st, pdl, mode, tw, tx, Y, N, K, T, ldy, up_off, &w);
}
