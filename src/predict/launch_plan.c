/* launch_plan.c: launch plans, the static table of the CUDA engine's kernel sequence, and the
 * latency-aware estimate (launch_plan.h). */
#include "launch_plan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OP(x) RL_OPMASK(RL_OP_##x)

typedef struct {
    const char *kernel;
    unsigned op_mask;
    int per_layer;
    int when; /* ALWAYS, or only for models that have the op */
} static_launch;

/* Keep in step with forward_layers / forward_head / decode_step_launch in src/engine/cuda/forward.cu
 * and cuda_linear in linear.cu (a norm in front of a projection is its own rmsnorm launch). */
// The CUDA engine's kernels per step (src/engine/cuda/forward.cu): projections by gemm_stream, the
// GEMV or cuBLASLt, whichever the engine timed fastest for the shape (one kernel each, gate/up with
// SiLU fused; cuBLASLt's gate/up adds a silu_mul pass in prefill). `when` picks launches that only
// some models have.
enum { ALWAYS, IF_QKV_POST, IF_MOE };
static const static_launch decode_table[] = {
    {"embed_gather", OP(EMBED), 0, ALWAYS},
    {"rmsnorm", OP(ATTN_NORM), 1, ALWAYS},
    {"projection", OP(QKV), 1, ALWAYS},
    {"qkv_post", OP(QKV_BIAS) | OP(QK_NORM), 1, IF_QKV_POST},
    {"attn_decode_splitkv", OP(ROPE) | OP(KV_WRITE) | OP(ATTENTION), 1, ALWAYS},
    {"projection", OP(O_PROJ), 1, ALWAYS},
    {"rmsnorm", OP(FFN_NORM), 1, ALWAYS},
    {"router", OP(ROUTER), 1, IF_MOE},
    {"projection", OP(GATE_UP) | OP(SILU_MUL), 1, ALWAYS},
    {"projection", OP(DOWN), 1, ALWAYS},
    {"rmsnorm", OP(FINAL_NORM), 0, ALWAYS},
    {"projection", OP(LM_HEAD), 0, ALWAYS},
    {"argmax", OP(SAMPLE), 0, ALWAYS},
};

/* The tensor-parallel engine (tp >= 1; src/engine/cuda/tp.cu): o_proj and down_proj write their
 * partial sums, an NCCL all-reduce sums them over the GPUs, and the next norm adds them to the
 * residual stream (add_rmsnorm); after the last layer one residual_add; the sampling argmax reduces
 * every GPU's best token of its vocabulary slice (an all-gather of the candidates, then a pick). */
static const static_launch decode_tp_table[] = {
    {"embed_gather", OP(EMBED), 0, ALWAYS},
    {"add_rmsnorm", OP(ATTN_NORM), 1, ALWAYS},
    {"projection", OP(QKV), 1, ALWAYS},
    {"qkv_post", OP(QKV_BIAS) | OP(QK_NORM), 1, IF_QKV_POST},
    {"attn_decode_splitkv", OP(ROPE) | OP(KV_WRITE) | OP(ATTENTION), 1, ALWAYS},
    {"projection", OP(O_PROJ), 1, ALWAYS},
    {"nccl_allreduce", OP(ALLREDUCE), 1, ALWAYS},
    {"add_rmsnorm", OP(FFN_NORM), 1, ALWAYS},
    {"router", OP(ROUTER), 1, IF_MOE},
    {"projection", OP(GATE_UP) | OP(SILU_MUL), 1, ALWAYS},
    {"projection", OP(DOWN), 1, ALWAYS},
    {"nccl_allreduce", OP(ALLREDUCE), 1, ALWAYS},
    {"residual_add", OP(DOWN), 0, ALWAYS},
    {"rmsnorm", OP(FINAL_NORM), 0, ALWAYS},
    {"projection", OP(LM_HEAD), 0, ALWAYS},
    {"argmax_cand", OP(SAMPLE), 0, ALWAYS},
    {"nccl_allgather", OP(SAMPLE), 0, ALWAYS},
    {"argmax_pick", OP(SAMPLE), 0, ALWAYS},
};

