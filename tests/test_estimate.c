/* test_estimate.c: the latency-aware estimate (launch_plan.c) against arithmetic done here: each
 * operator's cost shared among the launches that claim it, each launch at max(FLOPs / peak, bytes /
 * bandwidth, n_kernels x t_min), operators no launch claims at their roofline time; the three-roof
 * bound; and the static table of the CUDA engine's kernels (every operator of a step claimed). */
#include <string.h>

#include "check.h"
#include "predict/launch_plan.h"

static void test_arithmetic(void)
{
    rl_cost c;
    memset(&c, 0, sizeof c);
    /* bandwidth 1000 GB/s = 1 MB per us, peak 1 TFLOP/s = 1 MFLOP per us, t_min 5 us */
    rl_roofs r = {.bandwidth_gbps = 1000, .peak_tflops = 1, .origin = "test"};
    c.bytes[RL_OP_QKV] = 400e6, c.flops[RL_OP_QKV] = 100e6;  /* 4 launches: 100 us each, memory */
    c.bytes[RL_OP_ATTN_NORM] = 8e6;                            /* 4 launches: 2 us each -> 5 us latency */
    c.flops[RL_OP_ATTENTION] = 60e6, c.bytes[RL_OP_ATTENTION] = 20e6; /* 2 kernels share it: 30 us compute each */
    c.bytes[RL_OP_SAMPLE] = 3e6;                               /* unclaimed: 3 us, no latency roof */
    rl_launch_plan p = {0};
    rl_err err;
    CHECK(rl_launch_plan_push(&p, "norm", RL_OPMASK(RL_OP_ATTN_NORM), -1, 4, 1, &err) == 0, "%s", err.msg);
    CHECK(rl_launch_plan_push(&p, "gemv", RL_OPMASK(RL_OP_QKV), -1, 4, 1, &err) == 0, "%s", err.msg);
    CHECK(rl_launch_plan_push(&p, "attn_a", RL_OPMASK(RL_OP_ATTENTION), -1, 1, 1, &err) == 0, "%s", err.msg);
    CHECK(rl_launch_plan_push(&p, "attn_b", RL_OPMASK(RL_OP_ATTENTION), -1, 1, 3, &err) == 0, "%s", err.msg);
    rl_estimate e;
    rl_estimate_step(&p, &c, &r, 5, &e);
    CHECK_REL(e.total_ms, 1e-3 * (4 * 5 + 4 * 100 + 30 + 30 + 3), 1e-12, "total");
    CHECK_REL(e.roof_ms, 1e-3 * (4 * 2 + 4 * 100 + 30 + 30 + 3), 1e-12, "without the latency roof");
    CHECK_REL(e.latency_ms, 1e-3 * 4 * 3, 1e-9, "what the latency roof adds");
    CHECK(e.launches == 10 && e.kernels == 12 && e.at_latency == 4, "launches %d kernels %d at latency %d", e.launches,
          e.kernels, e.at_latency);
    CHECK_REL(e.unplanned_ms, 3e-3, 1e-12, "unclaimed op at its roofline");
    /* With t_min = 40 us the 3-kernel attention launch sits at 120 us, the other at 40. */
    rl_estimate_step(&p, &c, &r, 40, &e);
    CHECK_REL(e.total_ms, 1e-3 * (4 * 40 + 4 * 100 + 40 + 120 + 3), 1e-12, "n_kernels x t_min");
    double f, b;
    rl_launch_cost(&p, 2, &c, &f, &b);
    CHECK_REL(f, 30e6, 1e-12, "shared op: half the FLOPs each");
    rl_bound bd;
    CHECK_REL(rl_roof3_ms(0, 16e3, 1, &r, 2.0, &bd), 2e-3, 1e-12, "a 16 KB kernel sits at the latency roof");
    CHECK(bd == RL_BOUND_LATENCY && !strcmp(rl_bound_names[bd], "latency"), "latency bound");
    CHECK_REL(rl_roof3_ms(5e6, 1e6, 1, &r, 2.0, &bd), 5e-3, 1e-12, "compute");
    CHECK(bd == RL_BOUND_COMPUTE, "compute bound");
    rl_roof3_ms(0, 16e3, 1, &r, 0, &bd);
    CHECK(bd == RL_BOUND_MEMORY, "no latency roof without t_min");
    rl_launch_plan_free(&p);
}

