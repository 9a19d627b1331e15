/* tables_md.c: report.md: the seed's tables (GPU x batch decode, GPU x length prefill), the
 * batch-1 floor comparison, predicted vs measured at every point, transitions; and the
 * assembly of the whole document (sections_md.c writes the rest). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "md_sections.h"

const char *rl_report_fmt_ms(double ms, char *buf, int n)
{
    if (isnan(ms)) snprintf(buf, (size_t)n, "–");
    else if (fabs(ms) >= 100) snprintf(buf, (size_t)n, "%.1f", ms);
    else if (fabs(ms) >= 1) snprintf(buf, (size_t)n, "%.2f", ms);
    else snprintf(buf, (size_t)n, "%.3g", ms);
    return buf;
}

const char *rl_md_fmt_sci(double v, char *buf, int n)
{
    if (isnan(v)) {
        snprintf(buf, (size_t)n, "–");
        return buf;
    }
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.3g", v);
    char *e = strchr(tmp, 'e');
    if (e) { /* drop '+' and leading zeros of the exponent */
        char *src = e + 1, *dst = e + 1;
        if (*src == '+') src++;
        if (*src == '-') *dst++ = *src++;
        while (*src == '0' && src[1]) src++;
        memmove(dst, src, strlen(src) + 1);
    }
    snprintf(buf, (size_t)n, "%s", tmp);
    return buf;
}

const char *rl_md_fmt_pct(double v, char *buf, int n)
{
    if (isnan(v)) snprintf(buf, (size_t)n, "–");
    else snprintf(buf, (size_t)n, "%.1f%%", v);
    return buf;
}

/* ---- GPU x sweep tables -------------------------------------------------------------------- */

typedef enum { TBL_STEP, TBL_SEED, TBL_PREFILL } table_kind;

static rl_phase kind_phase(table_kind k) { return k == TBL_PREFILL ? RL_PHASE_PREFILL : RL_PHASE_DECODE; }

/* The number a row shows for a point in this table, and whether it is the checked measurement. */
static double cell_value(const rl_report_run *r, const rl_report_point *p, table_kind k, int *checked)
{
    *checked = 0;
    if (!rl_report_in_sweep(p, kind_phase(k))) return NAN;
    if (r->source == RL_SRC_PREDICTED)
        return k == TBL_SEED ? p->predicted_seed_ms_per_token : p->predicted_datasheet_ms;
    if (k == TBL_STEP) {
        if (r->source != RL_SRC_RESULTS) return NAN;
        *checked = 1;
        return p->ms;
    }
    if (k == TBL_SEED) {
        *checked = r->source == RL_SRC_CSV;
        return p->seed_ms_per_token;
    }
    *checked = 1;
    return p->ms;
}

static int measured_row(const rl_report_run *r, table_kind k)
{
    if (r->source == RL_SRC_PREDICTED) return 0;
    for (int i = 0; i < r->n_points; i++) {
        int checked;
        const rl_report_point *p = &r->points[i];
        if (!rl_report_in_sweep(p, kind_phase(k))) continue;
        if (!p->ok && r->source == RL_SRC_RESULTS && k != TBL_SEED) return 1; /* failures are shown */
        if (!isnan(cell_value(r, p, k, &checked))) return 1;
    }
    return 0;
}

