/* kernels.c: per-kernel roofline rows from the engine's profile log (see kernels.h). */
#include "kernels.h"

#include <stdlib.h>
#include <string.h>

#include "../common/stats.h"
#include "../common/util.h"
#include "sweep.h"

typedef struct {
    char kernel[48];
    char symbol[96];
    unsigned op_mask;
    int calls;
    double ms, busy_ms;
} group;

/* Steps the log's records span (a log of pushes without steps is one step). */
static int steps_of(const rl_kernel_log *log)
{
    int hi = -1, lo = 1 << 30;
    for (int i = 0; i < log->n; i++) {
        if (log->recs[i].step > hi) hi = log->recs[i].step;
        if (log->recs[i].step < lo) lo = log->recs[i].step;
    }
    return hi < 0 ? 1 : hi - lo + 1;
}

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
            snprintf(g[j].symbol, sizeof g[j].symbol, "%s", r->symbol);
            g[j].op_mask = r->op_mask;
            ng++;
        }
        g[j].calls++;
        g[j].ms += r->ms;
        g[j].busy_ms += r->busy_ms;
    }
    const double steps = steps_of(log);
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
        snprintf(k.symbol, sizeof k.symbol, "%s", g[j].symbol);
        k.op_mask = g[j].op_mask;
        k.calls = (int)(g[j].calls / steps + 0.5);
        k.ms = g[j].ms / steps;
        k.busy_ms = g[j].busy_ms / steps;
        for (int op = 0; op < RL_OP_COUNT; op++) {
            if (!(g[j].op_mask & RL_OPMASK(op))) continue;
            double share = 1;
            if (op_groups[op] > 1) {
                share = op_ms[op] > 0 ? g[j].ms / op_ms[op] : 1.0 / op_groups[op];
                k.shared = 1;
            }
            k.flops += share * cost->flops[op];
            k.bytes += share * cost->bytes[op];
            if (op == RL_OP_ALLREDUCE) k.link_bytes += share * cost->comm_bytes; /* over the link, not HBM */
        }
        rc = rl_results_add_kernel(res, &k, err);
    }
    free(g);
    return rc;
}

/* One step of the engine: decode (tokens in, greedy tokens out) or a prefill of prompt. */
static int run_step(rl_engine *e, rl_phase phase, int64_t B, int64_t len, const int32_t *prompt, int32_t *tok,
                    int32_t *next, float *logits, rl_err *err)
{
    if (phase == RL_PHASE_DECODE) {
        if (rl_engine_decode(e, tok, NULL, next, err) || rl_engine_sync(e, err)) return -1;
        memcpy(tok, next, sizeof *tok * (size_t)B);
        return 0;
    }
    return rl_engine_prefill(e, 1, len, prompt, logits, 0, err) || rl_engine_sync(e, err) ? -1 : 0;
}

/* The first step of the log with records, -1 when none. */
static int first_step(const rl_kernel_log *log) { return log->n ? log->recs[0].step : -1; }

