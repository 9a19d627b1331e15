/* tp_scaling.c: tensor-parallel scaling in the report: for one GPU and model measured at several TP
 * degrees (results files of `lab --tp N`), one workload's step time against the GPU count beside
 * the cost model's three roofs per GPU at each degree: compute (FLOPs / peak), memory (bytes /
 * bandwidth) and communication (all-reduces x latency + link bytes / link bandwidth), with the
 * roofs of each run (its probe where measured, the GPU table's otherwise). The chart of it is
 * charts_gnuplot.c's "scaling"; report.json carries it as "tp_scaling". */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../common/util.h"
#include "md_sections.h"
#include "report_model.h"

int rl_report_tp_of(const rl_report_run *r) { return r->res.tp > 1 ? r->res.tp : 1; }

/* Our measured runs, the ones a TP series is made of. */
static int measured_run(const rl_report_run *r)
{
    return r->source == RL_SRC_RESULTS && r->have_model && !strcmp(r->engine, "ridgeline");
}

static int same_group(const rl_report_run *a, const rl_report_run *b)
{
    return rl_name_eq(a->gpu, b->gpu) && !strcmp(a->model_name, b->model_name) && a->dtype == b->dtype;
}

/* The run's measured point of (phase, x): decode at the run's own context (its seed-style run). */
static const rl_report_point *point_of(const rl_report_run *r, rl_phase phase, int64_t x)
{
    const rl_report_point *any = NULL;
    const int64_t ctx = rl_decode_context(r->res.input_len > 0 ? r->res.input_len : RL_SEED_INPUT_LEN,
                                          r->res.output_len > 0 ? r->res.output_len : RL_SEED_OUTPUT_LEN);
    for (int i = 0; i < r->n_points; i++) {
        const rl_report_point *p = &r->points[i];
        if (p->sweep != phase || p->x != x || !p->ok || !(p->ms > 0)) continue;
        if (phase == RL_PHASE_PREFILL || p->context == ctx) return p;
        if (!any) any = p;
    }
    return any;
}

/* The roofs a run's predictions use: measured where its probe measured, else the datasheet's. */
static int run_roofs(const rl_report_run *r, rl_roofs *out)
{
    if (rl_results_roofs(&r->res, out) == 0) return 0;
    rl_err err;
    return r->gpu_idx >= 0 ? rl_roofs_from_gpu(&r->res.datasheet, r->dtype, out, &err) : -1;
}

static void fill_point(const rl_report_run *r, int run, const rl_report_point *p, rl_report_tp_point *t)
{
    memset(t, 0, sizeof *t);
    t->gpus = rl_report_tp_of(r), t->run = run, t->ms = p->ms;
    t->predicted_ms = t->compute_ms = t->memory_ms = t->comm_ms = NAN;
    rl_roofs roofs;
    if (run_roofs(r, &roofs)) return;
    rl_cost c;
    rl_prediction pr;
    rl_report_cost(r, p->sweep, p->x, p->context, &c);
    rl_predict(&c, &roofs, &pr);
    t->predicted_ms = pr.total_ms, t->compute_ms = pr.compute_ms, t->memory_ms = pr.memory_ms, t->comm_ms = pr.comm_ms;
    t->bound = pr.bound;
}

/* One series: every degree of the group (runs[first] and those like it) that measured (phase, x),
 * one run per degree (the first given). */
static void add_series(rl_report_data *d, int first, rl_phase phase, int64_t x)
{
    if (d->n_tp == RL_REPORT_MAX_TP_SERIES) return;
    rl_report_tp_series *s = &d->tp[d->n_tp];
    memset(s, 0, sizeof *s);
    snprintf(s->gpu, sizeof s->gpu, "%s", d->runs[first].gpu);
    snprintf(s->model, sizeof s->model, "%s", d->runs[first].model_name);
    s->phase = phase, s->x = x;
    for (int i = first; i < d->n_runs && s->n < RL_REPORT_MAX_TP; i++) {
        const rl_report_run *r = &d->runs[i];
        if (!measured_run(r) || !same_group(r, &d->runs[first])) continue;
        const rl_report_point *p = point_of(r, phase, x);
        int dup = 0;
        for (int k = 0; k < s->n; k++) dup |= s->pts[k].gpus == rl_report_tp_of(r);
        if (!p || dup) continue;
        int at = s->n++; /* insertion by GPU count */
        while (at > 0 && s->pts[at - 1].gpus > rl_report_tp_of(r)) s->pts[at] = s->pts[at - 1], at--;
        fill_point(r, i, p, &s->pts[at]);
    }
    if (s->n >= 2) d->n_tp++;
}

