// init.cu: deterministic random weights generated where they live (no host copy of 16 GB); a
// tensor-parallel shard gets its block of the same values (init_block).
// FLOPs ~10 per element (hash); bytes n*2 written.
#include "../kernels.h"

__device__ __forceinline__ uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// Element i of the tensor of `seed`.
__device__ __forceinline__ bf16 uniform_at(size_t i, uint64_t seed, float center, float half_width)
{
    const uint64_t h = mix64(seed ^ mix64(i + 0x9e3779b97f4a7c15ULL));
    const float u = (float)(h >> 40) * (2.0f / 16777216.0f) - 1.0f; // 24 random bits -> [-1, 1)
    return __float2bfloat16_rn(center + half_width * u);
}

__global__ void init_uniform_kernel(bf16 *__restrict__ p, size_t n, uint64_t seed, float center, float half_width)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        p[i] = uniform_at(i, seed, center, half_width);
}

cudaError_t rl_init_uniform(cudaStream_t st, bf16 *p, size_t n, uint64_t seed, float center, float half_width)
{
    if (n == 0) return cudaSuccess;
    const size_t blocks = (n + 255) / 256;
    init_uniform_kernel<<<(unsigned)(blocks < 65536 ? blocks : 65536), 256, 0, st>>>(p, n, seed, center, half_width);
    return cudaGetLastError();
}

__global__ void init_block_kernel(bf16 *__restrict__ p, int64_t rows, int64_t cols, int64_t full_cols, int64_t row0,
                                  int64_t col0, uint64_t seed, float center, float half_width)
{
    const size_t n = (size_t)(rows * cols);
    for (size_t k = (size_t)blockIdx.x * blockDim.x + threadIdx.x; k < n; k += (size_t)gridDim.x * blockDim.x) {
        const size_t i = (size_t)(row0 + (int64_t)(k / cols)) * full_cols + col0 + k % cols; // index in the whole
        p[k] = uniform_at(i, seed, center, half_width);
    }
}

cudaError_t rl_init_uniform_block(cudaStream_t st, bf16 *p, int64_t rows, int64_t cols, int64_t full_cols,
                                  int64_t row0, int64_t col0, uint64_t seed, float center, float half_width)
{
    const size_t n = (size_t)(rows * cols);
    if (n == 0) return cudaSuccess;
    const size_t blocks = (n + 255) / 256;
    init_block_kernel<<<(unsigned)(blocks < 65536 ? blocks : 65536), 256, 0, st>>>(p, rows, cols, full_cols, row0, col0,
                                                                                   seed, center, half_width);
    return cudaGetLastError();
}