static const static_launch prefill_table[] = {
    {"embed_gather", OP(EMBED), 0, ALWAYS},
    {"rmsnorm", OP(ATTN_NORM), 1, ALWAYS},
    {"cublaslt_gemm", OP(QKV), 1, ALWAYS},
    {"qkv_post", OP(QKV_BIAS) | OP(QK_NORM), 1, IF_QKV_POST},
    {"rope_kv_write", OP(ROPE) | OP(KV_WRITE), 1, ALWAYS},
    {"attn_prefill", OP(ATTENTION), 1, ALWAYS},
    {"cublaslt_gemm", OP(O_PROJ), 1, ALWAYS},
    {"rmsnorm", OP(FFN_NORM), 1, ALWAYS},
    {"router", OP(ROUTER), 1, IF_MOE},
    {"cublaslt_gemm", OP(GATE_UP), 1, ALWAYS},
    {"silu_mul", OP(SILU_MUL), 1, ALWAYS},
    {"cublaslt_gemm", OP(DOWN), 1, ALWAYS},
    {"rmsnorm", OP(FINAL_NORM), 0, ALWAYS},
    {"projection", OP(LM_HEAD), 0, ALWAYS}, /* one row of logits */
};

static const static_launch prefill_tp_table[] = {
    {"embed_gather", OP(EMBED), 0, ALWAYS},
    {"add_rmsnorm", OP(ATTN_NORM), 1, ALWAYS},
    {"cublaslt_gemm", OP(QKV), 1, ALWAYS},
    {"qkv_post", OP(QKV_BIAS) | OP(QK_NORM), 1, IF_QKV_POST},
    {"rope_kv_write", OP(ROPE) | OP(KV_WRITE), 1, ALWAYS},
    {"attn_prefill", OP(ATTENTION), 1, ALWAYS},
    {"cublaslt_gemm", OP(O_PROJ), 1, ALWAYS},
    {"nccl_allreduce", OP(ALLREDUCE), 1, ALWAYS},
    {"add_rmsnorm", OP(FFN_NORM), 1, ALWAYS},
    {"router", OP(ROUTER), 1, IF_MOE},
    {"cublaslt_gemm", OP(GATE_UP), 1, ALWAYS},
    {"silu_mul", OP(SILU_MUL), 1, ALWAYS},
    {"cublaslt_gemm", OP(DOWN), 1, ALWAYS},
    {"nccl_allreduce", OP(ALLREDUCE), 1, ALWAYS},
    {"residual_add", OP(DOWN), 0, ALWAYS},
    {"rmsnorm", OP(FINAL_NORM), 0, ALWAYS},
    {"projection", OP(LM_HEAD), 0, ALWAYS},
};

int rl_launch_plan_push(rl_launch_plan *p, const char *kernel, unsigned op_mask, int layer, int count,
                        int n_kernels, rl_err *err)
{
    if (p->n == p->cap) {
        int cap = p->cap ? 2 * p->cap : 64;
        rl_plan_entry *v = realloc(p->v, sizeof *v * (size_t)cap);
        if (!v) return rl_fail(err, "launch plan: out of host memory");
        p->v = v, p->cap = cap;
    }
    rl_plan_entry *l = &p->v[p->n++];
    snprintf(l->kernel, sizeof l->kernel, "%s", kernel);
    l->op_mask = op_mask, l->layer = layer, l->count = count, l->n_kernels = n_kernels;
    return 0;
}

void rl_launch_plan_clear(rl_launch_plan *p) { p->n = 0; }

void rl_launch_plan_free(rl_launch_plan *p)
{
    free(p->v);
    p->v = NULL;
    p->n = p->cap = 0;
}

int rl_launch_plan_kernels(const rl_launch_plan *p)
{
    int k = 0;
    for (int i = 0; i < p->n; i++) k += p->v[i].count * (p->v[i].n_kernels > 0 ? p->v[i].n_kernels : 1);
    return k;
}

#define N_OF(t) ((int)(sizeof t / sizeof *t))

int rl_launch_plan_static(const rl_model_config *m, rl_phase phase, int tp, rl_launch_plan *out, rl_err *err)
{
    const int decode = phase == RL_PHASE_DECODE;
    const static_launch *t = tp > 1 ? (decode ? decode_tp_table : prefill_tp_table) : decode ? decode_table : prefill_table;
    const int n = tp > 1 ? (decode ? N_OF(decode_tp_table) : N_OF(prefill_tp_table))
                         : decode ? N_OF(decode_table) : N_OF(prefill_table);
    rl_launch_plan_clear(out);
    for (int i = 0; i < n; i++) {
        if ((t[i].when == IF_QKV_POST && !(m->qkv_bias || m->qk_norm)) || (t[i].when == IF_MOE && !rl_model_is_moe(m)))
            continue;
        if (rl_launch_plan_push(out, t[i].kernel, t[i].op_mask, -1, t[i].per_layer ? (int)m->layers : 1, 1, err))
            return -1;
    }
    return 0;
}

