// rmsnorm.cu: y = bf16(x * rsqrt(mean(x^2) + eps) * w) per row, fp32 statistics.
// FLOPs ~4*rows*H; bytes rows*H*(4 read + 2 write) + H*2 (weight).
// add_rmsnorm (tensor parallel): x += add (bf16) first and written back: + rows*H*(2 + 4) bytes.
#include "../kernels.h"

#define NORM_THREADS 256
#define NORM_HELD 4 // float4 per thread kept in registers: rows up to 4096 read once

// x[i..i+3] += add[i..i+3] in place; returns the sum.
__device__ __forceinline__ float4 add4(float *xr, const bf16 *ar, int i)
{
    float4 v = *reinterpret_cast<const float4 *>(xr + i);
    const uint2 a = *reinterpret_cast<const uint2 *>(ar + i);
    const float2 a0 = bf2_to_f2(a.x), a1 = bf2_to_f2(a.y);
    v.x += a0.x, v.y += a0.y, v.z += a1.x, v.w += a1.y;
    *reinterpret_cast<float4 *>(xr + i) = v;
    return v;
}

// ADD: the residual stream first takes `add` (tensor parallel), through xw (read and written, so not the
// read-only x); the single-GPU engine runs ADD = false, which reads x only.
template <bool ADD>
__global__ void __launch_bounds__(NORM_THREADS) rmsnorm_kernel(const float *__restrict__ x, float *xw,
                                                               const bf16 *__restrict__ add, const bf16 *__restrict__ w,
                                                               bf16 *__restrict__ y, int H, float eps, int in_first,
                                                               int in_step)
{
    pdl_trigger();
    pdl_wait();
    __shared__ float part[NORM_THREADS / 32];
    const size_t row = (size_t)(in_first + (size_t)blockIdx.x * in_step) * H;
    const float *xr = ADD ? xw + row : x + row;
    float *xwr = ADD ? xw + row : nullptr;
    const bf16 *ar = ADD ? add + (size_t)blockIdx.x * H : nullptr;
    bf16 *yr = y + (size_t)blockIdx.x * H;
    // Rows up to NORM_THREADS * 4 * NORM_HELD elements stay in registers between the two passes.
    float4 held[NORM_HELD];
    float ss = 0.f;
#pragma unroll
    for (int j = 0; j < NORM_HELD; j++) {
        const int i = (threadIdx.x + j * NORM_THREADS) * 4;
        held[j] = i >= H ? make_float4(0.f, 0.f, 0.f, 0.f) : ADD ? add4(xwr, ar, i) : *reinterpret_cast<const float4 *>(xr + i);
        ss += held[j].x * held[j].x + held[j].y * held[j].y + held[j].z * held[j].z + held[j].w * held[j].w;
    }
    for (int i = (threadIdx.x + NORM_HELD * NORM_THREADS) * 4; i < H; i += NORM_THREADS * 4) {
        const float4 v = ADD ? add4(xwr, ar, i) : *reinterpret_cast<const float4 *>(xr + i);
        ss += v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w;
    }
    ss = warp_sum(ss);
    if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = ss;
    __syncthreads();
    float tot = 0.f;
#pragma unroll
    for (int i = 0; i < NORM_THREADS / 32; i++) tot += part[i];
    const float rs = rsqrtf(tot / (float)H + eps);
    auto put = [&](int i, float4 v) {
        const uint2 wv = *reinterpret_cast<const uint2 *>(w + i);
        const float2 w0 = bf2_to_f2(wv.x), w1 = bf2_to_f2(wv.y);
        uint2 o;
        o.x = f2_to_bf2(v.x * rs * w0.x, v.y * rs * w0.y);
        o.y = f2_to_bf2(v.z * rs * w1.x, v.w * rs * w1.y);
        *reinterpret_cast<uint2 *>(yr + i) = o;
    };
#pragma unroll
    for (int j = 0; j < NORM_HELD; j++) {
        const int i = (threadIdx.x + j * NORM_THREADS) * 4;
        if (i < H) put(i, held[j]);
    }
    for (int i = (threadIdx.x + NORM_HELD * NORM_THREADS) * 4; i < H; i += NORM_THREADS * 4)
        put(i, *reinterpret_cast<const float4 *>(xr + i));
}

cudaError_t rl_rmsnorm(cudaStream_t st, int pdl, const float *x, const bf16 *w, bf16 *y, int rows, int H, float eps,
                       int in_first, int in_step)
{
    if (H % 4 || rows <= 0) return cudaErrorInvalidValue;
    return rl_launch(rmsnorm_kernel<false>, dim3(rows), dim3(NORM_THREADS), 0, st, pdl, x, (float *)nullptr,
                     (const bf16 *)nullptr, w, y, H, eps, in_first, in_step);
}

cudaError_t rl_add_rmsnorm(cudaStream_t st, int pdl, float *x, const bf16 *add, const bf16 *w, bf16 *y, int rows,
                           int H, float eps)
{
    if (H % 4 || rows <= 0) return cudaErrorInvalidValue;
    return rl_launch(rmsnorm_kernel<true>, dim3(rows), dim3(NORM_THREADS), 0, st, pdl, (const float *)nullptr, x, add,
                     w, y, H, eps, 0, 1);
}
