// tma.cu: tensor-map encoding for the Hopper kernels (see tma.h).
#include "tma.h"

int cuda_tma_encoder(cuda_tma_encode_fn *fn, rl_err *err)
{
    void *p = NULL;
    cudaDriverEntryPointQueryResult q = cudaDriverEntryPointSymbolNotFound;
    CU_CHECK(cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &p, 12000, cudaEnableDefault, &q),
             "cuda engine: looking up cuTensorMapEncodeTiled");
    if (q != cudaDriverEntryPointSuccess || !p)
        return rl_fail(err, "cuda engine: the driver has no cuTensorMapEncodeTiled (a CUDA 12 driver is needed for "
                            "the Hopper kernels)");
    *fn = (cuda_tma_encode_fn)p;
    return 0;
}

int cuda_tma_map_bf16(cuda_tma_encode_fn fn, CUtensorMap *map, const void *base, int64_t rows, int64_t cols, int64_t ld,
                      int box_rows, const char *what, rl_err *err)
{
    if (rows <= 0 || cols <= 0 || (ld * 2) % 16 || ((uintptr_t)base & 15) || box_rows < 1 || box_rows > 256)
        return rl_fail(err, "cuda engine: %s (%lld x %lld, row stride %lld) cannot be read by TMA", what,
                       (long long)rows, (long long)cols, (long long)ld);
    const cuuint64_t dim[2] = {(cuuint64_t)cols, (cuuint64_t)rows};
    const cuuint64_t stride[1] = {(cuuint64_t)ld * 2};
    const cuuint32_t box[2] = {64, (cuuint32_t)box_rows};
    const cuuint32_t estride[2] = {1, 1};
    const CUresult r = fn(map, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, const_cast<void *>(base), dim, stride, box, estride,
                          CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                          CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    if (r != CUDA_SUCCESS)
        return rl_fail(err, "cuda engine: cuTensorMapEncodeTiled for %s (%lld x %lld) failed: error %d", what,
                       (long long)rows, (long long)cols, (int)r);
    return 0;
}