/* How many launches of the step claim each operator. */
static void claims(const rl_launch_plan *plan, double *n)
{
    for (int op = 0; op < RL_OP_COUNT; op++) n[op] = 0;
    for (int i = 0; i < plan->n; i++)
        for (int op = 0; op < RL_OP_COUNT; op++)
            if (plan->v[i].op_mask & RL_OPMASK(op)) n[op] += plan->v[i].count;
}

static void launch_cost(const rl_plan_entry *l, const double *n_claims, const rl_cost *c, double *flops, double *bytes)
{
    *flops = *bytes = 0;
    for (int op = 0; op < RL_OP_COUNT; op++)
        if ((l->op_mask & RL_OPMASK(op)) && n_claims[op] > 0) {
            *flops += c->flops[op] / n_claims[op];
            *bytes += c->bytes[op] / n_claims[op];
        }
}

void rl_launch_cost(const rl_launch_plan *plan, int i, const rl_cost *c, double *flops, double *bytes)
{
    double n[RL_OP_COUNT];
    claims(plan, n);
    launch_cost(&plan->v[i], n, c, flops, bytes);
}


double rl_roof3_ms(double flops, double bytes, int kernels, const rl_roofs *r, double kernel_min_us, rl_bound *bound)
{
    const double t_c = 1e3 * flops / (r->peak_tflops * 1e12), t_m = 1e3 * bytes / (r->bandwidth_gbps * 1e9);
    const double t_l = kernel_min_us > 0 ? 1e-3 * kernel_min_us * (kernels > 0 ? kernels : 1) : 0;
    rl_bound b = t_c > t_m ? RL_BOUND_COMPUTE : RL_BOUND_MEMORY;
    double t = t_c > t_m ? t_c : t_m;
    if (t_l > t) t = t_l, b = RL_BOUND_LATENCY;
    if (bound) *bound = b;
    return t;
}

double rl_kernel_roof_ms(double flops, double bytes, int kernels, double link_bytes, const rl_roofs *r,
                         double kernel_min_us, rl_bound *bound)
{
    rl_bound b;
    double t = rl_roof3_ms(flops, bytes, kernels, r, kernel_min_us, &b);
    const double comm = link_bytes > 0 ? rl_comm_ms(kernels > 0 ? kernels : 1, link_bytes, r) : 0;
    if (comm > t) t = comm, b = RL_BOUND_COMM;
    if (bound) *bound = b;
    return t;
}

void rl_estimate_step(const rl_launch_plan *plan, const rl_cost *c, const rl_roofs *r, double kernel_min_us,
                      rl_estimate *out)
{
    memset(out, 0, sizeof *out);
    out->kernel_min_us = kernel_min_us > 0 ? kernel_min_us : 0;
    double n[RL_OP_COUNT];
    claims(plan, n);
    for (int i = 0; i < plan->n; i++) {
        const rl_plan_entry *l = &plan->v[i];
        double f, b;
        launch_cost(l, n, c, &f, &b);
        const int k = l->n_kernels > 0 ? l->n_kernels : 1;
        rl_bound bound;
        /* A collective's share of the step's communication time (latency + link bytes). */
        const double comm = (l->op_mask & RL_OPMASK(RL_OP_ALLREDUCE)) && n[RL_OP_ALLREDUCE] > 0
                                ? rl_comm_ms((double)c->collectives, c->comm_bytes, r) / n[RL_OP_ALLREDUCE]
                                : 0;
        double t = rl_roof3_ms(f, b, k, r, out->kernel_min_us, &bound);
        if (comm > t) t = comm, bound = RL_BOUND_COMM;
        const double roof = fmax(rl_roof_time_ms(f, b, r), comm);
        out->roof_ms += l->count * roof;
        out->total_ms += l->count * t;
        out->launches += l->count;
        out->kernels += l->count * k;
        if (bound == RL_BOUND_LATENCY) out->at_latency += l->count;
    }
    for (int op = 0; op < RL_OP_COUNT; op++)
        if (n[op] == 0 && (c->flops[op] > 0 || c->bytes[op] > 0))
            out->unplanned_ms += rl_roof_time_ms(c->flops[op], c->bytes[op], r);
    if (n[RL_OP_ALLREDUCE] == 0 && c->collectives > 0)
        out->unplanned_ms += rl_comm_ms((double)c->collectives, c->comm_bytes, r);
    out->roof_ms += out->unplanned_ms;
    out->total_ms += out->unplanned_ms;
    out->latency_ms = out->total_ms - out->roof_ms;
}