static void test_static_table(void)
{
    rl_model_config m;
    rl_err err;
    CHECK(rl_model_preset("llama-3.1-8b", &m, &err) == 0, "%s", err.msg);
    rl_launch_plan p = {0};
    for (int ph = 0; ph < 2; ph++) {
        CHECK(rl_launch_plan_static(&m, (rl_phase)ph, 1, &p, &err) == 0, "%s", err.msg);
        unsigned all = 0;
        for (int i = 0; i < p.n; i++) all |= p.v[i].op_mask;
        /* Every op Llama has (the q/k/v bias, q/k norm and router ops belong to other families). */
        for (int op = 0; op < RL_OP_COUNT; op++)
            if (!(ph == RL_PHASE_PREFILL && op == RL_OP_SAMPLE) && op != RL_OP_QKV_BIAS && op != RL_OP_QK_NORM &&
                op != RL_OP_ROUTER && op != RL_OP_ALLREDUCE)
                CHECK(all & RL_OPMASK(op), "%s: op %s claimed by the table", rl_phase_name((rl_phase)ph), rl_op_names[op]);
        CHECK(!(all & (RL_OPMASK(RL_OP_QKV_BIAS) | RL_OPMASK(RL_OP_ROUTER))), "%s: Llama launches no bias or router kernel",
              rl_phase_name((rl_phase)ph));
    }
    CHECK(rl_launch_plan_static(&m, RL_PHASE_DECODE, 1, &p, &err) == 0, "%s", err.msg);
    CHECK(rl_launch_plan_kernels(&p) == 1 + 7 * 32 + 3, "decode: %d kernels (1 + 7 per layer + 3)", rl_launch_plan_kernels(&p));
    /* Decode batch 1 on an H200's datasheet roofs, t_min 2.5 us: above the roofline by the small kernels. */
    rl_workload w = rl_workload_decode(1, 160);
    rl_cost c;
    rl_cost_step(&m, &w, &c);
    rl_roofs r = {.bandwidth_gbps = 4800, .peak_tflops = 989, .origin = "H200"};
    rl_prediction pr;
    rl_predict(&c, &r, &pr);
    rl_estimate e;
    rl_estimate_step(&p, &c, &r, 2.5, &e);
    CHECK(e.total_ms > pr.total_ms && e.total_ms < pr.total_ms + 228 * 2.5e-3, "estimate %g between roofline %g and "
          "roofline + every kernel's t_min", e.total_ms, pr.total_ms);
    CHECK_REL(e.roof_ms, pr.total_ms, 1e-6, "without the latency roof it is the roofline (all memory-bound)");
    CHECK(e.at_latency >= 2 * 32 + 2, "the norms (and the argmax) sit at the latency roof: %d", e.at_latency);
    rl_launch_plan_free(&p);
}

/* The tensor-parallel engine's table: two all-reduces per layer, the sampling reduction, and the
 * estimate carries the communication roof. */
static void test_static_tp_table(void)
{
    rl_model_config m;
    rl_err err;
    CHECK(rl_model_preset("llama-3.1-70b", &m, &err) == 0, "%s", err.msg);
    rl_launch_plan p = {0};
    for (int ph = 0; ph < 2; ph++) {
        CHECK(rl_launch_plan_static(&m, (rl_phase)ph, 8, &p, &err) == 0, "%s", err.msg);
        int reduces = 0;
        unsigned all = 0;
        for (int i = 0; i < p.n; i++) {
            all |= p.v[i].op_mask;
            if (p.v[i].op_mask & RL_OPMASK(RL_OP_ALLREDUCE)) reduces += p.v[i].count;
        }
        CHECK(reduces == 2 * 80, "%s TP8: %d all-reduce launches (2 per layer)", rl_phase_name((rl_phase)ph), reduces);
        CHECK(all & RL_OPMASK(RL_OP_ALLREDUCE), "the all-reduce is an operator of the plan");
    }
    CHECK(rl_launch_plan_static(&m, RL_PHASE_DECODE, 8, &p, &err) == 0, "%s", err.msg);
    rl_workload w = rl_workload_decode(1, 160);
    w.tp = 8;
    rl_cost c;
    rl_cost_step(&m, &w, &c);
    CHECK(c.ops & RL_OPMASK(RL_OP_ALLREDUCE), "a TP8 step has the allreduce op");
    rl_roofs r = {.bandwidth_gbps = 4800, .peak_tflops = 989, .link_gbps = 450, .allreduce_us = 10, .origin = "H200"};
    rl_prediction pr;
    rl_predict(&c, &r, &pr);
    CHECK_REL(pr.time_ms[RL_OP_ALLREDUCE], pr.comm_ms, 1e-12, "the op's time is comm_ms");
    double sum = 0;
    for (int op = 0; op < RL_OP_COUNT; op++) sum += pr.time_ms[op];
    CHECK_REL(sum, pr.total_ms, 1e-9, "the ops' times add up to the step (all-reduces included)");
    rl_estimate e;
    rl_estimate_step(&p, &c, &r, 2.5, &e);
    CHECK(e.total_ms >= pr.total_ms - 1e-9, "estimate %g >= roofline %g", e.total_ms, pr.total_ms);
    CHECK(e.unplanned_ms == 0, "every op of the TP step is planned (%g ms unplanned)", e.unplanned_ms);
    /* The single-GPU table under a TP step leaves the all-reduces unplanned: counted whole. */
    CHECK(rl_launch_plan_static(&m, RL_PHASE_DECODE, 1, &p, &err) == 0, "%s", err.msg);
    rl_estimate_step(&p, &c, &r, 2.5, &e);
    CHECK_REL(e.unplanned_ms, pr.comm_ms, 1e-9, "unplanned all-reduces: comm_ms");
    rl_launch_plan_free(&p);
}

int main(void)
{
    test_arithmetic();
    test_static_table();
    test_static_tp_table();
    return CHECK_DONE();
}
