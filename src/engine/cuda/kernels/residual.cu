// residual.cu: the tensor-parallel residual add, x[i] += add[i] (fp32 stream, bf16 all-reduced sum), for
// the last layer's down_proj (the other sums are added by add_rmsnorm). FLOPs n; bytes n*(4+2+4).
#include "../kernels.h"

__global__ void residual_add_kernel(float *__restrict__ x, const bf16 *__restrict__ add, size_t n4)
{
    pdl_trigger();
    pdl_wait();
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n4; i += (size_t)gridDim.x * blockDim.x) {
        float4 v = reinterpret_cast<float4 *>(x)[i];
        const uint2 a = reinterpret_cast<const uint2 *>(add)[i];
        const float2 a0 = bf2_to_f2(a.x), a1 = bf2_to_f2(a.y);
        v.x += a0.x, v.y += a0.y, v.z += a1.x, v.w += a1.y;
        reinterpret_cast<float4 *>(x)[i] = v;
    }
}

cudaError_t rl_residual_add(cudaStream_t st, int pdl, float *x, const bf16 *add, size_t n)
{
    if (n == 0 || n % 4) return cudaErrorInvalidValue;
    const size_t n4 = n / 4, blocks = (n4 + 255) / 256;
    return rl_launch(residual_add_kernel, dim3((unsigned)(blocks < 4096 ? blocks : 4096)), dim3(256), 0, st, pdl, x,
                     add, n4);
}
