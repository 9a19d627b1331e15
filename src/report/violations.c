/* violations.c: measurements faster than physics allows. A workload of F FLOPs and B bytes
 * cannot finish on a GPU in less than max(F / peak, B / bandwidth) at the datasheet roofs; a
 * measurement below that floor means the workload was not what it claims (prefix caching, a
 * reused KV cache, a wrong GPU or model) or the timing is wrong. docs/report.md states the rule. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_model.h"

double rl_report_floor_ms(double flops, double bytes, double peak_tflops, double bandwidth_gbps)
{
    const rl_roofs datasheet = {.bandwidth_gbps = bandwidth_gbps, .peak_tflops = peak_tflops, .origin = "datasheet"};
    return rl_roof_time_ms(flops, bytes, &datasheet);
}

int rl_report_is_violation(double ms, double floor_ms)
{
    /* Strict, with a relative 1e-9 so a point computed exactly at the floor (rounding included)
     * stays possible; 1% under is already impossible. */
    return ms > 0 && floor_ms > 0 && ms < floor_ms * (1 - 1e-9);
}

static void reason(const rl_report_run *r, const rl_report_point *p, double value, char *out, size_t n)
{
    double t_flops_ms = 1e3 * p->flops / (r->ds_peak_tflops * 1e12);
    double t_bytes_ms = 1e3 * p->bytes / (r->ds_bandwidth_gbps * 1e9);
    int compute = t_flops_ms >= t_bytes_ms;
    const char *hint = p->sweep == RL_PHASE_PREFILL ? "prefix caching or a reused KV cache?"
                                                    : "cached weights, a smaller model or fewer tokens than stated?";
    int k;
    if (compute)
        k = snprintf(out, n, "%.3g FLOPs need ≥ %.3g ms at %g TFLOP/s; measured %.4g ms (%s)", p->flops,
                     t_flops_ms, r->ds_peak_tflops, value, hint);
    else
        k = snprintf(out, n, "%.3g bytes need ≥ %.3g ms at %g GB/s; measured %.4g ms (%s)", p->bytes, t_bytes_ms,
                     r->ds_bandwidth_gbps, value, hint);
    if (k > 0 && (size_t)k < n && p->context_sweep)
        snprintf(out + k, n - (size_t)k, "; decode batch %lld at context %lld", (long long)p->x, (long long)p->context);
    else if (k > 0 && (size_t)k < n && isnan(p->ms))
        snprintf(out + k, n - (size_t)k,
                 "; imported value is whole run / output tokens, which is ≥ one step, so the per-step floor "
                 "(batch %lld, context %lld) applies",
                 (long long)p->x, (long long)p->context);
}

static int add_violation(rl_report_data *d, const rl_report_run *r, const rl_report_point *p, double value,
                         rl_err *err)
{
    /* Capacity doubles (it is the next power of two of the count): one realloc per row is quadratic. */
    int n = d->n_violations;
    if ((n & (n - 1)) == 0) {
        rl_report_violation *grown = realloc(d->violations, sizeof *grown * (size_t)(n ? 2 * n : 1));
        if (!grown) return rl_fail(err, "out of memory");
        d->violations = grown;
    }
    rl_report_violation *v = &d->violations[d->n_violations++];
    memset(v, 0, sizeof *v);
    snprintf(v->gpu, sizeof v->gpu, "%s", r->gpu);
    snprintf(v->label, sizeof v->label, "%s", r->label);
    v->source = r->source;
    v->sweep = p->sweep;
    v->x = p->x;
    v->ms = value;
    v->floor_ms = p->floor_ms;
    reason(r, p, value, v->reason, sizeof v->reason);
    return 0;
}

int rl_report_find_violations(rl_report_data *d, rl_err *err)
{
    for (int i = 0; i < d->n_runs; i++) {
        rl_report_run *r = &d->runs[i];
        if (r->source == RL_SRC_PREDICTED || r->n_points == 0) continue;
        if (r->gpu_idx < 0) {
            rl_report_note(d,
                           "%s (%s) is not in the GPU table: its points cannot be checked against datasheet roofs "
                           "(no violations reported; add it with --gpu-file)",
                           r->label, r->path);
            continue;
        }
        if (!(r->ds_peak_tflops > 0 && r->ds_bandwidth_gbps > 0)) continue; /* noted in derive.c */
        for (int k = 0; k < r->n_points; k++) {
            rl_report_point *p = &r->points[k];
            double value = rl_report_point_value(p);
            if (isnan(value)) continue;
            if (!(p->flops > 0 && p->bytes > 0)) {
                rl_report_note(d, "%s: %s x=%lld has no FLOPs/bytes (model unknown): not checked", r->label,
                               rl_phase_name(p->sweep), (long long)p->x);
                continue;
            }
            p->floor_ms = rl_report_floor_ms(p->flops, p->bytes, r->ds_peak_tflops, r->ds_bandwidth_gbps);
            p->violation = rl_report_is_violation(value, p->floor_ms);
            if (p->violation && add_violation(d, r, p, value, err)) return -1;
        }
    }
    return 0;
}
