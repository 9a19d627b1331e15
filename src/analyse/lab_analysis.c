/* lab_analysis.c: transitions, bandwidth floor, achieved FLOP/s and prediction error of a lab run. */
#include "lab_analysis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fit_sweep(const rl_results *r, rl_phase phase, rl_break_fit *fit)
{
    double *x = malloc(sizeof *x * (size_t)(r->n_points + 1)), *y = malloc(sizeof *y * (size_t)(r->n_points + 1));
    int n = 0;
    memset(fit, 0, sizeof *fit);
    if (!x || !y) goto done;
    for (int i = 0; i < r->n_points; i++) {
        const rl_point *p = &r->points[i];
        if (p->sweep != phase || !p->ok) continue;
        x[n] = (double)p->x, y[n] = p->ms, n++;
    }
    rl_fit_break(x, y, n, fit);
done:
    free(x);
    free(y);
}

static rl_workload workload(const rl_results *r, rl_phase phase, int64_t x)
{
    int64_t ctx = r->input_len + r->output_len / 2;
    rl_workload w = phase == RL_PHASE_DECODE ? rl_workload_decode(x, ctx) : rl_workload_prefill(1, x);
    w.weight_bytes = w.act_bytes = w.kv_bytes = r->elem_bytes > 0 ? r->elem_bytes : 2;
    return w;
}

void rl_analyse_results(rl_results *r)
{
    rl_analysis *a = &r->analysis;
    memset(a, 0, sizeof *a);
    r->have_analysis = 1;
    rl_roofs meas, ds = {0};
    int have_meas = rl_results_roofs(r, &meas) == 0;
    int have_ds = r->have_datasheet && r->datasheet.peak_tflops[RL_DT_BF16] > 0 && !strcmp(r->dtype, "bf16");
    if (have_ds) {
        ds.bandwidth_gbps = r->datasheet.bandwidth_gbps;
        ds.peak_tflops = r->datasheet.peak_tflops[RL_DT_BF16];
    }
    int64_t ctx = r->input_len + r->output_len / 2;

    fit_sweep(r, RL_PHASE_DECODE, &a->decode_fit);
    fit_sweep(r, RL_PHASE_PREFILL, &a->prefill_fit);
    /* The crossings are searched up to 2^20: decode attention bounds the step's intensity, so a
     * decode crossing may not exist at all (0). */
    if (have_meas) {
        a->decode_predicted = rl_predict_crossing(&r->model, RL_PHASE_DECODE, ctx, &meas, 1 << 20);
        a->prefill_predicted = rl_predict_crossing(&r->model, RL_PHASE_PREFILL, 0, &meas, 1 << 20);
    }
    if (have_ds) {
        a->decode_predicted_datasheet = rl_predict_crossing(&r->model, RL_PHASE_DECODE, ctx, &ds, 1 << 20);
        a->prefill_predicted_datasheet = rl_predict_crossing(&r->model, RL_PHASE_PREFILL, 0, &ds, 1 << 20);
    }

    /* Decode floor: the bytes a batch-1 step must move, over the bandwidth. */
    rl_workload w1 = workload(r, RL_PHASE_DECODE, 1);
    rl_cost c1;
    rl_cost_step(&r->model, &w1, &c1);
    a->decode_bytes_b1 = c1.total_bytes;
    a->decode_floor_datasheet_ms = have_ds ? 1e3 * c1.total_bytes / (ds.bandwidth_gbps * 1e9) : -1;
    a->decode_floor_measured_ms = have_meas ? 1e3 * c1.total_bytes / (meas.bandwidth_gbps * 1e9) : -1;
    a->batch1_ms = -1;
    a->util_datasheet_pct = a->util_measured_pct = -1;
    for (int i = 0; i < r->n_points; i++) {
        const rl_point *p = &r->points[i];
        if (p->sweep == RL_PHASE_DECODE && p->ok && p->x == 1) a->batch1_ms = p->ms;
    }
    if (a->batch1_ms > 0) {
        if (have_ds) a->util_datasheet_pct = 100 * a->decode_floor_datasheet_ms / a->batch1_ms;
        if (have_meas) a->util_measured_pct = 100 * a->decode_floor_measured_ms / a->batch1_ms;
    }

    /* Prefill: FLOP/s reached at the longest measured length. */
    const rl_point *longest = NULL;
    for (int i = 0; i < r->n_points; i++) {
        const rl_point *p = &r->points[i];
        if (p->sweep == RL_PHASE_PREFILL && p->ok && (!longest || p->x > longest->x)) longest = p;
    }
    a->prefill_achieved_tflops = a->achieved_pct_nominal = a->achieved_pct_measured = -1;
    a->nominal_tflops = have_ds ? ds.peak_tflops : -1;
    a->measured_tflops = have_meas ? meas.peak_tflops : -1;
    if (longest) {
        rl_workload wl = workload(r, RL_PHASE_PREFILL, longest->x);
        rl_cost cl;
        rl_cost_step(&r->model, &wl, &cl);
        a->prefill_longest = longest->x;
        a->prefill_achieved_tflops = cl.total_flops / (longest->ms * 1e-3) / 1e12;
        if (have_ds) a->achieved_pct_nominal = 100 * a->prefill_achieved_tflops / ds.peak_tflops;
        if (have_meas) a->achieved_pct_measured = 100 * a->prefill_achieved_tflops / meas.peak_tflops;
    }

    /* Prediction error over every measured point (measured roofs). */
    int n = r->n_points > 0 ? r->n_points : 1;
    double *pred = malloc(sizeof *pred * (size_t)n), *ms = malloc(sizeof *ms * (size_t)n);
    a->err_median_pct = a->err_max_pct = a->err_worst_pct = -1;
    if (pred && ms) {
        for (int i = 0; i < r->n_points; i++) {
            const rl_point *p = &r->points[i];
            pred[i] = p->ok ? p->predicted_ms : -1;
            ms[i] = p->ok ? p->ms : -1;
        }
        int worst;
        double med, mx;
        a->err_n = rl_prediction_error(pred, ms, r->n_points, &med, &mx, &worst);
        if (a->err_n > 0) {
            a->err_median_pct = med, a->err_max_pct = mx, a->err_worst_pct = mx;
            a->err_worst_sweep = r->points[worst].sweep;
            a->err_worst_x = r->points[worst].x;
        }
    }
    free(pred);
    free(ms);
}

