/* lab_analysis.c: transitions, bandwidth floor, achieved FLOP/s and prediction errors of a results
 * document (lab_analysis.h), and its JSON and text forms. */
#include "lab_analysis.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"

double rl_point_measured_ms(const rl_point *p)
{
    if (!p->ok) return -1;
    return p->ms > 0 ? p->ms : p->seed_ms_per_token > 0 ? p->seed_ms_per_token : -1;
}

static void fit_sweep(const rl_results *r, rl_phase phase, rl_break_fit *fit)
{
    double *x = malloc(sizeof *x * (size_t)(r->n_points + 1)), *y = malloc(sizeof *y * (size_t)(r->n_points + 1));
    int n = 0;
    memset(fit, 0, sizeof *fit);
    if (!x || !y) goto done;
    for (int i = 0; i < r->n_points; i++) {
        const rl_point *p = &r->points[i];
        const double v = rl_point_measured_ms(p);
        if (!rl_point_in_sweep(p, phase) || v <= 0) continue;
        x[n] = (double)p->x, y[n] = v, n++;
    }
    rl_fit_break(x, y, n, fit);
done:
    free(x);
    free(y);
}

static rl_workload workload(const rl_results *r, rl_phase phase, int64_t x)
{
    rl_workload w = phase == RL_PHASE_DECODE ? rl_workload_decode(x, rl_decode_context(r->input_len, r->output_len))
                                             : rl_workload_prefill(1, x);
    rl_workload_set_dtype_name(&w, r->dtype);
    w.tp = r->tp; /* per GPU, like the points' predictions (sweep.c) */
    return w;
}

/* |value - ms| / ms over the measured points whose value exists (offset: the rl_point member). */
static int error_over(const rl_results *r, size_t offset, double *median, double *max, int *worst_sweep,
                      int64_t *worst_x)
{
    int n = r->n_points > 0 ? r->n_points : 1, used = 0;
    double *pred = malloc(sizeof *pred * (size_t)n), *ms = malloc(sizeof *ms * (size_t)n);
    *median = *max = -1;
    if (pred && ms) {
        for (int i = 0; i < r->n_points; i++) {
            const rl_point *p = &r->points[i];
            const int used_here = p->ok && !p->context_sweep; /* the batch and length sweeps */
            pred[i] = used_here && p->ms > 0 ? *(const double *)((const char *)p + offset) : -1;
            ms[i] = used_here ? p->ms : -1;
        }
        int worst;
        used = rl_prediction_error(pred, ms, r->n_points, median, max, &worst);
        if (used > 0) *worst_sweep = r->points[worst].sweep, *worst_x = r->points[worst].x;
        else *median = *max = -1;
    }
    free(pred);
    free(ms);
    return used;
}

void rl_analyse_results(const rl_results *r, rl_analysis *a)
{
    memset(a, 0, sizeof *a);
    rl_roofs meas = {0}, ds = {0};
    int have_meas = rl_results_roofs(r, &meas) == 0;
    int have_ds = r->have_datasheet && r->datasheet.peak_tflops[RL_DT_BF16] > 0 && !strcmp(r->dtype, "bf16");
    if (have_ds) {
        ds.bandwidth_gbps = r->datasheet.bandwidth_gbps;
        ds.peak_tflops = r->datasheet.peak_tflops[RL_DT_BF16];
    }
    const int64_t ctx = rl_decode_context(r->input_len, r->output_len);

    fit_sweep(r, RL_PHASE_DECODE, &a->decode_fit);
    fit_sweep(r, RL_PHASE_PREFILL, &a->prefill_fit);
    /* The crossings are searched up to 2^20: decode attention bounds the step's intensity, so a
     * decode crossing may not exist at all (0). */
    if (have_meas) {
        a->decode_predicted = rl_predict_crossing(&r->model, RL_PHASE_DECODE, ctx, &meas, RL_CROSSING_LIMIT);
        a->prefill_predicted = rl_predict_crossing(&r->model, RL_PHASE_PREFILL, 0, &meas, RL_CROSSING_LIMIT);
    }
    if (have_ds) {
        a->decode_predicted_datasheet = rl_predict_crossing(&r->model, RL_PHASE_DECODE, ctx, &ds, RL_CROSSING_LIMIT);
        a->prefill_predicted_datasheet = rl_predict_crossing(&r->model, RL_PHASE_PREFILL, 0, &ds, RL_CROSSING_LIMIT);
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
        if (rl_point_in_sweep(p, RL_PHASE_DECODE) && p->ok && p->x == 1 && p->ms > 0) a->batch1_ms = p->ms;
    }
    if (a->batch1_ms > 0) {
        if (have_ds) a->util_datasheet_pct = 100 * a->decode_floor_datasheet_ms / a->batch1_ms;
        if (have_meas) a->util_measured_pct = 100 * a->decode_floor_measured_ms / a->batch1_ms;
    }

    /* Prefill: FLOP/s reached at the longest measured length. */
    const rl_point *longest = NULL;
    for (int i = 0; i < r->n_points; i++) {
        const rl_point *p = &r->points[i];
        if (p->sweep == RL_PHASE_PREFILL && p->ok && p->ms > 0 && (!longest || p->x > longest->x)) longest = p;
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

    /* Errors over every measured point (measured roofs): the roofline and the latency-aware estimate. */
    a->err_n = error_over(r, offsetof(rl_point, predicted_ms), &a->err_median_pct, &a->err_max_pct,
                          &a->err_worst_sweep, &a->err_worst_x);
    a->err_worst_pct = a->err_max_pct;
    a->est_n = error_over(r, offsetof(rl_point, estimated_ms), &a->est_median_pct, &a->est_max_pct,
                          &a->est_worst_sweep, &a->est_worst_x);
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static void add_num(cJSON *o, const char *k, double v) { rl_json_add_number_or_null(o, k, v >= 0 ? v : NAN); }

static cJSON *fit_json(const rl_break_fit *f, int64_t predicted, int64_t predicted_ds, int have_ds)
{
    cJSON *o = cJSON_CreateObject();
    if (f->ok && f->has_break) cJSON_AddNumberToObject(o, "measured_transition", f->brk);
    else cJSON_AddNullToObject(o, "measured_transition");
    if (predicted > 0) cJSON_AddNumberToObject(o, "predicted_transition", (double)predicted);
    else cJSON_AddNullToObject(o, "predicted_transition");
    if (have_ds && predicted_ds > 0) cJSON_AddNumberToObject(o, "predicted_transition_datasheet", (double)predicted_ds);
    else cJSON_AddNullToObject(o, "predicted_transition_datasheet");
    cJSON_AddStringToObject(o, "method", RL_BREAK_METHOD);
    cJSON *fit = cJSON_AddObjectToObject(o, "fit");
    if (f->ok) {
        cJSON_AddNumberToObject(fit, "break", f->brk);
        cJSON_AddNumberToObject(fit, "flat_ms", f->flat);
        cJSON_AddNumberToObject(fit, "slope_ms_per_x", f->slope);
        cJSON_AddNumberToObject(fit, "rss_log", f->rss);
        cJSON_AddNumberToObject(fit, "rss_log_flat_only", f->rss_flat);
    }
    return o;
}

static cJSON *error_json(int n, double median, double max, int worst_sweep, int64_t worst_x, const char *definition)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "points", n);
    add_num(e, "median_pct", n ? median : -1);
    add_num(e, "max_pct", n ? max : -1);
    if (n) {
        cJSON *w = cJSON_AddObjectToObject(e, "worst");
        cJSON_AddStringToObject(w, "sweep", rl_phase_name((rl_phase)worst_sweep));
        cJSON_AddNumberToObject(w, "x", (double)worst_x);
        cJSON_AddNumberToObject(w, "pct", max);
    } else {
        cJSON_AddNullToObject(e, "worst");
    }
    cJSON_AddStringToObject(e, "definition", definition);
    return e;
}

