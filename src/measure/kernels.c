/* kernels.c: per-kernel roofline rows from the engine's profile log (see kernels.h). */
#include "kernels.h"

#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "sweep.h"

typedef struct {
    char kernel[48];
    unsigned op_mask;
    int calls;
    double ms;
} group;

int rl_kernels_aggregate(const rl_kernel_log *log, const rl_cost *cost, rl_phase phase, int64_t x, rl_results *res,
                         rl_err *err)
{
    group *g = calloc((size_t)(log->n > 0 ? log->n : 1), sizeof *g);
    int ng = 0;
    if (!g) return rl_fail(err, "kernels: out of host memory");
    for (int i = 0; i < log->n; i++) {
        const rl_kernel_record *r = &log->recs[i];
        int j = 0;
        while (j < ng && !(g[j].op_mask == r->op_mask && !strcmp(g[j].kernel, r->kernel))) j++;
        if (j == ng) {
            snprintf(g[j].kernel, sizeof g[j].kernel, "%s", r->kernel);
            g[j].op_mask = r->op_mask;
            ng++;
        }
        g[j].calls++;
        g[j].ms += r->ms;
    }
    /* Time of every group that claims each op: an op's cost is split by these shares. */
    double op_ms[RL_OP_COUNT] = {0};
    int op_groups[RL_OP_COUNT] = {0};
    for (int j = 0; j < ng; j++)
        for (int op = 0; op < RL_OP_COUNT; op++)
            if (g[j].op_mask & RL_OPMASK(op)) op_ms[op] += g[j].ms, op_groups[op]++;
    int rc = 0;
    for (int j = 0; j < ng && !rc; j++) {
        rl_kernel_row k;
        memset(&k, 0, sizeof k);
        k.phase = phase, k.x = x;
        snprintf(k.kernel, sizeof k.kernel, "%s", g[j].kernel);
        k.op_mask = g[j].op_mask, k.calls = g[j].calls, k.ms = g[j].ms;
        for (int op = 0; op < RL_OP_COUNT; op++) {
            if (!(g[j].op_mask & RL_OPMASK(op))) continue;
            double share = 1;
            if (op_groups[op] > 1) {
                share = op_ms[op] > 0 ? g[j].ms / op_ms[op] : 1.0 / op_groups[op];
                k.shared = 1;
            }
            k.flops += share * cost->flops[op];
            k.bytes += share * cost->bytes[op];
        }
        rc = rl_results_add_kernel(res, &k, err);
    }
    free(g);
    return rc;
}

int rl_kernels_profile(rl_engine *e, rl_phase phase, int64_t x, int64_t input_len, uint64_t seed, rl_results *res,
                       rl_err *err)
{
    if (!e->ops->set_profile)
        return rl_fail(err, "kernels: the %s engine has no per-kernel timing (set_profile)", e->ops->name);
    int64_t B = phase == RL_PHASE_DECODE ? x : 1, len = phase == RL_PHASE_DECODE ? input_len : x;
    if (B > e->opts.max_batch || len > e->opts.max_prefill || len + 2 > e->opts.max_context)
        return rl_fail(err, "kernels: %s x=%lld does not fit the engine (batch %lld, context %lld)",
                       phase == RL_PHASE_DECODE ? "decode" : "prefill", (long long)x, (long long)e->opts.max_batch,
                       (long long)e->opts.max_context);
    int32_t *prompt = malloc(sizeof *prompt * (size_t)(B * len)), *tok = malloc(sizeof *tok * (size_t)B),
            *next = malloc(sizeof *next * (size_t)B);
    float *logits = phase == RL_PHASE_PREFILL ? malloc(sizeof *logits * (size_t)e->model.vocab) : NULL;
    rl_kernel_log log = {0};
    int rc = -1;
    uint64_t rng = seed ^ 0xC0FFEEull ^ (uint64_t)x;
    if (!prompt || !tok || !next || (phase == RL_PHASE_PREFILL && !logits)) {
        rl_fail(err, "kernels: out of host memory");
        goto done;
    }
    rl_random_tokens(prompt, B * len, e->model.vocab, &rng);
    rl_random_tokens(tok, B, e->model.vocab, &rng);
    /* Warm run first, so one-time costs (graph capture, first-touch) stay out of the profile. */
    if (rl_engine_prefill(e, B, len, prompt, logits, 0, err)) goto done;
    if (phase == RL_PHASE_DECODE && rl_engine_decode(e, tok, NULL, next, err)) goto done;
    if (rl_engine_sync(e, err)) goto done;
    e->ops->set_profile(e->state, &log);
    int frc = phase == RL_PHASE_DECODE ? rl_engine_decode(e, next, NULL, tok, err)
                                       : rl_engine_prefill(e, 1, len, prompt, logits, 0, err);
    if (!frc) frc = rl_engine_sync(e, err);
    e->ops->set_profile(e->state, NULL);
    if (frc) goto done;
    if (log.n == 0) {
        rl_fail(err, "kernels: the %s engine recorded no kernels for the profiled step", e->ops->name);
        goto done;
    }
    {
        /* The profiled decode step runs with input_len + 1 tokens already cached. */
        rl_workload w = phase == RL_PHASE_DECODE ? rl_workload_decode(B, input_len + 1) : rl_workload_prefill(1, x);
        w.weight_bytes = w.act_bytes = w.kv_bytes = res->elem_bytes > 0 ? res->elem_bytes : 2;
        rl_cost c;
        rl_cost_step(&e->model, &w, &c);
        rc = rl_kernels_aggregate(&log, &c, phase, x, res, err);
    }
done:
    rl_kernel_log_free(&log);
    free(prompt), free(tok), free(next), free(logits);
    return rc;
}