/* x values of phase every degree of the group measured: the smallest and the largest (decode), the
 * largest (prefill). */
static void shared_x(const rl_report_data *d, int first, rl_phase phase, int64_t *lo, int64_t *hi)
{
    *lo = *hi = -1;
    const rl_report_run *f = &d->runs[first];
    for (int i = 0; i < f->n_points; i++) {
        const int64_t x = f->points[i].x;
        if (f->points[i].sweep != phase || !point_of(f, phase, x)) continue;
        int everywhere = 1;
        for (int j = first + 1; j < d->n_runs && everywhere; j++)
            if (measured_run(&d->runs[j]) && same_group(&d->runs[j], f)) everywhere = point_of(&d->runs[j], phase, x) != NULL;
        if (!everywhere) continue;
        if (*lo < 0 || x < *lo) *lo = x;
        if (x > *hi) *hi = x;
    }
}

void rl_report_tp_scaling(rl_report_data *d)
{
    d->n_tp = 0;
    for (int i = 0; i < d->n_runs; i++) {
        const rl_report_run *r = &d->runs[i];
        if (!measured_run(r)) continue;
        int earlier = 0, degrees = 0; /* the group's first run starts it; it needs two degrees */
        unsigned seen = 0;
        for (int j = 0; j < d->n_runs; j++) {
            if (!measured_run(&d->runs[j]) || !same_group(&d->runs[j], r)) continue;
            if (j < i) earlier = 1;
            const int g = rl_report_tp_of(&d->runs[j]);
            if (g < 32 && !(seen & (1u << g))) seen |= 1u << g, degrees++;
        }
        if (earlier || degrees < 2) continue;
        int64_t lo, hi;
        shared_x(d, i, RL_PHASE_DECODE, &lo, &hi);
        if (lo > 0) add_series(d, i, RL_PHASE_DECODE, lo);
        if (hi > lo) add_series(d, i, RL_PHASE_DECODE, hi);
        shared_x(d, i, RL_PHASE_PREFILL, &lo, &hi);
        if (hi > 0) add_series(d, i, RL_PHASE_PREFILL, hi);
    }
}

void rl_md_tp_scaling(rl_sbuf *b, const rl_report_data *d)
{
    if (!d->n_tp) return;
    rl_sbuf_puts(b, "## Tensor parallel: step time vs GPUs\n\n"
                    "One workload per table, measured at every TP degree given (`lab --tp N`), beside the cost "
                    "model per GPU at that degree: compute = FLOPs ÷ peak, memory = bytes ÷ bandwidth, "
                    "communication = all-reduces × latency + link bytes ÷ link bandwidth (2 per layer; the "
                    "probe's NCCL figures where measured, else the GPU table's), predicted = the roofline sum "
                    "of every operator plus the communication. Speedup and efficiency are against the "
                    "fewest GPUs measured.\n\n");
    char a[24], p[24], c[24], m[24], k[24], sp[24], ef[24];
    for (int i = 0; i < d->n_tp; i++) {
        const rl_report_tp_series *s = &d->tp[i];
        rl_sbuf_printf(b, "**%s, %s, %s %s=%lld**\n\n", s->gpu, s->model, rl_phase_name(s->phase),
                       s->phase == RL_PHASE_DECODE ? "B" : "L", (long long)s->x);
        rl_sbuf_puts(b, "| GPUs | measured ms | predicted ms | compute ms | memory ms | communication ms | bound | "
                        "speedup | efficiency |\n|---:|---:|---:|---:|---:|---:|---|---:|---:|\n");
        const rl_report_tp_point *base = &s->pts[0];
        for (int j = 0; j < s->n; j++) {
            const rl_report_tp_point *t = &s->pts[j];
            const double speedup = base->ms / t->ms, eff = speedup * base->gpus / t->gpus;
            rl_sbuf_printf(b, "| %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", t->gpus,
                           rl_report_fmt_ms(t->ms, a, sizeof a), rl_report_fmt_ms(t->predicted_ms, p, sizeof p),
                           rl_report_fmt_ms(t->compute_ms, c, sizeof c), rl_report_fmt_ms(t->memory_ms, m, sizeof m),
                           rl_report_fmt_ms(t->comm_ms, k, sizeof k),
                           isnan(t->predicted_ms) ? "–" : rl_bound_names[t->bound],
                           rl_report_fmt_ms(speedup, sp, sizeof sp), rl_md_fmt_pct(100 * eff, ef, sizeof ef));
        }
        rl_sbuf_puts(b, "\n");
    }
}
