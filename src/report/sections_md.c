/* sections_md.c: report.md sections beyond the sweep tables: per-kernel roofline, telemetry,
 * violations (with the notes the reader must know) and provenance. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md_sections.h"

#define TOP_KERNELS 8

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
    const rl_profile *p = rl_report_profile(r, ph, x);
    if (p) {
        char km[32], sm[32];
        if (p->timing == RL_TIMING_CUPTI)
            rl_sbuf_printf(b, "Timed with CUPTI activity records of the real step (graph replay, PDL on), %d step(s): "
                              "the rows add up to %s ms against %s ms for the step timed the normal way in the same "
                              "run (%+.1f%%).",
                           p->steps, rl_report_fmt_ms(p->kernels_ms, km, sizeof km),
                           rl_report_fmt_ms(p->step_ms, sm, sizeof sm),
                           p->step_ms > 0 ? 100 * (p->kernels_ms - p->step_ms) / p->step_ms : NAN);
        else
            rl_sbuf_printf(b, "**Timed with events** (%s), %d step(s): the rows add up to %s ms against %s ms for the "
                              "step timed the normal way in the same run.",
                           strcmp(r->backend, "cpu") ? "around eager, serialised launches: no graph, no PDL, each "
                                                       "kernel with its own launch and drain"
                                                     : "the host clock around each operator of the CPU engine",
                           p->steps, rl_report_fmt_ms(p->kernels_ms, km, sizeof km),
                           rl_report_fmt_ms(p->step_ms, sm, sizeof sm));
        if (p->note[0]) rl_sbuf_printf(b, " Note: %s.", p->note);
        rl_sbuf_puts(b, "\n\n");
    }
    rl_sbuf_puts(b, "| kernel | ops | calls | ms | share | FLOP/B | achieved | % of roof | bound |\n"
                    "|---|---|---:|---:|---:|---:|---:|---:|---|\n");
    for (int j = 0; j < n && j < TOP_KERNELS; j++) {
        const rl_report_kernel *k = &r->kernels[idx[j].i];
        /* rates, bound and % of roof against the run's roofs, as derive.c set them */
        const char *bound = k->bound[0] ? k->bound : "–";
        char ms[32], share[32], ai[32], ach[48], pct[64];
        snprintf(ai, sizeof ai, isnan(k->intensity) ? "–" : "%.1f", k->intensity);
        if (!strcmp(bound, "compute")) snprintf(ach, sizeof ach, "%.1f TFLOP/s", k->achieved_tflops);
        else if (!isnan(k->achieved_gbps)) snprintf(ach, sizeof ach, "%.0f GB/s", k->achieved_gbps);
        else snprintf(ach, sizeof ach, "–");
        rl_md_fmt_pct(k->roof_pct, pct, sizeof pct);
        if (!strcmp(bound, "latency")) {
            size_t l = strlen(pct);
            snprintf(pct + l, sizeof pct - l, " (at the latency roof)");
        }
        rl_sbuf_printf(b, "| %s | %s | %lld | %s | %s | %s | %s | %s | %s |\n", k->kernel, k->ops[0] ? k->ops : "–",
                       (long long)k->calls, rl_report_fmt_ms(k->ms, ms, sizeof ms),
                       rl_md_fmt_pct(total > 0 ? 100 * k->ms / total : NAN, share, sizeof share), ai, ach, pct, bound);
    }
    rl_sbuf_puts(b, "\n");
}

