/* launch_plan.h: the kernels one step launches, each with the operators it implements, and the
 * latency-aware estimate that sums over them: a kernel cannot finish faster than the shortest time
 * a kernel node takes on the GPU (t_min, the latency roof), however few bytes it moves.
 *
 * Plans come from two places: the plan the engine records while it runs (engine.h, set_profile)
 * and, for `predict` without an engine, ONE static table of the CUDA engine's kernel sequence
 * (launch_plan.c, kept in step with src/engine/cuda/forward.cu). The lab prefers the recorded plan. */
#ifndef RL_LAUNCH_PLAN_H
#define RL_LAUNCH_PLAN_H
#include "../common/err.h"
#include "../hw/gpu.h"
#include "../model/config.h"
#include "predict.h"

/* t_min where none was measured: the boundary cost of a chain of small kernels in a CUDA graph on
 * Hopper (docs/cost-model.md, "latency roof"); `ridgeline probe` measures it as kernel_min_us. */
#define RL_DEFAULT_KERNEL_MIN_US 2.5

typedef struct {
    char kernel[48];   /* the engine's name for the launch: "gemv_tc", "cublaslt_gemm", ... */
    unsigned op_mask;  /* RL_OPMASK of the operators it implements */
    int layer;         /* -1: once per step (embedding, head) */
    int count;         /* times the step makes this launch (a static per-layer entry: layers) */
    int n_kernels;     /* device kernels per launch (a cuBLASLt call may launch 2); 0 = not known */
} rl_plan_entry;

typedef struct {
    rl_plan_entry *v;
    int n, cap;
} rl_launch_plan;

int rl_launch_plan_push(rl_launch_plan *p, const char *kernel, unsigned op_mask, int layer, int count,
                        int n_kernels, rl_err *err);
void rl_launch_plan_clear(rl_launch_plan *p); /* n = 0, memory kept */
void rl_launch_plan_free(rl_launch_plan *p);
/* Device kernels of the whole step (unknown counts taken as 1). */
int rl_launch_plan_kernels(const rl_launch_plan *p);

/* The static table: the CUDA engine's launches for one step of phase (the small-batch decode path:
 * our GEMV for every projection; prefill: cuBLASLt GEMMs, RoPE, flash attention), per-layer entries
 * with count = m->layers. tp > 1: the tensor-parallel engine's (all-reduces after o_proj and
 * down_proj, the residual added by the next norm, the sampling argmax reduced over the GPUs). */
int rl_launch_plan_static(const rl_model_config *m, rl_phase phase, int tp, rl_launch_plan *out, rl_err *err);

/* The three-roof time of kernels launches doing flops and bytes: max(flops / peak, bytes /
 * bandwidth, kernels x t_min), ms; *bound (may be NULL) says which roof it is. */
double rl_roof3_ms(double flops, double bytes, int kernels, const rl_roofs *r, double kernel_min_us, rl_bound *bound);

/* A profiled kernel row's roof: rl_roof3_ms, or for collectives (link_bytes > 0: the bytes the row's
 * `kernels` all-reduces send per GPU) the communication roof rl_comm_ms when that binds
 * (*bound = RL_BOUND_COMM). */
double rl_kernel_roof_ms(double flops, double bytes, int kernels, double link_bytes, const rl_roofs *r,
                         double kernel_min_us, rl_bound *bound);

typedef struct {
    double total_ms;      /* sum over launches of max(FLOPs / peak, bytes / bandwidth, n_kernels x t_min) */
    double roof_ms;       /* the same sum without the latency roof */
    double latency_ms;    /* total_ms - roof_ms: what the latency roof adds */
    double unplanned_ms;  /* roofline time of operators no launch claims (in both sums) */
    int launches, kernels;
    int at_latency;       /* launches whose time is their latency floor */
    double kernel_min_us; /* the t_min used */
} rl_estimate;

/* Each operator's FLOPs and bytes (c, whole step) are shared equally among the launches that claim
 * it (a per-layer op among its layers; an op two kernels split, half each); each launch then costs
 * max(its FLOPs / peak, its bytes / bandwidth, n_kernels x t_min); a launch claiming the all-reduces
 * at least its share of rl_comm_ms (latency + link bytes). */
void rl_estimate_step(const rl_launch_plan *plan, const rl_cost *c, const rl_roofs *r, double kernel_min_us,
                      rl_estimate *out);

/* The estimate's FLOPs and bytes of launch i of plan (its share of each operator it claims). */
void rl_launch_cost(const rl_launch_plan *plan, int i, const rl_cost *c, double *flops, double *bytes);

#endif
