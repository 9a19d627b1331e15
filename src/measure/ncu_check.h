/* ncu_check.h: the cost model's bytes checked against the hardware's counters. `ridgeline step`
 * runs one step the lab's way inside a cudaProfilerStart/Stop range and writes that step's launch
 * plan (a step file); Nsight Compute measures dram__bytes_read.sum + dram__bytes_write.sum of every
 * kernel in the range (scripts/ncu-check.sh); `ridgeline ncu-check` joins the two: each profiled
 * kernel is tied to the launch it came from (by the "rl#N" NVTX range ncu names it after with
 * --print-nvtx-rename kernel, else by position and the plan's kernel counts, as for CUPTI), its DRAM
 * bytes are shared among that launch's operators in proportion to their modelled bytes, and the
 * sums are set beside the cost model's bytes per operator and per step
 * (results/<gpu>/ncu-check.json). */
#ifndef RL_NCU_CHECK_H
#define RL_NCU_CHECK_H
#include "../engine/engine.h"
#include "../model/config.h"
#include "../predict/predict.h"

struct cJSON;

/* One kernel launch of an Nsight Compute CSV export, in file order. */
typedef struct {
    char id[32];
    char kernel[160];
    double ms;         /* gpu__time_duration.sum; -1 when not exported */
    double dram_bytes; /* dram__bytes_read.sum + dram__bytes_write.sum (or dram__bytes.sum); -1 when absent */
} rl_ncu_launch;

/* Every launch of an ncu --csv export (long or raw layout, see ncu_csv.c). The caller frees *out. */
int rl_ncu_read_launches(const char *path, rl_ncu_launch **out, int *n, rl_err *err);

/* The step file: what ran, where, and its launches. */
typedef struct {
    char device[128], commit[64], model[128], dtype[8];
    rl_phase phase;
    int64_t x, batch, context; /* decode: context the step saw; prefill: x = length */
    int kernels_known;         /* 1: n_kernels are a captured graph's kernel nodes; 0: one per launch assumed */
    rl_launch_plan plan;
} rl_step_plan;

int rl_step_plan_save(const rl_step_plan *sp, const char *path, rl_err *err);
int rl_step_plan_load(const char *path, rl_step_plan *out, rl_err *err);
void rl_step_plan_free(rl_step_plan *sp);

typedef struct {
    rl_phase phase;
    int64_t x, context;
    double model_bytes, dram_bytes;                       /* the whole step */
    double op_model_bytes[RL_OP_COUNT], op_dram_bytes[RL_OP_COUNT];
    int launches, kernels;                                /* of the plan; kernels = ncu launches attributed */
    int unattributed;                                     /* ncu launches tied to no launch of the plan */
    char attributed_by[48];                               /* "NVTX launch ranges" | "kernel counts" */
} rl_ncu_case;

/* Joins a step file (m: its model, resolved) with the ncu launches of that step (reordered). */
int rl_ncu_check_case(const rl_step_plan *sp, const rl_model_config *m, rl_ncu_launch *launches, int n,
                      rl_ncu_case *out, rl_err *err);
struct cJSON *rl_ncu_case_to_json(const rl_ncu_case *c);

#ifdef RL_HAVE_CUDA
/* start = 1: cudaProfilerStart and an NVTX range "ridgeline:target"; 0: their end (profiler_cuda.cu). */
int rl_cuda_profiler_range(int start, rl_err *err);
#endif

#endif