int rl_kernels_profile(rl_engine *e, rl_phase phase, int64_t x, int64_t input_len, uint64_t seed, rl_results *res,
                       rl_trace *trace, rl_err *err)
{
    if (!e->ops->set_profile)
        return rl_fail(err, "kernels: the %s engine has no per-kernel timing (set_profile)", e->ops->name);
    const int decode = phase == RL_PHASE_DECODE;
    const int warm = decode ? RL_KERNELS_WARM_STEPS : 1, timed = decode ? RL_KERNELS_TIMED_STEPS : 3,
              profiled = decode ? RL_KERNELS_PROFILED_STEPS : 2;
    int64_t B = decode ? x : 1, len = decode ? input_len : x;
    if (B > e->opts.max_batch || len > e->opts.max_prefill ||
        len + (decode ? RL_KERNELS_DECODE_STEPS : 0) + 1 > e->opts.max_context)
        return rl_fail(err, "kernels: %s x=%lld does not fit the engine (batch %lld, context %lld)",
                       rl_phase_name(phase), (long long)x, (long long)e->opts.max_batch,
                       (long long)e->opts.max_context);
    int32_t *prompt = malloc(sizeof *prompt * (size_t)(B * len)), *tok = malloc(sizeof *tok * (size_t)B),
            *next = malloc(sizeof *next * (size_t)B);
    float *logits = !decode ? malloc(sizeof *logits * (size_t)e->model.vocab) : NULL;
    double t_ms[8];
    rl_kernel_log log;
    memset(&log, 0, sizeof log);
    int rc = -1;
    uint64_t rng = seed ^ 0xC0FFEEull ^ (uint64_t)x;
    if (!prompt || !tok || !next || (!decode && !logits)) {
        rl_fail(err, "kernels: out of host memory");
        goto done;
    }
    rl_random_tokens(prompt, B * len, e->model.vocab, &rng);
    rl_random_tokens(tok, B, e->model.vocab, &rng);
    /* Warm runs first, so one-time costs (kernel choice, graph capture, first touch) stay out. */
    if (rl_engine_prefill(e, B, len, prompt, logits, 0, err) || rl_engine_sync(e, err)) goto done;
    for (int i = 0; i < warm; i++)
        if (run_step(e, phase, B, len, prompt, tok, next, logits, err)) goto done;
    /* The same step the normal way, as the sweep times it: the profile's rows are checked against it. */
    for (int i = 0; i < timed; i++) {
        const double t0 = rl_now_ms();
        if (run_step(e, phase, B, len, prompt, tok, next, logits, err)) goto done;
        t_ms[i] = rl_now_ms() - t0;
    }
    log.want = RL_PROFILE_TIMES;
    log.timing = RL_TIMING_EVENTS; /* engines that time on the host leave it so */
    e->ops->set_profile(e->state, &log);
    int frc = 0;
    for (int i = 0; i < profiled && !frc; i++) {
        frc = run_step(e, phase, B, len, prompt, tok, next, logits, err);
        rl_kernel_log_next_step(&log);
    }
    e->ops->set_profile(e->state, NULL);
    if (frc) goto done;
    if (log.n == 0) {
        rl_fail(err, "kernels: the %s engine recorded no kernels for the profiled step%s%s", e->ops->name,
                log.note[0] ? ": " : "", log.note);
        goto done;
    }
    {
        /* The profiled decode steps see the prompt plus the steps before them; the middle one's
         * context stands for all. */
        const int64_t ctx = input_len + warm + timed + profiled / 2;
        rl_workload w = decode ? rl_workload_decode(B, ctx) : rl_workload_prefill(1, x);
        rl_workload_set_dtype_name(&w, res->dtype);
        w.tp = e->opts.tp; /* a tensor-parallel profile is rank 0's: one GPU's share */
        rl_cost c;
        rl_cost_step(&e->model, &w, &c);
        const int first_row = res->n_kernels;
        if (rl_kernels_aggregate(&log, &c, phase, x, res, err)) goto done;
        rl_profile p;
        memset(&p, 0, sizeof p);
        p.phase = phase, p.x = x, p.timing = log.timing;
        for (int i = first_row; i < res->n_kernels; i++) p.kernels_ms += res->kernels[i].ms, p.kernels += res->kernels[i].calls;
        p.step_ms = rl_percentile(t_ms, timed, 50);
        p.steps = steps_of(&log);
        snprintf(p.note, sizeof p.note, "%s", log.note);
        if (rl_results_add_profile(res, &p, err)) goto done;
        if (trace) {
            char label[64];
            snprintf(label, sizeof label, "%s %s=%lld", rl_phase_name(phase), decode ? "B" : "L", (long long)x);
            if (rl_trace_add_step(trace, label, &log, first_step(&log), err)) goto done;
        }
        rc = 0;
    }
done:
    rl_kernel_log_free(&log);
    free(prompt), free(tok), free(next), free(logits);
    return rc;
}

void rl_kernels_print(const rl_results *res, FILE *f)
{
    rl_roofs roofs;
    int have = rl_results_roofs(res, &roofs) == 0;
    const double t_min = rl_results_kernel_min_us(res);
    int last_phase = -1;
    int64_t last_x = -1;
    double total = 0;
    for (int i = 0; i < res->n_kernels; i++) {
        const rl_kernel_row *k = &res->kernels[i];
        if ((int)k->phase != last_phase || k->x != last_x) {
            if (last_phase >= 0) fprintf(f, "  %-28s %5s %9.3f\n", "total", "", total);
            total = 0;
            last_phase = (int)k->phase, last_x = k->x;
            const rl_profile *pr = rl_results_profile(res, k->phase, k->x);
            fprintf(f, "\nper-kernel roofline: %s %s=%lld (%s roofs", rl_phase_name(k->phase),
                    k->phase == RL_PHASE_DECODE ? "batch" : "length", (long long)k->x, have ? "measured" : "no");
            if (t_min > 0) fprintf(f, ", latency roof %.2f us per kernel", t_min);
            if (pr)
                fprintf(f, "; timed with %s, %d step(s): rows sum %.3f ms, the step timed normally %.3f ms", rl_timing_name(pr->timing),
                        pr->steps, pr->kernels_ms, pr->step_ms);
            fprintf(f, ")\n");
            if (pr && pr->note[0]) fprintf(f, "  note: %s\n", pr->note);
            fprintf(f, "  %-28s %5s %9s %9s %9s %8s %7s %6s %-8s %s\n", "kernel", "calls", "ms", "GB/s", "TFLOP/s", "FLOP/B",
                    "roof%", "share", "bound", "ops");
        }
        double s = k->ms * 1e-3, ai = k->bytes > 0 ? k->flops / k->bytes : 0;
        char ops[160];
        rl_ops_text(k->op_mask, ops, sizeof ops);
        rl_bound bound = RL_BOUND_MEMORY;
        double roof_pct = have && k->ms > 0
                              ? 100 * rl_kernel_roof_ms(k->flops, k->bytes, k->calls, k->link_bytes, &roofs, t_min, &bound) / k->ms
                              : 0;
        double step_ms = 0;
        for (int j = 0; j < res->n_kernels; j++)
            if (res->kernels[j].phase == k->phase && res->kernels[j].x == k->x) step_ms += res->kernels[j].ms;
        fprintf(f, "  %-28.28s %5d %9.3f %9.1f %9.2f %8.1f %6.0f%% %5.1f%% %-8s %s%s\n", k->kernel, k->calls, k->ms,
                s > 0 ? k->bytes / s / 1e9 : 0, s > 0 ? k->flops / s / 1e12 : 0, ai, roof_pct,
                step_ms > 0 ? 100 * k->ms / step_ms : 0, rl_bound_names[bound], ops, k->shared ? " (shared)" : "");
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
