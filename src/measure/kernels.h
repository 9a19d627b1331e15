/* kernels.h: the per-kernel roofline. A few decode steps or prefills run with the engine's
 * per-kernel profiling on (CUPTI records of the real step where the engine has them, else events:
 * engine.h), right after the same step is timed the normal way; the records are aggregated per
 * (kernel, ops) over every layer and averaged over the profiled steps, and each group gets the
 * FLOPs and bytes the cost model assigns to its ops (rl_cost_step, whole step), so a kernel's
 * measured time and its predicted work always refer to the same operators (ops.h). An op claimed
 * by several kernels (attention split in two, say) has its cost shared among them in proportion
 * to their time, and the rows are marked shared. Each profile is also recorded (rl_profile): its
 * timing and its rows' sum against the normally timed step.
 * Nsight Compute CSV exports (`ncu --csv`, long "Metric Name/Metric Value" rows or the wide raw
 * page) can be imported and listed beside ours. */
#ifndef RL_KERNELS_H
#define RL_KERNELS_H
#include <stdint.h>
#include <stdio.h>

#include "../engine/engine.h"
#include "results.h"
#include "trace.h"

/* Decode steps a profile runs after its prompt: 2 warm, 5 timed the normal way, 4 profiled. */
#define RL_KERNELS_WARM_STEPS 2
#define RL_KERNELS_TIMED_STEPS 5
#define RL_KERNELS_PROFILED_STEPS 4
#define RL_KERNELS_DECODE_STEPS (RL_KERNELS_WARM_STEPS + RL_KERNELS_TIMED_STEPS + RL_KERNELS_PROFILED_STEPS)

/* Aggregates log into rows of phase/x (per step: sums over the records of each step, averaged over
 * the steps the log holds) and appends them to res, with costs from cost. */
int rl_kernels_aggregate(const rl_kernel_log *log, const rl_cost *cost, rl_phase phase, int64_t x, rl_results *res,
                         rl_err *err);

/* Profiles x on e and appends its rows and its rl_profile to res (and its first profiled step to
 * trace when not NULL). decode: x sequences of input_len random tokens are prefilled, then
 * RL_KERNELS_DECODE_STEPS steps: warm, timed one by one (host clock after a sync: step_ms is their
 * median), profiled. prefill: warm, 3 timed, 2 profiled prefills of x tokens. */
int rl_kernels_profile(rl_engine *e, rl_phase phase, int64_t x, int64_t input_len, uint64_t seed, rl_results *res,
                       rl_trace *trace, rl_err *err);

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