static void ops_text(unsigned mask, char *out, size_t n)
{
    out[0] = 0;
    for (int op = 0; op < RL_OP_COUNT; op++) {
        if (!(mask & RL_OPMASK(op))) continue;
        size_t l = strlen(out);
        snprintf(out + l, n - l, "%s%s", l ? "+" : "", rl_op_names[op]);
    }
}

void rl_kernels_print(const rl_results *res, FILE *f)
{
    rl_roofs roofs;
    int have = rl_results_roofs(res, &roofs) == 0;
    double ridge = have ? roofs.peak_tflops * 1e12 / (roofs.bandwidth_gbps * 1e9) : 0;
    int last_phase = -1;
    int64_t last_x = -1;
    double total = 0;
    for (int i = 0; i < res->n_kernels; i++) {
        const rl_kernel_row *k = &res->kernels[i];
        if ((int)k->phase != last_phase || k->x != last_x) {
            if (last_phase >= 0) fprintf(f, "  %-28s %5s %9.3f\n", "total", "", total);
            total = 0;
            last_phase = (int)k->phase, last_x = k->x;
            fprintf(f, "\nper-kernel roofline: %s %s=%lld (%s roofs)\n", k->phase == RL_PHASE_DECODE ? "decode" : "prefill",
                    k->phase == RL_PHASE_DECODE ? "batch" : "length", (long long)k->x, have ? "measured" : "no");
            fprintf(f, "  %-28s %5s %9s %9s %9s %8s %7s %6s %-8s %s\n", "kernel", "calls", "ms", "GB/s", "TFLOP/s", "FLOP/B",
                    "roof%", "share", "bound", "ops");
        }
        double s = k->ms * 1e-3, ai = k->bytes > 0 ? k->flops / k->bytes : 0;
        char ops[160];
        ops_text(k->op_mask, ops, sizeof ops);
        double roof_pct = have && k->ms > 0 ? 100 * rl_roof_time_ms(k->flops, k->bytes, &roofs) / k->ms : 0;
        double step_ms = 0;
        for (int j = 0; j < res->n_kernels; j++)
            if (res->kernels[j].phase == k->phase && res->kernels[j].x == k->x) step_ms += res->kernels[j].ms;
        fprintf(f, "  %-28.28s %5d %9.3f %9.1f %9.2f %8.1f %6.0f%% %5.1f%% %-8s %s%s\n", k->kernel, k->calls, k->ms,
                s > 0 ? k->bytes / s / 1e9 : 0, s > 0 ? k->flops / s / 1e12 : 0, ai, roof_pct,
                step_ms > 0 ? 100 * k->ms / step_ms : 0, ai >= ridge ? "compute" : "memory", ops, k->shared ? " (shared)" : "");
        total += k->ms;
    }
    if (last_phase >= 0) fprintf(f, "  %-28s %5s %9.3f\n", "total", "", total);
    if (res->n_ncu) {
        fprintf(f, "\nNsight Compute (imported): %d kernels\n", res->n_ncu);
        fprintf(f, "  %-48s %5s %9s %12s %9s  %s\n", "kernel", "calls", "ms", "DRAM MB", "GB/s", "ours");
        for (int i = 0; i < res->n_ncu; i++) {
            const rl_ncu_row *n = &res->ncu[i];
            fprintf(f, "  %-48.48s %5d %9.3f %12.3f %9.1f  %s\n", n->kernel, n->calls, n->ms,
                    n->dram_bytes >= 0 ? n->dram_bytes / 1e6 : -1,
                    n->dram_bytes >= 0 && n->ms > 0 ? n->dram_bytes / (n->ms * 1e-3) / 1e9 : -1, n->ours[0] ? n->ours : "-");
        }
    }
}
