// embed.cu: x[t] = float(table[tokens[t]]), the residual stream starts in fp32.
// FLOPs 0; bytes T*H*(2 read + 4 write) + T*4.
#include "../kernels.h"

__global__ void embed_kernel(const int *__restrict__ tokens, const bf16 *__restrict__ table, float *__restrict__ x, int H)
{
    pdl_trigger();
    pdl_wait();
    const int t = blockIdx.x;
    const bf16 *row = table + (size_t)tokens[t] * H;
    float *out = x + (size_t)t * H;
    for (int i = threadIdx.x * 8; i < H; i += blockDim.x * 8) {
        const uint4 v = *reinterpret_cast<const uint4 *>(row + i);
        const float2 a = bf2_to_f2(v.x), b = bf2_to_f2(v.y), c = bf2_to_f2(v.z), d = bf2_to_f2(v.w);
        *reinterpret_cast<float4 *>(out + i) = make_float4(a.x, a.y, b.x, b.y);
        *reinterpret_cast<float4 *>(out + i + 4) = make_float4(c.x, c.y, d.x, d.y);
    }
}

cudaError_t rl_embed(cudaStream_t st, int pdl, const int *tokens, const bf16 *table, float *x, int T, int H)
{
    if (H % 8 || T <= 0) return cudaErrorInvalidValue;
    return rl_launch(embed_kernel, dim3(T), dim3(128), 0, st, pdl, tokens, table, x, H);
}
