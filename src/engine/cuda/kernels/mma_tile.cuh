// mma_tile.cuh: shared-memory tile helpers for the tensor-core attention kernels: a swizzled
// [rows][DP] bf16 layout and ldmatrix loads of mma.sync fragments from it.
#pragma once
#include "../common.cuh"

// Offset (in elements) of 16-byte chunk c of row r in a [rows][DP] bf16 tile: chunks are XOR
// swizzled by the row so the 8 rows an ldmatrix reads hit different banks.
template <int DP> __device__ __forceinline__ int fa_off(int r, int c)
{
    constexpr int CPR = DP / 8;
    constexpr int MASK = CPR >= 8 ? 7 : CPR - 1;
    return (r * CPR + (c ^ (r & MASK))) * 8;
}

__device__ __forceinline__ void ldsm_x4(uint32_t r[4], const bf16 *p)
{
    const unsigned a = (unsigned)__cvta_generic_to_shared(p);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(a));
}

__device__ __forceinline__ void ldsm_x4_t(uint32_t r[4], const bf16 *p)
{
    const unsigned a = (unsigned)__cvta_generic_to_shared(p);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(a));
}