/* Predicted rows fill in GPUs that have no measured row in this table. */
static int row_shown(const rl_report_data *d, const rl_report_run *r, table_kind k)
{
    if (r->source != RL_SRC_PREDICTED) return measured_row(r, k);
    for (int i = 0; i < d->n_runs; i++)
        if (rl_name_eq(d->runs[i].gpu, r->gpu) && measured_row(&d->runs[i], k)) return 0;
    return 1;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int table_xs(const rl_report_data *d, table_kind k, int64_t *xs, int max)
{
    int n = 0;
    for (int i = 0; i < d->n_runs; i++) {
        const rl_report_run *r = &d->runs[i];
        if (!row_shown(d, r, k)) continue;
        for (int j = 0; j < r->n_points; j++) {
            const rl_report_point *p = &r->points[j];
            if (!rl_report_in_sweep(p, kind_phase(k))) continue;
            int seen = 0;
            for (int q = 0; q < n; q++) seen |= xs[q] == p->x;
            if (!seen && n < max) xs[n++] = p->x;
        }
    }
    qsort(xs, (size_t)n, sizeof *xs, cmp_i64);
    return n;
}

static void sweep_table(rl_sbuf *b, const rl_report_data *d, table_kind k)
{
    int64_t xs[64];
    int nx = table_xs(d, k, xs, 64);
    if (nx == 0) {
        rl_sbuf_puts(b, "No measurements or predictions for this table.\n\n");
        return;
    }
    const char *xname = k == TBL_PREFILL ? "L" : "B";
    rl_sbuf_puts(b, "| GPU |");
    for (int i = 0; i < nx; i++) rl_sbuf_printf(b, " %s=%lld |", xname, (long long)xs[i]);
    rl_sbuf_printf(b, " ridge AI* (FLOP/B) | predicted crossing (%s) |\n|---|", xname);
    for (int i = 0; i < nx + 2; i++) rl_sbuf_puts(b, "---:|");
    rl_sbuf_puts(b, "\n");
    for (int i = 0; i < d->n_runs; i++) {
        const rl_report_run *r = &d->runs[i];
        if (!row_shown(d, r, k)) continue;
        rl_sbuf_printf(b, "| %s |", r->label);
        for (int c = 0; c < nx; c++) {
            const rl_report_point *p = NULL;
            for (int j = 0; j < r->n_points; j++)
                if (rl_report_in_sweep(&r->points[j], kind_phase(k)) && r->points[j].x == xs[c]) p = &r->points[j];
            char buf[48];
            int checked = 0;
            double v = p ? cell_value(r, p, k, &checked) : NAN;
            if (p && !p->ok && r->source == RL_SRC_RESULTS && k != TBL_SEED)
                rl_sbuf_puts(b, " failed |");
            else if (r->source == RL_SRC_PREDICTED && !isnan(v))
                rl_sbuf_printf(b, " *%s* |", rl_report_fmt_ms(v, buf, sizeof buf));
            else
                rl_sbuf_printf(b, " %s%s |", rl_report_fmt_ms(v, buf, sizeof buf),
                               checked && p->violation ? " ⚠" : "");
        }
        const rl_roofs ds = {.bandwidth_gbps = r->ds_bandwidth_gbps, .peak_tflops = r->ds_peak_tflops};
        double ridge = r->ds_bandwidth_gbps > 0 ? rl_roofs_ridge(&ds) : NAN;
        const rl_report_transition *t = k == TBL_PREFILL ? &r->prefill : &r->decode;
        char rb[32], cb[48];
        snprintf(rb, sizeof rb, isnan(ridge) ? "–" : "%.0f", ridge);
        if (isnan(t->predicted_datasheet)) snprintf(cb, sizeof cb, "–");
        else if (t->predicted_datasheet == 0) snprintf(cb, sizeof cb, "none");
        else snprintf(cb, sizeof cb, "%.0f", t->predicted_datasheet);
        rl_sbuf_printf(b, " %s | %s |\n", rb, cb);
    }
    rl_sbuf_puts(b, "\n");
}

void rl_md_sweep_tables(rl_sbuf *b, const rl_report_data *d)
{
    rl_sbuf_puts(b, "## Decode: ms per step (batch B)\n\n"
                    "One decode step producing one token for each of B sequences whose KV cache holds input + "
                    "output/2 tokens (160 for the seed's input 128, output 64; each point's own in report.json); "
                    "the median of the timed steps. "
                    "*Italic* rows are the cost model on datasheet roofs for GPUs nobody measured. "
                    "⚠ marks a time below the GPU's physical floor (see Violations). Ridge AI* = peak ÷ bandwidth "
                    "(datasheet); the predicted crossing is the smallest batch whose whole step is compute-bound "
                    "(none: decode attention keeps the step's intensity below the ridge).\n\n");
    sweep_table(b, d, TBL_STEP);
    rl_sbuf_puts(b, "## Decode: seed-style ms per token (whole run ÷ output tokens)\n\n"
                    "**A different quantity from the table above**: the whole run (prefill of B prompts plus every "
                    "decode step; the seed's: 128 prompt tokens, 64 steps) divided by the output tokens, as the "
                    "seed's table and vLLM's "
                    "benchmark_latency report it. It folds prefill in, so it is always above the per-step time. "
                    "Rows are our runs' `seed_ms_per_token`, imported CSV values (labelled *imported*) and, for "
                    "GPUs without either, the cost model's (prefill + 64 × step) ÷ 64.\n\n");
    sweep_table(b, d, TBL_SEED);
    rl_sbuf_puts(b, "## Prefill: ms per whole prefill (batch 1, length L)\n\n"
                    "One forward over L prompt tokens, logits for the last position only. Imported values are the "
                    "seed's whole call (prefill + one decode step), so they sit slightly above a prefill alone. "
                    "The predicted crossing is the smallest L whose prefill is compute-bound on datasheet roofs "
                    "(above the naive AI* because prefill intensity grows slower than L).\n\n");
    sweep_table(b, d, TBL_PREFILL);
}

/* ---- decode at batch 1 against its floor --------------------------------------------------- */

void rl_md_batch1(rl_sbuf *b, const rl_report_data *d)
{
    rl_sbuf_puts(b, "## Theoretical vs measured decode at batch 1\n\n"
                    "Floor = bytes ÷ bandwidth, with the cost model's bytes of one decode step at batch 1 and "
                    "context 160 (weights read once, KV cache, activations: not the seed's round 16 GB). "
                    "Utilisation = floor ÷ measured. Imported rows measure seed-style ms/token (includes prefill), "
                    "so their utilisation is a lower bound.\n\n"
                    "| GPU | bytes/step (GB) | datasheet GB/s | floor (ms) | measured roof GB/s | floor at measured "
                    "roof (ms) | measured (ms) | quantity | utilisation vs datasheet | vs measured roof |\n"
                    "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|\n");
    int rows = 0;
    for (int i = 0; i < d->n_runs; i++) {
        const rl_report_run *r = &d->runs[i];
        if (r->source == RL_SRC_PREDICTED) continue;
        const rl_report_point *p = NULL;
        for (int j = 0; j < r->n_points; j++)
            if (rl_report_in_sweep(&r->points[j], RL_PHASE_DECODE) && r->points[j].x == 1 && r->points[j].ok)
                p = &r->points[j];
        if (!p) continue;
        double v = rl_report_point_value(p);
        double floor_ds = p->bytes / (r->ds_bandwidth_gbps * 1e9) * 1e3;
        double floor_me = p->bytes / (r->read_gbps * 1e9) * 1e3;
        char a[32], bb[32], c[32], e[32], f[32], g[32], h[32], k[32];
        snprintf(a, sizeof a, isnan(p->bytes) ? "–" : "%.2f", p->bytes * 1e-9);
        snprintf(bb, sizeof bb, isnan(r->ds_bandwidth_gbps) ? "–" : "%.0f", r->ds_bandwidth_gbps);
        snprintf(e, sizeof e, isnan(r->read_gbps) ? "–" : "%.0f", r->read_gbps);
        rl_sbuf_printf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r->label, a, bb,
                       rl_report_fmt_ms(floor_ds, c, sizeof c), e, rl_report_fmt_ms(floor_me, f, sizeof f),
                       rl_report_fmt_ms(v, g, sizeof g), isnan(p->ms) ? "seed ms/token" : "ms/step",
                       rl_md_fmt_pct(100 * floor_ds / v, h, sizeof h), rl_md_fmt_pct(100 * floor_me / v, k, sizeof k));
        rows++;
    }
    if (!rows) rl_sbuf_puts(b, "| (no batch-1 decode measurement) | | | | | | | | | |\n");
    rl_sbuf_puts(b, "\n");
}

