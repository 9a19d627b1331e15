// tma.h: host side of the tensor-memory accelerator: encoding 2D tensor maps of row-major bf16
// matrices for the Hopper kernels. The driver's cuTensorMapEncodeTiled is reached through the
// runtime's driver entry point, so nothing links against libcuda.
#pragma once
#include <cuda.h>

#include "common.cuh"

typedef CUresult (*cuda_tma_encode_fn)(CUtensorMap *, CUtensorMapDataType, cuuint32_t, void *, const cuuint64_t *,
                                       const cuuint64_t *, const cuuint32_t *, const cuuint32_t *, CUtensorMapInterleave,
                                       CUtensorMapSwizzle, CUtensorMapL2promotion, CUtensorMapFloatOOBfill);

// Looks the encoder up (once per engine).
int cuda_tma_encoder(cuda_tma_encode_fn *fn, rl_err *err);

// A map of a row-major bf16 matrix [rows][cols] (row stride ld elements, ld * 2 a multiple of 16)
// read in boxes of box_rows x 64 elements with the 128-byte swizzle the wgmma descriptors expect;
// reads past the matrix return zeros. what names the matrix in errors.
int cuda_tma_map_bf16(cuda_tma_encode_fn fn, CUtensorMap *map, const void *base, int64_t rows, int64_t cols, int64_t ld,
                      int box_rows, const char *what, rl_err *err);
