/* sections_md.c: report.md sections beyond the sweep tables: per-kernel roofline, telemetry,
 * violations (with the notes the reader must know) and provenance. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md_sections.h"

#define TOP_KERNELS 8

/* Achieved rates, bound and % of roof of a kernel: the file's numbers where given, else from its
 * FLOPs, bytes and time against the run's measured roofs (datasheet when none were measured). */
typedef struct {
    double intensity, gbps, tflops, roof_pct;
    const char *bound;
} kernel_rates;

static kernel_rates rates(const rl_report_run *r, const rl_report_kernel *k)
{
    kernel_rates q;
    double s = k->ms * 1e-3;
    q.intensity = !isnan(k->intensity) ? k->intensity : (k->bytes > 0 ? k->flops / k->bytes : NAN);
    q.gbps = !isnan(k->achieved_gbps) ? k->achieved_gbps : (s > 0 ? k->bytes / s * 1e-9 : NAN);
    q.tflops = !isnan(k->achieved_tflops) ? k->achieved_tflops : (s > 0 ? k->flops / s * 1e-12 : NAN);
    double bw = r->read_gbps > 0 ? r->read_gbps : r->ds_bandwidth_gbps;
    double peak = r->gemm_tflops > 0 ? r->gemm_tflops : r->ds_peak_tflops;
    if (k->bound[0]) q.bound = k->bound;
    else if (isnan(q.intensity) || !(bw > 0)) q.bound = "–";
    else q.bound = q.intensity >= peak * 1e3 / bw ? "compute" : "memory";
    q.roof_pct = k->roof_pct;
    if (isnan(q.roof_pct)) {
        if (!strcmp(q.bound, "memory")) q.roof_pct = 100 * q.gbps / bw;
        else if (!strcmp(q.bound, "compute")) q.roof_pct = 100 * q.tflops / peak;
    }
    return q;
}

typedef struct {
    double ms;
    int i;
} ranked;

static int by_ms_desc(const void *a, const void *b)
{
    double x = ((const ranked *)a)->ms, y = ((const ranked *)b)->ms;
    return (x < y) - (x > y);
}

static void kernel_group(rl_sbuf *b, const rl_report_run *r, rl_phase ph, int64_t x)
{
    ranked idx[1024];
    int n = 0;
    double total = 0;
    for (int i = 0; i < r->n_kernels && n < 1024; i++)
        if (r->kernels[i].phase == ph && r->kernels[i].x == x) {
            idx[n].ms = r->kernels[i].ms;
            idx[n++].i = i;
            total += r->kernels[i].ms;
        }
    qsort(idx, (size_t)n, sizeof *idx, by_ms_desc);
    char tb[32];
    rl_sbuf_printf(b, "#### %s %s %s=%lld: %d kernels, %s ms in all (top %d by time)\n\n", r->label,
                   rl_phase_name(ph), ph == RL_PHASE_DECODE ? "B" : "L", (long long)x, n,
                   rl_report_fmt_ms(total, tb, sizeof tb), n < TOP_KERNELS ? n : TOP_KERNELS);
    rl_sbuf_puts(b, "| kernel | ops | calls | ms | share | FLOP/B | achieved | % of roof | bound |\n"
                    "|---|---|---:|---:|---:|---:|---:|---:|---|\n");
    for (int j = 0; j < n && j < TOP_KERNELS; j++) {
        const rl_report_kernel *k = &r->kernels[idx[j].i];
        kernel_rates q = rates(r, k);
        char ms[32], share[32], ai[32], ach[48], pct[32];
        snprintf(ai, sizeof ai, isnan(q.intensity) ? "–" : "%.1f", q.intensity);
        if (!strcmp(q.bound, "compute")) snprintf(ach, sizeof ach, "%.1f TFLOP/s", q.tflops);
        else if (!isnan(q.gbps)) snprintf(ach, sizeof ach, "%.0f GB/s", q.gbps);
        else snprintf(ach, sizeof ach, "–");
        rl_sbuf_printf(b, "| %s | %s | %lld | %s | %s | %s | %s | %s | %s |\n", k->kernel, k->ops[0] ? k->ops : "–",
                       (long long)k->calls, rl_report_fmt_ms(k->ms, ms, sizeof ms),
                       rl_md_fmt_pct(total > 0 ? 100 * k->ms / total : NAN, share, sizeof share), ai, ach,
                       rl_md_fmt_pct(q.roof_pct, pct, sizeof pct), q.bound);
    }
    rl_sbuf_puts(b, "\n");
}

