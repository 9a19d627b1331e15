// init.cu: deterministic random weights generated where they live (no host copy of 16 GB).
// FLOPs ~10 per element (hash); bytes n*2 written.
#include "../kernels.h"

__device__ __forceinline__ uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

__global__ void init_uniform_kernel(bf16 *__restrict__ p, size_t n, uint64_t seed, float center, float half_width)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        const uint64_t h = mix64(seed ^ mix64(i + 0x9e3779b97f4a7c15ULL));
        const float u = (float)(h >> 40) * (2.0f / 16777216.0f) - 1.0f; // 24 random bits -> [-1, 1)
        p[i] = __float2bfloat16_rn(center + half_width * u);
    }
}

cudaError_t rl_init_uniform(cudaStream_t st, bf16 *p, size_t n, uint64_t seed, float center, float half_width)
{
    if (n == 0) return cudaSuccess;
    const size_t blocks = (n + 255) / 256;
    init_uniform_kernel<<<(unsigned)(blocks < 65536 ? blocks : 65536), 256, 0, st>>>(p, n, seed, center, half_width);
    return cudaGetLastError();
}
