/* kernel_match.c: kernels as the GPU ran them (CUPTI activity records, Nsight Compute launches)
 * matched to the launches the engine made (engine.h). Pure functions: unit-tested on synthetic
 * records (tests/test_kernel_match.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static int by_start(const void *a, const void *b)
{
    const rl_kernel_activity *x = a, *y = b;
    if (x->start_ns != y->start_ns) return x->start_ns < y->start_ns ? -1 : 1;
    return (x->end_ns > y->end_ns) - (x->end_ns < y->end_ns);
}

int rl_kernel_assign(const rl_launch_plan *plan, rl_kernel_activity *acts, int n, rl_err *err)
{
    if (n > 1) qsort(acts, (size_t)n, sizeof *acts, by_start);
    int correlated = 0;
    for (int i = 0; i < n; i++) correlated |= acts[i].launch >= 0;
    if (correlated) {
        int kept = 0;
        for (int i = 0; i < n; i++) {
            if (acts[i].launch >= plan->n) acts[i].launch = -1;
            kept += acts[i].launch >= 0;
        }
        return kept;
    }
    int want = 0;
    for (int j = 0; j < plan->n; j++) {
        if (plan->v[j].n_kernels <= 0)
            return rl_fail(err, "launch %d (%s) of the plan has no known kernel count, and the %d kernels carry no "
                                "launch of their own",
                           j, plan->v[j].kernel, n);
        want += plan->v[j].n_kernels;
    }
    if (want != n)
        return rl_fail(err, "%d kernels ran, the plan's %d launches account for %d", n, plan->n, want);
    int k = 0;
    for (int j = 0; j < plan->n; j++)
        for (int c = 0; c < plan->v[j].n_kernels; c++) acts[k++].launch = j;
    return n;
}

int rl_kernel_log_activities(rl_kernel_log *log, const rl_launch_plan *plan, const rl_kernel_activity *acts, int n,
                             rl_err *err)
{
    uint64_t t0 = 0, prev_end = 0;
    int first = 1;
    for (int i = 0; i < n; i++) {
        const rl_kernel_activity *a = &acts[i];
        if (a->launch < 0 || a->launch >= plan->n) continue;
        if (first) t0 = prev_end = a->start_ns, first = 0;
        const rl_plan_entry *l = &plan->v[a->launch];
        rl_kernel_record r;
        memset(&r, 0, sizeof r);
        snprintf(r.kernel, sizeof r.kernel, "%s", l->kernel);
        snprintf(r.symbol, sizeof r.symbol, "%s", a->symbol);
        r.op_mask = l->op_mask;
        r.layer = l->layer;
        /* From the end of everything before it to its own end: latency and any gap before the
         * kernel count as its own; time it overlaps its predecessor (PDL) counts once. */
        r.ms = a->end_ns > prev_end ? (double)(a->end_ns - prev_end) * 1e-6 : 0;
        r.busy_ms = a->end_ns > a->start_ns ? (double)(a->end_ns - a->start_ns) * 1e-6 : 0;
        r.start_ms = a->start_ns > t0 ? (double)(a->start_ns - t0) * 1e-6 : 0;
        r.step = log->steps;
        r.launch = (int)a->launch;
        if (a->end_ns > prev_end) prev_end = a->end_ns;
        if (rl_kernel_log_add(log, &r, err)) return -1;
    }
    log->launches = plan->n;
    return 0;
}