void rl_md_kernels(rl_sbuf *b, const rl_report_data *d)
{
    rl_sbuf_puts(b, "## Per-kernel roofline\n\n"
                    "Each kernel's FLOPs and bytes come from the same operator model as the predictions; achieved "
                    "GB/s (memory-bound) or TFLOP/s (compute-bound) = those ÷ its measured time; % of roof against "
                    "the run's measured roofs.\n\n");
    int any = 0;
    for (int i = 0; i < d->n_runs; i++) {
        const rl_report_run *r = &d->runs[i];
        for (int k = 0; k < r->n_kernels; k++) {
            int first = 1; /* one table per (phase, x), in the file's order */
            for (int j = 0; j < k; j++)
                if (r->kernels[j].phase == r->kernels[k].phase && r->kernels[j].x == r->kernels[k].x) first = 0;
            if (!first) continue;
            kernel_group(b, r, r->kernels[k].phase, r->kernels[k].x);
            any = 1;
        }
    }
    if (!any) rl_sbuf_puts(b, "No per-kernel timings in the inputs.\n\n");
}

static const char *fmt_stat(const rl_report_stat *s, const char *fmt1, char *buf, size_t n)
{
    if (isnan(s->median)) {
        snprintf(buf, n, "–");
        return buf;
    }
    char a[24], m[24], z[24];
    snprintf(a, sizeof a, fmt1, s->min);
    snprintf(m, sizeof m, fmt1, s->median);
    snprintf(z, sizeof z, fmt1, s->max);
    snprintf(buf, n, "%s / %s / %s", isnan(s->min) ? "–" : a, m, isnan(s->max) ? "–" : z);
    return buf;
}

void rl_md_telemetry(rl_sbuf *b, const rl_report_data *d)
{
    rl_sbuf_puts(b, "## Telemetry (NVML during the run: min / median / max)\n\n"
                    "A throttled GPU moves every point: compare the SM clock with the part's boost clock.\n\n"
                    "| GPU | SM clock (MHz) | memory clock (MHz) | power (W) | temperature (°C) |\n"
                    "|---|---:|---:|---:|---:|\n");
    int rows = 0;
    for (int i = 0; i < d->n_runs; i++) {
        const rl_report_run *r = &d->runs[i];
        if (r->source != RL_SRC_RESULTS) continue;
        char a[80], c[80], e[80], f[80];
        if (!r->have_telemetry) {
            rl_sbuf_printf(b, "| %s | not recorded | | | |\n", r->label);
        } else {
            rl_sbuf_printf(b, "| %s | %s | %s | %s | %s |\n", r->label, fmt_stat(&r->sm_clock_mhz, "%.0f", a, 80),
                           fmt_stat(&r->mem_clock_mhz, "%.0f", c, 80), fmt_stat(&r->power_w, "%.0f", e, 80),
                           fmt_stat(&r->temp_c, "%.0f", f, 80));
        }
        rows++;
    }
    if (!rows) rl_sbuf_puts(b, "| (no results files) | | | | |\n");
    rl_sbuf_puts(b, "\n");
}

