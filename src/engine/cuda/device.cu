// device.cu: CUDA device discovery for the C side (no GPU code).
#include <cuda_runtime.h>

extern "C" int rl_cuda_device_count(void)
{
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError(); // clear the sticky "no device" error
        return 0;
    }
    return n;
}
