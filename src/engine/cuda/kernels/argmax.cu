// argmax.cu: greedy sampling, out[b] = argmax over the vocabulary (lowest index on ties).
// FLOPs ~B*V compares; bytes B*V*4 + B*4.
// Tensor parallel: argmax_cand is the same over a rank's vocabulary slice, writing (logit, token) for
// the gather (B*8 bytes); argmax_pick takes the best of the ranks' candidates (ranks*B*8 + B*4 bytes).
#include <limits.h>

#include "../kernels.h"

#define ARGMAX_THREADS 1024

__device__ __forceinline__ void better(float &v, int &i, float v2, int i2)
{
    if (v2 > v || (v2 == v && i2 < i)) v = v2, i = i2;
}

// CAND: write the row's best as a candidate (token offset by v0) instead of the token alone.
template <bool CAND>
__global__ void __launch_bounds__(ARGMAX_THREADS) argmax_kernel(const float *__restrict__ logits, int *__restrict__ out,
                                                                rl_token_cand *__restrict__ cand, int V, int v0)
{
    pdl_trigger();
    pdl_wait();
    __shared__ float sv[ARGMAX_THREADS / 32];
    __shared__ int si[ARGMAX_THREADS / 32];
    const float *row = logits + (size_t)blockIdx.x * V;
    float best = -INFINITY;
    int bi = 0x7fffffff;
    for (int i = threadIdx.x; i < V; i += ARGMAX_THREADS) better(best, bi, row[i], i);
    for (int o = 16; o > 0; o >>= 1) better(best, bi, __shfl_xor_sync(0xffffffffu, best, o), __shfl_xor_sync(0xffffffffu, bi, o));
    if ((threadIdx.x & 31) == 0) sv[threadIdx.x >> 5] = best, si[threadIdx.x >> 5] = bi;
    __syncthreads();
    if (threadIdx.x < 32) {
        best = sv[threadIdx.x], bi = si[threadIdx.x];
        for (int o = 16; o > 0; o >>= 1)
            better(best, bi, __shfl_xor_sync(0xffffffffu, best, o), __shfl_xor_sync(0xffffffffu, bi, o));
        if (threadIdx.x == 0) {
            if (CAND) cand[blockIdx.x] = rl_token_cand{best, bi == 0x7fffffff ? INT_MAX : v0 + bi};
            else out[blockIdx.x] = bi == 0x7fffffff ? 0 : bi; // all-NaN row: token 0
        }
    }
}

// One warp per row: the best of `ranks` candidates (ranks <= 32).
__global__ void argmax_pick_kernel(const rl_token_cand *__restrict__ cand, int ranks, int B, int *__restrict__ out)
{
    pdl_trigger();
    pdl_wait();
    const int b = blockIdx.x;
    float best = -INFINITY;
    int bi = INT_MAX;
    if ((int)threadIdx.x < ranks) best = cand[threadIdx.x * B + b].v, bi = cand[threadIdx.x * B + b].i;
    for (int o = 16; o > 0; o >>= 1) better(best, bi, __shfl_xor_sync(0xffffffffu, best, o), __shfl_xor_sync(0xffffffffu, bi, o));
    if (threadIdx.x == 0) out[b] = bi == INT_MAX ? 0 : bi;
}

cudaError_t rl_argmax(cudaStream_t st, int pdl, const float *logits, int *out, int B, int V)
{
    if (B <= 0 || V <= 0) return cudaErrorInvalidValue;
    return rl_launch(argmax_kernel<false>, dim3(B), dim3(ARGMAX_THREADS), 0, st, pdl, logits, out,
                     (rl_token_cand *)nullptr, V, 0);
}

cudaError_t rl_argmax_cand(cudaStream_t st, int pdl, const float *logits, rl_token_cand *cand, int B, int V, int v0)
{
    if (B <= 0 || V <= 0) return cudaErrorInvalidValue;
    return rl_launch(argmax_kernel<true>, dim3(B), dim3(ARGMAX_THREADS), 0, st, pdl, logits, (int *)nullptr, cand, V,
                     v0);
}

cudaError_t rl_argmax_pick(cudaStream_t st, int pdl, const rl_token_cand *cand, int ranks, int B, int *out)
{
    if (B <= 0 || ranks <= 0 || ranks > 32) return cudaErrorInvalidValue;
    return rl_launch(argmax_pick_kernel, dim3(B), dim3(32), 0, st, pdl, cand, ranks, B, out);
}
