/* charts_gnuplot.c: the report's charts, one registry entry each (charts[] below):
 *   figure1  decode ms vs batch | prefill ms vs length, like the seed's Figure 1: our rows and the
 *            cost model (imported rows only when there is nothing else to draw);
 *   roofline attainable TFLOP/s vs FLOP/byte: every kernel (labelled by its operators; decode and
 *            prefill kernels in different marks) under its latency roof (a cap at FLOPs ÷ (calls x
 *            t_min)), every sweep point, the measured and datasheet roofs;
 *   seed     the imported rows (the seed's vLLM numbers) beside ours, in their own chart;
 *   scaling  tensor parallel: step time vs GPU count against the compute, memory and communication
 *            roofs per GPU (tp_scaling.c), one panel per workload, when results of several TP degrees
 *            of one GPU and model are given.
 * Each chart is a self-contained gnuplot script (data inline) kept in the output directory, so a
 * reader can restyle and re-run it; the script is rendered to SVG and PNG (pngcairo, else libgd). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/util.h"
#include "report_model.h"
#include "sbuf.h"

typedef struct {
    rl_sbuf data; /* inline datablocks */
    rl_sbuf plot; /* the clauses of one plot command */
    int n_blocks, n_clauses;
} chart;

static int block_begin(chart *c)
{
    int id = c->n_blocks++;
    rl_sbuf_printf(&c->data, "$d%d << EOD\n", id);
    return id;
}

static void block_end(chart *c) { rl_sbuf_puts(&c->data, "EOD\n"); }

