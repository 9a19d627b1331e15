/* matmul.h: the CPU engine's one heavy kernel, out = x W^T for a batch of rows.
 * W is a PyTorch Linear weight [outs, in] (row-major, HF layout). Threads split the output
 * columns, and each thread streams its slice of W once per block of 64 rows of x, so a decode
 * step of up to 64 sequences reads the weights from memory once.
 * FLOPs 2*rows*in*outs; bytes 4*(outs*in + rows*in + rows*outs).
 * Every output element is summed in the same order whatever the tile, batch or thread count
 * (8 lanes over i, a fixed lane reduction, then the scalar tail), so a sequence gets bit-identical
 * results alone or in a batch. */
#ifndef RL_CPU_MATMUL_H
#define RL_CPU_MATMUL_H
#include <stdint.h>

#include "pool.h"

/* out[r*ldo + o] (+)= sum_i x[r*ldx + i] * w[o*in + i] for r < rows, o < outs.
 * accumulate = 1 adds to out (the residual add fused into o_proj and down_proj). */
void rl_matmul(rl_pool *pool, float *out, int64_t ldo, const float *x, int64_t ldx, const float *w, int64_t rows,
               int64_t in, int64_t outs, int accumulate);

/* The same on the calling thread only (for use inside a pool task), with W's rows ldw floats
 * apart (attention: q K^T over a KV cache whose rows hold every KV head). */
void rl_matmul_serial(float *out, int64_t ldo, const float *x, int64_t ldx, const float *w, int64_t ldw, int64_t rows,
                      int64_t in, int64_t outs, int accumulate);

/* out[r*ldo + c] = sum_k a[r*lda + k] * b[k*ldb + c] on the calling thread: b not transposed
 * (attention: probabilities times the V rows of the cache). */
void rl_matmul_nn_serial(float *out, int64_t ldo, const float *a, int64_t lda, const float *b, int64_t ldb,
                         int64_t rows, int64_t inner, int64_t cols);

/* Which code path rl_matmul takes on this CPU ("avx2+fma" or "generic"). */
const char *rl_matmul_isa(void);

#endif
