/* kernels.h: the per-kernel roofline. One decode step or one prefill runs with the engine's
 * per-kernel timing on; its records are aggregated per (kernel, ops) over every layer, and each
 * group gets the FLOPs and bytes the cost model assigns to its ops (rl_cost_step, whole step), so a
 * kernel's measured time and its predicted work always refer to the same operators (ops.h).
 * An op claimed by several kernels (attention split in two, say) has its cost shared among them
 * in proportion to their time, and the rows are marked shared.
 * Nsight Compute CSV exports (`ncu --csv`, long "Metric Name/Metric Value" rows or the wide raw
 * page) can be imported and listed beside ours. */
#ifndef RL_KERNELS_H
#define RL_KERNELS_H
#include <stdint.h>
#include <stdio.h>

#include "../engine/engine.h"
#include "results.h"

/* Aggregates log into rows of phase/x and appends them to res, with costs from cost. */
int rl_kernels_aggregate(const rl_kernel_log *log, const rl_cost *cost, rl_phase phase, int64_t x, rl_results *res,
                         rl_err *err);

/* Profiles one step on e and appends its rows to res. decode: prefill x sequences of input_len
 * random tokens, one warm step, then the profiled step (context input_len + 1). prefill: one warm
 * and one profiled prefill of x tokens. */
int rl_kernels_profile(rl_engine *e, rl_phase phase, int64_t x, int64_t input_len, uint64_t seed, rl_results *res,
                       rl_err *err);

/* Reads an ncu CSV export and appends one row per kernel name (launches summed) to res, each
 * matched to one of res's kernel rows: the longest of our names it contains, else ours that starts
 * with its function name ("rope_kv_kernel" -> "rope_kv_write"), else for a cuBLAS/CUTLASS kernel
 * ours that wraps the library ("cublaslt_gemm"). Import after the per-kernel rows exist. */
int rl_ncu_import(const char *path, rl_results *res, rl_err *err);
/* Reads and checks an ncu CSV export without importing it (before a run measures anything). */
int rl_ncu_check(const char *path, rl_err *err);

/* Text tables of res's kernel rows (and ncu rows) to f. */
void rl_kernels_print(const rl_results *res, FILE *f);

#endif