/* ---- decode at long context --------------------------------------------------------------- */

static const char *fmt_spread(const rl_report_point *p, char *buf, size_t n)
{
    char lo[24], hi[24];
    if (isnan(p->p10_ms) || isnan(p->p90_ms)) snprintf(buf, n, "–");
    else snprintf(buf, n, "%s–%s", rl_report_fmt_ms(p->p10_ms, lo, sizeof lo), rl_report_fmt_ms(p->p90_ms, hi, sizeof hi));
    return buf;
}

void rl_md_context_sweep(rl_sbuf *b, const rl_report_data *d)
{
    int any = 0;
    for (int i = 0; i < d->n_runs; i++)
        for (int j = 0; j < d->runs[i].n_points; j++) any |= d->runs[i].points[j].context_sweep;
    rl_sbuf_puts(b, "## Decode at long context (batch B, KV context C)\n\n");
    if (!any) {
        rl_sbuf_puts(b, "No decode context sweep in these results (a lab run before it existed, or one with "
                        "`--contexts none` or an explicit `--batches`).\n\n");
        return;
    }
    rl_sbuf_puts(b, "One decode step of B sequences whose KV caches hold C tokens on average over the timed steps "
                    "(filled with random K/V instead of a C-token prefill; docs/measurement.md); the median of the "
                    "timed steps. Roof % = predicted (measured roofs) ÷ measured. **Attention share** is the cost "
                    "model's attention time (the KV-cache read) ÷ its whole step at the same roofs: the weights are "
                    "read once per step whatever C is, the KV cache grows with B × C, so this column shows the step "
                    "turning from weight streaming into KV streaming as the context grows. A point that did not fit "
                    "in memory is listed as skipped with the engine's reason.\n\n"
                    "| GPU | B | context | measured (ms) | p10–p90 | predicted (ms) | roof % | estimated (ms) | "
                    "attention share (model) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < d->n_runs; i++) {
        const rl_report_run *r = &d->runs[i];
        for (int j = 0; j < r->n_points; j++) {
            const rl_report_point *p = &r->points[j];
            if (!p->context_sweep) continue;
            if (!p->ok) {
                rl_sbuf_printf(b, "| %s | %lld | %lld | skipped: %s | | | | | |\n", r->label, (long long)p->x,
                               (long long)p->context, p->error[0] ? p->error : "(no reason given)");
                continue;
            }
            char m[32], sp[64], pr[32], pct[32], es[32], sh[32];
            rl_sbuf_printf(b, "| %s | %lld | %lld | %s%s | %s | %s | %s | %s | %s |\n", r->label, (long long)p->x,
                           (long long)p->context, rl_report_fmt_ms(p->ms, m, sizeof m), p->violation ? " ⚠" : "",
                           fmt_spread(p, sp, sizeof sp), rl_report_fmt_ms(p->predicted_ms, pr, sizeof pr),
                           rl_md_fmt_pct(100 * p->predicted_ms / p->ms, pct, sizeof pct),
                           rl_report_fmt_ms(p->estimated_ms, es, sizeof es),
                           rl_md_fmt_pct(100 * p->attention_share, sh, sizeof sh));
        }
    }
    rl_sbuf_puts(b, "\n");
}

