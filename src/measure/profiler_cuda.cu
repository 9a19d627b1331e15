// profiler_cuda.cu: the range an external profiler started with `--profile-from-start off`
// (Nsight Compute, Nsight Systems) measures: cudaProfilerStart/Stop around it, and an NVTX range
// "ridgeline:target" for tools that filter by NVTX instead.
#include <cuda_profiler_api.h>
#include <cuda_runtime.h>
#include <nvtx3/nvToolsExt.h>

extern "C" {
#include "ncu_check.h"
}

extern "C" int rl_cuda_profiler_range(int start, rl_err *err)
{
    cudaError_t e;
    if (start) {
        e = cudaProfilerStart();
        nvtxRangePushA("ridgeline:target");
    } else {
        nvtxRangePop();
        e = cudaProfilerStop();
    }
    if (e != cudaSuccess)
        return rl_fail(err, "profiler_cuda.cu: %s failed: %s", start ? "cudaProfilerStart" : "cudaProfilerStop",
                       cudaGetErrorString(e));
    return 0;
}
