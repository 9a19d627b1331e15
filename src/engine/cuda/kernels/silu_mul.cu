// silu_mul.cu: h = silu(gate) * up for the cuBLASLt path (the decode GEMV fuses it instead).
// FLOPs ~5*T*I; bytes T*I*(2+2 read + 2 write).
#include "../kernels.h"

__global__ void silu_mul_kernel(const bf16 *__restrict__ gu, bf16 *__restrict__ h, int T, int I)
{
    pdl_trigger();
    pdl_wait();
    const int per_row = I / 8;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (size_t)T * per_row;
         i += (size_t)gridDim.x * blockDim.x) {
        const size_t t = i / per_row, c = (i % per_row) * 8;
        const uint4 g = *reinterpret_cast<const uint4 *>(gu + t * 2 * I + c);
        const uint4 u = *reinterpret_cast<const uint4 *>(gu + t * 2 * I + I + c);
        const uint32_t gs[4] = {g.x, g.y, g.z, g.w}, us[4] = {u.x, u.y, u.z, u.w};
        uint32_t o[4];
#pragma unroll
        for (int k = 0; k < 4; k++) {
            const float2 a = bf2_to_f2(gs[k]), b = bf2_to_f2(us[k]);
            o[k] = f2_to_bf2(a.x / (1.f + __expf(-a.x)) * b.x, a.y / (1.f + __expf(-a.y)) * b.y);
        }
        *reinterpret_cast<uint4 *>(h + t * I + c) = make_uint4(o[0], o[1], o[2], o[3]);
    }
}

cudaError_t rl_silu_mul(cudaStream_t st, int pdl, const bf16 *gu, bf16 *h, int T, int I)
{
    if (I % 8 || T <= 0) return cudaErrorInvalidValue;
    const size_t work = (size_t)T * (I / 8);
    const unsigned blocks = (unsigned)((work + 255) / 256 < 4096 ? (work + 255) / 256 : 4096);
    return rl_launch(silu_mul_kernel, dim3(blocks), dim3(256), 0, st, pdl, gu, h, T, I);
}