/* ---- predicted vs measured at every point -------------------------------------------------- */

static double err_pct(double predicted, double measured)
{
    return (predicted - measured) / measured * 100;
}

static int cmp_abs(const void *a, const void *b)
{
    double x = fabs(*(const double *)a), y = fabs(*(const double *)b);
    return (x > y) - (x < y);
}

/* "latency 0.31 ms (28%), kernels 0.80 ms (72%)": the gap to the roofline split into what the
 * latency roof explains (estimated - predicted) and what the kernels lose below their roofs
 * (measured - estimated). */
static const char *gap_text(double measured, double predicted, double estimated, char *buf, size_t n)
{
    const double gap = measured - predicted;
    if (isnan(gap) || isnan(estimated) || !(gap > 0)) {
        snprintf(buf, n, "–");
        return buf;
    }
    const double lat = estimated - predicted, eff = measured - estimated;
    char a[24], c[24];
    snprintf(buf, n, "latency %s (%.0f%%), kernels %s (%.0f%%)", rl_report_fmt_ms(lat, a, sizeof a), 100 * lat / gap,
             rl_report_fmt_ms(eff, c, sizeof c), 100 * eff / gap);
    return buf;
}

void rl_md_predicted_vs_measured(rl_sbuf *b, const rl_report_data *d)
{
    rl_sbuf_puts(b, "## Predicted vs measured, every point\n\n"
                    "Error = (predicted − measured) ÷ measured: negative means the run was slower than the roofs "
                    "allow for (overheads the model leaves out). Predictions sum max(FLOPs ÷ peak, bytes ÷ "
                    "bandwidth) over the step's operators, on measured roofs (the run's `roofs`) and datasheet "
                    "roofs. **Estimated** sums max(FLOPs ÷ peak, bytes ÷ bandwidth, t_min) over the kernels the "
                    "engine launched for that very step (its recorded launch plan) at the measured roofs: it knows "
                    "that no kernel finishes faster than the latency roof t_min. The gap to the roofline (measured − "
                    "predicted) splits into *latency* (estimated − predicted: kernels too small to reach their "
                    "bandwidth roof) and *kernels* (measured − estimated: kernels slower than their own roofs). "
                    "Imported decode rows compare seed-style ms/token with the seed-style prediction. "
                    "Floor = max(FLOPs ÷ peak, bytes ÷ bandwidth) of the whole workload (datasheet).\n\n");
    for (int i = 0; i < d->n_runs; i++) {
        const rl_report_run *r = &d->runs[i];
        if (r->source == RL_SRC_PREDICTED || r->n_points == 0) continue;
        rl_sbuf_printf(b, "### %s\n\n", r->label);
        rl_sbuf_puts(b, "| sweep | x | measured (ms) | p10–p90 | predicted, measured roofs | error | estimated | error | "
                        "gap to the roofline | predicted, datasheet | error | floor (ms) | FLOP/B |\n"
                        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|\n");
        double errs_me[512], errs_ds[512], errs_es[512];
        int n_me = 0, n_ds = 0, n_es = 0;
        for (int j = 0; j < r->n_points; j++) {
            const rl_report_point *p = &r->points[j];
            const char *sw = rl_phase_name(p->sweep);
            char xs[48];
            if (p->context_sweep) snprintf(xs, sizeof xs, "%lld, context %lld", (long long)p->x, (long long)p->context);
            else snprintf(xs, sizeof xs, "%lld", (long long)p->x);
            if (!p->ok) {
                rl_sbuf_printf(b, "| %s | %s | failed: %s | | | | | | | | | | |\n", sw, xs,
                               p->error[0] ? p->error : "(no reason given)");
                continue;
            }
            double v = rl_report_point_value(p);
            int seed = isnan(p->ms);
            double pm = seed ? NAN : p->predicted_ms, pe = seed ? NAN : p->estimated_ms;
            double pd = seed ? p->predicted_seed_ms_per_token : p->predicted_datasheet_ms;
            double em = err_pct(pm, v), ed = err_pct(pd, v), ee = err_pct(pe, v);
            if (!isnan(em) && n_me < 512) errs_me[n_me++] = em;
            if (!isnan(ed) && n_ds < 512) errs_ds[n_ds++] = ed;
            if (!isnan(ee) && n_es < 512) errs_es[n_es++] = ee;
            char m[48], spread[64], a[32], ea[32], es[32], ees[32], gap[96], c[32], ec[32], f[32], ai[32];
            snprintf(m, sizeof m, "%s%s%s", rl_report_fmt_ms(v, a, sizeof a), seed ? " (seed ms/tok)" : "",
                     p->violation ? " ⚠" : "");
            fmt_spread(p, spread, sizeof spread);
            snprintf(ai, sizeof ai, isnan(p->intensity) ? "–" : "%.1f", p->intensity);
            rl_sbuf_printf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", sw, xs, m, spread,
                           rl_report_fmt_ms(pm, a, sizeof a),
                           rl_md_fmt_pct(em, ea, sizeof ea), rl_report_fmt_ms(pe, es, sizeof es),
                           rl_md_fmt_pct(ee, ees, sizeof ees), gap_text(v, pm, pe, gap, sizeof gap),
                           rl_report_fmt_ms(pd, c, sizeof c), rl_md_fmt_pct(ed, ec, sizeof ec),
                           rl_report_fmt_ms(p->floor_ms, f, sizeof f), ai);
        }
        qsort(errs_me, (size_t)n_me, sizeof(double), cmp_abs);
        qsort(errs_ds, (size_t)n_ds, sizeof(double), cmp_abs);
        qsort(errs_es, (size_t)n_es, sizeof(double), cmp_abs);
        char s1[32], s2[32], s3[32], s4[32], s5[32], s6[32];
        rl_sbuf_printf(b, "\n|error| median / max: measured roofs %s / %s, estimated %s / %s, datasheet %s / %s\n\n",
                       rl_md_fmt_pct(n_me ? fabs(errs_me[n_me / 2]) : NAN, s1, sizeof s1),
                       rl_md_fmt_pct(n_me ? fabs(errs_me[n_me - 1]) : NAN, s2, sizeof s2),
                       rl_md_fmt_pct(n_es ? fabs(errs_es[n_es / 2]) : NAN, s5, sizeof s5),
                       rl_md_fmt_pct(n_es ? fabs(errs_es[n_es - 1]) : NAN, s6, sizeof s6),
                       rl_md_fmt_pct(n_ds ? fabs(errs_ds[n_ds / 2]) : NAN, s3, sizeof s3),
                       rl_md_fmt_pct(n_ds ? fabs(errs_ds[n_ds - 1]) : NAN, s4, sizeof s4));
    }
}

