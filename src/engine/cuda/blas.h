// blas.h: cuBLASLt projections Y[T, N] (= or +=) X[T, K] W[N, K]^T, bf16 in, fp32 compute.
// One cached plan per shape; the algorithm is the fastest of the heuristic's candidates, timed
// once on first use (outside graph capture).
#pragma once
#include <cublasLt.h>

#include "common.cuh"

typedef struct rl_lt rl_lt;

int rl_lt_create(rl_lt **out, size_t workspace_bytes, void *workspace, rl_err *err);
void rl_lt_destroy(rl_lt *lt);

// Makes sure the shape has a plan (creating it, and when tune is set timing the candidates as
// described for rl_lt_matmul) without running the product for real.
int rl_lt_plan(rl_lt *lt, cudaStream_t st, int T, int N, int K, const bf16 *X, const bf16 *W, void *Y, int out_f32,
               int accumulate, int tune, void *scratch, double *tuned_ms, rl_err *err);

// out_f32: Y is fp32 (else bf16); accumulate: beta = 1 (fp32 Y only: residual adds in the epilogue).
// tune: a shape seen for the first time is timed (stream syncs), writing to scratch instead of Y
// when accumulating (scratch >= T*N*4 bytes). *tuned_ms (may be NULL) gets the best candidate's
// time, or -1 when no timing happened. Not allowed while the stream is capturing unless the
// shape is already planned.
int rl_lt_matmul(rl_lt *lt, cudaStream_t st, int T, int N, int K, const bf16 *X, const bf16 *W, void *Y, int out_f32,
                 int accumulate, int tune, void *scratch, double *tuned_ms, rl_err *err);
