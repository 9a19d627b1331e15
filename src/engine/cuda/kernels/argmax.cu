// argmax.cu: greedy sampling, out[b] = argmax over the vocabulary (lowest index on ties).
// FLOPs ~B*V compares; bytes B*V*4 + B*4.
#include "../kernels.h"

#define ARGMAX_THREADS 1024

__device__ __forceinline__ void better(float &v, int &i, float v2, int i2)
{
    if (v2 > v || (v2 == v && i2 < i)) v = v2, i = i2;
}

__global__ void __launch_bounds__(ARGMAX_THREADS) argmax_kernel(const float *__restrict__ logits, int *__restrict__ out,
                                                                int V)
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
        if (threadIdx.x == 0) out[blockIdx.x] = bi == 0x7fffffff ? 0 : bi; // all-NaN row: token 0
    }
}

cudaError_t rl_argmax(cudaStream_t st, int pdl, const float *logits, int *out, int B, int V)
{
    if (B <= 0 || V <= 0) return cudaErrorInvalidValue;
    return rl_launch(argmax_kernel, dim3(B), dim3(ARGMAX_THREADS), 0, st, pdl, logits, out, V);
}