/* ---- transitions --------------------------------------------------------------------------- */

static const char *fmt_measured(const rl_report_transition *t, char *buf, size_t n)
{
    if (!isnan(t->measured) && t->max_x > 0 && t->measured > t->max_x) snprintf(buf, n, "> %.0f (flat)", t->max_x);
    else if (isnan(t->measured)) snprintf(buf, n, "–");
    else snprintf(buf, n, "%.0f", t->measured);
    return buf;
}

static const char *fmt_x(double x, char *buf, size_t n)
{
    if (isnan(x)) snprintf(buf, n, "–");
    else if (x == 0) snprintf(buf, n, "none");
    else snprintf(buf, n, "%.0f", x);
    return buf;
}

void rl_md_transitions(rl_sbuf *b, const rl_report_data *d)
{
    rl_sbuf_puts(b, "## Transitions: where memory-bound turns compute-bound\n\n"
                    "Measured: the x where the curve leaves its flat floor, from the lab's own analysis run on "
                    "every row (the two-segment fit ms = max(flat, slope × x), least squares on log ms; \"> x "
                    "(flat)\" = no turn within the measured range). Predicted: the "
                    "smallest x whose whole step is compute-bound under the cost model (none = never, up to "
                    "2^20 tokens or sequences). Imported decode curves are seed-style ms/token.\n\n"
                    "| GPU | decode measured (B) | decode predicted, measured roofs | decode predicted, datasheet | "
                    "prefill measured (L) | prefill predicted, measured roofs | prefill predicted, datasheet |\n"
                    "|---|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < d->n_runs; i++) {
        const rl_report_run *r = &d->runs[i];
        char a[32], c[24], e[24], f[32], g[24], h[24];
        rl_sbuf_printf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", r->label, fmt_measured(&r->decode, a, 24),
                       fmt_x(r->decode.predicted_measured, c, 24), fmt_x(r->decode.predicted_datasheet, e, 24),
                       fmt_measured(&r->prefill, f, 24), fmt_x(r->prefill.predicted_measured, g, 24),
                       fmt_x(r->prefill.predicted_datasheet, h, 24));
    }
    rl_sbuf_puts(b, "\n\n");
}