void rl_md_kernels(rl_sbuf *b, const rl_report_data *d)
{
    rl_sbuf_puts(b, "## Per-kernel roofline\n\n"
                    "Each kernel's FLOPs and bytes come from the same operator model as the predictions; achieved "
                    "GB/s (memory-bound) or TFLOP/s (compute-bound) = those ÷ its measured time. % of roof is against "
                    "the binding one of three roofs: bytes ÷ the measured bandwidth, FLOPs ÷ the measured GEMM roof, "
                    "and the latency roof: calls × t_min, the shortest time a kernel node takes in a CUDA graph "
                    "chained with PDL (the probe's `kernel_min_us`). A 16 KB RMSNorm cannot beat t_min however "
                    "little it moves: it reads \"at the latency roof\", not as a fraction of the bandwidth. A "
                    "kernel's ms is its share of the step: from the end of the kernel before it to its own end, so "
                    "the rows of one step add up to its time on the GPU.\n\n");
    int any = 0;
    for (int i = 0; i < d->n_runs; i++) {
        const rl_report_run *r = &d->runs[i];
        if (r->kernel_min_us > 0)
            rl_sbuf_printf(b, "%s: latency roof t_min = %.2f us per kernel (measured).\n\n", r->label, r->kernel_min_us);
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

void rl_md_kernel_choices(rl_sbuf *b, const rl_report_data *d)
{
    int any = 0;
    for (int i = 0; i < d->n_runs; i++) any |= d->runs[i].res.n_choices > 0;
    if (!any) return;
    rl_sbuf_puts(b, "## Projection kernels chosen\n\n"
                    "Which kernel ran each projection shape Y[tokens, n] = X[tokens, k] W[n, k]ᵀ (gate/up: n is each "
                    "half), as the engine decided it once per shape by timing the kernels that apply on its code "
                    "path (results.json `kernel_choices`); *other* is the best of the kernels it did not pick. "
                    "Tokens = the decode batch or the prefill chunk.\n\n");
    for (int i = 0; i < d->n_runs; i++) {
        const rl_report_run *r = &d->runs[i];
        if (!r->res.n_choices) continue;
        rl_sbuf_printf(b, "### %s\n\n| op | tokens | n × k | kernel | ms | other ms |\n|---|---:|---:|---|---:|---:|\n",
                       r->label);
        for (int j = 0; j < r->res.n_choices; j++) {
            const rl_linear_choice *c = &r->res.choices[j];
            char ms[32], alt[32];
            rl_sbuf_printf(b, "| %s | %d | %d × %d | %s | %s | %s |\n", c->op, c->tokens, c->n, c->k, c->kernel,
                           rl_report_fmt_ms(c->ms >= 0 ? c->ms : NAN, ms, sizeof ms),
                           rl_report_fmt_ms(c->alt_ms >= 0 ? c->alt_ms : NAN, alt, sizeof alt));
        }
        rl_sbuf_puts(b, "\n");
    }
}

void rl_md_ncu_check(rl_sbuf *b, const rl_report_data *d)
{
    rl_sbuf_puts(b, "## Bytes: the cost model against the DRAM counters\n\n");
    if (!d->n_ncu) {
        rl_sbuf_puts(b, "No counters check beside the results (scripts/ncu-check.sh writes ncu-check.json: Nsight "
                        "Compute's dram__bytes_read.sum + dram__bytes_write.sum over one graphed decode step at B = 1 "
                        "and 64 and one prefill at L = 1024).\n\n");
        return;
    }
    rl_sbuf_printf(b, "Nsight Compute's `dram__bytes_read.sum + dram__bytes_write.sum` over every kernel of one step, "
                      "each kernel tied to the engine launch it came from and its bytes shared among that launch's "
                      "operators by their modelled bytes, against the cost model's bytes of the same step "
                      "(`%s`). DRAM below the model: data served from the L2 (activations a kernel reads right after "
                      "another wrote them); above: re-reads the model does not count.\n\n",
                   d->ncu_source);
    rl_sbuf_puts(b, "| GPU | step | model (GB) | DRAM (GB) | DRAM vs model |\n|---|---|---:|---:|---:|\n");
    for (int i = 0; i < d->n_ncu; i++) {
        const rl_report_ncu_case *c = &d->ncu[i];
        char pct[32];
        rl_sbuf_printf(b, "| %s | %s %s=%lld | %.3f | %.3f | %s |\n", c->gpu, rl_phase_name(c->phase),
                       c->phase == RL_PHASE_DECODE ? "B" : "L", (long long)c->x, c->model_bytes * 1e-9,
                       c->dram_bytes * 1e-9,
                       rl_md_fmt_pct(c->model_bytes > 0 ? 100 * (c->dram_bytes - c->model_bytes) / c->model_bytes : NAN,
                                     pct, sizeof pct));
    }
    rl_sbuf_puts(b, "\nPer operator (MB, model / DRAM):\n\n| op |");
    for (int i = 0; i < d->n_ncu; i++)
        rl_sbuf_printf(b, " %s %s=%lld |", rl_phase_name(d->ncu[i].phase), d->ncu[i].phase == RL_PHASE_DECODE ? "B" : "L",
                       (long long)d->ncu[i].x);
    rl_sbuf_puts(b, "\n|---|");
    for (int i = 0; i < d->n_ncu; i++) rl_sbuf_puts(b, "---:|");
    rl_sbuf_puts(b, "\n");
    for (int op = 0; op < RL_OP_COUNT; op++) {
        int any = 0; /* the all-reduces have no HBM model bytes: a row only where a file gives one */
        for (int i = 0; i < d->n_ncu; i++) any |= !isnan(d->ncu[i].op_model_bytes[op]);
        if (op == RL_OP_ALLREDUCE && !any) continue;
        rl_sbuf_printf(b, "| %s |", rl_op_names[op]);
        for (int i = 0; i < d->n_ncu; i++) {
            const rl_report_ncu_case *c = &d->ncu[i];
            if (isnan(c->op_model_bytes[op])) rl_sbuf_puts(b, " – |");
            else rl_sbuf_printf(b, " %.2f / %.2f |", c->op_model_bytes[op] * 1e-6, c->op_dram_bytes[op] * 1e-6);
        }
        rl_sbuf_puts(b, "\n");
    }
    if (d->ncu_command[0]) rl_sbuf_printf(b, "\nCommand: `%.500s`\n", d->ncu_command);
    rl_sbuf_puts(b, "\n");
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
