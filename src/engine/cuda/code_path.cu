// code_path.cu: finds which of this build's code the driver loads for a GPU (SASS of its own
// architecture, else a PTX image it JIT-compiles) and hands that to rl_code_path_choose.
// Every .cu file of the engine is compiled for the same targets, so what this file's probe kernel
// reports holds for every kernel.
#include <stdio.h>

#include "common.cuh"
extern "C" {
#include "../code_path.h"
}

#ifndef RL_CUDA_ARCHS
#define RL_CUDA_ARCHS "unknown"
#endif

// out[0] = __CUDA_ARCH__ of the code that runs, out[1] = 1 when it has the sm_90a features.
__global__ void code_path_probe_kernel(int *out)
{
#ifdef __CUDA_ARCH__
    out[0] = __CUDA_ARCH__;
#ifdef RL_DEVICE_SM90A
    out[1] = 1;
#else
    out[1] = 0;
#endif
#endif
}

static int probe_image(int *arch, int *sm90a, rl_err *err)
{
    int *d = NULL, h[2] = {0, 0};
    CU_CHECK(cudaMalloc(&d, sizeof h), "cuda engine: code path probe");
    code_path_probe_kernel<<<1, 1>>>(d);
    cudaError_t e = cudaGetLastError();
    if (e == cudaSuccess) e = cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost);
    cudaFree(d);
    CU_CHECK(e, "cuda engine: code path probe kernel");
    *arch = h[0], *sm90a = h[1];
    return 0;
}

extern "C" int rl_cuda_code_path(int device, rl_code_path *out, rl_err *err)
{
    cudaDeviceProp p;
    CU_CHECK(cudaSetDevice(device), "cuda engine: selecting the GPU");
    CU_CHECK(cudaGetDeviceProperties(&p, device), "cuda engine: reading device properties");
    int arch = 0, sm90a = 0;
    if (p.major >= 8) { // older GPUs: rl_code_path_choose says why not, no rebuild helps
        cudaFuncAttributes fa;
        const cudaError_t fe = cudaFuncGetAttributes(&fa, code_path_probe_kernel);
        if (fe == cudaErrorNoKernelImageForDevice || fe == cudaErrorInvalidDeviceFunction) {
            cudaGetLastError(); // leave no error behind for the next check
            return rl_fail(err, "cuda engine: this build holds no code for %s (compute capability %d.%d; built for "
                                "CUDA targets %s): rebuild for it (make clean && make, or "
                                "CMAKE_FLAGS=-DCMAKE_CUDA_ARCHITECTURES=%d%d%s)",
                           p.name, p.major, p.minor, RL_CUDA_ARCHS, p.major, p.minor,
                           p.major == 9 && p.minor == 0 ? "a" : "");
        }
        CU_CHECK(fe, "cuda engine: reading the code path probe's attributes");
        if (probe_image(&arch, &sm90a, err)) return -1;
    }
    if (rl_code_path_choose(p.major, p.minor, arch, sm90a, (int64_t)p.sharedMemPerBlockOptin, out, err))
        return rl_wrap(err, "%s", p.name);
    return 0;
}