static void print_fit(FILE *f, const char *what, const char *unit, const rl_break_fit *fit, int64_t pred,
                      int64_t pred_ds)
{
    if (!fit->ok) fprintf(f, "  %s: too few points for a transition fit\n", what);
    else if (fit->has_break)
        fprintf(f, "  %s: leaves its flat regime (%.2f ms) at %s ~%.0f", what, fit->flat, unit, fit->brk);
    else fprintf(f, "  %s: no transition inside the sweep (flat %.2f ms, fitted break %s %.0f)", what, fit->flat, unit,
                 fit->brk);
    if (fit->ok) {
        if (pred) fprintf(f, "; predicted crossing %s %lld", unit, (long long)pred);
        else fprintf(f, "; no predicted crossing");
        if (pred_ds) fprintf(f, " (datasheet %lld)", (long long)pred_ds);
        fputc('\n', f);
    }
}

void rl_analysis_print(const rl_results *r, void *file)
{
    FILE *f = file;
    const rl_analysis *a = &r->analysis;
    if (!r->have_analysis) return;
    fprintf(f, "analysis:\n");
    print_fit(f, "decode", "batch", &a->decode_fit, a->decode_predicted, a->decode_predicted_datasheet);
    print_fit(f, "prefill", "length", &a->prefill_fit, a->prefill_predicted, a->prefill_predicted_datasheet);
    if (a->batch1_ms > 0) {
        fprintf(f, "  decode batch 1: %.3f ms/step; floor %.3f GB / bandwidth = %.3f ms measured-roof", a->batch1_ms,
                a->decode_bytes_b1 * 1e-9, a->decode_floor_measured_ms);
        if (a->util_measured_pct > 0) fprintf(f, " (%.0f%% of it)", a->util_measured_pct);
        if (a->decode_floor_datasheet_ms > 0)
            fprintf(f, ", %.3f ms datasheet (%.0f%%)", a->decode_floor_datasheet_ms, a->util_datasheet_pct);
        fputc('\n', f);
    }
    if (a->prefill_longest > 0) {
        fprintf(f, "  prefill L=%lld: %.2f TFLOP/s achieved", (long long)a->prefill_longest, a->prefill_achieved_tflops);
        if (a->achieved_pct_measured > 0) fprintf(f, ", %.0f%% of the measured GEMM roof", a->achieved_pct_measured);
        if (a->achieved_pct_nominal > 0) fprintf(f, ", %.0f%% of the datasheet peak", a->achieved_pct_nominal);
        fputc('\n', f);
    }
    if (a->err_n > 0)
        fprintf(f, "  prediction error (measured roofs, %d points): median %.1f%%, max %.1f%% (%s x=%lld)\n", a->err_n,
                a->err_median_pct, a->err_max_pct, a->err_worst_sweep == RL_PHASE_DECODE ? "decode" : "prefill",
                (long long)a->err_worst_x);
}