cJSON *rl_analysis_to_json(const rl_results *r, const rl_analysis *a)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *d = fit_json(&a->decode_fit, a->decode_predicted, a->decode_predicted_datasheet, r->have_datasheet);
    cJSON_AddNumberToObject(d, "context", (double)rl_decode_context(r->input_len, r->output_len));
    add_num(d, "bytes_batch1", a->decode_bytes_b1);
    add_num(d, "floor_ms", a->decode_floor_measured_ms);
    add_num(d, "floor_datasheet_ms", a->decode_floor_datasheet_ms);
    add_num(d, "batch1_ms", a->batch1_ms);
    add_num(d, "utilisation_measured_pct", a->util_measured_pct);
    add_num(d, "utilisation_datasheet_pct", a->util_datasheet_pct);
    cJSON_AddItemToObject(o, "decode", d);
    cJSON *p = fit_json(&a->prefill_fit, a->prefill_predicted, a->prefill_predicted_datasheet, r->have_datasheet);
    if (a->prefill_longest > 0) cJSON_AddNumberToObject(p, "longest", (double)a->prefill_longest);
    add_num(p, "achieved_tflops", a->prefill_achieved_tflops);
    add_num(p, "nominal_tflops", a->nominal_tflops);
    add_num(p, "measured_tflops", a->measured_tflops);
    add_num(p, "achieved_pct_of_nominal", a->achieved_pct_nominal);
    add_num(p, "achieved_pct_of_measured", a->achieved_pct_measured);
    cJSON_AddItemToObject(o, "prefill", p);
    cJSON_AddItemToObject(o, "prediction_error",
                          error_json(a->err_n, a->err_median_pct, a->err_max_pct, a->err_worst_sweep, a->err_worst_x,
                                     "|predicted_ms - ms| / ms over every ok point of the batch and length "
                                     "sweeps, measured roofs"));
    cJSON_AddItemToObject(o, "estimate_error",
                          error_json(a->est_n, a->est_median_pct, a->est_max_pct, a->est_worst_sweep, a->est_worst_x,
                                     "|estimated_ms - ms| / ms over every ok point of the batch and length "
                                     "sweeps with an estimate"));
    return o;
}

/* ---- text ---------------------------------------------------------------------------------- */

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

void rl_analysis_print(const rl_results *r, const rl_analysis *a, FILE *f)
{
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
                a->err_median_pct, a->err_max_pct, rl_phase_name((rl_phase)a->err_worst_sweep),
                (long long)a->err_worst_x);
    if (a->est_n > 0) {
        const double t_min = rl_results_kernel_min_us(r);
        char roof[64];
        if (t_min > 0) snprintf(roof, sizeof roof, "latency roof %.2f us", t_min);
        else snprintf(roof, sizeof roof, "no latency roof measured");
        fprintf(f, "  estimate error (the engine's launches, %s; %d points): median %.1f%%, max %.1f%% (%s x=%lld)\n",
                roof, a->est_n, a->est_median_pct, a->est_max_pct, rl_phase_name((rl_phase)a->est_worst_sweep),
                (long long)a->est_worst_x);
    }
}