void rl_md_violations(rl_sbuf *b, const rl_report_data *d)
{
    rl_sbuf_puts(b, "## Violations\n\n"
                    "A workload of F FLOPs and B bytes cannot take less than floor = max(F ÷ peak, B ÷ bandwidth) "
                    "on the GPU's datasheet roofs. Decode: one step at batch x, context 160, compared with the "
                    "per-step ms; imported decode values (whole run ÷ output tokens, which is never below one "
                    "step) are held to the same per-step floor. Prefill: the whole prefill at length x. A point "
                    "exactly at the floor is possible; anything below it is not.\n\n");
    if (!d->n_violations) {
        rl_sbuf_puts(b, "None: every checked measurement is at or above its floor.\n\n");
    } else {
        rl_sbuf_puts(b, "| GPU | sweep | x | measured (ms) | floor (ms) | reason |\n|---|---|---:|---:|---:|---|\n");
        for (int i = 0; i < d->n_violations; i++) {
            const rl_report_violation *v = &d->violations[i];
            char m[32], f[32];
            rl_sbuf_printf(b, "| %s | %s | %lld | %s ⚠ | %s | %s |\n", v->label, rl_phase_name(v->sweep),
                           (long long)v->x, rl_report_fmt_ms(v->ms, m, sizeof m),
                           rl_report_fmt_ms(v->floor_ms, f, sizeof f), v->reason);
        }
        rl_sbuf_puts(b, "\n");
    }
    if (d->n_notes) {
        rl_sbuf_puts(b, "Notes:\n\n");
        for (int i = 0; i < d->n_notes; i++) rl_sbuf_printf(b, "- %s\n", d->notes[i]);
        rl_sbuf_puts(b, "\n");
    }
}

static const char *or_dash(const char *s) { return s && s[0] ? s : "–"; }

void rl_md_provenance(rl_sbuf *b, const rl_report_data *d)
{
    rl_sbuf_puts(b, "## Provenance\n\n");
    for (int i = 0; i < d->n_runs; i++) {
        const rl_report_run *r = &d->runs[i];
        if (r->source == RL_SRC_PREDICTED) continue;
        rl_sbuf_printf(b, "- **%s**: `%s`\n", r->label, r->path);
        if (r->source == RL_SRC_CSV) {
            rl_sbuf_printf(b, "  - imported CSV, GPU '%s' (%s), %d points; model assumed %s bf16\n", r->device_name,
                           r->gpu_idx >= 0 ? "in the GPU table" : "not in the GPU table", r->n_points,
                           r->model_name);
            if (r->csv_comment[0]) rl_sbuf_printf(b, "  - file says: %s\n", r->csv_comment);
            continue;
        }
        char roofs[128];
        if (isnan(r->read_gbps)) snprintf(roofs, sizeof roofs, "not measured");
        else snprintf(roofs, sizeof roofs, "%.0f GB/s read, %.1f TFLOP/s GEMM", r->read_gbps, r->gemm_tflops);
        rl_sbuf_printf(b,
                       "  - engine %s; device %s (backend %s, table row %s); driver %s; CUDA runtime %s\n"
                       "  - model %s (%s, weights %s); measured roofs: %s\n"
                       "  - ridgeline %s, commit %s, date %s\n  - command: `%s`\n",
                       r->engine, r->device_name, or_dash(r->backend), r->gpu_idx >= 0 ? r->gpu : "none",
                       or_dash(r->driver), or_dash(r->cuda_runtime), r->model_name, rl_dtype_names[r->dtype],
                       or_dash(r->weights), roofs, or_dash(r->version), or_dash(r->commit), or_dash(r->date),
                       or_dash(r->command));
    }
    int any_pred = 0;
    for (int i = 0; i < d->n_runs; i++) any_pred |= d->runs[i].source == RL_SRC_PREDICTED;
    if (any_pred)
        rl_sbuf_puts(b, "- **predicted rows**: the cost model (src/predict, docs/cost-model.md) on the GPU table's "
                        "datasheet roofs, bf16; nothing measured.\n");
    rl_sbuf_puts(b, "\n");
}