/* ---- the document -------------------------------------------------------------------------- */

char *rl_report_markdown(const rl_report_data *d, const char *const *charts, int n_charts)
{
    rl_sbuf b = {0};
    int n_res = 0, n_csv = 0;
    for (int i = 0; i < d->n_runs; i++) {
        n_res += d->runs[i].source == RL_SRC_RESULTS;
        n_csv += d->runs[i].source == RL_SRC_CSV;
    }
    rl_sbuf_printf(&b, "# ridgeline report\n\nRendered by ridgeline %s (commit %s) from %d results run(s) and %d "
                       "imported GPU series. Units: ms, GB = 1e9 bytes, TFLOP/s = 1e12 FLOP/s. How to read it: "
                       "docs/report.md.\n\n",
                   rl_version(), rl_build_commit(), n_res, n_csv);
    if (d->n_violations)
        rl_sbuf_printf(&b, "**%d measurement(s) are faster than their GPU's datasheet roofs allow** (⚠ in the "
                           "tables; see [Violations](#violations)).\n\n",
                       d->n_violations);
    if (n_charts) {
        rl_sbuf_puts(&b, "## Charts\n\n");
        for (int i = 0; i < n_charts; i++) rl_sbuf_printf(&b, "![%s](%s)\n\n", charts[i], charts[i]);
    }
    rl_md_sweep_tables(&b, d);
    rl_md_batch1(&b, d);
    rl_md_context_sweep(&b, d);
    rl_md_predicted_vs_measured(&b, d);
    rl_md_transitions(&b, d);
    rl_md_tp_scaling(&b, d);
    rl_md_kernels(&b, d);
    rl_md_kernel_choices(&b, d);
    rl_md_ncu_check(&b, d);
    rl_md_telemetry(&b, d);
    rl_md_violations(&b, d);
    rl_md_provenance(&b, d);
    return rl_sbuf_take(&b);
}
