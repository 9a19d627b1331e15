// gemm_stream_v1.h: the bench-only variant 1 of gemm_stream (see gemm_stream_v1.cu).
#pragma once
#include "engine/cuda/kernels.h"

cudaError_t rl_gemm_stream_v1(cudaStream_t st, int pdl, int mode, const CUtensorMap *tw, const CUtensorMap *tx, void *Y,
                              int N, int K, int T, int ldy, int up_off, float *ws, int *tickets, int sm_count);