static void clause(chart *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void clause(chart *c, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    rl_sbuf_puts(&c->plot, c->n_clauses++ ? ", \\\n     " : "plot ");
    rl_sbuf_puts(&c->plot, tmp);
}

/* Every string that reaches a script (GPU and engine names come from files we did not write) as
 * inert text: a newline would end the string and the command, so the next line runs as gnuplot
 * (`system(...)` included) or ends a datablock; a backquote is command substitution even inside
 * double quotes; quotes and backslashes end or escape the string. Each of them becomes '_'. */
static const char *gp_text(const char *s, char *buf, size_t n)
{
    size_t j = 0;
    for (; *s && j + 1 < n; s++) {
        unsigned char c = (unsigned char)*s;
        int inert = c >= 0x20 && c != 0x7f && c != '"' && c != '\'' && c != '\\' && c != '`';
        buf[j++] = inert ? (char)c : '_';
    }
    buf[j] = 0;
    return buf;
}

/* Numbers reach a script only finite: gnuplot reads "inf" and "nan" as undefined variables. */
static int finite2(double a, double b) { return isfinite(a) && isfinite(b); }

/* One colour per GPU across every chart; the seed's four keep fixed colours. */
static const char *gpu_color(const rl_report_data *d, const char *gpu)
{
    static const char *const fixed[][2] = {
        {"H200", "#1f77b4"}, {"H100", "#2ca02c"}, {"A100-PCIe", "#ff7f0e"}, {"L40S", "#9467bd"}};
    static const char *const others[] = {"#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22", "#d62728"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (rl_name_eq(fixed[i][0], gpu)) return fixed[i][1];
    int k = 0; /* the k-th distinct other GPU in row order */
    for (int i = 0; i < d->n_runs; i++) {
        const char *g = d->runs[i].gpu;
        int seen = 0, fixed_gpu = 0;
        for (int j = 0; j < i; j++) seen |= rl_name_eq(d->runs[j].gpu, g);
        for (size_t f = 0; f < sizeof fixed / sizeof fixed[0]; f++) fixed_gpu |= rl_name_eq(fixed[f][0], g);
        if (seen || fixed_gpu) continue;
        if (rl_name_eq(g, gpu)) return others[k % (int)(sizeof others / sizeof others[0])];
        k++;
    }
    return others[0];
}

/* Imported rows go to their own chart (seed) when the report has rows of its own to draw. */
static int has_results(const rl_report_data *d)
{
    for (int i = 0; i < d->n_runs; i++)
        if (d->runs[i].source == RL_SRC_RESULTS) return 1;
    return 0;
}

static int on_main_charts(const rl_report_data *d, const rl_report_run *r)
{
    return r->source != RL_SRC_CSV || !has_results(d);
}

/* Whether a chart shows a violation: the seed chart those of the imported rows, the others those
 * of the runs drawn on them (violations_block draws the same rows). */
static int any_violation(const rl_report_data *d, int seed_chart)
{
    for (int i = 0; i < d->n_runs; i++) {
        const rl_report_run *r = &d->runs[i];
        if (seed_chart ? r->source != RL_SRC_CSV : !on_main_charts(d, r)) continue;
        for (int k = 0; k < r->n_points; k++)
            if (r->points[k].violation) return 1;
    }
    return 0;
}

/* ---- figure 1 ------------------------------------------------------------------------------ */

typedef enum { VAL_MEASURED, VAL_PREDICTED } val_kind;

/* Writes one series of a run for one sweep; returns the block id or -1 when it has no point. */
static int series(chart *c, const rl_report_run *r, rl_phase ph, val_kind kind)
{
    int n = 0;
    for (int i = 0; i < r->n_points; i++) {
        const rl_report_point *p = &r->points[i];
        double v;
        if (!rl_report_in_sweep(p, ph)) continue;
        if (kind == VAL_MEASURED) v = rl_report_point_value(p);
        else if (r->source == RL_SRC_CSV && ph == RL_PHASE_DECODE) v = NAN; /* predicted rows cover it */
        else v = !isnan(p->predicted_ms) && r->source == RL_SRC_RESULTS ? p->predicted_ms : p->predicted_datasheet_ms;
        if (!isfinite(v)) continue;
        if (!n) block_begin(c);
        rl_sbuf_printf(&c->data, "%lld %.6g\n", (long long)p->x, v);
        n++;
    }
    if (!n) return -1;
    block_end(c);
    return c->n_blocks - 1;
}

/* Filled circles for our engine, other marks for peer engines, so two rows of one GPU differ. */
static int engine_pt(const rl_report_data *d, const char *engine)
{
    static const int pts[] = {5, 9, 11, 13, 15};
    if (!strcmp(engine, "ridgeline")) return 7;
    int k = 0;
    for (int i = 0; i < d->n_runs; i++) {
        const rl_report_run *r = &d->runs[i];
        if (r->source != RL_SRC_RESULTS || !strcmp(r->engine, "ridgeline")) continue;
        int seen = 0;
        for (int j = 0; j < i; j++)
            seen |= d->runs[j].source == RL_SRC_RESULTS && !strcmp(d->runs[j].engine, r->engine);
        if (seen) continue;
        if (!strcmp(r->engine, engine)) return pts[k % 5];
        k++;
    }
    return pts[0];
}

static void violations_block(chart *c, const rl_report_data *d, rl_phase ph, int for_roofline, int seed_chart)
{
    int n = 0;
    for (int i = 0; i < d->n_runs; i++) {
        const rl_report_run *r = &d->runs[i];
        if (seed_chart ? r->source != RL_SRC_CSV : !on_main_charts(d, r)) continue;
        unsigned col = (unsigned)strtoul(gpu_color(d, r->gpu) + 1, NULL, 16);
        for (int k = 0; k < r->n_points; k++) {
            const rl_report_point *p = &r->points[k];
            if (!p->violation || (!for_roofline && !rl_report_in_sweep(p, ph))) continue;
            double v = rl_report_point_value(p), tf = p->flops / (v * 1e-3) * 1e-12;
            if (!isfinite(v) || (for_roofline && !finite2(p->intensity, tf))) continue;
            char t[128];
            gp_text(r->gpu, t, sizeof t);
            if (!n) block_begin(c);
            if (for_roofline)
                rl_sbuf_printf(&c->data, "%.6g %.6g \"%s %s=%lld\" %u\n", p->intensity, tf, t,
                               p->sweep == RL_PHASE_DECODE ? "B" : "L", (long long)p->x, col);
            else
                rl_sbuf_printf(&c->data, "%lld %.6g \"%s\" %u\n", (long long)p->x, v, t, col);
            n++;
        }
    }
    if (!n) return;
    block_end(c);
    int id = c->n_blocks - 1;
    clause(c, "$d%d using 1:2 with points pt 2 ps 2 lw 2.5 lc rgb 'black' notitle", id);
    /* The roofline's violations cluster at one intensity per length: text there would pile up, so
     * it carries the legend entry only; figure1 names each one. */
    if (!for_roofline)
        clause(c, "$d%d using 1:2:3:4 with labels left offset char 1.2,0 font ',8' tc rgb variable notitle", id);
}

/* Series of one panel; colour says the GPU, line and mark say where the number comes from. */
static void panel(chart *c, const rl_report_data *d, rl_phase ph)
{
    for (int i = 0; i < d->n_runs; i++) {
        const rl_report_run *r = &d->runs[i];
        if (!on_main_charts(d, r)) continue;
        const char *col = gpu_color(d, r->gpu);
        int id;
        if (r->source == RL_SRC_RESULTS) {
            int ours = !strcmp(r->engine, "ridgeline");
            if ((id = series(c, r, ph, VAL_MEASURED)) >= 0)
                clause(c, "$d%d with linespoints lw %s pt %d ps 0.9 lc rgb '%s' notitle", id, ours ? "2.2" : "1.3",
                       engine_pt(d, r->engine), col);
            if ((id = series(c, r, ph, VAL_PREDICTED)) >= 0 && ours)
                clause(c, "$d%d with lines dt 2 lw 1.5 lc rgb '%s' notitle", id, col);
        } else if (r->source == RL_SRC_CSV) {
            if ((id = series(c, r, ph, VAL_MEASURED)) >= 0)
                clause(c, "$d%d with linespoints dt 3 lw 1 pt 6 ps 1.2 lc rgb '%s' notitle", id, col);
        } else if ((id = series(c, r, ph, VAL_PREDICTED)) >= 0) {
            clause(c, "$d%d with lines dt 2 lw 1.5 lc rgb '%s' notitle", id, col);
        }
    }
    violations_block(c, d, ph, 0, 0);
}

/* Legend of the left panel: one colour per GPU (of the runs drawn there; the seed chart: all). */
static void gpu_key(chart *c, const rl_report_data *d, int seed_chart)
{
    char t[128];
    for (int i = 0; i < d->n_runs; i++) {
        int seen = 0;
        if (!seed_chart && !on_main_charts(d, &d->runs[i])) continue;
        for (int j = 0; j < i; j++)
            seen |= rl_name_eq(d->runs[j].gpu, d->runs[i].gpu) && (seed_chart || on_main_charts(d, &d->runs[j]));
        if (!seen)
            clause(c, "NaN with lines lw 4 lc rgb '%s' title \"%s\"", gpu_color(d, d->runs[i].gpu),
                   gp_text(d->runs[i].gpu, t, sizeof t));
    }
}

/* Legend of the right panel: what each line style and mark means. */
static void style_key(chart *c, const rl_report_data *d)
{
    int any_csv = 0, any_ridge = 0, any_ours = 0;
    char t[128];
    for (int i = 0; i < d->n_runs; i++)
        any_ours |= d->runs[i].source == RL_SRC_RESULTS && !strcmp(d->runs[i].engine, "ridgeline");
    if (any_ours)
        clause(c, "NaN with linespoints lw 2.2 pt 7 ps 0.9 lc rgb 'gray20' title \"measured (ridgeline)\"");
    for (int i = 0; i < d->n_runs; i++) {
        const rl_report_run *r = &d->runs[i];
        any_csv |= r->source == RL_SRC_CSV && on_main_charts(d, r);
        any_ridge |= r->prefill.predicted_datasheet > 0 || r->prefill.predicted_measured > 0;
        if (r->source != RL_SRC_RESULTS || !strcmp(r->engine, "ridgeline")) continue;
        int seen = 0;
        for (int j = 0; j < i; j++)
            seen |= d->runs[j].source == RL_SRC_RESULTS && !strcmp(d->runs[j].engine, r->engine);
        if (!seen)
            clause(c, "NaN with linespoints lw 1.3 pt %d ps 0.9 lc rgb 'gray20' title \"measured (%s)\"",
                   engine_pt(d, r->engine), gp_text(r->engine, t, sizeof t));
    }
    clause(c, "NaN with lines dt 2 lw 1.5 lc rgb 'gray20' title \"predicted (cost model)\"");
    if (any_csv)
        clause(c, "NaN with linespoints dt 3 lw 1 pt 6 ps 1.2 lc rgb 'gray20' title \"imported CSV (decode: seed "
                  "ms/token)\"");
    if (any_violation(d, 0))
        clause(c, "NaN with points pt 2 ps 2 lw 2.5 lc rgb 'black' title \"faster than datasheet floor "
                  "(impossible)\"");
    if (any_ridge)
        clause(c, "NaN with lines dt 4 lw 1.5 lc rgb 'gray20' title \"ridge: predicted prefill crossing\"");
}

/* The ridge of each GPU on the prefill panel: L where the predicted prefill turns compute-bound.
 * Arrows are not clipped to the plot, so marks outside the panel's x range are left out. */
static void ridge_marks(rl_sbuf *b, const rl_report_data *d, double x_lo, double x_hi)
{
    for (int i = 0; i < d->n_runs; i++) {
        const rl_report_run *r = &d->runs[i];
        int seen = 0;
        for (int j = 0; j < i; j++) seen |= rl_name_eq(d->runs[j].gpu, r->gpu) && on_main_charts(d, &d->runs[j]);
        if (!on_main_charts(d, r)) continue;
        double L = !isnan(r->prefill.predicted_datasheet) ? r->prefill.predicted_datasheet
                                                          : r->prefill.predicted_measured;
        if (seen || isnan(L) || L < x_lo || L > x_hi) continue;
        char t[128];
        const char *col = gpu_color(d, r->gpu);
        rl_sbuf_printf(b, "set arrow from %g, graph 0 to %g, graph 1 nohead dt 4 lw 1.5 lc rgb '%s'\n", L, L, col);
        rl_sbuf_printf(b, "set label \"%s ridge L=%.0f\" at %g, graph 0.36 rotate by 90 left offset char -0.6,0 "
                          "font ',8' tc rgb '%s'\n",
                       gp_text(r->gpu, t, sizeof t), L, L, col);
    }
}

/* Smallest and largest value a panel plots, so the y range can leave the top free for the legend. */
static void panel_range(const rl_report_data *d, rl_phase ph, int seed_chart, double *lo, double *hi)
{
    *lo = INFINITY, *hi = 0;
    for (int i = 0; i < d->n_runs; i++) {
        const rl_report_run *r = &d->runs[i];
        if (!seed_chart && !on_main_charts(d, r)) continue;
        for (int k = 0; k < r->n_points; k++) {
            const rl_report_point *p = &r->points[k];
            if (!rl_report_in_sweep(p, ph)) continue;
            double v[3] = {rl_report_point_value(p), p->predicted_datasheet_ms, p->predicted_ms};
            if (seed_chart && ph == RL_PHASE_DECODE)
                v[0] = p->seed_ms_per_token, v[1] = p->predicted_seed_ms_per_token, v[2] = NAN;
            for (int j = 0; j < 3; j++)
                if (v[j] > 0 && isfinite(v[j])) {
                    *lo = v[j] < *lo ? v[j] : *lo;
                    *hi = v[j] > *hi ? v[j] : *hi;
                }
        }
    }
    if (!(*hi > 0)) *lo = 1, *hi = 10;
}

static void y_range(rl_sbuf *b, double lo, double top)
{
    if (finite2(lo, top) && lo > 0 && top > lo) rl_sbuf_printf(b, "set yrange [%.4g:%.4g]\n", lo, top);
    else rl_sbuf_puts(b, "set yrange [*:*]\n");
}

static void two_panels(rl_sbuf *b, const char *left_plot, const char *right_plot, const rl_report_data *d,
                       int seed_chart)
{
    double lo, hi;
    /* Both panels log-y: decode times span 3 to 100+ ms once peers and large batches are drawn, and
     * a linear axis flattens the memory-bound regime the figure is about. */
    panel_range(d, RL_PHASE_DECODE, seed_chart, &lo, &hi);
    double left_lo = lo / 1.5, left_top = left_lo * pow(hi * 1.2 / left_lo, 1 / 0.62);
    panel_range(d, RL_PHASE_PREFILL, seed_chart, &lo, &hi);
    double right_lo = lo / 1.5, right_top = right_lo * pow(hi * 1.2 / right_lo, 1 / 0.6);
    rl_sbuf_puts(b, "set multiplot layout 1,2\nunset arrow\nunset label\n"
                    "set logscale x 2\nset xtics (1,4,16,64,128,256,512)\nset xrange [0.8:700]\n"
                    "set logscale y 10\nset grid\n"
                    "set key top left font ',9' spacing 1.0 box opaque title 'GPU (colour)'\n");
    if (seed_chart)
        rl_sbuf_puts(b, "set title \"Decode, seed-style: (prefill + 64 steps) / 64 tokens vs batch\"\n"
                        "set xlabel \"batch B (sequences)\"\n"
                        "set ylabel \"ms per output token, seed style (log scale)\"\n");
    else
        rl_sbuf_printf(b, "set title \"Decode: time per step vs batch (context 160)\"\n"
                          "set xlabel \"batch B (sequences)\"\n"
                          "set ylabel \"ms per decode step, log scale%s\"\n",
                       has_results(d) ? "" : " (imported CSV: seed ms/token)");
    y_range(b, left_lo, left_top);
    rl_sbuf_puts(b, left_plot ? left_plot : "plot NaN notitle");
    rl_sbuf_puts(b, "\nset logscale x 2\nset xtics (64,128,256,512,1024,2048,4096)\nset xrange [50:9000]\n"
                    "set logscale y 10\n"
                    "set key top left font ',9' spacing 1.0 box opaque title 'line and mark'\n");
    rl_sbuf_puts(b, seed_chart ? "set title \"Prefill vs prompt length: the seed's rows beside ours\"\n"
                               : "set title \"Prefill: whole-prefill time vs prompt length (batch 1)\"\n");
    rl_sbuf_puts(b, "set xlabel \"prompt length L (tokens)\"\nset ylabel \"ms per prefill (log scale)\"\n");
    y_range(b, right_lo, right_top);
    if (!seed_chart) ridge_marks(b, d, 50, 9000);
    rl_sbuf_puts(b, right_plot ? right_plot : "plot NaN notitle");
    rl_sbuf_puts(b, "\nunset multiplot\n");
}

/* ---- the seed's rows ------------------------------------------------------------------------ */

/* One series of the seed chart: x and the value the chart compares (decode: seed-style ms/token,
 * measured or predicted; prefill: ms). Returns the block id or -1. */
static int seed_series(chart *c, const rl_report_run *r, rl_phase ph, int predicted)
{
    int n = 0;
    for (int i = 0; i < r->n_points; i++) {
        const rl_report_point *p = &r->points[i];
        if (!rl_report_in_sweep(p, ph)) continue;
        double v = ph == RL_PHASE_DECODE ? (predicted ? p->predicted_seed_ms_per_token : p->seed_ms_per_token)
                                         : (predicted ? p->predicted_datasheet_ms : (p->ok ? p->ms : NAN));
        if (isnan(v) || !(v > 0)) continue;
        if (!n++) block_begin(c);
        rl_sbuf_printf(&c->data, "%lld %.6g\n", (long long)p->x, v);
    }
    if (!n) return -1;
    block_end(c);
    return c->n_blocks - 1;
}

static void seed_panel(chart *c, const rl_report_data *d, rl_phase ph)
{
    for (int i = 0; i < d->n_runs; i++) {
        const rl_report_run *r = &d->runs[i];
        const char *col = gpu_color(d, r->gpu);
        int id;
        if (r->source == RL_SRC_CSV && (id = seed_series(c, r, ph, 0)) >= 0)
            clause(c, "$d%d with linespoints dt 3 lw 1.2 pt 6 ps 1.2 lc rgb '%s' notitle", id, col);
        else if (r->source == RL_SRC_RESULTS && !strcmp(r->engine, "ridgeline") && (id = seed_series(c, r, ph, 0)) >= 0)
            clause(c, "$d%d with linespoints lw 2.2 pt 7 ps 0.9 lc rgb '%s' notitle", id, col);
        else if (r->source == RL_SRC_PREDICTED && (id = seed_series(c, r, ph, 1)) >= 0)
            clause(c, "$d%d with lines dt 2 lw 1.5 lc rgb '%s' notitle", id, col);
    }
    violations_block(c, d, ph, 0, 1);
}

static void seed_key(chart *c, const rl_report_data *d)
{
    clause(c, "NaN with linespoints dt 3 lw 1.2 pt 6 ps 1.2 lc rgb 'gray20' title \"imported (the seed's vLLM rows)\"");
    clause(c, "NaN with linespoints lw 2.2 pt 7 ps 0.9 lc rgb 'gray20' title \"measured (ridgeline, same quantity)\"");
    clause(c, "NaN with lines dt 2 lw 1.5 lc rgb 'gray20' title \"predicted (cost model, datasheet)\"");
    if (any_violation(d, 1))
        clause(c, "NaN with points pt 2 ps 2 lw 2.5 lc rgb 'black' title \"faster than datasheet floor "
                  "(impossible)\"");
}

/* ---- roofline ------------------------------------------------------------------------------ */

static void roof_lines(chart *c, const rl_report_data *d)
{
    for (int i = 0; i < d->n_runs; i++) {
        const rl_report_run *r = &d->runs[i];
        if (!on_main_charts(d, r)) continue;
        const char *col = gpu_color(d, r->gpu);
        int seen = 0;
        for (int j = 0; j < i; j++)
            seen |= rl_name_eq(d->runs[j].gpu, r->gpu) && d->runs[j].ds_peak_tflops > 0 && on_main_charts(d, &d->runs[j]);
        if (!seen && r->ds_peak_tflops > 0)
            clause(c, "roof(x, %g, %g) with lines dt 2 lw 1.5 lc rgb '%s' notitle", r->ds_bandwidth_gbps,
                   r->ds_peak_tflops, col);
        if (r->read_gbps > 0 && r->gemm_tflops > 0)
            clause(c, "roof(x, %g, %g) with lines dt 1 lw 2.5 lc rgb '%s' notitle", r->read_gbps, r->gemm_tflops,
                   col);
    }
}

/* Marks: decode steps filled triangles, prefills filled squares, decode kernels open circles,
 * prefill kernels open diamonds; imported rows (seed chart only) open triangles and squares. */
enum { PT_DECODE = 9, PT_PREFILL = 5, PT_KERNEL_DECODE = 6, PT_KERNEL_PREFILL = 12, PT_IMPORTED_DECODE = 8,
       PT_IMPORTED_PREFILL = 4 };

/* Attainable TFLOP/s of a kernel row: its FLOPs over its time. */
static int kernel_point(const rl_report_kernel *k, double *ai, double *tf)
{
    *ai = !isnan(k->intensity) ? k->intensity : k->flops / k->bytes;
    *tf = k->flops / (k->ms * 1e-3) * 1e-12;
    return *ai > 0 && *tf > 0 && finite2(*ai, *tf);
}

/* Every kernel of one run and phase: its point, its operators written beside it, and its latency
 * roof, a short cap at FLOPs / (calls x t_min) where that is below its other roofs (a kernel at the
 * cap is at the latency roof, however far it sits under the bandwidth line). */
typedef struct {
    double ai, tf;
    int k;
} kernel_xy;

static int by_xy(const void *a, const void *b)
{
    const kernel_xy *x = a, *y = b;
    if (x->ai != y->ai) return x->ai < y->ai ? -1 : 1;
    return (x->tf > y->tf) - (x->tf < y->tf);
}

static void kernel_series(chart *c, const rl_report_run *r, rl_phase ph, const char *col)
{
    kernel_xy *v = calloc((size_t)(r->n_kernels + 1), sizeof *v);
    int n = 0;
    for (int k = 0; v && k < r->n_kernels; k++) {
        const rl_report_kernel *kn = &r->kernels[k];
        if (kn->phase == ph && kernel_point(kn, &v[n].ai, &v[n].tf)) v[n++].k = k;
    }
    if (!n) {
        free(v);
        return;
    }
    /* Kernels of one intensity stack up (every GEMV of a decode step sits near 1 FLOP/byte): their
     * labels alternate between the right and the left of the marks. */
    qsort(v, (size_t)n, sizeof *v, by_xy);
    block_begin(c);
    for (int i = 0; i < n; i++) {
        const rl_report_kernel *kn = &r->kernels[v[i].k];
        char ops[200];
        rl_sbuf_printf(&c->data, "%.6g %.6g \"%s\" %d\n", v[i].ai, v[i].tf,
                       gp_text(kn->ops[0] ? kn->ops : kn->kernel, ops, sizeof ops), i % 2);
    }
    block_end(c);
    free(v);
    const int id = c->n_blocks - 1;
    clause(c, "$d%d using 1:2 with points pt %d ps 0.9 lw 1.2 lc rgb '%s' notitle", id,
           ph == RL_PHASE_DECODE ? PT_KERNEL_DECODE : PT_KERNEL_PREFILL, col);
    clause(c, "$d%d using 1:($4 == 0 ? $2 : NaN):3 with labels left offset char 0.7,0.3 font ',7' tc rgb '%s' "
              "noenhanced notitle", id, col);
    /* The right-hand labels only where there are some: gnuplot 5.4 crashes on a labels plot whose
     * points are all undefined when another plot follows it (one kernel row). */
    if (n > 1)
        clause(c, "$d%d using 1:($4 == 1 ? $2 : NaN):3 with labels right offset char -0.7,0.3 font ',7' tc rgb '%s' "
                  "noenhanced notitle", id, col);
    const double bw = r->read_gbps > 0 ? r->read_gbps : r->ds_bandwidth_gbps;
    const double peak = r->gemm_tflops > 0 ? r->gemm_tflops : r->ds_peak_tflops;
    if (!(r->kernel_min_us > 0) || !(bw > 0 && peak > 0)) return;
    n = 0;
    for (int k = 0; k < r->n_kernels; k++) {
        const rl_report_kernel *kn = &r->kernels[k];
        double ai, tf;
        if (kn->phase != ph || !kernel_point(kn, &ai, &tf) || kn->calls <= 0) continue;
        const double cap = kn->flops / (kn->calls * r->kernel_min_us * 1e-6) * 1e-12;
        const double other = fmin(peak, ai * bw * 1e-3);
        if (!(cap < other)) continue;
        if (!n++) block_begin(c);
        rl_sbuf_printf(&c->data, "%.6g %.6g\n", ai, cap);
    }
    if (!n) return;
    block_end(c);
    clause(c, "$d%d using ($1/1.4):2:($1*1.4-$1/1.4):(0) with vectors nohead lw 2.5 lc rgb '%s' notitle",
           c->n_blocks - 1, col);
}

static void roof_points(chart *c, const rl_report_data *d)
{
    for (int i = 0; i < d->n_runs; i++) {
        const rl_report_run *r = &d->runs[i];
        if (r->source == RL_SRC_PREDICTED || !on_main_charts(d, r)) continue;
        const char *col = gpu_color(d, r->gpu);
        kernel_series(c, r, RL_PHASE_DECODE, col);
        kernel_series(c, r, RL_PHASE_PREFILL, col);
        for (int ph = 0; ph < 2; ph++) {
            int n = 0;
            for (int k = 0; k < r->n_points; k++) {
                const rl_report_point *p = &r->points[k];
                double v = rl_report_point_value(p), tf = p->flops / (v * 1e-3) * 1e-12;
                if ((int)p->sweep != ph || !(p->intensity > 0) || !finite2(p->intensity, tf)) continue;
                if (!n++) block_begin(c);
                rl_sbuf_printf(&c->data, "%.6g %.6g\n", p->intensity, tf);
            }
            if (!n) continue;
            block_end(c);
            int imported = r->source == RL_SRC_CSV;
            clause(c, "$d%d with points pt %d ps 1.3 lw 1.5 lc rgb '%s' notitle", c->n_blocks - 1,
                   ph == RL_PHASE_DECODE ? (imported ? PT_IMPORTED_DECODE : PT_DECODE)
                                         : (imported ? PT_IMPORTED_PREFILL : PT_PREFILL),
                   col);
        }
    }
}

/* Colour = GPU, line and mark = what it is: one short legend instead of one entry per series. */
static void roof_key(chart *c, const rl_report_data *d)
{
    gpu_key(c, d, 0);
    int any_csv = 0, any_kd = 0, any_kp = 0, any_measured = 0, any_results = 0, any_latency = 0;
    for (int i = 0; i < d->n_runs; i++) {
        const rl_report_run *r = &d->runs[i];
        if (!on_main_charts(d, r)) continue;
        any_csv |= r->source == RL_SRC_CSV;
        any_results |= r->source == RL_SRC_RESULTS;
        for (int k = 0; k < r->n_kernels; k++) {
            any_kd |= r->kernels[k].phase == RL_PHASE_DECODE;
            any_kp |= r->kernels[k].phase == RL_PHASE_PREFILL;
        }
        any_latency |= r->n_kernels > 0 && r->kernel_min_us > 0;
        any_measured |= r->read_gbps > 0 && r->gemm_tflops > 0;
    }
    if (any_measured) clause(c, "NaN with lines lw 2.5 lc rgb 'gray20' title \"measured roof\"");
    clause(c, "NaN with lines dt 2 lw 1.5 lc rgb 'gray20' title \"datasheet roof\"");
    if (any_latency)
        clause(c, "NaN with lines lw 2.5 lc rgb 'gray20' title \"latency roof (bar over a kernel): FLOPs / (calls x "
                  "t_min)\" noenhanced");
    if (any_kd) clause(c, "NaN with points pt %d ps 0.9 lc rgb 'gray20' title \"kernel of a decode step (its ops)\"", PT_KERNEL_DECODE);
    if (any_kp) clause(c, "NaN with points pt %d ps 0.9 lc rgb 'gray20' title \"kernel of a prefill (its ops)\"", PT_KERNEL_PREFILL);
    if (any_results) {
        clause(c, "NaN with points pt %d ps 1.3 lc rgb 'gray20' title \"decode step\"", PT_DECODE);
        clause(c, "NaN with points pt %d ps 1.3 lc rgb 'gray20' title \"prefill\"", PT_PREFILL);
    }
    if (any_csv) {
        clause(c, "NaN with points pt %d ps 1.3 lc rgb 'gray20' title \"decode, imported (seed ms/token)\"", PT_IMPORTED_DECODE);
        clause(c, "NaN with points pt %d ps 1.3 lc rgb 'gray20' title \"prefill, imported\"", PT_IMPORTED_PREFILL);
    }
    if (any_violation(d, 0))
        clause(c, "NaN with points pt 2 ps 2 lw 2.5 lc rgb 'black' title \"faster than datasheet floor "
                  "(impossible)\"");
}

static void roofline_body(rl_sbuf *b, chart *c)
{
    rl_sbuf_puts(b, "unset arrow\nunset label\nset logscale xy 10\nset grid\nset samples 800\n"
                    "set xrange [0.1:10000]\nset yrange [*:*]\nset format y '%g'\nset format x '%g'\n"
                    "roof(x, bw, pk) = (x * bw / 1000.0 < pk) ? x * bw / 1000.0 : pk\n"
                    "set key outside right top font ',10' spacing 1.1 box\n"
                    "set title \"Roofline: attainable TFLOP/s vs arithmetic intensity (each kernel and each sweep "
                    "point on its GPU's roofs)\"\n"
                    "set xlabel \"arithmetic intensity (FLOP/byte)\"\nset ylabel \"TFLOP/s (1e12 FLOP/s)\"\n");
    rl_sbuf_puts(b, c->plot.s ? c->plot.s : "plot NaN notitle");
    rl_sbuf_puts(b, "\n");
}

/* ---- running gnuplot ----------------------------------------------------------------------- */

static int find_gnuplot(char *out, size_t n)
{
    const char *path = getenv("PATH");
    if (!path) return 0;
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *dir = buf, *next; dir; dir = next) {
        next = strchr(dir, ':');
        if (next) *next++ = 0;
        char cand[4200];
        snprintf(cand, sizeof cand, "%s/gnuplot", *dir ? dir : ".");
        /* Absolute, since gnuplot starts in the output directory (a PATH entry may be relative). */
        char abs[PATH_MAX];
        if (access(cand, X_OK) == 0 && realpath(cand, abs) && strlen(abs) < n) {
            memcpy(out, abs, strlen(abs) + 1);
            return 1;
        }
    }
    return 0;
}

/* Runs argv (argv[0] an absolute path) in dir and captures its stdout and stderr into out; a
 * fork and exec, never a shell, so no directory or file name is ever read as shell syntax
 * (`--out -` is a directory, not `cd -`). Returns the exit status, -1 when it could not start. */
static int run_capture(char *const argv[], const char *dir, char *out, size_t n)
{
    int fds[2];
    out[0] = 0;
    if (pipe2(fds, O_CLOEXEC) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]), close(fds[1]);
        return -1;
    }
    if (pid == 0) { /* the child: async-signal-safe calls only until exec */
        static const char no_dir[] = "cannot enter the output directory\n", no_exec[] = "cannot execute gnuplot\n";
        int null_fd = open("/dev/null", O_RDONLY);
        if (null_fd >= 0) dup2(null_fd, 0);
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        if (chdir(dir) != 0) {
            (void)!write(2, no_dir, sizeof no_dir - 1);
            _exit(126);
        }
        execv(argv[0], argv);
        (void)!write(2, no_exec, sizeof no_exec - 1);
        _exit(127);
    }
    close(fds[1]);
    size_t used = 0;
    char chunk[512];
    for (;;) { /* read to the end even past n, so the child never blocks on a full pipe */
        ssize_t got = read(fds[0], chunk, sizeof chunk);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        size_t k = (size_t)got < n - 1 - used ? (size_t)got : n - 1 - used;
        memcpy(out + used, chunk, k);
        used += k;
        out[used] = 0;
    }
    close(fds[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static int write_and_render(const char *out_dir, const char *name, const char *gp, const char *png_term,
                            const char *size, const char *body, rl_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.gp", out_dir, name);
    rl_sbuf s = {0};
    rl_sbuf_printf(&s, "# %s.gp: written by `ridgeline report`; re-run with `gnuplot %s.gp` in this directory.\n"
                       "set encoding utf8\nset termoption noenhanced\n",
                   name, name);
    rl_sbuf_printf(&s, "set terminal svg size %s dynamic font 'Sans,11' background rgb 'white'\nset output '%s.svg'\n",
                   size, name);
    rl_sbuf_puts(&s, body);
    rl_sbuf_printf(&s, "set terminal %s size %s font 'Sans,10'%s\nset output '%s.png'\n", png_term, size,
                   strcmp(png_term, "pngcairo") ? "" : " background rgb 'white'", name);
    rl_sbuf_puts(&s, body);
    rl_sbuf_puts(&s, "set output\n");
    char *text = rl_sbuf_take(&s);
    if (!text) return rl_fail(err, "%s: out of memory", path);
    int rc = rl_write_file_atomic(path, text, err);
    free(text);
    if (rc) return -1;
    char script[64], log[4096];
    snprintf(script, sizeof script, "%s.gp", name);
    char *argv[] = {(char *)gp, script, NULL};
    int st = run_capture(argv, out_dir, log, sizeof log);
    if (st != 0) {
        char *nl = strchr(log, '\n');
        if (nl && nl[1]) { /* gnuplot echoes the failing line first; the reason follows */
            char *second = strchr(nl + 1, '\n');
            if (second) *second = 0;
        }
        for (char *p = log; *p; p++)
            if (*p == '\n') *p = ' ';
        return rl_fail(err, "gnuplot failed on %s (exit %d): %.300s", path, st, log[0] ? log : "(no output)");
    }
    return 0;
}

/* ---- tensor-parallel scaling ------------------------------------------------------------------ */

/* A value for a log-scale datablock: "?" (missing) unless finite and positive. */
static void gp_value(rl_sbuf *b, double v)
{
    if (isfinite(v) && v > 0) rl_sbuf_printf(b, " %.6g", v);
    else rl_sbuf_puts(b, " ?");
}

static void scaling_panel(rl_sbuf *body, chart *c, const rl_report_data *d, const rl_report_tp_series *s)
{
    const int id = block_begin(c);
    for (int j = 0; j < s->n; j++) {
        const rl_report_tp_point *t = &s->pts[j];
        rl_sbuf_printf(&c->data, "%d", t->gpus);
        gp_value(&c->data, t->ms), gp_value(&c->data, t->predicted_ms), gp_value(&c->data, t->compute_ms);
        gp_value(&c->data, t->memory_ms), gp_value(&c->data, t->comm_ms);
        rl_sbuf_puts(&c->data, "\n");
    }
    block_end(c);
    char g[96], m[160];
    rl_sbuf_printf(body, "set title \"%s, %s: %s %s=%lld\"\n", gp_text(s->gpu, g, sizeof g), gp_text(s->model, m, sizeof m),
                   rl_phase_name(s->phase), s->phase == RL_PHASE_DECODE ? "B" : "L", (long long)s->x);
    rl_sbuf_printf(body, "plot $d%d using 1:2 with linespoints lw 2.5 pt 7 ps 1.2 lc rgb '%s' title 'measured', \\\n"
                         "     $d%d using 1:3 with linespoints dt 2 lw 1.5 pt 6 lc rgb 'black' title 'predicted (roofline sum)', \\\n"
                         "     $d%d using 1:4 with lines dt 3 lw 2 lc rgb '#d62728' title 'compute roof', \\\n"
                         "     $d%d using 1:5 with lines dt 3 lw 2 lc rgb '#1f77b4' title 'memory roof', \\\n"
                         "     $d%d using 1:6 with lines dt 3 lw 2 lc rgb '#2ca02c' title 'communication roof'\n",
                   id, gpu_color(d, s->gpu), id, id, id, id);
}

/* One panel per workload (at most four), the GPU counts on a log2 axis. */
static char *build_scaling(const rl_report_data *d)
{
    chart c = {0};
    rl_sbuf panels = {0}, body = {0};
    const int n = d->n_tp < 4 ? d->n_tp : 4;
    for (int i = 0; i < n; i++) scaling_panel(&panels, &c, d, &d->tp[i]);
    rl_sbuf_puts(&body, c.data.s ? c.data.s : "");
    rl_sbuf_printf(&body, "set multiplot layout 1,%d\nset datafile missing '?'\nset logscale x 2\n"
                          "set xtics (1,2,4,8)\nset xrange [0.8:10]\nset logscale y 10\nset grid\n"
                          "set xlabel \"GPUs (tensor parallel)\"\nset ylabel \"ms (per step; prefill: whole)\"\n"
                          "set key top right font ',8' box opaque\n",
                   n);
    rl_sbuf_puts(&body, panels.s ? panels.s : "");
    rl_sbuf_puts(&body, "unset multiplot\n");
    rl_sbuf_free(&c.data), rl_sbuf_free(&c.plot), rl_sbuf_free(&panels);
    return rl_sbuf_take(&body);
}

static int has_tp_scaling(const rl_report_data *d) { return d->n_tp > 0; }

/* ---- the chart registry -------------------------------------------------------------------- */

/* figure1 and seed: two panels, one datablock namespace (every block defined before multiplot). */
static char *build_two_panels(const rl_report_data *d, int seed_chart)
{
    chart fig = {0};
    rl_sbuf body = {0};
    if (seed_chart) seed_panel(&fig, d, RL_PHASE_DECODE), gpu_key(&fig, d, 1);
    else panel(&fig, d, RL_PHASE_DECODE), gpu_key(&fig, d, 0);
    rl_sbuf left_plot = fig.plot;
    fig.plot = (rl_sbuf){0};
    fig.n_clauses = 0;
    if (seed_chart) seed_panel(&fig, d, RL_PHASE_PREFILL), seed_key(&fig, d);
    else panel(&fig, d, RL_PHASE_PREFILL), style_key(&fig, d);
    rl_sbuf_puts(&body, fig.data.s ? fig.data.s : "");
    two_panels(&body, left_plot.s, fig.plot.s, d, seed_chart);
    rl_sbuf_free(&fig.data);
    rl_sbuf_free(&fig.plot);
    rl_sbuf_free(&left_plot);
    return rl_sbuf_take(&body);
}

static char *build_figure1(const rl_report_data *d) { return build_two_panels(d, 0); }
static char *build_seed(const rl_report_data *d) { return build_two_panels(d, 1); }

static char *build_roofline(const rl_report_data *d)
{
    chart roof = {0};
    rl_sbuf body = {0};
    roof_lines(&roof, d);
    roof_points(&roof, d);
    violations_block(&roof, d, RL_PHASE_DECODE, 1, 0);
    roof_key(&roof, d);
    if (!roof.n_clauses) clause(&roof, "NaN notitle");
    rl_sbuf_puts(&body, roof.data.s ? roof.data.s : "");
    roofline_body(&body, &roof);
    rl_sbuf_free(&roof.data), rl_sbuf_free(&roof.plot);
    return rl_sbuf_take(&body);
}

static int always(const rl_report_data *d)
{
    (void)d;
    return 1;
}

/* The seed's rows get their own chart when the report also has rows of its own. */
static int imported_beside_ours(const rl_report_data *d)
{
    int csv = 0;
    for (int i = 0; i < d->n_runs; i++) csv |= d->runs[i].source == RL_SRC_CSV;
    return csv && has_results(d);
}

typedef struct {
    const char *name, *png, *size;
    int (*wanted)(const rl_report_data *d);
    char *(*build)(const rl_report_data *d);
} chart_def;

static const chart_def charts[] = {
    {"figure1", "figure1.png", "1280,540", always, build_figure1},
    {"roofline", "roofline.png", "1280,720", always, build_roofline},
    {"seed", "seed.png", "1280,540", imported_beside_ours, build_seed},
    {"scaling", "scaling.png", "1400,520", has_tp_scaling, build_scaling},
};

int rl_report_charts(const rl_report_data *d, const char *out_dir, int quiet, int *rendered, rl_err *err)
{
    (void)quiet;
    *rendered = 0;
    char gp[4096];
    if (!find_gnuplot(gp, sizeof gp)) {
        fprintf(stderr, "report: gnuplot not found (apt-get install gnuplot-nox); charts skipped\n");
        return 0;
    }
    char terms[8192];
    char *argv[] = {gp, "-e", "set terminal", NULL};
    run_capture(argv, out_dir, terms, sizeof terms);
    const char *png_term = strstr(terms, "pngcairo") ? "pngcairo" : "png";

    int rc = 0;
    for (size_t i = 0; i < sizeof charts / sizeof charts[0] && !rc; i++) {
        if (!charts[i].wanted(d)) continue;
        char *text = charts[i].build(d);
        rc = text ? write_and_render(out_dir, charts[i].name, gp, png_term, charts[i].size, text, err)
                  : rl_fail(err, "%s: out of memory", charts[i].name);
        free(text);
    }
    if (rc) return -1;
    *rendered = 1;
    return 0;
}

int rl_report_chart_names(const rl_report_data *d, const char **names, int max)
{
    int n = 0;
    for (size_t i = 0; i < sizeof charts / sizeof charts[0] && n < max; i++)
        if (charts[i].wanted(d)) names[n++] = charts[i].png;
    return n;
}
