// common.cuh: what every CUDA file of the engine shares: checked calls that name the call in the
// error, bf16 helpers, and the launch helper for programmatic dependent launch (PDL).
#pragma once
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <stdint.h>

extern "C" {
#include "../../common/err.h"
}

typedef __nv_bfloat16 bf16;

// Returns -1 from the enclosing function with "<what>: <call> failed: <reason>" in err.
#define CU_CHECK(call, what)                                                                        \
    do {                                                                                            \
        cudaError_t e_ = (call);                                                                    \
        if (e_ != cudaSuccess)                                                                      \
            return rl_fail(err, "%s: %s failed: %s (%s:%d)", what, #call, cudaGetErrorString(e_),   \
                           __FILE__, __LINE__);                                                     \
    } while (0)

// After a kernel launch: a bad configuration shows up as the last error, name the kernel.
#define CU_LAUNCHED(kernel_name)                                                                    \
    do {                                                                                            \
        cudaError_t e_ = cudaGetLastError();                                                        \
        if (e_ != cudaSuccess)                                                                      \
            return rl_fail(err, "cuda engine: launch of kernel %s failed: %s (%s:%d)", kernel_name, \
                           cudaGetErrorString(e_), __FILE__, __LINE__);                             \
    } while (0)

// Device-side feature guards, one per code path of ../code_path.h (the host decides there which
// path runs; these keep each target's code free of instructions it lacks):
//   RL_DEVICE_PDL    griddepcontrol (sm_90 and up)
//   RL_DEVICE_SM90A  the arch-specific Hopper features: wgmma, setmaxnreg, TMA multicast (sm_90a only)
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
#define RL_DEVICE_PDL 1
#endif
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
#define RL_DEVICE_SM90A 1
#endif

// PDL: a kernel launched with programmatic stream serialisation may start while its predecessor
// drains. Every engine kernel calls pdl_trigger() first (let the next kernel get on the SMs) and
// pdl_wait() before it touches anything a predecessor wrote (or reads). Both are no-ops when the
// kernel was launched without the attribute, and compile to nothing below sm_90, where the engine
// never sets the attribute (code path sm80).
#ifdef RL_DEVICE_PDL
__device__ __forceinline__ void pdl_wait() { asm volatile("griddepcontrol.wait;" ::: "memory"); }
__device__ __forceinline__ void pdl_trigger() { asm volatile("griddepcontrol.launch_dependents;" ::: "memory"); }
#else
__device__ __forceinline__ void pdl_wait() {}
__device__ __forceinline__ void pdl_trigger() {}
#endif

// Launches kern<<<grid, block, smem, st>>>(args...) with the PDL attribute when pdl is set.
template <typename... KArgs, typename... Args>
static inline cudaError_t rl_launch(void (*kern)(KArgs...), dim3 grid, dim3 block, size_t smem, cudaStream_t st,
                                    int pdl, Args... args)
{
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = grid;
    cfg.blockDim = block;
    cfg.dynamicSmemBytes = smem;
    cfg.stream = st;
    cudaLaunchAttribute attr[1];
    attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr[0].val.programmaticStreamSerializationAllowed = 1;
    cfg.attrs = attr;
    cfg.numAttrs = pdl ? 1 : 0;
    return cudaLaunchKernelEx(&cfg, kern, ((KArgs)args)...);
}

// 16-byte streaming load that skips L1 (weights are read once per step; keep L1 for activations).
__device__ __forceinline__ uint4 ld_stream16(const void *p)
{
    uint4 v;
    asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
                 : "l"(p));
    return v;
}

__device__ __forceinline__ float2 bf2_to_f2(uint32_t u)
{
    __nv_bfloat162 h = *reinterpret_cast<__nv_bfloat162 *>(&u);
    return __bfloat1622float2(h);
}

__device__ __forceinline__ uint32_t f2_to_bf2(float a, float b)
{
    __nv_bfloat162 h = __floats2bfloat162_rn(a, b);
    return *reinterpret_cast<uint32_t *>(&h);
}

__device__ __forceinline__ float warp_sum(float v)
{
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v)
{
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// D = A(16x16 bf16, row) * B(16x8 bf16, col) + D, fp32 accumulators.
__device__ __forceinline__ void mma_bf16_16816(float d[4], uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3,
                                               uint32_t b0, uint32_t b1)
{
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

// cp.async 16-byte copies global -> shared; zfill variant writes zeros when !valid.
__device__ __forceinline__ void cp_async16(void *smem, const void *g)
{
    unsigned s = (unsigned)__cvta_generic_to_shared(smem);
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(s), "l"(g));
}
__device__ __forceinline__ void cp_async16_zfill(void *smem, const void *g, bool valid)
{
    unsigned s = (unsigned)__cvta_generic_to_shared(smem);
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(s), "l"(g), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;" ::: "memory"); }
template <int N> __device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory"); }
