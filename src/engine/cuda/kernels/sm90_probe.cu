// sm90_probe.cu: does this binary carry sm_90a code for the GPU it runs on? A build of portable
// PTX only (e.g. compute_80, JIT-compiled on a Hopper GPU) has the Hopper kernels as empty
// bodies, so the engine asks the device once, at creation, which side of RL_SM90A it compiled.
#include "../kernels.h"
#include "sm90.cuh"

__global__ void sm90a_probe_kernel(int *out) { *out = RL_SM90A; }

cudaError_t rl_sm90a_probe(int *present)
{
    *present = 0;
    int *d = NULL;
    cudaError_t e = cudaMalloc(&d, sizeof(int));
    if (e != cudaSuccess) return e;
    sm90a_probe_kernel<<<1, 1>>>(d);
    e = cudaGetLastError();
    if (e == cudaSuccess) e = cudaMemcpy(present, d, sizeof(int), cudaMemcpyDeviceToHost);
    cudaFree(d);
    return e;
}
